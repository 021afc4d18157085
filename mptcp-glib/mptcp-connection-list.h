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
#include "mptcp-connection-entry.h"
#include "mptcp-connection.h"

G_BEGIN_DECLS

/**
 * MPTCP_TYPE_CONNECTION_LIST:
 *
 * The #GType of #MptcpConnectionList.
 *
 * Since: 0.2
 */
#define MPTCP_TYPE_CONNECTION_LIST (mptcp_connection_list_get_type ())

MPTCP_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (MptcpConnectionList, mptcp_connection_list, MPTCP, CONNECTION_LIST, GObject)

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
MptcpEventSource      mptcp_connection_list_get_event_source (MptcpConnectionList *self);
MPTCP_AVAILABLE_IN_0_2
gboolean              mptcp_connection_list_get_include_listeners (MptcpConnectionList *self);
MPTCP_AVAILABLE_IN_0_2
void                  mptcp_connection_list_set_include_listeners (MptcpConnectionList *self,
                                                                   gboolean             include);
MPTCP_AVAILABLE_IN_0_2
MptcpConnectionEntry *mptcp_connection_list_find_token       (MptcpConnectionList  *self,
                                                              guint32               token);


G_END_DECLS
