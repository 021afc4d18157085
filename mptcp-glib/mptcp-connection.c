/* mptcp-connection.c: an MPTCP connection and its subflows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>

#include "mptcp-connection.h"
#include "mptcp-connection-private.h"
#include "mptcp-connection-service-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-info-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-hangup-watch-private.h"
#include "mptcp-sync-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"
#include "mptcp-sockdiag-private.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

/**
 * SECTION:mptcp-connection
 * @Title: MptcpConnection
 * @Short_description: see an MPTCP connection and its subflows
 * @See_also: #MptcpSubflow, #MptcpClient, mptcp_listener_add_inet_port()
 *
 * #MptcpConnection wraps the #GSocket of one Multipath TCP connection and
 * shows what the kernel knows about it: its #MptcpConnection:token, whether it
 * has fallen back to plain TCP (#MptcpConnection:fallback), its addresses, its
 * MPTCP-level counters (mptcp_connection_get_info()) and its subflows
 * (mptcp_connection_get_subflows()). It works with a socket from any source:
 * #MptcpClient, a #GSocketService listening through
 * mptcp_listener_add_inet_port(), mptcp_socket_new() or a file descriptor
 * adopted with g_socket_new_from_fd(). Reading and writing stay with GIO: the
 * library adds nothing to the data path.
 *
 * The socket must be a connected MPTCP socket. A plain TCP socket fails with
 * %MPTCP_ERROR_NOT_MPTCP, and so does the accepted side of a plain TCP client
 * on an MPTCP listener (the kernel hands out a TCP socket there). An MPTCP
 * socket whose connection fell back to TCP (the peer does not speak MPTCP, or
 * a middlebox stripped the options) is accepted: #MptcpConnection:fallback is
 * %TRUE, the subflow list is empty, and mptcp_connection_get_info() and
 * mptcp_connection_refresh() fail with %MPTCP_ERROR_FALLBACK.
 *
 * ## Subflows
 *
 * mptcp_connection_get_subflows() returns a #GListModel of #MptcpSubflow.
 * It follows the kernel's events (or periodic reads without CAP_NET_ADMIN,
 * see #MptcpConnection:event-source), and mptcp_connection_refresh() asks
 * the kernel for the current subflows at any time; either way the model is
 * updated in place. A subflow keeps the same
 * #MptcpSubflow object as long as it lives, new subflows are appended, gone
 * ones removed, and #GListModel::items-changed is emitted exactly for what
 * changed. Subflows in TCP state CLOSE are not listed (the kernel keeps a
 * closed initial subflow in its list). The statistics of every listed subflow
 * (mptcp_subflow_get_stats()) are those of the last refresh.
 *
 * Reads need no privilege and cost one system call: on Linux 6.5 and later a
 * refresh is a single `MPTCP_FULL_INFO` getsockopt(), linear in the number
 * of subflows. Older kernels (5.16 to 6.4) have no subflow ids: the
 * library then reads `MPTCP_SUBFLOW_ADDRS` and `MPTCP_TCPINFO` and numbers
 * the subflows itself, in the order it first sees them, matching them across
 * refreshes by their 4-tuple (so a subflow closed and reopened with the same
 * 4-tuple between two refreshes looks like the same subflow there). Setting the environment variable
 * `MPTCP_GLIB_SUBFLOW_LIST` to `legacy` before a connection is constructed
 * forces that older way on any kernel (`full-info` forbids it); it exists for
 * testing.
 *
 * Because reads are synchronous and cheap, there is no asynchronous variant.
 * Refresh as often as your application needs (for example from a
 * g_timeout_add_seconds() callback); the statistics are not updated
 * otherwise.
 *
 * ## Steering subflows, and being told of changes
 *
 * With CAP_NET_ADMIN and the userspace path manager, the application steers
 * the connection itself: mptcp_connection_open_subflow() opens a subflow
 * between addresses it chooses, mptcp_subflow_set_backup() and
 * mptcp_subflow_close() act on one subflow, and
 * mptcp_connection_announce_address() and mptcp_connection_remove_address()
 * offer or withdraw an address of this host to the peer. Subflow changes,
 * whoever makes them, are reported by #MptcpConnection::subflow-added,
 * #MptcpConnection::subflow-removed and
 * #MptcpConnection::subflow-priority-changed, the peer's addresses by
 * #MptcpConnection::address-announced and #MptcpConnection::address-removed.
 * The tutorial chapter of this manual goes through all of it.
 *
 * An #MptcpConnection, like a #GSocket, is meant to be used from one thread.
 * It remembers the thread-default #GMainContext of the thread that
 * constructed it: signals and asynchronous results of the connection are
 * delivered there.
 *
 * ## Threads
 *
 * The thread that constructed the connection is the only one that may call
 * into it or into its #MptcpSubflow objects: mptcp_connection_refresh(),
 * mptcp_connection_get_subflows(), mptcp_connection_get_info(), the
 * open, announce and remove calls (synchronous and asynchronous),
 * mptcp_connection_set_control_timeout(),
 * mptcp_connection_set_poll_interval(), mptcp_subflow_close() and
 * mptcp_subflow_set_backup() with their asynchronous variants. Since 0.2 such
 * a call from another thread is refused before it touches anything: a
 * critical is logged and the call returns its failure value (%NULL, %FALSE
 * or 0; an asynchronous call does not call its callback). It used to corrupt
 * the connection's list.
 *
 * From any thread: g_object_ref() and g_object_unref() (not the last
 * reference: that one belongs in the connection's thread),
 * mptcp_connection_get_token(), mptcp_connection_get_socket(), the
 * constant #MptcpSubflow getters (mptcp_subflow_get_id(), its addresses), and
 * g_cancellable_cancel() on a #GCancellable given to a call: the operation
 * then ends in the connection's context. Work for several threads goes
 * through the connection's main context (g_main_context_invoke()).
 *
 * ## What it costs
 *
 * An idle connection that follows the kernel's events takes a small, constant
 * amount of heap and adds nothing to its main context's iterations: all the
 * connections of a context share one netlink event socket and one epoll
 * instance that watches their sockets for a hangup, so GLib polls the same
 * few descriptors for one connection or a thousand. A control operation costs
 * its netlink request and the kernel's work plus a constant part of the
 * library's; anywhere but on a local link the network's round trips dominate
 * (`bench/README.md` in the sources has the measured figures).
 *
 * Since: 0.1
 */

/**
 * MptcpConnection:
 *
 * One Multipath TCP connection, seen through its socket: token, fallback
 * state, addresses, MPTCP-level counters (mptcp_connection_get_info()) and a
 * #GListModel of its #MptcpSubflow objects that mptcp_connection_refresh()
 * keeps up to date in place. Works with any connected MPTCP #GSocket;
 * needs no privilege.
 *
 * Set `MPTCP_GLIB_SUBFLOW_LIST=legacy` in the environment to list subflows
 * the way kernels before 6.5 need (see the section above).
 *
 * Since: 0.1
 */

/* ---- the subflow list model ---------------------------------------------- */

/* A GListModel over a GPtrArray: reading it is an array access. Only the
 * connection changes it, and emits items-changed itself. */
#define MPTCP_TYPE_SUBFLOW_LIST (mptcp_subflow_list_get_type ())
G_DECLARE_FINAL_TYPE (MptcpSubflowList, mptcp_subflow_list, MPTCP, SUBFLOW_LIST, GObject)

struct _MptcpSubflowList
{
  GObject parent_instance;
  GPtrArray *items;   /* MptcpSubflow, owned */
};

static GType
mptcp_subflow_list_get_item_type (GListModel *model)
{
  return MPTCP_TYPE_SUBFLOW;
}

/* Plain casts below: these run for every item of every walk, and GListModel
 * has checked the instance already. */
static guint
mptcp_subflow_list_get_n_items (GListModel *model)
{
  return ((MptcpSubflowList *) model)->items->len;
}

static gpointer
mptcp_subflow_list_get_item (GListModel *model,
                             guint       position)
{
  MptcpSubflowList *self = (MptcpSubflowList *) model;

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
mptcp_subflow_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = mptcp_subflow_list_get_item_type;
  iface->get_n_items = mptcp_subflow_list_get_n_items;
  iface->get_item = mptcp_subflow_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpSubflowList, mptcp_subflow_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      mptcp_subflow_list_model_init))

static void
mptcp_subflow_list_finalize (GObject *object)
{
  MptcpSubflowList *self = MPTCP_SUBFLOW_LIST (object);

  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (mptcp_subflow_list_parent_class)->finalize (object);
}

static void
mptcp_subflow_list_class_init (MptcpSubflowListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mptcp_subflow_list_finalize;
}

static void
mptcp_subflow_list_init (MptcpSubflowList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/* ---- MptcpConnection ------------------------------------------------------- */

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
  guint path_forced : 1;
  guint established : 1;         /* "established" was emitted */
  guint ids_loaded : 1;

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
static ConnectionExtra *
extra_get (MptcpConnection *self)
{
  if (self->extra == NULL)
    self->extra = g_memdup2 (&extra_defaults, sizeof extra_defaults);
  return self->extra;
}

enum
{
  PROP_0,
  PROP_SOCKET,
  PROP_TOKEN,
  PROP_FALLBACK,
  PROP_LOCAL_ADDRESS,
  PROP_REMOTE_ADDRESS,
  PROP_SUBFLOWS,
  PROP_CONTROL_TIMEOUT,
  PROP_EVENT_SOURCE,
  PROP_POLL_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_SUBFLOW_ADDED,
  SIGNAL_SUBFLOW_REMOVED,
  SIGNAL_SUBFLOW_PRIORITY_CHANGED,
  SIGNAL_ADDRESS_ANNOUNCED,
  SIGNAL_ADDRESS_REMOVED,
  SIGNAL_ESTABLISHED,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void stop_events (MptcpConnection *self);
static void start_events (MptcpConnection *self);
static GPtrArray *routed_ops (MptcpConnection *self);
static void route_event (GPtrArray *ops, const MptcpNlEvent *event);
static void route_overrun (GPtrArray *ops);
static void install_control_properties (GObjectClass *object_class);

static void mptcp_connection_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpConnection, mptcp_connection, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mptcp_connection_initable_iface_init))

static void
mptcp_connection_dispose (GObject *object)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  stop_events (self);

  /* The subflows point back through the shared back reference (cleared in
   * finalize); drop them first so nobody sees a half-finalized connection
   * through them, and let them keep their statistics (which point into our
   * buffers). */
  if (self->subflows != NULL)
    {
      guint i;

      for (i = 0; i < self->subflows->items->len; i++)
        _mptcp_subflow_detach_tcp_info (g_ptr_array_index (self->subflows->items, i));
      g_ptr_array_set_size (self->subflows->items, 0);
    }

  G_OBJECT_CLASS (mptcp_connection_parent_class)->dispose (object);
}

MptcpSubflowBackref *
_mptcp_connection_get_backref (MptcpConnection *self)
{
  if (self->backref == NULL)
    {
      self->backref = g_new (MptcpSubflowBackref, 1);
      self->backref->ref_count = 1;   /* ours */
      self->backref->connection = self;
    }
  return self->backref;
}

static void
mptcp_connection_finalize (GObject *object)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  /* our subflows' mptcp_subflow_get_connection() returns NULL from now on */
  if (self->backref != NULL)
    {
      self->backref->connection = NULL;
      if (--self->backref->ref_count == 0)
        g_free (self->backref);
      self->backref = NULL;
    }

  g_clear_object (&self->subflows);
  g_clear_object (&self->local);
  g_clear_object (&self->remote);
  g_clear_object (&self->stream);
  g_clear_object (&self->socket);
  g_main_context_unref (self->context);
  g_clear_pointer (&self->netlink, _mptcp_netlink_unref);
  if (self->extra != NULL)
    {
      ConnectionExtra *x = g_steal_pointer (&self->extra);

      g_clear_error (&x->init_error);
      if (x->kernel != NULL)
        {
          _mptcp_sockopt_list_clear (&x->kernel[0]);
          _mptcp_sockopt_list_clear (&x->kernel[1]);
          g_free (x->kernel);
        }
      g_clear_pointer (&x->ids, g_array_unref);
      g_clear_pointer (&x->stale, g_array_unref);
      g_assert (x->ops == NULL && x->event_ops == NULL);
      g_free (x);
    }

  G_OBJECT_CLASS (mptcp_connection_parent_class)->finalize (object);
}

