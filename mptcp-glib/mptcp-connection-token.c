/* mptcp-connection-token.c: an MptcpConnection without a socket, steered by token
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mptcp_connection_new_for_token() makes an MptcpConnection of any connection of the
 * namespace, whichever process holds its socket, for a caller with CAP_NET_ADMIN. Such a
 * connection has no socket (self->socket is NULL): this room reads what the socket would
 * tell from sock_diag instead (the connection's addresses and mptcp_info by a lookup of its
 * token, the subflow list with both backup flags and tcp_info from lookups of the subflows by
 * 4-tuple, or a dump of the namespace when there may be one it has not seen),
 * and the rest of MptcpConnection runs unchanged: the control machine steers by token as
 * always, the events come from the token's subscription, and "closed" from the CLOSED event
 * (or from a read that no longer finds the token). The hooks elsewhere are one test of
 * self->socket == NULL each (mptcp-connection.c, -refresh.c, -control-op.c, -events.c).
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mptcp-connection.h"
#include "mptcp-connection-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-info-private.h"
#include "mptcp-kernel-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-error.h"
#include "mptcp-connection-impl-private.h"

#define TOKEN_KEY "mptcp-glib-token-state"
#define DIAG_TIMEOUT_MS 5000

/* What a socketless connection keeps (object data: nothing in the instance of every other
 * connection). */
typedef struct
{
  MptcpSockDiag *diag;
  MptcpDiagDump  dump;       /* the last dump of the namespace */
  GArray        *subflows;   /* of MptcpDiagSocket: the subflows of the last read (the list and
                              * the backup flags are made from it), kept to be looked up again */
  GArray        *probe;      /* of MptcpDiagSocket: the lookups of a read by 4-tuple */
  gboolean       dumped;     /* ts->subflows came from a dump once */
} TokenState;

static void
token_state_free (gpointer data)
{
  TokenState *ts = data;

  _mptcp_sockdiag_free (ts->diag);
  _mptcp_diag_dump_clear (&ts->dump);
  g_clear_pointer (&ts->subflows, g_array_unref);
  g_clear_pointer (&ts->probe, g_array_unref);
  g_free (ts);
}

static TokenState *
token_state (MptcpConnection *self)
{
  return g_object_get_data (G_OBJECT (self), TOKEN_KEY);
}

/* A diag socket's end (local: src) as a normalised address. */
static void
diag_addr (const MptcpDiagSocket *s, gboolean remote, MptcpSockoptAddr *out)
{
  struct sockaddr_storage ss;
  gsize len;

  memset (&ss, 0, sizeof ss);
  if (s->family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (remote ? s->dport : s->sport);
      memcpy (&sin->sin_addr, remote ? s->dst : s->src, 4);
      len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (remote ? s->dport : s->sport);
      memcpy (&sin6->sin6_addr, remote ? s->dst : s->src, 16);
      len = sizeof *sin6;
    }
  _mptcp_sockopt_addr_from_sockaddr (out, (struct sockaddr *) &ss, len);
}

static gsize
addr_to_sockaddr (const MptcpDiagSocket *s, gboolean remote, struct sockaddr_storage *out)
{
  MptcpSockoptAddr a;

  diag_addr (s, remote, &a);
  return _mptcp_sockopt_addr_to_sockaddr (&a, out);
}

/* The token's own connection socket in the dump, or NULL. */
static const MptcpDiagSocket *
dump_connection (const MptcpDiagDump *dump, guint32 token)
{
  for (guint i = 0; i < dump->connections->len; i++)
    {
      const MptcpDiagSocket *c = &g_array_index (dump->connections, MptcpDiagSocket, i);
      guint32 t = 0;

      if (c->info_len >= 16)
        memcpy (&t, c->info + 12, 4);
      if (t == token)
        return c;
    }
  return NULL;
}

static gboolean
dump_subflow_of (const MptcpDiagSocket *s, guint32 token)
{
  return s->ulp_attrs && s->token_loc == token && s->state != MPTCP_TCP_STATE_CLOSE;
}

/* The connection's subflows from a dump of the namespace (every MPTCP and TCP socket: ~55 ms
 * at 10,000 connections) into ts->subflows; -EBADF when the token is not in it. */
