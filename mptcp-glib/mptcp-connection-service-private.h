/* mptcp-connection-service-private.h: MptcpConnection's control calls through mptcp-glib-service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A connection that may not use netlink itself (no CAP_NET_ADMIN: its events come from
 * polling) sends its control operations to mptcp-glib-service on the system bus instead. On
 * the first operation it registers its socket (Register, the fd through a GUnixFDList); the
 * registration is dropped with the connection. The results are the direct path's: the same
 * source object and source tag, the same return types (an MptcpSubflow of the connection's
 * list for an open, the id for an announce, a boolean otherwise) and the same GError codes
 * (the MptcpError domain is registered for D-Bus). After an open, close or backup change the
 * connection refreshes its list from the socket, so its own signals tell the change.
 *
 * The environment variable MPTCP_GLIB_USE_SERVICE, read per operation, decides: "never" (the
 * direct path always), "always" (the service always), anything else: the service when the
 * connection's event source is MPTCP_EVENT_SOURCE_POLLING. No service on the bus: the
 * operation fails with MPTCP_ERROR_PERMISSION_DENIED, as the direct path would.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-connection-service-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection.h"
#include "mptcp-sockopt-private.h"

G_BEGIN_DECLS

#define MPTCP_CONNECTION_SERVICE_ENV "MPTCP_GLIB_USE_SERVICE"

/* MPTCP_CONNECTION_SERVICE_ENV is read once per process; _mptcp_connection_reload_environment()
 * (tests) makes the next use read it again. */
G_GNUC_INTERNAL
void _mptcp_connection_service_reload_environment (void);

/* An environment variable read once per process into *cache (-1: not yet): 0 for unset or
 * none of choices (NULL-terminated), i + 1 for choices[i]. */
G_GNUC_INTERNAL
gint _mptcp_connection_env_once (gint              *cache,
                                 const char        *name,
                                 const char *const *choices);

/* The operations, in the order of mptcp-connection.c's OpKind. */
typedef enum
{
  MPTCP_SERVICE_OP_OPEN,
  MPTCP_SERVICE_OP_CLOSE,
  MPTCP_SERVICE_OP_BACKUP,
  MPTCP_SERVICE_OP_ANNOUNCE,
  MPTCP_SERVICE_OP_REMOVE,
} MptcpServiceOp;

G_GNUC_INTERNAL
gboolean      _mptcp_connection_service_wanted (MptcpConnection        *self);

/* local/remote: the op's tuple (NULL for remove); subflow: the subflow of a close/backup. */
G_GNUC_INTERNAL
void          _mptcp_connection_service_start  (MptcpConnection        *self,
                                                gpointer                source_object,
                                                MptcpServiceOp          op,
                                                const MptcpSockoptAddr *local,
                                                const MptcpSockoptAddr *remote,
                                                guint8                  id,
                                                gboolean                backup,
                                                GCancellable           *cancellable,
                                                GAsyncReadyCallback     callback,
                                                gpointer                user_data,
                                                gpointer                source_tag);

/* The same, completed on a private context; returns the task (transfer full) or NULL. */
G_GNUC_INTERNAL
GAsyncResult *_mptcp_connection_service_run    (MptcpConnection        *self,
                                                gpointer                source_object,
                                                MptcpServiceOp          op,
                                                const MptcpSockoptAddr *local,
                                                const MptcpSockoptAddr *remote,
                                                guint8                  id,
                                                gboolean                backup,
                                                GCancellable           *cancellable,
                                                gpointer                source_tag);

G_END_DECLS
