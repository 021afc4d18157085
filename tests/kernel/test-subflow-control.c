/* test-subflow-control.c: opening, closing and steering subflows against the real kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client namespace of the testbed runs the userspace path manager; the
 * server runs the in-kernel one with limits 8. Covers issue 4: the original
 * library's scenario (open from path 2 and over IPv6, reject bad addresses,
 * list, close, backup read back through `ss -tiM`), the async variants with
 * a GMainLoop (and cancellation mid-flight), and every error.
 */

#include <arpa/inet.h>

#include "testbed.h"
#include "read-common.h"
#include "mptcp-connection-private.h"
#include "mptcp-netlink-private.h"

/* A silent remote: routed from the client over path 2 into the server
 * namespace, which drops it without an answer. */

static void
on_established (MptcpConnection *connection,
                GParamSpec      *pspec,
                gpointer         user_data)
{
  *(gboolean *) user_data = mptcp_connection_is_established (connection);
}

static gboolean
loop_timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until *flag or timeout_ms. */
static gboolean
wait_for_flag (gboolean *flag,
               guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, loop_timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

/* A client connection to the sink, established at the MPTCP level (data
 * sent and the kernel's ESTABLISHED event seen). */
static MptcpConnection *
connect_established (GSocketFamily family,
                     GSocket     **out_socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = read_connect_mptcp (family, 1, TESTBED_PORT_SINK);
  MptcpConnection *connection = mptcp_connection_new (socket, &error);
  gboolean established = FALSE;

  g_assert_no_error (error);
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_NETLINK);
  g_signal_connect (connection, "notify::established", G_CALLBACK (on_established), &established);
  read_send_bytes (socket, 1000);
  g_assert_true (wait_for_flag (&established, 5000));
  g_signal_handlers_disconnect_by_func (connection, on_established, &established);
  if (out_socket != NULL)
    *out_socket = g_steal_pointer (&socket);
  return connection;
}

/* The 4-tuples the kernel lists (a fresh MptcpConnection reads them) whose text holds
 * filter, in the kernel's order, each followed by ";". */
static char *
kernel_tuples (GSocket    *socket,
               const char *filter)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) fresh = mptcp_connection_new (socket, &error);
  GString *out = g_string_new ("");
  GListModel *model;
  guint i;

  g_assert_no_error (error);
  model = mptcp_connection_get_subflows (fresh);
  for (i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (model, i);
      g_autofree char *t = read_subflow_tuple (item);

      if (strstr (t, filter) != NULL)
        g_string_append_printf (out, "%s;", t);
    }
  return g_string_free (out, FALSE);
}

/* Whether the kernel lists a subflow with this 4-tuple. */
static gboolean
kernel_lists (GSocket    *socket,
              const char *tuple)
{
  g_autofree char *all = kernel_tuples (socket, tuple);
  g_autofree char *needle = g_strconcat (tuple, ";", NULL);

  return strstr (all, needle) != NULL;
}

/* The `ss -tiMn` flags ("b" = backup requested by us) of the subflow with
 * this local address:port, or NULL if ss does not show it. */
