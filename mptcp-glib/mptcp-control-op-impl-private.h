/* mptcp-control-op-impl-private.h: the op of MptcpConnection's control room, shared by
 * mptcp-control-op.c (the id table, the op's life, requests, timeouts, cancellation, the
 * runners) and mptcp-control-open.c (the open state machine)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-control-op-impl-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection-impl-private.h"
#include "mptcp-control-op-private.h"
#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

/* A live subflow of the kernel's list, for the opens. */
typedef struct
{
  Tuple tuple;
  guint8 state;
} KernelEntry;

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
  gboolean closed_seen;       /* close, open: SUB_CLOSED of its subflow arrived */
  gboolean established_seen;  /* open: SUB_ESTABLISHED arrived for its tuple */
  guint idle_polls;           /* open: looks at the kernel that found nothing of its */
  gboolean cleanup_done;
  gboolean sent;              /* open: its SUBFLOW_CREATE went out */
  gboolean gated;             /* open: waits for the one before it (_mptcp_control_open_must_wait()) */
  gboolean succeeded;         /* open: returned its subflow (nothing to clean up) */
  gboolean creating;          /* open: its SUBFLOW_CREATE is in flight */
  gint64 task_born;           /* the task's creation time as GTask takes it (the iteration's
                               * time, see _mptcp_control_open_succeed) */
  gboolean succeed_at_ack;    /* open: its subflow is there, the result waits for the ack */
  gboolean ghost;             /* open: given up with its SUBFLOW_CREATE in flight and its subflow
                               * unknown: stays in the ops (blocking the next open between its
                               * addresses) until the ack lets its cleanup find the subflow */
  gboolean listed;            /* in conn->extra->ops */
  gboolean counted;           /* in conn->extra->unidentified */
  GArray *before;             /* open, port unknown: KernelEntry present before the request */
  GArray *others;             /* open, port unknown: Tuple of other opens that completed */
  GArray *early;              /* EarlyEvent: events that came before the tuple was known */
  MptcpSubflow *subflow;      /* close, backup: the target */
} MptcpControlOp;

/* An open's list of what was there before its request, no longer needed (its subflow is
 * known, or it ended): kept, emptied, for the next open's (take_before_array()), so that no
 * open allocates one as large as the connection's list. */
static inline void
_mptcp_control_open_drop_before (MptcpControlOp *op)
{
  ConnectionExtra *x = op->conn->extra;

  if (op->before == NULL)
    return;
  if (x != NULL && x->spare_before == NULL)
    {
      g_array_set_size (op->before, 0);
      x->spare_before = g_steal_pointer (&op->before);
    }
  else
    g_clear_pointer (&op->before, g_array_unref);
}

/* Keeps conn->extra->unidentified, the opens in its ops whose SUBFLOW_CREATE went out and
 * whose subflow is not known (one or two, however many opens wait), in line with op: called
 * after op->sent, op->port_known or op->listed changed. open_unidentified() walks that list,
 * not all the ops: the walk was the largest cost that grew with the opens in flight. (A listed
 * or counted op's connection has its extra fields.) */
static inline void
_mptcp_control_open_recount (MptcpControlOp *op)
{
  gboolean counts = op->listed && op->kind == MPTCP_CONTROL_OP_OPEN && op->sent &&
                    !op->port_known;

  if (counts == op->counted)
    return;
  op->counted = counts;
  if (counts)
    op->conn->extra->unidentified = g_list_prepend (op->conn->extra->unidentified, op);
  else
    op->conn->extra->unidentified = g_list_remove (op->conn->extra->unidentified, op);
}

/* the op's life (mptcp-control-op.c) */
G_GNUC_INTERNAL
MptcpControlOp *_mptcp_control_op_ref            (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_op_unref          (MptcpControlOp *op);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MptcpControlOp, _mptcp_control_op_unref)
G_GNUC_INTERNAL
GTask          *_mptcp_control_op_steal_task     (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_op_fail           (MptcpControlOp *op,
                                                  GError         *error);
G_GNUC_INTERNAL
void            _mptcp_control_op_give_up        (MptcpControlOp *op,
                                                  GError         *error);
G_GNUC_INTERNAL
gboolean        _mptcp_control_op_listens        (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_request_init      (MptcpControlOp *op,
                                                  MptcpNlRequest *request,
                                                  guint8          cmd);
G_GNUC_INTERNAL
int             _mptcp_control_read_kernel       (MptcpConnection *self,
                                                  GArray          *out);
G_GNUC_INTERNAL
int             _mptcp_control_kernel_find       (MptcpControlOp *op,
                                                  guint8         *state);

/* the open state machine (mptcp-control-open.c) */
G_GNUC_INTERNAL
gboolean        _mptcp_control_open_prepare      (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_acked        (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_on_event     (MptcpControlOp     *op,
                                                  const MptcpNlEvent *event);
G_GNUC_INTERNAL
void            _mptcp_control_open_on_overrun   (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_check_kernel (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_watch        (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_cleanup      (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_pass_on_tuple (MptcpControlOp *op);
G_GNUC_INTERNAL
gboolean        _mptcp_control_open_must_wait    (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_release      (MptcpControlOp *op);
G_GNUC_INTERNAL
void            _mptcp_control_open_ghost_acked  (MptcpControlOp *op,
                                                  gboolean        created);

/* an open that waited goes (mptcp-control-op.c) */
G_GNUC_INTERNAL
void            _mptcp_control_op_send           (MptcpControlOp *op);

G_END_DECLS
