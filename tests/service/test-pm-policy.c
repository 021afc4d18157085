/* test-pm-policy.c: mptcp-glib-service as the namespace's path manager, against the kernel's
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A differential test: for each scenario (an endpoint table and limits in the client namespace,
 * maybe a signal endpoint on the server), the same connections are made once with the in-kernel
 * path manager (net.mptcp.path_manager=kernel, the service not acting) and once with the
 * service as path manager (SetPathManager "userspace"); the sets of extra subflows of every
 * connection (local address -> remote address:port, backup flag; ports of the client are
 * ephemeral and left out) must be equal. Plus: a registered connection is left alone while
 * others follow the policy; the service SIGKILLed and restarted under many live connections
 * completes what is missing without duplicating a subflow.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/mptcp.h>

#include "service-harness.h"
#include "read-common.h"
#include "mptcp-sockdiag-private.h"

#define N_CONN 3

typedef struct
{
  const char *name;
  gboolean    v6;
  const char *endpoints[4];        /* "ADDRESS FLAGS..." for `ip mptcp endpoint add` */
  guint       subflows, accepted;  /* client limits */
  const char *server_signal;       /* a signal endpoint on the server, or NULL */
  guint       min_extra;           /* extra subflows each connection must have (sanity) */
  const char *late;                /* commands ("; "-separated) run once the connections are
                                    * established: `ip ...` in the client namespace, `server ip
                                    * ...` in the server's, `sleep MS` */
  const char *cut_of;              /* a limit cuts this set: which members fill the last slots
                                    * depends on when the peer's ADD_ADDR arrives during the
                                    * walk (for the kernel too), so both PMs must pick as many
                                    * members of it, not the same ones */
  const char *before;              /* commands run before the connections are made (as late) */
  gboolean    counters;            /* the server's ADD_ADDR, RM_ADDR and MP_PRIO counts must be
                                    * equal too */
  gboolean    initial;             /* the sets show the initial subflow too ("initial ...") */
  gboolean    no_poll;             /* the service runs without its table poll: only its own
                                    * reads (its changes, address events, new connections)
                                    * can see the late changes */
  const char *after;               /* commands run after the connections are closed (as late) */
} Scenario;

#define V4A "198.51.100.1"   /* c2 */
#define V4B "192.0.2.11"     /* alias on c1 */
#define V4C "198.51.100.11"  /* alias on c2 */
#define V6A "2001:db8:1::11"
#define V6B "2001:db8:1::13"
#define SRV4 "192.0.2.12"    /* alias on s1 */
#define SRV6 "2001:db8:1::12"
#define V4D "192.0.2.21"     /* added on c1 during a scenario */
#define SRV4B "192.0.2.13"   /* alias on s1 */

