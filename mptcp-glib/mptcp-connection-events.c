/* mptcp-connection-events.c: how MptcpConnection applies the kernel's events, its polling
 * and its hangup watch
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
#include "mptcp-error.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-connection-impl-private.h"

/* ---- events and signals ---- */

/* An address as events and netlink replies give it, in the form subflows
 * keep (v4-mapped IPv6 turned into IPv4, no scope). */
void
_mptcp_conn_addr_from_nl (MptcpSockoptAddr      *out,
                          int                    family,
                          const MptcpNlInetAddr *addr,
                          guint16                port)
{
  MptcpNlInetAddr a = *addr;

  memset (out, 0, sizeof *out);
  _mptcp_nl_inet_normalize (&family, &a);   /* v4-mapped: IPv4 */
  if (family == AF_INET)
    {
      out->family = AF_INET;
      memcpy (out->addr, &a.v4, 4);
    }
  else if (family == AF_INET6)
    {
      out->family = AF_INET6;
      memcpy (out->addr, &a.v6, 16);
    }
  out->port = port;
}

void
_mptcp_conn_addr_to_nl (MptcpNlAddress         *out,
                        const MptcpSockoptAddr *addr)
{
  memset (out, 0, sizeof *out);
  out->family = addr->family;
  memcpy (&out->addr, addr->addr, addr->family == AF_INET ? 4 : 16);
  out->port = addr->port;
}


void
_mptcp_conn_tuple_from_event (Tuple              *out,
                              const MptcpNlEvent *event)
{
  _mptcp_conn_addr_from_nl (&out->local, event->family, &event->saddr, event->sport);
  _mptcp_conn_addr_from_nl (&out->remote, event->family, &event->daddr, event->dport);
}

MptcpSubflow *
_mptcp_conn_find_subflow (MptcpConnection *self,
                          const Tuple     *tuple)
{
  GPtrArray *items = self->subflows->items;
  guint i;

  for (i = 0; i < items->len; i++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, i);

      if (_mptcp_sockopt_addr_equal (&sf->local_raw, &tuple->local) &&
          _mptcp_sockopt_addr_equal (&sf->remote_raw, &tuple->remote))
        return sf;
    }
  return NULL;
}

/* Brings the list in line with the kernel (signals for every difference),
 * unless a refresh is running already. */
gboolean
_mptcp_conn_resync (MptcpConnection *self,
                    GError         **error)
{
  return _mptcp_conn_refresh_guarded (self, FALSE, error);
}

/* Whether the socket reports the connection over (reset by the peer, or
 * closed both ways): poll() gives HUP or ERR. The kernel sends no CLOSED
 * event until the application closes its socket. */
static gboolean
socket_is_dead (MptcpConnection *self)
{
  if (g_socket_is_closed (self->socket))
    return TRUE;
  return g_socket_condition_check (self->socket, G_IO_HUP | G_IO_ERR) != 0;
}

static guint stale_find (MptcpConnection *self, const Tuple *tuple);

