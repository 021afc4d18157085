/* mptcp-connection-list-events.c: how MptcpConnectionList applies the kernel's MPTCP events
 * (CAP_NET_ADMIN): the subscription, one sock_diag lookup per event, the events queued while a
 * dump runs, a dump after an overrun
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/socket.h>
#include <linux/mptcp.h>

#include "mptcp-connection-list-impl-private.h"
#include "mptcp-connection-entry-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-kernel-private.h"
#include "mptcp-enum-types.h"

static void on_overrun (gpointer user_data);

/* The lookup key of an event's subflow 4-tuple (IPv4-mapped addresses as IPv4). */
static void
event_key (const MptcpNlEvent *event, MptcpDiagSocket *key)
{
  MptcpNlInetAddr saddr = event->saddr, daddr = event->daddr;
  int sfamily = event->family, dfamily = event->family;

  _mptcp_nl_inet_normalize (&sfamily, &saddr);
  _mptcp_nl_inet_normalize (&dfamily, &daddr);
  memset (key, 0, G_STRUCT_OFFSET (MptcpDiagSocket, info));
  key->family = sfamily == AF_INET6 ? AF_INET6 : AF_INET;
  key->sport = event->sport;
  key->dport = event->dport;
  memcpy (key->src, &saddr, key->family == AF_INET ? 4 : 16);
  memcpy (key->dst, &daddr, key->family == AF_INET ? 4 : 16);
}

/* Whether a listed subflow has the 4-tuple of key (IPv4-mapped addresses as IPv4). */
static gboolean
subflow_has_tuple (MptcpSubflowEntry *sf, const MptcpDiagSocket *key)
{
  MptcpDiagSocket mine;
  GInetSocketAddress *ends[2] = { sf->local, sf->remote };

  memset (&mine, 0, G_STRUCT_OFFSET (MptcpDiagSocket, info));
  for (guint i = 0; i < 2; i++)
    {
      GInetAddress *a = g_inet_socket_address_get_address (ends[i]);
      gsize size = g_inet_address_get_native_size (a);

      mine.family = size == 4 ? AF_INET : AF_INET6;
      memcpy (i == 0 ? mine.src : mine.dst, g_inet_address_to_bytes (a), size);
    }
  mine.sport = g_inet_socket_address_get_port (sf->local);
  mine.dport = g_inet_socket_address_get_port (sf->remote);
  return _mptcp_diag_socket_same_tuple (&mine, key);
}

/* The entry of token as the kernel shows it now (looked up by token, no dump): updated, or
 * added at the end of the list. NULL when the kernel has no such connection. */
static MptcpConnectionEntry *
event_sync_connection (MptcpConnectionList *self, guint32 token)
{
  MptcpConnectionEntry *entry = g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (token));
  g_autoptr(GError) error = NULL;
  MptcpDiagSocket s;
  gboolean found;

  if (!_mptcp_sockdiag_lookup_one (self->lookup, TRUE, token, NULL, &s, &found, &error))
    {
      g_debug ("sock_diag lookup of connection %08x failed: %s", token, error->message);
      return entry;
    }
  if (!found)
    return entry;
  if (entry == NULL)
    entry = g_hash_table_lookup (self->by_cookie, &s.cookie);
  if (entry != NULL)
    {
      _mptcp_conn_list_take_info (&entry->own_info, &entry->info, &entry->info_len, &s, TRUE);
      _mptcp_conn_list_set_state (G_OBJECT (entry), &entry->state, s.state,
                 _mptcp_connection_entry_pspecs[CE_PROP_STATE]);
      return entry;
    }
  entry = _mptcp_conn_list_entry_new (&s, token);
  entry->in_list = TRUE;
  entry->generation = self->generation;
  _mptcp_conn_list_take_info (&entry->own_info, &entry->info, &entry->info_len, &s, TRUE);
  g_hash_table_insert (self->by_cookie, &entry->cookie, entry);
  g_hash_table_replace (self->by_token, GUINT_TO_POINTER (token), entry);
  g_ptr_array_add (self->items, entry);
  g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
  _mptcp_conn_list_notify_n_items (self);
  return entry;
}

