# test-socket.py: an MPTCP socket from PyGObject, connected over the testbed's path 1.
# Run by meson under mptcp-testbed with /usr/bin/python3 (Debian's PyGObject).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import socket

import testlib  # noqa: F401 (exits on exceptions in callbacks)

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Mptcp  # noqa: E402

IPPROTO_MPTCP = 262

server = Gio.InetSocketAddress.new_from_string(
    os.environ['MPTCP_TESTBED_SERVER1_V4'], int(os.environ['MPTCP_TESTBED_PORT_ECHO']))

# a plain question, and a check that raises with the reason
assert Mptcp.socket_is_supported() is True
assert Mptcp.socket_check_supported() is True

# an MPTCP listening socket on any GSocketListener
listener = Gio.SocketListener()
port = Mptcp.socket_listener_add_any_inet_port(listener, None)
assert port > 0, port
listener.close()

sock = Mptcp.socket_new(Gio.SocketFamily.IPV4)
assert Mptcp.socket_is_mptcp(sock)
ok, proto = sock.get_option(socket.SOL_SOCKET, socket.SO_PROTOCOL)
assert ok and proto == IPPROTO_MPTCP, proto

sock.connect(server, None)
sock.send(b'hello from python', None)
stream = sock.connection_factory_create_connection()
data = stream.get_input_stream().read_bytes(64, None).get_data()
assert data == b'hello from python', data

ok, proto = sock.get_option(socket.SOL_SOCKET, socket.SO_PROTOCOL)
assert proto == IPPROTO_MPTCP
sock.close()

# errors arrive as GLib.Error in the right domain
try:
    Mptcp.socket_new(Gio.SocketFamily.UNIX)
    raise AssertionError('UNIX family accepted')
except GLib.Error as e:
    assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT), e

assert Mptcp.error_quark() == GLib.quark_from_string('mptcp-error-quark')
assert Mptcp.Error.NOT_MPTCP != Mptcp.Error.FALLBACK
print('python: MPTCP socket connected over path 1, SO_PROTOCOL', proto)
