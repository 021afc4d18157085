/* test-connection-events.c: the signals of MptcpConnection against the real kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Signals for changes made through the library and through a second netlink
 * broker, a dead path, a peer's reset, a peer's announcement, an event
 * overrun, and polling without CAP_NET_ADMIN.
 */

#include <stdlib.h>
#include <arpa/inet.h>
#include <linux/mptcp.h>

#include "testbed.h"
#include "read-common.h"
#include "request-common.h"
#include "mptcp-connection-private.h"
#include "mptcp-hangup-watch-private.h"
#include "mptcp-netlink-private.h"

static gboolean
timeout_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (gpointer data);

/* Iterates the thread-default context until pred(data) or timeout_ms. */
static gboolean
wait_until (Predicate pred,
            gpointer  data,
            guint     timeout_ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean timed_out = FALSE;
  GSource *timeout = g_timeout_source_new (timeout_ms);

  g_source_set_callback (timeout, timeout_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (!pred (data) && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return pred (data);
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* The signal log: "+tuple;", "-tuple/error;", "!id addr;", "x id;", "p<backup>;", "closed;" */
typedef struct
{
  MptcpConnection *connection;
  GString *log;
  GPtrArray *shadow;        /* the list as the signals tell it */
  gboolean closed;
  guint n_added, n_removed;
  GError *last_error;       /* of the last subflow-removed, NULL if none */
  guint announced_id;
  GInetSocketAddress *announced;
  guint removed_id;         /* G_MAXUINT until address-removed */
  MptcpSubflow *priority_subflow;
  gboolean priority_backup;
} Watch;

static void
on_added (MptcpConnection *connection,
          MptcpSubflow    *subflow,
          Watch           *w)
{
  g_autofree char *t = read_subflow_tuple (subflow);

  g_assert_true (read_model_holds (connection, subflow));
  g_assert_false (g_ptr_array_find (w->shadow, subflow, NULL));
  g_ptr_array_add (w->shadow, g_object_ref (subflow));
  g_string_append_printf (w->log, "+%s;", t);
  w->n_added++;
}

static void
on_removed (MptcpConnection  *connection,
            MptcpSubflow     *subflow,
            const GError     *error,
            MptcpResetReason  reset_reason,
            Watch            *w)
{
  g_autoptr(GEnumClass) reasons = g_type_class_ref (MPTCP_TYPE_RESET_REASON);
  g_autofree char *t = read_subflow_tuple (subflow);

  g_assert_false (read_model_holds (connection, subflow));
  g_assert_true (g_ptr_array_remove (w->shadow, subflow));
  g_assert_nonnull (g_enum_get_value (reasons, reset_reason));
  g_assert_true (error == NULL || error->domain == G_IO_ERROR);
  /* the error's code, 0 for none */
  g_string_append_printf (w->log, "-%s/%d;", t, error != NULL ? error->code : 0);
  w->n_removed++;
  g_clear_error (&w->last_error);
  if (error != NULL)
    w->last_error = g_error_copy (error);
}

static void
on_announced (MptcpConnection    *connection,
              guint               id,
              GInetSocketAddress *address,
              Watch              *w)
{
  g_autofree char *a = read_address_string (address);

  g_string_append_printf (w->log, "!%u %s;", id, a);
  w->announced_id = id;
  g_set_object (&w->announced, address);
}

static void
on_address_removed (MptcpConnection *connection,
                    guint            id,
                    Watch           *w)
{
  g_string_append_printf (w->log, "x %u;", id);
  w->removed_id = id;
}

static void
on_priority_changed (MptcpConnection *connection,
                     MptcpSubflow    *subflow,
                     gboolean         backup,
                     Watch           *w)
{
  g_assert_true (read_model_holds (connection, subflow));
  g_string_append_printf (w->log, "p%d;", backup);
  g_set_object (&w->priority_subflow, subflow);
  w->priority_backup = backup;
}

static void
on_closed (MptcpConnection *connection,
           GParamSpec      *pspec,
           Watch           *w)
{
  g_assert_true (mptcp_connection_is_closed (connection));
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 0);
  g_string_append (w->log, "closed;");
  w->closed = TRUE;
}

static void
watch_init (Watch           *w,
            MptcpConnection *connection)
{
  GListModel *model = mptcp_connection_get_subflows (connection);
  guint i;

  memset (w, 0, sizeof *w);
  w->connection = connection;
  w->log = g_string_new ("");
  w->shadow = g_ptr_array_new_with_free_func (g_object_unref);
  w->removed_id = G_MAXUINT;
  for (i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (w->shadow, g_list_model_get_item (model, i));
  g_signal_connect (connection, "subflow-added", G_CALLBACK (on_added), w);
  g_signal_connect (connection, "subflow-removed", G_CALLBACK (on_removed), w);
  g_signal_connect (connection, "address-announced", G_CALLBACK (on_announced), w);
  g_signal_connect (connection, "address-removed", G_CALLBACK (on_address_removed), w);
  g_signal_connect (connection, "subflow-priority-changed", G_CALLBACK (on_priority_changed), w);
  g_signal_connect (connection, "notify::closed", G_CALLBACK (on_closed), w);
}

static void
watch_clear (Watch *w)
{
  g_signal_handlers_disconnect_by_data (w->connection, w);
  g_string_free (w->log, TRUE);
  g_ptr_array_unref (w->shadow);
  g_clear_object (&w->announced);
  g_clear_object (&w->priority_subflow);
  g_clear_error (&w->last_error);
}

/* The signals' view equals the list, which equals the kernel's. */
static void
assert_in_sync (Watch   *w,
                GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) fresh = mptcp_connection_new (socket, &error);
  GListModel *model = mptcp_connection_get_subflows (w->connection);
  GListModel *kernel;
  guint i;

  g_assert_no_error (error);
  kernel = mptcp_connection_get_subflows (fresh);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, w->shadow->len);
  g_assert_cmpuint (g_list_model_get_n_items (kernel), ==, w->shadow->len);
  for (i = 0; i < w->shadow->len; i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (kernel, i);
      g_autofree char *t = read_subflow_tuple (item);
      gboolean found = FALSE;
      guint k;

      for (k = 0; k < w->shadow->len && !found; k++)
        {
          g_autofree char *s = read_subflow_tuple (g_ptr_array_index (w->shadow, k));

          found = g_strcmp0 (s, t) == 0;
        }
      g_assert_true (found);
    }
}

static void
on_established (MptcpConnection *connection,
                GParamSpec      *pspec,
                gpointer         user_data)
{
  *(gboolean *) user_data = mptcp_connection_is_established (connection);
}

static MptcpConnection *
connect_established (GSocket **out_socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  MptcpConnection *connection = mptcp_connection_new (socket, &error);
  gboolean established = FALSE;

  g_assert_no_error (error);
  g_signal_connect (connection, "notify::established", G_CALLBACK (on_established), &established);
  read_send_bytes (socket, 1000);
  g_assert_true (wait_until (flag_set, &established, 5000));
  g_signal_handlers_disconnect_by_func (connection, on_established, &established);
  *out_socket = g_steal_pointer (&socket);
  return connection;
}

/* The same request made by another process: this binary, re-executed with
 * --raw-request, so the request comes from a netlink socket the connection's
 * process does not own. */
static const char *self_path;

static int
raw_request_main (char **argv)
{
  g_autoptr(GError) error = NULL;
  MptcpNlReply *reply;

  reply = request_subflow_v4 ((guint8) atoi (argv[2]), (guint32) strtoul (argv[3], NULL, 10),
                              TESTBED_CLIENT2_V4, (guint16) atoi (argv[4]),
                              (guint8) atoi (argv[5]), TESTBED_SERVER2_V4, TESTBED_PORT_SINK,
                              &error);
  if (reply == NULL)
    {
      g_printerr ("raw request: %s\n", error->message);
      return 1;
    }
  _mptcp_nl_reply_free (reply);
  return 0;
}

static void
raw_request_in_other_process (guint8  cmd,
                              guint32 token,
                              guint16 local_port,
                              guint8  local_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd_s = g_strdup_printf ("%u", cmd);
  g_autofree char *token_s = g_strdup_printf ("%u", token);
  g_autofree char *port_s = g_strdup_printf ("%u", local_port);
  g_autofree char *id_s = g_strdup_printf ("%u", local_id);
  const char *argv[] = { self_path, "--raw-request", cmd_s, token_s, port_s, id_s, NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
}

static gboolean
added_at_least (gpointer data)
{
  Watch *w = data;

  return w->n_added >= 1;
}

static gboolean
removed_at_least (gpointer data)
{
  Watch *w = data;

  return w->n_removed >= 1;
}

/* ---- the library and another process both produce the signals ---- */

static void
test_library_and_raw (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (&socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) sf = NULL;
  g_autofree char *t = NULL;
  g_autofree char *expected = NULL;
  Watch w;
  guint32 token = mptcp_connection_get_token (connection);

  watch_init (&w, connection);

  /* through the library */
  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_close (sf, NULL, &error));
  g_assert_no_error (error);
  /* stale events of the sync calls arrive on the connection's broker too:
   * they must change nothing */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_usleep (20 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  t = read_subflow_tuple (sf);
  expected = g_strdup_printf ("+%s;-%s/0;", t, t);
  g_assert_cmpstr (w.log->str, ==, expected);
  g_string_truncate (w.log, 0);
  g_clear_pointer (&expected, g_free);
  g_clear_pointer (&t, g_free);

  /* by another process, port chosen by us */
  raw_request_in_other_process (MPTCP_PM_CMD_SUBFLOW_CREATE, token, 41001, 77);
  w.n_added = 0;
  g_assert_true (wait_until (added_at_least, &w, 5000));
  t = g_strdup_printf ("%s:41001 -> %s:%u", TESTBED_CLIENT2_V4, TESTBED_SERVER2_V4,
                       TESTBED_PORT_SINK);
  expected = g_strdup_printf ("+%s;", t);
  g_assert_cmpstr (w.log->str, ==, expected);
  g_clear_pointer (&expected, g_free);

  raw_request_in_other_process (MPTCP_PM_CMD_SUBFLOW_DESTROY, token, 41001, 0);
  w.n_removed = 0;
  g_assert_true (wait_until (removed_at_least, &w, 5000));
  expected = g_strdup_printf ("+%s;-%s/0;", t, t);
  g_assert_cmpstr (w.log->str, ==, expected);
  assert_in_sync (&w, socket);

  watch_clear (&w);
}

/* ---- path 2 dies under a live subflow ---- */

static void
test_link_down (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (&socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) sf = NULL;
  g_autoptr(MptcpSubflow) first = g_list_model_get_item (mptcp_connection_get_subflows (connection), 0);
  const char *down[] = { "ip", "link", "set", TESTBED_SERVER2_IFNAME, "down", NULL };
  const char *up[] = { "ip", "link", "set", TESTBED_SERVER2_IFNAME, "up", NULL };
  g_autofree char *old_retries = testbed_read_sysctl ("net.ipv4.tcp_retries2");
  Watch w;

  watch_init (&w, connection);
  sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  /* steer the data onto path 2, make TCP give up fast there */
  g_assert_true (mptcp_subflow_set_backup (first, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (testbed_write_sysctl ("net.ipv4.tcp_retries2", "2", &error));
  g_assert_no_error (error);
  g_assert_true (testbed_run_in_server (down, NULL, &error));
  g_assert_no_error (error);

  w.n_removed = 0;
  g_socket_set_blocking (socket, FALSE);
  {
    gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    static char chunk[4096];

    while (w.n_removed == 0 && g_get_monotonic_time () < end)
      {
        g_socket_send (socket, chunk, sizeof chunk, NULL, NULL);
        g_main_context_iteration (NULL, FALSE);
        g_usleep (5 * 1000);
      }
  }
  g_assert_true (testbed_run_in_server (up, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (testbed_write_sysctl ("net.ipv4.tcp_retries2", old_retries, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (w.n_removed, ==, 1);
  g_assert_false (read_model_holds (connection, sf));
  g_assert_nonnull (w.last_error);
  g_test_message ("subflow-removed error: %s", w.last_error->message);
  watch_clear (&w);
}

/* ---- a server of our own in the server namespace ---- */

static int
server_listen (guint16 port)
{
  g_autoptr(GError) error = NULL;
  struct sockaddr_in sin = { 0 };
  int one = 1;
  int fd = testbed_socket_in_server (AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &error);

  g_assert_no_error (error);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), ==, 0);
  sin.sin_family = AF_INET;
  sin.sin_port = htons (port);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (fd, 4), ==, 0);
  return fd;
}

static GSocket *
client_connect (guint16 port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) server = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, port);
  GSocket *socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, server, NULL, &error));
  g_assert_no_error (error);
  return socket;
}

static gboolean
closed_flag (gpointer data)
{
  return ((Watch *) data)->closed;
}

static gboolean
hangup_armed (gpointer data)
{
  return _mptcp_connection_get_hangup_mode (data) != MPTCP_HANGUP_PENDING;
}

/* data: NULL (epoll), "polled" (the hangup watch polls the socket itself, its fallback when
 * epoll fails), "early" (epoll; the peer resets the connection before the watch is
 * registered, about 1 ms after the construction: the hangup is reported all the same) */
static void
test_peer_reset (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  int lfd = server_listen (6001);
  g_autoptr(GSocket) socket = client_connect (6001);
  g_autoptr(MptcpConnection) connection = NULL;
  int afd = accept (lfd, NULL, NULL);
  struct linger lg = { 1, 0 };
  char buf[100];
  Watch w;

  gboolean early = g_strcmp0 (data, "early") == 0;

  _mptcp_connection_set_hangup_epoll (g_strcmp0 (data, "polled") != 0);
  g_assert_cmpint (afd, >=, 0);
  read_send_bytes (socket, 100);
  g_assert_cmpint (recv (afd, buf, sizeof buf, MSG_WAITALL), ==, 100);
  g_assert_cmpint (setsockopt (afd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  /* registered shortly after, not in the construction */
  g_assert_cmpuint (_mptcp_connection_get_hangup_mode (connection), ==, MPTCP_HANGUP_PENDING);
  watch_init (&w, connection);
  if (early)
    close (afd);
  else
    {
      g_assert_true (wait_until (hangup_armed, connection, 5000));
      g_assert_cmpuint (_mptcp_connection_get_hangup_mode (connection), ==,
                        data == NULL ? MPTCP_HANGUP_EPOLL : MPTCP_HANGUP_POLLED);
      close (afd);
    }
  wait_until (closed_flag, &w, 5000);
  g_test_message ("log: %s cond %x", w.log->str,
                  g_socket_condition_check (socket, G_IO_HUP | G_IO_ERR | G_IO_IN));
  g_assert_true (w.closed);
  g_assert_true (g_str_has_suffix (w.log->str, "closed;"));
  g_assert_cmpuint (w.n_removed, ==, 1);
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_NONE);
  close (lfd);
  watch_clear (&w);
  _mptcp_connection_set_hangup_epoll (TRUE);
}

/* ---- many connections, one poll ---- */

/* How many fds GLib polls for the thread-default context in one iteration. */
static guint
context_poll_fds (void)
{
  GMainContext *context = g_main_context_get_thread_default ();
  GPollFD fds[512];
  gint max_priority, timeout, n;

  if (context == NULL)
    context = g_main_context_default ();
  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &max_priority);
  n = g_main_context_query (context, max_priority, &timeout, fds, G_N_ELEMENTS (fds));
  g_assert_cmpint (n, <=, (gint) G_N_ELEMENTS (fds));
  if (g_main_context_check (context, max_priority, fds, n))
    g_main_context_dispatch (context);
  g_main_context_release (context);
  return (guint) n;
}

/* Every listening connection of a context is watched for a hangup, through one
 * epoll instance: the fds GLib polls do not grow with the number of
 * connections (with one fd per connection an idle iteration took 163 us with
 * 1000 of them). With the fallback that polls each socket, they do: the
 * count is the right measure. */
static void
test_many_connections_one_poll (gconstpointer data)
{
  enum { N = 40 };
  int lfd = server_listen (data == NULL ? 6003 : 6004);
  GSocket *sockets[N];
  MptcpConnection *conns[N];
  int accepted[N];
  guint with_one = 0, with_all;

  _mptcp_connection_set_hangup_epoll (data == NULL);
  for (guint i = 0; i < N; i++)
    {
      g_autoptr(GError) error = NULL;

      sockets[i] = client_connect (data == NULL ? 6003 : 6004);
      accepted[i] = accept (lfd, NULL, NULL);
      g_assert_cmpint (accepted[i], >=, 0);
      conns[i] = mptcp_connection_new (sockets[i], &error);
      g_assert_no_error (error);
      g_assert_cmpint (mptcp_connection_get_event_source (conns[i]), ==,
                       MPTCP_EVENT_SOURCE_NETLINK);
      /* the watch is registered about 1 ms after the construction */
      g_assert_true (wait_until (hangup_armed, conns[i], 5000));
      if (i == 0)
        with_one = context_poll_fds ();
    }
  with_all = context_poll_fds ();
  g_test_message ("fds polled: %u with one connection, %u with %d", with_one, with_all, N);
  if (data == NULL)
    g_assert_cmpuint (with_all, ==, with_one);
  else
    g_assert_cmpuint (with_all, ==, with_one + N - 1);

  for (guint i = 0; i < N; i++)
    {
      g_object_unref (conns[i]);
      g_object_unref (sockets[i]);
      close (accepted[i]);
    }
  close (lfd);
  _mptcp_connection_set_hangup_epoll (TRUE);
}

/* ---- the server announces an address ---- */

static gboolean
announced (gpointer data)
{
  return ((Watch *) data)->announced != NULL;
}

static gboolean
address_removed (gpointer data)
{
  return ((Watch *) data)->removed_id != G_MAXUINT;
}

static gboolean
priority_changed (gpointer data)
{
  return ((Watch *) data)->priority_subflow != NULL;
}

static void
test_peer_announce (void)
{
  /* pm_type: on every kernel (path_manager only from Linux 6.15) */
  const char *userspace[] = { "sysctl", "-q", "-w", "net.mptcp.pm_type=1", NULL };
  const char *kernel[] = { "sysctl", "-q", "-w", "net.mptcp.pm_type=0", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GSocket) server_socket = NULL;
  g_autoptr(MptcpConnection) server_connection = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpNetlink) broker = NULL;
  g_autoptr(MptcpNetlink) server_broker = NULL;
  MptcpNlRequest request = { 0 };
  int lfd, afd, nlfd;
  char buf[100];
  Watch w;
  g_autofree char *a = NULL;

  g_assert_true (testbed_run_in_server (userspace, NULL, &error));
  g_assert_no_error (error);
  lfd = server_listen (6002);
  socket = client_connect (6002);
  afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  g_assert_true (testbed_run_in_server (kernel, NULL, &error));
  g_assert_no_error (error);

  read_send_bytes (socket, 100);
  g_assert_cmpint (recv (afd, buf, sizeof buf, MSG_WAITALL), ==, 100);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  watch_init (&w, connection);

  /* the server's token, and a broker on a netlink socket of its namespace */
  server_socket = g_socket_new_from_fd (afd, &error);
  g_assert_no_error (error);
  server_connection = mptcp_connection_new (server_socket, &error);
  g_assert_no_error (error);
  broker = _mptcp_netlink_get_for_context (NULL, &error);
  g_assert_no_error (error);
  nlfd = testbed_socket_in_server (AF_NETLINK, SOCK_RAW, NETLINK_GENERIC, &error);
  g_assert_no_error (error);
  {
    struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
    int one = 1;

    g_assert_cmpint (bind (nlfd, (struct sockaddr *) &snl, sizeof snl), ==, 0);
    setsockopt (nlfd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  }
  server_broker = _mptcp_netlink_new_for_fds (nlfd, -1, _mptcp_netlink_get_family_id (broker),
                                              _mptcp_netlink_get_event_group (broker),
                                              g_main_context_get_thread_default ());
  request.cmd = MPTCP_PM_CMD_ANNOUNCE;
  request.token = mptcp_connection_get_token (server_connection);
  request.has_token = TRUE;
  request.has_addr = TRUE;
  request.addr.family = AF_INET;
  g_assert_cmpint (inet_pton (AF_INET, TESTBED_SERVER2_V4, &request.addr.addr.v4), ==, 1);
  request.addr.id = 9;
  request.addr.has_id = TRUE;
  request.addr.port = 6002;
  request.addr.flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
  request.addr.has_flags = TRUE;
  /* no callback: the ack is not needed, the client's signal is the proof */
  _mptcp_netlink_request_async (server_broker, &request, 0, NULL, NULL, NULL);
  g_assert_true (wait_until (announced, &w, 5000));
  g_assert_cmpuint (w.announced_id, ==, 9);
  a = read_address_string (w.announced);
  g_assert_cmpstr (a, ==, TESTBED_SERVER2_V4 ":6002");

  /* the server withdraws it: address-removed */
  memset (&request, 0, sizeof request);
  request.cmd = MPTCP_PM_CMD_REMOVE;
  request.token = mptcp_connection_get_token (server_connection);
  request.has_token = TRUE;
  request.loc_id = 9;
  request.has_loc_id = TRUE;
  _mptcp_netlink_request_async (server_broker, &request, 0, NULL, NULL, NULL);
  g_assert_true (wait_until (address_removed, &w, 5000));
  g_assert_cmpuint (w.removed_id, ==, 9);

  /* the server marks its subflow backup (MP_PRIO): subflow-priority-changed on the client */
  {
    struct sockaddr_in local, remote;
    socklen_t len = sizeof local;
    g_autoptr(MptcpSubflow) first = g_list_model_get_item (mptcp_connection_get_subflows (connection), 0);

    g_assert_cmpint (getsockname (g_socket_get_fd (server_socket), (struct sockaddr *) &local, &len), ==, 0);
    len = sizeof remote;
    g_assert_cmpint (getpeername (g_socket_get_fd (server_socket), (struct sockaddr *) &remote, &len), ==, 0);
    memset (&request, 0, sizeof request);
    request.cmd = MPTCP_PM_CMD_SET_FLAGS;
    request.token = mptcp_connection_get_token (server_connection);
    request.has_token = TRUE;
    request.has_addr = TRUE;
    request.addr.family = AF_INET;
    request.addr.addr.v4 = local.sin_addr;
    request.addr.port = ntohs (local.sin_port);
    request.addr.flags = MPTCP_PM_ADDR_FLAG_BACKUP;
    request.addr.has_flags = TRUE;
    request.has_remote = TRUE;
    request.remote.family = AF_INET;
    request.remote.addr.v4 = remote.sin_addr;
    request.remote.port = ntohs (remote.sin_port);
    _mptcp_netlink_request_async (server_broker, &request, 0, NULL, NULL, NULL);
    g_assert_true (wait_until (priority_changed, &w, 5000));
    g_assert_true (w.priority_subflow == first);
    g_assert_true (w.priority_backup);
  }

  watch_clear (&w);
  g_clear_object (&server_connection);
  g_clear_pointer (&server_broker, _mptcp_netlink_unref);
  close (lfd);
}

/* ---- overrun: events lost, the list still ends right ---- */

/* The kernel holds four subflows and the signals told four with the same tuples. */
static gboolean
overrun_settled (Watch   *w,
                 GSocket *socket)
{
  g_autoptr(MptcpConnection) fresh = mptcp_connection_new (socket, NULL);
  GListModel *kernel;
  guint i, k;

  if (fresh == NULL || w->shadow->len != 4)
    return FALSE;
  kernel = mptcp_connection_get_subflows (fresh);
  if (g_list_model_get_n_items (kernel) != 4)
    return FALSE;
  for (i = 0; i < 4; i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (kernel, i);
      g_autofree char *t = read_subflow_tuple (item);
      gboolean found = FALSE;

      for (k = 0; k < w->shadow->len && !found; k++)
        {
          g_autofree char *s = read_subflow_tuple (g_ptr_array_index (w->shadow, k));

          found = g_strcmp0 (s, t) == 0;
        }
      if (!found)
        return FALSE;
    }
  return TRUE;
}

static void
test_overrun (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (&socket);
  g_autoptr(GError) error = NULL;
  guint32 token = mptcp_connection_get_token (connection);
  guint i;
  Watch w;

  watch_init (&w, connection);
  _mptcp_netlink_set_event_rcvbuf (_mptcp_connection_get_netlink (connection), 1024);

  /* a burst of churn the connection cannot read in time; 3 subflows stay */
  for (i = 0; i < 40; i++)
    {
      g_autoptr(MptcpNlReply) reply = NULL;

      reply = request_subflow_v4 (MPTCP_PM_CMD_SUBFLOW_CREATE, token, TESTBED_CLIENT2_V4,
                                  42000 + i, 100 + i, TESTBED_SERVER2_V4, TESTBED_PORT_SINK,
                                  &error);
      g_assert_no_error (error);
      g_clear_pointer (&reply, _mptcp_nl_reply_free);
      if (i < 37)
        {
          /* wait for the handshake, then destroy it */
          g_usleep (2000);
          reply = request_subflow_v4 (MPTCP_PM_CMD_SUBFLOW_DESTROY, token, TESTBED_CLIENT2_V4,
                                      42000 + i, 0, TESTBED_SERVER2_V4, TESTBED_PORT_SINK,
                                      &error);
          g_clear_error (&error);
        }
    }
  /* the last three handshakes and the library's recovery from the lost events take their
   * time on a loaded machine: wait (up to 10 s) until the kernel holds the four subflows and
   * the signals told the same four, then compare exactly */
  {
    gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (g_get_monotonic_time () < end && !overrun_settled (&w, socket))
      {
        while (g_main_context_iteration (NULL, FALSE))
          ;
        g_usleep (10 * 1000);
      }
  }
  g_test_message ("added %u removed %u", w.n_added, w.n_removed);
  assert_in_sync (&w, socket);
  g_assert_cmpuint (w.shadow->len, ==, 4);
  _mptcp_netlink_set_event_rcvbuf (_mptcp_connection_get_netlink (connection), 0);
  watch_clear (&w);
}

/* ---- polling without CAP_NET_ADMIN ---- */

static int to_child[2], to_parent[2];

static void
check_polling (gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GSocket *socket = (GSocket *) data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  char c;
  Watch w;

  g_main_context_push_thread_default (context);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_POLLING);
  mptcp_connection_set_poll_interval (connection, 20);
  g_assert_cmpuint (mptcp_connection_get_poll_interval (connection), ==, 20);
  watch_init (&w, connection);

  g_assert_cmpint (write (to_parent[1], "r", 1), ==, 1);   /* ready: open one */
  g_assert_true (wait_until (added_at_least, &w, 5000));
  g_assert_cmpint (write (to_parent[1], "a", 1), ==, 1);   /* seen: close it */
  g_assert_cmpint (read (to_child[0], &c, 1), ==, 1);
  g_assert_true (wait_until (removed_at_least, &w, 5000));
  g_assert_cmpuint (w.shadow->len, ==, 1);

  /* the next poll finds the socket closed: the last subflow goes, then "closed" */
  g_assert_true (g_socket_close (socket, &error));
  g_assert_true (wait_until (closed_flag, &w, 5000));
  g_assert_true (g_str_has_suffix (w.log->str, "closed;"));
  g_assert_cmpuint (w.shadow->len, ==, 0);
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_NONE);
  watch_clear (&w);
  g_clear_object (&connection);
  g_main_context_pop_thread_default (context);
}

