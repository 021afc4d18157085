/* mptcp-netlink.c: the netlink broker (generic netlink family "mptcp_pm")
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How it works:
 *
 * - One request socket per broker (one broker per GMainContext), connected to the kernel, with
 *   NETLINK_EXT_ACK and NETLINK_CAP_ACK. Every request asks for an ack; its nlmsg_seq keys a
 *   Pending entry (GTask, deadline, cancellable handler). Replies are read by a unix fd
 *   source attached to the broker's context; a reply whose seq has no entry (timed out,
 *   cancelled) is dropped. At most MAX_IN_FLIGHT requests are sent at once, so that acks can
 *   never overflow the socket's receive buffer; later ones wait in a queue.
 * - One event socket, opened by the first subscription and closed with the last one, joins the
 *   "mptcp_pm_events" group. Events are parsed into MptcpNlEvent and handed to the subscribers of
 *   their token (hash table) and to the "all" subscribers.
 * - Anything read from a netlink socket whose sender is not the kernel (nl_pid != 0) is dropped.
 * - Parsing never trusts the input: messages and attributes are copied out with memcpy, every
 *   length is checked (the fuzz target runs these functions).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>
#include <glib-unix.h>

#include "mptcp-error.h"
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-sync-private.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* extended-ack attributes (enum values in the uapi headers, so no #ifndef possible) */
#define MPX_NLMSGERR_ATTR_MSG       1
#define MPX_NLMSGERR_ATTR_OFFS      2
#define MPX_NLMSGERR_ATTR_MISS_TYPE 5
#define MPX_NLMSGERR_ATTR_MISS_NEST 6

#define DEFAULT_TIMEOUT_MS   5000
#define MAX_IN_FLIGHT        64
/* The kernel runs one dump per netlink socket at a time (a second one fails with EBUSY) and a
 * dump's replies are large: one dump in flight per broker, the others wait in order. */
#define MAX_DUMPS_IN_FLIGHT  1
/* A read-only request whose reply was lost (receive buffer overrun, ENOBUFS or EBUSY from the
 * kernel) is sent again, this many times at most. */
#define MAX_RESENDS          16
/* The request socket's receive buffer: replies of a full window fit */
#define REQUEST_RCVBUF       (1024 * 1024)
/* The event socket's receive buffer, as `ip mptcp monitor` asks */
#define EVENT_RCVBUF         (1024 * 1024)
/* Larger than any datagram the kernel builds for us: dumps are capped at 32 KiB, single
 * messages at NLMSG_GOODSIZE. */
#define RECV_BUF_SIZE        65536
/* Datagrams read per dispatch, so that an event storm cannot starve the context. */
#define MAX_READS_PER_DISPATCH 128
#define REQUEST_BUF_SIZE     512

/* Not NLMSG_ALIGN: it masks with an unsigned int, which clears the high half of a gsize. */
#define ALIGN4(len) (((gsize) (len) + 3) & ~(gsize) 3)

/* ---- small helpers ------------------------------------------------------------------------- */

typedef struct
{
  const guint8 *pos;
  const guint8 *end;
  gboolean      bad;
} AttrIter;

static void
attr_iter_init (AttrIter     *it,
                const guint8 *start,
                gsize         len)
{
  it->pos = start;
  it->end = start + len;
  it->bad = FALSE;
}

/* Next attribute; FALSE at the end (it->bad tells a malformed one). */
static gboolean
attr_iter_next (AttrIter      *it,
                guint16       *type,
                const guint8 **data,
                gsize         *len)
{
  struct nlattr nla;
  gsize left, step;

  if (it->pos >= it->end)
    return FALSE;
  left = (gsize) (it->end - it->pos);
  if (left < NLA_HDRLEN)
    {
      it->bad = TRUE;
      return FALSE;
    }
  memcpy (&nla, it->pos, sizeof nla);
  if (nla.nla_len < NLA_HDRLEN || nla.nla_len > left)
    {
      it->bad = TRUE;
      return FALSE;
    }
  *type = nla.nla_type & NLA_TYPE_MASK;
  *data = it->pos + NLA_HDRLEN;
  *len = nla.nla_len - NLA_HDRLEN;
  step = ALIGN4 (nla.nla_len);
  it->pos = step >= left ? it->end : it->pos + step;
  return TRUE;
}

static gboolean
read_u8 (const guint8 *data, gsize len, guint8 *out)
{
  if (len != sizeof *out)
    return FALSE;
  *out = data[0];
  return TRUE;
}

static gboolean
read_u16 (const guint8 *data, gsize len, guint16 *out)
{
  if (len != sizeof *out)
    return FALSE;
  memcpy (out, data, sizeof *out);
  return TRUE;
}

static gboolean
read_u32 (const guint8 *data, gsize len, guint32 *out)
{
  if (len != sizeof *out)
    return FALSE;
  memcpy (out, data, sizeof *out);
  return TRUE;
}

/* Copies the header of the message at buf and checks that the message fits in len. */
static gboolean
read_msg_header (const guint8     *buf,
                 gsize             len,
                 struct nlmsghdr  *nlh)
{
  if (len < NLMSG_HDRLEN)
    return FALSE;
  memcpy (nlh, buf, sizeof *nlh);
  return nlh->nlmsg_len >= NLMSG_HDRLEN && nlh->nlmsg_len <= len;
}

static int
errno_from_kernel (gint32 value)
{
  if (value == G_MININT32)
    return EIO;
  return value < 0 ? -value : value;
}

static const char * const cmd_names[] = {
  [MPTCP_PM_CMD_ADD_ADDR] = "ADD_ADDR",
  [MPTCP_PM_CMD_DEL_ADDR] = "DEL_ADDR",
  [MPTCP_PM_CMD_GET_ADDR] = "GET_ADDR",
  [MPTCP_PM_CMD_FLUSH_ADDRS] = "FLUSH_ADDRS",
  [MPTCP_PM_CMD_SET_LIMITS] = "SET_LIMITS",
  [MPTCP_PM_CMD_GET_LIMITS] = "GET_LIMITS",
  [MPTCP_PM_CMD_SET_FLAGS] = "SET_FLAGS",
  [MPTCP_PM_CMD_ANNOUNCE] = "ANNOUNCE",
  [MPTCP_PM_CMD_REMOVE] = "REMOVE",
  [MPTCP_PM_CMD_SUBFLOW_CREATE] = "SUBFLOW_CREATE",
  [MPTCP_PM_CMD_SUBFLOW_DESTROY] = "SUBFLOW_DESTROY",
};

const char *
_mptcp_nl_cmd_name (guint8 cmd)
{
  return cmd < G_N_ELEMENTS (cmd_names) ? cmd_names[cmd] : NULL;
}

/* The top-level attributes of the mptcp_pm commands, by number. */
static const char *
pm_attr_name (guint32 type)
{
  switch (type)
    {
    case MPTCP_PM_ATTR_ADDR: return "addr";
    case MPTCP_PM_ATTR_RCV_ADD_ADDRS: return "rcv-add-addrs";
    case MPTCP_PM_ATTR_SUBFLOWS: return "subflows";
    case MPTCP_PM_ATTR_TOKEN: return "token";
    case MPTCP_PM_ATTR_LOC_ID: return "loc-id";
    case MPTCP_PM_ATTR_ADDR_REMOTE: return "addr-remote";
    default: return "unknown";
    }
}

/* ---- plain structs ------------------------------------------------------------------------- */

MptcpNlReply *
_mptcp_nl_reply_new (void)
{
  MptcpNlReply *reply = g_new0 (MptcpNlReply, 1);

  reply->addresses = g_array_new (FALSE, TRUE, sizeof (MptcpNlAddress));
  return reply;
}

void
_mptcp_nl_reply_free (MptcpNlReply *reply)
{
  if (reply == NULL)
    return;
  g_array_unref (reply->addresses);
  g_free (reply);
}

void
_mptcp_nl_ack_clear (MptcpNlAck *ack)
{
  g_clear_pointer (&ack->message, g_free);
}

void
_mptcp_nl_inet_normalize (int             *family,
                          MptcpNlInetAddr *addr)
{
  struct in_addr v4;

  if (*family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED (&addr->v6))
    return;
  memcpy (&v4, &addr->v6.s6_addr[12], sizeof v4);
  memset (addr, 0, sizeof *addr);
  addr->v4 = v4;
  *family = AF_INET;
}

void
_mptcp_nl_address_normalize (MptcpNlAddress *address)
{
  _mptcp_nl_inet_normalize (&address->family, &address->addr);
}

gboolean
_mptcp_netlink_sender_is_kernel (const struct sockaddr_nl *sender)
{
  return sender != NULL && sender->nl_family == AF_NETLINK && sender->nl_pid == 0;
}

/* ---- building requests --------------------------------------------------------------------- */

static gboolean
put_address (struct nlmsghdr      *nlh,
             gsize                 buf_len,
             guint16               type,
             const MptcpNlAddress *address)
{
  struct nlattr *nest;

  nest = mnl_attr_nest_start_check (nlh, buf_len, type);
  if (nest == NULL)
    return FALSE;
  if (address->family != 0
      && !mnl_attr_put_u16_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_FAMILY, address->family))
    return FALSE;
  if (address->has_id
      && !mnl_attr_put_u8_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_ID, address->id))
    return FALSE;
  if (address->family == AF_INET
      && !mnl_attr_put_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_ADDR4,
                              sizeof address->addr.v4, &address->addr.v4))
    return FALSE;
  if (address->family == AF_INET6
      && !mnl_attr_put_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_ADDR6,
                              sizeof address->addr.v6, &address->addr.v6))
    return FALSE;
  /* host order, unlike the ports of events */
  if (address->port != 0
      && !mnl_attr_put_u16_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_PORT, address->port))
    return FALSE;
  if (address->has_flags
      && !mnl_attr_put_u32_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_FLAGS, address->flags))
    return FALSE;
  if (address->ifindex != 0
      && !mnl_attr_put_u32_check (nlh, buf_len, MPTCP_PM_ADDR_ATTR_IF_IDX,
                                  (guint32) address->ifindex))
    return FALSE;
  mnl_attr_nest_end (nlh, nest);
  return TRUE;
}

