/* mptcp-pm-policy-table.c: the endpoint table and limits: what a change does to the live
 * connections (as the in-kernel path manager), and what tells of one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <linux/rtnetlink.h>
#include <glib-unix.h>

#include "mptcp-pm-policy-private.h"

#define TABLE_POLL_MS_DEFAULT 5000
/* No kernel event tells of endpoint or limit changes. The table is read again at once after
 * the service's own changes (mgs_pm_policy_table_maybe_changed()), these times after an
 * address or link event (a network manager adds the address, then its endpoint: the first
 * read finds an endpoint added right after the address, the later ones one added after some
 * work), and at the safety poll (MPTCP_GLIB_SERVICE_TABLE_POLL_MS, 0 = none). */
static const guint hint_delays_ms[] = { 1, 10, 100, 1000 };
G_STATIC_ASSERT (G_N_ELEMENTS (hint_delays_ms) == PM_HINT_READS);

static gboolean
same_endpoint (const MptcpNlAddress *x, const MptcpNlAddress *y)
{
  return x->id == y->id && x->family == y->family && x->port == y->port &&
         x->ifindex == y->ifindex && memcmp (&x->addr, &y->addr, addr_len (x->family)) == 0;
}

const MptcpNlAddress *
pm_find_endpoint (GArray *table, guint8 id)
{
  for (guint i = 0; i < table->len; i++)
    if (g_array_index (table, MptcpNlAddress, i).id == id)
      return &g_array_index (table, MptcpNlAddress, i);
  return NULL;
}

gboolean
pm_same_table (GArray *a, GArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    {
      const MptcpNlAddress *x = &g_array_index (a, MptcpNlAddress, i);
      const MptcpNlAddress *y = &g_array_index (b, MptcpNlAddress, i);

      if (!same_endpoint (x, y) || x->flags != y->flags)
        return FALSE;
    }
  return TRUE;
}

static void
ignore_reply (MptcpNlReply *reply,
              GError       *error,
              gpointer      user_data)
{
  if (error != NULL)
    g_debug ("policy: %s: %s", (const char *) user_data, error->message);
  g_clear_error (&error);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
}

static void endpoint_close_subflows (MgsPmPolicy *self, Conn *conn, const MptcpNlAddress *e);

/* The endpoint of the initial subflow's address was removed. As the in-kernel PM (measured on
 * 6.12 and 6.18: one RM_ADDR per connection, the initial subflow closed, the connection lives
 * on over its joins): RM_ADDR for address id 0 (REMOVE with id 0), then SUBFLOW_DESTROY of the
 * initial subflow and of the joins made from its address (the same RM_ADDR counts and
 * subflows as the in-kernel PM on 6.1, 6.12 and 6.18: v4-initial-endpoint-removed). */
static void
endpoint_removed_initial (MgsPmPolicy          *self,
                          Conn                 *conn,
                          const MptcpNlAddress *e)
{
  Pair initial = { .family = conn->family, .local = conn->saddr, .remote = conn->daddr,
                   .rport = conn->dport, .lport = conn->sport };
  MptcpNlRequest r = { 0 };

  if (conn->initial_removed)
    return;
  conn->initial_removed = TRUE;
  r.cmd = MPTCP_PM_CMD_REMOVE;
  r.token = conn->token;
  r.has_token = TRUE;
  r.loc_id = 0;
  r.has_loc_id = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, ignore_reply, "remove id 0");
  if (conn->sport != 0)
    {
      MptcpNlRequest d;

      pm_pair_request (&d, MPTCP_PM_CMD_SUBFLOW_DESTROY, conn, &initial);
      _mptcp_netlink_request_direct (self->nl, &d, POLICY_TIMEOUT_MS, ignore_reply,
                                     "initial subflow destroy");
    }
  endpoint_close_subflows (self, conn, e);
}

/* An endpoint was removed: as the in-kernel PM, RM_ADDR to the peer (if the connection
 * announced it or has a subflow from it) and its subflows closed; it is free to be used again
 * if it comes back. The initial subflow is not touched. */
