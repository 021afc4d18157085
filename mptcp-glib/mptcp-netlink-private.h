/* mptcp-netlink-private.h: the netlink broker (generic netlink family "mptcp_pm")
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only room of mptcp-glib that builds or parses netlink messages. It talks to the kernel's
 * "mptcp_pm" family with libmnl, reads its sockets from a GMainContext (no threads) and hands
 * plain C structs up. It knows no public GObject type.
 *
 * Threading: a broker belongs to one GMainContext. _mptcp_netlink_get_for_context() and
 * _mptcp_netlink_ref() may be called from any thread; everything else (the last unref included)
 * must be called from the thread that runs that context, and every callback runs there.
 *
 * Namespaces: a netlink socket acts on, and hears the events of, the network namespace it was
 * created in. A broker is made on first use for its context, in the namespace of the thread that
 * asks first: code that moves a thread to another namespace with setns() must use a new context.
 * Synchronous calls: mptcp-sync-private.h.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-netlink-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>
#include <netinet/in.h>
#include <linux/netlink.h>

G_BEGIN_DECLS

/* An IPv4 or IPv6 address in network byte order; which one is told by a family next to it. */
typedef union
{
  struct in_addr  v4;
  struct in6_addr v6;
} MptcpNlInetAddr;

/* One address as the path-manager commands carry it (MPTCP_PM_ATTR_ADDR / _ADDR_REMOTE nests). */
typedef struct
{
  int              family;     /* AF_INET, AF_INET6, or 0 = no address (and no FAMILY attribute) */
  MptcpNlInetAddr  addr;
  guint16          port;       /* host order; 0 = absent */
  guint8           id;         /* address id */
  gboolean         has_id;
  guint32          flags;      /* MPTCP_PM_ADDR_FLAG_* */
  gboolean         has_flags;
  gint32           ifindex;    /* 0 = absent */
} MptcpNlAddress;

/* A request: the attributes that are sent are the ones marked present. */
typedef struct
{
  guint8          cmd;            /* MPTCP_PM_CMD_* */
  gboolean        dump;           /* NLM_F_DUMP */
  guint32         token;
  gboolean        has_token;
  MptcpNlAddress  addr;           /* MPTCP_PM_ATTR_ADDR */
  gboolean        has_addr;
  MptcpNlAddress  remote;         /* MPTCP_PM_ATTR_ADDR_REMOTE */
  gboolean        has_remote;
  guint8          loc_id;
  gboolean        has_loc_id;
  guint32         subflows;
  gboolean        has_subflows;
  guint32         rcv_add_addrs;
  gboolean        has_rcv_add_addrs;
} MptcpNlRequest;

/* What a successful request brought back. */
typedef struct
{
  GArray   *addresses;     /* of MptcpNlAddress, never NULL: GET_ADDR replies (do or dump) */
  gboolean  has_limits;
  guint32   subflows;      /* GET_LIMITS */
  guint32   rcv_add_addrs; /* GET_LIMITS */
} MptcpNlReply;

/* One event of the "mptcp_pm_events" group. */
typedef struct
{
  guint8           type;          /* MPTCP_EVENT_* incl. MPX_EVENT_LISTENER_* */
  guint32          present;       /* bit (1 << MPTCP_ATTR_x) for every attribute the kernel sent */
  guint32          token;
  int              family;        /* from the family attribute, or inferred from saddr/daddr when
                                   * absent (ANNOUNCED has none); 0 when unknown */
  MptcpNlInetAddr  saddr;
  MptcpNlInetAddr  daddr;
  guint16          sport;         /* HOST order (the kernel sends network order) */
  guint16          dport;         /* HOST order */
  guint8           loc_id;
  guint8           rem_id;
  guint8           backup;
  guint8           error;         /* an errno */
  guint8           server_side;
  guint16          flags;         /* MPX_EV_FLAG_* */
  gint32           ifindex;
  guint32          timeout;
  guint32          reset_reason;
  guint32          reset_flags;
} MptcpNlEvent;

#define MPTCP_NL_EVENT_HAS(event, attr) (((event)->present & (1u << (attr))) != 0)

/* A parsed NLMSG_ERROR (or NLMSG_DONE) message with its extended acknowledgement. */
typedef struct
{
  int       error;        /* positive errno; 0 = success */
  char     *message;      /* NLMSGERR_ATTR_MSG, or NULL */
  guint32   miss_type;    /* NLMSGERR_ATTR_MISS_TYPE, 0 = none */
  guint32   miss_nest;    /* NLMSGERR_ATTR_MISS_NEST (offset), 0 = none */
  guint32   offset;       /* NLMSGERR_ATTR_OFFS */
  gboolean  has_offset;
} MptcpNlAck;

typedef struct _MptcpNetlink MptcpNetlink;

/* ---- the broker ---------------------------------------------------------------------------- */

/* One broker per GMainContext (NULL = the thread-default context), shared and reference counted.
 * Opens the request socket, resolves the family id and the "mptcp_pm_events" group once, sets
 * NETLINK_EXT_ACK and NETLINK_CAP_ACK. Family missing: MPTCP_ERROR_NOT_SUPPORTED. Thread safe. */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpNetlink *_mptcp_netlink_get_for_context (GMainContext *context, GError **error);
