/* mptcp-sockdiag.c: the sock_diag room (NETLINK_SOCK_DIAG dumps of the namespace)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See mptcp-sockdiag-private.h. libmnl builds the requests and walks the replies.
 */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <libmnl/libmnl.h>

#include "mptcp-sockdiag-private.h"
#include "mptcp-kernel-private.h"

/* the kernel's dump skbs are at most 32 KiB; MSG_TRUNC tells if one was larger */
#define RECV_BUF_SIZE (64 * 1024)

struct _MptcpSockDiag
{
  int      fd;
  gboolean netlink;          /* a real netlink socket: drop what the kernel did not send */
  guint32  next_seq;
  guint8  *buf;              /* RECV_BUF_SIZE, 8-byte aligned (g_malloc) */
  GArray  *lookup;           /* of MptcpDiagSocket: one lookup reply, made on first use */
};

MptcpSockDiag *
_mptcp_sockdiag_new (GError **error)
{
  MptcpSockDiag *self;
  struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
  int fd, errsv;

  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
  if (fd < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot open a sock_diag netlink socket: %s", g_strerror (errsv));
      return NULL;
    }
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      errsv = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot bind the sock_diag netlink socket: %s", g_strerror (errsv));
      return NULL;
    }
  self = _mptcp_sockdiag_new_for_fd (fd);
  self->netlink = TRUE;
  return self;
}

MptcpSockDiag *
_mptcp_sockdiag_new_for_fd (int fd)
{
  MptcpSockDiag *self = g_new0 (MptcpSockDiag, 1);

  self->fd = fd;
  self->next_seq = 1;
  self->buf = g_malloc (RECV_BUF_SIZE);
  return self;
}

void
_mptcp_sockdiag_free (MptcpSockDiag *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_free (self->buf);
  g_clear_pointer (&self->lookup, g_array_unref);
  g_free (self);
}

int
_mptcp_sockdiag_get_fd (MptcpSockDiag *self)
{
  return self->fd;
}

void
_mptcp_diag_dump_init (MptcpDiagDump *dump)
{
  memset (dump, 0, sizeof *dump);
  dump->connections = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));
  dump->subflows = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));
  dump->keep_tcp = TRUE;
}

void
_mptcp_diag_dump_clear (MptcpDiagDump *dump)
{
  g_clear_pointer (&dump->connections, g_array_unref);
  g_clear_pointer (&dump->subflows, g_array_unref);
}

/* step 0, 1: MPTCP over AF_INET, AF_INET6; 2, 3: TCP over AF_INET, AF_INET6 */
gsize
_mptcp_sockdiag_build_request (guint step, guint32 seq, guint8 *buf)
{
  return _mptcp_sockdiag_build_request_for (step, seq, FALSE, buf);
}

gsize
_mptcp_sockdiag_build_request_for (guint step, guint32 seq, gboolean listeners, guint8 *buf)
{
  struct nlmsghdr *nlh;
  struct inet_diag_req_v2 *req;

  memset (buf, 0, 128);
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  req = mnl_nlmsg_put_extra_header (nlh, sizeof *req);
  req->sdiag_family = (step % 2 == 0) ? AF_INET : AF_INET6;
  req->sdiag_protocol = IPPROTO_TCP;
  req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
  /* every state but LISTEN, TIME_WAIT and NEW_SYN_RECV (mini sockets carry no MPTCP state) */
  req->idiag_states = 0xfff & ~((1u << TCP_LISTEN) | (1u << TCP_TIME_WAIT) | (1u << 12));
  if (step < 2 && listeners)
    req->idiag_states |= 1u << TCP_LISTEN;
  if (step < 2)
    mnl_attr_put_u32 (nlh, INET_DIAG_REQ_PROTOCOL, IPPROTO_MPTCP);
  return nlh->nlmsg_len;
}

