/* test-netlink-codec.c: the netlink codec without a kernel: building, parsing, error mapping
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /netlink/pure/... the pure functions (no socket, no namespace): requests built, events,
 *                   replies and acks parsed from messages built by hand, errno mapping.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "netlink-messages.h"

/* ---- /netlink/pure ------------------------------------------------------------------------- */

typedef struct
{
  const struct nlattr *tb[MPTCP_PM_ATTR_MAX + 1];
} TopAttrs;

static int
collect_attr_cb (const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;
  int type = mnl_attr_get_type (attr);

  if (type <= 7)
    tb[type] = attr;
  return MNL_CB_OK;
}

static void
test_build_request (void)
{
  guint8 buf[512] __attribute__ ((aligned (8)));
  MptcpNlRequest req = { 0 };
  const struct nlattr *tb[8] = { NULL }, *addr[8] = { NULL }, *remote[8] = { NULL };
  struct nlmsghdr *nlh = (struct nlmsghdr *) buf;
  struct genlmsghdr *genl;
  struct in6_addr v6;
  gsize len;

  req.cmd = MPTCP_PM_CMD_SUBFLOW_CREATE;
  req.has_token = TRUE;
  req.token = 0xdeadbeef;
  req.has_addr = TRUE;
  req.addr.family = AF_INET;
  inet_pton (AF_INET, "10.0.2.1", &req.addr.addr.v4);
  req.addr.has_id = TRUE;
  req.addr.id = 7;
  req.addr.port = 40000;
  req.addr.has_flags = TRUE;
  req.addr.flags = MPTCP_PM_ADDR_FLAG_BACKUP;
  req.addr.ifindex = 3;
  req.has_remote = TRUE;
  req.remote.family = AF_INET6;
  inet_pton (AF_INET6, "2001:db8::2", &req.remote.addr.v6);
  req.remote.port = 443;
  req.has_loc_id = TRUE;
  req.loc_id = 9;
  req.has_subflows = TRUE;
  req.subflows = 4;
  req.has_rcv_add_addrs = TRUE;
  req.rcv_add_addrs = 5;

  len = _mptcp_netlink_build_request (&req, FAKE_FAMILY, 4242, buf, sizeof buf);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpuint (len, ==, nlh->nlmsg_len);
  g_assert_cmpuint (nlh->nlmsg_type, ==, FAKE_FAMILY);
  g_assert_cmpuint (nlh->nlmsg_flags, ==, NLM_F_REQUEST | NLM_F_ACK);
  g_assert_cmpuint (nlh->nlmsg_seq, ==, 4242);
  g_assert_cmpuint (nlh->nlmsg_pid, ==, 0);
  genl = mnl_nlmsg_get_payload (nlh);
  g_assert_cmpuint (genl->cmd, ==, MPTCP_PM_CMD_SUBFLOW_CREATE);
  g_assert_cmpuint (genl->version, ==, MPTCP_PM_VER);

  g_assert_cmpint (mnl_attr_parse (nlh, sizeof *genl, collect_attr_cb, tb), ==, MNL_CB_OK);
  g_assert_cmpuint (mnl_attr_get_u32 (tb[MPTCP_PM_ATTR_TOKEN]), ==, 0xdeadbeef);
  g_assert_cmpuint (mnl_attr_get_u8 (tb[MPTCP_PM_ATTR_LOC_ID]), ==, 9);
  g_assert_cmpuint (mnl_attr_get_u32 (tb[MPTCP_PM_ATTR_SUBFLOWS]), ==, 4);
  g_assert_cmpuint (mnl_attr_get_u32 (tb[MPTCP_PM_ATTR_RCV_ADD_ADDRS]), ==, 5);
  /* nests carry NLA_F_NESTED (strict validation needs it) */
  g_assert_true (tb[MPTCP_PM_ATTR_ADDR]->nla_type & NLA_F_NESTED);
  g_assert_true (tb[MPTCP_PM_ATTR_ADDR_REMOTE]->nla_type & NLA_F_NESTED);

  g_assert_cmpint (mnl_attr_parse_nested (tb[MPTCP_PM_ATTR_ADDR], collect_attr_cb, addr), ==,
                   MNL_CB_OK);
  g_assert_cmpuint (mnl_attr_get_u16 (addr[MPTCP_PM_ADDR_ATTR_FAMILY]), ==, AF_INET);
  g_assert_cmpuint (mnl_attr_get_u8 (addr[MPTCP_PM_ADDR_ATTR_ID]), ==, 7);
  g_assert_cmpmem (mnl_attr_get_payload (addr[MPTCP_PM_ADDR_ATTR_ADDR4]), 4,
                   &req.addr.addr.v4, 4);
  g_assert_null (addr[MPTCP_PM_ADDR_ATTR_ADDR6]);
  /* host order in address nests */
  g_assert_cmpuint (mnl_attr_get_u16 (addr[MPTCP_PM_ADDR_ATTR_PORT]), ==, 40000);
  g_assert_cmpuint (mnl_attr_get_u32 (addr[MPTCP_PM_ADDR_ATTR_FLAGS]), ==,
                    MPTCP_PM_ADDR_FLAG_BACKUP);
  g_assert_cmpint ((gint32) mnl_attr_get_u32 (addr[MPTCP_PM_ADDR_ATTR_IF_IDX]), ==, 3);

  g_assert_cmpint (mnl_attr_parse_nested (tb[MPTCP_PM_ATTR_ADDR_REMOTE], collect_attr_cb,
                                          remote), ==, MNL_CB_OK);
  g_assert_cmpuint (mnl_attr_get_u16 (remote[MPTCP_PM_ADDR_ATTR_FAMILY]), ==, AF_INET6);
  inet_pton (AF_INET6, "2001:db8::2", &v6);
  g_assert_cmpmem (mnl_attr_get_payload (remote[MPTCP_PM_ADDR_ATTR_ADDR6]), 16, &v6, 16);
  g_assert_cmpuint (mnl_attr_get_u16 (remote[MPTCP_PM_ADDR_ATTR_PORT]), ==, 443);
  g_assert_null (remote[MPTCP_PM_ADDR_ATTR_ID]);
  g_assert_null (remote[MPTCP_PM_ADDR_ATTR_FLAGS]);
  g_assert_null (remote[MPTCP_PM_ADDR_ATTR_IF_IDX]);

  /* every buffer too small by even one byte is refused */
  for (gsize small = 0; small < len; small++)
    g_assert_cmpuint (_mptcp_netlink_build_request (&req, FAKE_FAMILY, 1, buf, small), ==, 0);

  /* a dump with no attributes: only the header */
  memset (&req, 0, sizeof req);
  req.cmd = MPTCP_PM_CMD_GET_ADDR;
  req.dump = TRUE;
  len = _mptcp_netlink_build_request (&req, FAKE_FAMILY, 1, buf, sizeof buf);
  g_assert_cmpuint (len, ==, NLMSG_HDRLEN + GENL_HDRLEN);
  g_assert_cmpuint (nlh->nlmsg_flags, ==, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);

  /* an address nest with an id only (DEL_ADDR): no family attribute */
  memset (&req, 0, sizeof req);
  memset (tb, 0, sizeof tb);
  memset (addr, 0, sizeof addr);
  req.cmd = MPTCP_PM_CMD_DEL_ADDR;
  req.has_addr = TRUE;
  req.addr.has_id = TRUE;
  req.addr.id = 3;
  len = _mptcp_netlink_build_request (&req, FAKE_FAMILY, 1, buf, sizeof buf);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpint (mnl_attr_parse (nlh, sizeof *genl, collect_attr_cb, tb), ==, MNL_CB_OK);
  g_assert_cmpint (mnl_attr_parse_nested (tb[MPTCP_PM_ATTR_ADDR], collect_attr_cb, addr), ==,
                   MNL_CB_OK);
  g_assert_null (addr[MPTCP_PM_ADDR_ATTR_FAMILY]);
  g_assert_cmpuint (mnl_attr_get_u8 (addr[MPTCP_PM_ADDR_ATTR_ID]), ==, 3);
}

