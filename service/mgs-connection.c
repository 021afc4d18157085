/* mgs-connection.c: the connection objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <linux/mptcp.h>

#include "mptcp-glib.h"
#include "mptcp-service-private.h"
#include "mgs-address.h"
#include "mgs-registrations.h"
#include "mgs-connection.h"

static void
emit (Reg        *reg,
      const char *signal,
      GVariant   *params)
{
  g_autofree char *path = reg_path (reg->id);

  /* unicast: only the registering client gets it */
  g_dbus_connection_emit_signal (bus, reg->client->name, path, MPTCP_SERVICE_CONNECTION_IFACE,
                                 signal, params, NULL);
}

static void
on_reg_event (const MptcpNlEvent *ev,
              gpointer            user_data)
{
  Reg *reg = user_data;

  switch (ev->type)
    {
    case MPTCP_EVENT_SUB_ESTABLISHED:
      emit (reg, "SubflowEstablished",
            g_variant_new ("(@(sq)@(sq)yyb)",
                           address_to_variant (ev->family, &ev->saddr, ev->sport),
                           address_to_variant (ev->family, &ev->daddr, ev->dport),
                           ev->loc_id, ev->rem_id, (gboolean) (ev->backup != 0)));
      break;
    case MPTCP_EVENT_SUB_CLOSED:
      emit (reg, "SubflowClosed",
            g_variant_new ("(@(sq)@(sq)yyu)",
                           address_to_variant (ev->family, &ev->saddr, ev->sport),
                           address_to_variant (ev->family, &ev->daddr, ev->dport),
                           ev->loc_id, ev->rem_id, (guint32) ev->error));
      break;
    case MPTCP_EVENT_SUB_PRIORITY:
      emit (reg, "SubflowPriority",
            g_variant_new ("(@(sq)@(sq)b)",
                           address_to_variant (ev->family, &ev->saddr, ev->sport),
                           address_to_variant (ev->family, &ev->daddr, ev->dport),
                           (gboolean) (ev->backup != 0)));
      break;
    case MPTCP_EVENT_ANNOUNCED:
      emit (reg, "AddressAnnounced",
            g_variant_new ("(y@(sq))", ev->rem_id,
                           address_to_variant (ev->family, &ev->daddr, ev->dport)));
      break;
    case MPTCP_EVENT_REMOVED:
      emit (reg, "AddressRemoved", g_variant_new ("(y)", ev->rem_id));
      break;
    case MPTCP_EVENT_CLOSED:
      g_debug ("connection %u (token %08x) closed", reg->id, reg->token);
      emit (reg, "Closed", NULL);
      reg_free (reg);
      break;
    default:
      break;
    }
}

Reg *
reg_new (Client         *client,
         guint32         token,
         const MptcpNlAddress *local,
         const MptcpNlAddress *remote,
         GError        **error)
{
  Reg *reg = g_new0 (Reg, 1);

  reg->tc = _mptcp_token_control_new (token, control_timeout_ms, on_reg_event, reg, error);
  if (reg->tc == NULL)
    {
      g_free (reg);
      return NULL;
    }
  reg->id = next_id++;
  reg->client = client;
  reg->token = token;
  if (local != NULL)
    reg->local = *local;
  if (remote != NULL)
    reg->remote = *remote;
  g_hash_table_insert (regs, GUINT_TO_POINTER (reg->id), reg);
  g_hash_table_insert (client->regs, GUINT_TO_POINTER (reg->id), reg);
  return reg;
}

typedef struct
{
  GDBusMethodInvocation *invocation;
  guint8                 cmd;
} OpData;

