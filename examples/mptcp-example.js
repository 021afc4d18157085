// mptcp-example.js: the mptcplib example, ported to mptcp-glib, in JavaScript
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Connects to a server over Multipath TCP, sends a request, opens two more
// subflows (one over a second path, one over IPv6), lists the subflows with
// their addresses, backup state and round-trip time, reacts to the
// connection's signals, marks one subflow backup and closes another; with
// async/await over the library's asynchronous calls (Gio._promisify). Same
// steps as mptcp-example.c.
//
// Run it as an ES module with gjs. Opening and steering subflows needs
// CAP_NET_ADMIN and the userspace path manager; the test network has both:
//
//   ./_build/tests/mptcp-testbed env GI_TYPELIB_PATH=_build/mptcp-glib \
//       LD_LIBRARY_PATH=_build/mptcp-glib gjs -m examples/mptcp-example.js
//
// Exit status 0 only if every step did what it should (meson test runs it).

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mptcp from 'gi://Mptcp?version=1.0';
import System from 'system';

Gio._promisify(Mptcp.Client.prototype, 'connect_async', 'connect_finish');
Gio._promisify(Mptcp.Connection.prototype, 'open_subflow_async', 'open_subflow_finish');
Gio._promisify(Mptcp.Subflow.prototype, 'set_backup_async', 'set_backup_finish');
Gio._promisify(Mptcp.Subflow.prototype, 'close_async', 'close_finish');
Gio._promisify(Gio.OutputStream.prototype, 'write_all_async', 'write_all_finish');
Gio._promisify(Gio.InputStream.prototype, 'read_bytes_async', 'read_bytes_finish');

const REQUEST = 'GET / HTTP/1.0\r\n\r\n';

function envOr(name, fallback) {
    return GLib.getenv(name) || fallback;
}

const PORT = Number(envOr('MPTCP_TESTBED_PORT_ECHO', '5002'));
// An IPv6 connection can carry IPv4 subflows too; an IPv4 one refuses IPv6 subflows.
const SERVER = Gio.InetSocketAddress.new_from_string(envOr('MPTCP_TESTBED_SERVER1_V6', '2001:db8:1::2'), PORT);
const LOCAL2 = Gio.InetSocketAddress.new_from_string(envOr('MPTCP_TESTBED_CLIENT2_V4', '198.51.100.1'), 0);
const REMOTE2 = Gio.InetSocketAddress.new_from_string(envOr('MPTCP_TESTBED_SERVER2_V4', '198.51.100.2'), PORT);
const LOCAL6 = Gio.InetSocketAddress.new_from_string(envOr('MPTCP_TESTBED_CLIENT1_V6', '2001:db8:1::1'), 0);

function check(condition, what) {
    if (!condition)
        throw new Error(what);
}

// resolves once condition() holds, checking it every 10 ms (at most 5 s)
function until(condition) {
    return new Promise((resolve, reject) => {
        let waited = 0;
        if (condition()) {
            resolve();
            return;
        }
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10, () => {
            if (condition()) {
                resolve();
                return GLib.SOURCE_REMOVE;
            }
            waited += 10;
            if (waited >= 5000) {
                reject(new Error('timed out'));
                return GLib.SOURCE_REMOVE;
            }
            return GLib.SOURCE_CONTINUE;
        });
    });
}

async function request(stream) {
    const data = new TextEncoder().encode(REQUEST);
    await stream.get_output_stream().write_all_async(data, GLib.PRIORITY_DEFAULT, null);
    let reply = '';
    while (reply.length < REQUEST.length) {
        const bytes = await stream.get_input_stream().read_bytes_async(
            REQUEST.length - reply.length, GLib.PRIORITY_DEFAULT, null);
        if (bytes.get_size() === 0)
            break;
        reply += new TextDecoder().decode(bytes.toArray());
    }
    check(reply === REQUEST, `the server answered ${JSON.stringify(reply)}`);
}

function listSubflows(connection) {
    const subflows = connection.get_subflows();
    for (let i = 0; i < subflows.get_n_items(); i++) {
        const subflow = subflows.get_item(i);
        const rtt = subflow.get_stats().get_rtt() / 1000;
        print(`  subflow ${subflow.id}: ${subflow.local_address.to_string()} -> ` +
            `${subflow.remote_address.to_string()}, ${subflow.backup ? 'backup' : 'regular'}, ` +
            `rtt ${rtt.toFixed(2)} ms`);
    }
}

async function main() {
    const added = [];
    const removed = [];

    // 1. connect over MPTCP (no fallback to TCP: this example is about MPTCP)
    const client = new Mptcp.Client({allow_fallback: false});
    print(`connecting to ${SERVER.to_string()}`);
    const stream = await client.connect_async(SERVER, null);
    const connection = Mptcp.Connection.new_for_connection(stream);
    check(!connection.fallback, 'the connection fell back to TCP');
    print(`connected, token ${connection.token.toString(16).padStart(8, '0')}`);

    connection.connect('subflow-added', (c, subflow) => {
        added.push(subflow);
        print(`  signal: subflow ${subflow.id} added (${subflow.local_address.to_string()} -> ` +
            `${subflow.remote_address.to_string()})`);
    });
    connection.connect('subflow-removed', (c, subflow, error, resetReason) => {
        removed.push(subflow);
        print(`  signal: subflow ${subflow.id} removed${error ? `: ${error.message}` : ''}`);
    });
    connection.connect('subflow-priority-changed', (c, subflow, backup) => {
        print(`  signal: the peer wants subflow ${subflow.id} ` +
            `${backup ? 'as a backup' : 'as a regular subflow'}`);
    });

    // 2. a request: a client connection takes new subflows once it sent data
    await request(stream);
    print('request sent and echoed');

    // 3. two more subflows: over the second path, and over IPv6
    print('opening two more subflows');
    const second = await connection.open_subflow_async(LOCAL2, REMOTE2, null);
    const third = await connection.open_subflow_async(LOCAL6, SERVER, null);
    await until(() => added.length >= 2);

    // 4. the list, with addresses, backup state and RTT
    connection.refresh();
    print('subflows:');
    listSubflows(connection);
    check(connection.get_subflows().get_n_items() === 3, 'three subflows expected');

    // 5. mark the second-path subflow backup, close the IPv6 one
    print(`marking subflow ${second.id} backup`);
    await second.set_backup_async(true, null);
    check(second.backup, 'the subflow is not backup');
    print(`closing subflow ${third.id}`);
    await third.close_async(null);
    await until(() => removed.includes(third));

    connection.refresh();
    print('subflows:');
    listSubflows(connection);
    check(connection.get_subflows().get_n_items() === 2, 'two subflows expected');

    // 6. the connection goes on
    await request(stream);
    print('request sent and echoed again');
    stream.close(null);
}

const loop = new GLib.MainLoop(null, false);
let status = 0;
main().catch(e => {
    printerr(`mptcp-example.js: ${e.message}`);
    status = 1;
}).finally(() => loop.quit());
loop.run();
if (status === 0)
    print('done');
System.exit(status);
