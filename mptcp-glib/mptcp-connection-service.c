/* mptcp-connection-service.c: MptcpConnection's control calls through mptcp-glib-service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <gio/gunixfdlist.h>

#include "mptcp-error.h"
#include "mptcp-subflow.h"
#include "mptcp-subflow-private.h"
#include "mptcp-service-private.h"
#include "mptcp-connection-service-private.h"

#define REG_KEY "mptcp-glib-service-registration"

typedef struct
{
  GDBusConnection *bus;
  char            *path;
} Registration;

static void
registration_free (gpointer data)
{
  Registration *reg = data;

  /* one-way: the service also drops it when the connection closes */
  g_dbus_connection_call (reg->bus, MPTCP_SERVICE_BUS_NAME, reg->path,
                          MPTCP_SERVICE_CONNECTION_IFACE, "Unregister", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
  g_object_unref (reg->bus);
  g_free (reg->path);
  g_free (reg);
}

/* One environment variable read once per process (a getenv() walks the whole environment):
 * *cache is -1 until then, else 0 for unset or none of choices (NULL-terminated), i + 1 for
 * choices[i]. */
gint
_mptcp_connection_env_once (gint              *cache,
                            const char        *name,
                            const char *const *choices)
{
  gint mode = g_atomic_int_get (cache);

  if (G_UNLIKELY (mode < 0))
    {
      const char *value = g_getenv (name);

      mode = 0;
      while (value != NULL && choices[mode] != NULL && strcmp (value, choices[mode]) != 0)
        mode++;
      mode = value != NULL && choices[mode] != NULL ? mode + 1 : 0;
      g_atomic_int_set (cache, mode);
    }
  return mode;
}

/* MPTCP_CONNECTION_SERVICE_ENV (a getenv() at every operation cost about a tenth of an open) */
enum { SERVICE_MODE_AUTO, SERVICE_MODE_NEVER, SERVICE_MODE_ALWAYS };
static gint service_mode = -1;

void
_mptcp_connection_service_reload_environment (void)
{
  g_atomic_int_set (&service_mode, -1);
}

gboolean
_mptcp_connection_service_wanted (MptcpConnection *self)
{
  static const char *const choices[] = { "never", "always", NULL };
  gint mode = _mptcp_connection_env_once (&service_mode, MPTCP_CONNECTION_SERVICE_ENV, choices);

  if (mptcp_connection_get_socket (self) == NULL)   /* by token: CAP_NET_ADMIN already */
    return FALSE;
  if (mode == SERVICE_MODE_NEVER)
    return FALSE;
  if (mode == SERVICE_MODE_ALWAYS)
    return TRUE;
  return mptcp_connection_get_event_source (self) == MPTCP_EVENT_SOURCE_POLLING;
}

typedef struct
{
  MptcpConnection  *conn;
  MptcpServiceOp    op;
  MptcpSockoptAddr  local;
  MptcpSockoptAddr  remote;
  guint8            id;
  gboolean          backup;
} OpData;

static void
op_data_free (gpointer data)
{
  OpData *d = data;

  g_object_unref (d->conn);
  g_free (d);
}

static GVariant *
addr_variant (const MptcpSockoptAddr *addr)
{
  g_autoptr(GInetSocketAddress) sa = _mptcp_sockopt_addr_to_inet (addr);
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (sa));

  return g_variant_new ("(sq)", host, addr->port);
}

/* A D-Bus failure to reach the service reads as the direct path's refusal. */
static GError *
translate_error (GError *error)
{
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_FILE_NOT_FOUND) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    {
      GError *denied = g_error_new (MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                                    "Steering a connection needs CAP_NET_ADMIN, and "
                                    "mptcp-glib-service is not available: %s", error->message);
      g_error_free (error);
      return denied;
    }
  g_dbus_error_strip_remote_error (error);
  return error;
}

static void send_op (GTask *task);

static void
op_reply_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OpData *d = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  GListModel *list;
  guint i;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }
  switch (d->op)
    {
    case MPTCP_SERVICE_OP_OPEN:
      {
        const char *lhost;
        guint16 lport;

        g_variant_get (reply, "((&sq)(&sq)yyb)", &lhost, &lport, NULL, NULL, NULL, NULL, NULL);
        d->local.port = lport;
        if (!mptcp_connection_refresh (d->conn, &error))
          {
            g_task_return_error (task, error);
            return;
          }
        list = mptcp_connection_get_subflows (d->conn);
        for (i = 0; i < g_list_model_get_n_items (list); i++)
          {
            g_autoptr(MptcpSubflow) sf = g_list_model_get_item (list, i);

            if (_mptcp_subflow_matches (sf, &d->local, &d->remote))
              {
                g_task_return_pointer (task, g_steal_pointer (&sf), g_object_unref);
                return;
              }
          }
        g_task_return_new_error (task, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                                 "The subflow was closed right after it was opened");
        return;
      }
    case MPTCP_SERVICE_OP_ANNOUNCE:
      {
        guint32 id;

        g_variant_get (reply, "(u)", &id);
        g_task_return_int (task, id);
        return;
      }
    case MPTCP_SERVICE_OP_BACKUP:
      {
        MptcpSubflow *sf = g_task_get_source_object (task);

        if (MPTCP_IS_SUBFLOW (sf))
          _mptcp_subflow_set_backup (sf, d->backup);
        g_task_return_boolean (task, TRUE);
        return;
      }
    case MPTCP_SERVICE_OP_CLOSE:
      /* the list follows from the socket: the refresh emits the removal */
      mptcp_connection_refresh (d->conn, NULL);
      g_task_return_boolean (task, TRUE);
      return;
    case MPTCP_SERVICE_OP_REMOVE:
    default:
      g_task_return_boolean (task, TRUE);
      return;
    }
}