static const Scenario scenarios[] = {
  { "v4-1-subflow",         FALSE, { V4A " subflow" }, 2, 0, NULL, 1 },
  { "v4-2-subflows",        FALSE, { V4A " subflow", V4B " subflow" }, 2, 0, NULL, 2 },
  { "v4-3-subflows-limit2", FALSE, { V4A " subflow", V4B " subflow", V4C " subflow" }, 2, 0, NULL, 2 },
  { "v4-3-subflows-limit8", FALSE, { V4A " subflow", V4B " subflow", V4C " subflow" }, 8, 0, NULL, 3 },
  { "v4-limit0",            FALSE, { V4A " subflow", V4B " subflow" }, 0, 0, NULL, 0 },
  { "v4-limit1",            FALSE, { V4A " subflow", V4B " subflow" }, 1, 0, NULL, 1 },
  { "v4-backup",            FALSE, { V4A " subflow backup", V4B " subflow" }, 2, 0, NULL, 2 },
  { "v4-initial-address",   FALSE, { "192.0.2.1 subflow", V4A " subflow" }, 2, 0, NULL, 1 },
  { "v4-announce",          FALSE, { NULL }, 2, 1, SRV4, 1 },
  { "v4-announce-accept0",  FALSE, { NULL }, 2, 0, SRV4, 0 },
  { "v4-announce-subflow",  FALSE, { V4A " subflow" }, 4, 1, SRV4, 2 },
  { "v4-fullmesh",          FALSE, { V4A " subflow fullmesh", V4B " subflow fullmesh" }, 8, 1, SRV4, 4 },
  { "v4-fullmesh-limit3",   FALSE, { V4A " subflow fullmesh", V4B " subflow fullmesh" }, 3, 1, SRV4, 3, NULL,
    V4B " -> " SRV4 ":5002; " V4B " -> 192.0.2.2:5002; " V4A " -> " SRV4 ":5002; " V4A " -> 192.0.2.2:5002" },
  { "v6-1-subflow",         TRUE,  { V6A " subflow" }, 2, 0, NULL, 1 },
  { "v6-2-subflows-backup", TRUE,  { V6A " subflow backup", V6B " subflow" }, 8, 0, NULL, 1 },
  { "v6-v4-endpoint",       TRUE,  { V4A " subflow" }, 2, 0, NULL, 0 },
  { "v6-fullmesh",          TRUE,  { V6A " subflow fullmesh" }, 8, 2, SRV6, 2 },
  { "v4-endpoint-added-live", FALSE, { V4A " subflow" }, 4, 0, NULL, 2,
    "ip mptcp endpoint add " V4B " subflow" },
  { "v4-endpoint-added-limit", FALSE, { V4A " subflow" }, 1, 0, NULL, 1,
    "ip mptcp endpoint add " V4B " subflow" },
  /* live changes of the table (item 2): as the in-kernel PM, measured on 6.18 */
  { "v4-endpoint-removed",  FALSE, { V4A " subflow", V4B " subflow", V4C " subflow" }, 2, 0, NULL, 2,
    "ip mptcp endpoint delete id 1", .counters = TRUE },
  { "v4-endpoint-removed-readded", FALSE, { V4A " subflow" }, 2, 0, NULL, 1,
    "ip mptcp endpoint delete id 1; sleep 1500; ip mptcp endpoint add " V4A " id 1 subflow",
    .counters = TRUE },
  { "v4-backup-set-live",   FALSE, { V4A " subflow", V4B " subflow" }, 2, 0, NULL, 2,
    "ip mptcp endpoint change id 1 backup", .counters = TRUE },
  { "v4-backup-cleared-live", FALSE, { V4A " subflow backup" }, 2, 0, NULL, 1,
    "ip mptcp endpoint change id 1 nobackup" },
  { "v4-limit-raised-live", FALSE, { V4A " subflow", V4B " subflow", V4C " subflow" }, 1, 0, NULL, 1,
    "ip mptcp limits set subflow 3 add_addr_accepted 0" },
  { "v4-limit-raised-then-removed", FALSE, { V4A " subflow", V4B " subflow", V4C " subflow" }, 1, 0,
    NULL, 2, "ip mptcp limits set subflow 3 add_addr_accepted 0; sleep 1500; "
    "ip mptcp endpoint delete id 1", .counters = TRUE },
  { "v4-fullmesh-set-live", FALSE, { V4A " subflow" }, 8, 1, SRV4, 2,
    "ip mptcp endpoint change id 1 fullmesh" },
  { "v4-fullmesh-cleared-live", FALSE, { V4A " subflow fullmesh" }, 8, 1, SRV4, 1,
    "ip mptcp endpoint change id 1 nofullmesh" },
  /* the endpoint of the initial subflow's address removed */
  { "v4-initial-endpoint-removed", FALSE, { "192.0.2.1 subflow", V4A " subflow" }, 2, 0, NULL, 1,
    "ip mptcp endpoint delete id 1", .counters = TRUE, .initial = TRUE },
  { "v4-signal-client-side", FALSE, { V4A " signal" }, 2, 0, NULL, 0, .counters = TRUE },
  { "v4-server-signal-added-live", FALSE, { NULL }, 2, 2, NULL, 1,
    "server ip mptcp endpoint add " SRV4 " signal" },
  /* a link that goes down and up (item 1): c2 holds V4A; the in-kernel PM does nothing on link
   * events; an established subflow lives on, a join tried while the link is down is completed
   * by the SYN's retransmission once it is up (measured on 6.18) */
  { "v4-link-down-up",      FALSE, { V4A " subflow" }, 2, 0, NULL, 1,
    "ip link set " TESTBED_CLIENT2_IFNAME " down; sleep 1000; ip link set "
    TESTBED_CLIENT2_IFNAME " up" },
  { "v4-link-down-at-connect", FALSE, { V4A " subflow" }, 2, 0, NULL, 1,
    "ip link set " TESTBED_CLIENT2_IFNAME " up", .before = "ip link set " TESTBED_CLIENT2_IFNAME " down" },
  /* table changes without the poll (item 2): the service's own AddEndpoint reads the table at
   * once; an address added, then its endpoint (as a network manager does) is seen through the
   * address event; a change found by the read for a new connection reaches the live ones */
  { "v4-service-add-endpoint-live", FALSE, { V4A " subflow" }, 4, 0, NULL, 2,
    "service-add " V4B " subflow", .no_poll = TRUE },
  { "v4-address-then-endpoint-live", FALSE, { V4A " subflow" }, 4, 0, NULL, 2,
    "ip addr add " V4D "/24 dev " TESTBED_CLIENT1_IFNAME "; ip mptcp endpoint add " V4D " subflow",
    .no_poll = TRUE, .after = "ip addr del " V4D "/24 dev " TESTBED_CLIENT1_IFNAME },
  { "v4-service-backup-set-live", FALSE, { V4A " subflow", V4B " subflow" }, 2, 0, NULL, 2,
    "service-flags 1 backup", .counters = TRUE, .no_poll = TRUE },
  /* item 3: removed and added again at once, through the service: each change is read */
  { "v4-service-removed-readded", FALSE, { V4A " subflow" }, 2, 0, NULL, 1,
    "service-remove 1; service-add " V4A " subflow id 1", .counters = TRUE, .no_poll = TRUE },
  /* item 3 by another tool: the address goes too (as with a network manager), its events' reads
   * see the endpoint missing, then back (the re-addition takes two `ip` process starts, more
   * than the 1 ms of the first read) */
  { "v4-address-removed-readded", FALSE, { V4A " subflow", V4D " subflow" }, 2, 0, NULL, 2,
    "ip mptcp endpoint delete id 2; ip addr del " V4D "/24 dev " TESTBED_CLIENT1_IFNAME "; "
    "ip addr add " V4D "/24 dev " TESTBED_CLIENT1_IFNAME "; ip mptcp endpoint add " V4D
    " id 2 subflow", .counters = TRUE, .no_poll = TRUE,
    .before = "ip addr add " V4D "/24 dev " TESTBED_CLIENT1_IFNAME,
    .after = "ip addr del " V4D "/24 dev " TESTBED_CLIENT1_IFNAME },
  { "v4-endpoint-added-new-connection", FALSE, { V4A " subflow" }, 4, 0, NULL, 2,
    "ip mptcp endpoint add " V4B " subflow; connect", .no_poll = TRUE },
  /* item 6, a crash (SIGKILL) after the peer's announcement: the restarted service knows it
   * from its state file. A fullmesh endpoint added then makes its subflow to the announced
   * address too; none is made twice */
  { "v4-restart-fullmesh-added", FALSE, { V4A " subflow fullmesh" }, 8, 1, SRV4, 4,
    "kill-service; ip mptcp endpoint add " V4B " subflow fullmesh" },
  /* the peer's RM_ADDR (its signal endpoint deleted): the kernel closes the subflow to it; the
   * announcement no longer counts against add_addr_accepted, so a new one is accepted, and a
   * fullmesh endpoint added afterwards makes no subflow to the removed address */
  { "v4-peer-removed-then-announces", FALSE, { NULL }, 4, 1, SRV4, 0,
    "server ip mptcp endpoint delete id 1; sleep 1000; server ip mptcp endpoint add " SRV4B
    " signal" },
  { "v4-peer-removed-fullmesh-added", FALSE, { V4A " subflow fullmesh" }, 8, 1, SRV4, 1,
    "server ip mptcp endpoint delete id 1; sleep 1000; ip mptcp endpoint add " V4B
    " subflow fullmesh" },
  /* the accepted count is kept: a second announcement after the restart is over the limit */
  { "v4-restart-accepted-kept", FALSE, { NULL }, 4, 1, SRV4, 1,
    "kill-service; server ip mptcp endpoint add " SRV4B " signal" },
};

