/* bench-pm-table.c: a table change reaching a live connection, in-kernel PM against the service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run as root: ./_build/bench/bench-pm-table [ROUNDS]  (it builds its own testbed, private
 * system bus, polkitd and service: tests/service/service-harness.h). No endpoint, limits 2/0,
 * one live connection with no extra subflow; timed from the change until that connection has
 * its new subflow established (polled with MPTCP_TCPINFO, yielding the CPU):
 *   kernel, address + endpoint   `ip addr add 192.0.2.21/24 dev c1` then `ip mptcp endpoint
 *                                add 192.0.2.21 subflow`, in-kernel PM (what a network manager
 *                                does when an address comes);
 *   service, address event       the same, the service as path manager with its table poll off
 *                                (MPTCP_GLIB_SERVICE_TABLE_POLL_MS=0): the rtnetlink address
 *                                event schedules the table reads that find the endpoint;
 *   service, 1 s poll only       the address is there already (added 1.2 s before, its event's
 *                                reads are over), `ip mptcp endpoint add` alone, the service
 *                                with a 1 s poll: no event at all, as before this change for
 *                                every table change (started at a random phase of the poll);
 *   kernel, AddEndpoint          the address is there, the service's AddEndpoint over D-Bus
 *                                (the service not acting), in-kernel PM;
 *   service, AddEndpoint         the same, the service as path manager, poll off: the
 *                                service reads the table right after its own change.
 * Batches of BATCH rounds alternate between the modes (the service restarted when its poll
 * changes, outside the timing). The address and the endpoint are added from this process
 * (RTM_NEWADDR with libmnl, MptcpPathManager), what `ip` does without its process start, which
 * took up to hundreds of ms on the loaded machine. Figures: medians of all rounds, ratios to
 * the in-kernel PM doing the same.
 */

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/mptcp.h>
#include <linux/rtnetlink.h>
#include <linux/tcp.h>

#include "service-harness.h"
#include "bench-common.h"
#include "mptcp-endpoint-private.h"

#define BATCH 3
#define NEW_ADDR "192.0.2.21"

enum { M_KERNEL_IP, M_SERVICE_EVENT, M_SERVICE_POLL, M_KERNEL_DBUS, M_SERVICE_DBUS, N_MODES };

static const char * const mode_names[N_MODES] = {
  "kernel, address + endpoint", "service, address event", "service, 1 s poll only",
  "kernel, AddEndpoint", "service, AddEndpoint",
};

static void
run_client (const char *cmd)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = g_strsplit (cmd, " ", -1);

  if (!testbed_run_in_client ((const char * const *) argv, NULL, &error))
    g_error ("%s: %s", cmd, error->message);
}

static void
service_method (const char *method, GVariant *params, const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, method, params,
                                reply_type, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
}

static int
connect_talk (void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (TESTBED_PORT_ECHO) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  char buf[4];

  g_assert_cmpint (fd, >=, 0);
  inet_pton (AF_INET, TESTBED_SERVER1_V4, &sin.sin_addr);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (write (fd, "ping", 4), ==, 4);
  g_assert_cmpint (read (fd, buf, 4), ==, 4);
  return fd;
}

/* RTM_NEWADDR or RTM_DELADDR of NEW_ADDR/24 on c1, acknowledged */
static void
rtnl_addr (gboolean add)
{
  static struct mnl_socket *nl;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct ifaddrmsg *ifa;
  struct in_addr in;
  guint32 seq = (guint32) time (NULL);
  ssize_t n;

  if (nl == NULL)
    {
      nl = mnl_socket_open (NETLINK_ROUTE);
      g_assert_nonnull (nl);
      g_assert_cmpint (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID), ==, 0);
    }
  nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  nlh->nlmsg_seq = seq;
  ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 24;
  ifa->ifa_index = if_nametoindex (TESTBED_CLIENT1_IFNAME);
  g_assert_cmpuint (ifa->ifa_index, !=, 0);
  inet_pton (AF_INET, NEW_ADDR, &in);
  mnl_attr_put (nlh, IFA_LOCAL, sizeof in, &in);
  mnl_attr_put (nlh, IFA_ADDRESS, sizeof in, &in);
  g_assert_cmpint (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len), >=, 0);
  n = mnl_socket_recvfrom (nl, buf, sizeof buf);
  g_assert_cmpint (n, >, 0);
  if (mnl_cb_run (buf, n, seq, mnl_socket_get_portid (nl), NULL, NULL) < 0)
    g_error ("%s address: %s", add ? "adding the" : "removing the", g_strerror (errno));
}

static void
add_endpoint_here (void)
{
  static MptcpPathManager *pm;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (NEW_ADDR);
  g_autoptr(MptcpEndpoint) ep = _mptcp_endpoint_new (0, addr, 0, 0, NULL,
                                                     MPTCP_ENDPOINT_FLAG_SUBFLOW);
  g_autoptr(MptcpEndpoint) added = NULL;

  if (pm == NULL)
    pm = mptcp_path_manager_new (NULL, &error);
  g_assert_no_error (error);
  added = mptcp_path_manager_add_endpoint (pm, ep, NULL, &error);
  g_assert_no_error (error);
}

