// test-connection-events.js: a connection's signals from gjs with the main loop: subflows opened and
// closed through the library (subflow-added, subflow-removed), established and closed.
// Run by meson under mptcp-testbed as `gjs -m`. The handlers only record; the assertions
// run after loop.run().
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Mptcp from 'gi://Mptcp?version=1.0';

function assert(cond, what) {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
}

const SERVER1 = GLib.getenv('MPTCP_TESTBED_SERVER1_V4');
const SERVER2 = GLib.getenv('MPTCP_TESTBED_SERVER2_V4');
const CLIENT2 = GLib.getenv('MPTCP_TESTBED_CLIENT2_V4');
const SINK = Number(GLib.getenv('MPTCP_TESTBED_PORT_SINK'));

const loop = new GLib.MainLoop(null, false);
let waiting = null;

function poke() {
    if (waiting !== null && waiting())
        loop.quit();
}

// Runs the main loop until predicate() holds (checked when a handler ran) or the timeout.
function runUntil(predicate, timeoutMs = 5000) {
    if (predicate())
        return true;
    let timedOut = false;
    const source = GLib.timeout_add(GLib.PRIORITY_DEFAULT, timeoutMs, () => {
        timedOut = true;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    waiting = predicate;
    loop.run();
    waiting = null;
    if (!timedOut)
        GLib.source_remove(source);
    return predicate();
}

function addressString(address) {
    return `${address.get_address().to_string()}:${address.get_port()}`;
}

function tupleString(subflow) {
    return `${addressString(subflow.local_address)} -> ${addressString(subflow.remote_address)}`;
}

const has = (log, entry) => log.some(e => e.join('|') === entry.join('|'));

const client = Mptcp.Client.new();
const stream = client.connect_to_host(`${SERVER1}:${SINK}`, 0, null);
const connection = Mptcp.Connection.new_for_connection(stream);
assert(connection.event_source === Mptcp.EventSource.NETLINK, 'event source');

const log = [];
function record(...entry) {
    log.push(entry);
    poke();
}
// the state is a property: notify::established, notify::closed (bindable)
assert(!connection.established && !connection.closed, 'initial state');
connection.connect('notify::established', () => record('established'));
connection.connect('subflow-added', (c, sf) => record('added', tupleString(sf)));
connection.connect('subflow-removed', (c, sf, err, reason) => {
    // a GLib.Error or null, and a registered enum
    assert(err === null || err instanceof GLib.Error, `error ${err}`);
    assert(Object.values(Mptcp.ResetReason).includes(reason), `reason ${reason}`);
    record('removed', tupleString(sf));
});
connection.connect('address-announced', (c, id, a) => record('announced', id, addressString(a)));
connection.connect('address-removed', (c, id) => record('address-removed', id));
connection.connect('notify::closed', () => record('closed'));
// bound to another object's property
const closedView = Gio.SimpleAction.new('closed-view', null);
connection.bind_property('closed', closedView, 'enabled', GObject.BindingFlags.SYNC_CREATE);
assert(!closedView.enabled, 'bound at creation');

// established: the client side is once it sent data
stream.get_output_stream().write_all(new Uint8Array(1000), null);
assert(runUntil(() => has(log, ['established'])), JSON.stringify(log));
assert(connection.established && connection.is_established(), 'established property');

// open then close a subflow, async, chained in the callbacks
const results = [];
const local2 = Gio.InetSocketAddress.new_from_string(CLIENT2, 0);
const remote2 = Gio.InetSocketAddress.new_from_string(SERVER2, SINK);
connection.open_subflow_async(local2, remote2, null, (conn, result) => {
    let subflow;
    try {
        subflow = conn.open_subflow_finish(result);
    } catch (e) {
        results.push(['open-error', e.message]);
        poke();
        return;
    }
    results.push(['opened', tupleString(subflow)]);
    subflow.close_async(null, (sf, res) => {
        try {
            results.push(['closed', sf.close_finish(res)]);
        } catch (e) {
            results.push(['close-error', e.message]);
        }
        poke();
    });
});
assert(runUntil(() => results.length === 2 && has(log, ['removed', results[0][1]])),
    JSON.stringify([results, log]));
assert(results[0][0] === 'opened' && results[1][0] === 'closed' && results[1][1] === true,
    JSON.stringify(results));
const t = results[0][1];
assert(t.startsWith(`${CLIENT2}:`) && t.endsWith(` -> ${SERVER2}:${SINK}`), t);
const iAdded = log.findIndex(e => e[0] === 'added' && e[1] === t);
const iRemoved = log.findIndex(e => e[0] === 'removed' && e[1] === t);
assert(iAdded >= 0 && iAdded < iRemoved, JSON.stringify(log));
assert(connection.get_subflows().get_n_items() === 1, 'one subflow left');

// address-announced / address-removed are not covered here: the testbed's server namespace
// has SERVER2 as an endpoint already ('ip mptcp endpoint add' refuses a duplicate); the C
// test tests/kernel/test-connection-events.c (/connection-events/peer-announce) covers them.

// closed
stream.close(null);
assert(runUntil(() => has(log, ['closed'])), JSON.stringify(log));
assert(log.filter(e => e[0] === 'closed').length === 1, JSON.stringify(log));
assert(log.filter(e => e[0] === 'established').length === 1, JSON.stringify(log));
assert(connection.closed && connection.is_closed(), 'closed property');
assert(closedView.enabled, 'bound property');
assert(connection.event_source === Mptcp.EventSource.NONE, 'event source after close');
print('ok');
