/* test-netlink.c: the netlink broker, against a scripted fake kernel and against the real one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /netlink/fake/...   a broker on socketpair()s whose other ends a scripted fake kernel answers
 * /netlink/kernel/... the real kernel, in a network namespace of our own: main() unshares one
 *                     before anything else runs (as root: CLONE_NEWNET; as a normal user:
 *                     CLONE_NEWUSER | CLONE_NEWNET). Skipped when that or MPTCP is not possible,
 *                     unless MPTCP_GLIB_REQUIRE_KERNEL=1, which turns the skip into a failure.
 *
 * The pure codec (building, parsing, error mapping) is tests/unit/test-netlink-codec.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "netlink-messages.h"
#include "read-common.h"

/* ---- /netlink/fake ------------------------------------------------------------------------- */

typedef struct
{
  GMainContext *context;
  MptcpNetlink *nl;
  int           kernel_req;   /* the fake kernel's end of the request socket */
  int           kernel_ev;    /* … and of the event socket */
} Fake;

static void
fake_setup (Fake *f, gconstpointer data)
{
  int req[2], ev[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, req), ==, 0);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ev), ==, 0);
  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->nl = _mptcp_netlink_new_for_fds (req[0], ev[0], FAKE_FAMILY, FAKE_GROUP, NULL);
  g_assert_true (_mptcp_netlink_get_context (f->nl) == f->context);
  g_assert_cmpuint (_mptcp_netlink_get_family_id (f->nl), ==, FAKE_FAMILY);
  g_assert_cmpuint (_mptcp_netlink_get_event_group (f->nl), ==, FAKE_GROUP);
  f->kernel_req = req[1];
  f->kernel_ev = ev[1];
}

static void
fake_teardown (Fake *f, gconstpointer data)
{
  g_clear_pointer (&f->nl, _mptcp_netlink_unref);
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  if (f->kernel_req >= 0)
    close (f->kernel_req);
  close (f->kernel_ev);
}

/* Reads one request the broker sent; FALSE if none came within timeout_ms. */
static gboolean
fake_read_request (Fake *f, Msg *m, int timeout_ms)
{
  struct pollfd pfd = { f->kernel_req, POLLIN, 0 };
  gssize n;

  if (poll (&pfd, 1, timeout_ms) != 1)
    return FALSE;
  n = recv (f->kernel_req, m->buf, sizeof m->buf, 0);
  g_assert_cmpint (n, >=, NLMSG_HDRLEN + GENL_HDRLEN);
  m->nlh = (struct nlmsghdr *) m->buf;
  g_assert_cmpint (m->nlh->nlmsg_len, ==, n);
  g_assert_cmpuint (m->nlh->nlmsg_type, ==, FAKE_FAMILY);
  g_assert_true (m->nlh->nlmsg_flags & NLM_F_REQUEST);
  g_assert_true (m->nlh->nlmsg_flags & NLM_F_ACK);
  return TRUE;
}

static guint8
request_cmd (const Msg *m)
{
  return ((const struct genlmsghdr *) mnl_nlmsg_get_payload (m->nlh))->cmd;
}

static void
fake_send (int fd, const void *buf, gsize len)
{
  g_assert_cmpint (send (fd, buf, len, 0), ==, (gssize) len);
}

static void
fake_send_msg (int fd, const Msg *m)
{
  fake_send (fd, m->buf, m->nlh->nlmsg_len);
}

/* one GET_LIMITS reply + its ack, in one datagram or two */
static void
fake_answer_limits (Fake *f, const Msg *request, guint32 subflows, gboolean one_datagram)
{
  Msg reply, ack;
  guint8 both[16384] __attribute__ ((aligned (8)));
  gsize off;

  msg_genl (&reply, FAKE_FAMILY, 0, request->nlh->nlmsg_seq, MPTCP_PM_CMD_GET_LIMITS);
  mnl_attr_put_u32 (reply.nlh, MPTCP_PM_ATTR_SUBFLOWS, subflows);
  mnl_attr_put_u32 (reply.nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, subflows + 100);
  msg_ack (&ack, request->nlh, 0, TRUE, NULL, 0);
  if (!one_datagram)
    {
      fake_send_msg (f->kernel_req, &reply);
      fake_send_msg (f->kernel_req, &ack);
      return;
    }
  off = NLMSG_ALIGN (reply.nlh->nlmsg_len);
  memcpy (both, reply.buf, reply.nlh->nlmsg_len);
  memcpy (both + off, ack.buf, ack.nlh->nlmsg_len);
  fake_send (f->kernel_req, both, off + ack.nlh->nlmsg_len);
}

typedef struct
{
  gboolean      done;
  MptcpNlReply *reply;
  GError       *error;
  guint         order;
} Result;

static guint completion_counter;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->reply, _mptcp_nl_reply_free);
  g_clear_error (&r->error);
  r->done = FALSE;
}

static void
request_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Result *r = user_data;
  MptcpNetlink *nl = NULL;

  g_assert_null (source);
  g_assert_false (r->done);
  r->reply = _mptcp_netlink_request_finish (nl, res, &r->error);
  g_assert_true ((r->reply == NULL) != (r->error == NULL));
  r->done = TRUE;
  r->order = ++completion_counter;
}

/* Iterates the context until every result is done; FALSE after timeout_ms. */
static gboolean
wait_results (GMainContext *context, Result *results, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      gboolean all = TRUE;

      for (guint i = 0; i < n; i++)
        all = all && results[i].done;
      if (all)
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (context, FALSE);
      g_usleep (200);
    }
}

static void
drain (GMainContext *context, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (500);
    }
}

static const MptcpNlRequest get_limits = { .cmd = MPTCP_PM_CMD_GET_LIMITS };

static void
test_fake_out_of_order (Fake *f, gconstpointer data)
{
  Result r[3] = { 0 };
  Msg req[3];

  for (guint i = 0; i < 3; i++)
    _mptcp_netlink_request_async (f->nl, &get_limits, 0, NULL, request_done_cb, &r[i]);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (fake_read_request (f, &req[i], 1000));
      g_assert_cmpuint (request_cmd (&req[i]), ==, MPTCP_PM_CMD_GET_LIMITS);
    }
  /* distinct seqs */
  g_assert_cmpuint (req[0].nlh->nlmsg_seq, !=, req[1].nlh->nlmsg_seq);
  g_assert_cmpuint (req[1].nlh->nlmsg_seq, !=, req[2].nlh->nlmsg_seq);

  /* answer 2, 0, 1; each result gets its own values */
  fake_answer_limits (f, &req[2], 2, TRUE);
  fake_answer_limits (f, &req[0], 0, FALSE);
  fake_answer_limits (f, &req[1], 1, TRUE);
  g_assert_true (wait_results (f->context, r, 3, 2000));
  for (guint i = 0; i < 3; i++)
    {
      g_assert_no_error (r[i].error);
      g_assert_true (r[i].reply->has_limits);
      g_assert_cmpuint (r[i].reply->subflows, ==, i);
      g_assert_cmpuint (r[i].reply->rcv_add_addrs, ==, i + 100);
      g_assert_cmpuint (r[i].reply->addresses->len, ==, 0);
    }
  g_assert_cmpuint (r[2].order, <, r[0].order);
  g_assert_cmpuint (r[0].order, <, r[1].order);
  for (guint i = 0; i < 3; i++)
    result_clear (&r[i]);
}

static void
test_fake_dump_multipart (Fake *f, gconstpointer data)
{
  Result r = { 0 };
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };
  Msg request, part, done;
  guint8 dgram[16384] __attribute__ ((aligned (8)));
  guint id = 1;

  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  g_assert_true (request.nlh->nlmsg_flags & NLM_F_DUMP);

  /* three datagrams of two messages each, then NLMSG_DONE alone */
  for (guint d = 0; d < 3; d++)
    {
      gsize off = 0;

      for (guint k = 0; k < 2; k++, id++)
        {
          char ip[32];

          g_snprintf (ip, sizeof ip, "10.0.%u.1", id);
          msg_genl (&part, FAKE_FAMILY, NLM_F_MULTI, request.nlh->nlmsg_seq,
                    MPTCP_PM_CMD_GET_ADDR);
          put_addr_nest (part.nlh, MPTCP_PM_ATTR_ADDR, AF_INET, ip, id, 0,
                         MPTCP_PM_ADDR_FLAG_SUBFLOW);
          memcpy (dgram + off, part.buf, part.nlh->nlmsg_len);
          off += NLMSG_ALIGN (part.nlh->nlmsg_len);
        }
      fake_send (f->kernel_req, dgram, off);
      /* not done before NLMSG_DONE */
      drain (f->context, 5);
      g_assert_false (r.done);
    }
  msg_done (&done, request.nlh->nlmsg_seq, 0, NULL);
  fake_send_msg (f->kernel_req, &done);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.reply->addresses->len, ==, 6);
  for (guint i = 0; i < 6; i++)
    {
      MptcpNlAddress *a = &g_array_index (r.reply->addresses, MptcpNlAddress, i);
      char ip[INET6_ADDRSTRLEN], want[32];

      g_snprintf (want, sizeof want, "10.0.%u.1", i + 1);
      g_assert_cmpint (a->family, ==, AF_INET);
      g_assert_cmpuint (a->id, ==, i + 1);
      g_assert_cmpstr (ntop (AF_INET, &a->addr, ip), ==, want);
      g_assert_cmpuint (a->flags, ==, MPTCP_PM_ADDR_FLAG_SUBFLOW);
    }
  result_clear (&r);

  /* a dump that ends with an error in NLMSG_DONE */
  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_done (&done, request.nlh->nlmsg_seq, -EINVAL, "invalid token");
  fake_send_msg (f->kernel_req, &done);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  result_clear (&r);
}

