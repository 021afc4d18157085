/* mptcp-connection-list.c: every MPTCP connection of the network namespace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <glib-unix.h>
#include <linux/mptcp.h>

#include "mptcp-connection-list.h"
#include "mptcp-connection-list-private.h"
#include "mptcp-connection-list-impl-private.h"
#include "mptcp-connection-entry-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-info-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-kernel-private.h"
#include "mptcp-connection.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"

/**
 * SECTION:mptcp-connection-list
 * @Title: MptcpConnectionList
 * @Short_description: every MPTCP connection of the network namespace, with its subflows
 * @See_also: #MptcpConnection, #MptcpMonitor, #MptcpConnectionInfo, #MptcpSubflowStats
 *
 * An #MptcpConnectionList is a #GListModel of #MptcpConnectionEntry objects: one for every
 * MPTCP connection of the network namespace, whichever process or user owns it, as
 * `ss -tiM` prints them. Each entry has the connection's addresses, local token, state, owner
 * uid and socket inode, the MPTCP counters (#MptcpConnectionInfo) and a #GListModel of
 * #MptcpSubflowEntry objects: the subflows with their addresses, address ids, both backup
 * flags and TCP statistics (#MptcpSubflowStats).
 *
 * The list reads the kernel's sock_diag interface (NETLINK_SOCK_DIAG), which needs no
 * privilege: it dumps the namespace's MPTCP sockets and TCP sockets every
 * #MptcpConnectionList:interval milliseconds (and on mptcp_connection_list_refresh()) and
 * applies the difference. An entry keeps its object for as long as its connection lives;
 * #GListModel::items-changed is emitted for exactly the connections that appeared (appended at
 * the end) and disappeared, and each entry's subflow model likewise for its subflows. A dump
 * that finds nothing new emits nothing and allocates nothing. Listening sockets are listed
 * on request only (#MptcpConnectionList:include-listeners).
 *
 * Which class to use: for a connection of your own (you hold its socket), #MptcpConnection
 * reads and steers it. To be told of every MPTCP event of the namespace as it happens,
 * #MptcpMonitor (it needs CAP_NET_ADMIN). To see every connection of the namespace with its
 * subflows and statistics, without privilege, #MptcpConnectionList.
 *
 * An entry is a read-only view: it controls nothing itself. For a connection of your own, the
 * entry and the #MptcpConnection you made from its socket meet through their token:
 * mptcp_connection_list_find_token() with mptcp_connection_get_token(). For any other
 * connection of the namespace, a caller with CAP_NET_ADMIN gets a controllable
 * #MptcpConnection without a socket from mptcp_connection_entry_dup_connection() (see
 * mptcp_connection_new_for_token() for what works on it): it steers the connection by
 * token, reads it through sock_diag, and the list shows what it did. The entry's subflow
 * backup flags are the kernel's state in both directions as of the list's last dump;
 * #MptcpSubflow:backup and #MptcpSubflow:peer-backup read the same kernel flags for the
 * caller's own connection (mptcp_connection_refresh(), where sock_diag gives them).
 *
 * Subflows and privilege: Linux 6.1 and 6.12 put the MPTCP details of a subflow (tokens, ids,
 * flags) into a sock_diag dump only for a caller with CAP_NET_ADMIN; later kernels (6.18 was
 * checked) give them to everyone. The list finds out from the dumps themselves: when the TCP
 * sockets of the MPTCP connections come without these details, the connections are still
 * listed, with empty subflow models, #MptcpConnectionList:subflows-visible becomes %FALSE and
 * mptcp_connection_list_check_subflows() says why with %MPTCP_ERROR_PERMISSION_DENIED.
 *
 * How the list follows changes (#MptcpConnectionList:event-source): a process that may join
 * the kernel's MPTCP event stream (CAP_NET_ADMIN) gets each change applied as its event
 * arrives, within the main-loop iteration that reads the event: a connection created,
 * established or closed, a subflow established or closed, a subflow's backup flags changed
 * (MP_PRIO). Each event costs a sock_diag lookup of the one socket it names (no dump) and
 * emits exactly the #GListModel::items-changed and notifications of that change. The periodic
 * dumps go on, to refresh the counters (and to catch up when the kernel dropped events: an
 * overrun makes the list dump at once and apply the difference). Without the privilege, the
 * list changes at each dump, within #MptcpConnectionList:interval.
 *
 * The counters (mptcp_connection_entry_get_info(), mptcp_subflow_entry_get_stats()) are
 * snapshots of the last dump, made on each call; they change at every dump (some of them
 * count milliseconds) and emit no notification. #MptcpConnectionEntry:state,
 * #MptcpSubflowEntry:backup, #MptcpSubflowEntry:peer-backup and #MptcpSubflowEntry:state do.
 *
 * |[<!-- language="C" -->
 *   g_autoptr(MptcpConnectionList) list = mptcp_connection_list_new (NULL, &error);
 *
 *   for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
 *     {
 *       g_autoptr(MptcpConnectionEntry) entry = g_list_model_get_item (G_LIST_MODEL (list), i);
 *
 *       g_print ("%08x: %u subflows\n", mptcp_connection_entry_get_token (entry),
 *                g_list_model_get_n_items (mptcp_connection_entry_get_subflows (entry)));
 *     }
 * ]|
 *
 * A list belongs to the thread-default #GMainContext of the thread that created it: the
 * periodic dumps run there, its signals and async callbacks are emitted there, and its last
 * reference must be dropped in that thread. It sees the network namespace it was created in,
 * whatever the thread does later.
 *
 * Since: 0.2
 */

