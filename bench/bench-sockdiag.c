/* bench-sockdiag.c: MptcpConnectionList dump + diff against the raw sock_diag dumps of the
 * same sockets, and against `ss -tinMH` run and parsed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run inside a testbed:  ./_build/tests/mptcp-testbed ./_build/bench/bench-sockdiag [N] [ROUNDS]
 * (run directly, it builds its own testbed).
 *
 * Opens N idle MPTCP connections (default 10000) to the testbed's sink, each with a second
 * subflow (the in-kernel path manager and one subflow endpoint in the client namespace), then
 * times, interleaved round by round, in one process:
 *   raw      the four sock_diag dumps (MPTCP and TCP, AF_INET and AF_INET6), sent and
 *            received into one buffer by hand, nothing parsed (not library code); the list
 *            skips the TCP AF_INET6 one here (IPv4 connections only), so list / raw also
 *            shows that saving;
 *   list     mptcp_connection_list_refresh () of an unchanged namespace: the same dumps,
 *            parsed, joined by token and diffed against the list (nothing emitted);
 *   parse    the same dumps through the list's sock_diag room into its plain structs, no
 *            diff (where the list's time goes);
 *   ss       `ss -tinMH` spawned, its output read and parsed into (tuple, token) pairs,
 *            what scripts do today.
 *   token    mptcp_connection_refresh () of one socketless handle
 *            (mptcp_connection_new_for_token ()) of a connection opened before the others,
 *            nothing changed: timed with that one connection alone in the namespace, then
 *            with the N others (the handle looks up its own connection and subflows; it used
 *            to dump the namespace, the "parse" figure).
 * It prints the median CPU time per dump (user + system of this process: the kernel builds
 * the dumps in its system time; for ss, plus the child's user + system time) and
 * the ratios. Targets: list / raw <= 1.2; an unchanged refresh makes no allocation per
 * connection (malloc calls are counted during one refresh).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "read-common.h"
#include "mptcp-kernel-private.h"
#include "mptcp-sockdiag-private.h"

/* the library's count of namespace dumps; weak, so that this file also builds against a
 * library without it (a "before" tree, for interleaved runs): then 0 */
guint _mptcp_sockdiag_count_dumps (void) __attribute__ ((weak));

static guint
count_dumps (void)
{
  return _mptcp_sockdiag_count_dumps != NULL ? _mptcp_sockdiag_count_dumps () : 0;
}

/* ---- counting allocations (not under ASan, which owns malloc) ---------------------------- */

static guint64 n_allocs;

#if !defined (__SANITIZE_ADDRESS__)
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *p, size_t size);

void *malloc (size_t size);
void *calloc (size_t n, size_t size);
void *realloc (void *p, size_t size);

void *
malloc (size_t size)
{
  __atomic_add_fetch (&n_allocs, 1, __ATOMIC_RELAXED);
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  __atomic_add_fetch (&n_allocs, 1, __ATOMIC_RELAXED);
  return __libc_calloc (n, size);
}

void *
realloc (void *p, size_t size)
{
  __atomic_add_fetch (&n_allocs, 1, __ATOMIC_RELAXED);
  return __libc_realloc (p, size);
}
#define COUNTING TRUE
#else
#define COUNTING FALSE
#endif

/* ---- the raw baseline: the same four dumps, unparsed ------------------------------------- */

static guint8 raw_buf[64 * 1024] __attribute__ ((aligned (8)));

static gsize
raw_dump (int fd, guint32 *seq)
{
  gsize total = 0;

  for (guint step = 0; step < 4; step++)
    {
      guint8 req[128] __attribute__ ((aligned (8)));
      gsize len = _mptcp_sockdiag_build_request (step, ++*seq, req);
      struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
      gboolean done = FALSE;

      if (sendto (fd, req, len, 0, (struct sockaddr *) &kernel, sizeof kernel) != (ssize_t) len)
        g_error ("sendto: %s", g_strerror (errno));
      while (!done)
        {
          ssize_t n = recv (fd, raw_buf, sizeof raw_buf, 0);
          const guint8 *p = raw_buf;
          gsize left;

          if (n <= 0)
            g_error ("recv: %s", g_strerror (errno));
          total += n;
          left = (gsize) n;
          /* only find the end of the dump (NLMSG_OK compares an int with the u32 length) */
          while (left >= sizeof (struct nlmsghdr))
            {
              const struct nlmsghdr *nlh = (const struct nlmsghdr *) p;
              gsize advance = NLMSG_ALIGN (nlh->nlmsg_len);

              if (nlh->nlmsg_len < sizeof (struct nlmsghdr) || nlh->nlmsg_len > left)
                break;
              if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
                done = TRUE;
              if (advance >= left)
                break;
              p += advance;
              left -= advance;
            }
        }
    }
  return total;
}

