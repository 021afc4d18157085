# test-connection.py: MptcpClient, MptcpConnection and MptcpSubflow from PyGObject.
# Run by meson under mptcp-testbed with /usr/bin/python3 (Debian's PyGObject):
# the same listing as tests/kernel/test-connection.c, through the typelib.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import time

import testlib  # noqa: F401 (exits on exceptions in callbacks)

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Mptcp  # noqa: E402

SERVER1 = os.environ['MPTCP_TESTBED_SERVER1_V4']
SERVER1_V6 = os.environ['MPTCP_TESTBED_SERVER1_V6']
CLIENT2 = os.environ['MPTCP_TESTBED_CLIENT2_V4']
SINK = int(os.environ['MPTCP_TESTBED_PORT_SINK'])
ECHO = int(os.environ['MPTCP_TESTBED_PORT_ECHO'])
TCP = int(os.environ['MPTCP_TESTBED_PORT_TCP'])


def address_string(address):
    ip = address.get_address().to_string()
    if address.get_family() == Gio.SocketFamily.IPV6:
        ip = '[%s]' % ip
    return '%s:%d' % (ip, address.get_port())


def subflows(connection):
    model = connection.get_subflows()
    return [model.get_item(i) for i in range(model.get_n_items())]


def wait_for_subflows(connection, n, timeout=5.0):
    end = time.monotonic() + timeout
    while True:
        assert connection.refresh()
        listed = subflows(connection)
        if len(listed) == n and all(
                s.get_stats().get_state() == Mptcp.TcpState.ESTABLISHED for s in listed):
            return listed
        assert time.monotonic() < end, 'waited for %d subflows, have %d' % (n, len(listed))
        time.sleep(0.01)


def check_fresh(connection_stream):
    connection = Mptcp.Connection.new_for_connection(connection_stream)
    sock = connection_stream.get_socket()
    assert Mptcp.socket_is_mptcp(sock)
    assert not connection.props.fallback
    assert connection.props.token != 0
    assert connection.props.socket == sock

    listed = subflows(connection)
    assert len(listed) == 1, listed
    first = listed[0]
    assert first.props.id == 1
    assert address_string(first.props.local_address) == address_string(sock.get_local_address())
    assert address_string(first.props.remote_address) == address_string(sock.get_remote_address())
    assert address_string(connection.props.remote_address) == address_string(sock.get_remote_address())
    assert not first.props.backup
    assert not first.props.peer_backup and not first.get_peer_backup()
    assert first.props.connection == connection

    stats = first.get_stats()
    assert stats.get_state() == Mptcp.TcpState.ESTABLISHED
    assert stats.get_rtt() > 0
    assert stats.has_field(Mptcp.SubflowStatsField.BYTES_ACKED)

    info = connection.get_info()
    assert info.get_token() == connection.props.token
    assert info.get_n_subflows() == 0
    assert not info.get_flags() & Mptcp.ConnectionInfoFlags.FALLBACK
    return connection


# sync, IPv4 on path 1, and the stats move with data
client = Mptcp.Client.new()
assert client.props.allow_fallback
stream = client.connect_to_host('%s:%d' % (SERVER1, SINK), 0, None)
connection = check_fresh(stream)
out = stream.get_output_stream()
out.write_all(b'x' * (1 << 20), None)
end = time.monotonic() + 5
while True:
    assert connection.refresh()
    acked = subflows(connection)[0].get_stats().get_bytes_acked()
    if acked >= 1 << 20:
        break
    assert time.monotonic() < end, acked
    time.sleep(0.01)
stream.close(None)

# async, IPv6 on path 1
loop = GLib.MainLoop()
results = []


def on_connected(source, result):
    try:
        results.append(source.connect_to_host_finish(result))
    except GLib.Error as e:
        results.append(e)
    loop.quit()


client.connect_to_host_async(SERVER1_V6, ECHO, None, on_connected)
loop.run()
assert isinstance(results[0], Gio.SocketConnection), results
connection6 = check_fresh(results[0])
assert connection6.props.remote_address.get_family() == Gio.SocketFamily.IPV6
results[0].close(None)

# a second subflow, from the in-kernel path manager's subflow endpoint, in
# both listing modes
# (pm_type is on every kernel; path_manager only from Linux 6.15)
with open('/proc/sys/net/mptcp/pm_type', 'w') as f:
    f.write('0')
subprocess.run(['ip', 'mptcp', 'endpoint', 'add', CLIENT2, 'subflow'], check=True)

for mode in (None, 'legacy'):
    if mode:
        os.environ['MPTCP_GLIB_SUBFLOW_LIST'] = mode
    stream = client.connect_to_host('%s:%d' % (SERVER1, SINK), 0, None)
    connection = Mptcp.Connection.new_for_connection(stream)
    model = connection.get_subflows()
    changes = []
    model.connect('items-changed', lambda m, pos, rem, add: changes.append((pos, rem, add)))
    first = model.get_item(0)
    stream.get_output_stream().write_all(b'hello', None)
    listed = wait_for_subflows(connection, 2)
    assert listed[0] is first or listed[0] == first
    assert [s.props.id for s in listed] == [1, 2], [s.props.id for s in listed]
    assert changes == [(1, 0, 1)], changes
    second = listed[1]
    assert second.props.local_address.get_address().to_string() == CLIENT2
    assert address_string(second.props.remote_address) == '%s:%d' % (SERVER1, SINK)
    stream.close(None)
os.environ.pop('MPTCP_GLIB_SUBFLOW_LIST', None)

# fallback: an MPTCP client to a plain TCP server
stream = client.connect_to_host('%s:%d' % (SERVER1, TCP), 0, None)
connection = Mptcp.Connection.new_for_connection(stream)
assert connection.props.fallback
assert connection.get_subflows().get_n_items() == 0
try:
    connection.get_info()
    raise AssertionError('get_info worked on a fallen-back connection')
except GLib.Error as e:
    assert e.matches(Mptcp.error_quark(), Mptcp.Error.FALLBACK), e

# a plain TCP socket is not MPTCP
tcp = Gio.SocketClient.new().connect_to_host('%s:%d' % (SERVER1, SINK), 0, None)
try:
    Mptcp.Connection.new_for_connection(tcp)
    raise AssertionError('a TCP socket was accepted')
except GLib.Error as e:
    assert e.matches(Mptcp.error_quark(), Mptcp.Error.NOT_MPTCP), e

print('python: subflows listed through the typelib (1, then 2 in both modes), fallback seen')
