/* mptcp-connection-refresh.c: MptcpConnection's refresh: the kernel's view of the subflows
 * (MPTCP_FULL_INFO or the older readers of mptcp-sockopt) and their backup flags, which only
 * sock_diag reports (one diag socket per thread and network namespace), and the connection's
 * counters (MPTCP_INFO, mptcp_connection_get_info())
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "mptcp-connection.h"
#include "mptcp-connection-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-info-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-error.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-connection-impl-private.h"

/* ---- the kernel's list, applied ---- */

/* Points sf at entry i's tcp_info; copies it into sf if the list is a
 * scratch one (copy). */
static inline void
set_entry_info (MptcpSubflow           *sf,
                const MptcpSockoptList *kl,
                guint                   i,
                gboolean                copy)
{
  _mptcp_subflow_set_tcp_info (sf, _mptcp_sockopt_list_tcp_info (kl, i), kl->tcp_info_len);
  if (copy)
    _mptcp_subflow_detach_tcp_info (sf);
}

/* Finds the listed subflow entry i of the kernel's list belongs to, starting
 * the search at hint (the expected position). */
static MptcpSubflow *
match_entry (MptcpConnection        *self,
             const MptcpSockoptList *kl,
             guint                   i,
             guint                   hint,
             const MptcpSockoptAddr *local,
             const MptcpSockoptAddr *remote)
{
  GPtrArray *items = self->subflows->items;
  guint32 id = _mptcp_sockopt_list_id (kl, i);
  guint n = items->len;
  guint k;

  for (k = 0; k < n; k++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, (hint + k) % n);

      /* by kernel id; a subflow added from an event has no id yet (0)
       * and is matched by its 4-tuple once, then takes the kernel's id */
      if (kl->sfinfo_stride != 0
          ? sf->id == id || (sf->id == 0 && _mptcp_subflow_matches (sf, local, remote))
          : _mptcp_subflow_matches (sf, local, remote))
        return sf;
    }
  return NULL;
}

/* The fast path's tail: every listed subflow matched the kernel's entries before first, in
 * order, and the live entries from first on are new ones (a new connection's first subflow, a
 * subflow just established): made and appended in the kernel's order. FALSE, having changed
 * nothing, when one of them matches a listed subflow after all (the kernel listing one twice:
 * the general path sorts that out). */
static gboolean
append_new (MptcpConnection        *self,
            const MptcpSockoptList *kl,
            guint                   first,
            gboolean                copy)
{
  gboolean by_id = kl->sfinfo_stride != 0;
  MptcpSubflow *one = NULL;
  g_autoptr(GPtrArray) added = NULL;
  guint n_new = 0;
  guint i;

  for (i = first; i < kl->n_subflows; i++)
    {
      MptcpSockoptAddr local, remote;

      if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
        continue;
      _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
      if (self->subflows->items->len != 0 && match_entry (self, kl, i, 0, &local, &remote) != NULL)
        return FALSE;
      n_new++;
    }
  if (n_new == 0)
    return TRUE;
  if (n_new > 1)
    added = g_ptr_array_new_full (n_new, g_object_unref);
  for (i = first; i < kl->n_subflows; i++)
    {
      MptcpSockoptAddr local, remote;
      MptcpSubflow *sf;
      guint id;

      if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
        continue;
      _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
      id = by_id ? _mptcp_sockopt_list_id (kl, i) : extra_get (self)->next_id++;
      sf = _mptcp_subflow_new (self, id, &local, &remote);
      set_entry_info (sf, kl, i, copy);
      if (added != NULL)
        g_ptr_array_add (added, sf);
      else
        one = sf;
    }
  _mptcp_connection_apply (self, &(MptcpConnChange) {
                             .kind = MPTCP_CONN_CHANGE_SUBFLOWS_UP, .subflow = one,
                             .subflows = added });
  g_clear_object (&one);
  return TRUE;
}

/* Brings the list model in line with the kernel's list kl (a fresh read;
 * the subflows' statistics still point into the previous one). */
