/* mptcp-info.c: snapshots of MPTCP connection and subflow statistics
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stddef.h>
#include <string.h>
#include <linux/tcp.h>

#include "mptcp-info.h"
#include "mptcp-info-private.h"
#include "mptcp-kernel-private.h"

/**
 * SECTION:mptcp-info
 * @Title: MptcpConnectionInfo and MptcpSubflowStats
 * @Short_description: snapshots of the kernel's MPTCP and TCP counters
 *
 * Two immutable, reference-counted snapshots of kernel statistics:
 *
 * - #MptcpConnectionInfo holds the MPTCP-level counters of a connection (the
 *   kernel's `struct mptcp_info`): the subflow count, the MPTCP sequence
 *   numbers, bytes sent, received and acknowledged at the MPTCP level, the
 *   path manager's limits. Get one with mptcp_connection_get_info(); each call
 *   is one getsockopt() and returns a fresh snapshot.
 * - #MptcpSubflowStats holds the TCP statistics of one subflow (the kernel's
 *   `struct tcp_info` for it): TCP state, round-trip time and its variance,
 *   congestion window, slow-start threshold, delivery and pacing rates, bytes
 *   sent, acknowledged and received, retransmitted and lost segments. Get one
 *   with mptcp_subflow_get_stats(); it holds the values of the last
 *   mptcp_connection_refresh().
 *
 * Both hold exactly what the running kernel returned. Older kernels return
 * shorter structures: a field the kernel did not return reads 0, and
 * mptcp_connection_info_has_field() and mptcp_subflow_stats_has_field() tell
 * whether it was returned. A field is named by an enum value after its
 * accessor, for example %MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED for
 * mptcp_connection_info_get_bytes_acked() (#MptcpConnectionInfoField,
 * #MptcpSubflowStatsField).
 *
 * Neither structure is tied to the connection: they stay valid after the
 * connection is closed, and may be passed to other threads.
 */

struct _MptcpConnectionInfo
{
  gsize size;            /* bytes the kernel returned */
  mpx_mptcp_info data;   /* zero beyond size */
};

struct _MptcpSubflowStats
{
  gsize size;            /* bytes the kernel returned */
  struct tcp_info data;  /* zero beyond size */
};


#define FIELD_END(type, member) (offsetof (type, member) + sizeof (((type *) NULL)->member))

static const gsize connection_info_field_ends[] = {
  [MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS] = FIELD_END (mpx_mptcp_info, subflows),
  [MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL] = FIELD_END (mpx_mptcp_info, add_addr_signal),
  [MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED] = FIELD_END (mpx_mptcp_info, add_addr_accepted),
  [MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_MAX] = FIELD_END (mpx_mptcp_info, subflows_max),
  [MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL_MAX] = FIELD_END (mpx_mptcp_info, add_addr_signal_max),
  [MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED_MAX] = FIELD_END (mpx_mptcp_info, add_addr_accepted_max),
  [MPTCP_CONNECTION_INFO_FIELD_FLAGS] = FIELD_END (mpx_mptcp_info, flags),
  [MPTCP_CONNECTION_INFO_FIELD_TOKEN] = FIELD_END (mpx_mptcp_info, token),
  [MPTCP_CONNECTION_INFO_FIELD_WRITE_SEQ] = FIELD_END (mpx_mptcp_info, write_seq),
  [MPTCP_CONNECTION_INFO_FIELD_SND_UNA] = FIELD_END (mpx_mptcp_info, snd_una),
  [MPTCP_CONNECTION_INFO_FIELD_RCV_NXT] = FIELD_END (mpx_mptcp_info, rcv_nxt),
  [MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_USED] = FIELD_END (mpx_mptcp_info, local_addr_used),
  [MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_MAX] = FIELD_END (mpx_mptcp_info, local_addr_max),
  [MPTCP_CONNECTION_INFO_FIELD_CSUM_ENABLED] = FIELD_END (mpx_mptcp_info, csum_enabled),
  [MPTCP_CONNECTION_INFO_FIELD_RETRANSMITS] = FIELD_END (mpx_mptcp_info, retransmits),
  [MPTCP_CONNECTION_INFO_FIELD_BYTES_RETRANS] = FIELD_END (mpx_mptcp_info, bytes_retrans),
  [MPTCP_CONNECTION_INFO_FIELD_BYTES_SENT] = FIELD_END (mpx_mptcp_info, bytes_sent),
  [MPTCP_CONNECTION_INFO_FIELD_BYTES_RECEIVED] = FIELD_END (mpx_mptcp_info, bytes_received),
  [MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED] = FIELD_END (mpx_mptcp_info, bytes_acked),
  [MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_TOTAL] = FIELD_END (mpx_mptcp_info, subflows_total),
  [MPTCP_CONNECTION_INFO_FIELD_ENDP_LAMINAR_MAX] = FIELD_END (mpx_mptcp_info, endp_laminar_max),
  [MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_SENT] = FIELD_END (mpx_mptcp_info, last_data_sent),
  [MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_RECV] = FIELD_END (mpx_mptcp_info, last_data_recv),
  [MPTCP_CONNECTION_INFO_FIELD_LAST_ACK_RECV] = FIELD_END (mpx_mptcp_info, last_ack_recv),
};
G_STATIC_ASSERT (G_N_ELEMENTS (connection_info_field_ends) == MPTCP_CONNECTION_INFO_FIELD_LAST_ACK_RECV + 1);

