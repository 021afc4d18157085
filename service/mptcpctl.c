/* mptcpctl.c: the command-line client of mptcp-glib-service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   mptcpctl [--json] list                      every registration the service holds (admin)
 *   mptcpctl [--json] monitor TOKEN             follow a connection's events (admin)
 *   mptcpctl open TOKEN LOCAL REMOTE:PORT [--backup]
 *   mptcpctl close TOKEN LOCAL:PORT REMOTE:PORT
 *   mptcpctl backup TOKEN LOCAL:PORT REMOTE:PORT on|off
 *   mptcpctl announce TOKEN ADDRESS
 *   mptcpctl remove TOKEN ID                    steer any connection by token (admin)
 *   mptcpctl [--json] endpoints                 the path manager's endpoints
 *   mptcpctl endpoint-add ADDRESS[:PORT] [--flags signal,subflow,...] [--id N] [--ifindex N]
 *   mptcpctl endpoint-remove ID                 (admin)
 *
 * The namespace-wide list of connections (sock_diag) is the library's; this tool lists what
 * the service knows. Addresses: 192.0.2.1, 192.0.2.1:80, [2001:db8::1]:80. Tokens in hex.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>

#include "mptcp-glib.h"
#include "mptcp-service-private.h"

static gboolean opt_json, opt_backup;
static char *opt_flags;
static int opt_id, opt_ifindex;
static GDBusConnection *bus;
static GMainLoop *loop;

static gboolean
parse_address (const char *text,
               gboolean    need_port,
               char      **host,
               guint16    *port,
               GError    **error)
{
  const char *colon;
  guint64 p = 0;
  g_autofree char *h = NULL;
  g_autoptr(GInetAddress) inet = NULL;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL)
        goto bad;
      h = g_strndup (text + 1, end - text - 1);
      colon = end[1] == ':' ? end + 1 : NULL;
      if (end[1] != '\0' && colon == NULL)
        goto bad;
    }
  else
    {
      colon = strrchr (text, ':');
      if (colon != NULL && strchr (text, ':') != colon)
        colon = NULL;   /* a bare IPv6 address */
      h = colon ? g_strndup (text, colon - text) : g_strdup (text);
    }
  if (colon != NULL && !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &p, NULL))
    goto bad;
  if (need_port && p == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\" needs a port", text);
      return FALSE;
    }
  inet = g_inet_address_new_from_string (h);
  if (inet == NULL)
    goto bad;
  *host = g_steal_pointer (&h);
  *port = (guint16) p;
  return TRUE;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "\"%s\" is not an address", text);
  return FALSE;
}

static gboolean
parse_token (const char *text,
             guint32    *token,
             GError    **error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (g_str_has_prefix (text, "0x") ? text + 2 : text, 16, 1,
                                   G_MAXUINT32, &v, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not a token (hexadecimal)", text);
      return FALSE;
    }
  *token = (guint32) v;
  return TRUE;
}

static GVariant *
call (const char  *path,
      const char  *iface,
      const char  *method,
      GVariant    *params,
      const char  *type,
      GError     **error)
{
  /* G_MAXINT: polkit may ask for a password */
  return g_dbus_connection_call_sync (bus, MPTCP_SERVICE_BUS_NAME, path, iface, method, params,
                                      type ? G_VARIANT_TYPE (type) : NULL,
                                      G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                                      G_MAXINT, NULL, error);
}

static char *
attach_token (const char  *token_text,
              GError     **error)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 token;
  char *path;

  if (!parse_token (token_text, &token, error))
    return NULL;
  reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "RegisterToken",
                g_variant_new ("(u@a{sv})", token,
                               g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                "(o)", error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(o)", &path);
  return path;
}

static char *
format_address (GVariant *v)
{
  const char *host;
  guint16 port;

  g_variant_get (v, "(&sq)", &host, &port);
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

static int
cmd_list (GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(GVariant) local = NULL, remote = NULL;
  const char *path, *owner;
  guint32 token;
  gboolean first = TRUE;

  reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "ListAllRegistrations", NULL,
                "(a(ou(sq)(sq)s))", error);
  if (reply == NULL)
    return 1;
  g_variant_get (reply, "(a(ou(sq)(sq)s))", &iter);
  if (opt_json)
    g_print ("[");
  else
    g_print ("%-10s %-24s %-24s %s\n", "TOKEN", "LOCAL", "REMOTE", "CLIENT");
  while (g_variant_iter_next (iter, "(&ou@(sq)@(sq)&s)", &path, &token, &local, &remote, &owner))
    {
      g_autofree char *l = format_address (local), *r = format_address (remote);

      if (opt_json)
        g_print ("%s\n  {\"token\": \"%08x\", \"local\": \"%s\", \"remote\": \"%s\", "
                 "\"client\": \"%s\", \"object\": \"%s\"}", first ? "" : ",", token, l, r,
                 owner, path);
      else
        g_print ("%08x   %-24s %-24s %s\n", token, l, r, owner);
      first = FALSE;
      g_clear_pointer (&local, g_variant_unref);
      g_clear_pointer (&remote, g_variant_unref);
    }
  if (opt_json)
    g_print ("%s]\n", first ? "" : "\n");
  return 0;
}