static void
mptcp_connection_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_SOCKET:
      g_value_set_object (value, self->socket);
      break;
    case PROP_TOKEN:
      g_value_set_uint (value, self->token);
      break;
    case PROP_FALLBACK:
      g_value_set_boolean (value, self->fallback);
      break;
    case PROP_LOCAL_ADDRESS:
      g_value_set_object (value, mptcp_connection_get_local_address (self));
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_object (value, mptcp_connection_get_remote_address (self));
      break;
    case PROP_SUBFLOWS:
      g_value_set_object (value, self->subflows);
      break;
    case PROP_CONTROL_TIMEOUT:
      g_value_set_uint (value, extra_ro (self)->control_timeout);
      break;
    case PROP_EVENT_SOURCE:
      g_value_set_enum (value, self->event_source);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_uint (value, extra_ro (self)->poll_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_connection_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_SOCKET:
      g_assert (self->socket == NULL);
      self->socket = g_value_dup_object (value);
      break;
    case PROP_CONTROL_TIMEOUT:
      mptcp_connection_set_control_timeout (self, g_value_get_uint (value));
      break;
    case PROP_POLL_INTERVAL:
      mptcp_connection_set_poll_interval (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_connection_class_init (MptcpConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mptcp_connection_dispose;
  object_class->finalize = mptcp_connection_finalize;
  object_class->get_property = mptcp_connection_get_property;
  object_class->set_property = mptcp_connection_set_property;

  /**
   * MptcpConnection:socket:
   *
   * The connected MPTCP socket of the connection. The connection keeps a
   * reference to it but never reads, writes or closes it.
   *
   * Since: 0.1
   */
  properties[PROP_SOCKET] =
    g_param_spec_object ("socket", "Socket", "The connected MPTCP socket",
                         G_TYPE_SOCKET,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:token:
   *
   * The kernel's token of the connection: a 32-bit number that names it in
   * the kernel's path-manager commands and events. Each side of a
   * connection has its own token. 0 when the connection fell back to TCP
   * before it was wrapped.
   *
   * Since: 0.1
   */
  properties[PROP_TOKEN] =
    g_param_spec_uint ("token", "Token", "The kernel's token of the connection",
                       0, G_MAXUINT32, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:fallback:
   *
   * %TRUE once the connection has fallen back to plain TCP: it then runs
   * over a single path and MPTCP operations fail with %MPTCP_ERROR_FALLBACK.
   * Checked at construction and by every mptcp_connection_refresh() and
   * mptcp_connection_get_info(); notified when it changes.
   *
   * Since: 0.1
   */
  properties[PROP_FALLBACK] =
    g_param_spec_boolean ("fallback", "Fallback",
                          "Whether the connection has fallen back to TCP",
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:local-address:
   *
   * The local address and port of the socket (the initial subflow's). IPv4
   * addresses are given as IPv4, also on a dual-stack IPv6 socket.
   *
   * Since: 0.1
   */
  properties[PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address",
                         "The local address and port of the socket",
                         G_TYPE_INET_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:remote-address:
   *
   * The remote address and port of the socket (the initial subflow's). IPv4
   * addresses are given as IPv4, also on a dual-stack IPv6 socket.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", "Remote address",
                         "The remote address and port of the socket",
                         G_TYPE_INET_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:subflows:
   *
   * The subflows of the connection, a #GListModel of #MptcpSubflow that
   * mptcp_connection_refresh() updates in place. The model object stays the
   * same for the life of the connection.
   *
   * Since: 0.1
   */
  properties[PROP_SUBFLOWS] =
    g_param_spec_object ("subflows", "Subflows",
                         "The list model of the connection's subflows",
                         G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  install_control_properties (object_class);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mptcp_connection_init (MptcpConnection *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->thread = g_thread_self ();
  self->subflows = g_object_new (MPTCP_TYPE_SUBFLOW_LIST, NULL);
  self->event_source = MPTCP_EVENT_SOURCE_NONE;
}

static void
scratch_list_free (gpointer data)
{
  _mptcp_sockopt_list_clear (data);
  g_free (data);
}

/* The calling thread's scratch list: for reads whose buffers need not
 * outlive the call (see MptcpConnection.kernel). */
static MptcpSockoptList *
scratch_list (void)
{
  static GPrivate key = G_PRIVATE_INIT (scratch_list_free);
  MptcpSockoptList *list = g_private_get (&key);

  if (list == NULL)
    {
      list = g_new0 (MptcpSockoptList, 1);
      g_private_set (&key, list);
    }
  return list;
}

/* Points sf at entry i's tcp_info; copies it into sf if the list is a
 * scratch one (copy). */
static inline void
set_entry_info (MptcpSubflow           *sf,
                const MptcpSockoptList *kl,
                guint                   i,
                gboolean                copy)
{
  _mptcp_subflow_set_tcp_info (sf, _mptcp_sockopt_list_tcp_info (kl, i), kl->tcp_info_len);
  if (copy)
    _mptcp_subflow_detach_tcp_info (sf);
}

/* The one-thread rule: a call from any other thread than the constructing one is refused
 * (a critical and the failure value) before it touches anything. */
static inline gboolean
in_own_thread (MptcpConnection *self)
{
  return self->thread == g_thread_self ();
}

static void
set_errno_error (GError    **error,
                 int         err,
                 const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
               "%s: %s", what, g_strerror (err));
}

static void
set_fallback_error (GError **error)
{
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK,
                       "The connection has fallen back to plain TCP");
}

static void
set_closed_error (GError **error)
{
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                       "The socket of the connection is closed");
}

/* Emits subflow-removed for each subflow of gone (already out of the list). */
static void
emit_removed (MptcpConnection *self,
              GPtrArray       *gone,
              int              error,
              guint            reset_reason)
{
  guint i;

  for (i = 0; i < gone->len; i++)
    g_signal_emit (self, signals[SIGNAL_SUBFLOW_REMOVED], 0,
                   g_ptr_array_index (gone, i), error, reset_reason);
}

/* Empties the subflow list, emitting items-changed, then subflow-removed
 * for each subflow. */
static void
clear_subflows (MptcpConnection *self)
{
  g_autoptr(GPtrArray) gone = NULL;
  guint n = self->subflows->items->len;
  guint i;

  if (n == 0)
    return;
  for (i = 0; i < n; i++)
    _mptcp_subflow_detach_tcp_info (g_ptr_array_index (self->subflows->items, i));
  gone = self->subflows->items;
  self->subflows->items = g_ptr_array_new_with_free_func (g_object_unref);
  g_list_model_items_changed (G_LIST_MODEL (self->subflows), 0, n, 0);
  emit_removed (self, gone, 0, 0);
}

static void end_pending_ops (MptcpConnection *self, gboolean fallback);

static void
mark_fallback (MptcpConnection *self)
{
  end_pending_ops (self, TRUE);
  stop_events (self);
  if (!self->fallback)
    {
      self->fallback = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FALLBACK]);
    }
  clear_subflows (self);
}

/* The connection is gone: the list ends empty (a subflow-removed for each
 * subflow), then "closed" is emitted, once. */
static void
mark_closed (MptcpConnection *self)
{
  gboolean was_closed = self->closed;

  self->closed = TRUE;
  end_pending_ops (self, FALSE);
  stop_events (self);
  clear_subflows (self);
  if (!was_closed)
    g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

/* Finds the listed subflow entry i of the kernel's list belongs to, starting
 * the search at hint (the expected position). */
static MptcpSubflow *
match_entry (MptcpConnection        *self,
             const MptcpSockoptList *kl,
             guint                   i,
             guint                   hint,
             const MptcpSockoptAddr *local,
             const MptcpSockoptAddr *remote)
{
  GPtrArray *items = self->subflows->items;
  guint32 id = _mptcp_sockopt_list_id (kl, i);
  guint n = items->len;
  guint k;

  for (k = 0; k < n; k++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, (hint + k) % n);

      /* by kernel id; a subflow added from an event has no id yet (0)
       * and is matched by its 4-tuple once, then takes the kernel's id */
      if (kl->sfinfo_stride != 0
          ? sf->id == id || (sf->id == 0 && _mptcp_subflow_matches (sf, local, remote))
          : _mptcp_subflow_matches (sf, local, remote))
        return sf;
    }
  return NULL;
}

/* Brings the list model in line with the kernel's list kl (a fresh read;
 * the subflows' statistics still point into the previous one). */
static void
apply_kernel_list (MptcpConnection        *self,
                   const MptcpSockoptList *kl,
                   gboolean                copy)
{
  GPtrArray *items = self->subflows->items;
  gboolean by_id = kl->sfinfo_stride != 0;
  guint n_old = items->len;
  guint n_seen = 0;
  guint live = 0;
  guint i, j;
  /* the new subflows (references), made on need: the general path is rare */
  g_autoptr(GPtrArray) added = NULL;

  /* Fast path: the same subflows in the same order (the common case of a
   * periodic refresh): only the statistics change. */
  for (i = 0, j = 0; i < kl->n_subflows; i++)
    {
      MptcpSubflow *sf;

      if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
        continue;
      if (j >= n_old)
        break;
      sf = g_ptr_array_index (items, j);
      if (by_id)
        {
          if (sf->id != _mptcp_sockopt_list_id (kl, i))
            break;
        }
      else
        {
          MptcpSockoptAddr local, remote;

          _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
          if (!_mptcp_subflow_matches (sf, &local, &remote))
            break;
        }
      set_entry_info (sf, kl, i, copy);
      j++;
    }
  if (i == kl->n_subflows && j == n_old)
    return;

  /* General path: match every live kernel entry to a listed subflow (by id,
   * or by 4-tuple on the legacy path), make objects for new ones, then drop
   * the listed subflows nobody matched (seen[] holds the matched ones). */
  {
    g_autofree MptcpSubflow **seen = g_new0 (MptcpSubflow *, n_old + 1);

    for (i = 0; i < kl->n_subflows; i++)
      {
        MptcpSockoptAddr local, remote;
        MptcpSubflow *sf;

        if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
          continue;
        live++;

        _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
        sf = match_entry (self, kl, i, live - 1, &local, &remote);
        if (sf == NULL)
          {
            guint id = by_id ? _mptcp_sockopt_list_id (kl, i) : extra_get (self)->next_id++;

            sf = _mptcp_subflow_new (self, id, &local, &remote);
            if (added == NULL)
              added = g_ptr_array_new ();
            g_ptr_array_add (added, sf);
          }
        else
          {
            guint k;

            /* the same kernel subflow listed twice cannot happen, but be
             * safe: count each listed subflow once */
            for (k = 0; k < n_seen && seen[k] != sf; k++)
              ;
            if (k == n_seen)
              seen[n_seen++] = sf;
            if (by_id && sf->id == 0)
              _mptcp_subflow_set_id (sf, _mptcp_sockopt_list_id (kl, i));
          }
        set_entry_info (sf, kl, i, copy);
      }

    /* Remove the unmatched ones, one items-changed per contiguous run,
     * back to front so positions stay valid; subflow-removed after the
     * loop, so that a handler acting on the list (a synchronous close
     * removes its subflow) cannot move it under the loop. */
    if (n_seen < n_old)
      {
        g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
        guint end = n_old;

        while (end > 0)
          {
            guint start;
            guint k;
            gboolean keep;

            MptcpSubflow *sf = g_ptr_array_index (items, end - 1);

            for (k = 0; k < n_seen && seen[k] != sf; k++)
              ;
            keep = k < n_seen;
            if (keep)
              {
                end--;
                continue;
              }

            start = end - 1;
            while (start > 0)
              {
                sf = g_ptr_array_index (items, start - 1);
                for (k = 0; k < n_seen && seen[k] != sf; k++)
                  ;
                if (k < n_seen)
                  break;
                start--;
              }
            for (k = start; k < end; k++)
              {
                _mptcp_subflow_detach_tcp_info (g_ptr_array_index (items, k));
                g_ptr_array_add (gone, g_object_ref (g_ptr_array_index (items, k)));
              }
            g_ptr_array_remove_range (items, start, end - start);
            g_list_model_items_changed (G_LIST_MODEL (self->subflows), start, end - start, 0);
            end = start;
          }
        emit_removed (self, gone, 0, 0);
      }
  }

  /* Append the new ones in the kernel's order. */
  if (added != NULL)
    {
      guint pos = items->len;
      guint n_added = added->len;

      g_autoptr(GPtrArray) fresh = g_ptr_array_new_with_free_func (g_object_unref);

      for (i = 0; i < n_added; i++)
        {
          g_ptr_array_add (items, g_ptr_array_index (added, i));
          g_ptr_array_add (fresh, g_object_ref (g_ptr_array_index (added, i)));
        }
      g_ptr_array_set_size (added, 0);   /* references moved to items */
      g_list_model_items_changed (G_LIST_MODEL (self->subflows), pos, 0, n_added);
      for (i = 0; i < fresh->len; i++)
        g_signal_emit (self, signals[SIGNAL_SUBFLOW_ADDED], 0, g_ptr_array_index (fresh, i));
    }
}

/* ---- the kernel's backup flags, from sock_diag ---- */

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* How often a caller's refresh reads the flags at most (see mptcp_connection_refresh()). */
#define FLAGS_READ_INTERVAL_US (100 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  MptcpSockDiag *diag;           /* NULL: could not be made (then tried again next time) */
  guint64 netns_cookie;          /* of diag's namespace, 0: unknown */
  GArray *sockets;               /* of MptcpDiagSocket, reused */
} ThreadDiag;

static void
thread_diag_free (gpointer data)
{
  ThreadDiag *td = data;

  _mptcp_sockdiag_free (td->diag);
  g_clear_pointer (&td->sockets, g_array_unref);
  g_free (td);
}

static guint64
netns_cookie (int fd)
{
  guint64 cookie = 0;
  socklen_t len = sizeof cookie;

  if (getsockopt (fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0 || len != sizeof cookie)
    return 0;
  return cookie;
}

/* The calling thread's sock_diag socket, in the namespace of the socket whose namespace cookie
 * is want (0: unknown, any), or NULL. */
static ThreadDiag *
thread_diag (guint64 want)
{
  static GPrivate key = G_PRIVATE_INIT (thread_diag_free);
  ThreadDiag *td = g_private_get (&key);

  if (td == NULL)
    {
      td = g_new0 (ThreadDiag, 1);
      td->sockets = g_array_new (FALSE, TRUE, sizeof (MptcpDiagSocket));
      g_private_set (&key, td);
    }
  /* made in another namespace than the thread's now (setns()): make it again */
  if (td->diag != NULL && want != 0 && td->netns_cookie != want)
    g_clear_pointer (&td->diag, _mptcp_sockdiag_free);
  if (td->diag == NULL)
    {
      td->diag = _mptcp_sockdiag_new (NULL);
      if (td->diag == NULL)
        return NULL;
      td->netns_cookie = netns_cookie (_mptcp_sockdiag_get_fd (td->diag));
    }
  if (want != 0 && td->netns_cookie != 0 && td->netns_cookie != want)
    return NULL;               /* the thread is not in the socket's namespace */
  return td;
}

/* Reads the backup flags of the listed subflows from sock_diag and applies them where the
 * kernel gave them (6.18, or CAP_NET_ADMIN); elsewhere changes nothing. */
static void
read_backup_flags (MptcpConnection *self)
{
  GPtrArray *items = self->subflows->items;
  ConnectionExtra *extra = extra_get (self);
  ThreadDiag *td;
  guint i;

  if (items->len == 0)
    return;
  if (extra->netns_cookie == 0)
    extra->netns_cookie = netns_cookie (g_socket_get_fd (self->socket));
  td = thread_diag (extra->netns_cookie);
  if (td == NULL)
    return;
  g_array_set_size (td->sockets, items->len);
  for (i = 0; i < items->len; i++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, i);
      MptcpDiagSocket *d = &g_array_index (td->sockets, MptcpDiagSocket, i);
      gsize alen = sf->local_raw.family == AF_INET ? 4 : 16;

      d->family = (guint8) sf->local_raw.family;
      d->sport = sf->local_raw.port;
      d->dport = sf->remote_raw.port;
      memcpy (d->src, sf->local_raw.addr, alen);
      memcpy (d->dst, sf->remote_raw.addr, alen);
    }
  if (!_mptcp_sockdiag_lookup_subflows (td->diag, self->token,
                                        (MptcpDiagSocket *) (gpointer) td->sockets->data,
                                        items->len, NULL))
    return;
  /* the list may change under the notify handlers: look each subflow up again */
  for (i = 0; i < td->sockets->len && i < items->len; i++)
    {
      const MptcpDiagSocket *d = &g_array_index (td->sockets, MptcpDiagSocket, i);
      MptcpSubflow *sf = g_ptr_array_index (items, i);

      if (!d->ulp_attrs || d->sport != sf->local_raw.port || d->dport != sf->remote_raw.port)
        continue;
      g_object_ref (sf);
      _mptcp_subflow_set_backup (sf, (d->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC) != 0);
      _mptcp_subflow_set_peer_backup (sf, (d->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_REM) != 0);
      g_object_unref (sf);
    }
}

/* Reads the kernel's list (switching to the legacy path on kernels without
 * MPTCP_FULL_INFO) and applies it. keep: read into the connection's own
 * buffers (allocated now if needed: a caller's refresh), else into the
 * thread's scratch list if the connection has none. */
static gboolean
refresh_internal (MptcpConnection  *self,
                  gboolean          keep,
                  GError          **error)
{
  guint next = extra_ro (self)->cur ^ 1;
  MptcpSockoptList *kl;
  int fd;
  int r;

  if (self->fallback)
    {
      set_fallback_error (error);
      return FALSE;
    }
  if (self->closed || g_socket_is_closed (self->socket))
    {
      mark_closed (self);
      set_closed_error (error);
      return FALSE;
    }

  if (extra_ro (self)->kernel == NULL && keep)
    extra_get (self)->kernel = g_new0 (MptcpSockoptList, 2);
  kl = extra_ro (self)->kernel != NULL ? &self->extra->kernel[next] : scratch_list ();

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_list_read (kl, fd, self->path);
  if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
    {
      int is_mptcp = _mptcp_sockopt_is_mptcp (fd);

      if (is_mptcp == 0)
        {
          mark_fallback (self);
          set_fallback_error (error);
          return FALSE;
        }
      if (is_mptcp == 1 && self->path == MPTCP_SOCKOPT_PATH_FULL_INFO && !self->path_forced)
        {
          /* Linux before 6.5: no MPTCP_FULL_INFO */
          g_debug ("MPTCP_FULL_INFO not supported, listing subflows the legacy way");
          self->path = MPTCP_SOCKOPT_PATH_LEGACY;
          r = _mptcp_sockopt_list_read (kl, fd, self->path);
        }
    }
  if (r < 0)
    {
      if (r == -EBADF)
        {
          mark_closed (self);
          set_closed_error (error);
        }
      else
        set_errno_error (error, -r, "Could not list the subflows");
      return FALSE;
    }

  if (extra_ro (self)->kernel != NULL)
    {
      apply_kernel_list (self, kl, FALSE);
      self->extra->cur = next;
    }
  else
    apply_kernel_list (self, kl, TRUE);
  if (keep)
    {
      gint64 now = g_get_monotonic_time ();

      if (self->extra->flags_read_at == 0 || now - self->extra->flags_read_at >= FLAGS_READ_INTERVAL_US)
        {
          self->extra->flags_read_at = now;
          read_backup_flags (self);
        }
    }
  return TRUE;
}

/* refresh_internal(), unless one is running already (a signal handler of
 * its own refreshing again): then nothing. */
static gboolean
refresh_guarded (MptcpConnection  *self,
                 gboolean          keep,
                 GError          **error)
{
  gboolean ok;

  if (self->in_refresh)
    return TRUE;
  self->in_refresh = TRUE;
  ok = refresh_internal (self, keep, error);
  self->in_refresh = FALSE;
  return ok;
}

static gboolean
native_address (GSocketAddress    *address,
                MptcpSockoptAddr  *raw,
                GError           **error)
{
  struct sockaddr_storage ss;
  gssize len = g_socket_address_get_native_size (address);

  if (len <= 0 || !g_socket_address_to_native (address, &ss, sizeof ss, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "Unusable socket address");
      return FALSE;
    }
  _mptcp_sockopt_addr_from_sockaddr (raw, (struct sockaddr *) &ss, len);
  return TRUE;
}

/* Reads the socket's own (peer FALSE) or peer's address, normalised. */
static gboolean
socket_address (int                fd,
                gboolean           peer,
                MptcpSockoptAddr  *out,
                GError           **error)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int r;

  r = peer ? getpeername (fd, (struct sockaddr *) &ss, &len)
           : getsockname (fd, (struct sockaddr *) &ss, &len);
  if (r < 0)
    {
      int errsv = errno;

      if (errsv == ENOTCONN)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                             "The MPTCP socket is not connected");
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                     "Could not get the %s address: %s", peer ? "remote" : "local",
                     g_strerror (errsv));
      return FALSE;
    }
  _mptcp_sockopt_addr_from_sockaddr (out, (struct sockaddr *) &ss, len);
  if (out->family == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Unusable socket address");
      return FALSE;
    }
  return TRUE;
}

static gboolean init_once (MptcpConnection *self, GError **error);

/* GInitable wants init to be idempotent: run it once, then repeat its
 * outcome. */
static gboolean
mptcp_connection_initable_init (GInitable     *initable,
                                GCancellable  *cancellable,
                                GError       **error)
{
  MptcpConnection *self = MPTCP_CONNECTION (initable);

  if (!self->initialized)
    {
      GError *init_error = NULL;

      self->initialized = TRUE;
      init_once (self, &init_error);
      if (init_error != NULL)
        extra_get (self)->init_error = init_error;
    }
  if (extra_ro (self)->init_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->extra->init_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
init_once (MptcpConnection  *self,
           GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  MptcpSockoptProbe probe;
  const char *mode;
  int fd;
  int r;

  if (self->socket == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "An MptcpConnection needs a socket");
      return FALSE;
    }
  if (g_socket_is_closed (self->socket))
    {
      set_closed_error (error);
      return FALSE;
    }

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_probe (fd, &probe);
  if (r < 0)
    {
      set_errno_error (error, -r, "Could not inspect the socket");
      return FALSE;
    }
  switch (probe.kind)
    {
    case MPTCP_SOCKOPT_KIND_NOT_STREAM:
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                           "The socket is not an IPv4 or IPv6 stream socket, "
                           "so it cannot be MPTCP");
      return FALSE;
    case MPTCP_SOCKOPT_KIND_TCP:
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                           "The socket is a plain TCP socket, not an MPTCP one");
      return FALSE;
    case MPTCP_SOCKOPT_KIND_MPTCP_FALLBACK:
      self->fallback = TRUE;
      break;
    case MPTCP_SOCKOPT_KIND_MPTCP:
    default:
      break;
    }

  /* Addresses: the socket must be connected. The objects are made on
   * first get. */
  if (!socket_address (fd, FALSE, &self->local_raw, error) ||
      !socket_address (fd, TRUE, &self->remote_raw, error))
    return FALSE;

  mode = g_getenv (MPTCP_CONNECTION_SUBFLOW_LIST_ENV);
  if (g_strcmp0 (mode, "legacy") == 0)
    {
      self->path = MPTCP_SOCKOPT_PATH_LEGACY;
      self->path_forced = TRUE;
    }
  else if (g_strcmp0 (mode, "full-info") == 0)
    {
      self->path = MPTCP_SOCKOPT_PATH_FULL_INFO;
      self->path_forced = TRUE;
    }
  else
    self->path = MPTCP_SOCKOPT_PATH_FULL_INFO;

  if (self->fallback)
    return TRUE;

  {
    mpx_mptcp_info info = { 0 };
    gsize len;

    r = _mptcp_sockopt_get_mptcp_info (fd, (guint8 *) &info, sizeof info, &len);
    if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
      {
        /* fell back right now */
        self->fallback = TRUE;
        return TRUE;
      }
    if (r < 0)
      {
        set_errno_error (error, -r, "Could not read the MPTCP connection info");
        return FALSE;
      }
    if (len >= G_STRUCT_OFFSET (mpx_mptcp_info, token) + sizeof info.token)
      self->token = info.token;
  }

  if (!refresh_internal (self, FALSE, &local_error))
    {
      if (g_error_matches (local_error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (self->token != 0)
    start_events (self);

  return TRUE;
}

static void
mptcp_connection_initable_iface_init (GInitableIface *iface)
{
  iface->init = mptcp_connection_initable_init;
}

/**
 * mptcp_connection_new:
 * @socket: a connected MPTCP #GSocket
 * @error: return location for a #GError, or %NULL
 *
 * Wraps @socket, reads its token and lists its subflows. @socket may come
 * from anywhere (#MptcpClient, a #GSocketService listening through
 * mptcp_listener_add_inet_port(), mptcp_socket_new(), an adopted file
 * descriptor) but must be a connected MPTCP socket.
 *
 * Fails with %MPTCP_ERROR_NOT_MPTCP for a plain TCP socket or a socket that
 * is not an IPv4/IPv6 stream socket, %G_IO_ERROR_NOT_CONNECTED for an
 * unconnected one and %MPTCP_ERROR_CLOSED for a closed one. A connection that
 * fell back to TCP is not an error: #MptcpConnection:fallback is then %TRUE.
 *
 * Returns: (transfer full): a new #MptcpConnection, or %NULL on error
 *
 * Since: 0.1
 */
MptcpConnection *
mptcp_connection_new (GSocket  *socket,
                      GError  **error)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (MPTCP_TYPE_CONNECTION, NULL, error,
                         "socket", socket,
                         NULL);
}

/**
 * mptcp_connection_new_for_connection:
 * @connection: a #GSocketConnection over an MPTCP socket
 * @error: return location for a #GError, or %NULL
 *
 * Like mptcp_connection_new() for the socket of @connection, for example
 * the result of mptcp_client_connect() or a connection a #GSocketService
 * accepted. The #MptcpConnection keeps @connection alive (disposing a
 * #GSocketConnection closes its socket), but never reads, writes or closes
 * it.
 *
 * Returns: (transfer full): a new #MptcpConnection, or %NULL on error
 *
 * Since: 0.1
 */
MptcpConnection *
mptcp_connection_new_for_connection (GSocketConnection  *connection,
                                     GError            **error)
{
  MptcpConnection *self;

  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (connection), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = mptcp_connection_new (g_socket_connection_get_socket (connection), error);
  if (self != NULL)
    self->stream = g_object_ref (connection);
  return self;
}

/**
 * mptcp_connection_get_socket:
 * @self: a #MptcpConnection
 *
 * Gets the socket of the connection.
 *
 * Returns: (transfer none): the socket
 *
 * Since: 0.1
 */
GSocket *
mptcp_connection_get_socket (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return self->socket;
}

/**
 * mptcp_connection_get_token:
 * @self: a #MptcpConnection
 *
 * Gets the kernel's token of the connection; see #MptcpConnection:token.
 *
 * Returns: the token, or 0 if the connection had fallen back to TCP when it
 *   was wrapped
 *
 * Since: 0.1
 */
guint32
mptcp_connection_get_token (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);

  return self->token;
}

/**
 * mptcp_connection_get_fallback:
 * @self: a #MptcpConnection
 *
 * Gets whether the connection has fallen back to plain TCP, as of the
 * construction or the last mptcp_connection_refresh() or
 * mptcp_connection_get_info(); see #MptcpConnection:fallback.
 *
 * Returns: %TRUE if the connection fell back to TCP
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_get_fallback (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);

  return self->fallback;
}

/**
 * mptcp_connection_get_local_address:
 * @self: a #MptcpConnection
 *
 * Gets the local address and port of the socket; see
 * #MptcpConnection:local-address.
 *
 * Returns: (transfer none): the local address
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_connection_get_local_address (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return _mptcp_sockopt_addr_cached (&self->local, &self->local_raw);
}

/**
 * mptcp_connection_get_remote_address:
 * @self: a #MptcpConnection
 *
 * Gets the remote address and port of the socket; see
 * #MptcpConnection:remote-address.
 *
 * Returns: (transfer none): the remote address
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_connection_get_remote_address (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return _mptcp_sockopt_addr_cached (&self->remote, &self->remote_raw);
}

/**
 * mptcp_connection_get_subflows:
 * @self: a #MptcpConnection
 *
 * Gets the subflows of the connection as a #GListModel of #MptcpSubflow, as
 * of the last mptcp_connection_refresh() (or the construction). The model is
 * updated in place and emits #GListModel::items-changed for exactly what
 * changed; it is empty once the connection fell back to TCP or was closed.
 *
 * Returns: (transfer none): the list model of #MptcpSubflow
 *
 * Since: 0.1
 */
GListModel *
mptcp_connection_get_subflows (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (in_own_thread (self), NULL);

  return G_LIST_MODEL (self->subflows);
}

/**
 * mptcp_connection_refresh:
 * @self: a #MptcpConnection
 * @error: return location for a #GError, or %NULL
 *
 * Asks the kernel for the current subflows of the connection and their TCP
 * statistics, and updates the list of mptcp_connection_get_subflows() in
 * place: subflows that appeared are appended, subflows that are gone are
 * removed, and every listed subflow gets the new statistics. It is one
 * getsockopt() on Linux 6.5 and later (two before), needs no privilege and
 * does not block.
 *
 * It also reads the kernel's backup flags of the subflows
 * (#MptcpSubflow:backup and #MptcpSubflow:peer-backup) through sock_diag,
 * one lookup per subflow (dearer than the getsockopt()), so at most once
 * every 100 ms: the first call reads them,
 * a call within 100 ms of the last read does not. Where sock_diag gives
 * this process no MPTCP details of the subflows (Debian's 6.1 and 6.12
 * without `CAP_NET_ADMIN`) nothing changes: #MptcpSubflow:backup stays the
 * library's last request and #MptcpSubflow:peer-backup %FALSE. The library's
 * own refreshes (construction, events, polling) do not read them.
 *
 * Fails with %MPTCP_ERROR_FALLBACK once the connection fell back to TCP
 * (#MptcpConnection:fallback becomes %TRUE and the list is emptied) and with
 * %MPTCP_ERROR_CLOSED once the socket is closed (the list is emptied too).
 *
 * Calling it from a #GListModel::items-changed handler of the same
 * connection does nothing and returns %TRUE.
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_refresh (MptcpConnection  *self,
                          GError          **error)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (in_own_thread (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return refresh_guarded (self, TRUE, error);
}

/**
 * mptcp_connection_get_info:
 * @self: a #MptcpConnection
 * @error: return location for a #GError, or %NULL
 *
 * Reads the MPTCP-level counters of the connection from the kernel (one
 * getsockopt(), no privilege needed). The snapshot holds every field of
 * `struct mptcp_info` the running kernel returns; see #MptcpConnectionInfo.
 *
 * Fails with %MPTCP_ERROR_FALLBACK if the connection fell back to TCP (the
 * kernel then keeps no MPTCP counters; #MptcpConnection:fallback becomes
 * %TRUE) and with %MPTCP_ERROR_CLOSED if the socket is closed.
 *
 * Returns: (transfer full): a snapshot of the connection's counters, or
 *   %NULL on error
 *
 * Since: 0.1
 */
MptcpConnectionInfo *
mptcp_connection_get_info (MptcpConnection  *self,
                           GError          **error)
{
  guint8 info[MPX_MPTCP_INFO_SIZE];
  gsize len;
  int fd;
  int r;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (in_own_thread (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->fallback)
    {
      set_fallback_error (error);
      return NULL;
    }
  if (self->closed || g_socket_is_closed (self->socket))
    {
      set_closed_error (error);
      return NULL;
    }

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_get_mptcp_info (fd, info, sizeof info, &len);
  if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
    {
      if (_mptcp_sockopt_is_mptcp (fd) == 0)
        {
          if (!self->in_refresh)
            {
              self->in_refresh = TRUE;
              mark_fallback (self);
              self->in_refresh = FALSE;
            }
          set_fallback_error (error);
          return NULL;
        }
    }
  if (r < 0)
    {
      set_errno_error (error, -r, "Could not read the MPTCP connection info");
      return NULL;
    }

  return _mptcp_connection_info_new (info, len);
}

/* ---- private API ------------------------------------------------------------ */

MptcpSockoptPath
_mptcp_connection_get_list_path (MptcpConnection *self)
{
  return self->path;
}

void
_mptcp_connection_add_subflow (MptcpConnection *self,
                               MptcpSubflow    *subflow)
{
  GPtrArray *items = self->subflows->items;

  if (subflow->id == 0 && self->path == MPTCP_SOCKOPT_PATH_LEGACY)
    _mptcp_subflow_set_id (subflow, extra_get (self)->next_id++);
  g_ptr_array_add (items, g_object_ref (subflow));
  g_list_model_items_changed (G_LIST_MODEL (self->subflows), items->len - 1, 0, 1);
}

gboolean
_mptcp_connection_remove_subflow (MptcpConnection *self,
                                  MptcpSubflow    *subflow)
{
  guint pos;

  if (!g_ptr_array_find (self->subflows->items, subflow, &pos))
    return FALSE;
  _mptcp_subflow_detach_tcp_info (subflow);
  g_ptr_array_remove_index (self->subflows->items, pos);
  g_list_model_items_changed (G_LIST_MODEL (self->subflows), pos, 1, 0);
  return TRUE;
}

/* ==== events and signals ==================================================== */

/* An address as events and netlink replies give it, in the form subflows
 * keep (v4-mapped IPv6 turned into IPv4, no scope). */
static void
addr_from_nl (MptcpSockoptAddr      *out,
              int                    family,
              const MptcpNlInetAddr *addr,
              guint16                port)
{
  MptcpNlInetAddr a = *addr;

  memset (out, 0, sizeof *out);
  _mptcp_nl_inet_normalize (&family, &a);   /* v4-mapped: IPv4 */
  if (family == AF_INET)
    {
      out->family = AF_INET;
      memcpy (out->addr, &a.v4, 4);
    }
  else if (family == AF_INET6)
    {
      out->family = AF_INET6;
      memcpy (out->addr, &a.v6, 16);
    }
  out->port = port;
}

static void
addr_to_nl (MptcpNlAddress         *out,
            const MptcpSockoptAddr *addr)
{
  memset (out, 0, sizeof *out);
  out->family = addr->family;
  memcpy (&out->addr, addr->addr, addr->family == AF_INET ? 4 : 16);
  out->port = addr->port;
}

typedef struct
{
  MptcpSockoptAddr local;
  MptcpSockoptAddr remote;
} Tuple;

static gboolean
tuple_same (const Tuple *a,
            const Tuple *b)
{
  return _mptcp_sockopt_addr_equal (&a->local, &b->local) && _mptcp_sockopt_addr_equal (&a->remote, &b->remote);
}

static void
tuple_from_event (Tuple              *out,
                  const MptcpNlEvent *event)
{
  addr_from_nl (&out->local, event->family, &event->saddr, event->sport);
  addr_from_nl (&out->remote, event->family, &event->daddr, event->dport);
}

static MptcpSubflow *
find_subflow (MptcpConnection *self,
              const Tuple     *tuple)
{
  GPtrArray *items = self->subflows->items;
  guint i;

  for (i = 0; i < items->len; i++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, i);

      if (_mptcp_sockopt_addr_equal (&sf->local_raw, &tuple->local) && _mptcp_sockopt_addr_equal (&sf->remote_raw, &tuple->remote))
        return sf;
    }
  return NULL;
}

/* Brings the list in line with the kernel (signals for every difference),
 * unless a refresh is running already. */
static gboolean
resync (MptcpConnection  *self,
        GError          **error)
{
  return refresh_guarded (self, FALSE, error);
}

static void
set_event_source (MptcpConnection  *self,
                  MptcpEventSource  source)
{
  if (self->event_source == source)
    return;
  self->event_source = source;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EVENT_SOURCE]);
}

