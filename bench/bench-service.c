/* bench-service.c: steering through mptcp-glib-service against the library with CAP_NET_ADMIN
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run as root: ./_build/bench/bench-service [ROUNDS]  (it builds its own testbed, private
 * system bus, polkitd and service: tests/service/service-harness.h). In one process:
 *
 *   direct   open a subflow (c2 -> s2, completes when established) and close it (completes
 *            when the kernel reports it closed) through MptcpConnection with CAP_NET_ADMIN;
 *   library  the same through MptcpConnection with service-policy ALWAYS: what an application
 *            without CAP_NET_ADMIN gets (OpenSubflow, CloseSubflow, the refreshes, the
 *            forwarded events), on a connection registered before;
 *   service  the same through the service's OpenSubflow and CloseSubflow by hand (close counted
 *            until the SubflowClosed signal arrives), on a connection registered before;
 *   service+register  the same with Register and Unregister in every round.
 * The peer's in-kernel path manager keeps counting a closed join for a while (it refuses the
 * 9th of a connection, limit 8): every path moves to a fresh connection after 3 timed rounds,
 * each connection's first round (address ids, registration) untimed. Rounds alternate in
 * batches of 15 so that slow spells of a shared machine hit all four; the figures are medians
 * of the per-batch medians, and ratios to direct. The floor: direct plus two method calls the
 * service's main loop answers (Properties.Get; an open and a close cannot take fewer).
 *
 * Then: bytes per registration (the service's RSS over 5,000 registrations of one client) and
 * 1,000 clients (bus connections) registering one connection each, at once.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "service-harness.h"
#include "bench-common.h"

#define BATCH 15

static guint closed_signals;

static void
closed_cb (GDBusConnection *c, const char *s, const char *p, const char *i, const char *name,
           GVariant *params, gpointer user_data)
{
  closed_signals++;
}

static GInetSocketAddress *
inet (const char *host, guint16 port)
{
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (host, port));
}

static double
round_direct (MptcpConnection *mc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetSocketAddress) local = inet (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) remote = inet (TESTBED_SERVER2_V4, TESTBED_PORT_ECHO);
  g_autoptr(MptcpSubflow) sf = NULL;
  gint64 t0 = g_get_monotonic_time ();

  sf = mptcp_connection_open_subflow (mc, local, remote, NULL, &error);
  g_assert_no_error (error);
  mptcp_subflow_close (sf, NULL, &error);
  g_assert_no_error (error);
  return (double) (g_get_monotonic_time () - t0);
}

static double
round_service (GDBusConnection *conn,
               int              fd,
               const char      *registered)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL, lv = NULL, rv = NULL;
  g_autofree char *path = NULL;
  gint64 t0 = g_get_monotonic_time ();
  guint closed_before = closed_signals;
  guint sub = 0;

  if (registered == NULL)
    {
      path = register_fd (conn, fd, &error);
      g_assert_no_error (error);
      sub = g_dbus_connection_signal_subscribe (conn, MPTCP_SERVICE_BUS_NAME,
                                                MPTCP_SERVICE_CONNECTION_IFACE, "SubflowClosed",
                                                path, NULL, G_DBUS_SIGNAL_FLAGS_NONE, closed_cb,
                                                NULL, NULL);
      registered = path;
    }
  reply = call (conn, registered, MPTCP_SERVICE_CONNECTION_IFACE, "OpenSubflow",
                g_variant_new ("((sq)(sq)a{sv})", TESTBED_CLIENT2_V4, 0, TESTBED_SERVER2_V4,
                               TESTBED_PORT_ECHO, NULL), "((sq)(sq)yyb)", &error);
  g_assert_no_error (error);
  if (g_getenv ("BENCH_DETAIL"))
    g_printerr ("%s open %" G_GINT64_FORMAT " ", path != NULL ? "reg" : "hand", g_get_monotonic_time () - t0);
  lv = g_variant_get_child_value (reply, 0);
  rv = g_variant_get_child_value (reply, 1);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (conn, registered, MPTCP_SERVICE_CONNECTION_IFACE, "CloseSubflow",
                g_variant_new ("(@(sq)@(sq))", lv, rv), "()", &error);
  g_assert_no_error (error);
  if (g_getenv ("BENCH_DETAIL"))
    g_printerr ("closed %" G_GINT64_FORMAT " ", g_get_monotonic_time () - t0);
  while (closed_signals == closed_before)
    g_main_context_iteration (NULL, TRUE);
  if (g_getenv ("BENCH_DETAIL"))
    g_printerr ("signal %" G_GINT64_FORMAT "\n", g_get_monotonic_time () - t0);
  if (path != NULL)
    {
      g_clear_pointer (&reply, g_variant_unref);
      reply = call (conn, path, MPTCP_SERVICE_CONNECTION_IFACE, "Unregister", NULL, "()",
                    &error);
      g_assert_no_error (error);
      g_dbus_connection_signal_unsubscribe (conn, sub);
    }
  return (double) (g_get_monotonic_time () - t0);
}

typedef enum { PATH_DIRECT, PATH_LIBRARY, PATH_SERVICE, PATH_REGISTER, N_PATHS } PathKind;

static const char *const path_names[N_PATHS] = {
  "direct (CAP_NET_ADMIN)     ",
  "library through the service",
  "service by hand            ",
  "service, Register each time",
};

/* One path's current connection, replaced after ROUNDS_PER_CONNECTION timed rounds. */
typedef struct
{
  PathKind          kind;
  int               fd;
  MptcpConnection  *mc;
  char             *path;     /* PATH_SERVICE: its registration */
  guint             sub;
  guint             used;
} Peer;