static void
op_done (const MptcpNlEvent *ev,
         guint               id,
         GError             *error,
         gpointer            user_data)
{
  OpData *op = user_data;

  if (error != NULL)
    g_dbus_method_invocation_take_error (op->invocation, error);
  else if (op->cmd == MPTCP_PM_CMD_SUBFLOW_CREATE)
    g_dbus_method_invocation_return_value (op->invocation,
      g_variant_new ("(@(sq)@(sq)yyb)",
                     address_to_variant (ev->family, &ev->saddr, ev->sport),
                     address_to_variant (ev->family, &ev->daddr, ev->dport),
                     ev->loc_id, ev->rem_id, (gboolean) (ev->backup != 0)));
  else if (op->cmd == MPTCP_PM_CMD_ANNOUNCE)
    g_dbus_method_invocation_return_value (op->invocation, g_variant_new ("(u)", id));
  else
    g_dbus_method_invocation_return_value (op->invocation, NULL);
  g_free (op);
}

static OpData *
op_new (GDBusMethodInvocation *invocation,
        guint8                 cmd)
{
  OpData *op = g_new0 (OpData, 1);

  op->invocation = invocation;   /* the reference the handler was given */
  op->cmd = cmd;
  return op;
}

/* The registration an object path names, if the sender owns it. */
static Reg *
lookup_reg (const char *sender,
            const char *object_path)
{
  const char *node;
  guint64 id;
  Reg *reg;
  char *end;

  if (!g_str_has_prefix (object_path, MPTCP_SERVICE_CONNECTION_PATH "/"))
    return NULL;
  node = object_path + strlen (MPTCP_SERVICE_CONNECTION_PATH "/");
  id = g_ascii_strtoull (node, &end, 10);
  if (*node == '\0' || *end != '\0' || id == 0 || id > G_MAXUINT)
    return NULL;
  reg = g_hash_table_lookup (regs, GUINT_TO_POINTER ((guint) id));
  if (reg == NULL || g_strcmp0 (reg->client->name, sender) != 0)
    return NULL;
  return reg;
}

static gboolean
same_family (const MptcpNlAddress *local,
             const MptcpNlAddress *remote,
             GError              **error)
{
  if (local->family == remote->family)
    return TRUE;
  g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
               "The local and the remote address are of different families");
  return FALSE;
}

static void
connection_method_call (GDBusConnection       *connection,
                        const char            *sender,
                        const char            *object_path,
                        const char            *interface_name,
                        const char            *method_name,
                        GVariant              *parameters,
                        GDBusMethodInvocation *invocation,
                        gpointer               user_data)
{
  Reg *reg = lookup_reg (sender, object_path);
  MptcpNlAddress local, remote;
  GError *error = NULL;

  if (reg == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             "No registered connection of yours at %s",
                                             object_path);
      return;
    }

  if (g_str_equal (method_name, "OpenSubflow"))
    {
      g_autoptr(GVariant) lv = NULL, rv = NULL, options = NULL;
      gboolean backup = FALSE;
      guchar id = 0;

      g_variant_get (parameters, "(@(sq)@(sq)@a{sv})", &lv, &rv, &options);
      g_variant_lookup (options, "backup", "b", &backup);
      g_variant_lookup (options, "id", "y", &id);
      if (!address_from_variant (lv, "local", &local, &error) ||
          !address_from_variant (rv, "remote", &remote, &error) ||
          !same_family (&local, &remote, &error))
        goto fail;
      if (remote.port == 0)
        {
          g_set_error (&error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                       "The remote address needs a port");
          goto fail;
        }
      local.id = id;
      _mptcp_token_control_open (reg->tc, &local, &remote, backup, op_done,
                                 op_new (invocation, MPTCP_PM_CMD_SUBFLOW_CREATE));
    }
  else if (g_str_equal (method_name, "CloseSubflow") || g_str_equal (method_name, "SetBackup"))
    {
      g_autoptr(GVariant) lv = NULL, rv = NULL;
      gboolean backup = FALSE;

      if (g_str_equal (method_name, "SetBackup"))
        g_variant_get (parameters, "(@(sq)@(sq)b)", &lv, &rv, &backup);
      else
        g_variant_get (parameters, "(@(sq)@(sq))", &lv, &rv);
      if (!address_from_variant (lv, "local", &local, &error) ||
          !address_from_variant (rv, "remote", &remote, &error) ||
          !same_family (&local, &remote, &error))
        goto fail;
      if (g_str_equal (method_name, "SetBackup"))
        _mptcp_token_control_backup (reg->tc, &local, &remote, backup, op_done,
                                     op_new (invocation, MPTCP_PM_CMD_SET_FLAGS));
      else
        _mptcp_token_control_close (reg->tc, &local, &remote, op_done,
                                    op_new (invocation, MPTCP_PM_CMD_SUBFLOW_DESTROY));
    }
  else if (g_str_equal (method_name, "AnnounceAddress"))
    {
      g_autoptr(GVariant) av = NULL;

      g_variant_get (parameters, "(@(sq))", &av);
      if (!address_from_variant (av, "announced", &local, &error))
        goto fail;
      _mptcp_token_control_announce (reg->tc, &local, op_done,
                                     op_new (invocation, MPTCP_PM_CMD_ANNOUNCE));
    }
  else if (g_str_equal (method_name, "RemoveAddress"))
    {
      guint32 id;

      g_variant_get (parameters, "(u)", &id);
      if (id > 255)
        {
          g_set_error (&error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                       "Address id %u is out of range (0..255)", id);
          goto fail;
        }
      _mptcp_token_control_remove (reg->tc, (guint8) id, op_done,
                                   op_new (invocation, MPTCP_PM_CMD_REMOVE));
    }
  else if (g_str_equal (method_name, "Unregister"))
    {
      reg_free (reg);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "No method %s", method_name);
  return;