/**
 * MptcpConnectionList:
 *
 * A #GListModel of #MptcpConnectionEntry: every MPTCP connection of the network namespace,
 * read without privilege from sock_diag dumps every #MptcpConnectionList:interval
 * milliseconds. Create it with mptcp_connection_list_new().
 *
 * Since: 0.2
 */

#define DUMP_TIMEOUT_MS 5000
#define DEFAULT_INTERVAL_MS 1000

static GInetSocketAddress *
diag_address (const MptcpDiagSocket *s, gboolean remote)
{
  g_autoptr(GInetAddress) addr = NULL;

  if (s->family == AF_INET)
    addr = g_inet_address_new_from_bytes (remote ? s->dst : s->src, G_SOCKET_FAMILY_IPV4);
  else
    addr = g_inet_address_new_from_bytes (remote ? s->dst : s->src, G_SOCKET_FAMILY_IPV6);
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (addr, remote ? s->dport : s->sport));
}

/* ---- MptcpConnectionList -------------------------------------------------------------------- */

enum
{
  PROP_0,
  PROP_INTERVAL,
  PROP_SUBFLOWS_VISIBLE,
  PROP_N_ITEMS,
  PROP_EVENT_SOURCE,
  PROP_INCLUDE_LISTENERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_REFRESHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void mptcp_connection_list_model_iface_init (GListModelInterface *iface);
static void mptcp_connection_list_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpConnectionList, mptcp_connection_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      mptcp_connection_list_model_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mptcp_connection_list_initable_iface_init))

static GType
list_get_item_type (GListModel *model)
{
  return MPTCP_TYPE_CONNECTION_ENTRY;
}

static guint
list_get_n_items (GListModel *model)
{
  return MPTCP_CONNECTION_LIST (model)->items->len;
}

static gpointer
list_get_item (GListModel *model, guint position)
{
  MptcpConnectionList *self = MPTCP_CONNECTION_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
mptcp_connection_list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = list_get_item_type;
  iface->get_n_items = list_get_n_items;
  iface->get_item = list_get_item;
}

void
_mptcp_conn_list_set_state (GObject *object, guint8 *field, guint8 state, GParamSpec *pspec)
{
  if (*field != state)
    {
      *field = state;
      g_object_notify_by_pspec (object, pspec);
    }
}

/* The counters of an object that leaves the list: its own copy (the dump it points into
 * will be overwritten). */
static void
subflow_detach (MptcpSubflowEntry *sf)
{
  if (sf->own_info == NULL)
    {
      sf->own_info = g_memdup2 (sf->info, MAX (sf->info_len, 1));
      sf->info = sf->own_info;
    }
}

static void
entry_detach (MptcpConnectionEntry *entry)
{
  if (entry->own_info == NULL)
    {
      entry->own_info = g_memdup2 (entry->info, MAX (entry->info_len, 1));
      entry->info = entry->own_info;
    }
}

/* An object's counters from s: pointing into the dump (copy FALSE: s is in NEXT_DUMP), or its
 * own copy (an event's lookup). Invariant: *own is NULL or *info is *own. */
void
_mptcp_conn_list_take_info (guint8 **own, const guint8 **info, guint16 *info_len,
                            const MptcpDiagSocket *s, gboolean copy)
{
  if (copy)
    {
      g_free (*own);
      *own = g_memdup2 (s->info, MAX (s->info_len, 1));
      *info = *own;
    }
  else
    {
      g_clear_pointer (own, g_free);
      *info = s->info;
    }
  *info_len = s->info_len;
}

void
_mptcp_conn_list_subflow_store_remove (GListStore *store, guint position)
{
  g_autoptr(MptcpSubflowEntry) sf = g_list_model_get_item (G_LIST_MODEL (store), position);

  if (sf->parent != NULL)
    sf->parent->n_subflows--;
  sf->parent = NULL;
  subflow_detach (sf);
  g_list_store_remove (store, position);
  _mptcp_conn_list_set_state (G_OBJECT (sf), &sf->state, MPTCP_TCP_STATE_CLOSE,
                              _mptcp_subflow_entry_pspecs[SF_PROP_STATE]);
}

/* Drops the subflows of entry that the last dump did not see (all if all is TRUE). */
static void
entry_sweep_subflows (MptcpConnectionList *self, MptcpConnectionEntry *entry, gboolean all)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (entry->subflows));

  for (guint i = n; i-- > 0;)
    {
      MptcpSubflowEntry *sf = g_list_model_get_item (G_LIST_MODEL (entry->subflows), i);
      gboolean gone = all || sf->generation != self->generation;

      if (gone)
        g_hash_table_remove (self->subflows, &sf->cookie);
      g_object_unref (sf);
      if (gone)
        _mptcp_conn_list_subflow_store_remove (entry->subflows, i);
    }
}

MptcpConnectionEntry *
_mptcp_conn_list_entry_new (const MptcpDiagSocket *s, guint32 token)
{
  MptcpConnectionEntry *entry = g_object_new (MPTCP_TYPE_CONNECTION_ENTRY, NULL);

  entry->cookie = s->cookie;
  entry->local = diag_address (s, FALSE);
  entry->remote = diag_address (s, TRUE);
  entry->token = token;
  entry->uid = s->uid;
  entry->inode = s->inode;
  entry->state = s->state;
  entry->listener = s->state == MPTCP_TCP_STATE_LISTEN;
  return entry;
}

