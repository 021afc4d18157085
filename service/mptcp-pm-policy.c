/* mptcp-pm-policy.c: the in-kernel path manager's behaviour, in the service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/utsname.h>
#include <linux/mptcp.h>

#include "mptcp-pm-policy-private.h"

/* Server side, one ANNOUNCE at a time with a gap: the in-kernel PM sends the next ADD_ADDR once
 * the peer echoed the previous one, which user space does not see; a peer on Linux 6.1 or 6.12
 * drops an ADD_ADDR that arrives while it still handles the previous one (measured: with all
 * sent at once, a 6.1/6.12 peer joined only the first). A refused ANNOUNCE is asked again after
 * the same gap, a few times. */
#define ANNOUNCE_GAP_MS  100
#define ANNOUNCE_RETRIES 10
/* the endpoint table and limits read for one connection serve the connections established
 * within this time after it (no event tells of endpoint or limit changes) */
#define TABLE_TTL_US (250 * 1000)

/* one policy per process (the service makes at most one), so replies can check it is alive */
MgsPmPolicy *pm_the_policy;   /* see mptcp-pm-policy-private.h */
guint        pm_the_generation;

static void
conn_free (Conn *conn)
{
  g_array_unref (conn->endpoints);
  g_array_unref (conn->remotes);
  g_array_unref (conn->pairs);
  g_array_unref (conn->signals);
  g_free (conn);
}

/* reserved: room for the endpoints, pairs and announcements without a reallocation */
static Conn *
conn_alloc (guint reserved)
{
  Conn *conn = g_new0 (Conn, 1);

  conn->endpoints = g_array_sized_new (FALSE, TRUE, sizeof (MptcpNlAddress), reserved);
  conn->remotes = g_array_sized_new (FALSE, TRUE, sizeof (MptcpNlAddress), reserved);
  conn->pairs = g_array_sized_new (FALSE, TRUE, sizeof (Pair), reserved);
  conn->signals = g_array_new (FALSE, TRUE, sizeof (MptcpNlAddress));
  return conn;
}

Conn *
pm_conn_ensure (MgsPmPolicy *self,
             guint32      token)
{
  Conn *conn = g_hash_table_lookup (self->conns, GUINT_TO_POINTER (token));

  if (conn == NULL)
    {
      conn = self->pool;
      if (conn != NULL)
        {
          self->pool = conn->next_free;
          self->pool_len--;
          conn->next_free = NULL;
        }
      else
        conn = conn_alloc (0);
      conn->token = token;
      g_hash_table_insert (self->conns, GUINT_TO_POINTER (token), conn);
    }
  return conn;
}

/* A closed connection's Conn goes back to the pool, emptied (its arrays kept) */
static void
conn_recycle (MgsPmPolicy *self,
              Conn        *conn)
{
  GArray *endpoints = conn->endpoints, *remotes = conn->remotes, *pairs = conn->pairs;
  GArray *signals = conn->signals;

  if (self->pool_len >= CONN_POOL_MAX)
    {
      conn_free (conn);
      return;
    }
  g_array_set_size (endpoints, 0);
  g_array_set_size (remotes, 0);
  g_array_set_size (pairs, 0);
  g_array_set_size (signals, 0);
  memset (conn, 0, sizeof *conn);
  conn->endpoints = endpoints;
  conn->remotes = remotes;
  conn->pairs = pairs;
  conn->signals = signals;
  conn->next_free = self->pool;
  self->pool = conn;
  self->pool_len++;
}

/* After an event is handled (its create is sent): the next connection's Conn and Req */
static void
spares_refill (MgsPmPolicy *self)
{
  if (self->pool == NULL)
    {
      self->pool = conn_alloc (MAX (self->table->len, 4));
      self->pool_len = 1;
    }
  if (self->spare_req == NULL)
    self->spare_req = g_new0 (Req, 1);
}

Conn *
pm_req_conn (Req *req)
{
  if (pm_the_policy == NULL || pm_the_policy != req->policy || req->generation != pm_the_generation)
    return NULL;
  return g_hash_table_lookup (pm_the_policy->conns, GUINT_TO_POINTER (req->token));
}

