/* mptcp-connection-list-impl-private.h: the instance of MptcpConnectionList, shared by its
 * rooms (mptcp-connection-list.c: the objects, the dumps; mptcp-connection-list-events.c: the
 * kernel's events applied)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-connection-list-impl-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection-list.h"
#include "mptcp-connection-entry-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

/* the dump being filled (or just completed, until apply_dump() makes it the current one) */
#define NEXT_DUMP(self) (&(self)->dumps[!(self)->active])

struct _MptcpConnectionList
{
  GObject        parent_instance;

  GMainContext  *context;
  MptcpSockDiag *diag;
  int            fake_fd;          /* construct-time fd of a fake kernel, or -1 */
  gboolean       initialized;
  /* two dumps used in turn: the objects point at the counters of the last complete one
   * (dumps[active]); the next dump fills the other, so a failed one changes nothing */
  MptcpDiagDump  dumps[2];
  guint          active;
  GSource       *fd_source;
  GSource       *timer;
  guint          interval;

  GPtrArray     *items;            /* of MptcpConnectionEntry, in list order */
  GHashTable    *by_cookie;        /* &entry->cookie -> entry */
  GHashTable    *by_token;         /* token -> entry */
  GHashTable    *subflows;         /* &subflow->cookie -> subflow */
  guint          generation;

  gboolean       subflows_visible;
  gboolean       applying;         /* in apply_dump(): its signal handlers may call us */
  GPtrArray     *waiting;          /* GTasks the running dump answers */
  GPtrArray     *queued;           /* GTasks for the next dump */
  guint          n_dumps;          /* dumps applied, for the tests */

  /* events (CAP_NET_ADMIN): the broker's "all" subscription, and a second sock_diag socket
   * for the lookups an event needs (the first one may be in a dump) */
  MptcpEventSource event_source;
  MptcpNetlink  *netlink;
  guint          sub_id;
  MptcpSockDiag *lookup;
  GArray        *pending_events;   /* MptcpNlEvent: came while a dump ran or was applied */
  gboolean       resync;           /* an overrun came while a dump ran: dump again after it */
  gboolean       include_listeners;
};

/* ---- mptcp-connection-list.c: the objects as a socket shows them, and the dumps ---- */

G_GNUC_INTERNAL
void _mptcp_conn_list_set_state (GObject    *object,
                                 guint8     *field,
                                 guint8      state,
                                 GParamSpec *pspec);

/* An object's counters from s: pointing into the dump (copy FALSE: s is in NEXT_DUMP), or its
 * own copy (an event's lookup). Invariant: *own is NULL or *info is *own. */
G_GNUC_INTERNAL
void _mptcp_conn_list_take_info (guint8                **own,
                                 const guint8          **info,
                                 guint16                *info_len,
                                 const MptcpDiagSocket  *s,
                                 gboolean                copy);

G_GNUC_INTERNAL
void _mptcp_conn_list_subflow_store_remove (GListStore *store,
                                            guint       position);

G_GNUC_INTERNAL
MptcpConnectionEntry *_mptcp_conn_list_entry_new (const MptcpDiagSocket *s,
                                                  guint32                token);

/* A new subflow of entry, appended to its model. */
G_GNUC_INTERNAL
void _mptcp_conn_list_subflow_add (MptcpConnectionList   *self,
                                   MptcpConnectionEntry  *entry,
                                   const MptcpDiagSocket *s,
                                   gboolean               copy);

/* A listed subflow as s shows it now: the notifications of what changed. */
G_GNUC_INTERNAL
void _mptcp_conn_list_subflow_update (MptcpSubflowEntry     *sf,
                                      const MptcpDiagSocket *s,
                                      gboolean               copy);

/* The subflow the kernel lists with s (its cookie) for entry, or NULL after taking it from
 * another entry. */
G_GNUC_INTERNAL
MptcpSubflowEntry *_mptcp_conn_list_subflow_of (MptcpConnectionList  *self,
                                                MptcpConnectionEntry *entry,
                                                MptcpSubflowEntry    *sf);

/* An entry leaves the list: out of the tables, with its own counters. */
G_GNUC_INTERNAL
void _mptcp_conn_list_entry_forget (MptcpConnectionList  *self,
                                    MptcpConnectionEntry *entry);

/* After the list's items-changed for a removed entry: its subflows go, its state is CLOSE. */
G_GNUC_INTERNAL
void _mptcp_conn_list_entry_gone (MptcpConnectionList  *self,
                                  MptcpConnectionEntry *entry);

/* The list's :n-items changed. */
G_GNUC_INTERNAL
void _mptcp_conn_list_notify_n_items (MptcpConnectionList *self);

G_GNUC_INTERNAL
void _mptcp_conn_list_start_async_dump (MptcpConnectionList *self);

/* ---- mptcp-connection-list-events.c: the kernel's events applied ---- */

/* Joins the event stream if this process may (CAP_NET_ADMIN); polling otherwise. */
G_GNUC_INTERNAL
void _mptcp_conn_list_start_events (MptcpConnectionList *self);

G_GNUC_INTERNAL
void _mptcp_conn_list_stop_events (MptcpConnectionList *self);

/* The events that came while a dump ran or was applied, after it. */
G_GNUC_INTERNAL
void _mptcp_conn_list_apply_pending_events (MptcpConnectionList *self);

G_END_DECLS
