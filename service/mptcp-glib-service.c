/* mptcp-glib-service.c: lets applications without CAP_NET_ADMIN steer their own MPTCP connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A system service on the D-Bus system bus (io.github.MptcpGlib.Service, the API is
 * io.github.MptcpGlib.Service1.xml). An application proves it owns a connection by passing the
 * connection's socket fd to Register: the service checks it is a connected MPTCP stream socket
 * of the service's own network namespace, reads the token and the addresses, and closes its copy
 * before it answers: it never keeps an application's connection alive. From then on it steers
 * the connection by token (the userspace path manager's commands) and forwards the token's
 * kernel events as signals addressed to the registering client only.
 *
 * A registration ends when the kernel reports the connection closed, when the client leaves
 * the bus, or on Unregister. Each client may hold --max-per-client registrations.
 *
 * Authorisation (polkit, CheckAuthorization on the caller's bus name):
 *   io.github.MptcpGlib.Service.steer-own   Register (checked once, when registering)
 *   io.github.MptcpGlib.Service.admin       RegisterToken, AddEndpoint, RemoveEndpoint,
 *                                           SetPathManager, ActAsPathManager, and (version 2,
 *                                           for MptcpPathManager's clients) SetEndpointFlags,
 *                                           RemoveEndpointByAddress, FlushEndpoints,
 *                                           SetLimits, SetPathManagerSysctl
 *
 * As the namespace's path manager (--path-manager or ActAsPathManager), mptcp-pm-policy.c
 * steers every connection no application registered as the in-kernel path manager would.
 * Every operation on a connection object is refused unless the caller is the bus name that
 * registered it (a stranger is told the object does not exist).
 *
 * The rooms (each mgs-X.c with its mgs-X.h; none includes another in a circle, see
 * tests/unit/check-include-graph.py):
 *   mgs-service-private.h  Client and Reg, the bus connection and the manager object
 *   mgs-address            MPTCP addresses as D-Bus values, and back
 *   mgs-auth               polkit's CheckAuthorization
 *   mgs-registrations      the registration and client tables, clients leaving the bus
 *   mgs-connection         the connection objects (subtree) and their methods and signals
 *   mgs-socket             what the socket passed to Register is
 *   mgs-admin              the admin calls: endpoints, limits, the path manager, ListAllRegistrations
 *   mgs-register           Register, RegisterToken, ListRegistrations
 *   mptcp-pm-policy        the service as the namespace's path manager: per connection (.c),
 *                          restart safety (-state.c), endpoint table changes (-table.c),
 *                          what the three share (-private.h, included by them only)
 *   this file              main(): the options, the bus, the objects, the main loop
 */

#include <signal.h>
#include <sys/stat.h>

#include <glib-unix.h>

#include "mptcp-glib.h"
#include "mptcp-service-private.h"
#include "mptcp-pm-policy.h"
#include "mgs-admin.h"
#include "mgs-connection.h"
#include "mgs-register.h"
#include "mgs-registrations.h"
#include "mgs-service-private.h"

GDBusConnection *bus;
MgsDbusService1 *manager;
static GMainLoop       *loop;
static int              exit_status;

/* ---- main -------------------------------------------------------------------------------- */

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  g_debug ("owns %s", name);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  g_printerr ("mptcp-glib-service: lost or could not own the bus name %s\n", name);
  exit_status = 1;
  g_main_loop_quit (loop);
}

