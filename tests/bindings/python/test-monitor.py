# test-monitor.py: an MptcpMonitor from PyGObject sees a connection's events.
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

loop = GLib.MainLoop()
events = []
closed_by_detail = []
state = {'port': 0, 'token': 0, 'want': None, 'timed_out': False}


def on_event(monitor, event):
    # PyGObject swallows exceptions here: only record, assert after the loop
    events.append(event)
    etype = event.get_event_type()
    if etype == Mptcp.EventType.CREATED and event.get_local_port() == state['port']:
        state['token'] = event.get_token()
    if etype == state['want'] and state['token'] != 0 \
            and event.get_token() == state['token']:
        loop.quit()


def on_closed(monitor, event):
    closed_by_detail.append(event.get_token())


def on_timeout():
    state['timed_out'] = True
    loop.quit()
    return GLib.SOURCE_REMOVE


def run_until(etype):
    state['want'] = etype
    timeout = GLib.timeout_add_seconds(5, on_timeout)
    loop.run()
    assert not state['timed_out'], f'no {etype.value_nick} event within 5 s'
    GLib.source_remove(timeout)


monitor = Mptcp.Monitor.new(None)
monitor.connect('event', on_event)
monitor.connect('event::closed', on_closed)

sock = Mptcp.socket_new(Gio.SocketFamily.IPV4)
sock.connect(Gio.InetSocketAddress.new_from_string(SERVER, PORT), None)
state['port'] = sock.get_local_address().get_port()
sock.send(b'hello from python', None)      # a client is ESTABLISHED once it sent data
run_until(Mptcp.EventType.ESTABLISHED)
sock.close()
run_until(Mptcp.EventType.CLOSED)

token = state['token']
mine = [e for e in events if e.get_token() == token]
for e in mine:
    print('python:', e.to_string())
types = [e.get_event_type() for e in mine]
assert types == [Mptcp.EventType.CREATED, Mptcp.EventType.ESTABLISHED,
                 Mptcp.EventType.CLOSED], types

created = mine[0]
assert created.has_attribute(Mptcp.EventAttribute.TOKEN)
assert created.get_family() == Gio.SocketFamily.IPV4
local = created.get_local_address()
remote = created.get_remote_address()
assert isinstance(local, Gio.InetSocketAddress)
assert local.get_address().to_string() == CLIENT, local.get_address().to_string()
assert local.get_port() == state['port']
assert remote.get_address().to_string() == SERVER
assert remote.get_port() == PORT
assert created.get_local_id() == 0 and created.get_remote_id() == 0
assert not created.get_server_side()
assert created.to_string().startswith('[CREATED] token=%08x' % token), created.to_string()

closed = mine[2]
assert closed.has_attribute(Mptcp.EventAttribute.TOKEN)
assert not closed.has_attribute(Mptcp.EventAttribute.FAMILY)
assert closed.get_local_address() is None
# the reset reason is the registered enum (none here: UNSPECIFIED), as in subflow-removed
reason = closed.get_reset_reason()
assert isinstance(reason, Mptcp.ResetReason), reason
assert reason == Mptcp.ResetReason.UNSPECIFIED, reason
assert token in closed_by_detail, closed_by_detail
print(f'python: {len(events)} events, connection {token:08x} seen created, established, closed')