static void
test_parse_event_v4 (void)
{
  Msg m;
  MptcpNlEvent ev;
  char ip[INET6_ADDRSTRLEN];
  guint32 expected;

  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_CLOSED, 0x11223344, AF_INET,
             "10.0.1.1", 40001, "10.0.2.2", 443);
  mnl_attr_put_u8 (m.nlh, MPTCP_ATTR_LOC_ID, 2);
  mnl_attr_put_u8 (m.nlh, MPTCP_ATTR_REM_ID, 3);
  mnl_attr_put_u8 (m.nlh, MPTCP_ATTR_BACKUP, 1);
  mnl_attr_put_u8 (m.nlh, MPTCP_ATTR_ERROR, 111);
  mnl_attr_put_u16 (m.nlh, MPTCP_ATTR_FLAGS, MPX_EV_FLAG_SERVER_SIDE);
  mnl_attr_put_u32 (m.nlh, MPTCP_ATTR_TIMEOUT, 120);
  mnl_attr_put_u32 (m.nlh, MPTCP_ATTR_IF_IDX, (guint32) -5);
  mnl_attr_put_u32 (m.nlh, MPX_ATTR_RESET_REASON, 6);
  mnl_attr_put_u32 (m.nlh, MPX_ATTR_RESET_FLAGS, 1);
  mnl_attr_put_u8 (m.nlh, MPX_ATTR_SERVER_SIDE, 1);
  mnl_attr_put_u32 (m.nlh, 30, 0xffff);   /* unknown: ignored */

  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_cmpuint (ev.type, ==, MPTCP_EVENT_SUB_CLOSED);
  g_assert_cmpuint (ev.token, ==, 0x11223344);
  g_assert_cmpint (ev.family, ==, AF_INET);
  g_assert_cmpstr (ntop (AF_INET, &ev.saddr, ip), ==, "10.0.1.1");
  g_assert_cmpstr (ntop (AF_INET, &ev.daddr, ip), ==, "10.0.2.2");
  g_assert_cmpuint (ev.sport, ==, 40001);     /* network order on the wire, host order here */
  g_assert_cmpuint (ev.dport, ==, 443);
  g_assert_cmpuint (ev.loc_id, ==, 2);
  g_assert_cmpuint (ev.rem_id, ==, 3);
  g_assert_cmpuint (ev.backup, ==, 1);
  g_assert_cmpuint (ev.error, ==, 111);
  g_assert_cmpuint (ev.flags, ==, MPX_EV_FLAG_SERVER_SIDE);
  g_assert_cmpuint (ev.timeout, ==, 120);
  g_assert_cmpint (ev.ifindex, ==, -5);
  g_assert_cmpuint (ev.reset_reason, ==, 6);
  g_assert_cmpuint (ev.reset_flags, ==, 1);
  g_assert_cmpuint (ev.server_side, ==, 1);
  expected = 0;
  for (guint a = MPTCP_ATTR_TOKEN; a <= MPX_ATTR_SERVER_SIDE; a++)
    if (a != MPTCP_ATTR_SADDR6 && a != MPTCP_ATTR_DADDR6)
      expected |= 1u << a;
  g_assert_cmphex (ev.present, ==, expected);
  g_assert_cmpuint (ev.type, ==, MPTCP_EVENT_SUB_CLOSED);
}

