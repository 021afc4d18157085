#!/usr/bin/python3
# mptcp-example.py: the mptcplib example, ported to mptcp-glib, in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Connects to a server over Multipath TCP, sends a request, opens two more
# subflows (one over a second path, one over IPv6), lists the subflows with
# their addresses, backup state and round-trip time, reacts to the
# connection's signals, marks one subflow backup and closes another; with the
# asynchronous calls, in a GLib main loop. Same steps as mptcp-example.c.
#
# Needs PyGObject (Debian: python3-gi, for /usr/bin/python3) and the Mptcp
# typelib. Opening and steering subflows needs CAP_NET_ADMIN and the
# userspace path manager; the test network has both:
#
#   ./_build/tests/mptcp-testbed env GI_TYPELIB_PATH=_build/mptcp-glib \
#       LD_LIBRARY_PATH=_build/mptcp-glib /usr/bin/python3 examples/mptcp-example.py
#
# Exit status 0 only if every step did what it should (meson test runs it).

import os
import sys

import gi
gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Mptcp', '1.0')
from gi.repository import GLib, Gio, Mptcp  # noqa: E402

REQUEST = b'GET / HTTP/1.0\r\n\r\n'


def env_or(name, default):
    return os.environ.get(name) or default


PORT = int(env_or('MPTCP_TESTBED_PORT_ECHO', '5002'))
# An IPv6 connection can carry IPv4 subflows too; an IPv4 one refuses IPv6 subflows.
SERVER = Gio.InetSocketAddress.new_from_string(env_or('MPTCP_TESTBED_SERVER1_V6', '2001:db8:1::2'), PORT)
LOCAL2 = Gio.InetSocketAddress.new_from_string(env_or('MPTCP_TESTBED_CLIENT2_V4', '198.51.100.1'), 0)
REMOTE2 = Gio.InetSocketAddress.new_from_string(env_or('MPTCP_TESTBED_SERVER2_V4', '198.51.100.2'), PORT)
LOCAL6 = Gio.InetSocketAddress.new_from_string(env_or('MPTCP_TESTBED_CLIENT1_V6', '2001:db8:1::1'), 0)


class Failed(Exception):
    pass


def wait(start, finish, *args):
    """Runs an asynchronous call to completion in a main loop and returns its
    result (or raises its error). Signals are delivered while it runs."""
    loop = GLib.MainLoop()
    outcome = []

    def done(source, result):
        try:
            outcome.append((True, finish(result)))
        except GLib.Error as e:
            outcome.append((False, e))
        loop.quit()

    start(*args, None, done)
    loop.run()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def wait_until(condition, seconds=5):
    """Runs the main loop until condition() holds (signals are delivered)."""
    context = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + seconds * 1000000
    while not condition() and GLib.get_monotonic_time() < deadline:
        if not context.iteration(False):
            GLib.usleep(1000)
    return condition()


def request(stream):
    stream.get_output_stream().write_all(REQUEST, None)
    reply = b''
    while len(reply) < len(REQUEST):
        chunk = stream.get_input_stream().read_bytes(len(REQUEST) - len(reply), None).get_data()
        if not chunk:
            break
        reply += chunk
    if reply != REQUEST:
        raise Failed('the server answered %r' % (reply,))


def list_subflows(connection):
    for subflow in connection.get_subflows():
        print('  subflow %d: %s -> %s, %s, rtt %.2f ms' % (
            subflow.props.id, subflow.props.local_address.to_string(),
            subflow.props.remote_address.to_string(),
            'backup' if subflow.props.backup else 'regular',
            subflow.get_stats().get_rtt() / 1000))


def main():
    added, removed = [], []

    # 1. connect over MPTCP (no fallback to TCP: this example is about MPTCP)
    client = Mptcp.Client.new()
    client.props.allow_fallback = False
    print('connecting to', SERVER.to_string())
    stream = wait(client.connect_async, client.connect_finish, SERVER)
    connection = Mptcp.Connection.new_for_connection(stream)
    if connection.props.fallback:
        raise Failed('the connection fell back to TCP')
    print('connected, token %08x' % connection.props.token)

    def on_added(connection, subflow):
        added.append(subflow)
        print('  signal: subflow %d added (%s -> %s)' % (
            subflow.props.id, subflow.props.local_address.to_string(),
            subflow.props.remote_address.to_string()))

    def on_removed(connection, subflow, error, reset_reason):
        removed.append(subflow)
        print('  signal: subflow %d removed%s' % (
            subflow.props.id, ': ' + error.message if error else ''))

    def on_priority(connection, subflow, backup):
        print('  signal: the peer wants subflow %d %s' % (
            subflow.props.id, 'as a backup' if backup else 'as a regular subflow'))

    connection.connect('subflow-added', on_added)
    connection.connect('subflow-removed', on_removed)
    connection.connect('subflow-priority-changed', on_priority)

    # 2. a request: a client connection takes new subflows once it sent data
    request(stream)
    print('request sent and echoed')

    # 3. two more subflows: over the second path, and over IPv6
    print('opening two more subflows')
    second = wait(connection.open_subflow_async, connection.open_subflow_finish, LOCAL2, REMOTE2)
    third = wait(connection.open_subflow_async, connection.open_subflow_finish, LOCAL6, SERVER)
    if not wait_until(lambda: len(added) >= 2):
        raise Failed('no subflow-added signal for the new subflows')

    # 4. the list, with addresses, backup state and RTT
    connection.refresh()
    print('subflows:')
    list_subflows(connection)
    if connection.get_subflows().get_n_items() != 3:
        raise Failed('three subflows expected')

    # 5. mark the second-path subflow backup, close the IPv6 one
    print('marking subflow %d backup' % second.props.id)
    wait(second.set_backup_async, second.set_backup_finish, True)
    if not second.props.backup:
        raise Failed('the subflow is not backup')
    print('closing subflow %d' % third.props.id)
    wait(third.close_async, third.close_finish)
    if not wait_until(lambda: third in removed):
        raise Failed('no subflow-removed signal for the closed subflow')

    connection.refresh()
    print('subflows:')
    list_subflows(connection)
    if connection.get_subflows().get_n_items() != 2:
        raise Failed('two subflows expected')

    # 6. the connection goes on
    request(stream)
    print('request sent and echoed again')
    stream.close(None)


if __name__ == '__main__':
    try:
        if not Mptcp.socket_is_supported():
            raise Failed('MPTCP is not usable here')
        main()
    except (GLib.Error, Failed) as e:
        print('mptcp-example.py:', e.message if isinstance(e, GLib.Error) else e, file=sys.stderr)
        sys.exit(1)
    print('done')