/* One event of this connection's token: update the list, emit signals. */
void
_mptcp_conn_apply_event (MptcpConnection    *self,
                         const MptcpNlEvent *event)
{
  Tuple tuple;
  MptcpSubflow *sf;

  if (self->closed || self->fallback)
    return;

  switch (event->type)
    {
    case MPTCP_EVENT_ESTABLISHED:
      _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_ESTABLISHED);
      break;

    case MPTCP_EVENT_CLOSED:
      _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_CLOSED);
      break;

    case MPTCP_EVENT_SUB_ESTABLISHED:
      _mptcp_conn_tuple_from_event (&tuple, event);
      if (_mptcp_conn_find_subflow (self, &tuple) != NULL)
        break;
      if (self->event_source == MPTCP_EVENT_SOURCE_NETLINK && !self->in_refresh &&
          extra_ro (self)->ops == NULL && stale_find (self, &tuple) == 0 &&
          !_mptcp_netlink_events_unsure (self->netlink))
        {
          /* The kernel's own event, and nothing of ours waits for it: listed from the event's
           * 4-tuple, its kernel id and statistics read on first need
           * (MptcpSubflow.info_pending); no read of the kernel's list per new subflow. If the
           * peer resets it at once, its SUB_CLOSED removes it again. (The service's signals
           * come late, after the reply of an operation that refreshed the list already: they
           * keep the refresh, which a subflow gone by then does not come back from; so do the
           * events read after an overrun that were queued before it: the SUB_CLOSED of such a
           * subflow may be among the lost ones, and the overrun's refresh found it gone.) */
          g_autoptr(MptcpSubflow) fresh = _mptcp_subflow_new (self, 0, &tuple.local,
                                                              &tuple.remote);

          fresh->info_pending = TRUE;
          _mptcp_connection_apply (self, &(MptcpConnChange) {
                                     .kind = MPTCP_CONN_CHANGE_SUBFLOWS_UP, .subflow = fresh });
        }
      else
        {
          /* A refresh adds it with its kernel id, or does nothing if it is gone already (a
           * join the peer refused, a stale event). With an open pending, the kernel's list
           * says whether the subflow lives: that is how the open tells a join the peer
           * refused (reset right after the handshake) from an established one (issue 12,
           * defect 2); a drain of the event socket for its SUB_CLOSED instead missed
           * refusals on 6.18 (the kernel marks the subflow closed at the reset but sends
           * SUB_CLOSED from its worker). The whole list is applied, not only this subflow:
           * an open whose result waits for its ack (open_succeed()) is then judged by the
           * freshest list, which has dropped a join reset since its own event. */
          g_autoptr(GError) error = NULL;

          if (!_mptcp_conn_resync (self, &error))
            g_debug ("Could not list the subflows after an event: %s", error->message);
        }
      break;

    case MPTCP_EVENT_SUB_CLOSED:
      _mptcp_conn_tuple_from_event (&tuple, event);
      sf = _mptcp_conn_find_subflow (self, &tuple);
      if (sf != NULL)
        _mptcp_connection_apply (self, &(MptcpConnChange) {
                                   .kind = MPTCP_CONN_CHANGE_SUBFLOWS_DOWN, .subflow = sf,
                                   .error = MPTCP_NL_EVENT_HAS (event, MPTCP_ATTR_ERROR) ? event->error : 0,
                                   .reset_reason = event->reset_reason });
      break;

    case MPTCP_EVENT_SUB_PRIORITY:
      _mptcp_conn_tuple_from_event (&tuple, event);
      sf = _mptcp_conn_find_subflow (self, &tuple);
      if (sf != NULL)
        _mptcp_connection_apply (self, &(MptcpConnChange) {
                                   .kind = MPTCP_CONN_CHANGE_PRIORITY, .subflow = sf,
                                   .backup = event->backup != 0 });
      break;

    case MPTCP_EVENT_ANNOUNCED:
      {
        MptcpSockoptAddr addr;
        g_autoptr(GInetSocketAddress) address = NULL;

        _mptcp_conn_addr_from_nl (&addr, event->family, &event->daddr, event->dport);
        address = _mptcp_sockopt_addr_to_inet (&addr);
        if (address == NULL)
          break;
        _mptcp_connection_apply (self, &(MptcpConnChange) {
                                   .kind = MPTCP_CONN_CHANGE_ADDRESS_ANNOUNCED,
                                   .id = event->rem_id, .address = address });
      }
      break;

    case MPTCP_EVENT_REMOVED:
      _mptcp_connection_apply (self, &(MptcpConnChange) {
                                 .kind = MPTCP_CONN_CHANGE_ADDRESS_REMOVED, .id = event->rem_id });
      break;

    default:
      break;
    }
}

/* The stale tuples: a synchronous call runs on a broker of its own, so the events of what it
 * did reach the connection's broker later, when its context runs again. A pending open must
 * not take them for those of its own subflow (an open between the same addresses used to
 * return the subflow a synchronous close had just closed). */
static guint
stale_find (MptcpConnection *self,
            const Tuple     *tuple)
{
  GArray *stale = extra_ro (self)->stale;
  guint i;

  for (i = 0; stale != NULL && i < stale->len; i++)
    if (_mptcp_conn_tuple_same (&g_array_index (stale, Tuple, i), tuple))
      return i + 1;
  return 0;
}

void
_mptcp_conn_stale_add (MptcpConnection *self,
                       const Tuple     *tuple)
{
  ConnectionExtra *x = extra_get (self);

  if (stale_find (self, tuple) != 0)
    return;
  if (x->stale == NULL)
    x->stale = g_array_new (FALSE, FALSE, sizeof (Tuple));
  if (x->stale->len >= 32)
    g_array_remove_index (x->stale, 0);
  g_array_append_val (x->stale, *tuple);
}