static void
event_cb (GDBusConnection *connection,
          const char      *sender_name,
          const char      *object_path,
          const char      *interface_name,
          const char      *signal_name,
          GVariant        *parameters,
          gpointer         user_data)
{
  g_autofree char *args = g_variant_print (parameters, FALSE);
  g_autofree char *escaped = g_strescape (args, NULL);

  if (opt_json)
    g_print ("{\"event\": \"%s\", \"args\": \"%s\"}\n", signal_name, escaped);
  else
    g_print ("%s %s\n", signal_name, args);
  if (g_str_equal (signal_name, "Closed"))
    g_main_loop_quit (loop);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
cmd_monitor (const char  *token_text,
             GError     **error)
{
  g_autofree char *path = attach_token (token_text, error);

  if (path == NULL)
    return 1;
  g_dbus_connection_signal_subscribe (bus, MPTCP_SERVICE_BUS_NAME, MPTCP_SERVICE_CONNECTION_IFACE,
                                      NULL, path, NULL, G_DBUS_SIGNAL_FLAGS_NONE, event_cb, NULL,
                                      NULL);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, NULL);
  g_unix_signal_add (SIGTERM, quit_cb, NULL);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
  return 0;
}

static int
cmd_steer (const char  *what,
           char       **args,
           int          n_args,
           GError     **error)
{
  g_autofree char *path = NULL, *lhost = NULL, *rhost = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint16 lport = 0, rport = 0;
  int need = g_str_equal (what, "backup") ? 4 : g_str_equal (what, "announce") ||
             g_str_equal (what, "remove") ? 2 : 3;

  if (n_args != need)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s takes %d arguments", what, need);
      return 2;
    }
  if (!g_str_equal (what, "remove") &&
      !parse_address (args[1], FALSE, &lhost, &lport, error))
    return 2;
  if (need >= 3 && !parse_address (args[2], TRUE, &rhost, &rport, error))
    return 2;
  path = attach_token (args[0], error);
  if (path == NULL)
    return 1;
  if (g_str_equal (what, "open"))
    {
      GVariantBuilder o;

      g_variant_builder_init (&o, G_VARIANT_TYPE ("a{sv}"));
      if (opt_backup)
        g_variant_builder_add (&o, "{sv}", "backup", g_variant_new_boolean (TRUE));
      reply = call (path, MPTCP_SERVICE_CONNECTION_IFACE, "OpenSubflow",
                    g_variant_new ("((sq)(sq)a{sv})", lhost, lport, rhost, rport, &o),
                    "((sq)(sq)yyb)", error);
      if (reply != NULL)
        {
          g_autoptr(GVariant) l = g_variant_get_child_value (reply, 0);
          g_autoptr(GVariant) r = g_variant_get_child_value (reply, 1);
          g_autofree char *ls = format_address (l), *rs = format_address (r);
          guint8 lid, rid;

          g_variant_get_child (reply, 2, "y", &lid);
          g_variant_get_child (reply, 3, "y", &rid);
          if (opt_json)
            g_print ("{\"local\": \"%s\", \"remote\": \"%s\", \"local_id\": %u, "
                     "\"remote_id\": %u}\n", ls, rs, lid, rid);
          else
            g_print ("subflow %s -> %s established (ids %u/%u)\n", ls, rs, lid, rid);
        }
    }
  else if (g_str_equal (what, "close"))
    reply = call (path, MPTCP_SERVICE_CONNECTION_IFACE, "CloseSubflow",
                  g_variant_new ("((sq)(sq))", lhost, lport, rhost, rport), "()", error);
  else if (g_str_equal (what, "backup"))
    reply = call (path, MPTCP_SERVICE_CONNECTION_IFACE, "SetBackup",
                  g_variant_new ("((sq)(sq)b)", lhost, lport, rhost, rport,
                                 g_str_equal (args[3], "on")), "()", error);
  else if (g_str_equal (what, "announce"))
    {
      reply = call (path, MPTCP_SERVICE_CONNECTION_IFACE, "AnnounceAddress",
                    g_variant_new ("((sq))", lhost, lport), "(u)", error);
      if (reply != NULL)
        {
          guint32 id;

          g_variant_get (reply, "(u)", &id);
          g_print (opt_json ? "{\"id\": %u}\n" : "announced with id %u\n", id);
        }
    }
  else
    {
      guint64 id;

      if (!g_ascii_string_to_unsigned (args[1], 10, 0, 255, &id, error))
        return 2;
      reply = call (path, MPTCP_SERVICE_CONNECTION_IFACE, "RemoveAddress",
                    g_variant_new ("(u)", (guint32) id), "()", error);
    }
  /* best effort: the service ends the registration anyway when this client leaves the bus */
  {
    GVariant *r = call (path, MPTCP_SERVICE_CONNECTION_IFACE, "Unregister", NULL, NULL, NULL);

    g_clear_pointer (&r, g_variant_unref);
  }
  return reply != NULL ? 0 : 1;
}

