# old-kernel-probe.py: what mptcp-glib says on a kernel older than it supports (bullseye's 5.10:
# MPTCP sockets and the in-kernel path manager, no userspace path manager, no MPTCP_INFO, no
# pm_type sysctl). Run in a guest of .ci/run-kernel 5.10 with the built tree's typelib:
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
        domain = GLib.quark_to_string(e.domain)
        code = Mptcp.Error(e.code).value_nick if e.domain == Mptcp.error_quark() else e.code
        print(f'{what}: {domain} {code}: {e.message}')
        return e


print('uname:', ' '.join(__import__('os').uname()[2:3]))
probe('socket_is_supported', Mptcp.socket_is_supported)

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
        if not isinstance(r, GLib.Error) or r.domain != Mptcp.error_quark() or \
                ('5.19' not in r.message and 'path manager' not in r.message):
            print(f'  ^ does not say what is missing')
            bad += 1
sys.exit(1 if bad else 0)