static void
test_fake_extack_error (Fake *f, gconstpointer data)
{
  Result r = { 0 };
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_SUBFLOW_CREATE, .has_token = TRUE, .token = 5 };
  Msg request, ack;

  /* capped, with text */
  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_ack (&ack, request.nlh, -EINVAL, TRUE, "userspace PM not selected", 0);
  fake_send_msg (f->kernel_req, &ack);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER);
  g_assert_nonnull (strstr (r.error->message, "userspace PM not selected"));
  g_assert_nonnull (strstr (r.error->message, "net.mptcp.path_manager=userspace"));
  result_clear (&r);

  /* not capped (the whole request echoed before the TLVs) */
  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_ack (&ack, request.nlh, -ESRCH, FALSE, "subflow not found", 0);
  fake_send_msg (f->kernel_req, &ack);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  g_assert_nonnull (strstr (r.error->message, "subflow not found"));
  result_clear (&r);

  /* EPERM, no text */
  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_ack (&ack, request.nlh, -EPERM, TRUE, NULL, 0);
  fake_send_msg (f->kernel_req, &ack);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (r.error->message, "CAP_NET_ADMIN"));
  result_clear (&r);

  /* a plain success ack without payload: an empty reply */
  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_ack (&ack, request.nlh, 0, TRUE, NULL, 0);
  fake_send_msg (f->kernel_req, &ack);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_no_error (r.error);
  g_assert_false (r.reply->has_limits);
  g_assert_cmpuint (r.reply->addresses->len, ==, 0);
  result_clear (&r);
}

static void
test_fake_miss_type (Fake *f, gconstpointer data)
{
  Result r = { 0 };
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_SUBFLOW_CREATE, .has_token = TRUE, .token = 5 };
  Msg request, ack;

  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_ack (&ack, request.nlh, -EINVAL, TRUE, NULL, MPTCP_PM_ATTR_ADDR_REMOTE);
  fake_send_msg (f->kernel_req, &ack);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED);
  g_assert_nonnull (strstr (r.error->message, "addr-remote"));
  g_assert_nonnull (strstr (r.error->message, "SUBFLOW_CREATE"));
  result_clear (&r);
}

static void
test_fake_timeout (Fake *f, gconstpointer data)
{
  Result r = { 0 }, r2 = { 0 };
  Msg request, request2, ack;
  gint64 start = g_get_monotonic_time ();

  _mptcp_netlink_request_async (f->nl, &get_limits, 50, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (r.error->message, "GET_LIMITS"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);
  result_clear (&r);

  /* the late answer is dropped; the next request works */
  fake_answer_limits (f, &request, 1, FALSE);
  drain (f->context, 10);
  _mptcp_netlink_request_async (f->nl, &get_limits, 0, NULL, request_done_cb, &r2);
  g_assert_true (fake_read_request (f, &request2, 1000));
  g_assert_cmpuint (request2.nlh->nlmsg_seq, !=, request.nlh->nlmsg_seq);
  fake_answer_limits (f, &request2, 7, FALSE);
  g_assert_true (wait_results (f->context, &r2, 1, 2000));
  g_assert_no_error (r2.error);
  g_assert_cmpuint (r2.reply->subflows, ==, 7);
  result_clear (&r2);

  /* an ack for a seq nobody ever used completes nothing, not even a request in flight */
  _mptcp_netlink_request_async (f->nl, &get_limits, 0, NULL, request_done_cb, &r2);
  g_assert_true (fake_read_request (f, &request2, 1000));
  request.nlh->nlmsg_seq = 999999;
  msg_ack (&ack, request.nlh, -EINVAL, TRUE, "x", 0);
  fake_send_msg (f->kernel_req, &ack);
  drain (f->context, 10);
  g_assert_false (r2.done);
  fake_answer_limits (f, &request2, 3, FALSE);
  g_assert_true (wait_results (f->context, &r2, 1, 2000));
  g_assert_no_error (r2.error);
  result_clear (&r2);
}

static void
test_fake_cancel (Fake *f, gconstpointer data)
{
  Result r = { 0 }, r2 = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Msg request, request2;

  _mptcp_netlink_request_async (f->nl, &get_limits, 0, cancellable, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  drain (f->context, 5);
  g_assert_false (r.done);
  g_cancellable_cancel (cancellable);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  result_clear (&r);

  /* the late reply is dropped */
  fake_answer_limits (f, &request, 3, TRUE);
  drain (f->context, 10);

  /* cancelled before the call: nothing is sent */
  _mptcp_netlink_request_async (f->nl, &get_limits, 0, cancellable, request_done_cb, &r);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (fake_read_request (f, &request2, 20));
  result_clear (&r);

  /* a cancellable that is not cancelled does not get in the way */
  g_cancellable_reset (cancellable);
  _mptcp_netlink_request_async (f->nl, &get_limits, 0, cancellable, request_done_cb, &r2);
  g_assert_true (fake_read_request (f, &request2, 1000));
  fake_answer_limits (f, &request2, 4, TRUE);
  g_assert_true (wait_results (f->context, &r2, 1, 2000));
  g_assert_no_error (r2.error);
  g_assert_cmpuint (r2.reply->subflows, ==, 4);
  result_clear (&r2);
}

static void
test_fake_in_flight_cap (Fake *f, gconstpointer data)
{
  enum { N = 150 };
  Result *r = g_new0 (Result, N);
  Msg m;
  guint sent = 0, answered = 0;
  gint64 deadline;

  for (guint i = 0; i < N; i++)
    _mptcp_netlink_request_async (f->nl, &get_limits, 10000, NULL, request_done_cb, &r[i]);
  /* only 64 go out before any answer */
  while (fake_read_request (f, &m, 20))
    {
      sent++;
      fake_answer_limits (f, &m, m.nlh->nlmsg_seq, TRUE);
      if (sent == 64)
        break;
    }
  g_assert_cmpuint (sent, ==, 64);
  g_assert_false (fake_read_request (f, &m, 20));
  /* answers release the others, in order */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (answered < N)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (f->context, FALSE);
      while (fake_read_request (f, &m, 0))
        {
          sent++;
          fake_answer_limits (f, &m, m.nlh->nlmsg_seq, TRUE);
        }
      answered = 0;
      for (guint i = 0; i < N; i++)
        answered += r[i].done;
      if (sent == N && answered < N)
        g_assert_true (wait_results (f->context, r, N, 2000));
    }
  g_assert_cmpuint (sent, ==, N);
  for (guint i = 0; i < N; i++)
    {
      g_assert_no_error (r[i].error);
      if (i > 0)
        g_assert_cmpuint (r[i].reply->subflows, >, r[i - 1].reply->subflows);
    }
  for (guint i = 0; i < N; i++)
    result_clear (&r[i]);
  g_free (r);
}

/* a callback that drops the last reference and issues a new request from inside */
typedef struct
{
  MptcpNetlink *nl;
  Result        inner;
  gboolean      outer_done;
} Reentrant;

static void
reentrant_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Reentrant *re = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = _mptcp_netlink_request_finish (re->nl, res, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  re->outer_done = TRUE;
  _mptcp_netlink_request_async (re->nl, &get_limits, 0, NULL, request_done_cb, &re->inner);
}

static void
test_fake_reentrant (Fake *f, gconstpointer data)
{
  Reentrant re = { 0 };
  Msg request, ack;
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_FLUSH_ADDRS };

  re.nl = f->nl;
  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, reentrant_cb, &re);
  /* the pending request keeps the broker alive after the test's own reference goes */
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_ack (&ack, request.nlh, 0, TRUE, NULL, 0);
  fake_send_msg (f->kernel_req, &ack);
  while (!re.outer_done)
    g_main_context_iteration (f->context, TRUE);
  g_assert_true (fake_read_request (f, &request, 1000));
  g_assert_cmpuint (request_cmd (&request), ==, MPTCP_PM_CMD_GET_LIMITS);
  fake_answer_limits (f, &request, 2, TRUE);
  g_assert_true (wait_results (f->context, &re.inner, 1, 2000));
  g_assert_no_error (re.inner.error);
  result_clear (&re.inner);
}

static void
test_fake_malformed_reply (Fake *f, gconstpointer data)
{
  Result r = { 0 };
  Msg request, reply;
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };

  _mptcp_netlink_request_async (f->nl, &req, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  msg_genl (&reply, FAKE_FAMILY, NLM_F_MULTI, request.nlh->nlmsg_seq, MPTCP_PM_CMD_GET_ADDR);
  mnl_attr_put_u32 (reply.nlh, MPTCP_PM_ATTR_ADDR, 1);
  ((struct nlattr *) (reply.buf + NLMSG_HDRLEN + GENL_HDRLEN))->nla_len = 200;
  fake_send_msg (f->kernel_req, &reply);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_FAILED);
  result_clear (&r);
}

/* ---- the direct path and the errors a kernel does not send ---- */

typedef struct
{
  gboolean      done;
  MptcpNlReply *reply;
  GError       *error;
} Direct;

