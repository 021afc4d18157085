// test-subflow-control.js: opening, closing and steering subflows from gjs, async with the main
// loop, and the connection's signals. Run by meson under mptcp-testbed as `gjs -m`.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mptcp from 'gi://Mptcp?version=1.0';

function assert(cond, what) {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
}

const SERVER1 = GLib.getenv('MPTCP_TESTBED_SERVER1_V4');
const SERVER2 = GLib.getenv('MPTCP_TESTBED_SERVER2_V4');
const CLIENT2 = GLib.getenv('MPTCP_TESTBED_CLIENT2_V4');
const SINK = Number(GLib.getenv('MPTCP_TESTBED_PORT_SINK'));

function addressString(address) {
    let ip = address.get_address().to_string();
    if (address.get_family() === Gio.SocketFamily.IPV6)
        ip = `[${ip}]`;
    return `${ip}:${address.get_port()}`;
}

function tupleString(subflow) {
    return `${addressString(subflow.local_address)} -> ${addressString(subflow.remote_address)}`;
}

function subflows(connection) {
    const model = connection.get_subflows();
    const out = [];
    for (let i = 0; i < model.get_n_items(); i++)
        out.push(model.get_item(i));
    return out;
}

// Runs the main loop until predicate() holds.
function runUntil(predicate, timeoutMs = 5000) {
    const loop = new GLib.MainLoop(null, false);
    let timedOut = false;
    const tid = GLib.timeout_add(GLib.PRIORITY_DEFAULT, timeoutMs, () => {
        timedOut = true;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    const cid = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5, () => {
        if (!predicate())
            return GLib.SOURCE_CONTINUE;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    if (!predicate())
        loop.run();
    if (!timedOut)
        GLib.source_remove(tid);
    if (!predicate() || timedOut)
        throw new Error('timed out');
    void cid;
}

// start(callback) with the main loop; returns [value, error].
function callAsync(start, finish) {
    let out = null;
    start((source, result) => {
        try {
            out = [finish(source, result), null];
        } catch (e) {
            out = [null, e];
        }
    });
    runUntil(() => out !== null);
    return out;
}

const client = Mptcp.Client.new();
const stream = client.connect_to_host(`${SERVER1}:${SINK}`, 0, null);
const connection = Mptcp.Connection.new_for_connection(stream);
assert(connection.event_source === Mptcp.EventSource.NETLINK, 'event source');

const log = [];
connection.connect('subflow-added', (c, sf) => log.push(`+${tupleString(sf)}`));
connection.connect('subflow-removed', (c, sf, err, reason) => log.push(`-${tupleString(sf)}`));
let established = false;
connection.connect('notify::established', c => {
    established = c.established;
});
stream.get_output_stream().write_all(new Uint8Array(1000), null);
runUntil(() => established);

const local2 = Gio.InetSocketAddress.new_from_string(CLIENT2, 0);
const remote2 = Gio.InetSocketAddress.new_from_string(SERVER2, SINK);

let [subflow, error] = callAsync(
    cb => connection.open_subflow_async(local2, remote2, null, cb),
    (src, res) => src.open_subflow_finish(res));
assert(error === null, `open: ${error}`);
assert(subflows(connection).includes(subflow), 'listed');
const t = tupleString(subflow);
assert(t.startsWith(`${CLIENT2}:`) && t.endsWith(` -> ${SERVER2}:${SINK}`), t);

let ok;
[ok, error] = callAsync(cb => subflow.set_backup_async(true, null, cb),
    (src, res) => src.set_backup_finish(res));
assert(ok && error === null, `backup: ${error}`);
assert(subflow.backup, 'backup property');

[ok, error] = callAsync(cb => subflow.close_async(null, cb),
    (src, res) => src.close_finish(res));
assert(ok && error === null, `close: ${error}`);
assert(!subflows(connection).includes(subflow), 'gone');
assert(JSON.stringify(log) === JSON.stringify([`+${t}`, `-${t}`]), JSON.stringify(log));

[ok, error] = callAsync(cb => subflow.close_async(null, cb),
    (src, res) => src.close_finish(res));
assert(error !== null && error.matches(Mptcp.error_quark(), Mptcp.Error.NO_SUCH_SUBFLOW),
    `close again: ${error}`);

let id;
[id, error] = callAsync(cb => connection.announce_address_async(local2, null, cb),
    (src, res) => src.announce_address_finish(res));
assert(error === null && id >= 1 && id <= 255, `announce: ${id} ${error}`);
[ok, error] = callAsync(cb => connection.remove_address_async(id, null, cb),
    (src, res) => src.remove_address_finish(res));
assert(ok && error === null, `remove: ${error}`);

// cancelled before it starts
const cancellable = new Gio.Cancellable();
cancellable.cancel();
[subflow, error] = callAsync(
    cb => connection.open_subflow_async(local2, remote2, cancellable, cb),
    (src, res) => src.open_subflow_finish(res));
assert(error !== null && error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
    `cancel: ${error}`);

let closed = -1;
connection.connect('notify::closed', c => {
    closed = subflows(c).length;
});
stream.close(null);
runUntil(() => closed >= 0);
assert(closed === 0, 'list empty when closed');
assert(connection.event_source === Mptcp.EventSource.NONE, 'event source none');
print('ok');
