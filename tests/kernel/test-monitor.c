/* test-monitor.c: MptcpMonitor against the real kernel, in the testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client namespace of the testbed (this process) runs the userspace path manager; the
 * monitor sees its events only (the server's namespace has its own).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "testbed.h"
#include "read-common.h"
#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-monitor-private.h"

#define WAIT_MS 5000

typedef struct
{
  GPtrArray *events;     /* of MptcpEvent, in emission order */
  guint      overruns;
} Recorder;

static void
recorder_init (Recorder *rec)
{
  rec->events = g_ptr_array_new_with_free_func ((GDestroyNotify) mptcp_event_unref);
  rec->overruns = 0;
}

static void
recorder_clear (Recorder *rec)
{
  g_clear_pointer (&rec->events, g_ptr_array_unref);
}

static void
record_event_cb (MptcpMonitor *monitor, MptcpEvent *event, gpointer user_data)
{
  Recorder *rec = user_data;
  g_autofree char *line = mptcp_event_to_string (event);

  g_test_message ("event: %s", line);
  g_ptr_array_add (rec->events, mptcp_event_ref (event));
}

static void
record_overrun_cb (MptcpMonitor *monitor, gpointer user_data)
{
  Recorder *rec = user_data;

  g_test_message ("overrun");
  rec->overruns++;
}

static MptcpMonitor *
monitor_new_recording (Recorder *rec)
{
  g_autoptr(GError) error = NULL;
  MptcpMonitor *monitor;

  monitor = mptcp_monitor_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_true (MPTCP_IS_MONITOR (monitor));
  recorder_init (rec);
  g_signal_connect (monitor, "event", G_CALLBACK (record_event_cb), rec);
  g_signal_connect (monitor, "overrun", G_CALLBACK (record_overrun_cb), rec);
  return monitor;
}

/* The first event of this type (and token, if not 0, and local port, if not 0) from index
 * *from on; its index goes to *from. */
static MptcpEvent *
recorder_find (Recorder *rec, MptcpEventType type, guint32 token, guint16 local_port,
               guint *from)
{
  for (guint i = from != NULL ? *from : 0; i < rec->events->len; i++)
    {
      MptcpEvent *e = g_ptr_array_index (rec->events, i);

      if (mptcp_event_get_event_type (e) == type
          && (token == 0 || mptcp_event_get_token (e) == token)
          && (local_port == 0 || mptcp_event_get_local_port (e) == local_port))
        {
          if (from != NULL)
            *from = i;
          return e;
        }
    }
  return NULL;
}

static MptcpEvent *
wait_event (GMainContext *context, Recorder *rec, MptcpEventType type, guint32 token,
            guint16 local_port)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  MptcpEvent *e;

  while ((e = recorder_find (rec, type, token, local_port, NULL)) == NULL
         && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (500);
    }
  return e;
}

static void
drain (GMainContext *context, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (500);
    }
}

static guint32
socket_token (GSocket *socket)
{
  mpx_mptcp_info info;
  socklen_t len = sizeof info;

  memset (&info, 0, sizeof info);
  g_assert_cmpint (getsockopt (g_socket_get_fd (socket), SOL_MPTCP, MPTCP_INFO, &info, &len),
                   ==, 0);
  return info.token;
}

static guint16
socket_local_port (GSocket *socket)
{
  g_autoptr(GSocketAddress) address = g_socket_get_local_address (socket, NULL);

  g_assert_nonnull (address);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

static void
assert_address (GInetSocketAddress *address, const char *ip, guint16 port)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (address);
  text = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  g_assert_cmpstr (text, ==, ip);
  if (port != 0)
    g_assert_cmpuint (g_inet_socket_address_get_port (address), ==, port);
}

/* An MPTCP connection to the server's sink on path 1 that has sent data (so it is fully
 * established: the userspace PM accepts subflows then). */
