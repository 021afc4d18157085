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
#include "mptcp-subflow-private.h"
#include "mptcp-info-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-hangup-watch-private.h"
#include "mptcp-sync-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-monitor-private.h"
#include "mptcp-service-private.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

/**
 * SECTION:mptcp-connection
 * @Title: MptcpConnection
 * @Short_description: see an MPTCP connection and its subflows
 * @See_also: #MptcpSubflow, #MptcpClient, mptcp_socket_listener_add_inet_port()
 *
 * #MptcpConnection wraps the #GSocket of one Multipath TCP connection and
 * shows what the kernel knows about it: its #MptcpConnection:token, whether it
 * has fallen back to plain TCP (#MptcpConnection:fallback), its addresses, its
 * MPTCP-level counters (mptcp_connection_get_info()) and its subflows
 * (mptcp_connection_get_subflows()). It works with a socket from any source:
 * #MptcpClient, a #GSocketService listening through
 * mptcp_socket_listener_add_inet_port(), mptcp_socket_new() or a file descriptor
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
 * `MPTCP_GLIB_SUBFLOW_LIST` to `legacy` before the process constructs its first connection
 * forces that older way on any kernel (`full-info` forbids it); it exists for
 * testing. The library reads it (and `MPTCP_GLIB_USE_SERVICE`) once per process.
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
 * ## What to use when
 *
 * - The connection's state: read or bind its properties, and watch their notify signals:
 *   #MptcpConnection:established (subflows can be opened from then on),
 *   #MptcpConnection:closed, #MptcpConnection:fallback and #MptcpConnection:event-source.
 * - The set of subflows: a list widget binds the #GListModel of
 *   mptcp_connection_get_subflows() (#GListModel::items-changed); code that acts on one
 *   subflow connects to #MptcpConnection::subflow-added and #MptcpConnection::subflow-removed
 *   (the latter says why: a #GError and a #MptcpResetReason). Both are emitted for the same
 *   changes, the list first.
 * - One subflow's flags: #MptcpSubflow:backup and #MptcpSubflow:peer-backup (notify), or
 *   #MptcpConnection::subflow-priority-changed for the moment the peer's MP_PRIO arrives.
 * - Counters: mptcp_connection_refresh() then mptcp_subflow_get_stats() for the subflows,
 *   mptcp_connection_get_info() for the connection; neither is notified.
 * - Steering: the asynchronous calls in an application with a main loop; the synchronous
 *   ones block the calling thread on a private main context (see the Threads section of
 *   the overview). Without CAP_NET_ADMIN the same calls go through mptcp-glib-service when
 *   it runs (see #MptcpConnection:event-source).
 * - Not your socket: #MptcpConnectionList shows every MPTCP connection of the network
 *   namespace (any process's, no socket needed), #MptcpMonitor the namespace's raw events,
 *   #MptcpPathManager the in-kernel path manager's endpoints and limits.
 *
 * ## Where it lives
 *
 * One type over several files of the sources, sharing mptcp-connection-impl-private.h:
 * mptcp-connection.c (the object, its properties and signals, and the one writer of the
 * subflow list: refresh, events and the control machinery report what they learnt to it),
 * mptcp-connection-refresh.c (the kernel's list applied, the backup flags from sock_diag),
 * mptcp-connection-events.c (the kernel's events applied, polling without them),
 * mptcp-connection-control.c (the public open, announce and remove calls),
 * mptcp-control-op.c and mptcp-control-open.c (the control machinery: address ids, requests,
 * timeouts, cancellation, the open state machine; #MptcpSubflow's calls run there too),
 * mptcp-hangup-watch.c and mptcp-subflow-list.c. The map of every room, and the rule that
 * no two rooms include each other, is mptcp-glib/README.md in the sources.
 *
 * ## What it costs
 *
 * An idle connection that follows the kernel's events takes a small, constant
 * amount of heap and adds nothing to its main context's iterations: all the
 * connections of a context share one netlink event socket and one epoll
 * instance that watches their sockets for a hangup, so GLib polls the same
 * few descriptors for one connection or a thousand. The construction makes
 * one system call on Linux 6.5 and later (a socket option read that gives the
 * token, the subflows and the addresses); the socket is registered for its
 * hangup about a millisecond later, off the way to the first events and
 * operations (a peer's reset meanwhile is reported then). A control operation costs
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

/* ---- MptcpConnection ---- */