Req *
pm_req_new (MgsPmPolicy *self,
         Conn        *conn)
{
  Req *req = g_steal_pointer (&self->spare_req);

  if (req == NULL)
    req = g_new0 (Req, 1);
  req->policy = self;
  req->token = conn->token;
  req->generation = self->generation;
  return req;
}

static gboolean
pair_equal (const Pair *p, const Pair *q)
{
  return q->family == p->family && q->rport == p->rport &&
         same_addr (p->family, &q->local, &p->local) &&
         same_addr (p->family, &q->remote, &p->remote);
}

static gboolean
has_pair (Conn *conn, const Pair *p)
{
  for (guint i = 0; i < conn->pairs->len; i++)
    if (pair_equal (&g_array_index (conn->pairs, Pair, i), p))
      return TRUE;
  return FALSE;
}

static void advance (MgsPmPolicy *self, Conn *conn);

static void
set_flags_done (MptcpNlReply *reply,
                GError       *error,
                gpointer      user_data)
{
  if (error != NULL)
    g_debug ("policy: backup flag not set: %s", error->message);
  g_clear_error (&error);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  g_free (user_data);
}

/* a command on one subflow of conn: token, local address (and port if known), remote */
void
pm_pair_request (MptcpNlRequest *r,
              guint8          cmd,
              Conn           *conn,
              const Pair     *p)
{
  memset (r, 0, sizeof *r);
  r->cmd = cmd;
  r->token = conn->token;
  r->has_token = TRUE;
  r->has_addr = TRUE;
  r->addr.family = p->family;
  r->addr.addr = p->local;
  r->addr.port = p->lport;
  r->has_remote = TRUE;
  r->remote.family = p->family;
  r->remote.addr = p->remote;
  r->remote.port = p->rport;
}

/* SET_FLAGS on one subflow (MP_PRIO to the peer). Used after a create on kernels that make
 * the subflow without the backup flag SUBFLOW_CREATE asks for, and when an endpoint's backup
 * flag changes (the in-kernel PM sends MP_PRIO on the live subflows from that address). */
void
pm_mark_backup (MgsPmPolicy *self,
             Conn        *conn,
             const Pair  *p,
             gboolean     backup)
{
  MptcpNlRequest r;

  pm_pair_request (&r, MPTCP_PM_CMD_SET_FLAGS, conn, p);
  r.addr.port = 0;
  r.addr.flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
  r.addr.has_flags = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, set_flags_done, pm_req_new (self, conn));
}

/* The running kernel is major.minor or later (an unreadable release counts as 0.0). */
gboolean
pm_kernel_at_least (guint64 major,
                 guint64 minor)
{
  struct utsname u;
  guint64 ma = 0, mi = 0;
  char *end = NULL;

  if (uname (&u) == 0)
    {
      ma = g_ascii_strtoull (u.release, &end, 10);
      if (end != NULL && *end == '.')
        mi = g_ascii_strtoull (end + 1, NULL, 10);
    }
  return ma > major || (ma == major && mi >= minor);
}

/* Linux 6.1 creates the subflow without the backup flag SUBFLOW_CREATE asks for (measured);
 * 6.12 and 6.18 honour it, and a SET_FLAGS there would send one MP_PRIO more than the in-kernel
 * PM does (measured on 6.18). Kernels in between are not measured: they get the SET_FLAGS. */
static gboolean
create_ignores_backup (void)
{
  static int ignores = -1;

  if (ignores < 0)
    ignores = !pm_kernel_at_least (6, 12);
  return ignores;
}

static void
create_done (MptcpNlReply *reply,
             GError       *error,
             gpointer      user_data)
{
  Req *req = user_data;
  Conn *conn = pm_req_conn (req);

  if (error != NULL)
    {
      g_debug ("policy: token %08x: subflow create failed: %s", req->token, error->message);
      if (conn != NULL && req->pair.family != 0)
        {
          /* may be asked again (an adopted connection that was not fully established) */
          for (guint i = 0; i < conn->pairs->len; i++)
            if (pair_equal (&g_array_index (conn->pairs, Pair, i), &req->pair))
              {
                g_array_remove_index (conn->pairs, i);
                break;
              }
          if (conn->n_subflows > 0)
            conn->n_subflows--;
          if (conn->waiting)
            {
              conn->waiting = FALSE;
              advance (pm_the_policy, conn);
            }
        }
      g_error_free (error);
    }
  else if (conn != NULL && req->pair.backup && create_ignores_backup ())
    pm_mark_backup (pm_the_policy, conn, &req->pair, TRUE);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  /* kept for the next create if the policy is alive and has no spare */
  if (pm_the_policy != NULL && pm_the_policy == req->policy && pm_the_policy->spare_req == NULL)
    {
      memset (req, 0, sizeof *req);
      pm_the_policy->spare_req = req;
    }
  else
    g_free (req);
}