static GSocket *
connect_sink (guint32 *token, guint16 *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) server = NULL;
  GSocket *socket;

  socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);
  g_assert_no_error (error);
  server = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, TESTBED_PORT_SINK);
  g_assert_true (g_socket_connect (socket, server, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_send (socket, "x", 1, NULL, &error), ==, 1);
  g_assert_no_error (error);
  *token = socket_token (socket);
  *port = socket_local_port (socket);
  g_assert_cmpuint (*token, !=, 0);
  return socket;
}

/* CREATED, ESTABLISHED and CLOSED of a connection made here, with its token and 4-tuple */
static void
test_connection (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  g_autoptr(GSocket) socket = NULL;
  Recorder rec;
  MptcpEvent *created, *established, *closed;
  guint i_created = 0, i_established = 0, i_closed = 0;
  guint32 token;
  guint16 port;

  monitor = monitor_new_recording (&rec);
  socket = connect_sink (&token, &port);

  established = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0);
  g_assert_nonnull (established);
  created = recorder_find (&rec, MPTCP_EVENT_TYPE_CREATED, token, 0, &i_created);
  g_assert_nonnull (created);
  g_assert_nonnull (recorder_find (&rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0,
                                   &i_established));

  for (guint k = 0; k < 2; k++)
    {
      MptcpEvent *e = k == 0 ? created : established;

      g_assert_cmphex (mptcp_event_get_token (e), ==, token);
      g_assert_true (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_FAMILY));
      g_assert_cmpint (mptcp_event_get_family (e), ==, G_SOCKET_FAMILY_IPV4);
      assert_address (mptcp_event_get_local_address (e), TESTBED_CLIENT1_V4, port);
      assert_address (mptcp_event_get_remote_address (e), TESTBED_SERVER1_V4,
                      TESTBED_PORT_SINK);
      g_assert_cmpuint (mptcp_event_get_local_port (e), ==, port);
      g_assert_cmpuint (mptcp_event_get_remote_port (e), ==, TESTBED_PORT_SINK);
      g_assert_true (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_LOCAL_ID));
      g_assert_true (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_REMOTE_ID));
      g_assert_cmpuint (mptcp_event_get_local_id (e), ==, 0);
      g_assert_cmpuint (mptcp_event_get_remote_id (e), ==, 0);
      g_assert_false (mptcp_event_get_server_side (e));
    }

  g_assert_true (g_socket_close (socket, &error));
  g_assert_no_error (error);
  closed = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_CLOSED, token, 0);
  g_assert_nonnull (closed);
  recorder_find (&rec, MPTCP_EVENT_TYPE_CLOSED, token, 0, &i_closed);
  g_assert_true (mptcp_event_has_attribute (closed, MPTCP_EVENT_ATTRIBUTE_TOKEN));
  g_assert_false (mptcp_event_has_attribute (closed, MPTCP_EVENT_ATTRIBUTE_FAMILY));
  g_assert_null (mptcp_event_get_local_address (closed));

  /* in the kernel's order */
  g_assert_cmpuint (i_created, <, i_established);
  g_assert_cmpuint (i_established, <, i_closed);
  g_assert_cmpuint (rec.overruns, ==, 0);
  recorder_clear (&rec);
}

/* LISTENER_CREATED / LISTENER_CLOSED of listeners made here, IPv4 and dual-stack IPv6.
 * Linux before 6.2 has no listener events: there the monitor must deliver none for the same
 * listeners, and the connection events of a connection made after them. */
