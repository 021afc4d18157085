# test-subflow-control.py: opening, closing and steering subflows from PyGObject, async with the
# main loop, and the connection's signals. Run by meson under mptcp-testbed with
# /usr/bin/python3 (Debian's PyGObject).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os

import testlib  # noqa: F401 (exits on exceptions in callbacks)

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Mptcp  # noqa: E402

SERVER1 = os.environ['MPTCP_TESTBED_SERVER1_V4']
SERVER2 = os.environ['MPTCP_TESTBED_SERVER2_V4']
CLIENT2 = os.environ['MPTCP_TESTBED_CLIENT2_V4']
SINK = int(os.environ['MPTCP_TESTBED_PORT_SINK'])
SILENT = os.environ['MPTCP_TESTBED_SILENT_V4']  # routed into the server, dropped there

def address_string(address):
    ip = address.get_address().to_string()
    if address.get_family() == Gio.SocketFamily.IPV6:
        ip = '[%s]' % ip
    return '%s:%d' % (ip, address.get_port())


def tuple_string(subflow):
    return '%s -> %s' % (address_string(subflow.props.local_address),
                         address_string(subflow.props.remote_address))


def subflows(connection):
    model = connection.get_subflows()
    return [model.get_item(i) for i in range(model.get_n_items())]


def run_until(predicate, timeout_ms=5000):
    """Iterates the default main context until predicate() holds."""
    context = GLib.MainContext.default()
    end = GLib.get_monotonic_time() + timeout_ms * 1000
    while not predicate():
        assert GLib.get_monotonic_time() < end, 'timed out'
        context.iteration(False) or GLib.usleep(1000)


def call_async(start, finish):
    """Runs start(callback) with the main loop; returns (value, error)."""
    out = []

    def callback(source, result):
        try:
            out.append((finish(source, result), None))
        except GLib.Error as e:
            out.append((None, e))

    start(callback)
    run_until(lambda: out)
    return out[0]


client = Mptcp.Client.new()
stream = client.connect_to_host('%s:%d' % (SERVER1, SINK), 0, None)
connection = Mptcp.Connection.new_for_connection(stream)
assert connection.props.event_source == Mptcp.EventSource.NETLINK
assert connection.props.control_timeout == 10000
assert connection.props.poll_interval == 1000

log = []
connection.connect('subflow-added', lambda c, sf: log.append('+' + tuple_string(sf)))
connection.connect('subflow-removed',
                   lambda c, sf, err, reason: log.append('-' + tuple_string(sf)))
established = []
connection.connect('notify::established', lambda c, pspec: established.append(c.props.established))

# the client is established once it sent data
stream.get_output_stream().write_all(b'x' * 1000, None)
run_until(lambda: established)
assert established == [True], established

local2 = Gio.InetSocketAddress.new_from_string(CLIENT2, 0)
remote2 = Gio.InetSocketAddress.new_from_string(SERVER2, SINK)

# open, async
subflow, error = call_async(
    lambda cb: connection.open_subflow_async(local2, remote2, None, cb),
    lambda src, res: src.open_subflow_finish(res))
assert error is None, error
assert subflow in subflows(connection)
assert subflow.props.id > 1
t = tuple_string(subflow)
assert t.startswith(CLIENT2 + ':') and t.endswith(' -> %s:%d' % (SERVER2, SINK)), t
assert log == ['+' + t], log

# backup, async
ok, error = call_async(lambda cb: subflow.set_backup_async(True, None, cb),
                       lambda src, res: src.set_backup_finish(res))
assert error is None and ok
assert subflow.props.backup

# close, async
ok, error = call_async(lambda cb: subflow.close_async(None, cb),
                       lambda src, res: src.close_finish(res))
assert error is None and ok
assert subflow not in subflows(connection)
assert log == ['+' + t, '-' + t], log

# announce the address of a live subflow (it keeps its id), then withdraw it: the peer
# closes that subflow
subflow2 = connection.open_subflow(local2, remote2, None)
t2 = tuple_string(subflow2)
address_id, error = call_async(
    lambda cb: connection.announce_address_async(local2, None, cb),
    lambda src, res: src.announce_address_finish(res))
assert error is None and 1 <= address_id <= 255, (address_id, error)
ok, error = call_async(lambda cb: connection.remove_address_async(address_id, None, cb),
                       lambda src, res: src.remove_address_finish(res))
assert error is None and ok, error
run_until(lambda: subflow2 not in subflows(connection))
assert log == ['+' + t, '-' + t, '+' + t2, '-' + t2], log

# closing it again fails
ok, error = call_async(lambda cb: subflow.close_async(None, cb),
                       lambda src, res: src.close_finish(res))
assert error is not None and error.matches(Mptcp.error_quark(), Mptcp.Error.NO_SUCH_SUBFLOW)

# sync variants
subflow = connection.open_subflow(local2, remote2, None)
assert subflow in subflows(connection)
assert subflow.close(None)
assert subflow not in subflows(connection)

# cancellation mid-flight (a silent remote: the testbed routes it into the server, which drops it)
cancellable = Gio.Cancellable()
GLib.timeout_add(100, lambda: cancellable.cancel() or GLib.SOURCE_REMOVE)
silent = Gio.InetSocketAddress.new_from_string(SILENT, SINK)
subflow, error = call_async(
    lambda cb: connection.open_subflow_async(local2, silent, cancellable, cb),
    lambda src, res: src.open_subflow_finish(res))
assert subflow is None and error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), error

# timeout
connection.props.control_timeout = 200
try:
    connection.open_subflow(local2, silent, None)
    assert False, 'no timeout'
except GLib.Error as e:
    assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT), e

# errors carry MptcpError codes
try:
    connection.open_subflow(Gio.InetSocketAddress.new_from_string('203.0.113.77', 0), remote2, None)
    assert False, 'accepted an address this host does not have'
except GLib.Error as e:
    assert e.matches(Mptcp.error_quark(), Mptcp.Error.INVALID_ADDRESS), e

# the peer's close: closed, with the list emptied first
closed = []
connection.connect('notify::closed', lambda c, pspec: closed.append(len(subflows(c))))
stream.close(None)
run_until(lambda: closed)
assert closed == [0], closed
assert connection.props.event_source == Mptcp.EventSource.NONE
print('ok')
