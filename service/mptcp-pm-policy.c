/* mptcp-pm-policy.c: the in-kernel path manager's behaviour, in the service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <linux/mptcp.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "mptcp-glib.h"
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-pm-policy.h"

#define POLICY_TIMEOUT_MS 5000
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
/* No kernel event tells of endpoint or limit changes. The table is read again at once after
 * the service's own changes (mgs_pm_policy_table_maybe_changed()), these times after an
 * address or link event (a network manager adds the address, then its endpoint: the first
 * read finds an endpoint added right after the address, the later ones one added after some
 * work), and at the safety poll (MPTCP_GLIB_SERVICE_TABLE_POLL_MS, 0 = none). */
static const guint hint_delays_ms[] = { 1, 10, 100, 1000 };
#define TABLE_POLL_MS_DEFAULT 5000

typedef struct
{
  int             family;
  MptcpNlInetAddr local;
  MptcpNlInetAddr remote;
  guint16         rport;
  guint16         lport;     /* the subflow's local port once known (not compared), 0 = not yet */
  gboolean        backup;    /* from a backup endpoint (not compared) */
} Pair;

typedef struct _Conn Conn;

struct _Conn
{
  guint32         token;
  int             family;        /* of the initial subflow, normalised */
  MptcpNlInetAddr saddr;
  MptcpNlInetAddr daddr;
  guint16         dport;
  guint16         sport;         /* the initial subflow's local port */
  gboolean        initial_removed; /* its endpoint was removed: RM_ADDR id 0, closed */
  gboolean        server_side;
  gboolean        established;
  gboolean        taken;
  gboolean        have_table;    /* endpoints and limits read */
  gboolean        adopted;       /* found at start (sock_diag), not seen established */
  GArray         *endpoints;     /* of MptcpNlAddress */
  guint32         max_subflows;
  guint32         max_accepted;
  guint           n_subflows;    /* extra subflows asked for and not closed */
  guint           n_accepted;    /* peer announcements accepted */
  GArray         *remotes;       /* of MptcpNlAddress: accepted peer announcements */
  GArray         *pairs;         /* of Pair: subflows asked for or found (no duplicates) */
  guint           next_endpoint; /* the endpoint walk: one endpoint at a time, as the kernel */
  gboolean        waiting;       /* for the walk's last subflow to be established or fail */
  gboolean        announcing;    /* the signal endpoints' walk has started */
  gboolean        announce_busy; /* an ANNOUNCE is in flight or waits for the gap */
  guint64         announced[4];  /* ids of the signal endpoints announced (or given up) */
  GArray         *signals;       /* of MptcpNlAddress: those endpoints (for the state file) */
  gboolean        signals_known; /* adopted: what it announced is known (the state file) */
  guint           kept_accepted; /* adopted: the accepted count kept in the state file */
  guint           signal_retries;
  gboolean        remotes_served; /* the announcements received before the table are served */
  Conn           *next_free;     /* in the policy's pool of closed connections' Conns */
};

typedef struct _Req Req;

/* the Conns of closed connections kept for the next ones (at most this many), so that a
 * connection costs no allocation and no free in the steady state */
#define CONN_POOL_MAX 64

