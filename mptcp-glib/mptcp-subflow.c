/* mptcp-subflow.c: one subflow of an MPTCP connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/socket.h>

#include "mptcp-subflow.h"
#include "mptcp-subflow-private.h"
#include "mptcp-connection.h"
#include "mptcp-info-private.h"
#include "mptcp-task-private.h"
#include "mptcp-error.h"

/**
 * SECTION:mptcp-subflow
 * @Title: MptcpSubflow
 * @Short_description: one TCP subflow of an MPTCP connection
 * @See_also: #MptcpConnection, #MptcpSubflowStats
 *
 * An MPTCP connection carries its data over one or more TCP connections, its
 * subflows. #MptcpSubflow stands for one of them: you never create one, you
 * find them in the list model of mptcp_connection_get_subflows(), which
 * mptcp_connection_refresh() keeps up to date. The same #MptcpSubflow object
 * stands for the same kernel subflow for as long as the subflow lives, so it
 * is safe to keep a reference, to bind to its properties or to use it as a
 * key.
 *
 * A subflow knows its #MptcpSubflow:id (the kernel's per-connection subflow
 * number: 1 for the initial subflow, then counting up, never reused), its
 * 4-tuple (#MptcpSubflow:local-address and #MptcpSubflow:remote-address,
 * with ports; IPv4 addresses are always given as IPv4, never in the
 * IPv4-mapped IPv6 form a dual-stack socket reports), its backup flags in both
 * directions (#MptcpSubflow:backup, this host's request; #MptcpSubflow:peer-backup,
 * the peer's) and its #MptcpSubflow:connection. Its TCP statistics
 * (state, round-trip time, congestion window, rates, byte and retransmission
 * counters) come from mptcp_subflow_get_stats(), as of the last refresh.
 *
 * Reading subflows needs no privilege: the list and the statistics come from
 * getsockopt() on the application's own socket. The backup flags are not in
 * anything getsockopt() returns: mptcp_connection_refresh() reads them from
 * sock_diag (NETLINK_SOCK_DIAG, one lookup per subflow, at most every 100 ms).
 * Which is which:
 *
 * - Linux 6.18 (any process) and any kernel for a process with
 *   `CAP_NET_ADMIN`: both flags are the kernel's (`MPTCP_SUBFLOW_FLAG_BKUP_LOC`
 *   and `MPTCP_SUBFLOW_FLAG_BKUP_REM`), whoever set them: this library, a
 *   backup endpoint (`ip mptcp endpoint ... backup`), another process, the
 *   peer's MP_PRIO.
 * - Debian's 6.1 and 6.12 without `CAP_NET_ADMIN` (sock_diag gives no MPTCP
 *   details of a subflow there): #MptcpSubflow:backup is the library's last
 *   request and #MptcpSubflow:peer-backup stays %FALSE.
 *
 * A subflow follows its connection's thread rule (see the Threads section of
 * #MptcpConnection): mptcp_subflow_close() and mptcp_subflow_set_backup()
 * (and their asynchronous variants) from another thread than the one that
 * made the connection are refused with a critical; the getters of its id and
 * addresses may be called from any thread.
 *
 * ## What to use when
 *
 * Keep a reference or bind to the properties: #MptcpSubflow:backup and
 * #MptcpSubflow:peer-backup are notified when they change, #MptcpSubflow:id once a subflow
 * made from an event gets the kernel's id. Learn that a subflow is gone from
 * #MptcpConnection::subflow-removed (with why) or the connection's list model, not from the
 * object: it stays valid, with its last statistics. mptcp_subflow_close() ends one subflow;
 * mptcp_connection_remove_address() withdraws an address, and the peer closes every subflow
 * using it.
 *
 * ## Where it lives
 *
 * mptcp-subflow.c holds the object and its getters. Its close and set_backup calls run in
 * the connection's control machinery (mptcp-control-op.c), and the connection fills in its
 * fields (list, statistics, flags) through the setters of mptcp-subflow-private.h: the
 * subflow includes no header of the connection. mptcp-glib/README.md in the sources maps
 * every room.
 *
 * ## Per-subflow socket options
 *
 * Upstream Linux has no per-subflow socket options: a subflow is not a
 * socket the application can reach, and there is no setsockopt() that
 * targets one subflow. What the original `mptcplib` C API offered maps as
 * follows:
 *
 * - `mptcplib_get_sub_ids` and `mptcplib_get_sub_tuple`: the items of
 *   mptcp_connection_get_subflows(), with mptcp_subflow_get_id(),
 *   mptcp_subflow_get_local_address() and mptcp_subflow_get_remote_address().
 * - `mptcplib_get_sub_sockopt` with `TCP_INFO`: mptcp_subflow_get_stats().
 *   No other option can be read per subflow.
 * - `mptcplib_set_sub_sockopt`: no upstream equivalent. Set the option on
 *   the MPTCP socket itself (g_socket_set_option() on
 *   #MptcpConnection:socket); the kernel applies the socket options it
 *   supports for MPTCP (such as `SO_MARK`, `SO_PRIORITY`, `TCP_NODELAY`,
 *   `TCP_CONGESTION`, `IP_TOS`, keepalive settings) to every subflow,
 *   present and future.
 *
 * The reference manual's mapping table lists every `mptcplib_*` function.
 *
 * Since: 0.1
 */

