/* mptcp-path-manager-ops.c: the operations of MptcpPathManager and how they run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See mptcp-path-manager-private.h.
 */

/* mptcp-path-manager.c: endpoints, limits and mode of the in-kernel path manager
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

/* ---- from netlink values ------------------------------------------------------------------ */

static GInetAddress *
inet_from_nl_address (const MptcpNlAddress *address)
{
  if (address->family == AF_INET6)
    return g_inet_address_new_from_bytes ((const guint8 *) &address->addr.v6,
                                          G_SOCKET_FAMILY_IPV6);
  if (address->family == AF_INET)
    return g_inet_address_new_from_bytes ((const guint8 *) &address->addr.v4,
                                          G_SOCKET_FAMILY_IPV4);

  /* the kernel always reports an address for an endpoint */
  return g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
}

/* Same address, v4-mapped IPv6 and IPv4 counted as equal; the port only if asked. */
static gboolean
nl_address_equal (const MptcpNlAddress *a,
                  const MptcpNlAddress *b,
                  gboolean              compare_port)
{
  MptcpNlInetAddr xa = a->addr, xb = b->addr;
  int fa = a->family, fb = b->family;

  _mptcp_nl_inet_normalize (&fa, &xa);
  _mptcp_nl_inet_normalize (&fb, &xb);

  if (fa != fb)
    return FALSE;
  if (fa == AF_INET && memcmp (&xa.v4, &xb.v4, sizeof xa.v4) != 0)
    return FALSE;
  if (fa == AF_INET6 && memcmp (&xa.v6, &xb.v6, sizeof xa.v6) != 0)
    return FALSE;
  if (compare_port && a->port != b->port)
    return FALSE;

  return TRUE;
}

static MptcpEndpoint *
endpoint_from_nl (MptcpPathManager     *self,
                  const MptcpNlAddress *address)
{
  g_autoptr(GInetAddress) inet = inet_from_nl_address (address);
  g_autofree char *ifname = _mptcp_pm_resolve_ifname (self, address->ifindex);

  return _mptcp_endpoint_new (address->has_id ? address->id : 0, inet, address->port,
                              address->ifindex, ifname,
                              address->has_flags ? address->flags : 0);
}

static char *
flags_to_string (guint32 flags)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (MPTCP_TYPE_ENDPOINT_FLAGS);
  GString *str = g_string_new (NULL);
  guint32 rest = flags;
  guint i;

  for (i = 0; i < klass->n_values; i++)
    {
      const GFlagsValue *value = &klass->values[i];

      if (value->value != 0 && (flags & value->value) == value->value)
        {
          g_string_append_printf (str, "%s%s", str->len ? "|" : "", value->value_nick);
          rest &= ~value->value;
        }
    }
  if (rest != 0)
    g_string_append_printf (str, "%s0x%x", str->len ? "|" : "", rest);
  if (str->len == 0)
    g_string_append (str, "none");

  return g_string_free (str, FALSE);
}

/* ---- operations: a chain of broker requests driven by their replies ------------------------- */

PmOp *
_mptcp_pm_op_new (PmOpKind kind)
{
  PmOp *op = g_new0 (PmOp, 1);

  op->kind = kind;
  return op;
}

static void
pm_op_free (gpointer data)
{
  PmOp *op = data;

  g_clear_pointer (&op->netlink, _mptcp_netlink_unref);
  g_clear_pointer (&op->ids, g_array_unref);
  g_clear_error (&op->deferred);
  g_clear_error (&op->refusal);
  g_free (op);
}

static void pm_op_reply_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data);

/* Takes the reference on task. */
static void
pm_op_send (GTask                *task,
         const MptcpNlRequest *request)
{
  PmOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = op->committed ? NULL : g_task_get_cancellable (task);

  _mptcp_netlink_request_async (op->netlink, request, 0, cancellable, pm_op_reply_cb, task);
}

static void
send_simple (GTask  *task,
             guint8  cmd)
{
  MptcpNlRequest request = { 0 };

  request.cmd = cmd;
  pm_op_send (task, &request);
}