static void
apply_connection (MptcpConnectionList *self, const MptcpDiagSocket *s, GPtrArray **added)
{
  MptcpConnectionEntry *entry = g_hash_table_lookup (self->by_cookie, &s->cookie);
  guint32 token = 0;

  if (s->info_len >= 16)
    memcpy (&token, s->info + 12, 4);

  if (entry == NULL)
    {
      entry = _mptcp_conn_list_entry_new (s, token);
      entry->in_list = TRUE;
      g_hash_table_insert (self->by_cookie, &entry->cookie, entry);
      if (*added == NULL)
        *added = g_ptr_array_new ();
      g_ptr_array_add (*added, entry);
    }
  else
    {
      if (entry->token != token)
        {
          if (entry->token != 0 && g_hash_table_lookup (self->by_token,
                                                        GUINT_TO_POINTER (entry->token)) == entry)
            g_hash_table_remove (self->by_token, GUINT_TO_POINTER (entry->token));
          entry->token = token;
          entry->token_changed = TRUE;
          g_object_notify_by_pspec (G_OBJECT (entry), _mptcp_connection_entry_pspecs[CE_PROP_TOKEN]);
        }
      _mptcp_conn_list_set_state (G_OBJECT (entry), &entry->state, s->state,
                                  _mptcp_connection_entry_pspecs[CE_PROP_STATE]);
    }
  if (token != 0 && (entry->generation == 0 || entry->token_changed))
    g_hash_table_replace (self->by_token, GUINT_TO_POINTER (token), entry);
  entry->token_changed = FALSE;
  entry->generation = self->generation;
  entry->seen_subflows = 0;
  _mptcp_conn_list_take_info (&entry->own_info, &entry->info, &entry->info_len, s, FALSE);
}

/* A new subflow of entry, appended to its model. */
void
_mptcp_conn_list_subflow_add (MptcpConnectionList *self, MptcpConnectionEntry *entry,
                              const MptcpDiagSocket *s, gboolean copy)
{
  MptcpSubflowEntry *sf = g_object_new (MPTCP_TYPE_SUBFLOW_ENTRY, NULL);

  sf->cookie = s->cookie;
  sf->parent = entry;
  sf->local = diag_address (s, FALSE);
  sf->remote = diag_address (s, TRUE);
  sf->id_loc = s->id_loc;
  sf->id_rem = s->id_rem;
  sf->token_rem = s->token_rem;
  sf->flags = s->sf_flags;
  sf->state = s->state;
  sf->generation = self->generation;
  _mptcp_conn_list_take_info (&sf->own_info, &sf->info, &sf->info_len, s, copy);
  g_hash_table_insert (self->subflows, &sf->cookie, sf);
  entry->n_subflows++;
  entry->seen_subflows++;
  g_list_store_append (entry->subflows, sf);
  g_object_unref (sf);
}

/* A listed subflow as s shows it now: the notifications of what changed. */
void
_mptcp_conn_list_subflow_update (MptcpSubflowEntry *sf, const MptcpDiagSocket *s, gboolean copy)
{
  guint32 changed;

  _mptcp_conn_list_take_info (&sf->own_info, &sf->info, &sf->info_len, s, copy);
  changed = sf->flags ^ s->sf_flags;
  sf->flags = s->sf_flags;
  sf->id_loc = s->id_loc;
  sf->id_rem = s->id_rem;
  sf->token_rem = s->token_rem;
  if (changed & MPTCP_SUBFLOW_FLAG_BKUP_LOC)
    g_object_notify_by_pspec (G_OBJECT (sf), _mptcp_subflow_entry_pspecs[SF_PROP_BACKUP]);
  if (changed & MPTCP_SUBFLOW_FLAG_BKUP_REM)
    g_object_notify_by_pspec (G_OBJECT (sf), _mptcp_subflow_entry_pspecs[SF_PROP_PEER_BACKUP]);
  _mptcp_conn_list_set_state (G_OBJECT (sf), &sf->state, s->state,
                              _mptcp_subflow_entry_pspecs[SF_PROP_STATE]);
}

/* The subflow the kernel lists with s (its cookie) for entry, or NULL after taking it from
 * another entry (the token was taken by another connection: a new subflow). */
MptcpSubflowEntry *
_mptcp_conn_list_subflow_of (MptcpConnectionList *self, MptcpConnectionEntry *entry,
                             MptcpSubflowEntry *sf)
{
  guint position;

  if (sf == NULL || sf->parent == entry)
    return sf;
  if (sf->parent != NULL && g_list_store_find (sf->parent->subflows, sf, &position))
    _mptcp_conn_list_subflow_store_remove (sf->parent->subflows, position);
  g_hash_table_remove (self->subflows, &sf->cookie);
  return NULL;
}

static void
apply_subflow (MptcpConnectionList *self, const MptcpDiagSocket *s)
{
  MptcpSubflowEntry *sf = g_hash_table_lookup (self->subflows, &s->cookie);
  MptcpConnectionEntry *entry;

  /* the common case: a known subflow of a connection this dump saw */
  if (sf != NULL && sf->parent != NULL && sf->parent->token == s->token_loc &&
      sf->parent->generation == self->generation)
    entry = sf->parent;
  else
    entry = g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (s->token_loc));
  if (entry == NULL || entry->generation != self->generation)
    return;
  sf = _mptcp_conn_list_subflow_of (self, entry, sf);
  if (sf == NULL)
    {
      _mptcp_conn_list_subflow_add (self, entry, s, FALSE);
      return;
    }
  if (sf->generation != self->generation)
    entry->seen_subflows++;
  sf->generation = self->generation;
  _mptcp_conn_list_subflow_update (sf, s, FALSE);
}

