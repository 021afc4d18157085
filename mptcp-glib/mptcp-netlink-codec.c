/* mptcp-netlink-codec.c: the codec of the netlink broker (plain structs, build, parse, errors)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure functions, no sockets, no main context: what the fuzz target and the pure tests run.
 * Parsing never trusts the input: messages and attributes are copied out with memcpy, every
 * length is checked.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "mptcp-error.h"
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"

/* extended-ack attributes (enum values in the uapi headers, so no #ifndef possible) */
#define MPX_NLMSGERR_ATTR_MSG       1
#define MPX_NLMSGERR_ATTR_OFFS      2
#define MPX_NLMSGERR_ATTR_MISS_TYPE 5
#define MPX_NLMSGERR_ATTR_MISS_NEST 6

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
  step = MPTCP_NL_ALIGN4 (nla.nla_len);
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
gboolean
_mptcp_netlink_read_msg_header (const guint8    *buf,
                                gsize            len,
                                struct nlmsghdr *nlh)
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
  memset (buf, 0, MIN (buf_len, (gsize) MPTCP_NL_REQUEST_BUF_SIZE));
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

  if (buf == NULL || !_mptcp_netlink_read_msg_header (buf, len, &nlh)
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

  if (buf == NULL || !_mptcp_netlink_read_msg_header (buf, len, &nlh))
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
      tlv_offset = MPTCP_NL_ALIGN4 (tlv_offset);
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

  if (buf == NULL || !_mptcp_netlink_read_msg_header (buf, len, &nlh)
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

/* ---- the generic netlink controller ------------------------------------------------------ */

/* Parses CTRL_CMD_NEWFAMILY: family id and the id of the event group. */
gboolean
_mptcp_netlink_parse_family (const guint8 *msg,
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

