/* test-connection-list.vala: MptcpConnectionList from Vala, through the VAPI: the event
 * source, the socketless handle of an entry (mptcp_connection_entry_dup_connection), and
 * listeners (include-listeners, is-listener). Run under mptcp-testbed (as root).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

int main () {
    try {
        var client = Environment.get_variable ("MPTCP_TESTBED_CLIENT1_V4");
        var server = new InetSocketAddress.from_string (
            Environment.get_variable ("MPTCP_TESTBED_SERVER1_V4"),
            int.parse (Environment.get_variable ("MPTCP_TESTBED_PORT_SINK")));

        Socket sock = Mptcp.socket_new (SocketFamily.IPV4);
        sock.connect (server);
        sock.send ("hello from vala".data);
        var connection = new Mptcp.Connection (sock);

        var list = new Mptcp.ConnectionList (null);
        assert (list.event_source == Mptcp.EventSource.NETLINK);
        assert (list.get_event_source () == Mptcp.EventSource.NETLINK);
        unowned Mptcp.ConnectionEntry? entry = list.find_token (connection.get_token ());
        assert (entry != null);

        Mptcp.Connection handle = entry.dup_connection ();
        assert (handle.get_socket () == null);
        assert (handle.get_token () == connection.get_token ());
        assert (handle.get_subflows ().get_n_items () == 1);
        assert (handle.get_info ().get_token () == connection.get_token ());
        var again = new Mptcp.Connection.for_token (connection.get_token ());
        assert (again.get_socket () == null);
        try {
            new Mptcp.Connection.for_token (0);
            assert_not_reached ();
        } catch (IOError.NOT_SUPPORTED e) {
            /* expected */
        }

        Socket listener = Mptcp.socket_new (SocketFamily.IPV4);
        listener.bind (new InetSocketAddress.from_string (client, 0), true);
        listener.listen ();
        var lport = ((InetSocketAddress) listener.get_local_address ()).get_port ();
        assert (!list.include_listeners);
        list.include_listeners = true;
        list.refresh (null);
        var found = 0;
        for (uint i = 0; i < list.get_n_items (); i++) {
            var e = (Mptcp.ConnectionEntry) list.get_item (i);
            if (e.is_listener && e.get_local_address ().get_port () == lport) {
                assert (e.get_is_listener ());
                assert (e.get_state () == Mptcp.TcpState.LISTEN);
                found++;
            }
        }
        assert (found == 1);
        listener.close ();
        sock.close ();
        print ("vala: %u entries, handle %08x without a socket, listener on %u\n",
               list.get_n_items (), handle.get_token (), lport);
    } catch (Error e) {
        stderr.printf ("vala: %s\n", e.message);
        return 1;
    }
    return 0;
}
