/* mptcp-socket.c: MPTCP sockets for GIO
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mptcp-socket.h"
#include "mptcp-error.h"
#include "mptcp-kernel-private.h"

/**
 * SECTION:mptcp-socket
 * @Title: MPTCP sockets
 * @Short_description: make MPTCP sockets that GIO can use
 *
 * GLib cannot make a Multipath TCP socket: g_socket_new() with protocol 262
 * (IPPROTO_MPTCP) warns that the protocol is out of range and silently makes
 * a plain TCP socket. mptcp_socket_new() makes a real one and wraps it in a
 * #GSocket, so everything GIO does with sockets (connecting, listening,
 * #GSocketConnection streams, #GSocketService) works with MPTCP.
 *
 * Use mptcp_socket_is_supported() (or mptcp_socket_check_supported(), which
 * says why not) to learn up front whether this kernel and
 * network namespace can make MPTCP sockets at all, and why not: the kernel may
 * lack MPTCP (%MPTCP_ERROR_NOT_SUPPORTED) or have it switched off with the
 * `net.mptcp.enabled` sysctl (%MPTCP_ERROR_DISABLED).
 *
 * GIO reports the protocol of such a socket as %G_SOCKET_PROTOCOL_TCP (it
 * knows no other stream protocol); mptcp_socket_is_mptcp() asks the kernel.
 * Note that a socket stays MPTCP for the kernel even after its connection fell
 * back to plain TCP: #MptcpConnection tells that apart.
 *
 * Creating and inspecting sockets needs no privilege.
 */

static gboolean
family_is_inet (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV4 || family == G_SOCKET_FAMILY_IPV6;
}

static void
set_socket_error (int err, GError **error)
{
  switch (err)
    {
    case ENOPROTOOPT:
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED,
                           "MPTCP is disabled in this network namespace "
                           "(sysctl net.mptcp.enabled is 0)");
      break;
    case EPROTONOSUPPORT:
    case EINVAL:
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "The running kernel has no MPTCP support "
                           "(Linux 5.19 or later with CONFIG_MPTCP is needed)");
      break;
    default:
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "Could not create an MPTCP socket: %s", g_strerror (err));
      break;
    }
}

/**
 * mptcp_socket_new:
 * @family: %G_SOCKET_FAMILY_IPV4 or %G_SOCKET_FAMILY_IPV6
 * @error: return location for a #GError, or %NULL
 *
 * Creates a stream socket whose kernel protocol is MPTCP (IPPROTO_MPTCP),
 * wrapped in a #GSocket. Use it wherever GIO takes a #GSocket: connect it with
 * g_socket_connect(), hand it to g_socket_listener_add_socket(), or turn it
 * into a #GSocketConnection with g_socket_connection_factory_create_connection().
 *
 * An %G_SOCKET_FAMILY_IPV6 socket also carries IPv4 subflows; an IPv4 socket
 * carries only IPv4 ones.
 *
 * Fails with %MPTCP_ERROR_DISABLED when MPTCP is switched off in this network
 * namespace, %MPTCP_ERROR_NOT_SUPPORTED when the kernel has no MPTCP, and
 * %G_IO_ERROR_INVALID_ARGUMENT for a family other than IPv4 or IPv6. It never
 * silently returns a plain TCP socket.
 *
 * Returns: (transfer full): a new MPTCP #GSocket, or %NULL on error
 *
 * Since: 0.1
 */
GSocket *
mptcp_socket_new (GSocketFamily   family,
                  GError        **error)
{
  GSocket *result;
  int fd;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!family_is_inet (family))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "MPTCP sockets are IPv4 or IPv6 sockets, not family %d",
                   (int) family);
      return NULL;
    }

  fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (fd < 0)
    {
      set_socket_error (errno, error);
      return NULL;
    }

  result = g_socket_new_from_fd (fd, error);
  if (result == NULL)
    close (fd);

  return result;
}

/**
 * mptcp_socket_is_mptcp:
 * @sock: a #GSocket
 *
 * Asks the kernel whether @sock was created as an MPTCP socket (its
 * SO_PROTOCOL is IPPROTO_MPTCP). GIO itself reports such sockets as TCP.
 *
 * This says nothing about the connection: an MPTCP socket whose connection
 * fell back to plain TCP is still an MPTCP socket. Use #MptcpConnection:fallback
 * for that.
 *
 * Returns: %TRUE if @sock is an MPTCP socket
 *
 * Since: 0.1
 */
gboolean
mptcp_socket_is_mptcp (GSocket *sock)
{
  int protocol = 0;
  socklen_t len = sizeof protocol;

  g_return_val_if_fail (G_IS_SOCKET (sock), FALSE);

  if (getsockopt (g_socket_get_fd (sock), SOL_SOCKET, SO_PROTOCOL,
                  &protocol, &len) < 0)
    return FALSE;

  return protocol == IPPROTO_MPTCP;
}

/**
 * mptcp_socket_is_supported:
 *
 * Tells whether MPTCP sockets can be made in the calling thread's network
 * namespace, by making one and closing it at once (a few microseconds). A
 * question, never an error: from Python or JavaScript it returns %FALSE
 * instead of raising. To learn why not, mptcp_socket_check_supported().
 *
 * Returns: %TRUE if MPTCP sockets can be made here, %FALSE if not
 *
 * Since: 0.2
 */
gboolean
mptcp_socket_is_supported (void)
{
  return mptcp_socket_check_supported (NULL);
}

/**
 * mptcp_socket_check_supported:
 * @error: return location for a #GError, or %NULL
 *
 * Checks whether MPTCP sockets can be made in the calling thread's network
 * namespace, as mptcp_socket_is_supported() does, and says why not: %FALSE
 * only with @error set (from Python or JavaScript: returns %TRUE or raises).
 * @error is %MPTCP_ERROR_NOT_SUPPORTED when the kernel has no MPTCP,
 * %MPTCP_ERROR_DISABLED when the `net.mptcp.enabled` sysctl is 0, or a
 * %G_IO_ERROR for anything else (such as running out of file descriptors).
 *
 * Returns: %TRUE if MPTCP sockets can be made here; %FALSE with @error set
 *   if not
 *
 * Since: 0.2
 */
gboolean
mptcp_socket_check_supported (GError **error)
{
  int fd;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (fd < 0)
    {
      int err = errno;

      if (err == EAFNOSUPPORT)
        fd = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
      if (fd < 0)
        {
          set_socket_error (err, error);
          return FALSE;
        }
    }

  close (fd);
  return TRUE;
}
