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
 * - The event socket and the subscriptions: mptcp-netlink-events.c.
 * - Anything read from a netlink socket whose sender is not the kernel (nl_pid != 0) is dropped.
 * - Building and parsing messages: mptcp-netlink-codec.c (no sockets).
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

/* ---- the broker ---------------------------------------------------------------------------- */

typedef struct _Pending Pending;

static GMutex brokers_lock;
static GHashTable *brokers;     /* GMainContext* → MptcpNetlink*, no references */

static void pending_complete (Pending *p, MptcpNlReply *reply, GError *error);
static void flush_waiting (MptcpNetlink *self);

gssize
_mptcp_netlink_recv_datagram (MptcpNetlink *self,
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
  *accept = _mptcp_netlink_datagram_accept (self, &msg, truncated);
  return n;
}

gboolean
_mptcp_netlink_datagram_accept (MptcpNetlink        *self,
                                const struct msghdr *msg,
                                gboolean            *truncated)
{
  const struct sockaddr_nl *sender = msg->msg_name;

  *truncated = FALSE;
  if (self->is_netlink
      && (msg->msg_namelen < sizeof *sender || !_mptcp_netlink_sender_is_kernel (sender)))
    {
      g_debug ("mptcp-netlink: dropping a message from port id %u (not the kernel)",
               (guint) sender->nl_pid);
      return FALSE;
    }
  if (msg->msg_flags & MSG_TRUNC)
    {
      g_debug ("mptcp-netlink: dropping a truncated datagram");
      *truncated = TRUE;
      return FALSE;
    }
  return TRUE;
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

GSource *
_mptcp_netlink_fd_source_new (int                fd,
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

  if (!_mptcp_netlink_read_msg_header (msg, len, &nlh))
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

      if (!_mptcp_netlink_read_msg_header (buf + offset, len - offset, &nlh))
        break;
      process_reply_message (self, buf + offset, nlh.nlmsg_len);
      step = MPTCP_NL_ALIGN4 (nlh.nlmsg_len);
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
      gssize n = _mptcp_netlink_recv_datagram (self, fd, self->request_buf, RECV_BUF_SIZE, &accept, &truncated);

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

/* A request the event handlers sent (the policy's SUBFLOW_CREATE on ESTABLISHED) is answered
 * while it is sent, so its ack is queued by the time the event source is done: read now, it
 * spares the context an iteration (prepare, poll, check, dispatch) per request. */
void
_mptcp_netlink_read_queued_replies (MptcpNetlink *self)
{
  if (g_hash_table_size (self->pending) == 0 || self->congested ||
      ((FdSource *) self->request_source)->dispatching)
    return;
  if (self->defer_replies_at != 0)
    {
      GSource *current = g_main_current_source ();
      gint64 at = self->defer_replies_at;

      self->defer_replies_at = 0;
      if (current != NULL && g_source_get_time (current) == at)
        return;   /* the request source reads them in the next iteration */
    }
  request_source_cb (self->request_fd, G_IO_IN, self);
}

void
_mptcp_netlink_defer_replies (MptcpNetlink *self)
{
  GSource *current = g_main_current_source ();

  /* only inside a dispatch of the broker's context: elsewhere nothing reads inline */
  if (current == NULL || g_source_get_context (current) != self->context)
    return;
  self->defer_replies_at = g_source_get_time (current);
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

/* One send of a request's message: 0 or the errno. */
static int
send_message (MptcpNetlink *self,
              const guint8 *message,
              gsize         len)
{
  gssize n;

  do
    n = send (self->request_fd, message, len, 0);
  while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

/* Completes p (not sent) with the error of its failed send. */
static void
pending_send_failed (Pending *p,
                     int      saved)
{
  /* p->sent is FALSE: pending_complete also removes it from the queue if it is there */
  pending_complete (p, NULL,
                    g_error_new (G_IO_ERROR, g_io_error_from_errno (saved),
                                 "Could not send %s to the kernel: %s",
                                 _mptcp_nl_cmd_name (p->cmd) != NULL
                                 ? _mptcp_nl_cmd_name (p->cmd) : "a request",
                                 g_strerror (saved)));
}

static void
pending_mark_sent (Pending *p)
{
  MptcpNetlink *self = p->self;

  p->sent = TRUE;
  self->in_flight++;
  if (p->dump)
    self->dumps_in_flight++;
  /* a read-only request keeps its message: it is sent again if its reply is lost */
  if (!p->read_only)
    g_clear_pointer (&p->message, g_free);
}

static gboolean
pending_send (Pending *p)
{
  int saved = send_message (p->self, p->message, p->message_len);

  if (saved != 0)
    {
      pending_send_failed (p, saved);
      return FALSE;
    }
  pending_mark_sent (p);
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

/* Arms the broker's timer for a deadline if it is earlier than the armed one. Called after
 * the send: arming may write the context's eventfd (GLib 2.74 wakes the context on any
 * g_source_set_ready_time()), which a request should not wait for. Nothing can expire
 * between the registration and this (the timer runs in the same context). */
static void
arm_timer (MptcpNetlink *self,
           gint64        deadline)
{
  gint64 ready = g_source_get_ready_time (self->timer);

  if (ready < 0 || deadline < ready)
    g_source_set_ready_time (self->timer, deadline);
}

/* GET_ADDR, GET_LIMITS, dumps: safe to send again */
static gboolean
request_read_only (const MptcpNlRequest *request)
{
  return request->dump || request->cmd == MPTCP_PM_CMD_GET_ADDR ||
         request->cmd == MPTCP_PM_CMD_GET_LIMITS;
}

/* A new Pending entry for a request whose message (len bytes, sequence number seq) is
 * built, registered under seq. message NULL: it was sent already and is not to be kept.
 * The caller sets the completion (task or func), queues or marks it sent, then arms the
 * timer for p->deadline. */
static Pending *
pending_new (MptcpNetlink         *self,
             const MptcpNlRequest *request,
             guint32               seq,
             const guint8         *message,
             gsize                 len,
             guint                 timeout_ms)
{
  Pending *p = g_new0 (Pending, 1);

  p->self = _mptcp_netlink_ref (self);
  p->seq = seq;
  p->cmd = request->cmd;
  p->dump = request->dump;
  p->read_only = request_read_only (request);
  p->reply = _mptcp_nl_reply_new ();
  if (message != NULL)
    p->message = g_memdup2 (message, len);
  p->message_len = len;
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (seq), p);

  p->deadline = g_get_monotonic_time ()
                + (gint64) (timeout_ms != 0 ? timeout_ms : DEFAULT_TIMEOUT_MS) * G_TIME_SPAN_MILLISECOND;
  return p;
}

/* Builds a request's message into buf (MPTCP_NL_REQUEST_BUF_SIZE bytes) under a new sequence
 * number; returns its length. */
static gsize
build_message (MptcpNetlink         *self,
               const MptcpNlRequest *request,
               guint8               *buf,
               guint32              *seq)
{
  gsize len;

  *seq = next_seq (self);
  len = _mptcp_netlink_build_request (request, self->family_id, *seq, buf,
                                      MPTCP_NL_REQUEST_BUF_SIZE);
  /* the largest request (token, ids, two address nests, flags) is about 180 bytes */
  g_assert (len != 0);
  return len;
}

/* Whether a new request can go out now, before anything queued (nothing is). */
static gboolean
can_send_now (MptcpNetlink         *self,
              const MptcpNlRequest *request)
{
  return g_queue_is_empty (&self->waiting) && !self->flushing && !self->congested &&
         self->in_flight < MAX_IN_FLIGHT &&
         (!request->dump || self->dumps_in_flight < MAX_DUMPS_IN_FLIGHT);
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
  guint8 buf[MPTCP_NL_REQUEST_BUF_SIZE] __attribute__ ((aligned (8)));
  GTask *task;
  Pending *p;
  gint64 deadline;
  guint32 seq;
  gsize len;

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
  (g_task_set_source_tag) (task, _mptcp_netlink_request_async);   /* named below */
  g_task_set_name (task, "[mptcp-glib] netlink request");

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  len = build_message (self, request, buf, &seq);
  p = pending_new (self, request, seq, buf, len, timeout_ms);
  p->task = task;
  deadline = p->deadline;

  if (cancellable != NULL)
    {
      p->cancellable = g_object_ref (cancellable);
      p->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (pending_cancelled_cb), p,
                                            NULL);
    }

  g_queue_push_tail (&self->waiting, p);
  /* p may be complete after this (a failed send): its deadline was kept */
  flush_waiting (self);
  arm_timer (self, deadline);
}

void
_mptcp_netlink_request_direct (MptcpNetlink         *self,
                               const MptcpNlRequest *request,
                               guint                 timeout_ms,
                               MptcpNlReplyFunc      func,
                               gpointer              user_data)
{
  guint8 buf[MPTCP_NL_REQUEST_BUF_SIZE] __attribute__ ((aligned (8)));
  Pending *p;
  gint64 deadline;
  guint32 seq;
  gsize len;
  int saved = 0;
  gboolean now;

  g_return_if_fail (self != NULL);
  g_return_if_fail (request != NULL);
  g_return_if_fail (func != NULL);

  len = build_message (self, request, buf, &seq);
  /* nothing queued: sent first, straight from buf, and registered after (the reply is read
   * in this context, so it cannot be looked up before); a read-only request keeps a copy */
  now = can_send_now (self, request);
  if (now)
    saved = send_message (self, buf, len);
  p = pending_new (self, request, seq,
                   !now || saved != 0 || request_read_only (request) ? buf : NULL,
                   len, timeout_ms);
  p->func = func;
  p->func_data = user_data;
  deadline = p->deadline;

  self->submitting = p;
  if (!now)
    {
      g_queue_push_tail (&self->waiting, p);
      flush_waiting (self);
    }
  else if (saved != 0)
    pending_send_failed (p, saved);
  else
    pending_mark_sent (p);
  self->submitting = NULL;
  /* p may be complete by now: its deadline was kept */
  arm_timer (self, deadline);
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
  _mptcp_netlink_events_init (self);

  self->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_set_static_name (self->timer, "mptcp-netlink request timeouts");
  g_source_attach (self->timer, context);

  self->request_source = _mptcp_netlink_fd_source_new (request_fd, request_source_cb, self,
                                        "mptcp-netlink replies", context);
  return self;
}

static void
broker_free (MptcpNetlink *self)
{
  /* every pending request holds a reference, so none can be left */
  g_assert (g_hash_table_size (self->pending) == 0);

  _mptcp_netlink_events_clear (self);
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

          if (!_mptcp_netlink_read_msg_header (buf + offset, n - offset, &hdr))
            break;
          if (hdr.nlmsg_seq == seq)
            {
              if (hdr.nlmsg_type == GENL_ID_CTRL)
                found = _mptcp_netlink_parse_family (buf + offset, hdr.nlmsg_len, family_id, event_group);
              else if (hdr.nlmsg_type == NLMSG_ERROR || hdr.nlmsg_type == NLMSG_DONE)
                {
                  MptcpNlAck ack;

                  if (_mptcp_netlink_parse_ack (buf + offset, hdr.nlmsg_len, &ack))
                    failure = ack.error;
                  _mptcp_nl_ack_clear (&ack);
                  done = TRUE;
                }
            }
          if (MPTCP_NL_ALIGN4 (hdr.nlmsg_len) >= n - offset)
            break;
          offset += MPTCP_NL_ALIGN4 (hdr.nlmsg_len);
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