static void
endpoint_removed (MgsPmPolicy          *self,
                  Conn                 *conn,
                  const MptcpNlAddress *e)
{
  gboolean used = pm_announced (conn, e->id);
  MptcpNlRequest r = { 0 };
  int family = pm_endpoint_family (e);

  if (family != conn->family)
    return;
  if (same_addr (family, &e->addr, &conn->saddr))
    {
      endpoint_removed_initial (self, conn, e);
      return;
    }
  for (guint i = 0; i < conn->pairs->len; i++)
    used |= same_addr (family, &g_array_index (conn->pairs, Pair, i).local, &e->addr);
  if (!used)
    return;
  r.cmd = MPTCP_PM_CMD_REMOVE;
  r.token = conn->token;
  r.has_token = TRUE;
  r.loc_id = e->id;
  r.has_loc_id = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, ignore_reply, "remove");
  conn->announced[e->id / 64] &= ~(G_GUINT64_CONSTANT (1) << (e->id % 64));
  for (guint i = conn->signals->len; i-- > 0;)
    if (g_array_index (conn->signals, MptcpNlAddress, i).id == e->id)
      g_array_remove_index (conn->signals, i);
  pm_state_changed (self);
  endpoint_close_subflows (self, conn, e);
}

/* The connection's subflows from endpoint e are closed (SUBFLOW_DESTROY, no RM_ADDR) and e is
 * free to be used again by the walk. */
static void
endpoint_close_subflows (MgsPmPolicy          *self,
                         Conn                 *conn,
                         const MptcpNlAddress *e)
{
  int family = pm_endpoint_family (e);

  for (guint i = conn->pairs->len; i-- > 0;)
    {
      const Pair *p = &g_array_index (conn->pairs, Pair, i);

      if (!same_addr (family, &p->local, &e->addr))
        continue;
      if (p->lport != 0)
        {
          MptcpNlRequest d;

          pm_pair_request (&d, MPTCP_PM_CMD_SUBFLOW_DESTROY, conn, p);
          _mptcp_netlink_request_direct (self->nl, &d, POLICY_TIMEOUT_MS, ignore_reply,
                                         "subflow destroy");
        }
      g_array_remove_index (conn->pairs, i);
    }
}

/* An endpoint's backup flag changed: MP_PRIO on the connection's live subflows from that
 * address, the initial one included, as the in-kernel PM. */
static void
endpoint_backup_changed (MgsPmPolicy          *self,
                         Conn                 *conn,
                         const MptcpNlAddress *e)
{
  gboolean backup = (e->flags & MPTCP_PM_ADDR_FLAG_BACKUP) != 0;
  int family = pm_endpoint_family (e);

  if (family != conn->family)
    return;
  if (same_addr (family, &e->addr, &conn->saddr))
    {
      Pair initial = { .family = conn->family, .local = conn->saddr, .remote = conn->daddr,
                       .rport = conn->dport };

      pm_mark_backup (self, conn, &initial, backup);
    }
  for (guint i = 0; i < conn->pairs->len; i++)
    {
      Pair p = g_array_index (conn->pairs, Pair, i);

      if (same_addr (family, &p.local, &e->addr))
        pm_mark_backup (self, conn, &p, backup);
    }
}

/* The table or the limits changed (a read found it). As the in-kernel PM: removed endpoints
 * close their subflows (RM_ADDR), backup changes go out as MP_PRIO, added endpoints are used
 * on the live connections (the subflow walk again, the next signal endpoints announced); a
 * limit change alone does nothing at once, the next step of a connection's walk uses it. */
