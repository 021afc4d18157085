/* test-socket.vala: an MPTCP socket from Vala, connected over the testbed's path 1.
 * Built against the generated VAPI and run under mptcp-testbed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

const int SOL_SOCKET = 1;
const int SO_PROTOCOL = 38;
const int IPPROTO_MPTCP = 262;

int main () {
    try {
        var server = new InetSocketAddress.from_string (
            Environment.get_variable ("MPTCP_TESTBED_SERVER1_V4"),
            int.parse (Environment.get_variable ("MPTCP_TESTBED_PORT_ECHO")));

        // a plain question, and a check that throws with the reason
        assert (Mptcp.socket_is_supported ());
        assert (Mptcp.socket_check_supported ());

        // an MPTCP listening socket on any GSocketListener
        var listener = new SocketListener ();
        uint16 port = Mptcp.socket_listener_add_any_inet_port (listener, null);
        assert (port > 0);
        listener.close ();

        Socket sock = Mptcp.socket_new (SocketFamily.IPV4);
        assert (Mptcp.socket_is_mptcp (sock));
        int proto;
        sock.get_option (SOL_SOCKET, SO_PROTOCOL, out proto);
        assert (proto == IPPROTO_MPTCP);

        sock.connect (server);
        sock.send ("hello from vala".data);
        uint8 buf[64];
        var n = sock.receive (buf);
        assert (n == 15);
        sock.close ();

        try {
            Mptcp.socket_new (SocketFamily.UNIX);
            assert_not_reached ();
        } catch (IOError.INVALID_ARGUMENT e) {
            /* expected */
        }
        print ("vala: MPTCP socket connected over path 1, SO_PROTOCOL %d\n", proto);
    } catch (Error e) {
        stderr.printf ("vala: %s\n", e.message);
        return 1;
    }
    return 0;
}
