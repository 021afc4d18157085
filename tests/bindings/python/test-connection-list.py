# test-connection-list.py: MptcpConnectionList from PyGObject sees a connection and its
# subflow, through the typelib (the same checks as tests/bindings/gjs/test-connection-list.js).
# Run by meson under mptcp-testbed with /usr/bin/python3 (Debian's PyGObject).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os

import testlib  # noqa: F401 (exits on exceptions in callbacks)

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Mptcp  # noqa: E402

CLIENT = os.environ['MPTCP_TESTBED_CLIENT1_V4']
SERVER = os.environ['MPTCP_TESTBED_SERVER1_V4']
PORT = int(os.environ['MPTCP_TESTBED_PORT_SINK'])

sock = Mptcp.socket_new(Gio.SocketFamily.IPV4)
sock.connect(Gio.InetSocketAddress.new_from_string(SERVER, PORT), None)
sock.send(b'hello from python', None)
connection = Mptcp.Connection.new(sock)
local_port = sock.get_local_address().get_port()

clist = Mptcp.ConnectionList.new(None)
assert isinstance(clist, Gio.ListModel)
assert clist.get_item_type() == Mptcp.ConnectionEntry.__gtype__
clist.set_interval(0)
assert clist.props.interval == 0

entry = clist.find_token(connection.get_token())
assert entry is not None, 'own connection listed'
assert entry in list(clist)
assert entry.get_local_address().get_port() == local_port
assert entry.get_local_address().get_address().to_string() == CLIENT
assert entry.get_remote_address().get_port() == PORT
assert entry.props.token == connection.get_token()
assert entry.get_uid() == os.getuid()
assert entry.get_state() == Mptcp.TcpState.ESTABLISHED
assert entry.find_pid() == os.getpid()
info = entry.get_info()
assert info.get_token() == connection.get_token()

subflows = entry.get_subflows()
assert clist.check_subflows()
assert clist.props.subflows_visible
assert subflows.get_n_items() == 1
first = subflows.get_item(0)
assert isinstance(first, Mptcp.SubflowEntry)
assert first.get_local_address().get_port() == local_port
assert not first.get_backup() and not first.props.peer_backup
assert first.get_stats().get_state() == Mptcp.TcpState.ESTABLISHED

# 0.2: events (the testbed runs as root), the socketless handle, listeners
assert clist.get_event_source() == Mptcp.EventSource.NETLINK
assert clist.props.event_source == Mptcp.EventSource.NETLINK
handle = entry.dup_connection()
assert handle is not None and handle.get_socket() is None
assert entry.dup_connection() == handle
assert handle.get_token() == connection.get_token()
assert handle.get_event_source() == Mptcp.EventSource.NETLINK
assert handle.get_local_address().get_port() == local_port
assert handle.get_subflows().get_n_items() == 1
assert handle.refresh()
assert handle.get_info().get_token() == connection.get_token()
other = Mptcp.Connection.new_for_token(connection.get_token())
assert other.get_socket() is None
try:
    Mptcp.Connection.new_for_token(0)
    raise AssertionError('token 0')
except GLib.Error as e:
    assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_SUPPORTED), e
del other, handle

listener = Mptcp.socket_new(Gio.SocketFamily.IPV4)
listener.bind(Gio.InetSocketAddress.new_from_string(CLIENT, 0), True)
listener.listen()
lport = listener.get_local_address().get_port()
assert not clist.props.include_listeners
assert not any(e.get_is_listener() for e in clist)
with_listeners = Mptcp.ConnectionList(include_listeners=True)
with_listeners.init(None)
assert with_listeners.get_include_listeners()
found = [e for e in with_listeners
         if e.props.is_listener and e.get_local_address().get_port() == lport]
assert len(found) == 1, 'listener listed'
assert found[0].get_state() == Mptcp.TcpState.LISTEN and found[0].get_token() == 0
clist.set_include_listeners(True)
assert clist.refresh(None)
assert any(e.get_is_listener() and e.get_local_address().get_port() == lport for e in clist)
clist.set_include_listeners(False)
assert clist.refresh(None)
listener.close()
del found, with_listeners

# a refresh_async, through the main loop, after the connection went
changes = []
clist.connect('items-changed', lambda m, p, r, a: changes.append((p, r, a)))
position = list(clist).index(entry)
sock.close()
loop = GLib.MainLoop()
result = {}


def done(source, res):
    result['ok'] = source.refresh_finish(res)
    loop.quit()


deadline = GLib.get_monotonic_time() + 5 * 1000000
while entry.get_state() != Mptcp.TcpState.CLOSE and GLib.get_monotonic_time() < deadline:
    clist.refresh_async(None, done)
    GLib.timeout_add_seconds(5, loop.quit)
    loop.run()
    assert result.get('ok'), 'refresh_async'
assert entry.get_state() == Mptcp.TcpState.CLOSE, 'closed connection left the list'
assert (position, 1, 0) in changes, changes
assert clist.find_token(connection.get_token()) is None
print(f'python: {clist.get_n_items()} connections; {connection.get_token():08x} seen and gone')
