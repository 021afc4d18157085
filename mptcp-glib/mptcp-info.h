/* mptcp-info.h: snapshots of MPTCP connection and subflow statistics
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
 * MptcpTcpState:
 * @MPTCP_TCP_STATE_UNKNOWN: the kernel did not report a state
 * @MPTCP_TCP_STATE_ESTABLISHED: the subflow is established
 * @MPTCP_TCP_STATE_SYN_SENT: the subflow is being opened (SYN sent)
 * @MPTCP_TCP_STATE_SYN_RECV: the subflow is being accepted (SYN received)
 * @MPTCP_TCP_STATE_FIN_WAIT1: closed by this side, FIN sent
 * @MPTCP_TCP_STATE_FIN_WAIT2: closed by this side, FIN acknowledged
 * @MPTCP_TCP_STATE_TIME_WAIT: closed, waiting for late segments
 * @MPTCP_TCP_STATE_CLOSE: closed
 * @MPTCP_TCP_STATE_CLOSE_WAIT: the peer closed its side
 * @MPTCP_TCP_STATE_LAST_ACK: both sides closed, waiting for the last acknowledgement
 * @MPTCP_TCP_STATE_LISTEN: listening
 * @MPTCP_TCP_STATE_CLOSING: both sides closing at once
 * @MPTCP_TCP_STATE_NEW_SYN_RECV: a connection request not yet accepted
 *
 * The TCP state of a subflow, as the kernel's `tcpi_state` reports it (the
 * values are those of Linux's TCP states). A kernel may report values that
 * are not listed here.
 *
 * Since: 0.1
 */
typedef enum /*< prefix=MPTCP_TCP_STATE >*/
{
  MPTCP_TCP_STATE_UNKNOWN = 0,
  MPTCP_TCP_STATE_ESTABLISHED = 1,
  MPTCP_TCP_STATE_SYN_SENT = 2,
  MPTCP_TCP_STATE_SYN_RECV = 3,
  MPTCP_TCP_STATE_FIN_WAIT1 = 4,
  MPTCP_TCP_STATE_FIN_WAIT2 = 5,
  MPTCP_TCP_STATE_TIME_WAIT = 6,
  MPTCP_TCP_STATE_CLOSE = 7,
  MPTCP_TCP_STATE_CLOSE_WAIT = 8,
  MPTCP_TCP_STATE_LAST_ACK = 9,
  MPTCP_TCP_STATE_LISTEN = 10,
  MPTCP_TCP_STATE_CLOSING = 11,
  MPTCP_TCP_STATE_NEW_SYN_RECV = 12,
} MptcpTcpState;

/**
 * MptcpConnectionInfoFlags:
 * @MPTCP_CONNECTION_INFO_FLAG_NONE: no flag
 * @MPTCP_CONNECTION_INFO_FLAG_FALLBACK: the connection fell back to plain TCP
 * @MPTCP_CONNECTION_INFO_FLAG_REMOTE_KEY_RECEIVED: the peer's key was received
 *
 * The kernel's connection flags (`mptcpi_flags`), as
 * mptcp_connection_info_get_flags() returns them. A kernel may set bits that
 * are not listed here; mptcp_connection_info_get_flags() keeps them.
 *
 * Since: 0.2
 */
typedef enum /*< flags,prefix=MPTCP_CONNECTION_INFO_FLAG >*/
{
  MPTCP_CONNECTION_INFO_FLAG_NONE = 0,
  MPTCP_CONNECTION_INFO_FLAG_FALLBACK = 1 << 0,
  MPTCP_CONNECTION_INFO_FLAG_REMOTE_KEY_RECEIVED = 1 << 1,
} MptcpConnectionInfoFlags;