/**
 * MptcpSubflow:
 *
 * One TCP subflow of an MPTCP connection, as listed by
 * mptcp_connection_get_subflows(). The same object stands for the same kernel
 * subflow while it lives. Its statistics come from mptcp_subflow_get_stats().
 *
 * Upstream Linux has no per-subflow socket options: set options on the MPTCP
 * socket itself and the kernel applies them to all subflows (see the section
 * above for the mapping from the original `mptcplib` API).
 *
 * Since: 0.1
 */

enum
{
  PROP_0,
  PROP_ID,
  PROP_LOCAL_ADDRESS,
  PROP_REMOTE_ADDRESS,
  PROP_BACKUP,
  PROP_CONNECTION,
  PROP_PEER_BACKUP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MptcpSubflow, mptcp_subflow, G_TYPE_OBJECT)

static void
mptcp_subflow_finalize (GObject *object)
{
  MptcpSubflow *self = MPTCP_SUBFLOW (object);

  /* the connection detached the statistics when it stopped listing us */
  g_assert (self->tcp_info == NULL || self->tcp_info == self->tcp_info_own);
  g_clear_object (&self->local);
  g_clear_object (&self->remote);
  if (self->backref != NULL && --self->backref->ref_count == 0)
    g_free (self->backref);

  G_OBJECT_CLASS (mptcp_subflow_parent_class)->finalize (object);
}

/* A subflow made from an event learns its kernel id and statistics on first need: from the
 * connection's next refresh, or here, when a getter wants them first (one read of the
 * kernel's list for all the connection's subflows that wait; in the connection's thread
 * only: elsewhere the getters give what is known). */
static inline void
load_info (MptcpSubflow *self)
{
  if (G_LIKELY (!self->info_pending))
    return;
  if (self->backref != NULL && self->backref->connection != NULL &&
      self->backref->load_info != NULL)
    self->backref->load_info (self->backref->connection);
}

