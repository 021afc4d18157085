/* mptcp-connection-service.c: MptcpConnection's control calls through mptcp-glib-service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <gio/gunixfdlist.h>
#include <linux/mptcp.h>

#include "mptcp-error.h"
#include "mptcp-subflow.h"
#include "mptcp-subflow-private.h"
#include "mptcp-service-private.h"
#include "mptcp-task-private.h"
#include "mptcp-connection-impl-private.h"

#define REG_KEY "mptcp-glib-service-registration"

/* The connection's registration with the service (the connection's qdata REG_KEY), made on the
 * first operation through the service. The subscriptions run in the connection's context. */
typedef struct
{
  MptcpConnection *conn;       /* not owned: the registration is the connection's */
  GDBusConnection *bus;
  char            *path;       /* the service's object, NULL while not registered */
  guint            events_id;  /* the object's signals */
  guint            owner_id;   /* NameOwnerChanged of the service's bus name */
  gboolean         registering;
} Registration;

static void registration_start (MptcpConnection *self, Registration *reg);

/* The object is gone (the service dropped it, left the bus, or we unregister). */
static void
registration_forget (Registration *reg,
                     gboolean      unregister)
{
  if (reg->events_id != 0)
    g_dbus_connection_signal_unsubscribe (reg->bus, reg->events_id);
  reg->events_id = 0;
  if (reg->path != NULL && unregister)
    /* one-way: the service also drops it when the connection closes */
    g_dbus_connection_call (reg->bus, MPTCP_SERVICE_BUS_NAME, reg->path,
                            MPTCP_SERVICE_CONNECTION_IFACE, "Unregister", NULL, NULL,
                            G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
  g_clear_pointer (&reg->path, g_free);
}

static void
registration_free (gpointer data)
{
  Registration *reg = data;

  registration_forget (reg, TRUE);
  if (reg->owner_id != 0)
    g_dbus_connection_signal_unsubscribe (reg->bus, reg->owner_id);
  g_object_unref (reg->bus);
  g_free (reg);
}

void
_mptcp_connection_service_drop (MptcpConnection *self,
                                gboolean         events)
{
  if (g_object_get_data (G_OBJECT (self), REG_KEY) == NULL)
    return;
  g_object_set_data (G_OBJECT (self), REG_KEY, NULL);
  if (events)
    _mptcp_conn_use_service_events (self, FALSE);
}

/**
 * mptcp_connection_get_service_policy:
 * @self: an #MptcpConnection
 *
 * Gets #MptcpConnection:service-policy.
 *
 * Returns: whether the connection uses mptcp-glib-service
 *
 * Since: 0.2
 */
MptcpServicePolicy
mptcp_connection_get_service_policy (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), MPTCP_SERVICE_POLICY_AUTO);

  return self->service_policy;
}

/**
 * mptcp_connection_set_service_policy:
 * @self: an #MptcpConnection
 * @policy: the new policy
 *
 * Sets #MptcpConnection:service-policy. Call it from the thread that made
 * the connection.
 *
 * Since: 0.2
 */
void
mptcp_connection_set_service_policy (MptcpConnection   *self,
                                     MptcpServicePolicy policy)
{
  g_return_if_fail (MPTCP_IS_CONNECTION (self));
  g_return_if_fail (policy <= MPTCP_SERVICE_POLICY_ALWAYS);
  g_return_if_fail (_mptcp_conn_in_own_thread (self));

  if (self->service_policy == policy)
    return;
  self->service_policy = policy;
  if (policy == MPTCP_SERVICE_POLICY_NEVER)
    _mptcp_connection_service_drop (self, TRUE);
  g_object_notify (G_OBJECT (self), "service-policy");
}

gboolean
_mptcp_connection_service_wanted (MptcpConnection *self)
{
  if (mptcp_connection_get_socket (self) == NULL)   /* by token: CAP_NET_ADMIN already */
    return FALSE;
  switch ((MptcpServicePolicy) self->service_policy)
    {
    case MPTCP_SERVICE_POLICY_NEVER:
      return FALSE;
    case MPTCP_SERVICE_POLICY_ALWAYS:
      return TRUE;
    case MPTCP_SERVICE_POLICY_AUTO:
    default:
      {
        int choice = _mptcp_service_env_choice ();   /* read once per process (documented) */

        if (choice != 0)
          return choice > 0;
      }
      return self->event_source == MPTCP_EVENT_SOURCE_POLLING ||
             self->event_source == MPTCP_EVENT_SOURCE_SERVICE;
    }
}