struct _MgsPmPolicy
{
  MptcpNetlink         *nl;
  guint                 sub_id;
  GHashTable           *conns;   /* token → Conn */
  MgsPmPolicyTakenFunc  is_taken;
  gpointer              user_data;
  guint                 n_created;
  guint                 generation;
  GArray               *table;          /* of MptcpNlAddress: the last table read */
  GArray               *polled;         /* of MptcpNlAddress: the read in progress */
  guint32               table_subflows;
  guint32               table_accepted;
  gint64                table_time;     /* monotonic µs of the last read for new connections;
                                         * 0 = none valid (never read, or the watch saw a change) */
  gboolean              table_known;    /* table holds a read: every read compares with it,
                                         * so that live connections see each change whichever
                                         * read (for a new connection, a hint, the poll) finds it */
  guint                 poll_id;        /* the safety poll, 0 = none */
  gboolean              reading;        /* a table read is in flight */
  gboolean              reread;         /* a change may have come after it started: read again */
  GArray               *readers;        /* of guint32: the tokens waiting for it */
  guint                 hint_ids[G_N_ELEMENTS (hint_delays_ms)]; /* reads after an rtnetlink event */
  struct mnl_socket    *rt;             /* rtnetlink address and link events, or NULL */
  guint                 rt_id;
  Conn                 *pool;           /* ready Conns (one made after an event if none is left), */
  guint                 pool_len;       /* so that the next ESTABLISHED allocates nothing */
  Req                  *spare_req;      /* the same for its create's Req */
  char                 *state_path;     /* the state file, NULL = none kept */
  guint                 state_write_id; /* its debounced write, 0 = none due */
  GHashTable           *kept;           /* token → GVariant entry: the file read at start,
                                         * until the connections are adopted */
};

struct _Req
{
  MgsPmPolicy *policy;
  guint32      token;
  guint        generation;
  Pair         pair;
  guint8       addr_id;     /* ANNOUNCE: the endpoint's id */
  MptcpNlAddress signal;    /* ANNOUNCE: the endpoint */
};

static void state_changed (MgsPmPolicy *self);
static const MptcpNlAddress *find_endpoint (GArray *table, guint8 id);

/* one policy per process (the service makes at most one), so replies can check it is alive */
static MgsPmPolicy *the_policy;
static guint        the_generation;

static void
conn_free (Conn *conn)
{
  g_array_unref (conn->endpoints);
  g_array_unref (conn->remotes);
  g_array_unref (conn->pairs);
  g_array_unref (conn->signals);
  g_free (conn);
}

static gsize
addr_len (int family)
{
  return family == AF_INET ? sizeof (struct in_addr) : sizeof (struct in6_addr);
}

static gboolean
same_addr (int family, const MptcpNlInetAddr *a, const MptcpNlInetAddr *b)
{
  return memcmp (a, b, addr_len (family)) == 0;
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

static Conn *
conn_ensure (MgsPmPolicy *self,
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

static Conn *
req_conn (Req *req)
{
  if (the_policy == NULL || the_policy != req->policy || req->generation != the_generation)
    return NULL;
  return g_hash_table_lookup (the_policy->conns, GUINT_TO_POINTER (req->token));
}

static Req *
req_new (MgsPmPolicy *self,
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
static void
pair_request (MptcpNlRequest *r,
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
static void
mark_backup (MgsPmPolicy *self,
             Conn        *conn,
             const Pair  *p,
             gboolean     backup)
{
  MptcpNlRequest r;

  pair_request (&r, MPTCP_PM_CMD_SET_FLAGS, conn, p);
  r.addr.port = 0;
  r.addr.flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
  r.addr.has_flags = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, set_flags_done, req_new (self, conn));
}

/* The running kernel is major.minor or later (an unreadable release counts as 0.0). */
static gboolean
kernel_at_least (guint64 major,
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
    ignores = !kernel_at_least (6, 12);
  return ignores;
}

static void
create_done (MptcpNlReply *reply,
             GError       *error,
             gpointer      user_data)
{
  Req *req = user_data;
  Conn *conn = req_conn (req);

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
              advance (the_policy, conn);
            }
        }
      g_error_free (error);
    }
  else if (conn != NULL && req->pair.backup && create_ignores_backup ())
    mark_backup (the_policy, conn, &req->pair, TRUE);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  /* kept for the next create if the policy is alive and has no spare */
  if (the_policy != NULL && the_policy == req->policy && the_policy->spare_req == NULL)
    {
      memset (req, 0, sizeof *req);
      the_policy->spare_req = req;
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
  req = req_new (self, conn);
  req->pair = p;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, create_done, req);
  return TRUE;
}

static int
endpoint_family (const MptcpNlAddress *e)
{
  MptcpNlAddress n = *e;

  _mptcp_nl_address_normalize (&n);
  return n.family;
}