static char *
ss_subflow_flags (MptcpSubflow *subflow)
{
  const char *argv[] = { "ss", "-tinMH", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *local = read_address_string (mptcp_subflow_get_local_address (subflow));
  g_autofree char *remote = read_address_string (mptcp_subflow_get_remote_address (subflow));
  g_auto(GStrv) lines = NULL;
  guint i;

  g_assert_true (testbed_run_in_client (argv, &out, &error));
  g_assert_no_error (error);
  lines = g_strsplit (out, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      const char *flags;

      if (strstr (lines[i], local) == NULL || strstr (lines[i], remote) == NULL)
        continue;
      /* the details follow on the next line(s), indented */
      for (i++; lines[i] != NULL && g_ascii_isspace (lines[i][0]); i++)
        if ((flags = strstr (lines[i], "flags:")) != NULL)
          {
            const char *end = flags + strlen ("flags:");

            while (*end != '\0' && !g_ascii_isspace (*end))
              end++;
            return g_strndup (flags + strlen ("flags:"), end - flags - strlen ("flags:"));
          }
      return g_strdup ("");
    }
  g_test_message ("ss output:\n%s", out);
  return NULL;
}

/* ---- the original library's scenario, synchronous ---- */

static void
test_scenario (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV6, &socket);
  GListModel *model = mptcp_connection_get_subflows (connection);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(GInetSocketAddress) l6 = read_inet_address (TESTBED_CLIENT1_V6, 0);
  g_autoptr(GInetSocketAddress) r6 = read_inet_address (TESTBED_SERVER1_V6, TESTBED_PORT_SINK);
  g_autoptr(GInetSocketAddress) nowhere = read_inet_address ("0.0.0.0", TESTBED_PORT_SINK);
  g_autoptr(GInetSocketAddress) not_ours = read_inet_address ("203.0.113.77", 0);
  g_autoptr(MptcpSubflow) sf2 = NULL;
  g_autoptr(MptcpSubflow) sf6 = NULL;
  g_autoptr(MptcpSubflow) none = NULL;
  g_autofree char *t2 = NULL;
  g_autofree char *t6 = NULL;
  g_autofree char *flags = NULL;
  guint i;

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);

  /* path 2 (IPv4 subflow on an IPv6 connection) */
  sf2 = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (MPTCP_IS_SUBFLOW (sf2));
  g_assert_true (read_model_holds (connection, sf2));
  g_assert_cmpuint (mptcp_subflow_get_id (sf2), >, 1);
  g_assert_cmpuint (g_inet_socket_address_get_port (mptcp_subflow_get_local_address (sf2)), !=, 0);

  /* IPv6, a second subflow over path 1 */
  sf6 = mptcp_connection_open_subflow (connection, l6, r6, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (read_model_holds (connection, sf6));
  g_assert_cmpuint (mptcp_subflow_get_id (sf6), >, mptcp_subflow_get_id (sf2));
  g_assert_cmpint (g_socket_address_get_family (G_SOCKET_ADDRESS (mptcp_subflow_get_local_address (sf6))),
                   ==, G_SOCKET_FAMILY_IPV6);

  /* a remote that names no host, and an address this machine does not have */
  none = mptcp_connection_open_subflow (connection, l2, nowhere, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_assert_null (none);
  g_clear_error (&error);
  none = mptcp_connection_open_subflow (connection, not_ours, r2, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_assert_null (none);
  g_clear_error (&error);

  /* the list: every 4-tuple, and the kernel agrees */
  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  t2 = read_subflow_tuple (sf2);
  t6 = read_subflow_tuple (sf6);
  g_assert_true (g_str_has_prefix (t2, TESTBED_CLIENT2_V4 ":"));
  g_assert_true (g_str_has_suffix (t2, " -> " TESTBED_SERVER2_V4 ":5001"));
  g_assert_true (g_str_has_prefix (t6, "[" TESTBED_CLIENT1_V6 "]:"));
  g_assert_true (g_str_has_suffix (t6, " -> [" TESTBED_SERVER1_V6 "]:5001"));
  for (i = 0; i < 3; i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (model, i);
      g_autofree char *t = read_subflow_tuple (item);

      g_assert_true (kernel_lists (socket, t));
    }

  /* backup, read back through sock_diag */
  g_assert_false (mptcp_subflow_get_backup (sf2));
  g_assert_true (mptcp_subflow_set_backup (sf2, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_get_backup (sf2));
  flags = ss_subflow_flags (sf2);
  g_assert_nonnull (flags);
  g_assert_nonnull (strchr (flags, 'b'));
  g_clear_pointer (&flags, g_free);
  g_assert_true (mptcp_subflow_set_backup (sf2, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (mptcp_subflow_get_backup (sf2));
  flags = ss_subflow_flags (sf2);
  g_assert_nonnull (flags);
  g_assert_null (strchr (flags, 'b'));

  /* close two, they are gone */
  g_assert_true (mptcp_subflow_close (sf2, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (read_model_holds (connection, sf2));
  g_assert_true (mptcp_subflow_close (sf6, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (read_model_holds (connection, sf6));
  g_assert_false (kernel_lists (socket, t2));
  g_assert_false (kernel_lists (socket, t6));
  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);

  /* closing or steering an unknown subflow */
  g_assert_false (mptcp_subflow_close (sf2, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  g_clear_error (&error);
  g_assert_false (mptcp_subflow_set_backup (sf6, TRUE, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  g_clear_error (&error);

  /* the same address again keeps its id: reopen from path 2 */
  {
    g_autoptr(MptcpSubflow) again = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);

    g_assert_no_error (error);
    g_assert_true (mptcp_subflow_close (again, NULL, &error));
    g_assert_no_error (error);
  }
}

/* ---- announce / remove ---- */

static void
test_announce_remove (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GInetSocketAddress) a2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(GInetSocketAddress) v6 = read_inet_address (TESTBED_CLIENT1_V6, 0);
  g_autoptr(MptcpSubflow) sf = NULL;
  guint id, id2;

  /* the address of an opened subflow is announced with the same id */
  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  id = mptcp_connection_announce_address (connection, a2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id, >=, 1);
  id2 = mptcp_connection_announce_address (connection, a2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id2, ==, id);

  /* IPv6 on an IPv4 connection */
  g_assert_cmpuint (mptcp_connection_announce_address (connection, v6, NULL, &error), ==, 0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_clear_error (&error);

  /* remove it: the peer closes the subflow using it */
  g_assert_true (mptcp_connection_remove_address (connection, id, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (mptcp_connection_remove_address (connection, 200, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_clear_error (&error);
  g_assert_false (mptcp_connection_remove_address (connection, 256, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
}

/* ---- async, with a GMainLoop ---- */

typedef struct
{
  GMainLoop *loop;
  GObject *object;
  GError *error;
  gboolean done;
  guint uint_result;
} AsyncResult;

static void
open_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AsyncResult *r = user_data;

  r->object = G_OBJECT (mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source), result,
                                                              &r->error));
  if (r->error == NULL)   /* the task is named after its function */
    g_assert_cmpstr (g_task_get_name (G_TASK (result)), ==, "mptcp_connection_open_subflow_async");
  r->done = TRUE;
  g_main_loop_quit (r->loop);
}

static void
close_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  AsyncResult *r = user_data;

  r->uint_result = mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &r->error);
  if (r->error == NULL)   /* the task is named after its function */
    g_assert_cmpstr (g_task_get_name (G_TASK (result)), ==, "mptcp_subflow_close_async");
  r->done = TRUE;
  g_main_loop_quit (r->loop);
}

static void
backup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AsyncResult *r = user_data;

  r->uint_result = mptcp_subflow_set_backup_finish (MPTCP_SUBFLOW (source), result, &r->error);
  if (r->error == NULL)   /* the task is named after its function */
    g_assert_cmpstr (g_task_get_name (G_TASK (result)), ==, "mptcp_subflow_set_backup_async");
  r->done = TRUE;
  g_main_loop_quit (r->loop);
}

static void
announce_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncResult *r = user_data;

  r->uint_result = mptcp_connection_announce_address_finish (MPTCP_CONNECTION (source), result,
                                                             &r->error);
  if (r->error == NULL)   /* the task is named after its function */
    g_assert_cmpstr (g_task_get_name (G_TASK (result)), ==, "mptcp_connection_announce_address_async");
  r->done = TRUE;
  g_main_loop_quit (r->loop);
}

static void
remove_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AsyncResult *r = user_data;

  r->uint_result = mptcp_connection_remove_address_finish (MPTCP_CONNECTION (source), result,
                                                           &r->error);
  r->done = TRUE;
  g_main_loop_quit (r->loop);
}

static void
async_result_clear (AsyncResult *r)
{
  g_clear_object (&r->object);
  g_clear_error (&r->error);
  r->done = FALSE;
  r->uint_result = 0;
}

static void
run_until_done (AsyncResult *r)
{
  if (!r->done)
    read_run_loop (r->loop, 30000);
  g_assert_true (r->done);
}

static void
on_added (MptcpConnection *connection,
          MptcpSubflow    *subflow,
          gpointer         user_data)
{
  GString *log = user_data;
  g_autofree char *t = read_subflow_tuple (subflow);

  g_assert_true (read_model_holds (connection, subflow));
  g_string_append_printf (log, "+%s;", t);
}

static void
on_removed (MptcpConnection  *connection,
            MptcpSubflow     *subflow,
            const GError     *error,
            MptcpResetReason  reset_reason,
            gpointer          user_data)
{
  GString *log = user_data;
  g_autofree char *t = read_subflow_tuple (subflow);

  g_assert_false (read_model_holds (connection, subflow));
  g_string_append_printf (log, "-%s;", t);
}

static void
test_async (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(GString) log = g_string_new ("");
  g_autofree char *expected = NULL;
  AsyncResult r = { loop, NULL, NULL, FALSE, 0 };
  MptcpSubflow *sf;
  g_autofree char *t = NULL;

  g_signal_connect (connection, "subflow-added", G_CALLBACK (on_added), log);
  g_signal_connect (connection, "subflow-removed", G_CALLBACK (on_removed), log);

  mptcp_connection_open_subflow_async (connection, l2, r2, NULL, open_cb, &r);
  run_until_done (&r);
  g_assert_no_error (r.error);
  sf = MPTCP_SUBFLOW (r.object);
  g_assert_true (read_model_holds (connection, sf));
  t = read_subflow_tuple (sf);

  mptcp_subflow_set_backup_async (sf, TRUE, NULL, backup_cb, &r);
  r.done = FALSE;
  run_until_done (&r);
  g_assert_no_error (r.error);
  g_assert_true (r.uint_result);
  g_assert_true (mptcp_subflow_get_backup (sf));

  r.done = FALSE;
  mptcp_subflow_close_async (sf, NULL, close_cb, &r);
  run_until_done (&r);
  g_assert_no_error (r.error);
  g_assert_true (r.uint_result);
  g_assert_false (read_model_holds (connection, sf));

  expected = g_strdup_printf ("+%s;-%s;", t, t);
  g_assert_cmpstr (log->str, ==, expected);

  r.done = FALSE;
  mptcp_connection_announce_address_async (connection, l2, NULL, announce_cb, &r);
  run_until_done (&r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.uint_result, >=, 1);
  {
    guint id = r.uint_result;

    r.done = FALSE;
    mptcp_connection_remove_address_async (connection, id, NULL, remove_cb, &r);
    run_until_done (&r);
    g_assert_no_error (r.error);
    g_assert_true (r.uint_result);
  }

  /* a closed subflow, async */
  r.done = FALSE;
  mptcp_subflow_close_async (sf, NULL, close_cb, &r);
  run_until_done (&r);
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  async_result_clear (&r);

  g_signal_handlers_disconnect_by_data (connection, log);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static guint
count_subflows_to (GSocket    *socket,
                   const char *remote_ip)
{
  g_autofree char *t = kernel_tuples (socket, remote_ip);
  guint n = 0;

  for (const char *p = t; *p != '\0'; p++)
    n += *p == ';';
  return n;
}

/* How many local addresses the kernel's userspace PM holds for the connection. */
static guint
kernel_address_count (MptcpConnection *connection)
{
  g_autoptr(GError) error = NULL;
  MptcpNlRequest dump = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };
  MptcpNlReply *reply;
  guint n;

  dump.token = mptcp_connection_get_token (connection);
  dump.has_token = TRUE;
  reply = _mptcp_netlink_request_sync (&dump, 0, NULL, &error);
  g_assert_no_error (error);
  n = reply->addresses->len;
  _mptcp_nl_reply_free (reply);
  return n;
}

static void
test_cancel (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, &socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) silent = read_inet_address (TESTBED_SILENT_V4, TESTBED_PORT_SINK);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncResult r = { loop, NULL, NULL, FALSE, 0 };
  gint64 start;


  /* cancelled mid-flight: the SYN left, the subflow is closed again */
  mptcp_connection_open_subflow_async (connection, l2, silent, cancellable, open_cb, &r);
  g_timeout_add (100, cancel_cb, cancellable);
  start = g_get_monotonic_time ();
  run_until_done (&r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  async_result_clear (&r);
  g_usleep (50 * 1000);
  g_assert_cmpuint (count_subflows_to (socket, TESTBED_SILENT_V4), ==, 0);

  /* cancelled before it started */
  g_cancellable_reset (cancellable);
  g_cancellable_cancel (cancellable);
  mptcp_connection_open_subflow_async (connection, l2, silent, cancellable, open_cb, &r);
  run_until_done (&r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  async_result_clear (&r);

  /* sync, cancelled from a timeout of the private context is not possible:
   * cancel from before */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(MptcpSubflow) sf = mptcp_connection_open_subflow (connection, l2, silent,
                                                                cancellable, &error);

    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_null (sf);
  }
  g_usleep (50 * 1000);
  g_assert_cmpuint (count_subflows_to (socket, TESTBED_SILENT_V4), ==, 0);

  /* two opens between the same addresses, the second one cancelled: its cleanup closes its
   * own half-open subflow, not the first one's (which is not listed by the connection yet) */
  {
    AsyncResult rb = { loop, NULL, NULL, FALSE, 0 };
    g_autoptr(GCancellable) cancel_a = g_cancellable_new ();
    g_autofree char *b_tuple = NULL;
    g_autofree char *left = NULL;

    mptcp_connection_set_control_timeout (connection, 1500);
    mptcp_connection_open_subflow_async (connection, l2, silent, NULL, open_cb, &rb);
    g_assert_false (wait_for_flag (&rb.done, 100));
    b_tuple = kernel_tuples (socket, TESTBED_SILENT_V4);
    g_assert_cmpstr (b_tuple, !=, "");
    mptcp_connection_open_subflow_async (connection, l2, silent, cancel_a, open_cb, &r);
    g_assert_false (wait_for_flag (&r.done, 100));
    g_assert_cmpuint (count_subflows_to (socket, TESTBED_SILENT_V4), ==, 2);
    g_cancellable_cancel (cancel_a);
    run_until_done (&r);
    g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    async_result_clear (&r);
    wait_for_flag (&r.done, 100);
    left = kernel_tuples (socket, TESTBED_SILENT_V4);
    g_assert_cmpstr (left, ==, b_tuple);
    run_until_done (&rb);
    g_assert_error (rb.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    async_result_clear (&rb);
    mptcp_connection_set_control_timeout (connection, 10000);
  }

  /* an announce cancelled before it started sends nothing: the kernel has no address for the
   * connection afterwards (an ADD_ADDR that left could not be withdrawn: the caller never
   * learns its id) */
  {
    g_autoptr(GError) error = NULL;

    g_assert_cmpuint (mptcp_connection_announce_address (connection, l2, cancellable, &error), ==, 0);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    mptcp_connection_announce_address_async (connection, l2, cancellable, announce_cb, &r);
    run_until_done (&r);
    g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    async_result_clear (&r);
    g_assert_cmpuint (kernel_address_count (connection), ==, 0);
  }
}

/* The peer resets the connection while an open is pending: the kernel sends no CLOSED (the
 * socket is still open here), the hangup watch closes the connection, and the open fails with
 * MPTCP_ERROR_CLOSED at once rather than at its timeout. */
static void
test_peer_reset_in_flight (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) silent = read_inet_address (TESTBED_SILENT_V4, TESTBED_PORT_SINK);
  AsyncResult r = { loop, NULL, NULL, FALSE, 0 };
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (6011) };
  struct linger lg = { 1, 0 };
  gboolean established = FALSE;
  int one = 1, lfd, afd;
  char buf[100];
  gint64 start;

  lfd = testbed_socket_in_server (AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &error);
  g_assert_no_error (error);
  g_assert_cmpint (setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), ==, 0);
  g_assert_cmpint (bind (lfd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (lfd, 1), ==, 0);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, 6011);
  afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_signal_connect (connection, "notify::established", G_CALLBACK (on_established), &established);
  read_send_bytes (socket, 100);
  g_assert_cmpint (recv (afd, buf, sizeof buf, MSG_WAITALL), ==, 100);
  g_assert_true (wait_for_flag (&established, 5000));
  mptcp_connection_set_control_timeout (connection, 10000);

  mptcp_connection_open_subflow_async (connection, l2, silent, NULL, open_cb, &r);
  wait_for_flag (&r.done, 100);   /* the SYN leaves; nothing answers it */
  g_assert_false (r.done);
  g_assert_cmpint (setsockopt (afd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
  close (afd);
  start = g_get_monotonic_time ();
  run_until_done (&r);
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  async_result_clear (&r);
  close (lfd);
}

/* ---- address ids ---- */

/* The library's idea of the connection's address ids can be stale (here: another
 * MptcpConnection on the same socket took an id): the kernel refuses the clash, the library
 * reads the ids again and retries once. */
static void
test_id_clash_retry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) a = connect_established (G_SOCKET_FAMILY_IPV4, &socket);
  g_autoptr(MptcpConnection) b = mptcp_connection_new (socket, &error);
  g_autoptr(GInetSocketAddress) a1 = read_inet_address (TESTBED_CLIENT2_V4, 7000);
  g_autoptr(GInetSocketAddress) b1 = read_inet_address (TESTBED_CLIENT2_V4, 7001);
  g_autoptr(GInetSocketAddress) a2 = read_inet_address (TESTBED_CLIENT2_V4, 7002);
  guint id_a1, id_b1, id_a2;

  g_assert_no_error (error);
  id_a1 = mptcp_connection_announce_address (a, a1, NULL, &error);
  g_assert_no_error (error);
  id_b1 = mptcp_connection_announce_address (b, b1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id_b1, !=, id_a1);
  /* a still thinks id_b1 is free */
  id_a2 = mptcp_connection_announce_address (a, a2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id_a2, !=, id_a1);
  g_assert_cmpuint (id_a2, !=, id_b1);
  if (read_kernel_at_least (6, 9))
    g_assert_cmpuint (kernel_address_count (a), ==, 3);
  else
    /* before 6.9 GET_ADDR by token lists none of a connection's addresses (the retry could
     * not learn from it): the three distinct ids the kernel accepted are the check there */
    g_assert_cmpuint (kernel_address_count (a), ==, 0);
}

/* ---- synchronous calls and the contexts they run in ---- */

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
backup_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_subflow_set_backup_finish (MPTCP_SUBFLOW (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
on_added_start_async (MptcpConnection *connection,
                      MptcpSubflow    *subflow,
                      gboolean        *done)
{
  mptcp_subflow_set_backup_async (subflow, TRUE, NULL, backup_done_cb, done);
}

/* The synchronous variants share one private context and broker per thread (they held a pair
 * per connection for its life: two descriptors each), and an asynchronous call made from a
 * handler inside one completes in the connection's context. */
static void
test_sync_contexts (void)
{
  enum { N = 5 };
  GSocket *sockets[N];
  MptcpConnection *conns[N];
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf = NULL;
  gboolean done = FALSE;
  gulong id;
  guint before, after, i;

  for (i = 0; i < N; i++)
    conns[i] = connect_established (G_SOCKET_FAMILY_IPV4, &sockets[i]);
  before = count_fds ();
  for (i = 0; i < N; i++)
    {
      g_autoptr(MptcpSubflow) first = g_list_model_get_item (mptcp_connection_get_subflows (conns[i]), 0);

      g_assert_true (mptcp_subflow_set_backup (first, FALSE, NULL, &error));
      g_assert_no_error (error);
    }
  after = count_fds ();
  g_test_message ("descriptors: %u before %d synchronous calls, %u after", before, N, after);
  g_assert_cmpuint (after, <=, before + 3);

  id = g_signal_connect (conns[0], "subflow-added", G_CALLBACK (on_added_start_async), &done);
  sf = mptcp_connection_open_subflow (conns[0], l2, r2, NULL, &error);
  g_assert_no_error (error);
  g_signal_handler_disconnect (conns[0], id);
  g_assert_true (wait_for_flag (&done, 5000));
  g_assert_true (mptcp_subflow_get_backup (sf));

  for (i = 0; i < N; i++)
    {
      g_object_unref (conns[i]);
      g_object_unref (sockets[i]);
    }
}

/* ---- errors ---- */

static void
test_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, &socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) silent = read_inet_address (TESTBED_SILENT_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf = NULL;
  gint64 start, took;

  mptcp_connection_set_control_timeout (connection, 300);
  g_assert_cmpuint (mptcp_connection_get_control_timeout (connection), ==, 300);
  start = g_get_monotonic_time ();
  sf = mptcp_connection_open_subflow (connection, l2, silent, NULL, &error);
  took = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_null (sf);
  g_assert_cmpint (took, >=, 290 * 1000);
  g_assert_cmpint (took, <, 1500 * 1000);
  /* the half-open subflow was destroyed */
  g_usleep (50 * 1000);
  g_assert_cmpuint (count_subflows_to (socket, TESTBED_SILENT_V4), ==, 0);
}

static void
test_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) closed_port = read_inet_address (TESTBED_SERVER2_V4, 5999);
  g_autoptr(MptcpSubflow) sf = NULL;

  sf = mptcp_connection_open_subflow (connection, l2, closed_port, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (sf);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 1);
}

static void
on_closed (MptcpConnection *connection,
           GParamSpec      *pspec,
           gpointer         user_data)
{
  *(gboolean *) user_data = mptcp_connection_is_closed (connection);
}

static void
test_closed_in_flight (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, &socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) silent = read_inet_address (TESTBED_SILENT_V4, TESTBED_PORT_SINK);
  AsyncResult r = { loop, NULL, NULL, FALSE, 0 };
  gboolean closed = FALSE;
  g_autoptr(GError) error = NULL;

  g_signal_connect (connection, "notify::closed", G_CALLBACK (on_closed), &closed);
  mptcp_connection_open_subflow_async (connection, l2, silent, NULL, open_cb, &r);
  /* let the request leave, then close the socket */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_usleep (20 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (g_socket_close (socket, &error));
  g_assert_no_error (error);
  run_until_done (&r);
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  async_result_clear (&r);
  g_assert_true (wait_for_flag (&closed, 2000));
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 0);
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_NONE);

  /* everything fails cleanly afterwards */
  g_assert_cmpuint (mptcp_connection_announce_address (connection, l2, NULL, &error), ==, 0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
}

static void
test_not_established (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  g_autoptr(MptcpConnection) connection = mptcp_connection_new (socket, &error);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf = NULL;

  g_assert_no_error (error);
  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_ESTABLISHED);
  g_assert_null (sf);
}

/* ip, port as given: a v4-mapped IPv6 address stays one (g_inet_socket_address_new_from_string()
 * goes through a sockaddr, and GLib makes a v4-mapped one IPv4 on the way) */
static GInetSocketAddress *
inet_address_as_given (const char *ip,
                       guint16     port)
{
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string (ip);

  g_assert_nonnull (ia);
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (ia, port));
}

/* Addresses that name no host are refused before anything is sent, also v4-mapped (which
 * the library turns into the IPv4 address they carry), as local or remote of an open and
 * for an announce. */
static void
test_not_a_host (void)
{
  const char * const bad[] = { "0.0.0.0", "::ffff:0.0.0.0", "224.0.0.5", "::ffff:224.0.0.5",
                               "::", "ff02::1" };
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GInetSocketAddress) local = inet_address_as_given (bad[i], 0);
      g_autoptr(GInetSocketAddress) remote = inet_address_as_given (bad[i], TESTBED_PORT_SINK);
      MptcpSubflow *sf;

      g_test_message ("%s", bad[i]);
      g_assert_cmpint (g_inet_address_get_family (g_inet_socket_address_get_address (remote)), ==,
                       strchr (bad[i], ':') != NULL ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
      sf = mptcp_connection_open_subflow (connection, l2, remote, NULL, &error);
      g_assert_null (sf);
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
      g_assert_nonnull (strstr (error->message, "does not name a host"));
      g_clear_error (&error);
      sf = mptcp_connection_open_subflow (connection, local, r2, NULL, &error);
      g_assert_null (sf);
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
      g_assert_nonnull (strstr (error->message, "does not name a host"));
      g_clear_error (&error);
      g_assert_cmpuint (mptcp_connection_announce_address (connection, local, NULL, &error), ==, 0);
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
      g_assert_nonnull (strstr (error->message, "does not name a host"));
      g_clear_error (&error);
    }
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 1);

  /* a v4-mapped host address is the IPv4 one: usable on an IPv4 connection */
  {
    g_autofree char *mapped = g_strdup_printf ("::ffff:%s", TESTBED_SERVER2_V4);
    g_autoptr(GInetSocketAddress) r2_mapped = inet_address_as_given (mapped, TESTBED_PORT_SINK);
    g_autoptr(MptcpSubflow) sf = mptcp_connection_open_subflow (connection, l2, r2_mapped,
                                                                NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (sf);
    g_assert_cmpint (g_socket_address_get_family (G_SOCKET_ADDRESS (mptcp_subflow_get_remote_address (sf))),
                     ==, G_SOCKET_FAMILY_IPV4);
  }
}

static void
test_family_mismatch (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) l6 = read_inet_address (TESTBED_CLIENT1_V6, 0);
  g_autoptr(GInetSocketAddress) r6 = read_inet_address (TESTBED_SERVER1_V6, TESTBED_PORT_SINK);
  g_autoptr(GInetSocketAddress) r2_noport = read_inet_address (TESTBED_SERVER2_V4, 0);
  MptcpSubflow *sf;

  /* IPv6 on an IPv4 connection */
  sf = mptcp_connection_open_subflow (connection, l6, r6, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_assert_null (sf);
  g_clear_error (&error);
  /* local and remote of different families */
  sf = mptcp_connection_open_subflow (connection, l2, r6, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_assert_null (sf);
  g_clear_error (&error);
  /* no remote port */
  sf = mptcp_connection_open_subflow (connection, l2, r2_noport, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_assert_null (sf);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 1);
}

static void
test_fallback (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_TCP);
  g_autoptr(MptcpConnection) connection = mptcp_connection_new (socket, &error);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_TCP);
  g_autoptr(MptcpSubflow) sf = NULL;

  g_assert_no_error (error);
  g_assert_true (mptcp_connection_get_fallback (connection));
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_NONE);
  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK);
  g_assert_null (sf);
  g_clear_error (&error);
  g_assert_cmpuint (mptcp_connection_announce_address (connection, l2, NULL, &error), ==, 0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK);
}