gsize
_mptcp_netlink_build_request (const MptcpNlRequest *request,
                              guint16               family_id,
                              guint32               seq,
                              guint8               *buf,
                              gsize                 buf_len)
{
  struct nlmsghdr *nlh;
  struct genlmsghdr *genl;

  g_return_val_if_fail (request != NULL, 0);
  g_return_val_if_fail (buf != NULL || buf_len == 0, 0);

  if (buf_len < NLMSG_HDRLEN + GENL_HDRLEN || buf_len > G_MAXUINT32)
    return 0;

  /* libmnl leaves the attributes' alignment padding as it finds it */
  memset (buf, 0, MIN (buf_len, (gsize) REQUEST_BUF_SIZE));
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = family_id;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (request->dump ? NLM_F_DUMP : 0);
  nlh->nlmsg_seq = seq;
  nlh->nlmsg_pid = 0;
  genl = mnl_nlmsg_put_extra_header (nlh, sizeof *genl);
  genl->cmd = request->cmd;
  genl->version = MPTCP_PM_VER;

  if (request->has_token
      && !mnl_attr_put_u32_check (nlh, buf_len, MPTCP_PM_ATTR_TOKEN, request->token))
    return 0;
  if (request->has_loc_id
      && !mnl_attr_put_u8_check (nlh, buf_len, MPTCP_PM_ATTR_LOC_ID, request->loc_id))
    return 0;
  if (request->has_addr
      && !put_address (nlh, buf_len, MPTCP_PM_ATTR_ADDR, &request->addr))
    return 0;
  if (request->has_remote
      && !put_address (nlh, buf_len, MPTCP_PM_ATTR_ADDR_REMOTE, &request->remote))
    return 0;
  if (request->has_subflows
      && !mnl_attr_put_u32_check (nlh, buf_len, MPTCP_PM_ATTR_SUBFLOWS, request->subflows))
    return 0;
  if (request->has_rcv_add_addrs
      && !mnl_attr_put_u32_check (nlh, buf_len, MPTCP_PM_ATTR_RCV_ADD_ADDRS,
                                  request->rcv_add_addrs))
    return 0;

  return nlh->nlmsg_len;
}

/* ---- parsing ------------------------------------------------------------------------------- */

static gboolean
parse_address (const guint8   *data,
               gsize           len,
               MptcpNlAddress *address)
{
  AttrIter it;
  guint16 type;
  const guint8 *value;
  gsize value_len;
  guint16 u16;
  guint32 u32;
  gboolean has_v4 = FALSE, has_v6 = FALSE;

  memset (address, 0, sizeof *address);
  attr_iter_init (&it, data, len);
  while (attr_iter_next (&it, &type, &value, &value_len))
    {
      switch (type)
        {
        case MPTCP_PM_ADDR_ATTR_FAMILY:
          if (read_u16 (value, value_len, &u16))
            address->family = u16;
          break;
        case MPTCP_PM_ADDR_ATTR_ID:
          if (read_u8 (value, value_len, &address->id))
            address->has_id = TRUE;
          break;
        case MPTCP_PM_ADDR_ATTR_ADDR4:
          if (value_len == sizeof (struct in_addr) && !has_v6)
            {
              memcpy (&address->addr.v4, value, value_len);
              has_v4 = TRUE;
            }
          break;
        case MPTCP_PM_ADDR_ATTR_ADDR6:
          if (value_len == sizeof (struct in6_addr) && !has_v4)
            {
              memcpy (&address->addr.v6, value, value_len);
              has_v6 = TRUE;
            }
          break;
        case MPTCP_PM_ADDR_ATTR_PORT:
          read_u16 (value, value_len, &address->port);
          break;
        case MPTCP_PM_ADDR_ATTR_FLAGS:
          if (read_u32 (value, value_len, &address->flags))
            address->has_flags = TRUE;
          break;
        case MPTCP_PM_ADDR_ATTR_IF_IDX:
          if (read_u32 (value, value_len, &u32))
            address->ifindex = (gint32) u32;
          break;
        default:
          break;
        }
    }
  if (it.bad)
    return FALSE;
  if (address->family == 0)
    address->family = has_v4 ? AF_INET : has_v6 ? AF_INET6 : 0;
  return TRUE;
}