static void
send_by_id (GTask  *task,
            guint8  cmd,
            guint   id)
{
  MptcpNlRequest request = { 0 };

  request.cmd = cmd;
  request.has_addr = TRUE;
  request.addr.id = id;
  request.addr.has_id = TRUE;
  pm_op_send (task, &request);
}

static void
send_dump (GTask *task)
{
  MptcpNlRequest request = { 0 };

  request.cmd = MPTCP_PM_CMD_GET_ADDR;
  request.dump = TRUE;
  pm_op_send (task, &request);
}

/* After a successful change: the rest of the operation runs to its end. */
static void
pm_op_commit (GTask *task)
{
  PmOp *op = g_task_get_task_data (task);

  op->committed = TRUE;
  g_task_set_check_cancellable (task, FALSE);
}

static void
pm_op_return_error (GTask  *task,
                 GError *error)
{
  PmOp *op = g_task_get_task_data (task);

  /* no CAP_NET_ADMIN: mptcp-glib-service may make the change (mptcp-path-manager-service.c) */
  if (_mptcp_pm_service_fallback (g_task_get_source_object (task), op, error))
    {
      g_debug ("%s; asking mptcp-glib-service", error->message);
      _mptcp_pm_service_run (task, error);
      return;
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
pm_op_return_boolean (GTask *task)
{
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
pm_op_return_endpoint (GTask         *task,
                    MptcpEndpoint *endpoint)
{
  g_task_return_pointer (task, endpoint, g_object_unref);
  g_object_unref (task);
}

static void
pm_op_start (GTask *task)
{
  PmOp *op = g_task_get_task_data (task);
  MptcpNlRequest request = { 0 };

  /* (a read back after the service's change runs to its end) */
  if (!op->committed && g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (_mptcp_pm_service_first (g_task_get_source_object (task), op))
    {
      _mptcp_pm_service_run (task, NULL);
      return;
    }

  switch (op->kind)
    {
    case PM_OP_LIST:
    case PM_OP_REMOVE_BY_ADDRESS:
      send_dump (task);
      break;

    case PM_OP_GET:
    case PM_OP_SET_FLAGS:   /* read it first: unknown id, flags the endpoint cannot take */
      send_by_id (task, MPTCP_PM_CMD_GET_ADDR, op->id);
      break;

    case PM_OP_ADD:
      request.cmd = MPTCP_PM_CMD_ADD_ADDR;
      request.has_addr = TRUE;
      request.addr = op->address;
      request.addr.has_flags = TRUE;
      request.addr.flags = op->flags;
      if (op->id != 0)
        {
          request.addr.has_id = TRUE;
          request.addr.id = op->id;
        }
      pm_op_send (task, &request);
      break;

    case PM_OP_REMOVE:
      send_by_id (task, MPTCP_PM_CMD_DEL_ADDR, op->id);
      break;

    case PM_OP_FLUSH:
      send_simple (task, MPTCP_PM_CMD_FLUSH_ADDRS);
      break;

    case PM_OP_GET_LIMITS:
      send_simple (task, MPTCP_PM_CMD_GET_LIMITS);
      break;

    case PM_OP_SET_LIMITS:
      request.cmd = MPTCP_PM_CMD_SET_LIMITS;
      if (op->subflows != MPTCP_PATH_MANAGER_LIMIT_UNCHANGED)
        {
          request.has_subflows = TRUE;
          request.subflows = op->subflows;
        }
      if (op->add_addr_accepted != MPTCP_PATH_MANAGER_LIMIT_UNCHANGED)
        {
          request.has_rcv_add_addrs = TRUE;
          request.rcv_add_addrs = op->add_addr_accepted;
        }
      pm_op_send (task, &request);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
advance_list (GTask        *task,
              MptcpNlReply *reply)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  GListStore *endpoints;
  guint i;

  endpoints = g_list_store_new (MPTCP_TYPE_ENDPOINT);
  for (i = 0; i < reply->addresses->len; i++)
    {
      g_autoptr(MptcpEndpoint) endpoint =
        endpoint_from_nl (self, &g_array_index (reply->addresses, MptcpNlAddress, i));

      g_list_store_append (endpoints, endpoint);
    }

  g_task_return_pointer (task, endpoints, g_object_unref);
  g_object_unref (task);
}

static const MptcpNlAddress *
reply_find_id (MptcpNlReply *reply,
               guint         id)
{
  guint i;

  for (i = 0; i < reply->addresses->len; i++)
    {
      const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);

      if (address->has_id && address->id == id)
        return address;
    }

  return NULL;
}

static GError *
no_such_id_error (guint id)
{
  return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT, "No endpoint has id %u", id);
}

static void
advance_get (GTask        *task,
             MptcpNlReply *reply)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  PmOp *op = g_task_get_task_data (task);
  const MptcpNlAddress *address = reply_find_id (reply, op->id);

  if (address == NULL)
    pm_op_return_error (task, no_such_id_error (op->id));
  else
    pm_op_return_endpoint (task, endpoint_from_nl (self, address));
}

/* The in-kernel path manager's table size (MPTCP_PM_ADDR_MAX) */
#define KERNEL_MAX_ENDPOINTS 8

/* Linux before 6.2 refuses a duplicate endpoint and a full table alike, with EINVAL and "too
 * many addresses or duplicate one" (6.2 and later: EEXIST for a duplicate). Tell them apart
 * from the table, compared the way the kernel does: same address, ports only when both have
 * one, or the same id. */
static GError *
classify_add_refusal (PmOp           *op,
                      MptcpNlReply *reply)
{
  GError *refusal = g_steal_pointer (&op->refusal);
  guint i;

  for (i = 0; i < reply->addresses->len; i++)
    {
      const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);
      gboolean ports = address->port != 0 && op->address.port != 0;

      if (nl_address_equal (address, &op->address, ports)
          || (op->id != 0 && address->has_id && address->id == op->id))
        {
          GError *error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS,
                                       "An endpoint with this address or id exists already "
                                       "(endpoint %u; %s)", address->id, refusal->message);

          g_error_free (refusal);
          return error;
        }
    }

  if (reply->addresses->len >= KERNEL_MAX_ENDPOINTS)
    {
      GError *error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                                   "The kernel holds at most %u endpoints (%s)",
                                   KERNEL_MAX_ENDPOINTS, refusal->message);

      g_error_free (refusal);
      return error;
    }

  return refusal;
}

