/* mptcp-service-private.h: the names shared by mptcp-glib-service and its clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The service (service/) and the library's client side use these: the bus name, the object
 * paths, the interfaces and the polkit actions (service/io.github.MptcpGlib.Service1.xml is the
 * API), and the D-Bus names of the MptcpError codes.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-service-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

#define MPTCP_SERVICE_BUS_NAME        "io.github.MptcpGlib.Service"
#define MPTCP_SERVICE_PATH            "/io/github/MptcpGlib/Service1"
#define MPTCP_SERVICE_CONNECTION_PATH "/io/github/MptcpGlib/Service1/connection"
#define MPTCP_SERVICE_IFACE           "io.github.MptcpGlib.Service1"
#define MPTCP_SERVICE_CONNECTION_IFACE "io.github.MptcpGlib.Connection1"
#define MPTCP_SERVICE_ACTION_STEER_OWN "io.github.MptcpGlib.Service.steer-own"
#define MPTCP_SERVICE_ACTION_ADMIN     "io.github.MptcpGlib.Service.admin"
#define MPTCP_SERVICE_ERROR_PREFIX     "io.github.MptcpGlib.Error."

/* Registers the MptcpError domain with GDBus (io.github.MptcpGlib.Error.Failed, .NotMptcp,
 * ...), so that an MptcpError a service method returns reaches a GLib client with its domain
 * and code. Idempotent, thread safe. */
G_GNUC_INTERNAL
void _mptcp_service_register_error_domain (void);

/* The environment variable MPTCP_GLIB_USE_SERVICE, which overrides the AUTO service policy of
 * MptcpConnection and MptcpPathManager: 1 "always", -1 "never", 0 anything else or unset.
 * Read once per process, when first needed; a test that changes it calls
 * _mptcp_service_reload_environment() (or _mptcp_connection_reload_environment(), which
 * also does) after. */
#define MPTCP_SERVICE_ENV "MPTCP_GLIB_USE_SERVICE"
G_GNUC_INTERNAL
int      _mptcp_service_env_choice     (void);
G_GNUC_INTERNAL
void     _mptcp_service_reload_environment (void);

/* Whether a D-Bus error says the service (or the system bus) is not there. */
G_GNUC_INTERNAL
gboolean _mptcp_service_error_is_absent (const GError *error);

G_END_DECLS
