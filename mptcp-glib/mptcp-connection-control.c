/* mptcp-connection-control.c: the public control calls of MptcpConnection and MptcpSubflow
 * (open, close, backup, announce, remove), run by the control machine of mptcp-control-op.c
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
#include "mptcp-task-private.h"
#include "mptcp-connection-impl-private.h"
#include "mptcp-control-op-private.h"

/* ---- the timeout of the control calls ---- */

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
  g_return_if_fail (_mptcp_conn_in_own_thread (self));

  timeout_ms = MAX (timeout_ms, 1);
  if (extra_ro (self)->control_timeout == timeout_ms)
    return;
  extra_get (self)->control_timeout = timeout_ms;
  g_object_notify (G_OBJECT (self), "control-timeout");
}

/* ---- open_subflow ---- */

/* The op's tuple from the caller's addresses: local (named what in errors) and, for an
 * open, remote (NULL for an announce). */
static gboolean
check_addresses (MptcpConnection     *self,
                 GInetSocketAddress  *local,
                 const char          *what,
                 GInetSocketAddress  *remote,
                 Tuple               *tuple,
                 GError             **error)
{
  memset (tuple, 0, sizeof *tuple);
  if (!_mptcp_control_check_usable (self, error) ||
      !_mptcp_control_host_address (self, local, what, &tuple->local, error))
    return FALSE;
  if (remote == NULL)
    return TRUE;
  if (!_mptcp_control_host_address (self, remote, "remote", &tuple->remote, error))
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

/* What an open asks the control room for (sync or async: the source tag tells). */
static MptcpControlArgs
open_args (MptcpConnection *self,
           const Tuple     *tuple,
           GCancellable    *cancellable,
           gpointer         source_tag,
           const char      *task_name)
{
  return (MptcpControlArgs) {
    .kind = MPTCP_CONTROL_OP_OPEN,
    .source_object = self,
    .tuple = tuple,
    .port_known = tuple->local.port != 0,
    .cancellable = cancellable,
    .source_tag = source_tag,
    .task_name = task_name,
  };
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
  MptcpControlArgs args;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (_mptcp_conn_in_own_thread (self), NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (local), NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (remote), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_addresses (self, local, "local", remote, &tuple, error))
    return NULL;
  args = open_args (self, &tuple, cancellable, MPTCP_TASK_TAG (mptcp_connection_open_subflow));
  result = _mptcp_control_op_run_sync (self, &args, error);
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
 * accepting it. If the library sees the reset before it delivers the
 * result, the operation fails with %MPTCP_ERROR_PEER_REFUSED. Otherwise the
 * operation has succeeded already, and the subflow leaves the list again
 * within milliseconds, with #MptcpConnection::subflow-removed (its error
 * %NULL).
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
  MptcpControlArgs args;

  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (_mptcp_conn_in_own_thread (self));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (local));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (remote));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (!check_addresses (self, local, "local", remote, &tuple, &error))
    {
      g_task_report_error (self, callback, user_data, mptcp_connection_open_subflow_async, error);
      return;
    }
  args = open_args (self, &tuple, cancellable, MPTCP_TASK_TAG (mptcp_connection_open_subflow_async));
  _mptcp_control_op_start_async (self, &args, callback, user_data);
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

/* What an announce asks the control room for. */
static MptcpControlArgs
announce_args (MptcpConnection *self,
               const Tuple     *tuple,
               GCancellable    *cancellable,
               gpointer         source_tag,
               const char      *task_name)
{
  return (MptcpControlArgs) {
    .kind = MPTCP_CONTROL_OP_ANNOUNCE,
    .source_object = self,
    .tuple = tuple,
    .port_known = TRUE,
    .cancellable = cancellable,
    .source_tag = source_tag,
    .task_name = task_name,
  };
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
  MptcpControlArgs args;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);
  g_return_val_if_fail (_mptcp_conn_in_own_thread (self), 0);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!check_addresses (self, address, "announced", NULL, &tuple, error))
    return 0;
  args = announce_args (self, &tuple, cancellable, MPTCP_TASK_TAG (mptcp_connection_announce_address));
  result = _mptcp_control_op_run_sync (self, &args, error);
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
  MptcpControlArgs args;

  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (_mptcp_conn_in_own_thread (self));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (address));

  if (!check_addresses (self, address, "announced", NULL, &tuple, &error))
    {
      g_task_report_error (self, callback, user_data, mptcp_connection_announce_address_async,
                           error);
      return;
    }
  args = announce_args (self, &tuple, cancellable, MPTCP_TASK_TAG (mptcp_connection_announce_address_async));
  _mptcp_control_op_start_async (self, &args, callback, user_data);
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
  if (!_mptcp_control_check_usable (self, error))
    return FALSE;
  if (id > 255)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                   "Address id %u is out of range (0 to 255)", id);
      return FALSE;
    }
  return TRUE;
}

/* What a remove asks the control room for. */
static MptcpControlArgs
remove_args (MptcpConnection *self,
             guint8           id,
             GCancellable    *cancellable,
             gpointer         source_tag,
             const char      *task_name)
{
  return (MptcpControlArgs) {
    .kind = MPTCP_CONTROL_OP_REMOVE,
    .source_object = self,
    .id = id,
    .cancellable = cancellable,
    .source_tag = source_tag,
    .task_name = task_name,
  };
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
  MptcpControlArgs args;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (_mptcp_conn_in_own_thread (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_remove (self, id, error))
    return FALSE;
  args = remove_args (self, id, cancellable, MPTCP_TASK_TAG (mptcp_connection_remove_address));
  result = _mptcp_control_op_run_sync (self, &args, error);
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
  MptcpControlArgs args;

  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (_mptcp_conn_in_own_thread (self));

  if (!check_remove (self, id, &error))
    {
      g_task_report_error (self, callback, user_data, mptcp_connection_remove_address_async,
                           error);
      return;
    }
  args = remove_args (self, id, cancellable, MPTCP_TASK_TAG (mptcp_connection_remove_address_async));
  _mptcp_control_op_start_async (self, &args, callback, user_data);
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
