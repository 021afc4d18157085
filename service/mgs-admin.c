/* mgs-admin.c: the admin calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-glib.h"
#include "mptcp-service-private.h"
#include "mgs-address.h"
#include "mgs-auth.h"
#include "mgs-connection.h"
#include "mgs-registrations.h"
#include "mgs-admin.h"

MgsPmPolicy     *policy;       /* non-NULL while acting as path manager */

typedef struct
{
  GDBusMethodInvocation *invocation;
  guint32                token;
  Client                *client;
  guint                  kind;     /* 0 RegisterToken, 1 AddEndpoint, 2 RemoveEndpoint,
                                    * 3 ListAllRegistrations, 4 SetPathManager,
                                    * 5 ActAsPathManager, 6.. admin_pm_change() */
  GVariant              *params;
} AdminCall;

static void
endpoint_added_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(MptcpEndpoint) ep = NULL;
  GError *error = NULL;

  ep = mptcp_path_manager_add_endpoint_finish (MPTCP_PATH_MANAGER (source), result, &error);
  mgs_pm_policy_table_maybe_changed (policy);
  if (ep == NULL)
    g_dbus_method_invocation_take_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(u)", mptcp_endpoint_get_id (ep)));
}

static void
endpoint_removed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  GError *error = NULL;

  gboolean ok = mptcp_path_manager_remove_endpoint_finish (MPTCP_PATH_MANAGER (source), result,
                                                          &error);

  mgs_pm_policy_table_maybe_changed (policy);
  if (!ok)
    g_dbus_method_invocation_take_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static GFlagsClass *
flags_class (void)
{
  static GFlagsClass *klass;

  if (klass == NULL)
    klass = g_type_class_ref (MPTCP_TYPE_ENDPOINT_FLAGS);
  return klass;
}

/* The flags named by their nicks ("subflow", "signal", ...), as the D-Bus API gives them. */
static gboolean
flags_from_nicks (GVariantIter       *iter,
                  MptcpEndpointFlags *flags,
                  GError            **error)
{
  const char *nick;

  *flags = 0;
  while (g_variant_iter_next (iter, "&s", &nick))
    {
      GFlagsValue *v = g_flags_get_value_by_nick (flags_class (), nick);

      if (v == NULL)
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Unknown endpoint flag \"%s\"", nick);
          return FALSE;
        }
      *flags |= v->value;
    }
  return TRUE;
}

static MptcpPathManager *
path_manager (GError **error)
{
  static MptcpPathManager *pm;

  if (pm == NULL)
    pm = mptcp_path_manager_new (NULL, error);
  return pm;
}

/* ---- the service as path manager ------------------------------------------------------- */

static gboolean
token_is_registered (guint32  token,
                     gpointer user_data)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, regs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Reg *) value)->token == token)
      return TRUE;
  return FALSE;
}

void
update_pm_properties (void)
{
  g_autoptr(GError) error = NULL;
  gboolean userspace = mgs_pm_policy_namespace_is_userspace (&error);

  mgs_dbus_service1_set_path_manager (manager, userspace ? "userspace" : "kernel");
  mgs_dbus_service1_set_acting_as_path_manager (manager, policy != NULL);
}

gboolean
act_as_path_manager (gboolean   enable,
                     GError   **error)
{
  if (!enable)
    {
      g_clear_pointer (&policy, mgs_pm_policy_free);
      update_pm_properties ();
      return TRUE;
    }
  if (policy == NULL)
    policy = mgs_pm_policy_new (token_is_registered, NULL, error);
  update_pm_properties ();
  if (policy != NULL)
    g_debug ("acting as path manager, %u connections adopted",
             mgs_pm_policy_get_n_connections (policy));
  return policy != NULL;
}

static gboolean
set_path_manager (MptcpPathManager *pm,
                  const char       *mode,
                  GError          **error)
{
  gboolean ok;

  if (g_strcmp0 (mode, "userspace") == 0)
    return mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_USERSPACE, error) &&
           act_as_path_manager (TRUE, error);
  if (g_strcmp0 (mode, "kernel") != 0)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Unknown path manager \"%s\" (kernel or userspace)", mode);
      return FALSE;
    }
  act_as_path_manager (FALSE, NULL);
  ok = mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_KERNEL, error);
  update_pm_properties ();
  return ok;
}

/* ---- version 2: MptcpPathManager's other changes, for the library's clients ---------------- */