static void
run (gboolean server, const char *cmd)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = g_strsplit (cmd, " ", -1);
  gboolean ok = server ? testbed_run_in_server ((const char * const *) argv, NULL, &error)
                       : testbed_run_in_client ((const char * const *) argv, NULL, &error);

  if (!ok)
    g_error ("%s: %s", cmd, error->message);
}

static int connect_to (gboolean v6, const char *host, gboolean talk);

/* the connections made by a `connect` command, closed with the scenario's */
static GArray *extra_fds;

static void set_mode (gboolean service);
/* the path manager the last set_mode() chose: TRUE = the service */
static gboolean service_mode;

/* "; "-separated commands: `ip ...` (client namespace), `server ip ...`, `sleep MS`,
 * `kill-service` (SIGKILL, a new service started; as path manager in the service's runs),
 * `lose-state` (the service's state file overwritten with garbage),
 * `service-add ADDRESS FLAG... [id N]` (the service's AddEndpoint), `service-remove ID`
 * (RemoveEndpoint), `service-flags ID FLAG...` (SetEndpointFlags), `connect` (one more IPv4
 * connection, not compared) */
static void
run_list (const char *list)
{
  g_auto(GStrv) cmds = g_strsplit (list, "; ", -1);

  for (guint i = 0; cmds[i] != NULL; i++)
    if (g_str_has_prefix (cmds[i], "service-add "))
      {
        g_auto(GStrv) words = g_strsplit (cmds[i] + 12, " ", -1);
        g_autoptr(GPtrArray) flags = g_ptr_array_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        guint id = 0;

        for (guint w = 1; words[w] != NULL; w++)
          if (g_str_equal (words[w], "id") && words[w + 1] != NULL)
            id = (guint) g_ascii_strtoull (words[++w], NULL, 10);
          else
            g_ptr_array_add (flags, words[w]);
        g_ptr_array_add (flags, NULL);
        reply = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "AddEndpoint",
                      g_variant_new ("((sq)^asiu)", words[0], 0, (char **) flags->pdata, 0, id),
                      "(u)", &error);
        g_assert_no_error (error);
      }
    else if (g_str_has_prefix (cmds[i], "service-flags "))
      {
        g_auto(GStrv) words = g_strsplit (cmds[i] + 14, " ", -1);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE,
                                          "SetEndpointFlags",
                                          g_variant_new ("(u^as)", (guint) g_ascii_strtoull (
                                                           words[0], NULL, 10), words + 1),
                                          "()", &error);

        g_assert_no_error (error);
        g_assert_nonnull (reply);
      }
    else if (g_str_has_prefix (cmds[i], "service-remove "))
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE,
                                          "RemoveEndpoint",
                                          g_variant_new ("(u)", (guint) g_ascii_strtoull (
                                                           cmds[i] + 15, NULL, 10)),
                                          "()", &error);

        g_assert_no_error (error);
        g_assert_nonnull (reply);
      }
    else if (g_str_equal (cmds[i], "lose-state"))
      {
        g_autofree char *path = g_build_filename (harness_service_runtime_dir,
                                                  "path-manager.state", NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true (g_file_set_contents (path, "lost", -1, &error));
        g_assert_no_error (error);
      }
    else if (g_str_equal (cmds[i], "kill-service"))
      {
        harness_service_extra_arg = service_mode ? "--path-manager" : NULL;
        harness_kill_service ();
        harness_service_extra_arg = NULL;
      }
    else if (g_str_equal (cmds[i], "connect"))
      {
        int fd = connect_to (FALSE, TESTBED_SERVER1_V4, TRUE);

        g_array_append_val (extra_fds, fd);
      }
    else if (g_str_has_prefix (cmds[i], "sleep "))
      g_usleep (g_ascii_strtoull (cmds[i] + 6, NULL, 10) * 1000);
    else if (g_str_has_prefix (cmds[i], "server "))
      run (TRUE, cmds[i] + 7);
    else
      run (FALSE, cmds[i]);
}

/* the server namespace's MPTcpExt counters ADD_ADDR, RM_ADDR and MP_PRIO received */
static void
server_counters (guint64 out[3])
{
  static const char * const names[] = { "AddAddr", "RmAddr", "MPPrioRx" };
  static const char * const argv[] = { "cat", "/proc/net/netstat", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) values = NULL;

  memset (out, 0, 3 * sizeof out[0]);
  g_assert_true (testbed_run_in_server (argv, &text, &error));
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    if (g_str_has_prefix (lines[i], "MPTcpExt:"))
      {
        keys = g_strsplit (lines[i], " ", -1);
        values = g_strsplit (lines[i + 1], " ", -1);
        break;
      }
  g_assert_nonnull (keys);
  for (guint k = 0; keys[k] != NULL && values[k] != NULL; k++)
    for (guint n = 0; n < G_N_ELEMENTS (names); n++)
      if (g_strcmp0 (keys[k], names[n]) == 0)
        out[n] = g_ascii_strtoull (values[k], NULL, 10);
}

static void
service_call (const char *method, GVariant *params, GError **error)
{
  GVariant *reply = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, method, params, "()",
                          error);

  g_clear_pointer (&reply, g_variant_unref);
}

static void
set_mode (gboolean service)
{
  g_autoptr(GError) error = NULL;

  service_call ("SetPathManager", g_variant_new ("(s)", service ? "userspace" : "kernel"), &error);
  g_assert_no_error (error);
  service_mode = service;
}

static int
connect_to (gboolean v6, const char *host, gboolean talk)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  char buf[4];
  int fd = socket (v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);

  g_assert_cmpint (fd, >=, 0);
  if (v6)
    {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons (TESTBED_PORT_ECHO);
      g_assert_cmpint (inet_pton (AF_INET6, host, &s6->sin6_addr), ==, 1);
      len = sizeof *s6;
    }
  else
    {
      struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
      s4->sin_family = AF_INET;
      s4->sin_port = htons (TESTBED_PORT_ECHO);
      g_assert_cmpint (inet_pton (AF_INET, host, &s4->sin_addr), ==, 1);
      len = sizeof *s4;
    }
  g_assert_cmpint (connect (fd, (struct sockaddr *) &ss, len), ==, 0);
  if (talk)
    {
      g_assert_cmpint (write (fd, "ping", 4), ==, 4);
      g_assert_cmpint (read (fd, buf, 4), ==, 4);
    }
  return fd;
}

