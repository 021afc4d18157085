/* test-connection.c: MptcpConnection and MptcpSubflow against the real kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every check runs twice: as the test process (CAP_NET_ADMIN over its own
 * network namespace) and in a forked child that dropped CAP_NET_ADMIN,
 * because reading connections must need no privilege. The subflow-list
 * checks also run with MPTCP_GLIB_SUBFLOW_LIST=legacy, the path of kernels
 * before 6.5.
 */

#include <arpa/inet.h>

#include "testbed.h"
#include "read-common.h"
#include "mptcp-connection-private.h"

typedef struct
{
  gboolean legacy;
} Mode;

static const Mode mode_full_info = { FALSE };
static const Mode mode_legacy = { TRUE };

static void
apply_mode (const Mode *mode)
{
  if (mode->legacy)
    g_setenv (MPTCP_CONNECTION_SUBFLOW_LIST_ENV, "legacy", TRUE);
  else
    g_unsetenv (MPTCP_CONNECTION_SUBFLOW_LIST_ENV);
  _mptcp_connection_reload_environment ();   /* the library reads it once per process */
}

/* The list path in use: FULL_INFO unless asked for the legacy one, or on Linux < 6.5, which has
 * no MPTCP_FULL_INFO (the library then switches to the legacy path by itself) */
static void
assert_list_path (MptcpConnection *connection,
                  const Mode      *mode)
{
  gboolean legacy = mode->legacy || !read_kernel_at_least (6, 5);

  g_assert_cmpint (_mptcp_connection_get_list_path (connection), ==,
                   legacy ? MPTCP_SOCKOPT_PATH_LEGACY : MPTCP_SOCKOPT_PATH_FULL_INFO);
}

/* Records items-changed emissions as "pos,removed,added;" */
static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  GString *log = user_data;

  g_string_append_printf (log, "%u,%u,%u;", position, removed, added);
}

static MptcpSubflow *
subflow_at (MptcpConnection *connection,
            guint            i)
{
  GListModel *model = mptcp_connection_get_subflows (connection);
  g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (model, i);

  g_assert_nonnull (subflow);
  return subflow;   /* the model keeps its own reference */
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* The 4-tuples of the listed subflows, sorted, one per line. */
static char *
listed_tuples (MptcpConnection *connection)
{
  GListModel *model = mptcp_connection_get_subflows (connection);
  g_autoptr(GPtrArray) tuples = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (tuples, read_subflow_tuple (subflow_at (connection, i)));
  g_ptr_array_sort (tuples, compare_strings);
  g_ptr_array_add (tuples, NULL);
  return g_strjoinv ("\n", (char **) tuples->pdata);
}

/* ss prints "192.0.2.1:1234", "198.51.100.1%c2:1234", "[2001:db8:1::1]:1234" */
static char *
ss_endpoint (const char *s)
{
  const char *colon = strrchr (s, ':');
  const char *percent = strchr (s, '%');
  g_autofree char *host = NULL;

  g_assert_nonnull (colon);
  host = g_strndup (s, (percent != NULL && percent < colon ? percent : colon) - s);
  if (host[0] != '[' && strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]%s", host, colon);
  if (host[0] == '[' && host[strlen (host) - 1] != ']')
    return g_strdup_printf ("%s]%s", host, colon);
  return g_strdup_printf ("%s%s", host, colon);
}

/* The kernel's own view through sock_diag, as `ss -tni` prints it: the
 * established TCP subflows whose MPTCP info names the connection's token
 * ("token:<subflow token>(id:N)/<connection token>(id:M)"), as sorted
 * 4-tuples.
 *
 * Without CAP_NET_ADMIN, Linux before 6.18 (measured: 6.1 and 6.12) gives sock_diag no ULP
 * details at all, so nothing names the token: there, the established TCP sockets of the
 * client namespace (which has no other connection open) are the subflows. */
static char *
kernel_tuples (MptcpConnection *connection)
{
  const char *argv[] = { "ss", "-Htni", "state", "established", NULL };
  g_autofree char *needle = g_strdup_printf ("/%04x(", mptcp_connection_get_token (connection));
  g_autofree char *out = NULL;
  g_autofree char *tuple = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tuples = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = NULL;
  gboolean no_ulp_details;
  gsize i;

  g_assert_true (testbed_run_in_client (argv, &out, &error));
  g_assert_no_error (error);
  no_ulp_details = strstr (out, "tcp-ulp-") == NULL && !read_kernel_at_least (6, 18);
  if (no_ulp_details)
    g_test_message ("no ULP details in sock_diag (unprivileged, Linux < 6.18): "
                    "every established TCP socket of the namespace counts");

  lines = g_strsplit (out, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] != ' ' && lines[i][0] != '\t')
        {
          /* a socket line: "0 0 192.0.2.1:1234 192.0.2.2:5001" */
          g_auto(GStrv) fields = g_strsplit_set (lines[i], " \t", -1);
          const char *ends[2] = { NULL, NULL };
          guint n = 0;
          gsize j;

          g_clear_pointer (&tuple, g_free);
          for (j = 0; fields[j] != NULL && n < 2; j++)
            if (strchr (fields[j], ':') != NULL)
              ends[n++] = fields[j];
          if (n == 2)
            {
              g_autofree char *l = ss_endpoint (ends[0]);
              g_autofree char *r = ss_endpoint (ends[1]);

              tuple = g_strdup_printf ("%s -> %s", l, r);
              if (no_ulp_details)
                g_ptr_array_add (tuples, g_steal_pointer (&tuple));
            }
        }
      else if (tuple != NULL && strstr (lines[i], "tcp-ulp-mptcp") != NULL &&
               strstr (lines[i], needle) != NULL)
        g_ptr_array_add (tuples, g_steal_pointer (&tuple));
    }
  g_ptr_array_sort (tuples, compare_strings);
  g_ptr_array_add (tuples, NULL);
  return g_strjoinv ("\n", (char **) tuples->pdata);
}