/**
 * MptcpConnectionInfoField:
 * @MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS: mptcp_connection_info_get_n_subflows()
 * @MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL: mptcp_connection_info_get_add_addr_signal()
 * @MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED: mptcp_connection_info_get_add_addr_accepted()
 * @MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_MAX: mptcp_connection_info_get_subflows_max()
 * @MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL_MAX: mptcp_connection_info_get_add_addr_signal_max()
 * @MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED_MAX: mptcp_connection_info_get_add_addr_accepted_max()
 * @MPTCP_CONNECTION_INFO_FIELD_FLAGS: mptcp_connection_info_get_flags()
 * @MPTCP_CONNECTION_INFO_FIELD_TOKEN: mptcp_connection_info_get_token()
 * @MPTCP_CONNECTION_INFO_FIELD_WRITE_SEQ: mptcp_connection_info_get_write_seq()
 * @MPTCP_CONNECTION_INFO_FIELD_SND_UNA: mptcp_connection_info_get_snd_una()
 * @MPTCP_CONNECTION_INFO_FIELD_RCV_NXT: mptcp_connection_info_get_rcv_nxt()
 * @MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_USED: mptcp_connection_info_get_local_addr_used()
 * @MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_MAX: mptcp_connection_info_get_local_addr_max()
 * @MPTCP_CONNECTION_INFO_FIELD_CSUM_ENABLED: mptcp_connection_info_get_csum_enabled()
 * @MPTCP_CONNECTION_INFO_FIELD_RETRANSMITS: mptcp_connection_info_get_retransmits()
 * @MPTCP_CONNECTION_INFO_FIELD_BYTES_RETRANS: mptcp_connection_info_get_bytes_retrans()
 * @MPTCP_CONNECTION_INFO_FIELD_BYTES_SENT: mptcp_connection_info_get_bytes_sent()
 * @MPTCP_CONNECTION_INFO_FIELD_BYTES_RECEIVED: mptcp_connection_info_get_bytes_received()
 * @MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED: mptcp_connection_info_get_bytes_acked()
 * @MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_TOTAL: mptcp_connection_info_get_subflows_total()
 * @MPTCP_CONNECTION_INFO_FIELD_ENDP_LAMINAR_MAX: mptcp_connection_info_get_endp_laminar_max()
 * @MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_SENT: mptcp_connection_info_get_last_data_sent()
 * @MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_RECV: mptcp_connection_info_get_last_data_recv()
 * @MPTCP_CONNECTION_INFO_FIELD_LAST_ACK_RECV: mptcp_connection_info_get_last_ack_recv()
 *
 * The fields of #MptcpConnectionInfo, for mptcp_connection_info_has_field(): each value names the
 * accessor that reads it. A field the running kernel did not return reads 0.
 *
 * Since: 0.2
 */
typedef enum /*< prefix=MPTCP_CONNECTION_INFO_FIELD >*/
{
  MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS = 0,
  MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL,
  MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED,
  MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_MAX,
  MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL_MAX,
  MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED_MAX,
  MPTCP_CONNECTION_INFO_FIELD_FLAGS,
  MPTCP_CONNECTION_INFO_FIELD_TOKEN,
  MPTCP_CONNECTION_INFO_FIELD_WRITE_SEQ,
  MPTCP_CONNECTION_INFO_FIELD_SND_UNA,
  MPTCP_CONNECTION_INFO_FIELD_RCV_NXT,
  MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_USED,
  MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_MAX,
  MPTCP_CONNECTION_INFO_FIELD_CSUM_ENABLED,
  MPTCP_CONNECTION_INFO_FIELD_RETRANSMITS,
  MPTCP_CONNECTION_INFO_FIELD_BYTES_RETRANS,
  MPTCP_CONNECTION_INFO_FIELD_BYTES_SENT,
  MPTCP_CONNECTION_INFO_FIELD_BYTES_RECEIVED,
  MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED,
  MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_TOTAL,
  MPTCP_CONNECTION_INFO_FIELD_ENDP_LAMINAR_MAX,
  MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_SENT,
  MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_RECV,
  MPTCP_CONNECTION_INFO_FIELD_LAST_ACK_RECV,
} MptcpConnectionInfoField;

