/* mptcp-monitor-private.h: MptcpEvent and MptcpMonitor internals
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-monitor-private.h is private to mptcp-glib"
#endif

#include "mptcp-event.h"
#include "mptcp-monitor.h"
#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

/* The kernel's MPTCP_RST_* code (MPTCP_ATTR_RESET_REASON) as an MptcpResetReason: a code
 * this library does not know is MPTCP_RESET_REASON_UNSPECIFIED. The one mapping, for
 * MptcpEvent and MptcpConnection::subflow-removed. */
G_GNUC_INTERNAL
MptcpResetReason _mptcp_reset_reason_from_kernel (guint32 code);

/* A new event holding a copy of what the broker parsed. (transfer full) */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpEvent   *_mptcp_event_new_from_netlink   (const MptcpNlEvent *nl_event);

/* For tests and the benchmark: a monitor on a given broker (e.g. one made by
 * _mptcp_netlink_new_for_fds() on a fake kernel) instead of the one of the
 * thread-default context. Signals are emitted in the broker's context. */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpMonitor *_mptcp_monitor_new_for_netlink  (MptcpNetlink       *netlink,
                                               GError            **error);

/* The broker the monitor subscribed to (transfer none). */
G_GNUC_INTERNAL
MptcpNetlink *_mptcp_monitor_get_netlink      (MptcpMonitor       *self);

G_END_DECLS
