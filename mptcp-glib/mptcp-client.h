/* mptcp-client.h: connect to MPTCP servers from GIO
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mptcp-version-macros.h"

G_BEGIN_DECLS

/**
 * MPTCP_TYPE_CLIENT:
 *
 * The #GType of #MptcpClient.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_CLIENT (mptcp_client_get_type ())

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpClient, mptcp_client, MPTCP, CLIENT, GObject)

MPTCP_AVAILABLE_IN_0_1
MptcpClient       *mptcp_client_new                    (void) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
GSocketFamily      mptcp_client_get_family             (MptcpClient          *self);
MPTCP_AVAILABLE_IN_0_1
void               mptcp_client_set_family             (MptcpClient          *self,
                                                        GSocketFamily         family);

MPTCP_AVAILABLE_IN_0_1
GSocketAddress    *mptcp_client_get_local_address      (MptcpClient          *self);
MPTCP_AVAILABLE_IN_0_1
void               mptcp_client_set_local_address      (MptcpClient          *self,
                                                        GSocketAddress       *address);

MPTCP_AVAILABLE_IN_0_1
guint              mptcp_client_get_timeout            (MptcpClient          *self);
MPTCP_AVAILABLE_IN_0_1
void               mptcp_client_set_timeout            (MptcpClient          *self,
                                                        guint                 timeout);

MPTCP_AVAILABLE_IN_0_1
gboolean           mptcp_client_get_allow_fallback     (MptcpClient          *self);
MPTCP_AVAILABLE_IN_0_1
void               mptcp_client_set_allow_fallback     (MptcpClient          *self,
                                                        gboolean              allow_fallback);

MPTCP_AVAILABLE_IN_0_1
GSocketConnection *mptcp_client_connect                (MptcpClient          *self,
                                                        GSocketConnectable   *connectable,
                                                        GCancellable         *cancellable,
                                                        GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_1
void               mptcp_client_connect_async          (MptcpClient          *self,
                                                        GSocketConnectable   *connectable,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
GSocketConnection *mptcp_client_connect_finish         (MptcpClient          *self,
                                                        GAsyncResult         *result,
                                                        GError              **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
GSocketConnection *mptcp_client_connect_to_host        (MptcpClient          *self,
                                                        const char           *host_and_port,
                                                        guint16               default_port,
                                                        GCancellable         *cancellable,
                                                        GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_1
void               mptcp_client_connect_to_host_async  (MptcpClient          *self,
                                                        const char           *host_and_port,
                                                        guint16               default_port,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
GSocketConnection *mptcp_client_connect_to_host_finish (MptcpClient          *self,
                                                        GAsyncResult         *result,
                                                        GError              **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