/* Sends requests (one datagram) to the kernel. */
static gboolean
send_buf (MptcpSockDiag *self, const guint8 *buf, gsize len, GError **error)
{
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  ssize_t n;

  if (self->netlink)
    n = sendto (self->fd, buf, len, 0, (struct sockaddr *) &kernel, sizeof kernel);
  else
    n = send (self->fd, buf, len, MSG_NOSIGNAL);
  if (n < 0 || (gsize) n != len)
    {
      int errsv = n < 0 ? errno : EMSGSIZE;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot send a sock_diag request: %s", g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

/* One reply datagram of the kernel into self->buf, without blocking: its length, 0 when none
 * is queued, -1 with error. Datagrams that did not come from the kernel are dropped. */
static gssize
recv_reply (MptcpSockDiag *self, GError **error)
{
  for (;;)
    {
      struct sockaddr_nl sender;
      socklen_t sender_len = sizeof sender;
      ssize_t r;

      memset (&sender, 0, sizeof sender);
      r = recvfrom (self->fd, self->buf, RECV_BUF_SIZE, MSG_DONTWAIT,
                    self->netlink ? (struct sockaddr *) &sender : NULL,
                    self->netlink ? &sender_len : NULL);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0 && errno == EAGAIN)
        return 0;
      if (r <= 0)
        {
          int errsv = r < 0 ? errno : ECONNRESET;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "Cannot read a sock_diag reply: %s", g_strerror (errsv));
          return -1;
        }
      if (self->netlink && (sender.nl_family != AF_NETLINK || sender.nl_pid != 0))
        continue;
      return r;
    }
}

static gboolean
send_request (MptcpSockDiag *self, MptcpDiagDump *dump, GError **error)
{
  guint8 buf[128] __attribute__ ((aligned (8)));
  gsize len;

  dump->seq = self->next_seq++;
  if (self->next_seq == 0)
    self->next_seq = 1;
  len = _mptcp_sockdiag_build_request_for (dump->step, dump->seq, dump->listeners, buf);
  if (!send_buf (self, buf, len, error))
    {
      dump->running = FALSE;
      return FALSE;
    }
  return TRUE;
}

static guint dumps_started;   /* atomic */

guint
_mptcp_sockdiag_count_dumps (void)
{
  return (guint) g_atomic_int_get (&dumps_started);
}

gboolean
_mptcp_sockdiag_dump_start (MptcpSockDiag *self, MptcpDiagDump *dump, GError **error)
{
  g_atomic_int_inc (&dumps_started);
  g_array_set_size (dump->connections, 0);
  g_array_set_size (dump->subflows, 0);
  dump->step = 0;
  dump->running = TRUE;
  return send_request (self, dump, error);
}

/* The TCP dumps (steps 2 and 3) make the kernel walk the whole TCP hash of the machine, once
 * per request, so a family's TCP dump is only asked for when the MPTCP dumps just before found a
 * connection that can have subflows of that family: AF_INET6 subflows belong only to AF_INET6
 * connections, AF_INET subflows to AF_INET connections and to AF_INET6 ones (IPv4-mapped, or
 * an IPv4 subflow added to a dual-stack socket). A connection the MPTCP dumps list is always in
 * the same dump's subflow search, so nothing is missed, only nothing is looked for in vain. */
static gboolean
tcp_step_needed (const MptcpDiagDump *dump)
{
  guint i;

  if (dump->step < 2)
    return TRUE;
  /* a listener has no subflow to look for */
  for (i = 0; i < dump->connections->len; i++)
    {
      const MptcpDiagSocket *c = &g_array_index (dump->connections, MptcpDiagSocket, i);

      if (c->state != TCP_LISTEN && (dump->step == 2 || c->family == AF_INET6))
        return TRUE;
    }
  return FALSE;
}

