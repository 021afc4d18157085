/* mptcp-control-open.c: the open state machine of MptcpConnection's control room: telling
 * the new subflow apart from the others between the same addresses, its outcome from the
 * kernel's events and list, and the cleanup of an open that was given up
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>

#include "mptcp-connection.h"
#include "mptcp-connection-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-connection-impl-private.h"
#include "mptcp-control-op-impl-private.h"

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
  _mptcp_control_op_unref (op);
}

static gboolean matches_request (MptcpControlOp *op, const Tuple *tuple);

/* Closes the subflow of an open that was given up (cancelled, timed out),
 * if it exists. */
void
_mptcp_control_open_cleanup (MptcpControlOp *op)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  MptcpNlRequest request;
  guint i;

  if (op->cleanup_done || !op->acked)
    return;
  op->cleanup_done = TRUE;
  if (_mptcp_control_read_kernel (op->conn, kernel) < 0)
    return;
  for (i = 0; i < kernel->len; i++)
    {
      KernelEntry *e = &g_array_index (kernel, KernelEntry, i);

      if (!matches_request (op, &e->tuple))
        continue;

      /* known now: the next open between the addresses excludes it */
      op->tuple = e->tuple;
      op->port_known = TRUE;
      _mptcp_control_open_recount (op);
      _mptcp_control_open_drop_before (op);
      /* its events still to come are no open's: the kernel may give the 4-tuple to the next
       * subflow (no TIME_WAIT after the destroy), which an open identifies from the kernel's
       * list before this one's SUB_CLOSED is read */
      if (op->conn->sub_id != 0)
        _mptcp_conn_stale_add (op->conn, &e->tuple);
      _mptcp_control_request_init (op, &request, MPTCP_PM_CMD_SUBFLOW_DESTROY);
      _mptcp_conn_addr_to_nl (&request.addr, &e->tuple.local);
      request.has_addr = TRUE;
      _mptcp_conn_addr_to_nl (&request.remote, &e->tuple.remote);
      request.has_remote = TRUE;
      op->requests++;
      _mptcp_netlink_request_async (op->netlink, &request,
                                    extra_ro (op->conn)->control_timeout, NULL,
                                    cleanup_done_cb, _mptcp_control_op_ref (op));
      break;
    }
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

      _mptcp_connection_apply (self, &(MptcpConnChange) {
                                 .kind = MPTCP_CONN_CHANGE_SUBFLOWS_UP, .subflow = fresh });
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
  guint8 state = 0;

  return _mptcp_control_kernel_find (op, &state) == 1 && state == MPTCP_TCP_STATE_ESTABLISHED;
}

static void forget_tuple (MptcpControlOp *op, const Tuple *tuple);

/* Whether the kernel lists the op's tuple (in any state but CLOSE). */
static gboolean
kernel_lists (MptcpControlOp *op)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  guint i;

  if (_mptcp_control_read_kernel (op->conn, kernel) < 0)
    return FALSE;
  for (i = 0; i < kernel->len; i++)
    if (_mptcp_conn_tuple_same (&g_array_index (kernel, KernelEntry, i).tuple, &op->tuple))
      return TRUE;
  return FALSE;
}

/* The op's subflow is known (it came back, failed or was cleaned up): the other opens whose
 * port is not known yet must never take its later events (its close, by whoever makes it) for
 * theirs. It joins what they found there before their request. */
void
_mptcp_control_open_pass_on_tuple (MptcpControlOp *op)
{
  GList *l;

  if (!op->port_known || op->conn->extra == NULL)
    return;
  for (l = op->conn->extra->ops; l != NULL; l = l->next)
    {
      MptcpControlOp *other = l->data;

      /* an open whose request has not gone out takes what is there when it goes (the
       * connection's list, or the kernel's: this one's subflow, if it lives, is in both) */
      if (other == op || other->kind != MPTCP_CONTROL_OP_OPEN || other->port_known ||
          other->task == NULL || !other->sent)
        continue;
      if (op->closed_seen)
        {
          /* gone, all its events seen: the kernel may give its 4-tuple (a port freed by a
           * reset, no TIME_WAIT) to the next subflow between the addresses, which must not
           * be excluded as this one; what the other recorded of it goes */
          forget_tuple (other, &op->tuple);
          continue;
        }
      if (other->others == NULL)
        other->others = g_array_new (FALSE, FALSE, sizeof (Tuple));
      g_array_append_val (other->others, op->tuple);
    }
}

/* Whether GTask would defer the op's result to an idle source if it were returned now: in
 * the iteration of the context that made the task (GTask's own rule, from the time it took
 * at g_task_new(), see control_op_new()). */
