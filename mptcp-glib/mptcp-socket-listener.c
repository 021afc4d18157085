/* mptcp-socket-listener.c: accept MPTCP connections with GSocketListener and GSocketService
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <netinet/in.h>

#include "mptcp-socket-listener.h"
#include "mptcp-error.h"
#include "mptcp-socket.h"

/**
 * SECTION:mptcp-socket-listener
 * @Title: MPTCP on a GSocketListener
 * @Short_description: accept MPTCP connections with GSocketListener and GSocketService
 * @See_also: #GSocketListener, #GSocketService, #MptcpConnection
 *
 * #GSocketListener and #GSocketService make their own listening sockets,
 * and those are always plain TCP. The functions here add MPTCP listening
 * sockets to any #GSocketListener (so also to a #GSocketService or
 * #GThreadedSocketService), in the image of g_socket_listener_add_address(),
 * g_socket_listener_add_inet_port() and g_socket_listener_add_any_inet_port().
 * Everything else stays GIO's: accept with g_socket_listener_accept() or the
 * #GSocketService::incoming signal, read and write the #GSocketConnection
 * streams as usual, and wrap an accepted connection in an #MptcpConnection
 * to see its subflows.
 *
 * |[<!-- language="C" -->
 * GSocketService *service = g_socket_service_new ();
 *
 * if (!mptcp_socket_listener_add_inet_port (G_SOCKET_LISTENER (service), 8080, NULL, &error))
 *   return FALSE;
 * g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
 * ]|
 *
 * An MPTCP listener accepts plain TCP clients too: their connections are
 * plain TCP sockets (mptcp_socket_is_mptcp() is %FALSE on them, and
 * mptcp_connection_new() refuses them with %MPTCP_ERROR_NOT_MPTCP).
 *
 * The listener's #GSocketListener::event signal is emitted as GIO does for
 * its own sockets. There is no fallback: when the kernel cannot make MPTCP
 * sockets the functions fail with %MPTCP_ERROR_NOT_SUPPORTED or
 * %MPTCP_ERROR_DISABLED, and the caller can use the plain GIO function
 * instead.
 */

static void
emit_event (GSocketListener      *listener,
            GSocketListenerEvent  event,
            GSocket              *socket)
{
  g_signal_emit_by_name (listener, "event", event, socket);
}

/* Binds, listens and adds an MPTCP socket; returns the bound address. */
static gboolean
add_socket (GSocketListener  *listener,
            GSocket          *socket,
            GSocketAddress   *address,
            GObject          *source_object,
            GSocketAddress  **effective_address,
            GError          **error)
{
  int backlog = 10;

  g_object_get (listener, "listen-backlog", &backlog, NULL);

  emit_event (listener, G_SOCKET_LISTENER_BINDING, socket);
  if (!g_socket_bind (socket, address, TRUE, error))
    return FALSE;
  emit_event (listener, G_SOCKET_LISTENER_BOUND, socket);

  emit_event (listener, G_SOCKET_LISTENER_LISTENING, socket);
  g_socket_set_listen_backlog (socket, backlog);
  if (!g_socket_listen (socket, error))
    return FALSE;
  emit_event (listener, G_SOCKET_LISTENER_LISTENED, socket);

  if (effective_address != NULL)
    {
      *effective_address = g_socket_get_local_address (socket, error);
      if (*effective_address == NULL)
        return FALSE;
    }

  if (!g_socket_listener_add_socket (listener, socket, source_object, error))
    {
      if (effective_address != NULL)
        g_clear_object (effective_address);
      return FALSE;
    }
  return TRUE;
}

/**
 * mptcp_socket_listener_add_address:
 * @listener: a #GSocketListener (or #GSocketService)
 * @address: the #GInetSocketAddress to listen on
 * @source_object: (nullable): the source object that accept calls on
 *   @listener report for connections on this address, or %NULL
 * @effective_address: (out) (optional) (transfer full): the address
 *   actually bound (with the port the kernel chose if @address has port 0)
 * @error: return location for a #GError, or %NULL
 *
 * Makes an MPTCP socket, binds it to @address, listens and adds it to
 * @listener, like g_socket_listener_add_address() does with a TCP socket.
 * For an IPv6 address, whether IPv4 clients are accepted too follows the
 * system default (on Linux they are, as IPv4-mapped addresses, unless the
 * `net.ipv6.bindv6only` sysctl is set); mptcp_socket_listener_add_inet_port()
 * always listens on both.
 *
 * Fails with %MPTCP_ERROR_NOT_SUPPORTED or %MPTCP_ERROR_DISABLED when the
 * kernel cannot make MPTCP sockets, and with a %G_IO_ERROR when binding or
 * listening fails (for example %G_IO_ERROR_ADDRESS_IN_USE).
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.2
 */