static void
test_polling (void)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = NULL;
  guint32 token;
  pid_t pid;
  int status = 0;
  char c;

  read_send_bytes (socket, 1000);
  g_usleep (50 * 1000);
  {
    g_autoptr(MptcpConnection) probe = mptcp_connection_new (socket, &error);

    g_assert_no_error (error);
    token = mptcp_connection_get_token (probe);
  }
  g_assert_cmpint (pipe (to_child), ==, 0);
  g_assert_cmpint (pipe (to_parent), ==, 0);

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      if (!testbed_drop_net_admin (&error))
        _exit (2);
      check_polling (socket);
      /* the parent's objects, copied by fork(): valgrind counts them in the child */
      g_clear_object (&socket);
      _exit (0);
    }
  /* the unused ends: a child that exits early makes the reads below see EOF, not hang */
  close (to_parent[1]);
  close (to_child[0]);
  g_assert_cmpint (read (to_parent[0], &c, 1), ==, 1);
  reply = request_subflow_v4 (MPTCP_PM_CMD_SUBFLOW_CREATE, token, TESTBED_CLIENT2_V4, 43001, 60,
                              TESTBED_SERVER2_V4, TESTBED_PORT_SINK, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);
  if (read (to_parent[0], &c, 1) == 1)
    {
      reply = request_subflow_v4 (MPTCP_PM_CMD_SUBFLOW_DESTROY, token, TESTBED_CLIENT2_V4, 43001,
                                  0, TESTBED_SERVER2_V4, TESTBED_PORT_SINK, &error);
      g_assert_no_error (error);
      g_assert_cmpint (write (to_child[1], "d", 1), ==, 1);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  close (to_child[1]);
  close (to_parent[0]);
}

int
main (int argc, char **argv)
{
  if (argc == 6 && g_str_equal (argv[1], "--raw-request"))
    return raw_request_main (argv);
  self_path = argv[0];

  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/connection-events/library-and-raw", test_library_and_raw);
  g_test_add_data_func ("/connection-events/peer-reset", NULL, test_peer_reset);
  g_test_add_data_func ("/connection-events/peer-reset-polled", "polled", test_peer_reset);
  g_test_add_data_func ("/connection-events/peer-reset-before-registered", "early",
                        test_peer_reset);
  g_test_add_data_func ("/connection-events/many-connections-one-poll", NULL,
                        test_many_connections_one_poll);
  g_test_add_data_func ("/connection-events/many-connections-polled", "polled",
                        test_many_connections_one_poll);
  g_test_add_func ("/connection-events/peer-announce", test_peer_announce);
  g_test_add_func ("/connection-events/overrun", test_overrun);
  g_test_add_func ("/connection-events/polling", test_polling);
  g_test_add_func ("/connection-events/link-down", test_link_down);

  return g_test_run ();
}