static void
talk (int fd)
{
  char buf[4];
  ssize_t n;

  g_assert_cmpint (write (fd, "ping", 4), ==, 4);
  do
    n = read (fd, buf, 4);
  while (n < 0 && errno == EINTR);
  if (n != 4)
    g_error ("read: %zd %s", n, g_strerror (errno));
}

static guint32
fd_token (int fd)
{
  guint8 info[96] = { 0 };
  socklen_t len = sizeof info;
  guint32 token;

  g_assert_cmpint (getsockopt (fd, SOL_MPTCP, MPTCP_INFO, info, &len), ==, 0);
  memcpy (&token, info + 12, 4);
  return token;
}

static char *
diag_ntop (guint8 family, const guint8 *raw)
{
  char text[INET6_ADDRSTRLEN];
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (family == AF_INET6 && memcmp (raw, mapped, 12) == 0)
    return g_strdup (inet_ntop (AF_INET, raw + 12, text, sizeof text));
  return g_strdup (inet_ntop (family, raw, text, sizeof text));
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
}

/* server side: the peer's ports are the ephemeral ones, left out */
static gboolean omit_remote_port;
/* the initial subflow is in the sets too */
static gboolean show_initial;

/* The connection's established extra subflows, sorted: "local -> remote:port[ backup]". */
static char *
subflow_set (MptcpSockDiag *diag, guint32 token)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  MptcpDiagDump dump;
  GString *out = g_string_new (NULL);

  _mptcp_diag_dump_init (&dump);
  g_assert_true (_mptcp_sockdiag_dump_sync (diag, &dump, 5000, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < dump.subflows->len; i++)
    {
      const MptcpDiagSocket *sf = &g_array_index (dump.subflows, MptcpDiagSocket, i);
      g_autofree char *l = NULL, *r = NULL;

      gboolean join = (sf->sf_flags & (MPTCP_SUBFLOW_FLAG_JOIN_LOC | MPTCP_SUBFLOW_FLAG_JOIN_REM)) != 0;

      if (!sf->ulp_attrs || sf->token_loc != token || sf->state != 1 || (!join && !show_initial))
        continue;
      l = diag_ntop (sf->family, sf->src);
      r = diag_ntop (sf->family, sf->dst);
      g_ptr_array_add (items, g_strdup_printf ("%s%s -> %s:%u%s", join ? "" : "initial ", l, r,
                                               omit_remote_port ? 0 : sf->dport,
                                               (sf->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC) ?
                                               " backup" : ""));
    }
  _mptcp_diag_dump_clear (&dump);
  g_ptr_array_sort (items, cmp_str);
  for (guint i = 0; i < items->len; i++)
    g_string_append_printf (out, "%s%s", i ? "; " : "", (char *) items->pdata[i]);
  return g_string_free (out, FALSE);
}

/* Waits until the subflow sets of all fds stay the same for 500 ms (at most 6 s). */
static char **
settle (MptcpSockDiag *diag, const int *fds, guint n)
{
  char **sets = g_new0 (char *, n + 1);
  gint64 start = g_get_monotonic_time (), stable_since = start;

  for (;;)
    {
      gboolean changed = FALSE;

      for (guint i = 0; i < n; i++)
        {
          char *now = subflow_set (diag, fd_token (fds[i]));

          if (g_strcmp0 (now, sets[i]) != 0)
            changed = TRUE;
          g_free (sets[i]);
          sets[i] = now;
        }
      if (changed)
        stable_since = g_get_monotonic_time ();
      else if (g_get_monotonic_time () - stable_since > 500000)
        break;
      if (g_get_monotonic_time () - start > 6 * G_USEC_PER_SEC)
        break;
      g_usleep (50000);
    }
  return sets;
}

static guint
n_subflows (const char *set)
{
  guint n = *set == '\0' ? 0 : 1;

  for (const char *p = set; *p; p++)
    n += *p == ';';
  return n;
}

