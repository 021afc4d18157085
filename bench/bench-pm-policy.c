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
 *   raw      path_manager=userspace, the service not acting, and a raw libmnl child process
 *            (blocking, nothing else to do) that sends SUBFLOW_CREATE as soon as it reads
 *            ESTABLISHED: the floor of any user-space path manager on this machine (in the
 *            event group during its own batches only).
 * Batches of BATCH rounds alternate between the three (the switch is outside the timing); the
 * figures are medians of the batch medians and their ratios. Then the server side (the job
 * mptcpd's sspi plugin would do here: see bench_server_side). Then a burst: BURST connections
 * (default 1000) opened at once with the service as path manager, the time until all have
 * their subflow, and the service's CPU time (utime + stime from /proc) per connection.
 */

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include "service-harness.h"

#define BATCH 5
#define MPTCPD_PLUGIN_DIR "/usr/lib/x86_64-linux-gnu/mptcpd"

/* ---- the floor: a minimal raw path manager ----
 * A child process in the same namespace, blocking, libmnl only: it reads the MPTCP event group
 * and, for each ESTABLISHED, sends one SUBFLOW_CREATE from the c2 endpoint's address to the
 * event's remote address and port at once (no ack asked, nothing else done). It is a member
 * of the event group during the floor's batches only (raw_pm_join, raw_pm_leave): a member is
 * woken by every event, and a child left in the group during the other batches took a CPU
 * from the path manager being timed (the service's wakeup, or the in-kernel PM's worker) at
 * the moment it needed one. */

static pid_t raw_pid;
static gboolean raw_joined;
static int raw_ctl = -1, raw_ack = -1;   /* the parent's ends: commands, acknowledgements */
static volatile sig_atomic_t raw_leave;

static void
raw_leave_handler (int sig)
{
  raw_leave = 1;
}

static int
raw_family_cb (const struct nlattr *attr, void *data)
{
  guint16 *ids = data;   /* [0] family id, [1] events group id */

  if (mnl_attr_get_type (attr) == CTRL_ATTR_FAMILY_ID)
    ids[0] = mnl_attr_get_u16 (attr);
  else if (mnl_attr_get_type (attr) == CTRL_ATTR_MCAST_GROUPS)
    {
      const struct nlattr *grp, *a;

      mnl_attr_for_each_nested (grp, attr)
        {
          const char *name = NULL;
          guint32 id = 0;

          mnl_attr_for_each_nested (a, grp)
            if (mnl_attr_get_type (a) == CTRL_ATTR_MCAST_GRP_NAME)
              name = mnl_attr_get_str (a);
            else if (mnl_attr_get_type (a) == CTRL_ATTR_MCAST_GRP_ID)
              id = mnl_attr_get_u32 (a);
          if (g_strcmp0 (name, MPTCP_PM_EV_GRP_NAME) == 0)
            ids[1] = id;
        }
    }
  return MNL_CB_OK;
}

static int
raw_family_msg_cb (const struct nlmsghdr *nlh, void *data)
{
  return mnl_attr_parse (nlh, sizeof (struct genlmsghdr), raw_family_cb, data);
}

typedef struct
{
  guint32 token;
  guint32 daddr;   /* network order */
  guint16 dport;   /* network order */
  gboolean have_daddr, have_dport;
} RawEvent;

static int
raw_event_attr_cb (const struct nlattr *attr, void *data)
{
  RawEvent *ev = data;

  switch (mnl_attr_get_type (attr))
    {
    case MPTCP_ATTR_TOKEN:
      ev->token = mnl_attr_get_u32 (attr);
      break;
    case MPTCP_ATTR_DADDR4:
      ev->daddr = mnl_attr_get_u32 (attr);
      ev->have_daddr = TRUE;
      break;
    case MPTCP_ATTR_DPORT:
      ev->dport = mnl_attr_get_u16 (attr);
      ev->have_dport = TRUE;
      break;
    default:
      break;
    }
  return MNL_CB_OK;
}

/* one datagram of events: a SUBFLOW_CREATE for each ESTABLISHED */
static void
raw_serve (struct mnl_socket    *nl,
           guint16               family,
           const struct in_addr *local,
           const char           *buf,
           int                   len)
{
  char out[512];

  for (const struct nlmsghdr *m = (const struct nlmsghdr *) buf; mnl_nlmsg_ok (m, len);
       m = mnl_nlmsg_next (m, &len))
    {
      const struct genlmsghdr *eg = mnl_nlmsg_get_payload (m);
      RawEvent ev = { 0 };
      struct nlmsghdr *nlh;
      struct genlmsghdr *g;
      struct nlattr *nest;

      if (m->nlmsg_type != family || eg->cmd != MPTCP_EVENT_ESTABLISHED)
        continue;
      mnl_attr_parse (m, sizeof *eg, raw_event_attr_cb, &ev);
      if (!ev.have_daddr || !ev.have_dport)
        continue;
      nlh = mnl_nlmsg_put_header (out);
      nlh->nlmsg_type = family;
      nlh->nlmsg_flags = NLM_F_REQUEST;
      g = mnl_nlmsg_put_extra_header (nlh, sizeof *g);
      g->cmd = MPTCP_PM_CMD_SUBFLOW_CREATE;
      g->version = MPTCP_PM_VER;
      mnl_attr_put_u32 (nlh, MPTCP_PM_ATTR_TOKEN, ev.token);
      nest = mnl_attr_nest_start (nlh, MPTCP_PM_ATTR_ADDR);
      mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
      mnl_attr_put_u8 (nlh, MPTCP_PM_ADDR_ATTR_ID, 1);
      mnl_attr_put (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, sizeof *local, local);
      mnl_attr_nest_end (nlh, nest);
      nest = mnl_attr_nest_start (nlh, MPTCP_PM_ATTR_ADDR_REMOTE);
      mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
      mnl_attr_put_u32 (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, ev.daddr);
      mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_PORT, ntohs (ev.dport));
      mnl_attr_nest_end (nlh, nest);
      mnl_socket_sendto (nl, nlh, nlh->nlmsg_len);
    }
}

