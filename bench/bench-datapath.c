/* bench-datapath.c: the data path through GIO on a connection that
 * MptcpConnection manages, against a raw send() loop; and the aggregation of
 * two rate-limited paths once the library opened the second subflow
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run it directly; it builds its own testbed, because it changes the rate
 * limit between the phases (about 35 s with the defaults):
 *
 *   ./_build/bench/bench-datapath [WINDOW_SECONDS [RATE]]
 *
 * WINDOW_SECONDS (default 0.3) is the length of one measured window in
 * phase 1; RATE (default 50mbit) the limit of each path in phase 2. Set
 * BENCH_VERBOSE=1 to see every round of phase 1.
 *
 * Phase 1, GIO vs raw, path 1 to the MPTCP sink. Two contestants, each on
 * an MPTCP socket made the same way (cubic congestion control, see
 * use_cubic()):
 *   raw  a socket(2) written with send() in a blocking loop;
 *   gio  a GSocketConnection over an mptcp_socket_new() socket, wrapped in
 *        an MptcpConnection (refreshed every 100 ms and its main context
 *        iterated, as an application watching its subflows does), written
 *        with g_output_stream_write_all() on its GOutputStream.
 * Each of 11 rounds runs both, in alternating order, each on a fresh
 * connection: 200 ms to fill the send buffer, then the window, over which the
 * bytes the peer acknowledged at the MPTCP level are counted (mptcp_info
 * bytes_acked, read the same way for both); 128 KiB per write.
 *   1a  no rate limit: the sender's CPU is the bottleneck. Printed: median
 *       throughputs and the CPU time per MiB of each, whose ratio is the
 *       overhead of the GIO path. (Throughput here swings by up to 4x from round
 *       to round with the load of the machine, so it is not the target.)
 *   1b  path 1 limited to 1 Gbit/s: the path is the bottleneck, as it is for
 *       real applications. Target: median throughput gio / raw >= 0.97.
 *
 * Phase 2, aggregation: both paths are limited to RATE in both directions
 * (tc tbf through testbed_set_rate()). One connection streams to the sink
 * through GIO over path 1 alone for 3 s, then the library opens a second
 * subflow on path 2 (mptcp_connection_open_subflow(), userspace path manager)
 * and the stream goes on for 4 s. Printed: single-path and two-path
 * throughput (MPTCP-level bytes acknowledged, after 1 s to settle), each
 * subflow's share (tcp_info bytes_acked) and the aggregate as a multiple of
 * RATE. Target >= 1.85 RATE. The limit is 2 RATE less headers: tbf counts
 * whole Ethernet frames, so one path carries at most ~0.95 RATE of payload.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "mptcp-kernel-private.h"

#define CHUNK (128 * 1024)
#define ROUNDS 11
#define WARMUP_US (200 * G_TIME_SPAN_MILLISECOND)
#define WATCH_US (100 * G_TIME_SPAN_MILLISECOND)

static guint8 chunk[CHUNK];
static gboolean verbose;
static gint64 window_us = 300 * G_TIME_SPAN_MILLISECOND;

static G_GNUC_NORETURN void
die (const char *what,
     GError     *error)
{
  g_printerr ("bench-datapath: %s: %s\n", what, error != NULL ? error->message : g_strerror (errno));
  exit (1);
}

/* MPTCP-level bytes acknowledged by the peer, read straight from the kernel
 * (the same call for both contestants, so it measures them alike) */
static guint64
acked_bytes (int fd)
{
  mpx_mptcp_info info;
  socklen_t len = sizeof info;

  memset (&info, 0, sizeof info);
  if (getsockopt (fd, SOL_MPTCP, MPTCP_INFO, &info, &len) < 0)
    die ("getsockopt(MPTCP_INFO)", NULL);
  if (len < G_STRUCT_OFFSET (mpx_mptcp_info, bytes_acked) + sizeof info.bytes_acked)
    {
      g_printerr ("bench-datapath: this kernel reports no MPTCP-level bytes_acked (newer ones do)\n");
      exit (77);
    }
  return info.bytes_acked;
}

/* Waits (at most 10 s) until everything written on fd was acknowledged:
 * closed with data still queued, a connection would go on sending in the
 * background and compete with the next one. */
static void
drain (int fd)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;)
    {
      mpx_mptcp_info info;
      socklen_t len = sizeof info;

      memset (&info, 0, sizeof info);
      if (getsockopt (fd, SOL_MPTCP, MPTCP_INFO, &info, &len) < 0)
        die ("getsockopt(MPTCP_INFO)", NULL);
      if (info.write_seq == info.snd_una || g_get_monotonic_time () > end)
        return;
      g_usleep (1000);
    }
}

