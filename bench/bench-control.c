/* bench-control.c: open + established + close of a subflow through the library against the
 * same raw netlink requests, and the memory of idle registered connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run inside a testbed:  ./_build/tests/mptcp-testbed ./_build/bench/bench-control [ROUNDS]
 * (run directly, it builds its own testbed).
 *
 * The server namespace is switched to the userspace path manager for the connection used
 * here (an in-kernel-PM peer refuses joins now and then in fast loops). One round is:
 *   raw      SUBFLOW_CREATE (explicit local id), its ack, read events until SUB_ESTABLISHED
 *            of the new subflow, SUBFLOW_DESTROY of its 4-tuple, its ack, read events until
 *            SUB_CLOSED: libmnl on two sockets of the bench's own, no library code;
 *   library  mptcp_connection_open_subflow_async() then mptcp_subflow_close_async() on the
 *            thread-default main loop (both complete on the kernel's events).
 * Rounds alternate in batches of 50; it prints the median wall time per round of each and
 * the ratio library / raw (target <= 1.1).
 *
 * Memory: mallinfo2() before and after making 1000 MptcpConnection objects of 1000 idle
 * connections (each subscribed to the kernel's events), divided by 1000 (target <= 1 KiB).
 */

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <libmnl/libmnl.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "read-common.h"
#include "mptcp-connection-private.h"
#include "mptcp-netlink-private.h"

#define PORT 6100
#define BATCH 50

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* ---- raw baseline ------------------------------------------------------------------------ */

typedef struct
{
  struct mnl_socket *req;
  struct mnl_socket *ev;
  guint16 family;
  guint32 seq;
  guint32 token;
  struct in_addr local, remote;
  guint16 remote_port;
  char buf[8192];
} Raw;

static void
put_addr (struct nlmsghdr *nlh,
          guint16          type,
          struct in_addr  *addr,
          guint16          port,
          guint8           id)
{
  struct nlattr *nest = mnl_attr_nest_start (nlh, type);

  mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
  mnl_attr_put (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, addr);
  if (id != 0)
    mnl_attr_put_u8 (nlh, MPTCP_PM_ADDR_ATTR_ID, id);
  if (port != 0)
    mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_PORT, port);
  mnl_attr_nest_end (nlh, nest);
}

static void
raw_request (Raw     *raw,
             guint8   cmd,
             guint16  local_port)
{
  char buf[512];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct genlmsghdr *genl;
  int n;

  nlh->nlmsg_type = raw->family;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = ++raw->seq;
  genl = mnl_nlmsg_put_extra_header (nlh, sizeof *genl);
  genl->cmd = cmd;
  genl->version = 1;
  mnl_attr_put_u32 (nlh, MPTCP_PM_ATTR_TOKEN, raw->token);
  put_addr (nlh, MPTCP_PM_ATTR_ADDR, &raw->local, local_port, cmd == MPTCP_PM_CMD_SUBFLOW_CREATE ? 1 : 0);
  put_addr (nlh, MPTCP_PM_ATTR_ADDR_REMOTE, &raw->remote, raw->remote_port, 0);
  g_assert_cmpint (mnl_socket_sendto (raw->req, nlh, nlh->nlmsg_len), >, 0);
  n = mnl_socket_recvfrom (raw->req, raw->buf, sizeof raw->buf);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (mnl_cb_run (raw->buf, n, raw->seq, mnl_socket_get_portid (raw->req), NULL, NULL),
                   >=, 0);
}

typedef struct
{
  guint8 type;
  guint32 token;
  guint16 sport;
} RawEvent;

static int
raw_event_attr (const struct nlattr *attr,
                void               *data)
{
  RawEvent *ev = data;

  switch (mnl_attr_get_type (attr))
    {
    case MPTCP_ATTR_TOKEN:
      ev->token = mnl_attr_get_u32 (attr);
      break;
    case MPTCP_ATTR_SPORT:
      ev->sport = ntohs (mnl_attr_get_u16 (attr));
      break;
    default:
      break;
    }
  return MNL_CB_OK;
}

