/* mptcp-monitor.h: every MPTCP event of the network namespace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mptcp-version-macros.h"
#include "mptcp-event.h"

G_BEGIN_DECLS

/**
 * MPTCP_TYPE_MONITOR:
 *
 * The #GType of #MptcpMonitor.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_MONITOR (mptcp_monitor_get_type ())

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpMonitor, mptcp_monitor, MPTCP, MONITOR, GObject)

MPTCP_AVAILABLE_IN_0_1
MptcpMonitor *mptcp_monitor_new (GCancellable  *cancellable,
                                 GError       **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_2
guint64 mptcp_monitor_get_lost_events (MptcpMonitor *monitor);

G_END_DECLS
