/* mgs-registrations.c: the clients and their registrations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-glib.h"
#include "mptcp-service-private.h"
#include "mgs-registrations.h"

GHashTable      *clients;      /* name → Client (owned) */
GHashTable      *regs;         /* id → Reg (owned) */
GHashTable      *steer_ok;     /* unique names polkit allowed steer-own (owned keys) */
guint            next_id = 1;
guint            max_per_client = 64;
guint            control_timeout_ms = 10000;

void
client_free (Client *client)
{
  g_hash_table_unref (client->regs);
  g_free (client->name);
  g_free (client);
}

Client *
client_ensure (const char *name)
{
  Client *client = g_hash_table_lookup (clients, name);

  if (client != NULL)
    return client;
  client = g_new0 (Client, 1);
  client->name = g_strdup (name);
  client->regs = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (clients, client->name, client);
  return client;
}

void
client_maybe_drop (Client *client)
{
  if (client->n_pending == 0 && g_hash_table_size (client->regs) == 0)
    g_hash_table_remove (clients, client->name);
}

char *
reg_path (guint id)
{
  return g_strdup_printf (MPTCP_SERVICE_CONNECTION_PATH "/%u", id);
}

void
reg_free (Reg *reg)
{
  Client *client = reg->client;

  g_hash_table_remove (client->regs, GUINT_TO_POINTER (reg->id));
  _mptcp_token_control_free (reg->tc);
  g_hash_table_remove (regs, GUINT_TO_POINTER (reg->id));   /* frees reg */
  client_maybe_drop (client);
}

static void
client_vanished (const char *name)
{
  Client *client = g_hash_table_lookup (clients, name);
  GList *list, *l;

  if (client == NULL)
    return;
  g_debug ("client %s left the bus", name);
  list = g_hash_table_get_values (client->regs);
  client->n_pending++;     /* keep client alive through the loop */
  for (l = list; l != NULL; l = l->next)
    reg_free (l->data);
  g_list_free (list);
  client->n_pending--;
  client_maybe_drop (client);
}

void
name_owner_changed_cb (GDBusConnection *connection,
                       const char      *sender_name,
                       const char      *object_path,
                       const char      *interface_name,
                       const char      *signal_name,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] == ':' && new_owner[0] == '\0')
    {
      g_hash_table_remove (steer_ok, name);
      client_vanished (name);
    }
}

/* A client may have left before its first registration was recorded: ask the bus. */
static void
get_name_owner_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autofree char *name = user_data;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  if (reply == NULL)
    client_vanished (name);
}

void
check_client_alive (const char *name)
{
  g_dbus_connection_call (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetNameOwner", g_variant_new ("(s)", name),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          get_name_owner_cb, g_strdup (name));
}
