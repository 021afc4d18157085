/* mptcp-control-op.c: the control machine of MptcpConnection: the address-id table, the ops,
 * their timeouts and cancellation, and the runners of the public calls
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
#include "mptcp-control-op-impl-private.h"

/* ---- control: open, close, backup, announce, remove ---- */

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

/* Where id is in the table, -1 if it is not. */
static gint
ids_index_of (MptcpConnection *self,
              guint8           id)
{
  guint i;

  for (i = 0; extra_ro (self)->ids != NULL && i < self->extra->ids->len; i++)
    if (g_array_index (self->extra->ids, IdEntry, i).id == id)
      return (gint) i;
  return -1;
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
  for (id = 1; id <= 255 && ids_index_of (self, id) >= 0; id++)
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
  gint i = ids_index_of (self, id);

  if (i >= 0)
    g_array_remove_index (self->extra->ids, i);
}

/* The kernel refused id for our address: someone else holds it. Our entry for it becomes a
 * placeholder of no address, which keeps the id taken. */
static void
ids_reserve_foreign (MptcpConnection *self,
                     guint8           id)
{
  gint i = ids_index_of (self, id);

  if (i >= 0)
    memset (&g_array_index (self->extra->ids, IdEntry, i).addr, 0, sizeof (MptcpSockoptAddr));
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

      _mptcp_conn_addr_from_nl (&e.addr, a.family, &a.addr, a.port);
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

/* Reads the kernel's subflows (all states but CLOSE) into out. */
int
_mptcp_control_read_kernel (MptcpConnection *self,
                            GArray          *out)
{
  MptcpSockoptList *kl = _mptcp_conn_scratch_list ();
  guint i;
  int r;

  g_array_set_size (out, 0);
  if (self->closed || (self->socket != NULL && g_socket_is_closed (self->socket)))
    return -EBADF;
  /* the scratch list: nothing here runs user code while it is read */
  if (self->socket == NULL)                 /* mptcp_connection_new_for_token() */
    r = _mptcp_conn_token_read_list (self, kl);
  else
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

/* Whether the kernel lists the op's tuple: 1 (its state in *state if not NULL), 0 not, -1 the
 * list could not be read. */
int
_mptcp_control_kernel_find (MptcpControlOp *op,
                            guint8         *state)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  guint i;

  if (_mptcp_control_read_kernel (op->conn, kernel) < 0)
    return -1;
  for (i = 0; i < kernel->len; i++)
    {
      KernelEntry *e = &g_array_index (kernel, KernelEntry, i);

      if (_mptcp_conn_tuple_same (&e->tuple, &op->tuple))
        {
          if (state != NULL)
            *state = e->state;
          return 1;
        }
    }
  return 0;
}

MptcpControlOp *
_mptcp_control_op_ref (MptcpControlOp *op)
{
  g_atomic_int_inc (&op->ref_count);
  return op;
}

void
_mptcp_control_op_unref (MptcpControlOp *op)
{
  if (!g_atomic_int_dec_and_test (&op->ref_count))
    return;
  g_assert (op->task == NULL && op->sub_id == 0 && !op->routed && op->timeout == NULL &&
            op->cancel_source == NULL && op->poll == NULL);
  _mptcp_control_open_drop_before (op);
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
  if (op->conn->extra != NULL && !op->ghost && op->listed)
    {
      op->conn->extra->ops = g_list_remove (op->conn->extra->ops, op);
      op->listed = FALSE;
      _mptcp_control_open_recount (op);
    }
}

gboolean
_mptcp_control_check_unidentified (MptcpConnection *self)
{
  const ConnectionExtra *x = extra_ro (self);
  guint n = 0;
  GList *l;

  for (l = x->ops; l != NULL; l = l->next)
    {
      MptcpControlOp *op = l->data;
      gboolean should = op->kind == MPTCP_CONTROL_OP_OPEN && op->sent && !op->port_known;

      if (!op->listed || op->counted != should)
        return FALSE;
      if (should && g_list_find (x->unidentified, op) == NULL)
        return FALSE;
      n += should;
    }
  return n == g_list_length (x->unidentified);
}

/* Takes the task to return it; drops the reference the pending op held on
 * itself (the caller holds one). */
GTask *
_mptcp_control_op_steal_task (MptcpControlOp *op)
{
  GTask *task = g_steal_pointer (&op->task);

  if (task != NULL)
    {
      if (op->kind == MPTCP_CONTROL_OP_OPEN)
        {
          _mptcp_control_open_pass_on_tuple (op);
          /* given up before its subflow was known, with the request on its way: the next
           * open between the addresses must not go (nor take that subflow for its own) until
           * the ack tells (_mptcp_control_open_ghost_acked()) */
          op->ghost = op->creating && !op->port_known;
        }
      control_op_detach (op);
      if (op->kind == MPTCP_CONTROL_OP_OPEN && !op->ghost)
        _mptcp_control_open_release (op);
      _mptcp_control_op_unref (op);
    }
  return task;
}

void
_mptcp_control_op_fail (MptcpControlOp *op,
                        GError         *error)
{
  g_autoptr(GTask) task = _mptcp_control_op_steal_task (op);

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
  g_autoptr(GTask) task = _mptcp_control_op_steal_task (op);

  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
control_op_return_id (MptcpControlOp *op)
{
  g_autoptr(GTask) task = _mptcp_control_op_steal_task (op);

  if (task != NULL)
    g_task_return_int (task, op->id);
}

/* The connection ended (closed, or fell back to TCP) without the events that would end its
 * pending operations (a peer's reset sends no CLOSED): they end now, not at their timeout.
 * A close has nothing left to close. */
void
_mptcp_conn_end_pending_ops (MptcpConnection *self,
                             gboolean         fallback)
{
  GList *ops, *l;

  if (extra_ro (self)->ops == NULL)
    return;
  ops = g_list_copy_deep (self->extra->ops, (GCopyFunc) (void (*) (void)) _mptcp_control_op_ref, NULL);
  for (l = ops; l != NULL; l = l->next)
    {
      MptcpControlOp *op = l->data;
      GError *error = NULL;

      if (op->kind == MPTCP_CONTROL_OP_CLOSE)
        control_op_return_boolean (op);
      else
        {
          if (fallback)
            _mptcp_conn_set_fallback_error (&error);
          else
            _mptcp_conn_set_closed_error (&error);
          _mptcp_control_op_fail (op, error);
        }
    }
  g_list_free_full (ops, (GDestroyNotify) _mptcp_control_op_unref);
}

static void send_request (MptcpControlOp *op, const MptcpNlRequest *request,
                          MptcpNlReplyFunc callback);
static void control_op_on_event (const MptcpNlEvent *event, gpointer user_data);
static void control_op_on_overrun (gpointer user_data);

/* Whether the kernel's events about the connection reach the op. */
gboolean
_mptcp_control_op_listens (MptcpControlOp *op)
{
  return op->sub_id != 0 || op->routed;
}
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

void
_mptcp_control_request_init (MptcpControlOp *op,
                             MptcpNlRequest *request,
                             guint8          cmd)
{
  memset (request, 0, sizeof *request);
  request->cmd = cmd;
  request->token = op->conn->token;
  request->has_token = TRUE;
}

void
_mptcp_control_op_give_up (MptcpControlOp *op,
                           GError         *error)
{
  if (op->kind == MPTCP_CONTROL_OP_OPEN)
    _mptcp_control_open_cleanup (op);
  _mptcp_control_op_fail (op, error);
}

/* A close's subflow is gone: the op reports it to the connection. */
static void
report_closed (MptcpControlOp *op,
               int             error,
               guint           reset_reason)
{
  if (op->subflow != NULL)
    _mptcp_connection_apply (op->conn, &(MptcpConnChange) {
                               .kind = MPTCP_CONN_CHANGE_SUBFLOWS_DOWN, .subflow = op->subflow,
                               .error = error, .reset_reason = reset_reason });
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_autoptr(MptcpControlOp) op = _mptcp_control_op_ref (user_data);

  if (op->kind == MPTCP_CONTROL_OP_CLOSE && op->acked)
    {
      /* the kernel took the request but we never heard the subflow close */
      report_closed (op, 0, 0);
      control_op_return_boolean (op);
      return G_SOURCE_REMOVE;
    }
  if (op->kind == MPTCP_CONTROL_OP_OPEN && op->acked)
    _mptcp_control_op_give_up (op, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "The kernel took the request, but reported no outcome of the "
                               "new subflow within %u ms (MptcpConnection:control-timeout; "
                               "port %s, established %s)",
                               extra_ro (op->conn)->control_timeout,
                               op->port_known ? "known" : "unknown",
                               op->established_seen ? "seen" : "not seen"));
  else
    _mptcp_control_op_give_up (op, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
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
  g_autoptr(MptcpControlOp) op = _mptcp_control_op_ref (user_data);
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  _mptcp_control_op_give_up (op, error);
  return G_SOURCE_REMOVE;
}

/* ---- close ---- */

/* A close that ran on a broker of its own (a synchronous call) while the connection listens on
 * another one: the events of the closed subflow are still to come there. */
static void
close_note_stale (MptcpControlOp *op)
{
  if (op->conn->sub_id != 0 && op->netlink != op->conn->netlink)
    _mptcp_conn_stale_add (op->conn, &op->tuple);
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
  _mptcp_conn_tuple_from_event (&tuple, event);
  if (!_mptcp_conn_tuple_same (&tuple, &op->tuple))
    return;
  op->closed_seen = TRUE;
  if (op->acked)
    {
      /* gone from the list before the result (a no-op when the connection's own
       * subscription applied the event first) */
      close_note_stale (op);
      report_closed (op, MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_ERROR) ? event->error : 0,
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
        _mptcp_control_open_on_event (op, event);
      else if (op->kind == MPTCP_CONTROL_OP_CLOSE)
        close_on_event (op, event);
    }
}

static void
control_op_on_event (const MptcpNlEvent *event,
                     gpointer            user_data)
{
  MptcpControlOp *op = _mptcp_control_op_ref (user_data);
  MptcpConnection *conn = g_object_ref (op->conn);

  if (control_op_drives_connection (op))
    _mptcp_conn_apply_event (conn, event);
  control_op_handle_event (op, event);
  g_object_unref (conn);
  _mptcp_control_op_unref (op);
}

static void control_op_handle_overrun (MptcpControlOp *op);

static void
control_op_on_overrun (gpointer user_data)
{
  MptcpControlOp *op = _mptcp_control_op_ref (user_data);

  if (control_op_drives_connection (op))
    _mptcp_conn_on_overrun (op->conn);
  control_op_handle_overrun (op);
  _mptcp_control_op_unref (op);
}

/* The ops the connection's subscription feeds that an event of type (-1: an overrun)
 * concerns, referenced (a handler may end any of them); NULL if none. Only opens and closes
 * are fed (control_op_start()), and what control_op_handle_event() and
 * control_op_handle_overrun() read: CLOSED, SUB_ESTABLISHED (opens only), SUB_CLOSED and
 * overruns. Most of a connection's events (ESTABLISHED, ANNOUNCED, a subflow's priority...)
 * concern none, and make no snapshot. */
GPtrArray *
_mptcp_conn_routed_ops (MptcpConnection *self,
                        int              type,
                        const Tuple     *tuple)
{
  GPtrArray *ops = NULL;
  GList *l;

  if (type >= 0 && type != MPTCP_EVENT_CLOSED && type != MPTCP_EVENT_SUB_ESTABLISHED &&
      type != MPTCP_EVENT_SUB_CLOSED)
    return NULL;
  for (l = extra_ro (self)->event_ops; l != NULL; l = l->next)
    {
      MptcpControlOp *op = l->data;

      if (op->task == NULL ||
          (type == MPTCP_EVENT_SUB_ESTABLISHED && op->kind != MPTCP_CONTROL_OP_OPEN))
        continue;
      /* an open whose request has not gone out (it waits for the one before it between the
       * same addresses) takes no subflow event (_mptcp_control_open_on_event()): with many
       * opens in flight, most of them */
      if (op->kind == MPTCP_CONTROL_OP_OPEN && !op->sent &&
          (type == MPTCP_EVENT_SUB_ESTABLISHED || type == MPTCP_EVENT_SUB_CLOSED))
        continue;
      /* a close takes only the SUB_CLOSED of its own subflow (close_on_event()): with many
       * closes in flight, each SUB_CLOSED went to all of them */
      if (op->kind == MPTCP_CONTROL_OP_CLOSE && type == MPTCP_EVENT_SUB_CLOSED &&
          tuple != NULL && !_mptcp_conn_tuple_same (tuple, &op->tuple))
        continue;
      if (ops == NULL)
        ops = g_ptr_array_new_with_free_func ((GDestroyNotify) _mptcp_control_op_unref);
      g_ptr_array_add (ops, _mptcp_control_op_ref (op));
    }
  return ops;
}

void
_mptcp_conn_route_event (GPtrArray          *ops,
                         const MptcpNlEvent *event)
{
  guint i;

  for (i = 0; i < ops->len; i++)
    control_op_handle_event (g_ptr_array_index (ops, i), event);
}

void
_mptcp_conn_route_overrun (GPtrArray *ops)
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
        _mptcp_control_open_on_overrun (op);
      else if (op->kind == MPTCP_CONTROL_OP_CLOSE)
        {
          /* not listed (or no list to read): gone */
          if (_mptcp_control_kernel_find (op, NULL) != 1)
            {
              close_note_stale (op);
              report_closed (op, 0, 0);
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
                                 callback, _mptcp_control_op_ref (op));
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

static void ids_own_loaded_cb (MptcpNlReply *reply, GError *error, gpointer user_data);
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
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_GET_ADDR);
      request.dump = TRUE;
      send_request (op, &request, ids_own_loaded_cb);
      return;
    }
  op->requests++;
  x->ids_waiters = g_list_append (x->ids_waiters, _mptcp_control_op_ref (op));
  if (x->ids_loading != NULL)
    return;
  x->ids_loading = op->netlink;
  _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_GET_ADDR);
  request.dump = TRUE;
  _mptcp_netlink_request_direct (op->netlink, &request, x->control_timeout,
                                 ids_shared_loaded_cb, g_object_ref (self));
}