static void
send_op (GTask *task)
{
  OpData *d = g_task_get_task_data (task);
  Registration *reg = g_object_get_data (G_OBJECT (d->conn), REG_KEY);
  const char *method = NULL;
  const char *type = "()";
  GVariant *params = NULL;

  switch (d->op)
    {
    case MPTCP_SERVICE_OP_OPEN:
      method = "OpenSubflow";
      type = "((sq)(sq)yyb)";
      params = g_variant_new ("(@(sq)@(sq)@a{sv})", addr_variant (&d->local),
                              addr_variant (&d->remote),
                              g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      break;
    case MPTCP_SERVICE_OP_CLOSE:
      method = "CloseSubflow";
      params = g_variant_new ("(@(sq)@(sq))", addr_variant (&d->local), addr_variant (&d->remote));
      break;
    case MPTCP_SERVICE_OP_BACKUP:
      method = "SetBackup";
      params = g_variant_new ("(@(sq)@(sq)b)", addr_variant (&d->local),
                              addr_variant (&d->remote), d->backup);
      break;
    case MPTCP_SERVICE_OP_ANNOUNCE:
      method = "AnnounceAddress";
      type = "(u)";
      params = g_variant_new ("(@(sq))", addr_variant (&d->local));
      break;
    case MPTCP_SERVICE_OP_REMOVE:
    default:
      method = "RemoveAddress";
      params = g_variant_new ("(u)", (guint32) d->id);
      break;
    }
  g_dbus_connection_call (reg->bus, MPTCP_SERVICE_BUS_NAME, reg->path,
                          MPTCP_SERVICE_CONNECTION_IFACE, method, params, G_VARIANT_TYPE (type),
                          G_DBUS_CALL_FLAGS_NONE, -1, g_task_get_cancellable (task),
                          op_reply_cb, task);
}

typedef struct
{
  GTask           *task;
  GDBusConnection *bus;
} RegisterData;

static void
register_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RegisterData *rd = user_data;
  g_autoptr(GTask) task = rd->task;
  g_autoptr(GDBusConnection) bus = rd->bus;
  OpData *d = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  g_free (rd);
  reply = g_dbus_connection_call_with_unix_fd_list_finish (bus, NULL, result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }
  if (g_object_get_data (G_OBJECT (d->conn), REG_KEY) == NULL)
    {
      Registration *reg = g_new0 (Registration, 1);

      reg->bus = g_object_ref (bus);
      g_variant_get (reply, "(ou)", &reg->path, NULL);
      g_object_set_data_full (G_OBJECT (d->conn), REG_KEY, reg, registration_free);
    }
  send_op (g_steal_pointer (&task));
}

static void
bus_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OpData *d = g_task_get_task_data (task);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  GSocket *sock = mptcp_connection_get_socket (d->conn);
  RegisterData *rd;
  GError *error = NULL;
  GDBusConnection *bus;

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }
  if (g_unix_fd_list_append (fds, g_socket_get_fd (sock), &error) < 0)
    {
      g_object_unref (bus);
      g_task_return_error (task, error);
      return;
    }
  rd = g_new0 (RegisterData, 1);
  rd->task = g_steal_pointer (&task);
  rd->bus = bus;
  g_dbus_connection_call_with_unix_fd_list (bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_PATH,
                                            MPTCP_SERVICE_IFACE, "Register",
                                            g_variant_new ("(h@a{sv})", 0,
                                                           g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                                            G_VARIANT_TYPE ("(ou)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                            fds, g_task_get_cancellable (rd->task), register_cb,
                                            rd);
}

void
_mptcp_connection_service_start (MptcpConnection        *self,
                                 gpointer                source_object,
                                 MptcpServiceOp          op,
                                 const MptcpSockoptAddr *local,
                                 const MptcpSockoptAddr *remote,
                                 guint8                  id,
                                 gboolean                backup,
                                 GCancellable           *cancellable,
                                 GAsyncReadyCallback     callback,
                                 gpointer                user_data,
                                 gpointer                source_tag)
{
  GTask *task = g_task_new (source_object, cancellable, callback, user_data);
  OpData *d = g_new0 (OpData, 1);

  _mptcp_service_register_error_domain ();
  g_task_set_source_tag (task, source_tag);
  d->conn = g_object_ref (self);
  d->op = op;
  if (local != NULL)
    d->local = *local;
  if (remote != NULL)
    d->remote = *remote;
  d->id = id;
  d->backup = backup;
  g_task_set_task_data (task, d, op_data_free);
  if (g_object_get_data (G_OBJECT (self), REG_KEY) != NULL)
    send_op (task);
  else
    g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, bus_cb, task);
}

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

GAsyncResult *
_mptcp_connection_service_run (MptcpConnection        *self,
                               gpointer                source_object,
                               MptcpServiceOp          op,
                               const MptcpSockoptAddr *local,
                               const MptcpSockoptAddr *remote,
                               guint8                  id,
                               gboolean                backup,
                               GCancellable           *cancellable,
                               gpointer                source_tag)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GAsyncResult *result = NULL;

  g_main_context_push_thread_default (context);
  _mptcp_connection_service_start (self, source_object, op, local, remote, id, backup,
                                   cancellable, run_done_cb, &result, source_tag);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return result;
}