gboolean
_mptcp_sockdiag_dump_read (MptcpSockDiag *self, MptcpDiagDump *dump, GError **error)
{
  while (dump->running)
    {
      struct sockaddr_nl sender;
      socklen_t sender_len = sizeof sender;
      gboolean done = FALSE;
      ssize_t n;

      memset (&sender, 0, sizeof sender);
      n = recvfrom (self->fd, self->buf, RECV_BUF_SIZE, MSG_DONTWAIT | MSG_TRUNC,
                    self->netlink ? (struct sockaddr *) &sender : NULL,
                    self->netlink ? &sender_len : NULL);
      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EAGAIN || errsv == EINTR)
            return TRUE;
          dump->running = FALSE;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "Cannot read a sock_diag reply: %s", g_strerror (errsv));
          return FALSE;
        }
      if (n == 0 && !self->netlink)
        {
          dump->running = FALSE;
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               "The sock_diag peer closed the socket");
          return FALSE;
        }
      if (n > RECV_BUF_SIZE)
        {
          dump->running = FALSE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "A sock_diag reply of %zd bytes does not fit the buffer", n);
          return FALSE;
        }
      if (self->netlink && (sender.nl_family != AF_NETLINK || sender.nl_pid != 0))
        continue;
      if (!_mptcp_sockdiag_parse_datagram (self->buf, (gsize) n, dump->seq, dump->step < 2,
                                           dump->keep_tcp,
                                           dump->step < 2 ? dump->connections : dump->subflows,
                                           &done, error))
        {
          dump->running = FALSE;
          return FALSE;
        }
      if (done)
        {
          dump->step++;
          while (dump->step < 4 && !tcp_step_needed (dump))
            {
              /* a skipped request still takes its sequence number: the requests of a dump
               * are numbered alike every time */
              dump->step++;
              if (++self->next_seq == 0)
                self->next_seq = 1;
            }
          if (dump->step == 4)
            dump->running = FALSE;
          else if (!send_request (self, dump, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
_mptcp_sockdiag_dump_sync (MptcpSockDiag  *self,
                           MptcpDiagDump  *dump,
                           guint           timeout_ms,
                           GCancellable   *cancellable,
                           GError        **error)
{
  GPollFD fds[2];
  guint nfds = 1;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!_mptcp_sockdiag_dump_start (self, dump, error))
    return FALSE;
  fds[0].fd = self->fd;
  fds[0].events = G_IO_IN;
  if (g_cancellable_make_pollfd (cancellable, &fds[1]))
    nfds = 2;
  while (dump->running)
    {
      int r;

      fds[0].revents = 0;
      if (nfds == 2)
        fds[1].revents = 0;
      r = g_poll (fds, nfds, (int) timeout_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          dump->running = FALSE;
          break;
        }
      if (r == 0)
        {
          dump->running = FALSE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "No sock_diag reply within %u ms", timeout_ms);
          break;
        }
      if (!_mptcp_sockdiag_dump_read (self, dump, error))
        break;
    }
  if (nfds == 2)
    g_cancellable_release_fd (cancellable);
  return error == NULL || *error == NULL;
}

/* ---- looking up one connection's subflows -------------------------------------------------- */

#define LOOKUP_MSG_SIZE 128

static gsize
build_lookup (const MptcpDiagSocket *s, guint32 seq, guint8 *buf)
{
  struct nlmsghdr *nlh;
  struct inet_diag_req_v2 *req;

  memset (buf, 0, LOOKUP_MSG_SIZE);
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = seq;
  req = mnl_nlmsg_put_extra_header (nlh, sizeof *req);
  req->sdiag_family = s->family;
  req->sdiag_protocol = IPPROTO_TCP;
  /* the ULP info comes with INET_DIAG_INFO only */
  req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
  req->idiag_states = 0xfff;
  req->id.idiag_sport = htons (s->sport);
  req->id.idiag_dport = htons (s->dport);
  memcpy (req->id.idiag_src, s->src, s->family == AF_INET ? 4 : 16);
  memcpy (req->id.idiag_dst, s->dst, s->family == AF_INET ? 4 : 16);
  req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  return MNL_ALIGN (nlh->nlmsg_len);
}

gboolean
_mptcp_sockdiag_lookup_subflows (MptcpSockDiag   *self,
                                 guint32          token,
                                 MptcpDiagSocket *sockets,
                                 guint            n,
                                 GError         **error)
{
  guint8 stack[8 * LOOKUP_MSG_SIZE] __attribute__ ((aligned (8)));
  g_autofree guint8 *heap = NULL;
  guint8 *buf = stack;
  guint32 first;
  gsize len = 0;
  gssize r;
  guint i, answered = 0;

  if (n == 0)
    return TRUE;
  if (n > 8)
    buf = heap = g_malloc (n * LOOKUP_MSG_SIZE);
  first = self->next_seq;
  for (i = 0; i < n; i++)
    {
      sockets[i].cookie = 0;
      sockets[i].ulp_mptcp = 0;
      sockets[i].ulp_attrs = 0;
      sockets[i].token_loc = 0;
      len += build_lookup (&sockets[i], first + i, buf + len);
    }
  self->next_seq += n;
  if (self->next_seq < first || self->next_seq == 0)
    self->next_seq = 1;
  if (!send_buf (self, buf, len, error))
    return FALSE;

  /* one reply per request (the socket or an error), already queued; anything else is skipped */
  while (answered < n)
    {
      MptcpDiagSocket *found;
      const struct nlmsghdr *nlh = (const struct nlmsghdr *) self->buf;
      guint32 k;
      gboolean done;

      r = recv_reply (self, error);
      if (r < 0)
        return FALSE;
      if (r == 0)
        break;               /* fewer replies than asked: the others stay unknown */
      if ((gsize) r < sizeof *nlh)
        continue;
      k = nlh->nlmsg_seq - first;
      if (k >= n)
        continue;            /* a late reply of an older request */
      answered++;
      if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
        continue;            /* ENOENT: no such socket (any more) */
      if (self->lookup == NULL)
        self->lookup = g_array_sized_new (FALSE, FALSE, sizeof (MptcpDiagSocket), 1);
      g_array_set_size (self->lookup, 0);
      if (!_mptcp_sockdiag_parse_datagram (self->buf, (gsize) r, nlh->nlmsg_seq, FALSE, TRUE,
                                           self->lookup, &done, NULL) ||
          self->lookup->len != 1)
        continue;
      found = &g_array_index (self->lookup, MptcpDiagSocket, 0);
      if (found->ulp_attrs && found->token_loc != token)
        continue;            /* the 4-tuple is another connection's now */
      sockets[k].cookie = found->cookie;
      sockets[k].ulp_mptcp = found->ulp_mptcp;
      sockets[k].state = found->state;
      sockets[k].info_len = found->info_len;
      memcpy (sockets[k].info, found->info, found->info_len);
      if (!found->ulp_attrs)
        continue;
      sockets[k].ulp_attrs = 1;
      sockets[k].token_loc = found->token_loc;
      sockets[k].token_rem = found->token_rem;
      sockets[k].id_loc = found->id_loc;
      sockets[k].id_rem = found->id_rem;
      sockets[k].sf_flags = found->sf_flags;
    }
  return TRUE;
}

/* ---- looking up one socket ------------------------------------------------------------------ */

gboolean
_mptcp_sockdiag_lookup_one (MptcpSockDiag         *self,
                            gboolean               mptcp,
                            guint32                token,
                            const MptcpDiagSocket *key,
                            MptcpDiagSocket       *out,
                            gboolean              *found,
                            GError               **error)
{
  guint8 buf[LOOKUP_MSG_SIZE] __attribute__ ((aligned (8)));
  struct nlmsghdr *nlh;
  struct inet_diag_req_v2 *req;
  guint32 seq;
  gsize len;
  gssize r;

  *found = FALSE;
  seq = self->next_seq++;
  if (self->next_seq == 0)
    self->next_seq = 1;
  if (mptcp)
    {
      /* the kernel's MPTCP diag finds a connection by its token (idiag_cookie[0]) */
      memset (buf, 0, sizeof buf);
      nlh = mnl_nlmsg_put_header (buf);
      nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
      nlh->nlmsg_flags = NLM_F_REQUEST;
      nlh->nlmsg_seq = seq;
      req = mnl_nlmsg_put_extra_header (nlh, sizeof *req);
      req->sdiag_family = AF_INET;
      req->sdiag_protocol = IPPROTO_TCP;
      req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
      req->idiag_states = 0xfff;
      req->id.idiag_cookie[0] = token;
      req->id.idiag_cookie[1] = 0;
      mnl_attr_put_u32 (nlh, INET_DIAG_REQ_PROTOCOL, IPPROTO_MPTCP);
      len = MNL_ALIGN (nlh->nlmsg_len);
    }
  else
    len = build_lookup (key, seq, buf);
  if (!send_buf (self, buf, len, error))
    return FALSE;
  /* the reply (the socket or an error) is already queued; anything else is skipped */
  for (;;)
    {
      gboolean done;

      r = recv_reply (self, error);
      if (r < 0)
        return FALSE;
      if (r == 0)
        return TRUE;
      nlh = (struct nlmsghdr *) self->buf;
      if ((gsize) r < sizeof *nlh || nlh->nlmsg_seq != seq)
        continue;
      if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
        return TRUE;           /* ENOENT: no such socket (any more) */
      if (self->lookup == NULL)
        self->lookup = g_array_sized_new (FALSE, FALSE, sizeof (MptcpDiagSocket), 1);
      g_array_set_size (self->lookup, 0);
      if (!_mptcp_sockdiag_parse_datagram (self->buf, (gsize) r, seq, mptcp, TRUE, self->lookup,
                                           &done, error))
        return FALSE;
      if (self->lookup->len != 1)
        return TRUE;
      *out = g_array_index (self->lookup, MptcpDiagSocket, 0);
      *found = TRUE;
      return TRUE;
    }
}

/* ---- the parser ---------------------------------------------------------------------------- */

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "Malformed sock_diag reply: %s", what);
  return FALSE;
}