/* What the dump says about the kernel's subflow details: TRUE (details seen), FALSE (the TCP
 * socket of an MPTCP connection came without them), or unchanged when it cannot tell. */
static void
detect_subflow_visibility (MptcpConnectionList *self)
{
  GArray *tcp = NEXT_DUMP (self)->subflows;
  GArray *conns = NEXT_DUMP (self)->connections;
  gboolean visible = self->subflows_visible;
  gboolean decided = FALSE;

  for (guint i = 0; i < tcp->len && !decided; i++)
    {
      const MptcpDiagSocket *s = &g_array_index (tcp, MptcpDiagSocket, i);

      if (s->ulp_attrs)
        {
          visible = TRUE;
          decided = TRUE;
        }
      else if (s->ulp_mptcp)
        {
          visible = FALSE;
          decided = TRUE;
        }
    }
  /* No MPTCP ULP information at all: is one of the TCP sockets the first subflow of an
   * MPTCP connection? (checked on the first established connection only, so it costs one
   * walk of the TCP sockets) */
  for (guint i = 0; i < conns->len && !decided; i++)
    {
      const MptcpDiagSocket *c = &g_array_index (conns, MptcpDiagSocket, i);

      if (c->state != MPTCP_TCP_STATE_ESTABLISHED)
        continue;
      for (guint j = 0; j < tcp->len; j++)
        {
          if (_mptcp_diag_socket_same_tuple (c, &g_array_index (tcp, MptcpDiagSocket, j)))
            {
              visible = FALSE;
              decided = TRUE;
              break;
            }
        }
      break;
    }
  if (visible != self->subflows_visible)
    {
      self->subflows_visible = visible;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBFLOWS_VISIBLE]);
    }
}

/* An entry leaves the list: out of the tables, with its own counters. */
void
_mptcp_conn_list_entry_forget (MptcpConnectionList *self, MptcpConnectionEntry *entry)
{
  g_hash_table_remove (self->by_cookie, &entry->cookie);
  if (entry->token != 0 &&
      g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (entry->token)) == entry)
    g_hash_table_remove (self->by_token, GUINT_TO_POINTER (entry->token));
  entry->in_list = FALSE;
  entry_detach (entry);
}

/* After the list's items-changed for a removed entry: its subflows go, its state is CLOSE. */
void
_mptcp_conn_list_entry_gone (MptcpConnectionList *self, MptcpConnectionEntry *entry)
{
  entry_sweep_subflows (self, entry, TRUE);
  _mptcp_conn_list_set_state (G_OBJECT (entry), &entry->state, MPTCP_TCP_STATE_CLOSE,
             _mptcp_connection_entry_pspecs[CE_PROP_STATE]);
}

void
_mptcp_conn_list_notify_n_items (MptcpConnectionList *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

/* Applies a complete dump: updates in place, removes what went, appends what came. */
static void
apply_dump (MptcpConnectionList *self)
{
  GPtrArray *added = NULL;
  guint old_len = self->items->len;
  guint n_before, i;

  self->applying = TRUE;
  self->generation++;
  for (i = 0; i < NEXT_DUMP (self)->connections->len; i++)
    apply_connection (self, &g_array_index (NEXT_DUMP (self)->connections, MptcpDiagSocket, i),
                      &added);
  detect_subflow_visibility (self);
  if (self->subflows_visible)
    for (i = 0; i < NEXT_DUMP (self)->subflows->len; i++)
      {
        const MptcpDiagSocket *s = &g_array_index (NEXT_DUMP (self)->subflows, MptcpDiagSocket, i);

        if (s->ulp_attrs)
          apply_subflow (self, s);
      }

  /* removals, one items-changed per run of removed entries, from the end */
  i = old_len;
  while (i > 0)
    {
      guint end = i, start;

      /* entries that stay: drop the subflows this dump did not see (one pass over the
       * entries for both; an entry that saw all its subflows costs no walk) */
      while (i > 0 && ((MptcpConnectionEntry *) g_ptr_array_index (self->items, i - 1))->generation
                      == self->generation)
        {
          MptcpConnectionEntry *entry = g_ptr_array_index (self->items, i - 1);

          if (entry->n_subflows > 0 &&
              (entry->seen_subflows != entry->n_subflows || !self->subflows_visible))
            entry_sweep_subflows (self, entry, !self->subflows_visible);
          i--;
        }
      if (i == 0)
        break;
      end = i;
      while (i > 0 && ((MptcpConnectionEntry *) g_ptr_array_index (self->items, i - 1))->generation
                      != self->generation)
        i--;
      start = i;
      {
        GPtrArray *gone = g_ptr_array_new_with_free_func (g_object_unref);

        for (guint k = start; k < end; k++)
          {
            MptcpConnectionEntry *entry = g_ptr_array_index (self->items, k);

            g_ptr_array_add (gone, g_object_ref (entry));
            _mptcp_conn_list_entry_forget (self, entry);
          }
        g_ptr_array_remove_range (self->items, start, end - start);
        g_list_model_items_changed (G_LIST_MODEL (self), start, end - start, 0);
        for (guint k = 0; k < gone->len; k++)
          _mptcp_conn_list_entry_gone (self, g_ptr_array_index (gone, k));
        g_ptr_array_unref (gone);
      }
    }

  n_before = self->items->len;
  if (added != NULL)
    {
      for (i = 0; i < added->len; i++)
        g_ptr_array_add (self->items, added->pdata[i]);
      g_list_model_items_changed (G_LIST_MODEL (self), n_before, 0, added->len);
      g_ptr_array_unref (added);
    }
  /* every object in the list now points into this dump or into a copy of its own (the
   * others got their own copy) */
  self->active = !self->active;
  self->n_dumps++;
  self->applying = FALSE;
  if (self->items->len != old_len)
    _mptcp_conn_list_notify_n_items (self);
  if (self->initialized)     /* not the dump of mptcp_connection_list_new(): nobody listens yet */
    g_signal_emit (self, signals[SIGNAL_REFRESHED], 0);
}

/* ---- dumps ---------------------------------------------------------------------------------- */

static void
return_tasks (GPtrArray *tasks, const GError *error)
{
  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = tasks->pdata[i];

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else if (!g_task_return_error_if_cancelled (task))
        g_task_return_boolean (task, TRUE);
    }
  g_ptr_array_set_size (tasks, 0);
}

