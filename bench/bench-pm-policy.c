/* bench-pm-policy.c: mptcp-glib-service as path manager against the in-kernel path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run as root: ./_build/bench/bench-pm-policy [ROUNDS] [BURST]  (it builds its own testbed,
 * private system bus, polkitd and service: tests/service/service-harness.h). Environment:
 * BURST=N overrides the burst size (0: no burst), BENCH_PM_POLICY_CPU=N pins the user-space
 * path managers (the service's threads, both floors) to CPU N, BENCH_PM_POLICY_ACCEPT_DELAY_US=N
 * makes the server side's application call accept() N us after the listener is readable,
 * BENCH_PM_POLICY_MPTCPD=1 adds mptcpd's sspi plugin to the server side.
 *
 * Measured on the wire, passively: AF_PACKET sockets (ETH_P_ALL: an ETH_P_IP packet socket does
 * not see outgoing frames) on the client namespace's veths c1 and c2, classic BPF filters for
 * TCP, SO_TIMESTAMPNS (the kernel's timestamp when the frame passes the device tap). The bench
 * blocks in poll() on a third packet socket whose filter passes only the frame that ends a
 * round, and reads the other two afterwards: nothing polls while the path managers work (a
 * poll loop on MPTCP_TCPINFO, the previous method, took the CPU the in-kernel PM's worker and
 * the service needed).
 *
 * Client side: one `subflow` endpoint on c2, limits 2/0. Per round: connect to the echo port,
 * send 4 bytes (the client is fully established then: ESTABLISHED); from the first data
 * segment leaving c1 to the join's third ACK (MP_JOIN) leaving c2 (the join's SYN recorded too):
 *   kernel   net.mptcp.path_manager=kernel: the in-kernel PM opens it;
 *   service  path_manager=userspace and the service acting as path manager;
 *   raw      userspace, the service not acting, a libmnl child process (blocking, nothing else
 *            to do) that sends SUBFLOW_CREATE as soon as it reads ESTABLISHED;
 *   glib     the same with a minimal GMainLoop program (the fd watched by g_unix_fd_add(), one
 *            recv() and the same SUBFLOW_CREATE per wakeup): service / glib is the service's
 *            own cost over GLib's main loop.
 * The floors are members of the event group during their own batches only. Batches of BATCH
 * rounds alternate between the four (the switch and an untimed round outside the timing).
 *
 * Server side: see bench_server_side. Then a burst: BURST connections (default 1000) opened at
 * once, the time until all have their subflow, and the service's CPU time per connection.
 */

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/genetlink.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include "service-harness.h"
#include "bench-common.h"

#define BATCH 5
#define MPTCPD_PLUGIN_DIR "/usr/lib/x86_64-linux-gnu/mptcpd"

/* ---- the floors: minimal path managers ----
 * Child processes in the same namespace, doing nothing but this: read the MPTCP event group and,
 * for each ESTABLISHED, send one SUBFLOW_CREATE from the c2 endpoint's address to the event's
 * remote address and port at once (no ack asked). The raw one blocks in recvfrom() (libmnl
 * only); the GLib one is a GMainLoop with the netlink fd watched. Each is a member of the event
 * group during its own batches only (floor_join, floor_leave): a member is woken by every
 * event, and a floor left in the group during the other batches took a CPU from the path
 * manager being timed at the moment it needed one. */

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

/* in the floor's process: the server side's job (ANNOUNCE c2's address) instead of the
 * client's (SUBFLOW_CREATE) */
static gboolean floor_announce;

/* one datagram of events: a SUBFLOW_CREATE (or an ANNOUNCE) for each ESTABLISHED */
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
      g->cmd = floor_announce ? MPTCP_PM_CMD_ANNOUNCE : MPTCP_PM_CMD_SUBFLOW_CREATE;
      g->version = MPTCP_PM_VER;
      mnl_attr_put_u32 (nlh, MPTCP_PM_ATTR_TOKEN, ev.token);
      nest = mnl_attr_nest_start (nlh, MPTCP_PM_ATTR_ADDR);
      mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
      mnl_attr_put_u8 (nlh, MPTCP_PM_ADDR_ATTR_ID, 1);
      mnl_attr_put (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, sizeof *local, local);
      if (floor_announce)
        mnl_attr_put_u32 (nlh, MPTCP_PM_ADDR_ATTR_FLAGS, MPTCP_PM_ADDR_FLAG_SIGNAL);
      mnl_attr_nest_end (nlh, nest);
      if (floor_announce)
        {
          mnl_socket_sendto (nl, nlh, nlh->nlmsg_len);
          continue;
        }
      nest = mnl_attr_nest_start (nlh, MPTCP_PM_ATTR_ADDR_REMOTE);
      mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
      mnl_attr_put_u32 (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, ev.daddr);
      mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_PORT, ntohs (ev.dport));
      mnl_attr_nest_end (nlh, nest);
      mnl_socket_sendto (nl, nlh, nlh->nlmsg_len);
    }
}

/* the generic netlink socket of a floor: family id, events group id (ids), c2's address */
static struct mnl_socket *
floor_open (guint16        *ids,
            struct in_addr *local)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct mnl_socket *nl = mnl_socket_open (NETLINK_GENERIC);
  struct nlmsghdr *nlh;
  struct genlmsghdr *g;
  ssize_t n;

  ids[0] = ids[1] = 0;
  inet_pton (AF_INET, TESTBED_CLIENT2_V4, local);
  if (nl == NULL || mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return NULL;
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
    return NULL;
  return nl;
}

