/* inspector-util.h: what the inspector's pages share: errors as the window words them, and
 * the JSON strings of the test reports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <mptcp-glib/mptcp-glib.h>

/* text as a JSON string, quotes included */
static inline void
inspector_json_string (GString    *out,
                       const char *text)
{
  g_string_append_c (out, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (out, "\\%c", *c);
      else if ((guchar) *c < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *c);
      else
        g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

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
