// test-connection.js: MptcpClient, MptcpConnection and MptcpSubflow from gjs.
// Run by meson under mptcp-testbed as `gjs -m`: the same listing as
// tests/kernel/test-connection.c, through the typelib.
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

const SERVER1 = GLib.getenv('MPTCP_TESTBED_SERVER1_V4');
const CLIENT2 = GLib.getenv('MPTCP_TESTBED_CLIENT2_V4');
const SINK = Number(GLib.getenv('MPTCP_TESTBED_PORT_SINK'));
const TCP = Number(GLib.getenv('MPTCP_TESTBED_PORT_TCP'));

function addressString(address) {
    let ip = address.get_address().to_string();
    if (address.get_family() === Gio.SocketFamily.IPV6)
        ip = `[${ip}]`;
    return `${ip}:${address.get_port()}`;
}

function subflows(connection) {
    const model = connection.get_subflows();
    const out = [];
    for (let i = 0; i < model.get_n_items(); i++)
        out.push(model.get_item(i));
    return out;
}

function run(command) {
    const [ok, , stderr, status] = GLib.spawn_command_line_sync(command);
    assert(ok && status === 0, `${command}: ${new TextDecoder().decode(stderr)}`);
}

function connectAsync(client, hostAndPort) {
    const loop = new GLib.MainLoop(null, false);
    let result = null;
    client.connect_to_host_async(hostAndPort, 0, null, (source, res) => {
        try {
            result = source.connect_to_host_finish(res);
        } catch (e) {
            result = e;
        }
        loop.quit();
    });
    loop.run();
    if (result instanceof Error)
        throw result;
    return result;
}

const client = new Mptcp.Client();

// a fresh connection: one subflow, the socket's own 4-tuple
let stream = connectAsync(client, `${SERVER1}:${SINK}`);
let connection = Mptcp.Connection.new_for_connection(stream);
const sock = stream.get_socket();
assert(Mptcp.socket_is_mptcp(sock), 'MPTCP socket');
assert(!connection.fallback, 'not fallen back');
assert(connection.token !== 0, 'token');
let listed = subflows(connection);
assert(listed.length === 1, `one subflow, got ${listed.length}`);
assert(listed[0].id === 1, 'id 1');
assert(addressString(listed[0].local_address) === addressString(sock.get_local_address()), 'local');
assert(addressString(listed[0].remote_address) === addressString(sock.get_remote_address()), 'remote');
assert(listed[0].connection === connection, 'subflow.connection');
const stats = listed[0].get_stats();
assert(stats.get_state() === Mptcp.TcpState.ESTABLISHED, 'established');
assert(stats.has_field(Mptcp.SubflowStatsField.RTT_VARIANCE), 'has rtt-variance');
assert(connection.get_info().get_token() === connection.token, 'info token');
assert(connection.get_info().get_n_subflows() === 0, 'info: no additional subflow');
assert(!(connection.get_info().get_flags() & Mptcp.ConnectionInfoFlags.FALLBACK), 'info: no fallback');
stream.close(null);

// a second subflow from the in-kernel path manager's subflow endpoint
// (pm_type is on every kernel; path_manager only from Linux 6.15)
run('sysctl -q -w net.mptcp.pm_type=0');
run(`ip mptcp endpoint add ${CLIENT2} subflow`);
stream = connectAsync(client, `${SERVER1}:${SINK}`);
connection = Mptcp.Connection.new_for_connection(stream);
const model = connection.get_subflows();
const changes = [];
model.connect('items-changed', (m, pos, removed, added) => changes.push(`${pos},${removed},${added}`));
const first = model.get_item(0);
stream.get_output_stream().write_all(new TextEncoder().encode('hello'), null);
const end = GLib.get_monotonic_time() + 5 * 1000 * 1000;
for (;;) {
    assert(connection.refresh(), 'refresh');
    listed = subflows(connection);
    if (listed.length === 2 &&
        listed.every(s => s.get_stats().get_state() === Mptcp.TcpState.ESTABLISHED))
        break;
    assert(GLib.get_monotonic_time() < end, `waited for 2 subflows, have ${listed.length}`);
    GLib.usleep(10000);
}
assert(listed[0] === first, 'the first subflow kept its object');
assert(listed.map(s => s.id).join() === '1,2', 'ids 1,2');
assert(changes.join(';') === '1,0,1', `items-changed ${changes.join(';')}`);
assert(listed[1].local_address.get_address().to_string() === CLIENT2, 'second local address');
assert(addressString(listed[1].remote_address) === `${SERVER1}:${SINK}`, 'second remote address');
stream.close(null);

// fallback: an MPTCP client to a plain TCP server
stream = client.connect_to_host(`${SERVER1}:${TCP}`, 0, null);
connection = Mptcp.Connection.new_for_connection(stream);
assert(connection.fallback, 'fallback');
assert(connection.get_subflows().get_n_items() === 0, 'no subflows listed');
let threw = false;
try {
    connection.get_info();
} catch (e) {
    threw = e.matches(Mptcp.Error, Mptcp.Error.FALLBACK);
}
assert(threw, 'get_info fails with MPTCP_ERROR_FALLBACK');

print('gjs: subflows listed through the typelib (1, then 2), fallback seen');
System.exit(0);