/* Removes a listed subflow, then emits subflow-removed. */
static void
remove_with_signal (MptcpConnection *self,
                    MptcpSubflow    *subflow,
                    int              error,
                    guint            reset_reason)
{
  g_autoptr(MptcpSubflow) sf = g_object_ref (subflow);

  if (_mptcp_connection_remove_subflow (self, sf))
    g_signal_emit (self, signals[SIGNAL_SUBFLOW_REMOVED], 0, sf, error, reset_reason);
}

/* Whether the socket reports the connection over (reset by the peer, or
 * closed both ways): poll() gives HUP or ERR. The kernel sends no CLOSED
 * event until the application closes its socket. */
static gboolean
socket_is_dead (MptcpConnection *self)
{
  if (g_socket_is_closed (self->socket))
    return TRUE;
  return g_socket_condition_check (self->socket, G_IO_HUP | G_IO_ERR) != 0;
}

/* One event of this connection's token: update the list, emit signals. */
static void
apply_event (MptcpConnection    *self,
             const MptcpNlEvent *event)
{
  Tuple tuple;
  MptcpSubflow *sf;

  if (self->closed || self->fallback)
    return;

  switch (event->type)
    {
    case MPTCP_EVENT_ESTABLISHED:
      if (!self->established)
        {
          self->established = TRUE;
          g_signal_emit (self, signals[SIGNAL_ESTABLISHED], 0);
        }
      break;

    case MPTCP_EVENT_CLOSED:
      mark_closed (self);
      break;

    case MPTCP_EVENT_SUB_ESTABLISHED:
      tuple_from_event (&tuple, event);
      if (find_subflow (self, &tuple) == NULL)
        {
          /* A refresh adds it with its kernel id, or does nothing if it is
           * gone already (a stale event). */
          g_autoptr(GError) error = NULL;

          if (!resync (self, &error))
            g_debug ("Could not list the subflows after an event: %s", error->message);
        }
      break;

    case MPTCP_EVENT_SUB_CLOSED:
      tuple_from_event (&tuple, event);
      sf = find_subflow (self, &tuple);
      if (sf != NULL)
        {
          remove_with_signal (self, sf,
                              MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_ERROR) ? event->error : 0,
                              event->reset_reason);
        }
      break;

    case MPTCP_EVENT_SUB_PRIORITY:
      tuple_from_event (&tuple, event);
      sf = find_subflow (self, &tuple);
      if (sf != NULL)
        g_signal_emit (self, signals[SIGNAL_SUBFLOW_PRIORITY_CHANGED], 0, sf,
                       (gboolean) (event->backup != 0));
      break;

    case MPTCP_EVENT_ANNOUNCED:
      {
        MptcpSockoptAddr addr;
        g_autoptr(GInetSocketAddress) address = NULL;

        addr_from_nl (&addr, event->family, &event->daddr, event->dport);
        address = _mptcp_sockopt_addr_to_inet (&addr);
        if (address == NULL)
          break;
        g_signal_emit (self, signals[SIGNAL_ADDRESS_ANNOUNCED], 0,
                       (guint) event->rem_id, address);
      }
      break;

    case MPTCP_EVENT_REMOVED:
      g_signal_emit (self, signals[SIGNAL_ADDRESS_REMOVED], 0, (guint) event->rem_id);
      break;

    default:
      break;
    }
}