/* One subflow local endpoint → remote (no duplicate of a pair asked for before). local NULL:
 * from the initial subflow's address with address id 0 (what the in-kernel PM does for a peer
 * announcement when no fullmesh endpoint exists). */
static gboolean
create_subflow (MgsPmPolicy          *self,
                Conn                 *conn,
                const MptcpNlAddress *local,
                int                   family,
                const MptcpNlInetAddr *raddr,
                guint16               rport)
{
  MptcpNlRequest r = { 0 };
  Req *req;
  Pair p = { 0 };

  if (conn->n_subflows >= conn->max_subflows)
    return FALSE;
  p.family = family;
  p.local = local != NULL ? local->addr : conn->saddr;
  p.remote = *raddr;
  p.rport = rport;
  p.backup = local != NULL && (local->flags & MPTCP_PM_ADDR_FLAG_BACKUP);
  if (has_pair (conn, &p))
    return FALSE;
  g_array_append_val (conn->pairs, p);
  conn->n_subflows++;
  self->n_created++;

  r.cmd = MPTCP_PM_CMD_SUBFLOW_CREATE;
  r.token = conn->token;
  r.has_token = TRUE;
  r.has_addr = TRUE;
  r.addr.family = family;
  r.addr.addr = p.local;
  if (local != NULL)
    {
      r.addr.id = local->id;
      r.addr.has_id = TRUE;
      r.addr.ifindex = local->ifindex;
      if (local->flags & MPTCP_PM_ADDR_FLAG_BACKUP)
        {
          r.addr.flags = MPTCP_PM_ADDR_FLAG_BACKUP;
          r.addr.has_flags = TRUE;
        }
    }
  r.has_remote = TRUE;
  r.remote.family = family;
  r.remote.addr = *raddr;
  r.remote.port = rport;
  req = pm_req_new (self, conn);
  req->pair = p;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, create_done, req);
  return TRUE;
}

int
pm_endpoint_family (const MptcpNlAddress *e)
{
  MptcpNlAddress n = *e;

  _mptcp_nl_address_normalize (&n);
  return n.family;
}

static gboolean
endpoint_usable (Conn *conn, const MptcpNlAddress *e)
{
  /* the initial subflow's address is in use already */
  return (e->flags & MPTCP_PM_ADDR_FLAG_SUBFLOW) && pm_endpoint_family (e) == conn->family &&
         !same_addr (conn->family, &e->addr, &conn->saddr);
}

/* The in-kernel PM's walk over the subflow endpoints: one endpoint at a time (to the peer's
 * initial address, and a fullmesh one to every accepted announcement too); the next one when
 * a subflow of this one is established or failed. Announcements are served in between. */
static void
advance (MgsPmPolicy *self,
         Conn        *conn)
{
  while (!conn->waiting && conn->next_endpoint < conn->endpoints->len &&
         conn->n_subflows < conn->max_subflows)
    {
      const MptcpNlAddress *e = &g_array_index (conn->endpoints, MptcpNlAddress,
                                                conn->next_endpoint++);
      gboolean made = FALSE;

      if (!endpoint_usable (conn, e))
        continue;
      made |= create_subflow (self, conn, e, conn->family, &conn->daddr, conn->dport);
      if (e->flags & MPTCP_PM_ADDR_FLAG_FULLMESH)
        for (guint i = 0; i < conn->remotes->len; i++)
          {
            const MptcpNlAddress *r = &g_array_index (conn->remotes, MptcpNlAddress, i);

            if (r->family == conn->family)
              made |= create_subflow (self, conn, e, conn->family, &r->addr,
                                      r->port != 0 ? r->port : conn->dport);
          }
      conn->waiting = made;
    }
}