/* ---- the object's signals: the kernel's events of the connection ---- */

static gboolean
event_address (GVariant        *value,
               MptcpNlEvent    *ev,
               MptcpNlInetAddr *addr,
               guint16         *port)
{
  const char *text;
  int family;

  g_variant_get (value, "(&sq)", &text, port);
  family = strchr (text, ':') != NULL ? AF_INET6 : AF_INET;
  if (inet_pton (family, text, addr) != 1)
    return FALSE;
  ev->family = family;
  return TRUE;
}

static void
object_signal_cb (GDBusConnection *bus,
                  const char      *sender,
                  const char      *path,
                  const char      *iface,
                  const char      *name,
                  GVariant        *params,
                  gpointer         user_data)
{
  MptcpConnection *self = user_data;
  g_autoptr(GVariant) lv = NULL, rv = NULL;
  MptcpNlEvent ev = { 0 };
  gboolean backup = FALSE;
  guint32 error = 0;

  ev.token = mptcp_connection_get_token (self);
  if (g_str_equal (name, "SubflowEstablished") &&
      g_variant_is_of_type (params, G_VARIANT_TYPE ("((sq)(sq)yyb)")))
    {
      ev.type = MPTCP_EVENT_SUB_ESTABLISHED;
      g_variant_get (params, "(@(sq)@(sq)yyb)", &lv, &rv, &ev.loc_id, &ev.rem_id, &backup);
    }
  else if (g_str_equal (name, "SubflowClosed") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("((sq)(sq)yyu)")))
    {
      ev.type = MPTCP_EVENT_SUB_CLOSED;
      g_variant_get (params, "(@(sq)@(sq)yyu)", &lv, &rv, &ev.loc_id, &ev.rem_id, &error);
      ev.error = (guint8) error;
      if (error != 0)
        ev.present |= 1u << MPTCP_ATTR_ERROR;
    }
  else if (g_str_equal (name, "SubflowPriority") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("((sq)(sq)b)")))
    {
      ev.type = MPTCP_EVENT_SUB_PRIORITY;
      g_variant_get (params, "(@(sq)@(sq)b)", &lv, &rv, &backup);
    }
  else if (g_str_equal (name, "AddressAnnounced") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(y(sq))")))
    {
      ev.type = MPTCP_EVENT_ANNOUNCED;
      g_variant_get (params, "(y@(sq))", &ev.rem_id, &rv);
      if (!event_address (rv, &ev, &ev.daddr, &ev.dport))
        return;
      g_clear_pointer (&rv, g_variant_unref);
    }
  else if (g_str_equal (name, "AddressRemoved") &&
           g_variant_is_of_type (params, G_VARIANT_TYPE ("(y)")))
    {
      ev.type = MPTCP_EVENT_REMOVED;
      g_variant_get (params, "(y)", &ev.rem_id);
    }
  else if (g_str_equal (name, "Closed"))
    {
      Registration *reg = g_object_get_data (G_OBJECT (self), REG_KEY);

      /* the service dropped the object; the kernel says the connection is over */
      if (reg != NULL)
        registration_forget (reg, FALSE);
      ev.type = MPTCP_EVENT_CLOSED;
    }
  else
    return;
  ev.backup = backup;
  if (lv != NULL && !event_address (lv, &ev, &ev.saddr, &ev.sport))
    return;
  if (rv != NULL && !event_address (rv, &ev, &ev.daddr, &ev.dport))
    return;
  g_object_ref (self);
  _mptcp_conn_apply_event (self, &ev);
  g_object_unref (self);
}

/* ---- the service leaving and coming back ---- */