static void
direct_done_cb (MptcpNlReply *reply, GError *error, gpointer user_data)
{
  Direct *d = user_data;

  g_assert_false (d->done);
  g_assert_true ((reply == NULL) != (error == NULL));
  d->reply = reply;
  d->error = error;
  d->done = TRUE;
}

static void
direct_clear (Direct *d)
{
  g_clear_pointer (&d->reply, _mptcp_nl_reply_free);
  g_clear_error (&d->error);
  d->done = FALSE;
}

static gboolean
wait_direct (GMainContext *context, Direct *d, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (!d->done && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (context, FALSE))
      g_usleep (200);
  return d->done;
}

/* The library's own requests: a reply through the callback, and a request that fails while it
 * is submitted (the kernel's end is gone) completes from the context, never inside the call. */
static void
test_fake_direct (Fake *f, gconstpointer data)
{
  Direct d = { 0 };
  Msg request;

  _mptcp_netlink_request_direct (f->nl, &get_limits, 0, direct_done_cb, &d);
  g_assert_false (d.done);
  g_assert_true (fake_read_request (f, &request, 1000));
  fake_answer_limits (f, &request, 4, FALSE);
  g_assert_true (wait_direct (f->context, &d, 2000));
  g_assert_no_error (d.error);
  g_assert_cmpuint (d.reply->subflows, ==, 4);
  direct_clear (&d);

  close (f->kernel_req);
  f->kernel_req = -1;
  _mptcp_netlink_request_direct (f->nl, &get_limits, 0, direct_done_cb, &d);
  g_assert_false (d.done);
  g_assert_true (wait_direct (f->context, &d, 2000));
  g_assert_error (d.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_nonnull (strstr (d.error->message, "Could not send GET_LIMITS"));
  direct_clear (&d);
}

/* An NLMSG_ERROR too short for its error code. */
static void
test_fake_malformed_ack (Fake *f, gconstpointer data)
{
  Result r = { 0 };
  Msg request;
  struct nlmsghdr bad = { 0 };

  _mptcp_netlink_request_async (f->nl, &get_limits, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  bad.nlmsg_len = sizeof bad;
  bad.nlmsg_type = NLMSG_ERROR;
  bad.nlmsg_seq = request.nlh->nlmsg_seq;
  fake_send (f->kernel_req, &bad, sizeof bad);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, MPTCP_ERROR, MPTCP_ERROR_FAILED);
  g_assert_nonnull (strstr (r.error->message, "Malformed acknowledgement"));
  result_clear (&r);
}

/* A datagram larger than the broker reads: the request it answers fails at once. */
static void
test_fake_truncated_reply (Fake *f, gconstpointer data)
{
  Result r = { 0 };
  Msg request;
  gsize size = 70000;
  g_autofree guint8 *big = g_malloc0 (size);
  struct nlmsghdr *nlh = (struct nlmsghdr *) big;
  int sndbuf = 256 * 1024;

  _mptcp_netlink_request_async (f->nl, &get_limits, 0, NULL, request_done_cb, &r);
  g_assert_true (fake_read_request (f, &request, 1000));
  nlh->nlmsg_len = (guint32) size;
  nlh->nlmsg_type = FAKE_FAMILY;
  nlh->nlmsg_seq = request.nlh->nlmsg_seq;
  g_assert_cmpint (setsockopt (f->kernel_req, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), ==, 0);
  fake_send (f->kernel_req, big, size);
  g_assert_true (wait_results (f->context, &r, 1, 2000));
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  result_clear (&r);
}

/* ---- fake events ---- */

typedef struct
{
  guint32  token;
  guint    events;
  guint    overruns;
  guint8   last_type;
  guint16  last_sport;
  Fake    *fake;
  guint    id;
  gboolean unsubscribe_on_event;
} Sub;

static void
sub_event_cb (const MptcpNlEvent *event, gpointer user_data)
{
  Sub *s = user_data;

  if (s->token != 0)
    g_assert_cmpuint (event->token, ==, s->token);
  s->events++;
  s->last_type = event->type;
  s->last_sport = event->sport;
  if (s->unsubscribe_on_event)
    {
      _mptcp_netlink_unsubscribe (s->fake->nl, s->id);
      s->id = 0;
    }
}

static void
sub_overrun_cb (gpointer user_data)
{
  Sub *s = user_data;

  s->overruns++;
}

static void
fake_send_event (Fake *f, guint8 type, guint32 token, guint16 sport)
{
  Msg m;

  msg_event (&m, FAKE_FAMILY, type, token, AF_INET, "10.0.0.1", sport, "10.0.0.2", 80);
  fake_send_msg (f->kernel_ev, &m);
}

static void
test_fake_events_dispatch (Fake *f, gconstpointer data)
{
  enum { N = 2000 };
  Sub *subs = g_new0 (Sub, N);
  Sub all1 = { 0 }, all2 = { 0 };
  GError *error = NULL;
  Msg m, m2;
  guint8 dgram[4096] __attribute__ ((aligned (8)));
  gsize off;
  guint total;

  for (guint i = 0; i < N; i++)
    {
      subs[i].token = 1000 + i / 2;   /* two subscribers per token */
      subs[i].fake = f;
      subs[i].id = _mptcp_netlink_subscribe (f->nl, FALSE, subs[i].token, sub_event_cb,
                                             sub_overrun_cb, &subs[i], &error);
      g_assert_no_error (error);
      g_assert_cmpuint (subs[i].id, >, 0);
    }
  all1.id = _mptcp_netlink_subscribe (f->nl, TRUE, 0, sub_event_cb, sub_overrun_cb, &all1,
                                      &error);
  g_assert_no_error (error);
  all2.id = _mptcp_netlink_subscribe (f->nl, TRUE, 0, sub_event_cb, NULL, &all2, &error);
  g_assert_no_error (error);

  /* one event per token of the first hundred, plus one for a token nobody watches */
  for (guint t = 0; t < 100; t++)
    fake_send_event (f, MPTCP_EVENT_CREATED, 1000 + t, 30000 + t);
  fake_send_event (f, MPTCP_EVENT_CREATED, 99, 1);
  /* a listener event (no token): "all" only */
  msg_event (&m, FAKE_FAMILY, MPX_EVENT_LISTENER_CREATED, 0, AF_INET, "0.0.0.0", 80, NULL, 0);
  fake_send_msg (f->kernel_ev, &m);
  /* another family's message and a malformed one: nobody */
  msg_event (&m, FAKE_FAMILY + 1, MPTCP_EVENT_CREATED, 1000, AF_INET, NULL, 0, NULL, 0);
  fake_send_msg (f->kernel_ev, &m);
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 1000, AF_INET, NULL, 0, NULL, 0);
  ((struct nlattr *) (m.buf + NLMSG_HDRLEN + GENL_HDRLEN))->nla_len = 300;
  fake_send_msg (f->kernel_ev, &m);
  /* two events in one datagram */
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_ESTABLISHED, 1005, AF_INET, NULL, 7, NULL, 0);
  msg_event (&m2, FAKE_FAMILY, MPTCP_EVENT_CLOSED, 1005, 0, NULL, 0, NULL, 0);
  off = NLMSG_ALIGN (m.nlh->nlmsg_len);
  memcpy (dgram, m.buf, m.nlh->nlmsg_len);
  memcpy (dgram + off, m2.buf, m2.nlh->nlmsg_len);
  fake_send (f->kernel_ev, dgram, off + m2.nlh->nlmsg_len);

  drain (f->context, 50);

  total = 0;
  for (guint i = 0; i < N; i++)
    {
      guint t = i / 2;
      guint want = t < 100 ? 1 : 0;

      if (t == 5)
        want = 3;
      g_assert_cmpuint (subs[i].events, ==, want);
      if (t < 100 && t != 5)
        g_assert_cmpuint (subs[i].last_sport, ==, 30000 + t);
      total += subs[i].events;
    }
  g_assert_cmpuint (total, ==, 2 * (100 + 2));
  g_assert_cmpuint (subs[10].last_type, ==, MPTCP_EVENT_CLOSED);
  /* every well-formed event of the family: 100 + 1 + 1 + 2 */
  g_assert_cmpuint (all1.events, ==, 104);
  g_assert_cmpuint (all2.events, ==, 104);
  g_assert_cmpuint (all1.last_type, ==, MPTCP_EVENT_CLOSED);

  /* unsubscribing from inside a callback: the first of token 1000's pair removes itself */
  subs[0].unsubscribe_on_event = TRUE;
  fake_send_event (f, MPTCP_EVENT_CLOSED, 1000, 1);
  fake_send_event (f, MPTCP_EVENT_CLOSED, 1000, 1);
  drain (f->context, 20);
  g_assert_cmpuint (subs[0].events, ==, 2);
  g_assert_cmpuint (subs[0].id, ==, 0);
  g_assert_cmpuint (subs[1].events, ==, 3);

  for (guint i = 1; i < N; i++)
    _mptcp_netlink_unsubscribe (f->nl, subs[i].id);
  _mptcp_netlink_unsubscribe (f->nl, all1.id);
  fake_send_event (f, MPTCP_EVENT_CLOSED, 1001, 1);
  drain (f->context, 20);
  g_assert_cmpuint (subs[2].events, ==, 1);
  g_assert_cmpuint (all2.events, ==, 107);
  g_assert_cmpuint (all1.overruns, ==, 0);
  _mptcp_netlink_unsubscribe (f->nl, all2.id);
  g_free (subs);
}