static void
floor_drain (struct mnl_socket *nl)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];

  while (recv (mnl_socket_get_fd (nl), buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno == EINTR ||
         errno == ENOBUFS)
    ;
}

/* Commands on ctl_fd: 'j' ('a': announcing) joins the group and serves events in a blocking read until SIGUSR1
 * interrupts it; it then leaves the group and drops what is queued. Each is acknowledged. */
static G_GNUC_NORETURN void
raw_pm_main (int ctl_fd,
             int ack_fd)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct sigaction sa = { .sa_handler = raw_leave_handler };   /* no SA_RESTART */
  guint16 ids[2];
  struct in_addr local;
  struct mnl_socket *nl;
  int group;
  ssize_t n;
  char cmd;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  sigaction (SIGUSR1, &sa, NULL);
  if ((nl = floor_open (ids, &local)) == NULL)
    _exit (1);
  group = ids[1];
  if (write (ack_fd, "r", 1) != 1)
    _exit (1);
  while (read (ctl_fd, &cmd, 1) == 1)
    {
      floor_announce = cmd == 'a';
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
      floor_drain (nl);
      if (write (ack_fd, "l", 1) != 1)
        _exit (1);
    }
  _exit (0);
}

/* The GLib floor, run as `bench-pm-policy --glib-floor CTL ACK` (exec'd: a fork of the
 * threaded bench must not run GLib). Commands on CTL: 'j' ('a': announcing) join the group, 'l' leave it and drop
 * what is queued; both acknowledged on ACK. */
typedef struct
{
  struct mnl_socket *nl;
  guint16 ids[2];
  int group;
  struct in_addr local;
  int ack;
  GMainLoop *loop;
} GlibFloor;

static gboolean
glib_floor_events (int          fd,
                   GIOCondition cond,
                   gpointer     data)
{
  GlibFloor *f = data;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

  if (n > 0)
    raw_serve (f->nl, f->ids[0], &f->local, buf, (int) n);
  return G_SOURCE_CONTINUE;
}

static gboolean
glib_floor_ctl (int          fd,
                GIOCondition cond,
                gpointer     data)
{
  GlibFloor *f = data;
  char cmd;

  if (read (fd, &cmd, 1) != 1)
    {
      g_main_loop_quit (f->loop);
      return G_SOURCE_REMOVE;
    }
  floor_announce = cmd == 'a';
  if (cmd == 'j' || cmd == 'a')
    mnl_socket_setsockopt (f->nl, NETLINK_ADD_MEMBERSHIP, &f->group, sizeof f->group);
  else
    {
      mnl_socket_setsockopt (f->nl, NETLINK_DROP_MEMBERSHIP, &f->group, sizeof f->group);
      floor_drain (f->nl);
    }
  if (write (f->ack, &cmd, 1) != 1)
    g_main_loop_quit (f->loop);
  return G_SOURCE_CONTINUE;
}

static int
glib_floor_main (int    ctl_fd,
                 int    ack_fd)
{
  GlibFloor f = { .ack = ack_fd };

  if ((f.nl = floor_open (f.ids, &f.local)) == NULL)
    return 1;
  f.group = f.ids[1];
  f.loop = g_main_loop_new (NULL, FALSE);
  g_unix_fd_add (mnl_socket_get_fd (f.nl), G_IO_IN, glib_floor_events, &f);
  g_unix_fd_add (ctl_fd, G_IO_IN | G_IO_HUP, glib_floor_ctl, &f);
  if (write (ack_fd, "r", 1) != 1)
    return 1;
  g_main_loop_run (f.loop);
  return 0;
}

typedef struct
{
  gboolean glib;
  pid_t pid;
  int ctl, ack;    /* the parent's ends: commands, acknowledgements */
  gboolean joined;
} Floor;

static Floor raw_floor = { FALSE }, glib_floor = { TRUE };

static void
floor_start (Floor *f)
{
  int ctl[2], ack[2];
  char a1[16], a2[16];
  char c;

  g_assert_cmpint (pipe (ctl), ==, 0);
  g_assert_cmpint (pipe (ack), ==, 0);
  g_snprintf (a1, sizeof a1, "%d", ctl[0]);
  g_snprintf (a2, sizeof a2, "%d", ack[1]);
  f->pid = fork ();
  g_assert_cmpint (f->pid, >=, 0);
  if (f->pid == 0)
    {
      close (ctl[1]);
      close (ack[0]);
      if (!f->glib)
        raw_pm_main (ctl[0], ack[1]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      execl ("/proc/self/exe", "bench-pm-policy", "--glib-floor", a1, a2, (char *) NULL);
      _exit (127);
    }
  close (ctl[0]);
  close (ack[1]);
  f->ctl = ctl[1];
  f->ack = ack[0];
  if (read (f->ack, &c, 1) != 1 || c != 'r')
    g_error ("a floor path manager did not start");
}

static void
floor_join (Floor    *f,
            gboolean  announce)
{
  char c;

  if (write (f->ctl, announce ? "a" : "j", 1) != 1 || read (f->ack, &c, 1) != 1)
    g_error ("a floor path manager did not join the event group");
  f->joined = TRUE;
}

/* raw: SIGUSR1 until it says it left (a signal that came just before its blocking read is
 * lost); glib: a command */
static void
floor_leave (Floor *f)
{
  struct pollfd pfd = { f->ack, POLLIN, 0 };
  char c;

  if (f->glib)
    {
      if (write (f->ctl, "l", 1) != 1)
        g_error ("the GLib floor is gone");
    }
  else
    do
      kill (f->pid, SIGUSR1);
    while (poll (&pfd, 1, 10) == 0);
  if (read (f->ack, &c, 1) != 1)
    g_error ("a floor path manager did not leave the event group");
  f->joined = FALSE;
}

static void
floor_stop (Floor *f)
{
  int status;

  kill (f->pid, SIGKILL);
  waitpid (f->pid, &status, 0);
  close (f->ctl);
  close (f->ack);
}

/* BENCH_PM_POLICY_CPU: every thread of pid on that CPU */
static int pin_cpu = -1;

static void
pin_pid (pid_t pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/task", (int) pid);
  cpu_set_t set;
  DIR *d;
  struct dirent *e;

  if (pin_cpu < 0 || (d = opendir (dir)) == NULL)
    return;
  CPU_ZERO (&set);
  CPU_SET (pin_cpu, &set);
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.' && sched_setaffinity (atoi (e->d_name), sizeof set, &set) != 0)
      g_printerr ("sched_setaffinity %s: %s\n", e->d_name, g_strerror (errno));
  closedir (d);
}

/* ---- the observer: packet sockets on c1 and c2 ---- */

static int cap_c1 = -1, cap_c2 = -1;   /* every TCP frame, read after the round */

#define SNAP 128   /* IPv4 and TCP headers with options */

/* IPv4 and TCP only */
static const struct sock_filter filter_tcp[] = {
  BPF_STMT (BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),
  BPF_STMT (BPF_LD | BPF_B | BPF_ABS, 9),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 1),
  BPF_STMT (BPF_RET | BPF_K, SNAP),
  BPF_STMT (BPF_RET | BPF_K, 0),
};

