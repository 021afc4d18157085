/* mptcp-kernel-private.h: Linux MPTCP UAPI values newer than the 6.1 system headers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Values only. Every definition is guarded or prefixed so that the file builds next to any
 * version of <linux/mptcp.h>. Layouts were checked against kernel 6.18.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-kernel-private.h is private to mptcp-glib"
#endif

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/mptcp.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

/* Level IPPROTO_TCP, int result: 1 on a socket that is (still) MPTCP (kernel 6.10). */
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif

/* Level SOL_MPTCP (kernel 6.5). */
#define MPX_FULL_INFO 4

/* struct mptcp_subflow_info, 264 bytes on 6.18 */
typedef struct
{
  uint32_t id;
  uint32_t pad;
  struct mptcp_subflow_addrs addrs;
} mpx_subflow_info;

/* struct mptcp_full_info: the fixed head (40 bytes) before the trailing mptcp_info */
typedef struct
{
  uint32_t size_tcpinfo_kernel;   /* out */
  uint32_t size_tcpinfo_user;     /* in */
  uint32_t size_sfinfo_kernel;    /* out */
  uint32_t size_sfinfo_user;      /* in */
  uint32_t num_subflows;          /* out */
  uint32_t size_arrays_user;      /* in */
  uint64_t subflow_info;          /* user pointer */
  uint64_t tcp_info;              /* user pointer */
} mpx_full_info_head;

#define MPX_FULL_INFO_HEAD_SIZE 40

/* struct mptcp_info as 6.18 fills it (96 bytes); older kernels return a prefix. */
typedef struct
{
  uint8_t  subflows;
  uint8_t  add_addr_signal;
  uint8_t  add_addr_accepted;
  uint8_t  subflows_max;
  uint8_t  add_addr_signal_max;
  uint8_t  add_addr_accepted_max;
  uint8_t  pad0[2];
  uint32_t flags;
  uint32_t token;
  uint64_t write_seq;
  uint64_t snd_una;
  uint64_t rcv_nxt;
  uint8_t  local_addr_used;
  uint8_t  local_addr_max;
  uint8_t  csum_enabled;
  uint8_t  pad1;
  uint32_t retransmits;
  uint64_t bytes_retrans;
  uint64_t bytes_sent;
  uint64_t bytes_received;
  uint64_t bytes_acked;
  uint8_t  subflows_total;
  uint8_t  endp_laminar_max;
  uint8_t  reserved[2];
  uint32_t last_data_sent;
  uint32_t last_data_recv;
  uint32_t last_ack_recv;
} mpx_mptcp_info;

#define MPX_MPTCP_INFO_SIZE 96

/* Events newer than 6.1 */
#define MPX_EVENT_LISTENER_CREATED 15
#define MPX_EVENT_LISTENER_CLOSED  16

/* Event attribute "flags" bits */
#define MPX_EV_FLAG_DENY_JOIN_ID0 (1 << 0)
#define MPX_EV_FLAG_SERVER_SIDE   (1 << 1)

/* Address flags newer than 6.1 */
#define MPX_ADDR_FLAG_LAMINAR    (1 << 5)
#define MPX_ADDR_FLAGS_MASK      0x3f

/* Event attributes newer than 6.1 headers may lack */
#define MPX_ATTR_RESET_REASON 16
#define MPX_ATTR_RESET_FLAGS  17
#define MPX_ATTR_SERVER_SIDE  18

/* Size of struct tcp_info as the 6.18 kernel fills it */
#define MPX_TCP_INFO_MAX 280