/* Starts a dump for the async callers that came while another ran or was applied. */
static void
start_queued (MptcpConnectionList *self)
{
  GPtrArray *tmp;

  if (self->queued->len == 0 || NEXT_DUMP (self)->running || self->applying)
    return;
  tmp = self->waiting;
  self->waiting = self->queued;
  self->queued = tmp;
  _mptcp_conn_list_start_async_dump (self);
}

/* After a dump (applied or failed): the events that waited for it, then the next dump (an
 * overrun's, or one for async callers queued meanwhile). */
static void
after_dump (MptcpConnectionList *self)
{
  _mptcp_conn_list_apply_pending_events (self);
  if (self->resync && !NEXT_DUMP (self)->running && !self->applying)
    {
      self->resync = FALSE;
      if (self->queued->len == 0)
        {
          _mptcp_conn_list_start_async_dump (self);
          return;
        }
    }
  start_queued (self);
}

/* The running dump ended (error NULL: complete). */
static void
dump_finished (MptcpConnectionList *self, GError *error)
{
  g_autoptr(GPtrArray) waiting = NULL;

  if (error == NULL)
    apply_dump (self);
  else
    g_debug ("sock_diag dump failed: %s", error->message);

  waiting = g_steal_pointer (&self->waiting);
  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  after_dump (self);
  g_object_ref (self);
  return_tasks (waiting, error);
  g_object_unref (self);
  g_clear_error (&error);
}

static gboolean
on_readable (int fd, GIOCondition condition, gpointer user_data)
{
  MptcpConnectionList *self = user_data;
  GError *error = NULL;

  if (!NEXT_DUMP (self)->running)
    {
      /* nothing expected: drop stale datagrams */
      guint8 junk[64];

      while (recv (fd, junk, sizeof junk, MSG_DONTWAIT | MSG_TRUNC) > 0)
        ;
      return G_SOURCE_CONTINUE;
    }
  if (!_mptcp_sockdiag_dump_read (self->diag, NEXT_DUMP (self), &error))
    dump_finished (self, error);
  else if (!NEXT_DUMP (self)->running)
    dump_finished (self, NULL);
  return G_SOURCE_CONTINUE;
}

void
_mptcp_conn_list_start_async_dump (MptcpConnectionList *self)
{
  GError *error = NULL;

  if (!_mptcp_sockdiag_dump_start (self->diag, NEXT_DUMP (self), &error))
    dump_finished (self, error);
}

static gboolean
on_timer (gpointer user_data)
{
  MptcpConnectionList *self = user_data;

  if (!NEXT_DUMP (self)->running && !self->applying)
    _mptcp_conn_list_start_async_dump (self);
  return G_SOURCE_CONTINUE;
}

static void
restart_timer (MptcpConnectionList *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  if (self->interval > 0 && self->initialized)
    {
      self->timer = g_timeout_source_new (self->interval);
      g_source_set_callback (self->timer, on_timer, self, NULL);
      g_source_set_static_name (self->timer, "[mptcp-glib] connection list dump");
      g_source_attach (self->timer, self->context);
    }
}

/* the running async dump, driven to its end by blocking reads */
static void
finish_running_dump (MptcpConnectionList *self)
{
  GError *error = NULL;

  while (NEXT_DUMP (self)->running)
    {
      GPollFD pfd = { _mptcp_sockdiag_get_fd (self->diag), G_IO_IN, 0 };
      int r = g_poll (&pfd, 1, DUMP_TIMEOUT_MS);

      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        {
          NEXT_DUMP (self)->running = FALSE;
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "No sock_diag reply within %u ms", DUMP_TIMEOUT_MS);
          break;
        }
      if (!_mptcp_sockdiag_dump_read (self->diag, NEXT_DUMP (self), &error))
        break;
    }
  dump_finished (self, error);
}

static gboolean
mptcp_connection_list_initable_init (GInitable *initable, GCancellable *cancellable,
                                     GError **error)
{
  MptcpConnectionList *self = MPTCP_CONNECTION_LIST (initable);

  if (self->initialized)
    return TRUE;
  if (self->fake_fd >= 0)
    {
      self->diag = _mptcp_sockdiag_new_for_fd (self->fake_fd);
      self->fake_fd = -1;
    }
  else
    {
      self->diag = _mptcp_sockdiag_new (error);
      if (self->diag == NULL)
        return FALSE;
      /* subscribed before the first dump: what changes after it is told */
      _mptcp_conn_list_start_events (self);
      if (!_mptcp_sockdiag_dump_sync (self->diag, NEXT_DUMP (self), DUMP_TIMEOUT_MS, cancellable,
                                      error))
        {
          _mptcp_conn_list_stop_events (self);
          g_clear_pointer (&self->diag, _mptcp_sockdiag_free);
          return FALSE;
        }
      apply_dump (self);
    }
  if (self->event_source == MPTCP_EVENT_SOURCE_NONE)
    self->event_source = MPTCP_EVENT_SOURCE_POLLING;
  self->fd_source = g_unix_fd_source_new (_mptcp_sockdiag_get_fd (self->diag), G_IO_IN);
  g_source_set_callback (self->fd_source, G_SOURCE_FUNC (on_readable), self, NULL);
  g_source_set_static_name (self->fd_source, "[mptcp-glib] sock_diag");
  g_source_attach (self->fd_source, self->context);
  self->initialized = TRUE;
  restart_timer (self);
  return TRUE;
}

