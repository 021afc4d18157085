/* mptcp-connection-impl-private.h: the instance of MptcpConnection, shared by its rooms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-connection-impl-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection.h"
#include "mptcp-connection-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-hangup-watch-private.h"
#include "mptcp-subflow-list-private.h"
#include "mptcp-error.h"

G_BEGIN_DECLS

/* What an idle connection does not use (failed init, caller's refreshes,
 * polling, control operations), kept out of the instance to keep it small
 * (about 1000 idle connections per MiB is a goal, see bench/README.md). */
typedef struct
{
  GError *init_error;

  guint next_id;                 /* legacy path: the library's subflow numbers */

  /* Two read buffers, used in turn: the listed subflows' statistics point
   * into kernel[cur] (the last successful read) while the next read fills
   * the other one, so a subflow that disappears can still copy its last
   * statistics. Both are reused across refreshes. NULL until the first
   * mptcp_connection_refresh(): the library's own reads (construction,
   * events, polling) go through a per-thread scratch list and copy each
   * subflow's tcp_info into the subflow, so an idle connection holds no
   * read buffer. */
  MptcpSockoptList *kernel;
  guint cur;

  /* the kernel's backup flags (sock_diag), read by caller's refreshes */
  guint64 netns_cookie;          /* of the socket's namespace; 0: not read yet */
  gint64 flags_read_at;          /* monotonic time of the last read, 0: never */

  /* events */
  guint poll_interval;
  GSource *poll_source;

  /* control */
  guint control_timeout;
  GArray *ids;                   /* IdEntry: the kernel's local address list as we know it */
  GList *ops;                    /* pending ops: opens tell their subflows apart, and all
                                  * end when the connection does */
  GArray *spare_before;          /* KernelEntry, empty: an ended open's list of what was there
                                  * before it, kept for the next one (its allocation was a
                                  * cost that grew with the subflows) */
  GList *unidentified;           /* the opens in ops whose request went out and whose subflow
                                  * is not known, no references (_mptcp_control_open_recount()) */
  GList *event_ops;              /* pending opens and closes fed by this connection's
                                  * event subscription (instead of their own) */
  GArray *stale;                 /* Tuple: subflows a synchronous call closed, whose events
                                  * the connection's own broker has still to deliver */
  MptcpNetlink *ids_loading;     /* the broker a GET_ADDR of the connection is on, or NULL */
  GList *ids_waiters;            /* MptcpControlOp*, referenced: what waits for that load */
} ConnectionExtra;

struct _MptcpConnection
{
  GObject parent_instance;

  GSocket *socket;
  GSocketConnection *stream;     /* kept alive: disposing it closes the socket */
  GMainContext *context;
  GThread *thread;               /* the constructing thread, no reference: the only caller */

  guint32 token;
  /* flags, as bits to keep the instance small (about 1000 idle connections
   * per MiB is a goal, see bench/README.md) */
  guint fallback : 1;
  guint closed : 1;
  guint in_refresh : 1;
  guint initialized : 1;         /* GInitable: init ran, with this outcome */
  guint in_init : 1;             /* init is running: nobody can watch the list or the
                                  * signals yet (the model is not out) */
  guint path_forced : 1;
  guint established : 1;         /* MptcpConnection:established */
  guint ids_loaded : 1;
  guint service_policy : 2;      /* MptcpServicePolicy */

  MptcpSockoptAddr local_raw;    /* normalised, read at init */
  MptcpSockoptAddr remote_raw;
  GInetSocketAddress *local;     /* made from the raw ones on first get */
  GInetSocketAddress *remote;

  MptcpSubflowList *subflows;
  MptcpSubflowBackref *backref;  /* shared with our subflows, made by the first */

  MptcpSockoptPath path;

  /* events */
  MptcpNetlink *netlink;         /* the broker of context, or NULL */
  guint sub_id;                  /* its event subscription for token, 0 = none */
  MptcpEventSource event_source;
  MptcpHangupWatch hup;          /* NETLINK mode: the socket's HUP/ERR (a peer's reset sends no
                                  * event) */

  ConnectionExtra *extra;        /* NULL until first needed, see extra_get() */
};

/* Read access: the connection's extra fields, or their defaults if it has
 * none yet (never to be written through). */
static const ConnectionExtra extra_defaults = {
  .next_id = 1,
  .control_timeout = 10000,
  .poll_interval = 1000,
};