/* CPU time (user + system) of this process so far, in microseconds */
static gint64
cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (gint64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC
         + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double
mbit_per_s (guint64 bytes,
            gint64  us)
{
  return us > 0 ? (double) bytes * 8.0 / (double) us : 0.0;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values,
        guint   n)
{
  qsort (values, n, sizeof *values, compare_double);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

/* Both contestants use cubic, Linux's default congestion control, whatever
 * the host chose: with bbr, MPTCP over veth on Linux 6.18 costs five times
 * more CPU per byte and now and then stalls at ~0.2 Gbit/s. It must be set
 * before connect() (set later on an MPTCP socket, the initial subflow keeps
 * its algorithm). A restricted algorithm needs CAP_NET_ADMIN, which the
 * testbed gives. */
static void
use_cubic (int fd)
{
  static gboolean warned;

  if (setsockopt (fd, IPPROTO_TCP, TCP_CONGESTION, "cubic", strlen ("cubic")) < 0 && !warned)
    {
      g_printerr ("bench-datapath: cannot select cubic (%s): using the default congestion "
                  "control\n", g_strerror (errno));
      warned = TRUE;
    }
}

/* "50mbit", "1gbit", "2mbps" ... in bit/s, as testbed_set_rate() reads them */
static guint64
parse_rate_bits (const char *rate)
{
  static const struct { const char *unit; double mult; } units[] = {
    { "", 1 }, { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
    { "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 },
  };
  char *end = NULL;
  double value = g_ascii_strtod (rate, &end);

  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (end != rate && g_ascii_strcasecmp (end, units[i].unit) == 0)
      return (guint64) (value * units[i].mult);
  g_printerr ("bench-datapath: bad rate %s\n", rate);
  exit (2);
}

/* ---- the raw contestant ----------------------------------------------------------------- */

static int
raw_connect (void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (TESTBED_PORT_SINK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);

  if (fd < 0)
    die ("socket(IPPROTO_MPTCP)", NULL);
  inet_pton (AF_INET, TESTBED_SERVER1_V4, &sin.sin_addr);
  use_cubic (fd);
  if (connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    die ("connect", NULL);
  return fd;
}

/* send() in a blocking loop until `until` */
static void
raw_write_until (int    fd,
                 gint64 until)
{
  while (g_get_monotonic_time () < until)
    {
      ssize_t n = send (fd, chunk, sizeof chunk, MSG_NOSIGNAL);

      if (n < 0 && errno != EINTR)
        die ("send", NULL);
    }
}

/* ---- the GIO contestant ------------------------------------------------------------------ */

typedef struct
{
  GSocketConnection *stream;
  GOutputStream *out;
  MptcpConnection *connection;
  gint64 next_watch;
  guint refreshes;
} Gio;

static void
gio_connect (Gio     *gio,
             guint    path,
             guint16  port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) server = testbed_server_address (path, G_SOCKET_FAMILY_IPV4, port);
  g_autoptr(GSocket) socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);

  if (socket == NULL)
    die ("mptcp_socket_new", error);
  /* before connect(): the kernel applies it to the initial subflow only then */
  use_cubic (g_socket_get_fd (socket));
  if (!g_socket_connect (socket, server, NULL, &error))
    die ("g_socket_connect", error);
  gio->stream = g_socket_connection_factory_create_connection (socket);
  gio->out = g_io_stream_get_output_stream (G_IO_STREAM (gio->stream));
  gio->connection = mptcp_connection_new_for_connection (gio->stream, &error);
  if (gio->connection == NULL)
    die ("mptcp_connection_new_for_connection", error);
  gio->next_watch = 0;
  gio->refreshes = 0;
}

static void
gio_clear (Gio *gio)
{
  if (gio->stream != NULL)
    drain (g_socket_get_fd (g_socket_connection_get_socket (gio->stream)));
  g_clear_object (&gio->connection);
  if (gio->stream != NULL)
    g_io_stream_close (G_IO_STREAM (gio->stream), NULL, NULL);
  g_clear_object (&gio->stream);
}

static int
gio_fd (Gio *gio)
{
  return g_socket_get_fd (g_socket_connection_get_socket (gio->stream));
}

/* what an application watching its connection does now and then */
static void
gio_watch (Gio    *gio,
           gint64  now)
{
  g_autoptr(GError) error = NULL;

  if (now < gio->next_watch)
    return;
  gio->next_watch = now + WATCH_US;
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (!mptcp_connection_refresh (gio->connection, &error))
    die ("mptcp_connection_refresh", error);
  gio->refreshes++;
}

/* g_output_stream_write_all() in a blocking loop until `until` */
static void
gio_write_until (Gio    *gio,
                 gint64  until)
{
  g_autoptr(GError) error = NULL;
  gint64 now;

  while ((now = g_get_monotonic_time ()) < until)
    {
      gio_watch (gio, now);
      if (!g_output_stream_write_all (gio->out, chunk, sizeof chunk, NULL, NULL, &error))
        die ("g_output_stream_write_all", error);
    }
}

/* ---- phase 1 ------------------------------------------------------------------------------ */

typedef struct
{
  double mbit[ROUNDS];
  guint64 bytes;      /* acknowledged during the windows */
  gint64 cpu;         /* CPU time spent during the windows */
} Tally;

static void
window_begin (int     fd,
              guint64 *acked,
              gint64  *cpu,
              gint64  *start)
{
  *acked = acked_bytes (fd);
  *cpu = cpu_us ();
  *start = g_get_monotonic_time ();
}

static void
window_end (int      fd,
            guint64  acked,
            gint64   cpu,
            gint64   start,
            Tally   *tally,
            guint    round)
{
  gint64 elapsed = g_get_monotonic_time () - start;
  guint64 bytes = acked_bytes (fd) - acked;

  tally->cpu += cpu_us () - cpu;
  tally->bytes += bytes;
  tally->mbit[round] = mbit_per_s (bytes, elapsed);
}

static void
measure_raw (int    fd,
             Tally *tally,
             guint  round)
{
  gint64 start, cpu;
  guint64 acked;

  raw_write_until (fd, g_get_monotonic_time () + WARMUP_US);
  window_begin (fd, &acked, &cpu, &start);
  raw_write_until (fd, start + window_us);
  window_end (fd, acked, cpu, start, tally, round);
}

static void
measure_gio (Gio   *gio,
             Tally *tally,
             guint  round)
{
  gint64 start, cpu;
  guint64 acked;

  gio_write_until (gio, g_get_monotonic_time () + WARMUP_US);
  window_begin (gio_fd (gio), &acked, &cpu, &start);
  gio_write_until (gio, start + window_us);
  window_end (gio_fd (gio), acked, cpu, start, tally, round);
}

/* CPU microseconds per MiB acknowledged */
static double
cpu_per_mib (const Tally *tally)
{
  return tally->bytes > 0 ? (double) tally->cpu / ((double) tally->bytes / (1 << 20)) : 0.0;
}

static void
gio_vs_raw (Tally *raw,
            Tally *gio)
{
  guint refreshes = 0;


  for (guint i = 0; i < ROUNDS; i++)
    {
      Gio g = { 0 };
      int fd;

      /* alternate who goes first, so that neither always follows the other */
      for (guint turn = 0; turn < 2; turn++)
        {
          if ((turn + i) % 2 == 0)
            {
              fd = raw_connect ();
              measure_raw (fd, raw, i);
              drain (fd);
              close (fd);
            }
          else
            {
              gio_connect (&g, 1, TESTBED_PORT_SINK);
              measure_gio (&g, gio, i);
              refreshes += g.refreshes;
              gio_clear (&g);
            }
        }
      if (verbose)
        g_print ("    round %2u: raw %8.1f Mbit/s   gio %8.1f Mbit/s\n",
                 i + 1, raw->mbit[i], gio->mbit[i]);
    }
  g_print ("    median:   raw %8.1f Mbit/s   gio %8.1f Mbit/s\n",
           median (raw->mbit, ROUNDS), median (gio->mbit, ROUNDS));
  g_print ("    CPU:      raw %8.0f us/MiB    gio %8.0f us/MiB    (gio: %u refreshes of its "
           "MptcpConnection)\n", cpu_per_mib (raw), cpu_per_mib (gio), refreshes);
}

static void
phase_gio_vs_raw (void)
{
  g_autoptr(GError) error = NULL;
  Tally raw = { .bytes = 0 }, gio = { .bytes = 0 };
  double cpu_ratio, ratio;

  g_print ("phase 1: GIO stream on an MptcpConnection vs raw send(), path 1, %u rounds of "
           "%.2f s, a fresh connection each\n", ROUNDS, (double) window_us / G_USEC_PER_SEC);

  g_print ("  1a: no rate limit (CPU-bound)\n");
  gio_vs_raw (&raw, &gio);
  cpu_ratio = cpu_per_mib (&raw) > 0 ? cpu_per_mib (&gio) / cpu_per_mib (&raw) : 0.0;

  g_print ("  1b: path limited to 1gbit (path-bound)\n");
  if (!testbed_set_rate ("1gbit", &error))
    die ("testbed_set_rate", error);
  memset (&raw, 0, sizeof raw);
  memset (&gio, 0, sizeof gio);
  gio_vs_raw (&raw, &gio);
  ratio = median (raw.mbit, ROUNDS) > 0
          ? median (gio.mbit, ROUNDS) / median (raw.mbit, ROUNDS) : 0.0;

  g_print ("RESULT datapath: CPU per byte gio/raw = %.3f (unlimited; 1 = no overhead)\n",
           cpu_ratio);
  g_print ("RESULT datapath: throughput gio/raw = %.3f on a 1 Gbit/s path (target >= 0.97): %s\n",
           ratio, ratio >= 0.97 ? "met" : "NOT met");
}

/* ---- phase 2 ------------------------------------------------------------------------------ */

/* tcp_info bytes_acked of every listed subflow, by subflow id */
static GHashTable *
subflow_acked (MptcpConnection *connection)
{
  GHashTable *acked = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  GListModel *subflows = mptcp_connection_get_subflows (connection);
  g_autoptr(GError) error = NULL;

  if (!mptcp_connection_refresh (connection, &error))
    die ("mptcp_connection_refresh", error);
  for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
      g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);

      g_hash_table_insert (acked, GUINT_TO_POINTER (mptcp_subflow_get_id (subflow)),
                           g_memdup2 (&(guint64) { mptcp_subflow_stats_get_bytes_acked (stats) },
                                      sizeof (guint64)));
    }
  return acked;
}

/* streams for `seconds` after `settle_us`; returns the MPTCP-level throughput
 * and prints each subflow's */
static double
stream_window (Gio        *gio,
               double      seconds,
               double      rate_mbit)
{
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gint64 start, elapsed;
  guint64 acked;
  double mbit;

  gio_write_until (gio, g_get_monotonic_time () + G_USEC_PER_SEC);
  before = subflow_acked (gio->connection);
  acked = acked_bytes (gio_fd (gio));
  start = g_get_monotonic_time ();
  gio_write_until (gio, start + (gint64) (seconds * G_USEC_PER_SEC));
  elapsed = g_get_monotonic_time () - start;
  mbit = mbit_per_s (acked_bytes (gio_fd (gio)) - acked, elapsed);
  after = subflow_acked (gio->connection);

  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 *was = g_hash_table_lookup (before, key);
      double sub = mbit_per_s (*(guint64 *) value - (was != NULL ? *was : 0), elapsed);

      g_print ("    subflow %u: %6.1f Mbit/s (%.2f R)\n", GPOINTER_TO_UINT (key), sub,
               sub / rate_mbit);
    }
  g_print ("    total:     %6.1f Mbit/s (%.2f R), MPTCP level\n", mbit, mbit / rate_mbit);
  return mbit;
}