fail:
  g_dbus_method_invocation_take_error (invocation, error);
}

static GVariant *
connection_get_property (GDBusConnection *connection,
                         const char      *sender,
                         const char      *object_path,
                         const char      *interface_name,
                         const char      *property_name,
                         GError         **error,
                         gpointer         user_data)
{
  Reg *reg = lookup_reg (sender, object_path);

  if (reg == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT,
                   "No registered connection of yours at %s", object_path);
      return NULL;
    }
  if (g_str_equal (property_name, "Token"))
    return g_variant_new_uint32 (reg->token);
  if (g_str_equal (property_name, "LocalAddress"))
    return address_to_variant (reg->local.family, &reg->local.addr, reg->local.port);
  if (g_str_equal (property_name, "RemoteAddress"))
    return address_to_variant (reg->remote.family, &reg->remote.addr, reg->remote.port);
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s",
               property_name);
  return NULL;
}

static const GDBusInterfaceVTable connection_vtable = {
  .method_call = connection_method_call,
  .get_property = connection_get_property,
};

static char **
subtree_enumerate (GDBusConnection *connection,
                   const char      *sender,
                   const char      *object_path,
                   gpointer         user_data)
{
  Client *client = g_hash_table_lookup (clients, sender);
  GPtrArray *nodes = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  if (client != NULL)
    {
      g_hash_table_iter_init (&iter, client->regs);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (nodes, g_strdup_printf ("%u", GPOINTER_TO_UINT (key)));
    }
  g_ptr_array_add (nodes, NULL);
  return (char **) g_ptr_array_free (nodes, FALSE);
}

static GDBusInterfaceInfo **
subtree_introspect (GDBusConnection *connection,
                    const char      *sender,
                    const char      *object_path,
                    const char      *node,
                    gpointer         user_data)
{
  GDBusInterfaceInfo **infos = g_new0 (GDBusInterfaceInfo *, 2);

  if (node != NULL)
    infos[0] = g_dbus_interface_info_ref (mgs_dbus_connection1_interface_info ());
  return infos;
}

static const GDBusInterfaceVTable *
subtree_dispatch (GDBusConnection *connection,
                  const char      *sender,
                  const char      *object_path,
                  const char      *interface_name,
                  const char      *node,
                  gpointer        *out_user_data,
                  gpointer         user_data)
{
  *out_user_data = NULL;
  if (node == NULL || g_strcmp0 (interface_name, MPTCP_SERVICE_CONNECTION_IFACE) != 0)
    return NULL;
  return &connection_vtable;
}

const GDBusSubtreeVTable subtree_vtable = {
  .enumerate = subtree_enumerate,
  .introspect = subtree_introspect,
  .dispatch = subtree_dispatch,
};