G_GNUC_INTERNAL
MptcpNetlink *_mptcp_netlink_ref             (MptcpNetlink *self);
G_GNUC_INTERNAL
void          _mptcp_netlink_unref           (MptcpNetlink *self);

/* For tests: a broker on pre-made sockets (e.g. socketpair(AF_UNIX, SOCK_DGRAM) peers to a
 * scripted fake kernel), with the given family id and event group; not registered in the global
 * table. Takes ownership of both fds (event_fd may be -1: subscribing then fails). Messages read
 * from a netlink fd must come from the kernel (nl_pid 0); from any other kind of socket every
 * message is accepted. */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpNetlink *_mptcp_netlink_new_for_fds     (int           request_fd,
                                              int           event_fd,
                                              guint16       family_id,
                                              guint32       event_group,
                                              GMainContext *context);

G_GNUC_INTERNAL
GMainContext *_mptcp_netlink_get_context     (MptcpNetlink *self);
G_GNUC_INTERNAL
guint16       _mptcp_netlink_get_family_id   (MptcpNetlink *self);
G_GNUC_INTERNAL
guint32       _mptcp_netlink_get_event_group (MptcpNetlink *self);
/* Events the kernel says it dropped on the event socket (SK_MEMINFO_DROPS, read at each
 * overrun), over the broker's life; 0 where the kernel does not tell. */
G_GNUC_INTERNAL
guint64       _mptcp_netlink_get_events_lost (MptcpNetlink *self);
/* Test hook: the event socket's fd, or -1 while there is none. */
G_GNUC_INTERNAL
int           _mptcp_netlink_get_event_fd    (MptcpNetlink *self);

/* Requests: matched by nlmsg_seq to their GTask; NLM_F_ACK always; a timeout (ms, 0 = the
 * default 5000) fails with G_IO_ERROR_TIMED_OUT; cancellation removes the pending entry and fails
 * with G_IO_ERROR_CANCELLED; a late reply for a removed seq is dropped. Dumps collect every part
 * until NLMSG_DONE. At most 64 requests are in flight per broker, and one dump (the kernel runs
 * one per socket); later ones wait their turn, in order (the timeout runs from the call). A
 * read-only request (GET_ADDR, GET_LIMITS, any dump) whose reply was lost (receive buffer
 * overrun, or ENOBUFS / EBUSY from the kernel) is sent again, up to 16 times. The callback runs in the broker's context. A pending request holds
 * a reference on the broker. */