/* set ("A -> B:P; ...", sorted) with each subflow once */
static char *
without_repeats (const char *set)
{
  g_auto(GStrv) members = g_strsplit (set, "; ", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; members[i] != NULL; i++)
    if (i == 0 || g_strcmp0 (members[i], members[i - 1]) != 0)
      g_string_append_printf (out, "%s%s", out->len > 0 ? "; " : "", members[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Every subflow of set is one of superset's ("A -> B:P; ..." both). */
static void
assert_members_of (const char *set,
                   const char *superset)
{
  g_auto(GStrv) members = g_strsplit (set, "; ", -1);
  g_auto(GStrv) allowed = g_strsplit (superset, "; ", -1);

  for (guint i = 0; members[i] != NULL; i++)
    if (*members[i] != '\0' && !g_strv_contains ((const char * const *) allowed, members[i]))
      g_error ("subflow %s is not one of %s", members[i], superset);
}

static char **
run_scenario (const Scenario *sc, gboolean service, MptcpSockDiag *diag, guint64 counts[3])
{
  guint64 start[3];
  g_autofree char *limits = g_strdup_printf ("ip mptcp limits set subflow %u add_addr_accepted %u",
                                             sc->subflows, sc->accepted);
  int fds[N_CONN];
  char **sets;

  set_mode (service);
  run (FALSE, "ip mptcp endpoint flush");
  run (TRUE, "ip mptcp endpoint flush");
  for (guint i = 0; i < G_N_ELEMENTS (sc->endpoints) && sc->endpoints[i] != NULL; i++)
    {
      g_autofree char *cmd = g_strdup_printf ("ip mptcp endpoint add %s", sc->endpoints[i]);
      run (FALSE, cmd);
    }
  run (FALSE, limits);
  if (sc->server_signal != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("ip mptcp endpoint add %s signal", sc->server_signal);
      run (TRUE, cmd);
    }
  server_counters (start);
  if (sc->before != NULL)
    run_list (sc->before);
  for (guint i = 0; i < N_CONN; i++)
    fds[i] = connect_to (sc->v6, sc->v6 ? TESTBED_SERVER1_V6 : TESTBED_SERVER1_V4, TRUE);
  sets = settle (diag, fds, N_CONN);
  if (sc->late != NULL)
    {
      run_list (sc->late);
      g_usleep (1500000);   /* the table poll (1 s here), the last address-event read (1 s) */
      g_strfreev (sets);
      sets = settle (diag, fds, N_CONN);
    }
  server_counters (counts);
  for (guint i = 0; i < 3; i++)
    counts[i] -= start[i];
  for (guint i = 0; i < N_CONN; i++)
    close (fds[i]);
  for (guint i = 0; i < extra_fds->len; i++)
    close (g_array_index (extra_fds, int, i));
  g_array_set_size (extra_fds, 0);
  if (sc->after != NULL)
    run_list (sc->after);
  return sets;
}

static void
test_differential (gconstpointer data)
{
  const Scenario *sc = data;
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag = _mptcp_sockdiag_new (&error);
  g_auto(GStrv) kernel = NULL, service = NULL;
  guint64 kc[3], servc[3];

  g_assert_no_error (error);
  show_initial = sc->initial;
  kernel = run_scenario (sc, FALSE, diag, kc);
  if (sc->no_poll)
    {
      harness_service_table_poll_ms = "0";
      harness_restart_service ();
    }
  service = run_scenario (sc, TRUE, diag, servc);
  if (sc->no_poll)
    {
      harness_service_table_poll_ms = "1000";
      harness_restart_service ();
    }
  show_initial = FALSE;
  g_test_message ("%s counters (server: ADD_ADDR, RM_ADDR, MP_PRIO received): kernel %"
                  G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT ", service %"
                  G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, sc->name,
                  kc[0], kc[1], kc[2], servc[0], servc[1], servc[2]);
  if (sc->counters)
    for (guint i = 0; i < 3; i++)
      g_assert_cmpuint (servc[i], ==, kc[i]);
  for (guint i = 0; i < N_CONN; i++)
    {
      g_test_message ("%s #%u kernel:  %s", sc->name, i, kernel[i]);
      g_test_message ("%s #%u service: %s", sc->name, i, service[i]);
      /* Linux 6.1's in-kernel PM opens some fullmesh subflows two or three times (a kernel
       * defect, measured under qemu); the service never does: its set must equal the
       * kernel's without the repeats */
      g_autofree char *k = without_repeats (kernel[i]);

      if (g_strcmp0 (k, kernel[i]) != 0)
        g_test_message ("%s #%u: the in-kernel PM repeated subflows", sc->name, i);
      if (sc->cut_of != NULL)
        {
          assert_members_of (k, sc->cut_of);
          assert_members_of (service[i], sc->cut_of);
          g_assert_cmpuint (n_subflows (service[i]), ==, n_subflows (k));
        }
      else
        g_assert_cmpstr (service[i], ==, k);
      g_assert_cmpuint (n_subflows (k), >=, sc->min_extra);
    }
  _mptcp_sockdiag_free (diag);
}

/* Server side: the service's namespace accepts connections from the testbed's other
 * namespace (in-kernel PM, limits 8/8) and announces its `signal` endpoints; the peer joins
 * them. */
static char **
run_server_side (const char * const *signals, const char *late, gboolean service,
                 MptcpSockDiag *diag, guint64 counts[3])
{
  guint64 start[3];
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (6001) };
  g_autoptr(GError) error = NULL;
  int one = 1, lfd, peers[N_CONN], fds[N_CONN];
  char buf[4];
  char **sets;

  set_mode (service);
  run (FALSE, "ip mptcp endpoint flush");
  run (TRUE, "ip mptcp endpoint flush");
  for (guint i = 0; signals[i] != NULL; i++)
    {
      g_autofree char *cmd = g_strdup_printf ("ip mptcp endpoint add %s signal", signals[i]);
      run (FALSE, cmd);
    }
  run (FALSE, "ip mptcp limits set subflow 8 add_addr_accepted 0");
  lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  g_assert_cmpint (lfd, >=, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  g_assert_cmpint (bind (lfd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (lfd, 16), ==, 0);
  inet_pton (AF_INET, TESTBED_CLIENT1_V4, &sin.sin_addr);
  server_counters (start);
  for (guint i = 0; i < N_CONN; i++)
    {
      peers[i] = testbed_socket_in_server (AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &error);
      g_assert_no_error (error);
      g_assert_cmpint (connect (peers[i], (struct sockaddr *) &sin, sizeof sin), ==, 0);
      fds[i] = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      g_assert_cmpint (fds[i], >=, 0);
      g_assert_cmpint (write (peers[i], "ping", 4), ==, 4);
      g_assert_cmpint (read (fds[i], buf, 4), ==, 4);
    }
  omit_remote_port = TRUE;
  sets = settle (diag, fds, N_CONN);
  if (late != NULL)
    {
      run_list (late);
      g_usleep (1500000);   /* the table poll (1 s here) */
      g_strfreev (sets);
      sets = settle (diag, fds, N_CONN);
    }
  omit_remote_port = FALSE;
  server_counters (counts);
  for (guint i = 0; i < 3; i++)
    counts[i] -= start[i];
  for (guint i = 0; i < N_CONN; i++)
    {
      close (fds[i]);
      close (peers[i]);
    }
  close (lfd);
  return sets;
}

static void
test_server_side (void)
{
  static const char * const tables[][3] = {
    { V4A, NULL },
    { V4A, V4B, NULL },
    { V4A, NULL },
    { V4A, V4B, NULL },
    { V4A, V4B, NULL },
    { V4A, V4B, NULL },
  };
  /* live changes (the peer's ADD_ADDR and RM_ADDR counts must be equal too) */
  static const char * const late[] = {
    NULL,
    NULL,
    "ip mptcp endpoint add " V4B " signal",
    "ip mptcp endpoint delete id 2",
    /* item 6: a crash after the announcements; the restarted service announces only the
     * endpoint added then (its state file says which were sent): as many ADD_ADDR as the
     * in-kernel PM */
    "kill-service; ip mptcp endpoint add " V4C " signal",
    /* the same with the state file lost: on 6.12 and later the kernel's GET_ADDR by token
     * says what was announced (6.1 lists nothing: the documented difference is checked) */
    "lose-state; kill-service; ip mptcp endpoint add " V4C " signal",
  };
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag = _mptcp_sockdiag_new (&error);

  g_assert_no_error (error);
  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      guint64 kc[3], sc[3];

      /* before 6.12 the kernel lists nothing to ask (measured on 6.1): with the file lost, an
       * adopted connection announces nothing more (documented), so the endpoint added after
       * the crash reaches no connection: one ADD_ADDR fewer each, and no join to it */
      gboolean nothing_to_ask = late[t] != NULL && strstr (late[t], "lose-state") != NULL &&
                                !read_kernel_at_least (6, 12);
      {
      g_auto(GStrv) kernel = run_server_side (tables[t], late[t], FALSE, diag, kc);
      g_auto(GStrv) service = run_server_side (tables[t], late[t], TRUE, diag, sc);

      g_test_message ("signal table %u counters (peer: ADD_ADDR, RM_ADDR, MP_PRIO received): "
                      "kernel %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                      ", service %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                      t, kc[0], kc[1], kc[2], sc[0], sc[1], sc[2]);
      if (nothing_to_ask)
        {
          g_test_message ("signal table %u: Linux before 6.12, the documented difference", t);
          g_assert_cmpuint (sc[0] + N_CONN, ==, kc[0]);
          g_assert_cmpuint (sc[1], ==, kc[1]);
          g_assert_cmpuint (sc[2], ==, kc[2]);
        }
      else if (late[t] != NULL)
        for (guint i = 0; i < 3; i++)
          g_assert_cmpuint (sc[i], ==, kc[i]);
      for (guint i = 0; i < N_CONN; i++)
        {
          g_autofree char *expected = NULL;

          g_test_message ("signal table %u #%u kernel:  %s", t, i, kernel[i]);
          g_test_message ("signal table %u #%u service: %s", t, i, service[i]);
          if (nothing_to_ask)
            {
              /* the kernel's set without the joins to the endpoint added after the crash */
              g_auto(GStrv) parts = g_strsplit (kernel[i], "; ", -1);
              g_autoptr(GPtrArray) kept = g_ptr_array_new ();
              guint dropped = 0;

              for (guint j = 0; parts[j] != NULL; j++)
                if (g_str_has_prefix (parts[j], V4C " -> "))
                  dropped++;
                else
                  g_ptr_array_add (kept, parts[j]);
              g_ptr_array_add (kept, NULL);
              g_assert_cmpuint (dropped, ==, 1);
              expected = g_strjoinv ("; ", (char **) kept->pdata);
            }
          else
            expected = g_strdup (kernel[i]);
          g_assert_cmpstr (service[i], ==, expected);
          g_assert_cmpuint (n_subflows (kernel[i]), >=, 1);
        }
      }
    }
  _mptcp_sockdiag_free (diag);
}

/* The service refuses to act as path manager while the in-kernel one is selected. */
static void
test_refuses_kernel_pm (void)
{
  g_autoptr(GError) error = NULL;

  set_mode (FALSE);
  service_call ("ActAsPathManager", g_variant_new ("(b)", TRUE), &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER);
  g_clear_error (&error);
  set_mode (TRUE);
  service_call ("ActAsPathManager", g_variant_new ("(b)", TRUE), &error);
  g_assert_no_error (error);
}

static char *
mptcpctl (const char *arg1, const char *arg2, int *status)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "DBUS_SYSTEM_BUS_ADDRESS",
                                         bus_address, TRUE);
  const char *argv[] = { g_getenv ("MPTCP_GLIB_MPTCPCTL"), "--json", arg1, arg2, NULL };
  char *out = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, status, &error));
  g_assert_no_error (error);
  return out;
}

