/* mptcp-netlink-broker-private.h: what the broker's two rooms share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mptcp-netlink.c: the broker's construction, request socket, pending table and timeouts.
 * mptcp-netlink-events.c: its event socket and subscriptions. (The codec, which both use:
 * mptcp-netlink-codec.c.)
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-netlink-broker-private.h is private to mptcp-netlink"
#endif

#include <sys/socket.h>
#include <glib-unix.h>

#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

/* The event socket's receive buffer, as `ip mptcp monitor` asks */
#define EVENT_RCVBUF         (1024 * 1024)

/* Larger than any datagram the kernel builds for us: dumps are capped at 32 KiB, single
 * messages at NLMSG_GOODSIZE. */
#define RECV_BUF_SIZE        65536

/* Datagrams read per dispatch, so that an event storm cannot starve the context. */
#define MAX_READS_PER_DISPATCH 128

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

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
  guint         parks;       /* times parked: a batch read before a park is dropped */
  guint         batch;       /* datagrams per read: EVENT_BATCH, 1 for a socket not owned */
  GSource      *source;
  guint8       *buf;         /* RECV_BUF_SIZE: EVENT_BATCH slots of EVENT_SLOT_SIZE */
} EventSock;

/* The event socket is read with recvmmsg(), this many datagrams per call into slots of this
 * size (each event is one datagram of less than 200 bytes). A socket given to
 * _mptcp_netlink_new_for_fds() is read one datagram per call: it is closed, not parked, when
 * the last subscriber leaves, and what is queued behind that moment stays in it for the next
 * subscriber (a socket of the broker's own drops it when parked: nobody asked for it). */
#define EVENT_BATCH          16
#define EVENT_SLOT_SIZE      (RECV_BUF_SIZE / EVENT_BATCH)

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
  gint64         defer_replies_at; /* _mptcp_netlink_defer_replies() was called in the
                                    * iteration of this time (g_source_get_time()), or 0 */

  /* events */
  int            fixed_event_fd; /* _new_for_fds: kept open for the broker's life, or -1 */
  gboolean       for_fds;       /* made by _new_for_fds: never opens an event socket itself */
  int            event_rcvbuf;
  guint32        event_drops_seen;  /* the event socket's SK_MEMINFO_DROPS at the last look */
  guint64        events_lost;    /* what the kernel says it dropped, over the broker's life */
  gboolean       events_unsure;  /* from an overrun until the event socket is drained: the
                                  * events still read were queued before the loss, and may
                                  * be of what the overrun's resynchronisation found gone */
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

/* mptcp-netlink.c */

/* Reads one datagram from fd; *accept says whether its sender is the kernel, *truncated whether
 * it was cut short. */
G_GNUC_INTERNAL
gssize    _mptcp_netlink_recv_datagram (MptcpNetlink       *self,
                                        int                 fd,
                                        guint8             *buf,
                                        gsize               size,
                                        gboolean           *accept,
                                        gboolean           *truncated);
/* Whether a received datagram (msg as recvmsg() filled it) is one to read: from the kernel
 * (on a netlink socket) and whole; *truncated says when it was cut short. */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_datagram_accept (MptcpNetlink        *self,
                                          const struct msghdr *msg,
                                          gboolean            *truncated);
/* Reads the replies already queued on the request socket, if requests are in flight and the
 * replies' source is not dispatching (the event source calls it after its datagrams). */
G_GNUC_INTERNAL
void      _mptcp_netlink_read_queued_replies (MptcpNetlink *self);
G_GNUC_INTERNAL
GSource  *_mptcp_netlink_fd_source_new (int                 fd,
                                        GUnixFDSourceFunc   func,
                                        gpointer            data,
                                        const char         *name,
                                        GMainContext       *context);

/* mptcp-netlink-events.c */

/* The subscriber tables of a new broker, and their end with the broker (the event socket too). */
G_GNUC_INTERNAL
void      _mptcp_netlink_events_init   (MptcpNetlink       *self);
G_GNUC_INTERNAL
void      _mptcp_netlink_events_clear  (MptcpNetlink       *self);

G_END_DECLS