static void
test_parse_event_v6_and_announced (void)
{
  Msg m;
  MptcpNlEvent ev;
  char ip[INET6_ADDRSTRLEN];
  guint8 *unaligned;

  /* CREATED with v6 and v4-mapped addresses, read from an odd address */
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 7, AF_INET6,
             "::ffff:10.0.0.1", 50000, "2001:db8::1", 80);
  unaligned = g_malloc (m.nlh->nlmsg_len + 1);
  memcpy (unaligned + 1, m.buf, m.nlh->nlmsg_len);
  g_assert_true (_mptcp_netlink_parse_event (unaligned + 1, m.nlh->nlmsg_len, &ev));
  g_free (unaligned);
  g_assert_cmpint (ev.family, ==, AF_INET6);
  g_assert_cmpstr (ntop (AF_INET6, &ev.saddr, ip), ==, "::ffff:10.0.0.1");
  g_assert_cmpstr (ntop (AF_INET6, &ev.daddr, ip), ==, "2001:db8::1");
  g_assert_cmpuint (ev.sport, ==, 50000);
  g_assert_cmpuint (ev.dport, ==, 80);
  {
    /* the event keeps the mapped form; normalising gives AF_INET */
    int family = ev.family;
    MptcpNlInetAddr a = ev.saddr;

    _mptcp_nl_inet_normalize (&family, &a);
    g_assert_cmpint (family, ==, AF_INET);
    g_assert_cmpstr (ntop (AF_INET, &a, ip), ==, "10.0.0.1");
    family = ev.family;
    a = ev.daddr;
    _mptcp_nl_inet_normalize (&family, &a);
    g_assert_cmpint (family, ==, AF_INET6);
  }

  /* ANNOUNCED: token, rem_id, daddr, dport, no family */
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_ANNOUNCED, 9, 0, NULL, 0, "10.0.2.1", 40000);
  mnl_attr_put_u8 (m.nlh, MPTCP_ATTR_REM_ID, 5);
  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_cmpuint (ev.type, ==, MPTCP_EVENT_ANNOUNCED);
  g_assert_false (MPTCP_NL_EVENT_HAS (&ev, MPTCP_ATTR_FAMILY));
  g_assert_cmpint (ev.family, ==, AF_INET);
  g_assert_cmpstr (ntop (AF_INET, &ev.daddr, ip), ==, "10.0.2.1");
  g_assert_cmpuint (ev.dport, ==, 40000);
  g_assert_cmpuint (ev.rem_id, ==, 5);

  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_ANNOUNCED, 9, 0, NULL, 0, "2001:db8::9", 0);
  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_cmpint (ev.family, ==, AF_INET6);
  g_assert_false (MPTCP_NL_EVENT_HAS (&ev, MPTCP_ATTR_DPORT));

  /* REMOVED / CLOSED: no address at all */
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_CLOSED, 9, 0, NULL, 0, NULL, 0);
  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_cmpint (ev.family, ==, 0);
  g_assert_cmphex (ev.present, ==, 1u << MPTCP_ATTR_TOKEN);

  /* LISTENER_CREATED: no token */
  msg_event (&m, FAKE_FAMILY, MPX_EVENT_LISTENER_CREATED, 0, AF_INET, "0.0.0.0", 8080, NULL, 0);
  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_false (MPTCP_NL_EVENT_HAS (&ev, MPTCP_ATTR_TOKEN));
  g_assert_cmpuint (ev.sport, ==, 8080);
  g_assert_cmpuint (ev.type, ==, MPX_EVENT_LISTENER_CREATED);

  /* both kinds of one address (no kernel sends that): the last one counts, in the union and
   * in present alike, so readers that pick the present one read the right bytes */
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 9, AF_INET, "10.0.0.1", 1, NULL, 0);
  {
    struct in6_addr v6;

    inet_pton (AF_INET6, "2001:db8::7", &v6);
    mnl_attr_put (m.nlh, MPTCP_ATTR_SADDR6, sizeof v6, &v6);
  }
  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_true (MPTCP_NL_EVENT_HAS (&ev, MPTCP_ATTR_SADDR6));
  g_assert_false (MPTCP_NL_EVENT_HAS (&ev, MPTCP_ATTR_SADDR4));
  g_assert_cmpstr (ntop (AF_INET6, &ev.saddr, ip), ==, "2001:db8::7");
}

