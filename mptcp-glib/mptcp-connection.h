/* mptcp-connection.h: an MPTCP connection and its subflows
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
 * MPTCP_TYPE_CONNECTION:
 *
 * The #GType of #MptcpConnection.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_CONNECTION (mptcp_connection_get_type ())

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpConnection, mptcp_connection, MPTCP, CONNECTION, GObject)

MPTCP_AVAILABLE_IN_0_1
MptcpConnection     *mptcp_connection_new                (GSocket            *socket,
                                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
MptcpConnection     *mptcp_connection_new_for_connection (GSocketConnection  *connection,
                                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
GSocket             *mptcp_connection_get_socket         (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
guint32              mptcp_connection_get_token          (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
gboolean             mptcp_connection_get_fallback       (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
GInetSocketAddress  *mptcp_connection_get_local_address  (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
GInetSocketAddress  *mptcp_connection_get_remote_address (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
GListModel          *mptcp_connection_get_subflows       (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
gboolean             mptcp_connection_refresh            (MptcpConnection    *self,
                                                          GError            **error);

MPTCP_AVAILABLE_IN_0_1
MptcpConnectionInfo *mptcp_connection_get_info           (MptcpConnection    *self,
                                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