static void
advance_add (GTask        *task,
             MptcpNlReply *reply)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  PmOp *op = g_task_get_task_data (task);
  const MptcpNlAddress *found = NULL;
  guint i;

  if (op->refusal != NULL)
    {
      /* the table, read after the kernel refused the endpoint */
      pm_op_return_error (task, classify_add_refusal (op, reply));
      return;
    }

  switch (op->step)
    {
    case 1:
      /* added; the ack carries no id: read the endpoint back as the kernel stored it */
      pm_op_commit (task);
      if (op->id != 0)
        send_by_id (task, MPTCP_PM_CMD_GET_ADDR, op->id);
      else
        send_dump (task);
      break;

    case 2:
      if (op->id != 0)
        found = reply_find_id (reply, op->id);
      else
        {
          for (i = 0; i < reply->addresses->len && found == NULL; i++)
            {
              const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);

              if (nl_address_equal (address, &op->address, TRUE))
                found = address;
            }
        }

      if (found == NULL)
        {
          pm_op_return_error (task, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT,
                                                      "The endpoint was added, but was gone "
                                                      "when it was read back"));
        }
      else if (((found->has_flags ? found->flags : 0) & op->flags) != op->flags)
        {
          /* an older kernel silently dropped a flag it does not know: undo */
          g_autofree char *asked = flags_to_string (op->flags);
          g_autofree char *got = flags_to_string (found->flags);

          op->deferred = g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                                      "The running kernel does not support the endpoint flags "
                                      "asked for (asked %s, got %s)", asked, got);
          send_by_id (task, MPTCP_PM_CMD_DEL_ADDR, found->id);
        }
      else
        pm_op_return_endpoint (task, endpoint_from_nl (self, found));
      break;

    case 3:
      pm_op_return_error (task, g_steal_pointer (&op->deferred));
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
advance_remove_by_address (GTask        *task,
                           MptcpNlReply *reply)
{
  PmOp *op = g_task_get_task_data (task);
  guint id;
  guint i;

  if (op->step == 1)
    {
      op->ids = g_array_new (FALSE, FALSE, sizeof (guint));
      for (i = 0; i < reply->addresses->len; i++)
        {
          const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);

          if (address->has_id && nl_address_equal (address, &op->address, FALSE))
            {
              id = address->id;
              g_array_append_val (op->ids, id);
            }
        }

      if (op->ids->len == 0)
        {
          g_autoptr(GInetAddress) inet = inet_from_nl_address (&op->address);
          g_autofree char *text = g_inet_address_to_string (inet);

          pm_op_return_error (task, g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT,
                                              "No endpoint has the address %s", text));
          return;
        }
    }
  else
    {
      /* one endpoint went away */
      pm_op_commit (task);
    }

  if (op->ids->len == 0)
    {
      pm_op_return_boolean (task);
      return;
    }

  id = g_array_index (op->ids, guint, op->ids->len - 1);
  g_array_set_size (op->ids, op->ids->len - 1);
  send_by_id (task, MPTCP_PM_CMD_DEL_ADDR, id);
}

