/* mptcp-connection-list.h: every MPTCP connection of the network namespace
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

G_BEGIN_DECLS

/**
 * MPTCP_TYPE_CONNECTION_LIST:
 *
 * The #GType of #MptcpConnectionList.
 *
 * Since: 0.2
 */
#define MPTCP_TYPE_CONNECTION_LIST (mptcp_connection_list_get_type ())
/**
 * MPTCP_TYPE_CONNECTION_ENTRY:
 *
 * The #GType of #MptcpConnectionEntry.
 *
 * Since: 0.2
 */
#define MPTCP_TYPE_CONNECTION_ENTRY (mptcp_connection_entry_get_type ())
/**
 * MPTCP_TYPE_SUBFLOW_ENTRY:
 *
 * The #GType of #MptcpSubflowEntry.
 *
 * Since: 0.2
 */
#define MPTCP_TYPE_SUBFLOW_ENTRY (mptcp_subflow_entry_get_type ())

MPTCP_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (MptcpConnectionList, mptcp_connection_list, MPTCP, CONNECTION_LIST, GObject)
MPTCP_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (MptcpConnectionEntry, mptcp_connection_entry, MPTCP, CONNECTION_ENTRY, GObject)
MPTCP_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (MptcpSubflowEntry, mptcp_subflow_entry, MPTCP, SUBFLOW_ENTRY, GObject)

MPTCP_AVAILABLE_IN_0_2
MptcpConnectionList  *mptcp_connection_list_new              (GCancellable         *cancellable,
                                                              GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_connection_list_refresh          (MptcpConnectionList  *self,
                                                              GCancellable         *cancellable,
                                                              GError              **error);
MPTCP_AVAILABLE_IN_0_2
void                  mptcp_connection_list_refresh_async    (MptcpConnectionList  *self,
                                                              GCancellable         *cancellable,
                                                              GAsyncReadyCallback   callback,
                                                              gpointer              user_data);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_connection_list_refresh_finish   (MptcpConnectionList  *self,
                                                              GAsyncResult         *result,
                                                              GError              **error);
MPTCP_AVAILABLE_IN_0_2
guint                 mptcp_connection_list_get_interval     (MptcpConnectionList  *self);
MPTCP_AVAILABLE_IN_0_2
void                  mptcp_connection_list_set_interval     (MptcpConnectionList  *self,
                                                              guint                 interval_ms);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_connection_list_get_subflows_visible (MptcpConnectionList *self);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_connection_list_check_subflows   (MptcpConnectionList  *self,
                                                              GError              **error);
MPTCP_AVAILABLE_IN_0_2
MptcpConnectionEntry *mptcp_connection_list_find_token       (MptcpConnectionList  *self,
                                                              guint32               token);

MPTCP_AVAILABLE_IN_0_2
GInetSocketAddress   *mptcp_connection_entry_get_local_address  (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
GInetSocketAddress   *mptcp_connection_entry_get_remote_address (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
guint32               mptcp_connection_entry_get_token          (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
MptcpTcpState         mptcp_connection_entry_get_state          (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
guint                 mptcp_connection_entry_get_uid            (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
guint64               mptcp_connection_entry_get_inode          (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
int                   mptcp_connection_entry_find_pid           (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
MptcpConnectionInfo  *mptcp_connection_entry_get_info           (MptcpConnectionEntry *self) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_2
GListModel           *mptcp_connection_entry_get_subflows       (MptcpConnectionEntry *self);

MPTCP_AVAILABLE_IN_0_2
GInetSocketAddress   *mptcp_subflow_entry_get_local_address     (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
GInetSocketAddress   *mptcp_subflow_entry_get_remote_address    (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
guint                 mptcp_subflow_entry_get_local_id          (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
guint                 mptcp_subflow_entry_get_remote_id         (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
guint32               mptcp_subflow_entry_get_remote_token      (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_subflow_entry_get_backup            (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_subflow_entry_get_peer_backup       (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_subflow_entry_get_join              (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
MptcpTcpState         mptcp_subflow_entry_get_state             (MptcpSubflowEntry    *self);
MPTCP_AVAILABLE_IN_0_2
MptcpSubflowStats    *mptcp_subflow_entry_get_stats             (MptcpSubflowEntry    *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