static gboolean
on_signal_quit (gpointer user_data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  gboolean replace = FALSE, verbose = FALSE, as_pm = FALSE;
  int max = 64, timeout = 10000;
  guint subtree_id, owner_id, noc_id;
  GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "Replace a running instance", NULL },
    { "max-per-client", 0, 0, G_OPTION_ARG_INT, &max,
      "Registrations one client may hold (default 64)", "N" },
    { "control-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "Milliseconds the kernel has to complete an operation (default 10000)", "MS" },
    { "path-manager", 0, 0, G_OPTION_ARG_NONE, &as_pm,
      "Act as the namespace's path manager (when net.mptcp.path_manager=userspace)", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print debug messages", NULL },
    { NULL }
  };

  context = g_option_context_new ("- let applications steer their own MPTCP connections");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mptcp-glib-service: %s\n", error->message);
      return 2;
    }
  if (max < 1 || timeout < 1)
    {
      g_printerr ("mptcp-glib-service: --max-per-client and --control-timeout must be > 0\n");
      return 2;
    }
  max_per_client = (guint) max;
  control_timeout_ms = (guint) timeout;
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  _mptcp_service_register_error_domain ();
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("mptcp-glib-service: no system bus: %s\n", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (bus, TRUE);

  clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) client_free);
  regs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  steer_ok = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  loop = g_main_loop_new (NULL, FALSE);

  noc_id = g_dbus_connection_signal_subscribe (bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                               "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
                                               G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb,
                                               NULL, NULL);

  manager = mgs_dbus_service1_skeleton_new ();
  mgs_dbus_service1_set_version (manager, 2);
  mgs_dbus_service1_set_max_registrations_per_client (manager, max_per_client);
  g_signal_connect (manager, "handle-register", G_CALLBACK (handle_register), NULL);
  g_signal_connect (manager, "handle-register-token", G_CALLBACK (handle_register_token), NULL);
  g_signal_connect (manager, "handle-list-registrations",
                    G_CALLBACK (handle_list_registrations), NULL);
  g_signal_connect (manager, "handle-list-all-registrations",
                    G_CALLBACK (handle_list_all_registrations), NULL);
  g_signal_connect (manager, "handle-list-endpoints", G_CALLBACK (handle_list_endpoints), NULL);
  g_signal_connect (manager, "handle-add-endpoint", G_CALLBACK (handle_add_endpoint), NULL);
  g_signal_connect (manager, "handle-remove-endpoint", G_CALLBACK (handle_remove_endpoint), NULL);
  g_signal_connect (manager, "handle-set-path-manager", G_CALLBACK (handle_set_path_manager), NULL);
  g_signal_connect (manager, "handle-act-as-path-manager",
                    G_CALLBACK (handle_act_as_path_manager), NULL);
  g_signal_connect (manager, "handle-set-endpoint-flags",
                    G_CALLBACK (handle_set_endpoint_flags), NULL);
  g_signal_connect (manager, "handle-remove-endpoint-by-address",
                    G_CALLBACK (handle_remove_endpoint_by_address), NULL);
  g_signal_connect (manager, "handle-flush-endpoints", G_CALLBACK (handle_flush_endpoints), NULL);
  g_signal_connect (manager, "handle-set-limits", G_CALLBACK (handle_set_limits), NULL);
  g_signal_connect (manager, "handle-set-path-manager-sysctl",
                    G_CALLBACK (handle_set_path_manager_sysctl), NULL);
  {
    struct stat ns;

    /* the namespace everything the service does acts on */
    if (stat ("/proc/self/ns/net", &ns) == 0)
      mgs_dbus_service1_set_network_namespace (manager,
                                               g_variant_new ("(tt)", (guint64) ns.st_dev,
                                                              (guint64) ns.st_ino));
  }
  update_pm_properties ();
  if (as_pm && !act_as_path_manager (TRUE, &error))
    {
      /* not fatal: the admin may switch the namespace later (SetPathManager) */
      g_printerr ("mptcp-glib-service: not acting as path manager: %s\n", error->message);
      g_clear_error (&error);
    }
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (manager), bus,
                                         MPTCP_SERVICE_PATH, &error))
    {
      g_printerr ("mptcp-glib-service: %s\n", error->message);
      return 1;
    }
  subtree_id = g_dbus_connection_register_subtree (bus, MPTCP_SERVICE_CONNECTION_PATH,
                                                   &subtree_vtable,
                                                   G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES,
                                                   NULL, NULL, &error);
  if (subtree_id == 0)
    {
      g_printerr ("mptcp-glib-service: %s\n", error->message);
      return 1;
    }
  owner_id = g_bus_own_name_on_connection (bus, MPTCP_SERVICE_BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                           (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                           name_acquired_cb, name_lost_cb, NULL, NULL);
  g_unix_signal_add (SIGTERM, on_signal_quit, NULL);
  g_unix_signal_add (SIGINT, on_signal_quit, NULL);

  g_main_loop_run (loop);

  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_subtree (bus, subtree_id);
  g_dbus_connection_signal_unsubscribe (bus, noc_id);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (manager));
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, regs);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      _mptcp_token_control_free (((Reg *) value)->tc);
  }
  g_clear_pointer (&policy, mgs_pm_policy_free);
  g_hash_table_unref (regs);
  g_hash_table_unref (clients);
  g_hash_table_unref (steer_ok);
  g_object_unref (manager);
  g_main_loop_unref (loop);
  g_object_unref (bus);
  return exit_status;
}
