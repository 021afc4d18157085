/* mptcp-pm-policy-private.h: what the rooms of the service's path-manager policy share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The policy (mptcp-pm-policy.h) is three rooms over these types: mptcp-pm-policy.c, the
 * in-kernel path manager's behaviour for each connection (events, the subflow walk,
 * announcements, table reads); mptcp-pm-policy-state.c, restart safety (the state file and
 * the adoption of the namespace's existing connections at start); mptcp-pm-policy-table.c,
 * what a change of the endpoint table or the limits does to the live connections, and what
 * tells of such a change (rtnetlink hints, the safety poll). Only these three include it.
 */

#pragma once

#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>

#include "mptcp-glib.h"
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-pm-policy.h"

G_BEGIN_DECLS

/* the deadline of the policy's requests */
#define POLICY_TIMEOUT_MS 5000
/* the table reads after an rtnetlink address or link event (mptcp-pm-policy-table.c) */
#define PM_HINT_READS 4

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
  guint64         announced[4];  /* ids of the signal endpoints pm_announced (or given up) */
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
  guint                 hint_ids[PM_HINT_READS]; /* reads after an rtnetlink event */
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

/* the one policy of the process (the service makes at most one), so that replies can check
 * it is alive, and its generation (a reply of a freed policy's request is dropped) */
extern MgsPmPolicy *pm_the_policy;
extern guint        pm_the_generation;

static inline gsize
addr_len (int family)
{
  return family == AF_INET ? sizeof (struct in_addr) : sizeof (struct in6_addr);
}

static inline gboolean
same_addr (int family, const MptcpNlInetAddr *a, const MptcpNlInetAddr *b)
{
  return memcmp (a, b, addr_len (family)) == 0;
}

/* mptcp-pm-policy.c */
Conn       *pm_conn_ensure        (MgsPmPolicy *self, guint32 token);
Req        *pm_req_new            (MgsPmPolicy *self, Conn *conn);
Conn       *pm_req_conn           (Req *req);
void        pm_pair_request       (MptcpNlRequest *r, guint8 cmd, Conn *conn, const Pair *p);
void        pm_mark_backup        (MgsPmPolicy *self, Conn *conn, const Pair *p, gboolean backup);
gboolean    pm_kernel_at_least    (guint64 major, guint64 minor);
int         pm_endpoint_family    (const MptcpNlAddress *e);
gboolean    pm_announced          (Conn *conn, guint8 id);
void        pm_apply              (MgsPmPolicy *self, Conn *conn);
void        pm_start_read         (MgsPmPolicy *self);
void        pm_read_table         (MgsPmPolicy *self, Conn *conn);

/* mptcp-pm-policy-state.c */
char       *pm_state_path         (void);
void        pm_state_read         (MgsPmPolicy *self);
void        pm_state_write        (MgsPmPolicy *self);
void        pm_state_changed      (MgsPmPolicy *self);
void        pm_adopt_existing     (MgsPmPolicy *self);

/* mptcp-pm-policy-table.c */
const MptcpNlAddress *pm_find_endpoint (GArray *table, guint8 id);
gboolean    pm_same_table         (GArray *a, GArray *b);
void        pm_table_changed      (MgsPmPolicy *self, GArray *table, guint32 subflows,
                                   guint32 accepted);
void        pm_watch_routes       (MgsPmPolicy *self);
guint       pm_table_poll_ms      (void);
gboolean    pm_poll_table         (gpointer user_data);

G_END_DECLS
