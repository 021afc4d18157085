/* mptcp-netlink-events.c: the broker's event socket and subscriptions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One event socket per broker, opened by the first subscription and parked with the last one,
 * joins the "mptcp_pm_events" group. Events are parsed (mptcp-netlink-codec.c) into MptcpNlEvent
 * and handed to the subscribers of their token (hash table) and to the "all" subscribers.
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
#include "mptcp-netlink-broker-private.h"

/* ---- subscribers ---------------------------------------------------------------------------- */

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
                        const guint8 *buf,
                        gsize         len)
{
  gsize offset = 0;

  while (offset < len && !es->closed && !es->parked)
    {
      struct nlmsghdr nlh;
      MptcpNlEvent event;
      gsize step;

      if (!_mptcp_netlink_read_msg_header (buf + offset, len - offset, &nlh))
        break;
      if (nlh.nlmsg_type == self->family_id
          && _mptcp_netlink_parse_event (buf + offset, nlh.nlmsg_len, &event))
        dispatch_event (self, &event);
      step = MPTCP_NL_ALIGN4 (nlh.nlmsg_len);
      if (step >= len - offset)
        break;
      offset += step;
    }
}

/* The datagrams of one recvmmsg() (n of them), in order; stops where the socket closed or was
 * parked by a subscriber (what is left was queued before). */
static void
process_event_batch (MptcpNetlink         *self,
                     EventSock            *es,
                     const struct mmsghdr *msgs,
                     guint                 n)
{
  guint parks = es->parks;

  for (guint i = 0; i < n && !es->closed && !es->parked && es->parks == parks; i++)
    {
      const struct msghdr *hdr = &msgs[i].msg_hdr;
      gboolean truncated;

      if (_mptcp_netlink_datagram_accept (self, hdr, &truncated))
        process_event_datagram (self, es, hdr->msg_iov->iov_base, msgs[i].msg_len);
    }
}

/* Reads what is queued, es->batch datagrams per system call. A short batch means the socket
 * was empty: no further read (and its EAGAIN) unless a handler sent a request meanwhile (the
 * kernel may have queued its events while it handled the request) or an overrun's aftermath is
 * being drained (events_unsure ends only with a read that finds the socket empty). */
static gboolean
event_source_cb (gint         fd,
                 GIOCondition condition,
                 gpointer     user_data)
{
  EventSock *es = user_data;
  MptcpNetlink *self = _mptcp_netlink_ref (es->owner);
  struct mmsghdr msgs[EVENT_BATCH];
  struct iovec iov[EVENT_BATCH];
  struct sockaddr_nl senders[EVENT_BATCH];
  guint reads = 0;

  es->ref_count++;
  memset (msgs, 0, es->batch * sizeof msgs[0]);
  for (guint i = 0; i < es->batch; i++)
    {
      iov[i].iov_base = es->buf + i * EVENT_SLOT_SIZE;
      iov[i].iov_len = es->batch > 1 ? EVENT_SLOT_SIZE : RECV_BUF_SIZE;
      msgs[i].msg_hdr.msg_name = &senders[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  while (reads < MAX_READS_PER_DISPATCH && !es->closed)
    {
      guint32 seq_before = self->next_seq;
      int n;

      /* the kernel writes msg_namelen, msg_flags and msg_len of each; the rest stays */
      for (guint i = 0; i < es->batch; i++)
        msgs[i].msg_hdr.msg_namelen = sizeof senders[i];
      n = recvmmsg (es->fd, msgs, es->batch, MSG_DONTWAIT, NULL);
      if (n < 0)
        {
          if (errno == EINTR)
            {
              reads++;
              continue;
            }
          if (errno == ENOBUFS)
            {
              self->events_unsure = TRUE;
              dispatch_overrun (self);
              reads++;
              continue;
            }
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            g_debug ("mptcp-netlink: reading events: %s", g_strerror (errno));
          else
            self->events_unsure = FALSE;
          break;
        }
      reads += (guint) n;
      process_event_batch (self, es, msgs, (guint) n);
      if ((guint) n < es->batch && !self->events_unsure && self->next_seq == seq_before)
        break;
    }
  _mptcp_netlink_read_queued_replies (self);
  event_sock_unref (es);
  _mptcp_netlink_unref (self);
  return G_SOURCE_CONTINUE;
}

gboolean
_mptcp_netlink_events_unsure (MptcpNetlink *self)
{
  return self->events_unsure;
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
  es->batch = owns_fd ? EVENT_BATCH : 1;
  es->buf = g_malloc (RECV_BUF_SIZE);
  es->source = _mptcp_netlink_fd_source_new (fd, event_source_cb, es, "mptcp-netlink events", self->context);
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
  es->parks++;
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

void
_mptcp_netlink_events_init (MptcpNetlink *self)
{
  self->fixed_event_fd = -1;
  self->subscribers = g_hash_table_new (subscriber_id_hash, subscriber_id_equal);
  self->by_token = g_hash_table_new (subscriber_token_hash, subscriber_token_equal);
  self->all_subscribers = g_ptr_array_new ();
}

void
_mptcp_netlink_events_clear (MptcpNetlink *self)
{
  GHashTableIter iter;
  gpointer value;

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
}