static const gsize subflow_stats_field_ends[] = {
  [MPTCP_SUBFLOW_STATS_FIELD_STATE] = FIELD_END (struct tcp_info, tcpi_state),
  [MPTCP_SUBFLOW_STATS_FIELD_RTT] = FIELD_END (struct tcp_info, tcpi_rtt),
  [MPTCP_SUBFLOW_STATS_FIELD_RTT_VARIANCE] = FIELD_END (struct tcp_info, tcpi_rttvar),
  [MPTCP_SUBFLOW_STATS_FIELD_MIN_RTT] = FIELD_END (struct tcp_info, tcpi_min_rtt),
  [MPTCP_SUBFLOW_STATS_FIELD_SND_CWND] = FIELD_END (struct tcp_info, tcpi_snd_cwnd),
  [MPTCP_SUBFLOW_STATS_FIELD_SND_SSTHRESH] = FIELD_END (struct tcp_info, tcpi_snd_ssthresh),
  [MPTCP_SUBFLOW_STATS_FIELD_SND_MSS] = FIELD_END (struct tcp_info, tcpi_snd_mss),
  [MPTCP_SUBFLOW_STATS_FIELD_DELIVERY_RATE] = FIELD_END (struct tcp_info, tcpi_delivery_rate),
  [MPTCP_SUBFLOW_STATS_FIELD_PACING_RATE] = FIELD_END (struct tcp_info, tcpi_pacing_rate),
  [MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT] = FIELD_END (struct tcp_info, tcpi_bytes_sent),
  [MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED] = FIELD_END (struct tcp_info, tcpi_bytes_acked),
  [MPTCP_SUBFLOW_STATS_FIELD_BYTES_RECEIVED] = FIELD_END (struct tcp_info, tcpi_bytes_received),
  [MPTCP_SUBFLOW_STATS_FIELD_BYTES_RETRANS] = FIELD_END (struct tcp_info, tcpi_bytes_retrans),
  [MPTCP_SUBFLOW_STATS_FIELD_TOTAL_RETRANS] = FIELD_END (struct tcp_info, tcpi_total_retrans),
  [MPTCP_SUBFLOW_STATS_FIELD_LOST] = FIELD_END (struct tcp_info, tcpi_lost),
};
G_STATIC_ASSERT (G_N_ELEMENTS (subflow_stats_field_ends) == MPTCP_SUBFLOW_STATS_FIELD_LOST + 1);

G_DEFINE_BOXED_TYPE (MptcpConnectionInfo, mptcp_connection_info,
                     mptcp_connection_info_ref, mptcp_connection_info_unref)