static gboolean
has_fullmesh (Conn *conn)
{
  for (guint i = 0; i < conn->endpoints->len; i++)
    {
      const MptcpNlAddress *e = &g_array_index (conn->endpoints, MptcpNlAddress, i);

      if ((e->flags & MPTCP_PM_ADDR_FLAG_SUBFLOW) && (e->flags & MPTCP_PM_ADDR_FLAG_FULLMESH) &&
          pm_endpoint_family (e) == conn->family)
        return TRUE;
    }
  return FALSE;
}

/* Subflows towards one remote address from the subflow endpoints: fullmesh_only for a peer
 * announcement. */
static void
subflows_to (MgsPmPolicy           *self,
             Conn                  *conn,
             const MptcpNlInetAddr *raddr,
             guint16                rport,
             gboolean               fullmesh_only)
{
  for (guint i = 0; i < conn->endpoints->len; i++)
    {
      const MptcpNlAddress *e = &g_array_index (conn->endpoints, MptcpNlAddress, i);

      if (!endpoint_usable (conn, e))
        continue;
      if (fullmesh_only && !(e->flags & MPTCP_PM_ADDR_FLAG_FULLMESH))
        continue;
      (void) create_subflow (self, conn, e, conn->family, raddr, rport);
    }
}

gboolean
pm_announced (Conn *conn, guint8 id)
{
  return (conn->announced[id / 64] >> (id % 64)) & 1;
}

static void announce_next (MgsPmPolicy *self, Conn *conn);

static gboolean
announce_gap_cb (gpointer user_data)
{
  Conn *conn = pm_req_conn (user_data);

  if (conn != NULL)
    {
      conn->announce_busy = FALSE;
      announce_next (pm_the_policy, conn);
    }
  return G_SOURCE_REMOVE;
}

static void
announce_done (MptcpNlReply *reply,
               GError       *error,
               gpointer      user_data)
{
  Req *req = user_data;
  Conn *conn = pm_req_conn (req);

  if (conn != NULL)
    {
      if (error != NULL && conn->signal_retries < ANNOUNCE_RETRIES)
        conn->signal_retries++;   /* the same one again after the gap */
      else
        {
          if (error != NULL)
            g_debug ("policy: token %08x: announce failed: %s", conn->token, error->message);
          conn->signal_retries = 0;
          conn->announced[req->addr_id / 64] |= G_GUINT64_CONSTANT (1) << (req->addr_id % 64);
          g_array_append_val (conn->signals, req->signal);
          pm_state_changed (pm_the_policy);
        }
      /* the next one (or this one again) after the gap */
      g_timeout_add_full (G_PRIORITY_DEFAULT, ANNOUNCE_GAP_MS, announce_gap_cb,
                          g_steal_pointer (&req), g_free);
    }
  g_clear_error (&error);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  g_free (req);
}

static void
announce (MgsPmPolicy          *self,
          Conn                 *conn,
          const MptcpNlAddress *e)
{
  MptcpNlRequest r = { 0 };
  Req *req = pm_req_new (self, conn);

  r.cmd = MPTCP_PM_CMD_ANNOUNCE;
  r.token = conn->token;
  r.has_token = TRUE;
  r.has_addr = TRUE;
  r.addr = *e;
  r.addr.has_id = TRUE;
  r.addr.flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
  r.addr.has_flags = TRUE;
  req->addr_id = e->id;
  req->signal = *e;
  _mptcp_nl_address_normalize (&req->signal);
  conn->announce_busy = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, announce_done, req);
}

/* The signal endpoints' walk (both sides, as the in-kernel PM): the first `signal` endpoint in
 * table order not announced yet on this connection; one at a time. */
static void
announce_next (MgsPmPolicy *self,
               Conn        *conn)
{
  if (conn->announce_busy || !conn->announcing)
    return;
  for (guint i = 0; i < conn->endpoints->len; i++)
    {
      const MptcpNlAddress *e = &g_array_index (conn->endpoints, MptcpNlAddress, i);

      if ((e->flags & MPTCP_PM_ADDR_FLAG_SIGNAL) && pm_endpoint_family (e) == conn->family &&
          !same_addr (conn->family, &e->addr, &conn->saddr) && !pm_announced (conn, e->id))
        {
          announce (self, conn, e);
          return;
        }
    }
}