void
pm_table_changed (MgsPmPolicy *self,
               GArray      *table,
               guint32      subflows,
               guint32      accepted)
{
  gboolean endpoints_changed = !pm_same_table (table, self->table);
  GHashTableIter iter;
  gpointer value;

  g_debug ("policy: the endpoint table or the limits changed");
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Conn *conn = value;

      if (!conn->established || conn->taken || !conn->have_table)
        continue;
      conn->max_subflows = subflows;
      conn->max_accepted = accepted;
      if (!endpoints_changed)
        continue;
      for (guint i = 0; i < conn->endpoints->len; i++)
        {
          const MptcpNlAddress *old = &g_array_index (conn->endpoints, MptcpNlAddress, i);
          const MptcpNlAddress *now = pm_find_endpoint (table, old->id);

          if (now == NULL || !same_endpoint (old, now))
            endpoint_removed (self, conn, old);
          else
            {
              if ((old->flags ^ now->flags) & MPTCP_PM_ADDR_FLAG_BACKUP)
                endpoint_backup_changed (self, conn, now);
              /* fullmesh changed on a subflow endpoint: the in-kernel PM closes its subflows
               * and walks again (mptcp_pm_nl_fullmesh); the walk below makes them anew */
              if (((old->flags ^ now->flags) & MPTCP_PM_ADDR_FLAG_FULLMESH) &&
                  (now->flags & MPTCP_PM_ADDR_FLAG_SUBFLOW) && !conn->server_side &&
                  pm_endpoint_family (now) == conn->family)
                endpoint_close_subflows (self, conn, now);
            }
        }
      g_array_set_size (conn->endpoints, 0);
      g_array_append_vals (conn->endpoints, table->data, table->len);
      pm_apply (self, conn);
    }
  g_array_set_size (self->table, 0);
  g_array_append_vals (self->table, table->data, table->len);
  self->table_subflows = subflows;
  self->table_accepted = accepted;
}

/* A read now, or once the one in flight is done (it may have started before the change). */
void
mgs_pm_policy_table_maybe_changed (MgsPmPolicy *self)
{
  if (self == NULL)
    return;
  if (self->reading)
    self->reread = TRUE;
  else
    pm_start_read (self);
}

gboolean
pm_poll_table (gpointer user_data)
{
  MgsPmPolicy *self = user_data;

  if (!self->reading)
    pm_start_read (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
hint_read (gpointer user_data)
{
  guint slot = GPOINTER_TO_UINT (user_data);

  pm_the_policy->hint_ids[slot] = 0;
  mgs_pm_policy_table_maybe_changed (pm_the_policy);
  return G_SOURCE_REMOVE;
}

/* An address or link changed: its endpoint may follow (no event tells of it); table reads
 * soon and a bit later. A read already waiting for is not moved: a burst costs three reads.
 * The last one is moved to 1 s after the burst's last event. */
static void
route_event (MgsPmPolicy *self)
{
  guint last = G_N_ELEMENTS (hint_delays_ms) - 1;

  for (guint i = 0; i < last; i++)
    if (self->hint_ids[i] == 0)
      self->hint_ids[i] = g_timeout_add (hint_delays_ms[i], hint_read, GUINT_TO_POINTER (i));
  if (self->hint_ids[last] != 0)
    g_source_remove (self->hint_ids[last]);
  self->hint_ids[last] = g_timeout_add (hint_delays_ms[last], hint_read,
                                           GUINT_TO_POINTER (last));
}

static gboolean
on_route_readable (gint         fd,
                   GIOCondition condition,
                   gpointer     user_data)
{
  MgsPmPolicy *self = user_data;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  gboolean seen = FALSE;
  ssize_t n;

  while ((n = mnl_socket_recvfrom (self->rt, buf, sizeof buf)) != 0)
    {
      const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
      int len = (int) n;

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          /* ENOBUFS: events were lost, one of them may have been ours */
          seen |= errno == ENOBUFS;
          break;
        }
      for (; mnl_nlmsg_ok (nlh, len); nlh = mnl_nlmsg_next (nlh, &len))
        seen |= nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR ||
                nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK;
    }
  if (seen)
    route_event (self);
  return G_SOURCE_CONTINUE;
}

/* rtnetlink's address and link groups, read from the main context; without it, the poll only */
void
pm_watch_routes (MgsPmPolicy *self)
{
  self->rt = mnl_socket_open2 (NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (self->rt == NULL ||
      mnl_socket_bind (self->rt, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
                       MNL_SOCKET_AUTOPID) < 0)
    {
      g_warning ("policy: no rtnetlink address events (%s): endpoint changes are seen at the "
                 "table poll only", g_strerror (errno));
      g_clear_pointer (&self->rt, mnl_socket_close);
      return;
    }
  self->rt_id = g_unix_fd_add (mnl_socket_get_fd (self->rt), G_IO_IN, on_route_readable, self);
}

guint
pm_table_poll_ms (void)
{
  const char *text = g_getenv ("MPTCP_GLIB_SERVICE_TABLE_POLL_MS");
  guint64 ms;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &ms, NULL))
    return TABLE_POLL_MS_DEFAULT;
  return (guint) ms;
}

