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
#include "mptcp-sockdiag-private.h"
#include "mptcp-info-private.h"
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
 * that finds nothing new emits nothing and allocates nothing. Listening sockets are not listed.
 *
 * Which class to use: for a connection of your own (you hold its socket), #MptcpConnection
 * reads and steers it. To be told of every MPTCP event of the namespace as it happens,
 * #MptcpMonitor (it needs CAP_NET_ADMIN). To see every connection of the namespace with its
 * subflows and statistics, without privilege, #MptcpConnectionList.
 *
 * An entry is a read-only view, never a handle: it controls nothing, and it does not hand out
 * an #MptcpConnection (that class is built around a socket the caller holds). For a
 * connection of your own, the entry and the #MptcpConnection meet through their token:
 * mptcp_connection_list_find_token() with mptcp_connection_get_token(). The entry's subflow
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
 * The list updates by periodic dumps only: it does not join the MPTCP event stream, even with
 * CAP_NET_ADMIN (a change shows at the next dump, within #MptcpConnectionList:interval).
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

/**
 * MptcpConnectionEntry:
 *
 * One MPTCP connection of an #MptcpConnectionList: addresses, token, state, owner, MPTCP
 * counters and a #GListModel of #MptcpSubflowEntry. The same object stays in the list for as
 * long as the connection lives; when the connection goes, it leaves the list and its state
 * becomes %MPTCP_TCP_STATE_CLOSE.
 *
 * Since: 0.2
 */

/**
 * MptcpSubflowEntry:
 *
 * One subflow of an #MptcpConnectionEntry, as sock_diag reports it: addresses, address ids,
 * the backup flags of both directions, TCP state and statistics.
 *
 * Since: 0.2
 */

#define DUMP_TIMEOUT_MS 5000
/* the dump being filled (or just completed, until apply_dump() makes it the current one) */
#define NEXT_DUMP(self) (&(self)->dumps[!(self)->active])
#define DEFAULT_INTERVAL_MS 1000

/* ---- MptcpSubflowEntry ---------------------------------------------------------------------- */

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

static GParamSpec *sf_properties[SF_N_PROPS];

G_DEFINE_FINAL_TYPE (MptcpSubflowEntry, mptcp_subflow_entry, G_TYPE_OBJECT)

static void
mptcp_subflow_entry_finalize (GObject *object)
{
  MptcpSubflowEntry *self = MPTCP_SUBFLOW_ENTRY (object);

  g_clear_object (&self->local);
  g_clear_object (&self->remote);
  g_free (self->own_info);
  G_OBJECT_CLASS (mptcp_subflow_entry_parent_class)->finalize (object);
}

static void
mptcp_subflow_entry_get_property (GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  MptcpSubflowEntry *self = MPTCP_SUBFLOW_ENTRY (object);

  switch (prop_id)
    {
    case SF_PROP_LOCAL_ADDRESS:
      g_value_set_object (value, self->local);
      break;
    case SF_PROP_REMOTE_ADDRESS:
      g_value_set_object (value, self->remote);
      break;
    case SF_PROP_LOCAL_ID:
      g_value_set_uint (value, self->id_loc);
      break;
    case SF_PROP_REMOTE_ID:
      g_value_set_uint (value, self->id_rem);
      break;
    case SF_PROP_BACKUP:
      g_value_set_boolean (value, mptcp_subflow_entry_get_backup (self));
      break;
    case SF_PROP_PEER_BACKUP:
      g_value_set_boolean (value, mptcp_subflow_entry_get_peer_backup (self));
      break;
    case SF_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mptcp_subflow_entry_class_init (MptcpSubflowEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mptcp_subflow_entry_finalize;
  object_class->get_property = mptcp_subflow_entry_get_property;

  /**
   * MptcpSubflowEntry:local-address:
   *
   * The subflow's local address and port.
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address", "The local address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpSubflowEntry:remote-address:
   *
   * The subflow's remote address and port.
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", "Remote address", "The remote address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpSubflowEntry:local-id:
   *
   * The MPTCP address id of the local address (0 for the first subflow's address).
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_LOCAL_ID] =
    g_param_spec_uint ("local-id", "Local id", "The address id of the local address",
                       0, 255, 0, ro);
  /**
   * MptcpSubflowEntry:remote-id:
   *
   * The MPTCP address id of the remote address, as the peer numbered it.
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_REMOTE_ID] =
    g_param_spec_uint ("remote-id", "Remote id", "The address id of the remote address",
                       0, 255, 0, ro);
  /**
   * MptcpSubflowEntry:backup:
   *
   * The local backup flag (the kernel's `MPTCP_SUBFLOW_FLAG_BKUP_LOC`): this host asked the
   * peer to use the subflow as a backup only, in its MP_JOIN (a backup endpoint) or by an
   * MP_PRIO later. Notified when a dump finds it changed.
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_BACKUP] =
    g_param_spec_boolean ("backup", "Backup", "This host marked the subflow backup",
                          FALSE, ro | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpSubflowEntry:peer-backup:
   *
   * The remote backup flag (the kernel's `MPTCP_SUBFLOW_FLAG_BKUP_REM`): the peer asked this
   * host to use the subflow as a backup only, in its MP_JOIN or by an MP_PRIO. Notified when
   * a dump finds it changed.
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_PEER_BACKUP] =
    g_param_spec_boolean ("peer-backup", "Peer backup", "The peer marked the subflow backup",
                          FALSE, ro | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpSubflowEntry:state:
   *
   * The TCP state of the subflow; %MPTCP_TCP_STATE_CLOSE once it left its connection's
   * subflow model.
   *
   * Since: 0.2
   */
  sf_properties[SF_PROP_STATE] =
    g_param_spec_enum ("state", "State", "The TCP state", MPTCP_TYPE_TCP_STATE,
                       MPTCP_TCP_STATE_UNKNOWN, ro | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, SF_N_PROPS, sf_properties);
}

static void
mptcp_subflow_entry_init (MptcpSubflowEntry *self)
{
}

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

/**
 * mptcp_subflow_entry_get_local_address:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: (transfer none): the subflow's local address and port
 *
 * Since: 0.2
 */
GInetSocketAddress *
mptcp_subflow_entry_get_local_address (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), NULL);
  return self->local;
}

/**
 * mptcp_subflow_entry_get_remote_address:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: (transfer none): the subflow's remote address and port
 *
 * Since: 0.2
 */
GInetSocketAddress *
mptcp_subflow_entry_get_remote_address (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), NULL);
  return self->remote;
}

