/* test-stress.c: the control API under load (issue 12's stress suite), against the real kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bounded in time (about 10 s plain; the sizes shrink under valgrind, as each test says). The
 * same on 6.1, 6.12 and 6.18: only the userspace and in-kernel path managers' basic commands are
 * used, and `ss` is compared only where it shows the token (else the getsockopt view is).
 */

#include <arpa/inet.h>
#include <linux/mptcp.h>

#include "testbed.h"
#include "read-common.h"
#include "control-common.h"
#include "request-common.h"
#include "mptcp-connection-private.h"
#include "mptcp-netlink-private.h"

#include <valgrind/valgrind.h>

static void
drain_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

/* ---- 1000 open/close cycles ---- */

static void
cycle_close_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* The kernel's subflows of the connection with this token, as `ss -tniM` shows them: the
 * number of subflow lines whose ULP info names it as the local token ("token:REMOTE(id:n)/
 * LOCAL(id:m)", as iproute2 prints it, each at least 4 hex digits; the 6.1 and 6.12 kernels give
 * it to root, as here). The MPTCP socket's own line ("token:LOCAL") is not a subflow. -1 when ss
 * shows no token at all (then the getsockopt view is compared). */
static int
ss_subflows_of_token (guint32 token)
{
  const char *argv[] = { "ss", "-tniMH", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *needle = g_strdup_printf ("/%04x(id:", token);
  const char *p;
  int n = 0;

  g_assert_true (testbed_run_in_client (argv, &out, &error));
  g_assert_no_error (error);
  if (strstr (out, "token:") == NULL)
    return -1;
  for (p = out; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* Open and close one subflow 1000 times (200 under valgrind), alternating the sync and async
 * calls, against a peer that limits nothing (an in-kernel one counts closed joins against its
 * limit for a while); at the end the list is the kernel's view, by getsockopt and by `ss -tniM`. */
static void
test_open_close_cycles (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (TRUE, &socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  const guint n = RUNNING_ON_VALGRIND ? 200 : 1000;
  int ss;
  guint i;

  for (i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MptcpSubflow) sf = NULL;

      if (i % 2 == 0)
        {
          sf = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (mptcp_subflow_close (sf, NULL, &error));
          g_assert_no_error (error);
        }
      else
        {
          gboolean closed = FALSE;

          mptcp_connection_open_subflow_async (connection, l2, r2, NULL, read_open_subflow_ok_cb,
                                               &sf);
          while (sf == NULL)
            g_main_context_iteration (NULL, TRUE);
          g_assert_true (read_model_holds (connection, sf));
          mptcp_subflow_close_async (sf, NULL, cycle_close_cb, &closed);
          while (!closed)
            g_main_context_iteration (NULL, TRUE);
        }
      g_assert_false (read_model_holds (connection, sf));
    }
  drain_for (100);
  assert_list_is_kernel (connection, socket);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==, 1);
  ss = ss_subflows_of_token (mptcp_connection_get_token (connection));
  g_test_message ("ss shows %d subflow(s) of the token", ss);
  if (ss >= 0)
    g_assert_cmpint (ss, ==, 1);
}

/* ---- 100 connections at once ---- */

typedef struct
{
  MptcpConnection *connection;
  GSocket *socket;
  MptcpSubflow *subflow;
  guint step;      /* 0 opening, 1 closing, 2 done */
  GError *error;
} Flow;

static void flow_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
flow_opened_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Flow *f = user_data;

  f->subflow = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source), result,
                                                     &f->error);
  if (f->subflow == NULL)
    {
      f->step = 2;
      return;
    }
  f->step = 1;
  mptcp_subflow_close_async (f->subflow, NULL, flow_closed_cb, f);
}

static void
flow_closed_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Flow *f = user_data;

  mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &f->error);
  f->step = 2;
}

/* 100 connections (30 under valgrind) in one main context, each opening two subflows and
 * closing one, all at once: every step succeeds and every list is its kernel's view. */