/* The stale tuples: a synchronous call runs on a broker of its own, so the events of what it
 * did reach the connection's broker later, when its context runs again. A pending open must
 * not take them for those of its own subflow (an open between the same addresses used to
 * return the subflow a synchronous close had just closed). */
static guint
stale_find (MptcpConnection *self,
            const Tuple     *tuple)
{
  GArray *stale = extra_ro (self)->stale;
  guint i;

  for (i = 0; stale != NULL && i < stale->len; i++)
    if (tuple_same (&g_array_index (stale, Tuple, i), tuple))
      return i + 1;
  return 0;
}

static void
stale_add (MptcpConnection *self,
           const Tuple     *tuple)
{
  ConnectionExtra *x = extra_get (self);

  if (stale_find (self, tuple) != 0)
    return;
  if (x->stale == NULL)
    x->stale = g_array_new (FALSE, FALSE, sizeof (Tuple));
  if (x->stale->len >= 32)
    g_array_remove_index (x->stale, 0);
  g_array_append_val (x->stale, *tuple);
}

static void
on_event (const MptcpNlEvent *event,
          gpointer            user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  /* taken first: applying the event may stop the subscription */
  g_autoptr(GPtrArray) ops = extra_ro (self)->event_ops != NULL ? routed_ops (self) : NULL;
  guint stale = 0;

  if (extra_ro (self)->stale != NULL &&
      (event->type == MPTCP_EVENT_SUB_ESTABLISHED || event->type == MPTCP_EVENT_SUB_CLOSED))
    {
      Tuple tuple;

      tuple_from_event (&tuple, event);
      stale = stale_find (self, &tuple);
      if (stale != 0 && event->type == MPTCP_EVENT_SUB_CLOSED)
        g_array_remove_index (self->extra->stale, stale - 1);
    }
  apply_event (self, event);
  if (ops != NULL && stale == 0)
    route_event (ops, event);
  g_object_unref (self);
}

/* Events were lost: read the kernel's view and report the differences. */
static void
on_overrun (gpointer user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  g_autoptr(GError) error = NULL;

  if (!self->closed && !self->fallback && !resync (self, &error))
    g_debug ("Could not resynchronise after an event overrun: %s", error->message);
  g_object_unref (self);
}

static void
conn_on_overrun (gpointer user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  g_autoptr(GPtrArray) ops = extra_ro (self)->event_ops != NULL ? routed_ops (self) : NULL;

  on_overrun (self);
  if (ops != NULL)
    route_overrun (ops);
  g_object_unref (self);
}

static gboolean
poll_cb (gpointer user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  g_autoptr(GError) error = NULL;

  if (!resync (self, &error))
    g_debug ("Polling the subflows failed: %s", error->message);
  else if (socket_is_dead (self))
    mark_closed (self);   /* reports what is left of the list, then "closed" */

  g_object_unref (self);
  return G_SOURCE_CONTINUE;   /* stop_events() destroys it when it is over */
}

static void
start_polling (MptcpConnection *self)
{
  ConnectionExtra *x = extra_get (self);

  if (x->poll_source != NULL)
    {
      g_source_destroy (x->poll_source);
      g_source_unref (x->poll_source);
    }
  x->poll_source = g_timeout_source_new (x->poll_interval);
  g_source_set_callback (x->poll_source, poll_cb, self, NULL);
  g_source_set_static_name (x->poll_source, "[mptcp-glib] connection poll");
  g_source_attach (x->poll_source, self->context);
  set_event_source (self, MPTCP_EVENT_SOURCE_POLLING);
}

static void
hup_cb (MptcpConnection *self)
{
  g_autoptr(GError) error = NULL;

  /* report what is left of the list, then the end */
  if (!self->closed && !resync (self, &error))
    g_debug ("Could not list the subflows of a dead connection: %s", error->message);
  if (!self->closed)
    mark_closed (self);
}

/* The socket's hangup (a peer's reset sends no event): one shared watch per
 * context, mptcp-hangup-watch.c. */
static void
hup_ref (MptcpHangupWatch *watch)
{
  g_object_ref (G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup)));
}

static void
hup_unref (MptcpHangupWatch *watch)
{
  g_object_unref (G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup)));
}

static void
hup_hangup (MptcpHangupWatch *watch)
{
  hup_cb (G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup)));
}

static const MptcpHangupWatchFuncs hup_funcs = { hup_ref, hup_unref, hup_hangup };

/* Tests: new hangup watches poll the fd instead of using epoll (or again not). */
void
_mptcp_connection_set_hangup_epoll (gboolean use)
{
  _mptcp_hangup_watch_set_epoll (use);
}

guint
_mptcp_connection_get_hangup_mode (MptcpConnection *self)
{
  return self->hup.mode;
}

static void
hup_watch (MptcpConnection *self)
{
  _mptcp_hangup_watch_start (&self->hup, self->context, g_socket_get_fd (self->socket), &hup_funcs);
}

static void
hup_unwatch (MptcpConnection *self)
{
  /* a closed GSocket's fd number may be another file's by now */
  _mptcp_hangup_watch_stop (&self->hup, self->context,
                            g_socket_is_closed (self->socket) ? -1 : g_socket_get_fd (self->socket));
}

static void
start_events (MptcpConnection *self)
{
  g_autoptr(GError) error = NULL;

  if (self->netlink == NULL)
    self->netlink = _mptcp_netlink_get_for_context (self->context, &error);
  if (self->netlink != NULL)
    self->sub_id = _mptcp_netlink_subscribe (self->netlink, FALSE, self->token,
                                             on_event, conn_on_overrun, self, &error);
  if (self->sub_id != 0)
    {
      hup_watch (self);
      set_event_source (self, MPTCP_EVENT_SOURCE_NETLINK);
      return;
    }
  g_debug ("No MPTCP events for connection %08x (%s): polling every %u ms",
           self->token, error != NULL ? error->message : "?",
           extra_ro (self)->poll_interval);
  start_polling (self);
}

static void
stop_events (MptcpConnection *self)
{
  if (self->sub_id != 0)
    {
      _mptcp_netlink_unsubscribe (self->netlink, self->sub_id);
      self->sub_id = 0;
    }
  /* pending ops hold the connection, and mark_closed() / mark_fallback() end them first */
  g_assert (extra_ro (self)->event_ops == NULL);
  if (extra_ro (self)->poll_source != NULL)
    {
      GSource *source = g_steal_pointer (&self->extra->poll_source);

      g_source_destroy (source);
      g_source_unref (source);
    }
  if (self->hup.mode != MPTCP_HANGUP_NONE)
    hup_unwatch (self);
  if (self->initialized)
    set_event_source (self, MPTCP_EVENT_SOURCE_NONE);
}

MptcpNetlink *
_mptcp_connection_get_netlink (MptcpConnection *self)
{
  return self->netlink;
}

/* ==== control: open, close, backup, announce, remove ======================== */

/* One entry of the connection's local address list as the library knows
 * it: address and port (the kernel's identity of an entry) and its id. */
typedef struct
{
  MptcpSockoptAddr addr;
  guint8 id;
} IdEntry;

static guint8
ids_lookup (MptcpConnection        *self,
            const MptcpSockoptAddr *addr)
{
  guint i;

  for (i = 0; extra_ro (self)->ids != NULL && i < self->extra->ids->len; i++)
    {
      IdEntry *e = &g_array_index (self->extra->ids, IdEntry, i);

      if (_mptcp_sockopt_addr_equal (&e->addr, addr))
        return e->id;
    }
  return 0;
}

static gboolean
ids_id_used (MptcpConnection *self,
             guint8           id)
{
  guint i;

  for (i = 0; extra_ro (self)->ids != NULL && i < self->extra->ids->len; i++)
    if (g_array_index (self->extra->ids, IdEntry, i).id == id)
      return TRUE;
  return FALSE;
}

/* The id of addr (address + port): the one it has, else the lowest free one,
 * recorded at once so that concurrent requests do not pick it too. 0 if all
 * 255 are taken. */
static guint8
ids_get (MptcpConnection        *self,
         const MptcpSockoptAddr *addr)
{
  IdEntry e;
  guint id;

  e.id = ids_lookup (self, addr);
  if (e.id != 0)
    return e.id;
  for (id = 1; id <= 255 && ids_id_used (self, id); id++)
    ;
  if (id > 255)
    return 0;
  if (extra_ro (self)->ids == NULL)
    extra_get (self)->ids = g_array_new (FALSE, FALSE, sizeof (IdEntry));
  e.addr = *addr;
  e.addr.scope_id = 0;
  e.id = id;
  g_array_append_val (self->extra->ids, e);
  return e.id;
}

static void
ids_forget_id (MptcpConnection *self,
               guint8           id)
{
  guint i;

  for (i = 0; extra_ro (self)->ids != NULL && i < self->extra->ids->len; i++)
    if (g_array_index (self->extra->ids, IdEntry, i).id == id)
      {
        g_array_remove_index (self->extra->ids, i);
        return;
      }
}

/* The kernel refused id for our address: someone else holds it. Our entry for it becomes a
 * placeholder of no address, which keeps the id taken. */
static void
ids_reserve_foreign (MptcpConnection *self,
                     guint8           id)
{
  guint i;

  for (i = 0; extra_ro (self)->ids != NULL && i < self->extra->ids->len; i++)
    {
      IdEntry *e = &g_array_index (self->extra->ids, IdEntry, i);

      if (e->id == id)
        {
          memset (&e->addr, 0, sizeof e->addr);
          return;
        }
    }
}

/* Takes the kernel's list (a GET_ADDR dump by token). Entries we knew that
 * clash with nothing in it keep their ids, so one address keeps one id even
 * after the kernel dropped its entry (it does so on SUBFLOW_DESTROY and on a
 * failed SUBFLOW_CREATE). */
static void
ids_load (MptcpConnection    *self,
          const MptcpNlReply *reply)
{
  GArray *fresh = g_array_new (FALSE, FALSE, sizeof (IdEntry));
  guint i, k;

  for (i = 0; i < reply->addresses->len; i++)
    {
      MptcpNlAddress a = g_array_index (reply->addresses, MptcpNlAddress, i);
      IdEntry e;

      addr_from_nl (&e.addr, a.family, &a.addr, a.port);
      e.id = a.id;
      if (e.addr.family != 0 && e.id != 0)
        g_array_append_val (fresh, e);
    }
  for (i = 0; extra_ro (self)->ids != NULL && i < self->extra->ids->len; i++)
    {
      IdEntry *old = &g_array_index (self->extra->ids, IdEntry, i);
      gboolean clash = FALSE;

      for (k = 0; k < fresh->len && !clash; k++)
        {
          IdEntry *e = &g_array_index (fresh, IdEntry, k);

          clash = e->id == old->id || _mptcp_sockopt_addr_equal (&e->addr, &old->addr);
        }
      if (!clash)
        g_array_append_val (fresh, *old);
    }
  g_clear_pointer (&extra_get (self)->ids, g_array_unref);
  self->extra->ids = fresh;
  self->ids_loaded = TRUE;
}

/* A live subflow of the kernel's list, for the opens. */
typedef struct
{
  Tuple tuple;
  guint8 state;
} KernelEntry;

/* Reads the kernel's subflows (all states but CLOSE) into out. */
static int
read_kernel (MptcpConnection *self,
             GArray          *out)
{
  MptcpSockoptList *kl = scratch_list ();
  guint i;
  int r;

  g_array_set_size (out, 0);
  if (self->closed || g_socket_is_closed (self->socket))
    return -EBADF;
  /* the scratch list: nothing here runs user code while it is read */
  r = _mptcp_sockopt_list_read (kl, g_socket_get_fd (self->socket), self->path);
  for (i = 0; r == 0 && i < kl->n_subflows; i++)
    {
      KernelEntry e;

      e.state = _mptcp_sockopt_list_state (kl, i);
      if (e.state == MPTCP_TCP_STATE_CLOSE)
        continue;
      _mptcp_sockopt_list_get_addrs (kl, i, &e.tuple.local, &e.tuple.remote);
      e.tuple.local.scope_id = 0;
      e.tuple.remote.scope_id = 0;
      g_array_append_val (out, e);
    }
  return r;
}

typedef enum
{
  MPTCP_CONTROL_OP_OPEN,
  MPTCP_CONTROL_OP_CLOSE,
  MPTCP_CONTROL_OP_BACKUP,
  MPTCP_CONTROL_OP_ANNOUNCE,
  MPTCP_CONTROL_OP_REMOVE,
} MptcpControlOpKind;

/* the service path (mptcp-connection-service.c) takes the kind as it is */
G_STATIC_ASSERT ((int) MPTCP_CONTROL_OP_OPEN == (int) MPTCP_SERVICE_OP_OPEN &&
                 (int) MPTCP_CONTROL_OP_REMOVE == (int) MPTCP_SERVICE_OP_REMOVE);

typedef struct
{
  Tuple tuple;
  guint8 type;    /* MPTCP_EVENT_SUB_ESTABLISHED or _SUB_CLOSED */
  guint8 error;
} EarlyEvent;

typedef struct
{
  gint ref_count;
  MptcpControlOpKind kind;
  MptcpConnection *conn;      /* strong */
  MptcpNetlink *netlink;      /* strong: the broker of the task's context */
  GMainContext *context;      /* the task's context */
  GTask *task;                /* strong until the result is returned */
  guint sub_id;               /* this op's own event subscription */
  gboolean routed;            /* or in conn->event_ops: fed by the connection's one */
  GSource *timeout;           /* control-timeout */
  GSource *cancel_source;
  GSource *poll;              /* open without events: watch the list */
  guint requests;             /* netlink requests in flight */

  Tuple tuple;                /* open, close, backup; local.port may be 0 until known */
  gboolean port_known;
  guint8 id;                  /* open, announce, remove: the local address id */
  gboolean backup;
  guint8 retries;             /* id clashes resolved so far (at most ID_CLASH_RETRIES) */
  gboolean acked;
  gboolean closed_seen;       /* close: SUB_CLOSED arrived */
  gboolean established_seen;  /* open: SUB_ESTABLISHED arrived for its tuple */
  guint idle_polls;           /* open: looks at the kernel that found nothing of its */
  gboolean cleanup_done;
  GArray *before;             /* open, port unknown: KernelEntry present before the request */
  GArray *others;             /* open, port unknown: Tuple of other opens that completed */
  GArray *early;              /* EarlyEvent: events that came before the tuple was known */
  MptcpSubflow *subflow;      /* close, backup: the target */
} MptcpControlOp;

static MptcpControlOp *
control_op_ref (MptcpControlOp *op)
{
  g_atomic_int_inc (&op->ref_count);
  return op;
}