/* ---- a fresh connection ------------------------------------------------------ */

static void
check_fresh (GSocketFamily family,
             const Mode   *mode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(MptcpSubflowStats) stats = NULL;
  g_autoptr(MptcpConnection) owner = NULL;
  g_autoptr(GListModel) prop_model = NULL;
  g_autofree char *listed = NULL;
  g_autofree char *kernel = NULL;
  MptcpSubflow *subflow;
  GListModel *model;
  guint32 token = 0;

  apply_mode (mode);
  socket = read_connect_mptcp (family, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);
  assert_list_path (connection, mode);

  g_assert_true (mptcp_connection_get_socket (connection) == socket);
  g_assert_false (mptcp_connection_get_fallback (connection));
  g_assert_cmpuint (mptcp_connection_get_token (connection), !=, 0);
  g_object_get (connection, "token", &token, "subflows", &prop_model, NULL);
  g_assert_cmpuint (token, ==, mptcp_connection_get_token (connection));

  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  remote = g_socket_get_remote_address (socket, &error);
  g_assert_no_error (error);
  read_assert_same_address (mptcp_connection_get_local_address (connection), local);
  read_assert_same_address (mptcp_connection_get_remote_address (connection), remote);

  /* exactly one subflow: the socket's own 4-tuple, id 1 */
  model = mptcp_connection_get_subflows (connection);
  g_assert_true (model == prop_model);
  g_assert_true (g_list_model_get_item_type (model) == MPTCP_TYPE_SUBFLOW);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_assert_null (g_list_model_get_item (model, 1));
  subflow = subflow_at (connection, 0);
  g_assert_cmpuint (mptcp_subflow_get_id (subflow), ==, 1);
  read_assert_same_address (mptcp_subflow_get_local_address (subflow), local);
  read_assert_same_address (mptcp_subflow_get_remote_address (subflow), remote);
  g_assert_false (mptcp_subflow_get_backup (subflow));
  owner = mptcp_subflow_dup_connection (subflow);
  g_assert_true (owner == connection);

  stats = mptcp_subflow_get_stats (subflow);
  g_assert_cmpint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
  g_assert_cmpuint (mptcp_subflow_stats_get_rtt (stats), >, 0);
  g_assert_cmpuint (mptcp_subflow_stats_get_snd_cwnd (stats), >, 0);
  g_assert_true (mptcp_subflow_stats_has_field (stats, MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED));
  g_assert_true (mptcp_subflow_stats_has_field (stats, MPTCP_SUBFLOW_STATS_FIELD_DELIVERY_RATE));
  g_test_expect_message ("Mptcp", G_LOG_LEVEL_CRITICAL, "*field*");
  g_assert_false (mptcp_subflow_stats_has_field (stats, (MptcpSubflowStatsField) 1000));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (mptcp_subflow_stats_get_size (stats), >=, 232);

  /* the kernel agrees (sock_diag, as `ss` shows it) */
  listed = listed_tuples (connection);
  kernel = kernel_tuples (connection);
  g_assert_cmpstr (listed, ==, kernel);

  /* a refresh with nothing new changes nothing */
  {
    g_autoptr(GString) log = g_string_new (NULL);
    gulong id = g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), log);

    g_assert_true (mptcp_connection_refresh (connection, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (log->str, ==, "");
    g_assert_true (subflow_at (connection, 0) == subflow);
    g_signal_handler_disconnect (model, id);
  }

  g_assert_true (g_socket_close (socket, &error));
  g_assert_no_error (error);
}

