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

typedef enum
{
  MPTCP_CONTROL_OP_OPEN,
  MPTCP_CONTROL_OP_CLOSE,
  MPTCP_CONTROL_OP_BACKUP,
  MPTCP_CONTROL_OP_ANNOUNCE,
  MPTCP_CONTROL_OP_REMOVE,
} MptcpControlOpKind;

G_GNUC_INTERNAL
GAsyncResult *
_mptcp_control_op_run_sync (MptcpConnection   *self,
                            gpointer           source_object,
                            MptcpControlOpKind kind,
                            const Tuple       *tuple,
                            gboolean           port_known,
                            guint8             id,
                            gboolean           backup,
                            MptcpSubflow      *subflow,
                            GCancellable      *cancellable,
                            gpointer           source_tag,
                            GError           **error);
G_GNUC_INTERNAL
void
_mptcp_control_op_start_async (MptcpConnection    *self,
                               gpointer            source_object,
                               MptcpControlOpKind  kind,
                               const Tuple        *tuple,
                               gboolean            port_known,
                               guint8              id,
                               gboolean            backup,
                               MptcpSubflow       *subflow,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data,
                               gpointer            source_tag);
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
