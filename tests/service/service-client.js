// service-client.js: the mptcplib scenario from gjs as an unprivileged user, through the
// ordinary Mptcp.Connection API (the library takes it to mptcp-glib-service).
// Run by test-service as uid 65534 without CAP_NET_ADMIN, as `gjs -m`.
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

const [SERVER1, SERVER2, CLIENT2, ECHO] = ['192.0.2.2', '198.51.100.2', '198.51.100.1', 5002];
const expectedCode = Number(System.programArgs[0]);

const client = Mptcp.Client.new();
const stream = client.connect_to_host(`${SERVER1}:${ECHO}`, 0, null);
stream.get_output_stream().write_all(new TextEncoder().encode('ping'), null);
const echo = stream.get_input_stream().read_bytes(4, null);
assert(echo.get_size() === 4, 'echo');
const connection = Mptcp.Connection.new_for_connection(stream);
assert(connection.event_source === Mptcp.EventSource.POLLING, 'polling without CAP_NET_ADMIN');

const local = Gio.InetSocketAddress.new_from_string(CLIENT2, 0);
const remote = Gio.InetSocketAddress.new_from_string(SERVER2, ECHO);
const subflow = connection.open_subflow(local, remote, null);
assert(connection.get_subflows().get_n_items() === 2, 'two subflows');
assert(subflow.local_address.get_address().to_string() === CLIENT2, 'local address');
assert(subflow.set_backup(true, null), 'backup');
assert(subflow.backup, 'backup property');
assert(subflow.close(null), 'close');
const deadline = GLib.get_monotonic_time() + 10 * 1000000;
for (;;) {
    connection.refresh();
    if (connection.get_subflows().get_n_items() === 1)
        break;
    assert(GLib.get_monotonic_time() < deadline, 'the subflow went');
    GLib.usleep(10000);
}
const id = connection.announce_address(local, null);
assert(id > 0, 'announced');
assert(connection.remove_address(id, null), 'removed');
let refused = null;
try {
    connection.remove_address(200, null);
} catch (e) {
    refused = e;
}
assert(refused !== null && refused.matches(Mptcp.error_quark(), expectedCode),
    `same error code as the direct path: ${refused}`);
print('ok');