static void
on_event (const MptcpNlEvent *event,
          gpointer            user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  /* taken first: applying the event may stop the subscription */
  g_autoptr(GPtrArray) ops = NULL;
  gboolean sub = event->type == MPTCP_EVENT_SUB_ESTABLISHED || event->type == MPTCP_EVENT_SUB_CLOSED;
  guint stale = 0;
  Tuple tuple;

  if (sub && (extra_ro (self)->event_ops != NULL || extra_ro (self)->stale != NULL))
    _mptcp_conn_tuple_from_event (&tuple, event);
  if (extra_ro (self)->event_ops != NULL)
    ops = _mptcp_conn_routed_ops (self, event->type, sub ? &tuple : NULL);

  if (extra_ro (self)->stale != NULL && sub)
    {
      stale = stale_find (self, &tuple);
      if (stale != 0 && event->type == MPTCP_EVENT_SUB_CLOSED)
        g_array_remove_index (self->extra->stale, stale - 1);
    }
  _mptcp_conn_apply_event (self, event);
  if (ops != NULL && stale == 0)
    _mptcp_conn_route_event (ops, event);
  g_object_unref (self);
}

/* Events were lost: read the kernel's view and report the differences. */
void
_mptcp_conn_on_overrun (gpointer user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  g_autoptr(GError) error = NULL;

  if (!self->closed && !self->fallback && !_mptcp_conn_resync (self, &error))
    g_debug ("Could not resynchronise after an event overrun: %s", error->message);
  g_object_unref (self);
}

static void
conn_on_overrun (gpointer user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  g_autoptr(GPtrArray) ops = NULL;

  if (extra_ro (self)->event_ops != NULL)
    ops = _mptcp_conn_routed_ops (self, -1, NULL);

  _mptcp_conn_on_overrun (self);
  if (ops != NULL)
    _mptcp_conn_route_overrun (ops);
  g_object_unref (self);
}

static gboolean
poll_cb (gpointer user_data)
{
  MptcpConnection *self = g_object_ref (user_data);
  g_autoptr(GError) error = NULL;

  if (!_mptcp_conn_resync (self, &error))
    g_debug ("Polling the subflows failed: %s", error->message);
  else if (socket_is_dead (self))
    _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_CLOSED);   /* reports what is left of the list, then notifies "closed" */

  g_object_unref (self);
  return G_SOURCE_CONTINUE;   /* _mptcp_conn_stop_events() destroys it when it is over */
}

void
_mptcp_conn_start_polling (MptcpConnection *self)
{
  ConnectionExtra *x = extra_get (self);

  if (x->poll_source != NULL)
    {
      g_source_destroy (x->poll_source);
      g_source_unref (x->poll_source);
    }
  x->poll_source = g_timeout_source_new (x->poll_interval);
  g_source_set_callback (x->poll_source, poll_cb, self, NULL);
  g_source_set_static_name (x->poll_source, "[mptcp-glib] connection poll");
  g_source_attach (x->poll_source, self->context);
  _mptcp_conn_set_event_source (self, MPTCP_EVENT_SOURCE_POLLING);
}

static void
hup_cb (MptcpConnection *self)
{
  g_autoptr(GError) error = NULL;

  /* report what is left of the list, then the end */
  if (!self->closed && !_mptcp_conn_resync (self, &error))
    g_debug ("Could not list the subflows of a dead connection: %s", error->message);
  if (!self->closed)
    _mptcp_connection_apply_kind (self, MPTCP_CONN_CHANGE_CLOSED);
}

/* The socket's hangup (a peer's reset sends no event): one shared watch per
 * context, mptcp-hangup-watch.c. */
static void
hup_ref (MptcpHangupWatch *watch)
{
  g_object_ref (G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup)));
}

static void
hup_unref (MptcpHangupWatch *watch)
{
  g_object_unref (G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup)));
}

static void
hup_hangup (MptcpHangupWatch *watch)
{
  hup_cb (G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup)));
}

static int
hup_fd (MptcpHangupWatch *watch)
{
  MptcpConnection *self = G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (MptcpConnection, hup));

  return g_socket_is_closed (self->socket) ? -1 : g_socket_get_fd (self->socket);
}

static const MptcpHangupWatchFuncs hup_funcs = { hup_ref, hup_unref, hup_hangup, hup_fd };

/* Tests: new hangup watches poll the fd instead of using epoll (or again not). */
void
_mptcp_connection_set_hangup_epoll (gboolean use)
{
  _mptcp_hangup_watch_set_epoll (use);
}

guint
_mptcp_connection_get_hangup_mode (MptcpConnection *self)
{
  return self->hup.mode;
}

static void
hup_watch (MptcpConnection *self)
{
  _mptcp_hangup_watch_start (&self->hup, self->context, &hup_funcs);
}

static void
hup_unwatch (MptcpConnection *self)
{
  /* a closed GSocket's fd number may be another file's by now */
  _mptcp_hangup_watch_stop (&self->hup, self->context,
                            g_socket_is_closed (self->socket) ? -1 : g_socket_get_fd (self->socket));
}

