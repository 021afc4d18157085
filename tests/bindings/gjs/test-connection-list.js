// test-connection-list.js: MptcpConnectionList from gjs sees a connection and its subflow,
// through the typelib (the same checks as tests/bindings/python/test-connection-list.py).
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

const sock = Mptcp.socket_new(Gio.SocketFamily.IPV4);
sock.connect(Gio.InetSocketAddress.new_from_string(SERVER, PORT), null);
sock.send(new TextEncoder().encode('hello from gjs'), null);
const connection = Mptcp.Connection.new(sock);
const localPort = sock.get_local_address().get_port();

const list = Mptcp.ConnectionList.new(null);
assert(list instanceof Gio.ListModel, 'a GListModel');
list.interval = 0;
const entry = list.find_token(connection.get_token());
assert(entry !== null, 'own connection listed');
assert(entry.local_address.get_port() === localPort, 'local port');
assert(entry.get_local_address().get_address().to_string() === CLIENT, 'local address');
assert(entry.get_remote_address().get_port() === PORT, 'remote port');
assert(entry.token === connection.get_token(), 'token property');
assert(entry.get_state() === Mptcp.TcpState.ESTABLISHED, 'state');
assert(entry.get_info().get_token() === connection.get_token(), 'info token');
assert(list.check_subflows(), 'subflows visible');

const subflows = entry.subflows;
assert(subflows.get_n_items() === 1, 'one subflow');
const first = subflows.get_item(0);
assert(first instanceof Mptcp.SubflowEntry, 'a SubflowEntry');
assert(first.get_local_address().get_port() === localPort, 'subflow port');
assert(!first.backup && !first.peer_backup, 'no backup flags');
assert(first.get_stats().get_state() === Mptcp.TcpState.ESTABLISHED, 'subflow stats');

// 0.2: events (the testbed runs as root), the socketless handle, listeners
assert(list.get_event_source() === Mptcp.EventSource.NETLINK, 'event source');
assert(list.event_source === Mptcp.EventSource.NETLINK, 'event-source property');
let handle = entry.dup_connection();
assert(handle !== null && handle.get_socket() === null, 'a handle without a socket');
assert(entry.dup_connection() === handle, 'the same handle');
assert(handle.get_token() === connection.get_token(), 'handle token');
assert(handle.get_local_address().get_port() === localPort, 'handle local port');
assert(handle.get_subflows().get_n_items() === 1, 'handle subflows');
assert(handle.refresh(), 'handle refresh');
assert(handle.get_info().get_token() === connection.get_token(), 'handle info');
assert(Mptcp.Connection.new_for_token(connection.get_token()).get_socket() === null, 'new_for_token');
try {
    Mptcp.Connection.new_for_token(0);
    assert(false, 'token 0');
} catch (e) {
    assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED), `token 0: ${e}`);
}
handle = null;

const listener = Mptcp.socket_new(Gio.SocketFamily.IPV4);
listener.bind(Gio.InetSocketAddress.new_from_string(CLIENT, 0), true);
listener.listen();
const lport = listener.get_local_address().get_port();
assert(!list.include_listeners, 'no listeners by default');
const withListeners = new Mptcp.ConnectionList({include_listeners: true});
withListeners.init(null);
assert(withListeners.get_include_listeners(), 'include-listeners');
let listed = 0;
for (let i = 0; i < withListeners.get_n_items(); i++) {
    const e = withListeners.get_item(i);
    if (e.is_listener && e.get_local_address().get_port() === lport) {
        assert(e.get_state() === Mptcp.TcpState.LISTEN && e.get_token() === 0, 'listener entry');
        listed++;
    }
}
assert(listed === 1, 'listener listed');
list.set_include_listeners(true);
assert(list.refresh(null), 'refresh with listeners');
let seen = false;
for (let i = 0; i < list.get_n_items(); i++)
    seen ||= list.get_item(i).get_is_listener();
assert(seen, 'listener after set_include_listeners');
list.set_include_listeners(false);
assert(list.refresh(null), 'refresh without listeners');
listener.close();

// the connection goes: refresh_async until it left, with its items-changed
const changes = [];
list.connect('items-changed', (_m, p, r, a) => changes.push(`${p},${r},${a}`));
let position = -1;
for (let i = 0; i < list.get_n_items(); i++) {
    if (list.get_item(i) === entry)
        position = i;
}
assert(position >= 0, 'entry position');
sock.close();
const loop = new GLib.MainLoop(null, false);
const deadline = GLib.get_monotonic_time() + 5000000;
while (entry.get_state() !== Mptcp.TcpState.CLOSE && GLib.get_monotonic_time() < deadline) {
    let ok = false;
    list.refresh_async(null, (source, res) => {
        ok = source.refresh_finish(res);
        loop.quit();
    });
    loop.run();
    assert(ok, 'refresh_async');
}
assert(entry.get_state() === Mptcp.TcpState.CLOSE, 'closed connection left the list');
assert(changes.includes(`${position},1,0`), `items-changed ${changes}`);
print(`gjs: ${list.get_n_items()} connections; ${connection.get_token().toString(16)} seen and gone`);
System.exit(0);
