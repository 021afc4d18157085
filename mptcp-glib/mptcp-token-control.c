/* mptcp-token-control.c: steering a connection by its token, without its socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <linux/mptcp.h>

#include "mptcp-error.h"
#include "mptcp-kernel-private.h"
#include "mptcp-token-control-private.h"

typedef struct
{
  int             family;
  MptcpNlInetAddr addr;
  guint8          id;
} IdEntry;

typedef struct _Op Op;

struct _MptcpTokenControl
{
  guint32              token;
  guint                timeout_ms;
  MptcpNetlink        *netlink;
  guint                sub_id;
  MptcpTokenEventFunc  func;
  gpointer             user_data;
  GList               *ops;      /* of Op, oldest first */
  GArray              *ids;      /* of IdEntry */
  gboolean            *alive;    /* set to FALSE by _free during a dispatch */
};

struct _Op
{
  gint                 ref_count;
  MptcpTokenControl   *tc;       /* NULL once detached */
  guint8               cmd;
  MptcpNlRequest       request;
  gboolean             acked;
  MptcpTokenDoneFunc   func;
  gpointer             user_data;
  GSource             *timeout;
  GSource             *idle;
  GError              *pending_error;
  guint                id;
};

static Op *
op_ref (Op *op)
{
  op->ref_count++;
  return op;
}

static void
op_unref (Op *op)
{
  if (--op->ref_count > 0)
    return;
  g_clear_error (&op->pending_error);
  g_free (op);
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}

/* Ends an operation: detaches it and calls its function (once). */
static void
op_finish (Op                 *op,
           const MptcpNlEvent *event,
           GError             *error)
{
  MptcpTokenDoneFunc func = op->func;

  if (func == NULL)
    {
      g_clear_error (&error);
      return;
    }
  op->func = NULL;
  destroy_source (&op->timeout);
  destroy_source (&op->idle);
  if (op->tc != NULL)
    {
      op->tc->ops = g_list_remove (op->tc->ops, op);
      op->tc = NULL;
      op_ref (op);
      func (event, op->id, error, op->user_data);
      op_unref (op);   /* the list's */
      op_unref (op);
      return;
    }
  func (event, op->id, error, op->user_data);
}

static gboolean
timeout_cb (gpointer user_data)
{
  Op *op = user_data;

  op_finish (op, NULL, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    "The kernel did not complete %s in time",
                                    _mptcp_nl_cmd_name (op->cmd)));
  return G_SOURCE_REMOVE;
}

static gboolean
idle_fail_cb (gpointer user_data)
{
  Op *op = user_data;
  GError *error = g_steal_pointer (&op->pending_error);

  g_source_unref (op->idle);
  op->idle = NULL;
  op_finish (op, NULL, error);
  return G_SOURCE_REMOVE;
}

static void
op_fail_later (Op     *op,
               GError *error)
{
  if (op->pending_error != NULL)
    {
      g_error_free (error);
      return;
    }
  op->pending_error = error;
  destroy_source (&op->timeout);
  op->idle = g_idle_source_new ();
  g_source_set_callback (op->idle, idle_fail_cb, op_ref (op), (GDestroyNotify) op_unref);
  g_source_attach (op->idle, _mptcp_netlink_get_context (op->tc->netlink));
}

static gboolean
inet_equal (int                    family,
            const MptcpNlInetAddr *a,
            const MptcpNlInetAddr *b)
{
  return memcmp (a, b, family == AF_INET ? sizeof a->v4 : sizeof a->v6) == 0;
}

/* Whether a SUB_* event is about the tuple an open asked for. */
static gboolean
open_matches (Op                 *op,
              const MptcpNlEvent *event)
{
  const MptcpNlAddress *l = &op->request.addr;
  const MptcpNlAddress *r = &op->request.remote;

  return event->family == l->family &&
         inet_equal (l->family, &event->saddr, &l->addr) &&
         inet_equal (l->family, &event->daddr, &r->addr) &&
         event->dport == r->port &&
         (l->port == 0 || event->sport == l->port) &&
         event->loc_id == l->id;
}