static inline const ConnectionExtra *
extra_ro (MptcpConnection *self)
{
  return self->extra != NULL ? self->extra : &extra_defaults;
}

/* Write access: allocates the extra fields, set to their defaults, on first
 * need. */
static inline ConnectionExtra *
extra_get (MptcpConnection *self)
{
  if (self->extra == NULL)
    self->extra = g_memdup2 (&extra_defaults, sizeof extra_defaults);
  return self->extra;
}

typedef struct
{
  MptcpSockoptAddr local;
  MptcpSockoptAddr remote;
} Tuple;

enum
{
  SIGNAL_SUBFLOW_ADDED,
  SIGNAL_SUBFLOW_REMOVED,
  SIGNAL_SUBFLOW_PRIORITY_CHANGED,
  SIGNAL_ADDRESS_ANNOUNCED,
  SIGNAL_ADDRESS_REMOVED,
  N_SIGNALS
};


extern guint _mptcp_connection_signals[N_SIGNALS];
#define signals _mptcp_connection_signals

/* What a room of the connection learnt (refresh, event application, the control room),
 * reported to _mptcp_connection_apply() in mptcp-connection.c: the one writer of the subflow
 * list and the one emitter of the connection's signals. */
typedef enum
{
  MPTCP_CONN_CHANGE_FALLBACK,          /* ends the ops, stops the events, empties the list */
  MPTCP_CONN_CHANGE_CLOSED,            /* the same, then notifies "closed" (once) */
  MPTCP_CONN_CHANGE_ESTABLISHED,       /* notifies "established" (once) */
  MPTCP_CONN_CHANGE_SUBFLOWS_UP,       /* new objects, appended in order (one items-changed),
                                        * then subflow-added each */
  MPTCP_CONN_CHANGE_SUBFLOWS_DOWN,     /* listed ones removed (one items-changed per run),
                                        * then subflow-removed each; unlisted ones skipped */
  MPTCP_CONN_CHANGE_PRIORITY,          /* the peer's MP_PRIO: subflow-priority-changed */
  MPTCP_CONN_CHANGE_BACKUP,            /* this side's backup flag as the kernel has it */
  MPTCP_CONN_CHANGE_PEER_BACKUP,       /* the peer's backup flag (sock_diag) */
  MPTCP_CONN_CHANGE_ADDRESS_ANNOUNCED, /* the peer announced id at address */
  MPTCP_CONN_CHANGE_ADDRESS_REMOVED,   /* the peer removed id */
} MptcpConnChangeKind;

typedef struct
{
  MptcpConnChangeKind kind;
  MptcpSubflow *subflow;         /* the subflow of the change (UP, DOWN: or subflows) */
  GPtrArray *subflows;           /* UP, DOWN: several at once, in order */
  int error;                     /* DOWN: the kernel's errno, 0 if none */
  guint reset_reason;            /* DOWN: the kernel's MPTCP_RST_* code, 0 if none */
  gboolean backup;               /* PRIORITY, BACKUP, PEER_BACKUP */
  guint id;                      /* ADDRESS_* */
  GInetSocketAddress *address;   /* ADDRESS_ANNOUNCED */
} MptcpConnChange;

G_GNUC_INTERNAL
void
_mptcp_connection_apply (MptcpConnection       *self,
                         const MptcpConnChange *change);

/* A change that is its kind alone (FALLBACK, CLOSED, ESTABLISHED). */
static inline void
_mptcp_connection_apply_kind (MptcpConnection     *self,
                              MptcpConnChangeKind  kind)
{
  MptcpConnChange change = { .kind = kind };

  _mptcp_connection_apply (self, &change);
}

/* Both ends equal. */
static inline gboolean
_mptcp_conn_tuple_same (const Tuple *a,
                        const Tuple *b)
{
  return _mptcp_sockopt_addr_equal (&a->local, &b->local) &&
         _mptcp_sockopt_addr_equal (&a->remote, &b->remote);
}
G_GNUC_INTERNAL
void
_mptcp_conn_tuple_from_event (Tuple              *out,
                              const MptcpNlEvent *event);
G_GNUC_INTERNAL
void
_mptcp_conn_stale_add (MptcpConnection *self,
                       const Tuple     *tuple);