static const char *current_poll;

/* the service with this table poll ("0" = none), and acting or not */
static void
set_mode (guint mode)
{
  const char *poll = mode == M_SERVICE_POLL ? "1000" : "0";
  gboolean service = mode == M_SERVICE_EVENT || mode == M_SERVICE_POLL || mode == M_SERVICE_DBUS;

  if (g_strcmp0 (poll, current_poll) != 0)
    {
      harness_service_table_poll_ms = current_poll = poll;
      harness_restart_service ();
    }
  service_method ("SetPathManager", g_variant_new ("(s)", service ? "userspace" : "kernel"),
                  "()");
}

/* microseconds from the change to the new subflow established; < 0: never (3 s) */
static double
one_round (guint mode)
{
  const char *flags[] = { "subflow", NULL };
  gboolean ip = mode == M_KERNEL_IP || mode == M_SERVICE_EVENT || mode == M_SERVICE_POLL;
  int fd;
  gint64 t0, t = 0;

  if (mode != M_KERNEL_IP && mode != M_SERVICE_EVENT)
    {
      /* the address before, and its event's table reads (up to 1 s after it) over */
      rtnl_addr (TRUE);
      g_usleep (1200000);
    }
  fd = connect_talk ();
  g_usleep (300000);   /* established, its table read */
  if (mode == M_SERVICE_POLL)
    g_usleep (g_random_int_range (0, 1000) * 1000);   /* any phase of the poll */
  g_assert_cmpuint (bench_extra_established (fd), ==, 0);
  t0 = g_get_monotonic_time ();
  if (mode == M_KERNEL_IP || mode == M_SERVICE_EVENT)
    rtnl_addr (TRUE);
  if (ip)
    add_endpoint_here ();
  else
    service_method ("AddEndpoint", g_variant_new ("((sq)^asiu)", NEW_ADDR, 0, flags, 0, 0),
                    "(u)");
  while (bench_extra_established (fd) < 1 && g_get_monotonic_time () - t0 < 3 * G_USEC_PER_SEC)
    sched_yield ();
  if (bench_extra_established (fd) >= 1)
    t = g_get_monotonic_time ();
  close (fd);
  run_client ("ip mptcp endpoint flush");
  rtnl_addr (FALSE);
  g_usleep (1200000);   /* the reads the deletion's event scheduled are over */
  return t != 0 ? (double) (t - t0) : -1;
}

int
main (int    argc,
      char **argv)
{
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 9;
  guint n_batches = MAX ((rounds + BATCH - 1) / BATCH, 1), n[N_MODES] = { 0 };
  guint failed[N_MODES] = { 0 };
  double *us[N_MODES];

  if (getuid () != 0)
    {
      g_printerr ("bench-pm-table: run it as root\n");
      return 1;
    }
  if (g_getenv ("MPTCP_GLIB_SERVICE") == NULL)
    g_setenv ("MPTCP_GLIB_SERVICE", SERVICE_EXE, TRUE);
  if (g_getenv ("MPTCP_GLIB_SERVICE_SRCDIR") == NULL)
    g_setenv ("MPTCP_GLIB_SERVICE_SRCDIR", SERVICE_SRCDIR, TRUE);
  self_exe = argv[0];
  testbed_init_or_exit ();
  harness_service_table_poll_ms = current_poll = "0";
  harness_setup (64);
  run_client ("ip mptcp endpoint flush");
  run_client ("ip mptcp limits set subflow 2 add_addr_accepted 0");

  for (guint mode = 0; mode < N_MODES; mode++)
    us[mode] = g_new (double, n_batches * BATCH);
  for (guint b = 0; b < n_batches; b++)
    for (guint mode = 0; mode < N_MODES; mode++)
      {
        set_mode (mode);
        for (guint i = 0; i < BATCH; i++)
          {
            double v = one_round (mode);

            if (v < 0)
              failed[mode]++;
            else
              us[mode][n[mode]++] = v;
          }
      }
  set_mode (M_KERNEL_IP);
  g_print ("table change -> new subflow of a live connection established, %u rounds each "
           "(medians; min-max):\n", n_batches * BATCH);
  for (guint mode = 0; mode < N_MODES; mode++)
    {
      guint base = mode == M_KERNEL_DBUS || mode == M_SERVICE_DBUS ? M_KERNEL_DBUS : M_KERNEL_IP;
      double m = bench_median (us[mode], n[mode]), k = bench_median (us[base], n[base]);

      g_print ("  %-28s %9.1f ms   ratio %6.2f   (%.1f-%.1f; %u never within 3 s)\n",
               mode_names[mode], m / 1000, k > 0 ? m / k : 0,
               n[mode] ? us[mode][0] / 1000 : 0, n[mode] ? us[mode][n[mode] - 1] / 1000 : 0,
               failed[mode]);
    }
  for (guint mode = 0; mode < N_MODES; mode++)
    g_free (us[mode]);
  return harness_teardown () ? 0 : 1;
}
