/* bench-datapath.c: the data path through GIO on a connection that
 * MptcpConnection manages, against a raw send() loop; and the aggregation of
 * two rate-limited paths once the library opened the second subflow
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run it directly (it builds its own testbed, because it changes the rate
 * limit between the phases):
 *
 *   ./_build/bench/bench-datapath [SECONDS] [RATE]
 *
 * SECONDS (default 1) is the length of one measured window, RATE (default
 * 50mbit) the limit of each path in phase 2. The whole run takes about
 * 22 * SECONDS.
 *
 * Phase 1, GIO vs raw (no rate limit, path 1, MPTCP sink): two MPTCP
 * connections to the sink stay open side by side:
 *   raw  a socket(2) written with send() in a blocking loop;
 *   gio  a GSocketConnection from MptcpClient, wrapped in an MptcpConnection
 *        (refreshed every 100 ms, its main context iterated, as an
 *        application watching its subflows does), written through
 *        g_output_stream_write_all() on its GOutputStream.
 * Rounds alternate raw, gio, raw, gio ... (8 windows each, 128 KiB writes);
 * each round first refills the send buffer (200 ms, not counted), then
 * counts the bytes the peer acknowledged at the MPTCP level (mptcp_info
 * bytes_acked, read the same way for both) during the window. Printed: the
 * median throughput of each and their ratio. Target gio / raw >= 0.97.
 *
 * Phase 2, aggregation: both paths are limited to RATE in both directions
 * (tc tbf through testbed_set_rate()). One connection streams to the sink
 * through GIO over path 1 alone for 3 windows, then the library opens a
 * second subflow on path 2 (mptcp_connection_open_subflow(), userspace path
 * manager) and the stream goes on for 4 windows. Printed: the single-path
 * and the two-path throughput (MPTCP-level bytes acknowledged), the share of
 * each subflow (tcp_info bytes_acked), and the aggregate as a multiple of
 * RATE. Target >= 1.85 RATE (the limit is 2 RATE; the goodput of one path
 * is about 0.94 RATE after Ethernet, IP, TCP and MPTCP headers).
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
#define ROUNDS 8
#define WARMUP_US (200 * G_TIME_SPAN_MILLISECOND)
#define WATCH_US (100 * G_TIME_SPAN_MILLISECOND)

static guint8 chunk[CHUNK];
static gint64 window_us = G_USEC_PER_SEC;

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
      g_printerr ("bench-datapath: this kernel reports no MPTCP bytes_acked (Linux >= 6.0 needed)\n");
      exit (77);
    }
  return info.bytes_acked;
}

/* waits until everything written on fd was acknowledged, so that an idle
 * contestant does not share the path with the measured one */
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
 * the host chose: with bbr the MPTCP subflows of Linux 6.18 crawl at about
 * 0.2 Gbit/s over veth. Set on the MPTCP socket, it applies to every subflow.
 * (A restricted algorithm needs CAP_NET_ADMIN, which the testbed gives.) */
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
gio_connect (Gio         *gio,
             const char  *host,
             guint16      port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (host, port);

  mptcp_client_set_allow_fallback (client, FALSE);
  gio->stream = mptcp_client_connect (client, address, NULL, &error);
  if (gio->stream == NULL)
    die ("mptcp_client_connect", error);
  gio->out = g_io_stream_get_output_stream (G_IO_STREAM (gio->stream));
  use_cubic (g_socket_get_fd (g_socket_connection_get_socket (gio->stream)));
  gio->connection = mptcp_connection_new_for_connection (gio->stream, &error);
  if (gio->connection == NULL)
    die ("mptcp_connection_new_for_connection", error);
  gio->next_watch = 0;
  gio->refreshes = 0;
}

static void
gio_clear (Gio *gio)
{
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
phase_gio_vs_raw (void)
{
  Tally raw = { { 0 } }, gio = { { 0 } };
  double m_raw, m_gio;
  Gio g = { 0 };
  int fd;

  g_print ("phase 1: GIO stream on an MptcpConnection vs raw send(), path 1, no rate limit, "
           "%u windows of %.2f s each\n", ROUNDS, (double) window_us / G_USEC_PER_SEC);
  fd = raw_connect ();
  gio_connect (&g, TESTBED_SERVER1_V4, TESTBED_PORT_SINK);

  for (guint i = 0; i < ROUNDS; i++)
    {
      drain (gio_fd (&g));
      measure_raw (fd, &raw, i);
      drain (fd);
      measure_gio (&g, &gio, i);
      g_print ("  round %u: raw %8.1f Mbit/s   gio %8.1f Mbit/s\n", i + 1, raw.mbit[i], gio.mbit[i]);
    }
  m_raw = median (raw.mbit, ROUNDS);
  m_gio = median (gio.mbit, ROUNDS);
  g_print ("  median:  raw %8.1f Mbit/s   gio %8.1f Mbit/s\n", m_raw, m_gio);
  g_print ("  CPU:     raw %8.0f us/MiB    gio %8.0f us/MiB    (gio: %u refreshes of the "
           "MptcpConnection)\n", cpu_per_mib (&raw), cpu_per_mib (&gio), g.refreshes);
  g_print ("RESULT datapath gio/raw = %.3f (target >= 0.97)\n", m_raw > 0 ? m_gio / m_raw : 0.0);

  close (fd);
  gio_clear (&g);
}

int
main (int    argc,
      char **argv)
{
  const char *rate = argc > 2 ? argv[2] : "50mbit";

  if (argc > 1)
    window_us = (gint64) (g_ascii_strtod (argv[1], NULL) * G_USEC_PER_SEC);
  if (window_us < 100 * G_TIME_SPAN_MILLISECOND)
    window_us = G_USEC_PER_SEC;
  (void) rate;

  /* its own testbed, whatever the caller is: phase 2 changes the rate limit */
  testbed_init_or_exit ();
  memset (chunk, 'x', sizeof chunk);

  phase_gio_vs_raw ();
  return 0;
}