static void
apply_kernel_list (MptcpConnection        *self,
                   const MptcpSockoptList *kl,
                   gboolean                copy)
{
  GPtrArray *items = self->subflows->items;
  gboolean by_id = kl->sfinfo_stride != 0;
  guint n_old = items->len;
  guint n_seen = 0;
  guint live = 0;
  guint i, j;
  /* the new subflows (references), made on need: the general path is rare */
  g_autoptr(GPtrArray) added = NULL;

  /* Fast path: the same subflows in the same order (the common case of a
   * periodic refresh): only the statistics change. */
  for (i = 0, j = 0; i < kl->n_subflows; i++)
    {
      MptcpSubflow *sf;

      if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
        continue;
      if (j >= n_old)
        break;
      sf = g_ptr_array_index (items, j);
      if (by_id)
        {
          guint32 id = _mptcp_sockopt_list_id (kl, i);

          if (sf->id != id)
            {
              MptcpSockoptAddr local, remote;

              /* added from an event or an open (no id yet): matched by its 4-tuple once */
              if (sf->id != 0)
                break;
              _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
              if (!_mptcp_subflow_matches (sf, &local, &remote))
                break;
              _mptcp_subflow_set_id (sf, id);
            }
        }
      else
        {
          MptcpSockoptAddr local, remote;

          _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
          if (!_mptcp_subflow_matches (sf, &local, &remote))
            break;
        }
      set_entry_info (sf, kl, i, copy);
      j++;
    }
  if (i == kl->n_subflows && j == n_old)
    return;
  if (j == n_old && append_new (self, kl, i, copy))
    return;

  /* General path: match every live kernel entry to a listed subflow (by id,
   * or by 4-tuple on the legacy path), make objects for new ones, then drop
   * the listed subflows nobody matched (seen[] holds the matched ones). */
  {
    g_autofree MptcpSubflow **seen = g_new0 (MptcpSubflow *, n_old + 1);

    for (i = 0; i < kl->n_subflows; i++)
      {
        MptcpSockoptAddr local, remote;
        MptcpSubflow *sf;

        if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
          continue;
        live++;

        _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
        sf = match_entry (self, kl, i, live - 1, &local, &remote);
        if (sf == NULL)
          {
            guint id = by_id ? _mptcp_sockopt_list_id (kl, i) : extra_get (self)->next_id++;

            sf = _mptcp_subflow_new (self, id, &local, &remote);
            if (added == NULL)
              added = g_ptr_array_new ();
            g_ptr_array_add (added, sf);
          }
        else
          {
            guint k;

            /* the same kernel subflow listed twice cannot happen, but be
             * safe: count each listed subflow once */
            for (k = 0; k < n_seen && seen[k] != sf; k++)
              ;
            if (k == n_seen)
              seen[n_seen++] = sf;
            if (by_id && sf->id == 0)
              _mptcp_subflow_set_id (sf, _mptcp_sockopt_list_id (kl, i));
          }
        set_entry_info (sf, kl, i, copy);
      }

    /* the listed subflows nobody matched are gone */
    if (n_seen < n_old)
      {
        g_autoptr(GPtrArray) gone = g_ptr_array_new ();

        for (i = 0; i < n_old; i++)
          {
            MptcpSubflow *sf = g_ptr_array_index (items, i);
            guint k;

            for (k = 0; k < n_seen && seen[k] != sf; k++)
              ;
            if (k == n_seen)
              g_ptr_array_add (gone, sf);
          }
        _mptcp_connection_apply (self, &(MptcpConnChange) {
                                   .kind = MPTCP_CONN_CHANGE_SUBFLOWS_DOWN, .subflows = gone });
      }
  }

  /* the new ones, in the kernel's order */
  if (added != NULL)
    {
      g_ptr_array_set_free_func (added, g_object_unref);   /* the list takes its own */
      _mptcp_connection_apply (self, &(MptcpConnChange) {
                                 .kind = MPTCP_CONN_CHANGE_SUBFLOWS_UP, .subflows = added });
    }
}

void
_mptcp_conn_apply_kernel_list (MptcpConnection        *self,
                               const MptcpSockoptList *kl,
                               gboolean                copy)
{
  apply_kernel_list (self, kl, copy);
}

