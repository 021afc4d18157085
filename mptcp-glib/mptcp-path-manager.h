/* mptcp-path-manager.h: endpoints, limits and mode of the in-kernel path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mptcp-version-macros.h"
#include "mptcp-endpoint.h"
#include "mptcp-connection.h"   /* MptcpServicePolicy */

G_BEGIN_DECLS

/**
 * MptcpPathManagerMode:
 * @MPTCP_PATH_MANAGER_MODE_KERNEL: the in-kernel path manager (the default):
 *   the kernel opens subflows and announces addresses by itself, from its
 *   endpoints and within its limits
 * @MPTCP_PATH_MANAGER_MODE_USERSPACE: the userspace path manager: nothing
 *   happens by itself; applications (or a daemon) open subflows and announce
 *   addresses per connection
 *
 * Which path manager new connections of a network namespace get
 * (`net.mptcp.path_manager`, or `net.mptcp.pm_type` on older kernels).
 *
 * Since: 0.1
 */
typedef enum /*< prefix=MPTCP_PATH_MANAGER_MODE >*/
{
  MPTCP_PATH_MANAGER_MODE_KERNEL,
  MPTCP_PATH_MANAGER_MODE_USERSPACE,
} MptcpPathManagerMode;

/**
 * MPTCP_PATH_MANAGER_LIMIT_UNCHANGED:
 *
 * Pass it to mptcp_path_manager_set_limits() for a limit that should keep
 * its current value. It is %G_MAXUINT: the limits are #guint both ways, and
 * no limit the kernel accepts comes near it. (Before 0.2 it was -1, for a
 * #gint argument.)
 *
 * Since: 0.1
 */
#define MPTCP_PATH_MANAGER_LIMIT_UNCHANGED ((guint) 0xffffffff)

/**
 * MPTCP_TYPE_PATH_MANAGER:
 *
 * The #GType of #MptcpPathManager.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_PATH_MANAGER (mptcp_path_manager_get_type ())

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpPathManager, mptcp_path_manager, MPTCP, PATH_MANAGER, GObject)

MPTCP_AVAILABLE_IN_0_1
MptcpPathManager *mptcp_path_manager_new (GCancellable  *cancellable,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;

/* endpoints */

MPTCP_AVAILABLE_IN_0_1
GListModel    *mptcp_path_manager_list_endpoints        (MptcpPathManager     *self,
                                                         GCancellable         *cancellable,
                                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_list_endpoints_async  (MptcpPathManager     *self,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
GListModel    *mptcp_path_manager_list_endpoints_finish (MptcpPathManager     *self,
                                                         GAsyncResult         *result,
                                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
MptcpEndpoint *mptcp_path_manager_get_endpoint          (MptcpPathManager     *self,
                                                         guint                 id,
                                                         GCancellable         *cancellable,
                                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_get_endpoint_async    (MptcpPathManager     *self,
                                                         guint                 id,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
MptcpEndpoint *mptcp_path_manager_get_endpoint_finish   (MptcpPathManager     *self,
                                                         GAsyncResult         *result,
                                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
MptcpEndpoint *mptcp_path_manager_add_endpoint          (MptcpPathManager     *self,
                                                         MptcpEndpoint        *endpoint,
                                                         GCancellable         *cancellable,
                                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_add_endpoint_async    (MptcpPathManager     *self,
                                                         MptcpEndpoint        *endpoint,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
MptcpEndpoint *mptcp_path_manager_add_endpoint_finish   (MptcpPathManager     *self,
                                                         GAsyncResult         *result,
                                                         GError              **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_remove_endpoint        (MptcpPathManager     *self,
                                                          guint                 id,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_remove_endpoint_async  (MptcpPathManager     *self,
                                                          guint                 id,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_remove_endpoint_finish (MptcpPathManager     *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_remove_endpoint_by_address        (MptcpPathManager     *self,
                                                                     GInetAddress         *address,
                                                                     GCancellable         *cancellable,
                                                                     GError              **error);
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_remove_endpoint_by_address_async  (MptcpPathManager     *self,
                                                                     GInetAddress         *address,
                                                                     GCancellable         *cancellable,
                                                                     GAsyncReadyCallback   callback,
                                                                     gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_remove_endpoint_by_address_finish (MptcpPathManager     *self,
                                                                     GAsyncResult         *result,
                                                                     GError              **error);

MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_set_endpoint_flags        (MptcpPathManager     *self,
                                                             guint                 id,
                                                             MptcpEndpointFlags    flags,
                                                             GCancellable         *cancellable,
                                                             GError              **error);
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_set_endpoint_flags_async  (MptcpPathManager     *self,
                                                             guint                 id,
                                                             MptcpEndpointFlags    flags,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_set_endpoint_flags_finish (MptcpPathManager     *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);

MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_flush_endpoints        (MptcpPathManager     *self,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_flush_endpoints_async  (MptcpPathManager     *self,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_flush_endpoints_finish (MptcpPathManager     *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

/* limits */

MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_get_limits        (MptcpPathManager     *self,
                                                     guint                *subflows,
                                                     guint                *add_addr_accepted,
                                                     GCancellable         *cancellable,
                                                     GError              **error);
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_get_limits_async  (MptcpPathManager     *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_get_limits_finish (MptcpPathManager     *self,
                                                     GAsyncResult         *result,
                                                     guint                *subflows,
                                                     guint                *add_addr_accepted,
                                                     GError              **error);

MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_set_limits        (MptcpPathManager     *self,
                                                     guint                 subflows,
                                                     guint                 add_addr_accepted,
                                                     GCancellable         *cancellable,
                                                     GError              **error);
MPTCP_AVAILABLE_IN_0_1
void           mptcp_path_manager_set_limits_async  (MptcpPathManager     *self,
                                                     guint                 subflows,
                                                     guint                 add_addr_accepted,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean       mptcp_path_manager_set_limits_finish (MptcpPathManager     *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* mode */

MPTCP_AVAILABLE_IN_0_1
MptcpPathManagerMode mptcp_path_manager_get_mode (MptcpPathManager      *self,
                                                  GError               **error);
MPTCP_AVAILABLE_IN_0_2
MptcpServicePolicy   mptcp_path_manager_get_service_policy (MptcpPathManager   *self);
MPTCP_AVAILABLE_IN_0_2
void                 mptcp_path_manager_set_service_policy (MptcpPathManager   *self,
                                                            MptcpServicePolicy  policy);

MPTCP_AVAILABLE_IN_0_1
gboolean             mptcp_path_manager_set_mode (MptcpPathManager      *self,
                                                  MptcpPathManagerMode   mode,
                                                  GError               **error);

G_END_DECLS