static void
control_op_unref (MptcpControlOp *op)
{
  if (!g_atomic_int_dec_and_test (&op->ref_count))
    return;
  g_assert (op->task == NULL && op->sub_id == 0 && !op->routed && op->timeout == NULL &&
            op->cancel_source == NULL && op->poll == NULL);
  g_clear_pointer (&op->before, g_array_unref);
  g_clear_pointer (&op->others, g_array_unref);
  g_clear_pointer (&op->early, g_array_unref);
  g_clear_object (&op->subflow);
  g_clear_pointer (&op->netlink, _mptcp_netlink_unref);
  g_main_context_unref (op->context);
  g_object_unref (op->conn);
  g_free (op);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

/* Drops what waits for the op; the op lives on while requests are in flight. */
static void
control_op_detach (MptcpControlOp *op)
{
  if (op->sub_id != 0)
    {
      _mptcp_netlink_unsubscribe (op->netlink, op->sub_id);
      op->sub_id = 0;
    }
  if (op->routed)
    {
      op->conn->extra->event_ops = g_list_remove (op->conn->extra->event_ops, op);
      op->routed = FALSE;
    }
  destroy_source (&op->timeout);
  destroy_source (&op->cancel_source);
  destroy_source (&op->poll);
  if (op->conn->extra != NULL)
    op->conn->extra->ops = g_list_remove (op->conn->extra->ops, op);
}

/* Takes the task to return it; drops the reference the pending op held on
 * itself (the caller holds one). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpControlOp, control_op_unref)

static void open_pass_on_tuple (MptcpControlOp *op);
static gboolean other_open_pending (MptcpControlOp *op);

static GTask *
control_op_steal_task (MptcpControlOp *op)
{
  GTask *task = g_steal_pointer (&op->task);

  if (task != NULL)
    {
      if (op->kind == MPTCP_CONTROL_OP_OPEN)
        open_pass_on_tuple (op);
      control_op_detach (op);
      control_op_unref (op);
    }
  return task;
}

static void
control_op_fail (MptcpControlOp *op,
                 GError         *error)
{
  g_autoptr(GTask) task = control_op_steal_task (op);

  if (task == NULL)
    {
      g_error_free (error);
      return;
    }
  g_task_return_error (task, error);
}

static void
control_op_return_boolean (MptcpControlOp *op)
{
  g_autoptr(GTask) task = control_op_steal_task (op);

  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
control_op_return_id (MptcpControlOp *op)
{
  g_autoptr(GTask) task = control_op_steal_task (op);

  if (task != NULL)
    g_task_return_int (task, op->id);
}

/* The connection ended (closed, or fell back to TCP) without the events that would end its
 * pending operations (a peer's reset sends no CLOSED): they end now, not at their timeout.
 * A close has nothing left to close. */
static void
end_pending_ops (MptcpConnection *self,
                 gboolean         fallback)
{
  GList *ops, *l;

  if (extra_ro (self)->ops == NULL)
    return;
  ops = g_list_copy_deep (self->extra->ops, (GCopyFunc) (void (*) (void)) control_op_ref, NULL);
  for (l = ops; l != NULL; l = l->next)
    {
      MptcpControlOp *op = l->data;
      GError *error = NULL;

      if (op->kind == MPTCP_CONTROL_OP_CLOSE)
        control_op_return_boolean (op);
      else
        {
          if (fallback)
            set_fallback_error (&error);
          else
            set_closed_error (&error);
          control_op_fail (op, error);
        }
    }
  g_list_free_full (ops, (GDestroyNotify) control_op_unref);
}

static void send_request (MptcpControlOp *op, const MptcpNlRequest *request,
                          MptcpNlReplyFunc callback);
static void control_op_on_event (const MptcpNlEvent *event, gpointer user_data);
static void control_op_on_overrun (gpointer user_data);

/* Whether the kernel's events about the connection reach the op. */
static gboolean
control_op_listens (MptcpControlOp *op)
{
  return op->sub_id != 0 || op->routed;
}
static void open_check_kernel (MptcpControlOp *op);
static void control_op_send (MptcpControlOp *op);

/* Whether the op must update the connection itself: the connection does
 * not listen to the kernel's events. */
static gboolean
control_op_drives_connection (MptcpControlOp *op)
{
  /* not when the connection listens itself (an op of a synchronous call listens on a
   * broker of its own): the same events would be applied twice, and the address and
   * priority signals emitted twice */
  return op->conn->sub_id == 0;
}

static void
request_init (MptcpControlOp *op,
              MptcpNlRequest *request,
              guint8          cmd)
{
  memset (request, 0, sizeof *request);
  request->cmd = cmd;
  request->token = op->conn->token;
  request->has_token = TRUE;
}

/* ---- cleanup of an open that was cancelled or timed out ---- */

static void
cleanup_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MptcpControlOp *op = user_data;
  g_autoptr(MptcpNlReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = _mptcp_netlink_request_finish (op->netlink, result, &error);
  if (reply == NULL)
    g_debug ("Closing an abandoned subflow: %s", error->message);
  op->requests--;
  control_op_unref (op);
}

static gboolean matches_request (MptcpControlOp *op, const Tuple *tuple);

/* Closes the subflow of an open that was given up (cancelled, timed out),
 * if it exists. */
static void
open_cleanup (MptcpControlOp *op)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  MptcpNlRequest request;
  guint i;

  if (op->cleanup_done || !op->acked)
    return;
  op->cleanup_done = TRUE;
  if (read_kernel (op->conn, kernel) < 0)
    return;
  for (i = 0; i < kernel->len; i++)
    {
      KernelEntry *e = &g_array_index (kernel, KernelEntry, i);

      if (!matches_request (op, &e->tuple))
        continue;

      request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_DESTROY);
      addr_to_nl (&request.addr, &e->tuple.local);
      request.has_addr = TRUE;
      addr_to_nl (&request.remote, &e->tuple.remote);
      request.has_remote = TRUE;
      op->requests++;
      _mptcp_netlink_request_async (op->netlink, &request,
                                    extra_ro (op->conn)->control_timeout, NULL,
                                    cleanup_done_cb, control_op_ref (op));
      break;
    }
}

static void
control_op_give_up (MptcpControlOp *op,
                    GError         *error)
{
  if (op->kind == MPTCP_CONTROL_OP_OPEN)
    open_cleanup (op);
  control_op_fail (op, error);
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_autoptr(MptcpControlOp) op = control_op_ref (user_data);

  if (op->kind == MPTCP_CONTROL_OP_CLOSE && op->acked)
    {
      /* the kernel took the request but we never heard the subflow close */
      if (op->subflow != NULL)
        remove_with_signal (op->conn, op->subflow, 0, 0);
      control_op_return_boolean (op);
      return G_SOURCE_REMOVE;
    }
  if (op->kind == MPTCP_CONTROL_OP_OPEN && op->acked)
    control_op_give_up (op, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "The kernel took the request, but reported no outcome of the "
                        "new subflow within %u ms (MptcpConnection:control-timeout; "
                        "port %s, established %s)",
                        extra_ro (op->conn)->control_timeout,
                        op->port_known ? "known" : "unknown",
                        op->established_seen ? "seen" : "not seen"));
  else
    control_op_give_up (op, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "No answer from the kernel within %u ms "
                        "(MptcpConnection:control-timeout)",
                        extra_ro (op->conn)->control_timeout));
  return G_SOURCE_REMOVE;
}

/* Arms the op's timeout, in the op's context. */
static void
control_op_arm_timeout (MptcpControlOp *op)
{
  op->timeout = g_timeout_source_new (extra_get (op->conn)->control_timeout);
  g_source_set_callback (op->timeout, timeout_cb, op, NULL);
  g_source_set_static_name (op->timeout, "[mptcp-glib] operation timeout");
  g_source_attach (op->timeout, op->context);
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  g_autoptr(MptcpControlOp) op = control_op_ref (user_data);
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  control_op_give_up (op, error);
  return G_SOURCE_REMOVE;
}

/* ---- open ---- */

/* The subflow the list holds for the op's tuple, added if the kernel lists
 * it and the list does not have it yet. */
static MptcpSubflow *
open_subflow_in_list (MptcpControlOp *op)
{
  MptcpConnection *self = op->conn;
  MptcpSubflow *sf = find_subflow (self, &op->tuple);

  if (sf == NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!resync (self, &error))
        g_debug ("Could not list the subflows: %s", error->message);
      sf = find_subflow (self, &op->tuple);
    }
  if (sf == NULL && self->in_refresh && !self->closed && !self->fallback)
    {
      /* not listed because a refresh is running: report it as the event did */
      g_autoptr(MptcpSubflow) fresh = _mptcp_subflow_new (self, 0, &op->tuple.local,
                                                          &op->tuple.remote);

      _mptcp_connection_add_subflow (self, fresh);
      g_signal_emit (self, signals[SIGNAL_SUBFLOW_ADDED], 0, fresh);
      sf = fresh;
    }
  return sf;
}

static GError *
peer_refused_error (void)
{
  return g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_PEER_REFUSED,
                              "The peer refused the new subflow: it reset the join right "
                              "after the handshake (most likely the peer's path manager is at "
                              "its limit of subflows per connection)");
}

/* Whether the kernel lists the op's tuple as an established subflow now. */
static gboolean
kernel_has_established (MptcpControlOp *op)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  guint i;

  if (read_kernel (op->conn, kernel) < 0)
    return FALSE;
  for (i = 0; i < kernel->len; i++)
    {
      KernelEntry *e = &g_array_index (kernel, KernelEntry, i);

      if (tuple_same (&e->tuple, &op->tuple))
        return e->state == MPTCP_TCP_STATE_ESTABLISHED;
    }
  return FALSE;
}

/* The op's subflow is known (it came back, failed or was cleaned up): the other opens whose
 * port is not known yet must never take its later events (its close, by whoever makes it) for
 * theirs. It joins what they found there before their request. */
static void
open_pass_on_tuple (MptcpControlOp *op)
{
  GList *l;

  if (!op->port_known || op->conn->extra == NULL)
    return;
  for (l = op->conn->extra->ops; l != NULL; l = l->next)
    {
      MptcpControlOp *other = l->data;

      if (other == op || other->kind != MPTCP_CONTROL_OP_OPEN || other->port_known ||
          other->task == NULL)
        continue;
      if (other->others == NULL)
        other->others = g_array_new (FALSE, FALSE, sizeof (Tuple));
      g_array_append_val (other->others, op->tuple);
    }
}

static void
open_succeed (MptcpControlOp *op)
{
  g_autoptr(GTask) task = NULL;
  MptcpSubflow *sf;

  if (op->task == NULL)
    return;
  if (g_cancellable_is_cancelled (g_task_get_cancellable (op->task)))
    {
      GError *error = NULL;

      /* cancelled, and its cancel source has not run yet: the task would report the
       * cancellation and the subflow would stay, unseen; close it as a give-up does */
      g_cancellable_set_error_if_cancelled (g_task_get_cancellable (op->task), &error);
      control_op_give_up (op, error);
      return;
    }
  sf = open_subflow_in_list (op);
  task = control_op_steal_task (op);
  if (sf == NULL && (op->conn->closed || op->conn->fallback))
    {
      g_task_return_new_error (task, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                               "The connection closed while the subflow was opened");
      return;
    }
  if (sf == NULL)
    {
      /* established, and gone again before the library could report it: the peer reset the
       * join (an in-kernel path manager past its subflows limit does so right after the
       * handshake) */
      g_task_return_error (task, peer_refused_error ());
      return;
    }
  g_task_return_pointer (task, g_object_ref (sf), g_object_unref);
}

/* Whether an ESTABLISHED of the op's tuple came, as an early event or after the ack. */
static gboolean
seen_established (MptcpControlOp *op)
{
  guint i;

  if (op->established_seen)
    return TRUE;
  for (i = 0; op->early != NULL && i < op->early->len; i++)
    {
      EarlyEvent *ev = &g_array_index (op->early, EarlyEvent, i);

      if (ev->type == MPTCP_EVENT_SUB_ESTABLISHED && tuple_same (&ev->tuple, &op->tuple))
        return TRUE;
    }
  return FALSE;
}

static void
open_fail_closed_subflow (MptcpControlOp *op,
                          int             err)
{
  if ((err == 0 || err == ECONNRESET) && op->port_known)
    {
      /* reset with no error of ours: the peer refused the join, at its SYN or right after
       * the handshake (seen_established()); an in-kernel path manager at its limit of
       * subflows does both, depending on how many joins are on their way */
      g_debug ("The peer reset a new subflow (after its handshake: %s)",
               seen_established (op) ? "yes" : "no");
      control_op_fail (op, peer_refused_error ());
      return;
    }
  if (err != 0)
    control_op_fail (op, g_error_new (G_IO_ERROR, g_io_error_from_errno (err),
                     "The subflow could not be opened: %s", g_strerror (err)));
  else
    control_op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                     "The subflow was closed before it was established "
                     "(the peer refused or reset it)"));
}

/* Another pending open claims this tuple already. */
static gboolean
tuple_claimed (MptcpControlOp *op,
               const Tuple    *tuple)
{
  GList *l;

  for (l = extra_ro (op->conn)->ops; l != NULL; l = l->next)
    {
      MptcpControlOp *other = l->data;

      if (other != op && other->kind == MPTCP_CONTROL_OP_OPEN && other->port_known &&
          tuple_same (&other->tuple, tuple))
        return TRUE;
    }
  return FALSE;
}

static gboolean
was_there_before (MptcpControlOp *op,
                  const Tuple    *tuple)
{
  guint k;

  for (k = 0; op->before != NULL && k < op->before->len; k++)
    if (tuple_same (&g_array_index (op->before, KernelEntry, k).tuple, tuple))
      return TRUE;
  for (k = 0; op->others != NULL && k < op->others->len; k++)
    if (tuple_same (&g_array_index (op->others, Tuple, k), tuple))
      return TRUE;
  return FALSE;
}

static gboolean
matches_request (MptcpControlOp *op,
                 const Tuple    *tuple)
{
  if (op->port_known)
    return tuple_same (tuple, &op->tuple);
  return _mptcp_sockopt_addr_same_host (&tuple->local, &op->tuple.local) &&
         _mptcp_sockopt_addr_equal (&tuple->remote, &op->tuple.remote) &&
         !was_there_before (op, tuple) && !tuple_claimed (op, tuple);
}

static gboolean
open_poll_cb (gpointer user_data)
{
  g_autoptr(MptcpControlOp) op = control_op_ref (user_data);

  open_check_kernel (op);
  return G_SOURCE_CONTINUE;
}

/* An acked open that listens for its subflow's events: a look at the kernel's list every
 * 50 ms. A subflow of its (one nobody else claims) is adopted; when there is none for
 * OPEN_IDLE_POLLS looks in a row, the open fails rather than wait for its timeout: among many
 * opens between the same addresses, the events of its subflow were taken for another's. */
#define OPEN_IDLE_POLLS 6

static gboolean
open_watch_cb (gpointer user_data)
{
  g_autoptr(MptcpControlOp) op = control_op_ref (user_data);

  op->idle_polls++;
  open_check_kernel (op);
  return G_SOURCE_CONTINUE;
}

static void
open_watch (MptcpControlOp *op)
{
  if (op->poll != NULL)
    return;
  op->poll = g_timeout_source_new (50);
  g_source_set_callback (op->poll, open_watch_cb, op, NULL);
  g_source_set_static_name (op->poll, "[mptcp-glib] open watch");
  g_source_attach (op->poll, op->context);
}

/* The outcome an early event (one that came before the ack) gives for the
 * op's tuple, which must be known: 1 established, -1 closed (error in
 * *err), 0 none. The last event counts. */
static int
early_outcome (MptcpControlOp *op,
               guint8         *err)
{
  int outcome = 0;
  guint i;

  for (i = 0; op->early != NULL && i < op->early->len; i++)
    {
      EarlyEvent *ev = &g_array_index (op->early, EarlyEvent, i);

      if (!tuple_same (&ev->tuple, &op->tuple))
        continue;
      outcome = ev->type == MPTCP_EVENT_SUB_ESTABLISHED ? 1 : -1;
      *err = ev->error;
    }
  return outcome;
}

/* After the ack: learn the local port if needed (the kernel's list first: an
 * early event may be a stale one of another subflow between the same
 * addresses), then settle with what is known already or wait. */
static void
open_check_kernel (MptcpControlOp *op)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  const KernelEntry *found = NULL;
  guint8 err = 0;
  guint i;
  int r;

  if (op->task == NULL)
    return;

  r = read_kernel (op->conn, kernel);
  if (r < 0)
    {
      control_op_fail (op, g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                       "The connection closed while the subflow was opened"));
      return;
    }
  for (i = 0; i < kernel->len && found == NULL; i++)
    if (matches_request (op, &g_array_index (kernel, KernelEntry, i).tuple))
      found = &g_array_index (kernel, KernelEntry, i);

  if (found != NULL)
    {
      op->idle_polls = 0;
      op->tuple = found->tuple;
      op->port_known = TRUE;
      if (found->state == MPTCP_TCP_STATE_ESTABLISHED || early_outcome (op, &err) > 0)
        {
          open_succeed (op);
          return;
        }
    }
  else
    {
      /* not listed: it failed already; its events tell why (the last
       * matching early one, else the one on its way) */
      for (i = op->early != NULL ? op->early->len : 0; i > 0 && !op->port_known; i--)
        {
          EarlyEvent *ev = &g_array_index (op->early, EarlyEvent, i - 1);

          if (ev->type == MPTCP_EVENT_SUB_CLOSED && matches_request (op, &ev->tuple))
            {
              op->tuple = ev->tuple;
              op->port_known = TRUE;
            }
        }
      if (op->port_known && early_outcome (op, &err) < 0)
        {
          open_fail_closed_subflow (op, err);
          return;
        }
      if (control_op_listens (op) && op->idle_polls < OPEN_IDLE_POLLS)
        {
          /* its SUB_CLOSED is on its way; the watch gives up if none comes (with many opens
           * between the same addresses, its events may have been taken for another's) */
          open_watch (op);
          return;
        }
      control_op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                       "The subflow failed before it was established (the kernel "
                       "reported no reason the library could read)"));
      return;
    }

  if (!control_op_listens (op) && op->poll == NULL)
    {
      /* no events: watch the list */
      op->poll = g_timeout_source_new (10);
      g_source_set_callback (op->poll, open_poll_cb, op, NULL);
      g_source_attach (op->poll, op->context);
    }
}