static void
check_fresh_ipv4 (gconstpointer data)
{
  check_fresh (G_SOCKET_FAMILY_IPV4, data);
}

static void
check_fresh_ipv6 (gconstpointer data)
{
  check_fresh (G_SOCKET_FAMILY_IPV6, data);
}

static void
test_fresh_ipv4 (gconstpointer data)
{
  check_fresh_ipv4 (data);
  read_run_unprivileged (check_fresh_ipv4, data);
}

static void
test_fresh_ipv6 (gconstpointer data)
{
  check_fresh_ipv6 (data);
  read_run_unprivileged (check_fresh_ipv6, data);
}

/* An IPv6 socket to an IPv4-mapped address: everything is reported as IPv4. */
static void
check_v4_mapped (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autofree char *local = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *tuple = NULL;
  g_autofree char *expected = NULL;

  apply_mode (data);
  socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV6, &error);
  g_assert_no_error (error);
  /* by hand: GIO turns IPv4-mapped addresses into IPv4 ones */
  {
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = g_htons (TESTBED_PORT_SINK) };

    g_assert_cmpint (inet_pton (AF_INET6, "::ffff:" TESTBED_SERVER1_V4, &sin6.sin6_addr), ==, 1);
    /* GIO keeps its file descriptors non-blocking */
    if (connect (g_socket_get_fd (socket), (struct sockaddr *) &sin6, sizeof sin6) != 0)
      {
        g_assert_cmpint (errno, ==, EINPROGRESS);
        g_assert_true (g_socket_condition_wait (socket, G_IO_OUT, NULL, &error));
        g_assert_no_error (error);
        g_assert_true (g_socket_check_connect_result (socket, &error));
        g_assert_no_error (error);
      }
  }

  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  remote = read_address_string (mptcp_connection_get_remote_address (connection));
  g_assert_cmpstr (remote, ==, TESTBED_SERVER1_V4 ":5001");
  local = read_address_string (mptcp_connection_get_local_address (connection));
  g_assert_true (g_str_has_prefix (local, TESTBED_CLIENT1_V4 ":"));

  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 1);
  tuple = read_subflow_tuple (subflow_at (connection, 0));
  expected = g_strdup_printf ("%s -> %s", local, remote);
  g_assert_cmpstr (tuple, ==, expected);
}

static void
test_v4_mapped (gconstpointer data)
{
  check_v4_mapped (data);
  read_run_unprivileged (check_v4_mapped, data);
}

/* ---- a second subflow ---------------------------------------------------------- */

static const char * const second_endpoint[] = { TESTBED_CLIENT2_V4, NULL };