gboolean
_mptcp_netlink_parse_reply_message (const guint8 *buf,
                                    gsize         len,
                                    MptcpNlReply *reply)
{
  struct nlmsghdr nlh;
  AttrIter it;
  guint16 type;
  const guint8 *value;
  gsize value_len;
  guint32 u32;

  g_return_val_if_fail (reply != NULL, FALSE);

  if (buf == NULL || !read_msg_header (buf, len, &nlh)
      || nlh.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
    return FALSE;

  attr_iter_init (&it, buf + NLMSG_HDRLEN + GENL_HDRLEN,
                  nlh.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
  while (attr_iter_next (&it, &type, &value, &value_len))
    {
      switch (type)
        {
        case MPTCP_PM_ATTR_ADDR:
          {
            MptcpNlAddress address;

            if (!parse_address (value, value_len, &address))
              return FALSE;
            g_array_append_val (reply->addresses, address);
          }
          break;
        case MPTCP_PM_ATTR_SUBFLOWS:
          if (read_u32 (value, value_len, &u32))
            {
              reply->subflows = u32;
              reply->has_limits = TRUE;
            }
          break;
        case MPTCP_PM_ATTR_RCV_ADD_ADDRS:
          if (read_u32 (value, value_len, &u32))
            {
              reply->rcv_add_addrs = u32;
              reply->has_limits = TRUE;
            }
          break;
        default:
          break;
        }
    }
  return !it.bad;
}

gboolean
_mptcp_netlink_parse_ack (const guint8 *buf,
                          gsize         len,
                          MptcpNlAck   *ack)
{
  struct nlmsghdr nlh;
  gsize payload_len, tlv_offset;
  gint32 value;
  AttrIter it;
  guint16 type;
  const guint8 *data;
  gsize data_len;

  g_return_val_if_fail (ack != NULL, FALSE);
  memset (ack, 0, sizeof *ack);

  if (buf == NULL || !read_msg_header (buf, len, &nlh))
    return FALSE;
  payload_len = nlh.nlmsg_len - NLMSG_HDRLEN;

  if (nlh.nlmsg_type == NLMSG_ERROR)
    {
      struct nlmsghdr orig;

      if (payload_len < sizeof (struct nlmsgerr))
        return FALSE;
      memcpy (&value, buf + NLMSG_HDRLEN, sizeof value);
      memcpy (&orig, buf + NLMSG_HDRLEN + sizeof value, sizeof orig);
      /* The request comes back whole after the error code unless it was capped (always for a
       * success; for errors with NETLINK_CAP_ACK), then only its header does. */
      if ((nlh.nlmsg_flags & NLM_F_CAPPED) || value == 0)
        tlv_offset = sizeof (struct nlmsgerr);
      else
        tlv_offset = sizeof value + MAX (orig.nlmsg_len, (guint32) NLMSG_HDRLEN);
      tlv_offset = ALIGN4 (tlv_offset);
    }
  else if (nlh.nlmsg_type == NLMSG_DONE)
    {
      /* very old kernels sent an empty NLMSG_DONE */
      value = 0;
      if (payload_len >= sizeof value)
        memcpy (&value, buf + NLMSG_HDRLEN, sizeof value);
      tlv_offset = sizeof value;
    }
  else
    return FALSE;

  ack->error = errno_from_kernel (value);

  if ((nlh.nlmsg_flags & NLM_F_ACK_TLVS) == 0 || tlv_offset >= payload_len)
    return TRUE;

  attr_iter_init (&it, buf + NLMSG_HDRLEN + tlv_offset, payload_len - tlv_offset);
  while (attr_iter_next (&it, &type, &data, &data_len))
    {
      switch (type)
        {
        case MPX_NLMSGERR_ATTR_MSG:
          if (ack->message == NULL && data_len > 0)
            {
              char *text = g_strndup ((const char *) data, data_len);

              /* keep it printable: the text ends up in GError messages */
              if (!g_utf8_validate (text, -1, NULL))
                {
                  char *valid = g_utf8_make_valid (text, -1);

                  g_free (text);
                  text = valid;
                }
              g_strstrip (text);
              if (*text != '\0')
                ack->message = text;
              else
                g_free (text);
            }
          break;
        case MPX_NLMSGERR_ATTR_OFFS:
          if (read_u32 (data, data_len, &ack->offset))
            ack->has_offset = TRUE;
          break;
        case MPX_NLMSGERR_ATTR_MISS_TYPE:
          read_u32 (data, data_len, &ack->miss_type);
          break;
        case MPX_NLMSGERR_ATTR_MISS_NEST:
          read_u32 (data, data_len, &ack->miss_nest);
          break;
        default:
          break;
        }
    }
  /* a broken TLV area does not make the error code itself doubtful */
  return TRUE;
}

gboolean
_mptcp_netlink_parse_event (const guint8 *buf,
                            gsize         len,
                            MptcpNlEvent *event)
{
  struct nlmsghdr nlh;
  struct genlmsghdr genl;
  AttrIter it;
  guint16 type;
  const guint8 *value;
  gsize value_len;
  gboolean v4 = FALSE, v6 = FALSE;
  guint16 u16;
  guint32 u32;

  g_return_val_if_fail (event != NULL, FALSE);
  memset (event, 0, sizeof *event);

  if (buf == NULL || !read_msg_header (buf, len, &nlh)
      || nlh.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
    return FALSE;
  memcpy (&genl, buf + NLMSG_HDRLEN, sizeof genl);
  event->type = genl.cmd;

  attr_iter_init (&it, buf + NLMSG_HDRLEN + GENL_HDRLEN,
                  nlh.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
  while (attr_iter_next (&it, &type, &value, &value_len))
    {
      gboolean ok = FALSE;

      switch (type)
        {
        case MPTCP_ATTR_TOKEN:
          ok = read_u32 (value, value_len, &event->token);
          break;
        case MPTCP_ATTR_FAMILY:
          ok = read_u16 (value, value_len, &u16);
          if (ok)
            event->family = u16;
          break;
        case MPTCP_ATTR_LOC_ID:
          ok = read_u8 (value, value_len, &event->loc_id);
          break;
        case MPTCP_ATTR_REM_ID:
          ok = read_u8 (value, value_len, &event->rem_id);
          break;
        case MPTCP_ATTR_SADDR4:
          ok = value_len == sizeof (struct in_addr);
          if (ok)
            memcpy (&event->saddr.v4, value, value_len);
          break;
        case MPTCP_ATTR_SADDR6:
          ok = value_len == sizeof (struct in6_addr);
          if (ok)
            memcpy (&event->saddr.v6, value, value_len);
          break;
        case MPTCP_ATTR_DADDR4:
          ok = value_len == sizeof (struct in_addr);
          if (ok)
            memcpy (&event->daddr.v4, value, value_len);
          break;
        case MPTCP_ATTR_DADDR6:
          ok = value_len == sizeof (struct in6_addr);
          if (ok)
            memcpy (&event->daddr.v6, value, value_len);
          break;
        case MPTCP_ATTR_SPORT:
          ok = read_u16 (value, value_len, &u16);
          if (ok)
            event->sport = g_ntohs (u16);
          break;
        case MPTCP_ATTR_DPORT:
          ok = read_u16 (value, value_len, &u16);
          if (ok)
            event->dport = g_ntohs (u16);
          break;
        case MPTCP_ATTR_BACKUP:
          ok = read_u8 (value, value_len, &event->backup);
          break;
        case MPTCP_ATTR_ERROR:
          ok = read_u8 (value, value_len, &event->error);
          break;
        case MPTCP_ATTR_FLAGS:
          ok = read_u16 (value, value_len, &event->flags);
          break;
        case MPTCP_ATTR_TIMEOUT:
          ok = read_u32 (value, value_len, &event->timeout);
          break;
        case MPTCP_ATTR_IF_IDX:
          ok = read_u32 (value, value_len, &u32);
          if (ok)
            event->ifindex = (gint32) u32;
          break;
        case MPX_ATTR_RESET_REASON:
          ok = read_u32 (value, value_len, &event->reset_reason);
          break;
        case MPX_ATTR_RESET_FLAGS:
          ok = read_u32 (value, value_len, &event->reset_flags);
          break;
        case MPX_ATTR_SERVER_SIDE:
          ok = read_u8 (value, value_len, &event->server_side);
          break;
        default:
          break;
        }
      if (ok && type < 32)
        event->present |= 1u << type;
      /* the kernel never sends both kinds of one address; if a message did, the union holds
       * the last one, and so does present */
      if (ok && type == MPTCP_ATTR_SADDR4)
        event->present &= ~(1u << MPTCP_ATTR_SADDR6);
      else if (ok && type == MPTCP_ATTR_SADDR6)
        event->present &= ~(1u << MPTCP_ATTR_SADDR4);
      else if (ok && type == MPTCP_ATTR_DADDR4)
        event->present &= ~(1u << MPTCP_ATTR_DADDR6);
      else if (ok && type == MPTCP_ATTR_DADDR6)
        event->present &= ~(1u << MPTCP_ATTR_DADDR4);
    }
  if (it.bad)
    return FALSE;

  /* Without a family attribute (ANNOUNCED has none) the address attributes tell it. */
  v4 = (event->present & ((1u << MPTCP_ATTR_SADDR4) | (1u << MPTCP_ATTR_DADDR4))) != 0;
  v6 = (event->present & ((1u << MPTCP_ATTR_SADDR6) | (1u << MPTCP_ATTR_DADDR6))) != 0;
  if (!MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_FAMILY))
    event->family = v4 ? AF_INET : v6 ? AF_INET6 : 0;
  return TRUE;
}

/* ---- errors -------------------------------------------------------------------------------- */

static const char *
cmd_label (guint8 cmd, char *buf, gsize size)
{
  const char *name = _mptcp_nl_cmd_name (cmd);

  if (name != NULL)
    return name;
  g_snprintf (buf, size, "command %u", cmd);
  return buf;
}

GError *
_mptcp_netlink_error_new (int         err,
                          guint8      cmd,
                          const char *extack_msg,
                          guint32     miss_type)
{
  char label_buf[32];
  const char *label = cmd_label (cmd, label_buf, sizeof label_buf);
  const char *text = extack_msg != NULL && *extack_msg != '\0' ? extack_msg : NULL;
  g_autofree char *kernel = NULL;

  err = err == 0 ? EIO : errno_from_kernel (err);

  /* what the kernel said, for every message */
  if (text != NULL)
    kernel = g_strdup_printf ("kernel: \"%s\", %s", text, g_strerror (err));
  else
    kernel = g_strdup_printf ("kernel: %s", g_strerror (err));

  if (err == EPERM)
    return g_error_new (MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                        "%s needs CAP_NET_ADMIN in the network namespace's user namespace (%s)",
                        label, kernel);

  if (text != NULL)
    {
      if (strstr (text, "userspace PM not selected") != NULL)
        return g_error_new (MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER,
                            "This connection runs the in-kernel path manager; to control its "
                            "subflows, set sysctl net.mptcp.path_manager=userspace (before "
                            "Linux 6.15: net.mptcp.pm_type=1) before the connection is made "
                            "(%s refused, %s)", label, kernel);
      if (strstr (text, "invalid token") != NULL)
        return g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                            "The connection is closed or unknown in this network namespace (%s)",
                            kernel);
      if (strstr (text, "subflow not found") != NULL)
        return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                            "No such subflow (%s)", kernel);
      /* an unknown id or address, EINVAL on every kernel: "address not found" (DEL_ADDR),
       * "address with specified id not found" (REMOVE, 6.1 and 6.12), "address with id %u
       * not found" (REMOVE, 6.18) */
      if (strstr (text, "address not found") != NULL
          || (g_str_has_prefix (text, "address with ") && strstr (text, "not found") != NULL))
        return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT,
                            "No such address or endpoint (%s)", kernel);
      if (strstr (text, "limit greater than maximum") != NULL)
        return g_error_new (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                            "Limit out of range (%s)", kernel);
      if (strstr (text, "families mismatch") != NULL
          || strstr (text, "address families do not match") != NULL
          || strstr (text, "missing address data") != NULL
          || strstr (text, "unknown address family") != NULL)
        return g_error_new (MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                            "Invalid address for %s (%s)", label, kernel);
    }

  /* genetlink's answer to a command the family does not have: the userspace path manager's
   * commands are Linux 5.19+ */
  if (err == EOPNOTSUPP &&
      (cmd == MPTCP_PM_CMD_ANNOUNCE || cmd == MPTCP_PM_CMD_REMOVE ||
       cmd == MPTCP_PM_CMD_SUBFLOW_CREATE || cmd == MPTCP_PM_CMD_SUBFLOW_DESTROY))
    return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                        "The running kernel has no userspace path manager: %s needs Linux 5.19 "
                        "or later (%s)", label, kernel);

  switch (err)
    {
    case ESRCH:
      return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                          "No such subflow (%s)", kernel);
    case EEXIST:
    case EBUSY:
      return g_error_new (MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS,
                          "An endpoint with this address or id exists already (%s)", kernel);
    case ERANGE:
      return g_error_new (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                          "Value out of range for %s (%s)", label, kernel);
    case EADDRNOTAVAIL:
      return g_error_new (MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                          "The address is not available on this host (%s)", kernel);
    case ENOTCONN:
      return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_ESTABLISHED,
                          "The connection is not fully established yet (%s)", kernel);
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRINUSE:
    case ENODEV:
    case ECONNREFUSED:
    case ETIMEDOUT:
      return g_error_new (G_IO_ERROR, g_io_error_from_errno (err),
                          "%s failed: %s (%s)", label, g_strerror (err), kernel);
    default:
      break;
    }

  if (miss_type != 0)
    return g_error_new (MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED,
                        "kernel refused %s: missing attribute %s (%u) (%s)",
                        label, pm_attr_name (miss_type), miss_type, kernel);

  return g_error_new (MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED,
                      "kernel refused %s: %s (%s)", label,
                      text != NULL ? text : "no explanation", g_strerror (err));
}

/* ---- the broker ---------------------------------------------------------------------------- */

typedef struct _Pending Pending;

/* The event socket. Reference counted so that its buffer and state outlive a close from inside
 * its own dispatch. A socket of the broker's own is parked rather than closed when the last
 * subscriber leaves (it leaves the event group and keeps its fd and source): a synchronous
 * call, whose private broker gains and loses its only subscriber on every operation, then
 * pays two setsockopt() instead of socket + bind + setsockopt + close and a GSource made and
 * destroyed (each of which wakes the context up). */
typedef struct
{
  gint          ref_count;
  MptcpNetlink *owner;       /* no reference */
  int           fd;
  gboolean      owns_fd;
  gboolean      closed;
  gboolean      parked;      /* not in the event group: nobody subscribes */
  GSource      *source;
  guint8       *buf;
} EventSock;

/* One subscription. The broker's two tables are sets of these records (keys == values, so no
 * value array): `subscribers` hashed on the id, `by_token` on the token, holding only the first
 * subscriber of each token; the rare further subscribers of the same token hang off its `next`
 * chain, in subscription order. */
typedef struct _Subscriber Subscriber;
struct _Subscriber
{
  gint                ref_count;
  guint               id;
  guint32             token;
  guint               all : 1;
  guint               active : 1;
  Subscriber         *next;     /* same token, token subscribers only */
  MptcpNlEventFunc    event_func;
  MptcpNlOverrunFunc  overrun_func;
  gpointer            user_data;
};

struct _MptcpNetlink
{
  gint           ref_count;
  gboolean       registered;    /* in the global table, under brokers_lock */
  GMainContext  *context;
  gboolean       is_netlink;    /* check the sender of what we read */
  guint16        family_id;
  guint32        event_group;

