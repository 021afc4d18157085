/* mgs-address.c: MPTCP addresses as D-Bus values, and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "mptcp-glib.h"
#include "mgs-address.h"

GVariant *
address_to_variant (int                    family,
                    const MptcpNlInetAddr *addr,
                    guint16                port)
{
  char buf[INET6_ADDRSTRLEN] = "";

  if (family == AF_INET || family == AF_INET6)
    inet_ntop (family, addr, buf, sizeof buf);
  return g_variant_new ("(sq)", buf, port);
}

gboolean
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

void
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
