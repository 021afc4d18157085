/* mptcp-glib-service.c: lets applications without CAP_NET_ADMIN steer their own MPTCP connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A system service on the D-Bus system bus (io.github.MptcpGlib.Service, the API is
 * io.github.MptcpGlib.Service1.xml). An application proves it owns a connection by passing the
 * connection's socket fd to Register: the service checks it is a connected MPTCP stream socket
 * of the service's own network namespace, reads the token and the addresses, and closes its copy
 * before it answers: it never keeps an application's connection alive. From then on it steers
 * the connection by token (the userspace path manager's commands) and forwards the token's
 * kernel events as signals addressed to the registering client only.
 *
 * A registration ends when the kernel reports the connection closed, when the client leaves
 * the bus, or on Unregister. Each client may hold --max-per-client registrations.
 *
 * Authorisation (polkit, CheckAuthorization on the caller's bus name):
 *   io.github.MptcpGlib.Service.steer-own   Register (checked once, when registering)
 *   io.github.MptcpGlib.Service.admin       RegisterToken, AddEndpoint, RemoveEndpoint,
 *                                           SetPathManager, ActAsPathManager, and (version 2,
 *                                           for MptcpPathManager's clients) SetEndpointFlags,
 *                                           RemoveEndpointByAddress, FlushEndpoints,
 *                                           SetLimits, SetPathManagerSysctl
 *
 * As the namespace's path manager (--path-manager or ActAsPathManager), mptcp-pm-policy.c
 * steers every connection no application registered as the in-kernel path manager would.
 * Every operation on a connection object is refused unless the caller is the bus name that
 * registered it (a stranger is told the object does not exist).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <linux/mptcp.h>

#include "mptcp-glib.h"
#include "mptcp-kernel-private.h"
#include "mptcp-service-private.h"
#include "mptcp-token-control-private.h"
#include "mptcp-pm-policy.h"
#include "mgs-dbus.h"

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH     "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE    "org.freedesktop.PolicyKit1.Authority"

typedef struct
{
  char       *name;        /* unique bus name */
  GHashTable *regs;        /* id → Reg (not owned) */
  guint       n_pending;   /* Register calls not answered yet */
} Client;

typedef struct
{
  guint              id;
  Client            *client;
  MptcpTokenControl *tc;
  guint32            token;
  MptcpNlAddress     local;
  MptcpNlAddress     remote;
} Reg;

static GDBusConnection *bus;
static MgsDbusService1 *manager;
static GHashTable      *clients;      /* name → Client (owned) */
static GHashTable      *regs;         /* id → Reg (owned) */
static GHashTable      *steer_ok;     /* unique names polkit allowed steer-own (owned keys) */
static guint            next_id = 1;
static guint            max_per_client = 64;
static guint            control_timeout_ms = 10000;
static GMainLoop       *loop;
static int              exit_status;
static MgsPmPolicy     *policy;       /* non-NULL while acting as path manager */

/* ---- clients and registrations --------------------------------------------------------- */

static void
client_free (Client *client)
{
  g_hash_table_unref (client->regs);
  g_free (client->name);
  g_free (client);
}

static Client *
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

static void
client_maybe_drop (Client *client)
{
  if (client->n_pending == 0 && g_hash_table_size (client->regs) == 0)
    g_hash_table_remove (clients, client->name);
}

static char *
reg_path (guint id)
{
  return g_strdup_printf (MPTCP_SERVICE_CONNECTION_PATH "/%u", id);
}

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

static void
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