  /* requests */
  int            request_fd;
  GSource       *request_source;
  guint8        *request_buf;
  guint32        next_seq;
  GHashTable    *pending;       /* seq → Pending* (in flight and waiting) */
  GQueue         waiting;       /* Pending* not sent yet */
  guint          in_flight;
  guint          dumps_in_flight;
  gboolean       flushing;
  gboolean       congested;     /* ENOBUFS read, socket not drained yet: send nothing */
  gpointer       submitting;    /* the direct request being submitted: it may not complete inline */
  GSource       *timer;         /* one source for every deadline: ready at the earliest one */

  /* events */
  int            fixed_event_fd; /* _new_for_fds: kept open for the broker's life, or -1 */
  gboolean       for_fds;       /* made by _new_for_fds: never opens an event socket itself */
  int            event_rcvbuf;
  guint32        event_drops_seen;  /* the event socket's SK_MEMINFO_DROPS at the last look */
  guint64        events_lost;    /* what the kernel says it dropped, over the broker's life */
  EventSock     *event_sock;    /* NULL while nobody subscribes */
  guint          next_sub_id;
  GHashTable    *subscribers;   /* set of Subscriber*, by id */
  GHashTable    *by_token;      /* set of Subscriber*, by token: the head of each token's chain */
  GPtrArray     *all_subscribers;
};

struct _Pending
{
  MptcpNetlink  *self;          /* strong reference */
  GTask         *task;          /* or, for a direct request, func */
  MptcpNlReplyFunc func;
  gpointer       func_data;
  guint32        seq;
  guint8         cmd;
  gboolean       dump;
  gboolean       read_only;     /* GET_ADDR, GET_LIMITS, dumps: safe to send again */
  gboolean       sent;
  guint          resends;
  gint64         deadline;      /* monotonic µs */
  GCancellable  *cancellable;
  gulong         cancel_id;
  MptcpNlReply  *reply;
  guint8        *message;
  gsize          message_len;
};

static GMutex brokers_lock;
static GHashTable *brokers;     /* GMainContext* → MptcpNetlink*, no references */

static void pending_complete (Pending *p, MptcpNlReply *reply, GError *error);
static void flush_waiting (MptcpNetlink *self);

static guint
subscriber_id_hash (gconstpointer key)
{
  return ((const Subscriber *) key)->id;
}

static gboolean
subscriber_id_equal (gconstpointer a,
                     gconstpointer b)
{
  return ((const Subscriber *) a)->id == ((const Subscriber *) b)->id;
}

static guint
subscriber_token_hash (gconstpointer key)
{
  return ((const Subscriber *) key)->token;
}

static gboolean
subscriber_token_equal (gconstpointer a,
                        gconstpointer b)
{
  return ((const Subscriber *) a)->token == ((const Subscriber *) b)->token;
}

static Subscriber *
lookup_subscriber (MptcpNetlink *self,
                   guint         id)
{
  Subscriber key = { .id = id };

  return g_hash_table_lookup (self->subscribers, &key);
}

static Subscriber *
lookup_token (MptcpNetlink *self,
              guint32       token)
{
  Subscriber key = { .token = token };

  return g_hash_table_lookup (self->by_token, &key);
}

static Subscriber *
subscriber_ref (Subscriber *sub)
{
  sub->ref_count++;
  return sub;
}

static void
subscriber_unref (Subscriber *sub)
{
  if (--sub->ref_count == 0)
    g_free (sub);
}

static void
event_sock_unref (EventSock *es)
{
  if (--es->ref_count > 0)
    return;
  g_assert (es->closed);
  g_free (es->buf);
  g_free (es);
}

static void
event_sock_close (EventSock *es)
{
  if (es->closed)
    return;
  es->closed = TRUE;
  if (es->source != NULL)
    {
      g_source_destroy (es->source);
      g_clear_pointer (&es->source, g_source_unref);
    }
  if (es->owns_fd && es->fd >= 0)
    close (es->fd);
  es->fd = -1;
  event_sock_unref (es);
}

/* Reads one datagram. Returns its length, or -1 with errno. *accept is FALSE when the datagram
 * must be ignored (not from the kernel, or truncated). */
static gssize
recv_datagram (MptcpNetlink *self,
               int           fd,
               guint8       *buf,
               gsize         size,
               gboolean     *accept,
               gboolean     *truncated)
{
  struct sockaddr_nl sender;
  struct iovec iov = { buf, size };
  struct msghdr msg;
  gssize n;

  memset (&sender, 0, sizeof sender);
  memset (&msg, 0, sizeof msg);
  msg.msg_name = &sender;
  msg.msg_namelen = sizeof sender;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;

  *accept = FALSE;
  *truncated = FALSE;
  n = recvmsg (fd, &msg, MSG_DONTWAIT);
  if (n < 0)
    return -1;

  if (self->is_netlink
      && (msg.msg_namelen < sizeof sender || !_mptcp_netlink_sender_is_kernel (&sender)))
    {
      g_debug ("mptcp-netlink: dropping a message from port id %u (not the kernel)",
               (guint) sender.nl_pid);
      return n;
    }
  if (msg.msg_flags & MSG_TRUNC)
    {
      g_debug ("mptcp-netlink: dropping a truncated datagram");
      *truncated = TRUE;
      return n;
    }
  *accept = TRUE;
  return n;
}

static void
set_nonblock_cloexec (int fd)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags >= 0)
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);
  flags = fcntl (fd, F_GETFD);
  if (flags >= 0)
    fcntl (fd, F_SETFD, flags | FD_CLOEXEC);
}

static gboolean
fd_is_netlink (int fd)
{
  int domain = 0;
  socklen_t len = sizeof domain;

  return getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_NETLINK;
}

/* ---- the sockets' sources ------------------------------------------------------------------- */

/* A GSource for one socket that may be dispatched while it is dispatching. GLib blocks a
 * source that cannot recurse around each dispatch by removing its fds from the context and
 * adding them back, and GLib 2.74 writes the context's eventfd on both (in bench-control,
 * six eventfd writes, two reads and a spurious poll() per open + close of a subflow). This
 * source is marked recursive, and blocks itself only when a handler runs the context while
 * it dispatches (a nested main loop): the fd then waits until the outer dispatch returns, so
 * datagrams are still handled one at a time and in order. */
typedef struct
{
  GSource  source;
  gpointer tag;
  int      fd;
  gboolean dispatching;
  gboolean blocked;
} FdSource;

static gboolean
fd_source_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  FdSource *fs = (FdSource *) source;
  gboolean again;

  if (fs->dispatching)
    {
      fs->blocked = TRUE;
      g_source_modify_unix_fd (source, fs->tag, 0);
      return G_SOURCE_CONTINUE;
    }
  fs->dispatching = TRUE;
  again = ((GUnixFDSourceFunc) (void (*) (void)) callback) (fs->fd,
                                                           g_source_query_unix_fd (source, fs->tag),
                                                           user_data);
  fs->dispatching = FALSE;
  if (fs->blocked && !g_source_is_destroyed (source))
    g_source_modify_unix_fd (source, fs->tag, G_IO_IN);
  fs->blocked = FALSE;
  return again;
}

static GSourceFuncs fd_source_funcs = { NULL, NULL, fd_source_dispatch, NULL, NULL, NULL };

static GSource *
fd_source_new (int                fd,
               GUnixFDSourceFunc  func,
               gpointer           data,
               const char        *name,
               GMainContext      *context)
{
  GSource *source = g_source_new (&fd_source_funcs, sizeof (FdSource));
  FdSource *fs = (FdSource *) source;

  fs->fd = fd;
  fs->tag = g_source_add_unix_fd (source, fd, G_IO_IN);
  g_source_set_can_recurse (source, TRUE);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) func, data, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, context);
  return source;
}

/* ---- reading replies ----------------------------------------------------------------------- */

static guint32 next_seq (MptcpNetlink *self);

/* Takes a sent read-only request back into the waiting queue, at its head, under a new
 * sequence number (what may still come for the old one is dropped): it goes out again as soon
 * as the window allows. FALSE when it was sent again too often. */
static gboolean
pending_resend (Pending *p)
{
  MptcpNetlink *self = p->self;
  guint32 seq;

  if (!p->read_only || !p->sent || p->message == NULL || p->resends >= MAX_RESENDS)
    return FALSE;
  g_hash_table_steal (self->pending, GUINT_TO_POINTER (p->seq));
  self->in_flight--;
  if (p->dump)
    self->dumps_in_flight--;
  seq = next_seq (self);
  p->seq = seq;
  /* nlmsg_seq: bytes 8..11 of the header */
  memcpy (p->message + G_STRUCT_OFFSET (struct nlmsghdr, nlmsg_seq), &seq, sizeof seq);
  _mptcp_nl_reply_free (p->reply);
  p->reply = _mptcp_nl_reply_new ();
  p->sent = FALSE;
  p->resends++;
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (seq), p);
  g_queue_push_head (&self->waiting, p);
  g_debug ("mptcp-netlink: sending %s again (its reply was lost)",
           _mptcp_nl_cmd_name (p->cmd) != NULL ? _mptcp_nl_cmd_name (p->cmd) : "a request");
  return TRUE;
}

static void
process_reply_message (MptcpNetlink *self,
                       const guint8 *msg,
                       gsize         len)
{
  struct nlmsghdr nlh;
  Pending *p;

  if (!read_msg_header (msg, len, &nlh))
    return;
  p = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (nlh.nlmsg_seq));
  if (p == NULL || !p->sent)
    {
      g_debug ("mptcp-netlink: dropping a reply for seq %u (no such request)", nlh.nlmsg_seq);
      return;
    }

  switch (nlh.nlmsg_type)
    {
    case NLMSG_NOOP:
    case NLMSG_OVERRUN:
      return;

    case NLMSG_ERROR:
    case NLMSG_DONE:
      {
        MptcpNlAck ack;

        if (!_mptcp_netlink_parse_ack (msg, len, &ack))
          {
            pending_complete (p, NULL,
                              g_error_new (MPTCP_ERROR, MPTCP_ERROR_FAILED,
                                           "Malformed acknowledgement from the kernel"));
            return;
          }
        if ((ack.error == ENOBUFS || ack.error == EBUSY) && pending_resend (p))
          flush_waiting (self);   /* the kernel had no room for the reply, or a dump ran */
        else if (ack.error != 0)
          pending_complete (p, NULL,
                            _mptcp_netlink_error_new (ack.error, p->cmd, ack.message,
                                                      ack.miss_type));
        else if (nlh.nlmsg_type == NLMSG_DONE || !p->dump)
          pending_complete (p, g_steal_pointer (&p->reply), NULL);
        /* else: a success ack in the middle of a dump; NLMSG_DONE ends it */
        _mptcp_nl_ack_clear (&ack);
      }
      return;

    default:
      if (nlh.nlmsg_type != self->family_id)
        return;
      if (!_mptcp_netlink_parse_reply_message (msg, len, p->reply))
        pending_complete (p, NULL,
                          g_error_new (MPTCP_ERROR, MPTCP_ERROR_FAILED,
                                       "Malformed %s reply from the kernel",
                                       _mptcp_nl_cmd_name (p->cmd) != NULL
                                       ? _mptcp_nl_cmd_name (p->cmd) : "netlink"));
      return;
    }
}