G_GNUC_INTERNAL
void          _mptcp_netlink_request_async  (MptcpNetlink         *self,
                                             const MptcpNlRequest *request,
                                             guint                 timeout_ms,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpNlReply *_mptcp_netlink_request_finish (MptcpNetlink         *self,
                                             GAsyncResult         *result,
                                             GError              **error);

/* The same request for the library's own callers, without a GTask: func gets the reply or the
 * error (both its own to free), straight from the broker's dispatch, in the broker's context;
 * never from within this call (a request that fails at once completes from an idle). The caller
 * must be in the broker's context. No cancellable. */
typedef void (*MptcpNlReplyFunc) (MptcpNlReply *reply,
                                  GError       *error,
                                  gpointer      user_data);

G_GNUC_INTERNAL
void          _mptcp_netlink_request_direct (MptcpNetlink         *self,
                                             const MptcpNlRequest *request,
                                             guint                 timeout_ms,
                                             MptcpNlReplyFunc      func,
                                             gpointer              user_data);

/* The same request, run by the runner of mptcp-sync-private.h on the thread's broker for the
 * namespace the thread is in (it lives in mptcp-sync-private.c: the runner uses the broker,
 * never the other way round). */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpNlReply *_mptcp_netlink_request_sync   (const MptcpNlRequest *request,
                                             guint                 timeout_ms,
                                             GCancellable         *cancellable,
                                             GError              **error);

/* Events: a separate socket per broker that joins "mptcp_pm_events" on the first subscription
 * and is closed with the last. Joining needs CAP_NET_ADMIN: MPTCP_ERROR_PERMISSION_DENIED.
 * Subscribers of a token get that connection's events (looked up in a hash table); "all"
 * subscribers get every event, including those without a token (LISTENER_*). Token subscribers
 * are called before "all" ones, each group in subscription order. On an overrun (ENOBUFS: events
 * were lost) every subscriber's overrun_func is called, then reading goes on. A callback may
 * subscribe and unsubscribe (itself or others); a subscriber removed during a dispatch is not
 * called any more. Subscriptions hold no reference on the broker: unsubscribe before dropping
 * yours. */
typedef void (*MptcpNlEventFunc)   (const MptcpNlEvent *event, gpointer user_data);
typedef void (*MptcpNlOverrunFunc) (gpointer user_data);

G_GNUC_INTERNAL
guint         _mptcp_netlink_subscribe      (MptcpNetlink        *self,
                                             gboolean             all,
                                             guint32              token,
                                             MptcpNlEventFunc     event_func,
                                             MptcpNlOverrunFunc   overrun_func,
                                             gpointer             user_data,
                                             GError             **error);   /* id > 0, or 0 */
G_GNUC_INTERNAL
void          _mptcp_netlink_unsubscribe    (MptcpNetlink        *self,
                                             guint                id);

/* Leave the replies that arrive during the current dispatch of the broker's context to the
 * request socket's own source in the next iteration, instead of reading them at the end of
 * the event source's dispatch: for a caller whose completion at the reply returns a GTask
 * made in this iteration (GTask would return it from an idle source of its own, one more
 * source and iteration). Only for the current iteration. */
G_GNUC_INTERNAL
void          _mptcp_netlink_defer_replies  (MptcpNetlink        *self);

/* TRUE between an event socket overrun and the end of what was queued before it (the read
 * that finds the socket empty): the kernel drops the newest events and reports the loss
 * first, so what is read then is older than the subscribers' resynchronisation. */
G_GNUC_INTERNAL
gboolean      _mptcp_netlink_events_unsure  (MptcpNetlink        *self);

/* Test hook: SO_RCVBUF of the event socket (applied now if it is open, and whenever it opens);
 * 0 = leave the system default. */
G_GNUC_INTERNAL
void          _mptcp_netlink_set_event_rcvbuf (MptcpNetlink *self,
                                               int           bytes);

/* ---- pure functions (no sockets): also used by the fuzz target and the tests ----------------- */

/* In mptcp-netlink-codec.c. */

/* Not NLMSG_ALIGN: it masks with an unsigned int, which clears the high half of a gsize. */
#define MPTCP_NL_ALIGN4(len) (((gsize) (len) + 3) & ~(gsize) 3)
/* Room for the largest request _mptcp_netlink_build_request() makes */
#define MPTCP_NL_REQUEST_BUF_SIZE 512

/* Copies the header of the message at buf and checks that the message fits in len. */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_read_msg_header    (const guint8    *buf,
                                             gsize            len,
                                             struct nlmsghdr *nlh);

/* Parses CTRL_CMD_NEWFAMILY of "mptcp_pm": family id and the id of the event group. */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_parse_family       (const guint8 *msg,
                                             gsize         len,
                                             guint16      *family_id,
                                             guint32      *event_group);

/* Builds one request message in buf (4-byte aligned). Returns its length, 0 if it does not fit. */
G_GNUC_INTERNAL
gsize     _mptcp_netlink_build_request      (const MptcpNlRequest *request,
                                             guint16               family_id,
                                             guint32               seq,
                                             guint8               *buf,
                                             gsize                 buf_len);

/* Parses one event message (nlmsghdr + genlmsghdr + attributes, any alignment). The message type
 * is not checked (the broker compares it with the family id). Attributes of an unexpected size are
 * ignored. FALSE if the message is truncated or its attributes are malformed. */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_parse_event        (const guint8 *buf,
                                             gsize         len,
                                             MptcpNlEvent *event);

/* Parses one reply message of the family (GET_ADDR / GET_LIMITS payload) and adds what it holds
 * to reply (an address nest is appended to reply->addresses). FALSE if malformed. */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_parse_reply_message (const guint8 *buf,
                                              gsize         len,
                                              MptcpNlReply *reply);

/* Parses an NLMSG_ERROR or NLMSG_DONE message, with its extended-ack attributes. FALSE if it is
 * neither or is malformed. Clear ack with _mptcp_nl_ack_clear(). */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_parse_ack          (const guint8 *buf,
                                             gsize         len,
                                             MptcpNlAck   *ack);

/* errno (positive) + extack → GError, for command cmd. miss_type 0 = none. */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
GError   *_mptcp_netlink_error_new          (int           err,
                                             guint8        cmd,
                                             const char   *extack_msg,
                                             guint32       miss_type);

/* TRUE if a received message came from the kernel (AF_NETLINK, nl_pid 0). */
G_GNUC_INTERNAL
gboolean  _mptcp_netlink_sender_is_kernel   (const struct sockaddr_nl *sender);

/* A v4-mapped IPv6 address (::ffff:a.b.c.d) becomes AF_INET; anything else is left alone. */
G_GNUC_INTERNAL
void      _mptcp_nl_inet_normalize          (int             *family,
                                             MptcpNlInetAddr *addr);
G_GNUC_INTERNAL
void      _mptcp_nl_address_normalize       (MptcpNlAddress *address);

G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpNlReply *_mptcp_nl_reply_new           (void);
G_GNUC_INTERNAL
void          _mptcp_nl_reply_free          (MptcpNlReply *reply);
G_GNUC_INTERNAL
void          _mptcp_nl_ack_clear           (MptcpNlAck *ack);

/* "ADD_ADDR", "SUBFLOW_CREATE", …; NULL when unknown. */
G_GNUC_INTERNAL
const char   *_mptcp_nl_cmd_name            (guint8 cmd);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpNetlink, _mptcp_netlink_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpNlReply, _mptcp_nl_reply_free)

G_END_DECLS