G_DEFINE_BOXED_TYPE (MptcpSubflowStats, mptcp_subflow_stats,
                     mptcp_subflow_stats_ref, mptcp_subflow_stats_unref)

MptcpConnectionInfo *
_mptcp_connection_info_new (const guint8 *data,
                            gsize         size)
{
  MptcpConnectionInfo *info = g_atomic_rc_box_new0 (MptcpConnectionInfo);

  info->size = MIN (size, sizeof info->data);
  if (info->size > 0)
    memcpy (&info->data, data, info->size);
  return info;
}

/**
 * mptcp_connection_info_ref:
 * @info: a #MptcpConnectionInfo
 *
 * Acquires a reference on @info.
 *
 * Returns: (transfer full): @info
 *
 * Since: 0.1
 */
MptcpConnectionInfo *
mptcp_connection_info_ref (MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return g_atomic_rc_box_acquire (info);
}

/**
 * mptcp_connection_info_unref:
 * @info: (transfer full): a #MptcpConnectionInfo
 *
 * Releases a reference on @info, freeing it with the last one.
 *
 * Since: 0.1
 */
void
mptcp_connection_info_unref (MptcpConnectionInfo *info)
{
  g_return_if_fail (info != NULL);

  g_atomic_rc_box_release (info);
}

/**
 * mptcp_connection_info_has_field:
 * @info: a #MptcpConnectionInfo
 * @field: the field, named after its accessor
 *
 * Tells whether the running kernel returned @field. Older kernels return
 * fewer fields than newer ones (Linux 6.1 returns 48 of the 96 bytes that
 * 6.18 does); a field that was not returned reads 0.
 *
 * Returns: %TRUE if the kernel returned @field, %FALSE if it did not
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_info_has_field (const MptcpConnectionInfo *info,
                                 MptcpConnectionInfoField   field)
{
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail ((guint) field < G_N_ELEMENTS (connection_info_field_ends), FALSE);

  return info->size >= connection_info_field_ends[field];
}

/**
 * mptcp_connection_info_get_size:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of bytes of `struct mptcp_info` the kernel returned, at
 * most the size this library knows (96 bytes, the size of Linux 6.18).
 *
 * Returns: the size in bytes
 *
 * Since: 0.1
 */
gsize
mptcp_connection_info_get_size (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->size;
}

/**
 * mptcp_connection_info_get_n_subflows:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of additional subflows (the initial one not counted), the
 * kernel's `mptcpi_subflows`. The subflows themselves are in
 * mptcp_connection_get_subflows().
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS).
 *
 * Returns: the number of additional subflows (the initial one not counted)
 *
 * Since: 0.2
 */
guint
mptcp_connection_info_get_n_subflows (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.subflows;
}

/**
 * mptcp_connection_info_get_add_addr_signal:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of addresses this side announced (ADD_ADDR sent).
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL).
 *
 * Returns: the number of addresses this side announced (ADD_ADDR sent)
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_add_addr_signal (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.add_addr_signal;
}

/**
 * mptcp_connection_info_get_add_addr_accepted:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of addresses announced by the peer that were accepted.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED).
 *
 * Returns: the number of addresses announced by the peer that were accepted
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_add_addr_accepted (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.add_addr_accepted;
}

/**
 * mptcp_connection_info_get_subflows_max:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the in-kernel path manager's limit of additional subflows (0 on userspace path manager connections).
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_MAX).
 *
 * Returns: the in-kernel path manager's limit of additional subflows (0 on userspace path manager connections)
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_subflows_max (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.subflows_max;
}

/**
 * mptcp_connection_info_get_add_addr_signal_max:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the in-kernel path manager's number of signal endpoints (0 on userspace path manager connections).
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_SIGNAL_MAX).
 *
 * Returns: the in-kernel path manager's number of signal endpoints (0 on userspace path manager connections)
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_add_addr_signal_max (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.add_addr_signal_max;
}

/**
 * mptcp_connection_info_get_add_addr_accepted_max:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the in-kernel path manager's limit of accepted announcements (0 on userspace path manager connections).
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_ADD_ADDR_ACCEPTED_MAX).
 *
 * Returns: the in-kernel path manager's limit of accepted announcements (0 on userspace path manager connections)
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_add_addr_accepted_max (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.add_addr_accepted_max;
}

/**
 * mptcp_connection_info_get_flags:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the kernel's connection flags: whether the connection fell back to TCP
 * and whether the peer's key was received. Bits the kernel sets that
 * #MptcpConnectionInfoFlags does not list are kept.
 *
 * Reads %MPTCP_CONNECTION_INFO_FLAG_NONE when the running kernel did not
 * return this field (see mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_FLAGS).
 *
 * Returns: the kernel's connection flags (a #guint32 before 0.2)
 *
 * Since: 0.1
 */