static void
process_reply_datagram (MptcpNetlink *self,
                        const guint8 *buf,
                        gsize         len)
{
  gsize offset = 0;

  while (offset < len)
    {
      struct nlmsghdr nlh;
      gsize step;

      if (!read_msg_header (buf + offset, len - offset, &nlh))
        break;
      process_reply_message (self, buf + offset, nlh.nlmsg_len);
      step = ALIGN4 (nlh.nlmsg_len);
      if (step >= len - offset)
        break;
      offset += step;
    }
}

static gint
compare_pending_seq_desc (gconstpointer a,
                          gconstpointer b)
{
  const Pending *pa = a, *pb = b;

  return pa->seq > pb->seq ? -1 : pa->seq < pb->seq;
}

/* The receive buffer overflowed: replies were lost, and we cannot tell whose. A read-only
 * request is simply sent again; the others fail (they may or may not have been applied). */
static void
fail_in_flight (MptcpNetlink *self)
{
  GList *list = g_hash_table_get_values (self->pending);
  GList *resend = NULL;

  /* first the read-only ones, back to the queue in their order (pushed at its head, the
   * latest first) */
  for (GList *l = list; l != NULL; l = l->next)
    {
      Pending *p = l->data;

      if (p->sent && p->read_only && p->message != NULL && p->resends < MAX_RESENDS)
        resend = g_list_prepend (resend, p);
    }
  resend = g_list_sort (resend, compare_pending_seq_desc);
  for (GList *l = resend; l != NULL; l = l->next)
    {
      Pending *p = l->data;

      list = g_list_remove (list, p);
      pending_resend (p);
    }
  g_list_free (resend);

  for (GList *l = list; l != NULL; l = l->next)
    {
      Pending *p = l->data;

      /* completing one may complete others (its callback may cancel them): look it up again */
      if (g_hash_table_lookup (self->pending, GUINT_TO_POINTER (p->seq)) != p || !p->sent)
        continue;
      pending_complete (p, NULL,
                        g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                                     "The kernel's reply to %s was lost (netlink receive buffer "
                                     "overrun); the request may or may not have been applied",
                                     _mptcp_nl_cmd_name (p->cmd) != NULL
                                     ? _mptcp_nl_cmd_name (p->cmd) : "a request"));
    }
  g_list_free (list);
  /* nothing goes out before the socket is drained: until then the kernel drops further
   * replies without a second ENOBUFS (the socket stays "congested"), and a request sent now
   * would wait for its lost ack to its deadline */
  self->congested = TRUE;
}

static gboolean
request_source_cb (gint         fd,
                   GIOCondition condition,
                   gpointer     user_data)
{
  MptcpNetlink *self = _mptcp_netlink_ref (user_data);

  for (guint i = 0; i < MAX_READS_PER_DISPATCH; i++)
    {
      gboolean accept, truncated;
      gssize n = recv_datagram (self, fd, self->request_buf, RECV_BUF_SIZE, &accept, &truncated);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == ENOBUFS)
            {
              fail_in_flight (self);
              continue;
            }
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            g_debug ("mptcp-netlink: reading replies: %s", g_strerror (errno));
          else if (self->congested)
            {
              /* drained: what waits (the read-only requests sent again first) goes out */
              self->congested = FALSE;
              flush_waiting (self);
            }
          break;
        }
      if (truncated)
        {
          struct nlmsghdr nlh;
          Pending *p;

          /* fail the request it belonged to rather than let it time out */
          if (n >= NLMSG_HDRLEN)
            {
              memcpy (&nlh, self->request_buf, sizeof nlh);
              p = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (nlh.nlmsg_seq));
              if (p != NULL && p->sent)
                pending_complete (p, NULL,
                                  g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                               "The kernel's reply was too large"));
            }
          continue;
        }
      if (accept)
        process_reply_datagram (self, self->request_buf, (gsize) n);
      /* nothing more is expected: spare the read that would say EAGAIN (a stray datagram left
       * behind keeps the fd readable, and is read at the next dispatch) */
      if (g_hash_table_size (self->pending) == 0 && !self->congested)
        break;
    }
  if (self->congested)
    {
      guint8 probe;

      /* the read limit was reached: drained already if nothing is left */
      if (recv (fd, &probe, sizeof probe, MSG_PEEK | MSG_DONTWAIT) < 0 &&
          (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          self->congested = FALSE;
          flush_waiting (self);
        }
    }

  _mptcp_netlink_unref (self);
  return G_SOURCE_CONTINUE;
}

/* ---- reading events ------------------------------------------------------------------------ */

static void
dispatch_event (MptcpNetlink       *self,
                const MptcpNlEvent *event)
{
  Subscriber *stack[32];
  Subscriber **targets = stack;
  guint n = 0, max;
  Subscriber *for_token = NULL;

  if (MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_TOKEN))
    for_token = lookup_token (self, event->token);

  max = self->all_subscribers->len;
  for (Subscriber *sub = for_token; sub != NULL; sub = sub->next)
    max++;
  if (max == 0)
    return;
  if (max > G_N_ELEMENTS (stack))
    targets = g_new (Subscriber *, max);

  /* a snapshot: callbacks may change the lists */
  for (Subscriber *sub = for_token; sub != NULL; sub = sub->next)
    targets[n++] = subscriber_ref (sub);
  for (guint i = 0; i < self->all_subscribers->len; i++)
    targets[n++] = subscriber_ref (g_ptr_array_index (self->all_subscribers, i));

  for (guint i = 0; i < n; i++)
    {
      if (targets[i]->active && targets[i]->event_func != NULL)
        targets[i]->event_func (event, targets[i]->user_data);
      subscriber_unref (targets[i]);
    }

  if (targets != stack)
    g_free (targets);
}

static gint
compare_subscriber_id (gconstpointer a,
                       gconstpointer b)
{
  const Subscriber *sa = *(Subscriber * const *) a;
  const Subscriber *sb = *(Subscriber * const *) b;

  return sa->id < sb->id ? -1 : sa->id > sb->id;
}

/* The event socket's drop counter (SO_MEMINFO, Linux 4.12): the kernel counts every event it
 * could not queue. FALSE where it does not tell. */
static gboolean
read_event_drops (int      fd,
                  guint32 *out)
{
  guint32 meminfo[SK_MEMINFO_VARS];
  socklen_t len = sizeof meminfo;

  memset (meminfo, 0, sizeof meminfo);
  if (getsockopt (fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) < 0 ||
      len < (SK_MEMINFO_DROPS + 1) * sizeof (guint32))
    return FALSE;
  *out = meminfo[SK_MEMINFO_DROPS];
  return TRUE;
}

static void
dispatch_overrun (MptcpNetlink *self)
{
  GPtrArray *targets = g_ptr_array_new_with_free_func ((GDestroyNotify) subscriber_unref);
  GHashTableIter iter;
  gpointer value;
  guint32 drops;

  if (self->event_sock != NULL && read_event_drops (self->event_sock->fd, &drops))
    {
      self->events_lost += (guint32) (drops - self->event_drops_seen);
      self->event_drops_seen = drops;
    }
  g_debug ("mptcp-netlink: event socket overrun, events were lost (%" G_GUINT64_FORMAT
           " so far)", self->events_lost);
  g_hash_table_iter_init (&iter, self->subscribers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (targets, subscriber_ref (value));
  /* a stable order: by id */
  g_ptr_array_sort (targets, compare_subscriber_id);
  for (guint i = 0; i < targets->len; i++)
    {
      Subscriber *sub = g_ptr_array_index (targets, i);

      if (sub->active && sub->overrun_func != NULL)
        sub->overrun_func (sub->user_data);
    }
  g_ptr_array_unref (targets);
}

static void
process_event_datagram (MptcpNetlink *self,
                        EventSock    *es,
                        gsize         len)
{
  gsize offset = 0;

  while (offset < len && !es->closed && !es->parked)
    {
      struct nlmsghdr nlh;
      MptcpNlEvent event;
      gsize step;

      if (!read_msg_header (es->buf + offset, len - offset, &nlh))
        break;
      if (nlh.nlmsg_type == self->family_id
          && _mptcp_netlink_parse_event (es->buf + offset, nlh.nlmsg_len, &event))
        dispatch_event (self, &event);
      step = ALIGN4 (nlh.nlmsg_len);
      if (step >= len - offset)
        break;
      offset += step;
    }
}

static gboolean
event_source_cb (gint         fd,
                 GIOCondition condition,
                 gpointer     user_data)
{
  EventSock *es = user_data;
  MptcpNetlink *self = _mptcp_netlink_ref (es->owner);

  es->ref_count++;
  for (guint i = 0; i < MAX_READS_PER_DISPATCH && !es->closed; i++)
    {
      gboolean accept, truncated;
      gssize n = recv_datagram (self, es->fd, es->buf, RECV_BUF_SIZE, &accept, &truncated);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == ENOBUFS)
            {
              dispatch_overrun (self);
              continue;
            }
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            g_debug ("mptcp-netlink: reading events: %s", g_strerror (errno));
          break;
        }
      if (accept)
        process_event_datagram (self, es, (gsize) n);
    }
  event_sock_unref (es);
  _mptcp_netlink_unref (self);
  return G_SOURCE_CONTINUE;
}