/* The listed subflows made from an event (no kernel id, no statistics yet), given both from
 * one read of the kernel's list, for a getter that wants them before the next refresh. The
 * list itself is left to the events and refreshes: a subflow the kernel no longer lists
 * keeps id 0 and empty statistics, and leaves with its SUB_CLOSED. */
void
_mptcp_conn_load_info (MptcpConnection *self)
{
  GPtrArray *items = self->subflows->items;
  g_autoptr(GPtrArray) renumbered = NULL;
  MptcpSockoptList *kl;
  gboolean any = FALSE;
  guint i, k;

  if (!_mptcp_conn_in_own_thread (self) || self->in_refresh)
    return;   /* what is known; a later call or the next refresh reads it */
  for (k = 0; k < items->len; k++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, k);

      any |= sf->info_pending;
      sf->info_pending = FALSE;   /* one try each */
    }
  if (!any || self->closed || self->fallback || self->socket == NULL ||
      g_socket_is_closed (self->socket))
    return;
  kl = _mptcp_conn_scratch_list ();
  if (_mptcp_sockopt_list_read (kl, g_socket_get_fd (self->socket), self->path) < 0)
    return;   /* fallback, a closed socket: the next refresh or event tells */
  for (k = 0; k < items->len; k++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, k);

      if (sf->tcp_info != NULL && sf->id != 0)
        continue;
      for (i = 0; i < kl->n_subflows; i++)
        {
          MptcpSockoptAddr local, remote;

          if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
            continue;
          _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
          if (!_mptcp_subflow_matches (sf, &local, &remote))
            continue;
          set_entry_info (sf, kl, i, TRUE);
          if (kl->sfinfo_stride != 0 && sf->id == 0)
            {
              /* notified after the walk: a handler may change the list */
              if (renumbered == NULL)
                renumbered = g_ptr_array_new_with_free_func (g_object_unref);
              g_ptr_array_add (renumbered, g_object_ref (sf));
              sf->id = _mptcp_sockopt_list_id (kl, i);
            }
          break;
        }
    }
  for (k = 0; renumbered != NULL && k < renumbered->len; k++)
    g_object_notify (g_ptr_array_index (renumbered, k), "id");
}

/* ---- the connection's counters ---- */

/**
 * mptcp_connection_get_info:
 * @self: a #MptcpConnection
 * @error: return location for a #GError, or %NULL
 *
 * Reads the MPTCP-level counters of the connection from the kernel (one
 * getsockopt(), no privilege needed). The snapshot holds every field of
 * `struct mptcp_info` the running kernel returns; see #MptcpConnectionInfo.
 *
 * Fails with %MPTCP_ERROR_FALLBACK if the connection fell back to TCP (the
 * kernel then keeps no MPTCP counters; #MptcpConnection:fallback becomes
 * %TRUE) and with %MPTCP_ERROR_CLOSED if the socket is closed.
 *
 * Returns: (transfer full): a snapshot of the connection's counters, or
 *   %NULL on error
 *
 * Since: 0.1
 */
MptcpConnectionInfo *
mptcp_connection_get_info (MptcpConnection  *self,
                           GError          **error)
{
  guint8 info[MPX_MPTCP_INFO_SIZE];
  gsize len;
  int fd;
  int r;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (_mptcp_conn_in_own_thread (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->fallback)
    {
      _mptcp_conn_set_fallback_error (error);
      return NULL;
    }
  if (self->socket == NULL)                 /* mptcp_connection_new_for_token() */
    return _mptcp_conn_token_get_info (self, error);
  if (self->closed || g_socket_is_closed (self->socket))
    {
      _mptcp_conn_set_closed_error (error);
      return NULL;
    }

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_get_mptcp_info (fd, info, sizeof info, &len);
  if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
    {
      if (_mptcp_sockopt_is_mptcp (fd) == 0)
        {
          if (!self->in_refresh)
            {
              self->in_refresh = TRUE;
              _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_FALLBACK);
              self->in_refresh = FALSE;
            }
          _mptcp_conn_set_fallback_error (error);
          return NULL;
        }
    }
  if (r < 0)
    {
      _mptcp_conn_set_errno_error (error, -r, "Could not read the MPTCP connection info");
      return NULL;
    }

  return _mptcp_connection_info_new (info, len);
}