static int
cmd_endpoints (GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(GVariantIter) flags = NULL;
  const char *addr, *flag;
  guint32 id;
  guint16 port;
  gint32 ifindex;
  gboolean first = TRUE;

  reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "ListEndpoints", NULL,
                "(a(usqasi))", error);
  if (reply == NULL)
    return 1;
  g_variant_get (reply, "(a(usqasi))", &iter);
  if (opt_json)
    g_print ("[");
  else
    g_print ("%-4s %-28s %-6s %-8s %s\n", "ID", "ADDRESS", "PORT", "IFINDEX", "FLAGS");
  while (g_variant_iter_next (iter, "(u&sqasi)", &id, &addr, &port, &flags, &ifindex))
    {
      g_autoptr(GString) fl = g_string_new (NULL);

      while (g_variant_iter_next (flags, "&s", &flag))
        {
          if (fl->len > 0)
            g_string_append (fl, opt_json ? "\", \"" : ",");
          g_string_append (fl, flag);
        }
      if (opt_json)
        g_print ("%s\n  {\"id\": %u, \"address\": \"%s\", \"port\": %u, \"ifindex\": %d, "
                 "\"flags\": [%s%s%s]}", first ? "" : ",", id, addr, port, ifindex,
                 fl->len ? "\"" : "", fl->str, fl->len ? "\"" : "");
      else
        g_print ("%-4u %-28s %-6u %-8d %s\n", id, addr, port, ifindex, fl->str);
      first = FALSE;
      g_clear_pointer (&flags, g_variant_iter_free);
    }
  if (opt_json)
    g_print ("%s]\n", first ? "" : "\n");
  return 0;
}

static int
cmd_endpoint_add (const char  *text,
                  GError     **error)
{
  g_autofree char *host = NULL;
  g_auto(GStrv) flags = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint16 port;
  guint32 id;

  if (!parse_address (text, FALSE, &host, &port, error))
    return 2;
  flags = opt_flags ? g_strsplit (opt_flags, ",", -1) : g_new0 (char *, 1);
  reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "AddEndpoint",
                g_variant_new ("((sq)^asiu)", host, port, flags, opt_ifindex, (guint32) opt_id),
                "(u)", error);
  if (reply == NULL)
    return 1;
  g_variant_get (reply, "(u)", &id);
  g_print (opt_json ? "{\"id\": %u}\n" : "endpoint %u added\n", id);
  return 0;
}

