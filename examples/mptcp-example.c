/* mptcp-example.c: the mptcplib example, ported to mptcp-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Connects to a server over Multipath TCP, sends a request, opens two more
 * subflows (one over a second path, one over IPv6), lists the subflows with
 * their addresses, backup state and round-trip time, reacts to the
 * connection's signals, marks one subflow backup and closes another. This
 * C version uses the blocking calls; examples/mptcp-example.py, .js and .vala
 * do the same with the asynchronous ones, and examples/mptcp-demo.c is a
 * bigger program built around a GMainLoop.
 *
 * Opening, closing and prioritising subflows needs CAP_NET_ADMIN and the
 * userspace path manager (sysctl net.mptcp.path_manager=userspace). The test
 * network has both; run it there with
 *
 *   ./_build/tests/mptcp-testbed ./_build/examples/mptcp-example
 *
 * Addresses come from the MPTCP_TESTBED_* variables the runner sets, with the
 * same values as defaults. The exit status is 0 only if every step did what
 * it should: meson test runs this program.
 */

#include <stdlib.h>
#include <string.h>

#include <mptcp-glib/mptcp-glib.h>

#define REQUEST "GET / HTTP/1.0\r\n\r\n"

typedef struct
{
  guint added;
  guint removed;
  MptcpSubflow *last_removed;
} Seen;

static void
seen_clear (Seen *seen)
{
  g_clear_object (&seen->last_removed);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Seen, seen_clear)

static const char *
env_or (const char *name,
        const char *fallback)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? value : fallback;
}

static GInetSocketAddress *
address (const char *ip,
         guint16     port)
{
  GSocketAddress *a = g_inet_socket_address_new_from_string (ip, port);

  if (a == NULL)
    g_error ("not an IP address: %s", ip);
  return G_INET_SOCKET_ADDRESS (a);
}

/* "192.0.2.1:40000" or "[2001:db8:1::1]:40000" */
static char *
to_string (GInetSocketAddress *a)
{
  return g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (a));
}

static gboolean
fail (const char *what,
      GError     *error)
{
  g_printerr ("mptcp-example: %s: %s\n", what, error != NULL ? error->message : "failed");
  return FALSE;
}

/* the signals: a real application would update its view of the connection */
static void
on_subflow_added (MptcpConnection *connection,
                  MptcpSubflow    *subflow,
                  Seen            *seen)
{
  g_autofree char *local = to_string (mptcp_subflow_get_local_address (subflow));
  g_autofree char *remote = to_string (mptcp_subflow_get_remote_address (subflow));

  seen->added++;
  g_print ("  signal: subflow %u added (%s -> %s)\n", mptcp_subflow_get_id (subflow),
           local, remote);
}

static void
on_subflow_removed (MptcpConnection  *connection,
                    MptcpSubflow     *subflow,
                    const GError     *error,
                    MptcpResetReason  reset_reason,
                    Seen             *seen)
{
  seen->removed++;
  g_set_object (&seen->last_removed, subflow);
  g_print ("  signal: subflow %u removed%s%s\n", mptcp_subflow_get_id (subflow),
           error != NULL ? ": " : "", error != NULL ? error->message : "");
}

static void
on_priority_changed (MptcpConnection *connection,
                     MptcpSubflow    *subflow,
                     gboolean         backup,
                     Seen            *seen)
{
  g_print ("  signal: the peer wants subflow %u %s\n", mptcp_subflow_get_id (subflow),
           backup ? "as a backup" : "as a regular subflow");
}

/* Lets the main context deliver the signals until *counter reaches target. */
static gboolean
wait_for (guint *counter,
          guint  target)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (*counter < target && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  return *counter >= target;
}

static void
list_subflows (MptcpConnection *connection)
{
  GListModel *subflows = mptcp_connection_get_subflows (connection);

  for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
      g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);
      g_autofree char *local = to_string (mptcp_subflow_get_local_address (subflow));
      g_autofree char *remote = to_string (mptcp_subflow_get_remote_address (subflow));

      g_print ("  subflow %u: %s -> %s, %s, rtt %.2f ms\n", mptcp_subflow_get_id (subflow),
               local, remote, mptcp_subflow_get_backup (subflow) ? "backup" : "regular",
               mptcp_subflow_stats_get_rtt (stats) / 1000.0);
    }
}

/* sends the request and reads the echo server's answer */
static gboolean
request (GSocketConnection  *stream,
         GError            **error)
{
  char reply[sizeof REQUEST] = { 0 };
  gsize n = 0;

  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (stream)),
                                  REQUEST, strlen (REQUEST), NULL, NULL, error) ||
      !g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (stream)),
                                reply, strlen (REQUEST), &n, NULL, error))
    return FALSE;
  if (n != strlen (REQUEST) || memcmp (reply, REQUEST, n) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the server answered %zu bytes", n);
      return FALSE;
    }
  return TRUE;
}