/**
 * MptcpSubflowStatsField:
 * @MPTCP_SUBFLOW_STATS_FIELD_STATE: mptcp_subflow_stats_get_state()
 * @MPTCP_SUBFLOW_STATS_FIELD_RTT: mptcp_subflow_stats_get_rtt()
 * @MPTCP_SUBFLOW_STATS_FIELD_RTT_VARIANCE: mptcp_subflow_stats_get_rtt_variance()
 * @MPTCP_SUBFLOW_STATS_FIELD_MIN_RTT: mptcp_subflow_stats_get_min_rtt()
 * @MPTCP_SUBFLOW_STATS_FIELD_SND_CWND: mptcp_subflow_stats_get_snd_cwnd()
 * @MPTCP_SUBFLOW_STATS_FIELD_SND_SSTHRESH: mptcp_subflow_stats_get_snd_ssthresh()
 * @MPTCP_SUBFLOW_STATS_FIELD_SND_MSS: mptcp_subflow_stats_get_snd_mss()
 * @MPTCP_SUBFLOW_STATS_FIELD_DELIVERY_RATE: mptcp_subflow_stats_get_delivery_rate()
 * @MPTCP_SUBFLOW_STATS_FIELD_PACING_RATE: mptcp_subflow_stats_get_pacing_rate()
 * @MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT: mptcp_subflow_stats_get_bytes_sent()
 * @MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED: mptcp_subflow_stats_get_bytes_acked()
 * @MPTCP_SUBFLOW_STATS_FIELD_BYTES_RECEIVED: mptcp_subflow_stats_get_bytes_received()
 * @MPTCP_SUBFLOW_STATS_FIELD_BYTES_RETRANS: mptcp_subflow_stats_get_bytes_retrans()
 * @MPTCP_SUBFLOW_STATS_FIELD_TOTAL_RETRANS: mptcp_subflow_stats_get_total_retrans()
 * @MPTCP_SUBFLOW_STATS_FIELD_LOST: mptcp_subflow_stats_get_lost()
 *
 * The fields of #MptcpSubflowStats, for mptcp_subflow_stats_has_field(): each value names the
 * accessor that reads it. A field the running kernel did not return reads 0.
 *
 * Since: 0.2
 */
typedef enum /*< prefix=MPTCP_SUBFLOW_STATS_FIELD >*/
{
  MPTCP_SUBFLOW_STATS_FIELD_STATE = 0,
  MPTCP_SUBFLOW_STATS_FIELD_RTT,
  MPTCP_SUBFLOW_STATS_FIELD_RTT_VARIANCE,
  MPTCP_SUBFLOW_STATS_FIELD_MIN_RTT,
  MPTCP_SUBFLOW_STATS_FIELD_SND_CWND,
  MPTCP_SUBFLOW_STATS_FIELD_SND_SSTHRESH,
  MPTCP_SUBFLOW_STATS_FIELD_SND_MSS,
  MPTCP_SUBFLOW_STATS_FIELD_DELIVERY_RATE,
  MPTCP_SUBFLOW_STATS_FIELD_PACING_RATE,
  MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT,
  MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED,
  MPTCP_SUBFLOW_STATS_FIELD_BYTES_RECEIVED,
  MPTCP_SUBFLOW_STATS_FIELD_BYTES_RETRANS,
  MPTCP_SUBFLOW_STATS_FIELD_TOTAL_RETRANS,
  MPTCP_SUBFLOW_STATS_FIELD_LOST,
} MptcpSubflowStatsField;

/**
 * MptcpConnectionInfo:
 *
 * An immutable snapshot of the kernel's MPTCP-level counters of one
 * connection (its `struct mptcp_info`), taken by
 * mptcp_connection_get_info(). Reference counted.
 *
 * Since: 0.1
 */
typedef struct _MptcpConnectionInfo MptcpConnectionInfo;

