/* inspector-util.h: what the inspector's parts share: addresses and errors as the window
 * words them, headings and result lines, a click as the tests make it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <mptcp-glib/mptcp-glib.h>

#include "../viewer-json.h"

/* A failed action as the window says it: the library's messages are written for people, but
 * a refused privilege is named after the kernel's command ("SET_LIMITS needs CAP_NET_ADMIN
 * ..."): that one gets a plain first line, the library's words below it. */
static inline char *
inspector_error_text (const char   *action,
                      const GError *error)
{
  if (g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED))
    return g_strdup_printf ("Could not %s: this needs CAP_NET_ADMIN, which this process does not "
                            "have.\n%s", action, error->message);
  return g_strdup_printf ("Could not %s: %s", action, error->message);
}

/* "192.0.2.1:5001", "[2001:db8::1]:5001" */
static inline char *
inspector_endpoint_text (GInetSocketAddress *address)
{
  g_autofree char *host = NULL;

  if (address == NULL)
    return g_strdup ("?");
  host = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  if (g_socket_address_get_family (G_SOCKET_ADDRESS (address)) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, g_inet_socket_address_get_port (address));
  return g_strdup_printf ("%s:%u", host, g_inet_socket_address_get_port (address));
}

/* what a click does, and nothing on an insensitive button, as for a user (the tests' commands) */
static inline void
inspector_click (GtkWidget *button)
{
  if (gtk_widget_is_sensitive (button))
    g_signal_emit_by_name (button, "clicked");
}

/* a heading above a part of a page */
static inline GtkWidget *
inspector_heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

/* the line that says what the last action did (accessible: its name for screen readers) */
static inline GtkLabel *
inspector_result_line (const char *accessible)
{
  GtkLabel *label = GTK_LABEL (gtk_label_new (NULL));

  gtk_label_set_xalign (label, 0);
  gtk_label_set_wrap (label, TRUE);
  gtk_label_set_selectable (label, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  return label;
}

static inline void
inspector_show_result (GtkLabel   *line,
                       const char *text,
                       gboolean    error)
{
  gtk_label_set_text (line, text);
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (line), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (line), "error");
}