static EventSock *
event_sock_new (MptcpNetlink *self,
                int           fd,
                gboolean      owns_fd)
{
  EventSock *es = g_new0 (EventSock, 1);

  es->ref_count = 1;
  es->owner = self;
  es->fd = fd;
  es->owns_fd = owns_fd;
  es->buf = g_malloc (RECV_BUF_SIZE);
  es->source = fd_source_new (fd, event_source_cb, es, "mptcp-netlink events", self->context);
  return es;
}

/* The event socket's receive buffer: the test hook's size if set, else as iproute2's
 * `ip mptcp monitor` does: EVENT_RCVBUF with SO_RCVBUFFORCE where permitted (CAP_NET_ADMIN over
 * the namespace), else the most SO_RCVBUF gives (the kernel caps it at net.core.rmem_max).
 * The default (about 208 KiB) lost a tenth of the events of 500 connections made in 130 ms. */
static void
apply_event_rcvbuf (MptcpNetlink *self)
{
  int size = EVENT_RCVBUF;
  guint32 drops;

  if (self->event_sock == NULL)
    return;
  if (self->event_rcvbuf > 0)
    setsockopt (self->event_sock->fd, SOL_SOCKET, SO_RCVBUF,
                &self->event_rcvbuf, sizeof self->event_rcvbuf);
  else if (self->event_sock->owns_fd &&
           setsockopt (self->event_sock->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt (self->event_sock->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (read_event_drops (self->event_sock->fd, &drops))
    self->event_drops_seen = drops;
}

static gboolean
join_event_group (MptcpNetlink *self,
                  int           fd,
                  GError      **error)
{
  int saved;

  if (setsockopt (fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                  &self->event_group, sizeof self->event_group) == 0)
    return TRUE;
  saved = errno;
  if (saved == EPERM || saved == EACCES)
    g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                 "Receiving MPTCP events needs CAP_NET_ADMIN in the network namespace's "
                 "user namespace (joining mptcp_pm_events: %s)", g_strerror (saved));
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "Could not join the MPTCP event group: %s", g_strerror (saved));
  return FALSE;
}

/* Nobody subscribes any more: a socket of our own leaves the group and drops what it holds
 * (events nobody asked for); one given to _new_for_fds() is closed as before. */
static void
event_sock_park (MptcpNetlink *self)
{
  EventSock *es = self->event_sock;

  if (!es->owns_fd ||
      setsockopt (es->fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP,
                  &self->event_group, sizeof self->event_group) < 0)
    {
      event_sock_close (g_steal_pointer (&self->event_sock));
      return;
    }
  /* no buffer: es->buf may hold the datagram being dispatched (the last subscriber may
   * leave from its callback); an overrun reports ENOBUFS once, with datagrams still queued
   * behind it */
  while (recv (es->fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0 || errno == EINTR || errno == ENOBUFS)
    ;
  es->parked = TRUE;
}

/* A first subscriber: a parked socket joins the group again. */
static gboolean
event_sock_unpark (MptcpNetlink *self,
                   GError      **error)
{
  if (!join_event_group (self, self->event_sock->fd, error))
    return FALSE;
  self->event_sock->parked = FALSE;
  return TRUE;
}

static gboolean
event_sock_open (MptcpNetlink *self,
                 GError      **error)
{
  struct sockaddr_nl local;
  int fd, saved;

  if (self->fixed_event_fd >= 0)
    {
      self->event_sock = event_sock_new (self, self->fixed_event_fd, FALSE);
      apply_event_rcvbuf (self);
      return TRUE;
    }
  if (self->for_fds)
    {
      /* its request fd may belong to another network namespace than ours */
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "This broker was given no event socket");
      return FALSE;
    }
  if (!self->is_netlink || self->event_group == 0)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "The kernel offers no MPTCP event group (mptcp_pm_events)");
      return FALSE;
    }

  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not open a netlink socket for MPTCP events: %s", g_strerror (saved));
      return FALSE;
    }
  memset (&local, 0, sizeof local);
  local.nl_family = AF_NETLINK;
  if (bind (fd, (struct sockaddr *) &local, sizeof local) < 0)
    {
      saved = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not bind the MPTCP event socket: %s", g_strerror (saved));
      return FALSE;
    }
  if (!join_event_group (self, fd, error))
    {
      close (fd);
      return FALSE;
    }

  self->event_sock = event_sock_new (self, fd, TRUE);
  apply_event_rcvbuf (self);
  return TRUE;
}

/* ---- requests ------------------------------------------------------------------------------ */

/* A direct request that fails while it is submitted completes from an idle, never inside
 * the call. */
typedef struct
{
  MptcpNetlink     *self;
  MptcpNlReplyFunc  func;
  gpointer          func_data;
  MptcpNlReply     *reply;
  GError           *error;
} DeferredReply;

static gboolean
deferred_reply_cb (gpointer data)
{
  DeferredReply *d = data;

  d->func (g_steal_pointer (&d->reply), g_steal_pointer (&d->error), d->func_data);
  return G_SOURCE_REMOVE;
}

static void
deferred_reply_free (gpointer data)
{
  DeferredReply *d = data;

  _mptcp_nl_reply_free (d->reply);
  g_clear_error (&d->error);
  _mptcp_netlink_unref (d->self);
  g_free (d);
}

static void
defer_direct (MptcpNetlink     *self,
              MptcpNlReplyFunc  func,
              gpointer          func_data,
              MptcpNlReply     *reply,
              GError           *error)
{
  DeferredReply *d = g_new0 (DeferredReply, 1);
  GSource *idle = g_idle_source_new ();

  d->self = _mptcp_netlink_ref (self);
  d->func = func;
  d->func_data = func_data;
  d->reply = reply;
  d->error = error;
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, deferred_reply_cb, d, deferred_reply_free);
  g_source_set_static_name (idle, "mptcp-netlink deferred reply");
  g_source_attach (idle, self->context);
  g_source_unref (idle);
}

static void
pending_free (Pending *p)
{
  if (p->cancellable != NULL)
    {
      /* waits for a handler running in another thread, which touches nothing but p */
      g_cancellable_disconnect (p->cancellable, p->cancel_id);
      g_object_unref (p->cancellable);
    }
  _mptcp_nl_reply_free (p->reply);
  g_free (p->message);
  g_free (p);
}

/* Takes reply / error. Removes the entry, then completes the task. */
static void
pending_complete (Pending      *p,
                  MptcpNlReply *reply,
                  GError       *error)
{
  MptcpNetlink *self = p->self;
  GTask *task = p->task;
  MptcpNlReplyFunc func = p->func;
  gpointer func_data = p->func_data;
  gboolean inside_submit = self->submitting == p;

  /* the timer stays armed for p's deadline even if nothing is left: disarming it on
   * every completion would write the context's eventfd each time (GLib 2.74 wakes the
   * context on any g_source_set_ready_time()), while a stale deadline costs one
   * iteration that finds nothing due and disarms it */
  g_hash_table_remove (self->pending, GUINT_TO_POINTER (p->seq));
  if (p->sent)
    {
      self->in_flight--;
      if (p->dump)
        self->dumps_in_flight--;
    }
  else
    g_queue_remove (&self->waiting, p);
  pending_free (p);

  /* the freed slot goes to the next waiting request before anyone else can take it */
  flush_waiting (self);

  if (task == NULL)
    {
      if (inside_submit)
        defer_direct (self, func, func_data, reply, error);
      else
        func (reply, error, func_data);
      _mptcp_netlink_unref (self);
      return;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) _mptcp_nl_reply_free);
  g_object_unref (task);
  _mptcp_netlink_unref (self);
}

static gboolean
pending_send (Pending *p)
{
  MptcpNetlink *self = p->self;
  gssize n;

  do
    n = send (self->request_fd, p->message, p->message_len, 0);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int saved = errno;

      /* p->sent is FALSE: pending_complete also removes it from the queue if it is there */
      pending_complete (p, NULL,
                        g_error_new (G_IO_ERROR, g_io_error_from_errno (saved),
                                     "Could not send %s to the kernel: %s",
                                     _mptcp_nl_cmd_name (p->cmd) != NULL
                                     ? _mptcp_nl_cmd_name (p->cmd) : "a request",
                                     g_strerror (saved)));
      return FALSE;
    }
  p->sent = TRUE;
  self->in_flight++;
  if (p->dump)
    self->dumps_in_flight++;
  /* a read-only request keeps its message: it is sent again if its reply is lost */
  if (!p->read_only)
    g_clear_pointer (&p->message, g_free);
  return TRUE;
}

static void
flush_waiting (MptcpNetlink *self)
{
  if (self->flushing || self->congested)
    return;
  self->flushing = TRUE;
  while (self->in_flight < MAX_IN_FLIGHT && !g_queue_is_empty (&self->waiting))
    {
      Pending *head = g_queue_peek_head (&self->waiting);

      /* in order: a dump waits for the one in flight, and what follows it waits too */
      if (head->dump && self->dumps_in_flight >= MAX_DUMPS_IN_FLIGHT)
        break;
      /* a failed send completes the request, which takes it off the queue */
      if (pending_send (head))
        g_queue_pop_head (&self->waiting);
    }
  self->flushing = FALSE;
}

/* The timer: one GSource per broker rather than one per request, so that a context with
 * thousands of requests in flight does not pay for thousands of sources on every iteration. */
static void
update_timer (MptcpNetlink *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 earliest = -1;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Pending *p = value;

      if (earliest < 0 || p->deadline < earliest)
        earliest = p->deadline;
    }
  g_source_set_ready_time (self->timer, earliest);
}

static gboolean
timer_cb (gpointer user_data)
{
  MptcpNetlink *self = _mptcp_netlink_ref (user_data);
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GArray) expired = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Pending *p = value;

      if (p->deadline <= now)
        g_array_append_val (expired, p->seq);
    }
  /* by seq: a callback may complete or cancel the others */
  for (guint i = 0; i < expired->len; i++)
    {
      Pending *p = g_hash_table_lookup (self->pending,
                                        GUINT_TO_POINTER (g_array_index (expired, guint32, i)));
      const char *name;

      if (p == NULL)
        continue;
      name = _mptcp_nl_cmd_name (p->cmd);
      pending_complete (p, NULL,
                        g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                     "The kernel did not answer %s in time",
                                     name != NULL ? name : "the request"));
    }
  update_timer (self);
  _mptcp_netlink_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
