/* mptcp-connection-entry-private.h: the fields of MptcpConnectionEntry and MptcpSubflowEntry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The entries are read-only views that MptcpConnectionList (mptcp-connection-list.c, the only
 * writer) fills from its sock_diag dumps; their own files (mptcp-connection-entry.c,
 * mptcp-subflow-entry.c) hold the GObject boilerplate, the properties and the getters.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-connection-entry-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection-entry.h"
#include "mptcp-subflow-entry.h"

G_BEGIN_DECLS

struct _MptcpSubflowEntry
{
  GObject             parent_instance;
  guint64             cookie;
  MptcpConnectionEntry *parent;        /* not a reference; NULL once removed */
  GInetSocketAddress *local;
  GInetSocketAddress *remote;
  guint32             token_rem;
  guint8              id_loc;
  guint8              id_rem;
  guint8              state;
  guint32             flags;
  guint               generation;
  guint16             info_len;
  const guint8       *info;           /* tcp_info: in the list's current dump, or own_info */
  guint8             *own_info;       /* a copy once the subflow left the list */
};

enum
{
  SF_PROP_0,
  SF_PROP_LOCAL_ADDRESS,
  SF_PROP_REMOTE_ADDRESS,
  SF_PROP_LOCAL_ID,
  SF_PROP_REMOTE_ID,
  SF_PROP_BACKUP,
  SF_PROP_PEER_BACKUP,
  SF_PROP_STATE,
  SF_N_PROPS
};

/* the property specs, for the list's notifications */
G_GNUC_INTERNAL extern GParamSpec *_mptcp_subflow_entry_pspecs[SF_N_PROPS];

struct _MptcpConnectionEntry
{
  GObject             parent_instance;
  guint64             cookie;
  GInetSocketAddress *local;
  GInetSocketAddress *remote;
  guint32             token;
  guint32             uid;
  guint32             inode;
  guint8              state;
  guint8              listener;       /* a listening socket (state LISTEN when listed) */
  gboolean            in_list;
  guint               generation;
  guint               n_subflows;     /* items in subflows */
  gboolean            token_changed;
  guint               seen_subflows;  /* of them, seen by the current dump */
  GListStore         *subflows;       /* of MptcpSubflowEntry */
  guint16             info_len;
  const guint8       *info;           /* mptcp_info: in the list's current dump, or own_info */
  guint8             *own_info;       /* a copy once the entry left the list */
};

enum
{
  CE_PROP_0,
  CE_PROP_LOCAL_ADDRESS,
  CE_PROP_REMOTE_ADDRESS,
  CE_PROP_TOKEN,
  CE_PROP_STATE,
  CE_PROP_UID,
  CE_PROP_INODE,
  CE_PROP_SUBFLOWS,
  CE_PROP_IS_LISTENER,
  CE_N_PROPS
};

G_GNUC_INTERNAL extern GParamSpec *_mptcp_connection_entry_pspecs[CE_N_PROPS];

G_END_DECLS