static void
on_event (const MptcpNlEvent *event,
          gpointer            user_data)
{
  MptcpTokenControl *self = user_data;
  gboolean alive = TRUE;
  GList *l, *next;

  self->alive = &alive;
  if (event->type == MPTCP_EVENT_CLOSED)
    {
      while (self->ops != NULL && alive)
        op_finish (self->ops->data, NULL,
                   g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED, "The connection is closed"));
    }
  else if (event->type == MPTCP_EVENT_SUB_ESTABLISHED || event->type == MPTCP_EVENT_SUB_CLOSED)
    {
      for (l = self->ops; l != NULL && alive; l = next)
        {
          Op *op = l->data;

          next = l->next;
          if (op->cmd != MPTCP_PM_CMD_SUBFLOW_CREATE || !open_matches (op, event))
            continue;
          if (event->type == MPTCP_EVENT_SUB_ESTABLISHED)
            op_finish (op, event, NULL);
          else if (event->error != 0)
            op_finish (op, NULL, g_error_new (G_IO_ERROR, g_io_error_from_errno (event->error),
                                              "The subflow could not be opened: %s",
                                              g_strerror (event->error)));
          else
            op_finish (op, NULL, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                              "The subflow was closed before it was "
                                              "established (the peer refused or reset it)"));
          break;
        }
    }
  if (!alive)
    return;
  self->alive = NULL;
  if (self->func != NULL)
    self->func (event, self->user_data);
}

static void
on_overrun (gpointer user_data)
{
  /* Lost events: an open that waits for its SUB_ESTABLISHED ends with its timeout. */
}

MptcpTokenControl *
_mptcp_token_control_new (guint32               token,
                          guint                 timeout_ms,
                          MptcpTokenEventFunc   func,
                          gpointer              user_data,
                          GError              **error)
{
  g_autoptr(MptcpNetlink) netlink = NULL;
  MptcpTokenControl *self;
  guint id;

  netlink = _mptcp_netlink_get_for_context (NULL, error);
  if (netlink == NULL)
    return NULL;
  self = g_new0 (MptcpTokenControl, 1);
  id = _mptcp_netlink_subscribe (netlink, FALSE, token, on_event, on_overrun, self, error);
  if (id == 0)
    {
      g_free (self);
      return NULL;
    }
  self->token = token;
  self->timeout_ms = timeout_ms != 0 ? timeout_ms : 10000;
  self->netlink = g_steal_pointer (&netlink);
  self->sub_id = id;
  self->func = func;
  self->user_data = user_data;
  return self;
}

void
_mptcp_token_control_free (MptcpTokenControl *self)
{
  GList *l;

  if (self == NULL)
    return;
  if (self->alive != NULL)
    *self->alive = FALSE;
  _mptcp_netlink_unsubscribe (self->netlink, self->sub_id);
  for (l = self->ops; l != NULL; l = l->next)
    {
      Op *op = l->data;

      op_fail_later (op, g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                                      "The connection's registration ended"));
      op->tc = NULL;
      op_unref (op);    /* the list's; the idle holds the op through its callback data */
    }
  g_list_free (self->ops);
  if (self->ids != NULL)
    g_array_unref (self->ids);
  _mptcp_netlink_unref (self->netlink);
  g_free (self);
}

guint32
_mptcp_token_control_get_token (MptcpTokenControl *self)
{
  return self->token;
}

guint
_mptcp_token_control_get_n_pending (MptcpTokenControl *self)
{
  return g_list_length (self->ops);
}

/* The id of an address on this connection: the one it had, or the lowest free one. */
static guint8
pick_id (MptcpTokenControl    *self,
         const MptcpNlAddress *address)
{
  guint8 used[256] = { 0 };
  guint i;

  if (self->ids == NULL)
    self->ids = g_array_new (FALSE, TRUE, sizeof (IdEntry));
  for (i = 0; i < self->ids->len; i++)
    {
      IdEntry *e = &g_array_index (self->ids, IdEntry, i);

      if (e->family == address->family && inet_equal (e->family, &e->addr, &address->addr))
        return e->id;
      used[e->id] = 1;
    }
  for (i = 1; i < 256; i++)
    if (!used[i])
      {
        IdEntry e = { address->family, address->addr, (guint8) i };

        g_array_append_val (self->ids, e);
        return (guint8) i;
      }
  return 0;
}

static void
forget_id (MptcpTokenControl *self,
           guint8             id)
{
  guint i;

  for (i = 0; self->ids != NULL && i < self->ids->len; i++)
    if (g_array_index (self->ids, IdEntry, i).id == id)
      {
        g_array_remove_index_fast (self->ids, i);
        return;
      }
}

static void
ack_cb (MptcpNlReply *reply,
        GError       *error,
        gpointer      user_data)
{
  Op *op = user_data;

  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  op->acked = TRUE;
  if (error != NULL)
    op_finish (op, NULL, error);
  else if (op->cmd != MPTCP_PM_CMD_SUBFLOW_CREATE)
    {
      if (op->cmd == MPTCP_PM_CMD_REMOVE && op->tc != NULL)
        forget_id (op->tc, op->request.loc_id);
      op_finish (op, NULL, NULL);
    }
  op_unref (op);
}