/* the wake socket's: IPv4 TCP of packet type pkttype, with c2's address as source or
 * destination (the three patched in), ACK without SYN */
static struct sock_filter filter_ack[] = {
  BPF_STMT (BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 11),
  BPF_STMT (BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 0 /* [3] pkttype */, 0, 9),
  BPF_STMT (BPF_LD | BPF_B | BPF_ABS, 9),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 7),
  BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 12 /* [6] 12 source, 16 destination */),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 0 /* [7] address, host order */, 0, 5),
  BPF_STMT (BPF_LDX | BPF_B | BPF_MSH, 0),
  BPF_STMT (BPF_LD | BPF_B | BPF_IND, 13),
  BPF_STMT (BPF_ALU | BPF_AND | BPF_K, 0x12),
  BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 0x10, 0, 1),
  BPF_STMT (BPF_RET | BPF_K, SNAP),
  BPF_STMT (BPF_RET | BPF_K, 0),
};

static void
packet_drain (int fd)
{
  char buf[SNAP];

  while (recv (fd, buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno == EINTR)
    ;
}

static int
packet_socket (const char               *ifname,
               const struct sock_filter *code,
               guint                     n)
{
  struct sock_fprog prog = { (unsigned short) n, (struct sock_filter *) code };
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons (ETH_P_ALL),
                             .sll_ifindex = (int) if_nametoindex (ifname) };
  int fd = socket (AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);   /* nothing until bound */
  int one = 1, rcvbuf = 1 << 20;

  if (fd < 0 || sll.sll_ifindex == 0 ||
      setsockopt (fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0 ||
      bind (fd, (struct sockaddr *) &sll, sizeof sll) != 0)
    g_error ("packet socket on %s: %s", ifname, g_strerror (errno));
  packet_drain (fd);
  return fd;
}

/* The wake socket of a side: the join's ACKs. Client side: leaving c1 from c2's address (the
 * testbed has no source routing: a join from c2's address to the server's path-1 address leaves
 * by c1, its answers come back by c2). Server side: arriving on c2 for c2's address. */
static int
wake_socket (gboolean client)
{
  struct in_addr c2;

  inet_pton (AF_INET, TESTBED_CLIENT2_V4, &c2);
  filter_ack[3].k = client ? PACKET_OUTGOING : PACKET_HOST;
  filter_ack[6].k = client ? 12 : 16;
  filter_ack[7].k = ntohl (c2.s_addr);
  return packet_socket (client ? TESTBED_CLIENT1_IFNAME : TESTBED_CLIENT2_IFNAME, filter_ack,
                        G_N_ELEMENTS (filter_ack));
}

typedef struct
{
  gint64 ns;          /* CLOCK_REALTIME, the device tap's timestamp */
  guint8 pkttype;     /* PACKET_OUTGOING, PACKET_HOST */
  guint16 sport, dport;   /* host order */
  guint8 flags;       /* TCP flags */
  guint payload;      /* TCP payload bytes (from the IP total length) */
  guint mptcp;        /* bit (1 << subtype) per MPTCP option */
} Frame;

#define MAX_FRAMES 64
#define TH_SYN 0x02
#define TH_ACK 0x10
#define MP_CAPABLE_BIT (1u << 0)
#define MP_JOIN_BIT    (1u << 1)
#define ADD_ADDR_BIT   (1u << 3)

static gint64
now_real_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* everything queued on fd, parsed */
static guint
packet_read (int    fd,
             Frame *out,
             guint  max)
{
  guint n = 0;

  for (;;)
    {
      guint8 p[SNAP];
      char cbuf[CMSG_SPACE (sizeof (struct timespec))];
      struct sockaddr_ll sll;
      struct iovec iov = { p, sizeof p };
      struct msghdr msg = { .msg_name = &sll, .msg_namelen = sizeof sll, .msg_iov = &iov,
                            .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf };
      ssize_t len = recvmsg (fd, &msg, MSG_DONTWAIT);
      Frame *f;
      guint ihl, thl;

      if (len < 0 && errno == EINTR)
        continue;
      if (len < 0)
        break;
      ihl = (p[0] & 0xf) * 4u;
      if (n == max || len < (ssize_t) ihl + 20)
        continue;
      thl = (p[ihl + 12] >> 4) * 4u;
      f = &out[n++];
      memset (f, 0, sizeof *f);
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
          {
            struct timespec ts;

            memcpy (&ts, CMSG_DATA (c), sizeof ts);
            f->ns = ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
          }
      f->pkttype = sll.sll_pkttype;
      f->sport = (guint16) (p[ihl] << 8 | p[ihl + 1]);
      f->dport = (guint16) (p[ihl + 2] << 8 | p[ihl + 3]);
      f->flags = p[ihl + 13];
      f->payload = (guint) (p[2] << 8 | p[3]) - ihl - thl;
      for (guint o = ihl + 20; o < ihl + thl && o < (guint) len;)
        {
          guint8 kind = p[o];

          if (kind == 0)
            break;
          if (kind == 1)
            {
              o++;
              continue;
            }
          if (o + 1 >= (guint) len || p[o + 1] < 2)
            break;
          if (kind == 30 && o + 2 < (guint) len)
            f->mptcp |= 1u << (p[o + 2] >> 4);
          o += p[o + 1];
        }
    }
  return n;
}

/* the q-quantile of sorted v */
static double
quantile (const double *v, guint n, double q)
{
  return n == 0 ? 0 : v[MIN ((guint) (q * (n - 1) + 0.5), n - 1)];
}

static void
run_client (const char *cmd)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = g_strsplit (cmd, " ", -1);

  if (!testbed_run_in_client ((const char * const *) argv, NULL, &error))
    g_error ("%s: %s", cmd, error->message);
}

