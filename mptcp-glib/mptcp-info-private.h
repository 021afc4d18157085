/* mptcp-info-private.h: constructors of the statistics snapshots
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-info-private.h is private to mptcp-glib"
#endif

#include "mptcp-info.h"

G_BEGIN_DECLS

/* A snapshot of size bytes of struct mptcp_info as the kernel returned them. */
G_GNUC_INTERNAL
MptcpConnectionInfo *_mptcp_connection_info_new (const guint8 *data,
                                                 gsize         size);

/* A snapshot of size bytes of struct tcp_info as the kernel returned them
 * (tcp_info may be NULL when size is 0). */
G_GNUC_INTERNAL
MptcpSubflowStats   *_mptcp_subflow_stats_new   (const guint8 *tcp_info,
                                                 gsize         size);

/* One field of size bytes of struct tcp_info as the kernel returned them, without a
 * snapshot (0 when tcp_info is NULL or the kernel did not return the field). */
G_GNUC_INTERNAL
guint64              _mptcp_subflow_stats_read_field (const guint8          *tcp_info,
                                                      gsize                  size,
                                                      MptcpSubflowStatsField field);

G_END_DECLS