static void
accept_announcement (MgsPmPolicy          *self,
                     Conn                 *conn,
                     const MptcpNlAddress *remote)
{
  guint16 port = remote->port != 0 ? remote->port : conn->dport;

  if (remote->family != conn->family)
    return;
  if (has_fullmesh (conn))
    subflows_to (self, conn, &remote->addr, port, TRUE);
  else
    (void) create_subflow (self, conn, NULL, conn->family, &remote->addr, port);
}

/* What the table says, for a connection whose table is read. */
void
pm_apply (MgsPmPolicy *self,
       Conn        *conn)
{
  if (conn->taken || !conn->established || !conn->have_table)
    return;
  /* signal endpoints first, on both sides (measured on 6.18: a client-side connection announces
   * them too); an adopted connection may have had its ADD_ADDRs: not sent twice, so it
   * announces only when the state file says what it pm_announced (the rest of the walk then) */
  if ((!conn->adopted || conn->signals_known) && !conn->announcing)
    {
      conn->announcing = TRUE;
      conn->signal_retries = 0;
    }
  announce_next (self, conn);
  if (conn->server_side)
    return;
  conn->next_endpoint = 0;
  conn->waiting = FALSE;
  advance (self, conn);
  /* the announcements that came before the table; later ones are served when they come, once
   * (the in-kernel PM handles an ADD_ADDR when it arrives only, not again at a table change) */
  if (!conn->remotes_served)
    for (guint i = 0; i < conn->remotes->len; i++)
      accept_announcement (self, conn, &g_array_index (conn->remotes, MptcpNlAddress, i));
  conn->remotes_served = TRUE;
}

/* the end of a table read: frees what is left (req NULL: it went on to the next request) */
static void
read_done (MptcpNlReply *reply,
           GError       *error,
           Req          *req,
           const char   *what)
{
  if (error != NULL)
    {
      g_warning ("policy: reading the %s failed: %s", what, error->message);
      g_error_free (error);
    }
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  g_free (req);
}

/* the connection takes the table and limits last read */
static void
use_table (MgsPmPolicy *self,
           Conn        *conn)
{
  g_array_set_size (conn->endpoints, 0);
  g_array_append_vals (conn->endpoints, self->table->data, self->table->len);
  conn->max_subflows = self->table_subflows;
  conn->max_accepted = self->table_accepted;
  conn->have_table = TRUE;
  /* announcements that came before the table: accepted up to the limit */
  if (conn->remotes->len > conn->max_accepted)
    g_array_set_size (conn->remotes, conn->max_accepted);
  /* an adopted connection: the count it had (the state file) */
  conn->n_accepted = MAX (conn->remotes->len, conn->kept_accepted);
  /* announced endpoints whose id now has another address are free to be announced */
  for (guint i = conn->signals->len; i-- > 0;)
    {
      const MptcpNlAddress *sig = &g_array_index (conn->signals, MptcpNlAddress, i);
      const MptcpNlAddress *now = pm_find_endpoint (conn->endpoints, sig->id);
      MptcpNlAddress n;

      if (now != NULL)
        {
          n = *now;
          _mptcp_nl_address_normalize (&n);
        }
      if (now == NULL || n.family != sig->family || !same_addr (n.family, &n.addr, &sig->addr))
        {
          conn->announced[sig->id / 64] &= ~(G_GUINT64_CONSTANT (1) << (sig->id % 64));
          g_array_remove_index (conn->signals, i);
        }
    }
  pm_state_changed (self);
  pm_apply (self, conn);
}

static gboolean
policy_alive (Req *req)
{
  return pm_the_policy != NULL && pm_the_policy == req->policy && req->generation == pm_the_generation;
}


/* the end of a read: a change is applied to the live connections, then every connection that
 * waited for it takes the table */