/* A GET_ADDR of the connection is done: the table takes the kernel's list, then the ops that
 * waited for it go on, in the order they came. Takes the list and the ops' references. */
static void
ids_loaded (MptcpConnection    *self,
            GList              *waiters,
            const MptcpNlReply *reply,
            const GError       *error)
{
  GList *l;

  if (reply != NULL)
    ids_load (self, reply);
  for (l = waiters; l != NULL; l = l->next)
    {
      MptcpControlOp *op = l->data;

      op->requests--;
      if (op->task == NULL)
        continue;
      if (reply == NULL)
        _mptcp_control_op_fail (op, kernel_refusal (op, g_error_copy (error)));
      else
        control_op_send (op);
    }
  g_list_free_full (waiters, (GDestroyNotify) _mptcp_control_op_unref);
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
  GList *waiters = g_steal_pointer (&x->ids_waiters);

  x->ids_loading = NULL;
  ids_loaded (self, waiters, reply, error);
  g_object_unref (self);
}

/* An op's own load is done: user_data is the op. */
static void
ids_own_loaded_cb (MptcpNlReply *reply_in,
                   GError       *error_in,
                   gpointer      user_data)
{
  MptcpControlOp *op = user_data;
  g_autoptr(MptcpNlReply) reply = reply_in;
  g_autoptr(GError) error = error_in;

  ids_loaded (op->conn, g_list_prepend (NULL, op), reply, error);
}

