/* mptcp-example.vala: the mptcplib example, ported to mptcp-glib, in Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Connects to a server over Multipath TCP, sends a request, opens two more
 * subflows (one over a second path, one over IPv6), lists the subflows with
 * their addresses, backup state and round-trip time, reacts to the
 * connection's signals, marks one subflow backup and closes another; with
 * the library's asynchronous calls in Vala async methods. Same steps as
 * mptcp-example.c.
 *
 * Built against the generated VAPI (valac --pkg mptcp-glib-1.0). Opening and
 * steering subflows needs CAP_NET_ADMIN and the userspace path manager; the
 * test network has both:
 *
 *   ./_build/tests/mptcp-testbed ./_build/examples/mptcp-example-vala
 *
 * Exit status 0 only if every step did what it should (meson test runs it).
 */

const string REQUEST = "GET / HTTP/1.0\r\n\r\n";

errordomain ExampleError {
    FAILED
}

delegate bool Condition ();

string env_or (string name, string fallback) {
    unowned string? value = Environment.get_variable (name);
    return value != null && value != "" ? value : fallback;
}

InetSocketAddress address (string ip, uint16 port) {
    return (InetSocketAddress) new InetSocketAddress.from_string (ip, port);
}

class Example : Object {
    uint16 port;
    InetSocketAddress server;
    InetSocketAddress local2;
    InetSocketAddress remote2;
    InetSocketAddress local6;
    GenericArray<Mptcp.Subflow> added = new GenericArray<Mptcp.Subflow> ();
    GenericArray<Mptcp.Subflow> removed = new GenericArray<Mptcp.Subflow> ();

    public Example () {
        port = (uint16) int.parse (env_or ("MPTCP_TESTBED_PORT_ECHO", "5002"));
        /* An IPv6 connection can carry IPv4 subflows too; an IPv4 one refuses IPv6 subflows. */
        server = address (env_or ("MPTCP_TESTBED_SERVER1_V6", "2001:db8:1::2"), port);
        local2 = address (env_or ("MPTCP_TESTBED_CLIENT2_V4", "198.51.100.1"), 0);
        remote2 = address (env_or ("MPTCP_TESTBED_SERVER2_V4", "198.51.100.2"), port);
        local6 = address (env_or ("MPTCP_TESTBED_CLIENT1_V6", "2001:db8:1::1"), 0);
    }

    static void check (bool condition, string what) throws ExampleError {
        if (!condition)
            throw new ExampleError.FAILED (what);
    }

    /* resumes the caller once condition() holds, checking every 10 ms (at most 5 s) */
    async void until (owned Condition condition) throws ExampleError {
        for (int waited = 0; !condition (); waited += 10) {
            check (waited < 5000, "timed out");
            Timeout.add (10, until.callback);
            yield;
        }
    }

    async void request (SocketConnection stream) throws Error {
        size_t written;
        yield stream.output_stream.write_all_async (REQUEST.data, Priority.DEFAULT, null, out written);
        var reply = new StringBuilder ();
        while (reply.len < REQUEST.length) {
            Bytes bytes = yield stream.input_stream.read_bytes_async (REQUEST.length - reply.len,
                                                                      Priority.DEFAULT, null);
            if (bytes.get_size () == 0)
                break;
            reply.append_len ((string) bytes.get_data (), (ssize_t) bytes.get_size ());
        }
        check (reply.str == REQUEST, "the server answered \"%s\"".printf (reply.str));
    }

    static void list_subflows (Mptcp.Connection connection) {
        ListModel subflows = connection.get_subflows ();
        for (uint i = 0; i < subflows.get_n_items (); i++) {
            var subflow = (Mptcp.Subflow) subflows.get_item (i);
            print ("  subflow %u: %s -> %s, %s, rtt %.2f ms\n", subflow.id,
                   subflow.local_address.to_string (), subflow.remote_address.to_string (),
                   subflow.backup ? "backup" : "regular", subflow.get_stats ().get_rtt () / 1000.0);
        }
    }

    public async void run () throws Error {
        /* 1. connect over MPTCP (no fallback to TCP: this example is about MPTCP) */
        var client = new Mptcp.Client ();
        client.allow_fallback = false;
        print ("connecting to %s\n", server.to_string ());
        SocketConnection stream = yield client.connect_async (server, null);
        var connection = new Mptcp.Connection.for_connection (stream);
        check (!connection.fallback, "the connection fell back to TCP");
        print ("connected, token %08x\n", connection.get_token ());

        /* the state is a property: bind to it, or watch its notify signal */
        connection.notify["established"].connect (() => {
            print ("  notify: established %s\n", connection.established.to_string ());
        });
        connection.notify["closed"].connect (() => {
            print ("  notify: closed %s\n", connection.closed.to_string ());
        });
        connection.subflow_added.connect ((subflow) => {
            added.add (subflow);
            print ("  signal: subflow %u added (%s -> %s)\n", subflow.id,
                   subflow.local_address.to_string (), subflow.remote_address.to_string ());
        });
        connection.subflow_removed.connect ((subflow, error, reset_reason) => {
            removed.add (subflow);
            print ("  signal: subflow %u removed%s%s\n", subflow.id,
                   error != null ? ": " + error.message : "",
                   reset_reason != Mptcp.ResetReason.UNSPECIFIED
                   ? " (reset: " + reset_reason.to_string () + ")" : "");
        });
        connection.subflow_priority_changed.connect ((subflow, backup) => {
            print ("  signal: the peer wants subflow %u %s\n", subflow.id,
                   backup ? "as a backup" : "as a regular subflow");
        });

        /* 2. a request: a client connection takes new subflows once it sent data */
        yield request (stream);
        print ("request sent and echoed\n");

        /* 3. two more subflows: over the second path, and over IPv6 */
        print ("opening two more subflows\n");
        Mptcp.Subflow second = yield connection.open_subflow_async (local2, remote2, null);
        Mptcp.Subflow third = yield connection.open_subflow_async (local6, server, null);
        yield until (() => added.length >= 2);

        /* 4. the list, with addresses, backup state and RTT */
        connection.refresh ();
        print ("subflows:\n");
        list_subflows (connection);
        check (connection.get_subflows ().get_n_items () == 3, "three subflows expected");

        /* 5. mark the second-path subflow backup, close the IPv6 one */
        print ("marking subflow %u backup\n", second.id);
        yield second.set_backup_async (true, null);
        check (second.backup, "the subflow is not backup");
        print ("closing subflow %u\n", third.id);
        yield third.close_async (null);
        yield until (() => removed.find (third));

        connection.refresh ();
        print ("subflows:\n");
        list_subflows (connection);
        check (connection.get_subflows ().get_n_items () == 2, "two subflows expected");

        /* 6. the connection goes on */
        yield request (stream);
        print ("request sent and echoed again\n");
        yield stream.close_async (Priority.DEFAULT, null);
    }
}

int main () {
    var loop = new MainLoop ();
    int status = 0;
    var example = new Example ();

    example.run.begin ((obj, res) => {
        try {
            example.run.end (res);
        } catch (Error e) {
            printerr ("mptcp-example-vala: %s\n", e.message);
            status = 1;
        }
        loop.quit ();
    });
    loop.run ();
    if (status == 0)
        print ("done\n");
    return status;
}
