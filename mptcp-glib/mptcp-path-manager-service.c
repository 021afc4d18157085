/* mptcp-path-manager-service.c: MptcpPathManager's changes through mptcp-glib-service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A change (add, remove, remove by address, set flags, flush, set limits, set mode) that the
 * kernel refuses for lack of CAP_NET_ADMIN (MPTCP_ERROR_PERMISSION_DENIED) is made again by
 * mptcp-glib-service, whose admin action (polkit, auth_admin_keep) decides, when
 * MptcpPathManager:service-policy allows it: AUTO (the environment variable
 * MPTCP_GLIB_USE_SERVICE, never or always, overrides it) or ALWAYS, which skips the direct
 * try (without a service, AUTO keeps the kernel's refusal). Reads stay direct: they need no privilege. The result is the direct path's, on the
 * same task (source object, source tag, return type), with the same GError codes (the
 * MptcpError domain is registered for D-Bus); an added endpoint is read back from the kernel
 * as the direct path does. The service acts on its own network namespace: the change is
 * refused (MPTCP_ERROR_PERMISSION_DENIED) when it is not the object's.
 */

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "mptcp-error.h"
#include "mptcp-enum-types.h"
#include "mptcp-service-private.h"
#include "mptcp-path-manager-private.h"

static gboolean
is_change (PmOpKind kind)
{
  return kind == PM_OP_ADD || kind == PM_OP_REMOVE || kind == PM_OP_REMOVE_BY_ADDRESS ||
         kind == PM_OP_SET_FLAGS || kind == PM_OP_FLUSH || kind == PM_OP_SET_LIMITS;
}

/* 1: the service first, 0: after a refusal, -1: never */
static int
choice (MptcpPathManager *self)
{
  if (self->service_policy == MPTCP_SERVICE_POLICY_NEVER)
    return -1;
  if (self->service_policy == MPTCP_SERVICE_POLICY_ALWAYS)
    return 1;
  return _mptcp_service_env_choice ();
}

gboolean
_mptcp_pm_service_first (MptcpPathManager *self,
                         const PmOp       *op)
{
  return op->step == 0 && is_change (op->kind) && choice (self) > 0;
}

gboolean
_mptcp_pm_service_fallback (MptcpPathManager *self,
                            const PmOp       *op,
                            const GError     *error)
{
  return !op->committed && is_change (op->kind) && choice (self) == 0 &&
         g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
}

static GVariant *
flags_variant (guint32 flags)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (MPTCP_TYPE_ENDPOINT_FLAGS);
  GVariantBuilder b;
  guint bit;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("as"));
  for (bit = 0; bit < 32; bit++)
    {
      GFlagsValue *v = (flags & (1u << bit)) ? g_flags_get_first_value (klass, 1u << bit) : NULL;

      if (v != NULL && v->value == (1u << bit))
        g_variant_builder_add (&b, "s", v->value_nick);
    }
  return g_variant_builder_end (&b);
}

static char *
address_text (const MptcpNlAddress *address)
{
  char buf[INET6_ADDRSTRLEN] = "";

  inet_ntop (address->family, &address->addr, buf, sizeof buf);
  return g_strdup (buf);
}

/* The method and its arguments for op. */
static const char *
op_call (const PmOp *op,
         GVariant  **params,
         const char **reply_type)
{
  g_autofree char *text = NULL;

  *reply_type = "()";
  switch (op->kind)
    {
    case PM_OP_ADD:
      text = address_text (&op->address);
      *params = g_variant_new ("((sq)@asiu)", text, op->address.port, flags_variant (op->flags),
                               op->address.ifindex, op->id);
      *reply_type = "(u)";
      return "AddEndpoint";
    case PM_OP_REMOVE:
      *params = g_variant_new ("(u)", op->id);
      return "RemoveEndpoint";
    case PM_OP_REMOVE_BY_ADDRESS:
      text = address_text (&op->address);
      *params = g_variant_new ("(s)", text);
      return "RemoveEndpointByAddress";
    case PM_OP_SET_FLAGS:
      *params = g_variant_new ("(u@as)", op->id, flags_variant (op->flags));
      return "SetEndpointFlags";
    case PM_OP_FLUSH:
      *params = NULL;
      return "FlushEndpoints";
    case PM_OP_SET_LIMITS:
    default:
      *params = g_variant_new ("(uu)", op->subflows, op->add_addr_accepted);
      return "SetLimits";
    }
}