static void
table_read_end (MgsPmPolicy  *self,
                MptcpNlReply *limits)
{
  g_autoptr(GArray) readers = self->readers;

  self->readers = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->reading = FALSE;
  if (limits != NULL)
    {
      if (self->table_known &&
          (!pm_same_table (self->polled, self->table) || limits->subflows != self->table_subflows ||
           limits->rcv_add_addrs != self->table_accepted))
        {
          pm_table_changed (self, self->polled, limits->subflows, limits->rcv_add_addrs);
          /* the read may have caught the table in the middle of a change: the next new
           * connection reads it again (and the live ones get the rest then) */
          self->table_time = 0;
        }
      else
        {
          g_array_set_size (self->table, 0);
          g_array_append_vals (self->table, self->polled->data, self->polled->len);
          self->table_subflows = limits->subflows;
          self->table_accepted = limits->rcv_add_addrs;
          self->table_time = g_get_monotonic_time ();
        }
      self->table_known = TRUE;
    }
  for (guint i = 0; limits != NULL && i < readers->len; i++)
    {
      Conn *conn = g_hash_table_lookup (self->conns,
                                        GUINT_TO_POINTER (g_array_index (readers, guint32, i)));

      if (conn != NULL && !conn->taken)
        use_table (self, conn);
    }
  if (self->reread)
    pm_start_read (self);
}

static void
limits_done (MptcpNlReply *reply,
             GError       *error,
             gpointer      user_data)
{
  Req *req = user_data;

  if (policy_alive (req))
    table_read_end (pm_the_policy, reply);
  read_done (reply, error, req, "limits");
}

static void
endpoints_done (MptcpNlReply *reply,
                GError       *error,
                gpointer      user_data)
{
  Req *req = user_data;

  if (policy_alive (req))
    {
      if (reply != NULL)
        {
          MptcpNlRequest r = { .cmd = MPTCP_PM_CMD_GET_LIMITS };

          g_array_set_size (pm_the_policy->polled, 0);
          g_array_append_vals (pm_the_policy->polled, reply->addresses->data, reply->addresses->len);
          _mptcp_netlink_request_direct (pm_the_policy->nl, &r, POLICY_TIMEOUT_MS, limits_done, req);
          req = NULL;
        }
      else
        table_read_end (pm_the_policy, NULL);
    }
  read_done (reply, error, req, "endpoints");
}

/* A read of the endpoint table and the limits (GET_ADDR dump, GET_LIMITS); one at a time. */
void
pm_start_read (MgsPmPolicy *self)
{
  MptcpNlRequest r = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };
  Req *req;

  self->reread = FALSE;
  self->reading = TRUE;
  req = g_new0 (Req, 1);
  req->policy = self;
  req->generation = self->generation;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, endpoints_done, req);
}

/* The table and limits for a connection: the last read if it is recent, else a new read that
 * every connection established meanwhile waits for (one read for a burst, not one each). */
void
pm_read_table (MgsPmPolicy *self,
            Conn        *conn)
{
  if (!self->reading && self->table_time != 0 &&
      g_get_monotonic_time () - self->table_time < TABLE_TTL_US)
    {
      use_table (self, conn);
      return;
    }
  g_array_append_val (self->readers, conn->token);
  if (!self->reading)
    pm_start_read (self);
}

