/* bench-path-manager.c: MptcpPathManager against a raw netlink baseline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run inside a testbed:  ./_build/tests/mptcp-testbed ./_build/bench/bench-path-manager [ROUNDS]
 *
 * For each operation it prints the median time of the library call (sync, and async driven by a
 * GMainLoop), of the private broker's sync request (the library without the object), and of a
 * raw baseline: one libmnl request/ack on a blocking generic netlink socket, built here by hand
 * (the baseline is not library code). Ratios are library / raw.
 */

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <libmnl/libmnl.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "mptcp-netlink-private.h"

/* ---- raw baseline -------------------------------------------------------------------------- */

typedef struct
{
  struct mnl_socket *nl;
  guint16            family;
  guint32            seq;
  guint32            portid;
} Raw;

static int
family_cb (const struct nlmsghdr *nlh,
           void                  *data)
{
  Raw *raw = data;
  struct nlattr *attr;

  mnl_attr_for_each (attr, nlh, sizeof (struct genlmsghdr))
    if (mnl_attr_get_type (attr) == CTRL_ATTR_FAMILY_ID)
      raw->family = mnl_attr_get_u16 (attr);
  return MNL_CB_OK;
}

static void
raw_roundtrip (Raw                  *raw,
               struct nlmsghdr      *nlh,
               mnl_cb_t              cb,
               void                 *data)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  ssize_t n;
  int ret = MNL_CB_OK;

  if (mnl_socket_sendto (raw->nl, nlh, nlh->nlmsg_len) < 0)
    g_error ("sendto: %s", g_strerror (errno));
  while (ret > 0)
    {
      n = mnl_socket_recvfrom (raw->nl, buf, sizeof buf);
      if (n < 0)
        g_error ("recvfrom: %s", g_strerror (errno));
      ret = mnl_cb_run (buf, n, nlh->nlmsg_seq, raw->portid, cb, data);
      if (ret < 0)
        g_error ("request failed: %s", g_strerror (errno));
    }
}

static struct nlmsghdr *
raw_request (Raw   *raw,
             char  *buf,
             guint16 type,
             guint8  cmd,
             guint16 flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct genlmsghdr *genl;

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  nlh->nlmsg_seq = ++raw->seq;
  genl = mnl_nlmsg_put_extra_header (nlh, sizeof *genl);
  genl->cmd = cmd;
  genl->version = 1;
  return nlh;
}

static void
raw_open (Raw *raw)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh;

  raw->nl = mnl_socket_open (NETLINK_GENERIC);
  if (raw->nl == NULL || mnl_socket_bind (raw->nl, 0, MNL_SOCKET_AUTOPID) < 0)
    g_error ("netlink: %s", g_strerror (errno));
  raw->portid = mnl_socket_get_portid (raw->nl);
  nlh = raw_request (raw, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  mnl_attr_put_strz (nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
  raw_roundtrip (raw, nlh, family_cb, raw);
}

static void
raw_get_limits (Raw *raw)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];

  raw_roundtrip (raw, raw_request (raw, buf, raw->family, MPTCP_PM_CMD_GET_LIMITS, 0), NULL,
                 NULL);
}

static void
raw_set_limits (Raw *raw)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = raw_request (raw, buf, raw->family, MPTCP_PM_CMD_SET_LIMITS, 0);

  mnl_attr_put_u32 (nlh, MPTCP_PM_ATTR_SUBFLOWS, 8);
  mnl_attr_put_u32 (nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, 8);
  raw_roundtrip (raw, nlh, NULL, NULL);
}

static void
raw_get_addr (Raw    *raw,
              guint8  id)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = raw_request (raw, buf, raw->family, MPTCP_PM_CMD_GET_ADDR, 0);
  struct nlattr *nest = mnl_attr_nest_start (nlh, MPTCP_PM_ATTR_ADDR);

  mnl_attr_put_u8 (nlh, MPTCP_PM_ADDR_ATTR_ID, id);
  mnl_attr_nest_end (nlh, nest);
  raw_roundtrip (raw, nlh, NULL, NULL);
}