static gboolean
endpoint_usable (Conn *conn, const MptcpNlAddress *e)
{
  /* the initial subflow's address is in use already */
  return (e->flags & MPTCP_PM_ADDR_FLAG_SUBFLOW) && endpoint_family (e) == conn->family &&
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
          endpoint_family (e) == conn->family)
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

static gboolean
announced (Conn *conn, guint8 id)
{
  return (conn->announced[id / 64] >> (id % 64)) & 1;
}

static void announce_next (MgsPmPolicy *self, Conn *conn);

static gboolean
announce_gap_cb (gpointer user_data)
{
  Conn *conn = req_conn (user_data);

  if (conn != NULL)
    {
      conn->announce_busy = FALSE;
      announce_next (the_policy, conn);
    }
  return G_SOURCE_REMOVE;
}

static void
announce_done (MptcpNlReply *reply,
               GError       *error,
               gpointer      user_data)
{
  Req *req = user_data;
  Conn *conn = req_conn (req);

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
          state_changed (the_policy);
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
  Req *req = req_new (self, conn);

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

      if ((e->flags & MPTCP_PM_ADDR_FLAG_SIGNAL) && endpoint_family (e) == conn->family &&
          !same_addr (conn->family, &e->addr, &conn->saddr) && !announced (conn, e->id))
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
static void
apply (MgsPmPolicy *self,
       Conn        *conn)
{
  if (conn->taken || !conn->established || !conn->have_table)
    return;
  /* signal endpoints first, on both sides (measured on 6.18: a client-side connection announces
   * them too); an adopted connection may have had its ADD_ADDRs: not sent twice, so it
   * announces only when the state file says what it announced (the rest of the walk then) */
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
      const MptcpNlAddress *now = find_endpoint (conn->endpoints, sig->id);
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
  state_changed (self);
  apply (self, conn);
}

static gboolean
policy_alive (Req *req)
{
  return the_policy != NULL && the_policy == req->policy && req->generation == the_generation;
}

static gboolean same_table (GArray *a, GArray *b);
static void table_changed (MgsPmPolicy *self, GArray *table, guint32 subflows,
                           guint32 accepted);
static void start_read (MgsPmPolicy *self);

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
          (!same_table (self->polled, self->table) || limits->subflows != self->table_subflows ||
           limits->rcv_add_addrs != self->table_accepted))
        {
          table_changed (self, self->polled, limits->subflows, limits->rcv_add_addrs);
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
    start_read (self);
}

static void
limits_done (MptcpNlReply *reply,
             GError       *error,
             gpointer      user_data)
{
  Req *req = user_data;

  if (policy_alive (req))
    table_read_end (the_policy, reply);
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

          g_array_set_size (the_policy->polled, 0);
          g_array_append_vals (the_policy->polled, reply->addresses->data, reply->addresses->len);
          _mptcp_netlink_request_direct (the_policy->nl, &r, POLICY_TIMEOUT_MS, limits_done, req);
          req = NULL;
        }
      else
        table_read_end (the_policy, NULL);
    }
  read_done (reply, error, req, "endpoints");
}

/* A read of the endpoint table and the limits (GET_ADDR dump, GET_LIMITS); one at a time. */
static void
start_read (MgsPmPolicy *self)
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
static void
read_table (MgsPmPolicy *self,
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
    start_read (self);
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
      conn = conn_ensure (self, ev->token);
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
            read_table (self, conn);
          spares_refill (self);
        }
      break;
    case MPTCP_EVENT_ANNOUNCED:
      /* may come before ESTABLISHED: kept until the table is read */
      conn = conn_ensure (self, ev->token);
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
        state_changed (self);
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
          state_changed (self);
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
          state_changed (self);
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