static char *
loadavg (void)
{
  char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  *strchrnul (text, ' ') = '\0';   /* the 1-minute figure */
  return text;
}

enum { MODE_KERNEL, MODE_SERVICE, MODE_RAW, MODE_GLIB, N_MODES };

static const char * const mode_names[N_MODES] = {
  "in-kernel PM", "service as PM", "raw floor (libmnl)", "GLib floor (GMainLoop)",
};

static void
service_method (const char *method, GVariant *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, method, params, "()",
                                &error);
  g_assert_no_error (error);
  (void) r;   /* the reply is empty; clang counts a cleanup-only variable as unused */
}

static void
set_mode_full (guint    mode,
               gboolean announce)
{
  if (raw_floor.joined)
    floor_leave (&raw_floor);
  if (glib_floor.joined)
    floor_leave (&glib_floor);
  service_method ("SetPathManager", g_variant_new ("(s)", mode == MODE_KERNEL ? "kernel"
                                                                              : "userspace"));
  if (mode == MODE_RAW || mode == MODE_GLIB)
    {
      service_method ("ActAsPathManager", g_variant_new ("(b)", FALSE));
      floor_join (mode == MODE_RAW ? &raw_floor : &glib_floor, announce);
    }
}

static void
set_mode (guint mode)
{
  set_mode_full (mode, FALSE);
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

static guint16
local_port (int fd)
{
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;

  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sin, &len), ==, 0);
  return ntohs (sin.sin_port);
}

/* block in poll() on the wake socket (nothing else runs in the bench meanwhile) */
static gboolean
wait_wake (int wake)
{
  struct pollfd pfd = { wake, POLLIN, 0 };
  int r;

  while ((r = poll (&pfd, 1, 1000)) < 0 && errno == EINTR)
    ;
  return r == 1;
}

static int wake_client = -1;

/* the join in the frames: its SYN and third ACK leaving (MP_JOIN); FALSE until the ACK */
static gboolean
find_join (const Frame *f,
           guint        n,
           gint64      *t_syn,
           gint64      *t_ack)
{
  guint16 jport = 0;

  *t_syn = *t_ack = 0;
  for (guint i = 0; i < n; i++)
    if (f[i].pkttype != PACKET_OUTGOING || !(f[i].mptcp & MP_JOIN_BIT))
      continue;
    else if (*t_syn == 0 && (f[i].flags & (TH_SYN | TH_ACK)) == TH_SYN)
      {
        *t_syn = f[i].ns;
        jport = f[i].sport;
      }
    else if (*t_syn != 0 && f[i].sport == jport && (f[i].flags & (TH_SYN | TH_ACK)) == TH_ACK)
      {
        *t_ack = f[i].ns;
        return TRUE;
      }
  return FALSE;
}

/* One round on the wire: microseconds from the first data segment leaving c1 to the join's
 * third ACK leaving (*ack), to its SYN (*syn) and to the server's first answer arriving on
 * the initial subflow (*reply: its DATA_ACK is what makes the client fully established). FALSE: no join within 1 s. The bench sleeps
 * in poll() on the wake socket until a join's ACK leaves, then reads the captures (again if
 * that ACK was the previous connection's, closing). */