MptcpConnectionInfoFlags
mptcp_connection_info_get_flags (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return (MptcpConnectionInfoFlags) info->data.flags;
}

/**
 * mptcp_connection_info_get_token:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the kernel's token of the connection (0 before it is connected); the same as #MptcpConnection:token.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_TOKEN).
 *
 * Returns: the kernel's token of the connection (0 before it is connected); the same as #MptcpConnection:token
 *
 * Since: 0.1
 */
guint32
mptcp_connection_info_get_token (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.token;
}

/**
 * mptcp_connection_info_get_write_seq:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the MPTCP-level sequence number of the next byte the application writes.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_WRITE_SEQ).
 *
 * Returns: the MPTCP-level sequence number of the next byte the application writes
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_write_seq (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.write_seq;
}

/**
 * mptcp_connection_info_get_snd_una:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the MPTCP-level sequence number of the oldest byte not yet acknowledged.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_SND_UNA).
 *
 * Returns: the MPTCP-level sequence number of the oldest byte not yet acknowledged
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_snd_una (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.snd_una;
}

/**
 * mptcp_connection_info_get_rcv_nxt:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the MPTCP-level sequence number of the next byte expected from the peer.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_RCV_NXT).
 *
 * Returns: the MPTCP-level sequence number of the next byte expected from the peer
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_rcv_nxt (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.rcv_nxt;
}

/**
 * mptcp_connection_info_get_local_addr_used:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of local addresses in use by the path manager for this connection.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_USED).
 *
 * Returns: the number of local addresses in use by the path manager for this connection
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_local_addr_used (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.local_addr_used;
}

/**
 * mptcp_connection_info_get_local_addr_max:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the in-kernel path manager's limit of local addresses.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_LOCAL_ADDR_MAX).
 *
 * Returns: the in-kernel path manager's limit of local addresses
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_local_addr_max (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.local_addr_max;
}

/**
 * mptcp_connection_info_get_csum_enabled:
 * @info: a #MptcpConnectionInfo
 *
 * Gets whether MPTCP data checksums are in use on this connection.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_CSUM_ENABLED).
 *
 * Returns: whether MPTCP data checksums are in use on this connection
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_info_get_csum_enabled (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.csum_enabled != 0;
}

/**
 * mptcp_connection_info_get_retransmits:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of MPTCP-level retransmission timeouts.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_RETRANSMITS).
 *
 * Returns: the number of MPTCP-level retransmission timeouts
 *
 * Since: 0.1
 */
guint32
mptcp_connection_info_get_retransmits (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.retransmits;
}

/**
 * mptcp_connection_info_get_bytes_retrans:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of bytes retransmitted at the MPTCP level.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_BYTES_RETRANS).
 *
 * Returns: the number of bytes retransmitted at the MPTCP level
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_bytes_retrans (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.bytes_retrans;
}

/**
 * mptcp_connection_info_get_bytes_sent:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of bytes sent over all subflows, retransmissions included.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_BYTES_SENT).
 *
 * Returns: the number of bytes sent over all subflows, retransmissions included
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_bytes_sent (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.bytes_sent;
}

/**
 * mptcp_connection_info_get_bytes_received:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of data bytes received at the MPTCP level.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_BYTES_RECEIVED).
 *
 * Returns: the number of data bytes received at the MPTCP level
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_bytes_received (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.bytes_received;
}

/**
 * mptcp_connection_info_get_bytes_acked:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of data bytes acknowledged by the peer at the MPTCP level.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED).
 *
 * Returns: the number of data bytes acknowledged by the peer at the MPTCP level
 *
 * Since: 0.1
 */