static void
check_client_alive (const char *name)
{
  g_dbus_connection_call (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetNameOwner", g_variant_new ("(s)", name),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          get_name_owner_cb, g_strdup (name));
}

/* ---- addresses --------------------------------------------------------------------------- */

static GVariant *
address_to_variant (int                    family,
                    const MptcpNlInetAddr *addr,
                    guint16                port)
{
  char buf[INET6_ADDRSTRLEN] = "";

  if (family == AF_INET || family == AF_INET6)
    inet_ntop (family, addr, buf, sizeof buf);
  return g_variant_new ("(sq)", buf, port);
}

static gboolean
address_from_variant (GVariant       *value,
                      const char     *what,
                      MptcpNlAddress *out,
                      GError        **error)
{
  const char *text;
  guint16 port;
  g_autoptr(GInetAddress) inet = NULL;

  g_variant_get (value, "(&sq)", &text, &port);
  memset (out, 0, sizeof *out);
  inet = g_inet_address_new_from_string (text);
  if (inet == NULL)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "The %s address \"%s\" is not an IP address", what, text);
      return FALSE;
    }
  out->family = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  memcpy (&out->addr, g_inet_address_to_bytes (inet), g_inet_address_get_native_size (inet));
  out->port = port;
  _mptcp_nl_address_normalize (out);
  return TRUE;
}

static void
address_from_inet (GInetSocketAddress *sa,
                   MptcpNlAddress     *out)
{
  GInetAddress *inet = g_inet_socket_address_get_address (sa);

  memset (out, 0, sizeof *out);
  out->family = g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  memcpy (&out->addr, g_inet_address_to_bytes (inet), g_inet_address_get_native_size (inet));
  out->port = g_inet_socket_address_get_port (sa);
  _mptcp_nl_address_normalize (out);
}

/* ---- polkit ------------------------------------------------------------------------------ */

typedef void (*AuthFunc) (GError *error, gpointer user_data);

typedef struct
{
  char     *action;
  char     *sender;
  AuthFunc  func;
  gpointer  user_data;
} AuthData;

static void
check_auth_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AuthData *data = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  GError *error = NULL;
  gboolean authorized = FALSE, challenge = FALSE;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &local_error);
  if (reply != NULL)
    g_variant_get (reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
  if (!authorized)
    error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                         "Not authorized by polkit for action %s%s%s", data->action,
                         local_error != NULL ? ": " : "",
                         local_error != NULL ? local_error->message : "");
  g_debug ("polkit: %s for %s: %s", data->action, data->sender, authorized ? "yes" : "no");
  data->func (error, data->user_data);
  g_free (data->action);
  g_free (data->sender);
  g_free (data);
}

/* Asks polkit whether the caller (by bus name) may do action; func gets NULL or the refusal,
 * which names the action. No authority on the bus: refused. */
static void
check_auth (const char *sender,
            const char *action,
            AuthFunc    func,
            gpointer    user_data)
{
  AuthData *data = g_new0 (AuthData, 1);
  GVariantBuilder subject_details;

  data->action = g_strdup (action);
  data->sender = g_strdup (sender);
  data->func = func;
  data->user_data = user_data;
  g_variant_builder_init (&subject_details, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&subject_details, "{sv}", "name", g_variant_new_string (sender));
  g_dbus_connection_call (bus, POLKIT_BUS_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization",
                          g_variant_new ("((sa{sv})sa{ss}us)", "system-bus-name",
                                         &subject_details, action, NULL,
                                         (guint32) 1 /* AllowUserInteraction */, ""),
                          G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          check_auth_cb, data);
}

/* ---- the connection objects -------------------------------------------------------------- */

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

static Reg *
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

static const GDBusSubtreeVTable subtree_vtable = {
  .enumerate = subtree_enumerate,
  .introspect = subtree_introspect,
  .dispatch = subtree_dispatch,
};

/* ---- Register ---------------------------------------------------------------------------- */

static gboolean
same_netns (int      fd,
            GError **error)
{
  struct stat own, theirs;
  int nsfd;

  if (stat ("/proc/self/ns/net", &own) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "Cannot read the service's network namespace: %s", g_strerror (e));
      return FALSE;
    }
  nsfd = ioctl (fd, SIOCGSKNS);
  if (nsfd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "Cannot read the socket's network namespace: %s", g_strerror (e));
      return FALSE;
    }
  if (fstat (nsfd, &theirs) != 0)
    {
      int e = errno;
      close (nsfd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "Cannot read the socket's network namespace: %s", g_strerror (e));
      return FALSE;
    }
  close (nsfd);
  if (own.st_ino != theirs.st_ino || own.st_dev != theirs.st_dev)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                   "The socket belongs to another network namespace than the service's");
      return FALSE;
    }
  return TRUE;
}