static void
test_listener (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  g_autoptr(GSocket) v4 = NULL;
  g_autoptr(GSocket) v6 = NULL;
  Recorder rec;
  MptcpEvent *e;
  guint16 port4, port6;

  monitor = monitor_new_recording (&rec);
  v4 = read_listen_mptcp (G_SOCKET_FAMILY_IPV4, TESTBED_CLIENT1_V4, &port4);
  v6 = read_listen_mptcp (G_SOCKET_FAMILY_IPV6, "::", &port6);

  if (!read_kernel_at_least (6, 2))
    {
      g_autoptr(GSocket) later = NULL;
      guint32 token;
      guint16 port;

      g_test_message ("Linux < 6.2: no listener events; checking that none arrive");
      g_assert_true (g_socket_close (v4, &error));
      g_assert_true (g_socket_close (v6, &error));
      /* the kernel sends its events in order: the connection's come after any listener's */
      later = connect_sink (&token, &port);
      g_assert_nonnull (wait_event (NULL, &rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0));
      for (guint k = 0; k < 2; k++)
        {
          guint16 p = k == 0 ? port4 : port6;

          g_assert_null (recorder_find (&rec, MPTCP_EVENT_TYPE_LISTENER_CREATED, 0, p, NULL));
          g_assert_null (recorder_find (&rec, MPTCP_EVENT_TYPE_LISTENER_CLOSED, 0, p, NULL));
        }
      recorder_clear (&rec);
      return;
    }

  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_LISTENER_CREATED, 0, port4);
  g_assert_nonnull (e);
  g_assert_false (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_TOKEN));
  g_assert_cmpuint (mptcp_event_get_token (e), ==, 0);
  g_assert_cmpint (mptcp_event_get_family (e), ==, G_SOCKET_FAMILY_IPV4);
  assert_address (mptcp_event_get_local_address (e), TESTBED_CLIENT1_V4, port4);
  g_assert_null (mptcp_event_get_remote_address (e));

  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_LISTENER_CREATED, 0, port6);
  g_assert_nonnull (e);
  g_assert_cmpint (mptcp_event_get_family (e), ==, G_SOCKET_FAMILY_IPV6);
  assert_address (mptcp_event_get_local_address (e), "::", port6);

  g_assert_true (g_socket_close (v4, &error));
  g_assert_true (g_socket_close (v6, &error));
  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_LISTENER_CLOSED, 0, port4);
  g_assert_nonnull (e);
  assert_address (mptcp_event_get_local_address (e), TESTBED_CLIENT1_V4, port4);
  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_LISTENER_CLOSED, 0, port6);
  g_assert_nonnull (e);
  assert_address (mptcp_event_get_local_address (e), "::", port6);
  recorder_clear (&rec);
}

static void
set_inet (MptcpNlAddress *address, const char *ip)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (ip);

  g_assert_nonnull (inet);
  address->family = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV4 ? AF_INET
                                                                            : AF_INET6;
  memcpy (&address->addr, g_inet_address_to_bytes (inet),
          g_inet_address_get_native_size (inet));
}

/* SUB_ESTABLISHED / SUB_CLOSED of a subflow opened and closed with raw requests */
static void
test_subflow (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  g_autoptr(GSocket) socket = NULL;
  MptcpNlRequest create = { .cmd = MPTCP_PM_CMD_SUBFLOW_CREATE, .has_token = TRUE,
                            .has_addr = TRUE, .has_remote = TRUE };
  MptcpNlRequest destroy;
  MptcpNlReply *reply;
  Recorder rec;
  MptcpEvent *e;
  guint32 token;
  guint16 port, sub_port;

  monitor = monitor_new_recording (&rec);
  socket = connect_sink (&token, &port);
  g_assert_nonnull (wait_event (NULL, &rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0));

  /* path 2, local address id 1 */
  create.token = token;
  set_inet (&create.addr, TESTBED_CLIENT2_V4);
  create.addr.has_id = TRUE;
  create.addr.id = 1;
  set_inet (&create.remote, TESTBED_SERVER2_V4);
  create.remote.port = TESTBED_PORT_SINK;
  reply = _mptcp_netlink_request_sync (&create, 0, NULL, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);

  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED, token, 0);
  g_assert_nonnull (e);
  g_assert_cmpint (mptcp_event_get_family (e), ==, G_SOCKET_FAMILY_IPV4);
  sub_port = mptcp_event_get_local_port (e);
  g_assert_cmpuint (sub_port, !=, 0);
  assert_address (mptcp_event_get_local_address (e), TESTBED_CLIENT2_V4, sub_port);
  assert_address (mptcp_event_get_remote_address (e), TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_assert_cmpuint (mptcp_event_get_local_id (e), ==, 1);
  g_assert_true (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_REMOTE_ID));
  g_assert_true (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_BACKUP));
  g_assert_false (mptcp_event_get_backup (e));
  g_assert_false (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_ERROR));

  /* close exactly that 4-tuple */
  destroy = create;
  destroy.cmd = MPTCP_PM_CMD_SUBFLOW_DESTROY;
  destroy.addr.port = sub_port;
  reply = _mptcp_netlink_request_sync (&destroy, 0, NULL, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);

  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_SUBFLOW_CLOSED, token, sub_port);
  g_assert_nonnull (e);
  assert_address (mptcp_event_get_local_address (e), TESTBED_CLIENT2_V4, sub_port);
  assert_address (mptcp_event_get_remote_address (e), TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_assert_cmpuint (mptcp_event_get_local_id (e), ==, 1);
  g_assert_cmpint (mptcp_event_get_error (e), ==, 0);

  g_assert_true (g_socket_close (socket, &error));
  g_assert_nonnull (wait_event (NULL, &rec, MPTCP_EVENT_TYPE_CLOSED, token, 0));
  recorder_clear (&rec);
}