static void
test_many_connections (void)
{
  const guint n = RUNNING_ON_VALGRIND ? 30 : 100;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  Flow *flows = g_new0 (Flow, 2 * n);
  gint64 end;
  guint i, done;

  for (i = 0; i < n; i++)
    {
      Flow *f = &flows[2 * i];

      f->connection = connect_established (TRUE, &f->socket);
      flows[2 * i + 1].connection = f->connection;
    }
  for (i = 0; i < 2 * n; i++)
    mptcp_connection_open_subflow_async (flows[i].connection, l2, r2, NULL, flow_opened_cb,
                                         &flows[i]);
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  do
    {
      g_main_context_iteration (NULL, TRUE);
      for (i = 0, done = 0; i < 2 * n; i++)
        done += flows[i].step == 2;
    }
  while (done < 2 * n && g_get_monotonic_time () < end);
  g_assert_cmpuint (done, ==, 2 * n);
  drain_for (100);
  for (i = 0, done = 0; i < 2 * n; i++)
    done += flows[i].error != NULL;
  g_test_message ("%u of %u failed", done, 2 * n);
  for (i = 0; i < 2 * n; i++)
    {
      g_assert_no_error (flows[i].error);
      g_clear_object (&flows[i].subflow);
    }
  for (i = 0; i < n; i++)
    {
      assert_list_is_kernel (flows[2 * i].connection, flows[2 * i].socket);
      g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (flows[2 * i].connection)),
                        ==, 1);
      g_object_unref (flows[2 * i].connection);
      g_object_unref (flows[2 * i].socket);
    }
  g_free (flows);
}

/* ---- cancel half of 50 in-flight opens ---- */

/* 50 opens in flight against a peer that limits nothing; every other one is cancelled right
 * away: those fail with G_IO_ERROR_CANCELLED and leave nothing in the kernel, the others
 * succeed, and the list is the kernel's view. */
static void
test_cancel_half (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (TRUE, &socket);
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  GCancellable *cancellables[50];
  const guint n = 50;
  Opens o;
  guint i;

  opens_init (&o);
  mptcp_connection_set_control_timeout (connection, 20000);
  for (i = 0; i < n; i++)
    {
      cancellables[i] = g_cancellable_new ();
      o.started++;
      mptcp_connection_open_subflow_async (connection, l2, r2, cancellables[i], open_done_cb, &o);
    }
  /* the requests have left (a first open sends at once); cancel every other one before any
   * answer is read */
  for (i = 0; i < n; i += 2)
    g_cancellable_cancel (cancellables[i]);
  wait_opens (&o, 30000);
  g_test_message ("%u ok, %u cancelled, %u refused, %u other", o.ok, o.cancelled, o.refused,
                  o.other);
  g_assert_cmpuint (o.cancelled, ==, n / 2);
  g_assert_cmpuint (o.ok, ==, n / 2);
  g_assert_cmpuint (o.other + o.refused, ==, 0);
  /* the cleanups of the cancelled ones finish */
  drain_for (500);
  assert_list_is_kernel (connection, socket);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==,
                    n / 2 + 1);
  for (i = 0; i < n; i++)
    g_object_unref (cancellables[i]);
  opens_clear (&o);
}

/* ---- cancelling port-0 opens around the gate ---- */

/* Port-0 opens between the same addresses go to the kernel one at a time per broker: the next
 * one's SUBFLOW_CREATE waits until the one before knows its subflow or has ended. These tests
 * cancel opens at each point of that: before anything was sent, while waiting at the gate,
 * with the SUBFLOW_CREATE in flight (sent, its ack not read yet), and the gate holder with
 * several waiting behind it. Each checks that the cancelled call says G_IO_ERROR_CANCELLED, that
 * the opens behind it are neither lost nor stuck (each ends with a subflow before the deadline
 * of wait_opens()), and that what a cancelled open made in the kernel is gone: the library's
 * list equals the kernel's, by getsockopt and by `ss -tniM` filtered by token. */

typedef struct
{
  guint32 token;
  guint established;
  guint closed;
} SubEvents;

static void
sub_event_cb (MptcpMonitor *monitor,
              MptcpEvent   *event,
              SubEvents    *e)
{
  if (mptcp_event_get_token (event) != e->token)
    return;
  if (mptcp_event_get_event_type (event) == MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED)
    e->established++;
  else if (mptcp_event_get_event_type (event) == MPTCP_EVENT_TYPE_SUBFLOW_CLOSED)
    e->closed++;
}

/* The connection's list is the kernel's view, and ss shows as many subflows of its token. */
static void
assert_cleaned (MptcpConnection *connection,
                GSocket         *socket,
                guint            expected)
{
  int ss;

  assert_list_is_kernel (connection, socket);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)), ==,
                    expected);
  ss = ss_subflows_of_token (mptcp_connection_get_token (connection));
  g_test_message ("ss shows %d subflow(s) of the token", ss);
  if (ss >= 0)
    g_assert_cmpint (ss, ==, expected);
}

