/* bench-service.c: steering through mptcp-glib-service against the library with CAP_NET_ADMIN
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run as root: ./_build/bench/bench-service [ROUNDS]  (it builds its own testbed, private
 * system bus, polkitd and service: tests/service/service-harness.h). In one process:
 *
 *   direct   open a subflow (c2 -> s2, completes when established) and close it (completes
 *            when the kernel reports it closed) through MptcpConnection with CAP_NET_ADMIN;
 *   service  the same through the service's OpenSubflow and CloseSubflow (close counted
 *            until the SubflowClosed signal arrives), on a connection registered once;
 *   service+register  the same with Register and Unregister in every round.
 * Rounds alternate in batches of 20 so that slow spells of a shared machine hit all three;
 * the figures are medians of the per-batch medians, and ratios to direct.
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

#define BATCH 20

static guint closed_signals;

static void
closed_cb (GDBusConnection *c, const char *s, const char *p, const char *i, const char *name,
           GVariant *params, gpointer user_data)
{
  closed_signals++;
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
    g_printerr ("open %" G_GINT64_FORMAT " ", g_get_monotonic_time () - t0);
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

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(MptcpConnection) mc = NULL;
  g_autoptr(GDBusConnection) conn = NULL;
  g_autofree char *path = NULL;
  guint rounds = argc > 1 ? (guint) atoi (argv[1]) : 200, b, i, n_batches;
  double *med_d, *med_s, *med_r, batch[3][BATCH];
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

  fd = mptcp_connect (TESTBED_SERVER1_V4, TESTBED_PORT_ECHO, TRUE);
  sock = g_socket_new_from_fd (fd, &error);
  mc = mptcp_connection_new (sock, &error);
  g_assert_no_error (error);
  conn = new_bus ();
  path = register_fd (conn, fd, &error);
  g_assert_no_error (error);
  g_dbus_connection_signal_subscribe (conn, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_CONNECTION_IFACE,
                                      "SubflowClosed", path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      closed_cb, NULL, NULL);

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
      }
    g_print ("one round trip to the service (Peer.Ping): median %.1f us\n", median (pings, 200));
  }

  /* warm up */
  for (i = 0; i < 10; i++)
    {
      round_direct (mc);
      round_service (conn, fd, path);
      round_service (conn, fd, NULL);
    }
  n_batches = MAX (rounds / BATCH, 1);
  med_d = g_new (double, n_batches);
  med_s = g_new (double, n_batches);
  med_r = g_new (double, n_batches);
  for (b = 0; b < n_batches; b++)
    {
      for (i = 0; i < BATCH; i++)
        batch[0][i] = round_direct (mc);
      for (i = 0; i < BATCH; i++)
        batch[1][i] = round_service (conn, fd, path);
      for (i = 0; i < BATCH; i++)
        batch[2][i] = round_service (conn, fd, NULL);
      med_d[b] = median (batch[0], BATCH);
      med_s[b] = median (batch[1], BATCH);
      med_r[b] = median (batch[2], BATCH);
    }
  {
    double d = median (med_d, n_batches), s = median (med_s, n_batches);
    double r = median (med_r, n_batches);

    g_print ("open+established+close, %u rounds (median of %u batch medians):\n",
             n_batches * BATCH, n_batches);
    g_print ("  direct (CAP_NET_ADMIN)      %8.1f us\n", d);
    g_print ("  through the service         %8.1f us   ratio %.2f (target <= 2.5)\n", s, s / d);
    g_print ("  service, Register each time %8.1f us   ratio %.2f\n", r, r / d);
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

  g_free (med_d);
  g_free (med_s);
  g_free (med_r);
  g_clear_object (&conn);
  harness_teardown ();
  return 0;
}