/* a subflow to a port nobody listens on: SUB_CLOSED with ECONNREFUSED */
static void
test_subflow_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  g_autoptr(GSocket) socket = NULL;
  MptcpNlRequest create = { .cmd = MPTCP_PM_CMD_SUBFLOW_CREATE, .has_token = TRUE,
                            .has_addr = TRUE, .has_remote = TRUE };
  MptcpNlReply *reply;
  Recorder rec;
  MptcpEvent *e;
  guint32 token;
  guint16 port;

  monitor = monitor_new_recording (&rec);
  socket = connect_sink (&token, &port);
  g_assert_nonnull (wait_event (NULL, &rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0));

  create.token = token;
  set_inet (&create.addr, TESTBED_CLIENT2_V4);
  create.addr.has_id = TRUE;
  create.addr.id = 2;
  set_inet (&create.remote, TESTBED_SERVER2_V4);
  create.remote.port = 9;   /* discard: nobody listens */
  reply = _mptcp_netlink_request_sync (&create, 0, NULL, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);

  e = wait_event (NULL, &rec, MPTCP_EVENT_TYPE_SUBFLOW_CLOSED, token, 0);
  g_assert_nonnull (e);
  g_assert_true (mptcp_event_has_attribute (e, MPTCP_EVENT_ATTRIBUTE_ERROR));
  g_assert_cmpint (mptcp_event_get_error (e), ==, ECONNREFUSED);
  g_assert_cmpuint (mptcp_event_get_remote_port (e), ==, 9);
  g_assert_null (recorder_find (&rec, MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED, token, 0, NULL));

  g_assert_true (g_socket_close (socket, &error));
  recorder_clear (&rec);
}

/* signals run in the context that was the thread-default one at construction */
static void
test_context (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(MptcpMonitor) monitor = NULL;
  g_autoptr(GSocket) listener = NULL;
  Recorder rec;
  guint16 port;

  g_main_context_push_thread_default (context);
  monitor = monitor_new_recording (&rec);
  g_main_context_pop_thread_default (context);

  if (!read_kernel_at_least (6, 2))
    {
      /* Linux < 6.2 has no listener events: a connection's events instead */
      g_autoptr(GSocket) socket = NULL;
      guint32 token;

      socket = connect_sink (&token, &port);
      drain (NULL, 100);
      g_assert_cmpuint (rec.events->len, ==, 0);
      g_assert_nonnull (wait_event (context, &rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0));
      g_assert_true (g_socket_close (socket, &error));
      g_assert_nonnull (wait_event (context, &rec, MPTCP_EVENT_TYPE_CLOSED, token, 0));
    }
  else
    {
      listener = read_listen_mptcp (G_SOCKET_FAMILY_IPV4, TESTBED_CLIENT1_V4, &port);
      drain (NULL, 100);
      g_assert_cmpuint (rec.events->len, ==, 0);
      g_assert_nonnull (wait_event (context, &rec, MPTCP_EVENT_TYPE_LISTENER_CREATED, 0, port));
      g_assert_true (g_socket_close (listener, &error));
      g_assert_nonnull (wait_event (context, &rec, MPTCP_EVENT_TYPE_LISTENER_CLOSED, 0, port));
    }

  g_clear_object (&monitor);
  while (g_main_context_iteration (context, FALSE))
    ;
  recorder_clear (&rec);
}

