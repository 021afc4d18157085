/* mptcp-subflow-entry.h: one subflow of an MptcpConnectionEntry
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
 * MPTCP_TYPE_SUBFLOW_ENTRY:
 *
 * The #GType of #MptcpSubflowEntry.
 *
 * Since: 0.2
 */
#define MPTCP_TYPE_SUBFLOW_ENTRY (mptcp_subflow_entry_get_type ())

MPTCP_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (MptcpSubflowEntry, mptcp_subflow_entry, MPTCP, SUBFLOW_ENTRY, GObject)

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
MPTCP_AVAILABLE_IN_0_2
guint64               mptcp_subflow_entry_get_stat              (MptcpSubflowEntry    *self,
                                                                 MptcpSubflowStatsField field);

G_END_DECLS