static gboolean
one_round (double *ack,
           double *syn,
           double *reply)
{
  Frame f[2 * MAX_FRAMES];
  char buf[4];
  int fd = connect_nodata ();
  guint16 lport = local_port (fd);
  gint64 start, t0 = 0, t_syn = 0, t_ack = 0, t_reply = 0;
  gboolean found = FALSE;
  guint n1 = 0, n2 = 0;

  packet_drain (cap_c1);
  packet_drain (cap_c2);
  packet_drain (wake_client);
  start = g_get_monotonic_time ();
  g_assert_cmpint (write (fd, "ping", 4), ==, 4);
  /* c1 first (the data segment, the join: see wake_socket), then c2, should routing change */
  while (!found && g_get_monotonic_time () - start < G_USEC_PER_SEC && wait_wake (wake_client))
    {
      packet_drain (wake_client);
      n1 += packet_read (cap_c1, f + n1, MAX_FRAMES - n1);
      n2 += packet_read (cap_c2, f + MAX_FRAMES + n2, MAX_FRAMES - n2);
      found = find_join (f, n1, &t_syn, &t_ack) || find_join (f + MAX_FRAMES, n2, &t_syn, &t_ack);
    }
  g_assert_cmpint (read (fd, buf, 4), ==, 4);
  close (fd);
  g_usleep (2000);   /* its FINs out of the way of the next round's wake socket */
  for (guint i = 0; i < n1 && t0 == 0; i++)
    if (f[i].pkttype == PACKET_OUTGOING && f[i].sport == lport && f[i].payload > 0)
      t0 = f[i].ns;
  for (guint i = 0; i < n1 && t_reply == 0; i++)
    if (f[i].pkttype == PACKET_HOST && f[i].dport == lport && f[i].ns > t0)
      t_reply = f[i].ns;
  if (!found || t0 == 0)
    return FALSE;
  *reply = t_reply != 0 ? (t_reply - t0) / 1000.0 : -1;
  *ack = (t_ack - t0) / 1000.0;
  *syn = (t_syn - t0) / 1000.0;
  return TRUE;
}

/* per mode: every timed round (us) and the batch medians */
typedef struct
{
  GArray *all, *syn, *reply;
  double *batch;
  guint failed;
} Series;

static void
series_init (Series *s, guint n_batches)
{
  s->all = g_array_new (FALSE, FALSE, sizeof (double));
  s->syn = g_array_new (FALSE, FALSE, sizeof (double));
  s->reply = g_array_new (FALSE, FALSE, sizeof (double));
  s->batch = g_new0 (double, n_batches);
  s->failed = 0;
}

static void
series_clear (Series *s)
{
  g_array_unref (s->all);
  g_array_unref (s->syn);
  g_array_unref (s->reply);
  g_free (s->batch);
}

/* one line: median of the batch medians, the rounds' median and 10-90 % range */
static double
series_print (const char *name,
              Series     *s,
              guint       n_batches,
              double      ref)
{
  g_autofree double *b = g_memdup2 (s->batch, n_batches * sizeof (double));
  double m = bench_median (b, n_batches);
  double *v = (double *) s->all->data, *y = (double *) s->syn->data;
  double all_m = bench_median (v, s->all->len), syn_m = bench_median (y, s->syn->len);
  double reply_m = s->reply != NULL ? bench_median ((double *) s->reply->data, s->reply->len) : 0;

  g_print ("  %-24s %8.1f us  ratio %.2f   rounds: median %.1f, 10-90%% %.1f-%.1f, join SYN "
           "at %.1f, server's answer in at %.1f   (%u never within 1 s)\n", name, m,
           ref > 0 ? m / ref : 1.0, all_m, quantile (v, s->all->len, 0.1),
           quantile (v, s->all->len, 0.9), syn_m, reply_m, s->failed);
  return m;
}

/* the ratio a / b per cycle of batches (the same minutes), median and range */
static void
print_cycle_ratio (const char *name,
                   Series     *a,
                   Series     *b,
                   guint       n_batches)
{
  g_autofree double *r = g_new (double, n_batches);
  guint n = 0;

  for (guint i = 0; i < n_batches; i++)
    if (a->batch[i] > 0 && b->batch[i] > 0)
      r[n++] = a->batch[i] / b->batch[i];
  if (n == 0)
    return;
  bench_median (r, n);
  g_print ("  per cycle %-18s median %.2f, 10-90%% %.2f-%.2f, range %.2f-%.2f (%u cycles)\n",
           name, quantile (r, n, 0.5), quantile (r, n, 0.1), quantile (r, n, 0.9), r[0],
           r[n - 1], n);
}

static void
bench_client_side (guint n_batches)
{
  Series s[N_MODES];
  double k, svc, raw, gl;

  for (guint mode = 0; mode < N_MODES; mode++)
    series_init (&s[mode], n_batches);
  wake_client = wake_socket (TRUE);
  for (guint b = 0; b < n_batches; b++)
    for (guint mode = 0; mode < N_MODES; mode++)
      {
        double batch[BATCH], us, syn, reply;
        guint n = 0;

        set_mode (mode);
        (void) one_round (&us, &syn, &reply);   /* untimed: the first connection after a switch */
        for (guint i = 0; i < BATCH; i++)
          if (!one_round (&us, &syn, &reply))
            s[mode].failed++;
          else
            {
              batch[n++] = us;
              g_array_append_val (s[mode].all, us);
              g_array_append_val (s[mode].syn, syn);
              g_array_append_val (s[mode].reply, reply);
            }
        s[mode].batch[b] = bench_median (batch, n);
      }
  close (wake_client);
  g_print ("client side, first data segment out -> the join's third ACK out (on the wire), %u "
           "rounds each, median of %u batch medians:\n", n_batches * BATCH, n_batches);
  k = series_print (mode_names[MODE_KERNEL], &s[MODE_KERNEL], n_batches, 0);
  svc = series_print (mode_names[MODE_SERVICE], &s[MODE_SERVICE], n_batches, k);
  raw = series_print (mode_names[MODE_RAW], &s[MODE_RAW], n_batches, k);
  gl = series_print (mode_names[MODE_GLIB], &s[MODE_GLIB], n_batches, k);
  print_cycle_ratio ("service / kernel", &s[MODE_SERVICE], &s[MODE_KERNEL], n_batches);
  print_cycle_ratio ("service / GLib", &s[MODE_SERVICE], &s[MODE_GLIB], n_batches);
  print_cycle_ratio ("raw / kernel", &s[MODE_RAW], &s[MODE_KERNEL], n_batches);
  g_print ("  service / GLib floor %.2f, service / raw floor %.2f, GLib / raw %.2f   (target "
           "service / in-kernel <= 1.3)\n", svc / gl, svc / raw, gl / raw);
  g_print ("RESULT client service/kernel %.2f raw/kernel %.2f glib/kernel %.2f service/glib %.2f "
           "kernel %.1f service %.1f raw %.1f glib %.1f\n", svc / k, raw / k, gl / k, svc / gl, k,
           svc, raw, gl);
  for (guint mode = 0; mode < N_MODES; mode++)
    series_clear (&s[mode]);
}