/* ---- ss, run and parsed --------------------------------------------------------------------- */

static guint
ss_parse (void)
{
  const char *argv[] = { "ss", "-tinMH", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = 0;

  if (!testbed_run_in_client (argv, &out, &error))
    g_error ("ss: %s", error->message);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *t = strstr (lines[i], " token:");
      char *key;

      if (t == NULL || i == 0)
        continue;
      /* the detail line follows the socket line: key = socket line + token */
      key = g_strdup_printf ("%s %.*s", lines[i - 1], (int) strcspn (t + 7, " "), t + 7);
      g_hash_table_add (tokens, key);
      n++;
    }
  return n;
}

/* ---- timing --------------------------------------------------------------------------------- */

static int
compare_doubles (gconstpointer a, gconstpointer b)
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

/* CPU time of this process (user + system, which holds the kernel's dump work), exact
 * (scheduler runtime), in us */
static double
self_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* of the reaped children (ss), from getrusage: tick-sampled, so taken over whole runs */
static double
cpu_us (int who)
{
  struct rusage ru;

  getrusage (who, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
         ru.ru_stime.tv_usec;
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 10000;
  guint rounds = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 15;
  g_autoptr(GArray) raw_us = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) list_us = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ss_us = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) parse_us = g_array_new (FALSE, FALSE, sizeof (double));
  MptcpSockDiag *diag;
  MptcpDiagDump dump;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GError) error = NULL;
  struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
  struct rlimit rl;
  GSocketAddress *server;
  int *fds, raw_fd;
  guint32 seq = 1000;
  guint n_subflows = 0, ss_lines = 0;
  guint64 allocs_before, allocs_unchanged;
  double raw_m, list_m, ss_m;
  gsize raw_bytes = 0;
  gint64 deadline;
  g_autoptr(GArray) token_us = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) alone_us = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(MptcpConnection) handle = NULL;
  guint dumps_alone, dumps_many = 0, token_refreshes = 0;
  double alone_m, token_m;
  int own_fd;

  testbed_init_or_exit ();
  /* n sockets here (and n accepted ones in the server's process) */
  getrlimit (RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < n + 256)
    g_error ("%u connections need %u file descriptors, the hard limit is %lu", n, n + 256,
             (unsigned long) rl.rlim_max);
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
    g_error ("setrlimit: %s", g_strerror (errno));
  read_use_kernel_pm_n_endpoints (1);

  /* one connection first, and a socketless handle of it, timed alone in the namespace */
  {
    GSocketAddress *srv = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, TESTBED_PORT_SINK);
    struct sockaddr_storage ss;
    mpx_mptcp_info info;
    socklen_t len = sizeof info;

    g_socket_address_to_native (srv, &ss, sizeof ss, NULL);
    g_object_unref (srv);
    own_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
    if (own_fd < 0 || connect (own_fd, (struct sockaddr *) &ss, sizeof (struct sockaddr_in)) < 0 ||
        send (own_fd, "x", 1, MSG_NOSIGNAL) != 1)
      g_error ("the handle's connection: %s", g_strerror (errno));
    memset (&info, 0, sizeof info);
    if (getsockopt (own_fd, SOL_MPTCP, MPTCP_INFO, &info, &len) < 0)
      g_error ("MPTCP_INFO: %s", g_strerror (errno));
    handle = mptcp_connection_new_for_token (info.token, &error);
    g_assert_no_error (error);
    deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (g_list_model_get_n_items (mptcp_connection_get_subflows (handle)) < 2 &&
           g_get_monotonic_time () < deadline)
      {
        g_usleep (20 * 1000);
        g_assert_true (mptcp_connection_refresh (handle, &error));
      }
    dumps_alone = count_dumps ();
    for (guint i = 0; i < 200; i++)
      {
        double t0 = self_us (), t1;

        g_assert_true (mptcp_connection_refresh (handle, &error));
        t1 = self_us ();
        g_array_append_val (alone_us, (double) { t1 - t0 });
      }
    dumps_alone = count_dumps () - dumps_alone;
  }

  g_print ("bench-sockdiag: opening %u connections, 2 subflows each\n", n);
  fds = g_new (int, n);
  server = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, TESTBED_PORT_SINK);
  for (guint i = 0; i < n; i++)
    {
      struct sockaddr_storage ss;

      g_socket_address_to_native (server, &ss, sizeof ss, NULL);
      fds[i] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
      if (fds[i] < 0 || connect (fds[i], (struct sockaddr *) &ss, sizeof (struct sockaddr_in)) < 0)
        g_error ("connection %u: %s", i, g_strerror (errno));
      /* the in-kernel path manager opens the second subflow once data has flowed */
      if (send (fds[i], "x", 1, MSG_NOSIGNAL) != 1)
        g_error ("send %u: %s", i, g_strerror (errno));
    }
  g_object_unref (server);

  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  mptcp_connection_list_set_interval (list, 0);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;)
    {
      n_subflows = 0;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
        {
          g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);

          n_subflows += g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e));
        }
      if (n_subflows >= 2 * n || g_get_monotonic_time () > deadline)
        break;
      g_usleep (200 * 1000);
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
    }
  g_print ("bench-sockdiag: %u connections, %u subflows listed\n",
           g_list_model_get_n_items (G_LIST_MODEL (list)), n_subflows);

  raw_fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (raw_fd < 0 || bind (raw_fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    g_error ("raw sock_diag socket: %s", g_strerror (errno));

  diag = _mptcp_sockdiag_new (&error);
  g_assert_no_error (error);
  _mptcp_diag_dump_init (&dump);

  /* an unchanged refresh: allocations counted */
  g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
  allocs_before = n_allocs;
  g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
  allocs_unchanged = n_allocs - allocs_before;

  for (guint r = 0; r < rounds; r++)
    {
      double t0, t1, c0, c1;

      t0 = self_us ();
      raw_bytes = raw_dump (raw_fd, &seq);
      t1 = self_us ();
      g_array_append_val (raw_us, (double) { t1 - t0 });

      t0 = self_us ();
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      t1 = self_us ();
      g_array_append_val (list_us, (double) { t1 - t0 });

      t0 = self_us ();
      g_assert_true (_mptcp_sockdiag_dump_sync (diag, &dump, 5000, NULL, &error));
      t1 = self_us ();
      g_array_append_val (parse_us, (double) { t1 - t0 });

      dumps_many = count_dumps ();
      for (guint i = 0; i < 20; i++)
        {
          t0 = self_us ();
          g_assert_true (mptcp_connection_refresh (handle, &error));
          t1 = self_us ();
          g_array_append_val (token_us, (double) { t1 - t0 });
          token_refreshes++;
        }
      dumps_many = count_dumps () - dumps_many;

      if (r < 5)
        {
          t0 = self_us ();
          c0 = cpu_us (RUSAGE_CHILDREN);
          ss_lines = ss_parse ();
          t1 = self_us ();
          c1 = cpu_us (RUSAGE_CHILDREN);
          g_array_append_val (ss_us, (double) { (t1 - t0) + (c1 - c0) });
        }
    }

  raw_m = median (raw_us);
  list_m = median (list_us);
  ss_m = median (ss_us);
  g_print ("bench-sockdiag: %u rounds, medians of CPU time per dump (%zu bytes of replies)\n",
           rounds, raw_bytes);
  g_print ("  raw sock_diag dumps      %10.0f us\n", raw_m);
  g_print ("  list refresh (no change) %10.0f us   list / raw = %.2f  (target <= 1.2: %s)\n",
           list_m, list_m / raw_m, list_m / raw_m <= 1.2 ? "met" : "MISSED");
  g_print ("  dumps parsed, no diff     %10.0f us   parse / raw = %.2f\n",
           median (parse_us), median (parse_us) / raw_m);
  g_print ("  ss -tinMH run + parsed   %10.0f us   ss / list  = %.2f  (%u token lines)\n",
           ss_m, ss_m / list_m, ss_lines);
  alone_m = median (alone_us);
  token_m = median (token_us);
  g_print ("  token handle refresh, alone  %8.1f us (%u subflows; %u dumps in 200 refreshes)\n",
           alone_m, g_list_model_get_n_items (mptcp_connection_get_subflows (handle)),
           dumps_alone);
  g_print ("  token handle refresh, with %u others %8.1f us   with / alone = %.2f, "
           "dump (parse) / handle = %.0f  (%u dumps in the last round's 20)\n", n, token_m,
           token_m / alone_m, median (parse_us) / token_m, dumps_many);
  if (COUNTING)
    g_print ("  allocations in one unchanged refresh: %" G_GUINT64_FORMAT
             " for %u connections (%s)\n", allocs_unchanged, n,
             allocs_unchanged < n / 100 + 16 ? "none per connection" : "PER CONNECTION");

  g_clear_object (&handle);
  close (own_fd);
  for (guint i = 0; i < n; i++)
    close (fds[i]);
  g_free (fds);
  close (raw_fd);
  _mptcp_diag_dump_clear (&dump);
  _mptcp_sockdiag_free (diag);
  read_restore_userspace_pm ();
  return 0;
}