static gboolean
open_result_would_wait (MptcpControlOp *op)
{
  GSource *current = g_main_current_source ();

  return current == NULL || g_source_get_context (current) != g_task_get_context (op->task) ||
         g_source_get_time (current) <= op->task_born;
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
      _mptcp_control_op_give_up (op, error);
      return;
    }
  if (op->creating && !op->acked && open_result_would_wait (op))
    {
      /* Its SUB_ESTABLISHED came in the main-loop iteration that started the open (on a
       * local link the kernel completes the handshake while it handles SUBFLOW_CREATE, so
       * the event is read in the same dispatch as the one whose handler opened): GTask
       * would return the result from an idle source in the next iteration. The ack is read
       * in that iteration anyway, by the request socket's source (not at the end of this
       * dispatch, where the broker reads queued replies otherwise): the result goes then,
       * without the idle source. */
      op->succeed_at_ack = TRUE;
      _mptcp_netlink_defer_replies (op->netlink);
      return;
    }
  sf = open_subflow_in_list (op);
  task = _mptcp_control_op_steal_task (op);
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
  op->succeeded = TRUE;
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
  op->closed_seen = TRUE;   /* gone: its 4-tuple may come back as another subflow's */
  if ((err == 0 || err == ECONNRESET) && op->port_known)
    {
      /* reset with no error of ours: the peer refused the join, at its SYN or right after
       * the handshake (seen_established()); an in-kernel path manager at its limit of
       * subflows does both, depending on how many joins are on their way */
      g_debug ("The peer reset a new subflow (after its handshake: %s)",
               seen_established (op) ? "yes" : "no");
      _mptcp_control_op_fail (op, peer_refused_error ());
      return;
    }
  if (err != 0)
    _mptcp_control_op_fail (op, g_error_new (G_IO_ERROR, g_io_error_from_errno (err),
                            "The subflow could not be opened: %s", g_strerror (err)));
  else
    _mptcp_control_op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
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

/* The subflow of tuple is gone (its SUB_CLOSED came): op no longer excludes the tuple, and
 * drops the events it recorded of it. A later subflow with the same 4-tuple is another. */