gboolean
mptcp_socket_listener_add_address (GSocketListener  *listener,
                                   GSocketAddress   *address,
                                   GObject          *source_object,
                                   GSocketAddress  **effective_address,
                                   GError          **error)
{
  g_autoptr(GSocket) socket = NULL;

  g_return_val_if_fail (G_IS_SOCKET_LISTENER (listener), FALSE);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), FALSE);
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  socket = mptcp_socket_new (g_socket_address_get_family (address), error);
  if (socket == NULL)
    return FALSE;

  return add_socket (listener, socket, address, source_object, effective_address, error);
}

/* Listens on the IPv6 and IPv4 any-addresses at port; returns the port. */
static guint16
add_any (GSocketListener  *listener,
         guint16           port,
         GObject          *source_object,
         GError          **error)
{
  g_autoptr(GSocket) socket6 = NULL;
  g_autoptr(GSocket) socket4 = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GInetAddress) any = NULL;
  g_autoptr(GError) local_error = NULL;

  socket6 = mptcp_socket_new (G_SOCKET_FAMILY_IPV6, &local_error);
  if (socket6 != NULL)
    {
      /* dual-stack: IPv4 clients arrive as IPv4-mapped addresses */
      if (g_socket_set_option (socket6, IPPROTO_IPV6, IPV6_V6ONLY, 0, NULL))
        {
          any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
          address = g_inet_socket_address_new (any, port);
          if (!add_socket (listener, socket6, address, source_object, &effective, error))
            return 0;
          return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
        }
      /* an IPv6-only socket: listen on IPv4 separately below */
      g_clear_object (&socket6);
    }
  else if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED) &&
           !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_FAILED))
    {
      /* not a missing IPv6 stack: MPTCP itself is missing or disabled */
      g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }

  socket4 = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, error);
  if (socket4 == NULL)
    return 0;
  any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (any, port);
  if (!add_socket (listener, socket4, address, source_object, &effective, error))
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
}

/**
 * mptcp_socket_listener_add_inet_port:
 * @listener: a #GSocketListener (or #GSocketService)
 * @port: the port to listen on (not 0; see mptcp_socket_listener_add_any_inet_port())
 * @source_object: (nullable): the source object that accept calls on
 *   @listener report for connections on this port, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Listens for MPTCP connections on @port of every local address, IPv4 and
 * IPv6, and adds the listening socket to @listener, like
 * g_socket_listener_add_inet_port() does for TCP. One dual-stack IPv6 socket
 * is used where the system has IPv6: IPv4 peers are then seen as
 * IPv4-mapped IPv6 addresses by GIO (#MptcpConnection reports them as IPv4).
 * Without IPv6, an IPv4 socket is used.
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.2
 */
gboolean
mptcp_socket_listener_add_inet_port (GSocketListener  *listener,
                                     guint16           port,
                                     GObject          *source_object,
                                     GError          **error)
{
  g_return_val_if_fail (G_IS_SOCKET_LISTENER (listener), FALSE);
  g_return_val_if_fail (port != 0, FALSE);
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_any (listener, port, source_object, error) != 0;
}

/**
 * mptcp_socket_listener_add_any_inet_port:
 * @listener: a #GSocketListener (or #GSocketService)
 * @source_object: (nullable): the source object that accept calls on
 *   @listener report for connections on this port, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Like mptcp_socket_listener_add_inet_port() on a port the kernel chooses, like
 * g_socket_listener_add_any_inet_port().
 *
 * Returns: the port listened on, or 0 with @error set on failure
 *
 * Since: 0.2
 */
guint16
mptcp_socket_listener_add_any_inet_port (GSocketListener  *listener,
                                         GObject          *source_object,
                                         GError          **error)
{
  g_return_val_if_fail (G_IS_SOCKET_LISTENER (listener), 0);
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  return add_any (listener, 0, source_object, error);
}