guint64
mptcp_connection_info_get_bytes_acked (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.bytes_acked;
}

/**
 * mptcp_connection_info_get_subflows_total:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of subflows, the initial one included.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_TOTAL).
 *
 * Returns: the number of subflows, the initial one included
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_subflows_total (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.subflows_total;
}

/**
 * mptcp_connection_info_get_endp_laminar_max:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the number of laminar endpoints of the in-kernel path manager.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_ENDP_LAMINAR_MAX).
 *
 * Returns: the number of laminar endpoints of the in-kernel path manager
 *
 * Since: 0.1
 */
guint
mptcp_connection_info_get_endp_laminar_max (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.endp_laminar_max;
}

/**
 * mptcp_connection_info_get_last_data_sent:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the time since data was last sent, in milliseconds.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_SENT).
 *
 * Returns: the time since data was last sent, in milliseconds
 *
 * Since: 0.1
 */
guint32
mptcp_connection_info_get_last_data_sent (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.last_data_sent;
}

/**
 * mptcp_connection_info_get_last_data_recv:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the time since data was last received, in milliseconds.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_LAST_DATA_RECV).
 *
 * Returns: the time since data was last received, in milliseconds
 *
 * Since: 0.1
 */
guint32
mptcp_connection_info_get_last_data_recv (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.last_data_recv;
}

/**
 * mptcp_connection_info_get_last_ack_recv:
 * @info: a #MptcpConnectionInfo
 *
 * Gets the time since an acknowledgement was last received, in milliseconds.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_connection_info_has_field() with
 * %MPTCP_CONNECTION_INFO_FIELD_LAST_ACK_RECV).
 *
 * Returns: the time since an acknowledgement was last received, in milliseconds
 *
 * Since: 0.1
 */
guint32
mptcp_connection_info_get_last_ack_recv (const MptcpConnectionInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->data.last_ack_recv;
}

MptcpSubflowStats *
_mptcp_subflow_stats_new (const guint8 *tcp_info,
                          gsize         size)
{
  MptcpSubflowStats *stats = g_atomic_rc_box_new (MptcpSubflowStats);

  /* the kernel's bytes, zero beyond them (one pass over the box, not two) */
  stats->size = MIN (size, sizeof stats->data);
  if (stats->size > 0)
    memcpy (&stats->data, tcp_info, stats->size);
  memset ((guint8 *) &stats->data + stats->size, 0, sizeof stats->data - stats->size);
  return stats;
}

guint64
_mptcp_subflow_stats_read_field (const guint8          *tcp_info,
                                 gsize                  size,
                                 MptcpSubflowStatsField field)
{
  gsize end = subflow_stats_field_ends[field];

  if (tcp_info == NULL || size < end)
    return 0;

#define READ_FIELD(member) \
  G_STMT_START { \
    __typeof__ (((struct tcp_info *) NULL)->member) value_; \
    memcpy (&value_, tcp_info + offsetof (struct tcp_info, member), sizeof value_); \
    return value_; \
  } G_STMT_END

  switch (field)
    {
    case MPTCP_SUBFLOW_STATS_FIELD_STATE: READ_FIELD (tcpi_state);
    case MPTCP_SUBFLOW_STATS_FIELD_RTT: READ_FIELD (tcpi_rtt);
    case MPTCP_SUBFLOW_STATS_FIELD_RTT_VARIANCE: READ_FIELD (tcpi_rttvar);
    case MPTCP_SUBFLOW_STATS_FIELD_MIN_RTT: READ_FIELD (tcpi_min_rtt);
    case MPTCP_SUBFLOW_STATS_FIELD_SND_CWND: READ_FIELD (tcpi_snd_cwnd);
    case MPTCP_SUBFLOW_STATS_FIELD_SND_SSTHRESH: READ_FIELD (tcpi_snd_ssthresh);
    case MPTCP_SUBFLOW_STATS_FIELD_SND_MSS: READ_FIELD (tcpi_snd_mss);
    case MPTCP_SUBFLOW_STATS_FIELD_DELIVERY_RATE: READ_FIELD (tcpi_delivery_rate);
    case MPTCP_SUBFLOW_STATS_FIELD_PACING_RATE: READ_FIELD (tcpi_pacing_rate);
    case MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT: READ_FIELD (tcpi_bytes_sent);
    case MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED: READ_FIELD (tcpi_bytes_acked);
    case MPTCP_SUBFLOW_STATS_FIELD_BYTES_RECEIVED: READ_FIELD (tcpi_bytes_received);
    case MPTCP_SUBFLOW_STATS_FIELD_BYTES_RETRANS: READ_FIELD (tcpi_bytes_retrans);
    case MPTCP_SUBFLOW_STATS_FIELD_TOTAL_RETRANS: READ_FIELD (tcpi_total_retrans);
    case MPTCP_SUBFLOW_STATS_FIELD_LOST: READ_FIELD (tcpi_lost);
    default:
      break;
    }
#undef READ_FIELD
  return 0;
}