/* Commands on ctl_fd: 'j' joins the group and serves events in a blocking read until SIGUSR1
 * interrupts it; it then leaves the group and drops what is queued. Each is acknowledged. */
static G_GNUC_NORETURN void
raw_pm_main (int ctl_fd,
             int ack_fd)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct mnl_socket *nl = mnl_socket_open (NETLINK_GENERIC);
  struct sigaction sa = { .sa_handler = raw_leave_handler };   /* no SA_RESTART */
  guint16 ids[2] = { 0, 0 };
  struct nlmsghdr *nlh;
  struct genlmsghdr *g;
  struct in_addr local;
  int group;
  ssize_t n;
  char cmd;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  sigaction (SIGUSR1, &sa, NULL);
  inet_pton (AF_INET, TESTBED_CLIENT2_V4, &local);
  if (nl == NULL || mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    _exit (1);
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = GENL_ID_CTRL;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  g = mnl_nlmsg_put_extra_header (nlh, sizeof *g);
  g->cmd = CTRL_CMD_GETFAMILY;
  g->version = 1;
  mnl_attr_put_strz (nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0 ||
      (n = mnl_socket_recvfrom (nl, buf, sizeof buf)) <= 0 ||
      mnl_cb_run (buf, n, 0, 0, raw_family_msg_cb, ids) < 0 || ids[0] == 0 || ids[1] == 0)
    _exit (1);
  group = ids[1];
  if (write (ack_fd, "r", 1) != 1)
    _exit (1);
  while (read (ctl_fd, &cmd, 1) == 1)
    {
      if (mnl_socket_setsockopt (nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0 ||
          write (ack_fd, "j", 1) != 1)
        _exit (1);
      while (!raw_leave)
        {
          n = mnl_socket_recvfrom (nl, buf, sizeof buf);
          if (n > 0)
            raw_serve (nl, ids[0], &local, buf, (int) n);
        }
      raw_leave = 0;
      if (mnl_socket_setsockopt (nl, NETLINK_DROP_MEMBERSHIP, &group, sizeof group) < 0)
        _exit (1);
      while (recv (mnl_socket_get_fd (nl), buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno == EINTR ||
             errno == ENOBUFS)
        ;
      if (write (ack_fd, "l", 1) != 1)
        _exit (1);
    }
  _exit (0);
}

static void
raw_pm_start (void)
{
  int ctl[2], ack[2];
  char c;

  g_assert_cmpint (pipe (ctl), ==, 0);
  g_assert_cmpint (pipe (ack), ==, 0);
  raw_pid = fork ();
  g_assert_cmpint (raw_pid, >=, 0);
  if (raw_pid == 0)
    {
      close (ctl[1]);
      close (ack[0]);
      raw_pm_main (ctl[0], ack[1]);
    }
  close (ctl[0]);
  close (ack[1]);
  raw_ctl = ctl[1];
  raw_ack = ack[0];
  if (read (raw_ack, &c, 1) != 1)
    g_error ("the raw path manager did not start");
}

static void
raw_pm_join (void)
{
  char c;

  if (write (raw_ctl, "j", 1) != 1 || read (raw_ack, &c, 1) != 1)
    g_error ("the raw path manager did not join the event group");
}

/* SIGUSR1 until it says it left (a signal that came just before its blocking read is lost) */
static void
raw_pm_leave (void)
{
  struct pollfd pfd = { raw_ack, POLLIN, 0 };
  char c;

  do
    kill (raw_pid, SIGUSR1);
  while (poll (&pfd, 1, 10) == 0);
  if (read (raw_ack, &c, 1) != 1)
    g_error ("the raw path manager did not leave the event group");
}

static void
raw_pm_stop (void)
{
  int status;

  kill (raw_pid, SIGKILL);
  waitpid (raw_pid, &status, 0);
  close (raw_ctl);
  close (raw_ack);
}

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

enum { MODE_KERNEL, MODE_SERVICE, MODE_RAW, N_MODES };

static const char * const mode_names[N_MODES] = {
  "in-kernel PM", "service as PM", "raw floor (libmnl)",
};

static void
service_method (const char *method, GVariant *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, method, params, "()",
                                &error);

  g_assert_no_error (error);
  (void) r;   /* only the call matters */
}

static void
set_mode (guint mode)
{
  if (raw_joined)
    raw_pm_leave ();
  raw_joined = FALSE;
  service_method ("SetPathManager", g_variant_new ("(s)", mode == MODE_KERNEL ? "kernel"
                                                                              : "userspace"));
  if (mode == MODE_RAW)
    {
      service_method ("ActAsPathManager", g_variant_new ("(b)", FALSE));
      raw_pm_join ();
      raw_joined = TRUE;
    }
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
  /* polled, yielding the CPU to whoever opens the subflow (2 vCPUs shared) */
  while (extra_established (fd) < 1)
    if (g_get_monotonic_time () - t0 > G_USEC_PER_SEC)
      {
        close (fd);
        return -1;
      }
    else
      sched_yield ();
  t = g_get_monotonic_time ();
  g_assert_cmpint (read (fd, buf, 4), ==, 4);
  close (fd);
  return (double) (t - t0);
}

/* ---- server side: the job mptcpd's sspi plugin can do in the testbed ----
 * The client namespace (the service's) listens; the peer in the server namespace (in-kernel PM,
 * limits 8/8) connects over path 1 and sends 4 bytes. Policy: announce 198.51.100.1 (c2), which
 * the peer joins. Timed from the peer's connect() (sspi announces at CREATED, the others at
 * ESTABLISHED: one start for all) until the accepted socket has the join established:
 *   kernel   a `signal` endpoint, in-kernel PM;
 *   service  the same endpoint, the service as path manager;
 *   mptcpd   userspace PM, the service not acting, mptcpd --path-manager=sspi running (it
 *            announces the addresses of the interfaces other than the connection's). */

#define SERVER_PORT 6001

enum { SMODE_KERNEL, SMODE_SERVICE, SMODE_MPTCPD, N_SMODES };

static const char * const smode_names[N_SMODES] = {
  "in-kernel PM", "service as PM", "mptcpd sspi",
};

static double
server_round (int lfd)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (SERVER_PORT) };
  g_autoptr(GError) error = NULL;
  char buf[4];
  int peer, fd;
  gint64 t0, t = 0;

  inet_pton (AF_INET, TESTBED_CLIENT1_V4, &sin.sin_addr);
  peer = testbed_socket_in_server (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP, &error);
  g_assert_no_error (error);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (connect (peer, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (peer, "ping", 4), ==, 4);
  g_assert_cmpint (read (fd, buf, 4), ==, 4);
  while (extra_established (fd) < 1)
    if (g_get_monotonic_time () - t0 > G_USEC_PER_SEC)
      break;
    else
      sched_yield ();
  if (extra_established (fd) >= 1)
    t = g_get_monotonic_time ();
  close (fd);
  close (peer);
  return t != 0 ? (double) (t - t0) : -1;
}