static void
start_open (MptcpConnection *connection,
            Opens           *o,
            GCancellable    *cancellable)
{
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);

  o->started++;
  mptcp_connection_open_subflow_async (connection, l2, r2, cancellable, open_done_cb, o);
}

/* Cancelled before anything went out: an open whose cancellable was cancelled before the call,
 * and one cancelled while it waits at the gate behind another. Both say cancelled, and the
 * kernel sees only the holder's subflow: one SUB_ESTABLISHED, no SUB_CLOSED (nothing was sent
 * for the cancelled ones, so nothing was made and closed again). */
static void
test_cancel_before_send (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (TRUE, &socket);
  g_autoptr(MptcpMonitor) monitor = mptcp_monitor_new (NULL, &error);
  g_autoptr(GCancellable) before = g_cancellable_new ();
  g_autoptr(GCancellable) waiting = g_cancellable_new ();
  SubEvents e = { mptcp_connection_get_token (connection), 0, 0 };
  Opens o;

  g_assert_no_error (error);
  g_signal_connect (monitor, "event", G_CALLBACK (sub_event_cb), &e);
  opens_init (&o);
  mptcp_connection_set_control_timeout (connection, 10000);

  g_cancellable_cancel (before);
  start_open (connection, &o, before);
  wait_opens (&o, 10000);
  g_assert_cmpuint (o.cancelled, ==, 1);

  start_open (connection, &o, NULL);      /* the holder: its request goes out at once */
  start_open (connection, &o, waiting);   /* waits at the gate */
  g_cancellable_cancel (waiting);
  wait_opens (&o, 10000);
  g_test_message ("%u ok, %u cancelled, %u refused, %u other", o.ok, o.cancelled, o.refused,
                  o.other);
  g_assert_cmpuint (o.cancelled, ==, 2);
  g_assert_cmpuint (o.ok, ==, 1);
  g_assert_cmpuint (o.other + o.refused, ==, 0);
  drain_for (300);
  g_assert_cmpuint (e.established, ==, 1);
  g_assert_cmpuint (e.closed, ==, 0);
  assert_cleaned (connection, socket, 2);
  opens_clear (&o);
}

static void
busy_reply_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  MptcpNetlink *nl = _mptcp_netlink_get_for_context (NULL, NULL);
  g_autoptr(MptcpNlReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = _mptcp_netlink_request_finish (nl, result, &error);
  g_assert_no_error (error);
  (*(guint *) user_data)--;
  _mptcp_netlink_unref (nl);
}

/* One open cancelled with its SUBFLOW_CREATE in flight (sent, the ack not read when the
 * cancellation is handled), with `behind` more opens queued behind it at the gate. With busy,
 * the connection's broker first gets that many read-only requests (GET_LIMITS), so that the
 * cancelled open's request leaves from the broker's queue and its ack is read in a later
 * dispatch than its cancellation: the library then learns only at the ack whether the kernel
 * made a subflow for it, and must hold the next open back until then, and close that subflow.
 * Without busy, the ack is read first (the kernel answers inside the send), then the
 * cancellation: the open is given up after its ack, its subflow found and closed. */
static void
cancel_in_flight (guint    behind,
                  guint    busy)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (TRUE, &socket);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  MptcpNetlink *nl = _mptcp_connection_get_netlink (connection);
  MptcpNlRequest limits = { .cmd = MPTCP_PM_CMD_GET_LIMITS };
  guint pending = 0, i;
  Opens o;

  g_assert_nonnull (nl);
  opens_init (&o);
  mptcp_connection_set_control_timeout (connection, 10000);
  for (i = 0; i < busy; i++)
    {
      pending++;
      _mptcp_netlink_request_async (nl, &limits, 10000, NULL, busy_reply_cb, &pending);
    }
  start_open (connection, &o, cancellable);
  for (i = 0; i < behind; i++)
    start_open (connection, &o, NULL);
  /* before the main context runs: the request is sent (or queued in the broker), no answer
   * has been read */
  g_cancellable_cancel (cancellable);
  wait_opens (&o, 20000);
  g_test_message ("%u ok, %u cancelled, %u refused, %u other", o.ok, o.cancelled, o.refused,
                  o.other);
  g_assert_cmpuint (o.cancelled, ==, 1);
  g_assert_cmpuint (o.ok, ==, behind);
  g_assert_cmpuint (o.other + o.refused, ==, 0);
  /* the cleanup of the cancelled one finishes */
  drain_for (300);
  g_assert_cmpuint (pending, ==, 0);
  assert_cleaned (connection, socket, behind + 1);
  opens_clear (&o);
}

static void
test_cancel_in_flight (void)
{
  cancel_in_flight (1, 0);
}