static void
advance_set_flags (GTask        *task,
                   MptcpNlReply *reply)
{
  PmOp *op = g_task_get_task_data (task);
  const MptcpNlAddress *address;
  MptcpNlRequest request = { 0 };

  if (op->step == 2)
    {
      pm_op_return_boolean (task);
      return;
    }

  address = reply_find_id (reply, op->id);
  if (address == NULL)
    {
      pm_op_return_error (task, no_such_id_error (op->id));
      return;
    }
  if ((op->flags & MPTCP_ENDPOINT_FLAG_FULLMESH) && address->has_flags &&
      (address->flags & MPTCP_ENDPOINT_FLAG_SIGNAL))
    {
      pm_op_return_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                          "Endpoint %u is a signal endpoint: it cannot be "
                                          "fullmesh", op->id));
      return;
    }

  /* by id only: with an address the kernel would select by address */
  request.cmd = MPTCP_PM_CMD_SET_FLAGS;
  request.has_addr = TRUE;
  request.addr.has_id = TRUE;
  request.addr.id = op->id;
  request.addr.has_flags = TRUE;
  request.addr.flags = op->flags;
  pm_op_send (task, &request);
}

static void
advance_get_limits (GTask        *task,
                    MptcpNlReply *reply)
{
  Limits *limits;

  if (!reply->has_limits)
    {
      pm_op_return_error (task, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_FAILED,
                                                  "The kernel's reply held no limits"));
      return;
    }

  limits = g_new0 (Limits, 1);
  limits->subflows = reply->subflows;
  limits->add_addr_accepted = reply->rcv_add_addrs;
  g_task_return_pointer (task, limits, g_free);
  g_object_unref (task);
}

