/* sockdiag-messages.h: sock_diag replies made by hand, for the fake kernel of test-sockdiag
 * and the seeds of fuzz-sockdiag
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The layouts are those the kernel sends (inet_diag_msg, then attributes): checked against
 * what 6.18 answers to the same requests.
 */

#pragma once

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/mptcp.h>
#include <libmnl/libmnl.h>
#include <glib.h>

typedef struct
{
  const char *src;           /* IPv4 text (AF_INET) */
  guint16     sport;
  const char *dst;
  guint16     dport;
  guint32     cookie;
  guint32     uid;
  guint32     inode;
  guint8      state;
  guint32     token;         /* MPTCP: written at offset 12 of a 96-byte mptcp_info */
  gboolean    ulp;           /* TCP: an INET_DIAG_ULP_INFO nest with name "mptcp" */
  gboolean    ulp_attrs;     /* ... and the MPTCP_SUBFLOW_ATTR_* nest */
  guint32     token_loc;
  guint32     token_rem;
  guint8      id_loc;
  guint8      id_rem;
  guint32     sf_flags;
} FakeSock;

/* Appends one SOCK_DIAG_BY_FAMILY message to buf at *off (buf large enough: 1024 per socket) */
static inline void
fake_put_socket (guint8 *buf, gsize *off, guint32 seq, gboolean mptcp, const FakeSock *f)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf + *off);
  struct inet_diag_msg *msg;

  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_MULTI;
  nlh->nlmsg_seq = seq;
  msg = mnl_nlmsg_put_extra_header (nlh, sizeof *msg);
  msg->idiag_family = AF_INET;
  msg->idiag_state = f->state;
  msg->id.idiag_sport = htons (f->sport);
  msg->id.idiag_dport = htons (f->dport);
  inet_pton (AF_INET, f->src, &msg->id.idiag_src[0]);
  inet_pton (AF_INET, f->dst, &msg->id.idiag_dst[0]);
  msg->id.idiag_cookie[0] = f->cookie;
  msg->idiag_uid = f->uid;
  msg->idiag_inode = f->inode;
  if (mptcp)
    {
      guint8 info[96] = { 0 };

      info[0] = 1;
      memcpy (info + 12, &f->token, 4);
      mnl_attr_put (nlh, INET_DIAG_INFO, sizeof info, info);
    }
  else
    {
      guint8 info[232] = { 0 };

      info[0] = f->state;
      mnl_attr_put (nlh, INET_DIAG_INFO, sizeof info, info);
      if (f->ulp)
        {
          struct nlattr *ulp = mnl_attr_nest_start (nlh, INET_DIAG_ULP_INFO);

          mnl_attr_put_strz (nlh, INET_ULP_INFO_NAME, "mptcp");
          if (f->ulp_attrs)
            {
              struct nlattr *sf = mnl_attr_nest_start (nlh, INET_ULP_INFO_MPTCP);

              mnl_attr_put_u32 (nlh, MPTCP_SUBFLOW_ATTR_TOKEN_REM, f->token_rem);
              mnl_attr_put_u32 (nlh, MPTCP_SUBFLOW_ATTR_TOKEN_LOC, f->token_loc);
              mnl_attr_put_u32 (nlh, MPTCP_SUBFLOW_ATTR_FLAGS, f->sf_flags);
              mnl_attr_put_u8 (nlh, MPTCP_SUBFLOW_ATTR_ID_REM, f->id_rem);
              mnl_attr_put_u8 (nlh, MPTCP_SUBFLOW_ATTR_ID_LOC, f->id_loc);
              mnl_attr_nest_end (nlh, sf);
            }
          mnl_attr_nest_end (nlh, ulp);
        }
    }
  *off += nlh->nlmsg_len;
}

/* Appends NLMSG_DONE (status 0 or a negative errno) */
static inline void
fake_put_done (guint8 *buf, gsize *off, guint32 seq, int status)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf + *off);
  int *payload;

  nlh->nlmsg_type = NLMSG_DONE;
  nlh->nlmsg_flags = NLM_F_MULTI;
  nlh->nlmsg_seq = seq;
  payload = mnl_nlmsg_put_extra_header (nlh, sizeof *payload);
  *payload = status;
  *off += nlh->nlmsg_len;
}

/* Appends NLMSG_ERROR with a negative errno */
static inline void
fake_put_error (guint8 *buf, gsize *off, guint32 seq, int error)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf + *off);
  struct nlmsgerr *err;

  nlh->nlmsg_type = NLMSG_ERROR;
  nlh->nlmsg_seq = seq;
  err = mnl_nlmsg_put_extra_header (nlh, sizeof *err);
  err->error = error;
  *off += nlh->nlmsg_len;
}

/* Two connections (tokens 0x11111111 and 0x22222222), the first with two subflows (the second
 * a join with both backup flags), the second with one. */
static const FakeSock fake_conns[] = {
  { "192.0.2.1", 40001, "192.0.2.2", 5001, 101, 0, 9001, TCP_ESTABLISHED, 0x11111111 },
  { "192.0.2.1", 40002, "192.0.2.2", 5001, 102, 65534, 9002, TCP_ESTABLISHED, 0x22222222 },
};
static const FakeSock fake_subflows[] = {
  { "192.0.2.1", 40001, "192.0.2.2", 5001, 201, 0, 9001, TCP_ESTABLISHED, 0, TRUE, TRUE,
    0x11111111, 0, 0, 0, MPTCP_SUBFLOW_FLAG_MCAP_LOC },
  { "198.51.100.1", 40101, "198.51.100.2", 5001, 202, 0, 0, TCP_ESTABLISHED, 0, TRUE, TRUE,
    0x11111111, 0xaaaa0000, 2, 1, MPTCP_SUBFLOW_FLAG_JOIN_LOC | MPTCP_SUBFLOW_FLAG_BKUP_LOC |
    MPTCP_SUBFLOW_FLAG_BKUP_REM },
  { "192.0.2.1", 40002, "192.0.2.2", 5001, 203, 65534, 9002, TCP_ESTABLISHED, 0, TRUE, TRUE,
    0x22222222, 0, 0, 0, MPTCP_SUBFLOW_FLAG_MCAP_LOC },
  /* a plain TCP socket */
  { "192.0.2.1", 40003, "192.0.2.2", 5003, 204, 0, 9004, TCP_ESTABLISHED },
};