/**
 * mptcp_subflow_stats_ref:
 * @stats: a #MptcpSubflowStats
 *
 * Acquires a reference on @stats.
 *
 * Returns: (transfer full): @stats
 *
 * Since: 0.1
 */
MptcpSubflowStats *
mptcp_subflow_stats_ref (MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, NULL);

  return g_atomic_rc_box_acquire (stats);
}

/**
 * mptcp_subflow_stats_unref:
 * @stats: (transfer full): a #MptcpSubflowStats
 *
 * Releases a reference on @stats, freeing it with the last one.
 *
 * Since: 0.1
 */
void
mptcp_subflow_stats_unref (MptcpSubflowStats *stats)
{
  g_return_if_fail (stats != NULL);

  g_atomic_rc_box_release (stats);
}

/**
 * mptcp_subflow_stats_has_field:
 * @stats: a #MptcpSubflowStats
 * @field: the field, named after its accessor
 *
 * Tells whether the running kernel returned @field. Older kernels return a
 * shorter `struct tcp_info`; a field that was not returned reads 0.
 *
 * Returns: %TRUE if the kernel returned @field, %FALSE if it did not
 *
 * Since: 0.2
 */
gboolean
mptcp_subflow_stats_has_field (const MptcpSubflowStats *stats,
                               MptcpSubflowStatsField   field)
{
  g_return_val_if_fail (stats != NULL, FALSE);
  g_return_val_if_fail ((guint) field < G_N_ELEMENTS (subflow_stats_field_ends), FALSE);

  return stats->size >= subflow_stats_field_ends[field];
}

/**
 * mptcp_subflow_stats_get_size:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of bytes of `struct tcp_info` the kernel returned for this
 * subflow, at most the size this library reads (`sizeof (struct tcp_info)`
 * of the kernel headers it was built with: 232 bytes with Linux 6.1's).
 *
 * Returns: the size in bytes
 *
 * Since: 0.1
 */
gsize
mptcp_subflow_stats_get_size (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->size;
}

/**
 * mptcp_subflow_stats_get_state:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the TCP state of the subflow.
 *
 * Returns: the TCP state (%MPTCP_TCP_STATE_UNKNOWN if the kernel returned no
 *   statistics)
 *
 * Since: 0.1
 */
MptcpTcpState
mptcp_subflow_stats_get_state (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, MPTCP_TCP_STATE_UNKNOWN);

  return (MptcpTcpState) stats->data.tcpi_state;
}