/* The subflow of an event's 4-tuple as the kernel shows it now (one lookup): updated, or
 * appended to the entry's subflows. */
static void
event_sync_subflow (MptcpConnectionList *self, MptcpConnectionEntry *entry,
                    const MptcpNlEvent *event)
{
  g_autoptr(GError) error = NULL;
  MptcpDiagSocket key, s;
  MptcpSubflowEntry *sf;
  gboolean found;

  event_key (event, &key);
  if (!_mptcp_sockdiag_lookup_one (self->lookup, FALSE, 0, &key, &s, &found, &error))
    {
      g_debug ("sock_diag lookup of a subflow of %08x failed: %s", entry->token,
               error->message);
      return;
    }
  if (!found || !s.ulp_attrs || s.token_loc != entry->token)
    return;
  sf = _mptcp_conn_list_subflow_of (self, entry, g_hash_table_lookup (self->subflows, &s.cookie));
  if (sf == NULL)
    _mptcp_conn_list_subflow_add (self, entry, &s, TRUE);
  else
    _mptcp_conn_list_subflow_update (sf, &s, TRUE);
}

static void
event_remove_subflow (MptcpConnectionList *self, MptcpConnectionEntry *entry,
                      const MptcpNlEvent *event)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (entry->subflows));
  MptcpDiagSocket key;

  event_key (event, &key);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MptcpSubflowEntry) sf = g_list_model_get_item (G_LIST_MODEL (entry->subflows), i);

      if (subflow_has_tuple (sf, &key))
        {
          g_hash_table_remove (self->subflows, &sf->cookie);
          _mptcp_conn_list_subflow_store_remove (entry->subflows, i);
          return;
        }
    }
}

static void
event_remove_connection (MptcpConnectionList *self, MptcpConnectionEntry *entry)
{
  guint position;

  if (!g_ptr_array_find (self->items, entry, &position))
    return;
  g_object_ref (entry);
  _mptcp_conn_list_entry_forget (self, entry);
  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  _mptcp_conn_list_entry_gone (self, entry);
  _mptcp_conn_list_notify_n_items (self);
  g_object_unref (entry);
}

/* The listed listener of a LISTENER_* event (its local address and port), or NULL. */
static MptcpConnectionEntry *
find_listener (MptcpConnectionList *self, const MptcpNlEvent *event)
{
  MptcpDiagSocket key;

  event_key (event, &key);
  /* a listener has no peer */
  memset (key.dst, 0, sizeof key.dst);
  key.dport = 0;
  for (guint i = 0; i < self->items->len; i++)
    {
      MptcpConnectionEntry *entry = g_ptr_array_index (self->items, i);
      GInetAddress *a;
      gsize size;
      MptcpDiagSocket mine;

      if (!entry->listener ||
          g_inet_socket_address_get_port (entry->local) != key.sport)
        continue;
      a = g_inet_socket_address_get_address (entry->local);
      size = g_inet_address_get_native_size (a);
      memset (&mine, 0, G_STRUCT_OFFSET (MptcpDiagSocket, info));
      mine.family = size == 4 ? AF_INET : AF_INET6;
      memcpy (mine.src, g_inet_address_to_bytes (a), size);
      mine.sport = key.sport;
      if (_mptcp_diag_socket_same_tuple (&mine, &key))
        return entry;
    }
  return NULL;
}

