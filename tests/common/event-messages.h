/* event-messages.h: build mptcp_pm event messages by hand, as kernel 6.18 lays them out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For tests/unit/test-event.c and bench/bench-events.c. Attribute order and encodings follow what
 * the kernel sends (token first, ports in network order, u8 ids ...).
 */

#pragma once

#include <string.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/mptcp.h>
#include <libmnl/libmnl.h>
#include <glib.h>

#define EVMSG_BUF_SIZE 512

typedef struct
{
  guint8           buf[EVMSG_BUF_SIZE] __attribute__ ((aligned (8)));
  struct nlmsghdr *nlh;
} EvMsg;

/* Starts an event message: nlmsghdr (pid 0, seq 0) + genlmsghdr (cmd = type, version 1). */
static inline void
evmsg_begin (EvMsg *m, guint16 family_id, guint8 type)
{
  struct genlmsghdr *genl;

  memset (m->buf, 0, sizeof m->buf);
  m->nlh = mnl_nlmsg_put_header (m->buf);
  m->nlh->nlmsg_type = family_id;
  genl = mnl_nlmsg_put_extra_header (m->nlh, sizeof *genl);
  genl->cmd = type;
  genl->version = MPTCP_PM_VER;
}

static inline void
evmsg_u8 (EvMsg *m, guint16 attr, guint8 value)
{
  mnl_attr_put_u8 (m->nlh, attr, value);
}

static inline void
evmsg_u16 (EvMsg *m, guint16 attr, guint16 value)
{
  mnl_attr_put_u16 (m->nlh, attr, value);
}

static inline void
evmsg_u32 (EvMsg *m, guint16 attr, guint32 value)
{
  mnl_attr_put_u32 (m->nlh, attr, value);
}

/* A port in network order, as events carry them. */
static inline void
evmsg_port (EvMsg *m, guint16 attr, guint16 host_port)
{
  mnl_attr_put_u16 (m->nlh, attr, htons (host_port));
}

/* An address from text: attr4 for an IPv4 one, attr6 for an IPv6 one. */
static inline void
evmsg_addr (EvMsg *m, guint16 attr4, guint16 attr6, const char *text)
{
  struct in6_addr v6;
  struct in_addr v4;

  if (inet_pton (AF_INET, text, &v4) == 1)
    mnl_attr_put (m->nlh, attr4, sizeof v4, &v4);
  else
    {
      int ok = inet_pton (AF_INET6, text, &v6);

      g_assert_cmpint (ok, ==, 1);
      mnl_attr_put (m->nlh, attr6, sizeof v6, &v6);
    }
}

static inline gsize
evmsg_len (const EvMsg *m)
{
  return m->nlh->nlmsg_len;
}

/* The usual connection/subflow event: token, family, saddr, daddr, sport, dport, loc_id,
 * rem_id (the kernel's order for CREATED/ESTABLISHED and the SUB_* events). */
static inline void
evmsg_tuple (EvMsg *m, guint16 family_id, guint8 type, guint32 token, int family,
             const char *saddr, guint16 sport, const char *daddr, guint16 dport,
             guint8 loc_id, guint8 rem_id)
{
  evmsg_begin (m, family_id, type);
  evmsg_u32 (m, MPTCP_ATTR_TOKEN, token);
  evmsg_u16 (m, MPTCP_ATTR_FAMILY, (guint16) family);
  evmsg_addr (m, MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6, saddr);
  evmsg_addr (m, MPTCP_ATTR_DADDR4, MPTCP_ATTR_DADDR6, daddr);
  evmsg_port (m, MPTCP_ATTR_SPORT, sport);
  evmsg_port (m, MPTCP_ATTR_DPORT, dport);
  evmsg_u8 (m, MPTCP_ATTR_LOC_ID, loc_id);
  evmsg_u8 (m, MPTCP_ATTR_REM_ID, rem_id);
}