/* the last subscriber leaves from inside its callback, while more events wait in the socket */
static void
test_fake_events_last_unsubscribe (Fake *f, gconstpointer data)
{
  Sub s = { .token = 42, .unsubscribe_on_event = TRUE };
  GError *error = NULL;

  s.fake = f;
  s.id = _mptcp_netlink_subscribe (f->nl, FALSE, 42, sub_event_cb, NULL, &s, &error);
  g_assert_no_error (error);
  fake_send_event (f, MPTCP_EVENT_CREATED, 42, 1);
  fake_send_event (f, MPTCP_EVENT_ESTABLISHED, 42, 1);
  drain (f->context, 20);
  g_assert_cmpuint (s.events, ==, 1);
  g_assert_cmpuint (s.last_type, ==, MPTCP_EVENT_CREATED);

  /* subscribing again reopens reading: the queued event arrives */
  s.unsubscribe_on_event = FALSE;
  s.id = _mptcp_netlink_subscribe (f->nl, FALSE, 42, sub_event_cb, NULL, &s, &error);
  g_assert_no_error (error);
  drain (f->context, 20);
  g_assert_cmpuint (s.events, ==, 2);
  g_assert_cmpuint (s.last_type, ==, MPTCP_EVENT_ESTABLISHED);
  _mptcp_netlink_unsubscribe (f->nl, s.id);
}

/* A subscriber that runs the context again from inside its callback (a nested main loop):
 * the broker's sources may recurse (GLib then does not block them around each dispatch), so
 * the broker holds its socket back itself until the outer dispatch returns. */
typedef struct
{
  Fake    *fake;
  guint8   types[8];
  guint    events;
  guint    during_nested;   /* events delivered while the first callback ran the context */
  gboolean nesting;
  guint    iterations;      /* nested iterations that dispatched something */
} Nested;

static void
nested_event_cb (const MptcpNlEvent *event, gpointer user_data)
{
  Nested *n = user_data;

  if (n->nesting)
    n->during_nested++;
  if (n->events < G_N_ELEMENTS (n->types))
    n->types[n->events] = event->type;
  if (n->events++ == 0)
    {
      n->nesting = TRUE;
      for (guint i = 0; i < 5; i++)
        if (g_main_context_iteration (n->fake->context, FALSE))
          n->iterations++;
      n->nesting = FALSE;
    }
}

static void
test_fake_events_nested_loop (Fake *f, gconstpointer data)
{
  Nested n = { f, { 0 }, 0, 0, FALSE, 0 };
  GError *error = NULL;
  guint id = _mptcp_netlink_subscribe (f->nl, FALSE, 7, nested_event_cb, NULL, &n, &error);

  g_assert_no_error (error);
  fake_send_event (f, MPTCP_EVENT_CREATED, 7, 1);
  fake_send_event (f, MPTCP_EVENT_ESTABLISHED, 7, 1);
  fake_send_event (f, MPTCP_EVENT_CLOSED, 7, 1);
  drain (f->context, 30);

  /* nothing was read while the first event was being handled, then the rest in order */
  g_assert_cmpuint (n.during_nested, ==, 0);
  g_assert_cmpuint (n.events, ==, 3);
  g_assert_cmpuint (n.types[0], ==, MPTCP_EVENT_CREATED);
  g_assert_cmpuint (n.types[1], ==, MPTCP_EVENT_ESTABLISHED);
  g_assert_cmpuint (n.types[2], ==, MPTCP_EVENT_CLOSED);
  /* the held-back socket did not keep the nested loop busy: at most the one dispatch that
   * found the broker busy and blocked it */
  g_assert_cmpuint (n.iterations, <=, 1);

  /* and it reads again afterwards */
  fake_send_event (f, MPTCP_EVENT_CLOSED, 7, 2);
  drain (f->context, 20);
  g_assert_cmpuint (n.events, ==, 4);
  _mptcp_netlink_unsubscribe (f->nl, id);
}

static void
test_fake_no_event_fd (void)
{
  int req[2];
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(MptcpNetlink) nl = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, req), ==, 0);
  nl = _mptcp_netlink_new_for_fds (req[0], -1, FAKE_FAMILY, 0, context);
  g_assert_cmpuint (_mptcp_netlink_subscribe (nl, TRUE, 0, sub_event_cb, NULL, NULL, &error), ==,
                    0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_clear_pointer (&nl, _mptcp_netlink_unref);
  close (req[1]);

  /* nor with a real netlink request socket and an event group: that socket may be another
   * namespace's, so the broker does not open an event socket of its own in ours */
  nl = _mptcp_netlink_new_for_fds (socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC),
                                   -1, FAKE_FAMILY, FAKE_GROUP, context);
  g_assert_cmpuint (_mptcp_netlink_subscribe (nl, TRUE, 0, sub_event_cb, NULL, NULL, &error), ==,
                    0);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED);
}

/* ---- /netlink/kernel ----------------------------------------------------------------------- */

static gboolean kernel_available;
static char *kernel_skip_reason;

static gboolean
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gssize n;

  if (fd < 0)
    return FALSE;
  n = write (fd, text, strlen (text));
  close (fd);
  return n == (gssize) strlen (text);
}

static gboolean
loopback_up (void)
{
  struct ifreq ifr;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  gboolean ok;

  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, "lo", IFNAMSIZ);
  ok = ioctl (fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP;
  ok = ok && ioctl (fd, SIOCSIFFLAGS, &ifr) == 0;
  close (fd);
  return ok;
}

/* Before anything else (no threads yet): a network namespace of our own. */
static void
enter_test_namespace (void)
{
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  int fd;

  if (unshare (CLONE_NEWNET) < 0)
    {
      char map[64];

      if (unshare (CLONE_NEWUSER | CLONE_NEWNET) < 0)
        {
          kernel_skip_reason = g_strdup_printf ("cannot make a network namespace: %s",
                                                g_strerror (errno));
          return;
        }
      write_file ("/proc/self/setgroups", "deny");
      g_snprintf (map, sizeof map, "0 %u 1", (guint) uid);
      write_file ("/proc/self/uid_map", map);
      g_snprintf (map, sizeof map, "0 %u 1", (guint) gid);
      write_file ("/proc/self/gid_map", map);
    }
  if (!loopback_up ())
    {
      kernel_skip_reason = g_strdup_printf ("cannot bring lo up: %s", g_strerror (errno));
      return;
    }
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (fd < 0)
    {
      kernel_skip_reason = g_strdup_printf ("no MPTCP sockets: %s", g_strerror (errno));
      return;
    }
  close (fd);
  kernel_available = TRUE;
}

static gboolean
need_kernel (void)
{
  if (kernel_available)
    return TRUE;
  if (g_strcmp0 (g_getenv ("MPTCP_GLIB_REQUIRE_KERNEL"), "1") == 0)
    g_error ("real-kernel test impossible: %s", kernel_skip_reason);
  g_test_skip (kernel_skip_reason);
  return FALSE;
}

/* Linux 6.2 and later send LISTENER_CREATED / LISTENER_CLOSED; 6.1 none */
#define KERNEL_HAS_LISTENER_EVENTS() read_kernel_at_least (6, 2)

static void
set_path_manager (const char *pm)
{
  /* path_manager from Linux 6.15; pm_type (0 kernel, 1 userspace) on every kernel */
  if (g_file_test ("/proc/sys/net/mptcp/path_manager", G_FILE_TEST_EXISTS))
    g_assert_true (write_file ("/proc/sys/net/mptcp/path_manager", pm));
  else
    g_assert_true (write_file ("/proc/sys/net/mptcp/pm_type",
                               g_str_equal (pm, "kernel") ? "0" : "1"));
}

typedef struct
{
  GMainContext *context;
  MptcpNetlink *nl;
} Kern;

static void
kern_setup (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  if (!need_kernel ())
    return;
  k->context = g_main_context_new ();
  g_main_context_push_thread_default (k->context);
  k->nl = _mptcp_netlink_get_for_context (NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (k->nl);
  set_path_manager ("kernel");
}

static void
kern_teardown (Kern *k, gconstpointer data)
{
  if (k->context == NULL)
    return;
  g_clear_pointer (&k->nl, _mptcp_netlink_unref);
  while (g_main_context_iteration (k->context, FALSE))
    ;
  g_main_context_pop_thread_default (k->context);
  g_main_context_unref (k->context);
  set_path_manager ("kernel");
}

static MptcpNlReply *
kern_request (Kern *k, const MptcpNlRequest *req, GError **error)
{
  Result r = { 0 };

  _mptcp_netlink_request_async (k->nl, req, 0, NULL, request_done_cb, &r);
  g_assert_true (wait_results (k->context, &r, 1, 6000));
  if (r.error != NULL)
    g_propagate_error (error, r.error);
  return r.reply;
}

static void
set_limits (Kern *k, guint32 subflows, guint32 rcv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = NULL;
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_SET_LIMITS, .has_subflows = TRUE,
                         .subflows = subflows, .has_rcv_add_addrs = TRUE,
                         .rcv_add_addrs = rcv };

  reply = kern_request (k, &req, &error);
  g_assert_no_error (error);
}