/* a burst of events into a tiny receive buffer: ENOBUFS, then "overrun"; reading goes on.
 * The burst: listeners opened and closed, or on Linux < 6.2 (no listener events) connections
 * (CREATED, ESTABLISHED, CLOSED each). */
static void
test_overrun (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  g_autoptr(GSocket) listener = NULL;
  MptcpNetlink *nl;
  Recorder rec;
  guint16 port;
  const guint burst = 100;
  gboolean listener_events = read_kernel_at_least (6, 2);
  guint32 token = 0;

  /* the broker of this context is the one the monitor will share */
  nl = _mptcp_netlink_get_for_context (NULL, &error);
  g_assert_no_error (error);
  _mptcp_netlink_set_event_rcvbuf (nl, 1);   /* the kernel raises it to its minimum */
  monitor = monitor_new_recording (&rec);
  g_assert_true (_mptcp_monitor_get_netlink (monitor) == nl);

  for (guint i = 0; i < burst; i++)
    {
      g_autoptr(GSocket) l = NULL;

      if (listener_events)
        l = read_listen_mptcp (G_SOCKET_FAMILY_IPV4, TESTBED_CLIENT1_V4, &port);
      else if (i % 2 == 0)
        l = connect_sink (&token, &port);   /* half as many, three events each */
      else
        continue;
      g_assert_true (g_socket_close (l, &error));
    }
  drain (NULL, 200);
  g_test_message ("%u events read of %u sent, %u overrun(s)", rec.events->len, 2 * burst,
                  rec.overruns);
  g_assert_cmpuint (rec.overruns, >=, 1);
  g_assert_cmpuint (rec.events->len, <, 2 * burst);

  /* the stream goes on */
  g_ptr_array_set_size (rec.events, 0);
  if (listener_events)
    {
      listener = read_listen_mptcp (G_SOCKET_FAMILY_IPV4, TESTBED_CLIENT1_V4, &port);
      g_assert_nonnull (wait_event (NULL, &rec, MPTCP_EVENT_TYPE_LISTENER_CREATED, 0, port));
    }
  else
    {
      listener = connect_sink (&token, &port);
      g_assert_nonnull (wait_event (NULL, &rec, MPTCP_EVENT_TYPE_ESTABLISHED, token, 0));
    }

  _mptcp_netlink_set_event_rcvbuf (nl, 0);
  _mptcp_netlink_unref (nl);
  g_clear_object (&monitor);
  recorder_clear (&rec);
}

/* without CAP_NET_ADMIN: MPTCP_ERROR_PERMISSION_DENIED */
static void
test_no_cap_net_admin (void)
{
  int status;
  pid_t pid;

  fflush (stdout);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      GMainContext *context = g_main_context_new ();
      GError *error = NULL;
      MptcpMonitor *monitor;

      /* a context of its own: a broker inherited from the parent would have open sockets */
      g_main_context_push_thread_default (context);
      if (!testbed_drop_net_admin (&error))
        _exit (10);
      monitor = mptcp_monitor_new (NULL, &error);
      if (monitor != NULL)
        _exit (11);
      if (!g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED))
        {
          g_printerr ("unexpected error: %s\n", error->message);
          _exit (12);
        }
      if (strstr (error->message, "CAP_NET_ADMIN") == NULL)
        _exit (13);
      printf ("# without CAP_NET_ADMIN: %s\n", error->message);
      fflush (stdout);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/monitor/no-cap-net-admin", test_no_cap_net_admin);
  g_test_add_func ("/monitor/connection", test_connection);
  g_test_add_func ("/monitor/listener", test_listener);
  g_test_add_func ("/monitor/subflow", test_subflow);
  g_test_add_func ("/monitor/subflow-refused", test_subflow_refused);
  g_test_add_func ("/monitor/context", test_context);
  g_test_add_func ("/monitor/overrun", test_overrun);

  return g_test_run ();
}