/**
 * mptcp_subflow_entry_get_local_id:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the address id of the local address, see #MptcpSubflowEntry:local-id
 *
 * Since: 0.2
 */
guint
mptcp_subflow_entry_get_local_id (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), 0);
  return self->id_loc;
}

/**
 * mptcp_subflow_entry_get_remote_id:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the address id of the remote address, see #MptcpSubflowEntry:remote-id
 *
 * Since: 0.2
 */
guint
mptcp_subflow_entry_get_remote_id (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), 0);
  return self->id_rem;
}

/**
 * mptcp_subflow_entry_get_remote_token:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the peer's token of the connection, as this subflow knows it (0 before the
 *   MPTCP handshake completed)
 *
 * Since: 0.2
 */
guint32
mptcp_subflow_entry_get_remote_token (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), 0);
  return self->token_rem;
}

/**
 * mptcp_subflow_entry_get_backup:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the local backup flag, see #MptcpSubflowEntry:backup
 *
 * Since: 0.2
 */
gboolean
mptcp_subflow_entry_get_backup (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), FALSE);
  return (self->flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC) != 0;
}

/**
 * mptcp_subflow_entry_get_peer_backup:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the remote backup flag, see #MptcpSubflowEntry:peer-backup
 *
 * Since: 0.2
 */