void
_mptcp_conn_start_events (MptcpConnection *self)
{
  g_autoptr(GError) error = NULL;

  if (self->netlink == NULL)
    self->netlink = _mptcp_netlink_get_for_context (self->context, &error);
  if (self->netlink != NULL)
    self->sub_id = _mptcp_netlink_subscribe (self->netlink, FALSE, self->token,
                                             on_event, conn_on_overrun, self, &error);
  if (self->sub_id != 0)
    {
      if (self->socket != NULL)             /* none: mptcp_connection_new_for_token() */
        hup_watch (self);
      _mptcp_conn_set_event_source (self, MPTCP_EVENT_SOURCE_NETLINK);
      return;
    }
  g_debug ("No MPTCP events for connection %08x (%s): polling every %u ms",
           self->token, error != NULL ? error->message : "?",
           extra_ro (self)->poll_interval);
  _mptcp_conn_start_polling (self);
}

/* The connection registered with mptcp-glib-service (use) or lost its registration (!use):
 * its events come from the service's signals (_mptcp_conn_apply_event), with the hangup
 * watch for a peer's reset; without them, from netlink or polling again. A netlink
 * subscription that pending direct operations are fed by stays. */
void
_mptcp_conn_use_service_events (MptcpConnection *self,
                                gboolean         use)
{
  if (self->closed || self->fallback || !self->initialized)
    return;
  if (!use)
    {
      if (self->event_source != MPTCP_EVENT_SOURCE_SERVICE)
        return;
      if (self->hup.mode != MPTCP_HANGUP_NONE)
        hup_unwatch (self);
      _mptcp_conn_start_events (self);
      return;
    }
  if (self->sub_id != 0)
    {
      if (extra_ro (self)->event_ops != NULL)
        return;
      _mptcp_netlink_unsubscribe (self->netlink, self->sub_id);
      self->sub_id = 0;
    }
  if (extra_ro (self)->poll_source != NULL)
    {
      GSource *source = g_steal_pointer (&self->extra->poll_source);

      g_source_destroy (source);
      g_source_unref (source);
    }
  if (self->hup.mode == MPTCP_HANGUP_NONE)
    hup_watch (self);
  _mptcp_conn_set_event_source (self, MPTCP_EVENT_SOURCE_SERVICE);
}

void
_mptcp_conn_stop_events (MptcpConnection *self)
{
  if (self->sub_id != 0)
    {
      _mptcp_netlink_unsubscribe (self->netlink, self->sub_id);
      self->sub_id = 0;
    }
  /* pending ops hold the connection, and _mptcp_connection_apply() of
   * CLOSED and FALLBACK ends them first */
  g_assert (extra_ro (self)->event_ops == NULL);
  if (extra_ro (self)->poll_source != NULL)
    {
      GSource *source = g_steal_pointer (&self->extra->poll_source);

      g_source_destroy (source);
      g_source_unref (source);
    }
  if (self->hup.mode != MPTCP_HANGUP_NONE)
    hup_unwatch (self);
  if (self->initialized)
    _mptcp_conn_set_event_source (self, MPTCP_EVENT_SOURCE_NONE);
}

MptcpNetlink *
_mptcp_connection_get_netlink (MptcpConnection *self)
{
  return self->netlink;
}

/* ---- where the events come from, and the poll interval ---- */

/**
 * mptcp_connection_get_event_source:
 * @self: a #MptcpConnection
 *
 * Gets #MptcpConnection:event-source.
 *
 * Returns: where the connection's signals come from
 *
 * Since: 0.1
 */
MptcpEventSource
mptcp_connection_get_event_source (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), MPTCP_EVENT_SOURCE_NONE);

  return self->event_source;
}

/**
 * mptcp_connection_get_poll_interval:
 * @self: a #MptcpConnection
 *
 * Gets #MptcpConnection:poll-interval.
 *
 * Returns: the polling interval in milliseconds
 *
 * Since: 0.1
 */
guint
mptcp_connection_get_poll_interval (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);

  return extra_ro (self)->poll_interval;
}

/**
 * mptcp_connection_set_poll_interval:
 * @self: a #MptcpConnection
 * @interval_ms: the interval in milliseconds (at least 10)
 *
 * Sets #MptcpConnection:poll-interval; a running poll restarts with it.
 *
 * Since: 0.1
 */
void
mptcp_connection_set_poll_interval (MptcpConnection *self,
                                    guint            interval_ms)
{
  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (_mptcp_conn_in_own_thread (self));

  interval_ms = MAX (interval_ms, 10);
  if (extra_ro (self)->poll_interval == interval_ms)
    return;
  extra_get (self)->poll_interval = interval_ms;
  if (self->extra->poll_source != NULL)
    _mptcp_conn_start_polling (self);
  g_object_notify (G_OBJECT (self), "poll-interval");
}