static void
test_parse_event_malformed (void)
{
  Msg m;
  MptcpNlEvent ev;
  guint32 len;
  struct nlattr *attr;

  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 7, AF_INET, "10.0.0.1", 1, "10.0.0.2", 2);
  len = m.nlh->nlmsg_len;

  /* every truncation of the buffer: refused or parsed, never read past the end (valgrind) */
  for (guint32 cut = 0; cut < len; cut++)
    {
      guint8 *copy = g_memdup2 (m.buf, cut);

      g_assert_false (_mptcp_netlink_parse_event (copy, cut, &ev));
      g_free (copy);
    }
  g_assert_false (_mptcp_netlink_parse_event (NULL, 0, &ev));

  /* nlmsg_len shorter than the attributes: malformed */
  m.nlh->nlmsg_len = len - 3;   /* the last attribute (dport, 6 bytes + 2 padding) is cut */
  g_assert_false (_mptcp_netlink_parse_event (m.buf, len, &ev));
  m.nlh->nlmsg_len = len;

  /* an attribute length running past the end */
  attr = (struct nlattr *) (m.buf + NLMSG_HDRLEN + GENL_HDRLEN);
  attr->nla_len = 0xfff0;
  g_assert_false (_mptcp_netlink_parse_event (m.buf, len, &ev));
  attr->nla_len = 2;   /* shorter than a header */
  g_assert_false (_mptcp_netlink_parse_event (m.buf, len, &ev));
  attr->nla_len = 8;

  /* a wrong-sized attribute is ignored, the rest is kept */
  msg_event (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 0, AF_INET, NULL, 0, NULL, 0);
  mnl_attr_put_u16 (m.nlh, MPTCP_ATTR_TOKEN, 5);       /* u32 expected */
  mnl_attr_put_u32 (m.nlh, MPTCP_ATTR_SPORT, 5);       /* u16 expected */
  mnl_attr_put (m.nlh, MPTCP_ATTR_SADDR4, 3, "abc");   /* 4 bytes expected */
  g_assert_true (_mptcp_netlink_parse_event (m.buf, m.nlh->nlmsg_len, &ev));
  g_assert_cmphex (ev.present, ==, 1u << MPTCP_ATTR_FAMILY);
  g_assert_cmpuint (ev.token, ==, 0);
}