timer_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

/* Cancellation: the handler may run in any thread; it only schedules the work in the broker's
 * context, where the request is looked up by seq (it may be complete by then). */
typedef struct
{
  MptcpNetlink *self;
  guint32       seq;
} CancelIdle;

static void
cancel_idle_free (gpointer data)
{
  CancelIdle *ci = data;

  _mptcp_netlink_unref (ci->self);
  g_free (ci);
}

static gboolean
cancel_idle_cb (gpointer data)
{
  CancelIdle *ci = data;
  Pending *p = g_hash_table_lookup (ci->self->pending, GUINT_TO_POINTER (ci->seq));

  if (p != NULL && p->cancellable != NULL && g_cancellable_is_cancelled (p->cancellable))
    pending_complete (p, NULL,
                      g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                           "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

static void
pending_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  Pending *p = user_data;
  CancelIdle *ci = g_new (CancelIdle, 1);
  GSource *idle = g_idle_source_new ();

  ci->self = _mptcp_netlink_ref (p->self);
  ci->seq = p->seq;
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, cancel_idle_cb, ci, cancel_idle_free);
  g_source_set_static_name (idle, "mptcp-netlink cancel");
  g_source_attach (idle, p->self->context);
  g_source_unref (idle);
}

static guint32
next_seq (MptcpNetlink *self)
{
  guint32 seq;

  do
    seq = self->next_seq++;
  while (seq == 0 || g_hash_table_contains (self->pending, GUINT_TO_POINTER (seq)));
  return seq;
}

/* Builds the message of a request into a new Pending entry, registers it under
 * its sequence number and arms the broker's timer for its deadline. The caller
 * sets the completion (task or func) and queues it. */
static Pending *
pending_new (MptcpNetlink         *self,
             const MptcpNlRequest *request,
             guint                 timeout_ms)
{
  guint8 buf[REQUEST_BUF_SIZE] __attribute__ ((aligned (8)));
  Pending *p;
  gsize len;
  guint32 seq;
  gint64 ready;

  seq = next_seq (self);
  len = _mptcp_netlink_build_request (request, self->family_id, seq, buf, sizeof buf);
  /* the largest request (token, ids, two address nests, flags) is about 180 bytes */
  g_assert (len != 0);

  p = g_new0 (Pending, 1);
  p->self = _mptcp_netlink_ref (self);
  p->seq = seq;
  p->cmd = request->cmd;
  p->dump = request->dump;
  p->read_only = request->dump || request->cmd == MPTCP_PM_CMD_GET_ADDR ||
                 request->cmd == MPTCP_PM_CMD_GET_LIMITS;
  p->reply = _mptcp_nl_reply_new ();
  p->message = g_memdup2 (buf, len);
  p->message_len = len;
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (seq), p);

  p->deadline = g_get_monotonic_time ()
                + (gint64) (timeout_ms != 0 ? timeout_ms : DEFAULT_TIMEOUT_MS) * G_TIME_SPAN_MILLISECOND;
  ready = g_source_get_ready_time (self->timer);
  if (ready < 0 || p->deadline < ready)
    g_source_set_ready_time (self->timer, p->deadline);

  return p;
}

void
_mptcp_netlink_request_async (MptcpNetlink         *self,
                              const MptcpNlRequest *request,
                              guint                 timeout_ms,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data)
{
  g_autoptr(GMainContext) current = NULL;
  GTask *task;
  Pending *p;

  g_return_if_fail (self != NULL);
  g_return_if_fail (request != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* the callback runs in the broker's context, whatever the caller's thread-default is */
  current = g_main_context_ref_thread_default ();
  if (current != self->context)
    g_main_context_push_thread_default (self->context);
  task = g_task_new (NULL, cancellable, callback, user_data);
  if (current != self->context)
    g_main_context_pop_thread_default (self->context);
  g_task_set_source_tag (task, _mptcp_netlink_request_async);
  g_task_set_name (task, "[mptcp-glib] netlink request");

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  p = pending_new (self, request, timeout_ms);
  p->task = task;

  if (cancellable != NULL)
    {
      p->cancellable = g_object_ref (cancellable);
      p->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (pending_cancelled_cb), p,
                                            NULL);
    }

  g_queue_push_tail (&self->waiting, p);
  flush_waiting (self);
}

void
_mptcp_netlink_request_direct (MptcpNetlink         *self,
                               const MptcpNlRequest *request,
                               guint                 timeout_ms,
                               MptcpNlReplyFunc      func,
                               gpointer              user_data)
{
  Pending *p;

  g_return_if_fail (self != NULL);
  g_return_if_fail (request != NULL);
  g_return_if_fail (func != NULL);

  p = pending_new (self, request, timeout_ms);
  p->func = func;
  p->func_data = user_data;

  g_queue_push_tail (&self->waiting, p);
  self->submitting = p;
  flush_waiting (self);
  self->submitting = NULL;
}

MptcpNlReply *
_mptcp_netlink_request_finish (MptcpNetlink  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == _mptcp_netlink_request_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- construction -------------------------------------------------------------------------- */

static MptcpNetlink *
broker_alloc (GMainContext *context,
              int           request_fd,
              guint16       family_id,
              guint32       event_group)
{
  MptcpNetlink *self = g_new0 (MptcpNetlink, 1);

  self->ref_count = 1;
  self->context = g_main_context_ref (context);
  self->is_netlink = fd_is_netlink (request_fd);
  self->family_id = family_id;
  self->event_group = event_group;
  self->request_fd = request_fd;
  self->request_buf = g_malloc (RECV_BUF_SIZE);
  self->next_seq = 1;
  self->pending = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->waiting);
  self->fixed_event_fd = -1;
  self->subscribers = g_hash_table_new (subscriber_id_hash, subscriber_id_equal);
  self->by_token = g_hash_table_new (subscriber_token_hash, subscriber_token_equal);
  self->all_subscribers = g_ptr_array_new ();

  self->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_set_static_name (self->timer, "mptcp-netlink request timeouts");
  g_source_attach (self->timer, context);

  self->request_source = fd_source_new (request_fd, request_source_cb, self,
                                        "mptcp-netlink replies", context);
  return self;
}

static void
broker_free (MptcpNetlink *self)
{
  GHashTableIter iter;
  gpointer value;

  /* every pending request holds a reference, so none can be left */
  g_assert (g_hash_table_size (self->pending) == 0);

  if (self->event_sock != NULL)
    event_sock_close (g_steal_pointer (&self->event_sock));
  if (self->fixed_event_fd >= 0)
    close (self->fixed_event_fd);

  g_hash_table_iter_init (&iter, self->subscribers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Subscriber *sub = value;

      sub->active = FALSE;
      subscriber_unref (sub);
    }
  g_hash_table_unref (self->subscribers);
  g_hash_table_unref (self->by_token);
  g_ptr_array_unref (self->all_subscribers);
  g_hash_table_unref (self->pending);

  g_source_destroy (self->timer);
  g_source_unref (self->timer);
  g_source_destroy (self->request_source);
  g_source_unref (self->request_source);
  close (self->request_fd);
  g_free (self->request_buf);
  g_main_context_unref (self->context);
  g_free (self);
}

MptcpNetlink *
_mptcp_netlink_new_for_fds (int           request_fd,
                            int           event_fd,
                            guint16       family_id,
                            guint32       event_group,
                            GMainContext *context)
{
  g_autoptr(GMainContext) ctx = NULL;
  MptcpNetlink *self;

  g_return_val_if_fail (request_fd >= 0, NULL);

  ctx = context != NULL ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  set_nonblock_cloexec (request_fd);
  self = broker_alloc (ctx, request_fd, family_id, event_group);
  self->for_fds = TRUE;
  if (event_fd >= 0)
    {
      set_nonblock_cloexec (event_fd);
      self->fixed_event_fd = event_fd;
    }
  return self;
}

static gboolean
set_sockopt_int (int fd, int level, int name, int value)
{
  return setsockopt (fd, level, name, &value, sizeof value) == 0;
}

/* Parses CTRL_CMD_NEWFAMILY: family id and the id of the event group. */
static gboolean
parse_family (const guint8 *msg,
              gsize         len,
              guint16      *family_id,
              guint32      *event_group)
{
  AttrIter it, groups, group;
  guint16 type;
  const guint8 *value;
  gsize value_len;

  if (len < NLMSG_HDRLEN + GENL_HDRLEN)
    return FALSE;
  attr_iter_init (&it, msg + NLMSG_HDRLEN + GENL_HDRLEN, len - NLMSG_HDRLEN - GENL_HDRLEN);
  while (attr_iter_next (&it, &type, &value, &value_len))
    {
      if (type == CTRL_ATTR_FAMILY_ID)
        read_u16 (value, value_len, family_id);
      else if (type == CTRL_ATTR_MCAST_GROUPS)
        {
          const guint8 *g;
          gsize g_len;
          guint16 g_type;

          attr_iter_init (&groups, value, value_len);
          while (attr_iter_next (&groups, &g_type, &g, &g_len))
            {
              const guint8 *field;
              gsize field_len;
              guint16 field_type;
              gboolean is_events = FALSE;
              guint32 id = 0;

              attr_iter_init (&group, g, g_len);
              while (attr_iter_next (&group, &field_type, &field, &field_len))
                {
                  if (field_type == CTRL_ATTR_MCAST_GRP_NAME)
                    is_events = field_len >= sizeof MPTCP_PM_EV_GRP_NAME
                                && memcmp (field, MPTCP_PM_EV_GRP_NAME,
                                           sizeof MPTCP_PM_EV_GRP_NAME) == 0;
                  else if (field_type == CTRL_ATTR_MCAST_GRP_ID)
                    read_u32 (field, field_len, &id);
                }
              if (is_events)
                *event_group = id;
            }
        }
    }
  return *family_id != 0;
}