static void
owner_changed_cb (GDBusConnection *bus,
                  const char      *sender,
                  const char      *path,
                  const char      *iface,
                  const char      *name,
                  GVariant        *params,
                  gpointer         user_data)
{
  MptcpConnection *self = user_data;
  Registration *reg = g_object_get_data (G_OBJECT (self), REG_KEY);
  const char *bus_name, *old_owner, *new_owner;

  if (reg == NULL || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (params, "(&s&s&s)", &bus_name, &old_owner, &new_owner);
  if (old_owner[0] != '\0' && reg->path != NULL)
    {
      /* the instance that held the registration is gone, and the object with it */
      g_debug ("mptcp-glib-service left the bus: connection %08x polls until it registers "
               "again", mptcp_connection_get_token (self));
      registration_forget (reg, FALSE);
      _mptcp_conn_use_service_events (self, FALSE);
    }
  /* a new instance: register again (one left without a successor is started by the bus
   * when the next operation asks for it) */
  if (new_owner[0] != '\0' && reg->path == NULL && !reg->registering &&
      !self->closed && !self->fallback)
    registration_start (self, reg);
}

/* ---- registering ---- */

typedef struct
{
  MptcpConnection *conn;
  Registration    *reg;
  GTask           *task;        /* the operation waiting for it, or NULL (re-registration) */
} RegisterData;

static void send_op (GTask *task);
static GError *translate_error (GError *error, gboolean forced);

static void
register_done (RegisterData *rd,
               GError       *error)
{
  MptcpConnection *self = rd->conn;

  if (rd->task != NULL)
    {
      if (error != NULL)
        {
          g_task_return_error (rd->task, error);
          g_object_unref (rd->task);
        }
      else
        send_op (rd->task);   /* takes the task */
    }
  else if (error != NULL)
    {
      g_debug ("Could not register connection %08x with mptcp-glib-service again: %s",
               mptcp_connection_get_token (self), error->message);
      g_error_free (error);
    }
  g_object_unref (self);
  g_free (rd);
}

static gboolean op_forced (MptcpConnection *self);

static void
register_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RegisterData *rd = user_data;
  MptcpConnection *self = rd->conn;
  Registration *reg = g_object_get_data (G_OBJECT (self), REG_KEY);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  char *path;

  if (reg == rd->reg)
    reg->registering = FALSE;
  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), NULL,
                                                           result, &error);
  if (reply == NULL)
    {
      register_done (rd, translate_error (error, op_forced (self)));
      return;
    }
  g_variant_get (reply, "(ou)", &path, NULL);
  if (reg != rd->reg || reg->path != NULL)
    {
      /* dropped meanwhile, or registered twice: this one is not needed */
      g_dbus_connection_call (G_DBUS_CONNECTION (source), MPTCP_SERVICE_BUS_NAME, path,
                              MPTCP_SERVICE_CONNECTION_IFACE, "Unregister", NULL, NULL,
                              G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
      g_free (path);
      if (reg == NULL)
        error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                             "The connection gave up its registration with "
                             MPTCP_SERVICE_BUS_NAME);
      register_done (rd, error);
      return;
    }
  reg->path = path;
  /* the object's signals, to this client only; in the connection's context */
  g_main_context_push_thread_default (self->context);
  reg->events_id = g_dbus_connection_signal_subscribe (reg->bus, MPTCP_SERVICE_BUS_NAME,
                                                       MPTCP_SERVICE_CONNECTION_IFACE, NULL,
                                                       path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                       object_signal_cb, self, NULL);
  g_main_context_pop_thread_default (self->context);
  _mptcp_conn_use_service_events (self, TRUE);
  register_done (rd, NULL);
}

/* Registers the connection's socket; then the op of task (if any) goes. */
static void
register_call (MptcpConnection *self,
               Registration    *reg,
               GTask           *task)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  RegisterData *rd;
  GError *error = NULL;

  rd = g_new0 (RegisterData, 1);
  rd->conn = g_object_ref (self);
  rd->reg = reg;
  rd->task = task;
  if (g_socket_is_closed (self->socket))
    {
      register_done (rd, g_error_new (MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                                      "The connection's socket is closed"));
      return;
    }
  if (g_unix_fd_list_append (fds, g_socket_get_fd (self->socket), &error) < 0)
    {
      register_done (rd, error);
      return;
    }
  reg->registering = TRUE;
  /* auto-start: the bus activates the service if it is not running */
  g_dbus_connection_call_with_unix_fd_list (reg->bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_PATH,
                                            MPTCP_SERVICE_IFACE, "Register",
                                            g_variant_new ("(h@a{sv})", 0,
                                                           g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                                            G_VARIANT_TYPE ("(ou)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                            fds, task != NULL ? g_task_get_cancellable (task) : NULL,
                                            register_cb, rd);
}

/* Re-registration, from the connection's context. */
static void
registration_start (MptcpConnection *self,
                    Registration    *reg)
{
  g_main_context_push_thread_default (self->context);
  register_call (self, reg, NULL);
  g_main_context_pop_thread_default (self->context);
}

static Registration *
registration_new (MptcpConnection *self,
                  GDBusConnection *bus)
{
  Registration *reg = g_new0 (Registration, 1);

  reg->conn = self;
  reg->bus = g_object_ref (bus);
  g_main_context_push_thread_default (self->context);
  reg->owner_id = g_dbus_connection_signal_subscribe (bus, "org.freedesktop.DBus",
                                                      "org.freedesktop.DBus", "NameOwnerChanged",
                                                      "/org/freedesktop/DBus",
                                                      MPTCP_SERVICE_BUS_NAME,
                                                      G_DBUS_SIGNAL_FLAGS_NONE, owner_changed_cb,
                                                      self, NULL);
  g_main_context_pop_thread_default (self->context);
  g_object_set_data_full (G_OBJECT (self), REG_KEY, reg, registration_free);
  return reg;
}

typedef struct
{
  MptcpConnection    *conn;
  MptcpControlOpKind  kind;
  Tuple               tuple;     /* zero for a remove */
  guint8              id;
  gboolean            backup;
  gboolean            retried;   /* sent again after an UnknownObject */
  char               *path;      /* the object it was sent to */
} OpData;

static void
op_data_free (gpointer data)
{
  OpData *d = data;

  g_object_unref (d->conn);
  g_free (d->path);
  g_free (d);
}

static GVariant *
addr_variant (const MptcpSockoptAddr *addr)
{
  g_autoptr(GInetSocketAddress) sa = _mptcp_sockopt_addr_to_inet (addr);
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (sa));

  return g_variant_new ("(sq)", host, addr->port);
}