/* The state file (restart safety): what no sock_diag dump tells of a connection, the peer's
 * announcements the policy accepted (and their count) and the signal endpoints it announced,
 * kept in $MPTCP_GLIB_SERVICE_RUNTIME_DIR or else $RUNTIME_DIRECTORY (systemd's
 * RuntimeDirectory=, kept over restarts with RuntimeDirectoryPreserve=yes); no directory, no
 * file. Written STATE_WRITE_DELAY_MS after a change (one write for a burst), through a
 * temporary file and a rename; read when the policy starts, before the connections are adopted.
 * A connection is found again by its token and its addresses and ports (a token can be reused
 * by a later connection). GVariant text form, version first:
 *   (version, [(token, local address, remote address, local port, remote port,
 *               accepted count, [(id, address, port)] accepted announcements,
 *               announcements known, [(id, address, port)] signal endpoints announced)]) */
#define STATE_FILE_NAME      "path-manager.state"
#define STATE_VERSION        1
#define STATE_ENTRY_TYPE     "(ussqqua(ysq)ba(ysq))"
#define STATE_TYPE           "(ua" STATE_ENTRY_TYPE ")"
#define STATE_WRITE_DELAY_MS 150
#define STATE_MAX_BYTES      (4 * 1024 * 1024)
#define STATE_MAX_ADDRS      256   /* per list (ids are 8 bits) */

static char *
state_path (void)
{
  const char *dir = g_getenv ("MPTCP_GLIB_SERVICE_RUNTIME_DIR");
  g_auto(GStrv) dirs = NULL;

  if (dir == NULL || *dir == '\0')
    dir = g_getenv ("RUNTIME_DIRECTORY");
  if (dir == NULL || *dir == '\0')
    return NULL;
  /* systemd lists several directories with ':' when the unit has several */
  dirs = g_strsplit (dir, ":", 2);
  return g_build_filename (dirs[0], STATE_FILE_NAME, NULL);
}

static char *
inet_text (int family, const MptcpNlInetAddr *addr)
{
  char text[INET6_ADDRSTRLEN] = "";

  if (inet_ntop (family, addr, text, sizeof text) == NULL)
    text[0] = '\0';
  return g_strdup (text);
}

/* an address of the file, normalised (IPv4-mapped IPv6 as IPv4) */
static gboolean
inet_parse (const char *text, int *family, MptcpNlInetAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  if (inet_pton (AF_INET, text, &addr->v4) == 1)
    *family = AF_INET;
  else if (inet_pton (AF_INET6, text, &addr->v6) == 1)
    {
      *family = AF_INET6;
      _mptcp_nl_inet_normalize (family, addr);
    }
  else
    return FALSE;
  return TRUE;
}

static GVariant *
state_addrs (GArray *addrs)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ysq)"));
  for (guint i = 0; i < addrs->len; i++)
    {
      const MptcpNlAddress *a = &g_array_index (addrs, MptcpNlAddress, i);
      g_autofree char *text = inet_text (a->family, &a->addr);

      g_variant_builder_add (&b, "(ysq)", a->id, text, a->port);
    }
  return g_variant_builder_end (&b);
}

static void
state_write (MgsPmPolicy *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *text = NULL;
  GVariantBuilder b;
  GHashTableIter iter;
  gpointer value;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a" STATE_ENTRY_TYPE));
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Conn *conn = value;
      g_autofree char *local = NULL, *remote = NULL;

      if (!conn->established || conn->taken)
        continue;
      local = inet_text (conn->family, &conn->saddr);
      remote = inet_text (conn->family, &conn->daddr);
      g_variant_builder_add (&b, "(ussqqu@a(ysq)b@a(ysq))", conn->token, local, remote, conn->sport,
                             conn->dport, MAX (conn->n_accepted, conn->kept_accepted),
                             state_addrs (conn->remotes), conn->signals_known,
                             state_addrs (conn->signals));
    }
  state = g_variant_ref_sink (g_variant_new ("(u@a" STATE_ENTRY_TYPE ")", STATE_VERSION,
                                             g_variant_builder_end (&b)));
  text = g_variant_print (state, FALSE);
  if (!g_file_set_contents_full (self->state_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &error))
    g_warning ("policy: cannot write the state file: %s", error->message);
}