static void
mptcp_connection_list_initable_iface_init (GInitableIface *iface)
{
  iface->init = mptcp_connection_list_initable_init;
}

static void
mptcp_connection_list_dispose (GObject *object)
{
  MptcpConnectionList *self = MPTCP_CONNECTION_LIST (object);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                 "The connection list was disposed");

  if (self->waiting != NULL)
    return_tasks (self->waiting, error);
  if (self->queued != NULL)
    return_tasks (self->queued, error);
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  if (self->fd_source != NULL)
    {
      g_source_destroy (self->fd_source);
      g_clear_pointer (&self->fd_source, g_source_unref);
    }
  NEXT_DUMP (self)->running = FALSE;
  _mptcp_conn_list_stop_events (self);
  G_OBJECT_CLASS (mptcp_connection_list_parent_class)->dispose (object);
}

static void
mptcp_connection_list_finalize (GObject *object)
{
  MptcpConnectionList *self = MPTCP_CONNECTION_LIST (object);

  for (guint i = 0; i < self->items->len; i++)
    {
      MptcpConnectionEntry *entry = g_ptr_array_index (self->items, i);
      guint n = g_list_model_get_n_items (G_LIST_MODEL (entry->subflows));

      for (guint k = 0; k < n; k++)
        {
          g_autoptr(MptcpSubflowEntry) sf =
            g_list_model_get_item (G_LIST_MODEL (entry->subflows), k);

          sf->parent = NULL;
          subflow_detach (sf);
        }
      entry->in_list = FALSE;
      entry_detach (entry);
    }
  g_hash_table_unref (self->subflows);
  g_hash_table_unref (self->by_token);
  g_hash_table_unref (self->by_cookie);
  g_ptr_array_unref (self->items);
  g_ptr_array_unref (self->waiting);
  g_ptr_array_unref (self->queued);
  g_clear_pointer (&self->pending_events, g_array_unref);
  _mptcp_diag_dump_clear (&self->dumps[0]);
  _mptcp_diag_dump_clear (&self->dumps[1]);
  _mptcp_sockdiag_free (self->diag);
  if (self->fake_fd >= 0)
    close (self->fake_fd);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (mptcp_connection_list_parent_class)->finalize (object);
}

