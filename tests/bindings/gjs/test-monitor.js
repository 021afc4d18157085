// test-monitor.js: an MptcpMonitor from gjs sees a connection's events.
// Run by meson under mptcp-testbed as `gjs -m`.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mptcp from 'gi://Mptcp?version=1.0';
import System from 'system';

function assert(cond, what) {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
}

const CLIENT = GLib.getenv('MPTCP_TESTBED_CLIENT1_V4');
const SERVER = GLib.getenv('MPTCP_TESTBED_SERVER1_V4');
const PORT = Number(GLib.getenv('MPTCP_TESTBED_PORT_SINK'));

const loop = new GLib.MainLoop(null, false);
const events = [];
const closedByDetail = [];
let localPort = 0, token = 0, want = null, timedOut = false;

const monitor = Mptcp.Monitor.new(null);
monitor.connect('event', (_monitor, event) => {
    // an exception here would only be logged: record, assert after the loop
    events.push(event);
    const type = event.get_event_type();
    if (type === Mptcp.EventType.CREATED && event.get_local_port() === localPort)
        token = event.get_token();
    if (type === want && token !== 0 && event.get_token() === token)
        loop.quit();
});
monitor.connect('event::closed', (_monitor, event) => {
    closedByDetail.push(event.get_token());
});

function runUntil(type) {
    want = type;
    const id = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 5, () => {
        timedOut = true;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    assert(!timedOut, `no event of type ${type} within 5 s`);
    GLib.source_remove(id);
}

const sock = Mptcp.socket_new(Gio.SocketFamily.IPV4);
sock.connect(Gio.InetSocketAddress.new_from_string(SERVER, PORT), null);
localPort = sock.get_local_address().get_port();
sock.send(new TextEncoder().encode('hello from gjs'), null);
runUntil(Mptcp.EventType.ESTABLISHED);
sock.close();
runUntil(Mptcp.EventType.CLOSED);

const mine = events.filter(e => e.get_token() === token);
for (const e of mine)
    print(`gjs: ${e.to_string()}`);
const types = mine.map(e => e.get_event_type());
assert(types.length === 3 && types[0] === Mptcp.EventType.CREATED &&
       types[1] === Mptcp.EventType.ESTABLISHED && types[2] === Mptcp.EventType.CLOSED,
       `event order ${types}`);

const created = mine[0];
assert(created.has_attribute(Mptcp.EventAttribute.TOKEN), 'token attribute');
assert(created.get_family() === Gio.SocketFamily.IPV4, 'family');
const local = created.get_local_address();
const remote = created.get_remote_address();
assert(local instanceof Gio.InetSocketAddress, 'local is a GInetSocketAddress');
assert(local.get_address().to_string() === CLIENT, `local ${local.get_address().to_string()}`);
assert(local.get_port() === localPort, 'local port');
assert(remote.get_address().to_string() === SERVER, 'remote address');
assert(remote.get_port() === PORT, 'remote port');
assert(!created.get_server_side(), 'client side');
assert(created.to_string().startsWith('[CREATED] token='), created.to_string());

const closed = mine[2];
assert(!closed.has_attribute(Mptcp.EventAttribute.FAMILY), 'CLOSED has no family');
assert(closed.get_local_address() === null, 'CLOSED has no address');
// the reset reason is the registered enum (none here: UNSPECIFIED), as in subflow-removed
assert(closed.get_reset_reason() === Mptcp.ResetReason.UNSPECIFIED,
       `reset reason ${closed.get_reset_reason()}`);
assert(closedByDetail.includes(token), 'event::closed detail');

print(`gjs: ${events.length} events, connection ${token.toString(16)} seen created, established, closed`);
System.exit(0);