static void
open_on_event (MptcpControlOp     *op,
               const MptcpNlEvent *event)
{
  Tuple tuple;

  if (event->type == MPTCP_EVENT_CLOSED)
    {
      control_op_fail (op, g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                       "The connection closed while the subflow was opened"));
      return;
    }
  if (event->type != MPTCP_EVENT_SUB_ESTABLISHED && event->type != MPTCP_EVENT_SUB_CLOSED)
    return;

  tuple_from_event (&tuple, event);
  if (!matches_request (op, &tuple))
    return;
  if (!op->acked)
    {
      EarlyEvent ev = { tuple, event->type, event->error };

      if (op->early == NULL)
        op->early = g_array_new (FALSE, FALSE, sizeof (EarlyEvent));
      g_array_append_val (op->early, ev);
      return;
    }
  if (event->type == MPTCP_EVENT_SUB_ESTABLISHED)
    {
      /* the kernel must list it established now, or the peer reset the join at once
       * (its SUB_CLOSED follows: the open then fails as refused by the peer) */
      op->tuple = tuple;
      op->port_known = TRUE;
      op->established_seen = TRUE;
      if (kernel_has_established (op))
        open_succeed (op);
      return;
    }
  /* the first event of a subflow whose port we did not know yet */
  op->tuple = tuple;
  op->port_known = TRUE;
  open_fail_closed_subflow (op, MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_ERROR) ? event->error : 0);
}

/* ---- close ---- */

/* A close that ran on a broker of its own (a synchronous call) while the connection listens on
 * another one: the events of the closed subflow are still to come there. */
static void
close_note_stale (MptcpControlOp *op)
{
  if (op->conn->sub_id != 0 && op->netlink != op->conn->netlink)
    stale_add (op->conn, &op->tuple);
}

static void
close_on_event (MptcpControlOp     *op,
                const MptcpNlEvent *event)
{
  Tuple tuple;

  if (event->type == MPTCP_EVENT_CLOSED)
    {
      control_op_return_boolean (op);   /* the subflow is gone with its connection */
      return;
    }
  if (event->type != MPTCP_EVENT_SUB_CLOSED)
    return;
  tuple_from_event (&tuple, event);
  if (!tuple_same (&tuple, &op->tuple))
    return;
  op->closed_seen = TRUE;
  if (op->acked)
    {
      /* gone from the list before the result (a no-op when the connection's own
       * subscription applied the event first) */
      close_note_stale (op);
      if (op->subflow != NULL)
        remove_with_signal (op->conn, op->subflow,
                            MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_ERROR) ? event->error : 0,
                            event->reset_reason);
      control_op_return_boolean (op);
    }
}

/* ---- the common event and overrun handlers of an op ---- */

static void
control_op_handle_event (MptcpControlOp     *op,
                         const MptcpNlEvent *event)
{
  if (op->task != NULL)
    {
      if (op->kind == MPTCP_CONTROL_OP_OPEN)
        open_on_event (op, event);
      else if (op->kind == MPTCP_CONTROL_OP_CLOSE)
        close_on_event (op, event);
    }
}

static void
control_op_on_event (const MptcpNlEvent *event,
                     gpointer            user_data)
{
  MptcpControlOp *op = control_op_ref (user_data);
  MptcpConnection *conn = g_object_ref (op->conn);

  if (control_op_drives_connection (op))
    apply_event (conn, event);
  control_op_handle_event (op, event);
  g_object_unref (conn);
  control_op_unref (op);
}

static void control_op_handle_overrun (MptcpControlOp *op);

static void
control_op_on_overrun (gpointer user_data)
{
  MptcpControlOp *op = control_op_ref (user_data);

  if (control_op_drives_connection (op))
    on_overrun (op->conn);
  control_op_handle_overrun (op);
  control_op_unref (op);
}

/* The ops the connection's subscription feeds, referenced (a handler may
 * end any of them). */
static GPtrArray *
routed_ops (MptcpConnection *self)
{
  GPtrArray *ops = g_ptr_array_new_with_free_func ((GDestroyNotify) control_op_unref);
  GList *l;

  for (l = extra_ro (self)->event_ops; l != NULL; l = l->next)
    g_ptr_array_add (ops, control_op_ref (l->data));
  return ops;
}

static void
route_event (GPtrArray          *ops,
             const MptcpNlEvent *event)
{
  guint i;

  for (i = 0; i < ops->len; i++)
    control_op_handle_event (g_ptr_array_index (ops, i), event);
}

static void
route_overrun (GPtrArray *ops)
{
  guint i;

  for (i = 0; i < ops->len; i++)
    control_op_handle_overrun (g_ptr_array_index (ops, i));
}

static void
control_op_handle_overrun (MptcpControlOp *op)
{
  if (op->task != NULL && op->acked)
    {
      if (op->kind == MPTCP_CONTROL_OP_OPEN)
        {
          /* the events of our subflow may be lost: look at the kernel */
          g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
          gboolean listed = FALSE;
          guint i;

          if (!op->port_known)
            open_check_kernel (op);   /* learns the port, or waits on */
          else if (read_kernel (op->conn, kernel) == 0)
            {
              for (i = 0; i < kernel->len && !listed; i++)
                listed = tuple_same (&g_array_index (kernel, KernelEntry, i).tuple, &op->tuple);
              if (!listed)
                control_op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                                 "The subflow failed before it was established (its "
                                 "event was lost in a netlink overrun)"));
              else
                open_check_kernel (op);
            }
        }
      else if (op->kind == MPTCP_CONTROL_OP_CLOSE)
        {
          g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
          gboolean listed = FALSE;
          guint i;

          if (read_kernel (op->conn, kernel) == 0)
            for (i = 0; i < kernel->len && !listed; i++)
              listed = tuple_same (&g_array_index (kernel, KernelEntry, i).tuple, &op->tuple);
          if (!listed)
            {
              close_note_stale (op);
              if (op->subflow != NULL)
                remove_with_signal (op->conn, op->subflow, 0, 0);
              control_op_return_boolean (op);
            }
        }
    }
}

/* ---- requests ---- */

/* The op's requests complete through the broker's direct path (no GTask):
 * the callback gets the reply or the error and the op's reference. */
static void
send_request (MptcpControlOp       *op,
              const MptcpNlRequest *request,
              MptcpNlReplyFunc      callback)
{
  op->requests++;
  _mptcp_netlink_request_direct (op->netlink, request, extra_ro (op->conn)->control_timeout,
                                 callback, control_op_ref (op));
}

/* How often one open or announce may learn from an id clash. One is enough where GET_ADDR by
 * token lists the connection's addresses (6.9+); before, the list comes back empty and each
 * refusal teaches one id someone else holds (6.1 was measured to need two in a row). */
#define ID_CLASH_RETRIES 8

static gboolean
is_id_clash (const GError *error)
{
  /* the kernel's extack text, as _mptcp_netlink_error_new() carries it */
  return g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED) &&
         strstr (error->message, "did not match address and id") != NULL;
}

static void ids_loaded_cb (MptcpNlReply *reply, GError *error, gpointer user_data);
static void ids_shared_loaded_cb (MptcpNlReply *reply, GError *error, gpointer user_data);
static GError *kernel_refusal (MptcpControlOp *op, GError *error);

/* Loads the connection's address ids for op: one GET_ADDR per connection and broker, whatever
 * the number of operations that wait for it (each used to send its own, and 24 of them at once
 * overran the receive buffer). The waiters go on in the order they came. */
static void
load_ids (MptcpControlOp *op)
{
  MptcpConnection *self = op->conn;
  ConnectionExtra *x = extra_get (self);
  MptcpNlRequest request;

  if (x->ids_loading != NULL && x->ids_loading != op->netlink)
    {
      /* a load on another context's broker (a synchronous call): ours goes alone */
      request_init (op, &request, MPTCP_PM_CMD_GET_ADDR);
      request.dump = TRUE;
      send_request (op, &request, ids_loaded_cb);
      return;
    }
  op->requests++;
  x->ids_waiters = g_list_append (x->ids_waiters, control_op_ref (op));
  if (x->ids_loading != NULL)
    return;
  x->ids_loading = op->netlink;
  request_init (op, &request, MPTCP_PM_CMD_GET_ADDR);
  request.dump = TRUE;
  _mptcp_netlink_request_direct (op->netlink, &request, x->control_timeout,
                                 ids_shared_loaded_cb, g_object_ref (self));
}

static void
ids_loaded_one (MptcpControlOp     *op,
                const MptcpNlReply *reply,
                const GError       *error)
{
  if (op->task == NULL)
    return;
  if (reply == NULL)
    control_op_fail (op, kernel_refusal (op, g_error_copy (error)));
  else
    control_op_send (op);
}

/* The shared load is done: user_data is the connection. */
static void
ids_shared_loaded_cb (MptcpNlReply *reply_in,
                      GError       *error_in,
                      gpointer      user_data)
{
  MptcpConnection *self = user_data;
  g_autoptr(MptcpNlReply) reply = reply_in;
  g_autoptr(GError) error = error_in;
  ConnectionExtra *x = extra_get (self);
  GList *waiters, *l;

  waiters = g_steal_pointer (&x->ids_waiters);
  x->ids_loading = NULL;
  if (reply != NULL)
    ids_load (self, reply);
  for (l = waiters; l != NULL; l = l->next)
    {
      MptcpControlOp *op = l->data;

      op->requests--;
      ids_loaded_one (op, reply, error);
    }
  g_list_free_full (waiters, (GDestroyNotify) control_op_unref);
  g_object_unref (self);
}

/* An op's own load is done. */
static void
ids_loaded_cb (MptcpNlReply *reply_in,
               GError       *error_in,
               gpointer      user_data)
{
  MptcpControlOp *op = user_data;
  g_autoptr(MptcpNlReply) reply = reply_in;
  g_autoptr(GError) error = error_in;

  op->requests--;
  if (reply != NULL)
    ids_load (op->conn, reply);
  ids_loaded_one (op, reply, error);
  control_op_unref (op);
}

/* The kernel refused an op's request: if the connection fell back to TCP since
 * the library last looked, that is the reason to give. */
static GError *
kernel_refusal (MptcpControlOp *op,
                GError         *error)
{
  MptcpConnection *self = op->conn;
  GError *fallback = NULL;

  if (g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_NOT_ESTABLISHED) &&
      !g_socket_is_closed (self->socket))
    {
      /* the kernel says ENOTCONN both before the connection is fully established and after
       * the peer closed it: tell them apart */
      struct pollfd pfd = { g_socket_get_fd (self->socket), POLLRDHUP, 0 };
      GError *better;

      if (poll (&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0)
        better = g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                              "The peer closed the connection (it sent its FIN or reset it): "
                              "no new subflow can join it [%s]", error->message);
      else
        better = g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_ESTABLISHED,
                              "The connection is not fully established yet: a client must send "
                              "data (and the server acknowledge it) before it can open subflows "
                              "[%s]", error->message);
      g_error_free (error);
      return better;
    }
  if (self->fallback || self->closed || g_socket_is_closed (self->socket) ||
      _mptcp_sockopt_is_mptcp (g_socket_get_fd (self->socket)) != 0)
    return error;
  mark_fallback (self);
  g_error_free (error);
  set_fallback_error (&fallback);
  return fallback;
}

static void
control_op_done_cb (MptcpNlReply *reply_in,
                    GError       *error_in,
                    gpointer      user_data)
{
  MptcpControlOp *op = user_data;
  g_autoptr(MptcpNlReply) reply = reply_in;
  g_autoptr(GError) error = error_in;

  op->requests--;

  if (reply == NULL)
    {
      if ((op->kind == MPTCP_CONTROL_OP_OPEN || op->kind == MPTCP_CONTROL_OP_ANNOUNCE) &&
          op->task != NULL && is_id_clash (error) && op->retries < ID_CLASH_RETRIES)
        {
          /* our idea of the address list was wrong: re-read it, try again. The id we asked
           * for stays taken (by an address we do not know) unless the kernel's list says
           * otherwise: a kernel whose GET_ADDR by token lists nothing (6.1) gives no better
           * idea, and the retry must not ask for the same id again */
          op->retries++;
          ids_reserve_foreign (op->conn, op->id);
          op->conn->ids_loaded = FALSE;
          load_ids (op);
          control_op_unref (op);
          return;
        }
      if (op->kind == MPTCP_CONTROL_OP_OPEN)
        op->conn->ids_loaded = FALSE;  /* the kernel drops entries on failed creates */
      control_op_fail (op, kernel_refusal (op, g_steal_pointer (&error)));
      control_op_unref (op);
      return;
    }

  op->acked = TRUE;
  switch (op->kind)
    {
    case MPTCP_CONTROL_OP_OPEN:
      if (op->task == NULL)
        open_cleanup (op);   /* given up while the request was on its way */
      else if (control_op_listens (op) && !op->port_known && op->early == NULL &&
               !other_open_pending (op))
        open_watch (op);   /* alone: the first event of a new subflow between the addresses
                            * is ours (open_on_event()); the watch looks at the kernel now
                            * and then */
      else
        {
          /* among other opens, the kernel's list says which subflow is ours: it creates
           * them in the order of the requests and lists them oldest first, and the acks come
           * in that order too, so the oldest unclaimed one between the addresses is this
           * op's (taking the first event instead mismatched opens when many were in flight) */
          open_check_kernel (op);
          if (op->task != NULL && control_op_listens (op) && !op->port_known)
            open_watch (op);
        }
      break;
    case MPTCP_CONTROL_OP_CLOSE:
      if (op->task != NULL &&
          (op->closed_seen || !control_op_listens (op) ||
           find_subflow (op->conn, &op->tuple) == NULL))
        {
          close_note_stale (op);
          if (op->subflow != NULL)
            remove_with_signal (op->conn, op->subflow, 0, 0);
          control_op_return_boolean (op);
        }
      break;
    case MPTCP_CONTROL_OP_BACKUP:
      /* the kernel applied it, even if the caller gave up meanwhile */
      _mptcp_subflow_set_backup (op->subflow, op->backup);
      control_op_return_boolean (op);
      break;
    case MPTCP_CONTROL_OP_ANNOUNCE:
      control_op_return_id (op);
      break;
    case MPTCP_CONTROL_OP_REMOVE:
      ids_forget_id (op->conn, op->id);
      control_op_return_boolean (op);
      break;
    default:
      g_assert_not_reached ();
    }
  control_op_unref (op);
}

/* Another open of the connection is pending. */
static gboolean
other_open_pending (MptcpControlOp *op)
{
  GList *l;

  for (l = extra_ro (op->conn)->ops; l != NULL; l = l->next)
    {
      MptcpControlOp *other = l->data;

      if (other != op && other->kind == MPTCP_CONTROL_OP_OPEN && other->task != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Sends the op's command (the address ids are known by now). */
static void
control_op_send (MptcpControlOp *op)
{
  MptcpConnection *self = op->conn;
  MptcpNlRequest request;
  g_autoptr(GError) error = NULL;

  switch (op->kind)
    {
    case MPTCP_CONTROL_OP_OPEN:
      op->id = ids_get (self, &op->tuple.local);
      if (op->id == 0)
        {
          control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                           "All 255 local address ids of the connection "
                           "are in use"));
          return;
        }
      if (!op->port_known && op->before == NULL && op->routed && !other_open_pending (op))
        {
          /* the connection's list is kept up to date by the same events
           * the op sees: it stands for the kernel's (but it lists only
           * established subflows: with another open pending, the kernel
           * is read, so that its half-open subflow is known as not ours) */
          GPtrArray *items = self->subflows->items;
          guint k;

          op->before = g_array_sized_new (FALSE, FALSE, sizeof (KernelEntry), items->len);
          for (k = 0; k < items->len; k++)
            {
              MptcpSubflow *sf = g_ptr_array_index (items, k);
              KernelEntry e;

              e.tuple.local = sf->local_raw;
              e.tuple.remote = sf->remote_raw;
              e.tuple.local.scope_id = 0;
              e.tuple.remote.scope_id = 0;
              e.state = MPTCP_TCP_STATE_ESTABLISHED;
              g_array_append_val (op->before, e);
            }
        }
      else if (!op->port_known && op->before == NULL)
        {
          op->before = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
          if (read_kernel (self, op->before) < 0)
            {
              control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                               "The connection is closed"));
              return;
            }
        }
      request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_CREATE);
      addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.id = op->id;
      request.addr.has_id = TRUE;
      request.has_addr = TRUE;
      addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_CLOSE:
      request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_DESTROY);
      addr_to_nl (&request.addr, &op->tuple.local);
      request.has_addr = TRUE;
      addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_BACKUP:
      request_init (op, &request, MPTCP_PM_CMD_SET_FLAGS);
      addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.flags = op->backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
      request.addr.has_flags = TRUE;
      request.has_addr = TRUE;
      addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_ANNOUNCE:
      op->id = ids_get (self, &op->tuple.local);
      if (op->id == 0)
        {
          control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                           "All 255 local address ids of the connection "
                           "are in use"));
          return;
        }
      request_init (op, &request, MPTCP_PM_CMD_ANNOUNCE);
      addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.id = op->id;
      request.addr.has_id = TRUE;
      request.addr.flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
      request.addr.has_flags = TRUE;
      request.has_addr = TRUE;
      break;

    case MPTCP_CONTROL_OP_REMOVE:
      request_init (op, &request, MPTCP_PM_CMD_REMOVE);
      request.loc_id = op->id;
      request.has_loc_id = TRUE;
      break;

    default:
      g_assert_not_reached ();
    }

  send_request (op, &request, control_op_done_cb);
}