static void
test_kernel_broker_shared (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  MptcpNetlink *same, *other;
  g_autoptr(GMainContext) ctx2 = g_main_context_new ();

  if (k->nl == NULL)
    return;
  same = _mptcp_netlink_get_for_context (k->context, &error);
  g_assert_no_error (error);
  g_assert_true (same == k->nl);
  other = _mptcp_netlink_get_for_context (ctx2, &error);
  g_assert_no_error (error);
  g_assert_true (other != k->nl);
  g_assert_true (_mptcp_netlink_get_context (other) == ctx2);
  /* the family and group ids are resolved, and the same for both */
  g_assert_cmpuint (_mptcp_netlink_get_family_id (other), ==,
                    _mptcp_netlink_get_family_id (k->nl));
  g_assert_cmpuint (_mptcp_netlink_get_family_id (k->nl), >, 0);
  g_assert_cmpuint (_mptcp_netlink_get_event_group (k->nl), >, 0);
  _mptcp_netlink_unref (same);
  _mptcp_netlink_unref (other);
  /* dropped and made again */
  other = _mptcp_netlink_get_for_context (ctx2, &error);
  g_assert_no_error (error);
  _mptcp_netlink_unref (other);
}

static void
test_kernel_limits (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = NULL;
  MptcpNlRequest bad = { .cmd = MPTCP_PM_CMD_SET_LIMITS, .has_subflows = TRUE, .subflows = 9 };

  if (k->nl == NULL)
    return;
  set_limits (k, 2, 0);
  reply = kern_request (k, &get_limits, &error);
  g_assert_no_error (error);
  g_assert_true (reply->has_limits);
  g_assert_cmpuint (reply->subflows, ==, 2);
  g_assert_cmpuint (reply->rcv_add_addrs, ==, 0);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);

  set_limits (k, 5, 3);
  reply = kern_request (k, &get_limits, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->subflows, ==, 5);
  g_assert_cmpuint (reply->rcv_add_addrs, ==, 3);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);

  reply = kern_request (k, &bad, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_assert_nonnull (strstr (error->message, "limit greater than maximum"));
  g_test_message ("SET_LIMITS 9: %s", error->message);
  g_clear_error (&error);
  set_limits (k, 2, 0);
}

static MptcpNlRequest
endpoint_request (guint8 cmd, int family, const char *ip, guint8 id, guint32 flags)
{
  MptcpNlRequest req = { .cmd = cmd, .has_addr = TRUE };

  if (ip != NULL)
    {
      req.addr.family = family;
      g_assert_cmpint (inet_pton (family, ip, &req.addr.addr), ==, 1);
    }
  if (id != 0)
    {
      req.addr.has_id = TRUE;
      req.addr.id = id;
    }
  if (flags != 0)
    {
      req.addr.has_flags = TRUE;
      req.addr.flags = flags;
    }
  return req;
}

static void
test_kernel_endpoints (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  MptcpNlReply *reply;
  MptcpNlRequest req;
  MptcpNlRequest dump = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };
  MptcpNlRequest flush = { .cmd = MPTCP_PM_CMD_FLUSH_ADDRS };
  char ip[INET6_ADDRSTRLEN];
  gboolean seen5 = FALSE, seen6 = FALSE;

  if (k->nl == NULL)
    return;
  req = endpoint_request (MPTCP_PM_CMD_ADD_ADDR, AF_INET, "10.99.0.1", 5,
                          MPTCP_PM_ADDR_FLAG_SUBFLOW | MPTCP_PM_ADDR_FLAG_BACKUP);
  reply = kern_request (k, &req, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);
  req = endpoint_request (MPTCP_PM_CMD_ADD_ADDR, AF_INET6, "2001:db8::99", 6,
                          MPTCP_PM_ADDR_FLAG_SIGNAL);
  reply = kern_request (k, &req, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);

  /* the same address again */
  req = endpoint_request (MPTCP_PM_CMD_ADD_ADDR, AF_INET, "10.99.0.1", 0,
                          MPTCP_PM_ADDR_FLAG_SUBFLOW);
  reply = kern_request (k, &req, &error);
  g_assert_null (reply);
  /* EEXIST from Linux 6.2; before, EINVAL with a text that also covers a full table, which
   * the broker passes on as it is (MptcpPathManager tells the two apart from the table) */
  if (g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED))
    g_assert_nonnull (strstr (error->message, "too many addresses or duplicate one"));
  else
    g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS);
  g_test_message ("ADD_ADDR twice: %s", error->message);
  g_clear_error (&error);

  reply = kern_request (k, &dump, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < reply->addresses->len; i++)
    {
      MptcpNlAddress *a = &g_array_index (reply->addresses, MptcpNlAddress, i);

      if (a->id == 5)
        {
          seen5 = TRUE;
          g_assert_cmpint (a->family, ==, AF_INET);
          g_assert_cmpstr (ntop (AF_INET, &a->addr, ip), ==, "10.99.0.1");
          g_assert_cmpuint (a->flags, ==, MPTCP_PM_ADDR_FLAG_SUBFLOW | MPTCP_PM_ADDR_FLAG_BACKUP);
        }
      else if (a->id == 6)
        {
          seen6 = TRUE;
          g_assert_cmpint (a->family, ==, AF_INET6);
          g_assert_cmpstr (ntop (AF_INET6, &a->addr, ip), ==, "2001:db8::99");
          g_assert_cmpuint (a->flags, ==, MPTCP_PM_ADDR_FLAG_SIGNAL);
        }
    }
  g_assert_true (seen5 && seen6);
  g_assert_cmpuint (reply->addresses->len, ==, 2);
  _mptcp_nl_reply_free (reply);

  /* GET_ADDR do, by id */
  req = endpoint_request (MPTCP_PM_CMD_GET_ADDR, 0, NULL, 6, 0);
  reply = kern_request (k, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->addresses->len, ==, 1);
  g_assert_cmpuint (g_array_index (reply->addresses, MptcpNlAddress, 0).id, ==, 6);
  _mptcp_nl_reply_free (reply);

  req = endpoint_request (MPTCP_PM_CMD_DEL_ADDR, 0, NULL, 5, 0);
  reply = kern_request (k, &req, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);

  reply = kern_request (k, &dump, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->addresses->len, ==, 1);
  g_assert_cmpuint (g_array_index (reply->addresses, MptcpNlAddress, 0).id, ==, 6);
  _mptcp_nl_reply_free (reply);

  /* gone */
  reply = kern_request (k, &req, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_test_message ("DEL_ADDR unknown: %s", error->message);
  g_clear_error (&error);

  /* a family the kernel does not know (the builder sends no address data for it) */
  req = endpoint_request (MPTCP_PM_CMD_ADD_ADDR, 0, NULL, 0, MPTCP_PM_ADDR_FLAG_SUBFLOW);
  req.addr.family = AF_UNIX;
  reply = kern_request (k, &req, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_test_message ("ADD_ADDR family 1: %s", error->message);
  g_clear_error (&error);

  reply = kern_request (k, &flush, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);
  reply = kern_request (k, &dump, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->addresses->len, ==, 0);
  _mptcp_nl_reply_free (reply);
}

/* ---- real MPTCP connections on loopback ---- */

typedef struct
{
  int      listener;
  int      client;
  int      server;
  guint16  port;
  guint16  client_port;
  guint32  client_token;
  guint32  server_token;
} Conn;

static guint32
mptcp_token (int fd)
{
  mpx_mptcp_info info;
  socklen_t len = sizeof info;

  memset (&info, 0, sizeof info);
  g_assert_cmpint (getsockopt (fd, SOL_MPTCP, MPTCP_INFO, &info, &len), ==, 0);
  return info.token;
}

static guint16
local_port (int fd)
{
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;

  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sin, &len), ==, 0);
  return ntohs (sin.sin_port);
}

static void
conn_listen (Conn *c)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };

  memset (c, 0, sizeof *c);
  c->client = c->server = -1;
  c->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  g_assert_cmpint (c->listener, >=, 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (c->listener, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (c->listener, 16), ==, 0);
  c->port = local_port (c->listener);
}