/* Reads events until one of type for our token; returns its sport. */
static guint16
raw_wait_event (Raw   *raw,
                guint8 type)
{
  for (;;)
    {
      int n = mnl_socket_recvfrom (raw->ev, raw->buf, sizeof raw->buf);
      struct nlmsghdr *nlh = (struct nlmsghdr *) raw->buf;
      struct genlmsghdr *genl;
      RawEvent ev = { 0 };

      g_assert_cmpint (n, >, 0);
      genl = mnl_nlmsg_get_payload (nlh);
      ev.type = genl->cmd;
      mnl_attr_parse (nlh, sizeof *genl, raw_event_attr, &ev);
      if (ev.type == type && ev.token == raw->token)
        return ev.sport;
    }
}

static void
raw_round (Raw *raw)
{
  guint16 sport;

  raw_request (raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
  sport = raw_wait_event (raw, MPTCP_EVENT_SUB_ESTABLISHED);
  raw_request (raw, MPTCP_PM_CMD_SUBFLOW_DESTROY, sport);
  raw_wait_event (raw, MPTCP_EVENT_SUB_CLOSED);
}

/* ---- library ------------------------------------------------------------------------------ */

typedef struct
{
  MptcpConnection *connection;
  GInetSocketAddress *local, *remote;
  gboolean done;
} Lib;

static void
lib_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lib *lib = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &error));
  g_assert_no_error (error);
  lib->done = TRUE;
}

static void
lib_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lib *lib = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) sf = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source),
                                                                     result, &error);

  g_assert_no_error (error);
  mptcp_subflow_close_async (sf, NULL, lib_closed_cb, lib);
}

static void
lib_round (Lib *lib)
{
  lib->done = FALSE;
  mptcp_connection_open_subflow_async (lib->connection, lib->local, lib->remote, NULL,
                                       lib_opened_cb, lib);
  while (!lib->done)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- setup -------------------------------------------------------------------------------- */

static int
server_listen (guint16 port)
{
  g_autoptr(GError) error = NULL;
  struct sockaddr_in sin = { 0 };
  int one = 1;
  int fd = testbed_socket_in_server (AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &error);

  g_assert_no_error (error);
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sin.sin_family = AF_INET;
  sin.sin_port = htons (port);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (fd, 1024), ==, 0);
  return fd;
}

static void
bench_memory (int lfd)
{
  enum { N = 1000 };
  GSocket **sockets = g_new0 (GSocket *, N);
  MptcpConnection **conns = g_new0 (MptcpConnection *, N);
  int *accepted = g_new0 (int, N);
  struct mallinfo2 before, after;
  guint i;

  for (i = 0; i < N; i++)
    {
      sockets[i] = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
      accepted[i] = accept (lfd, NULL, NULL);
      g_assert_cmpint (accepted[i], >=, 0);
    }
  /* one connection first, so that the shared broker and its event socket exist */
  conns[0] = mptcp_connection_new (sockets[0], NULL);
  g_assert_nonnull (conns[0]);
  malloc_trim (0);
  before = mallinfo2 ();
  for (i = 1; i < N; i++)
    {
      conns[i] = mptcp_connection_new (sockets[i], NULL);
      g_assert_nonnull (conns[i]);
    }
  after = mallinfo2 ();
  g_assert_cmpint (mptcp_connection_get_event_source (conns[N - 1]), ==, MPTCP_EVENT_SOURCE_NETLINK);
  g_print ("memory: %.0f bytes of heap per idle registered MptcpConnection "
           "(mallinfo2 uordblks over %d; GObject + list model + 1 subflow + event subscription "
           "+ hangup watch; target <= 1024)\n",
           (double) (after.uordblks - before.uordblks) / (N - 1), N - 1);
  for (i = 0; i < N; i++)
    {
      g_clear_object (&conns[i]);
      g_clear_object (&sockets[i]);
      close (accepted[i]);
    }
  g_free (conns);
  g_free (sockets);
  g_free (accepted);
}