/* The kernel refused an op's request: if the connection fell back to TCP since
 * the library last looked, that is the reason to give. */
static GError *
kernel_refusal (MptcpControlOp *op,
                GError         *error)
{
  MptcpConnection *self = op->conn;
  GError *fallback = NULL;

  if (self->socket == NULL)                 /* mptcp_connection_new_for_token() */
    return error;
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
  _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_FALLBACK);
  g_error_free (error);
  _mptcp_conn_set_fallback_error (&fallback);
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
  op->creating = FALSE;
  if (op->ghost)
    {
      _mptcp_control_open_ghost_acked (op, reply != NULL);
      _mptcp_control_op_unref (op);
      return;
    }

  if (reply == NULL && op->kind == MPTCP_CONTROL_OP_OPEN && op->succeed_at_ack)
    {
      /* its subflow is established (its SUB_ESTABLISHED came): the reply was lost */
      _mptcp_control_open_acked (op);
      _mptcp_control_op_unref (op);
      return;
    }
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
          _mptcp_control_op_unref (op);
          return;
        }
      if (op->kind == MPTCP_CONTROL_OP_OPEN)
        op->conn->ids_loaded = FALSE;  /* the kernel drops entries on failed creates */
      _mptcp_control_op_fail (op, kernel_refusal (op, g_steal_pointer (&error)));
      _mptcp_control_op_unref (op);
      return;
    }

  op->acked = TRUE;
  switch (op->kind)
    {
    case MPTCP_CONTROL_OP_OPEN:
      _mptcp_control_open_acked (op);
      break;
    case MPTCP_CONTROL_OP_CLOSE:
      if (op->task != NULL &&
          (op->closed_seen || !_mptcp_control_op_listens (op) ||
           _mptcp_conn_find_subflow (op->conn, &op->tuple) == NULL))
        {
          close_note_stale (op);
          report_closed (op, 0, 0);
          control_op_return_boolean (op);
        }
      break;
    case MPTCP_CONTROL_OP_BACKUP:
      /* the kernel applied it, even if the caller gave up meanwhile */
      _mptcp_connection_apply (op->conn, &(MptcpConnChange) {
                                 .kind = MPTCP_CONN_CHANGE_BACKUP, .subflow = op->subflow,
                                 .backup = op->backup });
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
  /* still waiting (an open or a close for its events): from now on the op's timeout */
  if (op->task != NULL && op->timeout == NULL)
    control_op_arm_timeout (op);
  _mptcp_control_op_unref (op);
}

