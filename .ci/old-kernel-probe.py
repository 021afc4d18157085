# old-kernel-probe.py: what mptcp-glib says on a kernel older than it supports. Bullseye's 5.10
# (Debian's linux-image-5.10.0-46-amd64) is built without CONFIG_MPTCP: every entry point must
# fail with MPTCP_ERROR_NOT_SUPPORTED saying so. On a kernel with MPTCP but older than 5.19 the
# per-connection calls must say the userspace path manager (5.19) is missing. Run in a guest of .ci/run-kernel 5.10 with the built tree's typelib:
#   GI_TYPELIB_PATH=_build/mptcp-glib LD_LIBRARY_PATH=_build/mptcp-glib \
#     /usr/bin/python3 .ci/old-kernel-probe.py
# Prints one line per call; exits 1 if a call that this kernel cannot do succeeded or failed
# without an MptcpError naming what is missing.
import socket
import sys

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Mptcp  # noqa: E402

bad = 0


def probe(what, func, *args):
    global bad
    try:
        r = func(*args)
        print(f'{what}: ok ({r!r})')
        return r
    except GLib.Error as e:
        code = Mptcp.Error(e.code).value_nick if e.matches(Mptcp.error_quark(), e.code) else e.code
        print(f'{what}: {e.domain} {code}: {e.message}')
        return e


def expect_not_supported(what, func, *args):
    global bad
    r = probe(what, func, *args)
    if not isinstance(r, GLib.Error) or not r.matches(Mptcp.error_quark(),
                                                      Mptcp.Error.NOT_SUPPORTED) or \
            'CONFIG_MPTCP' not in r.message:
        print('  ^ does not say that the kernel has no MPTCP')
        bad += 1


print('uname:', __import__('os').uname().release)
r = probe('socket_check_supported', Mptcp.socket_check_supported)
if isinstance(r, GLib.Error):
    # no MPTCP at all
    expect_not_supported('socket_check_supported', Mptcp.socket_check_supported)
    expect_not_supported('socket_new', Mptcp.socket_new, Gio.SocketFamily.IPV4)
    expect_not_supported('path_manager_new', Mptcp.PathManager.new, None)
    expect_not_supported('monitor_new', Mptcp.Monitor.new, None)
    sys.exit(1 if bad else 0)

pm = probe('path_manager_new', Mptcp.PathManager.new, None)
if isinstance(pm, Mptcp.PathManager):
    probe('path_manager.get_mode', pm.get_mode)
    probe('path_manager.list_endpoints', lambda: len(pm.list_endpoints(None)))
probe('monitor_new', Mptcp.Monitor.new, None)

# a connection over loopback
lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
lsock.bind(('127.0.0.1', 0))
lsock.listen(1)
csock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
csock.connect(lsock.getsockname())
asock, _ = lsock.accept()
csock.send(b'x')
asock.recv(1)
gsock = Gio.Socket.new_from_fd(csock.fileno())
conn = probe('connection_new', Mptcp.Connection.new, gsock)
if isinstance(conn, Mptcp.Connection):
    info = probe('connection.get_info', conn.get_info)
    probe('connection.get_subflows', lambda: conn.get_subflows().get_n_items())
    local = Gio.InetSocketAddress.new_from_string('127.0.0.2', 0)
    remote = Gio.InetSocketAddress.new_from_string('127.0.0.1', lsock.getsockname()[1])
    for what, func, args in (('connection.announce_address', conn.announce_address,
                              (local, None)),
                             ('connection.open_subflow', conn.open_subflow,
                              (local, remote, None))):
        r = probe(what, func, *args)
        if not isinstance(r, GLib.Error) or not r.matches(Mptcp.error_quark(), r.code) or \
                ('5.19' not in r.message and 'path manager' not in r.message):
            print(f'  ^ does not say what is missing')
            bad += 1
sys.exit(1 if bad else 0)