/* What D-Bus said, in the library's terms; direct (taken, or NULL): the kernel's refusal that
 * sent the change to the service, which stands when there is no service. */
static GError *
translate_error (GError  *error,
                 gboolean forced,
                 GError  *direct)
{
  GError *out;

  if (direct != NULL && _mptcp_service_error_is_absent (error))
    {
      g_error_free (error);
      return direct;
    }
  g_clear_error (&direct);
  if (_mptcp_service_error_is_absent (error))
    out = g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                       "The path manager must use mptcp-glib-service, and "
                       MPTCP_SERVICE_BUS_NAME " is not on the system bus: %s", error->message);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    out = g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                       "mptcp-glib-service (" MPTCP_SERVICE_BUS_NAME ") is older than this "
                       "change: %s", error->message);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY))
    out = g_error_new (MPTCP_ERROR, MPTCP_ERROR_FAILED,
                       "mptcp-glib-service (" MPTCP_SERVICE_BUS_NAME ") left the bus during "
                       "the change: %s", error->message);
  else
    {
      g_dbus_error_strip_remote_error (error);
      return error;
    }
  g_error_free (error);
  return out;
}

/* The service's properties: version 2, and the object's namespace. */
static gboolean
check_service (MptcpPathManager *self,
               GVariant         *props,
               GError          **error)
{
  g_autoptr(GVariant) all = g_variant_get_child_value (props, 0);
  g_autoptr(GVariant) ns = g_variant_lookup_value (all, "NetworkNamespace", G_VARIANT_TYPE ("(tt)"));
  guint32 version = 0;
  guint64 dev, ino;

  g_variant_lookup (all, "Version", "u", &version);
  if (version < 2 || ns == NULL)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                   "mptcp-glib-service (" MPTCP_SERVICE_BUS_NAME ") is version %u; changing "
                   "the path manager through it needs version 2", version);
      return FALSE;
    }
  g_variant_get (ns, "(tt)", &dev, &ino);
  if (!self->has_netns || dev != (guint64) self->netns_dev || ino != (guint64) self->netns_ino)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                           "Changing the path manager needs CAP_NET_ADMIN, and mptcp-glib-service "
                           "(" MPTCP_SERVICE_BUS_NAME ") runs in another network namespace "
                           "than this path manager's");
      return FALSE;
    }
  return TRUE;
}

/* ---- asynchronously, on an operation's task ---- */

typedef struct
{
  GTask           *task;    /* owned */
  GDBusConnection *bus;
  gboolean         forced;
  GError          *direct;  /* the kernel's refusal (AUTO), or NULL */
} Call;

static void
call_finish (Call   *c,
             GError *error)
{
  if (error != NULL)
    {
      g_task_return_error (c->task, error);
      g_object_unref (c->task);
    }
  g_clear_object (&c->bus);
  g_clear_error (&c->direct);
  g_free (c);
}

static void
method_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *c = user_data;
  PmOp *op = g_task_get_task_data (c->task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      call_finish (c, translate_error (error, c->forced, g_steal_pointer (&c->direct)));
      return;
    }
  if (op->kind == PM_OP_ADD)
    {
      guint32 id;

      /* the endpoint as the kernel stored it, read as the direct path reads it back */
      g_variant_get (reply, "(u)", &id);
      _mptcp_pm_op_read_back (g_steal_pointer (&c->task), id);
    }
  else
    {
      g_task_return_boolean (c->task, TRUE);
      g_clear_object (&c->task);
    }
  call_finish (c, NULL);
}

static void
props_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Call *c = user_data;
  MptcpPathManager *self = g_task_get_source_object (c->task);
  PmOp *op = g_task_get_task_data (c->task);
  g_autoptr(GVariant) props = NULL;
  GVariant *params = NULL;
  const char *method, *reply_type;
  GError *error = NULL;

  props = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (props == NULL)
    {
      call_finish (c, translate_error (error, c->forced, g_steal_pointer (&c->direct)));
      return;
    }
  if (!check_service (self, props, &error))
    {
      call_finish (c, error);
      return;
    }
  method = op_call (op, &params, &reply_type);
  g_dbus_connection_call (c->bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_PATH,
                          MPTCP_SERVICE_IFACE, method, params, G_VARIANT_TYPE (reply_type),
                          G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
                          g_task_get_cancellable (c->task), method_cb, c);
}