static int
sockopt_int (int fd,
             int name)
{
  int value = -1;
  socklen_t len = sizeof value;

  if (getsockopt (fd, SOL_SOCKET, name, &value, &len) != 0)
    return -1;
  return value;
}

/* Checks what the fd is and reads the connection's token and addresses (the fd stays open). */
static gboolean
validate_socket (int              fd,
                 guint32         *token,
                 MptcpNlAddress  *local,
                 MptcpNlAddress  *remote,
                 GError         **error)
{
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(MptcpConnection) conn = NULL;
  struct sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  struct stat st;
  int domain, copy, fl;

  if (fstat (fd, &st) != 0 || !S_ISSOCK (st.st_mode))
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                   "The file descriptor is not a socket");
      return FALSE;
    }
  domain = sockopt_int (fd, SO_DOMAIN);
  if (domain != AF_INET && domain != AF_INET6)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                   "The socket is not an IPv4 or IPv6 socket (domain %d)", domain);
      return FALSE;
    }
  if (sockopt_int (fd, SO_TYPE) != SOCK_STREAM)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                   "The socket is not a stream socket");
      return FALSE;
    }
  if (sockopt_int (fd, SO_PROTOCOL) != IPPROTO_MPTCP)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                   "The socket is a plain TCP socket, not an MPTCP one");
      return FALSE;
    }
  if (!same_netns (fd, error))
    return FALSE;
  if (sockopt_int (fd, SO_ACCEPTCONN) == 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "The socket is a listening socket, not a connection");
      return FALSE;
    }
  if (getpeername (fd, (struct sockaddr *) &peer, &peer_len) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "The socket is not connected");
      return FALSE;
    }
  copy = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "dup: %s", g_strerror (e));
      return FALSE;
    }
  /* GSocket makes the file description non-blocking, and the application shares it: give it
   * back the flags it had (a blocking socket read EAGAIN after Register otherwise) */
  fl = fcntl (copy, F_GETFL);
  sock = g_socket_new_from_fd (copy, error);
  if (fl >= 0)
    (void) fcntl (copy, F_SETFL, fl);
  if (sock == NULL)
    {
      close (copy);
      return FALSE;
    }
  conn = mptcp_connection_new (sock, error);
  if (conn == NULL)
    {
      g_socket_close (sock, NULL);
      return FALSE;
    }
  if (mptcp_connection_get_fallback (conn))
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK,
                   "The connection has fallen back to TCP");
      g_socket_close (sock, NULL);
      return FALSE;
    }
  *token = mptcp_connection_get_token (conn);
  if (*token == 0)
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_ESTABLISHED,
                   "The connection has no token yet");
      g_socket_close (sock, NULL);
      return FALSE;
    }
  address_from_inet (mptcp_connection_get_local_address (conn), local);
  address_from_inet (mptcp_connection_get_remote_address (conn), remote);
  g_socket_close (sock, NULL);
  return TRUE;
}

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

static gboolean
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

static void
update_pm_properties (void)
{
  g_autoptr(GError) error = NULL;
  gboolean userspace = mgs_pm_policy_namespace_is_userspace (&error);

  mgs_dbus_service1_set_path_manager (manager, userspace ? "userspace" : "kernel");
  mgs_dbus_service1_set_acting_as_path_manager (manager, policy != NULL);
}

static gboolean
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
        MptcpEndpointFlags flags = 0;
        const char *nick;
        guint32 id;

        g_variant_get (params, "(uas)", &id, &iter);
        while (g_variant_iter_next (iter, "&s", &nick))
          {
            GFlagsValue *v = g_flags_get_value_by_nick (flags_class (), nick);

            if (v == NULL)
              {
                g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                                       G_DBUS_ERROR_INVALID_ARGS,
                                                       "Unknown endpoint flag \"%s\"", nick);
                return;
              }
            flags |= v->value;
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
      const char *nick;
      gint32 ifindex;
      guint32 id;
      MptcpEndpointFlags flags = 0;
      g_autoptr(GInetAddress) inet = NULL;
      g_autoptr(MptcpEndpoint) endpoint = NULL;
      GFlagsClass *klass = flags_class ();

      g_variant_get (call->params, "((&sq)asiu)", &text, &port, &flags_iter, &ifindex, &id);
      inet = g_inet_address_new_from_string (text);
      if (inet == NULL)
        {
          error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                               "\"%s\" is not an IP address", text);
          goto fail;
        }
      while (g_variant_iter_next (flags_iter, "&s", &nick))
        {
          GFlagsValue *v = g_flags_get_value_by_nick (klass, nick);

          if (v == NULL)
            {
              error = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                   "Unknown endpoint flag \"%s\"", nick);
              goto fail;
            }
          flags |= v->value;
        }
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