static void
mptcp_connection_list_get_property (GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
  MptcpConnectionList *self = MPTCP_CONNECTION_LIST (object);

  switch (prop_id)
    {
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    case PROP_SUBFLOWS_VISIBLE:
      g_value_set_boolean (value, self->subflows_visible);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->items->len);
      break;
    case PROP_EVENT_SOURCE:
      g_value_set_enum (value, self->event_source);
      break;
    case PROP_INCLUDE_LISTENERS:
      g_value_set_boolean (value, self->include_listeners);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mptcp_connection_list_set_property (GObject *object, guint prop_id, const GValue *value,
                                    GParamSpec *pspec)
{
  MptcpConnectionList *self = MPTCP_CONNECTION_LIST (object);

  switch (prop_id)
    {
    case PROP_INTERVAL:
      mptcp_connection_list_set_interval (self, g_value_get_uint (value));
      break;
    case PROP_INCLUDE_LISTENERS:
      mptcp_connection_list_set_include_listeners (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mptcp_connection_list_class_init (MptcpConnectionListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mptcp_connection_list_dispose;
  object_class->finalize = mptcp_connection_list_finalize;
  object_class->get_property = mptcp_connection_list_get_property;
  object_class->set_property = mptcp_connection_list_set_property;

  /**
   * MptcpConnectionList:interval:
   *
   * Milliseconds between two dumps of the namespace's sockets; 0 stops the periodic dumps
   * (the list then changes on mptcp_connection_list_refresh() only). Default 1000.
   *
   * Since: 0.2
   */
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", "Interval", "Milliseconds between two dumps",
                       0, G_MAXUINT, DEFAULT_INTERVAL_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpConnectionList:subflows-visible:
   *
   * %FALSE when the last dumps showed that the kernel hides the MPTCP details of subflows
   * from this process (Linux 6.1 and 6.12 without CAP_NET_ADMIN): the connections are listed,
   * but their subflow models stay empty; see mptcp_connection_list_check_subflows().
   * %TRUE otherwise (also while no dump could tell, e.g. with no connection at all).
   *
   * Since: 0.2
   */
  properties[PROP_SUBFLOWS_VISIBLE] =
    g_param_spec_boolean ("subflows-visible", "Subflows visible",
                          "Whether the kernel shows this process the subflows", TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpConnectionList:n-items:
   *
   * The number of connections in the list.
   *
   * Since: 0.2
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", "Number of items", "The number of connections",
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpConnectionList:event-source:
   *
   * How the list follows the namespace, decided when it is made:
   * %MPTCP_EVENT_SOURCE_NETLINK when the process could join the kernel's MPTCP event stream
   * (it needs CAP_NET_ADMIN): each connection and subflow that comes, goes or changes its
   * backup flags is applied as its event arrives (a sock_diag lookup of that one socket, no
   * dump), and the periodic dumps of #MptcpConnectionList:interval refresh the counters (and
   * catch up after lost events). %MPTCP_EVENT_SOURCE_POLLING otherwise: the list changes with
   * the periodic dumps and mptcp_connection_list_refresh() only. Never
   * %MPTCP_EVENT_SOURCE_NONE once the list is made.
   *
   * Since: 0.2
   */
  properties[PROP_EVENT_SOURCE] =
    g_param_spec_enum ("event-source", "Event source", "How the list follows the namespace",
                       MPTCP_TYPE_EVENT_SOURCE, MPTCP_EVENT_SOURCE_NONE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpConnectionList:include-listeners:
   *
   * Whether the list also holds the namespace's listening MPTCP sockets (entries with
   * #MptcpConnectionEntry:is-listener %TRUE, appended like connections). Default %FALSE.
   * Set at construction (`g_object_new (MPTCP_TYPE_CONNECTION_LIST, "include-listeners",
   * TRUE, NULL)` with g_initable_init(), or from a binding) the first dump has them;
   * changed later, the next dump adds or drops them. With
   * #MptcpConnectionList:event-source %MPTCP_EVENT_SOURCE_NETLINK, a listener that closes
   * leaves the list at its LISTENER_CLOSED event, and one that is made makes the list dump
   * at its LISTENER_CREATED event (a listener has no token to look it up by); Linux before
   * 6.2 has no listener events: there they change with the periodic dumps.
   *
   * Since: 0.2
   */
  properties[PROP_INCLUDE_LISTENERS] =
    g_param_spec_boolean ("include-listeners", "Include listeners",
                          "Whether listening sockets are listed too", FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS |
                          G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MptcpConnectionList::refreshed:
   * @self: the #MptcpConnectionList
   *
   * Emitted after each dump was applied (the periodic ones, mptcp_connection_list_refresh()
   * and mptcp_connection_list_refresh_async()), once its #GListModel::items-changed, the
   * entries' notifications and #MptcpConnectionList:n-items were emitted; also when the dump
   * changed nothing. A viewer redraws its counters here (mptcp_connection_entry_get_info()
   * and mptcp_subflow_entry_get_stats() change at every dump without a notification). Not
   * emitted for the dump made by mptcp_connection_list_new(), nor for a dump that failed.
   * A handler may call mptcp_connection_list_refresh_async().
   *
   * Since: 0.2
   */
  signals[SIGNAL_REFRESHED] =
    g_signal_new ("refreshed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
mptcp_connection_list_init (MptcpConnectionList *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->fake_fd = -1;
  self->interval = DEFAULT_INTERVAL_MS;
  self->subflows_visible = TRUE;
  _mptcp_diag_dump_init (&self->dumps[0]);
  _mptcp_diag_dump_init (&self->dumps[1]);
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_cookie = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->by_token = g_hash_table_new (NULL, NULL);
  self->subflows = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  self->queued = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * mptcp_connection_list_new:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Opens a sock_diag socket in the calling thread's network namespace and dumps its MPTCP
 * connections once, synchronously, so the new list is complete when it is returned. Needs no
 * privilege.
 *
 * Returns: (transfer full): a new #MptcpConnectionList, or %NULL with @error set (a
 *   %G_IO_ERROR from the socket or the dump)
 *
 * Since: 0.2
 */
MptcpConnectionList *
mptcp_connection_list_new (GCancellable *cancellable, GError **error)
{
  return g_initable_new (MPTCP_TYPE_CONNECTION_LIST, cancellable, error, NULL);
}

MptcpConnectionList *
_mptcp_connection_list_new_for_fd (int fd)
{
  MptcpConnectionList *self = g_object_new (MPTCP_TYPE_CONNECTION_LIST, "interval", 0, NULL);

  self->fake_fd = fd;
  if (!g_initable_init (G_INITABLE (self), NULL, NULL))
    g_assert_not_reached ();
  return self;
}

/**
 * mptcp_connection_list_refresh:
 * @self: a #MptcpConnectionList
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Dumps the namespace's connections now, blocking, and applies the difference before it
 * returns (the signals are emitted from within this call). A dump already running
 * (periodic, or from mptcp_connection_list_refresh_async()) is first read to its end.
 *
 * From a signal handler of the list (or of its entries) while it applies a dump, it fails
 * with %G_IO_ERROR_BUSY; mptcp_connection_list_refresh_async() may be called there.
 *
 * Returns: %TRUE on success; %FALSE with @error set (a %G_IO_ERROR: the socket failed,
 *   the kernel refused, %G_IO_ERROR_INVALID_DATA for a malformed reply,
 *   %G_IO_ERROR_CANCELLED or %G_IO_ERROR_BUSY); the list is then unchanged
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_list_refresh (MptcpConnectionList *self, GCancellable *cancellable,
                               GError **error)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->applying)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           "The connection list is applying a dump (refresh() was called from "
                           "one of its signal handlers); use refresh_async()");
      return FALSE;
    }
  /* finishing one may start the next, for async callers queued meanwhile: drive those too */
  while (NEXT_DUMP (self)->running)
    finish_running_dump (self);
  if (!_mptcp_sockdiag_dump_sync (self->diag, NEXT_DUMP (self), DUMP_TIMEOUT_MS, cancellable,
                                  error))
    return FALSE;
  apply_dump (self);
  after_dump (self);
  return TRUE;
}

/**
 * mptcp_connection_list_refresh_async:
 * @self: a #MptcpConnectionList
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the list reflects a dump that started after this call
 * @user_data: data for @callback
 *
 * Dumps the namespace's connections without blocking: the replies are read as the list's
 * main context runs, and @callback is called there once the list reflects a dump that
 * started after this call. Calls made while a dump runs share the next one.
 *
 * Since: 0.2
 */
void
mptcp_connection_list_refresh_async (MptcpConnectionList *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (MPTCP_IS_CONNECTION_LIST (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mptcp_connection_list_refresh_async);
  g_task_set_check_cancellable (task, TRUE);
  if (NEXT_DUMP (self)->running || self->applying)
    g_ptr_array_add (self->queued, task);
  else
    {
      g_ptr_array_add (self->waiting, task);
      _mptcp_conn_list_start_async_dump (self);
    }
}

/**
 * mptcp_connection_list_refresh_finish:
 * @self: a #MptcpConnectionList
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Ends mptcp_connection_list_refresh_async().
 *
 * Returns: %TRUE on success; %FALSE with @error set as for mptcp_connection_list_refresh()
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_list_refresh_finish (MptcpConnectionList *self, GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        mptcp_connection_list_refresh_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mptcp_connection_list_get_interval:
 * @self: a #MptcpConnectionList
 *
 * Reads a property of the list.
 *
 * Returns: the milliseconds between two dumps, see #MptcpConnectionList:interval
 *
 * Since: 0.2
 */
guint
mptcp_connection_list_get_interval (MptcpConnectionList *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), 0);
  return self->interval;
}

/**
 * mptcp_connection_list_set_interval:
 * @self: a #MptcpConnectionList
 * @interval_ms: milliseconds between two dumps, 0 for none
 *
 * Sets #MptcpConnectionList:interval; the next periodic dump comes @interval_ms from now.
 *
 * Since: 0.2
 */
void
mptcp_connection_list_set_interval (MptcpConnectionList *self, guint interval_ms)
{
  g_return_if_fail (MPTCP_IS_CONNECTION_LIST (self));

  if (self->interval == interval_ms)
    return;
  self->interval = interval_ms;
  restart_timer (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERVAL]);
}

/**
 * mptcp_connection_list_get_subflows_visible:
 * @self: a #MptcpConnectionList
 *
 * Reads a property of the list.
 *
 * Returns: whether the kernel shows this process the subflows, see
 *   #MptcpConnectionList:subflows-visible
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_list_get_subflows_visible (MptcpConnectionList *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), FALSE);
  return self->subflows_visible;
}

/**
 * mptcp_connection_list_check_subflows:
 * @self: a #MptcpConnectionList
 * @error: return location for a #GError
 *
 * Says whether the subflow models can be trusted: fails when
 * #MptcpConnectionList:subflows-visible is %FALSE.
 *
 * Returns: %TRUE if the kernel shows this process the subflows; %FALSE with
 *   %MPTCP_ERROR_PERMISSION_DENIED otherwise (the kernel shows subflows to CAP_NET_ADMIN
 *   callers only)
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_list_check_subflows (MptcpConnectionList *self, GError **error)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), FALSE);

  if (self->subflows_visible)
    return TRUE;
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                       "This kernel reports the subflows of MPTCP connections through "
                       "sock_diag only to callers with CAP_NET_ADMIN");
  return FALSE;
}

/**
 * mptcp_connection_list_find_token:
 * @self: a #MptcpConnectionList
 * @token: a local connection token, as mptcp_connection_get_token() returns it
 *
 * Finds the entry of a connection by its local token, for instance the entry of one of the
 * caller's own #MptcpConnection objects.
 *
 * Returns: (transfer none) (nullable): the entry, or %NULL if the last dump did not see it
 *
 * Since: 0.2
 */
MptcpConnectionEntry *
mptcp_connection_list_find_token (MptcpConnectionList *self, guint32 token)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), NULL);

  if (token == 0)
    return NULL;
  return g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (token));
}

/**
 * mptcp_connection_list_get_event_source:
 * @self: a #MptcpConnectionList
 *
 * Reads a property of the list.
 *
 * Returns: how the list follows the namespace, see #MptcpConnectionList:event-source
 *
 * Since: 0.2
 */
MptcpEventSource
mptcp_connection_list_get_event_source (MptcpConnectionList *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), MPTCP_EVENT_SOURCE_NONE);
  return self->event_source;
}

guint
_mptcp_connection_list_get_n_dumps (MptcpConnectionList *self)
{
  return self->n_dumps;
}

/**
 * mptcp_connection_list_get_include_listeners:
 * @self: a #MptcpConnectionList
 *
 * Reads a property of the list.
 *
 * Returns: whether listening sockets are listed, see
 *   #MptcpConnectionList:include-listeners
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_list_get_include_listeners (MptcpConnectionList *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_LIST (self), FALSE);
  return self->include_listeners;
}

/**
 * mptcp_connection_list_set_include_listeners:
 * @self: a #MptcpConnectionList
 * @include: whether to list listening sockets too
 *
 * Sets #MptcpConnectionList:include-listeners; the next dump (periodic, or
 * mptcp_connection_list_refresh()) adds or drops the listeners.
 *
 * Since: 0.2
 */
void
mptcp_connection_list_set_include_listeners (MptcpConnectionList *self, gboolean include)
{
  g_return_if_fail (MPTCP_IS_CONNECTION_LIST (self));

  include = !!include;
  if (self->include_listeners == include)
    return;
  self->include_listeners = include;
  self->dumps[0].listeners = include;
  self->dumps[1].listeners = include;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INCLUDE_LISTENERS]);
}