static gboolean
state_write_cb (gpointer user_data)
{
  MgsPmPolicy *self = user_data;

  self->state_write_id = 0;
  state_write (self);
  return G_SOURCE_REMOVE;
}

/* Something the state file holds changed: written soon (not moved by later changes, so that
 * a steady stream of them cannot keep it from being written) */
static void
state_changed (MgsPmPolicy *self)
{
  if (self == NULL || self->state_path == NULL || self->state_write_id != 0)
    return;
  self->state_write_id = g_timeout_add (STATE_WRITE_DELAY_MS, state_write_cb, self);
}

/* The file of the previous run: its entries by token in self->kept. One that cannot be read,
 * does not parse, has another version or other types is ignored (and overwritten at the next
 * write). */
static void
state_read (MgsPmPolicy *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) entries = NULL;
  g_autofree char *text = NULL;
  GStatBuf st;
  gsize len = 0;
  guint32 version = 0;

  self->kept = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_variant_unref);
  if (g_stat (self->state_path, &st) != 0)
    {
      if (errno != ENOENT)
        g_warning ("policy: state file %s: %s", self->state_path, g_strerror (errno));
      return;
    }
  if (st.st_size > STATE_MAX_BYTES)
    {
      g_warning ("policy: state file %s is too large (%" G_GINT64_FORMAT " bytes), ignored",
                 self->state_path, (gint64) st.st_size);
      return;
    }
  if (!g_file_get_contents (self->state_path, &text, &len, &error))
    {
      g_warning ("policy: state file ignored: %s", error->message);
      return;
    }
  if (len > STATE_MAX_BYTES || !g_utf8_validate (text, (gssize) len, NULL))
    {
      g_warning ("policy: state file %s is not text, ignored", self->state_path);
      return;
    }
  /* the version alone first: another version may have other types */
  if (g_str_has_prefix (text, "(") &&
      (version = (guint32) g_ascii_strtoull (text + 1 + strspn (text + 1, " "), NULL, 10)) != 0 &&
      version != STATE_VERSION)
    {
      g_warning ("policy: state file %s has version %u, not %u: ignored", self->state_path,
                 version, STATE_VERSION);
      return;
    }
  state = g_variant_parse (G_VARIANT_TYPE (STATE_TYPE), text, text + len, NULL, &error);
  if (state == NULL)
    {
      g_warning ("policy: state file %s ignored: %s", self->state_path, error->message);
      return;
    }
  g_variant_get_child (state, 0, "u", &version);
  if (version != STATE_VERSION)
    {
      g_warning ("policy: state file %s has version %u, not %u: ignored", self->state_path,
                 version, STATE_VERSION);
      return;
    }
  entries = g_variant_get_child_value (state, 1);
  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      GVariant *entry = g_variant_get_child_value (entries, i);
      guint32 token;

      g_variant_get_child (entry, 0, "u", &token);
      g_hash_table_replace (self->kept, GUINT_TO_POINTER (token), entry);
    }
  g_debug ("policy: state file: %u connections", g_hash_table_size (self->kept));
}

/* a list of the file into addrs: each id once, at most STATE_MAX_ADDRS, valid addresses only */
static void
state_restore_addrs (GVariantIter *iter, GArray *addrs, guint64 *ids)
{
  const char *text;
  guint16 port;
  guint8 id;

  while (g_variant_iter_next (iter, "(y&sq)", &id, &text, &port))
    {
      MptcpNlAddress a = { 0 };
      gboolean seen = FALSE;

      if (addrs->len >= STATE_MAX_ADDRS || !inet_parse (text, &a.family, &a.addr))
        continue;
      for (guint i = 0; i < addrs->len; i++)
        seen |= g_array_index (addrs, MptcpNlAddress, i).id == id;
      if (seen)
        continue;
      a.id = id;
      a.port = port;
      g_array_append_val (addrs, a);
      if (ids != NULL)
        ids[id / 64] |= G_GUINT64_CONSTANT (1) << (id % 64);
    }
}