static GPid
mptcpd_start (void)
{
  const char *argv[] = { "/usr/libexec/mptcpd", "--plugin-dir=" MPTCPD_PLUGIN_DIR,
                         "--load-plugins=sspi", "--path-manager=sspi", "--log=stderr",
                         "--notify-flags=existing,skip_link_local,skip_loopback", NULL };
  g_autoptr(GError) error = NULL;
  GPid pid;

  if (!g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
                      G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid,
                      &error))
    {
      g_printerr ("mptcpd: %s\n", error->message);
      return 0;
    }
  g_usleep (500000);   /* the genl family, the plugin, the existing addresses */
  return pid;
}

static void
mptcpd_stop (GPid pid)
{
  int status;

  if (pid == 0)
    return;
  kill (pid, SIGTERM);
  waitpid (pid, &status, 0);
}

static void
bench_server_side (guint n_batches)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (SERVER_PORT) };
  gboolean have_mptcpd = g_file_test ("/usr/libexec/mptcpd", G_FILE_TEST_IS_EXECUTABLE);
  double *med[N_SMODES], batch[BATCH];
  guint failed[N_SMODES] = { 0 };
  gboolean mptcpd_never = FALSE;
  int one = 1, lfd;

  run_client ("ip mptcp endpoint flush");
  run_client ("ip mptcp endpoint add " TESTBED_CLIENT2_V4 " signal");
  run_client ("ip mptcp limits set subflow 2 add_addr_accepted 0");
  lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  g_assert_cmpint (lfd, >=, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  g_assert_cmpint (bind (lfd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (lfd, 64), ==, 0);
  for (guint mode = 0; mode < N_SMODES; mode++)
    med[mode] = g_new0 (double, n_batches);
  for (guint b = 0; b < n_batches; b++)
    for (guint mode = 0; mode < N_SMODES; mode++)
      {
        GPid mptcpd = 0;
        guint n = 0;

        /* mptcpd: two batches where it never did the job are enough (each round waits 1 s) */
        if (mode == SMODE_MPTCPD && (!have_mptcpd || mptcpd_never))
          continue;
        set_mode (mode == SMODE_KERNEL ? MODE_KERNEL : MODE_SERVICE);
        if (mode == SMODE_MPTCPD)
          {
            service_method ("ActAsPathManager", g_variant_new ("(b)", FALSE));
            mptcpd = mptcpd_start ();
          }
        (void) server_round (lfd);   /* untimed, as in the client loop */
        for (guint i = 0; i < BATCH; i++)
          {
            double us = server_round (lfd);

            if (us < 0)
              failed[mode]++;
            else
              batch[n++] = us;
          }
        mptcpd_stop (mptcpd);
        med[mode][b] = n > 0 ? median (batch, n) : 0;
        if (mode == SMODE_MPTCPD && n == 0 && b >= 1)
          mptcpd_never = TRUE;
      }
  close (lfd);
  g_print ("server side, the peer's connect() -> its join to the announced address established, "
           "%u rounds each:\n", n_batches * BATCH);
  for (guint mode = 0; mode < N_SMODES; mode++)
    {
      double m = median (med[mode], n_batches), k = median (med[SMODE_KERNEL], n_batches);

      if (mode == SMODE_MPTCPD && !have_mptcpd)
        g_print ("  %-24s not installed (Debian package mptcpd)\n", smode_names[mode]);
      else if (mode == SMODE_MPTCPD && mptcpd_never)
        g_print ("  %-24s no join in %u rounds (two batches, then left out)\n",
                 smode_names[mode], failed[mode]);
      else
        g_print ("  %-24s %8.1f us   ratio %.2f   (%u never within 1 s)\n", smode_names[mode], m,
                 m / k, failed[mode]);
    }
  for (guint mode = 0; mode < N_SMODES; mode++)
    g_free (med[mode]);
}

/* a few of the server namespace's counters ("TcpExt:ListenDrops" ...), to see why joins wait */
static void
server_counters (const char * const *names, guint64 *out)
{
  static const char * const argv[] = { "cat", "/proc/net/netstat", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  for (guint n = 0; names[n] != NULL; n++)
    out[n] = 0;
  if (!testbed_run_in_server (argv, &text, &error))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i += 2)
    {
      g_auto(GStrv) keys = g_strsplit (lines[i], " ", -1);
      g_auto(GStrv) values = g_strsplit (lines[i + 1], " ", -1);

      for (guint k = 1; keys[k] != NULL && values[k] != NULL; k++)
        for (guint n = 0; names[n] != NULL; n++)
          {
            g_autofree char *full = g_strconcat (keys[0], keys[k], NULL);

            if (g_strcmp0 (full, names[n]) == 0)
              out[n] = g_ascii_strtoull (values[k], NULL, 10);
          }
    }
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

/* BURST connections written to at once: the time until all have their subflow, the service's
 * CPU, and the server's counters (dropped SYNs would show there) */
static void
burst_run (guint mode,
           guint burst)
{
  int *fds = g_new (int, burst);
  guint64 cpu0, cpu1;
  gint64 t0, t1, t_half = 0, t_90 = 0;
  guint done = 0;
  long hz = sysconf (_SC_CLK_TCK);

  static const char * const names[] = { "TcpExt:ListenDrops", "TcpExt:ListenOverflows",
                                        "TcpExt:TCPReqQFullDrop", "TcpExt:SyncookiesSent",
                                        "MPTcpExt:MPJoinSynRx", NULL };
  guint64 c0[5], c1[5];

  set_mode (mode);
  for (guint i = 0; i < burst; i++)
    fds[i] = connect_nodata ();
  server_counters (names, c0);
  cpu0 = service_cpu_ticks ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < burst; i++)
    g_assert_cmpint (write (fds[i], "ping", 4), ==, 4);
  while (done < burst && g_get_monotonic_time () - t0 < 30 * G_USEC_PER_SEC)
    {
      done = 0;
      for (guint i = 0; i < burst; i++)
        done += extra_established (fds[i]) >= 1;
      if (t_half == 0 && done >= burst / 2)
        t_half = g_get_monotonic_time ();
      if (t_90 == 0 && done >= burst - burst / 10)
        t_90 = g_get_monotonic_time ();
      if (done < burst)
        g_usleep (1000);
    }
  t1 = g_get_monotonic_time ();
  g_usleep (100000);
  cpu1 = service_cpu_ticks ();
  g_print ("burst of %u connections, %s: %u got their subflow in %.1f ms (half: %.1f ms, 90%%: "
           "%.1f ms); service CPU %.1f ms (%.1f us per connection)\n", burst,
           mode_names[mode], done,
           (t1 - t0) / 1000.0, t_half ? (t_half - t0) / 1000.0 : -1.0,
           t_90 ? (t_90 - t0) / 1000.0 : -1.0,
           (cpu1 - cpu0) * 1000.0 / hz, (cpu1 - cpu0) * 1e6 / hz / burst);
  server_counters (names, c1);
  g_print ("  server namespace during the burst:");
  for (guint n = 0; names[n] != NULL; n++)
    g_print (" %s +%" G_GUINT64_FORMAT, names[n], c1[n] - c0[n]);
  g_print ("\n");
  for (guint i = 0; i < burst; i++)
    close (fds[i]);
  g_free (fds);
}

int
main (int    argc,
      char **argv)
{
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 200;
  guint burst = argc > 2 ? (guint) atoi (argv[2]) : 1000;
  guint n_batches = MAX (rounds / BATCH, 1), failed[N_MODES] = { 0 };
  double *med[N_MODES], batch[BATCH];
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
  raw_pm_start ();

  for (guint mode = 0; mode < N_MODES; mode++)
    med[mode] = g_new (double, n_batches);
  for (guint b = 0; b < n_batches; b++)
    for (guint mode = 0; mode < N_MODES; mode++)
      {
        guint n = 0;

        set_mode (mode);
        (void) one_round ();   /* untimed: the first connection after a switch reads the table */
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
  set_mode (MODE_SERVICE);
  raw_pm_stop ();
  {
    double k = median (med[MODE_KERNEL], n_batches);

    g_print ("first data -> policy subflow established, %u rounds each (median of %u batch "
             "medians):\n", n_batches * BATCH, n_batches);
    for (guint mode = 0; mode < N_MODES; mode++)
      {
        double m = median (med[mode], n_batches);

        g_print ("  %-24s %8.1f us   ratio %.2f   (%u never within 1 s)\n", mode_names[mode], m,
                 m / k, failed[mode]);
      }
    g_print ("  service / raw floor      %8.2f   (target service / in-kernel <= 1.3)\n",
             median (med[MODE_SERVICE], n_batches) / median (med[MODE_RAW], n_batches));
  }

  bench_server_side (n_batches);
  run_client ("ip mptcp endpoint flush");
  run_client ("ip mptcp endpoint add " TESTBED_CLIENT2_V4 " subflow");

  burst_run (MODE_KERNEL, burst);
  burst_run (MODE_SERVICE, burst);
  set_mode (MODE_KERNEL);
  for (guint mode = 0; mode < N_MODES; mode++)
    g_free (med[mode]);
  return harness_teardown () ? 0 : 1;
}