gboolean
mptcp_subflow_entry_get_peer_backup (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), FALSE);
  return (self->flags & MPTCP_SUBFLOW_FLAG_BKUP_REM) != 0;
}

/**
 * mptcp_subflow_entry_get_join:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: %TRUE for an additional subflow (opened by an MP_JOIN, from either side),
 *   %FALSE for the connection's first subflow (MP_CAPABLE)
 *
 * Since: 0.2
 */
gboolean
mptcp_subflow_entry_get_join (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), FALSE);
  return (self->flags & (MPTCP_SUBFLOW_FLAG_JOIN_LOC | MPTCP_SUBFLOW_FLAG_JOIN_REM)) != 0;
}

/**
 * mptcp_subflow_entry_get_state:
 * @self: a #MptcpSubflowEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the TCP state of the subflow, see #MptcpSubflowEntry:state
 *
 * Since: 0.2
 */
MptcpTcpState
mptcp_subflow_entry_get_state (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), MPTCP_TCP_STATE_UNKNOWN);
  return self->state;
}

/**
 * mptcp_subflow_entry_get_stats:
 * @self: a #MptcpSubflowEntry
 *
 * The subflow's TCP statistics (its `tcp_info`) as the last dump found them.
 *
 * Returns: (transfer full): a new snapshot
 *
 * Since: 0.2
 */
MptcpSubflowStats *
mptcp_subflow_entry_get_stats (MptcpSubflowEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), NULL);
  return _mptcp_subflow_stats_new (self->info, self->info_len);
}

/* ---- MptcpConnectionEntry ------------------------------------------------------------------- */

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
  CE_N_PROPS
};

static GParamSpec *ce_properties[CE_N_PROPS];

G_DEFINE_FINAL_TYPE (MptcpConnectionEntry, mptcp_connection_entry, G_TYPE_OBJECT)

static void
mptcp_connection_entry_finalize (GObject *object)
{
  MptcpConnectionEntry *self = MPTCP_CONNECTION_ENTRY (object);

  g_clear_object (&self->local);
  g_clear_object (&self->remote);
  g_clear_object (&self->subflows);
  g_free (self->own_info);
  G_OBJECT_CLASS (mptcp_connection_entry_parent_class)->finalize (object);
}

static void
mptcp_connection_entry_get_property (GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec)
{
  MptcpConnectionEntry *self = MPTCP_CONNECTION_ENTRY (object);

  switch (prop_id)
    {
    case CE_PROP_LOCAL_ADDRESS:
      g_value_set_object (value, self->local);
      break;
    case CE_PROP_REMOTE_ADDRESS:
      g_value_set_object (value, self->remote);
      break;
    case CE_PROP_TOKEN:
      g_value_set_uint (value, self->token);
      break;
    case CE_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case CE_PROP_UID:
      g_value_set_uint (value, self->uid);
      break;
    case CE_PROP_INODE:
      g_value_set_uint64 (value, self->inode);
      break;
    case CE_PROP_SUBFLOWS:
      g_value_set_object (value, self->subflows);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mptcp_connection_entry_class_init (MptcpConnectionEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mptcp_connection_entry_finalize;
  object_class->get_property = mptcp_connection_entry_get_property;

  /**
   * MptcpConnectionEntry:local-address:
   *
   * The connection's local address and port (those of its first subflow).
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address", "The local address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpConnectionEntry:remote-address:
   *
   * The connection's remote address and port (those of its first subflow).
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", "Remote address", "The remote address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpConnectionEntry:token:
   *
   * The connection's local token, the same as mptcp_connection_get_token() of its owner's
   * #MptcpConnection (0 if the kernel reported no MPTCP counters).
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_TOKEN] =
    g_param_spec_uint ("token", "Token", "The local token", 0, G_MAXUINT32, 0, ro);
  /**
   * MptcpConnectionEntry:state:
   *
   * The state of the MPTCP socket (TCP state values); %MPTCP_TCP_STATE_CLOSE once the entry
   * left the list.
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_STATE] =
    g_param_spec_enum ("state", "State", "The socket state", MPTCP_TYPE_TCP_STATE,
                       MPTCP_TCP_STATE_UNKNOWN, ro | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpConnectionEntry:uid:
   *
   * The user id that owns the socket.
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_UID] =
    g_param_spec_uint ("uid", "Uid", "The owner's user id", 0, G_MAXUINT32, 0, ro);
  /**
   * MptcpConnectionEntry:inode:
   *
   * The inode of the socket (as `socket:[INODE]` in `/proc/PID/fd`; 0 for a socket no
   * process holds any more).
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_INODE] =
    g_param_spec_uint64 ("inode", "Inode", "The socket's inode", 0, G_MAXUINT64, 0, ro);
  /**
   * MptcpConnectionEntry:subflows:
   *
   * A #GListModel of #MptcpSubflowEntry, the connection's subflows (empty when
   * #MptcpConnectionList:subflows-visible is %FALSE).
   *
   * Since: 0.2
   */
  ce_properties[CE_PROP_SUBFLOWS] =
    g_param_spec_object ("subflows", "Subflows", "The subflows", G_TYPE_LIST_MODEL, ro);
  g_object_class_install_properties (object_class, CE_N_PROPS, ce_properties);
}

static void
mptcp_connection_entry_init (MptcpConnectionEntry *self)
{
  self->subflows = g_list_store_new (MPTCP_TYPE_SUBFLOW_ENTRY);
}

/**
 * mptcp_connection_entry_get_local_address:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: (transfer none): the local address and port, see
 *   #MptcpConnectionEntry:local-address
 *
 * Since: 0.2
 */
GInetSocketAddress *
mptcp_connection_entry_get_local_address (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), NULL);
  return self->local;
}