static void
raw_dump (Raw *raw)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];

  raw_roundtrip (raw, raw_request (raw, buf, raw->family, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP),
                 NULL, NULL);
}

/* ---- timing -------------------------------------------------------------------------------- */

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *samples)
{
  g_array_sort (samples, cmp_double);
  return g_array_index (samples, double, samples->len / 2);
}

#define MEASURE(result, rounds, stmt) \
  G_STMT_START { \
    g_autoptr(GArray) samples_ = g_array_new (FALSE, FALSE, sizeof (double)); \
    guint i_; \
    for (i_ = 0; i_ < (rounds) + (rounds) / 10; i_++) \
      { \
        gint64 t0_ = g_get_monotonic_time (); \
        double d_; \
        stmt; \
        d_ = (double) (g_get_monotonic_time () - t0_); \
        if (i_ >= (rounds) / 10) /* warm-up */ \
          g_array_append_val (samples_, d_); \
      } \
    (result) = median (samples_); \
  } G_STMT_END

/* µs resolution of g_get_monotonic_time is too coarse for ~2 µs operations: time batches */
#define BATCH 20

static void
report (const char *name,
        double      sync,
        double      async,
        double      broker,
        double      raw)
{
  g_print ("%-22s %9.2f %9.2f %9.2f %9.2f   %5.2f %5.2f\n", name, sync, async, broker, raw,
           sync / raw, async / raw);
}

typedef struct
{
  GMainLoop *loop;
} Wait;

static void
limits_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Wait *wait = user_data;

  if (!mptcp_path_manager_get_limits_finish (MPTCP_PATH_MANAGER (source), result, NULL, NULL,
                                             NULL))
    g_error ("async get_limits failed");
  g_main_loop_quit (wait->loop);
}

static void
endpoint_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Wait *wait = user_data;
  g_autoptr(MptcpEndpoint) endpoint = NULL;

  endpoint = mptcp_path_manager_get_endpoint_finish (MPTCP_PATH_MANAGER (source), result, NULL);
  if (endpoint == NULL)
    g_error ("async get_endpoint failed");
  g_main_loop_quit (wait->loop);
}

