/* mptcp-event.h: one MPTCP event of the network namespace, as the kernel sent it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mptcp-version-macros.h"
#include "mptcp-connection.h"

G_BEGIN_DECLS

/**
 * MptcpEventType:
 * @MPTCP_EVENT_TYPE_UNKNOWN: an event this version of mptcp-glib does not
 *   know; mptcp_event_get_raw_type() tells the kernel's number
 * @MPTCP_EVENT_TYPE_CREATED: a connection was created (the client sent its
 *   SYN, or the server accepted one); it carries the initial subflow's
 *   addresses and ports
 * @MPTCP_EVENT_TYPE_ESTABLISHED: a connection is fully established (a client
 *   only after it has sent data)
 * @MPTCP_EVENT_TYPE_CLOSED: a connection was closed; only the token comes
 *   with it, and no per-subflow event precedes it
 * @MPTCP_EVENT_TYPE_ANNOUNCED: the peer announced an address (ADD_ADDR): the
 *   remote id, address and port
 * @MPTCP_EVENT_TYPE_REMOVED: the peer removed an address (RM_ADDR): the
 *   remote id
 * @MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED: an additional subflow is
 *   established (never sent for the initial subflow)
 * @MPTCP_EVENT_TYPE_SUBFLOW_CLOSED: a subflow was closed, or failed to open
 *   (then with an error)
 * @MPTCP_EVENT_TYPE_SUBFLOW_PRIORITY: the peer changed the backup priority
 *   of a subflow (MP_PRIO)
 * @MPTCP_EVENT_TYPE_LISTENER_CREATED: an MPTCP listening socket was created
 *   (Linux 6.3 and later); it has no token
 * @MPTCP_EVENT_TYPE_LISTENER_CLOSED: an MPTCP listening socket was closed
 *   (Linux 6.3 and later)
 *
 * The kinds of event the kernel reports on its `mptcp_pm_events` netlink
 * group, what `ip mptcp monitor` prints. The values are the kernel's own
 * event numbers.
 *
 * Since: 0.1
 */
typedef enum /*< prefix=MPTCP_EVENT_TYPE >*/
{
  MPTCP_EVENT_TYPE_UNKNOWN = 0,
  MPTCP_EVENT_TYPE_CREATED = 1,
  MPTCP_EVENT_TYPE_ESTABLISHED = 2,
  MPTCP_EVENT_TYPE_CLOSED = 3,
  MPTCP_EVENT_TYPE_ANNOUNCED = 6,
  MPTCP_EVENT_TYPE_REMOVED = 7,
  MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED = 10,
  MPTCP_EVENT_TYPE_SUBFLOW_CLOSED = 11,
  MPTCP_EVENT_TYPE_SUBFLOW_PRIORITY = 13,
  MPTCP_EVENT_TYPE_LISTENER_CREATED = 15,
  MPTCP_EVENT_TYPE_LISTENER_CLOSED = 16,
} MptcpEventType;

/**
 * MptcpEventAttribute:
 * @MPTCP_EVENT_ATTRIBUTE_TOKEN: the connection's token (absent from listener
 *   events)
 * @MPTCP_EVENT_ATTRIBUTE_FAMILY: the address family (absent from ANNOUNCED,
 *   whose family mptcp_event_get_family() infers from the address)
 * @MPTCP_EVENT_ATTRIBUTE_LOCAL_ADDRESS: the local IPv4 or IPv6 address
 * @MPTCP_EVENT_ATTRIBUTE_REMOTE_ADDRESS: the remote IPv4 or IPv6 address
 * @MPTCP_EVENT_ATTRIBUTE_LOCAL_PORT: the local port
 * @MPTCP_EVENT_ATTRIBUTE_REMOTE_PORT: the remote port
 * @MPTCP_EVENT_ATTRIBUTE_LOCAL_ID: the local address id
 * @MPTCP_EVENT_ATTRIBUTE_REMOTE_ID: the remote address id
 * @MPTCP_EVENT_ATTRIBUTE_BACKUP: the backup flag of a subflow
 * @MPTCP_EVENT_ATTRIBUTE_ERROR: the error (an errno) a subflow failed with
 * @MPTCP_EVENT_ATTRIBUTE_FLAGS: the event flags (#MptcpEventFlags)
 * @MPTCP_EVENT_ATTRIBUTE_TIMEOUT: a timeout (defined by the kernel, not seen
 *   in practice)
 * @MPTCP_EVENT_ATTRIBUTE_IFINDEX: the interface a subflow is bound to
 * @MPTCP_EVENT_ATTRIBUTE_RESET_REASON: the MP_RST reason a subflow was reset
 *   with
 * @MPTCP_EVENT_ATTRIBUTE_RESET_FLAGS: the MP_RST flags a subflow was reset
 *   with
 * @MPTCP_EVENT_ATTRIBUTE_SERVER_SIDE: whether the connection was accepted
 *   (rather than initiated) by this host
 *
 * The attributes an #MptcpEvent may carry. Which ones the kernel sends
 * depends on the event type and the kernel version:
 * mptcp_event_has_attribute() tells. The getter of an absent attribute
 * returns 0 (or %NULL, %FALSE).
 *
 * Since: 0.1
 */