/* An adopted connection takes what the file kept of it, if it is the same connection */
static void
state_restore (MgsPmPolicy *self, Conn *conn)
{
  g_autoptr(GVariantIter) remotes = NULL, signals = NULL;
  const char *ltext, *rtext;
  guint16 lport, rport;
  guint32 token, accepted;
  gboolean known;
  MptcpNlInetAddr a;
  GVariant *entry;
  int f;

  if (self->kept == NULL ||
      (entry = g_hash_table_lookup (self->kept, GUINT_TO_POINTER (conn->token))) == NULL)
    return;
  g_variant_get (entry, "(u&s&sqqua(ysq)ba(ysq))", &token, &ltext, &rtext, &lport, &rport,
                 &accepted, &remotes, &known, &signals);
  if (lport != conn->sport || rport != conn->dport ||
      !inet_parse (ltext, &f, &a) || f != conn->family || !same_addr (f, &a, &conn->saddr) ||
      !inet_parse (rtext, &f, &a) || f != conn->family || !same_addr (f, &a, &conn->daddr))
    {
      g_debug ("policy: token %08x: the state file's entry is of another connection",
               conn->token);
      return;
    }
  state_restore_addrs (remotes, conn->remotes, NULL);
  conn->kept_accepted = MIN (accepted, G_MAXUINT8);
  conn->signals_known = known;
  state_restore_addrs (signals, conn->signals, conn->announced);
  g_debug ("policy: token %08x: %u announcements and %u of its own kept", conn->token,
           conn->remotes->len, conn->signals->len);
}

static guint32
info_token (const MptcpDiagSocket *s)
{
  guint32 token = 0;

  if (s->info_len >= 16)
    memcpy (&token, s->info + 12, sizeof token);
  return token;
}

static void
diag_addr (const guint8 *raw, int *family, MptcpNlInetAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  memcpy (addr, raw, *family == AF_INET ? 4 : 16);
  _mptcp_nl_inet_normalize (family, addr);
}

/* Linux 6.12 and later list, for a GET_ADDR dump with a token, the local addresses the
 * userspace PM used on that connection, its ANNOUNCEs with the signal flag (measured on 6.18);
 * 6.1 lists nothing. Kernels in between are not measured: they do not ask. */
static gboolean
get_addr_lists_announced (void)
{
  static int lists = -1;

  if (lists < 0)
    lists = kernel_at_least (6, 12);
  return lists;
}

static void
announced_read (MptcpNlReply *reply,
                GError       *error,
                gpointer      user_data)
{
  Req *req = user_data;
  Conn *conn = req_conn (req);

  if (error != NULL)
    g_debug ("policy: token %08x: its addresses not read: %s", req->token, error->message);
  else if (conn != NULL && reply != NULL && !conn->signals_known)
    {
      for (guint i = 0; i < reply->addresses->len; i++)
        {
          MptcpNlAddress a = g_array_index (reply->addresses, MptcpNlAddress, i);

          g_debug ("policy: token %08x: the kernel lists address id %u flags %#x", conn->token,
                   a.id, a.flags);
          if (!(a.flags & MPTCP_PM_ADDR_FLAG_SIGNAL) || a.id == 0 || announced (conn, a.id))
            continue;
          _mptcp_nl_address_normalize (&a);
          conn->announced[a.id / 64] |= G_GUINT64_CONSTANT (1) << (a.id % 64);
          g_array_append_val (conn->signals, a);
        }
      conn->signals_known = TRUE;
      state_changed (the_policy);
      /* the signal endpoints not announced yet (if the table is read; else when it is) */
      apply (the_policy, conn);
    }
  g_clear_error (&error);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  g_free (req);
}

/* An adopted connection the state file does not know: what it announced, from the kernel */
static void
read_announced (MgsPmPolicy *self,
                Conn        *conn)
{
  MptcpNlRequest r = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };

  if (!get_addr_lists_announced ())
    return;
  r.token = conn->token;
  r.has_token = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, announced_read,
                                 req_new (self, conn));
}