/* Sends the op's command (the address ids are known by now); an open may have to wait for
 * the one before it (_mptcp_control_open_must_wait()). */
static void
control_op_send (MptcpControlOp *op)
{
  MptcpConnection *self = op->conn;
  MptcpNlRequest request;

  switch (op->kind)
    {
    case MPTCP_CONTROL_OP_OPEN:
      if (_mptcp_control_open_must_wait (op))
        return;
      op->id = ids_get (self, &op->tuple.local);
      if (op->id == 0)
        {
          _mptcp_control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                                  "All 255 local address ids of the connection "
                                  "are in use"));
          return;
        }
      if (!_mptcp_control_open_prepare (op))
        return;
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_CREATE);
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.id = op->id;
      request.addr.has_id = TRUE;
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      op->sent = TRUE;
      op->creating = TRUE;
      _mptcp_control_open_recount (op);
      break;

    case MPTCP_CONTROL_OP_CLOSE:
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_DESTROY);
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_BACKUP:
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_SET_FLAGS);
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.flags = op->backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
      request.addr.has_flags = TRUE;
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_ANNOUNCE:
      op->id = ids_get (self, &op->tuple.local);
      if (op->id == 0)
        {
          _mptcp_control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                                  "All 255 local address ids of the connection "
                                  "are in use"));
          return;
        }
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_ANNOUNCE);
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.id = op->id;
      request.addr.has_id = TRUE;
      request.addr.flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
      request.addr.has_flags = TRUE;
      request.has_addr = TRUE;
      break;

    case MPTCP_CONTROL_OP_REMOVE:
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_REMOVE);
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

  _mptcp_control_op_ref (op);   /* held while the task is pending, dropped by _mptcp_control_op_steal_task() */
  /* cancelled already: nothing goes to the kernel (a cancel source would only fire after
   * the request left) */
  if (g_cancellable_set_error_if_cancelled (cancellable, &cancelled))
    {
      _mptcp_control_op_fail (op, cancelled);
      return;
    }
  {
    ConnectionExtra *x = extra_get (self);

    x->ops = g_list_prepend (x->ops, op);
    op->listed = TRUE;
    _mptcp_control_open_recount (op);
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

  /* no timeout of the op's own yet: until the ack, the broker's deadline for the request
   * (the same control-timeout) bounds it; the op's timeout starts at the ack, for what it
   * then waits for (control_op_done_cb()). Most ops end at their ack or before: a GSource
   * less to make, attach and destroy on the way from a call to its result */

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
control_op_new (MptcpConnection        *self,
                const MptcpControlArgs *args,
                MptcpNetlink           *netlink,
                GTask                  *task)
{
  MptcpControlOp *op = g_new0 (MptcpControlOp, 1);

  op->ref_count = 1;
  op->kind = args->kind;
  op->conn = g_object_ref (self);
  op->netlink = _mptcp_netlink_ref (netlink);
  op->context = g_main_context_ref_thread_default ();
  op->task = g_object_ref (task);
  {
    /* as g_task_new() takes it: GTask returns a result at once only in a later iteration
     * of the context than the one it was made in */
    GSource *current = g_main_current_source ();

    op->task_born = current != NULL ? g_source_get_time (current) : g_get_monotonic_time ();
  }
  if (args->tuple != NULL)
    op->tuple = *args->tuple;
  op->port_known = args->port_known;
  op->id = args->id;
  op->backup = args->backup;
  if (args->subflow != NULL)
    op->subflow = g_object_ref (args->subflow);
  return op;
}

/* ---- argument checks ---- */

gboolean
_mptcp_control_check_usable (MptcpConnection *self,
                             GError         **error)
{
  if (self->closed || (self->socket != NULL && g_socket_is_closed (self->socket)))
    {
      _mptcp_conn_set_closed_error (error);
      return FALSE;
    }
  /* what the library knows: a fallback it has not seen yet makes the kernel refuse the
   * request, and kernel_refusal() then asks the socket (a getsockopt per operation cost
   * more than the rest of the argument checks) */
  if (self->fallback || self->token == 0)
    {
      _mptcp_conn_set_fallback_error (error);
      return FALSE;
    }
  return TRUE;
}

/* An address usable for a host, as a raw address. The checks read the address's bytes
 * (a v4-mapped IPv6 address as the IPv4 address it carries, as the kernel would); the text
 * is formatted only for an error. */
gboolean
_mptcp_control_host_address (MptcpConnection    *self,
                             GInetSocketAddress *address,
                             const char         *what,
                             MptcpSockoptAddr   *raw,
                             GError            **error)
{
  GInetAddress *ia = g_inet_socket_address_get_address (address);
  g_autofree char *text = NULL;

  if (!_mptcp_sockopt_addr_from_inet (raw, ia, g_inet_socket_address_get_port (address)))
    {
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "Unusable %s address %s: neither IPv4 nor IPv6", what, text);
      return FALSE;
    }
  switch (_mptcp_sockopt_addr_kind (raw))
    {
    case MPTCP_SOCKOPT_ADDR_UNSPECIFIED:
    case MPTCP_SOCKOPT_ADDR_MULTICAST:
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "The %s address %s does not name a host", what, text);
      return FALSE;
    case MPTCP_SOCKOPT_ADDR_BROADCAST:   /* not refused here before: the kernel says */
    case MPTCP_SOCKOPT_ADDR_UNICAST:
    default:
      break;
    }
  if (raw->family == AF_INET6 && self->socket != NULL &&
      g_socket_get_family (self->socket) == G_SOCKET_FAMILY_IPV4)
    {
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "The %s address %s is IPv6, but the connection is IPv4: an IPv4 "
                   "connection cannot carry IPv6 subflows", what, text);
      return FALSE;
    }
  return TRUE;
}

