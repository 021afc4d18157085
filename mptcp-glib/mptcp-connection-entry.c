/* mptcp-connection-entry.c: one MPTCP connection of an MptcpConnectionList
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
 * SECTION:mptcp-connection-entry
 * @Title: MptcpConnectionEntry
 * @Short_description: one MPTCP connection of an MptcpConnectionList
 * @See_also: #MptcpConnectionList, #MptcpSubflowEntry, #MptcpConnectionInfo
 *
 * The items of an #MptcpConnectionList: a read-only view of one MPTCP connection of the
 * network namespace, updated by the list's dumps (see there for when). It never controls the
 * connection; for a connection of your own, mptcp_connection_list_find_token() with
 * mptcp_connection_get_token() finds its entry. #MptcpConnectionEntry:state and
 * #MptcpConnectionEntry:token emit a notification when a dump changes them;
 * mptcp_connection_entry_get_info() is a snapshot of the last dump.
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

GParamSpec *_mptcp_connection_entry_pspecs[CE_N_PROPS];

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
    case CE_PROP_IS_LISTENER:
      g_value_set_boolean (value, self->listener);
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
  _mptcp_connection_entry_pspecs[CE_PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address", "The local address and port",
                         G_TYPE_INET_SOCKET_ADDRESS, ro);
  /**
   * MptcpConnectionEntry:remote-address:
   *
   * The connection's remote address and port (those of its first subflow).
   *
   * Since: 0.2
   */
  _mptcp_connection_entry_pspecs[CE_PROP_REMOTE_ADDRESS] =
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
  _mptcp_connection_entry_pspecs[CE_PROP_TOKEN] =
    g_param_spec_uint ("token", "Token", "The local token", 0, G_MAXUINT32, 0, ro);
  /**
   * MptcpConnectionEntry:state:
   *
   * The state of the MPTCP socket (TCP state values); %MPTCP_TCP_STATE_CLOSE once the entry
   * left the list.
   *
   * Since: 0.2
   */
  _mptcp_connection_entry_pspecs[CE_PROP_STATE] =
    g_param_spec_enum ("state", "State", "The socket state", MPTCP_TYPE_TCP_STATE,
                       MPTCP_TCP_STATE_UNKNOWN, ro | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MptcpConnectionEntry:uid:
   *
   * The user id that owns the socket.
   *
   * Since: 0.2
   */
  _mptcp_connection_entry_pspecs[CE_PROP_UID] =
    g_param_spec_uint ("uid", "Uid", "The owner's user id", 0, G_MAXUINT32, 0, ro);
  /**
   * MptcpConnectionEntry:inode:
   *
   * The inode of the socket (as `socket:[INODE]` in `/proc/PID/fd`; 0 for a socket no
   * process holds any more).
   *
   * Since: 0.2
   */
  _mptcp_connection_entry_pspecs[CE_PROP_INODE] =
    g_param_spec_uint64 ("inode", "Inode", "The socket's inode", 0, G_MAXUINT64, 0, ro);
  /**
   * MptcpConnectionEntry:subflows:
   *
   * A #GListModel of #MptcpSubflowEntry, the connection's subflows (empty when
   * #MptcpConnectionList:subflows-visible is %FALSE).
   *
   * Since: 0.2
   */
  _mptcp_connection_entry_pspecs[CE_PROP_SUBFLOWS] =
    g_param_spec_object ("subflows", "Subflows", "The subflows", G_TYPE_LIST_MODEL, ro);
  /**
   * MptcpConnectionEntry:is-listener:
   *
   * %TRUE for a listening MPTCP socket (listed only when
   * #MptcpConnectionList:include-listeners is %TRUE): its local address is the one it
   * listens on, its remote address is unspecified with port 0, its token is 0 and it has no
   * subflows. Constant.
   *
   * Since: 0.2
   */
  _mptcp_connection_entry_pspecs[CE_PROP_IS_LISTENER] =
    g_param_spec_boolean ("is-listener", "Is listener", "Whether it is a listening socket",
                          FALSE, ro);
  g_object_class_install_properties (object_class, CE_N_PROPS, _mptcp_connection_entry_pspecs);
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
 * mptcp_connection_entry_get_is_listener:
 * @self: a #MptcpConnectionEntry
 *
 * Reads a property of the entry.
 *
 * Returns: whether the entry is a listening socket, see #MptcpConnectionEntry:is-listener
 *
 * Since: 0.2
 */
gboolean
mptcp_connection_entry_get_is_listener (MptcpConnectionEntry *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), FALSE);
  return self->listener;
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


#define CONNECTION_KEY "mptcp-glib-entry-connection"

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/**
 * mptcp_connection_entry_dup_connection:
 * @self: a #MptcpConnectionEntry
 * @error: return location for a #GError, or %NULL
 *
 * An #MptcpConnection of the entry's connection, to steer it (open, close and mark subflows
 * backup, announce and remove addresses) whichever process holds its socket: the object of
 * mptcp_connection_new_for_token() for the entry's token, which documents what works on it
 * (it has no socket; it reads the kernel through sock_diag). While that object lives, every
 * call returns it again (a new reference); call it from the thread that uses the connection.
 * It needs CAP_NET_ADMIN.
 *
 * For a connection of your own, the #MptcpConnection you made from its socket is the better
 * handle (mptcp_connection_list_find_token() finds the entry of that one).
 *
 * Returns: (transfer full): the connection, or %NULL with @error set: as for
 *   mptcp_connection_new_for_token() (%MPTCP_ERROR_PERMISSION_DENIED without
 *   CAP_NET_ADMIN, %G_IO_ERROR_NOT_FOUND when the connection is gone), and
 *   %MPTCP_ERROR_CLOSED for an entry that left its list
 *
 * Since: 0.2
 */
MptcpConnection *
mptcp_connection_entry_dup_connection (MptcpConnectionEntry  *self,
                                       GError               **error)
{
  GWeakRef *ref;
  MptcpConnection *connection;

  g_return_val_if_fail (MPTCP_IS_CONNECTION_ENTRY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ref = g_object_get_data (G_OBJECT (self), CONNECTION_KEY);
  if (ref != NULL)
    {
      connection = g_weak_ref_get (ref);
      if (connection != NULL && mptcp_connection_get_token (connection) == self->token)
        return connection;
      g_clear_object (&connection);
    }
  if (!self->in_list)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                           "The connection of this entry is closed");
      return NULL;
    }
  connection = mptcp_connection_new_for_token (self->token, error);
  if (connection == NULL)
    return NULL;
  if (ref == NULL)
    {
      ref = g_new0 (GWeakRef, 1);
      g_weak_ref_init (ref, NULL);
      g_object_set_data_full (G_OBJECT (self), CONNECTION_KEY, ref, weak_ref_free);
    }
  g_weak_ref_set (ref, connection);
  return connection;
}