/**
 * mptcp_connection_entry_get_remote_address:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: (transfer none): the remote address and port, see
 *   #MptcpConnectionEntry:remote-address
 *
 * Since: 0.2
 */
GInetSocketAddress *
mptcp_connection_entry_get_remote_address (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), NULL);
  return self->remote;
}

/**
 * mptcp_connection_entry_get_token:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the local token, see #MptcpConnectionEntry:token
 *
 * Since: 0.2
 */
guint32
mptcp_connection_entry_get_token (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), 0);
  return self->token;
}

/**
 * mptcp_connection_entry_get_state:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the socket state, see #MptcpConnectionEntry:state
 *
 * Since: 0.2
 */
MptcpTcpState
mptcp_connection_entry_get_state (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), MPTCP_TCP_STATE_UNKNOWN);
  return self->state;
}

/**
 * mptcp_connection_entry_get_uid:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the owner's user id
 *
 * Since: 0.2
 */
guint
mptcp_connection_entry_get_uid (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), 0);
  return self->uid;
}

/**
 * mptcp_connection_entry_get_inode:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: the socket's inode, see #MptcpConnectionEntry:inode
 *
 * Since: 0.2
 */
guint64
mptcp_connection_entry_get_inode (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), 0);
  return self->inode;
}

/**
 * mptcp_connection_entry_find_pid:
 * @self: a #MptcpConnectionEntry
 *
 * Looks for a process that holds the connection's socket, by reading the file descriptors of
 * every process in `/proc` (so it costs a walk of `/proc` at each call). Only the processes
 * whose `/proc/PID/fd` the caller may read are seen: its own user's, or all with
 * CAP_SYS_PTRACE. A socket shared by several processes gives one of them.
 *
 * Returns: a process id, or 0 if none visible holds the socket
 *
 * Since: 0.2
 */