/* path-manager [kernel|userspace|act|stop]: without an argument, what is selected */
static int
cmd_path_manager (const char  *mode,
                  GError     **error)
{
  g_autoptr(GVariant) reply = NULL;

  if (mode != NULL)
    {
      if (g_str_equal (mode, "act") || g_str_equal (mode, "stop"))
        reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "ActAsPathManager",
                      g_variant_new ("(b)", g_str_equal (mode, "act")), "()", error);
      else
        reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "SetPathManager",
                      g_variant_new ("(s)", mode), "()", error);
      if (reply == NULL)
        return 1;
      g_clear_pointer (&reply, g_variant_unref);
    }
  {
    g_autoptr(GVariant) pm = NULL, acting = NULL;

    reply = call (MPTCP_SERVICE_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                  g_variant_new ("(s)", MPTCP_SERVICE_IFACE), "(a{sv})", error);
    if (reply == NULL)
      return 1;
    {
      g_autoptr(GVariant) dict = g_variant_get_child_value (reply, 0);

      pm = g_variant_lookup_value (dict, "PathManager", G_VARIANT_TYPE_STRING);
      acting = g_variant_lookup_value (dict, "ActingAsPathManager", G_VARIANT_TYPE_BOOLEAN);
    }
    if (pm == NULL || acting == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The service is too old");
        return 1;
      }
    if (opt_json)
      g_print ("{\"path_manager\": \"%s\", \"service_acting\": %s}\n",
               g_variant_get_string (pm, NULL), g_variant_get_boolean (acting) ? "true" : "false");
    else
      g_print ("path manager: %s; service acting as path manager: %s\n",
               g_variant_get_string (pm, NULL), g_variant_get_boolean (acting) ? "yes" : "no");
  }
  return 0;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "backup", 'b', 0, G_OPTION_ARG_NONE, &opt_backup, "open: as a backup subflow", NULL },
    { "flags", 'f', 0, G_OPTION_ARG_STRING, &opt_flags,
      "endpoint-add: signal,subflow,backup,fullmesh,...", "FLAGS" },
    { "id", 'i', 0, G_OPTION_ARG_INT, &opt_id, "endpoint-add: the id (0 = the kernel picks)",
      "N" },
    { "ifindex", 0, 0, G_OPTION_ARG_INT, &opt_ifindex, "endpoint-add: the interface", "N" },
    { NULL }
  };
  const char *cmd;
  int status = 2;

  context = g_option_context_new ("COMMAND [ARGS] - steer MPTCP connections through "
                                  "mptcp-glib-service");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Commands:\n"
    "  list                                  registrations the service holds\n"
    "  monitor TOKEN                         follow a connection's events\n"
    "  open TOKEN LOCAL REMOTE:PORT          open a subflow\n"
    "  close TOKEN LOCAL:PORT REMOTE:PORT    close a subflow\n"
    "  backup TOKEN LOCAL:PORT REMOTE:PORT on|off\n"
    "  announce TOKEN ADDRESS                announce an address\n"
    "  remove TOKEN ID                       remove an announced address\n"
    "  endpoints                             the path manager's endpoints\n"
    "  endpoint-add ADDRESS[:PORT]           add an endpoint\n"
    "  endpoint-remove ID                    remove an endpoint\n"
    "  path-manager [kernel|userspace|act|stop]\n"
    "                                        show or switch the namespace's path manager;\n"
    "                                        userspace: the service acts as path manager\n");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto out;
  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return 2;
    }
  _mptcp_service_register_error_domain ();
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      status = 1;
      goto out;
    }
  cmd = argv[1];
  if (g_str_equal (cmd, "list") && argc == 2)
    status = cmd_list (&error);
  else if (g_str_equal (cmd, "monitor") && argc == 3)
    status = cmd_monitor (argv[2], &error);
  else if (g_str_equal (cmd, "open") || g_str_equal (cmd, "close") ||
           g_str_equal (cmd, "backup") || g_str_equal (cmd, "announce") ||
           g_str_equal (cmd, "remove"))
    status = cmd_steer (cmd, argv + 2, argc - 2, &error);
  else if (g_str_equal (cmd, "endpoints") && argc == 2)
    status = cmd_endpoints (&error);
  else if (g_str_equal (cmd, "endpoint-add") && argc == 3)
    status = cmd_endpoint_add (argv[2], &error);
  else if (g_str_equal (cmd, "path-manager") && (argc == 2 || argc == 3))
    status = cmd_path_manager (argc == 3 ? argv[2] : NULL, &error);
  else if (g_str_equal (cmd, "endpoint-remove") && argc == 3)
    {
      guint64 id;
      g_autoptr(GVariant) reply = NULL;

      if (g_ascii_string_to_unsigned (argv[2], 10, 1, 255, &id, &error))
        {
          reply = call (MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "RemoveEndpoint",
                        g_variant_new ("(u)", (guint32) id), "()", &error);
          status = reply != NULL ? 0 : 1;
        }
    }
  else
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "Unknown command or wrong arguments: %s (see --help)", cmd);

out:
  if (error != NULL)
    {
      g_dbus_error_strip_remote_error (error);
      if (opt_json)
        {
          g_autofree char *m = g_strescape (error->message, NULL);

          g_print ("{\"error\": \"%s\", \"domain\": \"%s\", \"code\": %d}\n", m,
                   g_quark_to_string (error->domain), error->code);
        }
      else
        g_printerr ("mptcpctl: %s\n", error->message);
    }
  g_clear_object (&bus);
  return error != NULL && status == 0 ? 1 : status;
}