/* Restart safety: every established connection of the namespace, with the subflows it has. */
static void
adopt_existing (MgsPmPolicy *self)
{
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag;
  MptcpDiagDump dump;

  diag = _mptcp_sockdiag_new (&error);
  if (diag == NULL)
    {
      g_warning ("policy: cannot list the namespace's connections: %s", error->message);
      return;
    }
  _mptcp_diag_dump_init (&dump);
  if (!_mptcp_sockdiag_dump_sync (diag, &dump, 5000, NULL, &error))
    g_warning ("policy: cannot list the namespace's connections: %s", error->message);
  else
    {
      for (guint i = 0; i < dump.connections->len; i++)
        {
          const MptcpDiagSocket *s = &g_array_index (dump.connections, MptcpDiagSocket, i);
          guint32 token = info_token (s);
          gboolean server_side = FALSE;
          Conn *conn;

          if (s->state != 1 /* TCP_ESTABLISHED */ || token == 0)
            continue;
          for (guint j = 0; j < dump.connections->len; j++)
            {
              const MptcpDiagSocket *l = &g_array_index (dump.connections, MptcpDiagSocket, j);
              if (l->state == 10 /* TCP_LISTEN */ && l->sport == s->sport)
                server_side = TRUE;
            }
          conn = conn_ensure (self, token);
          conn->family = s->family;
          diag_addr (s->src, &conn->family, &conn->saddr);
          {
            int f = s->family;
            diag_addr (s->dst, &f, &conn->daddr);
          }
          conn->dport = s->dport;
          conn->sport = s->sport;
          conn->server_side = server_side;
          conn->established = TRUE;
          conn->adopted = TRUE;
          state_restore (self, conn);
          /* existing joins count against the limit and are not made twice */
          for (guint k = 0; k < dump.subflows->len; k++)
            {
              const MptcpDiagSocket *sf = &g_array_index (dump.subflows, MptcpDiagSocket, k);
              Pair p = { 0 };
              int f = sf->family;

              if (!sf->ulp_attrs || sf->token_loc != token ||
                  !(sf->sf_flags & MPTCP_SUBFLOW_FLAG_JOIN_LOC) || sf->state != 1)
                continue;
              diag_addr (sf->src, &f, &p.local);
              p.family = f;
              f = sf->family;
              diag_addr (sf->dst, &f, &p.remote);
              p.rport = sf->dport;
              p.lport = sf->sport;
              g_array_append_val (conn->pairs, p);
              conn->n_subflows++;
            }
          conn->taken = self->is_taken != NULL && self->is_taken (token, self->user_data);
          if (!conn->taken && !conn->signals_known)
            read_announced (self, conn);
          if (!conn->taken)
            read_table (self, conn);
        }
      g_debug ("policy: adopted %u connections", g_hash_table_size (self->conns));
    }
  /* the entries of connections that are gone are dropped */
  g_clear_pointer (&self->kept, g_hash_table_unref);
  state_changed (self);
  _mptcp_diag_dump_clear (&dump);
  _mptcp_sockdiag_free (diag);
}

static gboolean
same_endpoint (const MptcpNlAddress *x, const MptcpNlAddress *y)
{
  return x->id == y->id && x->family == y->family && x->port == y->port &&
         x->ifindex == y->ifindex && memcmp (&x->addr, &y->addr, addr_len (x->family)) == 0;
}

static const MptcpNlAddress *
find_endpoint (GArray *table, guint8 id)
{
  for (guint i = 0; i < table->len; i++)
    if (g_array_index (table, MptcpNlAddress, i).id == id)
      return &g_array_index (table, MptcpNlAddress, i);
  return NULL;
}

static gboolean
same_table (GArray *a, GArray *b)
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

      pair_request (&d, MPTCP_PM_CMD_SUBFLOW_DESTROY, conn, &initial);
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
  gboolean used = announced (conn, e->id);
  MptcpNlRequest r = { 0 };
  int family = endpoint_family (e);

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
  state_changed (self);
  endpoint_close_subflows (self, conn, e);
}

