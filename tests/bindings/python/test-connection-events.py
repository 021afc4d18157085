# test-connection-events.py: a connection's signals from PyGObject with the main loop: subflows opened
# and closed through the library (subflow-added, subflow-removed), established and
# closed. Run by meson under mptcp-testbed with /usr/bin/python3 (Debian's PyGObject).
#
# PyGObject prints and swallows exceptions raised in callbacks: the handlers only record,
# the assertions run after loop.run().
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os

import testlib  # noqa: F401 (exits on exceptions in callbacks)

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, GObject, Mptcp  # noqa: E402

SERVER1 = os.environ['MPTCP_TESTBED_SERVER1_V4']
SERVER2 = os.environ['MPTCP_TESTBED_SERVER2_V4']
CLIENT2 = os.environ['MPTCP_TESTBED_CLIENT2_V4']
SINK = int(os.environ['MPTCP_TESTBED_PORT_SINK'])

loop = GLib.MainLoop()
waiting = [None]   # the predicate loop.run() waits for


def poke():
    if waiting[0] is not None and waiting[0]():
        loop.quit()


def run_until(predicate, timeout_ms=5000):
    """Runs the main loop until predicate() holds (checked when a handler ran) or the
    timeout; returns predicate()."""
    timed_out = []

    def on_timeout():
        timed_out.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    if predicate():
        return True
    waiting[0] = predicate
    source = GLib.timeout_add(timeout_ms, on_timeout)
    loop.run()
    waiting[0] = None
    if not timed_out:
        GLib.source_remove(source)
    return predicate()


def address_string(address):
    return '%s:%d' % (address.get_address().to_string(), address.get_port())


def tuple_string(subflow):
    return '%s -> %s' % (address_string(subflow.props.local_address),
                         address_string(subflow.props.remote_address))


client = Mptcp.Client.new()
stream = client.connect_to_host('%s:%d' % (SERVER1, SINK), 0, None)
connection = Mptcp.Connection.new_for_connection(stream)
assert connection.props.event_source == Mptcp.EventSource.NETLINK

log = []


def record(*entry):
    log.append(entry)
    poke()


def on_removed(c, sf, err, reason):
    # a GLib.Error or None, and a registered enum
    assert err is None or isinstance(err, GLib.Error), err
    assert isinstance(reason, Mptcp.ResetReason), reason
    record('removed', tuple_string(sf))


# the state is a property: notify::established, notify::closed (bindable)
assert not connection.props.established and not connection.props.closed
connection.connect('notify::established', lambda c, pspec: record('established'))
connection.connect('subflow-added', lambda c, sf: record('added', tuple_string(sf)))
connection.connect('subflow-removed', on_removed)
connection.connect('address-announced',
                   lambda c, i, a: record('announced', i, address_string(a)))
connection.connect('address-removed', lambda c, i: record('address-removed', i))
connection.connect('notify::closed', lambda c, pspec: record('closed'))
# bound to another object's property
closed_view = Gio.SimpleAction.new('closed-view', None)
connection.bind_property('closed', closed_view, 'enabled', GObject.BindingFlags.SYNC_CREATE)
assert not closed_view.props.enabled

# established: the client side is once it sent data
stream.get_output_stream().write_all(b'x' * 1000, None)
assert run_until(lambda: ('established',) in log), log
assert connection.props.established and connection.is_established()

# open then close a subflow, async, chained in the callbacks
results = []


def on_closed(subflow, result):
    try:
        results.append(('closed', subflow.close_finish(result)))
    except GLib.Error as e:
        results.append(('close-error', e.message))
    poke()


def on_opened(conn, result):
    try:
        subflow = conn.open_subflow_finish(result)
    except GLib.Error as e:
        results.append(('open-error', e.message))
        poke()
        return
    results.append(('opened', tuple_string(subflow)))
    subflow.close_async(None, on_closed)


local2 = Gio.InetSocketAddress.new_from_string(CLIENT2, 0)
remote2 = Gio.InetSocketAddress.new_from_string(SERVER2, SINK)
connection.open_subflow_async(local2, remote2, None, on_opened)
assert run_until(lambda: len(results) == 2 and ('removed', results[0][1]) in log), (results, log)
assert results[0][0] == 'opened' and results[1] == ('closed', True), results
t = results[0][1]
assert t.startswith(CLIENT2 + ':') and t.endswith(' -> %s:%d' % (SERVER2, SINK)), t
assert log.index(('added', t)) < log.index(('removed', t)), log
assert connection.get_subflows().get_n_items() == 1

# address-announced / address-removed are not covered here: the testbed's server namespace
# has SERVER2 as an endpoint already ('ip mptcp endpoint add' refuses a duplicate); the C
# test tests/kernel/test-connection-events.c (/connection-events/peer-announce) covers them.

# closed
stream.close(None)
assert run_until(lambda: ('closed',) in log), log
assert log.count(('closed',)) == 1 and log.count(('established',)) == 1, log
assert connection.props.closed and connection.is_closed()
assert closed_view.props.enabled
assert connection.props.event_source == Mptcp.EventSource.NONE
print('ok')