int
mptcp_connection_entry_find_pid (MptcpConnectionEntry *self)
{
  g_autoptr(GDir) proc = NULL;
  g_autofree char *want = NULL;
  const char *name;

  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), 0);

  if (self->inode == 0)
    return 0;
  proc = g_dir_open ("/proc", 0, NULL);
  if (proc == NULL)
    return 0;
  want = g_strdup_printf ("socket:[%u]", self->inode);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *fd_path = NULL;
      g_autoptr(GDir) fds = NULL;
      const char *fd_name;
      char *end;
      long pid = strtol (name, &end, 10);

      if (*end != '\0' || pid <= 0)
        continue;
      fd_path = g_strdup_printf ("/proc/%ld/fd", pid);
      fds = g_dir_open (fd_path, 0, NULL);
      if (fds == NULL)
        continue;
      while ((fd_name = g_dir_read_name (fds)) != NULL)
        {
          char link[64];
          g_autofree char *path = g_build_filename (fd_path, fd_name, NULL);
          ssize_t n = readlink (path, link, sizeof link - 1);

          if (n <= 0)
            continue;
          link[n] = '\0';
          if (strcmp (link, want) == 0)
            return (int) pid;
        }
    }
  return 0;
}

/**
 * mptcp_connection_entry_get_info:
 * @self: a #MptcpConnectionEntry
 *
 * The connection's MPTCP counters (its `mptcp_info`) as the last dump found them.
 *
 * Returns: (transfer full): a new snapshot
 *
 * Since: 0.2
 */
MptcpConnectionInfo *
mptcp_connection_entry_get_info (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), NULL);
  return _mptcp_connection_info_new (self->info, self->info_len);
}

/**
 * mptcp_connection_entry_get_subflows:
 * @self: a #MptcpConnectionEntry
 *
 * Reads what the last dump found (constant for the addresses and ids).
 *
 * Returns: (transfer none): a #GListModel of #MptcpSubflowEntry, see
 *   #MptcpConnectionEntry:subflows
 *
 * Since: 0.2
 */
GListModel *
mptcp_connection_entry_get_subflows (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), NULL);
  return G_LIST_MODEL (self->subflows);
}

/* ---- MptcpConnectionList -------------------------------------------------------------------- */

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
};

enum
{
  PROP_0,
  PROP_INTERVAL,
  PROP_SUBFLOWS_VISIBLE,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

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

static void
set_state (GObject *object, guint8 *field, guint8 state, GParamSpec *pspec)
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

static void
subflow_store_remove (GListStore *store, guint position)
{
  g_autoptr(MptcpSubflowEntry) sf = g_list_model_get_item (G_LIST_MODEL (store), position);

  if (sf->parent != NULL)
    sf->parent->n_subflows--;
  sf->parent = NULL;
  subflow_detach (sf);
  g_list_store_remove (store, position);
  set_state (G_OBJECT (sf), &sf->state, MPTCP_TCP_STATE_CLOSE, sf_properties[SF_PROP_STATE]);
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
        subflow_store_remove (entry->subflows, i);
    }
}

static MptcpConnectionEntry *
entry_new (const MptcpDiagSocket *s, guint32 token)
{
  MptcpConnectionEntry *entry = g_object_new (MPTCP_TYPE_CONNECTION_ENTRY, NULL);

  entry->cookie = s->cookie;
  entry->local = diag_address (s, FALSE);
  entry->remote = diag_address (s, TRUE);
  entry->token = token;
  entry->uid = s->uid;
  entry->inode = s->inode;
  entry->state = s->state;
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
      entry = entry_new (s, token);
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
          g_object_notify_by_pspec (G_OBJECT (entry), ce_properties[CE_PROP_TOKEN]);
        }
      set_state (G_OBJECT (entry), &entry->state, s->state, ce_properties[CE_PROP_STATE]);
    }
  if (token != 0 && (entry->generation == 0 || entry->token_changed))
    g_hash_table_replace (self->by_token, GUINT_TO_POINTER (token), entry);
  entry->token_changed = FALSE;
  entry->generation = self->generation;
  entry->seen_subflows = 0;
  entry->info_len = s->info_len;
  entry->info = s->info;
}