/* The connection's subflows from endpoint e are closed (SUBFLOW_DESTROY, no RM_ADDR) and e is
 * free to be used again by the walk. */
static void
endpoint_close_subflows (MgsPmPolicy          *self,
                         Conn                 *conn,
                         const MptcpNlAddress *e)
{
  int family = endpoint_family (e);

  for (guint i = conn->pairs->len; i-- > 0;)
    {
      const Pair *p = &g_array_index (conn->pairs, Pair, i);

      if (!same_addr (family, &p->local, &e->addr))
        continue;
      if (p->lport != 0)
        {
          MptcpNlRequest d;

          pair_request (&d, MPTCP_PM_CMD_SUBFLOW_DESTROY, conn, p);
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
  int family = endpoint_family (e);

  if (family != conn->family)
    return;
  if (same_addr (family, &e->addr, &conn->saddr))
    {
      Pair initial = { .family = conn->family, .local = conn->saddr, .remote = conn->daddr,
                       .rport = conn->dport };

      mark_backup (self, conn, &initial, backup);
    }
  for (guint i = 0; i < conn->pairs->len; i++)
    {
      Pair p = g_array_index (conn->pairs, Pair, i);

      if (same_addr (family, &p.local, &e->addr))
        mark_backup (self, conn, &p, backup);
    }
}

/* The table or the limits changed (a read found it). As the in-kernel PM: removed endpoints
 * close their subflows (RM_ADDR), backup changes go out as MP_PRIO, added endpoints are used
 * on the live connections (the subflow walk again, the next signal endpoints announced); a
 * limit change alone does nothing at once, the next step of a connection's walk uses it. */
static void
table_changed (MgsPmPolicy *self,
               GArray      *table,
               guint32      subflows,
               guint32      accepted)
{
  gboolean endpoints_changed = !same_table (table, self->table);
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
          const MptcpNlAddress *now = find_endpoint (table, old->id);

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
                  endpoint_family (now) == conn->family)
                endpoint_close_subflows (self, conn, now);
            }
        }
      g_array_set_size (conn->endpoints, 0);
      g_array_append_vals (conn->endpoints, table->data, table->len);
      apply (self, conn);
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
    start_read (self);
}

static gboolean
poll_table (gpointer user_data)
{
  MgsPmPolicy *self = user_data;

  if (!self->reading)
    start_read (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
hint_read (gpointer user_data)
{
  guint slot = GPOINTER_TO_UINT (user_data);

  the_policy->hint_ids[slot] = 0;
  mgs_pm_policy_table_maybe_changed (the_policy);
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
static void
watch_routes (MgsPmPolicy *self)
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

static guint
table_poll_ms (void)
{
  const char *text = g_getenv ("MPTCP_GLIB_SERVICE_TABLE_POLL_MS");
  guint64 ms;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &ms, NULL))
    return TABLE_POLL_MS_DEFAULT;
  return (guint) ms;
}

MgsPmPolicy *
mgs_pm_policy_new (MgsPmPolicyTakenFunc is_taken,
                   gpointer             user_data,
                   GError             **error)
{
  MgsPmPolicy *self;

  g_return_val_if_fail (the_policy == NULL, NULL);
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
  self->generation = ++the_generation;
  the_policy = self;
  spares_refill (self);
  self->state_path = state_path ();
  if (self->state_path != NULL)
    state_read (self);
  /* after subscribing: a connection established in between is seen twice, not missed
   * (pairs already asked for are not asked again) */
  adopt_existing (self);
  /* no event tells of endpoint changes: hints, and a slow poll for the rest */
  watch_routes (self);
  if (table_poll_ms () > 0)
    self->poll_id = g_timeout_add (table_poll_ms (), poll_table, self);
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
      state_write (self);
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
  if (the_policy == self)
    the_policy = NULL;
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