static void
mptcp_subflow_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  MptcpSubflow *self = MPTCP_SUBFLOW (object);

  switch (prop_id)
    {
    case PROP_ID:
      load_info (self);
      g_value_set_uint (value, self->id);
      break;
    case PROP_LOCAL_ADDRESS:
      g_value_set_object (value, _mptcp_sockopt_addr_cached (&self->local, &self->local_raw));
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_object (value, _mptcp_sockopt_addr_cached (&self->remote, &self->remote_raw));
      break;
    case PROP_BACKUP:
      g_value_set_boolean (value, self->backup);
      break;
    case PROP_PEER_BACKUP:
      g_value_set_boolean (value, self->peer_backup);
      break;
    case PROP_CONNECTION:
      g_value_take_object (value, mptcp_subflow_dup_connection (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_subflow_class_init (MptcpSubflowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mptcp_subflow_finalize;
  object_class->get_property = mptcp_subflow_get_property;

  /**
   * MptcpSubflow:id:
   *
   * The kernel's number for this subflow within its connection: 1 for the
   * initial subflow, then the next number for each new subflow, never
   * reused. On kernels before 6.5 (or with `MPTCP_GLIB_SUBFLOW_LIST=legacy`)
   * the kernel reports no ids; the library then numbers subflows the same
   * way, in the order it first sees them.
   *
   * This is not an MPTCP address id (those name addresses and are shared by
   * all subflows using an address).
   *
   * A subflow the connection listed from the kernel's event alone (see
   * #MptcpConnection::subflow-added) learns its id when it is first read in the
   * connection's thread (the getter or g_object_get() reads the kernel's list once) or at
   * the next refresh; until then, and from other threads, it is 0. It is notified when it
   * changes.
   *
   * Since: 0.1
   */
  properties[PROP_ID] =
    g_param_spec_uint ("id", "Id", "The kernel's number of this subflow",
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpSubflow:local-address:
   *
   * The local address and port of the subflow. IPv4 addresses are always
   * #G_SOCKET_FAMILY_IPV4, also on a dual-stack IPv6 socket.
   *
   * Since: 0.1
   */
  properties[PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address",
                         "The local address and port of the subflow",
                         G_TYPE_INET_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpSubflow:remote-address:
   *
   * The remote address and port of the subflow. IPv4 addresses are always
   * #G_SOCKET_FAMILY_IPV4, also on a dual-stack IPv6 socket.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", "Remote address",
                         "The remote address and port of the subflow",
                         G_TYPE_INET_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpSubflow:backup:
   *
   * Whether this side asked the peer to use the subflow only as a backup
   * (an MP_PRIO sent, or a backup endpoint: the kernel's
   * `MPTCP_SUBFLOW_FLAG_BKUP_LOC`).
   *
   * Where the kernel lets this process read the subflow's MPTCP details
   * through sock_diag (Linux 6.18, or any kernel with `CAP_NET_ADMIN`),
   * mptcp_connection_refresh() reads the kernel's own flag, whoever set it
   * (this library, `ip mptcp endpoint`, another process); see
   * mptcp_connection_refresh() for when. Elsewhere (Debian's 6.1 and 6.12
   * without `CAP_NET_ADMIN`) getsockopt() reports it nowhere, so it is what
   * this library last asked for (%FALSE unless a request was made through
   * it).
   *
   * Since: 0.1
   */
  properties[PROP_BACKUP] =
    g_param_spec_boolean ("backup", "Backup",
                          "Whether this side asked for the subflow to be a backup",
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpSubflow:peer-backup:
   *
   * Whether the peer asked this host to use the subflow only as a backup
   * (the peer's MP_PRIO or backup flag in its MP_JOIN: the kernel's
   * `MPTCP_SUBFLOW_FLAG_BKUP_REM`), as read from sock_diag by the last
   * mptcp_connection_refresh() that read the flags. Only the kernel knows
   * it: where sock_diag gives this process no MPTCP details of its subflows
   * (Debian's 6.1 and 6.12 without `CAP_NET_ADMIN`) it stays %FALSE.
   *
   * Since: 0.2
   */
  properties[PROP_PEER_BACKUP] =
    g_param_spec_boolean ("peer-backup", "Peer backup",
                          "Whether the peer asked for the subflow to be a backup",
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpSubflow:connection:
   *
   * The connection the subflow belongs to, or %NULL once that
   * #MptcpConnection has been finalized. The subflow does not keep its
   * connection alive (no reference cycle).
   *
   * Since: 0.1
   */
  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", "Connection",
                         "The connection the subflow belongs to",
                         MPTCP_TYPE_CONNECTION,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mptcp_subflow_init (MptcpSubflow *self)
{
}

MptcpSubflow *
_mptcp_subflow_new (MptcpConnection        *connection,
                    guint                   id,
                    const MptcpSockoptAddr *local,
                    const MptcpSockoptAddr *remote)
{
  MptcpSubflow *self = g_object_new (MPTCP_TYPE_SUBFLOW, NULL);

  if (connection != NULL)
    {
      self->backref = _mptcp_connection_get_backref (connection);
      self->backref->ref_count++;
    }
  self->id = id;
  self->local_raw = *local;
  self->remote_raw = *remote;
  return self;
}

gboolean
_mptcp_subflow_matches (MptcpSubflow           *self,
                        const MptcpSockoptAddr *local,
                        const MptcpSockoptAddr *remote)
{
  return _mptcp_sockopt_addr_equal (&self->local_raw, local) &&
         _mptcp_sockopt_addr_equal (&self->remote_raw, remote);
}

void
_mptcp_subflow_set_id (MptcpSubflow *self,
                       guint         id)
{
  if (self->id == id)
    return;
  self->id = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

void
_mptcp_subflow_set_backup (MptcpSubflow *self,
                           gboolean      backup)
{
  backup = !!backup;
  if (self->backup == backup)
    return;
  self->backup = backup;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BACKUP]);
}

void
_mptcp_subflow_set_peer_backup (MptcpSubflow *self,
                                gboolean      peer_backup)
{
  peer_backup = !!peer_backup;
  if (self->peer_backup == peer_backup)
    return;
  self->peer_backup = peer_backup;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER_BACKUP]);
}

/**
 * mptcp_subflow_get_id:
 * @self: a #MptcpSubflow
 *
 * Gets the kernel's number of this subflow within its connection; see
 * #MptcpSubflow:id.
 *
 * Returns: the subflow id (1 for the initial subflow)
 *
 * Since: 0.1
 */
guint
mptcp_subflow_get_id (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), 0);

  load_info (self);
  return self->id;
}

/**
 * mptcp_subflow_get_local_address:
 * @self: a #MptcpSubflow
 *
 * Gets the local address and port of the subflow.
 *
 * Returns: (transfer none): the local address
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_subflow_get_local_address (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), NULL);

  return _mptcp_sockopt_addr_cached (&self->local, &self->local_raw);
}

/**
 * mptcp_subflow_get_remote_address:
 * @self: a #MptcpSubflow
 *
 * Gets the remote address and port of the subflow.
 *
 * Returns: (transfer none): the remote address
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_subflow_get_remote_address (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), NULL);

  return _mptcp_sockopt_addr_cached (&self->remote, &self->remote_raw);
}

/**
 * mptcp_subflow_get_backup:
 * @self: a #MptcpSubflow
 *
 * Gets whether this side asked for the subflow to be used as a backup only,
 * as the kernel reported it at the last refresh that read it or, where it
 * cannot be read, as far as the library knows; see #MptcpSubflow:backup.
 *
 * Returns: %TRUE if a backup request is known for the subflow
 *
 * Since: 0.1
 */
gboolean
mptcp_subflow_get_backup (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), FALSE);

  return self->backup;
}

/**
 * mptcp_subflow_get_peer_backup:
 * @self: a #MptcpSubflow
 *
 * Gets whether the peer asked for the subflow to be used as a backup only,
 * as the kernel reported at the last refresh that read it; see
 * #MptcpSubflow:peer-backup.
 *
 * Returns: %TRUE if the kernel reported the peer's backup request
 *
 * Since: 0.2
 */
gboolean
mptcp_subflow_get_peer_backup (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), FALSE);

  return self->peer_backup;
}