static int
read_by_dump (MptcpConnection *self, TokenState *ts)
{
  g_autoptr(GError) error = NULL;

  if (!_mptcp_sockdiag_dump_sync (ts->diag, &ts->dump, DIAG_TIMEOUT_MS, NULL, &error))
    {
      g_debug ("sock_diag dump for connection %08x failed: %s", self->token, error->message);
      return error->domain == G_IO_ERROR && error->code == G_IO_ERROR_TIMED_OUT ? -ETIMEDOUT
                                                                                  : -EIO;
    }
  if (dump_connection (&ts->dump, self->token) == NULL)
    return -EBADF;
  ts->dumped = TRUE;
  g_array_set_size (ts->subflows, 0);
  for (guint i = 0; i < ts->dump.subflows->len; i++)
    {
      const MptcpDiagSocket *s = &g_array_index (ts->dump.subflows, MptcpDiagSocket, i);

      if (dump_subflow_of (s, self->token))
        g_array_append_vals (ts->subflows, s, 1);
    }
  return 0;
}

/* mptcpi_subflows_total (6.10+): the connection's subflows in any state but CLOSE, the initial
 * one included */
#define INFO_SUBFLOWS_TOTAL G_STRUCT_OFFSET (mpx_mptcp_info, subflows_total)

/* The connection's subflows without a dump: the connection by its token and the subflows of
 * the last read by their 4-tuples (hash lookups in the kernel, no walk of the namespace's
 * sockets). It stands for the dump only when nothing can have come that the last read did not
 * see: the kernel's count of the connection's subflows (mptcpi_subflows_total, from the same
 * lookup) equals the number of them still there; a new subflow (an event, a lost event, another
 * process's or the peer's join) makes the counts differ. Not while a control operation of the
 * connection is pending (an open tells its new subflow, maybe half-open, from the others by the
 * kernel's whole list), nor on kernels without the count (before 6.10). 1: read into
 * ts->subflows; 0: a dump is needed; -EBADF: the token is gone; -EIO. */
static int
read_by_lookup (MptcpConnection *self, TokenState *ts)
{
  g_autoptr(GError) error = NULL;
  MptcpDiagSocket c;
  gboolean found;
  guint alive = 0;

  if (!ts->dumped || extra_ro (self)->ops != NULL)
    return 0;
  if (!_mptcp_sockdiag_lookup_one (ts->diag, TRUE, self->token, NULL, &c, &found, &error))
    {
      g_debug ("sock_diag lookup of connection %08x failed: %s", self->token, error->message);
      return -EIO;
    }
  if (!found)
    return -EBADF;
  if (c.info_len <= (gsize) INFO_SUBFLOWS_TOTAL)
    return 0;
  if (c.info[INFO_SUBFLOWS_TOTAL] > ts->subflows->len)
    return 0;                 /* more than the last read saw: a dump finds the new ones */
  g_array_set_size (ts->probe, ts->subflows->len);
  if (ts->subflows->len > 0)
    memcpy (ts->probe->data, ts->subflows->data, ts->subflows->len * sizeof (MptcpDiagSocket));
  if (!_mptcp_sockdiag_lookup_subflows (ts->diag, self->token,
                                        (MptcpDiagSocket *) (gpointer) ts->probe->data,
                                        ts->probe->len, &error))
    {
      g_debug ("sock_diag lookup of connection %08x's subflows failed: %s", self->token,
               error->message);
      return -EIO;
    }
  for (guint i = 0; i < ts->probe->len; i++)
    if (dump_subflow_of (&g_array_index (ts->probe, MptcpDiagSocket, i), self->token))
      alive++;
  if (alive != c.info[INFO_SUBFLOWS_TOTAL])
    return 0;
  {
    GArray *t = ts->subflows;

    ts->subflows = ts->probe;
    ts->probe = t;
  }
  return 1;
}

int
_mptcp_conn_token_read_list (MptcpConnection *self, MptcpSockoptList *out)
{
  TokenState *ts = token_state (self);
  const gsize head = sizeof (struct mptcp_subflow_data);
  const gsize tcp_len = MPTCP_SOCKOPT_TCP_INFO_SIZE;
  guint n = 0, k = 0;
  int r;

  r = read_by_lookup (self, ts);
  if (r == 0)
    r = read_by_dump (self, ts);
  if (r < 0)
    return r;
  for (guint i = 0; i < ts->subflows->len; i++)
    if (dump_subflow_of (&g_array_index (ts->subflows, MptcpDiagSocket, i), self->token))
      n++;

  if (out->n_alloc < n || out->alloc_path != MPTCP_SOCKOPT_PATH_LEGACY || out->sf_buf == NULL)
    {
      g_free (out->sf_buf);
      g_free (out->tcp_buf);
      out->alloc_path = MPTCP_SOCKOPT_PATH_LEGACY;
      out->n_alloc = MAX (n, 4);
      out->sf_buf = g_malloc0 (head + out->n_alloc * sizeof (struct mptcp_subflow_addrs));
      out->tcp_buf = g_malloc0 (head + out->n_alloc * tcp_len);
    }
  for (guint i = 0; i < ts->subflows->len; i++)
    {
      const MptcpDiagSocket *s = &g_array_index (ts->subflows, MptcpDiagSocket, i);
      struct mptcp_subflow_addrs *a;
      struct sockaddr_storage ss;
      gsize len;
      guint8 *ti;

      if (!dump_subflow_of (s, self->token))
        continue;
      a = (struct mptcp_subflow_addrs *) (gpointer)
        (out->sf_buf + head + k * sizeof (struct mptcp_subflow_addrs));
      memset (a, 0, sizeof *a);
      len = addr_to_sockaddr (s, FALSE, &ss);
      memcpy (&a->ss_local, &ss, MIN (len, sizeof a->ss_local));
      len = addr_to_sockaddr (s, TRUE, &ss);
      memcpy (&a->ss_remote, &ss, MIN (len, sizeof a->ss_remote));
      ti = out->tcp_buf + head + k * tcp_len;
      memset (ti, 0, tcp_len);
      memcpy (ti, s->info, MIN ((gsize) s->info_len, tcp_len));
      k++;
    }
  out->n_subflows = n;
  out->n_kernel = n;
  out->sfinfo_stride = 0;
  out->addrs_stride = sizeof (struct mptcp_subflow_addrs);
  out->tcp_info_len = tcp_len;
  return 0;
}