int
main (int argc, char **argv)
{
  const char *userspace[] = { "sysctl", "-q", "-w", "net.mptcp.path_manager=userspace", NULL };
  const char *kernel[] = { "sysctl", "-q", "-w", "net.mptcp.path_manager=kernel", NULL };
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 1000;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpNetlink) broker = NULL;
  gint64 *t_raw, *t_lib;
  guint n_raw = 0, n_lib = 0;
  Raw raw = { 0 };
  Lib lib = { 0 };
  int lfd, afd, group;
  char buf[100];

  testbed_init_or_exit ();
  rounds = MAX (rounds / BATCH, 1) * BATCH;

  g_assert_true (testbed_run_in_server (userspace, NULL, &error));
  g_assert_no_error (error);
  lfd = server_listen (PORT);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  read_send_bytes (socket, 100);
  g_assert_cmpint (recv (afd, buf, sizeof buf, MSG_WAITALL), ==, 100);
  g_usleep (50 * 1000);

  lib.connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  lib.local = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (TESTBED_CLIENT2_V4, 0));
  lib.remote = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (TESTBED_SERVER2_V4, PORT));

  /* the raw side: family and group ids resolved once (taken from a broker to keep this
   * short; every message below is built and parsed here with libmnl) */
  broker = _mptcp_netlink_get_for_context (NULL, &error);
  g_assert_no_error (error);
  raw.family = _mptcp_netlink_get_family_id (broker);
  group = (int) _mptcp_netlink_get_event_group (broker);
  raw.token = mptcp_connection_get_token (lib.connection);
  inet_pton (AF_INET, TESTBED_CLIENT2_V4, &raw.local);
  inet_pton (AF_INET, TESTBED_SERVER2_V4, &raw.remote);
  raw.remote_port = PORT;
  raw.req = mnl_socket_open (NETLINK_GENERIC);
  raw.ev = mnl_socket_open (NETLINK_GENERIC);
  g_assert_nonnull (raw.req);
  g_assert_nonnull (raw.ev);
  g_assert_cmpint (mnl_socket_bind (raw.req, 0, MNL_SOCKET_AUTOPID), ==, 0);
  g_assert_cmpint (mnl_socket_bind (raw.ev, 0, MNL_SOCKET_AUTOPID), ==, 0);
  g_assert_cmpint (mnl_socket_setsockopt (raw.ev, NETLINK_ADD_MEMBERSHIP, &group, sizeof group), ==, 0);

  t_raw = g_new (gint64, rounds);
  t_lib = g_new (gint64, rounds);
  /* warm up both */
  raw_round (&raw);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  lib_round (&lib);
  while (recv (mnl_socket_get_fd (raw.ev), raw.buf, sizeof raw.buf, MSG_DONTWAIT) > 0)
    ;
  while (n_raw < rounds)
    {
      guint i;

      for (i = 0; i < BATCH; i++)
        {
          gint64 t0 = now_ns ();

          raw_round (&raw);
          t_raw[n_raw++] = now_ns () - t0;
        }
      /* the library's broker also heard the raw rounds' events: let it drain them */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      for (i = 0; i < BATCH; i++)
        {
          gint64 t0 = now_ns ();

          lib_round (&lib);
          t_lib[n_lib++] = now_ns () - t0;
        }
      /* and the raw event socket heard the library's */
      while (recv (mnl_socket_get_fd (raw.ev), raw.buf, sizeof raw.buf, MSG_DONTWAIT) > 0)
        ;
    }
  qsort (t_raw, n_raw, sizeof *t_raw, cmp_i64);
  qsort (t_lib, n_lib, sizeof *t_lib, cmp_i64);
  g_print ("open + established + close, %u rounds each (median wall time per round):\n"
           "  raw netlink (libmnl)  %8.1f us\n"
           "  library (async)       %8.1f us\n"
           "  ratio library / raw   %8.2f (target <= 1.1)\n",
           rounds, t_raw[n_raw / 2] / 1000.0, t_lib[n_lib / 2] / 1000.0,
           (double) t_lib[n_lib / 2] / (double) t_raw[n_raw / 2]);

  mnl_socket_close (raw.req);
  mnl_socket_close (raw.ev);
  g_clear_object (&lib.connection);
  g_clear_object (&lib.local);
  g_clear_object (&lib.remote);
  close (afd);

  bench_memory (lfd);

  close (lfd);
  g_assert_true (testbed_run_in_server (kernel, NULL, &error));
  g_free (t_raw);
  g_free (t_lib);
  return 0;
}
