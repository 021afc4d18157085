/* netlink-messages.h: kernel netlink messages built by hand, for the netlink tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by tests/unit/test-netlink-codec.c (the pure codec) and tests/kernel/test-netlink.c
 * (the broker against a scripted fake kernel). Include after <libmnl/libmnl.h> and
 * mptcp-netlink-private.h.
 */

#pragma once

#include <string.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"

#define FAKE_FAMILY 0x1c
#define FAKE_GROUP  9

/* ---- helpers for building kernel messages by hand ------------------------------------------ */

typedef struct
{
  guint8 buf[8192] __attribute__ ((aligned (8)));
  struct nlmsghdr *nlh;
} Msg;

/* a message of the family, with a genl header */
static inline struct nlmsghdr *
msg_genl (Msg *m, guint16 type, guint16 flags, guint32 seq, guint8 cmd)
{
  struct genlmsghdr *genl;

  memset (m->buf, 0, sizeof m->buf);
  m->nlh = mnl_nlmsg_put_header (m->buf);
  m->nlh->nlmsg_type = type;
  m->nlh->nlmsg_flags = flags;
  m->nlh->nlmsg_seq = seq;
  genl = mnl_nlmsg_put_extra_header (m->nlh, sizeof *genl);
  genl->cmd = cmd;
  genl->version = 1;
  return m->nlh;
}

static inline void
put_addr_nest (struct nlmsghdr *nlh, guint16 type, int family, const char *ip, guint8 id,
               guint16 port, guint32 flags)
{
  struct nlattr *nest = mnl_attr_nest_start (nlh, type);
  guint8 bytes[16];

  mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, family);
  mnl_attr_put_u8 (nlh, MPTCP_PM_ADDR_ATTR_ID, id);
  g_assert_cmpint (inet_pton (family, ip, bytes), ==, 1);
  if (family == AF_INET)
    mnl_attr_put (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, bytes);
  else
    mnl_attr_put (nlh, MPTCP_PM_ADDR_ATTR_ADDR6, 16, bytes);
  if (port != 0)
    mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_PORT, port);
  mnl_attr_put_u32 (nlh, MPTCP_PM_ADDR_ATTR_FLAGS, flags);
  mnl_attr_nest_end (nlh, nest);
}

/* An NLMSG_ERROR ack as the kernel builds it. capped: only the request's header follows the
 * error code (NETLINK_CAP_ACK, or a success); else the whole request. */
static inline struct nlmsghdr *
msg_ack (Msg *m, const struct nlmsghdr *request, int error, gboolean capped,
         const char *text, guint32 miss_type)
{
  struct nlmsgerr *err;
  gsize copy = capped ? sizeof (struct nlmsghdr) : request->nlmsg_len;

  memset (m->buf, 0, sizeof m->buf);
  m->nlh = mnl_nlmsg_put_header (m->buf);
  m->nlh->nlmsg_type = NLMSG_ERROR;
  m->nlh->nlmsg_seq = request->nlmsg_seq;
  m->nlh->nlmsg_flags = capped ? NLM_F_CAPPED : 0;
  err = mnl_nlmsg_put_extra_header (m->nlh, sizeof (int));
  err->error = error;
  memcpy (mnl_nlmsg_put_extra_header (m->nlh, NLMSG_ALIGN (copy)), request, copy);
  if (text != NULL || miss_type != 0)
    {
      m->nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
      if (text != NULL)
        mnl_attr_put_strz (m->nlh, NLMSGERR_ATTR_MSG, text);
      if (miss_type != 0)
        mnl_attr_put_u32 (m->nlh, 5 /* NLMSGERR_ATTR_MISS_TYPE */, miss_type);
      mnl_attr_put_u32 (m->nlh, NLMSGERR_ATTR_OFFS, 20);
    }
  return m->nlh;
}

static inline struct nlmsghdr *
msg_done (Msg *m, guint32 seq, int error, const char *text)
{
  int *payload;

  memset (m->buf, 0, sizeof m->buf);
  m->nlh = mnl_nlmsg_put_header (m->buf);
  m->nlh->nlmsg_type = NLMSG_DONE;
  m->nlh->nlmsg_flags = NLM_F_MULTI;
  m->nlh->nlmsg_seq = seq;
  payload = mnl_nlmsg_put_extra_header (m->nlh, sizeof (int));
  *payload = error;
  if (text != NULL)
    {
      m->nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
      mnl_attr_put_strz (m->nlh, NLMSGERR_ATTR_MSG, text);
    }
  return m->nlh;
}

/* an event as the kernel sends it; ports in network order */
static inline struct nlmsghdr *
msg_event (Msg *m, guint16 family_id, guint8 type, guint32 token, int family,
           const char *saddr, guint16 sport, const char *daddr, guint16 dport)
{
  guint8 bytes[16];

  msg_genl (m, family_id, 0, 0, type);
  if (token != 0)
    mnl_attr_put_u32 (m->nlh, MPTCP_ATTR_TOKEN, token);
  if (family != 0)
    mnl_attr_put_u16 (m->nlh, MPTCP_ATTR_FAMILY, family);
  if (saddr != NULL)
    {
      int f = strchr (saddr, ':') ? AF_INET6 : AF_INET;

      g_assert_cmpint (inet_pton (f, saddr, bytes), ==, 1);
      mnl_attr_put (m->nlh, f == AF_INET ? MPTCP_ATTR_SADDR4 : MPTCP_ATTR_SADDR6,
                    f == AF_INET ? 4 : 16, bytes);
    }
  if (daddr != NULL)
    {
      int f = strchr (daddr, ':') ? AF_INET6 : AF_INET;

      g_assert_cmpint (inet_pton (f, daddr, bytes), ==, 1);
      mnl_attr_put (m->nlh, f == AF_INET ? MPTCP_ATTR_DADDR4 : MPTCP_ATTR_DADDR6,
                    f == AF_INET ? 4 : 16, bytes);
    }
  if (sport != 0)
    mnl_attr_put_u16 (m->nlh, MPTCP_ATTR_SPORT, htons (sport));
  if (dport != 0)
    mnl_attr_put_u16 (m->nlh, MPTCP_ATTR_DPORT, htons (dport));
  return m->nlh;
}

static inline const char *
ntop (int family, const MptcpNlInetAddr *addr, char *buf)
{
  return inet_ntop (family, addr, buf, INET6_ADDRSTRLEN);
}