enum
{
  ADMIN_SET_ENDPOINT_FLAGS = 6,
  ADMIN_REMOVE_ENDPOINT_BY_ADDRESS,
  ADMIN_FLUSH_ENDPOINTS,
  ADMIN_SET_LIMITS,
  ADMIN_SET_PATH_MANAGER_SYSCTL,
};

static void
pm_change_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  MptcpPathManager *pm = MPTCP_PATH_MANAGER (source);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  GError *error = NULL;
  gboolean ok;

  if (g_str_equal (method, "SetEndpointFlags"))
    ok = mptcp_path_manager_set_endpoint_flags_finish (pm, result, &error);
  else if (g_str_equal (method, "RemoveEndpointByAddress"))
    ok = mptcp_path_manager_remove_endpoint_by_address_finish (pm, result, &error);
  else if (g_str_equal (method, "FlushEndpoints"))
    ok = mptcp_path_manager_flush_endpoints_finish (pm, result, &error);
  else
    ok = mptcp_path_manager_set_limits_finish (pm, result, &error);
  mgs_pm_policy_table_maybe_changed (policy);
  if (ok)
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    g_dbus_method_invocation_take_error (invocation, error);
}

/* An authorised change of kind ADMIN_*: answers the call (now or when done). */
static void
admin_pm_change (MptcpPathManager      *pm,
                 guint                  kind,
                 GVariant              *params,
                 GDBusMethodInvocation *invocation)
{
  GError *error = NULL;

  switch (kind)
    {
    case ADMIN_SET_ENDPOINT_FLAGS:
      {
        g_autoptr(GVariantIter) iter = NULL;
        MptcpEndpointFlags flags;
        guint32 id;

        g_variant_get (params, "(uas)", &id, &iter);
        if (!flags_from_nicks (iter, &flags, &error))
          {
            g_dbus_method_invocation_take_error (invocation, error);
            return;
          }
        mptcp_path_manager_set_endpoint_flags_async (pm, id, flags, NULL, pm_change_done_cb,
                                                     invocation);
        return;
      }
    case ADMIN_REMOVE_ENDPOINT_BY_ADDRESS:
      {
        g_autoptr(GInetAddress) inet = NULL;
        const char *text;

        g_variant_get (params, "(&s)", &text);
        inet = g_inet_address_new_from_string (text);
        if (inet == NULL)
          {
            g_dbus_method_invocation_return_error (invocation, MPTCP_ERROR,
                                                   MPTCP_ERROR_INVALID_ADDRESS,
                                                   "\"%s\" is not an IP address", text);
            return;
          }
        mptcp_path_manager_remove_endpoint_by_address_async (pm, inet, NULL, pm_change_done_cb,
                                                             invocation);
        return;
      }
    case ADMIN_FLUSH_ENDPOINTS:
      mptcp_path_manager_flush_endpoints_async (pm, NULL, pm_change_done_cb, invocation);
      return;
    case ADMIN_SET_LIMITS:
      {
        guint32 subflows, accepted;

        g_variant_get (params, "(uu)", &subflows, &accepted);
        mptcp_path_manager_set_limits_async (pm, subflows, accepted, NULL, pm_change_done_cb,
                                             invocation);
        return;
      }
    case ADMIN_SET_PATH_MANAGER_SYSCTL:
    default:
      {
        const char *mode;
        gboolean ok;

        g_variant_get (params, "(&s)", &mode);
        if (g_strcmp0 (mode, "userspace") == 0)
          ok = mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_USERSPACE, &error);
        else if (g_strcmp0 (mode, "kernel") == 0)
          {
            /* nobody makes the subflows of the userspace path manager any more */
            act_as_path_manager (FALSE, NULL);
            ok = mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_KERNEL, &error);
          }
        else
          {
            ok = FALSE;
            error = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                 "Unknown path manager \"%s\" (kernel or userspace)", mode);
          }
        update_pm_properties ();
        if (ok)
          g_dbus_method_invocation_return_value (invocation, NULL);
        else
          g_dbus_method_invocation_take_error (invocation, error);
        return;
      }
    }
}

