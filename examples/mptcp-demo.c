/* mptcp-demo.c: connect over Multipath TCP inside the two-path testbed
 *
 * Run it inside the testbed network (the README's first command does):
 *   ./_build/tests/mptcp-testbed ./_build/examples/mptcp-demo
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <sys/socket.h>

#include <mptcp-glib/mptcp-glib.h>

static const char *
env_or (const char *name, const char *fallback)
{
  const char *v = g_getenv (name);
  return v != NULL ? v : fallback;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) server = NULL;
  const char *host = env_or ("MPTCP_TESTBED_SERVER1_V4", "127.0.0.1");
  guint16 port = (guint16) atoi (env_or ("MPTCP_TESTBED_PORT_ECHO", "5002"));
  const char request[] = "GET / MPTCP/1.0\r\n\r\n";
  char reply[64] = { 0 };
  gint protocol = 0;
  gssize n;

  if (!mptcp_socket_is_supported (&error))
    {
      g_printerr ("MPTCP is not usable here: %s\n", error->message);
      return 1;
    }

  socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);
  if (socket == NULL)
    goto fail;

  server = g_inet_socket_address_new_from_string (host, port);
  g_print ("connecting to %s port %u over MPTCP...\n", host, port);
  if (!g_socket_connect (socket, server, NULL, &error))
    goto fail;

  if (g_socket_send (socket, request, sizeof request - 1, NULL, &error) < 0)
    goto fail;
  n = g_socket_receive (socket, reply, sizeof reply - 1, NULL, &error);
  if (n < 0)
    goto fail;

  g_socket_get_option (socket, SOL_SOCKET, SO_PROTOCOL, &protocol, NULL);
  g_print ("connected: kernel protocol %d (%s), echoed %zd bytes\n", protocol,
           mptcp_socket_is_mptcp (socket) ? "MPTCP" : "not MPTCP", n);
  return 0;

fail:
  g_printerr ("mptcp-demo: %s\n", error->message);
  return 1;
}