static gboolean
op_forced (MptcpConnection *self)
{
  return self->service_policy == MPTCP_SERVICE_POLICY_ALWAYS ||
         (self->service_policy == MPTCP_SERVICE_POLICY_AUTO && _mptcp_service_env_choice () > 0);
}

/* A D-Bus failure to reach the service reads as the direct path's refusal, or, when the
 * service was asked for (forced), says it is not there; its leaving during the call says
 * so. */
static GError *
translate_error (GError  *error,
                 gboolean forced)
{
  GError *out = NULL;

  if (_mptcp_service_error_is_absent (error))
    {
      if (forced)
        out = g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "The connection must use mptcp-glib-service, and "
                           MPTCP_SERVICE_BUS_NAME " is not on the system bus: %s",
                           error->message);
      else
        out = g_error_new (MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                           "Steering a connection needs CAP_NET_ADMIN, and mptcp-glib-service ("
                           MPTCP_SERVICE_BUS_NAME ") is not available: %s", error->message);
    }
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
    {
      /* the instance that had the registration left the bus before it answered
       * (UnknownObject: a new instance answered for an object of the old one) */
      g_dbus_error_strip_remote_error (error);
      out = g_error_new (MPTCP_ERROR, MPTCP_ERROR_FAILED,
                         "mptcp-glib-service (" MPTCP_SERVICE_BUS_NAME ") left the bus during "
                         "the operation; the connection registers again: %s", error->message);
    }
  if (out != NULL)
    {
      g_error_free (error);
      return out;
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
  if (reply == NULL && !d->retried &&
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
    {
      Registration *reg = g_object_get_data (G_OBJECT (d->conn), REG_KEY);

      /* the service no longer knows the object (a new instance, whose NameOwnerChanged is
       * still on its way): it did nothing; register again and send the op once more */
      if (reg != NULL && reg->path != NULL && g_strcmp0 (reg->path, d->path) == 0)
        {
          registration_forget (reg, FALSE);
          _mptcp_conn_use_service_events (d->conn, FALSE);
        }
      if (reg != NULL)
        {
          g_clear_error (&error);
          d->retried = TRUE;
          if (reg->path != NULL)
            send_op (g_steal_pointer (&task));
          else
            register_call (d->conn, reg, g_steal_pointer (&task));
          return;
        }
    }
  if (reply == NULL)
    {
      g_task_return_error (task, translate_error (error, op_forced (d->conn)));
      return;
    }
  switch (d->kind)
    {
    case MPTCP_CONTROL_OP_OPEN:
      {
        const char *lhost;
        guint16 lport;

        g_variant_get (reply, "((&sq)(&sq)yyb)", &lhost, &lport, NULL, NULL, NULL, NULL, NULL);
        d->tuple.local.port = lport;
        /* the kernel's list, as an event would bring it (no backup-flag read) */
        if (!_mptcp_conn_resync (d->conn, &error))
          {
            g_task_return_error (task, error);
            return;
          }
        list = mptcp_connection_get_subflows (d->conn);
        for (i = 0; i < g_list_model_get_n_items (list); i++)
          {
            g_autoptr(MptcpSubflow) sf = g_list_model_get_item (list, i);

            if (_mptcp_subflow_matches (sf, &d->tuple.local, &d->tuple.remote))
              {
                g_task_return_pointer (task, g_steal_pointer (&sf), g_object_unref);
                return;
              }
          }
        g_task_return_new_error (task, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                                 "The subflow was closed right after it was opened");
        return;
      }
    case MPTCP_CONTROL_OP_ANNOUNCE:
      {
        guint32 id;

        g_variant_get (reply, "(u)", &id);
        g_task_return_int (task, id);
        return;
      }
    case MPTCP_CONTROL_OP_BACKUP:
      {
        MptcpSubflow *sf = g_task_get_source_object (task);

        if (MPTCP_IS_SUBFLOW (sf))
          {
            MptcpConnChange change = { .kind = MPTCP_CONN_CHANGE_BACKUP, .subflow = sf,
                                       .backup = d->backup };

            _mptcp_connection_apply (d->conn, &change);
          }
        g_task_return_boolean (task, TRUE);
        return;
      }
    case MPTCP_CONTROL_OP_CLOSE:
      /* the list follows from the socket: the refresh emits the removal */
      _mptcp_conn_resync (d->conn, NULL);
      g_task_return_boolean (task, TRUE);
      return;
    case MPTCP_CONTROL_OP_REMOVE:
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

  if (reg == NULL)
    {
      g_task_return_new_error (task, MPTCP_ERROR, MPTCP_ERROR_FAILED,
                               "The connection gave up its registration with "
                               MPTCP_SERVICE_BUS_NAME " during the operation");
      g_object_unref (task);
      return;
    }
  if (reg->path == NULL)
    {
      register_call (d->conn, reg, task);
      return;
    }
  g_free (d->path);
  d->path = g_strdup (reg->path);

  switch (d->kind)
    {
    case MPTCP_CONTROL_OP_OPEN:
      method = "OpenSubflow";
      type = "((sq)(sq)yyb)";
      params = g_variant_new ("(@(sq)@(sq)@a{sv})", addr_variant (&d->tuple.local),
                              addr_variant (&d->tuple.remote),
                              g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      break;
    case MPTCP_CONTROL_OP_CLOSE:
      method = "CloseSubflow";
      params = g_variant_new ("(@(sq)@(sq))", addr_variant (&d->tuple.local),
                              addr_variant (&d->tuple.remote));
      break;
    case MPTCP_CONTROL_OP_BACKUP:
      method = "SetBackup";
      params = g_variant_new ("(@(sq)@(sq)b)", addr_variant (&d->tuple.local),
                              addr_variant (&d->tuple.remote), d->backup);
      break;
    case MPTCP_CONTROL_OP_ANNOUNCE:
      method = "AnnounceAddress";
      type = "(u)";
      params = g_variant_new ("(@(sq))", addr_variant (&d->tuple.local));
      break;
    case MPTCP_CONTROL_OP_REMOVE:
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

static void
bus_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  GTask *task = user_data;
  OpData *d = g_task_get_task_data (task);
  Registration *reg = g_object_get_data (G_OBJECT (d->conn), REG_KEY);
  g_autoptr(GDBusConnection) bus = NULL;
  GError *error = NULL;

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      g_task_return_error (task, translate_error (error, op_forced (d->conn)));
      g_object_unref (task);
      return;
    }
  if (reg == NULL)
    reg = registration_new (d->conn, bus);
  if (reg->path != NULL)
    send_op (task);
  else
    register_call (d->conn, reg, task);
}

void
_mptcp_connection_service_start (MptcpConnection        *self,
                                 const MptcpControlArgs *args,
                                 GAsyncReadyCallback     callback,
                                 gpointer                user_data)
{
  GTask *task = g_task_new (args->source_object, args->cancellable, callback, user_data);
  OpData *d = g_new0 (OpData, 1);
  Registration *reg;

  _mptcp_service_register_error_domain ();
  _mptcp_task_set_tag (task, args->source_tag, args->task_name);
  d->conn = g_object_ref (self);
  d->kind = args->kind;
  if (args->tuple != NULL)
    d->tuple = *args->tuple;
  d->id = args->id;
  d->backup = args->backup;
  g_task_set_task_data (task, d, op_data_free);
  reg = g_object_get_data (G_OBJECT (self), REG_KEY);
  if (reg != NULL && reg->path != NULL)
    send_op (task);
  else if (reg != NULL)
    register_call (self, reg, task);
  else
    g_bus_get (G_BUS_TYPE_SYSTEM, args->cancellable, bus_cb, task);
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
                               const MptcpControlArgs *args)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GAsyncResult *result = NULL;

  g_main_context_push_thread_default (context);
  _mptcp_connection_service_start (self, args, run_done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return result;
}