#define ROUNDS_PER_CONNECTION 3

static GDBusConnection *bench_bus;

static double peer_run (Peer *p);

static void
peer_drop (Peer *p)
{
  if (p->sub != 0)
    g_dbus_connection_signal_unsubscribe (bench_bus, p->sub);
  p->sub = 0;
  g_clear_pointer (&p->path, g_free);
  g_clear_object (&p->mc);
  if (p->fd >= 0)
    close (p->fd);
  p->fd = -1;
}

static void
peer_renew (Peer *p)
{
  g_autoptr(GError) error = NULL;

  peer_drop (p);
  if (g_getenv ("BENCH_DETAIL"))
    g_printerr ("new connection for %s\n", path_names[p->kind]);
  p->fd = mptcp_connect (TESTBED_SERVER1_V4, TESTBED_PORT_ECHO, TRUE);
  if (p->kind == PATH_DIRECT || p->kind == PATH_LIBRARY)
    {
      g_autoptr(GSocket) sock = g_socket_new_from_fd (dup (p->fd), &error);

      g_assert_no_error (error);
      p->mc = g_initable_new (MPTCP_TYPE_CONNECTION, NULL, &error, "socket", sock,
                              "service-policy", p->kind == PATH_LIBRARY
                                                  ? MPTCP_SERVICE_POLICY_ALWAYS
                                                  : MPTCP_SERVICE_POLICY_NEVER, NULL);
      g_assert_no_error (error);
    }
  else if (p->kind == PATH_SERVICE)
    {
      p->path = register_fd (bench_bus, p->fd, &error);
      g_assert_no_error (error);
      p->sub = g_dbus_connection_signal_subscribe (bench_bus, MPTCP_SERVICE_BUS_NAME,
                                                   MPTCP_SERVICE_CONNECTION_IFACE,
                                                   "SubflowClosed", p->path, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, closed_cb, NULL,
                                                   NULL);
    }
  /* the first round (address ids; the library path's registration) is not timed */
  peer_run (p);
  p->used = 0;
  if (p->kind == PATH_LIBRARY)
    g_assert_cmpint (mptcp_connection_get_event_source (p->mc), ==, MPTCP_EVENT_SOURCE_SERVICE);
}