/* ---- the kernel's backup flags, from sock_diag ---- */

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* How often a caller's refresh reads the flags at most (see mptcp_connection_refresh()). */
#define FLAGS_READ_INTERVAL_US (100 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  MptcpSockDiag *diag;           /* NULL: could not be made (then tried again next time) */
  guint64 netns_cookie;          /* of diag's namespace, 0: unknown */
  GArray *sockets;               /* of MptcpDiagSocket, reused */
} ThreadDiag;

static void
thread_diag_free (gpointer data)
{
  ThreadDiag *td = data;

  _mptcp_sockdiag_free (td->diag);
  g_clear_pointer (&td->sockets, g_array_unref);
  g_free (td);
}

static guint64
netns_cookie (int fd)
{
  guint64 cookie = 0;
  socklen_t len = sizeof cookie;

  if (getsockopt (fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0 || len != sizeof cookie)
    return 0;
  return cookie;
}

/* The calling thread's sock_diag socket, in the namespace of the socket whose namespace cookie
 * is want (0: unknown, any), or NULL. */
static ThreadDiag *
thread_diag (guint64 want)
{
  static GPrivate key = G_PRIVATE_INIT (thread_diag_free);
  ThreadDiag *td = g_private_get (&key);

  if (td == NULL)
    {
      td = g_new0 (ThreadDiag, 1);
      td->sockets = g_array_new (FALSE, TRUE, sizeof (MptcpDiagSocket));
      g_private_set (&key, td);
    }
  /* made in another namespace than the thread's now (setns()): make it again */
  if (td->diag != NULL && want != 0 && td->netns_cookie != want)
    g_clear_pointer (&td->diag, _mptcp_sockdiag_free);
  if (td->diag == NULL)
    {
      td->diag = _mptcp_sockdiag_new (NULL);
      if (td->diag == NULL)
        return NULL;
      td->netns_cookie = netns_cookie (_mptcp_sockdiag_get_fd (td->diag));
    }
  if (want != 0 && td->netns_cookie != 0 && td->netns_cookie != want)
    return NULL;               /* the thread is not in the socket's namespace */
  return td;
}

/* Reads the backup flags of the listed subflows from sock_diag and applies them where the
 * kernel gave them (6.18, or CAP_NET_ADMIN); elsewhere changes nothing. */
static void
read_backup_flags (MptcpConnection *self)
{
  GPtrArray *items = self->subflows->items;
  ConnectionExtra *extra = extra_get (self);
  ThreadDiag *td;
  guint i;

  if (items->len == 0)
    return;
  if (extra->netns_cookie == 0)
    extra->netns_cookie = netns_cookie (g_socket_get_fd (self->socket));
  td = thread_diag (extra->netns_cookie);
  if (td == NULL)
    return;
  g_array_set_size (td->sockets, items->len);
  for (i = 0; i < items->len; i++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, i);
      MptcpDiagSocket *d = &g_array_index (td->sockets, MptcpDiagSocket, i);
      gsize alen = sf->local_raw.family == AF_INET ? 4 : 16;

      d->family = (guint8) sf->local_raw.family;
      d->sport = sf->local_raw.port;
      d->dport = sf->remote_raw.port;
      memcpy (d->src, sf->local_raw.addr, alen);
      memcpy (d->dst, sf->remote_raw.addr, alen);
    }
  if (!_mptcp_sockdiag_lookup_subflows (td->diag, self->token,
                                        (MptcpDiagSocket *) (gpointer) td->sockets->data,
                                        items->len, NULL))
    return;
  /* the list may change under the notify handlers: look each subflow up again */
  for (i = 0; i < td->sockets->len && i < items->len; i++)
    {
      const MptcpDiagSocket *d = &g_array_index (td->sockets, MptcpDiagSocket, i);
      MptcpSubflow *sf = g_ptr_array_index (items, i);

      if (!d->ulp_attrs || d->sport != sf->local_raw.port || d->dport != sf->remote_raw.port)
        continue;
      g_object_ref (sf);
      _mptcp_connection_apply (self, &(MptcpConnChange) {
                                 .kind = MPTCP_CONN_CHANGE_BACKUP, .subflow = sf,
                                 .backup = (d->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC) != 0 });
      _mptcp_connection_apply (self, &(MptcpConnChange) {
                                 .kind = MPTCP_CONN_CHANGE_PEER_BACKUP, .subflow = sf,
                                 .backup = (d->sf_flags & MPTCP_SUBFLOW_FLAG_BKUP_REM) != 0 });
      g_object_unref (sf);
    }
}