/* bytes of a nest left after its attribute walk stopped at attr (> 0: a broken attribute) */
static gssize
nest_left (const struct nlattr *nest, const struct nlattr *attr)
{
  return (const char *) mnl_attr_get_payload (nest) + mnl_attr_get_payload_len (nest) -
         (const char *) attr;
}

static gboolean
parse_subflow_attrs (const struct nlattr *nest, MptcpDiagSocket *s, GError **error)
{
  const struct nlattr *attr;

  s->ulp_mptcp = TRUE;
  s->ulp_attrs = TRUE;
  mnl_attr_for_each_nested (attr, nest)
    {
      switch (mnl_attr_get_type (attr))
        {
        case MPTCP_SUBFLOW_ATTR_TOKEN_REM:
          if (mnl_attr_validate (attr, MNL_TYPE_U32) < 0)
            return malformed (error, "subflow remote token");
          memcpy (&s->token_rem, mnl_attr_get_payload (attr), 4);
          break;
        case MPTCP_SUBFLOW_ATTR_TOKEN_LOC:
          if (mnl_attr_validate (attr, MNL_TYPE_U32) < 0)
            return malformed (error, "subflow local token");
          memcpy (&s->token_loc, mnl_attr_get_payload (attr), 4);
          break;
        case MPTCP_SUBFLOW_ATTR_FLAGS:
          if (mnl_attr_validate (attr, MNL_TYPE_U32) < 0)
            return malformed (error, "subflow flags");
          memcpy (&s->sf_flags, mnl_attr_get_payload (attr), 4);
          break;
        case MPTCP_SUBFLOW_ATTR_ID_REM:
          if (mnl_attr_validate (attr, MNL_TYPE_U8) < 0)
            return malformed (error, "subflow remote id");
          s->id_rem = *(const guint8 *) mnl_attr_get_payload (attr);
          break;
        case MPTCP_SUBFLOW_ATTR_ID_LOC:
          if (mnl_attr_validate (attr, MNL_TYPE_U8) < 0)
            return malformed (error, "subflow local id");
          s->id_loc = *(const guint8 *) mnl_attr_get_payload (attr);
          break;
        default:
          break;
        }
    }
  if (nest_left (nest, attr) > 0)
    return malformed (error, "subflow attributes");
  return TRUE;
}