static gboolean
run (void)
{
  /* first, so that it outlives the connection whose handlers use it */
  g_auto(Seen) seen = { 0 };
  g_autoptr(GError) error = NULL;
  guint16 port = (guint16) atoi (env_or ("MPTCP_TESTBED_PORT_ECHO", "5002"));
  /* The connection goes to the server's IPv6 address: an IPv6 connection can
   * carry IPv4 subflows too, while an IPv4 one refuses IPv6 subflows. */
  g_autoptr(GInetSocketAddress) server = address (env_or ("MPTCP_TESTBED_SERVER1_V6",
                                                          "2001:db8:1::2"), port);
  g_autoptr(GInetSocketAddress) local2 = address (env_or ("MPTCP_TESTBED_CLIENT2_V4",
                                                          "198.51.100.1"), 0);
  g_autoptr(GInetSocketAddress) remote2 = address (env_or ("MPTCP_TESTBED_SERVER2_V4",
                                                           "198.51.100.2"), port);
  g_autoptr(GInetSocketAddress) local6 = address (env_or ("MPTCP_TESTBED_CLIENT1_V6",
                                                          "2001:db8:1::1"), 0);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) stream = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(MptcpSubflow) second = NULL;
  g_autoptr(MptcpSubflow) third = NULL;
  g_autofree char *server_str = to_string (server);

  /* 1. connect over MPTCP (no fallback to TCP: this example is about MPTCP) */
  mptcp_client_set_allow_fallback (client, FALSE);
  g_print ("connecting to %s\n", server_str);
  stream = mptcp_client_connect (client, G_SOCKET_CONNECTABLE (server), NULL, &error);
  if (stream == NULL)
    return fail ("connect", error);
  connection = mptcp_connection_new_for_connection (stream, &error);
  if (connection == NULL)
    return fail ("MptcpConnection", error);
  if (mptcp_connection_get_fallback (connection))
    return fail ("the connection fell back to TCP", NULL);
  g_print ("connected, token %08x\n", mptcp_connection_get_token (connection));

  g_signal_connect (connection, "subflow-added", G_CALLBACK (on_subflow_added), &seen);
  g_signal_connect (connection, "subflow-removed", G_CALLBACK (on_subflow_removed), &seen);
  g_signal_connect (connection, "subflow-priority-changed", G_CALLBACK (on_priority_changed),
                    &seen);

  /* 2. a request: a client connection takes new subflows once it sent data */
  if (!request (stream, &error))
    return fail ("request", error);
  g_print ("request sent and echoed\n");

  /* 3. two more subflows: over the second path, and over IPv6 */
  g_print ("opening two more subflows\n");
  second = mptcp_connection_open_subflow (connection, local2, remote2, NULL, &error);
  if (second == NULL)
    return fail ("open a subflow on the second path", error);
  third = mptcp_connection_open_subflow (connection, local6, server, NULL, &error);
  if (third == NULL)
    return fail ("open an IPv6 subflow", error);
  if (!wait_for (&seen.added, 2))
    return fail ("no subflow-added signal for the new subflows", NULL);

  /* 4. the list, with addresses, backup state and RTT */
  if (!mptcp_connection_refresh (connection, &error))
    return fail ("refresh", error);
  g_print ("subflows:\n");
  list_subflows (connection);
  if (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)) != 3)
    return fail ("three subflows expected", NULL);

  /* 5. mark the second-path subflow backup, close the IPv6 one */
  g_print ("marking subflow %u backup\n", mptcp_subflow_get_id (second));
  if (!mptcp_subflow_set_backup (second, TRUE, NULL, &error))
    return fail ("set backup", error);
  if (!mptcp_subflow_get_backup (second))
    return fail ("the subflow is not backup", NULL);

  g_print ("closing subflow %u\n", mptcp_subflow_get_id (third));
  if (!mptcp_subflow_close (third, NULL, &error))
    return fail ("close", error);
  if (!wait_for (&seen.removed, 1) || seen.last_removed != third)
    return fail ("no subflow-removed signal for the closed subflow", NULL);

  if (!mptcp_connection_refresh (connection, &error))
    return fail ("refresh", error);
  g_print ("subflows:\n");
  list_subflows (connection);
  if (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)) != 2)
    return fail ("two subflows expected", NULL);

  /* 6. the connection goes on */
  if (!request (stream, &error))
    return fail ("request after the changes", error);
  g_print ("request sent and echoed again\n");

  if (!g_io_stream_close (G_IO_STREAM (stream), NULL, &error))
    return fail ("close the connection", error);
  return TRUE;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;

  if (!mptcp_socket_check_supported (&error))
    {
      g_printerr ("mptcp-example: MPTCP is not usable here: %s\n", error->message);
      return 1;
    }
  if (!run ())
    return 1;
  g_print ("done\n");
  return 0;
}