static void
forget_tuple (MptcpControlOp *op,
              const Tuple    *tuple)
{
  guint k;

  for (k = op->before != NULL ? op->before->len : 0; k > 0; k--)
    if (_mptcp_conn_tuple_same (&g_array_index (op->before, KernelEntry, k - 1).tuple, tuple))
      g_array_remove_index (op->before, k - 1);
  for (k = op->others != NULL ? op->others->len : 0; k > 0; k--)
    if (_mptcp_conn_tuple_same (&g_array_index (op->others, Tuple, k - 1), tuple))
      g_array_remove_index (op->others, k - 1);
  for (k = op->early != NULL ? op->early->len : 0; k > 0; k--)
    if (_mptcp_conn_tuple_same (&g_array_index (op->early, EarlyEvent, k - 1).tuple, tuple))
      g_array_remove_index (op->early, k - 1);
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

/* ---- one open at a time whose subflow is not known yet, per address pair ---- */

/* Two opens of port 0 between the same addresses that are in flight at once cannot tell their
 * subflows apart when one of them is gone before the library looked (an in-kernel-PM peer
 * resets the joins past its limit right after the handshake): which open the vanished subflow
 * was is then a guess. So such an open waits until the one before it knows its subflow (its
 * port: from its first event or the kernel's list at its ack) or has ended; the kernel's list
 * then holds at most one new subflow between the addresses, and its events come before those of
 * the next open. The wait is the kernel's own work on the request (its ack), not the handshake.
 * Only among the opens of one broker: an open of a synchronous call must not wait for an
 * asynchronous one whose ack only the main loop it blocks can read. */

static gboolean
same_pair (const MptcpControlOp *a,
           const MptcpControlOp *b)
{
  return _mptcp_sockopt_addr_same_host (&a->tuple.local, &b->tuple.local) &&
         _mptcp_sockopt_addr_equal (&a->tuple.remote, &b->tuple.remote);
}

/* A pending open between op's addresses whose request went out and whose subflow is not known
 * yet; on op's broker only if same_broker. */
static MptcpControlOp *
open_unidentified (MptcpControlOp *op,
                   gboolean        same_broker)
{
  GList *l;

  /* every open this can find is in unidentified (_mptcp_control_open_recount()) */
  for (l = extra_ro (op->conn)->unidentified; l != NULL; l = l->next)
    {
      MptcpControlOp *other = l->data;

      if (other != op && other->kind == MPTCP_CONTROL_OP_OPEN &&
          (other->task != NULL || other->ghost) && other->sent && !other->port_known &&
          (!same_broker || other->netlink == op->netlink) && same_pair (other, op))
        return other;
    }
  return NULL;
}

/* Whether op (about to send its SUBFLOW_CREATE) must wait for another open first; it then
 * goes from _mptcp_control_open_release(). */
gboolean
_mptcp_control_open_must_wait (MptcpControlOp *op)
{
  if (op->port_known || op->sent || open_unidentified (op, TRUE) == NULL)
    return FALSE;
  op->gated = TRUE;
  return TRUE;
}

/* op knows its subflow or has ended: the oldest open waiting behind it goes. */
void
_mptcp_control_open_release (MptcpControlOp *op)
{
  MptcpControlOp *next = NULL;
  GList *l;

  if (op->conn->extra == NULL || op->conn->closed || op->conn->fallback)
    return;   /* closing: the waiting ones end with the connection (_mptcp_conn_end_pending_ops()) */
  /* the list is newest first: from its end, the first one found is the oldest (one address
   * comparison per waiting open was the largest cost that grew with the opens in flight) */
  for (l = g_list_last (op->conn->extra->ops); l != NULL && next == NULL; l = l->prev)
    {
      MptcpControlOp *other = l->data;

      if (other != op && other->kind == MPTCP_CONTROL_OP_OPEN && other->gated &&
          other->task != NULL && other->netlink == op->netlink && same_pair (other, op))
        next = other;
    }
  if (next == NULL || open_unidentified (next, TRUE) != NULL)
    return;
  if (op->port_known && !op->closed_seen)
    {
      /* op's subflow (live, or being closed by a cleanup) is not the next one's, whatever
       * list next takes as what was there before */
      if (next->others == NULL)
        next->others = g_array_new (FALSE, FALSE, sizeof (Tuple));
      g_array_append_val (next->others, op->tuple);
    }
  if (op->acked && !op->port_known && next->early == NULL)
    {
      /* op's subflow, if the kernel made one, was never identified (gone before a cleanup
       * looked) and its events may still be on their way: next must not take the first
       * event between the addresses for its own. An empty list of early events makes it
       * identify its subflow from the kernel's list at its ack */
      next->early = g_array_new (FALSE, FALSE, sizeof (EarlyEvent));
    }
  next->gated = FALSE;
  _mptcp_control_op_ref (next);
  if (g_cancellable_is_cancelled (g_task_get_cancellable (next->task)))
    {
      GError *error = NULL;

      /* cancelled while it waited (its cancel source has not run yet): nothing goes out */
      g_cancellable_set_error_if_cancelled (g_task_get_cancellable (next->task), &error);
      _mptcp_control_op_fail (next, error);
    }
  else
    _mptcp_control_op_send (next);
  _mptcp_control_op_unref (next);
}

/* The ack of a ghost (an open given up with its request on its way): its cleanup finds and
 * closes the subflow the kernel made (if created), then the next open may go. */
void
_mptcp_control_open_ghost_acked (MptcpControlOp *op,
                                 gboolean        created)
{
  op->ghost = FALSE;
  if (created)
    {
      op->acked = TRUE;
      _mptcp_control_open_cleanup (op);
    }
  if (op->conn->extra != NULL && op->listed)
    {
      op->conn->extra->ops = g_list_remove (op->conn->extra->ops, op);
      op->listed = FALSE;
      _mptcp_control_open_recount (op);
    }
  _mptcp_control_open_release (op);
}

/* The op's subflow is tuple: the next open between the addresses may go. */
static void
open_identify (MptcpControlOp *op,
               const Tuple    *tuple)
{
  gboolean was_known = op->port_known;

  op->tuple = *tuple;
  op->port_known = TRUE;
  _mptcp_control_open_recount (op);
  _mptcp_control_open_drop_before (op);   /* it was for telling an unknown subflow apart */
  if (!was_known)
    _mptcp_control_open_release (op);
}

static gboolean
open_poll_cb (gpointer user_data)
{
  g_autoptr(MptcpControlOp) op = _mptcp_control_op_ref (user_data);

  _mptcp_control_open_check_kernel (op);
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
  g_autoptr(MptcpControlOp) op = _mptcp_control_op_ref (user_data);

  op->idle_polls++;
  _mptcp_control_open_check_kernel (op);
  return G_SOURCE_CONTINUE;
}

void
_mptcp_control_open_watch (MptcpControlOp *op)
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
void
_mptcp_control_open_check_kernel (MptcpControlOp *op)
{
  g_autoptr(GArray) kernel = g_array_new (FALSE, FALSE, sizeof (KernelEntry));
  const KernelEntry *found = NULL;
  guint8 err = 0;
  guint i;
  int r;

  if (op->task == NULL)
    return;

  r = _mptcp_control_read_kernel (op->conn, kernel);
  if (r < 0)
    {
      _mptcp_control_op_fail (op, g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                              "The connection closed while the subflow was opened"));
      return;
    }
  if (op->port_known || open_unidentified (op, FALSE) != NULL)
    {
      for (i = 0; i < kernel->len && found == NULL; i++)
        if (matches_request (op, &g_array_index (kernel, KernelEntry, i).tuple))
          found = &g_array_index (kernel, KernelEntry, i);
    }
  else
    {
      /* the only open between the addresses whose subflow is not known: a new one is the
       * newest there (the kernel lists them oldest first), found at the first look when it
       * lives */
      for (i = kernel->len; i > 0 && found == NULL; i--)
        if (matches_request (op, &g_array_index (kernel, KernelEntry, i - 1).tuple))
          found = &g_array_index (kernel, KernelEntry, i - 1);
    }

  if (found != NULL)
    {
      KernelEntry entry = *found;

      op->idle_polls = 0;
      open_identify (op, &entry.tuple);
      if (op->task == NULL)
        return;
      if (entry.state == MPTCP_TCP_STATE_ESTABLISHED || early_outcome (op, &err) > 0)
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
              Tuple closed = ev->tuple;

              open_identify (op, &closed);
              if (op->task == NULL)
                return;
            }
        }
      if (op->port_known && early_outcome (op, &err) < 0)
        {
          open_fail_closed_subflow (op, err);
          return;
        }
      if (_mptcp_control_op_listens (op) && op->idle_polls < OPEN_IDLE_POLLS)
        {
          /* its SUB_CLOSED is on its way; the watch gives up if none comes (with many opens
           * between the same addresses, its events may have been taken for another's) */
          _mptcp_control_open_watch (op);
          return;
        }
      _mptcp_control_op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                              "The subflow failed before it was established (the kernel "
                              "reported no reason the library could read)"));
      return;
    }

  if (!_mptcp_control_op_listens (op) && op->poll == NULL)
    {
      /* no events: watch the list */
      op->poll = g_timeout_source_new (10);
      g_source_set_callback (op->poll, open_poll_cb, op, NULL);
      g_source_attach (op->poll, op->context);
    }
}

