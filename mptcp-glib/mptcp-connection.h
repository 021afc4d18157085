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

/**
 * MptcpEventSource:
 * @MPTCP_EVENT_SOURCE_NONE: the connection follows no kernel changes (it is
 *   closed, fell back to TCP, or MPTCP control is not available)
 * @MPTCP_EVENT_SOURCE_NETLINK: the connection follows the kernel's MPTCP
 *   events (the process could join the `mptcp_pm_events` netlink group,
 *   which needs CAP_NET_ADMIN)
 * @MPTCP_EVENT_SOURCE_POLLING: the connection reads its subflow list every
 *   #MptcpConnection:poll-interval milliseconds and reports the differences
 * @MPTCP_EVENT_SOURCE_SERVICE: the connection is registered with
 *   mptcp-glib-service: its control operations go through the service and
 *   its signals come from the service's forwarded kernel events (Since: 0.2)
 *
 * Where the signals of an #MptcpConnection come from; see
 * #MptcpConnection:event-source.
 *
 * Since: 0.1
 */
typedef enum
{
  MPTCP_EVENT_SOURCE_NONE,
  MPTCP_EVENT_SOURCE_NETLINK,
  MPTCP_EVENT_SOURCE_POLLING,
  MPTCP_EVENT_SOURCE_SERVICE,
} MptcpEventSource;

/**
 * MptcpResetReason:
 * @MPTCP_RESET_REASON_UNSPECIFIED: no reason given, or one this library does not know
 *   (the kernel's `MPTCP_RST_EUNSPEC`, 0)
 * @MPTCP_RESET_REASON_MPTCP_ERROR: an MPTCP-specific error (`MPTCP_RST_EMPTCP`, 1)
 * @MPTCP_RESET_REASON_NO_RESOURCES: the sender lacks resources for the subflow
 *   (`MPTCP_RST_ERESOURCE`, 2)
 * @MPTCP_RESET_REASON_PROHIBITED: administratively prohibited (`MPTCP_RST_EPROHIBIT`, 3)
 * @MPTCP_RESET_REASON_TOO_MUCH_OUTSTANDING: too much data waits to be sent or acknowledged
 *   (`MPTCP_RST_EWQ2BIG`, 4)
 * @MPTCP_RESET_REASON_UNACCEPTABLE_PERFORMANCE: the subflow performs too badly to be kept
 *   (`MPTCP_RST_EBADPERF`, 5)
 * @MPTCP_RESET_REASON_MIDDLEBOX: a middlebox interferes with MPTCP on the path
 *   (`MPTCP_RST_EMIDDLEBOX`, 6)
 *
 * Why a subflow was reset, as the MP_TCPRST option of RFC 8684 (section 3.6) carries it:
 * the values of the kernel's `MPTCP_RST_*` codes (include/uapi/linux/mptcp.h). Given by
 * #MptcpConnection::subflow-removed.
 *
 * Since: 0.2
 */
typedef enum
{
  MPTCP_RESET_REASON_UNSPECIFIED = 0,
  MPTCP_RESET_REASON_MPTCP_ERROR = 1,
  MPTCP_RESET_REASON_NO_RESOURCES = 2,
  MPTCP_RESET_REASON_PROHIBITED = 3,
  MPTCP_RESET_REASON_TOO_MUCH_OUTSTANDING = 4,
  MPTCP_RESET_REASON_UNACCEPTABLE_PERFORMANCE = 5,
  MPTCP_RESET_REASON_MIDDLEBOX = 6,
} MptcpResetReason;

/**
 * MptcpServicePolicy:
 * @MPTCP_SERVICE_POLICY_AUTO: use mptcp-glib-service when the process may
 *   not steer the connection itself (it has no CAP_NET_ADMIN: the
 *   connection could not join the kernel's event group), the kernel
 *   directly otherwise. The environment variable `MPTCP_GLIB_USE_SERVICE`
 *   (`never` or `always`, read once per process, when an operation first
 *   needs it) overrides this value, and only this one.
 * @MPTCP_SERVICE_POLICY_NEVER: never use the service: without CAP_NET_ADMIN
 *   the control operations fail with %MPTCP_ERROR_PERMISSION_DENIED
 * @MPTCP_SERVICE_POLICY_ALWAYS: always use the service, also with
 *   CAP_NET_ADMIN; without a service on the system bus the control
 *   operations fail with %MPTCP_ERROR_NOT_SUPPORTED, naming the bus name
 *
 * Whether the control operations of an #MptcpConnection go through
 * mptcp-glib-service (the D-Bus system service io.github.MptcpGlib.Service);
 * see #MptcpConnection:service-policy.
 *
 * Since: 0.2
 */