/**
 * mptcp_subflow_dup_connection:
 * @self: a #MptcpSubflow
 *
 * Gets a new reference to the connection the subflow belongs to (a `dup_` name, after
 * GLib's rule: the caller owns what it gets). Until 0.2 its name ended in
 * get_connection.
 *
 * Returns: (transfer full) (nullable): the connection, or %NULL if it has
 *   been finalized
 *
 * Since: 0.2
 */
MptcpConnection *
mptcp_subflow_dup_connection (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), NULL);

  if (self->backref == NULL || self->backref->connection == NULL)
    return NULL;
  return g_object_ref (self->backref->connection);
}

/**
 * mptcp_subflow_get_stats:
 * @self: a #MptcpSubflow
 *
 * Gets the TCP statistics of the subflow as of the last
 * mptcp_connection_refresh() (or the construction of the connection, or the
 * moment the subflow was first listed). Call mptcp_connection_refresh() first
 * for current values; the call itself makes no system call, except once for a
 * subflow the connection listed from the kernel's event alone (see
 * #MptcpConnection::subflow-added): its statistics are then read when first asked
 * for (in the connection's thread; empty elsewhere until a refresh).
 *
 * Returns: (transfer full): a snapshot of the subflow's statistics
 *
 * Since: 0.1
 */
MptcpSubflowStats *
mptcp_subflow_get_stats (MptcpSubflow *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), NULL);

  load_info (self);
  return _mptcp_subflow_stats_new (self->tcp_info, self->tcp_info_len);
}