/* Starts an op whose arguments are checked: subscribes (open, close), arms
 * the timeout and the cancellable, then loads the ids or sends. */
static void
control_op_start (MptcpControlOp *op,
                  GCancellable   *cancellable)
{
  MptcpConnection *self = op->conn;
  GError *cancelled = NULL;

  control_op_ref (op);   /* held while the task is pending, dropped by control_op_steal_task() */
  /* cancelled already: nothing goes to the kernel (a cancel source would only fire after
   * the request left) */
  if (g_cancellable_set_error_if_cancelled (cancellable, &cancelled))
    {
      control_op_fail (op, cancelled);
      return;
    }
  {
    ConnectionExtra *x = extra_get (self);

    x->ops = g_list_prepend (x->ops, op);
  }

  if ((op->kind == MPTCP_CONTROL_OP_OPEN || op->kind == MPTCP_CONTROL_OP_CLOSE) &&
      op->netlink == self->netlink && self->sub_id != 0)
    {
      ConnectionExtra *x = extra_get (self);

      /* the connection listens on the op's broker: it passes its events on */
      op->routed = TRUE;
      x->event_ops = g_list_prepend (x->event_ops, op);
    }
  else if (op->kind == MPTCP_CONTROL_OP_OPEN || op->kind == MPTCP_CONTROL_OP_CLOSE)
    {
      g_autoptr(GError) error = NULL;

      /* before the request, so that no event is missed; without
       * CAP_NET_ADMIN this fails, and so will the request */
      op->sub_id = _mptcp_netlink_subscribe (op->netlink, FALSE, self->token,
                                             control_op_on_event, control_op_on_overrun, op,
                                             &error);
    }

  control_op_arm_timeout (op);

  if (cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (cancelled_cb), op, NULL);
      g_source_attach (op->cancel_source, op->context);
    }

  /* A connection's first open or announce picks its id without asking the kernel (a new
   * connection's address list is empty unless another process or object added to it): the
   * GET_ADDR round trip sat between the `established` signal and the first SUBFLOW_CREATE.
   * A clash is then learnt from the kernel's refusal (control_op_done_cb()), as on a kernel whose
   * GET_ADDR by token lists nothing (6.1). Later loads (after a failed create) still ask. */
  if ((op->kind == MPTCP_CONTROL_OP_OPEN || op->kind == MPTCP_CONTROL_OP_ANNOUNCE) &&
      !self->ids_loaded && extra_ro (self)->ids != NULL)
    load_ids (op);
  else
    {
      if (op->kind == MPTCP_CONTROL_OP_OPEN || op->kind == MPTCP_CONTROL_OP_ANNOUNCE)
        self->ids_loaded = TRUE;
      control_op_send (op);
    }
}

static MptcpControlOp *
control_op_new (MptcpConnection   *self,
                MptcpControlOpKind kind,
                MptcpNetlink      *netlink,
                GTask             *task)
{
  MptcpControlOp *op = g_new0 (MptcpControlOp, 1);

  op->ref_count = 1;
  op->kind = kind;
  op->conn = g_object_ref (self);
  op->netlink = _mptcp_netlink_ref (netlink);
  op->context = g_main_context_ref_thread_default ();
  op->task = g_object_ref (task);
  return op;
}

/* ---- argument checks ---- */

static gboolean
check_usable (MptcpConnection  *self,
              GError          **error)
{
  if (self->closed || g_socket_is_closed (self->socket))
    {
      set_closed_error (error);
      return FALSE;
    }
  /* what the library knows: a fallback it has not seen yet makes the kernel refuse the
   * request, and kernel_refusal() then asks the socket (a getsockopt per operation cost
   * more than the rest of the argument checks) */
  if (self->fallback || self->token == 0)
    {
      set_fallback_error (error);
      return FALSE;
    }
  return TRUE;
}

/* An address usable for a host, as a raw address. */
static gboolean
host_address (MptcpConnection    *self,
              GInetSocketAddress *address,
              const char         *what,
              MptcpSockoptAddr   *raw,
              GError            **error)
{
  GInetAddress *ia = g_inet_socket_address_get_address (address);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;

  if (g_inet_address_get_is_any (ia) || g_inet_address_get_is_multicast (ia))
    {
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "The %s address %s does not name a host", what, text);
      return FALSE;
    }
  if (!native_address (G_SOCKET_ADDRESS (address), raw, &local_error))
    {
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "Unusable %s address %s: %s", what, text, local_error->message);
      return FALSE;
    }
  raw->scope_id = 0;
  if (raw->family == AF_INET6 && g_socket_get_family (self->socket) == G_SOCKET_FAMILY_IPV4)
    {
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "The %s address %s is IPv6, but the connection is IPv4: an IPv4 "
                   "connection cannot carry IPv6 subflows", what, text);
      return FALSE;
    }
  return TRUE;
}

/* The broker of the calling thread's context (the one async results go to). */
static MptcpNetlink *
caller_netlink (MptcpConnection  *self,
                GError          **error)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  if (context == self->context && self->netlink != NULL)
    return _mptcp_netlink_ref (self->netlink);
  return _mptcp_netlink_get_for_context (context, error);
}

/* ---- sync runner ---- */

static gboolean
control_op_busy (gpointer user_data)
{
  MptcpControlOp *op = user_data;

  return op->requests > 0;
}

/* Runs an op to completion on the runner of mptcp-sync-private.h (the thread's
 * private context and broker for synchronous calls), until its result is there
 * and no request of it is in flight. Returns the task. */
static GAsyncResult *
control_op_run_sync (MptcpConnection   *self,
                     gpointer           source_object,
                     MptcpControlOpKind kind,
                     const Tuple       *tuple,
                     gboolean           port_known,
                     guint8             id,
                     gboolean           backup,
                     MptcpSubflow      *subflow,
                     GCancellable      *cancellable,
                     gpointer           source_tag,
                     GError           **error)
{
  GTask *task;
  MptcpSync sync;
  MptcpControlOp *op;

  if (_mptcp_connection_service_wanted (self))
    return _mptcp_connection_service_run (self, source_object, (MptcpServiceOp) kind,
                                          tuple ? &tuple->local : NULL,
                                          tuple ? &tuple->remote : NULL, id, backup,
                                          cancellable, source_tag);
  if (!_mptcp_sync_begin (&sync, NULL, error))
    return NULL;
  task = g_task_new (source_object, cancellable, _mptcp_sync_done, &sync);
  g_task_set_source_tag (task, source_tag);
  op = control_op_new (self, kind, sync.broker, task);
  if (tuple != NULL)
    op->tuple = *tuple;
  op->port_known = port_known;
  op->id = id;
  op->backup = backup;
  if (subflow != NULL)
    op->subflow = g_object_ref (subflow);
  control_op_ref (op);
  control_op_start (op, cancellable);
  _mptcp_sync_wait (&sync, control_op_busy, op);
  control_op_unref (op);
  control_op_unref (op);
  g_object_unref (task);
  return _mptcp_sync_end (&sync);
}

static void
control_op_start_async (MptcpConnection    *self,
                        gpointer            source_object,
                        MptcpControlOpKind  kind,
                        const Tuple        *tuple,
                        gboolean            port_known,
                        guint8              id,
                        gboolean            backup,
                        MptcpSubflow       *subflow,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data,
                        gpointer            source_tag)
{
  /* called from a handler inside a synchronous call: the result still belongs in the
   * connection's context, not in the call's private one */
  gboolean from_sync = _mptcp_sync_is_current ();
  g_autoptr(GTask) task = NULL;
  g_autoptr(MptcpNetlink) netlink = NULL;
  GError *error = NULL;
  MptcpControlOp *op;

  if (_mptcp_connection_service_wanted (self))
    {
      if (from_sync)
        g_main_context_push_thread_default (self->context);
      _mptcp_connection_service_start (self, source_object, (MptcpServiceOp) kind,
                                       tuple ? &tuple->local : NULL,
                                       tuple ? &tuple->remote : NULL, id, backup, cancellable,
                                       callback, user_data, source_tag);
      if (from_sync)
        g_main_context_pop_thread_default (self->context);
      return;
    }
  if (from_sync)
    g_main_context_push_thread_default (self->context);
  task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  netlink = caller_netlink (self, &error);
  if (netlink == NULL)
    {
      g_task_return_error (task, error);
      if (from_sync)
        g_main_context_pop_thread_default (self->context);
      return;
    }
  op = control_op_new (self, kind, netlink, task);
  if (tuple != NULL)
    op->tuple = *tuple;
  op->port_known = port_known;
  op->id = id;
  op->backup = backup;
  if (subflow != NULL)
    op->subflow = g_object_ref (subflow);
  control_op_start (op, cancellable);
  control_op_unref (op);
  if (from_sync)
    g_main_context_pop_thread_default (self->context);
}

/* ---- open_subflow ---- */

static gboolean
check_open (MptcpConnection     *self,
            GInetSocketAddress  *local,
            GInetSocketAddress  *remote,
            Tuple               *tuple,
            GError             **error)
{
  if (!check_usable (self, error))
    return FALSE;
  if (!host_address (self, local, "local", &tuple->local, error) ||
      !host_address (self, remote, "remote", &tuple->remote, error))
    return FALSE;
  if (tuple->local.family != tuple->remote.family)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                           "The local and remote addresses of a subflow must be of the same "
                           "family");
      return FALSE;
    }
  if (tuple->remote.port == 0)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                           "The remote address of a subflow needs a port");
      return FALSE;
    }
  return TRUE;
}

/**
 * mptcp_connection_open_subflow:
 * @self: a #MptcpConnection
 * @local: the local address to open the subflow from; its port may be 0
 *   (the kernel picks one)
 * @remote: the peer's address and port to open the subflow to
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Opens a new subflow of the connection from @local to @remote and waits
 * until it is established. This is the synchronous variant of
 * mptcp_connection_open_subflow_async(), which documents the behaviour and
 * the errors. It blocks the calling thread (iterating a private main
 * context) for at most #MptcpConnection:control-timeout milliseconds.
 *
 * Returns: (transfer full): the new subflow, the object the list of
 *   mptcp_connection_get_subflows() holds, or %NULL on error
 *
 * Since: 0.1
 */
MptcpSubflow *
mptcp_connection_open_subflow (MptcpConnection     *self,
                               GInetSocketAddress  *local,
                               GInetSocketAddress  *remote,
                               GCancellable        *cancellable,
                               GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  Tuple tuple;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (in_own_thread (self), NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (local), NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (remote), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_open (self, local, remote, &tuple, error))
    return NULL;
  result = control_op_run_sync (self, self, MPTCP_CONTROL_OP_OPEN, &tuple, tuple.local.port != 0, 0,
                                FALSE, NULL, cancellable, mptcp_connection_open_subflow, error);
  if (result == NULL)
    return NULL;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mptcp_connection_open_subflow_async:
 * @self: a #MptcpConnection
 * @local: the local address to open the subflow from; its port may be 0
 *   (the kernel picks one)
 * @remote: the peer's address and port to open the subflow to
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the subflow is established or the
 *   attempt failed
 * @user_data: data for @callback
 *
 * Opens a new subflow of the connection from @local to @remote, through the
 * kernel's userspace path manager (the `SUBFLOW_CREATE` command of the
 * `mptcp_pm` generic netlink family). This needs CAP_NET_ADMIN in the user
 * namespace that owns the network namespace, and a connection made while
 * `net.mptcp.path_manager` was `userspace`.
 *
 * The library gives the local address an MPTCP address id of its own (one
 * address and port keep one id for the life of the connection; the initial
 * subflow's address has id 0, which is never used for new subflows).
 *
 * The kernel's acknowledgement only means the SYN left: the operation
 * completes when the kernel reports the subflow established (its
 * `SUB_ESTABLISHED` event for this 4-tuple). By then the subflow is in the
 * list of mptcp_connection_get_subflows() and #MptcpConnection::subflow-added
 * has been emitted for it; the result is that same object. It fails:
 *
 * - with the kernel's reason when the subflow fails (a %G_IO_ERROR code from
 *   the errno of its `SUB_CLOSED` event: %G_IO_ERROR_CONNECTION_REFUSED,
 *   %G_IO_ERROR_HOST_UNREACHABLE, %G_IO_ERROR_TIMED_OUT ...;
 *   %G_IO_ERROR_CONNECTION_CLOSED if the peer reset it without an error);
 * - with %MPTCP_ERROR_CLOSED if the connection closes meanwhile;
 * - with %G_IO_ERROR_TIMED_OUT after #MptcpConnection:control-timeout
 *   milliseconds (10 s by default; a SYN to a silent host is otherwise
 *   retried for about two minutes); the half-open subflow is closed;
 * - with %MPTCP_ERROR_NOT_ESTABLISHED if the connection is not fully
 *   established yet: a client's connection is established only once it has
 *   sent data, so send something first;
 * - with %MPTCP_ERROR_INVALID_ADDRESS for an address that cannot work: an
 *   IPv6 address on an IPv4 connection, local and remote addresses of
 *   different families, an unspecified or multicast address, a remote
 *   address without a port, or a local address this host does not have;
 * - with %MPTCP_ERROR_WRONG_PATH_MANAGER for a connection of the in-kernel
 *   path manager (the message names the sysctl to change),
 *   %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN,
 *   %MPTCP_ERROR_FALLBACK when the connection fell back to TCP, and
 *   %MPTCP_ERROR_CLOSED when it is closed;
 * - with %G_IO_ERROR_CANCELLED when @cancellable is cancelled. If the kernel
 *   had sent the SYN already, the library closes that subflow (it may still
 *   appear briefly in the list, with #MptcpConnection::subflow-added and
 *   #MptcpConnection::subflow-removed).
 *
 * An established join is not final: a peer that runs the in-kernel path
 * manager and is over its subflow limit resets the join right after
 * accepting it. The operation may then have succeeded already; the subflow
 * leaves the list again within milliseconds, with
 * #MptcpConnection::subflow-removed (error 0). If the reset is seen before
 * the result is delivered, the operation fails with
 * %G_IO_ERROR_CONNECTION_CLOSED instead.
 *
 * Call it from the thread of the #GMainContext that was the thread-default
 * one when @self was constructed; @callback runs there.
 *
 * Since: 0.1
 */
void
mptcp_connection_open_subflow_async (MptcpConnection     *self,
                                     GInetSocketAddress  *local,
                                     GInetSocketAddress  *remote,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GError *error = NULL;
  Tuple tuple;

  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (in_own_thread (self));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (local));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (remote));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (!check_open (self, local, remote, &tuple, &error))
    {
      g_task_report_error (self, callback, user_data, mptcp_connection_open_subflow_async, error);
      return;
    }
  control_op_start_async (self, self, MPTCP_CONTROL_OP_OPEN, &tuple, tuple.local.port != 0, 0,
                          FALSE, NULL, cancellable, callback, user_data,
                          mptcp_connection_open_subflow_async);
}

/**
 * mptcp_connection_open_subflow_finish:
 * @self: a #MptcpConnection
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_connection_open_subflow_async().
 *
 * Returns: (transfer full): the new subflow (the object the list of
 *   mptcp_connection_get_subflows() holds), or %NULL on error
 *
 * Since: 0.1
 */
MptcpSubflow *
mptcp_connection_open_subflow_finish (MptcpConnection  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_connection_open_subflow_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- announce / remove ---- */

static gboolean
check_announce (MptcpConnection     *self,
                GInetSocketAddress  *address,
                Tuple               *tuple,
                GError             **error)
{
  memset (tuple, 0, sizeof *tuple);
  return check_usable (self, error) &&
         host_address (self, address, "announced", &tuple->local, error);
}

/**
 * mptcp_connection_announce_address:
 * @self: a #MptcpConnection
 * @address: the address to announce; port 0 announces the address alone
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * The synchronous variant of mptcp_connection_announce_address_async().
 *
 * Returns: the address id used (1 to 255), or 0 on error
 *
 * Since: 0.1
 */
guint
mptcp_connection_announce_address (MptcpConnection     *self,
                                   GInetSocketAddress  *address,
                                   GCancellable        *cancellable,
                                   GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gssize id;
  Tuple tuple;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);
  g_return_val_if_fail (in_own_thread (self), 0);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!check_announce (self, address, &tuple, error))
    return 0;
  result = control_op_run_sync (self, self, MPTCP_CONTROL_OP_ANNOUNCE, &tuple, TRUE, 0, FALSE, NULL,
                                cancellable, mptcp_connection_announce_address, error);
  if (result == NULL)
    return 0;
  id = g_task_propagate_int (G_TASK (result), error);
  return id > 0 ? (guint) id : 0;
}