static double
peer_run (Peer *p)
{
  switch (p->kind)
    {
    case PATH_DIRECT:
    case PATH_LIBRARY:
      return round_direct (p->mc);
    case PATH_SERVICE:
      return round_service (bench_bus, p->fd, p->path);
    case PATH_REGISTER:
    default:
      return round_service (bench_bus, p->fd, NULL);
    }
}

static double
peer_round (Peer *p)
{
  if (p->used >= ROUNDS_PER_CONNECTION)
    peer_renew (p);
  p->used++;
  return peer_run (p);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) conn = NULL;
  g_autofree char *path = NULL;
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 180, b, i, k, n_batches;
  double *med[N_PATHS], batch[BATCH], ping, method;
  Peer peers[N_PATHS] = { 0 };
  struct rlimit rl;
  int fd;

  if (getuid () != 0)
    {
      g_printerr ("bench-service: run it as root\n");
      return 1;
    }
  if (g_getenv ("MPTCP_GLIB_SERVICE") == NULL)
    g_setenv ("MPTCP_GLIB_SERVICE", SERVICE_EXE, TRUE);
  if (g_getenv ("MPTCP_GLIB_SERVICE_SRCDIR") == NULL)
    g_setenv ("MPTCP_GLIB_SERVICE_SRCDIR", SERVICE_SRCDIR, TRUE);
  /* 1,000 bus connections and the service's share of them */
  getrlimit (RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  self_exe = argv[0];
  testbed_init_or_exit ();
  harness_setup (100000);

  /* the library's own bus connection goes to the private bus */
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
  fd = mptcp_connect (TESTBED_SERVER1_V4, TESTBED_PORT_ECHO, TRUE);
  conn = new_bus ();
  bench_bus = conn;
  path = register_fd (conn, fd, &error);
  g_assert_no_error (error);

  /* the floor: one D-Bus round trip to the service through the bus */
  {
    double pings[200];

    for (i = 0; i < 200; i++)
      {
        gint64 t0 = g_get_monotonic_time ();
        g_autoptr(GVariant) r = call (conn, MPTCP_SERVICE_PATH, "org.freedesktop.DBus.Peer",
                                      "Ping", NULL, "()", &error);

        g_assert_no_error (error);
        pings[i] = (double) (g_get_monotonic_time () - t0);
        g_assert_nonnull (r);
      }
    ping = bench_median (pings, 200);
    g_print ("one round trip to the service (Peer.Ping, answered by GDBus's thread): median "
             "%.1f us\n", ping);
    /* a method the service's main loop answers (the registration's Token property) */
    for (i = 0; i < 200; i++)
      {
        gint64 t0 = g_get_monotonic_time ();
        g_autoptr(GVariant) r = call (conn, path, "org.freedesktop.DBus.Properties", "Get",
                                      g_variant_new ("(ss)", MPTCP_SERVICE_CONNECTION_IFACE,
                                                     "Token"), "(v)", &error);

        g_assert_no_error (error);
        pings[i] = (double) (g_get_monotonic_time () - t0);
        g_assert_nonnull (r);
      }
    method = bench_median (pings, 200);
    g_print ("one method call the service's main loop answers (Properties.Get): median %.1f "
             "us\n", method);
  }

  for (k = 0; k < N_PATHS; k++)
    {
      peers[k].kind = k;
      peers[k].fd = -1;
      peers[k].used = ROUNDS_PER_CONNECTION;   /* a connection at the first round */
      med[k] = g_new (double, MAX (rounds / BATCH, 1));
    }
  /* warm up */
  for (i = 0; i < 6; i++)
    for (k = 0; k < N_PATHS; k++)
      peer_round (&peers[k]);
  n_batches = MAX (rounds / BATCH, 1);
  for (b = 0; b < n_batches; b++)
    for (k = 0; k < N_PATHS; k++)
      {
        for (i = 0; i < BATCH; i++)
          batch[i] = peer_round (&peers[k]);
        med[k][b] = bench_median (batch, BATCH);
      }
  g_print ("open+established+close, %u rounds (median of %u batch medians):\n",
           n_batches * BATCH, n_batches);
  {
    double d = bench_median (med[PATH_DIRECT], n_batches);

    for (k = 0; k < N_PATHS; k++)
      {
        double v = bench_median (med[k], n_batches);

        g_print ("  %s %8.1f us   ratio %.2f%s\n", path_names[k], v, v / d,
                 k == PATH_LIBRARY ? " (target <= 2.5)" : "");
      }
    g_print ("  floor: direct + 2 method calls %5.1f us   ratio %.2f\n", d + 2 * method,
             (d + 2 * method) / d);
  }
  for (k = 0; k < N_PATHS; k++)
    {
      peer_drop (&peers[k]);
      g_free (med[k]);
    }

  /* bytes per registration */
  {
    g_autoptr(GDBusConnection) many = new_bus ();
    guint64 before, after;
    const guint n = 5000;

    before = service_rss_kib ();
    for (i = 0; i < n; i++)
      {
        g_autofree char *p = register_fd (many, fd, &error);

        g_assert_no_error (error);
        g_assert_nonnull (p);
      }
    after = service_rss_kib ();
    g_print ("service memory: %" G_GUINT64_FORMAT " KiB -> %" G_GUINT64_FORMAT " KiB for %u "
             "registrations: %.0f bytes each (target <= 2048)\n",
             before, after, n, (double) (after - before) * 1024 / n);
    g_dbus_connection_close_sync (many, NULL, NULL);
    while (n_registrations (bus) > 0)
      g_usleep (10000);
  }

  /* 1,000 clients, one registration each, all at once */
  {
    const guint n = 1000;
    GDBusConnection **clients = g_new0 (GDBusConnection *, n);
    g_autoptr(GVariant) all = NULL, list = NULL;
    gint64 t0;
    guint fds_before = service_fd_count ();
    guint64 rss_before = service_rss_kib ();

    for (i = 0; i < n; i++)
      clients[i] = new_bus ();
    t0 = g_get_monotonic_time ();
    for (i = 0; i < n; i++)
      {
        g_autofree char *p = register_fd (clients[i], fd, &error);

        g_assert_no_error (error);
        g_assert_nonnull (p);
      }
    g_print ("1000 clients registered in %.1f ms (%.0f us each, polkit asked once per client)\n",
             (g_get_monotonic_time () - t0) / 1000.0, (g_get_monotonic_time () - t0) / (double) n);
    all = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "ListAllRegistrations", NULL,
                "(a(ou(sq)(sq)s))", &error);
    g_assert_no_error (error);
    list = g_variant_get_child_value (all, 0);
    g_print ("  the service holds %" G_GSIZE_FORMAT " registrations, RSS %" G_GUINT64_FORMAT
             " -> %" G_GUINT64_FORMAT " KiB, %u -> %u fds\n", g_variant_n_children (list),
             rss_before, service_rss_kib (), fds_before, service_fd_count ());
    t0 = g_get_monotonic_time ();
    for (i = 0; i < n; i++)
      {
        g_dbus_connection_close_sync (clients[i], NULL, NULL);
        g_object_unref (clients[i]);
      }
    while (TRUE)
      {
        g_autoptr(GVariant) again = call (bus, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE,
                                          "ListAllRegistrations", NULL, "(a(ou(sq)(sq)s))",
                                          &error);
        g_autoptr(GVariant) l = g_variant_get_child_value (again, 0);

        if (g_variant_n_children (l) <= 1)   /* the benchmark's own */
          break;
        g_usleep (5000);
      }
    g_print ("  all 1000 left the bus; their registrations were gone %.1f ms later\n",
             (g_get_monotonic_time () - t0) / 1000.0);
    g_free (clients);
  }

  g_clear_object (&conn);
  harness_teardown ();
  return 0;
}
