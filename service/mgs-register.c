/* mgs-register.c: Register, RegisterToken and ListRegistrations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>
#include <gio/gunixfdlist.h>

#include "mptcp-glib.h"
#include "mptcp-service-private.h"
#include "mgs-address.h"
#include "mgs-admin.h"
#include "mgs-auth.h"
#include "mgs-connection.h"
#include "mgs-registrations.h"
#include "mgs-socket.h"
#include "mgs-register.h"

typedef struct
{
  GDBusMethodInvocation *invocation;
  Client                *client;
  int                    fd;
  guint32                token;
  MptcpNlAddress         local;
  MptcpNlAddress         remote;
} PendingRegister;

static void
register_authorized (GError   *error,
                     gpointer  user_data)
{
  PendingRegister *p = user_data;
  Client *client = p->client;
  Reg *reg = NULL;

  if (error == NULL)
    {
      /* a unique name is never reused: the answer holds until the client leaves the bus */
      g_hash_table_add (steer_ok, g_strdup (client->name));
      reg = reg_new (client, p->token, &p->local, &p->remote, &error);
    }
  /* the service's copy goes before the answer: it never outlives the application's */
  close (p->fd);
  client->n_pending--;
  if (reg == NULL)
    {
      g_dbus_method_invocation_take_error (p->invocation, error);
      client_maybe_drop (client);
    }
  else
    {
      g_autofree char *path = reg_path (reg->id);

      g_debug ("%s registered connection %u (token %08x)", client->name, reg->id, reg->token);
      g_dbus_method_invocation_return_value (p->invocation,
                                             g_variant_new ("(ou)", path, reg->token));
      if (g_hash_table_size (client->regs) == 1)
        check_client_alive (client->name);
    }
  g_free (p);
}

static gboolean
client_has_room (GDBusMethodInvocation *invocation,
                 Client                *client)
{
  if (client == NULL || g_hash_table_size (client->regs) + client->n_pending < max_per_client)
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED,
                                         "A client may register at most %u connections",
                                         max_per_client);
  return FALSE;
}

gboolean
handle_register (MgsDbusService1       *object,
                 GDBusMethodInvocation *invocation,
                 GUnixFDList           *fd_list,
                 GVariant              *arg_socket,
                 GVariant              *arg_options,
                 gpointer               user_data)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  GError *error = NULL;
  PendingRegister *p;
  gint32 handle = g_variant_get_handle (arg_socket);
  int fd;

  if (!client_has_room (invocation, g_hash_table_lookup (clients, sender)))
    return TRUE;
  if (fd_list == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (fd_list))
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                             "Register needs the connection's socket as a file "
                                             "descriptor (handle %d was not passed)", handle);
      return TRUE;
    }
  fd = g_unix_fd_list_get (fd_list, handle, &error);
  if (fd < 0)
    {
      g_dbus_method_invocation_take_error (invocation, error);
      return TRUE;
    }
  p = g_new0 (PendingRegister, 1);
  if (!validate_socket (fd, &p->token, &p->local, &p->remote, &error))
    {
      close (fd);
      g_free (p);
      g_dbus_method_invocation_take_error (invocation, error);
      return TRUE;
    }
  p->invocation = invocation;   /* the handler's reference, given back by the reply */
  p->fd = fd;
  p->client = client_ensure (sender);
  p->client->n_pending++;
  if (g_hash_table_contains (steer_ok, sender))
    register_authorized (NULL, p);
  else
    check_auth (sender, MPTCP_SERVICE_ACTION_STEER_OWN, register_authorized, p);
  return TRUE;
}

gboolean
handle_register_token (MgsDbusService1       *object,
                       GDBusMethodInvocation *invocation,
                       guint                  token,
                       GVariant              *options,
                       gpointer               user_data)
{
  if (!client_has_room (invocation,
                        g_hash_table_lookup (clients,
                                             g_dbus_method_invocation_get_sender (invocation))))
    return TRUE;
  admin_call (invocation, 0, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

gboolean
handle_list_registrations (MgsDbusService1       *object,
                           GDBusMethodInvocation *invocation,
                           gpointer               user_data)
{
  Client *client = g_hash_table_lookup (clients, g_dbus_method_invocation_get_sender (invocation));
  GVariantBuilder b;
  GHashTableIter iter;
  gpointer value;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ou(sq)(sq))"));
  if (client != NULL)
    {
      g_hash_table_iter_init (&iter, client->regs);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Reg *reg = value;
          g_autofree char *path = reg_path (reg->id);

          g_variant_builder_add (&b, "(ou@(sq)@(sq))", path, reg->token,
                                 address_to_variant (reg->local.family, &reg->local.addr,
                                                     reg->local.port),
                                 address_to_variant (reg->remote.family, &reg->remote.addr,
                                                     reg->remote.port));
        }
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ou(sq)(sq)))", &b));
  return TRUE;
}