G_GNUC_INTERNAL
void
_mptcp_conn_set_fallback_error (GError **error);
G_GNUC_INTERNAL
void
_mptcp_conn_set_closed_error (GError **error);
G_GNUC_INTERNAL
MptcpSockoptList *
_mptcp_conn_scratch_list (void);
G_GNUC_INTERNAL
gboolean
_mptcp_conn_resync (MptcpConnection  *self,
                    GError          **error);
G_GNUC_INTERNAL
void
_mptcp_conn_on_overrun (gpointer user_data);
G_GNUC_INTERNAL
gboolean
_mptcp_conn_native_address (GSocketAddress    *address,
                            MptcpSockoptAddr  *raw,
                            GError           **error);
G_GNUC_INTERNAL
void
_mptcp_conn_addr_to_nl (MptcpNlAddress         *out,
                        const MptcpSockoptAddr *addr);
G_GNUC_INTERNAL
void
_mptcp_conn_addr_from_nl (MptcpSockoptAddr      *out,
                          int                    family,
                          const MptcpNlInetAddr *addr,
                          guint16                port);
G_GNUC_INTERNAL
gboolean
_mptcp_conn_in_own_thread (MptcpConnection *self);
G_GNUC_INTERNAL
MptcpSubflow *
_mptcp_conn_find_subflow (MptcpConnection *self,
                          const Tuple     *tuple);
G_GNUC_INTERNAL
void
_mptcp_conn_apply_event (MptcpConnection    *self,
                         const MptcpNlEvent *event);
G_GNUC_INTERNAL
GPtrArray *
_mptcp_conn_routed_ops (MptcpConnection *self,
                        int              type,
                        const Tuple     *tuple);
G_GNUC_INTERNAL
void
_mptcp_conn_route_event (GPtrArray          *ops,
                         const MptcpNlEvent *event);
G_GNUC_INTERNAL
void
_mptcp_conn_route_overrun (GPtrArray *ops);
G_GNUC_INTERNAL
void
_mptcp_conn_end_pending_ops (MptcpConnection *self,
                             gboolean         fallback);

G_GNUC_INTERNAL
void
_mptcp_conn_set_event_source (MptcpConnection  *self,
                              MptcpEventSource  source);
/* a GError of G_IO_ERROR for errno err: "what: strerror" */
G_GNUC_INTERNAL
void
_mptcp_conn_set_errno_error (GError    **error,
                             int         err,
                             const char *what);
/* mptcp-connection-refresh.c: reads the kernel's subflows into the list (keep: the subflows
 * it no longer lists stay, for a caller's refresh between two events) */
G_GNUC_INTERNAL
gboolean
_mptcp_conn_refresh (MptcpConnection  *self,
                     gboolean          keep,
                     GError          **error);
/* applies a kernel list read elsewhere (copy: the subflows keep their own tcp_info) */
G_GNUC_INTERNAL
void
_mptcp_conn_apply_kernel_list (MptcpConnection        *self,
                               const MptcpSockoptList *kl,
                               gboolean                copy);
/* the kernel's id and statistics of the listed subflows made from events that wait for
 * them (MptcpSubflowBackref.load_info): one read, no change to the list */
G_GNUC_INTERNAL
void
_mptcp_conn_load_info (MptcpConnection *self);
G_GNUC_INTERNAL
gboolean
_mptcp_conn_refresh_guarded (MptcpConnection  *self,
                             gboolean          keep,
                             GError          **error);
G_GNUC_INTERNAL
void
_mptcp_conn_start_events (MptcpConnection *self);
G_GNUC_INTERNAL
void
_mptcp_conn_stop_events (MptcpConnection *self);
G_GNUC_INTERNAL
void
_mptcp_conn_start_polling (MptcpConnection *self);
G_GNUC_INTERNAL
void
_mptcp_conn_use_service_events (MptcpConnection *self,
                                gboolean         use);

/* mptcp-connection-token.c: a connection without a socket (mptcp_connection_new_for_token()) */
/* The kernel's subflow list of a socketless connection, as _mptcp_sockopt_list_read() gives
 * it for a socket (the legacy layout: addresses and tcp_info, no subflow ids), from sock_diag
 * (lookups by token and 4-tuple, or a dump of the namespace). 0, -EBADF when the kernel has the
 * token no more, or -errno. */
G_GNUC_INTERNAL
int                  _mptcp_conn_token_read_list (MptcpConnection   *self,
                                                  MptcpSockoptList  *out);