/* A fallback the library has not seen yet (it checks its own flag before a request, not the
 * socket): the kernel refuses the request, and the error then names the fallback. The socket
 * under the GSocket is swapped for a plain TCP one with dup2() to get there, since the testbed
 * cannot make a live connection fall back; the MPTCP socket is kept open meanwhile, so the
 * connection's token stays valid and no CLOSED event intervenes. */
static void
test_fallback_later (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (G_SOCKET_FAMILY_IPV4, &socket);
  g_autoptr(GSocket) tcp = read_connect_tcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_TCP);
  int fd = g_socket_get_fd (socket);
  int keep = dup (fd);

  g_assert_cmpint (keep, >=, 0);
  g_assert_false (mptcp_connection_get_fallback (connection));
  g_assert_cmpint (dup2 (g_socket_get_fd (tcp), fd), ==, fd);

  /* id 200 was never announced: the kernel says no */
  g_assert_false (mptcp_connection_remove_address (connection, 200, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK);
  g_assert_true (mptcp_connection_get_fallback (connection));
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 0);
  close (keep);
}

static void
test_kernel_pm (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf = NULL;

  read_set_path_manager ("kernel");
  connection = connect_established (G_SOCKET_FAMILY_IPV4, &socket);
  read_set_path_manager ("userspace");

  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER);
  g_assert_nonnull (strstr (error->message, "net.mptcp.path_manager"));
  g_assert_null (sf);
  g_clear_error (&error);
  g_assert_cmpuint (mptcp_connection_announce_address (connection, l2, NULL, &error), ==, 0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER);
}

