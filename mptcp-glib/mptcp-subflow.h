/* mptcp-subflow.h: one subflow of an MPTCP connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mptcp-version-macros.h"
#include "mptcp-info.h"
#include "mptcp-connection.h"

G_BEGIN_DECLS

/**
 * MPTCP_TYPE_SUBFLOW:
 *
 * The #GType of #MptcpSubflow.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_SUBFLOW (mptcp_subflow_get_type ())

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpSubflow, mptcp_subflow, MPTCP, SUBFLOW, GObject)

MPTCP_AVAILABLE_IN_0_1
guint               mptcp_subflow_get_id             (MptcpSubflow *self);

MPTCP_AVAILABLE_IN_0_1
GInetSocketAddress *mptcp_subflow_get_local_address  (MptcpSubflow *self);

MPTCP_AVAILABLE_IN_0_1
GInetSocketAddress *mptcp_subflow_get_remote_address (MptcpSubflow *self);

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_subflow_get_backup         (MptcpSubflow *self);
MPTCP_AVAILABLE_IN_0_2
gboolean            mptcp_subflow_get_peer_backup    (MptcpSubflow *self);

MPTCP_AVAILABLE_IN_0_2
MptcpConnection    *mptcp_subflow_dup_connection     (MptcpSubflow *self) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
MptcpSubflowStats  *mptcp_subflow_get_stats          (MptcpSubflow *self) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_subflow_close              (MptcpSubflow         *self,
                                                      GCancellable         *cancellable,
                                                      GError              **error);
MPTCP_AVAILABLE_IN_0_1
void                mptcp_subflow_close_async        (MptcpSubflow         *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_subflow_close_finish       (MptcpSubflow         *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_subflow_set_backup         (MptcpSubflow         *self,
                                                      gboolean              backup,
                                                      GCancellable         *cancellable,
                                                      GError              **error);
MPTCP_AVAILABLE_IN_0_1
void                mptcp_subflow_set_backup_async   (MptcpSubflow         *self,
                                                      gboolean              backup,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_subflow_set_backup_finish  (MptcpSubflow         *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

G_END_DECLS