static void
test_cancel_in_flight_busy (void)
{
  /* more than the broker sends at once and reads in one dispatch */
  cancel_in_flight (2, 300);
}

/* The local ports of the socket's subflows on path 2 (c2 -> s2), in the kernel's order (oldest
 * first), by MPTCP_SUBFLOW_ADDRS. */
static GArray *
path2_ports (GSocket *socket)
{
  struct
  {
    struct mptcp_subflow_data d;
    struct mptcp_subflow_addrs a[32];
  } buf;
  socklen_t len = sizeof buf;
  GArray *ports = g_array_new (FALSE, FALSE, sizeof (guint16));
  struct in_addr c2;

  g_assert_cmpint (inet_pton (AF_INET, TESTBED_CLIENT2_V4, &c2), ==, 1);
  memset (&buf, 0, sizeof buf);
  buf.d.size_subflow_data = sizeof buf.d;
  buf.d.size_user = sizeof buf.a[0];
  g_assert_cmpint (getsockopt (g_socket_get_fd (socket), SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &buf,
                               &len), ==, 0);
  for (guint i = 0; i < MIN (buf.d.num_subflows, G_N_ELEMENTS (buf.a)); i++)
    {
      const struct sockaddr_in *l = &buf.a[i].sin_local;

      if (l->sin_family == AF_INET && l->sin_addr.s_addr == c2.s_addr)
        {
          guint16 port = g_ntohs (l->sin_port);

          g_array_append_val (ports, port);
        }
    }
  return ports;
}

/* What the last busy reply does: the kernel has taken the cancelled open's SUBFLOW_CREATE (and
 * the next open's, had it been let go), their acks are not read yet; the cancelled one's
 * subflow is closed behind the library's back, as a peer that resets a join at once does. */
typedef struct
{
  guint pending;
  GSocket *socket;
  guint32 token;
  guint destroyed;
} Vanish;

static void
vanish_reply_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Vanish *v = user_data;
  MptcpNetlink *nl = _mptcp_netlink_get_for_context (NULL, NULL);
  g_autoptr(MptcpNlReply) reply = NULL;
  g_autoptr(MptcpNlReply) done = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ports = NULL;

  reply = _mptcp_netlink_request_finish (nl, result, &error);
  g_assert_no_error (error);
  _mptcp_netlink_unref (nl);
  if (--v->pending != 0)
    return;
  ports = path2_ports (v->socket);
  if (ports->len == 0)
    return;
  done = request_subflow_v4 (MPTCP_PM_CMD_SUBFLOW_DESTROY, v->token, TESTBED_CLIENT2_V4,
                             g_array_index (ports, guint16, 0), 0, TESTBED_SERVER2_V4,
                             TESTBED_PORT_SINK, &error);
  g_assert_no_error (error);
  v->destroyed = ports->len;
}

/* An open cancelled with its SUBFLOW_CREATE in flight whose subflow is gone before its ack is
 * read (a peer that resets the join at once, here a SUBFLOW_DESTROY from elsewhere): the next
 * open between the addresses must not have gone to the kernel by then, or the cancelled one's
 * cleanup, which looks for a new subflow between the addresses, would find and close the next
 * one's instead. The next open ends with its subflow, and the list is the kernel's view. */
static void
test_cancel_in_flight_vanished (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = connect_established (TRUE, &socket);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  MptcpNetlink *nl = _mptcp_connection_get_netlink (connection);
  MptcpNlRequest limits = { .cmd = MPTCP_PM_CMD_GET_LIMITS };
  Vanish v = { 0, socket, mptcp_connection_get_token (connection), 0 };
  guint i;
  Opens o;

  opens_init (&o);
  mptcp_connection_set_control_timeout (connection, 10000);
  for (i = 0; i < 300; i++)
    {
      v.pending++;
      _mptcp_netlink_request_async (nl, &limits, 10000, NULL, vanish_reply_cb, &v);
    }
  start_open (connection, &o, cancellable);
  start_open (connection, &o, NULL);
  g_cancellable_cancel (cancellable);
  wait_opens (&o, 20000);
  g_test_message ("%u ok, %u cancelled, %u refused, %u other; %u new subflow(s) on path 2 when "
                  "the cancelled one's was closed", o.ok, o.cancelled, o.refused, o.other,
                  v.destroyed);
  /* the cancelled open's subflow was there, alone: the next open had not gone out */
  g_assert_cmpuint (v.destroyed, ==, 1);
  g_assert_cmpuint (o.cancelled, ==, 1);
  g_assert_cmpuint (o.ok, ==, 1);
  g_assert_cmpuint (o.other + o.refused, ==, 0);
  drain_for (300);
  assert_cleaned (connection, socket, 2);
  opens_clear (&o);
}