/* One event, applied at once: the lookups it needs, the items-changed it implies. */
static void
apply_event (MptcpConnectionList *self, const MptcpNlEvent *event)
{
  MptcpConnectionEntry *entry = NULL;

  if (event->token != 0)
    entry = g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (event->token));
  self->applying = TRUE;
  switch (event->type)
    {
    case MPTCP_EVENT_CREATED:
    case MPTCP_EVENT_ESTABLISHED:
      /* the event's 4-tuple is the first subflow's */
      entry = event_sync_connection (self, event->token);
      if (entry != NULL && entry->n_subflows == 0)
        event_sync_subflow (self, entry, event);
      break;
    case MPTCP_EVENT_CLOSED:
      if (entry != NULL)
        event_remove_connection (self, entry);
      break;
    case MPTCP_EVENT_SUB_ESTABLISHED:
    case MPTCP_EVENT_SUB_PRIORITY:
      if (entry == NULL)
        entry = event_sync_connection (self, event->token);
      if (entry != NULL)
        event_sync_subflow (self, entry, event);
      break;
    case MPTCP_EVENT_SUB_CLOSED:
      if (entry != NULL)
        event_remove_subflow (self, entry, event);
      break;
    case MPX_EVENT_LISTENER_CLOSED:
      entry = self->include_listeners ? find_listener (self, event) : NULL;
      if (entry != NULL)
        event_remove_connection (self, entry);
      break;
    default:
      break;
    }
  self->applying = FALSE;
  /* a new listener has no token to look it up by: a dump tells its cookie, owner, inode */
  if (event->type == MPX_EVENT_LISTENER_CREATED && self->include_listeners)
    on_overrun (self);
}

/* The events that came while a dump ran or was applied, after it (their lookups read the
 * kernel as it is now: applying one twice changes nothing). */
void
_mptcp_conn_list_apply_pending_events (MptcpConnectionList *self)
{
  while (self->pending_events != NULL && self->pending_events->len > 0 &&
         !NEXT_DUMP (self)->running && !self->applying)
    {
      MptcpNlEvent event = g_array_index (self->pending_events, MptcpNlEvent, 0);

      g_array_remove_index (self->pending_events, 0);
      apply_event (self, &event);
    }
}

static void
on_event (const MptcpNlEvent *event, gpointer user_data)
{
  MptcpConnectionList *self = user_data;

  if (NEXT_DUMP (self)->running || self->applying)
    {
      if (self->pending_events == NULL)
        self->pending_events = g_array_new (FALSE, FALSE, sizeof (MptcpNlEvent));
      g_array_append_val (self->pending_events, *event);
      return;
    }
  g_object_ref (self);
  apply_event (self, event);
  /* those a handler's nested main loop brought while this one was applied */
  _mptcp_conn_list_apply_pending_events (self);
  g_object_unref (self);
}

/* Events were lost: a full dump, and its diff, tells what changed. */
static void
on_overrun (gpointer user_data)
{
  MptcpConnectionList *self = user_data;

  g_debug ("MPTCP events were lost: the connection list dumps the namespace again");
  if (NEXT_DUMP (self)->running || self->applying)
    self->resync = TRUE;
  else
    _mptcp_conn_list_start_async_dump (self);
}

/* Joins the event stream if this process may (CAP_NET_ADMIN); polling otherwise. */
void
_mptcp_conn_list_start_events (MptcpConnectionList *self)
{
  g_autoptr(GError) error = NULL;

  self->netlink = _mptcp_netlink_get_for_context (self->context, &error);
  if (self->netlink != NULL)
    self->sub_id = _mptcp_netlink_subscribe (self->netlink, TRUE, 0, on_event, on_overrun, self,
                                             &error);
  if (self->sub_id != 0)
    self->lookup = _mptcp_sockdiag_new (&error);
  if (self->lookup == NULL)
    {
      g_debug ("The connection list follows no MPTCP events (%s): dumps every %u ms",
               error != NULL ? error->message : "?", self->interval);
      _mptcp_conn_list_stop_events (self);
      self->event_source = MPTCP_EVENT_SOURCE_POLLING;
      return;
    }
  self->event_source = MPTCP_EVENT_SOURCE_NETLINK;
}

void
_mptcp_conn_list_stop_events (MptcpConnectionList *self)
{
  if (self->sub_id != 0)
    _mptcp_netlink_unsubscribe (self->netlink, self->sub_id);
  self->sub_id = 0;
  g_clear_pointer (&self->netlink, _mptcp_netlink_unref);
  g_clear_pointer (&self->lookup, _mptcp_sockdiag_free);
}