/* The backup flags of the listed subflows, from the dump just read (both directions: the
 * subflow's BKUP_LOC and the peer's BKUP_REM). */
static void
apply_backup_flags (MptcpConnection *self)
{
  TokenState *ts = token_state (self);
  GPtrArray *items = self->subflows->items;

  for (guint i = 0; i < ts->subflows->len; i++)
    {
      const MptcpDiagSocket *s = &g_array_index (ts->subflows, MptcpDiagSocket, i);
      MptcpSockoptAddr local, remote;

      if (!dump_subflow_of (s, self->token))
        continue;
      diag_addr (s, FALSE, &local);
      diag_addr (s, TRUE, &remote);
      for (guint k = 0; k < items->len; k++)
        {
          MptcpSubflow *sf = g_ptr_array_index (items, k);

          if (!_mptcp_subflow_matches (sf, &local, &remote))
            continue;
          g_object_ref (sf);
          {
            MptcpConnChange local_flag = { .kind = MPTCP_CONN_CHANGE_BACKUP, .subflow = sf,
                                           .backup = (s->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC) != 0 };
            MptcpConnChange peer_flag = { .kind = MPTCP_CONN_CHANGE_PEER_BACKUP, .subflow = sf,
                                          .backup = (s->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_REM) != 0 };

            _mptcp_connection_apply (self, &local_flag);
            _mptcp_connection_apply (self, &peer_flag);
          }
          g_object_unref (sf);
          break;
        }
      /* the notify handlers may have changed the list */
      items = self->subflows->items;
    }
}

gboolean
_mptcp_conn_token_refresh (MptcpConnection *self, GError **error)
{
  MptcpSockoptList *kl = _mptcp_conn_scratch_list ();
  int r;

  if (self->closed)
    {
      _mptcp_conn_set_closed_error (error);
      return FALSE;
    }
  r = _mptcp_conn_token_read_list (self, kl);
  if (r == -EBADF)
    {
      _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_CLOSED);
      _mptcp_conn_set_closed_error (error);
      return FALSE;
    }
  if (r < 0)
    {
      _mptcp_conn_set_errno_error (error, -r, "Could not list the subflows through sock_diag");
      return FALSE;
    }
  _mptcp_conn_apply_kernel_list (self, kl, TRUE);
  apply_backup_flags (self);
  return TRUE;
}