/* The gate holder cancelled while five wait behind it, two of them cancelled with it: the
 * holder and those two say cancelled, the other three are neither lost nor stuck, and nothing
 * of the cancelled ones stays in the kernel. Then once more with the holder's request queued in
 * a busy broker. */
static void
test_cancel_gate_holder (void)
{
  guint round;

  for (round = 0; round < 2; round++)
    {
      g_autoptr(GSocket) socket = NULL;
      g_autoptr(MptcpConnection) connection = connect_established (TRUE, &socket);
      MptcpNetlink *nl = _mptcp_connection_get_netlink (connection);
      MptcpNlRequest limits = { .cmd = MPTCP_PM_CMD_GET_LIMITS };
      GCancellable *cancellables[6];
      guint pending = 0, i;
      Opens o;

      opens_init (&o);
      mptcp_connection_set_control_timeout (connection, 10000);
      for (i = 0; round == 1 && i < 300; i++)
        {
          pending++;
          _mptcp_netlink_request_async (nl, &limits, 10000, NULL, busy_reply_cb, &pending);
        }
      for (i = 0; i < 6; i++)
        {
          cancellables[i] = g_cancellable_new ();
          start_open (connection, &o, cancellables[i]);
        }
      g_cancellable_cancel (cancellables[0]);
      g_cancellable_cancel (cancellables[2]);
      g_cancellable_cancel (cancellables[5]);
      wait_opens (&o, 20000);
      g_test_message ("round %u: %u ok, %u cancelled, %u refused, %u other", round, o.ok,
                      o.cancelled, o.refused, o.other);
      g_assert_cmpuint (o.cancelled, ==, 3);
      g_assert_cmpuint (o.ok, ==, 3);
      g_assert_cmpuint (o.other + o.refused, ==, 0);
      drain_for (300);
      g_assert_cmpuint (pending, ==, 0);
      assert_cleaned (connection, socket, 4);
      for (i = 0; i < 6; i++)
        g_object_unref (cancellables[i]);
      opens_clear (&o);
    }
}

/* 50 at once, against both peer kinds, as in test-concurrency, 3 rounds on one connection
 * each (all subflows closed in between). */
static void
test_concurrent_opens_repeated (void)
{
  guint round;

  for (round = 0; round < 2; round++)
    {
      gboolean userspace = round == 0;
      g_autoptr(GSocket) socket = NULL;
      g_autoptr(MptcpConnection) connection = connect_established (userspace, &socket);
      guint rep;

      mptcp_connection_set_control_timeout (connection, 20000);
      for (rep = 0; rep < 3; rep++)
        {
          Opens o;
          guint i;

          opens_init (&o);
          start_opens (connection, &o, 50);
          wait_opens (&o, 30000);
          g_test_message ("round %u.%u: %u ok, %u refused, %u other", round, rep, o.ok, o.refused,
                          o.other);
          g_assert_cmpuint (o.other, ==, 0);
          g_assert_cmpuint (o.ok, ==, userspace ? 50 : 8);
          g_assert_cmpuint (o.refused, ==, userspace ? 0 : 42);
          assert_list_is_kernel (connection, socket);
          for (i = 0; i < o.subflows->len; i++)
            {
              g_autoptr(GError) error = NULL;

              g_assert_true (mptcp_subflow_close (g_ptr_array_index (o.subflows, i), NULL, &error));
              g_assert_no_error (error);
            }
          drain_for (100);
          assert_list_is_kernel (connection, socket);
          opens_clear (&o);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/stress/concurrent-opens", test_concurrent_opens_repeated);
  g_test_add_func ("/stress/open-close-cycles", test_open_close_cycles);
  g_test_add_func ("/stress/many-connections", test_many_connections);
  g_test_add_func ("/stress/cancel-half", test_cancel_half);
  g_test_add_func ("/stress/cancel/before-send", test_cancel_before_send);
  g_test_add_func ("/stress/cancel/in-flight", test_cancel_in_flight);
  g_test_add_func ("/stress/cancel/in-flight-busy-broker", test_cancel_in_flight_busy);
  g_test_add_func ("/stress/cancel/gate-holder", test_cancel_gate_holder);
  g_test_add_func ("/stress/cancel/in-flight-vanished", test_cancel_in_flight_vanished);

  return g_test_run ();
}