/* connect; with send_byte the client sends one byte (its ESTABLISHED needs data) */
static void
conn_connect (Conn *c, gboolean send_byte)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  char byte = 'x';

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sin.sin_port = htons (c->port);
  c->client = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  g_assert_cmpint (c->client, >=, 0);
  g_assert_cmpint (connect (c->client, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  c->server = accept4 (c->listener, NULL, NULL, SOCK_CLOEXEC);
  g_assert_cmpint (c->server, >=, 0);
  c->client_port = local_port (c->client);
  c->client_token = mptcp_token (c->client);
  c->server_token = mptcp_token (c->server);
  g_assert_cmpuint (c->client_token, !=, 0);
  g_assert_cmpuint (c->server_token, !=, 0);
  if (send_byte)
    {
      g_assert_cmpint (send (c->client, &byte, 1, 0), ==, 1);
      g_assert_cmpint (recv (c->server, &byte, 1, 0), ==, 1);
    }
}

static void
conn_close (Conn *c)
{
  if (c->client >= 0)
    close (c->client);
  if (c->server >= 0)
    close (c->server);
  if (c->listener >= 0)
    close (c->listener);
  c->client = c->server = c->listener = -1;
}

typedef struct
{
  GArray *events;     /* of MptcpNlEvent */
  guint   overruns;
} Recorder;

static void
record_event_cb (const MptcpNlEvent *event, gpointer user_data)
{
  Recorder *rec = user_data;

  g_array_append_val (rec->events, *event);
}

static void
record_overrun_cb (gpointer user_data)
{
  Recorder *rec = user_data;

  rec->overruns++;
}

static const MptcpNlEvent *
recorder_find (Recorder *rec, guint8 type, guint32 token)
{
  for (guint i = 0; i < rec->events->len; i++)
    {
      const MptcpNlEvent *e = &g_array_index (rec->events, MptcpNlEvent, i);

      if (e->type == type && (token == 0 || e->token == token))
        return e;
    }
  return NULL;
}

static const MptcpNlEvent *
wait_event (GMainContext *context, Recorder *rec, guint8 type, guint32 token, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  const MptcpNlEvent *e;

  while ((e = recorder_find (rec, type, token)) == NULL && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (500);
    }
  return e;
}

static void
test_kernel_events (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Recorder all = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  Recorder mine = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  const MptcpNlEvent *e;
  guint all_id, mine_id;
  Conn c;
  char ip[INET6_ADDRSTRLEN];

  if (k->nl == NULL)
    return;
  all_id = _mptcp_netlink_subscribe (k->nl, TRUE, 0, record_event_cb, record_overrun_cb, &all,
                                     &error);
  g_assert_no_error (error);

  conn_listen (&c);
  if (KERNEL_HAS_LISTENER_EVENTS ())
    {
      e = wait_event (k->context, &all, MPX_EVENT_LISTENER_CREATED, 0, 2000);
      g_assert_nonnull (e);
      g_assert_cmpint (e->family, ==, AF_INET);
      g_assert_cmpuint (e->sport, ==, c.port);
      g_assert_cmpstr (ntop (AF_INET, &e->saddr, ip), ==, "127.0.0.1");
    }
  else
    g_test_message ("Linux < 6.2: no listener events (checked below: none arrive)");

  conn_connect (&c, FALSE);
  mine_id = _mptcp_netlink_subscribe (k->nl, FALSE, c.client_token, record_event_cb,
                                      record_overrun_cb, &mine, &error);
  g_assert_no_error (error);
  /* CREATED was sent before we knew the token: the "all" subscriber has it */
  e = wait_event (k->context, &all, MPTCP_EVENT_CREATED, c.client_token, 2000);
  g_assert_nonnull (e);
  g_assert_cmpint (e->family, ==, AF_INET);
  g_assert_cmpuint (e->sport, ==, c.client_port);   /* host order */
  g_assert_cmpuint (e->dport, ==, c.port);
  g_assert_cmpstr (ntop (AF_INET, &e->saddr, ip), ==, "127.0.0.1");
  g_assert_cmpstr (ntop (AF_INET, &e->daddr, ip), ==, "127.0.0.1");
  g_assert_cmpuint (e->server_side, ==, 0);
  e = wait_event (k->context, &all, MPTCP_EVENT_CREATED, c.server_token, 2000);
  g_assert_nonnull (e);
  g_assert_cmpuint (e->server_side, ==, 1);
  /* the MPTCP_ATTR_FLAGS word of events is new (6.18 sends it with the server-side bit; the
   * kernel leaves it out when no bit is set, and 6.1 and 6.12 have no server-side bit): where
   * the kernel sends it, the bit must be there; before, MPTCP_ATTR_SERVER_SIDE alone says it */
  if (MPTCP_NL_EVENT_HAS (e, MPTCP_ATTR_FLAGS))
    g_assert_true (e->flags & MPX_EV_FLAG_SERVER_SIDE);
  else
    g_test_message ("no MPTCP_ATTR_FLAGS in CREATED: server side from MPTCP_ATTR_SERVER_SIDE only");
  g_assert_cmpuint (e->sport, ==, c.port);

  /* the client is ESTABLISHED once it sent data */
  {
    char byte = 'y';

    g_assert_cmpint (send (c.client, &byte, 1, 0), ==, 1);
    g_assert_cmpint (recv (c.server, &byte, 1, 0), ==, 1);
  }
  e = wait_event (k->context, &mine, MPTCP_EVENT_ESTABLISHED, c.client_token, 2000);
  g_assert_nonnull (e);
  g_assert_cmpuint (e->sport, ==, c.client_port);

  conn_close (&c);
  e = wait_event (k->context, &mine, MPTCP_EVENT_CLOSED, c.client_token, 2000);
  g_assert_nonnull (e);
  g_assert_cmphex (e->present, ==, 1u << MPTCP_ATTR_TOKEN);
  if (KERNEL_HAS_LISTENER_EVENTS ())
    g_assert_nonnull (wait_event (k->context, &all, MPX_EVENT_LISTENER_CLOSED, 0, 2000));
  g_assert_nonnull (wait_event (k->context, &all, MPTCP_EVENT_CLOSED, c.server_token, 2000));
  if (!KERNEL_HAS_LISTENER_EVENTS ())
    for (guint i = 0; i < all.events->len; i++)
      {
        guint8 type = g_array_index (all.events, MptcpNlEvent, i).type;

        g_assert_cmpuint (type, !=, MPX_EVENT_LISTENER_CREATED);
        g_assert_cmpuint (type, !=, MPX_EVENT_LISTENER_CLOSED);
      }

  /* the token subscriber saw only its own connection */
  for (guint i = 0; i < mine.events->len; i++)
    g_assert_cmpuint (g_array_index (mine.events, MptcpNlEvent, i).token, ==, c.client_token);
  g_assert_cmpuint (all.overruns, ==, 0);

  _mptcp_netlink_unsubscribe (k->nl, mine_id);
  _mptcp_netlink_unsubscribe (k->nl, all_id);
  g_array_unref (all.events);
  g_array_unref (mine.events);
}

/* The last subscriber leaves: the broker's own event socket leaves the group (parked) instead
 * of closing. What happens meanwhile is not delivered later, and a new subscriber hears new
 * events at once. */
static void
test_kernel_events_park (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Recorder rec = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  guint id;
  Conn c;

  if (k->nl == NULL)
    return;
  for (guint round = 0; round < 3; round++)
    {
      id = _mptcp_netlink_subscribe (k->nl, TRUE, 0, record_event_cb, record_overrun_cb, &rec,
                                     &error);
      g_assert_no_error (error);
      _mptcp_netlink_unsubscribe (k->nl, id);
    }

  /* an event queued but not read when the last subscriber leaves, and events while nobody
   * listens: a listener comes and goes */
  id = _mptcp_netlink_subscribe (k->nl, TRUE, 0, record_event_cb, record_overrun_cb, &rec, &error);
  g_assert_no_error (error);
  conn_listen (&c);
  _mptcp_netlink_unsubscribe (k->nl, id);
  close (c.listener);
  c.listener = -1;
  drain (k->context, 50);

  id = _mptcp_netlink_subscribe (k->nl, TRUE, 0, record_event_cb, record_overrun_cb, &rec, &error);
  g_assert_no_error (error);
  drain (k->context, 50);
  g_assert_cmpuint (rec.events->len, ==, 0);

  conn_listen (&c);
  if (KERNEL_HAS_LISTENER_EVENTS ())
    g_assert_nonnull (wait_event (k->context, &rec, MPX_EVENT_LISTENER_CREATED, 0, 2000));
  conn_connect (&c, TRUE);
  g_assert_nonnull (wait_event (k->context, &rec, MPTCP_EVENT_CREATED, c.client_token, 2000));
  conn_close (&c);
  g_assert_nonnull (wait_event (k->context, &rec, MPTCP_EVENT_CLOSED, c.client_token, 2000));
  g_assert_cmpuint (rec.overruns, ==, 0);
  _mptcp_netlink_unsubscribe (k->nl, id);
  g_array_unref (rec.events);
}

/* The last subscriber leaves from its callback and another one comes in the same callback,
 * while the events that were queued with the first one's are still in the batch read with it
 * (the broker reads up to 16 datagrams per system call): the park dropped them from the
 * socket, so the new subscriber must not get them from the batch either; it hears new events. */
typedef struct
{
  Kern     *k;
  guint     first_id;
  guint     first_events;
  guint     second_id;
  Recorder  second;
} Handover;

static void
handover_event_cb (const MptcpNlEvent *event, gpointer user_data)
{
  Handover *h = user_data;
  g_autoptr(GError) error = NULL;

  if (h->first_events++ > 0)
    return;   /* not reached: the subscription is gone */
  _mptcp_netlink_unsubscribe (h->k->nl, h->first_id);
  h->second_id = _mptcp_netlink_subscribe (h->k->nl, TRUE, 0, record_event_cb,
                                           record_overrun_cb, &h->second, &error);
  g_assert_no_error (error);
}

static void
test_kernel_events_park_in_batch (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Handover h = { k, 0, 0, 0, { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 } };
  Conn c;

  if (k->nl == NULL)
    return;
  h.first_id = _mptcp_netlink_subscribe (k->nl, TRUE, 0, handover_event_cb, NULL, &h, &error);
  g_assert_no_error (error);
  /* several events queued before the context runs: the connection's CREATED on both sides
   * (and LISTENER_CREATED from 6.2), its ESTABLISHED on both sides after the byte */
  conn_listen (&c);
  conn_connect (&c, TRUE);
  drain (k->context, 50);
  g_assert_cmpuint (h.first_events, ==, 1);
  g_assert_cmpuint (h.second_id, !=, 0);
  g_assert_cmpuint (h.second.events->len, ==, 0);

  conn_close (&c);
  g_assert_nonnull (wait_event (k->context, &h.second, MPTCP_EVENT_CLOSED, c.client_token, 2000));
  g_assert_cmpuint (h.second.overruns, ==, 0);
  _mptcp_netlink_unsubscribe (k->nl, h.second_id);
  g_array_unref (h.second.events);
}

static void
test_kernel_token_errors (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  MptcpNlReply *reply;
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_SUBFLOW_CREATE };
  Conn c;

  if (k->nl == NULL)
    return;
  req.has_addr = TRUE;
  req.addr.family = AF_INET;
  inet_pton (AF_INET, "127.0.0.2", &req.addr.addr.v4);
  req.addr.has_id = TRUE;
  req.addr.id = 1;
  req.has_remote = TRUE;
  req.remote.family = AF_INET;
  inet_pton (AF_INET, "127.0.0.1", &req.remote.addr.v4);
  req.remote.port = 1;

  /* no token at all: the missing attribute is named */
  reply = kern_request (k, &req, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED);
  g_test_message ("no token: %s", error->message);
  /* 6.18 names the missing attribute; 6.1 and 6.12 (measured) refuse it with EINVAL alone */
  if (read_kernel_at_least (6, 18))
    g_assert_nonnull (strstr (error->message, "token"));
  else
    g_assert_nonnull (strstr (error->message, "Invalid argument"));
  g_clear_error (&error);

  /* a token nobody has, with either path manager */
  req.has_token = TRUE;
  req.token = 0x12345;
  for (guint i = 0; i < 2; i++)
    {
      set_path_manager (i == 0 ? "userspace" : "kernel");
      reply = kern_request (k, &req, &error);
      g_assert_null (reply);
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
      g_test_message ("bogus token (%s PM): %s", i == 0 ? "userspace" : "kernel",
                      error->message);
      g_clear_error (&error);
    }

  /* a real connection of the in-kernel PM */
  conn_listen (&c);
  conn_connect (&c, TRUE);
  req.token = c.client_token;
  req.remote.port = c.port;
  reply = kern_request (k, &req, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER);
  g_test_message ("in-kernel PM connection: %s", error->message);
  g_clear_error (&error);
  conn_close (&c);
}