static void
test_parse_reply (void)
{
  Msg m;
  g_autoptr(MptcpNlReply) reply = _mptcp_nl_reply_new ();
  MptcpNlAddress *a;
  char ip[INET6_ADDRSTRLEN];
  struct nlattr *nest;

  msg_genl (&m, FAKE_FAMILY, 0, 1, MPTCP_PM_CMD_GET_ADDR);
  put_addr_nest (m.nlh, MPTCP_PM_ATTR_ADDR, AF_INET6, "2001:db8::5", 4, 8080,
                 MPTCP_PM_ADDR_FLAG_SIGNAL);
  g_assert_true (_mptcp_netlink_parse_reply_message (m.buf, m.nlh->nlmsg_len, reply));
  g_assert_cmpuint (reply->addresses->len, ==, 1);
  a = &g_array_index (reply->addresses, MptcpNlAddress, 0);
  g_assert_cmpint (a->family, ==, AF_INET6);
  g_assert_cmpstr (ntop (AF_INET6, &a->addr, ip), ==, "2001:db8::5");
  g_assert_true (a->has_id);
  g_assert_cmpuint (a->id, ==, 4);
  g_assert_cmpuint (a->port, ==, 8080);
  g_assert_true (a->has_flags);
  g_assert_cmpuint (a->flags, ==, MPTCP_PM_ADDR_FLAG_SIGNAL);
  g_assert_cmpint (a->ifindex, ==, 0);
  g_assert_false (reply->has_limits);

  msg_genl (&m, FAKE_FAMILY, 0, 1, MPTCP_PM_CMD_GET_LIMITS);
  mnl_attr_put_u32 (m.nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, 3);
  mnl_attr_put_u32 (m.nlh, MPTCP_PM_ATTR_SUBFLOWS, 6);
  g_assert_true (_mptcp_netlink_parse_reply_message (m.buf, m.nlh->nlmsg_len, reply));
  g_assert_true (reply->has_limits);
  g_assert_cmpuint (reply->subflows, ==, 6);
  g_assert_cmpuint (reply->rcv_add_addrs, ==, 3);

  /* an address nest with a broken inner attribute: malformed */
  msg_genl (&m, FAKE_FAMILY, 0, 1, MPTCP_PM_CMD_GET_ADDR);
  nest = mnl_attr_nest_start (m.nlh, MPTCP_PM_ATTR_ADDR);
  mnl_attr_put_u16 (m.nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
  mnl_attr_nest_end (m.nlh, nest);
  ((struct nlattr *) ((guint8 *) nest + NLA_HDRLEN))->nla_len = 40;
  g_assert_false (_mptcp_netlink_parse_reply_message (m.buf, m.nlh->nlmsg_len, reply));
  g_assert_false (_mptcp_netlink_parse_reply_message (m.buf, 10, reply));
}

static void
test_parse_ack (void)
{
  guint8 req_buf[256] __attribute__ ((aligned (8)));
  MptcpNlRequest req = { .cmd = MPTCP_PM_CMD_REMOVE, .has_token = TRUE, .token = 1,
                         .has_loc_id = TRUE, .loc_id = 4 };
  const struct nlmsghdr *request = (const struct nlmsghdr *) req_buf;
  MptcpNlAck ack;
  Msg m;

  g_assert_cmpuint (_mptcp_netlink_build_request (&req, FAKE_FAMILY, 77, req_buf,
                                                  sizeof req_buf), >, 0);

  /* capped error with text and offset */
  msg_ack (&m, request, -EINVAL, TRUE, "address with id 4 not found", 0);
  g_assert_true (_mptcp_netlink_parse_ack (m.buf, m.nlh->nlmsg_len, &ack));
  g_assert_cmpint (ack.error, ==, EINVAL);
  g_assert_cmpstr (ack.message, ==, "address with id 4 not found");
  g_assert_true (ack.has_offset);
  g_assert_cmpuint (ack.offset, ==, 20);
  g_assert_cmpuint (ack.miss_type, ==, 0);
  _mptcp_nl_ack_clear (&ack);

  /* not capped: the whole request sits between the code and the TLVs */
  msg_ack (&m, request, -EINVAL, FALSE, NULL, MPTCP_PM_ATTR_TOKEN);
  g_assert_true (_mptcp_netlink_parse_ack (m.buf, m.nlh->nlmsg_len, &ack));
  g_assert_cmpint (ack.error, ==, EINVAL);
  g_assert_null (ack.message);
  g_assert_cmpuint (ack.miss_type, ==, MPTCP_PM_ATTR_TOKEN);
  _mptcp_nl_ack_clear (&ack);

  /* success */
  msg_ack (&m, request, 0, TRUE, NULL, 0);
  g_assert_true (_mptcp_netlink_parse_ack (m.buf, m.nlh->nlmsg_len, &ack));
  g_assert_cmpint (ack.error, ==, 0);
  _mptcp_nl_ack_clear (&ack);

  /* NLMSG_DONE with an error and a text */
  msg_done (&m, 77, -EOPNOTSUPP, "dump not supported");
  g_assert_true (_mptcp_netlink_parse_ack (m.buf, m.nlh->nlmsg_len, &ack));
  g_assert_cmpint (ack.error, ==, EOPNOTSUPP);
  g_assert_cmpstr (ack.message, ==, "dump not supported");
  _mptcp_nl_ack_clear (&ack);

  /* truncated error: refused; a family message is not an ack */
  msg_ack (&m, request, -EINVAL, TRUE, NULL, 0);
  m.nlh->nlmsg_len = NLMSG_HDRLEN + 8;
  g_assert_false (_mptcp_netlink_parse_ack (m.buf, m.nlh->nlmsg_len, &ack));
  msg_genl (&m, FAKE_FAMILY, 0, 1, 1);
  g_assert_false (_mptcp_netlink_parse_ack (m.buf, m.nlh->nlmsg_len, &ack));
  g_assert_false (_mptcp_netlink_parse_ack (m.buf, 3, &ack));
}

static void
assert_error_maps (int err, const char *text, guint32 miss, GQuark domain, int code,
                   const char *must_contain)
{
  g_autoptr(GError) error = _mptcp_netlink_error_new (err, MPTCP_PM_CMD_SUBFLOW_CREATE,
                                                      text, miss);

  if (g_test_verbose ())
    g_test_message ("%d \"%s\" → %s", err, text ? text : "", error->message);
  g_assert_error (error, domain, code);
  if (text != NULL)
    g_assert_nonnull (strstr (error->message, text));   /* the kernel's words, always */
  if (must_contain != NULL)
    g_assert_nonnull (strstr (error->message, must_contain));
}

static void
test_error_mapping (void)
{
  assert_error_maps (EPERM, NULL, 0, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                     "CAP_NET_ADMIN in the network namespace's user namespace");
  assert_error_maps (EINVAL, "userspace PM not selected", 0, MPTCP_ERROR,
                     MPTCP_ERROR_WRONG_PATH_MANAGER, "net.mptcp.path_manager=userspace");
  assert_error_maps (EINVAL, "userspace PM not selected", 0, MPTCP_ERROR,
                     MPTCP_ERROR_WRONG_PATH_MANAGER, "net.mptcp.pm_type=1");
  assert_error_maps (EINVAL, "invalid token", 0, MPTCP_ERROR, MPTCP_ERROR_CLOSED, NULL);
  assert_error_maps (ESRCH, "subflow not found", 0, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                     NULL);
  assert_error_maps (EINVAL, "subflow not found", 0, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                     NULL);
  assert_error_maps (ESRCH, NULL, 0, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW, NULL);
  assert_error_maps (EINVAL, "address not found", 0, MPTCP_ERROR,
                     MPTCP_ERROR_NO_SUCH_ENDPOINT, NULL);
  assert_error_maps (EINVAL, "address with id 7 not found", 0, MPTCP_ERROR,
                     MPTCP_ERROR_NO_SUCH_ENDPOINT, NULL);
  /* REMOVE of an unknown id on 6.1 and 6.12 */
  assert_error_maps (EINVAL, "address with specified id not found", 0, MPTCP_ERROR,
                     MPTCP_ERROR_NO_SUCH_ENDPOINT, NULL);
  /* a kernel without the userspace path manager's commands (5.10: genetlink's EOPNOTSUPP) */
  assert_error_maps (EOPNOTSUPP, NULL, 0, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                     "needs Linux 5.19 or later");
  assert_error_maps (EEXIST, "too many addresses or duplicate one: -17", 0, MPTCP_ERROR,
                     MPTCP_ERROR_ENDPOINT_EXISTS, NULL);
  assert_error_maps (EBUSY, NULL, 0, MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS, NULL);
  assert_error_maps (ERANGE, "too many addresses or duplicate one: -34", 0, MPTCP_ERROR,
                     MPTCP_ERROR_OUT_OF_RANGE, NULL);
  assert_error_maps (EINVAL, "limit greater than maximum (8)", 0, MPTCP_ERROR,
                     MPTCP_ERROR_OUT_OF_RANGE, NULL);
  assert_error_maps (EINVAL, "families mismatch", 0, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                     NULL);
  assert_error_maps (EINVAL, "address families do not match", 0, MPTCP_ERROR,
                     MPTCP_ERROR_INVALID_ADDRESS, NULL);
  assert_error_maps (EINVAL, "missing address data", 0, MPTCP_ERROR,
                     MPTCP_ERROR_INVALID_ADDRESS, NULL);
  assert_error_maps (EINVAL, "unknown address family", 0, MPTCP_ERROR,
                     MPTCP_ERROR_INVALID_ADDRESS, NULL);
  assert_error_maps (EADDRNOTAVAIL, "connect error: -99", 0, MPTCP_ERROR,
                     MPTCP_ERROR_INVALID_ADDRESS, NULL);
  assert_error_maps (ENOTCONN, "connect error: -107", 0, MPTCP_ERROR,
                     MPTCP_ERROR_NOT_ESTABLISHED, NULL);
  assert_error_maps (ENETUNREACH, "connect error: -101", 0, G_IO_ERROR,
                     G_IO_ERROR_NETWORK_UNREACHABLE, NULL);
  assert_error_maps (EHOSTUNREACH, NULL, 0, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, NULL);
  assert_error_maps (EADDRINUSE, "connect error: -98", 0, G_IO_ERROR,
                     G_IO_ERROR_ADDRESS_IN_USE, NULL);
  assert_error_maps (ENODEV, "connect error: -19", 0, G_IO_ERROR,
                     g_io_error_from_errno (ENODEV), NULL);
  assert_error_maps (ECONNREFUSED, NULL, 0, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, NULL);
  assert_error_maps (ETIMEDOUT, NULL, 0, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, NULL);
  assert_error_maps (EINVAL, NULL, MPTCP_PM_ATTR_TOKEN, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED,
                     "missing attribute token");
  assert_error_maps (EINVAL, NULL, MPTCP_PM_ATTR_ADDR_REMOTE, MPTCP_ERROR,
                     MPTCP_ERROR_KERNEL_REFUSED, "missing attribute addr-remote");
  assert_error_maps (EINVAL, "did not match address and id", 0, MPTCP_ERROR,
                     MPTCP_ERROR_KERNEL_REFUSED, "kernel refused SUBFLOW_CREATE: did not match");
  assert_error_maps (EINVAL, "did not match address and id", 0, MPTCP_ERROR,
                     MPTCP_ERROR_KERNEL_REFUSED, "Invalid argument");
  /* an errno without a meaning of its own (EOPNOTSUPP has one, above) */
  assert_error_maps (EMSGSIZE, NULL, 0, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED,
                     "kernel refused");
  /* negative errno as the kernel writes it is accepted too */
  assert_error_maps (-EPERM, NULL, 0, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED, NULL);
}

static void
test_sender_check (void)
{
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = 0 };

  g_assert_true (_mptcp_netlink_sender_is_kernel (&sa));
  sa.nl_pid = 1234;
  g_assert_false (_mptcp_netlink_sender_is_kernel (&sa));
  sa.nl_pid = 0;
  sa.nl_family = AF_UNIX;
  g_assert_false (_mptcp_netlink_sender_is_kernel (&sa));
  g_assert_false (_mptcp_netlink_sender_is_kernel (NULL));
}