/**
 * mptcp_connection_announce_address_async:
 * @self: a #MptcpConnection
 * @address: the address to announce; port 0 announces the address alone
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the kernel has taken the request
 * @user_data: data for @callback
 *
 * Announces @address to the peer (an MPTCP ADD_ADDR, through the userspace
 * path manager's `ANNOUNCE` command), so that the peer may open subflows to
 * it. The library gives the address an id: the one it has already on this
 * connection (the address of a subflow opened with
 * mptcp_connection_open_subflow(), or one announced before), else the lowest
 * free one. The result is that id, for mptcp_connection_remove_address().
 *
 * The kernel does not check the address: announcing an address this host
 * does not have, or an IPv6 address on a dual-stack connection, is accepted.
 * The library refuses an IPv6 address on an IPv4 connection and unspecified
 * or multicast addresses (%MPTCP_ERROR_INVALID_ADDRESS). An announcement
 * made before the connection is fully established (before a client has sent
 * data) is acknowledged but never reaches the peer.
 *
 * Needs CAP_NET_ADMIN and a userspace-path-manager connection, like
 * mptcp_connection_open_subflow_async() (same errors).
 *
 * Since: 0.1
 */
void
mptcp_connection_announce_address_async (MptcpConnection     *self,
                                         GInetSocketAddress  *address,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  GError *error = NULL;
  Tuple tuple;

  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (in_own_thread (self));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (address));

  if (!check_announce (self, address, &tuple, &error))
    {
      g_task_report_error (self, callback, user_data, mptcp_connection_announce_address_async,
                           error);
      return;
    }
  control_op_start_async (self, self, MPTCP_CONTROL_OP_ANNOUNCE, &tuple, TRUE, 0, FALSE, NULL,
                          cancellable, callback, user_data,
                          mptcp_connection_announce_address_async);
}

/**
 * mptcp_connection_announce_address_finish:
 * @self: a #MptcpConnection
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_connection_announce_address_async().
 *
 * Returns: the address id used (1 to 255), or 0 on error
 *
 * Since: 0.1
 */
guint
mptcp_connection_announce_address_finish (MptcpConnection  *self,
                                          GAsyncResult     *result,
                                          GError          **error)
{
  gssize id;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_connection_announce_address_async), 0);

  id = g_task_propagate_int (G_TASK (result), error);
  return id > 0 ? (guint) id : 0;
}

static gboolean
check_remove (MptcpConnection  *self,
              guint             id,
              GError          **error)
{
  if (!check_usable (self, error))
    return FALSE;
  if (id > 255)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                   "Address id %u is out of range (0 to 255)", id);
      return FALSE;
    }
  return TRUE;
}

/**
 * mptcp_connection_remove_address:
 * @self: a #MptcpConnection
 * @id: the address id to remove
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * The synchronous variant of mptcp_connection_remove_address_async().
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_remove_address (MptcpConnection  *self,
                                 guint             id,
                                 GCancellable     *cancellable,
                                 GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (in_own_thread (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_remove (self, id, error))
    return FALSE;
  result = control_op_run_sync (self, self, MPTCP_CONTROL_OP_REMOVE, NULL, FALSE, id, FALSE, NULL,
                                cancellable, mptcp_connection_remove_address, error);
  if (result == NULL)
    return FALSE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mptcp_connection_remove_address_async:
 * @self: a #MptcpConnection
 * @id: the address id to remove
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the kernel has taken the request
 * @user_data: data for @callback
 *
 * Withdraws a local address from the connection (an MPTCP RM_ADDR, through
 * the userspace path manager's `REMOVE` command): an id returned by
 * mptcp_connection_announce_address(), or the id of the local address of
 * subflows this library opened. The peer then closes the subflows that use
 * that address. Id 0 names the initial subflow's address: the peer closes
 * the initial subflow and the connection goes on over the others.
 *
 * An id the connection does not have fails with
 * %MPTCP_ERROR_NO_SUCH_ENDPOINT, an id above 255 with
 * %MPTCP_ERROR_OUT_OF_RANGE; otherwise the errors are those of
 * mptcp_connection_open_subflow_async().
 *
 * The kernel forgets an address's entry once a subflow using that address
 * is closed (mptcp_subflow_close(), or the peer's close): removing its id
 * after that fails with %MPTCP_ERROR_NO_SUCH_ENDPOINT.
 *
 * Since: 0.1
 */
void
mptcp_connection_remove_address_async (MptcpConnection     *self,
                                       guint                id,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GError *error = NULL;

  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (in_own_thread (self));

  if (!check_remove (self, id, &error))
    {
      g_task_report_error (self, callback, user_data, mptcp_connection_remove_address_async,
                           error);
      return;
    }
  control_op_start_async (self, self, MPTCP_CONTROL_OP_REMOVE, NULL, FALSE, id, FALSE, NULL,
                          cancellable, callback, user_data, mptcp_connection_remove_address_async);
}

/**
 * mptcp_connection_remove_address_finish:
 * @self: a #MptcpConnection
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_connection_remove_address_async().
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_remove_address_finish (MptcpConnection  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_connection_remove_address_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the subflow side: close, set_backup ---- */

static gboolean
check_subflow (MptcpConnection  *self,
               MptcpSubflow     *subflow,
               Tuple            *tuple,
               GError          **error)
{
  if (self->closed)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                           "No such subflow: the connection is closed");
      return FALSE;
    }
  if (!check_usable (self, error))
    return FALSE;
  if (!g_ptr_array_find (self->subflows->items, subflow, NULL))
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                           "No such subflow: it is closed or is not listed by the connection");
      return FALSE;
    }
  tuple->local = subflow->local_raw;
  tuple->remote = subflow->remote_raw;
  tuple->local.scope_id = 0;
  tuple->remote.scope_id = 0;
  return TRUE;
}

void
_mptcp_connection_close_subflow_async (MptcpConnection     *self,
                                       MptcpSubflow        *subflow,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data,
                                       gpointer             source_tag)
{
  GError *error = NULL;
  Tuple tuple;

  g_return_if_fail (in_own_thread (self));

  if (!check_subflow (self, subflow, &tuple, &error))
    {
      g_task_report_error (subflow, callback, user_data, source_tag, error);
      return;
    }
  control_op_start_async (self, subflow, MPTCP_CONTROL_OP_CLOSE, &tuple, TRUE, 0, FALSE, subflow,
                          cancellable, callback, user_data, source_tag);
}

gboolean
_mptcp_connection_close_subflow (MptcpConnection  *self,
                                 MptcpSubflow     *subflow,
                                 GCancellable     *cancellable,
                                 gpointer          source_tag,
                                 GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  Tuple tuple;

  g_return_val_if_fail (in_own_thread (self), FALSE);

  if (!check_subflow (self, subflow, &tuple, error))
    return FALSE;
  result = control_op_run_sync (self, subflow, MPTCP_CONTROL_OP_CLOSE, &tuple, TRUE, 0, FALSE,
                                subflow, cancellable, source_tag, error);
  if (result == NULL)
    return FALSE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
_mptcp_connection_set_backup_async (MptcpConnection     *self,
                                    MptcpSubflow        *subflow,
                                    gboolean             backup,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data,
                                    gpointer             source_tag)
{
  GError *error = NULL;
  Tuple tuple;

  g_return_if_fail (in_own_thread (self));

  if (!check_subflow (self, subflow, &tuple, &error))
    {
      g_task_report_error (subflow, callback, user_data, source_tag, error);
      return;
    }
  control_op_start_async (self, subflow, MPTCP_CONTROL_OP_BACKUP, &tuple, TRUE, 0, !!backup,
                          subflow, cancellable, callback, user_data, source_tag);
}

gboolean
_mptcp_connection_set_backup (MptcpConnection  *self,
                              MptcpSubflow     *subflow,
                              gboolean          backup,
                              GCancellable     *cancellable,
                              gpointer          source_tag,
                              GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  Tuple tuple;

  g_return_val_if_fail (in_own_thread (self), FALSE);

  if (!check_subflow (self, subflow, &tuple, error))
    return FALSE;
  result = control_op_run_sync (self, subflow, MPTCP_CONTROL_OP_BACKUP, &tuple, TRUE, 0, !!backup,
                                subflow, cancellable, source_tag, error);
  if (result == NULL)
    return FALSE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- properties of the control side ---- */

/**
 * mptcp_connection_get_control_timeout:
 * @self: a #MptcpConnection
 *
 * Gets #MptcpConnection:control-timeout.
 *
 * Returns: the timeout of control operations, in milliseconds
 *
 * Since: 0.1
 */
guint
mptcp_connection_get_control_timeout (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);

  return extra_ro (self)->control_timeout;
}

/**
 * mptcp_connection_set_control_timeout:
 * @self: a #MptcpConnection
 * @timeout_ms: the timeout in milliseconds (at least 1)
 *
 * Sets #MptcpConnection:control-timeout, for operations started afterwards.
 *
 * Since: 0.1
 */
void
mptcp_connection_set_control_timeout (MptcpConnection *self,
                                      guint            timeout_ms)
{
  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (in_own_thread (self));

  timeout_ms = MAX (timeout_ms, 1);
  if (extra_ro (self)->control_timeout == timeout_ms)
    return;
  extra_get (self)->control_timeout = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTROL_TIMEOUT]);
}

/**
 * mptcp_connection_get_event_source:
 * @self: a #MptcpConnection
 *
 * Gets #MptcpConnection:event-source.
 *
 * Returns: where the connection's signals come from
 *
 * Since: 0.1
 */
MptcpEventSource
mptcp_connection_get_event_source (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), MPTCP_EVENT_SOURCE_NONE);

  return self->event_source;
}

/**
 * mptcp_connection_get_poll_interval:
 * @self: a #MptcpConnection
 *
 * Gets #MptcpConnection:poll-interval.
 *
 * Returns: the polling interval in milliseconds
 *
 * Since: 0.1
 */
guint
mptcp_connection_get_poll_interval (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);

  return extra_ro (self)->poll_interval;
}

/**
 * mptcp_connection_set_poll_interval:
 * @self: a #MptcpConnection
 * @interval_ms: the interval in milliseconds (at least 10)
 *
 * Sets #MptcpConnection:poll-interval; a running poll restarts with it.
 *
 * Since: 0.1
 */
void
mptcp_connection_set_poll_interval (MptcpConnection *self,
                                    guint            interval_ms)
{
  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (in_own_thread (self));

  interval_ms = MAX (interval_ms, 10);
  if (extra_ro (self)->poll_interval == interval_ms)
    return;
  extra_get (self)->poll_interval = interval_ms;
  if (self->extra->poll_source != NULL)
    start_polling (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLL_INTERVAL]);
}

/* ---- properties and signals of the control and event side ---- */

static void
install_control_properties (GObjectClass *object_class)
{
  /**
   * MptcpConnection:control-timeout:
   *
   * How long, in milliseconds, control operations
   * (mptcp_connection_open_subflow() and the others) wait for the kernel
   * before they fail with %G_IO_ERROR_TIMED_OUT. For an open, this bounds
   * the wait for the subflow's establishment: a SYN to a silent host is
   * otherwise retried by the kernel for about two minutes. Default 10000.
   *
   * Since: 0.1
   */
  properties[PROP_CONTROL_TIMEOUT] =
    g_param_spec_uint ("control-timeout", "Control timeout",
                       "How long control operations wait, in milliseconds",
                       1, G_MAXUINT, 10000,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:event-source:
   *
   * Where the signals of the connection come from.
   * %MPTCP_EVENT_SOURCE_NETLINK when the process could join the kernel's
   * MPTCP event group (CAP_NET_ADMIN in the network namespace's user
   * namespace): every signal is then available, as the kernel reports the
   * change. %MPTCP_EVENT_SOURCE_POLLING otherwise: the connection reads its
   * subflow list every #MptcpConnection:poll-interval milliseconds (one
   * cheap getsockopt(), no privilege) and emits
   * #MptcpConnection::subflow-added and #MptcpConnection::subflow-removed
   * (with error 0) for the differences, and #MptcpConnection::closed when
   * a poll finds the socket reporting the connection over (poll() gives HUP
   * or ERR); the other signals are not available then.
   * %MPTCP_EVENT_SOURCE_NONE once the connection closed or fell back to TCP.
   *
   * Both sources run in the #GMainContext that was the thread-default one
   * when the connection was constructed: iterate it to receive signals.
   *
   * Since: 0.1
   */
  properties[PROP_EVENT_SOURCE] =
    g_param_spec_enum ("event-source", "Event source",
                       "Where the signals of the connection come from",
                       MPTCP_TYPE_EVENT_SOURCE, MPTCP_EVENT_SOURCE_NONE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:poll-interval:
   *
   * How often, in milliseconds, a connection in %MPTCP_EVENT_SOURCE_POLLING
   * mode reads its subflow list. Default 1000, at least 10.
   *
   * Since: 0.1
   */
  properties[PROP_POLL_INTERVAL] =
    g_param_spec_uint ("poll-interval", "Poll interval",
                       "How often the subflows are polled without events, in milliseconds",
                       10, G_MAXUINT, 1000,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection::subflow-added:
   * @self: the #MptcpConnection
   * @subflow: the new subflow
   *
   * Emitted when a subflow joined the list of
   * mptcp_connection_get_subflows(), right after the list's
   * #GListModel::items-changed: @subflow is the object the list holds. With
   * kernel events this is when the kernel reports the subflow established
   * (whoever opened it: this library, another process, the peer), or when a
   * mptcp_connection_refresh() or an overrun resynchronisation finds it
   * (possibly still in its handshake); when polling, when a poll finds it.
   *
   * Since: 0.1
   */
  signals[SIGNAL_SUBFLOW_ADDED] =
    g_signal_new ("subflow-added", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, MPTCP_TYPE_SUBFLOW);

  /**
   * MptcpConnection::subflow-removed:
   * @self: the #MptcpConnection
   * @subflow: the subflow that is gone
   * @error: the errno the kernel gave for the subflow's end (for example
   *   110 ETIMEDOUT, 111 ECONNREFUSED, 113 EHOSTUNREACH), 0 for none
   * @reset_reason: the MPTCP reset (MP_RST) reason the peer gave, 0 for none
   *
   * Emitted when a subflow left the list of
   * mptcp_connection_get_subflows(), right after the list's
   * #GListModel::items-changed. When the connection closes, the list ends
   * empty with one emission per subflow (error 0), then
   * #MptcpConnection::closed. When polling, @error and @reset_reason are
   * always 0.
   *
   * Since: 0.1
   */
  signals[SIGNAL_SUBFLOW_REMOVED] =
    g_signal_new ("subflow-removed", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, MPTCP_TYPE_SUBFLOW, G_TYPE_INT,
                  G_TYPE_UINT);

  /**
   * MptcpConnection::subflow-priority-changed:
   * @self: the #MptcpConnection
   * @subflow: the subflow
   * @backup: %TRUE if the peer asks to use the subflow only as a backup
   *
   * Emitted when the peer changed its priority wish for @subflow (an MPTCP
   * MP_PRIO). Our own requests (mptcp_subflow_set_backup()) show in
   * #MptcpSubflow:backup instead. Needs kernel events.
   *
   * Since: 0.1
   */
  signals[SIGNAL_SUBFLOW_PRIORITY_CHANGED] =
    g_signal_new ("subflow-priority-changed", G_TYPE_FROM_CLASS (object_class),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, MPTCP_TYPE_SUBFLOW,
                  G_TYPE_BOOLEAN);

  /**
   * MptcpConnection::address-announced:
   * @self: the #MptcpConnection
   * @id: the peer's id for the address
   * @address: the announced address; port 0 when the peer gave none
   *
   * Emitted when the peer announced an address (an MPTCP ADD_ADDR). Open a
   * subflow to it with mptcp_connection_open_subflow(). Needs kernel
   * events.
   *
   * Since: 0.1
   */
  signals[SIGNAL_ADDRESS_ANNOUNCED] =
    g_signal_new ("address-announced", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_INET_SOCKET_ADDRESS);

  /**
   * MptcpConnection::address-removed:
   * @self: the #MptcpConnection
   * @id: the peer's id of the address it withdrew
   *
   * Emitted when the peer withdrew an address (an MPTCP RM_ADDR); the
   * subflows using it close (with #MptcpConnection::subflow-removed). Needs
   * kernel events.
   *
   * Since: 0.1
   */
  signals[SIGNAL_ADDRESS_REMOVED] =
    g_signal_new ("address-removed", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  /**
   * MptcpConnection::established:
   * @self: the #MptcpConnection
   *
   * Emitted when the kernel reports the connection fully established (a
   * client's connection is, once it has sent data; an accepted one is at
   * accept time, before it can be wrapped, so it does not emit this). Only
   * emitted if that happens after the connection was constructed. Needs
   * kernel events.
   *
   * Since: 0.1
   */
  signals[SIGNAL_ESTABLISHED] =
    g_signal_new ("established", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * MptcpConnection::closed:
   * @self: the #MptcpConnection
   *
   * Emitted once when the connection is over: the kernel reported it
   * closed (its socket was closed), or its last subflow went away and the
   * socket reports the connection over (reset by the peer: poll() gives
   * HUP or ERR; the kernel itself sends no closed event until the socket is
   * closed), or a refresh or poll found its socket closed. The subflow list is empty by then (each
   * subflow got #MptcpConnection::subflow-removed), pending control
   * operations fail with %MPTCP_ERROR_CLOSED, and
   * #MptcpConnection:event-source becomes %MPTCP_EVENT_SOURCE_NONE.
   *
   * Since: 0.1
   */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}