static gboolean
parse_ulp (const struct nlattr *nest, MptcpDiagSocket *s, GError **error)
{
  const struct nlattr *attr;

  mnl_attr_for_each_nested (attr, nest)
    {
      switch (mnl_attr_get_type (attr))
        {
        case INET_ULP_INFO_NAME:
          {
            const char *name = mnl_attr_get_payload (attr);
            guint16 len = mnl_attr_get_payload_len (attr);

            if (len >= 5 && memcmp (name, "mptcp", 5) == 0 && (len == 5 || name[5] == '\0'))
              s->ulp_mptcp = TRUE;
            break;
          }
        case INET_ULP_INFO_MPTCP:
          if (mnl_attr_validate (attr, MNL_TYPE_NESTED) < 0)
            return malformed (error, "ULP info");
          if (!parse_subflow_attrs (attr, s, error))
            return FALSE;
          break;
        default:
          break;
        }
    }
  if (nest_left (nest, attr) > 0)
    return malformed (error, "ULP attributes");
  return TRUE;
}

static gboolean
parse_socket (const struct nlmsghdr *nlh, gboolean mptcp, gboolean keep_tcp, GArray *out,
              GError **error)
{
  struct inet_diag_msg msg;
  const struct nlattr *attr;
  MptcpDiagSocket *s;
  guint index;

  if (mnl_nlmsg_get_payload_len (nlh) < sizeof msg)
    return malformed (error, "short inet_diag_msg");
  memcpy (&msg, mnl_nlmsg_get_payload (nlh), sizeof msg);
  if (msg.idiag_family != AF_INET && msg.idiag_family != AF_INET6)
    return malformed (error, "unknown address family");

  index = out->len;
  g_array_set_size (out, index + 1);
  s = &g_array_index (out, MptcpDiagSocket, index);
  memset (s, 0, G_STRUCT_OFFSET (MptcpDiagSocket, info));
  s->family = msg.idiag_family;
  s->state = msg.idiag_state;
  s->sport = g_ntohs (msg.id.idiag_sport);
  s->dport = g_ntohs (msg.id.idiag_dport);
  memcpy (s->src, msg.id.idiag_src, 16);
  memcpy (s->dst, msg.id.idiag_dst, 16);
  s->cookie = (guint64) msg.id.idiag_cookie[0] | ((guint64) msg.id.idiag_cookie[1] << 32);
  s->uid = msg.idiag_uid;
  s->inode = msg.idiag_inode;

  mnl_attr_for_each (attr, nlh, sizeof msg)
    {
      switch (mnl_attr_get_type (attr))
        {
        case INET_DIAG_INFO:
          {
            guint16 len = mnl_attr_get_payload_len (attr);

            s->info_len = MIN (len, MPTCP_DIAG_INFO_MAX);
            memcpy (s->info, mnl_attr_get_payload (attr), s->info_len);
            break;
          }
        case INET_DIAG_ULP_INFO:
          if (mptcp)
            break;
          if (mnl_attr_validate (attr, MNL_TYPE_NESTED) < 0)
            {
              g_array_set_size (out, index);
              return malformed (error, "ULP nest");
            }
          if (!parse_ulp (attr, s, error))
            {
              g_array_set_size (out, index);
              return FALSE;
            }
          break;
        default:
          break;
        }
    }

  if ((const char *) mnl_nlmsg_get_payload_tail (nlh) - (const char *) attr > 0)
    {
      g_array_set_size (out, index);
      return malformed (error, "socket attributes");
    }
  if (!mptcp && !s->ulp_mptcp && !keep_tcp)
    g_array_set_size (out, index);
  return TRUE;
}