static void
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

static gboolean
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

static gboolean
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

static gboolean
handle_remove_endpoint (MgsDbusService1       *object,
                        GDBusMethodInvocation *invocation,
                        guint                  id,
                        gpointer               user_data)
{
  admin_call (invocation, 2, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

static gboolean
handle_set_path_manager (MgsDbusService1       *object,
                         GDBusMethodInvocation *invocation,
                         const char            *mode,
                         gpointer               user_data)
{
  admin_call (invocation, 4, g_dbus_method_invocation_get_parameters (invocation));
  return TRUE;
}

static gboolean
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

static gboolean
handle_set_endpoint_flags (MgsDbusService1 *o, GDBusMethodInvocation *invocation, guint id,
                           const char *const *flags, gpointer user_data)
{
  return pm_change (invocation, ADMIN_SET_ENDPOINT_FLAGS);
}

static gboolean
handle_remove_endpoint_by_address (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                                   const char *address, gpointer user_data)
{
  return pm_change (invocation, ADMIN_REMOVE_ENDPOINT_BY_ADDRESS);
}

static gboolean
handle_flush_endpoints (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                        gpointer user_data)
{
  return pm_change (invocation, ADMIN_FLUSH_ENDPOINTS);
}

static gboolean
handle_set_limits (MgsDbusService1 *o, GDBusMethodInvocation *invocation, guint subflows,
                   guint accepted, gpointer user_data)
{
  return pm_change (invocation, ADMIN_SET_LIMITS);
}

static gboolean
handle_set_path_manager_sysctl (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                                const char *mode, gpointer user_data)
{
  return pm_change (invocation, ADMIN_SET_PATH_MANAGER_SYSCTL);
}

static gboolean
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

static gboolean
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

static gboolean
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

/* ---- main -------------------------------------------------------------------------------- */

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  g_debug ("owns %s", name);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  g_printerr ("mptcp-glib-service: lost or could not own the bus name %s\n", name);
  exit_status = 1;
  g_main_loop_quit (loop);
}

static gboolean
on_signal_quit (gpointer user_data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  gboolean replace = FALSE, verbose = FALSE, as_pm = FALSE;
  int max = 64, timeout = 10000;
  guint subtree_id, owner_id, noc_id;
  GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "Replace a running instance", NULL },
    { "max-per-client", 0, 0, G_OPTION_ARG_INT, &max,
      "Registrations one client may hold (default 64)", "N" },
    { "control-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "Milliseconds the kernel has to complete an operation (default 10000)", "MS" },
    { "path-manager", 0, 0, G_OPTION_ARG_NONE, &as_pm,
      "Act as the namespace's path manager (when net.mptcp.path_manager=userspace)", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print debug messages", NULL },
    { NULL }
  };

  context = g_option_context_new ("- let applications steer their own MPTCP connections");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mptcp-glib-service: %s\n", error->message);
      return 2;
    }
  if (max < 1 || timeout < 1)
    {
      g_printerr ("mptcp-glib-service: --max-per-client and --control-timeout must be > 0\n");
      return 2;
    }
  max_per_client = (guint) max;
  control_timeout_ms = (guint) timeout;
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  _mptcp_service_register_error_domain ();
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("mptcp-glib-service: no system bus: %s\n", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (bus, TRUE);

  clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) client_free);
  regs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  steer_ok = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  loop = g_main_loop_new (NULL, FALSE);

  noc_id = g_dbus_connection_signal_subscribe (bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                               "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
                                               G_DBUS_SIGNAL_FLAGS_NONE, name_owner_changed_cb,
                                               NULL, NULL);

  manager = mgs_dbus_service1_skeleton_new ();
  mgs_dbus_service1_set_version (manager, 2);
  mgs_dbus_service1_set_max_registrations_per_client (manager, max_per_client);
  g_signal_connect (manager, "handle-register", G_CALLBACK (handle_register), NULL);
  g_signal_connect (manager, "handle-register-token", G_CALLBACK (handle_register_token), NULL);
  g_signal_connect (manager, "handle-list-registrations",
                    G_CALLBACK (handle_list_registrations), NULL);
  g_signal_connect (manager, "handle-list-all-registrations",
                    G_CALLBACK (handle_list_all_registrations), NULL);
  g_signal_connect (manager, "handle-list-endpoints", G_CALLBACK (handle_list_endpoints), NULL);
  g_signal_connect (manager, "handle-add-endpoint", G_CALLBACK (handle_add_endpoint), NULL);
  g_signal_connect (manager, "handle-remove-endpoint", G_CALLBACK (handle_remove_endpoint), NULL);
  g_signal_connect (manager, "handle-set-path-manager", G_CALLBACK (handle_set_path_manager), NULL);
  g_signal_connect (manager, "handle-act-as-path-manager",
                    G_CALLBACK (handle_act_as_path_manager), NULL);
  g_signal_connect (manager, "handle-set-endpoint-flags",
                    G_CALLBACK (handle_set_endpoint_flags), NULL);
  g_signal_connect (manager, "handle-remove-endpoint-by-address",
                    G_CALLBACK (handle_remove_endpoint_by_address), NULL);
  g_signal_connect (manager, "handle-flush-endpoints", G_CALLBACK (handle_flush_endpoints), NULL);
  g_signal_connect (manager, "handle-set-limits", G_CALLBACK (handle_set_limits), NULL);
  g_signal_connect (manager, "handle-set-path-manager-sysctl",
                    G_CALLBACK (handle_set_path_manager_sysctl), NULL);
  {
    struct stat ns;

    /* the namespace everything the service does acts on */
    if (stat ("/proc/self/ns/net", &ns) == 0)
      mgs_dbus_service1_set_network_namespace (manager,
                                               g_variant_new ("(tt)", (guint64) ns.st_dev,
                                                              (guint64) ns.st_ino));
  }
  update_pm_properties ();
  if (as_pm && !act_as_path_manager (TRUE, &error))
    {
      /* not fatal: the admin may switch the namespace later (SetPathManager) */
      g_printerr ("mptcp-glib-service: not acting as path manager: %s\n", error->message);
      g_clear_error (&error);
    }
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (manager), bus,
                                         MPTCP_SERVICE_PATH, &error))
    {
      g_printerr ("mptcp-glib-service: %s\n", error->message);
      return 1;
    }
  subtree_id = g_dbus_connection_register_subtree (bus, MPTCP_SERVICE_CONNECTION_PATH,
                                                   &subtree_vtable,
                                                   G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES,
                                                   NULL, NULL, &error);
  if (subtree_id == 0)
    {
      g_printerr ("mptcp-glib-service: %s\n", error->message);
      return 1;
    }
  owner_id = g_bus_own_name_on_connection (bus, MPTCP_SERVICE_BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                           (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                           name_acquired_cb, name_lost_cb, NULL, NULL);
  g_unix_signal_add (SIGTERM, on_signal_quit, NULL);
  g_unix_signal_add (SIGINT, on_signal_quit, NULL);

  g_main_loop_run (loop);

  g_bus_unown_name (owner_id);
  g_dbus_connection_unregister_subtree (bus, subtree_id);
  g_dbus_connection_signal_unsubscribe (bus, noc_id);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (manager));
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, regs);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      _mptcp_token_control_free (((Reg *) value)->tc);
  }
  g_clear_pointer (&policy, mgs_pm_policy_free);
  g_hash_table_unref (regs);
  g_hash_table_unref (clients);
  g_hash_table_unref (steer_ok);
  g_object_unref (manager);
  g_main_loop_unref (loop);
  g_object_unref (bus);
  return exit_status;
}