static void
test_kernel_userspace_pm (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Recorder rec = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  Recorder srv = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  MptcpNlReply *reply;
  MptcpNlRequest create = { .cmd = MPTCP_PM_CMD_SUBFLOW_CREATE, .has_token = TRUE };
  MptcpNlRequest destroy;
  MptcpNlRequest announce = { .cmd = MPTCP_PM_CMD_ANNOUNCE, .has_token = TRUE };
  MptcpNlRequest remove = { .cmd = MPTCP_PM_CMD_REMOVE, .has_token = TRUE, .has_loc_id = TRUE,
                            .loc_id = 5 };
  MptcpNlRequest list = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE, .has_token = TRUE };
  const MptcpNlEvent *e;
  guint id, srv_id;
  Conn c, early;
  char ip[INET6_ADDRSTRLEN];
  guint16 sub_port;

  if (k->nl == NULL)
    return;
  set_path_manager ("userspace");
  conn_listen (&c);
  conn_connect (&c, TRUE);
  id = _mptcp_netlink_subscribe (k->nl, FALSE, c.client_token, record_event_cb, NULL, &rec,
                                 &error);
  g_assert_no_error (error);
  srv_id = _mptcp_netlink_subscribe (k->nl, FALSE, c.server_token, record_event_cb, NULL, &srv,
                                     &error);
  g_assert_no_error (error);

  /* a new subflow from 127.0.0.2 (id 1) */
  create.token = c.client_token;
  create.has_addr = TRUE;
  create.addr.family = AF_INET;
  inet_pton (AF_INET, "127.0.0.2", &create.addr.addr.v4);
  create.addr.has_id = TRUE;
  create.addr.id = 1;
  create.has_remote = TRUE;
  create.remote.family = AF_INET;
  inet_pton (AF_INET, "127.0.0.1", &create.remote.addr.v4);
  create.remote.port = c.port;
  reply = kern_request (k, &create, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);

  e = wait_event (k->context, &rec, MPTCP_EVENT_SUB_ESTABLISHED, c.client_token, 2000);
  g_assert_nonnull (e);
  g_assert_cmpint (e->family, ==, AF_INET);
  g_assert_cmpstr (ntop (AF_INET, &e->saddr, ip), ==, "127.0.0.2");
  g_assert_cmpstr (ntop (AF_INET, &e->daddr, ip), ==, "127.0.0.1");
  g_assert_cmpuint (e->dport, ==, c.port);
  g_assert_cmpuint (e->loc_id, ==, 1);
  g_assert_cmpuint (e->sport, !=, 0);
  sub_port = e->sport;

  /* the connection's local address list has the entry: the per-connection dump is Linux 6.9+;
   * before (6.1) a GET_ADDR dump with a token answers without the connection's entries */
  list.token = c.client_token;
  reply = kern_request (k, &list, &error);
  g_assert_no_error (error);
  if (read_kernel_at_least (6, 9))
    {
      g_assert_cmpuint (reply->addresses->len, ==, 1);
      g_assert_cmpuint (g_array_index (reply->addresses, MptcpNlAddress, 0).id, ==, 1);
      g_assert_cmpstr (ntop (AF_INET, &g_array_index (reply->addresses, MptcpNlAddress, 0).addr,
                             ip), ==, "127.0.0.2");
    }
  else
    {
      g_test_message ("Linux < 6.9: no per-connection address dump (%u entries)",
                      reply->addresses->len);
      for (guint i = 0; i < reply->addresses->len; i++)
        g_assert_cmpstr (ntop (AF_INET, &g_array_index (reply->addresses, MptcpNlAddress, i).addr,
                               ip), !=, "127.0.0.2");
    }
  _mptcp_nl_reply_free (reply);

  /* announce an address: the peer gets ANNOUNCED (no family attribute) */
  announce.token = c.client_token;
  announce.has_addr = TRUE;
  announce.addr.family = AF_INET;
  inet_pton (AF_INET, "127.0.0.3", &announce.addr.addr.v4);
  announce.addr.has_id = TRUE;
  announce.addr.id = 5;
  announce.addr.has_flags = TRUE;
  announce.addr.flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
  reply = kern_request (k, &announce, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);
  e = wait_event (k->context, &srv, MPTCP_EVENT_ANNOUNCED, c.server_token, 2000);
  g_assert_nonnull (e);
  g_assert_false (MPTCP_NL_EVENT_HAS (e, MPTCP_ATTR_FAMILY));
  g_assert_cmpint (e->family, ==, AF_INET);
  g_assert_cmpstr (ntop (AF_INET, &e->daddr, ip), ==, "127.0.0.3");
  g_assert_cmpuint (e->rem_id, ==, 5);

  remove.token = c.client_token;
  reply = kern_request (k, &remove, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);
  g_assert_nonnull (wait_event (k->context, &srv, MPTCP_EVENT_REMOVED, c.server_token, 2000));
  reply = kern_request (k, &remove, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_test_message ("REMOVE twice: %s", error->message);
  g_clear_error (&error);

  /* destroy the subflow */
  destroy = create;
  destroy.cmd = MPTCP_PM_CMD_SUBFLOW_DESTROY;
  destroy.addr.port = sub_port;
  reply = kern_request (k, &destroy, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);
  e = wait_event (k->context, &rec, MPTCP_EVENT_SUB_CLOSED, c.client_token, 2000);
  g_assert_nonnull (e);
  g_assert_cmpuint (e->sport, ==, sub_port);
  reply = kern_request (k, &destroy, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW);
  g_test_message ("DESTROY twice: %s", error->message);
  g_clear_error (&error);

  /* a mismatched family */
  create.remote.family = AF_INET6;
  inet_pton (AF_INET6, "::1", &create.remote.addr.v6);
  reply = kern_request (k, &create, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS);
  g_test_message ("families: %s", error->message);
  g_clear_error (&error);

  /* a client that has sent nothing is not established yet */
  early.listener = c.listener;
  early.port = c.port;
  conn_connect (&early, FALSE);
  create.token = early.client_token;
  create.remote.family = AF_INET;
  inet_pton (AF_INET, "127.0.0.1", &create.remote.addr.v4);
  create.addr.id = 2;
  reply = kern_request (k, &create, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_ESTABLISHED);
  g_test_message ("not established: %s", error->message);
  g_clear_error (&error);
  early.listener = -1;
  conn_close (&early);

  _mptcp_netlink_unsubscribe (k->nl, id);
  _mptcp_netlink_unsubscribe (k->nl, srv_id);
  conn_close (&c);
  g_array_unref (rec.events);
  g_array_unref (srv.events);
}

static void
test_kernel_sync (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  MptcpNlRequest set = { .cmd = MPTCP_PM_CMD_SET_LIMITS, .has_subflows = TRUE, .subflows = 4 };
  MptcpNlRequest del = { .cmd = MPTCP_PM_CMD_DEL_ADDR, .has_addr = TRUE,
                         .addr = { .has_id = TRUE, .id = 77 } };

  if (!need_kernel ())
    return;
  reply = _mptcp_netlink_request_sync (&set, 0, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);
  reply = _mptcp_netlink_request_sync (&get_limits, 0, cancellable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->subflows, ==, 4);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);
  reply = _mptcp_netlink_request_sync (&del, 0, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_clear_error (&error);

  g_cancellable_cancel (cancellable);
  reply = _mptcp_netlink_request_sync (&get_limits, 0, cancellable, &error);
  g_assert_null (reply);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  set.subflows = 2;
  reply = _mptcp_netlink_request_sync (&set, 0, NULL, &error);
  g_assert_no_error (error);

  /* the thread-default context is left as it was */
  g_assert_true (g_main_context_get_thread_default () == NULL);
}

