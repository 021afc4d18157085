/* bench-pm-policy.c: mptcp-glib-service as path manager against the in-kernel path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run as root: ./_build/bench/bench-pm-policy [ROUNDS] [BURST]  (it builds its own testbed,
 * private system bus, polkitd and service: tests/service/service-harness.h). One `subflow`
 * endpoint on c2, limits 2/0. Per round: connect to the echo port, send 4 bytes (the client
 * is fully established then: ESTABLISHED), and time from that write() until the extra subflow
 * is established (polled with MPTCP_TCPINFO, tcpi_state ESTABLISHED):
 *   kernel   net.mptcp.path_manager=kernel: the in-kernel PM opens it;
 *   service  path_manager=userspace and the service acting as path manager.
 * Batches of 20 rounds alternate between the two (the switch is outside the timing); the
 * figures are medians of the batch medians and their ratio. Then a burst: BURST connections
 * (default 1000) opened at once with the service as path manager, the time until all have
 * their subflow, and the service's CPU time (utime + stime from /proc) per connection.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include "service-harness.h"

#define BATCH 20

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
run_client (const char *cmd)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = g_strsplit (cmd, " ", -1);

  if (!testbed_run_in_client ((const char * const *) argv, NULL, &error))
    g_error ("%s: %s", cmd, error->message);
}

static void
set_mode (gboolean service)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "SetPathManager",
                                g_variant_new ("(s)", service ? "userspace" : "kernel"), "()",
                                &error);
  g_assert_no_error (error);
}

/* established subflows other than the initial one */
static guint
extra_established (int fd)
{
  struct
  {
    struct mptcp_subflow_data d;
    struct tcp_info info[8];
  } buf;
  socklen_t len = sizeof buf;
  guint n = 0;

  memset (&buf.d, 0, sizeof buf.d);
  buf.d.size_subflow_data = sizeof buf.d;
  buf.d.size_user = sizeof (struct tcp_info);
  if (getsockopt (fd, SOL_MPTCP, MPTCP_TCPINFO, &buf, &len) != 0)
    return 0;
  for (guint i = 1; i < buf.d.num_subflows && i < 8; i++)
    {
      const guint8 *p = (const guint8 *) buf.info + (gsize) i * buf.d.size_user;
      if (p[0] == 1 /* TCP_ESTABLISHED */)
        n++;
    }
  return n;
}

static int
connect_nodata (void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (TESTBED_PORT_ECHO) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);

  g_assert_cmpint (fd, >=, 0);
  inet_pton (AF_INET, TESTBED_SERVER1_V4, &sin.sin_addr);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  return fd;
}

/* microseconds from the first data to the policy subflow established; < 0: never (1 s) */
static double
one_round (void)
{
  char buf[4];
  int fd = connect_nodata ();
  gint64 t0, t;

  t0 = g_get_monotonic_time ();
  g_assert_cmpint (write (fd, "ping", 4), ==, 4);
  while (extra_established (fd) < 1)
    if (g_get_monotonic_time () - t0 > G_USEC_PER_SEC)
      {
        close (fd);
        return -1;
      }
  t = g_get_monotonic_time ();
  g_assert_cmpint (read (fd, buf, 4), ==, 4);
  close (fd);
  return (double) (t - t0);
}

static guint64
service_cpu_ticks (void)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat",
                                           g_subprocess_get_identifier (service_proc));
  g_autofree char *text = NULL;
  g_auto(GStrv) f = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return 0;
  f = g_strsplit (p + 2, " ", -1);
  /* fields 14 and 15 of stat; f[0] is field 3 */
  return g_ascii_strtoull (f[11], NULL, 10) + g_ascii_strtoull (f[12], NULL, 10);
}

int
main (int    argc,
      char **argv)
{
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 200;
  guint burst = argc > 2 ? (guint) atoi (argv[2]) : 1000;
  guint n_batches = MAX (rounds / BATCH, 1), failed[2] = { 0, 0 };
  double *med[2], batch[BATCH];
  struct rlimit rl;

  if (getuid () != 0)
    {
      g_printerr ("bench-pm-policy: run it as root\n");
      return 1;
    }
  if (g_getenv ("MPTCP_GLIB_SERVICE") == NULL)
    g_setenv ("MPTCP_GLIB_SERVICE", SERVICE_EXE, TRUE);
  if (g_getenv ("MPTCP_GLIB_SERVICE_SRCDIR") == NULL)
    g_setenv ("MPTCP_GLIB_SERVICE_SRCDIR", SERVICE_SRCDIR, TRUE);
  getrlimit (RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  self_exe = argv[0];
  testbed_init_or_exit ();
  harness_setup (64);
  run_client ("ip mptcp endpoint flush");
  run_client ("ip mptcp endpoint add " TESTBED_CLIENT2_V4 " subflow");
  run_client ("ip mptcp limits set subflow 2 add_addr_accepted 0");

  med[0] = g_new (double, n_batches);
  med[1] = g_new (double, n_batches);
  for (guint b = 0; b < n_batches; b++)
    for (guint mode = 0; mode < 2; mode++)
      {
        guint n = 0;

        set_mode (mode == 1);
        for (guint i = 0; i < BATCH; i++)
          {
            double us = one_round ();

            if (us < 0)
              failed[mode]++;
            else
              batch[n++] = us;
          }
        med[mode][b] = n > 0 ? median (batch, n) : 0;
      }
  {
    double k = median (med[0], n_batches), s = median (med[1], n_batches);

    g_print ("first data -> policy subflow established, %u rounds each (median of %u batch "
             "medians):\n", n_batches * BATCH, n_batches);
    g_print ("  in-kernel PM             %8.1f us   (%u never within 1 s)\n", k, failed[0]);
    g_print ("  service as PM            %8.1f us   ratio %.2f (target <= 1.3)   (%u never)\n",
             s, s / k, failed[1]);
  }

  /* the burst */
  {
    int *fds = g_new (int, burst);
    guint64 cpu0, cpu1;
    gint64 t0, t1;
    guint done = 0;
    long hz = sysconf (_SC_CLK_TCK);

    set_mode (TRUE);
    for (guint i = 0; i < burst; i++)
      fds[i] = connect_nodata ();
    cpu0 = service_cpu_ticks ();
    t0 = g_get_monotonic_time ();
    for (guint i = 0; i < burst; i++)
      g_assert_cmpint (write (fds[i], "ping", 4), ==, 4);
    while (done < burst && g_get_monotonic_time () - t0 < 30 * G_USEC_PER_SEC)
      {
        done = 0;
        for (guint i = 0; i < burst; i++)
          done += extra_established (fds[i]) >= 1;
        if (done < burst)
          g_usleep (1000);
      }
    t1 = g_get_monotonic_time ();
    g_usleep (100000);
    cpu1 = service_cpu_ticks ();
    g_print ("burst of %u connections: %u got their subflow in %.1f ms; service CPU %.1f ms "
             "(%.1f us per connection)\n", burst, done, (t1 - t0) / 1000.0,
             (cpu1 - cpu0) * 1000.0 / hz, (cpu1 - cpu0) * 1e6 / hz / burst);
    for (guint i = 0; i < burst; i++)
      close (fds[i]);
    g_free (fds);
  }
  set_mode (FALSE);
  g_free (med[0]);
  g_free (med[1]);
  return harness_teardown () ? 0 : 1;
}