static void
admin_authorized (GError   *error,
                  gpointer  user_data)
{
  AdminCall *call = user_data;
  MptcpPathManager *pm;

  if (error != NULL)
    goto fail;
  if (call->kind == 0)
    {
      Reg *reg;
      g_autofree char *path = NULL;

      call->client->n_pending--;
      reg = reg_new (call->client, call->token, NULL, NULL, &error);
      if (reg == NULL)
        {
          client_maybe_drop (call->client);
          goto fail_no_client;
        }
      path = reg_path (reg->id);
      g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(o)", path));
      if (g_hash_table_size (call->client->regs) == 1)
        check_client_alive (call->client->name);
      goto out;
    }
  if (call->kind == 3)
    {
      GVariantBuilder b;
      GHashTableIter iter;
      gpointer value;

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ou(sq)(sq)s)"));
      g_hash_table_iter_init (&iter, regs);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Reg *reg = value;
          g_autofree char *path = reg_path (reg->id);

          g_variant_builder_add (&b, "(ou@(sq)@(sq)s)", path, reg->token,
                                 address_to_variant (reg->local.family, &reg->local.addr,
                                                     reg->local.port),
                                 address_to_variant (reg->remote.family, &reg->remote.addr,
                                                     reg->remote.port),
                                 reg->client->name);
        }
      g_dbus_method_invocation_return_value (call->invocation,
                                             g_variant_new ("(a(ou(sq)(sq)s))", &b));
      goto out;
    }
  if (call->kind == 5)
    {
      gboolean enable;

      g_variant_get (call->params, "(b)", &enable);
      if (!act_as_path_manager (enable, &error))
        goto fail;
      g_dbus_method_invocation_return_value (call->invocation, NULL);
      goto out;
    }
  pm = path_manager (&error);
  if (pm == NULL)
    goto fail;
  if (call->kind >= ADMIN_SET_ENDPOINT_FLAGS)
    {
      admin_pm_change (pm, call->kind, call->params, call->invocation);
      goto out;
    }
  if (call->kind == 4)
    {
      const char *mode;

      g_variant_get (call->params, "(&s)", &mode);
      if (!set_path_manager (pm, mode, &error))
        goto fail;
      g_dbus_method_invocation_return_value (call->invocation, NULL);
      goto out;
    }
  if (call->kind == 1)
    {
      const char *text;
      guint16 port;
      g_autoptr(GVariantIter) flags_iter = NULL;
      gint32 ifindex;
      guint32 id;
      MptcpEndpointFlags flags;
      g_autoptr(GInetAddress) inet = NULL;
      g_autoptr(MptcpEndpoint) endpoint = NULL;

      g_variant_get (call->params, "((&sq)asiu)", &text, &port, &flags_iter, &ifindex, &id);
      inet = g_inet_address_new_from_string (text);
      if (inet == NULL)
        {
          error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                               "\"%s\" is not an IP address", text);
          goto fail;
        }
      if (!flags_from_nicks (flags_iter, &flags, &error))
        goto fail;
      if (id > 255)
        {
          error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                               "Endpoint id %u is out of range", id);
          goto fail;
        }
      if (ifindex < 0)
        {
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Invalid interface index %d", ifindex);
          goto fail;
        }
      endpoint = g_object_new (MPTCP_TYPE_ENDPOINT,
                               "address", inet,
                               "port", (guint) port,
                               "ifindex", (int) ifindex,
                               "flags", flags,
                               "id", (guint) id,
                               NULL);
      mptcp_path_manager_add_endpoint_async (pm, endpoint, NULL,
                                             endpoint_added_cb, call->invocation);
    }
  else
    {
      guint32 id;

      g_variant_get (call->params, "(u)", &id);
      mptcp_path_manager_remove_endpoint_async (pm, id, NULL, endpoint_removed_cb,
                                                call->invocation);
    }
  goto out;

fail:
  if (call->kind == 0)
    {
      call->client->n_pending--;
      client_maybe_drop (call->client);
    }
fail_no_client:
  g_dbus_method_invocation_take_error (call->invocation, error);
out:
  g_variant_unref (call->params);
  g_free (call);
}

void
admin_call (GDBusMethodInvocation *invocation,
            guint                  kind,
            GVariant              *params)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  AdminCall *call = g_new0 (AdminCall, 1);

  call->invocation = invocation;
  call->kind = kind;
  call->params = g_variant_ref (params);
  if (kind == 0)
    {
      g_variant_get (params, "(u@a{sv})", &call->token, NULL);
      call->client = client_ensure (sender);
      call->client->n_pending++;
    }
  check_auth (sender, MPTCP_SERVICE_ACTION_ADMIN, admin_authorized, call);
}