/* Reads the kernel's list (switching to the legacy path on kernels without
 * MPTCP_FULL_INFO) and applies it. keep: read into the connection's own
 * buffers (allocated now if needed: a caller's refresh), else into the
 * thread's scratch list if the connection has none. */
gboolean
_mptcp_conn_refresh (MptcpConnection  *self,
                  gboolean          keep,
                  GError          **error)
{
  guint next = extra_ro (self)->cur ^ 1;
  MptcpSockoptList *kl;
  int fd;
  int r;

  if (self->fallback)
    {
      _mptcp_conn_set_fallback_error (error);
      return FALSE;
    }
  if (self->socket == NULL)                 /* mptcp_connection_new_for_token() */
    return _mptcp_conn_token_refresh (self, error);
  if (self->closed || g_socket_is_closed (self->socket))
    {
      _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_CLOSED);
      _mptcp_conn_set_closed_error (error);
      return FALSE;
    }

  if (extra_ro (self)->kernel == NULL && keep)
    extra_get (self)->kernel = g_new0 (MptcpSockoptList, 2);
  kl = extra_ro (self)->kernel != NULL ? &self->extra->kernel[next] : _mptcp_conn_scratch_list ();

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_list_read (kl, fd, self->path);
  if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
    {
      int is_mptcp = _mptcp_sockopt_is_mptcp (fd);

      if (is_mptcp == 0)
        {
          _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_FALLBACK);
          _mptcp_conn_set_fallback_error (error);
          return FALSE;
        }
      if (is_mptcp == 1 && self->path == MPTCP_SOCKOPT_PATH_FULL_INFO && !self->path_forced)
        {
          /* Linux before 6.5: no MPTCP_FULL_INFO */
          g_debug ("MPTCP_FULL_INFO not supported, listing subflows the legacy way");
          self->path = MPTCP_SOCKOPT_PATH_LEGACY;
          r = _mptcp_sockopt_list_read (kl, fd, self->path);
        }
    }
  if (r < 0)
    {
      if (r == -EBADF)
        {
          _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_CLOSED);
          _mptcp_conn_set_closed_error (error);
        }
      else
        _mptcp_conn_set_errno_error (error, -r, "Could not list the subflows");
      return FALSE;
    }

  if (extra_ro (self)->kernel != NULL)
    {
      apply_kernel_list (self, kl, FALSE);
      self->extra->cur = next;
    }
  else
    apply_kernel_list (self, kl, TRUE);
  if (keep)
    {
      gint64 now = g_get_monotonic_time ();

      if (self->extra->flags_read_at == 0 || now - self->extra->flags_read_at >= FLAGS_READ_INTERVAL_US)
        {
          self->extra->flags_read_at = now;
          read_backup_flags (self);
        }
    }
  return TRUE;
}

/* refresh_internal(), unless one is running already (a signal handler of
 * its own refreshing again): then nothing. */
gboolean
_mptcp_conn_refresh_guarded (MptcpConnection *self,
                             gboolean         keep,
                             GError         **error)
{
  gboolean ok;

  if (self->in_refresh)
    return TRUE;
  self->in_refresh = TRUE;
  ok = _mptcp_conn_refresh (self, keep, error);
  self->in_refresh = FALSE;
  return ok;
}