#include "mptcp-connection-impl-private.h"

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
  PROP_ESTABLISHED,
  PROP_CLOSED,
  PROP_SERVICE_POLICY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

guint _mptcp_connection_signals[N_SIGNALS];

static void install_control_properties (GObjectClass *object_class);

static void mptcp_connection_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpConnection, mptcp_connection, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mptcp_connection_initable_iface_init))

static void
mptcp_connection_dispose (GObject *object)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  _mptcp_connection_service_drop (self, FALSE);
  _mptcp_conn_stop_events (self);

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
      self->backref->load_info = _mptcp_conn_load_info;
    }
  return self->backref;
}

static void
mptcp_connection_finalize (GObject *object)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  /* our subflows' mptcp_subflow_dup_connection() returns NULL from now on */
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
      g_clear_pointer (&x->spare_before, g_array_unref);
      g_assert (x->ops == NULL && x->event_ops == NULL && x->unidentified == NULL);
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
    case PROP_ESTABLISHED:
      g_value_set_boolean (value, self->established);
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, self->closed);
      break;
    case PROP_SERVICE_POLICY:
      g_value_set_enum (value, self->service_policy);
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
    case PROP_SERVICE_POLICY:
      mptcp_connection_set_service_policy (self, g_value_get_enum (value));
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
   * MptcpConnection:established:
   *
   * %TRUE once the kernel reported the connection fully established at the MPTCP level (a
   * client's connection is, once it has sent data and the server acknowledged it): from then
   * on subflows can be opened and addresses announced. Connect to its notify signal
   * (`notify::established`) to act at that moment, or bind to it. It follows the kernel's
   * events: it stays %FALSE without them (#MptcpConnection:event-source not
   * %MPTCP_EVENT_SOURCE_NETLINK), and for a connection that was established before it was
   * wrapped (an accepted one is, at accept time). (0.1 had a signal `established` instead.)
   *
   * Since: 0.2
   */
  properties[PROP_ESTABLISHED] =
    g_param_spec_boolean ("established", "Established",
                          "Whether the kernel reported the connection fully established",
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:closed:
   *
   * %TRUE once the connection is over, as the library learnt it: the kernel reported it
   * closed (its socket was closed), or its last subflow went away and the socket reports the
   * connection over (reset by the peer: poll() gives HUP or ERR; the kernel itself sends no
   * closed event until the socket is closed), or a refresh or poll found its socket closed.
   * Notified once (`notify::closed`), when it becomes %TRUE: the subflow list is empty by
   * then (each subflow got #MptcpConnection::subflow-removed), pending control operations
   * failed with %MPTCP_ERROR_CLOSED (new ones fail at once), and
   * #MptcpConnection:event-source is %MPTCP_EVENT_SOURCE_NONE. (0.1 had a signal `closed`
   * instead.)
   *
   * Since: 0.2
   */
  properties[PROP_CLOSED] =
    g_param_spec_boolean ("closed", "Closed",
                          "Whether the connection is over",
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
  self->service_policy = MPTCP_SERVICE_POLICY_AUTO;   /* the property's default */
}

static void
scratch_list_free (gpointer data)
{
  _mptcp_sockopt_list_clear (data);
  g_free (data);
}

/* The calling thread's scratch list: for reads whose buffers need not
 * outlive the call (see MptcpConnection.kernel). */
MptcpSockoptList *
_mptcp_conn_scratch_list (void)
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

/* The one-thread rule: a call from any other thread than the constructing one is refused
 * (a critical and the failure value) before it touches anything. */
gboolean
_mptcp_conn_in_own_thread (MptcpConnection *self)
{
  return self->thread == g_thread_self ();
}

void
_mptcp_conn_set_errno_error (GError    **error,
                             int         err,
                             const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
               "%s: %s", what, g_strerror (err));
}

void
_mptcp_conn_set_fallback_error (GError **error)
{
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK,
                       "The connection has fallen back to plain TCP");
}

void
_mptcp_conn_set_closed_error (GError **error)
{
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                       "The socket of the connection is closed");
}

/* ---- the one writer of the subflow list, the one emitter of the connection's signals ---- */

