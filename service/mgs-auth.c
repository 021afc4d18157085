/* mgs-auth.c: polkit: may the caller do this?
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-glib.h"
#include "mgs-service-private.h"
#include "mgs-auth.h"

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH     "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE    "org.freedesktop.PolicyKit1.Authority"

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
void
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