static void
start (MptcpTokenControl    *self,
       const MptcpNlRequest *request,
       MptcpTokenDoneFunc    func,
       gpointer              user_data)
{
  Op *op = g_new0 (Op, 1);

  op->ref_count = 1;   /* the list's */
  op->tc = self;
  op->cmd = request->cmd;
  op->request = *request;
  op->request.token = self->token;
  op->request.has_token = TRUE;
  op->func = func;
  op->user_data = user_data;
  if (request->cmd == MPTCP_PM_CMD_ANNOUNCE)
    op->id = request->addr.id;
  self->ops = g_list_append (self->ops, op);
  if (request->has_addr && request->addr.family != 0 && request->addr.id == 0 &&
      request->cmd != MPTCP_PM_CMD_SET_FLAGS && request->cmd != MPTCP_PM_CMD_SUBFLOW_DESTROY)
    {
      op_fail_later (op, g_error_new (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                                      "No free address id is left on this connection"));
      return;
    }
  op->timeout = g_timeout_source_new (self->timeout_ms);
  g_source_set_callback (op->timeout, timeout_cb, op, NULL);
  g_source_attach (op->timeout, _mptcp_netlink_get_context (self->netlink));
  _mptcp_netlink_request_direct (self->netlink, &op->request, self->timeout_ms,
                                 ack_cb, op_ref (op));
}

void
_mptcp_token_control_open (MptcpTokenControl    *self,
                           const MptcpNlAddress *local,
                           const MptcpNlAddress *remote,
                           gboolean              backup,
                           MptcpTokenDoneFunc    func,
                           gpointer              user_data)
{
  MptcpNlRequest r = { 0 };

  r.cmd = MPTCP_PM_CMD_SUBFLOW_CREATE;
  r.addr = *local;
  r.has_addr = TRUE;
  if (r.addr.id == 0)
    r.addr.id = pick_id (self, local);
  r.addr.has_id = TRUE;
  if (backup)
    {
      r.addr.flags |= MPTCP_PM_ADDR_FLAG_BACKUP;
      r.addr.has_flags = TRUE;
    }
  r.remote = *remote;
  r.remote.has_id = FALSE;
  r.has_remote = TRUE;
  start (self, &r, func, user_data);
}

void
_mptcp_token_control_close (MptcpTokenControl    *self,
                            const MptcpNlAddress *local,
                            const MptcpNlAddress *remote,
                            MptcpTokenDoneFunc    func,
                            gpointer              user_data)
{
  MptcpNlRequest r = { 0 };

  r.cmd = MPTCP_PM_CMD_SUBFLOW_DESTROY;
  r.addr = *local;
  r.addr.has_id = FALSE;
  r.has_addr = TRUE;
  r.remote = *remote;
  r.remote.has_id = FALSE;
  r.has_remote = TRUE;
  start (self, &r, func, user_data);
}

void
_mptcp_token_control_backup (MptcpTokenControl    *self,
                             const MptcpNlAddress *local,
                             const MptcpNlAddress *remote,
                             gboolean              backup,
                             MptcpTokenDoneFunc    func,
                             gpointer              user_data)
{
  MptcpNlRequest r = { 0 };

  r.cmd = MPTCP_PM_CMD_SET_FLAGS;
  r.addr = *local;
  r.addr.has_id = FALSE;
  r.addr.flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
  r.addr.has_flags = TRUE;
  r.has_addr = TRUE;
  r.remote = *remote;
  r.remote.has_id = FALSE;
  r.has_remote = TRUE;
  start (self, &r, func, user_data);
}

void
_mptcp_token_control_announce (MptcpTokenControl    *self,
                               const MptcpNlAddress *address,
                               MptcpTokenDoneFunc    func,
                               gpointer              user_data)
{
  MptcpNlRequest r = { 0 };

  r.cmd = MPTCP_PM_CMD_ANNOUNCE;
  r.addr = *address;
  if (r.addr.id == 0)
    r.addr.id = pick_id (self, address);
  r.addr.has_id = TRUE;
  r.addr.flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
  r.addr.has_flags = TRUE;
  r.has_addr = TRUE;
  start (self, &r, func, user_data);
}

void
_mptcp_token_control_remove (MptcpTokenControl    *self,
                             guint8                id,
                             MptcpTokenDoneFunc    func,
                             gpointer              user_data)
{
  MptcpNlRequest r = { 0 };

  r.cmd = MPTCP_PM_CMD_REMOVE;
  r.loc_id = id;
  r.has_loc_id = TRUE;
  start (self, &r, func, user_data);
}