/* items-changed of the subflow list, unless nothing is connected to it: with no handler
 * GLib's emission still costs about 1,200 instructions (a fifth of what listing a new subflow
 * costs), and nothing can tell the difference (GListModel has no other observer). */
static void
list_changed (MptcpConnection *self,
              guint            position,
              guint            removed,
              guint            added)
{
  static guint items_changed_id;

  if (G_UNLIKELY (items_changed_id == 0))
    items_changed_id = g_signal_lookup ("items-changed", G_TYPE_LIST_MODEL);
  if (g_signal_has_handler_pending (self->subflows, items_changed_id, 0, TRUE))
    g_list_model_items_changed (G_LIST_MODEL (self->subflows), position, removed, added);
}

/* Appends new subflows in order (one items-changed), then emits subflow-added for each. A
 * subflow made from an event or an open may have id 0: the next refresh matches it by its
 * 4-tuple and gives it the kernel's id (on the legacy path it gets the next number of the
 * connection's counter here). Its statistics stay empty until a refresh. */
static void
subflows_up (MptcpConnection *self,
             MptcpSubflow   **subflows,
             guint            n)
{
  GPtrArray *items = self->subflows->items;
  guint pos = items->len;
  g_autoptr(GPtrArray) fresh = NULL;
  guint i;

  if (n == 0)
    return;
  if (self->in_init)
    {
      /* the construction's list: nobody can have connected to the model or the signals,
       * so the emissions (about a fifth of the construction's instructions) are skipped */
      for (i = 0; i < n; i++)
        {
          if (subflows[i]->id == 0 && self->path == MPTCP_SOCKOPT_PATH_LEGACY)
            _mptcp_subflow_set_id (subflows[i], extra_get (self)->next_id++);
          g_ptr_array_add (items, g_object_ref (subflows[i]));
        }
      return;
    }
  if (n == 1)
    {
      /* one (a new connection's first subflow, one just established): held here across
       * the signals, whose handlers may change the list */
      g_autoptr(MptcpSubflow) sf = g_object_ref (subflows[0]);

      if (sf->id == 0 && self->path == MPTCP_SOCKOPT_PATH_LEGACY)
        _mptcp_subflow_set_id (sf, extra_get (self)->next_id++);
      g_ptr_array_add (items, g_object_ref (sf));
      list_changed (self, pos, 0, 1);
      g_signal_emit (self, signals[SIGNAL_SUBFLOW_ADDED], 0, sf);
      return;
    }
  fresh = g_ptr_array_new_full (n, g_object_unref);
  for (i = 0; i < n; i++)
    {
      MptcpSubflow *sf = subflows[i];

      if (sf->id == 0 && self->path == MPTCP_SOCKOPT_PATH_LEGACY)
        _mptcp_subflow_set_id (sf, extra_get (self)->next_id++);
      g_ptr_array_add (items, g_object_ref (sf));
      g_ptr_array_add (fresh, g_object_ref (sf));
    }
  list_changed (self, pos, 0, n);
  for (i = 0; i < fresh->len; i++)
    g_signal_emit (self, signals[SIGNAL_SUBFLOW_ADDED], 0, g_ptr_array_index (fresh, i));
}

static gboolean
among (MptcpSubflow  *sf,
       MptcpSubflow **subflows,
       guint          n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (subflows[i] == sf)
      return TRUE;
  return FALSE;
}

/* Removes those of subflows the list holds: one items-changed per contiguous run, back to
 * front so positions stay valid; subflow-removed after all the removals, so that a handler
 * acting on the list (a synchronous close removes its subflow) cannot move it under the
 * loop. The others are skipped (gone already: an event after a refresh). */