static void
check_second_subflow (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(MptcpSubflow) first = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autofree char *listed = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *second_local = NULL;
  g_autofree char *second_remote = NULL;
  MptcpSubflow *second;
  GListModel *model;

  apply_mode (data);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  model = mptcp_connection_get_subflows (connection);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), log);

  /* Before any data the in-kernel PM opens nothing (the client side is only
   * fully established once it sent data). */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  first = g_list_model_get_item (model, 0);
  g_assert_cmpuint (mptcp_subflow_get_id (first), ==, 1);

  read_send_bytes (socket, 1000);
  g_assert_true (read_wait_for_subflows (connection, 2, 5000));
  g_assert_true (read_wait_for_established (connection, 5000));

  /* the first subflow kept its object; the new one was appended, once */
  g_assert_true (subflow_at (connection, 0) == first);
  g_assert_cmpstr (log->str, ==, "1,0,1;");
  second = subflow_at (connection, 1);
  g_assert_cmpuint (mptcp_subflow_get_id (second), ==, 2);

  /* right 4-tuples: the initial one is the socket's; the second goes from
   * the endpoint address to the same server address and port */
  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  remote = g_socket_get_remote_address (socket, &error);
  g_assert_no_error (error);
  read_assert_same_address (mptcp_subflow_get_local_address (first), local);
  read_assert_same_address (mptcp_subflow_get_remote_address (first), remote);
  second_local = read_address_string (mptcp_subflow_get_local_address (second));
  second_remote = read_address_string (mptcp_subflow_get_remote_address (second));
  g_assert_true (g_str_has_prefix (second_local, TESTBED_CLIENT2_V4 ":"));
  g_assert_cmpstr (second_local, !=, TESTBED_CLIENT2_V4 ":0");
  g_assert_cmpstr (second_remote, ==, TESTBED_SERVER1_V4 ":5001");

  /* the kernel agrees */
  listed = listed_tuples (connection);
  kernel = kernel_tuples (connection);
  g_assert_cmpstr (listed, ==, kernel);

  /* the connection-level counters see two subflows too */
  {
    g_autoptr(MptcpConnectionInfo) info = mptcp_connection_get_info (connection, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (mptcp_connection_info_get_n_subflows (info), ==, 1);
    g_assert_false (mptcp_connection_info_get_flags (info) & MPTCP_CONNECTION_INFO_FLAG_FALLBACK);
    g_assert_cmpuint (mptcp_connection_info_get_token (info), ==,
                      mptcp_connection_get_token (connection));
    if (mptcp_connection_info_has_field (info, MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_TOTAL))
      g_assert_cmpuint (mptcp_connection_info_get_subflows_total (info), ==, 2);
  }

  g_assert_true (g_socket_close (socket, &error));
  g_assert_no_error (error);

  /* a closed socket: refresh says so and the list empties (one signal) */
  g_string_truncate (log, 0);
  g_assert_false (mptcp_connection_refresh (connection, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_cmpstr (log->str, ==, "0,2,0;");
  g_clear_error (&error);
  g_assert_null (mptcp_connection_get_info (connection, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  g_signal_handlers_disconnect_by_func (model, on_items_changed, log);
}

static void
test_second_subflow (gconstpointer data)
{
  read_use_kernel_pm_endpoints (second_endpoint);
  check_second_subflow (data);
  read_run_unprivileged (check_second_subflow, data);
  read_restore_userspace_pm ();
}

/* A subflow that goes away is removed, with one signal, and the other keeps
 * its object. The in-kernel PM closes the subflows of a deleted endpoint. */
static void
test_subflow_removed (gconstpointer data)
{
  const char *del[] = { "ip", "mptcp", "endpoint", "delete", "id", "1", NULL };
  const char *show[] = { "ip", "mptcp", "endpoint", "show", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(MptcpSubflow) first = NULL;
  g_autofree char *out = NULL;
  GListModel *model;

  apply_mode (data);
  read_use_kernel_pm_endpoints (second_endpoint);
  g_assert_true (testbed_run_in_client (show, &out, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (out, "id 1 "));

  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  model = mptcp_connection_get_subflows (connection);
  read_send_bytes (socket, 1000);
  g_assert_true (read_wait_for_subflows (connection, 2, 5000));
  first = g_list_model_get_item (model, 0);

  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), log);
  read_run_client (del);
  g_assert_true (read_wait_for_subflows (connection, 1, 5000));
  g_assert_cmpstr (log->str, ==, "1,1,0;");
  g_assert_true (subflow_at (connection, 0) == first);
  g_signal_handlers_disconnect_by_func (model, on_items_changed, log);

  g_assert_true (g_socket_close (socket, &error));
  g_assert_no_error (error);
  read_restore_userspace_pm ();
}

/* ---- statistics ------------------------------------------------------------------ */

static void
check_stats_move (gconstpointer data)
{
  const gsize mib = 1024 * 1024;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(MptcpSubflowStats) before = NULL;
  g_autoptr(MptcpConnectionInfo) info_before = NULL;
  g_autoptr(MptcpConnectionInfo) info_after = NULL;
  MptcpSubflow *subflow;
  guint64 acked = 0;
  gint64 end;

  apply_mode (data);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  subflow = subflow_at (connection, 0);
  before = mptcp_subflow_get_stats (subflow);
  info_before = mptcp_connection_get_info (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mptcp_connection_info_get_size (info_before), >=, 48);

  read_send_bytes (socket, mib);

  /* the data is acknowledged shortly, on the subflow and at the MPTCP level */
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(MptcpSubflowStats) stats = NULL;

      g_assert_true (mptcp_connection_refresh (connection, &error));
      g_assert_no_error (error);
      g_assert_true (subflow_at (connection, 0) == subflow);
      stats = mptcp_subflow_get_stats (subflow);
      g_clear_pointer (&info_after, mptcp_connection_info_unref);
      info_after = mptcp_connection_get_info (connection, &error);
      g_assert_no_error (error);
      acked = mptcp_subflow_stats_get_bytes_acked (stats);
      if (acked >= mptcp_subflow_stats_get_bytes_acked (before) + mib &&
          mptcp_connection_info_get_snd_una (info_after) ==
          mptcp_connection_info_get_write_seq (info_after))
        {
          g_assert_cmpuint (mptcp_subflow_stats_get_bytes_sent (stats), >=, mib);
          g_assert_cmpuint (mptcp_subflow_stats_get_delivery_rate (stats), >, 0);
          g_assert_cmpuint (mptcp_subflow_stats_get_pacing_rate (stats), >, 0);
          g_assert_cmpint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
          break;
        }
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (10 * 1000);
    }

  /* MPTCP level: everything written was acknowledged */
  g_assert_cmpuint (mptcp_connection_info_get_write_seq (info_after), ==,
                    mptcp_connection_info_get_write_seq (info_before) + mib);
  if (mptcp_connection_info_has_field (info_after, MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED))
    g_assert_cmpuint (mptcp_connection_info_get_bytes_acked (info_after), >=,
                      mptcp_connection_info_get_bytes_acked (info_before) + mib);
}

static void
test_stats_move (gconstpointer data)
{
  check_stats_move (data);
  read_run_unprivileged (check_stats_move, data);
}

/* ---- fallback and wrong sockets -------------------------------------------------- */

static void
check_fallback (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(MptcpConnectionInfo) info = NULL;
  gboolean fallback = FALSE;

  apply_mode (data);
  /* an MPTCP socket to a plain TCP server: the kernel falls back */
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_TCP);
  g_assert_true (mptcp_socket_is_mptcp (socket));
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);
  g_assert_true (mptcp_connection_get_fallback (connection));
  g_object_get (connection, "fallback", &fallback, NULL);
  g_assert_true (fallback);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 0);
  g_assert_nonnull (mptcp_connection_get_remote_address (connection));

  info = mptcp_connection_get_info (connection, &error);
  g_assert_null (info);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK);
  g_clear_error (&error);
  g_assert_false (mptcp_connection_refresh (connection, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK);
}