gboolean
handle_add_endpoint (MgsDbusService1       *object,
                     GDBusMethodInvocation *invocation,
                     GVariant              *address,
                     const char *const     *flags,
                     gint                   ifindex,
                     guint                  id,
                     gpointer               user_data)
{
  admin_call (invocation, 1, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

gboolean
handle_remove_endpoint (MgsDbusService1       *object,
                        GDBusMethodInvocation *invocation,
                        guint                  id,
                        gpointer               user_data)
{
  admin_call (invocation, 2, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

gboolean
handle_set_path_manager (MgsDbusService1       *object,
                         GDBusMethodInvocation *invocation,
                         const char            *mode,
                         gpointer               user_data)
{
  admin_call (invocation, 4, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

gboolean
handle_act_as_path_manager (MgsDbusService1       *object,
                            GDBusMethodInvocation *invocation,
                            gboolean               enable,
                            gpointer               user_data)
{
  admin_call (invocation, 5, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

/* the version 2 changes: every one needs the admin action */
static gboolean
pm_change (GDBusMethodInvocation *invocation,
           guint                  kind)
{
  admin_call (invocation, kind, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

gboolean
handle_set_endpoint_flags (MgsDbusService1 *o, GDBusMethodInvocation *invocation, guint id,
                           const char *const *flags, gpointer user_data)
{
  return pm_change (invocation, ADMIN_SET_ENDPOINT_FLAGS);
}

gboolean
handle_remove_endpoint_by_address (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                                   const char *address, gpointer user_data)
{
  return pm_change (invocation, ADMIN_REMOVE_ENDPOINT_BY_ADDRESS);
}

gboolean
handle_flush_endpoints (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                        gpointer user_data)
{
  return pm_change (invocation, ADMIN_FLUSH_ENDPOINTS);
}

gboolean
handle_set_limits (MgsDbusService1 *o, GDBusMethodInvocation *invocation, guint subflows,
                   guint accepted, gpointer user_data)
{
  return pm_change (invocation, ADMIN_SET_LIMITS);
}

gboolean
handle_set_path_manager_sysctl (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                                const char *mode, gpointer user_data)
{
  return pm_change (invocation, ADMIN_SET_PATH_MANAGER_SYSCTL);
}

gboolean
handle_list_all_registrations (MgsDbusService1       *object,
                               GDBusMethodInvocation *invocation,
                               gpointer               user_data)
{
  admin_call (invocation, 3, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

static void
endpoints_listed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr(GListModel) eps = NULL;
  GFlagsClass *klass = flags_class ();
  GVariantBuilder b;
  GError *error = NULL;
  guint i, n, bit;

  eps = mptcp_path_manager_list_endpoints_finish (MPTCP_PATH_MANAGER (source), result, &error);
  if (eps == NULL)
    {
      g_dbus_method_invocation_take_error (invocation, error);
      return;
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(usqasi)"));
  n = g_list_model_get_n_items (eps);
  for (i = 0; i < n; i++)
    {
      g_autoptr(MptcpEndpoint) ep = g_list_model_get_item (eps, i);
      g_autofree char *addr = g_inet_address_to_string (mptcp_endpoint_get_address (ep));
      GVariantBuilder fb;

      g_variant_builder_init (&fb, G_VARIANT_TYPE ("as"));
      for (bit = 0; bit < 32; bit++)
        {
          GFlagsValue *v = g_flags_get_first_value (klass, 1u << bit);

          if ((mptcp_endpoint_get_flags (ep) & (1u << bit)) && v != NULL && v->value == (1u << bit))
            g_variant_builder_add (&fb, "s", v->value_nick);
        }
      g_variant_builder_add (&b, "(usqasi)", mptcp_endpoint_get_id (ep), addr,
                             mptcp_endpoint_get_port (ep), &fb, mptcp_endpoint_get_ifindex (ep));
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(usqasi))", &b));
}

gboolean
handle_list_endpoints (MgsDbusService1       *object,
                       GDBusMethodInvocation *invocation,
                       gpointer               user_data)
{
  GError *error = NULL;
  MptcpPathManager *pm = path_manager (&error);

  if (pm == NULL)
    g_dbus_method_invocation_take_error (invocation, error);
  else
    mptcp_path_manager_list_endpoints_async (pm, NULL, endpoints_listed_cb, invocation);
  return TRUE;
}