void
_mptcp_control_open_on_event (MptcpControlOp     *op,
                              const MptcpNlEvent *event)
{
  Tuple tuple;

  if (event->type == MPTCP_EVENT_CLOSED)
    {
      _mptcp_control_op_fail (op, g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                              "The connection closed while the subflow was opened"));
      return;
    }
  if (event->type != MPTCP_EVENT_SUB_ESTABLISHED && event->type != MPTCP_EVENT_SUB_CLOSED)
    return;

  /* before its request went out (waiting for the open before it), no event is its own */
  if (!op->sent)
    return;
  _mptcp_conn_tuple_from_event (&tuple, event);
  if (event->type == MPTCP_EVENT_SUB_CLOSED && !op->port_known && was_there_before (op, &tuple))
    {
      /* a subflow that was there before ours closed: its 4-tuple is free again */
      forget_tuple (op, &tuple);
      return;
    }
  if (!matches_request (op, &tuple))
    return;
  if (!op->acked && event->type == MPTCP_EVENT_SUB_ESTABLISHED && op->routed &&
      !op->port_known && open_unidentified (op, FALSE) == NULL &&
      _mptcp_conn_find_subflow (op->conn, &tuple) != NULL)
    {
      /* before the ack, and the only open between the addresses whose subflow is not known:
       * a new subflow established there, which the kernel listed when the connection applied
       * this event (in its list now; a stale event's subflow is not), is this op's. It
       * completes now, not after one more wake-up for the ack (which then finds it done) */
      open_identify (op, &tuple);
      op->established_seen = TRUE;
      open_succeed (op);
      return;
    }
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
      open_identify (op, &tuple);
      if (op->task == NULL)
        return;
      op->established_seen = TRUE;
      /* routed: the connection applied this event first, and its list holds the subflow if
       * the kernel listed it then (no second read of the kernel's list) */
      if (op->routed ? _mptcp_conn_find_subflow (op->conn, &op->tuple) != NULL
                     : kernel_has_established (op))
        open_succeed (op);
      return;
    }
  if (op->port_known && !op->established_seen && kernel_lists (op))
    {
      /* known from the kernel's list, and listed still: this SUB_CLOSED is of an earlier
       * subflow with the same 4-tuple (the kernel reuses a port a reset freed at once) */
      return;
    }
  /* the first event of a subflow whose port we did not know yet */
  open_identify (op, &tuple);
  if (op->task == NULL)
    return;
  open_fail_closed_subflow (op, MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_ERROR) ? event->error : 0);
}

