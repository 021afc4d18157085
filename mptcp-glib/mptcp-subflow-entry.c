/* mptcp-subflow-entry.c: one subflow of an MptcpConnectionEntry
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

#include "mptcp-connection-entry-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-info-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"

/**
 * SECTION:mptcp-subflow-entry
 * @Title: MptcpSubflowEntry
 * @Short_description: one subflow of an MptcpConnectionEntry, as sock_diag reports it
 * @See_also: #MptcpConnectionList, #MptcpConnectionEntry, #MptcpSubflowStats
 *
 * The items of mptcp_connection_entry_get_subflows(): a read-only view of one subflow of a
 * connection that an #MptcpConnectionList lists, updated by the list's dumps (see there for
 * when, and for which kernels give subflow details without CAP_NET_ADMIN). The addresses and
 * ids are constant; #MptcpSubflowEntry:backup, #MptcpSubflowEntry:peer-backup and
 * #MptcpSubflowEntry:state emit a notification when a dump changes them;
 * mptcp_subflow_entry_get_stats() is a snapshot of the last dump. When the subflow goes, the
 * entry leaves its connection's model and its state becomes %MPTCP_TCP_STATE_CLOSE.
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

GParamSpec *_mptcp_subflow_entry_pspecs[SF_N_PROPS];

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
  _mptcp_subflow_entry_pspecs[SF_PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address", "The local address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpSubflowEntry:remote-address:
   *
   * The subflow's remote address and port.
   *
   * Since: 0.2
   */
  _mptcp_subflow_entry_pspecs[SF_PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", "Remote address", "The remote address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpSubflowEntry:local-id:
   *
   * The MPTCP address id of the local address (0 for the first subflow's address).
   *
   * Since: 0.2
   */
  _mptcp_subflow_entry_pspecs[SF_PROP_LOCAL_ID] =
    g_param_spec_uint ("local-id", "Local id", "The address id of the local address",
                       0, 255, 0, ro);
  /**
   * MptcpSubflowEntry:remote-id:
   *
   * The MPTCP address id of the remote address, as the peer numbered it.
   *
   * Since: 0.2
   */
  _mptcp_subflow_entry_pspecs[SF_PROP_REMOTE_ID] =
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
  _mptcp_subflow_entry_pspecs[SF_PROP_BACKUP] =
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
  _mptcp_subflow_entry_pspecs[SF_PROP_PEER_BACKUP] =
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
  _mptcp_subflow_entry_pspecs[SF_PROP_STATE] =
    g_param_spec_enum ("state", "State", "The TCP state", MPTCP_TYPE_TCP_STATE,
                       MPTCP_TCP_STATE_UNKNOWN, ro | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, SF_N_PROPS, _mptcp_subflow_entry_pspecs);
}

static void
mptcp_subflow_entry_init (MptcpSubflowEntry *self)
{
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
 * The subflow's TCP statistics (its `tcp_info`) as the last dump found them, copied into a
 * snapshot that stays as it is when later dumps change the entry. A view that reads a few
 * fields of every subflow at every dump reads them cheaper with
 * mptcp_subflow_entry_get_stat(), which makes no copy.
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


/**
 * mptcp_subflow_entry_get_stat:
 * @self: a #MptcpSubflowEntry
 * @field: the field, named after the #MptcpSubflowStats accessor that reads it
 *
 * Reads one field of the subflow's TCP statistics (its `tcp_info`) as the last dump found
 * them, as the #MptcpSubflowStats accessor that @field names would read it from
 * mptcp_subflow_entry_get_stats(), but without making a snapshot: no allocation and no copy
 * of the whole `tcp_info`. For views that read a few fields of many subflows at every dump
 * (two calls may then see two dumps: take a snapshot for fields that must agree with each
 * other across a main loop iteration).
 *
 * Returns: the field's value; 0 when the running kernel did not return it (see
 *   mptcp_subflow_stats_has_field()) or gave this subflow no statistics
 *
 * Since: 0.2
 */
guint64
mptcp_subflow_entry_get_stat (MptcpSubflowEntry     *self,
                              MptcpSubflowStatsField field)
{
  g_return_val_if_fail (MPTCP_IS_SUBFLOW_ENTRY (self), 0);
  g_return_val_if_fail ((guint) field <= MPTCP_SUBFLOW_STATS_FIELD_LOST, 0);
  return _mptcp_subflow_stats_read_field (self->info, self->info_len, field);
}