static void
broker (guint8   cmd,
        gboolean dump,
        guint8   id)
{
  MptcpNlRequest request = { 0 };
  g_autoptr(MptcpNlReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  request.cmd = cmd;
  request.dump = dump;
  if (id != 0)
    {
      request.has_addr = TRUE;
      request.addr.has_id = TRUE;
      request.addr.id = id;
    }
  if (cmd == MPTCP_PM_CMD_SET_LIMITS)
    {
      request.has_subflows = request.has_rcv_add_addrs = TRUE;
      request.subflows = request.rcv_add_addrs = 8;
    }
  reply = _mptcp_netlink_request_sync (&request, 0, NULL, &error);
  if (reply == NULL)
    g_error ("broker: %s", error->message);
}

int
main (int argc, char **argv)
{
  g_autoptr(MptcpPathManager) pm = NULL;
  g_autoptr(MptcpEndpoint) endpoint = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(MptcpEndpoint) request = NULL;
  g_autoptr(GError) error = NULL;
  guint rounds = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 2000;
  double s, a, b, r;
  Wait wait;
  Raw raw = { 0 };
  guint8 id;
  guint k;

  testbed_init_or_exit ();
  raw_open (&raw);
  wait.loop = g_main_loop_new (NULL, FALSE);
  pm = mptcp_path_manager_new (NULL, &error);
  g_assert_no_error (error);
  mptcp_path_manager_flush_endpoints (pm, NULL, NULL);
  address = g_inet_address_new_from_string (TESTBED_CLIENT2_V4);
  request = g_object_new (MPTCP_TYPE_ENDPOINT, "address", address,
                          "flags", MPTCP_ENDPOINT_FLAG_SUBFLOW, NULL);
  endpoint = mptcp_path_manager_add_endpoint (pm, request, NULL, &error);
  g_assert_no_error (error);
  id = mptcp_endpoint_get_id (endpoint);

  g_print ("median microseconds per operation over %u rounds (1 endpoint in the table)\n", rounds);
  g_print ("%-22s %9s %9s %9s %9s   %5s %5s\n", "operation", "sync", "async", "broker", "raw",
           "sync/", "async/");

  MEASURE (s, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                mptcp_path_manager_get_limits (pm, NULL, NULL, NULL, NULL));
  MEASURE (a, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                {
                                  mptcp_path_manager_get_limits_async (pm, NULL, limits_done,
                                                                       &wait);
                                  g_main_loop_run (wait.loop);
                                });
  MEASURE (b, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                broker (MPTCP_PM_CMD_GET_LIMITS, FALSE, 0));
  MEASURE (r, rounds / BATCH, for (k = 0; k < BATCH; k++) raw_get_limits (&raw));
  report ("get_limits", s / BATCH, a / BATCH, b / BATCH, r / BATCH);

  MEASURE (s, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                mptcp_path_manager_set_limits (pm, 8, 8, NULL, NULL));
  MEASURE (b, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                broker (MPTCP_PM_CMD_SET_LIMITS, FALSE, 0));
  MEASURE (r, rounds / BATCH, for (k = 0; k < BATCH; k++) raw_set_limits (&raw));
  report ("set_limits", s / BATCH, NAN, b / BATCH, r / BATCH);

  MEASURE (s, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                g_object_unref (mptcp_path_manager_get_endpoint (pm, id, NULL,
                                                                                 NULL)));
  MEASURE (a, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                {
                                  mptcp_path_manager_get_endpoint_async (pm, id, NULL,
                                                                         endpoint_done, &wait);
                                  g_main_loop_run (wait.loop);
                                });
  MEASURE (b, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                broker (MPTCP_PM_CMD_GET_ADDR, FALSE, id));
  MEASURE (r, rounds / BATCH, for (k = 0; k < BATCH; k++) raw_get_addr (&raw, id));
  report ("get_endpoint", s / BATCH, a / BATCH, b / BATCH, r / BATCH);

  MEASURE (s, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                g_object_unref (mptcp_path_manager_list_endpoints (pm, NULL,
                                                                                   NULL)));
  MEASURE (b, rounds / BATCH, for (k = 0; k < BATCH; k++)
                                broker (MPTCP_PM_CMD_GET_ADDR, TRUE, 0));
  MEASURE (r, rounds / BATCH, for (k = 0; k < BATCH; k++) raw_dump (&raw));
  report ("list_endpoints", s / BATCH, NAN, b / BATCH, r / BATCH);

  /* add = ADD_ADDR + read back; remove waits for an RCU grace period (~8 ms): few rounds */
  g_clear_object (&endpoint);
  mptcp_path_manager_flush_endpoints (pm, NULL, NULL);
  MEASURE (s, 20, {
    g_autoptr(MptcpEndpoint) e = mptcp_path_manager_add_endpoint (pm, request, NULL,
                                                                  NULL);
    gint64 t1 = g_get_monotonic_time ();
    mptcp_path_manager_remove_endpoint (pm, mptcp_endpoint_get_id (e), NULL, NULL);
    t0_ += g_get_monotonic_time () - t1;   /* count the add only */
  });
  report ("add_endpoint", s, NAN, NAN, NAN);
  MEASURE (s, 20, {
    g_autoptr(MptcpEndpoint) e = mptcp_path_manager_add_endpoint (pm, request, NULL,
                                                                  NULL);
    t0_ = g_get_monotonic_time ();
    mptcp_path_manager_remove_endpoint (pm, mptcp_endpoint_get_id (e), NULL, NULL);
  });
  report ("remove_endpoint", s, NAN, NAN, NAN);

  g_main_loop_unref (wait.loop);
  mnl_socket_close (raw.nl);
  return 0;
}