/* Called with the reply of step - 1; takes the reference on task. */
static void
pm_op_advance (GTask        *task,
            MptcpNlReply *reply)
{
  PmOp *op = g_task_get_task_data (task);

  switch (op->kind)
    {
    case PM_OP_LIST:
      advance_list (task, reply);
      break;
    case PM_OP_GET:
      advance_get (task, reply);
      break;
    case PM_OP_ADD:
      advance_add (task, reply);
      break;
    case PM_OP_REMOVE_BY_ADDRESS:
      advance_remove_by_address (task, reply);
      break;
    case PM_OP_SET_FLAGS:
      advance_set_flags (task, reply);
      break;
    case PM_OP_GET_LIMITS:
      advance_get_limits (task, reply);
      break;
    case PM_OP_REMOVE:
    case PM_OP_FLUSH:
    case PM_OP_SET_LIMITS:
      pm_op_return_boolean (task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
pm_op_reply_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  PmOp *op = g_task_get_task_data (task);
  g_autoptr(MptcpNlReply) reply = NULL;
  GError *error = NULL;

  reply = _mptcp_netlink_request_finish (op->netlink, result, &error);
  if (reply == NULL && op->refusal != NULL)
    {
      /* the dump after a refusal failed: the refusal as the kernel said it */
      g_error_free (error);
      pm_op_return_error (task, g_steal_pointer (&op->refusal));
      return;
    }
  if (reply == NULL && op->kind == PM_OP_ADD && op->step == 0 &&
      g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED))
    {
      /* EINVAL without a reason we know: duplicate or full table, on Linux < 6.2 */
      op->refusal = error;
      send_dump (task);
      return;
    }
  if (reply == NULL)
    {
      if (op->deferred != NULL)
        {
          /* undoing failed: say so, with the original reason */
          g_prefix_error (&error, "%s; removing the endpoint again failed: ",
                          op->deferred->message);
        }
      pm_op_return_error (task, error);
      return;
    }

  op->step++;
  pm_op_advance (task, reply);
}

void
_mptcp_pm_op_read_back (GTask *task,
                        guint  id)
{
  PmOp *op = g_task_get_task_data (task);

  op->kind = PM_OP_GET;
  op->id = id;
  op->step = 0;
  pm_op_commit (task);
  pm_op_start (task);
}

/* ---- running operations ------------------------------------------------------------------- */

gboolean
_mptcp_pm_in_own_context (MptcpPathManager *self)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  gboolean same = context == self->context;

  g_main_context_unref (context);
  return same;
}

void
_mptcp_pm_start_async (MptcpPathManager    *self,
             PmOp                  *op,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag,
             const char          *task_name)
{
  GTask *task;

  task = g_task_new (self, cancellable, callback, user_data);
  _mptcp_task_set_tag (task, source_tag, task_name);
  op->netlink = _mptcp_netlink_ref (self->netlink);
  g_task_set_task_data (task, op, pm_op_free);
  pm_op_start (task);
}

/* Runs op with the runner of mptcp-sync-private.h on the object's home; returns the completed
 * task. */
static GTask *
pm_run_sync (MptcpPathManager *self,
          PmOp               *op,
          GCancellable     *cancellable,
          gpointer          source_tag,
          const char       *task_name)
{
  g_autoptr(GTask) task = NULL;
  GAsyncResult *result;
  MptcpSync sync;

  if (!_mptcp_sync_begin (&sync, self->sync_home, NULL))
    g_assert_not_reached ();   /* a home never fails */
  task = g_task_new (self, cancellable, _mptcp_sync_done, &sync);
  _mptcp_task_set_tag (task, source_tag, task_name);
  op->netlink = _mptcp_netlink_ref (sync.broker);
  g_task_set_task_data (task, op, pm_op_free);
  pm_op_start (g_object_ref (task));
  _mptcp_sync_wait (&sync, NULL, NULL);
  result = _mptcp_sync_end (&sync);

  return G_TASK (result);
}

gboolean
_mptcp_pm_run_sync_boolean (MptcpPathManager  *self,
                  PmOp                *op,
                  GCancellable      *cancellable,
                  gpointer           source_tag,
                  const char        *task_name,
                  GError           **error)
{
  g_autoptr(GTask) task = pm_run_sync (self, op, cancellable, source_tag, task_name);

  return g_task_propagate_boolean (task, error);
}

gpointer
_mptcp_pm_run_sync_pointer (MptcpPathManager  *self,
                  PmOp                *op,
                  GCancellable      *cancellable,
                  gpointer           source_tag,
                  const char        *task_name,
                  GError           **error)
{
  g_autoptr(GTask) task = pm_run_sync (self, op, cancellable, source_tag, task_name);

  return g_task_propagate_pointer (task, error);
}

gboolean
_mptcp_pm_check_result (MptcpPathManager *self,
              GAsyncResult     *result,
              gpointer          source_tag)
{
  return g_task_is_valid (result, self) &&
         g_task_get_source_tag (G_TASK (result)) == source_tag;
}