static void
bus_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Call *c = user_data;
  GError *error = NULL;

  c->bus = g_bus_get_finish (result, &error);
  if (c->bus == NULL)
    {
      call_finish (c, translate_error (error, c->forced, g_steal_pointer (&c->direct)));
      return;
    }
  g_dbus_connection_call (c->bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_PATH,
                          "org.freedesktop.DBus.Properties", "GetAll",
                          g_variant_new ("(s)", MPTCP_SERVICE_IFACE),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1,
                          g_task_get_cancellable (c->task), props_cb, c);
}

void
_mptcp_pm_service_run (GTask  *task,
                       GError *direct)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  Call *c = g_new0 (Call, 1);

  _mptcp_service_register_error_domain ();
  c->task = task;
  c->direct = direct;
  c->forced = choice (self) > 0;
  g_bus_get (G_BUS_TYPE_SYSTEM, g_task_get_cancellable (task), bus_cb, c);
}

/* ---- the mode, synchronously ---- */

gboolean
_mptcp_pm_service_mode_first (MptcpPathManager *self)
{
  return choice (self) > 0;
}

gboolean
_mptcp_pm_service_mode_fallback (MptcpPathManager *self,
                                 const GError     *error)
{
  return choice (self) == 0 &&
         g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
}

gboolean
_mptcp_pm_service_set_mode (MptcpPathManager     *self,
                            MptcpPathManagerMode  mode,
                            GError               *direct,
                            GError              **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) props = NULL, reply = NULL;
  gboolean forced = choice (self) > 0;
  GError *local = NULL;

  _mptcp_service_register_error_domain ();
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &local);
  if (bus != NULL)
    props = g_dbus_connection_call_sync (bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_PATH,
                                         "org.freedesktop.DBus.Properties", "GetAll",
                                         g_variant_new ("(s)", MPTCP_SERVICE_IFACE),
                                         G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1,
                                         NULL, &local);
  if (props == NULL)
    {
      g_propagate_error (error, translate_error (local, forced, direct));
      return FALSE;
    }
  g_clear_error (&direct);
  if (!check_service (self, props, error))
    return FALSE;
  reply = g_dbus_connection_call_sync (bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_PATH,
                                       MPTCP_SERVICE_IFACE, "SetPathManagerSysctl",
                                       g_variant_new ("(s)",
                                                      mode == MPTCP_PATH_MANAGER_MODE_USERSPACE
                                                        ? "userspace" : "kernel"),
                                       G_VARIANT_TYPE ("()"),
                                       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
                                       NULL, &local);
  if (reply == NULL)
    {
      g_propagate_error (error, translate_error (local, forced, NULL));
      return FALSE;
    }
  return TRUE;
}

/* ---- the policy ---- */

/**
 * mptcp_path_manager_get_service_policy:
 * @self: an #MptcpPathManager
 *
 * Gets #MptcpPathManager:service-policy.
 *
 * Returns: whether changes go through mptcp-glib-service
 *
 * Since: 0.2
 */
MptcpServicePolicy
mptcp_path_manager_get_service_policy (MptcpPathManager *self)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), MPTCP_SERVICE_POLICY_AUTO);

  return self->service_policy;
}

/**
 * mptcp_path_manager_set_service_policy:
 * @self: an #MptcpPathManager
 * @policy: the new policy
 *
 * Sets #MptcpPathManager:service-policy; operations started from then on
 * follow it.
 *
 * Since: 0.2
 */
void
mptcp_path_manager_set_service_policy (MptcpPathManager   *self,
                                       MptcpServicePolicy  policy)
{
  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (policy <= MPTCP_SERVICE_POLICY_ALWAYS);

  if (self->service_policy == policy)
    return;
  self->service_policy = policy;
  g_object_notify (G_OBJECT (self), "service-policy");
}
