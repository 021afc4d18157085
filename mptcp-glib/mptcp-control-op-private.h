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

/* What a control call asks for. A kind reads only its own fields; the others stay 0 (with
 * designated initialisers at the call). */
typedef struct
{
  MptcpControlOpKind  kind;
  gpointer            source_object;  /* of the task: the connection, or the subflow */
  const Tuple        *tuple;          /* open, announce, close, backup: the ends; NULL: none */
  gboolean            port_known;     /* open: the local port was given */
  guint8              id;             /* remove: the address id */
  gboolean            backup;         /* backup: the flag wanted */
  MptcpSubflow       *subflow;        /* close, backup: the subflow */
  GCancellable       *cancellable;
  gpointer            source_tag;
} MptcpControlArgs;

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