static void
subflows_down (MptcpConnection *self,
               MptcpSubflow   **subflows,
               guint            n,
               int              error,
               guint            reset_reason)
{
  GPtrArray *items = self->subflows->items;
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) reason_error = NULL;
  MptcpResetReason reason;
  guint end = items->len;
  guint i;

  while (end > 0)
    {
      guint start;

      if (!among (g_ptr_array_index (items, end - 1), subflows, n))
        {
          end--;
          continue;
        }
      start = end - 1;
      while (start > 0 && among (g_ptr_array_index (items, start - 1), subflows, n))
        start--;
      for (i = start; i < end; i++)
        {
          _mptcp_subflow_detach_tcp_info (g_ptr_array_index (items, i));
          g_ptr_array_add (gone, g_object_ref (g_ptr_array_index (items, i)));
        }
      g_ptr_array_remove_range (items, start, end - start);
      list_changed (self, start, end - start, 0);
      end = start;
    }
  if (gone->len == 0)
    return;
  if (error != 0)
    _mptcp_conn_set_errno_error (&reason_error, error, "The subflow ended");
  reason = _mptcp_reset_reason_from_kernel (reset_reason);
  for (i = 0; i < gone->len; i++)
    g_signal_emit (self, signals[SIGNAL_SUBFLOW_REMOVED], 0,
                   g_ptr_array_index (gone, i), reason_error, reason);
}

/* Empties the subflow list (one items-changed), then emits subflow-removed for each. */
static void
clear_subflows (MptcpConnection *self)
{
  /* no references: the list holds them until the removal, then the removed ones */
  g_autoptr(GPtrArray) all = g_ptr_array_copy (self->subflows->items, NULL, NULL);

  g_ptr_array_set_free_func (all, NULL);
  subflows_down (self, (MptcpSubflow **) all->pdata, all->len, 0, 0);
}

static void
mark_fallback (MptcpConnection *self)
{
  _mptcp_conn_end_pending_ops (self, TRUE);
  _mptcp_conn_stop_events (self);
  if (!self->fallback)
    {
      self->fallback = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FALLBACK]);
    }
  clear_subflows (self);
}

/* The connection is gone: the list ends empty (a subflow-removed for each
 * subflow), then "closed" is notified, once. */
static void
mark_closed (MptcpConnection *self)
{
  gboolean was_closed = self->closed;

  self->closed = TRUE;
  _mptcp_conn_end_pending_ops (self, FALSE);
  _mptcp_conn_stop_events (self);
  clear_subflows (self);
  if (!was_closed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLOSED]);
}

void
_mptcp_connection_apply (MptcpConnection       *self,
                         const MptcpConnChange *change)
{
  MptcpSubflow **subflows = change->subflows != NULL
                            ? (MptcpSubflow **) change->subflows->pdata
                            : (MptcpSubflow **) &change->subflow;
  guint n = change->subflows != NULL ? change->subflows->len : change->subflow != NULL;

  switch (change->kind)
    {
    case MPTCP_CONN_CHANGE_SUBFLOWS_UP:
      subflows_up (self, subflows, n);
      break;
    case MPTCP_CONN_CHANGE_SUBFLOWS_DOWN:
      subflows_down (self, subflows, n, change->error, change->reset_reason);
      break;
    case MPTCP_CONN_CHANGE_PRIORITY:
      g_signal_emit (self, signals[SIGNAL_SUBFLOW_PRIORITY_CHANGED], 0, change->subflow,
                     change->backup);
      break;
    case MPTCP_CONN_CHANGE_BACKUP:
      _mptcp_subflow_set_backup (change->subflow, change->backup);
      break;
    case MPTCP_CONN_CHANGE_PEER_BACKUP:
      _mptcp_subflow_set_peer_backup (change->subflow, change->backup);
      break;
    case MPTCP_CONN_CHANGE_ADDRESS_ANNOUNCED:
      g_signal_emit (self, signals[SIGNAL_ADDRESS_ANNOUNCED], 0, change->id, change->address);
      break;
    case MPTCP_CONN_CHANGE_ADDRESS_REMOVED:
      g_signal_emit (self, signals[SIGNAL_ADDRESS_REMOVED], 0, change->id);
      break;
    case MPTCP_CONN_CHANGE_ESTABLISHED:
      if (!self->established)
        {
          self->established = TRUE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ESTABLISHED]);
        }
      break;
    case MPTCP_CONN_CHANGE_FALLBACK:
      mark_fallback (self);
      break;
    case MPTCP_CONN_CHANGE_CLOSED:
      mark_closed (self);
      break;
    default:
      g_assert_not_reached ();
    }
}

gboolean
_mptcp_conn_native_address (GSocketAddress   *address,
                            MptcpSockoptAddr *raw,
                            GError          **error)
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

/* ---- the environment, read once ---- */

