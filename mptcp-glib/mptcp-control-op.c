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
#include "mptcp-connection-service-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-info-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-hangup-watch-private.h"
#include "mptcp-sync-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-connection-impl-private.h"
#include "mptcp-connection-token-private.h"
#include "mptcp-control-op-private.h"

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
void
_mptcp_conn_end_pending_ops (MptcpConnection *self,
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
            _mptcp_conn_set_fallback_error (&error);
          else
            _mptcp_conn_set_closed_error (&error);
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
      _mptcp_conn_addr_to_nl (&request.addr, &e->tuple.local);
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &e->tuple.remote);
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
        _mptcp_conn_remove_with_signal (op->conn, op->subflow, 0, 0);
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
  MptcpSubflow *sf = _mptcp_conn_find_subflow (self, &op->tuple);

  if (sf == NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!_mptcp_conn_resync (self, &error))
        g_debug ("Could not list the subflows: %s", error->message);
      sf = _mptcp_conn_find_subflow (self, &op->tuple);
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

      if (_mptcp_conn_tuple_same (&e->tuple, &op->tuple))
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

      if (ev->type == MPTCP_EVENT_SUB_ESTABLISHED &&
          _mptcp_conn_tuple_same (&ev->tuple, &op->tuple))
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
          _mptcp_conn_tuple_same (&other->tuple, tuple))
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
    if (_mptcp_conn_tuple_same (&g_array_index (op->before, KernelEntry, k).tuple, tuple))
      return TRUE;
  for (k = 0; op->others != NULL && k < op->others->len; k++)
    if (_mptcp_conn_tuple_same (&g_array_index (op->others, Tuple, k), tuple))
      return TRUE;
  return FALSE;
}

static gboolean
matches_request (MptcpControlOp *op,
                 const Tuple    *tuple)
{
  if (op->port_known)
    return _mptcp_conn_tuple_same (tuple, &op->tuple);
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

      if (!_mptcp_conn_tuple_same (&ev->tuple, &op->tuple))
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

  _mptcp_conn_tuple_from_event (&tuple, event);
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
      if (op->subflow != NULL)
        _mptcp_conn_remove_with_signal (op->conn, op->subflow,
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
    _mptcp_conn_apply_event (conn, event);
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
    _mptcp_conn_on_overrun (op->conn);
  control_op_handle_overrun (op);
  control_op_unref (op);
}

/* The ops the connection's subscription feeds, referenced (a handler may
 * end any of them). */
GPtrArray *
_mptcp_conn_routed_ops (MptcpConnection *self)
{
  GPtrArray *ops = g_ptr_array_new_with_free_func ((GDestroyNotify) control_op_unref);
  GList *l;

  for (l = extra_ro (self)->event_ops; l != NULL; l = l->next)
    g_ptr_array_add (ops, control_op_ref (l->data));
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
                listed = _mptcp_conn_tuple_same (&g_array_index (kernel, KernelEntry, i).tuple,
                                                 &op->tuple);
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
              listed = _mptcp_conn_tuple_same (&g_array_index (kernel, KernelEntry, i).tuple,
                                               &op->tuple);
          if (!listed)
            {
              close_note_stale (op);
              if (op->subflow != NULL)
                _mptcp_conn_remove_with_signal (op->conn, op->subflow, 0, 0);
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
  _mptcp_conn_mark_fallback (self);
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
           _mptcp_conn_find_subflow (op->conn, &op->tuple) == NULL))
        {
          close_note_stale (op);
          if (op->subflow != NULL)
            _mptcp_conn_remove_with_signal (op->conn, op->subflow, 0, 0);
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
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
      request.addr.id = op->id;
      request.addr.has_id = TRUE;
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_CLOSE:
      request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_DESTROY);
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &op->tuple.remote);
      request.has_remote = TRUE;
      break;

    case MPTCP_CONTROL_OP_BACKUP:
      request_init (op, &request, MPTCP_PM_CMD_SET_FLAGS);
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
          control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                           "All 255 local address ids of the connection "
                           "are in use"));
          return;
        }
      request_init (op, &request, MPTCP_PM_CMD_ANNOUNCE);
      _mptcp_conn_addr_to_nl (&request.addr, &op->tuple.local);
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

/* An address usable for a host, as a raw address. */
gboolean
_mptcp_control_host_address (MptcpConnection    *self,
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
  if (!_mptcp_conn_native_address (G_SOCKET_ADDRESS (address), raw, &local_error))
    {
      text = g_inet_address_to_string (ia);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "Unusable %s address %s: %s", what, text, local_error->message);
      return FALSE;
    }
  raw->scope_id = 0;
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
_mptcp_control_op_run_sync (MptcpConnection   *self,
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

void
_mptcp_control_op_start_async (MptcpConnection    *self,
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
