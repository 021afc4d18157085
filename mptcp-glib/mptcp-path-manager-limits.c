/* mptcp-path-manager-limits.c: the limits of MptcpPathManager (see mptcp-path-manager-private.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "mptcp-path-manager.h"
#include "mptcp-endpoint-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-task-private.h"
#include "mptcp-path-manager-private.h"

/* ---- limits ------------------------------------------------------------------------------- */

/**
 * mptcp_path_manager_get_limits:
 * @self: an #MptcpPathManager
 * @subflows: (out) (optional): the most additional subflows a connection may
 *   have (beyond its first)
 * @add_addr_accepted: (out) (optional): the most addresses announced by a peer
 *   (ADD_ADDR) a connection accepts and opens subflows to
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Reads the limits of the in-kernel path manager, as
 * `ip mptcp limits show` does. A fresh network namespace has 2 and 0. Needs
 * no privilege.
 *
 * Returns: (skip): %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_get_limits (MptcpPathManager  *self,
                               guint             *subflows,
                               guint             *add_addr_accepted,
                               GCancellable      *cancellable,
                               GError           **error)
{
  g_autofree Limits *limits = NULL;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  limits = _mptcp_pm_run_sync_pointer (self, _mptcp_pm_op_new (PM_OP_GET_LIMITS), cancellable,
                             MPTCP_TASK_TAG (mptcp_path_manager_get_limits), error);
  if (limits == NULL)
    return FALSE;

  if (subflows != NULL)
    *subflows = limits->subflows;
  if (add_addr_accepted != NULL)
    *add_addr_accepted = limits->add_addr_accepted;
  return TRUE;
}

/**
 * mptcp_path_manager_get_limits_async:
 * @self: an #MptcpPathManager
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the limits are read
 * @user_data: data for @callback
 *
 * Starts reading the limits; see mptcp_path_manager_get_limits(). Finish with
 * mptcp_path_manager_get_limits_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_get_limits_async (MptcpPathManager    *self,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  _mptcp_pm_start_async (self, _mptcp_pm_op_new (PM_OP_GET_LIMITS), cancellable, callback, user_data,
               MPTCP_TASK_TAG (mptcp_path_manager_get_limits_async));
}

/**
 * mptcp_path_manager_get_limits_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @subflows: (out) (optional): the most additional subflows a connection may
 *   have
 * @add_addr_accepted: (out) (optional): the most announced addresses a
 *   connection accepts
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_get_limits_async().
 *
 * Returns: (skip): %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_get_limits_finish (MptcpPathManager  *self,
                                      GAsyncResult      *result,
                                      guint             *subflows,
                                      guint             *add_addr_accepted,
                                      GError           **error)
{
  g_autofree Limits *limits = NULL;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_get_limits_async), FALSE);

  limits = g_task_propagate_pointer (G_TASK (result), error);
  if (limits == NULL)
    return FALSE;

  if (subflows != NULL)
    *subflows = limits->subflows;
  if (add_addr_accepted != NULL)
    *add_addr_accepted = limits->add_addr_accepted;
  return TRUE;
}

static PmOp *
pm_op_new_set_limits (guint subflows,
                      guint add_addr_accepted)
{
  PmOp *op;

  op = _mptcp_pm_op_new (PM_OP_SET_LIMITS);
  op->subflows = subflows;
  op->add_addr_accepted = add_addr_accepted;
  return op;
}

/**
 * mptcp_path_manager_set_limits:
 * @self: an #MptcpPathManager
 * @subflows: the most additional subflows a connection may have, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED to keep the current value
 * @add_addr_accepted: the most announced addresses a connection accepts, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED to keep the current value
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Sets the limits of the in-kernel path manager, as `ip mptcp limits set`
 * does. They apply to connections made afterwards, and an in-kernel path
 * manager also refuses joins from peers beyond its @subflows limit.
 *
 * Fails with %MPTCP_ERROR_OUT_OF_RANGE when a value is above what the kernel
 * allows (8), and with %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN.
 * Either both limits change or neither does.
 *
 * The limits are #guint here as in mptcp_path_manager_get_limits(); before
 * 0.2 this took #gint with -1 for "unchanged".
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_limits (MptcpPathManager  *self,
                               guint              subflows,
                               guint              add_addr_accepted,
                               GCancellable      *cancellable,
                               GError           **error)
{
  PmOp *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  op = pm_op_new_set_limits (subflows, add_addr_accepted);
  return _mptcp_pm_run_sync_boolean (self, op, cancellable, MPTCP_TASK_TAG (mptcp_path_manager_set_limits), error);
}

/**
 * mptcp_path_manager_set_limits_async:
 * @self: an #MptcpPathManager
 * @subflows: the most additional subflows a connection may have, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED
 * @add_addr_accepted: the most announced addresses a connection accepts, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the limits are set
 * @user_data: data for @callback
 *
 * Starts setting the limits; see mptcp_path_manager_set_limits(). Finish with
 * mptcp_path_manager_set_limits_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_set_limits_async (MptcpPathManager    *self,
                                     guint                subflows,
                                     guint                add_addr_accepted,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  PmOp *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  op = pm_op_new_set_limits (subflows, add_addr_accepted);
  _mptcp_pm_start_async (self, op, cancellable, callback, user_data,
                         MPTCP_TASK_TAG (mptcp_path_manager_set_limits_async));
}

/**
 * mptcp_path_manager_set_limits_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_set_limits_async().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_limits_finish (MptcpPathManager  *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_set_limits_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