static void
check_unprivileged (gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf = NULL;
  GListModel *model;
  g_autoptr(MptcpSubflow) first = NULL;

  /* a fresh context: a broker of the parent is not ours */
  g_main_context_push_thread_default (context);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  read_send_bytes (socket, 1000);
  g_usleep (50 * 1000);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_POLLING);

  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_assert_null (sf);
  g_clear_error (&error);

  model = mptcp_connection_get_subflows (connection);
  first = g_list_model_get_item (model, 0);
  g_assert_false (mptcp_subflow_close (first, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_false (mptcp_subflow_set_backup (first, TRUE, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_cmpuint (mptcp_connection_announce_address (connection, l2, NULL, &error), ==, 0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);

  g_clear_object (&connection);
  g_main_context_pop_thread_default (context);
}

static void
test_unprivileged (void)
{
  read_run_unprivileged (check_unprivileged, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/subflow-control/scenario", test_scenario);
  g_test_add_func ("/subflow-control/announce-remove", test_announce_remove);
  g_test_add_func ("/subflow-control/async", test_async);
  g_test_add_func ("/subflow-control/cancel", test_cancel);
  g_test_add_func ("/subflow-control/id-clash-retry", test_id_clash_retry);
  g_test_add_func ("/subflow-control/sync-contexts", test_sync_contexts);
  g_test_add_func ("/subflow-control/peer-reset-in-flight", test_peer_reset_in_flight);
  g_test_add_func ("/subflow-control/error/timeout", test_timeout);
  g_test_add_func ("/subflow-control/error/refused", test_refused);
  g_test_add_func ("/subflow-control/error/closed-in-flight", test_closed_in_flight);
  g_test_add_func ("/subflow-control/error/not-established", test_not_established);
  g_test_add_func ("/subflow-control/error/not-a-host", test_not_a_host);
  g_test_add_func ("/subflow-control/error/family-mismatch", test_family_mismatch);
  g_test_add_func ("/subflow-control/error/fallback", test_fallback);
  g_test_add_func ("/subflow-control/error/fallback-later", test_fallback_later);
  g_test_add_func ("/subflow-control/error/kernel-pm", test_kernel_pm);
  g_test_add_func ("/subflow-control/error/unprivileged", test_unprivileged);

  return g_test_run ();
}