static void
on_event (const MptcpNlEvent *ev,
          gpointer            user_data)
{
  MgsPmPolicy *self = user_data;
  Conn *conn;

  if (ev->token == 0)
    return;
  switch (ev->type)
    {
    case MPTCP_EVENT_CREATED:
      /* nothing to do before ESTABLISHED, which carries the same addresses: no work while
       * the ESTABLISHED that follows it closely may already be waiting */
      break;
    case MPTCP_EVENT_ESTABLISHED:
      conn = pm_conn_ensure (self, ev->token);
      conn->family = ev->family;
      conn->saddr = ev->saddr;
      conn->daddr = ev->daddr;
      _mptcp_nl_inet_normalize (&conn->family, &conn->saddr);
      {
        int f = ev->family;
        _mptcp_nl_inet_normalize (&f, &conn->daddr);
      }
      conn->dport = ev->dport;
      conn->sport = ev->sport;
      conn->server_side = ev->server_side || (ev->flags & MPX_EV_FLAG_SERVER_SIDE);
      if (!conn->established || conn->adopted)
        {
          conn->established = TRUE;
          conn->adopted = FALSE;
          conn->signals_known = TRUE;
          conn->taken = self->is_taken != NULL && self->is_taken (ev->token, self->user_data);
          if (conn->taken)
            g_debug ("policy: token %08x belongs to an application", ev->token);
          else
            pm_read_table (self, conn);
          spares_refill (self);
        }
      break;
    case MPTCP_EVENT_ANNOUNCED:
      /* may come before ESTABLISHED: kept until the table is read */
      conn = pm_conn_ensure (self, ev->token);
      if (conn->taken || conn->server_side)
        break;
      {
        MptcpNlAddress remote = { 0 };

        remote.family = ev->family;
        remote.addr = ev->daddr;
        remote.port = ev->dport;
        remote.id = ev->rem_id;
        _mptcp_nl_address_normalize (&remote);
        for (guint i = 0; i < conn->remotes->len; i++)
          if (g_array_index (conn->remotes, MptcpNlAddress, i).id == remote.id)
            return;
        if (conn->have_table)
          {
            if (conn->n_accepted >= conn->max_accepted)
              break;
            conn->n_accepted++;
            g_array_append_val (conn->remotes, remote);
            accept_announcement (self, conn, &remote);
          }
        else
          g_array_append_val (conn->remotes, remote);
        pm_state_changed (self);
      }
      break;
    case MPTCP_EVENT_REMOVED:
      /* the peer's RM_ADDR: the kernel itself closes the subflows to that address id, under
       * either path manager; the in-kernel PM then counts the announcement no more against
       * add_addr_accepted (when it had a subflow to it) and leaves the address out of later
       * fullmesh walks, and a new announcement of the address is served again */
      conn = g_hash_table_lookup (self->conns, GUINT_TO_POINTER (ev->token));
      if (conn == NULL || conn->taken || conn->server_side || ev->rem_id == 0)
        break;
      for (guint i = 0; i < conn->remotes->len; i++)
        {
          MptcpNlAddress removed = g_array_index (conn->remotes, MptcpNlAddress, i);

          if (removed.id != ev->rem_id)
            continue;
          g_array_remove_index (conn->remotes, i);
          if (conn->have_table && conn->n_accepted > 0)
            conn->n_accepted--;
          conn->kept_accepted = MIN (conn->kept_accepted, conn->n_accepted);
          for (guint j = conn->pairs->len; j-- > 0;)
            {
              const Pair *q = &g_array_index (conn->pairs, Pair, j);

              if (q->family == removed.family && same_addr (q->family, &q->remote, &removed.addr))
                g_array_remove_index (conn->pairs, j);
            }
          pm_state_changed (self);
          break;
        }
      break;
    case MPTCP_EVENT_SUB_ESTABLISHED:
    case MPTCP_EVENT_SUB_CLOSED:
      conn = g_hash_table_lookup (self->conns, GUINT_TO_POINTER (ev->token));
      if (conn == NULL || conn->taken)
        break;
      if (ev->type == MPTCP_EVENT_SUB_ESTABLISHED)
        {
          /* the local port, for a SUBFLOW_DESTROY when its endpoint is removed */
          Pair p = { 0 };
          int f = ev->family;

          p.family = ev->family;
          p.local = ev->saddr;
          p.remote = ev->daddr;
          _mptcp_nl_inet_normalize (&p.family, &p.local);
          _mptcp_nl_inet_normalize (&f, &p.remote);
          p.rport = ev->dport;
          for (guint i = 0; i < conn->pairs->len; i++)
            {
              Pair *q = &g_array_index (conn->pairs, Pair, i);

              if (!pair_equal (q, &p))
                continue;
              q->lport = ev->sport;
            }
        }
      /* the initial subflow is not counted against the limit */
      if (ev->type == MPTCP_EVENT_SUB_CLOSED && conn->n_subflows > 0 &&
          !(ev->sport == conn->sport && ev->dport == conn->dport && conn->sport != 0))
        conn->n_subflows--;
      /* the walk goes on when its last subflow is established or failed, and (as the in-kernel
       * PM, measured on 6.18) when a subflow closed and endpoints are left, with the limits
       * of now */
      if ((conn->waiting || ev->type == MPTCP_EVENT_SUB_CLOSED) && conn->have_table &&
          !conn->server_side)
        {
          conn->waiting = FALSE;
          advance (self, conn);
        }
      break;
    case MPTCP_EVENT_CLOSED:
      conn = g_hash_table_lookup (self->conns, GUINT_TO_POINTER (ev->token));
      if (conn != NULL)
        {
          g_hash_table_steal (self->conns, GUINT_TO_POINTER (ev->token));
          conn_recycle (self, conn);
          pm_state_changed (self);
        }
      break;
    default:
      break;
    }
}