/**
 * mptcp_subflow_stats_get_rtt:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the smoothed round-trip time, in microseconds.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_RTT).
 *
 * Returns: the smoothed round-trip time, in microseconds
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_rtt (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_rtt;
}

/**
 * mptcp_subflow_stats_get_rtt_variance:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the variance of the round-trip time, in microseconds.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_RTT_VARIANCE).
 *
 * Returns: the variance of the round-trip time, in microseconds
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_rtt_variance (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_rttvar;
}

/**
 * mptcp_subflow_stats_get_min_rtt:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the smallest round-trip time seen, in microseconds.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_MIN_RTT).
 *
 * Returns: the smallest round-trip time seen, in microseconds
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_min_rtt (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_min_rtt;
}

/**
 * mptcp_subflow_stats_get_snd_cwnd:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the congestion window, in segments.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_SND_CWND).
 *
 * Returns: the congestion window, in segments
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_snd_cwnd (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_snd_cwnd;
}

/**
 * mptcp_subflow_stats_get_snd_ssthresh:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the slow-start threshold, in segments (2147483647 while still unset).
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_SND_SSTHRESH).
 *
 * Returns: the slow-start threshold, in segments (2147483647 while still unset)
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_snd_ssthresh (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_snd_ssthresh;
}

/**
 * mptcp_subflow_stats_get_snd_mss:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the maximum segment size used for sending, in bytes.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_SND_MSS).
 *
 * Returns: the maximum segment size used for sending, in bytes
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_snd_mss (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_snd_mss;
}

/**
 * mptcp_subflow_stats_get_delivery_rate:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the most recent delivery rate, in bytes per second.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_DELIVERY_RATE).
 *
 * Returns: the most recent delivery rate, in bytes per second
 *
 * Since: 0.1
 */
guint64
mptcp_subflow_stats_get_delivery_rate (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_delivery_rate;
}

/**
 * mptcp_subflow_stats_get_pacing_rate:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the pacing rate, in bytes per second.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_PACING_RATE).
 *
 * Returns: the pacing rate, in bytes per second
 *
 * Since: 0.1
 */
guint64
mptcp_subflow_stats_get_pacing_rate (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_pacing_rate;
}

/**
 * mptcp_subflow_stats_get_bytes_sent:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of bytes sent on this subflow, retransmissions included.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT).
 *
 * Returns: the number of bytes sent on this subflow, retransmissions included
 *
 * Since: 0.1
 */
guint64
mptcp_subflow_stats_get_bytes_sent (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_bytes_sent;
}

/**
 * mptcp_subflow_stats_get_bytes_acked:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of bytes the peer acknowledged on this subflow.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED).
 *
 * Returns: the number of bytes the peer acknowledged on this subflow
 *
 * Since: 0.1
 */
guint64
mptcp_subflow_stats_get_bytes_acked (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_bytes_acked;
}

/**
 * mptcp_subflow_stats_get_bytes_received:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of bytes received on this subflow.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_BYTES_RECEIVED).
 *
 * Returns: the number of bytes received on this subflow
 *
 * Since: 0.1
 */
guint64
mptcp_subflow_stats_get_bytes_received (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_bytes_received;
}

/**
 * mptcp_subflow_stats_get_bytes_retrans:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of bytes retransmitted on this subflow.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_BYTES_RETRANS).
 *
 * Returns: the number of bytes retransmitted on this subflow
 *
 * Since: 0.1
 */
guint64
mptcp_subflow_stats_get_bytes_retrans (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_bytes_retrans;
}

/**
 * mptcp_subflow_stats_get_total_retrans:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of segments retransmitted on this subflow over its lifetime.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_TOTAL_RETRANS).
 *
 * Returns: the number of segments retransmitted on this subflow over its lifetime
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_total_retrans (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_total_retrans;
}

/**
 * mptcp_subflow_stats_get_lost:
 * @stats: a #MptcpSubflowStats
 *
 * Gets the number of segments currently considered lost.
 *
 * Reads 0 when the running kernel did not return this field (see
 * mptcp_subflow_stats_has_field() with
 * %MPTCP_SUBFLOW_STATS_FIELD_LOST).
 *
 * Returns: the number of segments currently considered lost
 *
 * Since: 0.1
 */
guint32
mptcp_subflow_stats_get_lost (const MptcpSubflowStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);

  return stats->data.tcpi_lost;
}