/* CTRL_CMD_GETFAMILY "mptcp_pm", blocking (a few µs; bounded by DEFAULT_TIMEOUT_MS). */
static gboolean
resolve_family (int       fd,
                guint8   *buf,
                guint16  *family_id,
                guint32  *event_group,
                GError  **error)
{
  struct nlmsghdr *nlh;
  struct genlmsghdr *genl;
  const guint32 seq = 1;
  gint64 deadline = g_get_monotonic_time () + DEFAULT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean done = FALSE, found = FALSE;
  int failure = 0;

  memset (buf, 0, 64);
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = GENL_ID_CTRL;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  genl = mnl_nlmsg_put_extra_header (nlh, sizeof *genl);
  genl->cmd = CTRL_CMD_GETFAMILY;
  genl->version = 1;
  mnl_attr_put_strz (nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);

  if (send (fd, buf, nlh->nlmsg_len, 0) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not query the generic netlink controller: %s", g_strerror (saved));
      return FALSE;
    }

  while (!done)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;
      struct sockaddr_nl sender;
      socklen_t sender_len = sizeof sender;
      gssize n;
      gsize offset = 0;

      if (left <= 0 || poll (&pfd, 1, (int) left) == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "The generic netlink controller did not answer");
          return FALSE;
        }
      n = recvfrom (fd, buf, RECV_BUF_SIZE, MSG_DONTWAIT,
                    (struct sockaddr *) &sender, &sender_len);
      if (n < 0)
        {
          int saved = errno;

          if (saved == EINTR || saved == EAGAIN)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Could not read from the generic netlink controller: %s",
                       g_strerror (saved));
          return FALSE;
        }
      if (!_mptcp_netlink_sender_is_kernel (&sender))
        continue;

      while (offset < (gsize) n)
        {
          struct nlmsghdr hdr;

          if (!read_msg_header (buf + offset, n - offset, &hdr))
            break;
          if (hdr.nlmsg_seq == seq)
            {
              if (hdr.nlmsg_type == GENL_ID_CTRL)
                found = parse_family (buf + offset, hdr.nlmsg_len, family_id, event_group);
              else if (hdr.nlmsg_type == NLMSG_ERROR || hdr.nlmsg_type == NLMSG_DONE)
                {
                  MptcpNlAck ack;

                  if (_mptcp_netlink_parse_ack (buf + offset, hdr.nlmsg_len, &ack))
                    failure = ack.error;
                  _mptcp_nl_ack_clear (&ack);
                  done = TRUE;
                }
            }
          if (ALIGN4 (hdr.nlmsg_len) >= n - offset)
            break;
          offset += ALIGN4 (hdr.nlmsg_len);
        }
    }

  if (failure == ENOENT || (failure == 0 && !found))
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "The kernel has no MPTCP path manager netlink family (mptcp_pm): "
                           "Linux 5.7 or later with CONFIG_MPTCP is needed");
      return FALSE;
    }
  if (failure != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (failure),
                   "Could not resolve the mptcp_pm netlink family: %s", g_strerror (failure));
      return FALSE;
    }
  return TRUE;
}

static MptcpNetlink *
broker_new_kernel (GMainContext *context,
                   GError      **error)
{
  struct sockaddr_nl kernel;
  g_autofree guint8 *buf = NULL;
  guint16 family_id = 0;
  guint32 event_group = 0;
  int fd, saved;

  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
  if (fd < 0)
    {
      saved = errno;
      if (saved == EAFNOSUPPORT || saved == EPROTONOSUPPORT)
        g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                     "The kernel has no generic netlink: %s", g_strerror (saved));
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     "Could not open a generic netlink socket: %s", g_strerror (saved));
      return NULL;
    }

  /* Connected to the kernel: the kernel then refuses unicasts from other processes to this
   * socket, on top of the sender check of every read. */
  memset (&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  if (connect (fd, (struct sockaddr *) &kernel, sizeof kernel) < 0)
    {
      saved = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not connect the generic netlink socket: %s", g_strerror (saved));
      return NULL;
    }
  /* best effort: both exist since Linux 4.12 / 4.3 */
  set_sockopt_int (fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  set_sockopt_int (fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  /* room for the replies of a full window; the kernel caps it at net.core.rmem_max */
  set_sockopt_int (fd, SOL_SOCKET, SO_RCVBUF, REQUEST_RCVBUF);

  buf = g_malloc (RECV_BUF_SIZE);
  if (!resolve_family (fd, buf, &family_id, &event_group, error))
    {
      close (fd);
      return NULL;
    }
  return broker_alloc (context, fd, family_id, event_group);
}

MptcpNetlink *
_mptcp_netlink_get_for_context (GMainContext *context,
                                GError      **error)
{
  g_autoptr(GMainContext) ctx = NULL;
  MptcpNetlink *self;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ctx = context != NULL ? g_main_context_ref (context) : g_main_context_ref_thread_default ();

  g_mutex_lock (&brokers_lock);
  self = brokers != NULL ? g_hash_table_lookup (brokers, ctx) : NULL;
  if (self != NULL)
    g_atomic_int_inc (&self->ref_count);
  else
    {
      self = broker_new_kernel (ctx, error);
      if (self != NULL)
        {
          if (brokers == NULL)
            brokers = g_hash_table_new (NULL, NULL);
          self->registered = TRUE;
          g_hash_table_insert (brokers, ctx, self);
        }
    }
  g_mutex_unlock (&brokers_lock);
  return self;
}

MptcpNetlink *
_mptcp_netlink_ref (MptcpNetlink *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
_mptcp_netlink_unref (MptcpNetlink *self)
{
  g_return_if_fail (self != NULL);

  if (self->registered)
    {
      /* the last reference goes under the lock, so get_for_context never revives a dying one */
      g_mutex_lock (&brokers_lock);
      if (!g_atomic_int_dec_and_test (&self->ref_count))
        {
          g_mutex_unlock (&brokers_lock);
          return;
        }
      g_hash_table_remove (brokers, self->context);
      if (g_hash_table_size (brokers) == 0)
        g_clear_pointer (&brokers, g_hash_table_unref);
      g_mutex_unlock (&brokers_lock);
    }
  else if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  broker_free (self);
}

GMainContext *
_mptcp_netlink_get_context (MptcpNetlink *self)
{
  return self->context;
}

guint16
_mptcp_netlink_get_family_id (MptcpNetlink *self)
{
  return self->family_id;
}

guint32
_mptcp_netlink_get_event_group (MptcpNetlink *self)
{
  return self->event_group;
}

guint64
_mptcp_netlink_get_events_lost (MptcpNetlink *self)
{
  return self->events_lost;
}

int
_mptcp_netlink_get_event_fd (MptcpNetlink *self)
{
  return self->event_sock != NULL ? self->event_sock->fd : -1;
}

/* ---- the sync variant ---------------------------------------------------------------------- */

MptcpNlReply *
_mptcp_netlink_request_sync (const MptcpNlRequest *request,
                             guint                 timeout_ms,
                             GCancellable         *cancellable,
                             GError              **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  MptcpSync sync;
  MptcpNlReply *reply;

  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_mptcp_sync_begin (&sync, NULL, error))
    return NULL;
  _mptcp_netlink_request_async (sync.broker, request, timeout_ms, cancellable,
                                _mptcp_sync_done, &sync);
  _mptcp_sync_wait (&sync, NULL, NULL);
  reply = _mptcp_netlink_request_finish (sync.broker, sync.result, error);
  result = _mptcp_sync_end (&sync);
  return reply;
}

/* ---- subscriptions ------------------------------------------------------------------------- */

guint
_mptcp_netlink_subscribe (MptcpNetlink        *self,
                          gboolean             all,
                          guint32              token,
                          MptcpNlEventFunc     event_func,
                          MptcpNlOverrunFunc   overrun_func,
                          gpointer             user_data,
                          GError             **error)
{
  Subscriber *sub;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (self->event_sock == NULL && !event_sock_open (self, error))
    return 0;
  if (self->event_sock->parked && !event_sock_unpark (self, error))
    return 0;

  sub = g_new0 (Subscriber, 1);
  sub->ref_count = 1;
  do
    sub->id = ++self->next_sub_id;
  while (sub->id == 0 || lookup_subscriber (self, sub->id) != NULL);
  sub->all = all != FALSE;
  sub->active = TRUE;
  sub->token = token;
  sub->event_func = event_func;
  sub->overrun_func = overrun_func;
  sub->user_data = user_data;
  g_hash_table_add (self->subscribers, sub);

  if (all)
    g_ptr_array_add (self->all_subscribers, sub);
  else
    {
      Subscriber *head = lookup_token (self, token);

      if (head == NULL)
        g_hash_table_add (self->by_token, sub);
      else
        {
          while (head->next != NULL)
            head = head->next;
          head->next = sub;
        }
    }
  return sub->id;
}

void
_mptcp_netlink_unsubscribe (MptcpNetlink *self,
                            guint         id)
{
  Subscriber *sub;

  g_return_if_fail (self != NULL);

  sub = lookup_subscriber (self, id);
  g_return_if_fail (sub != NULL);

  g_hash_table_remove (self->subscribers, sub);
  if (sub->all)
    g_ptr_array_remove (self->all_subscribers, sub);
  else
    {
      Subscriber *head = lookup_token (self, sub->token);

      if (head == sub)
        {
          /* the next one (same token) replaces it as the set's key */
          if (sub->next != NULL)
            g_hash_table_add (self->by_token, sub->next);
          else
            g_hash_table_remove (self->by_token, sub);
        }
      else
        {
          while (head->next != sub)
            head = head->next;
          head->next = sub->next;
        }
      /* a dispatch in progress has its snapshot already */
      sub->next = NULL;
    }
  sub->active = FALSE;
  subscriber_unref (sub);

  if (g_hash_table_size (self->subscribers) == 0 && self->event_sock != NULL)
    event_sock_park (self);
}

void
_mptcp_netlink_set_event_rcvbuf (MptcpNetlink *self,
                                 int           bytes)
{
  g_return_if_fail (self != NULL);

  self->event_rcvbuf = bytes;
  apply_event_rcvbuf (self);
}