MptcpConnectionInfo *
_mptcp_conn_token_get_info (MptcpConnection *self, GError **error)
{
  TokenState *ts = token_state (self);
  g_autoptr(GError) local_error = NULL;
  MptcpDiagSocket s;
  gboolean found;

  if (self->closed)
    {
      _mptcp_conn_set_closed_error (error);
      return NULL;
    }
  if (!_mptcp_sockdiag_lookup_one (ts->diag, TRUE, self->token, NULL, &s, &found, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!found)
    {
      _mptcp_conn_set_closed_error (error);
      return NULL;
    }
  return _mptcp_connection_info_new (s.info, s.info_len);
}

/**
 * mptcp_connection_new_for_token:
 * @token: the local token of a connection of this network namespace (as
 *   mptcp_connection_entry_get_token() or mptcp_event_get_token() give it)
 * @error: return location for a #GError, or %NULL
 *
 * Makes a connection object for any MPTCP connection of the calling thread's network
 * namespace, whichever process holds its socket, to steer it by its token as `pm_nl_ctl`
 * does. It needs CAP_NET_ADMIN (to join the kernel's MPTCP events and to send the path
 * manager's per-connection commands); opening subflows and announcing addresses also need a
 * connection of the userspace path manager, as for any #MptcpConnection.
 *
 * The object has no socket: mptcp_connection_get_socket() returns %NULL, and what a socket
 * would tell comes from sock_diag instead. Which calls work, and how:
 *
 * - mptcp_connection_get_token(), mptcp_connection_get_local_address() and
 *   mptcp_connection_get_remote_address(): the connection's, read at construction;
 * - mptcp_connection_get_subflows() and mptcp_connection_refresh(): the subflows from
 *   sock_diag (on Linux 6.10 and later a refresh looks up only this connection and the
 *   subflows it knows, by token and 4-tuple, and dumps the namespace only when the kernel's
 *   count of the connection's subflows says there is one it has not seen, or while one of
 *   its operations is pending; on older kernels, one dump per refresh and per subflow
 *   event), with their addresses, TCP statistics (mptcp_subflow_get_stats()) and the
 *   kernel's backup flags in both directions (#MptcpSubflow:backup, #MptcpSubflow:peer-backup);
 *   mptcp_subflow_get_id() numbers the subflows in the order the object saw them (sock_diag
 *   reports no kernel subflow id);
 * - mptcp_connection_get_info(): the connection's counters, from a sock_diag lookup by token;
 * - mptcp_connection_open_subflow(), mptcp_subflow_close(), mptcp_subflow_set_backup(),
 *   mptcp_connection_announce_address() and mptcp_connection_remove_address(), sync and
 *   async: by token, as for a connection of one's own, with the same results and errors;
 * - the signals: from the token's events (#MptcpConnection:event-source is
 *   %MPTCP_EVENT_SOURCE_NETLINK); #MptcpConnection:closed is notified with the kernel's CLOSED
 *   event (the owner closed its socket), or when a read no longer finds the token; every call
 *   then fails with %MPTCP_ERROR_CLOSED. There is no hangup watch: a connection the peer
 *   reset is seen closed only with its CLOSED event.
 *
 * #MptcpConnection:fallback stays %FALSE: a connection that fell back to TCP has no token
 * (the constructor does not find it).
 *
 * Fails with %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN, with
 * %G_IO_ERROR_NOT_FOUND when no connection of the namespace has @token, and with
 * %G_IO_ERROR_NOT_SUPPORTED for @token 0 or when the kernel's sock_diag cannot find an MPTCP
 * connection by token (it can since Linux 5.9).
 *
 * Returns: (transfer full): a new #MptcpConnection without a socket, or %NULL on error
 *
 * Since: 0.2
 */
MptcpConnection *
mptcp_connection_new_for_token (guint32   token,
                                GError  **error)
{
  g_autoptr(MptcpConnection) self = NULL;
  g_autoptr(GError) local_error = NULL;
  TokenState *ts;
  MptcpDiagSocket s;
  gboolean found;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (token == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "Token 0 names no MPTCP connection");
      return NULL;
    }
  ts = g_new0 (TokenState, 1);
  _mptcp_diag_dump_init (&ts->dump);
  ts->subflows = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));
  ts->probe = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));
  ts->dump.keep_tcp = FALSE;
  ts->diag = _mptcp_sockdiag_new (error);
  if (ts->diag == NULL)
    {
      token_state_free (ts);
      return NULL;
    }
  self = g_object_new (MPTCP_TYPE_CONNECTION, NULL);
  g_object_set_data_full (G_OBJECT (self), TOKEN_KEY, ts, token_state_free);
  self->initialized = TRUE;
  self->token = token;
  self->path = MPTCP_SOCKOPT_PATH_LEGACY;
  self->path_forced = TRUE;

  if (!_mptcp_sockdiag_lookup_one (ts->diag, TRUE, token, NULL, &s, &found, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     "This kernel's sock_diag cannot find an MPTCP connection by token: %s",
                     local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!found || s.state == MPTCP_TCP_STATE_CLOSE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "No open MPTCP connection of this network namespace has token %08x", token);
      return NULL;
    }
  diag_addr (&s, FALSE, &self->local_raw);
  diag_addr (&s, TRUE, &self->remote_raw);
  if (s.state == MPTCP_TCP_STATE_ESTABLISHED)
    self->established = TRUE;

  _mptcp_conn_start_events (self);
  if (self->event_source != MPTCP_EVENT_SOURCE_NETLINK)
    {
      _mptcp_conn_stop_events (self);
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                   "Steering connection %08x by its token needs CAP_NET_ADMIN (to follow "
                   "its events and send the path manager's commands)", token);
      return NULL;
    }
  if (!_mptcp_conn_token_refresh (self, error))
    {
      _mptcp_conn_stop_events (self);
      return NULL;
    }
  return g_steal_pointer (&self);
}
