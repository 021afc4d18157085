/* mgs-socket.c: what the socket an application passes to Register is
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "mptcp-glib.h"
#include "mgs-address.h"
#include "mgs-socket.h"

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
gboolean
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