/* mptcpctl path-manager: show, switch, refuse */
static void
test_cli (void)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  g_autofree char *sysctl = NULL;
  int status;

  a = mptcpctl ("path-manager", "kernel", &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (a, ==, "{\"path_manager\": \"kernel\", \"service_acting\": false}\n");
  /* pm_type: on every kernel (net.mptcp.path_manager only from Linux 6.15) */
  sysctl = testbed_read_sysctl ("net.mptcp.pm_type");
  g_assert_cmpstr (sysctl, ==, "0");
  b = mptcpctl ("path-manager", "act", &status);
  g_assert_cmpint (status, !=, 0);
  g_test_message ("%s", b);
  g_assert_nonnull (strstr (b, "\"code\": 6}"));   /* MPTCP_ERROR_WRONG_PATH_MANAGER */
  c = mptcpctl ("path-manager", "userspace", &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (c, ==, "{\"path_manager\": \"userspace\", \"service_acting\": true}\n");
  g_clear_pointer (&sysctl, g_free);
  sysctl = testbed_read_sysctl ("net.mptcp.pm_type");
  g_assert_cmpstr (sysctl, ==, "1");
  d = mptcpctl ("path-manager", NULL, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (d, ==, c);
}

/* A registered connection is steered by its application only. */
static void
test_registered_left_alone (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  MptcpSockDiag *diag = _mptcp_sockdiag_new (&error);
  g_auto(GStrv) sets = NULL;
  int fds[2];

  g_assert_no_error (error);
  set_mode (TRUE);
  run (FALSE, "ip mptcp endpoint flush");
  run (TRUE, "ip mptcp endpoint flush");
  run (FALSE, "ip mptcp endpoint add " V4A " subflow");
  run (FALSE, "ip mptcp limits set subflow 2 add_addr_accepted 0");
  /* as in test_restart: without this the unregistered connection may be served by a table
   * read before the flush (the test before's), and settle() ends before the table poll
   * brings it the endpoint (seen once on 6.12 under qemu) */
  g_usleep (1500000);   /* the table poll (1 s here) */
  /* registered before it is fully established (the policy acts at ESTABLISHED) */
  fds[0] = connect_to (FALSE, TESTBED_SERVER1_V4, FALSE);
  path = register_fd (bus, fds[0], &error);
  g_assert_no_error (error);
  talk (fds[0]);
  fds[1] = connect_to (FALSE, TESTBED_SERVER1_V4, TRUE);
  sets = settle (diag, fds, 2);
  g_assert_cmpstr (sets[0], ==, "");
  g_assert_cmpstr (sets[1], ==, V4A " -> " TESTBED_SERVER1_V4 ":5002");
  close (fds[0]);
  close (fds[1]);
  _mptcp_sockdiag_free (diag);
}

/* SIGKILL under N live connections; the new service (--path-manager) adopts them all: those
 * made while no service ran get their subflows, none gets one twice. */
static void
test_restart (void)
{
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag = _mptcp_sockdiag_new (&error);
  guint n = g_test_slow () ? 400 : 100, half = n / 2;
  int *fds = g_new (int, n);
  g_auto(GStrv) sets = NULL;
  const char *expected = V4B " -> " TESTBED_SERVER1_V4 ":5002; "   /* sorted */
                         V4A " -> " TESTBED_SERVER1_V4 ":5002";

  g_assert_no_error (error);
  set_mode (TRUE);
  run (FALSE, "ip mptcp endpoint flush");
  run (TRUE, "ip mptcp endpoint flush");
  run (FALSE, "ip mptcp endpoint add " V4A " subflow");
  run (FALSE, "ip mptcp endpoint add " V4B " subflow");
  run (FALSE, "ip mptcp limits set subflow 2 add_addr_accepted 0");
  /* `ip mptcp` changes come with no event: without this wait the first connections may be
   * served by a table read from before them (one read serves 250 ms of new connections) */
  g_usleep (1500000);   /* the table poll (1 s here) */
  for (guint i = 0; i < half; i++)
    fds[i] = connect_to (FALSE, TESTBED_SERVER1_V4, TRUE);
  sets = settle (diag, fds, half);
  for (guint i = 0; i < half; i++)
    g_assert_cmpstr (sets[i], ==, expected);
  g_clear_pointer (&sets, g_strfreev);

  /* crash, then connections nobody steers */
  harness_service_extra_arg = NULL;
  harness_kill_service ();
  for (guint i = half; i < n; i++)
    fds[i] = connect_to (FALSE, TESTBED_SERVER1_V4, TRUE);
  g_usleep (200000);
  sets = settle (diag, fds + half, n - half);
  for (guint i = 0; i < n - half; i++)
    g_assert_cmpstr (sets[i], ==, "");
  g_clear_pointer (&sets, g_strfreev);

  /* a crash of the new one too, then a start as path manager */
  harness_service_extra_arg = "--path-manager";
  harness_kill_service ();
  sets = settle (diag, fds, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (sets[i], ==, expected);
  for (guint i = 0; i < n; i++)
    close (fds[i]);
  g_free (fds);
  _mptcp_sockdiag_free (diag);
}

/* Item 6: a state file that cannot be used (not a GVariant, empty, another version, other
 * types, ids out of range, too large, deeply nested) is ignored with a warning: the service
 * runs, the policy works, and the file is written anew. */
static void
test_state_file_odd (void)
{
  static const char * const odd[] = {
    "garbage \x01 not a state",
    "",
    "(2, [(1, '192.0.2.1', '192.0.2.2', 1, 2, 0, [], true, [])])",
    "(uint32 1, [(1, 2, 3)])",
    "(1, 'x')",
    "(1, [(4294967295, '192.0.2.1', '192.0.2.2', 65535, 65535, 4294967295, "
    "[(300, '192.0.2.12', 0)], true, [])])",
    "(1, [(7, 'not an address', '::1', 1, 2, 4294967295, [(255, 'x', 65535)], true, "
    "[(0, '', 0), (0, '', 0)])])",
    "(1, [",
  };
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag = _mptcp_sockdiag_new (&error);
  g_autofree char *path = g_build_filename (harness_service_runtime_dir, "path-manager.state",
                                            NULL);
  const char *expected = V4A " -> " TESTBED_SERVER1_V4 ":5002";

  g_assert_no_error (error);
  for (guint t = 0; t < G_N_ELEMENTS (odd) + 3; t++)
    {
      g_autofree char *text = NULL;
      g_autoptr(GVariant) state = NULL, entries = NULL;
      g_auto(GStrv) sets = NULL;
      gsize len;
      int fd;

      harness_stop_service ();
      if (t < G_N_ELEMENTS (odd))
        g_assert_true (g_file_set_contents (path, odd[t], -1, &error));
      else if (t == G_N_ELEMENTS (odd))
        {
          /* too large: 5 MiB */
          g_autofree char *big = g_strnfill (5 * 1024 * 1024, '[');

          g_assert_true (g_file_set_contents (path, big, -1, &error));
        }
      else if (t == G_N_ELEMENTS (odd) + 1)
        {
          /* deeply nested, under the size limit */
          g_autofree char *deep = g_strnfill (1024 * 1024, '[');

          g_assert_true (g_file_set_contents (path, deep, -1, &error));
        }
      else
        /* a NUL inside */
        g_assert_true (g_file_set_contents (path, "(1, [])\0(1, [])", 15, &error));
      g_assert_no_error (error);
      g_test_message ("state file %u", t);
      harness_service_extra_arg = "--path-manager";
      harness_start_service ();
      harness_service_extra_arg = NULL;
      assert_service_alive ();
      set_mode (TRUE);
      run (FALSE, "ip mptcp endpoint flush");
      run (TRUE, "ip mptcp endpoint flush");
      run (FALSE, "ip mptcp endpoint add " V4A " subflow");
      run (FALSE, "ip mptcp limits set subflow 2 add_addr_accepted 0");
      fd = connect_to (FALSE, TESTBED_SERVER1_V4, TRUE);
      sets = settle (diag, &fd, 1);
      g_assert_cmpstr (sets[0], ==, expected);
      assert_service_alive ();
      /* written anew (the connection is in it) */
      g_assert_true (g_file_get_contents (path, &text, &len, &error));
      g_assert_no_error (error);
      state = g_variant_parse (G_VARIANT_TYPE ("(ua(ussqqua(ysq)ba(ysq)))"), text, NULL, NULL,
                               &error);
      g_assert_no_error (error);
      entries = g_variant_get_child_value (state, 1);
      g_assert_cmpuint (g_variant_n_children (entries), >=, 1);
      close (fd);
    }
  _mptcp_sockdiag_free (diag);
}

/* Item 6: an entry of the state file is taken by the connection with its token and its
 * addresses and ports only (a token can be reused by a later connection): with another local
 * port, its kept announcement is not served; with the connection's own, it is (a subflow from
 * the initial address to the announced one, as without fullmesh endpoints). */
static void
test_state_file_token_reused (void)
{
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag = _mptcp_sockdiag_new (&error);
  g_autofree char *path = g_build_filename (harness_service_runtime_dir, "path-manager.state",
                                            NULL);
  struct sockaddr_in local = { 0 }, remote = { 0 };
  socklen_t len = sizeof local;
  char ltext[INET_ADDRSTRLEN], rtext[INET_ADDRSTRLEN];
  const char *before = V4A " -> " TESTBED_SERVER1_V4 ":5002";
  const char *served = TESTBED_CLIENT1_V4 " -> " SRV4 ":5002; " V4A " -> " TESTBED_SERVER1_V4
                       ":5002";
  int fd;

  g_assert_no_error (error);
  set_mode (TRUE);
  run (FALSE, "ip mptcp endpoint flush");
  run (TRUE, "ip mptcp endpoint flush");
  run (FALSE, "ip mptcp endpoint add " V4A " subflow");
  run (FALSE, "ip mptcp limits set subflow 4 add_addr_accepted 1");
  fd = connect_to (FALSE, TESTBED_SERVER1_V4, TRUE);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &local, &len), ==, 0);
  len = sizeof remote;
  g_assert_cmpint (getpeername (fd, (struct sockaddr *) &remote, &len), ==, 0);
  inet_ntop (AF_INET, &local.sin_addr, ltext, sizeof ltext);
  inet_ntop (AF_INET, &remote.sin_addr, rtext, sizeof rtext);
  for (guint t = 0; t < 2; t++)
    {
      /* t = 0: another connection's entry (its local port differs); t = 1: this one's */
      guint16 lport = ntohs (local.sin_port) + (t == 0 ? 1 : 0);
      g_autofree char *text = g_strdup_printf ("(1, [(%u, '%s', '%s', %u, %u, 1, "
                                               "[(5, '" SRV4 "', 0)], true, [])])",
                                               fd_token (fd), ltext, rtext, lport,
                                               ntohs (remote.sin_port));
      g_auto(GStrv) sets = NULL;

      harness_stop_service ();
      g_assert_true (g_file_set_contents (path, text, -1, &error));
      g_assert_no_error (error);
      harness_service_extra_arg = "--path-manager";
      harness_start_service ();
      harness_service_extra_arg = NULL;
      sets = settle (diag, &fd, 1);
      g_assert_cmpstr (sets[0], ==, t == 0 ? before : served);
    }
  close (fd);
  _mptcp_sockdiag_free (diag);
}

int
main (int    argc,
      char **argv)
{
  int status;
  g_autofree char *runtime_dir = NULL;

  self_exe = argv[0];
  g_test_init (&argc, &argv, NULL);
  self_exe = g_canonicalize_filename (self_exe, NULL);
  if (getuid () != 0)
    {
      if (g_strcmp0 (g_getenv (TESTBED_REQUIRE_ENV), "1") == 0)
        {
          g_printerr ("test-pm-policy needs root\n");
          return 1;
        }
      g_print ("1..0 # SKIP needs root\n");
      return 0;
    }
  testbed_init_or_exit ();
  extra_fds = g_array_new (FALSE, FALSE, sizeof (int));
  /* the `late` changes by `ip mptcp` have no event: the service sees them at its table poll,
   * here once a second (the scenarios wait 1.5 s); the no_poll ones run without it */
  harness_service_table_poll_ms = "1000";
  run (FALSE, "ip addr add " V4B "/24 dev " TESTBED_CLIENT1_IFNAME);
  run (FALSE, "ip addr add " V4C "/24 dev " TESTBED_CLIENT2_IFNAME);
  run (FALSE, "ip -6 addr add " V6A "/64 dev " TESTBED_CLIENT1_IFNAME " nodad");
  run (FALSE, "ip -6 addr add " V6B "/64 dev " TESTBED_CLIENT1_IFNAME " nodad");
  run (TRUE, "ip addr add " SRV4 "/24 dev " TESTBED_SERVER1_IFNAME);
  run (TRUE, "ip addr add " SRV4B "/24 dev " TESTBED_SERVER1_IFNAME);
  run (TRUE, "ip -6 addr add " SRV6 "/64 dev " TESTBED_SERVER1_IFNAME " nodad");
  /* the path manager's state file (item 6) */
  runtime_dir = g_dir_make_tmp ("mptcp-pm-state-XXXXXX", NULL);
  g_assert_nonnull (runtime_dir);
  harness_service_runtime_dir = runtime_dir;
  harness_setup (64);

  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      g_autofree char *name = g_strdup_printf ("/pm-policy/differential/%s", scenarios[i].name);
      g_test_add_data_func (name, &scenarios[i], test_differential);
    }
  g_test_add_func ("/pm-policy/refuses-kernel-pm", test_refuses_kernel_pm);
  g_test_add_func ("/pm-policy/registered-left-alone", test_registered_left_alone);
  g_test_add_func ("/pm-policy/cli", test_cli);
  g_test_add_func ("/pm-policy/server-side", test_server_side);
  g_test_add_func ("/pm-policy/restart", test_restart);
  g_test_add_func ("/pm-policy/state-file-odd", test_state_file_odd);
  g_test_add_func ("/pm-policy/state-file-token-reused", test_state_file_token_reused);
  status = g_test_run ();
  if (!harness_teardown ())
    status = 1;
  {
    g_autofree char *state = g_build_filename (runtime_dir, "path-manager.state", NULL);

    (void) unlink (state);
    (void) rmdir (runtime_dir);
  }
  return status;
}