typedef enum
{
  MPTCP_SERVICE_POLICY_AUTO,
  MPTCP_SERVICE_POLICY_NEVER,
  MPTCP_SERVICE_POLICY_ALWAYS,
} MptcpServicePolicy;

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpConnection, mptcp_connection, MPTCP, CONNECTION, GObject)

#ifndef __GTK_DOC_IGNORE__
/* declared in mptcp-subflow.h (which includes this header) */
typedef struct _MptcpSubflow MptcpSubflow;
#endif

MPTCP_AVAILABLE_IN_0_1
MptcpConnection     *mptcp_connection_new                (GSocket            *socket,
                                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
MptcpConnection     *mptcp_connection_new_for_connection (GSocketConnection  *connection,
                                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_2
MptcpConnection     *mptcp_connection_new_for_token      (guint32             token,
                                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
GSocket             *mptcp_connection_get_socket         (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
guint32              mptcp_connection_get_token          (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_1
gboolean             mptcp_connection_get_fallback       (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_2
gboolean             mptcp_connection_is_established     (MptcpConnection    *self);

MPTCP_AVAILABLE_IN_0_2
gboolean             mptcp_connection_is_closed          (MptcpConnection    *self);

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

MPTCP_AVAILABLE_IN_0_1
MptcpSubflow        *mptcp_connection_open_subflow        (MptcpConnection     *self,
                                                           GInetSocketAddress  *local,
                                                           GInetSocketAddress  *remote,
                                                           GCancellable        *cancellable,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;
MPTCP_AVAILABLE_IN_0_1
void                 mptcp_connection_open_subflow_async  (MptcpConnection     *self,
                                                           GInetSocketAddress  *local,
                                                           GInetSocketAddress  *remote,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
MPTCP_AVAILABLE_IN_0_1
MptcpSubflow        *mptcp_connection_open_subflow_finish (MptcpConnection     *self,
                                                           GAsyncResult        *result,
                                                           GError             **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
guint                mptcp_connection_announce_address        (MptcpConnection     *self,
                                                               GInetSocketAddress  *address,
                                                               GCancellable        *cancellable,
                                                               GError             **error);
MPTCP_AVAILABLE_IN_0_1
void                 mptcp_connection_announce_address_async  (MptcpConnection     *self,
                                                               GInetSocketAddress  *address,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
MPTCP_AVAILABLE_IN_0_1
guint                mptcp_connection_announce_address_finish (MptcpConnection     *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

MPTCP_AVAILABLE_IN_0_1
gboolean             mptcp_connection_remove_address          (MptcpConnection     *self,
                                                               guint                id,
                                                               GCancellable        *cancellable,
                                                               GError             **error);
MPTCP_AVAILABLE_IN_0_1
void                 mptcp_connection_remove_address_async    (MptcpConnection     *self,
                                                               guint                id,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
MPTCP_AVAILABLE_IN_0_1
gboolean             mptcp_connection_remove_address_finish   (MptcpConnection     *self,
                                                               GAsyncResult        *result,
                                                               GError             **error);

MPTCP_AVAILABLE_IN_0_1
guint                mptcp_connection_get_control_timeout (MptcpConnection *self);
MPTCP_AVAILABLE_IN_0_1
void                 mptcp_connection_set_control_timeout (MptcpConnection *self,
                                                           guint            timeout_ms);

MPTCP_AVAILABLE_IN_0_1
MptcpEventSource     mptcp_connection_get_event_source    (MptcpConnection *self);
MPTCP_AVAILABLE_IN_0_1
guint                mptcp_connection_get_poll_interval   (MptcpConnection *self);
MPTCP_AVAILABLE_IN_0_1
void                 mptcp_connection_set_poll_interval   (MptcpConnection *self,
                                                           guint            interval_ms);

MPTCP_AVAILABLE_IN_0_2
MptcpServicePolicy   mptcp_connection_get_service_policy  (MptcpConnection   *self);
MPTCP_AVAILABLE_IN_0_2
void                 mptcp_connection_set_service_policy  (MptcpConnection   *self,
                                                           MptcpServicePolicy policy);

G_END_DECLS