static void
phase_aggregation (const char *rate)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetSocketAddress) local2 = NULL;
  g_autoptr(GInetSocketAddress) remote2 = NULL;
  g_autoptr(MptcpSubflow) second = NULL;
  Gio g = { 0 };
  double rate_mbit, one, two;
  gint64 t0;

  if (!testbed_set_rate (rate, &error))
    die ("testbed_set_rate", error);
  rate_mbit = (double) parse_rate_bits (rate) / 1e6;
  g_print ("phase 2: aggregation, both paths limited to R = %s, through GIO on an "
           "MptcpConnection\n", rate);

  gio_connect (&g, 1, TESTBED_PORT_SINK);
  g_print ("  path 1 alone, 3 s:\n");
  one = stream_window (&g, 3.0, rate_mbit);

  local2 = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (TESTBED_CLIENT2_V4, 0));
  remote2 = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (TESTBED_SERVER2_V4,
                                                                          TESTBED_PORT_SINK));
  t0 = g_get_monotonic_time ();
  second = mptcp_connection_open_subflow (g.connection, local2, remote2, NULL, &error);
  if (second == NULL)
    die ("mptcp_connection_open_subflow", error);
  g_print ("  mptcp_connection_open_subflow() on path 2: subflow %u up in %.1f ms\n",
           mptcp_subflow_get_id (second), (g_get_monotonic_time () - t0) / 1000.0);
  g_print ("  both paths, 4 s:\n");
  two = stream_window (&g, 4.0, rate_mbit);
  gio_clear (&g);

  g_print ("RESULT aggregation: two paths = %.2f R (target >= 1.85 R): %s; "
           "two paths / path 1 alone = %.2f\n",
           two / rate_mbit, two / rate_mbit >= 1.85 ? "met" : "NOT met", one > 0 ? two / one : 0.0);
}

int
main (int    argc,
      char **argv)
{
  const char *rate = argc > 2 ? argv[2] : "50mbit";

  verbose = g_getenv ("BENCH_VERBOSE") != NULL;
  if (argc > 1)
    window_us = (gint64) (g_ascii_strtod (argv[1], NULL) * G_USEC_PER_SEC);
  if (window_us < 100 * G_TIME_SPAN_MILLISECOND)
    window_us = 300 * G_TIME_SPAN_MILLISECOND;

  /* its own testbed, whatever the caller is: phase 2 changes the rate limit */
  testbed_init_or_exit ();
  memset (chunk, 'x', sizeof chunk);

  phase_gio_vs_raw ();
  phase_aggregation (rate);
  return 0;
}
