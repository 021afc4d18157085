/* service-harness.h: a private system bus, the real polkitd and mptcp-glib-service in the testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * harness_setup() must run in the testbed's client namespace (after testbed_init_or_exit()), as
 * root. It builds:
 *   - a mount namespace of its own, in which a temporary directory is bind-mounted over
 *     /usr/share/polkit-1/actions (the service's .policy and nothing else) and over both
 *     polkit rules directories (one test rules file: steer-own is granted to root and to
 *     nobody (65534), admin to root only (and to nobody while harness_set_admin_for_nobody()
 *     says so), everything else is refused);
 *   - a private dbus-daemon with a system-bus configuration that includes the service's own
 *     bus policy file; its address goes to children as DBUS_SYSTEM_BUS_ADDRESS;
 *   - the real polkitd (Debian's /usr/lib/polkit-1/polkitd) on that bus;
 *   - mptcp-glib-service (MPTCP_GLIB_SERVICE, its source dir MPTCP_GLIB_SERVICE_SRCDIR) on that
 *     bus, as root, with --max-per-client max_per_client.
 * harness_teardown() stops them (the service with SIGTERM: it must exit 0) and removes the
 * directory; the mount namespace vanishes with the process.
 */

#pragma once

#include <gio/gio.h>
#include "testbed.h"
#include "mptcp-glib.h"
#include "mptcp-service-private.h"

extern GSubprocess     *service_proc;
extern GDBusConnection *bus;          /* the harness's own connection (root) */
extern const char      *self_exe;     /* set by main(): spawn_app() runs it with --client */
extern char            *bus_address;

void             harness_setup        (guint max_per_client);
/* FALSE if the service did not exit cleanly (crash; under ASan also a leak) */
gboolean         harness_teardown     (void);
/* Stops the service (asserting a clean exit) and starts a new one. */
void             harness_restart_service (void);
/* Whether the test rules grant the admin action to nobody (65534) too (default: no). */
void             harness_set_admin_for_nobody (gboolean allow);
/* Stops the service (asserting a clean exit) until harness_start_service(). */
void             harness_stop_service  (void);
void             harness_start_service (void);
/* SIGKILLs the service (a crash) and starts a new one. */
void             harness_kill_service (void);
/* One more argument for the service (e.g. "--path-manager"), NULL = none; set before setup. */
extern const char *harness_service_extra_arg;
/* MPTCP_GLIB_SERVICE_TABLE_POLL_MS for the service started next (NULL: not set) */
extern const char *harness_service_table_poll_ms;
/* MPTCP_GLIB_SERVICE_RUNTIME_DIR (the path manager's state file) for the service started next
 * (NULL: not set, no state kept) */
extern const char *harness_service_runtime_dir;

/* A connected MPTCP socket to host:port of the testbed; talk: one echo round first. */
int              mptcp_connect        (const char *host, guint16 port, gboolean talk);
GVariant        *call                 (GDBusConnection *conn, const char *path, const char *iface,
                                       const char *method, GVariant *params,
                                       const char *reply_type, GError **error);
/* Register(fd); fd < 0: no fd list at all. The object path or NULL. */
char            *register_fd          (GDBusConnection *conn, int fd, GError **error);
GDBusConnection *new_bus              (void);
gboolean         has_error_name       (const GError *error, const char *name);
/* child setup: become uid (and gid) for good, no capabilities */
void             child_become         (gpointer user_data);
GSubprocess     *spawn_app            (uid_t uid, const char *mode, const char *arg,
                                       GError **error);
guint            service_fd_count     (void);
guint64          service_rss_kib      (void);
guint            n_registrations      (GDBusConnection *conn);
void             assert_service_alive (void);