/* A synchronous call after the thread's setns()/unshare() talks to the namespace the thread is in
 * now, not to the one its earlier synchronous calls used. */
static gpointer
sync_after_setns_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = NULL;
  MptcpNlRequest set = { .cmd = MPTCP_PM_CMD_SET_LIMITS, .has_subflows = TRUE, .subflows = 7 };

  /* the thread's broker is made here, in the test's namespace */
  reply = _mptcp_netlink_request_sync (&set, 0, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);
  reply = _mptcp_netlink_request_sync (&get_limits, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->subflows, ==, 7);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);

  /* a fresh namespace of this thread only: its limits are the kernel's defaults */
  g_assert_cmpint (unshare (CLONE_NEWNET), ==, 0);
  reply = _mptcp_netlink_request_sync (&get_limits, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->subflows, !=, 7);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);

  return GINT_TO_POINTER (TRUE);
}

static void
test_kernel_sync_after_setns (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpNlReply) reply = NULL;
  MptcpNlRequest set = { .cmd = MPTCP_PM_CMD_SET_LIMITS, .has_subflows = TRUE, .subflows = 2 };

  if (!need_kernel ())
    return;
  g_assert_true (g_thread_join (g_thread_new ("setns", sync_after_setns_thread, NULL)));

  /* the test's namespace kept what the thread set there */
  reply = _mptcp_netlink_request_sync (&get_limits, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reply->subflows, ==, 7);
  g_clear_pointer (&reply, _mptcp_nl_reply_free);
  reply = _mptcp_netlink_request_sync (&set, 0, NULL, &error);
  g_assert_no_error (error);
}

/* many events while nobody reads, into a tiny receive buffer: ENOBUFS → overrun callbacks */
static void
test_kernel_overrun (Kern *k, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Recorder all = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  Recorder one = { g_array_new (FALSE, TRUE, sizeof (MptcpNlEvent)), 0 };
  guint all_id, one_id;
  Conn c;
  int extra;

  if (k->nl == NULL)
    return;
  _mptcp_netlink_set_event_rcvbuf (k->nl, 1);   /* the kernel's minimum, about 2 KiB */
  all_id = _mptcp_netlink_subscribe (k->nl, TRUE, 0, record_event_cb, record_overrun_cb, &all,
                                     &error);
  g_assert_no_error (error);
  one_id = _mptcp_netlink_subscribe (k->nl, FALSE, 1, NULL, record_overrun_cb, &one, &error);
  g_assert_no_error (error);

  conn_listen (&c);
  for (guint i = 0; i < 20; i++)
    {
      conn_connect (&c, TRUE);
      close (c.client);
      close (c.server);
      c.client = c.server = -1;
    }
  drain (k->context, 100);
  g_test_message ("overrun: %u overrun(s), %u events read", all.overruns, all.events->len);
  g_assert_cmpuint (all.overruns, >=, 1);
  g_assert_cmpuint (one.overruns, ==, all.overruns);
  g_assert_cmpuint (all.events->len, <, 20 * 6);

  /* reading goes on after the overrun */
  g_array_set_size (all.events, 0);
  if (KERNEL_HAS_LISTENER_EVENTS ())
    {
      extra = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
      g_assert_cmpint (listen (extra, 1), ==, 0);
      g_assert_nonnull (wait_event (k->context, &all, MPX_EVENT_LISTENER_CREATED, 0, 2000));
      close (extra);
    }
  else
    {
      /* Linux < 6.2: a connection's events instead */
      conn_connect (&c, TRUE);
      g_assert_nonnull (wait_event (k->context, &all, MPTCP_EVENT_CREATED, c.client_token, 2000));
    }
  conn_close (&c);
  drain (k->context, 20);

  _mptcp_netlink_unsubscribe (k->nl, all_id);
  _mptcp_netlink_unsubscribe (k->nl, one_id);
  _mptcp_netlink_set_event_rcvbuf (k->nl, 0);
  g_array_unref (all.events);
  g_array_unref (one.events);
}

static void
drop_net_admin (void)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];

  memset (caps, 0, sizeof caps);
  g_assert_cmpint (syscall (SYS_capget, &header, caps), ==, 0);
  caps[CAP_TO_INDEX (CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK (CAP_NET_ADMIN);
  caps[CAP_TO_INDEX (CAP_NET_ADMIN)].permitted &= ~CAP_TO_MASK (CAP_NET_ADMIN);
  caps[CAP_TO_INDEX (CAP_NET_ADMIN)].inheritable &= ~CAP_TO_MASK (CAP_NET_ADMIN);
  g_assert_cmpint (syscall (SYS_capset, &header, caps), ==, 0);
}

static void
test_kernel_no_cap_net_admin (void)
{
  if (!need_kernel ())
    return;

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MptcpNlReply) reply = NULL;
      g_autoptr(GMainContext) context = g_main_context_new ();
      g_autoptr(MptcpNetlink) nl = NULL;
      MptcpNlRequest set = { .cmd = MPTCP_PM_CMD_SET_LIMITS, .has_subflows = TRUE,
                             .subflows = 3 };
      MptcpNlRequest dump = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };

      drop_net_admin ();

      /* reads work */
      reply = _mptcp_netlink_request_sync (&get_limits, 0, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (reply->has_limits);
      g_clear_pointer (&reply, _mptcp_nl_reply_free);
      reply = _mptcp_netlink_request_sync (&dump, 0, NULL, &error);
      g_assert_no_error (error);
      g_clear_pointer (&reply, _mptcp_nl_reply_free);

      /* changes do not */
      reply = _mptcp_netlink_request_sync (&set, 0, NULL, &error);
      g_assert_null (reply);
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
      g_assert_nonnull (strstr (error->message, "CAP_NET_ADMIN"));
      g_test_message ("SET_LIMITS without CAP_NET_ADMIN: %s", error->message);
      g_clear_error (&error);

      /* nor do events */
      nl = _mptcp_netlink_get_for_context (context, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (_mptcp_netlink_subscribe (nl, TRUE, 0, record_event_cb, NULL, NULL,
                                                  &error), ==, 0);
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
      g_assert_nonnull (strstr (error->message, "CAP_NET_ADMIN"));
      g_test_message ("subscribe without CAP_NET_ADMIN: %s", error->message);
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  int ret;

  enter_test_namespace ();
  g_test_init (&argc, &argv, NULL);

#define FAKE_TEST(path, fn) g_test_add ("/netlink/fake/" path, Fake, NULL, fake_setup, fn, \
                                        fake_teardown)
  FAKE_TEST ("out-of-order", test_fake_out_of_order);
  FAKE_TEST ("dump-multipart", test_fake_dump_multipart);
  FAKE_TEST ("extack-error", test_fake_extack_error);
  FAKE_TEST ("miss-type", test_fake_miss_type);
  FAKE_TEST ("timeout", test_fake_timeout);
  FAKE_TEST ("cancel", test_fake_cancel);
  FAKE_TEST ("in-flight-cap", test_fake_in_flight_cap);
  FAKE_TEST ("reentrant", test_fake_reentrant);
  FAKE_TEST ("malformed-reply", test_fake_malformed_reply);
  FAKE_TEST ("direct", test_fake_direct);
  FAKE_TEST ("malformed-ack", test_fake_malformed_ack);
  FAKE_TEST ("truncated-reply", test_fake_truncated_reply);
  FAKE_TEST ("events-dispatch", test_fake_events_dispatch);
  FAKE_TEST ("events-last-unsubscribe", test_fake_events_last_unsubscribe);
  FAKE_TEST ("events-nested-loop", test_fake_events_nested_loop);
  g_test_add_func ("/netlink/fake/no-event-fd", test_fake_no_event_fd);

#define KERNEL_TEST(path, fn) g_test_add ("/netlink/kernel/" path, Kern, NULL, kern_setup, fn, \
                                          kern_teardown)
  KERNEL_TEST ("broker-shared", test_kernel_broker_shared);
  KERNEL_TEST ("limits", test_kernel_limits);
  KERNEL_TEST ("endpoints", test_kernel_endpoints);
  KERNEL_TEST ("events", test_kernel_events);
  KERNEL_TEST ("events-park", test_kernel_events_park);
  KERNEL_TEST ("events-park-in-batch", test_kernel_events_park_in_batch);
  KERNEL_TEST ("token-errors", test_kernel_token_errors);
  KERNEL_TEST ("userspace-pm", test_kernel_userspace_pm);
  KERNEL_TEST ("overrun", test_kernel_overrun);
  g_test_add_func ("/netlink/kernel/sync", test_kernel_sync);
  g_test_add_func ("/netlink/kernel/sync-after-setns", test_kernel_sync_after_setns);
  g_test_add_func ("/netlink/kernel/no-cap-net-admin", test_kernel_no_cap_net_admin);

  ret = g_test_run ();
  g_free (kernel_skip_reason);
  return ret;
}