/* A netlink overrun while an acked open waits: the events of its subflow may be lost. */
void
_mptcp_control_open_on_overrun (MptcpControlOp *op)
{
  /* look at the kernel */
  int listed;

  if (!op->port_known)
    {
      _mptcp_control_open_check_kernel (op);   /* learns the port, or waits on */
      return;
    }
  listed = _mptcp_control_kernel_find (op, NULL);
  if (listed == 0)
    _mptcp_control_op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                            "The subflow failed before it was established (its "
                            "event was lost in a netlink overrun)"));
  else if (listed == 1)
    _mptcp_control_open_check_kernel (op);
}

/* The kernel took the open's request. */
void
_mptcp_control_open_acked (MptcpControlOp *op)
{
  if (op->task != NULL && op->succeed_at_ack)
    open_succeed (op);   /* its subflow came before the ack, in the open's own iteration */
  else if (op->task == NULL)
    {
      if (!op->succeeded)
        _mptcp_control_open_cleanup (op);   /* given up while the request was on its way */
    }
  else if (_mptcp_control_op_listens (op) && !op->port_known && op->early == NULL &&
           open_unidentified (op, FALSE) == NULL)
    {
      /* the only open between the addresses whose subflow is not known (alone, or the one
       * the others between them wait for): the first event of a new subflow there that
       * no other open claims is ours (_mptcp_control_open_on_event()); the watch looks at
       * the kernel now and then. Reading the kernel's list here instead cost each of 32
       * opens in flight one MPTCP_FULL_INFO read and a scan of its entries against every
       * open (about 26,000 instructions per open, bench-control flight) */
      _mptcp_control_open_watch (op);
    }
  else
    {
      /* among other opens between the same addresses whose subflows are not known (on other
       * brokers: a synchronous call's), the kernel's list says which subflow is ours: it
       * creates them in the order of the requests and lists them oldest first, and the
       * acks come in that order too, so the oldest unclaimed one between the addresses is
       * this op's (taking the first event instead mismatched opens when many were in
       * flight) */
      _mptcp_control_open_check_kernel (op);
      if (op->task != NULL && _mptcp_control_op_listens (op) && !op->port_known)
        _mptcp_control_open_watch (op);
    }
}

/* An empty KernelEntry array: the one an ended open left (_mptcp_control_op_unref()), else a
 * new one for n. */
static GArray *
take_before_array (MptcpConnection *self,
                   guint            n)
{
  if (self->extra != NULL && self->extra->spare_before != NULL)
    return g_steal_pointer (&self->extra->spare_before);
  return g_array_sized_new (FALSE, FALSE, sizeof (KernelEntry), n);
}

/* Before an open's SUBFLOW_CREATE whose local port is not known: what the kernel has
 * already, so that the new subflow is told apart. FALSE when the open failed. */
gboolean
_mptcp_control_open_prepare (MptcpControlOp *op)
{
  MptcpConnection *self = op->conn;

  if (!op->port_known && op->before == NULL && op->routed &&
      open_unidentified (op, FALSE) == NULL)
    {
      /* the connection's list is kept up to date by the same events
       * the op sees: it stands for the kernel's. It lists only
       * established subflows: the half-open ones of other opens between
       * the addresses are claimed by them (their ports are known: no
       * other open there is unidentified); with one that is (on another
       * broker), the kernel is read */
      GPtrArray *items = self->subflows->items;
      guint k;

      op->before = take_before_array (self, items->len);
      g_array_set_size (op->before, items->len);   /* filled in place: no append per entry */
      for (k = 0; k < items->len; k++)
        {
          MptcpSubflow *sf = g_ptr_array_index (items, k);
          KernelEntry *e = &g_array_index (op->before, KernelEntry, k);

          e->tuple.local = sf->local_raw;
          e->tuple.remote = sf->remote_raw;
          e->tuple.local.scope_id = 0;
          e->tuple.remote.scope_id = 0;
          e->state = MPTCP_TCP_STATE_ESTABLISHED;
        }
    }
  else if (!op->port_known && op->before == NULL)
    {
      op->before = take_before_array (self, 0);
      if (_mptcp_control_read_kernel (self, op->before) < 0)
        {
          _mptcp_control_op_fail (op, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                                   "The connection is closed"));
          return FALSE;
        }
    }
  return TRUE;
}