/* _mptcp_conn_refresh() of a socketless connection: the list applied, the backup flags
 * read from the same read. */
G_GNUC_INTERNAL
gboolean             _mptcp_conn_token_refresh   (MptcpConnection   *self,
                                                  GError           **error);
/* mptcp_connection_get_info() of a socketless connection (a lookup by token). */
G_GNUC_INTERNAL
MptcpConnectionInfo *_mptcp_conn_token_get_info  (MptcpConnection   *self,
                                                  GError           **error);

/* ---- the service room (mptcp-connection-service.c) ----
 *
 * A connection whose MptcpConnection:service-policy says so (AUTO: it may not use netlink
 * itself, no CAP_NET_ADMIN, so it polls; the environment variable MPTCP_GLIB_USE_SERVICE,
 * "never" or "always", read once per process, overrides AUTO only; ALWAYS; NEVER) sends its
 * control operations to mptcp-glib-service on the system bus. On the first operation it
 * registers its socket (Register, the fd through a GUnixFDList); from then on its events come
 * from the object's signals (MPTCP_EVENT_SOURCE_SERVICE), fed to _mptcp_conn_apply_event() as
 * netlink's would be. The registration is dropped with the connection.
 *
 * The results are the direct path's: the same source object and source tag, the same return
 * types (an MptcpSubflow of the connection's list for an open, the id for an announce, a
 * boolean otherwise) and the same GError codes (the MptcpError domain is registered for
 * D-Bus). After an open, close or backup change the connection refreshes its list from the
 * socket, so its own signals tell the change at once.
 *
 * No service on the bus: MPTCP_ERROR_PERMISSION_DENIED, as the direct path would (AUTO), or
 * MPTCP_ERROR_NOT_SUPPORTED naming the bus name (forced). The service leaving the bus
 * (NameOwnerChanged of its name) ends the registration: the connection polls, and registers
 * again as soon as a new instance owns the name (or, activated by the bus, at its next
 * operation). An operation in flight then fails with MPTCP_ERROR_FAILED saying so; one that
 * reached a new instance with the old object's path (UnknownObject: nothing was done) is sent
 * again once, after registering again.
 */

typedef enum
{
  MPTCP_CONTROL_OP_OPEN,
  MPTCP_CONTROL_OP_CLOSE,
  MPTCP_CONTROL_OP_BACKUP,
  MPTCP_CONTROL_OP_ANNOUNCE,
  MPTCP_CONTROL_OP_REMOVE,
} MptcpControlOpKind;

/* What a control call asks for, built once by the caller (mptcp-connection-control.c,
 * mptcp-control-op.c) and run by the control machine (mptcp-control-op-private.h) or, for a
 * connection that uses the service, by this room. A kind reads only its own fields; the
 * others stay 0 (with designated initialisers at the call). */
typedef struct
{
  MptcpControlOpKind  kind;
  gpointer            source_object;  /* of the task: the connection, or the subflow */
  const Tuple        *tuple;          /* open, announce, close, backup: the ends; NULL: none */
  gboolean            port_known;     /* open: the local port was given */
  guint8              id;             /* remove: the address id */
  gboolean            backup;         /* backup: the flag wanted */
  MptcpSubflow       *subflow;        /* close, backup: the subflow */
  GCancellable       *cancellable;
  gpointer            source_tag;
  const char         *task_name;      /* the tag's function's name (MPTCP_TASK_TAG) */
} MptcpControlArgs;

G_GNUC_INTERNAL
gboolean      _mptcp_connection_service_wanted (MptcpConnection        *self);

/* Ends the connection's registration, if any (Unregister, one-way); events: its events come
 * from netlink or polling again. */
G_GNUC_INTERNAL
void          _mptcp_connection_service_drop   (MptcpConnection        *self,
                                                gboolean                events);

/* Sends the call to the service; the result comes as the direct path's would (the same
 * source object, source tag and return type). args is read at once. */
G_GNUC_INTERNAL
void          _mptcp_connection_service_start  (MptcpConnection        *self,
                                                const MptcpControlArgs *args,
                                                GAsyncReadyCallback     callback,
                                                gpointer                user_data);

/* The same, completed on a private context; returns the task (transfer full). */
G_GNUC_INTERNAL
GAsyncResult *_mptcp_connection_service_run    (MptcpConnection        *self,
                                                const MptcpControlArgs *args);

G_END_DECLS
