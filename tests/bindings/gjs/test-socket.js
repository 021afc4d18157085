// test-socket.js: an MPTCP socket from gjs, connected over the testbed's path 1.
// Run by meson under mptcp-testbed as `gjs -m`.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mptcp from 'gi://Mptcp?version=1.0';
import System from 'system';

const SOL_SOCKET = 1, SO_PROTOCOL = 38, IPPROTO_MPTCP = 262;

function assert(cond, what) {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
}

const server = Gio.InetSocketAddress.new_from_string(
    GLib.getenv('MPTCP_TESTBED_SERVER1_V4'),
    Number(GLib.getenv('MPTCP_TESTBED_PORT_ECHO')));

// a plain question, and a check that throws with the reason
assert(Mptcp.socket_is_supported() === true, 'is_supported');
assert(Mptcp.socket_check_supported() === true, 'check_supported');

// an MPTCP listening socket on any GSocketListener
const listener = new Gio.SocketListener();
const port = Mptcp.socket_listener_add_any_inet_port(listener, null);
assert(port > 0, `listener port ${port}`);
listener.close();

const sock = Mptcp.socket_new(Gio.SocketFamily.IPV4);
assert(Mptcp.socket_is_mptcp(sock), 'is_mptcp');
let [ok, proto] = sock.get_option(SOL_SOCKET, SO_PROTOCOL);
assert(ok && proto === IPPROTO_MPTCP, `SO_PROTOCOL ${proto}`);

sock.connect(server, null);
const msg = new TextEncoder().encode('hello from gjs');
sock.send(msg, null);
const stream = sock.connection_factory_create_connection();
const reply = stream.get_input_stream().read_bytes(64, null).toArray();
assert(new TextDecoder().decode(reply) === 'hello from gjs', 'echo');

[ok, proto] = sock.get_option(SOL_SOCKET, SO_PROTOCOL);
assert(proto === IPPROTO_MPTCP, 'still MPTCP');
sock.close();

let threw = false;
try {
    Mptcp.socket_new(Gio.SocketFamily.UNIX);
} catch (e) {
    threw = e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.INVALID_ARGUMENT);
}
assert(threw, 'UNIX family rejected with G_IO_ERROR_INVALID_ARGUMENT');

print(`gjs: MPTCP socket connected over path 1, SO_PROTOCOL ${proto}`);
System.exit(0);