/**
 * MptcpSubflowStats:
 *
 * An immutable snapshot of the TCP statistics of one subflow (the kernel's
 * `struct tcp_info` for it), taken by mptcp_subflow_get_stats(). Reference
 * counted.
 *
 * Since: 0.1
 */
typedef struct _MptcpSubflowStats MptcpSubflowStats;

/**
 * MPTCP_TYPE_CONNECTION_INFO:
 *
 * The #GType of the boxed type #MptcpConnectionInfo.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_CONNECTION_INFO (mptcp_connection_info_get_type ())
/**
 * MPTCP_TYPE_SUBFLOW_STATS:
 *
 * The #GType of the boxed type #MptcpSubflowStats.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_SUBFLOW_STATS (mptcp_subflow_stats_get_type ())

MPTCP_AVAILABLE_IN_0_1
GType                mptcp_connection_info_get_type  (void) G_GNUC_CONST;

MPTCP_AVAILABLE_IN_0_1
MptcpConnectionInfo *mptcp_connection_info_ref       (MptcpConnectionInfo       *info);

MPTCP_AVAILABLE_IN_0_1
void                 mptcp_connection_info_unref     (MptcpConnectionInfo       *info);

MPTCP_AVAILABLE_IN_0_2
gboolean             mptcp_connection_info_has_field (const MptcpConnectionInfo *info,
                                                      MptcpConnectionInfoField   field);

MPTCP_AVAILABLE_IN_0_1
gsize                mptcp_connection_info_get_size  (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_2
guint    mptcp_connection_info_get_n_subflows (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_add_addr_signal (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_add_addr_accepted (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_subflows_max (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_add_addr_signal_max (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_add_addr_accepted_max (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
MptcpConnectionInfoFlags mptcp_connection_info_get_flags (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_connection_info_get_token (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_write_seq (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_snd_una (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_rcv_nxt (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_local_addr_used (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_local_addr_max (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
gboolean mptcp_connection_info_get_csum_enabled (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_connection_info_get_retransmits (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_bytes_retrans (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_bytes_sent (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_bytes_received (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_connection_info_get_bytes_acked (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_subflows_total (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint    mptcp_connection_info_get_endp_laminar_max (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_connection_info_get_last_data_sent (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_connection_info_get_last_data_recv (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_connection_info_get_last_ack_recv (const MptcpConnectionInfo *info);

MPTCP_AVAILABLE_IN_0_1
GType              mptcp_subflow_stats_get_type  (void) G_GNUC_CONST;

MPTCP_AVAILABLE_IN_0_1
MptcpSubflowStats *mptcp_subflow_stats_ref       (MptcpSubflowStats       *stats);

MPTCP_AVAILABLE_IN_0_1
void               mptcp_subflow_stats_unref     (MptcpSubflowStats       *stats);

MPTCP_AVAILABLE_IN_0_2
gboolean           mptcp_subflow_stats_has_field (const MptcpSubflowStats *stats,
                                                  MptcpSubflowStatsField   field);

MPTCP_AVAILABLE_IN_0_1
gsize              mptcp_subflow_stats_get_size  (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
MptcpTcpState      mptcp_subflow_stats_get_state (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_rtt (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_rtt_variance (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_min_rtt (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_snd_cwnd (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_snd_ssthresh (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_snd_mss (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_subflow_stats_get_delivery_rate (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_subflow_stats_get_pacing_rate (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_subflow_stats_get_bytes_sent (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_subflow_stats_get_bytes_acked (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_subflow_stats_get_bytes_received (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint64  mptcp_subflow_stats_get_bytes_retrans (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_total_retrans (const MptcpSubflowStats *stats);

MPTCP_AVAILABLE_IN_0_1
guint32  mptcp_subflow_stats_get_lost (const MptcpSubflowStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpConnectionInfo, mptcp_connection_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpSubflowStats, mptcp_subflow_stats_unref)

G_END_DECLS
