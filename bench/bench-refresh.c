/* bench-refresh.c: mptcp_connection_refresh() + walking the subflow list
 * against one raw MPTCP_FULL_INFO getsockopt of the same connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run inside a testbed:  ./_build/tests/mptcp-testbed ./_build/bench/bench-refresh [BATCHES]
 * (run directly, it builds its own testbed).
 *
 * For 2 and 8 subflows (opened by the in-kernel path manager from subflow
 * endpoints in the client namespace) it times, in one process and
 * interleaved batch by batch:
 *   raw      one getsockopt (MPTCP_FULL_INFO) with the same buffer sizes the
 *            library uses, written here by hand (not library code);
 *   refresh  mptcp_connection_refresh () then a walk of the GListModel
 *            (get_item, mptcp_subflow_get_id, unref for every subflow);
 *   +stats   the same walk also taking mptcp_subflow_get_stats () and
 *            reading bytes_acked (one small allocation per subflow).
 * It prints the median CPU time (user + system) per operation and the
 * ratio to raw. Target:
 * refresh / raw <= 1.3.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/tcp.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "read-common.h"
#include "mptcp-kernel-private.h"

#define BATCH 1000

/* ---- raw baseline ------------------------------------------------------------------------ */

typedef struct
{
  struct
  {
    mpx_full_info_head head;   /* no room for the trailing mptcp_info, as in the library */
  } fi;
  guint capacity;
  mpx_subflow_info *sfinfo;
  struct tcp_info *tcpinfo;
} Raw;

static void
raw_init (Raw   *raw,
          guint  capacity)
{
  memset (raw, 0, sizeof *raw);
  raw->capacity = capacity;
  raw->sfinfo = g_new0 (mpx_subflow_info, capacity);
  raw->tcpinfo = g_new0 (struct tcp_info, capacity);
}

static void
raw_clear (Raw *raw)
{
  g_free (raw->sfinfo);
  g_free (raw->tcpinfo);
}

static guint
raw_full_info (Raw *raw,
               int  fd)
{
  socklen_t len = sizeof raw->fi;

  raw->fi.head.size_tcpinfo_kernel = 0;
  raw->fi.head.size_tcpinfo_user = sizeof (struct tcp_info);
  raw->fi.head.size_sfinfo_kernel = 0;
  raw->fi.head.size_sfinfo_user = sizeof (mpx_subflow_info);
  raw->fi.head.num_subflows = 0;
  raw->fi.head.size_arrays_user = raw->capacity;
  raw->fi.head.subflow_info = (guint64) (guintptr) raw->sfinfo;
  raw->fi.head.tcp_info = (guint64) (guintptr) raw->tcpinfo;
  if (getsockopt (fd, SOL_MPTCP, MPX_FULL_INFO, &raw->fi, &len) < 0)
    g_error ("MPTCP_FULL_INFO: %s", g_strerror (errno));
  return raw->fi.head.num_subflows;
}

/* ---- timing ------------------------------------------------------------------------------ */

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *samples)
{
  g_array_sort (samples, compare_doubles);
  return g_array_index (samples, double, samples->len / 2);
}

static guint64 sink;   /* keeps the walks from being optimised away */

/* CPU time of this thread (user + system), in ns: unlike the wall clock it
 * does not count the time other processes had the CPU, so the figures hold
 * on a busy machine too. */
static gint64
thread_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static double
time_raw (Raw *raw,
          int  fd)
{
  gint64 start = thread_ns ();
  guint i;

  for (i = 0; i < BATCH; i++)
    sink += raw_full_info (raw, fd);
  return (double) (thread_ns () - start) / BATCH;
}

static double
time_refresh (MptcpConnection *connection,
              gboolean         with_stats)
{
  GListModel *model = mptcp_connection_get_subflows (connection);
  gint64 start = thread_ns ();
  guint i;

  for (i = 0; i < BATCH; i++)
    {
      guint n, j;

      if (!mptcp_connection_refresh (connection, NULL))
        g_error ("refresh failed");
      n = g_list_model_get_n_items (model);
      for (j = 0; j < n; j++)
        {
          MptcpSubflow *subflow = g_list_model_get_item (model, j);

          sink += mptcp_subflow_get_id (subflow);
          if (with_stats)
            {
              MptcpSubflowStats *stats = mptcp_subflow_get_stats (subflow);

              sink += mptcp_subflow_stats_get_bytes_acked (stats);
              mptcp_subflow_stats_unref (stats);
            }
          g_object_unref (subflow);
        }
    }
  return (double) (thread_ns () - start) / BATCH;
}

static void
bench (guint n_subflows,
       guint batches)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GArray) raw_ns = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) refresh_ns = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) stats_ns = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GError) error = NULL;
  double raw_median, refresh_median, stats_median;
  Raw raw;
  guint b;

  read_use_kernel_pm_n_endpoints (n_subflows - 1);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  if (connection == NULL)
    g_error ("%s", error->message);
  read_send_bytes (socket, 1000);
  if (!read_wait_for_subflows (connection, n_subflows, 10000) ||
      !read_wait_for_established (connection, 10000))
    g_error ("did not get %u established subflows", n_subflows);

  /* the same sizes the library asks for: it starts with room for 8 */
  raw_init (&raw, MAX (n_subflows, 8));
  if (raw_full_info (&raw, g_socket_get_fd (socket)) != n_subflows)
    g_error ("the kernel lists %u subflows", raw.fi.head.num_subflows);

  /* warm up, then interleave the batches */
  time_raw (&raw, g_socket_get_fd (socket));
  time_refresh (connection, FALSE);
  for (b = 0; b < batches; b++)
    {
      double v;

      v = time_raw (&raw, g_socket_get_fd (socket));
      g_array_append_val (raw_ns, v);
      v = time_refresh (connection, FALSE);
      g_array_append_val (refresh_ns, v);
      v = time_refresh (connection, TRUE);
      g_array_append_val (stats_ns, v);
    }

  raw_median = median (raw_ns);
  refresh_median = median (refresh_ns);
  stats_median = median (stats_ns);
  g_print ("%u subflows: raw FULL_INFO %7.1f ns | refresh+walk %7.1f ns  ratio %.2f | "
           "+stats %7.1f ns  ratio %.2f\n",
           n_subflows, raw_median, refresh_median, refresh_median / raw_median,
           stats_median, stats_median / raw_median);

  raw_clear (&raw);
  g_assert_true (g_socket_close (socket, NULL));
}

int
main (int    argc,
      char **argv)
{
  guint batches = argc > 1 ? (guint) atoi (argv[1]) : 200;

  /* under mptcp-testbed the namespaces exist already; otherwise make them */
  if (g_getenv ("MPTCP_TESTBED_SERVER1_V4") == NULL)
    testbed_init_or_exit ();

  g_print ("bench-refresh: %u batches of %u operations, medians per operation\n",
           batches, BATCH);
  bench (2, batches);
  bench (8, batches);
  read_restore_userspace_pm ();
  return 0;
}
