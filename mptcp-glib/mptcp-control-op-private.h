/* mptcp-control-op-private.h: the control machine of MptcpConnection, for its public calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-control-op-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection-impl-private.h"

G_BEGIN_DECLS

/* MptcpControlOpKind and MptcpControlArgs: mptcp-connection-impl-private.h, where the service
 * room (which runs the same args) reads them too. */

/* Runs the call to completion on a private context; returns the task or NULL. */
G_GNUC_INTERNAL
GAsyncResult *
_mptcp_control_op_run_sync (MptcpConnection        *self,
                            const MptcpControlArgs *args,
                            GError                **error);
G_GNUC_INTERNAL
void
_mptcp_control_op_start_async (MptcpConnection        *self,
                               const MptcpControlArgs *args,
                               GAsyncReadyCallback     callback,
                               gpointer                user_data);
G_GNUC_INTERNAL
gboolean
_mptcp_control_host_address (MptcpConnection    *self,
                             GInetSocketAddress *address,
                             const char         *what,
                             MptcpSockoptAddr   *raw,
                             GError            **error);
G_GNUC_INTERNAL
gboolean
_mptcp_control_check_usable (MptcpConnection  *self,
                             GError          **error);

G_END_DECLS