static void
on_overrun (gpointer user_data)
{
  g_warning ("policy: MPTCP events were lost; connections established meanwhile are missed "
             "until the service restarts");
}

gboolean
mgs_pm_policy_namespace_is_userspace (GError **error)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/sys/net/mptcp/pm_type", &text, NULL, error))
    return FALSE;
  if (g_ascii_strtoull (text, NULL, 10) != 1)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER,
                   "The namespace uses the in-kernel path manager "
                   "(net.mptcp.path_manager=kernel): the service does not act as path manager");
      return FALSE;
    }
  return TRUE;
}

MgsPmPolicy *
mgs_pm_policy_new (MgsPmPolicyTakenFunc is_taken,
                   gpointer             user_data,
                   GError             **error)
{
  MgsPmPolicy *self;

  g_return_val_if_fail (pm_the_policy == NULL, NULL);
  if (!mgs_pm_policy_namespace_is_userspace (error))
    return NULL;
  self = g_new0 (MgsPmPolicy, 1);
  self->nl = _mptcp_netlink_get_for_context (NULL, error);
  if (self->nl == NULL)
    {
      g_free (self);
      return NULL;
    }
  self->conns = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) conn_free);
  self->table = g_array_new (FALSE, TRUE, sizeof (MptcpNlAddress));
  self->polled = g_array_new (FALSE, TRUE, sizeof (MptcpNlAddress));
  self->readers = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->is_taken = is_taken;
  self->user_data = user_data;
  self->sub_id = _mptcp_netlink_subscribe (self->nl, TRUE, 0, on_event, on_overrun, self, error);
  if (self->sub_id == 0)
    {
      _mptcp_netlink_unref (self->nl);
      g_hash_table_unref (self->conns);
      g_array_unref (self->table);
      g_array_unref (self->polled);
      g_array_unref (self->readers);
      g_free (self);
      return NULL;
    }
  self->generation = ++pm_the_generation;
  pm_the_policy = self;
  spares_refill (self);
  self->state_path = pm_state_path ();
  if (self->state_path != NULL)
    pm_state_read (self);
  /* after subscribing: a connection established in between is seen twice, not missed
   * (pairs already asked for are not asked again) */
  pm_adopt_existing (self);
  /* no event tells of endpoint changes: hints, and a slow poll for the rest */
  pm_watch_routes (self);
  if (pm_table_poll_ms () > 0)
    self->poll_id = g_timeout_add (pm_table_poll_ms (), pm_poll_table, self);
  return self;
}

void
mgs_pm_policy_free (MgsPmPolicy *self)
{
  if (self == NULL)
    return;
  /* a write that is due is made now (a stop, then a start, keeps everything) */
  if (self->state_write_id != 0)
    {
      g_source_remove (self->state_write_id);
      pm_state_write (self);
    }
  g_free (self->state_path);
  g_clear_pointer (&self->kept, g_hash_table_unref);
  if (self->poll_id != 0)
    g_source_remove (self->poll_id);
  for (guint i = 0; i < G_N_ELEMENTS (self->hint_ids); i++)
    if (self->hint_ids[i] != 0)
      g_source_remove (self->hint_ids[i]);
  if (self->rt_id != 0)
    g_source_remove (self->rt_id);
  g_clear_pointer (&self->rt, mnl_socket_close);
  _mptcp_netlink_unsubscribe (self->nl, self->sub_id);
  _mptcp_netlink_unref (self->nl);
  g_hash_table_unref (self->conns);
  g_array_unref (self->table);
  g_array_unref (self->polled);
  g_array_unref (self->readers);
  while (self->pool != NULL)
    {
      Conn *conn = self->pool;

      self->pool = conn->next_free;
      conn_free (conn);
    }
  g_free (self->spare_req);
  if (pm_the_policy == self)
    pm_the_policy = NULL;
  g_free (self);
}

guint
mgs_pm_policy_get_n_connections (MgsPmPolicy *self)
{
  return g_hash_table_size (self->conns);
}

guint
mgs_pm_policy_get_n_created (MgsPmPolicy *self)
{
  return self->n_created;
}
