/* mptcp-connection-service-private.h: MptcpConnection's control calls through mptcp-glib-service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A connection whose MptcpConnection:service-policy says so (AUTO: it may not use netlink
 * itself, no CAP_NET_ADMIN, so it polls; the environment variable MPTCP_GLIB_USE_SERVICE,
 * "never" or "always", read per operation, overrides AUTO only; ALWAYS; NEVER) sends its
 * control operations to mptcp-glib-service on the system bus. On the first operation it
 * registers its socket (Register, the fd through a GUnixFDList); from then on its events come
 * from the object's signals (MPTCP_EVENT_SOURCE_SERVICE), fed to _mptcp_conn_apply_event() as
 * netlink's would be. The registration is dropped with the connection.
 *
 * The results are the direct path's: the same source object and source tag, the same return
 * types (an MptcpSubflow of the connection's list for an open, the id for an announce, a
 * boolean otherwise) and the same GError codes (the MptcpError domain is registered for
 * D-Bus). After an open, close or backup change the connection refreshes its list from the
 * socket, so its own signals tell the change at once.
 *
 * No service on the bus: MPTCP_ERROR_PERMISSION_DENIED, as the direct path would (AUTO), or
 * MPTCP_ERROR_NOT_SUPPORTED naming the bus name (forced). The service leaving the bus
 * (NameOwnerChanged of its name) ends the registration: the connection polls, and registers
 * again as soon as a new instance owns the name (or, activated by the bus, at its next
 * operation). An operation in flight then fails with MPTCP_ERROR_FAILED saying so; one that
 * reached a new instance with the old object's path (UnknownObject: nothing was done) is sent
 * again once, after registering again.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-connection-service-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection.h"
#include "mptcp-sockopt-private.h"

G_BEGIN_DECLS

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

/* Ends the connection's registration, if any (Unregister, one-way); events: its events come
 * from netlink or polling again. */
G_GNUC_INTERNAL
void          _mptcp_connection_service_drop   (MptcpConnection        *self,
                                                gboolean                events);

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