/* ---- the subflow's operations: close, set_backup ---- */

/* The subflow's tuple, when its connection is there, usable and lists it. */
static gboolean
check_subflow (MptcpConnection  *self,
               MptcpSubflow     *subflow,
               Tuple            *tuple,
               GError          **error)
{
  if (self == NULL)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                           "No such subflow: its connection is gone");
      return FALSE;
    }
  if (self->closed)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_SUBFLOW,
                           "No such subflow: the connection is closed");
      return FALSE;
    }
  if (!_mptcp_control_check_usable (self, error))
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

/* What a subflow's close or backup change asks for (tuple: its checked ends). */
static MptcpControlArgs
subflow_args (MptcpSubflow   *subflow,
              MptcpSubflowOp  op,
              gboolean        backup,
              const Tuple    *tuple,
              GCancellable   *cancellable,
              gpointer        source_tag,
              const char     *task_name)
{
  return (MptcpControlArgs) {
    .kind = op == MPTCP_SUBFLOW_OP_CLOSE ? MPTCP_CONTROL_OP_CLOSE : MPTCP_CONTROL_OP_BACKUP,
    .source_object = subflow,
    .tuple = tuple,
    .port_known = TRUE,
    .backup = !!backup,
    .subflow = subflow,
    .cancellable = cancellable,
    .source_tag = source_tag,
    .task_name = task_name,
  };
}

