/* mptcp-connection-entry.h: one MPTCP connection of an MptcpConnectionList
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
 * MPTCP_TYPE_CONNECTION_ENTRY:
 *
 * The #GType of #MptcpConnectionEntry.
 *
 * Since: 0.2
 */
#define MPTCP_TYPE_CONNECTION_ENTRY (mptcp_connection_entry_get_type ())

MPTCP_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (MptcpConnectionEntry, mptcp_connection_entry, MPTCP, CONNECTION_ENTRY, GObject)

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
gboolean              mptcp_connection_entry_get_is_listener    (MptcpConnectionEntry *self);
MPTCP_AVAILABLE_IN_0_2
MptcpConnection      *mptcp_connection_entry_dup_connection     (MptcpConnectionEntry *self,
                                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