/* One environment variable read once per process (a getenv() walks the whole environment):
 * *cache is -1 until then, else 0 for unset or none of choices (NULL-terminated), i + 1 for
 * choices[i]. */
static gint
env_once (gint              *cache,
          const char        *name,
          const char *const *choices)
{
  gint mode = g_atomic_int_get (cache);

  if (G_UNLIKELY (mode < 0))
    {
      const char *value = g_getenv (name);

      mode = 0;
      while (value != NULL && choices[mode] != NULL && strcmp (value, choices[mode]) != 0)
        mode++;
      mode = value != NULL && choices[mode] != NULL ? mode + 1 : 0;
      g_atomic_int_set (cache, mode);
    }
  return mode;
}

/* MPTCP_CONNECTION_SUBFLOW_LIST_ENV: -1 not read yet, else an MptcpConnListMode */
static gint list_mode = -1;

MptcpConnListMode
_mptcp_connection_env_list_mode (void)
{
  /* in the order of MptcpConnListMode after AUTO */
  static const char *const choices[] = { "legacy", "full-info", NULL };

  return (MptcpConnListMode) env_once (&list_mode, MPTCP_CONNECTION_SUBFLOW_LIST_ENV, choices);
}

void
_mptcp_connection_reload_environment (void)
{
  g_atomic_int_set (&list_mode, -1);
  _mptcp_service_reload_environment ();
}

static gboolean init_once (MptcpConnection *self, GError **error);