static void
apply_subflow (MptcpConnectionList *self, const MptcpDiagSocket *s)
{
  MptcpSubflowEntry *sf = g_hash_table_lookup (self->subflows, &s->cookie);
  MptcpConnectionEntry *entry;
  guint32 changed;

  /* the common case: a known subflow of a connection this dump saw */
  if (sf != NULL && sf->parent != NULL && sf->parent->token == s->token_loc &&
      sf->parent->generation == self->generation)
    entry = sf->parent;
  else
    entry = g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (s->token_loc));
  if (entry == NULL || entry->generation != self->generation)
    return;
  if (sf != NULL && sf->parent != entry)
    {
      /* the token was taken by another connection: a new subflow */
      guint position;

      if (sf->parent != NULL &&
          g_list_store_find (sf->parent->subflows, sf, &position))
        subflow_store_remove (sf->parent->subflows, position);
      g_hash_table_remove (self->subflows, &s->cookie);
      sf = NULL;
    }
  if (sf == NULL)
    {
      sf = g_object_new (MPTCP_TYPE_SUBFLOW_ENTRY, NULL);
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
      sf->info_len = s->info_len;
      sf->info = s->info;
      g_hash_table_insert (self->subflows, &sf->cookie, sf);
      entry->n_subflows++;
      entry->seen_subflows++;
      g_list_store_append (entry->subflows, sf);
      g_object_unref (sf);
      return;
    }

  if (sf->generation != self->generation)
    entry->seen_subflows++;
  sf->generation = self->generation;
  sf->info_len = s->info_len;
  sf->info = s->info;
  changed = sf->flags ^ s->sf_flags;
  sf->flags = s->sf_flags;
  sf->id_loc = s->id_loc;
  sf->id_rem = s->id_rem;
  sf->token_rem = s->token_rem;
  if (changed & MPTCP_SUBFLOW_FLAG_BKUP_LOC)
    g_object_notify_by_pspec (G_OBJECT (sf), sf_properties[SF_PROP_BACKUP]);
  if (changed & MPTCP_SUBFLOW_FLAG_BKUP_REM)
    g_object_notify_by_pspec (G_OBJECT (sf), sf_properties[SF_PROP_PEER_BACKUP]);
  set_state (G_OBJECT (sf), &sf->state, s->state, sf_properties[SF_PROP_STATE]);
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
            g_hash_table_remove (self->by_cookie, &entry->cookie);
            if (entry->token != 0 &&
                g_hash_table_lookup (self->by_token, GUINT_TO_POINTER (entry->token)) == entry)
              g_hash_table_remove (self->by_token, GUINT_TO_POINTER (entry->token));
            entry->in_list = FALSE;
            entry_detach (entry);
          }
        g_ptr_array_remove_range (self->items, start, end - start);
        g_list_model_items_changed (G_LIST_MODEL (self), start, end - start, 0);
        for (guint k = 0; k < gone->len; k++)
          {
            MptcpConnectionEntry *entry = g_ptr_array_index (gone, k);

            entry_sweep_subflows (self, entry, TRUE);
            set_state (G_OBJECT (entry), &entry->state, MPTCP_TCP_STATE_CLOSE,
                       ce_properties[CE_PROP_STATE]);
          }
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
  /* every object in the list now points into this dump (the others got their own copy) */
  self->active = !self->active;
  self->applying = FALSE;
  if (self->items->len != old_len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

/* ---- dumps ---------------------------------------------------------------------------------- */

static void start_async_dump (MptcpConnectionList *self);

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
  start_async_dump (self);
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
  start_queued (self);
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

static void
start_async_dump (MptcpConnectionList *self)
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
    start_async_dump (self);
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
      if (!_mptcp_sockdiag_dump_sync (self->diag, NEXT_DUMP (self), DUMP_TIMEOUT_MS, cancellable,
                                      error))
        {
          g_clear_pointer (&self->diag, _mptcp_sockdiag_free);
          return FALSE;
        }
      apply_dump (self);
    }
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
  g_object_class_install_properties (object_class, N_PROPS, properties);
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
  start_queued (self);
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
      start_async_dump (self);
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