/* ---- server side: the job mptcpd's sspi plugin can do in the testbed ----
 * The client namespace (the service's) listens; the peer in the server namespace (in-kernel PM,
 * limits 8/8) connects over path 1 and sends 4 bytes. Policy: announce 198.51.100.1 (c2), which
 * the peer joins. On the wire, from the handshake's third ACK arriving on c1 (the server's
 * side of the connection is established there) to the ADD_ADDR leaving c1; the join's third
 * ACK arriving on c2 ends the round (the wake socket). The application is a thread blocked in
 * poll() on the listener that calls accept() at once (or BENCH_PM_POLICY_ACCEPT_DELAY_US
 * later); its wakeup and accept()'s return are recorded on the same clock:
 *   kernel   a `signal` endpoint, in-kernel PM;
 *   service  the same endpoint, the service as path manager;
 *   raw, glib  userspace PM, the service not acting, the floors sending one ANNOUNCE (c2's
 *            address, id 1) as soon as they read ESTABLISHED;
 *   mptcpd   (BENCH_PM_POLICY_MPTCPD=1) userspace PM, the service not acting,
 *            mptcpd --path-manager=sspi running. */

#define SERVER_PORT 6001

enum { SMODE_KERNEL, SMODE_SERVICE, SMODE_RAW, SMODE_GLIB, SMODE_MPTCPD, N_SMODES };

static const char * const smode_names[N_SMODES] = {
  "in-kernel PM", "service as PM", "raw floor", "GLib floor", "mptcpd sspi",
};

typedef struct
{
  int fd;
  gint64 ready, accepted;   /* CLOCK_REALTIME ns: poll() returned, accept() returned */
} Accepted;

static int acc_pipe[2] = { -1, -1 };
static guint accept_delay_us;

static gpointer
acceptor_main (gpointer data)
{
  int lfd = GPOINTER_TO_INT (data);

  for (;;)
    {
      struct pollfd pfd = { lfd, POLLIN, 0 };
      Accepted a;

      if (poll (&pfd, 1, -1) != 1)
        continue;
      a.ready = now_real_ns ();
      if (accept_delay_us > 0)
        g_usleep (accept_delay_us);
      a.fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      a.accepted = now_real_ns ();
      if (a.fd >= 0 && write (acc_pipe[1], &a, sizeof a) != sizeof a)
        close (a.fd);
    }
  return NULL;
}

typedef struct
{
  double add, ready, accepted, join, data;   /* us from the handshake's third ACK */
} ServerTimes;