static gboolean
addr_is_link_local (const MptcpSockoptAddr *addr)
{
  return addr->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL ((const struct in6_addr *) (gconstpointer) addr->addr);
}

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
      self->in_init = TRUE;
      init_once (self, &init_error);
      self->in_init = FALSE;
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
  MptcpConnListMode mode;
  MptcpSockoptList *kl = NULL;
  gboolean have_addresses = FALSE;
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
      _mptcp_conn_set_closed_error (error);
      return FALSE;
    }

  /* What kind of socket: its type and family as GSocket read them when it was made (they
   * cannot change); the rest from the kernel below, in as few system calls as the kernel
   * allows on the way to the first event (one on 6.5 and later; the hangup watch's epoll
   * registration comes about 1 ms later, mptcp-hangup-watch.c). */
  fd = g_socket_get_fd (self->socket);
  if (g_socket_get_socket_type (self->socket) != G_SOCKET_TYPE_STREAM ||
      (g_socket_get_family (self->socket) != G_SOCKET_FAMILY_IPV4 &&
       g_socket_get_family (self->socket) != G_SOCKET_FAMILY_IPV6))
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                           "The socket is not an IPv4 or IPv6 stream socket, "
                           "so it cannot be MPTCP");
      return FALSE;
    }
  mode = _mptcp_connection_env_list_mode ();
  self->path = mode == MPTCP_CONN_LIST_MODE_LEGACY ? MPTCP_SOCKOPT_PATH_LEGACY
                                                   : MPTCP_SOCKOPT_PATH_FULL_INFO;
  self->path_forced = mode != MPTCP_CONN_LIST_MODE_AUTO;

  /* Linux 6.5 and later: the token (the trailing mptcp_info) and the list from one
   * MPTCP_FULL_INFO, and the socket's addresses from its initial subflow (id 1) while it
   * lives (the socket's own are that subflow's). Refused (a plain TCP socket, a fallback,
   * an older kernel), not connected, or no live initial subflow: the way below, one
   * question each. */
  if (self->path == MPTCP_SOCKOPT_PATH_FULL_INFO)
    {
      mpx_mptcp_info info = { 0 };
      gsize len;

      kl = _mptcp_conn_scratch_list ();
      if (_mptcp_sockopt_list_read_with_info (kl, fd, (guint8 *) &info, sizeof info, &len) == 0 &&
          len >= G_STRUCT_OFFSET (mpx_mptcp_info, token) + sizeof info.token && info.token != 0)
        {
          guint i;

          self->token = info.token;
          for (i = 0; i < kl->n_subflows && !have_addresses; i++)
            if (_mptcp_sockopt_list_id (kl, i) == 1 &&
                _mptcp_sockopt_list_state (kl, i) != MPTCP_TCP_STATE_CLOSE)
              {
                _mptcp_sockopt_list_get_addrs (kl, i, &self->local_raw, &self->remote_raw);
                /* a link-local address needs its scope, which the list does not give */
                have_addresses = self->local_raw.family != 0 && self->remote_raw.family != 0 &&
                                 !addr_is_link_local (&self->local_raw) &&
                                 !addr_is_link_local (&self->remote_raw);
              }
        }
      else
        kl = NULL;
    }

  if (kl == NULL)
    {
      mpx_mptcp_info info = { 0 };
      gsize len;

      /* MPTCP_INFO, which only an MPTCP socket answers (a plain TCP one refuses SOL_MPTCP)
       * and which gives the token. Only when it is refused does the protocol tell a plain
       * TCP socket from a connection that fell back (GSocket reports an MPTCP socket's
       * protocol as TCP: SO_PROTOCOL asks the kernel). */
      r = _mptcp_sockopt_get_mptcp_info (fd, (guint8 *) &info, sizeof info, &len);
      if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
        {
          int protocol = 0;
          socklen_t plen = sizeof protocol;

          if (getsockopt (fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &plen) < 0)
            {
              _mptcp_conn_set_errno_error (error, errno, "Could not inspect the socket");
              return FALSE;
            }
          if (protocol != IPPROTO_MPTCP)
            {
              /* includes the accepted side of a plain TCP client on an MPTCP listener: the
               * kernel hands out a TCP socket there */
              g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                                   "The socket is a plain TCP socket, not an MPTCP one");
              return FALSE;
            }
          /* fell back right now (read the addresses all the same) */
          self->fallback = TRUE;
        }
      else if (r < 0)
        {
          _mptcp_conn_set_errno_error (error, -r, "Could not read the MPTCP connection info");
          return FALSE;
        }
      else if (len >= G_STRUCT_OFFSET (mpx_mptcp_info, token) + sizeof info.token)
        self->token = info.token;
    }

  /* Addresses: the socket must be connected. The objects are made on
   * first get. */
  if (!have_addresses &&
      (!socket_address (fd, FALSE, &self->local_raw, error) ||
       !socket_address (fd, TRUE, &self->remote_raw, error)))
    return FALSE;
  if (self->fallback)
    return TRUE;

  if (kl != NULL)
    _mptcp_conn_apply_kernel_list (self, kl, TRUE);   /* the scratch list: copied */
  else if (!_mptcp_conn_refresh (self, FALSE, &local_error))
    {
      if (g_error_matches (local_error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (self->token != 0)
    _mptcp_conn_start_events (self);

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
 * mptcp_socket_listener_add_inet_port(), mptcp_socket_new(), an adopted file
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
  MptcpConnection *self;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* g_initable_new() with the socket set directly: what the "socket" construct property
   * would do, without GObject's parsing of a property list (about a tenth of the
   * construction's instructions) */
  self = g_object_new (MPTCP_TYPE_CONNECTION, NULL);
  g_assert (self->socket == NULL);
  self->socket = g_object_ref (socket);
  if (!g_initable_init (G_INITABLE (self), NULL, error))
    {
      g_object_unref (self);
      return NULL;
    }
  return self;
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
 * Returns: (transfer none) (nullable): the socket, or %NULL for a connection made by
 *   mptcp_connection_new_for_token()
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
 * mptcp_connection_is_established:
 * @self: a #MptcpConnection
 *
 * Gets whether the kernel reported the connection fully established; see
 * #MptcpConnection:established.
 *
 * Returns: %TRUE once the kernel reported the connection established
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_is_established (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);

  return self->established;
}

/**
 * mptcp_connection_is_closed:
 * @self: a #MptcpConnection
 *
 * Gets whether the connection is over, as the library learnt it; see
 * #MptcpConnection:closed.
 *
 * Returns: %TRUE once the connection is over
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_is_closed (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);

  return self->closed;
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
  g_return_val_if_fail (_mptcp_conn_in_own_thread (self), NULL);

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
  g_return_val_if_fail (_mptcp_conn_in_own_thread (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _mptcp_conn_refresh_guarded (self, TRUE, error);
}

void
_mptcp_conn_set_event_source (MptcpConnection *self,
                              MptcpEventSource source)
{
  if (self->event_source == source)
    return;
  self->event_source = source;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EVENT_SOURCE]);
}

/* ---- private API ---- */

MptcpSockoptPath
_mptcp_connection_get_list_path (MptcpConnection *self)
{
  return self->path;
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
   * (with no error) for the differences, and notifies #MptcpConnection:closed when
   * a poll finds the socket reporting the connection over (poll() gives HUP
   * or ERR); the other signals are not available then.
   * %MPTCP_EVENT_SOURCE_SERVICE once the connection registered with
   * mptcp-glib-service (see #MptcpConnection:service-policy; it registers on
   * its first control operation, so a connection starts in one of the other
   * two): the service forwards the kernel's events of the connection to
   * this process, and every signal is available as with
   * %MPTCP_EVENT_SOURCE_NETLINK. Should the service leave the bus, the
   * connection polls until its next control operation registers it again
   * (the bus starts the service anew).
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
   * MptcpConnection:service-policy:
   *
   * Whether the control operations go through mptcp-glib-service, the D-Bus
   * system service that lets a process without CAP_NET_ADMIN steer the
   * connections it owns (it proves ownership by passing the socket).
   * %MPTCP_SERVICE_POLICY_AUTO (the default) uses it when the process may
   * not steer the connection itself, %MPTCP_SERVICE_POLICY_NEVER forbids it
   * and %MPTCP_SERVICE_POLICY_ALWAYS forces it. The environment variable
   * `MPTCP_GLIB_USE_SERVICE` (`never`, `always`), read once per process
   * (at the first operation that needs it), overrides %MPTCP_SERVICE_POLICY_AUTO only: an explicit choice of the
   * application wins over the environment, which is there for tests and
   * for trying the service without changing a program.
   *
   * The connection registers with the service on its first control
   * operation through it; #MptcpConnection:event-source then becomes
   * %MPTCP_EVENT_SOURCE_SERVICE. The policy is read at each operation:
   * set it at construction or before the first operation. Setting
   * %MPTCP_SERVICE_POLICY_NEVER later ends a registration (the connection
   * follows the kernel directly again, or polls).
   *
   * Since: 0.2
   */
  properties[PROP_SERVICE_POLICY] =
    g_param_spec_enum ("service-policy", "Service policy",
                       "Whether control operations go through mptcp-glib-service",
                       MPTCP_TYPE_SERVICE_POLICY, MPTCP_SERVICE_POLICY_AUTO,
                       /* not G_PARAM_CONSTRUCT: the default is what the instance starts
                        * with, and GObject would set it again at every construction */
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
   * A subflow no operation of this connection waits for is listed from the kernel's
   * event alone (its 4-tuple): its #MptcpSubflow:id and statistics are read from the
   * kernel the first time they are asked for in the connection's thread (one read for
   * all such subflows) or by the next refresh. A join the peer resets right after its
   * handshake (an in-kernel path manager past its limit) is then added and, a moment
   * later, removed again with #MptcpConnection::subflow-removed.
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
   * @error: (nullable): why the subflow ended, as the kernel gave it: a #G_IO_ERROR made
   *   from its errno (for example %G_IO_ERROR_TIMED_OUT, %G_IO_ERROR_CONNECTION_REFUSED,
   *   %G_IO_ERROR_HOST_UNREACHABLE), the same way mptcp_connection_open_subflow_finish()
   *   reports a failed open; %NULL for none (a subflow closed without an error)
   * @reset_reason: the reason the peer gave when it reset the subflow (MP_TCPRST),
   *   %MPTCP_RESET_REASON_UNSPECIFIED for none
   *
   * Emitted when a subflow left the list of
   * mptcp_connection_get_subflows(), right after the list's
   * #GListModel::items-changed. When the connection closes, the list ends
   * empty with one emission per subflow (no error), then
   * #MptcpConnection:closed. When polling, @error is always %NULL and @reset_reason
   * %MPTCP_RESET_REASON_UNSPECIFIED. (Before 0.2 it passed the errno and the raw reset code.)
   *
   * Since: 0.1
   */
  signals[SIGNAL_SUBFLOW_REMOVED] =
    g_signal_new ("subflow-removed", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, MPTCP_TYPE_SUBFLOW, G_TYPE_ERROR,
                  MPTCP_TYPE_RESET_REASON);

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
}