typedef enum /*< prefix=MPTCP_EVENT_ATTRIBUTE >*/
{
  MPTCP_EVENT_ATTRIBUTE_TOKEN,
  MPTCP_EVENT_ATTRIBUTE_FAMILY,
  MPTCP_EVENT_ATTRIBUTE_LOCAL_ADDRESS,
  MPTCP_EVENT_ATTRIBUTE_REMOTE_ADDRESS,
  MPTCP_EVENT_ATTRIBUTE_LOCAL_PORT,
  MPTCP_EVENT_ATTRIBUTE_REMOTE_PORT,
  MPTCP_EVENT_ATTRIBUTE_LOCAL_ID,
  MPTCP_EVENT_ATTRIBUTE_REMOTE_ID,
  MPTCP_EVENT_ATTRIBUTE_BACKUP,
  MPTCP_EVENT_ATTRIBUTE_ERROR,
  MPTCP_EVENT_ATTRIBUTE_FLAGS,
  MPTCP_EVENT_ATTRIBUTE_TIMEOUT,
  MPTCP_EVENT_ATTRIBUTE_IFINDEX,
  MPTCP_EVENT_ATTRIBUTE_RESET_REASON,
  MPTCP_EVENT_ATTRIBUTE_RESET_FLAGS,
  MPTCP_EVENT_ATTRIBUTE_SERVER_SIDE,
} MptcpEventAttribute;

/**
 * MptcpEventFlags:
 * @MPTCP_EVENT_FLAG_NONE: no flag
 * @MPTCP_EVENT_FLAG_DENY_JOIN_ID0: the peer refuses new subflows to the
 *   address of the initial subflow (address id 0)
 * @MPTCP_EVENT_FLAG_SERVER_SIDE: the connection was accepted by this host
 *
 * The `flags` attribute of connection events. A kernel may set bits that are
 * not listed here; mptcp_event_get_flags() keeps them.
 *
 * Since: 0.1
 */
typedef enum /*< flags,prefix=MPTCP_EVENT_FLAG >*/
{
  MPTCP_EVENT_FLAG_NONE = 0,
  MPTCP_EVENT_FLAG_DENY_JOIN_ID0 = 1 << 0,
  MPTCP_EVENT_FLAG_SERVER_SIDE = 1 << 1,
} MptcpEventFlags;

/**
 * MptcpEvent:
 *
 * One MPTCP event of the network namespace, with every attribute the kernel
 * sent, as #MptcpMonitor::event delivers it. Immutable and reference
 * counted; it may be passed to other threads.
 *
 * Since: 0.1
 */
typedef struct _MptcpEvent MptcpEvent;

/**
 * MPTCP_TYPE_EVENT:
 *
 * The #GType of the boxed type #MptcpEvent.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_EVENT (mptcp_event_get_type ())

MPTCP_AVAILABLE_IN_0_1
GType               mptcp_event_get_type           (void) G_GNUC_CONST;

MPTCP_AVAILABLE_IN_0_1
MptcpEvent         *mptcp_event_ref                (MptcpEvent          *event);

MPTCP_AVAILABLE_IN_0_1
void                mptcp_event_unref              (MptcpEvent          *event);

MPTCP_AVAILABLE_IN_0_1
MptcpEventType      mptcp_event_get_event_type     (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint               mptcp_event_get_raw_type       (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_event_has_attribute      (const MptcpEvent    *event,
                                                    MptcpEventAttribute  attribute);

MPTCP_AVAILABLE_IN_0_1
guint32             mptcp_event_get_token          (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
GSocketFamily       mptcp_event_get_family         (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
GInetSocketAddress *mptcp_event_get_local_address  (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
GInetSocketAddress *mptcp_event_get_remote_address (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint16             mptcp_event_get_local_port     (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint16             mptcp_event_get_remote_port    (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint               mptcp_event_get_local_id       (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint               mptcp_event_get_remote_id      (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_event_get_backup         (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
gint                mptcp_event_get_error          (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
MptcpEventFlags     mptcp_event_get_flags          (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint32             mptcp_event_get_timeout        (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
gint                mptcp_event_get_ifindex        (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_event_get_server_side    (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
MptcpResetReason    mptcp_event_get_reset_reason   (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
guint32             mptcp_event_get_reset_flags    (const MptcpEvent    *event);

MPTCP_AVAILABLE_IN_0_1
char               *mptcp_event_to_string          (const MptcpEvent    *event) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpEvent, mptcp_event_unref)

G_END_DECLS