/**
 * mptcp_subflow_close:
 * @self: a #MptcpSubflow
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * The synchronous variant of mptcp_subflow_close_async(): blocks the
 * calling thread (iterating a private main context) for at most the
 * connection's #MptcpConnection:control-timeout.
 *
 * Returns: %TRUE once the subflow is closed, %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_subflow_close (MptcpSubflow  *self,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _mptcp_control_subflow_run (self, MPTCP_SUBFLOW_OP_CLOSE, FALSE, cancellable,
                                     MPTCP_TASK_TAG (mptcp_subflow_close), error);
}

/**
 * mptcp_subflow_close_async:
 * @self: a #MptcpSubflow
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the subflow is closed or the attempt
 *   failed
 * @user_data: data for @callback
 *
 * Closes (resets) this subflow, through the userspace path manager's
 * `SUBFLOW_DESTROY` command for its 4-tuple; the connection goes on over its
 * other subflows. This works on the initial subflow too. Completes when the
 * kernel reports the subflow closed: by then it has left the list of
 * mptcp_connection_get_subflows(), with
 * #MptcpConnection::subflow-removed. Without the kernel's events it
 * completes on the kernel's acknowledgement.
 *
 * Fails with %MPTCP_ERROR_NO_SUCH_SUBFLOW for a subflow that is closed
 * already or no longer listed (also after its connection closed); otherwise
 * the errors are those of mptcp_connection_open_subflow_async() (no
 * CAP_NET_ADMIN, in-kernel path manager, fallback, timeout). When cancelled
 * (%G_IO_ERROR_CANCELLED) after the request left, the subflow may be closed
 * anyway; the list then tells.
 *
 * Since: 0.1
 */
void
mptcp_subflow_close_async (MptcpSubflow        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_SUBFLOW (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _mptcp_control_subflow_start (self, MPTCP_SUBFLOW_OP_CLOSE, FALSE, cancellable, callback,
                                user_data, MPTCP_TASK_TAG (mptcp_subflow_close_async));
}

/**
 * mptcp_subflow_close_finish:
 * @self: a #MptcpSubflow
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_subflow_close_async().
 *
 * Returns: %TRUE once the subflow is closed, %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_subflow_close_finish (MptcpSubflow  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_subflow_close_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mptcp_subflow_set_backup:
 * @self: a #MptcpSubflow
 * @backup: %TRUE to ask the peer to use the subflow only as a backup,
 *   %FALSE to make it a regular subflow again
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * The synchronous variant of mptcp_subflow_set_backup_async().
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_subflow_set_backup (MptcpSubflow  *self,
                          gboolean       backup,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _mptcp_control_subflow_run (self, MPTCP_SUBFLOW_OP_SET_BACKUP, backup, cancellable,
                                     MPTCP_TASK_TAG (mptcp_subflow_set_backup), error);
}

/**
 * mptcp_subflow_set_backup_async:
 * @self: a #MptcpSubflow
 * @backup: %TRUE to ask the peer to use the subflow only as a backup,
 *   %FALSE to make it a regular subflow again
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the kernel has taken the request
 * @user_data: data for @callback
 *
 * Asks the peer to use this subflow only as a backup (or no longer), with
 * an MPTCP MP_PRIO, through the userspace path manager's `SET_FLAGS`
 * command for the subflow's 4-tuple. The kernel sends MP_PRIO every time,
 * changed or not. #MptcpSubflow:backup is updated when the kernel
 * acknowledges (the kernel emits no local event for it; the peer sees a
 * priority change). The kernel's view is readable without privilege
 * through sock_diag (`ss -tiM` shows flag `b` on the subflow).
 *
 * Errors are those of mptcp_subflow_close_async().
 *
 * Since: 0.1
 */
void
mptcp_subflow_set_backup_async (MptcpSubflow        *self,
                                gboolean             backup,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_SUBFLOW (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _mptcp_control_subflow_start (self, MPTCP_SUBFLOW_OP_SET_BACKUP, backup, cancellable, callback,
                                user_data, MPTCP_TASK_TAG (mptcp_subflow_set_backup_async));
}

/**
 * mptcp_subflow_set_backup_finish:
 * @self: a #MptcpSubflow
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_subflow_set_backup_async().
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_subflow_set_backup_finish (MptcpSubflow  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_subflow_set_backup_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