static gboolean
server_round (int          wake,
              ServerTimes *t)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (SERVER_PORT) };
  g_autoptr(GError) error = NULL;
  struct pollfd pfd = { acc_pipe[0], POLLIN, 0 };
  Frame f1[MAX_FRAMES], f2[MAX_FRAMES];
  gint64 start, t_hs = 0, t_add = 0, t_join = 0, t_data = 0;
  Accepted a = { -1, 0, 0 };
  char buf[4];
  guint16 pport;
  gboolean woke = FALSE;
  guint n1, n2 = 0;
  int peer;

  inet_pton (AF_INET, TESTBED_CLIENT1_V4, &sin.sin_addr);
  peer = testbed_socket_in_server (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP, &error);
  g_assert_no_error (error);
  packet_drain (cap_c1);
  packet_drain (cap_c2);
  packet_drain (wake);
  g_assert_cmpint (connect (peer, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  pport = local_port (peer);
  g_assert_cmpint (write (peer, "ping", 4), ==, 4);
  /* woken again if the ACK was the previous connection's, closing */
  start = g_get_monotonic_time ();
  while (t_join == 0 && g_get_monotonic_time () - start < G_USEC_PER_SEC &&
         (woke = wait_wake (wake)))
    {
      packet_drain (wake);
      n2 += packet_read (cap_c2, f2 + n2, MAX_FRAMES - n2);
      for (guint i = 0; i < n2 && t_join == 0; i++)
        if (f2[i].pkttype == PACKET_HOST && (f2[i].mptcp & MP_JOIN_BIT) &&
            (f2[i].flags & (TH_SYN | TH_ACK)) == TH_ACK)
          t_join = f2[i].ns;
    }
  if (poll (&pfd, 1, 1000) != 1 || read (acc_pipe[0], &a, sizeof a) != sizeof a)
    g_error ("the acceptor did not accept");
  g_assert_cmpint (read (a.fd, buf, 4), ==, 4);
  n1 = packet_read (cap_c1, f1, MAX_FRAMES);
  close (a.fd);
  close (peer);
  g_usleep (2000);
  for (guint i = 0; i < n1; i++)
    if (t_hs == 0 && f1[i].pkttype == PACKET_HOST && f1[i].sport == pport &&
        f1[i].dport == SERVER_PORT && (f1[i].flags & (TH_SYN | TH_ACK)) == TH_ACK &&
        (f1[i].mptcp & MP_CAPABLE_BIT))
      t_hs = f1[i].ns;
    else if (t_data == 0 && f1[i].pkttype == PACKET_HOST && f1[i].sport == pport &&
             f1[i].payload > 0)
      t_data = f1[i].ns;
    else if (t_add == 0 && f1[i].pkttype == PACKET_OUTGOING && f1[i].sport == SERVER_PORT &&
             f1[i].dport == pport && (f1[i].mptcp & ADD_ADDR_BIT))
      t_add = f1[i].ns;
  if (!woke || t_hs == 0 || t_add == 0 || t_join == 0)
    return FALSE;
  t->add = (t_add - t_hs) / 1000.0;
  t->ready = (a.ready - t_hs) / 1000.0;
  t->accepted = (a.accepted - t_hs) / 1000.0;
  t->join = (t_join - t_hs) / 1000.0;
  t->data = t_data != 0 ? (t_data - t_hs) / 1000.0 : -1;
  return TRUE;
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

static double
print_quartiles (const char *what, GArray *a)
{
  double *v = (double *) a->data;
  double m = bench_median (v, a->len);

  g_print (" %s %.1f (%.1f-%.1f)", what, m, quantile (v, a->len, 0.25),
           quantile (v, a->len, 0.75));
  return m;
}

static void
bench_server_side (guint n_batches)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (SERVER_PORT) };
  gboolean have_mptcpd = g_strcmp0 (g_getenv ("BENCH_PM_POLICY_MPTCPD"), "1") == 0 &&
                         g_file_test ("/usr/libexec/mptcpd", G_FILE_TEST_IS_EXECUTABLE);
  GArray *ready[N_SMODES], *accepted[N_SMODES], *join[N_SMODES], *after_accept[N_SMODES];
  GArray *data[N_SMODES];
  Series s[N_SMODES];
  gboolean mptcpd_never = FALSE;
  int one = 1, lfd, wake;
  double k = 0;

  run_client ("ip mptcp endpoint flush");
  run_client ("ip mptcp endpoint add " TESTBED_CLIENT2_V4 " signal");
  run_client ("ip mptcp limits set subflow 2 add_addr_accepted 0");
  lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  g_assert_cmpint (lfd, >=, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  g_assert_cmpint (bind (lfd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (lfd, 64), ==, 0);
  g_assert_cmpint (pipe (acc_pipe), ==, 0);
  /* left blocked in poll() on the listener when this returns (the listener stays open) */
  g_thread_unref (g_thread_new ("acceptor", acceptor_main, GINT_TO_POINTER (lfd)));
  wake = wake_socket (FALSE);
  for (guint mode = 0; mode < N_SMODES; mode++)
    {
      series_init (&s[mode], n_batches);
      ready[mode] = g_array_new (FALSE, FALSE, sizeof (double));
      accepted[mode] = g_array_new (FALSE, FALSE, sizeof (double));
      join[mode] = g_array_new (FALSE, FALSE, sizeof (double));
      after_accept[mode] = g_array_new (FALSE, FALSE, sizeof (double));
      data[mode] = g_array_new (FALSE, FALSE, sizeof (double));
    }
  for (guint b = 0; b < n_batches; b++)
    for (guint mode = 0; mode < N_SMODES; mode++)
      {
        double batch[BATCH];
        ServerTimes t;
        GPid mptcpd = 0;
        guint n = 0;

        /* mptcpd: two batches where it never did the job are enough (each round waits 1 s) */
        if (mode == SMODE_MPTCPD && (!have_mptcpd || mptcpd_never))
          continue;
        set_mode_full (mode == SMODE_KERNEL ? MODE_KERNEL : mode == SMODE_RAW ? MODE_RAW
                       : mode == SMODE_GLIB ? MODE_GLIB : MODE_SERVICE, TRUE);
        if (mode == SMODE_MPTCPD)
          {
            service_method ("ActAsPathManager", g_variant_new ("(b)", FALSE));
            mptcpd = mptcpd_start ();
          }
        (void) server_round (wake, &t);   /* untimed, as in the client loop */
        for (guint i = 0; i < BATCH; i++)
          if (!server_round (wake, &t))
            s[mode].failed++;
          else
            {
              double aa = t.add - t.accepted;

              batch[n++] = t.add;
              g_array_append_val (s[mode].all, t.add);
              g_array_append_val (ready[mode], t.ready);
              g_array_append_val (accepted[mode], t.accepted);
              g_array_append_val (join[mode], t.join);
              g_array_append_val (after_accept[mode], aa);
              g_array_append_val (data[mode], t.data);
            }
        mptcpd_stop (mptcpd);
        s[mode].batch[b] = bench_median (batch, n);
        if (mode == SMODE_MPTCPD && n == 0 && b >= 1)
          mptcpd_never = TRUE;
      }
  close (wake);
  g_print ("server side, the handshake's third ACK in (c1) -> ADD_ADDR out (c1), %u rounds each, "
           "median of batch medians (accept delay %u us):\n", n_batches * BATCH,
           accept_delay_us);
  for (guint mode = 0; mode < N_SMODES; mode++)
    {
      g_autofree double *bm = g_memdup2 (s[mode].batch, n_batches * sizeof (double));
      double m = bench_median (bm, n_batches);

      if (mode == SMODE_MPTCPD && !have_mptcpd)
        continue;
      if (mode == SMODE_MPTCPD && mptcpd_never)
        {
          g_print ("  %-16s no ADD_ADDR or no join in %u rounds (two batches, then left out)\n",
                   smode_names[mode], s[mode].failed);
          continue;
        }
      if (mode == SMODE_KERNEL)
        k = m;
      g_print ("  %-16s ADD_ADDR %7.1f us  ratio %.2f  (%u failed); medians (quartiles) of the "
               "rounds:", smode_names[mode], m, k > 0 ? m / k : 1.0, s[mode].failed);
      print_quartiles ("ADD_ADDR", s[mode].all);
      print_quartiles ("app woken", ready[mode]);
      print_quartiles ("accept() returned", accepted[mode]);
      print_quartiles ("ADD_ADDR after accept()", after_accept[mode]);
      print_quartiles ("join established", join[mode]);
      print_quartiles ("peer's data in", data[mode]);
      g_print ("\n");
    }
  print_cycle_ratio ("service / kernel", &s[SMODE_SERVICE], &s[SMODE_KERNEL], n_batches);
  print_cycle_ratio ("service / GLib", &s[SMODE_SERVICE], &s[SMODE_GLIB], n_batches);
  print_cycle_ratio ("raw / kernel", &s[SMODE_RAW], &s[SMODE_KERNEL], n_batches);
  {
    double *v = (double *) accepted[SMODE_SERVICE]->data;
    double acc = bench_median (v, accepted[SMODE_SERVICE]->len);
    g_autofree double *bk = g_memdup2 (s[SMODE_KERNEL].batch, n_batches * sizeof (double));
    g_autofree double *bs = g_memdup2 (s[SMODE_SERVICE].batch, n_batches * sizeof (double));
    g_autofree double *br = g_memdup2 (s[SMODE_RAW].batch, n_batches * sizeof (double));
    g_autofree double *bg = g_memdup2 (s[SMODE_GLIB].batch, n_batches * sizeof (double));
    double mk = bench_median (bk, n_batches), ms = bench_median (bs, n_batches);
    double mr = bench_median (br, n_batches), mg = bench_median (bg, n_batches);

    g_print ("RESULT server service/kernel %.2f raw/kernel %.2f glib/kernel %.2f service/glib "
             "%.2f kernel %.1f service %.1f raw %.1f glib %.1f accept %.1f\n", ms / mk, mr / mk,
             mg / mk, ms / mg, mk, ms, mr, mg, acc);
  }
  for (guint mode = 0; mode < N_SMODES; mode++)
    {
      series_clear (&s[mode]);
      g_array_unref (ready[mode]);
      g_array_unref (accepted[mode]);
      g_array_unref (join[mode]);
      g_array_unref (after_accept[mode]);
      g_array_unref (data[mode]);
    }
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
        done += bench_extra_established (fds[i]) >= 1;
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
  guint rounds, burst, n_batches;
  const char *env;
  struct rlimit rl;
  g_autofree char *load0 = NULL, *load1 = NULL, *load2 = NULL;

  if (argc == 4 && strcmp (argv[1], "--glib-floor") == 0)
    return glib_floor_main (atoi (argv[2]), atoi (argv[3]));
  rounds = argc > 1 ? (guint) atoi (argv[1]) : 200;
  burst = argc > 2 ? (guint) atoi (argv[2]) : 1000;
  if ((env = g_getenv ("BURST")) != NULL)
    burst = (guint) atoi (env);
  if ((env = g_getenv ("BENCH_PM_POLICY_CPU")) != NULL && *env != '\0')
    pin_cpu = atoi (env);
  if ((env = g_getenv ("BENCH_PM_POLICY_ACCEPT_DELAY_US")) != NULL)
    accept_delay_us = (guint) atoi (env);
  n_batches = MAX (rounds / BATCH, 1);
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
  floor_start (&raw_floor);
  floor_start (&glib_floor);
  if (pin_cpu >= 0)
    {
      pin_pid (atoi (g_subprocess_get_identifier (service_proc)));
      pin_pid (raw_floor.pid);
      pin_pid (glib_floor.pid);
    }
  cap_c1 = packet_socket (TESTBED_CLIENT1_IFNAME, filter_tcp, G_N_ELEMENTS (filter_tcp));
  cap_c2 = packet_socket (TESTBED_CLIENT2_IFNAME, filter_tcp, G_N_ELEMENTS (filter_tcp));
  load0 = loadavg ();
  g_print ("path managers %s; load average %s at the start\n",
           pin_cpu >= 0 ? "pinned to one CPU" : "not pinned", load0);
  if (pin_cpu >= 0)
    g_print ("  (the service's threads and both floors on CPU %d)\n", pin_cpu);

  bench_client_side (n_batches);
  load1 = loadavg ();
  bench_server_side (n_batches);
  set_mode (MODE_SERVICE);
  floor_stop (&raw_floor);
  floor_stop (&glib_floor);
  run_client ("ip mptcp endpoint flush");
  run_client ("ip mptcp endpoint add " TESTBED_CLIENT2_V4 " subflow");
  close (cap_c1);
  close (cap_c2);
  load2 = loadavg ();
  g_print ("RESULT load %s %s %s pinned %d\n", load0, load1, load2, pin_cpu);

  if (burst > 0)
    {
      burst_run (MODE_KERNEL, burst);
      burst_run (MODE_SERVICE, burst);
    }
  set_mode (MODE_KERNEL);
  return harness_teardown () ? 0 : 1;
}