gboolean
_mptcp_sockdiag_parse_datagram (const guint8  *data,
                                gsize          len,
                                guint32        seq,
                                gboolean       mptcp,
                                gboolean       keep_tcp,
                                GArray        *out,
                                gboolean      *done,
                                GError       **error)
{
  const struct nlmsghdr *nlh = (const struct nlmsghdr *) data;
  int left = (int) MIN (len, (gsize) G_MAXINT);

  *done = FALSE;
  if (len < sizeof (struct nlmsghdr))
    return malformed (error, "short datagram");
  while (left > 0)
    {
      /* not mnl_nlmsg_ok(): it takes an nlmsg_len above 2^31 for a negative int */
      if (left < (int) sizeof (struct nlmsghdr) || nlh->nlmsg_len < sizeof (struct nlmsghdr) ||
          nlh->nlmsg_len > (guint32) left)
        return malformed (error, "truncated message");
      if (nlh->nlmsg_seq == seq)
        {
          switch (nlh->nlmsg_type)
            {
            case NLMSG_DONE:
              {
                int status = 0;

                if (mnl_nlmsg_get_payload_len (nlh) >= sizeof status)
                  memcpy (&status, mnl_nlmsg_get_payload (nlh), sizeof status);
                if (status < 0)
                  {
                    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-status),
                                 "The sock_diag dump failed: %s", g_strerror (-status));
                    return FALSE;
                  }
                *done = TRUE;
                return TRUE;
              }
            case NLMSG_ERROR:
              {
                struct nlmsgerr err;

                if (mnl_nlmsg_get_payload_len (nlh) < sizeof err.error)
                  return malformed (error, "short error message");
                memcpy (&err.error, mnl_nlmsg_get_payload (nlh), sizeof err.error);
                if (err.error == 0)
                  break;
                if (err.error > 0 || err.error < -4095)
                  return malformed (error, "error code out of range");
                g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-err.error),
                             "The kernel refused the sock_diag request: %s",
                             g_strerror (-err.error));
                return FALSE;
              }
            case SOCK_DIAG_BY_FAMILY:
              if (!parse_socket (nlh, mptcp, keep_tcp, out, error))
                return FALSE;
              break;
            default:
              break;
            }
        }
      {
        guint32 step = MNL_ALIGN (nlh->nlmsg_len);

        if (step >= (guint32) left)
          break;
        left -= (int) step;
        nlh = (const struct nlmsghdr *) ((const guint8 *) nlh + step);
      }
    }
  return TRUE;
}

static void
normalize (const MptcpDiagSocket *s, gboolean remote, guint8 *family, const guint8 **addr)
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  const guint8 *a = remote ? s->dst : s->src;

  if (s->family == AF_INET6 && memcmp (a, mapped, 12) == 0)
    {
      *family = AF_INET;
      *addr = a + 12;
    }
  else
    {
      *family = s->family;
      *addr = a;
    }
}

gboolean
_mptcp_diag_socket_same_tuple (const MptcpDiagSocket *a, const MptcpDiagSocket *b)
{
  for (int remote = 0; remote < 2; remote++)
    {
      const guint8 *aa, *ba;
      guint8 af, bf;

      normalize (a, remote, &af, &aa);
      normalize (b, remote, &bf, &ba);
      if (af != bf || memcmp (aa, ba, af == AF_INET ? 4 : 16) != 0)
        return FALSE;
    }
  return a->sport == b->sport && a->dport == b->dport;
}