static void
check_not_mptcp (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) tcp = NULL;
  g_autoptr(GSocket) udp = NULL;
  g_autoptr(GSocket) unconnected = NULL;
  MptcpConnection *connection;

  apply_mode (data);
  /* a TCP socket the application made */
  tcp = read_connect_tcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (tcp, &error);
  g_assert_null (connection);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP);
  g_clear_error (&error);

  /* not a stream socket */
  udp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  connection = mptcp_connection_new (udp, &error);
  g_assert_null (connection);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP);
  g_clear_error (&error);

  /* MPTCP, but not connected */
  unconnected = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);
  g_assert_no_error (error);
  connection = mptcp_connection_new (unconnected, &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&error);

  /* closed */
  g_assert_true (g_socket_close (tcp, &error));
  g_assert_no_error (error);
  connection = mptcp_connection_new (tcp, &error);
  g_assert_null (connection);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
}

static void
test_fallback (gconstpointer data)
{
  check_fallback (data);
  read_run_unprivileged (check_fallback, data);
}

static void
test_not_mptcp (gconstpointer data)
{
  check_not_mptcp (data);
  read_run_unprivileged (check_not_mptcp, data);
}

/* ---- lifetime -------------------------------------------------------------------- */

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_lifetime (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpSubflow) subflow = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  g_autoptr(MptcpConnection) from_stream = NULL;
  MptcpConnection *connection;
  MptcpConnection *owner;

  g_unsetenv (MPTCP_CONNECTION_SUBFLOW_LIST_ENV);
  _mptcp_connection_reload_environment ();
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_object_add_weak_pointer (G_OBJECT (connection), (gpointer *) &connection);
  subflow = g_list_model_get_item (mptcp_connection_get_subflows (connection), 0);

  /* the subflow does not keep its connection alive */
  owner = mptcp_subflow_dup_connection (subflow);
  g_assert_true (owner == connection);
  g_object_unref (owner);
  g_object_unref (connection);
  g_assert_null (connection);
  g_object_get (subflow, "connection", &owner, NULL);
  g_assert_null (owner);
  g_assert_null (mptcp_subflow_dup_connection (subflow));
  g_assert_cmpuint (mptcp_subflow_get_id (subflow), ==, 1);

  /* nothing to act through any more: a clear error, sync and async */
  g_assert_false (mptcp_subflow_close (subflow, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  g_clear_error (&error);
  g_assert_false (mptcp_subflow_set_backup (subflow, TRUE, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  g_clear_error (&error);
  {
    g_autoptr(GAsyncResult) result = NULL;

    mptcp_subflow_close_async (subflow, NULL, store_result_cb, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_assert_false (mptcp_subflow_close_finish (subflow, result, &error));
    g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
    g_clear_error (&error);
  }

  /* from a GSocketConnection: the stream is kept alive with it */
  stream = g_socket_connection_factory_create_connection (socket);
  from_stream = mptcp_connection_new_for_connection (stream, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_connection_get_socket (from_stream) == socket);
  g_clear_object (&stream);
  g_assert_false (g_socket_is_closed (socket));
  g_assert_true (mptcp_connection_refresh (from_stream, &error));
  g_assert_no_error (error);
  g_clear_object (&from_stream);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_data_func ("/connection/fresh/ipv4", &mode_full_info, test_fresh_ipv4);
  g_test_add_data_func ("/connection/fresh/ipv6", &mode_full_info, test_fresh_ipv6);
  g_test_add_data_func ("/connection/fresh/v4-mapped", &mode_full_info, test_v4_mapped);
  g_test_add_data_func ("/connection/second-subflow", &mode_full_info, test_second_subflow);
  g_test_add_data_func ("/connection/subflow-removed", &mode_full_info, test_subflow_removed);
  g_test_add_data_func ("/connection/stats-move", &mode_full_info, test_stats_move);
  g_test_add_data_func ("/connection/fallback", &mode_full_info, test_fallback);
  g_test_add_data_func ("/connection/not-mptcp", &mode_full_info, test_not_mptcp);
  g_test_add_data_func ("/connection/legacy/fresh/ipv4", &mode_legacy, test_fresh_ipv4);
  g_test_add_data_func ("/connection/legacy/fresh/ipv6", &mode_legacy, test_fresh_ipv6);
  g_test_add_data_func ("/connection/legacy/fresh/v4-mapped", &mode_legacy, test_v4_mapped);
  g_test_add_data_func ("/connection/legacy/second-subflow", &mode_legacy, test_second_subflow);
  g_test_add_data_func ("/connection/legacy/subflow-removed", &mode_legacy, test_subflow_removed);
  g_test_add_data_func ("/connection/legacy/stats-move", &mode_legacy, test_stats_move);
  g_test_add_data_func ("/connection/legacy/fallback", &mode_legacy, test_fallback);
  g_test_add_func ("/connection/lifetime", test_lifetime);

  return g_test_run ();
}