void
_mptcp_control_subflow_start (MptcpSubflow        *subflow,
                              MptcpSubflowOp       op,
                              gboolean             backup,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data,
                              gpointer             source_tag,
                              const char          *task_name)
{
  g_autoptr(MptcpConnection) self = mptcp_subflow_dup_connection (subflow);
  GError *error = NULL;
  Tuple tuple;
  MptcpControlArgs args;

  g_return_if_fail (self == NULL || _mptcp_conn_in_own_thread (self));

  if (!check_subflow (self, subflow, &tuple, &error))
    {
      g_task_report_error (subflow, callback, user_data, source_tag, error);
      return;
    }
  args = subflow_args (subflow, op, backup, &tuple, cancellable, source_tag, task_name);
  _mptcp_control_op_start_async (self, &args, callback, user_data);
}

gboolean
_mptcp_control_subflow_run (MptcpSubflow   *subflow,
                            MptcpSubflowOp  op,
                            gboolean        backup,
                            GCancellable   *cancellable,
                            gpointer        source_tag,
                            const char     *task_name,
                            GError        **error)
{
  g_autoptr(MptcpConnection) self = mptcp_subflow_dup_connection (subflow);
  g_autoptr(GAsyncResult) result = NULL;
  Tuple tuple;
  MptcpControlArgs args;

  g_return_val_if_fail (self == NULL || _mptcp_conn_in_own_thread (self), FALSE);

  if (!check_subflow (self, subflow, &tuple, error))
    return FALSE;
  args = subflow_args (subflow, op, backup, &tuple, cancellable, source_tag, task_name);
  result = _mptcp_control_op_run_sync (self, &args, error);
  if (result == NULL)
    return FALSE;
  return g_task_propagate_boolean (G_TASK (result), error);
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
GAsyncResult *
_mptcp_control_op_run_sync (MptcpConnection        *self,
                            const MptcpControlArgs *args,
                            GError                **error)
{
  GTask *task;
  MptcpSync sync;
  MptcpControlOp *op;

  if (_mptcp_connection_service_wanted (self))
    return _mptcp_connection_service_run (self, args);
  if (!_mptcp_sync_begin (&sync, NULL, error))
    return NULL;
  task = g_task_new (args->source_object, args->cancellable, _mptcp_sync_done, &sync);
  _mptcp_task_set_tag (task, args->source_tag, args->task_name);
  op = control_op_new (self, args, sync.broker, task);
  _mptcp_control_op_ref (op);
  control_op_start (op, args->cancellable);
  _mptcp_sync_wait (&sync, control_op_busy, op);
  _mptcp_control_op_unref (op);
  _mptcp_control_op_unref (op);
  g_object_unref (task);
  return _mptcp_sync_end (&sync);
}

void
_mptcp_control_op_start_async (MptcpConnection        *self,
                               const MptcpControlArgs *args,
                               GAsyncReadyCallback     callback,
                               gpointer                user_data)
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
      _mptcp_connection_service_start (self, args, callback, user_data);
      if (from_sync)
        g_main_context_pop_thread_default (self->context);
      return;
    }
  if (from_sync)
    g_main_context_push_thread_default (self->context);
  task = g_task_new (args->source_object, args->cancellable, callback, user_data);
  _mptcp_task_set_tag (task, args->source_tag, args->task_name);
  netlink = caller_netlink (self, &error);
  if (netlink == NULL)
    {
      g_task_return_error (task, error);
      if (from_sync)
        g_main_context_pop_thread_default (self->context);
      return;
    }
  op = control_op_new (self, args, netlink, task);
  control_op_start (op, args->cancellable);
  _mptcp_control_op_unref (op);
  if (from_sync)
    g_main_context_pop_thread_default (self->context);
}

/* An open that waited for the one before it goes (mptcp-control-open.c). */
void
_mptcp_control_op_send (MptcpControlOp *op)
{
  control_op_send (op);
}