static void
test_normalize (void)
{
  MptcpNlAddress a = { .family = AF_INET6, .port = 5 };
  char ip[INET6_ADDRSTRLEN];

  inet_pton (AF_INET6, "::ffff:192.0.2.7", &a.addr.v6);
  _mptcp_nl_address_normalize (&a);
  g_assert_cmpint (a.family, ==, AF_INET);
  g_assert_cmpstr (ntop (AF_INET, &a.addr, ip), ==, "192.0.2.7");
  g_assert_cmpuint (a.port, ==, 5);
  _mptcp_nl_address_normalize (&a);   /* idempotent */
  g_assert_cmpint (a.family, ==, AF_INET);

  a.family = AF_INET6;
  inet_pton (AF_INET6, "2001:db8::ffff:1", &a.addr.v6);
  _mptcp_nl_address_normalize (&a);
  g_assert_cmpint (a.family, ==, AF_INET6);
  g_assert_cmpstr (ntop (AF_INET6, &a.addr, ip), ==, "2001:db8::ffff:1");
  g_assert_cmpstr (_mptcp_nl_cmd_name (MPTCP_PM_CMD_SUBFLOW_DESTROY), ==, "SUBFLOW_DESTROY");
  g_assert_null (_mptcp_nl_cmd_name (200));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/netlink/pure/build-request", test_build_request);
  g_test_add_func ("/netlink/pure/parse-event-v4", test_parse_event_v4);
  g_test_add_func ("/netlink/pure/parse-event-v6-announced", test_parse_event_v6_and_announced);
  g_test_add_func ("/netlink/pure/parse-event-malformed", test_parse_event_malformed);
  g_test_add_func ("/netlink/pure/parse-reply", test_parse_reply);
  g_test_add_func ("/netlink/pure/parse-ack", test_parse_ack);
  g_test_add_func ("/netlink/pure/error-mapping", test_error_mapping);
  g_test_add_func ("/netlink/pure/sender-check", test_sender_check);
  g_test_add_func ("/netlink/pure/normalize", test_normalize);

  return g_test_run ();
}
