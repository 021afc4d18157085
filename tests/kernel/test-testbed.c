/* test-testbed.c: the real-kernel testbed checks itself
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain sockets only (no mptcp-glib): MPTCP over both paths and IPv6, the echo and sink
 * servers (large transfers, many concurrent connections, resets), the plain TCP port, the
 * path-manager settings on both sides, running commands on either side, a socket made in
 * the server namespace, dropping CAP_NET_ADMIN and the tbf rate limit.
 *
 * MPTCP_TESTBED_SELFTEST_SLEEP=N makes it sleep N seconds right after building the testbed
 * (to look at it from outside, or to SIGKILL it and check that nothing is left behind).
 */

#include "testbed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif

static gint64 init_usec;
static uid_t original_uid;

/* ------------------------------------------------------------------------------------ */
/* socket helpers (blocking with a 10 s timeout, so a broken server fails, never hangs)   */

static socklen_t
make_sockaddr (struct sockaddr_storage *ss, const char *addr, guint16 port)
{
  memset (ss, 0, sizeof *ss);
  if (strchr (addr, ':') != NULL)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (port);
      g_assert_cmpint (inet_pton (AF_INET6, addr, &sin6->sin6_addr), ==, 1);
      return sizeof *sin6;
    }
  else
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons (port);
      g_assert_cmpint (inet_pton (AF_INET, addr, &sin->sin_addr), ==, 1);
      return sizeof *sin;
    }
}

static int
sock_getint (int fd, int level, int name)
{
  int value = -1;
  socklen_t len = sizeof value;

  g_assert_cmpint (getsockopt (fd, level, name, &value, &len), ==, 0);
  return value;
}

/* Whether fd is (still) an MPTCP connection: TCP_IS_MPTCP (Linux 6.10+). Before 6.10 there is
 * none: an MPTCP socket answers it EOPNOTSUPP, a fallen-back one plain TCP's ENOPROTOOPT, and
 * MPTCP_INFO (SOL_MPTCP 1) decides, as the kernel refuses it on a fallen-back connection. */
static int
sock_is_mptcp (int fd)
{
  int value = -1;
  socklen_t len = sizeof value;
  guint8 info[256];

  if (getsockopt (fd, IPPROTO_TCP, TCP_IS_MPTCP, &value, &len) == 0)
    return value;
  g_assert_true (errno == EOPNOTSUPP || errno == ENOPROTOOPT);
  g_test_message ("no TCP_IS_MPTCP (Linux < 6.10): MPTCP_INFO decides");
  len = sizeof info;
  if (getsockopt (fd, 284 /* SOL_MPTCP */, 1 /* MPTCP_INFO */, info, &len) == 0)
    return 1;
  g_assert_true (errno == EOPNOTSUPP || errno == ENOPROTOOPT);
  return 0;
}

/* Connect from src (may be NULL) to dst:port; elapsed_ms receives the connect() time. */
static int
connect_to (int protocol, const char *src, const char *dst, guint16 port, double *elapsed_ms)
{
  struct sockaddr_storage ss;
  struct timeval tv = { .tv_sec = 10 };
  socklen_t len = make_sockaddr (&ss, dst, port);
  gint64 start;
  int fd;

  fd = socket (ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, protocol);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), ==, 0);
  if (src != NULL)
    {
      struct sockaddr_storage local;
      socklen_t llen = make_sockaddr (&local, src, 0);
      g_assert_cmpint (bind (fd, (struct sockaddr *) &local, llen), ==, 0);
    }
  start = g_get_monotonic_time ();
  if (connect (fd, (struct sockaddr *) &ss, len) < 0)
    g_error ("connect to %s port %u: %s", dst, port, g_strerror (errno));
  if (elapsed_ms != NULL)
    *elapsed_ms = (g_get_monotonic_time () - start) / 1000.0;
  return fd;
}

static void
send_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("send: %s", g_strerror (errno));
      p += n;
      len -= n;
    }
}

static void
recv_all (int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0)
    {
      ssize_t n = recv (fd, p, len, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("recv: %s", n == 0 ? "connection closed" : g_strerror (errno));
      p += n;
      len -= n;
    }
}

static char *
local_address (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char buf[INET6_ADDRSTRLEN];

  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &ss, &len), ==, 0);
  if (ss.ss_family == AF_INET6)
    inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, buf, sizeof buf);
  else
    inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, buf, sizeof buf);
  return g_strdup (buf);
}

/* ------------------------------------------------------------------------------------ */

static void
test_topology (void)
{
  g_autofree char *links = NULL;
  g_autofree char *server_links = NULL;
  g_autofree char *pm = NULL;
  g_autofree char *pm2 = NULL;
  g_autofree char *server_pm = NULL;
  g_autofree char *own_ns = NULL;
  g_autofree char *server_ns = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  const char * const ip_link[] = { "ip", "-o", "link", "show", NULL };
  const char * const cat_pm[] = { "cat", "/proc/sys/net/mptcp/pm_type", NULL };
  GPid pid = testbed_server_pid ();

  g_test_message ("testbed_init_or_exit took %.1f ms (%s)", init_usec / 1000.0,
                  testbed_is_userns () ? "user namespace" : "root");
  g_assert_cmpint (testbed_is_userns (), ==, original_uid != 0);

  /* the server lives in another network namespace than ours */
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (kill (pid, 0), ==, 0);
  g_assert_nonnull (testbed_server_netns_path ());
  own_ns = g_file_read_link ("/proc/self/ns/net", &error);
  g_assert_no_error (error);
  server_ns = g_file_read_link (testbed_server_netns_path (), &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (own_ns, "net:["));
  g_assert_true (g_str_has_prefix (server_ns, "net:["));
  g_assert_cmpstr (own_ns, !=, server_ns);

  /* a fresh namespace: lo, c1, c2 and nothing else */
  g_assert_true (testbed_run_in_client (ip_link, &links, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (links, " lo: "));
  g_assert_nonnull (strstr (links, " c1@"));
  g_assert_nonnull (strstr (links, " c2@"));
  g_assert_null (strstr (links, "\n4: "));
  lines = g_strsplit (g_strchomp (links), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);

  g_assert_true (testbed_run_in_server (ip_link, &server_links, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (server_links, " s1@"));
  g_assert_nonnull (strstr (server_links, " s2@"));
  g_assert_null (strstr (server_links, " c1@"));

  /* path managers: userspace here, in-kernel on the server; pm_type (1 userspace, 0 kernel)
   * on every kernel, net.mptcp.path_manager too from Linux 6.15 */
  pm = testbed_read_sysctl ("net.mptcp.pm_type");
  pm2 = testbed_read_sysctl ("net/mptcp/pm_type");
  g_assert_cmpstr (pm, ==, "1");
  g_assert_cmpstr (pm2, ==, "1");
  if (g_file_test ("/proc/sys/net/mptcp/path_manager", G_FILE_TEST_EXISTS))
    {
      g_autofree char *name = testbed_read_sysctl ("net.mptcp.path_manager");

      g_assert_cmpstr (name, ==, "userspace");
    }
  g_assert_true (testbed_run_in_server (cat_pm, &server_pm, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_strchomp (server_pm), ==, "0");
  g_assert_null (testbed_read_sysctl ("net.mptcp.no_such_sysctl"));
}

static void
test_sysctl_write (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = testbed_read_sysctl ("net.mptcp.add_addr_timeout");
  g_autofree char *after = NULL;

  g_assert_nonnull (before);
  g_assert_true (testbed_write_sysctl ("net.mptcp.add_addr_timeout", "77", &error));
  g_assert_no_error (error);
  after = testbed_read_sysctl ("/proc/sys/net/mptcp/add_addr_timeout");
  g_assert_cmpstr (after, ==, "77");
  g_assert_true (testbed_write_sysctl ("net.mptcp.add_addr_timeout", before, &error));
  g_assert_no_error (error);

  g_assert_false (testbed_write_sysctl ("net.mptcp.no_such_sysctl", "1", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
check_limits (const char *output)
{
  g_assert_nonnull (strstr (output, "subflows 8"));
  g_assert_nonnull (strstr (output, "add_addr_accepted 8"));
}

static void
test_limits (void)
{
  const char * const show[] = { "ip", "mptcp", "limits", "show", NULL };
  g_autofree char *client = NULL;
  g_autofree char *server = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (testbed_run_in_client (show, &client, &error));
  g_assert_no_error (error);
  check_limits (client);
  g_assert_true (testbed_run_in_server (show, &server, &error));
  g_assert_no_error (error);
  check_limits (server);
}

static void
test_addresses (void)
{
  g_autoptr(GSocketAddress) s1 = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, 5001);
  g_autoptr(GSocketAddress) s2 = testbed_server_address (2, G_SOCKET_FAMILY_IPV4, 5002);
  g_autoptr(GSocketAddress) s6 = testbed_server_address (1, G_SOCKET_FAMILY_IPV6, 5003);
  g_autoptr(GInetAddress) c1 = testbed_client_inet_address (1, G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) c2 = testbed_client_inet_address (2, G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) c6 = testbed_client_inet_address (1, G_SOCKET_FAMILY_IPV6);
  g_autofree char *a1 = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (s1)));
  g_autofree char *a2 = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (s2)));
  g_autofree char *a6 = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (s6)));
  g_autofree char *b1 = g_inet_address_to_string (c1);
  g_autofree char *b2 = g_inet_address_to_string (c2);
  g_autofree char *b6 = g_inet_address_to_string (c6);

  g_assert_cmpstr (a1, ==, TESTBED_SERVER1_V4);
  g_assert_cmpstr (a2, ==, TESTBED_SERVER2_V4);
  g_assert_cmpstr (a6, ==, TESTBED_SERVER1_V6);
  g_assert_cmpstr (b1, ==, TESTBED_CLIENT1_V4);
  g_assert_cmpstr (b2, ==, TESTBED_CLIENT2_V4);
  g_assert_cmpstr (b6, ==, TESTBED_CLIENT1_V6);
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (s2)), ==, 5002);
}

typedef struct
{
  const char *client;
  const char *server;
} PathData;

static const PathData path1_v4 = { TESTBED_CLIENT1_V4, TESTBED_SERVER1_V4 };
static const PathData path2_v4 = { TESTBED_CLIENT2_V4, TESTBED_SERVER2_V4 };
static const PathData path1_v6 = { TESTBED_CLIENT1_V6, TESTBED_SERVER1_V6 };

/* sink and echo over one path, from that path's client address, staying MPTCP */
static void
test_mptcp_path (gconstpointer user_data)
{
  const PathData *path = user_data;
  g_autofree char *payload = g_malloc (256 * 1024);
  g_autofree char *back = g_malloc (256 * 1024);
  g_autofree char *local = NULL;
  double ms_sink, ms_echo;
  int sink, echo;

  for (gsize i = 0; i < 256 * 1024; i++)
    payload[i] = (char) g_random_int ();

  sink = connect_to (IPPROTO_MPTCP, path->client, path->server, TESTBED_PORT_SINK, &ms_sink);
  g_assert_cmpint (sock_getint (sink, SOL_SOCKET, SO_PROTOCOL), ==, IPPROTO_MPTCP);
  send_all (sink, payload, 256 * 1024);
  g_assert_cmpint (sock_is_mptcp (sink), ==, 1);
  local = local_address (sink);
  g_assert_cmpstr (local, ==, path->client);
  close (sink);

  echo = connect_to (IPPROTO_MPTCP, path->client, path->server, TESTBED_PORT_ECHO, &ms_echo);
  g_assert_cmpint (sock_getint (echo, SOL_SOCKET, SO_PROTOCOL), ==, IPPROTO_MPTCP);
  /* 256 KiB fits in the socket buffers of both directions: send, then read it all back */
  send_all (echo, "hello", 5);
  recv_all (echo, back, 5);
  g_assert_cmpmem (back, 5, "hello", 5);
  send_all (echo, payload, 256 * 1024);
  recv_all (echo, back, 256 * 1024);
  g_assert_cmpmem (back, 256 * 1024, payload, 256 * 1024);
  g_assert_cmpint (sock_is_mptcp (echo), ==, 1);
  /* half-close: the echo server flushes and closes its side */
  g_assert_cmpint (shutdown (echo, SHUT_WR), ==, 0);
  g_assert_cmpint (recv (echo, back, 1, 0), ==, 0);
  close (echo);

  g_test_message ("%s -> %s: connect %.2f ms (sink), %.2f ms (echo)", path->client,
                  path->server, ms_sink, ms_echo);
  /* a dropped SYN would cost a 1 s retransmission timeout */
  g_assert_cmpfloat (ms_sink, <, 900);
  g_assert_cmpfloat (ms_echo, <, 900);
}

static void
test_plain_tcp (void)
{
  char buf[4096] = { 0 };
  int fd;

  /* a plain TCP client */
  fd = connect_to (IPPROTO_TCP, NULL, TESTBED_SERVER1_V4, TESTBED_PORT_TCP, NULL);
  g_assert_cmpint (sock_getint (fd, SOL_SOCKET, SO_PROTOCOL), ==, IPPROTO_TCP);
  send_all (fd, buf, sizeof buf);
  close (fd);

  /* an MPTCP client falls back to TCP against it, but still reports IPPROTO_MPTCP */
  fd = connect_to (IPPROTO_MPTCP, NULL, TESTBED_SERVER1_V6, TESTBED_PORT_TCP, NULL);
  send_all (fd, buf, sizeof buf);
  g_assert_cmpint (sock_getint (fd, SOL_SOCKET, SO_PROTOCOL), ==, IPPROTO_MPTCP);
  g_assert_cmpint (sock_is_mptcp (fd), ==, 0);
  close (fd);

  /* and the MPTCP ports also serve plain TCP clients */
  fd = connect_to (IPPROTO_TCP, NULL, TESTBED_SERVER2_V4, TESTBED_PORT_ECHO, NULL);
  send_all (fd, "tcp", 3);
  recv_all (fd, buf, 3);
  g_assert_cmpmem (buf, 3, "tcp", 3);
  close (fd);
}

/* 8 MiB through the echo server while reading concurrently: its write-back buffering */
static void
test_echo_large (void)
{
  const size_t total = 8 * 1024 * 1024;
  g_autofree char *payload = g_malloc (total);
  g_autofree char *back = g_malloc (total);
  size_t sent = 0, got = 0;
  int fd;

  for (size_t i = 0; i < total; i++)
    payload[i] = (char) (i * 7 + i / 4096);
  fd = connect_to (IPPROTO_MPTCP, NULL, TESTBED_SERVER1_V4, TESTBED_PORT_ECHO, NULL);
  g_assert_cmpint (fcntl (fd, F_SETFL, O_NONBLOCK), ==, 0);
  while (got < total)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
      ssize_t n;

      g_assert_cmpint (poll (&pfd, 1, 10000), ==, 1);
      if ((pfd.revents & POLLOUT) && sent < total)
        {
          n = send (fd, payload + sent, MIN (total - sent, 256 * 1024), MSG_NOSIGNAL);
          if (n > 0)
            sent += n;
          else
            g_assert_true (errno == EAGAIN || errno == EINTR);
        }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = recv (fd, back + got, total - got, 0);
          if (n < 0)
            g_assert_true (errno == EAGAIN || errno == EINTR);
          else
            {
              g_assert_cmpint (n, >, 0);
              got += n;
            }
        }
    }
  g_assert_true (memcmp (payload, back, total) == 0);
  close (fd);
}

/* many connections at once, some reset mid-stream, the server must keep serving */
#define N_CONCURRENT 200

static void
test_echo_concurrent (void)
{
  int fds[N_CONCURRENT];
  const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

  for (int i = 0; i < N_CONCURRENT; i++)
    {
      const char *dst = i % 3 == 0 ? TESTBED_SERVER1_V4 : i % 3 == 1 ? TESTBED_SERVER2_V4
                                                                     : TESTBED_SERVER1_V6;
      fds[i] = connect_to (IPPROTO_MPTCP, NULL, dst,
                           i % 4 == 3 ? TESTBED_PORT_SINK : TESTBED_PORT_ECHO, NULL);
    }
  for (int i = 0; i < N_CONCURRENT; i++)
    {
      char msg[32];
      g_snprintf (msg, sizeof msg, "message %06d", i);
      send_all (fds[i], msg, 14);
    }
  /* reset every fifth one with data possibly still in flight */
  for (int i = 0; i < N_CONCURRENT; i += 5)
    {
      g_assert_cmpint (setsockopt (fds[i], SOL_SOCKET, SO_LINGER, &rst, sizeof rst), ==, 0);
      close (fds[i]);
      fds[i] = -1;
    }
  for (int i = 0; i < N_CONCURRENT; i++)
    {
      char msg[32], back[32];

      if (fds[i] < 0)
        continue;
      if (i % 4 != 3)
        {
          g_snprintf (msg, sizeof msg, "message %06d", i);
          recv_all (fds[i], back, 14);
          g_assert_cmpmem (back, 14, msg, 14);
        }
      close (fds[i]);
    }

  /* still serving */
  test_mptcp_path (&path2_v4);
}

static void
test_run_in_server (void)
{
  const char * const show[] = { "ip", "-o", "addr", "show", "dev", "s1", NULL };
  const char * const bad[] = { "ip", "link", "show", "no-such-link", NULL };
  const char * const missing[] = { "no-such-program-testbed", NULL };
  const char * const fails_in_client[] = { "ip", "link", "show", "s1", NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (testbed_run_in_server (show, &out, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (out, TESTBED_SERVER1_V4 "/24"));
  g_assert_nonnull (strstr (out, TESTBED_SERVER1_V6 "/64"));

  /* s1 exists only on the server side */
  g_assert_false (testbed_run_in_client (fails_in_client, NULL, &error));
  g_assert_error (error, G_SPAWN_EXIT_ERROR, 1);
  g_clear_error (&error);

  g_assert_false (testbed_run_in_server (bad, NULL, &error));
  g_assert_error (error, G_SPAWN_EXIT_ERROR, 1);
  g_assert_nonnull (strstr (error->message, "no-such-link"));  /* ip's stderr */
  g_clear_error (&error);

  g_assert_false (testbed_run_in_server (missing, NULL, &error));
  g_assert_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);
}

/* A socket made in the server namespace can bind the server's address and serve us. */
static void
test_socket_in_server (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ns_before = g_file_read_link ("/proc/self/ns/net", NULL);
  g_autofree char *ns_after = NULL;
  struct sockaddr_storage ss;
  socklen_t len = make_sockaddr (&ss, TESTBED_SERVER2_V4, 0);
  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  int lfd, cfd, afd;
  char buf[4];

  lfd = testbed_socket_in_server (AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lfd, >=, 0);
  ns_after = g_file_read_link ("/proc/self/ns/net", NULL);
  g_assert_cmpstr (ns_before, ==, ns_after);
  g_assert_cmpint (bind (lfd, (struct sockaddr *) &ss, len), ==, 0);
  g_assert_cmpint (listen (lfd, 4), ==, 0);
  g_assert_cmpint (getsockname (lfd, (struct sockaddr *) &bound, &blen), ==, 0);

  /* the same address does not exist on our side */
  cfd = socket (AF_INET, SOCK_STREAM, 0);
  g_assert_cmpint (bind (cfd, (struct sockaddr *) &ss, len), ==, -1);
  g_assert_cmpint (errno, ==, EADDRNOTAVAIL);
  close (cfd);

  cfd = connect_to (IPPROTO_MPTCP, NULL, TESTBED_SERVER2_V4, ntohs (bound.sin_port), NULL);
  afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  send_all (cfd, "ping", 4);
  recv_all (afd, buf, 4);
  g_assert_cmpmem (buf, 4, "ping", 4);
  g_assert_cmpint (sock_is_mptcp (afd), ==, 1);
  close (afd);
  close (cfd);
  close (lfd);
}

static gboolean
has_net_admin (void)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

  g_assert_cmpint (syscall (SYS_capget, &hdr, data), ==, 0);
  return (data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

/* Adds a link with argv, then deletes it; the exit status tells the parent what happened. */
static void
test_drop_net_admin (void)
{
  const char * const add_dummy[] = { "ip", "link", "add", "dummy0", "type", "dummy", NULL };
  const char * const add_veth[] = { "ip", "link", "add", "tbv0", "type", "veth",
                                    "peer", "name", "tbv1", NULL };
  const char * const del_veth[] = { "ip", "link", "del", "tbv0", NULL };
  g_autoptr(GError) error = NULL;
  gboolean dummy_works;
  int status;
  pid_t pid;

  /* the control: with CAP_NET_ADMIN a link can be added (this kernel may lack `dummy`) */
  g_assert_true (has_net_admin ());
  dummy_works = testbed_run_in_client (add_dummy, NULL, &error);
  if (dummy_works)
    {
      const char * const del_dummy[] = { "ip", "link", "del", "dummy0", NULL };
      g_assert_true (testbed_run_in_client (del_dummy, NULL, NULL));
    }
  else
    {
      g_test_message ("no dummy links here (%s); control with veth", error->message);
      g_clear_error (&error);
    }
  g_assert_true (testbed_run_in_client (add_veth, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (testbed_run_in_client (del_veth, NULL, &error));
  g_assert_no_error (error);

  fflush (stdout);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      GError *child_error = NULL;

      if (!testbed_drop_net_admin (&child_error))
        _exit (10);
      if (has_net_admin ())
        _exit (11);
      if (testbed_run_in_client (add_dummy, NULL, NULL))
        _exit (12);
      if (testbed_run_in_client (add_veth, NULL, &child_error))
        _exit (13);
      /* `ip` ran as uid 0 but could not regain the capability: EPERM */
      if (strstr (child_error->message, "Operation not permitted") == NULL)
        _exit (14);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  /* the parent kept it */
  g_assert_true (has_net_admin ());
}

/* last: tbf on all four links, then measure what comes back through the echo server */
static void
test_rate (void)
{
  const char * const del_c1[] = { "tc", "qdisc", "del", "dev", "c1", "root", NULL };
  const char * const del_c2[] = { "tc", "qdisc", "del", "dev", "c2", "root", NULL };
  const char * const del_s1[] = { "tc", "qdisc", "del", "dev", "s1", "root", NULL };
  const char * const del_s2[] = { "tc", "qdisc", "del", "dev", "s2", "root", NULL };
  const char * const show_s2[] = { "tc", "qdisc", "show", "dev", "s2", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *qdisc = NULL;
  static char buf[64 * 1024];
  gint64 start, t0 = 0;
  size_t got = 0, got0 = 0;
  double mbit;
  int fd;

  g_assert_false (testbed_set_rate ("fast", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (testbed_set_rate ("20mbit", &error));
  g_assert_no_error (error);
  g_assert_true (testbed_run_in_server (show_s2, &qdisc, &error));
  g_assert_nonnull (strstr (qdisc, "tbf"));
  g_assert_nonnull (strstr (qdisc, "rate 20Mbit"));

  fd = connect_to (IPPROTO_MPTCP, NULL, TESTBED_SERVER1_V4, TESTBED_PORT_ECHO, NULL);
  g_assert_cmpint (fcntl (fd, F_SETFL, O_NONBLOCK), ==, 0);
  start = g_get_monotonic_time ();
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
      gint64 now = g_get_monotonic_time ();
      ssize_t n;

      if (now - start > 1500000)
        break;
      if (t0 == 0 && now - start > 500000)
        {
          t0 = now;
          got0 = got;
        }
      g_assert_cmpint (poll (&pfd, 1, 1000), >=, 0);
      if (pfd.revents & POLLOUT)
        {
          n = send (fd, buf, sizeof buf, MSG_NOSIGNAL);
          g_assert_true (n > 0 || errno == EAGAIN);
        }
      if (pfd.revents & POLLIN)
        {
          n = recv (fd, buf, sizeof buf, 0);
          g_assert_true (n > 0 || errno == EAGAIN);
          if (n > 0)
            got += n;
        }
    }
  mbit = (got - got0) * 8.0 / (g_get_monotonic_time () - t0);
  close (fd);
  g_test_message ("echo through tbf 20mbit: %.1f Mbit/s", mbit);
  g_assert_cmpfloat (mbit, <, 24);
  /* the floor is the machine's speed, not the shaper's: not under valgrind or qemu's TCG */
  if (g_getenv ("MPTCP_GLIB_UNDER_VALGRIND") == NULL && g_getenv ("MPTCP_GLIB_UNDER_QEMU") == NULL)
    g_assert_cmpfloat (mbit, >, 8);

  g_assert_true (testbed_run_in_client (del_c1, NULL, NULL));
  g_assert_true (testbed_run_in_client (del_c2, NULL, NULL));
  g_assert_true (testbed_run_in_server (del_s1, NULL, NULL));
  g_assert_true (testbed_run_in_server (del_s2, NULL, NULL));
}

/* a forked child that calls exit() must not tear down its parent's testbed */
static void
test_fork_exit (void)
{
  int status, fd;
  pid_t pid;

  fflush (stdout);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    exit (0);  /* runs the atexit handlers */
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (kill (testbed_server_pid (), 0), ==, 0);
  fd = connect_to (IPPROTO_MPTCP, NULL, TESTBED_SERVER1_V4, TESTBED_PORT_SINK, NULL);
  close (fd);
}

static void
test_init_time (void)
{
  g_test_message ("testbed_init_or_exit: %.1f ms", init_usec / 1000.0);
  /* a guest of .ci/run-kernel is emulated (qemu TCG): ten times slower */
  if (g_getenv ("MPTCP_GLIB_UNDER_VALGRIND") == NULL)
    g_assert_cmpint (init_usec, <, g_getenv ("MPTCP_GLIB_UNDER_QEMU") != NULL ? 10000000 : 1000000);
}

int
main (int argc, char **argv)
{
  const char *sleep_s;
  gint64 start;

  g_test_init (&argc, &argv, NULL);
  original_uid = getuid ();
  start = g_get_monotonic_time ();
  testbed_init_or_exit ();
  init_usec = g_get_monotonic_time () - start;

  sleep_s = g_getenv ("MPTCP_TESTBED_SELFTEST_SLEEP");
  if (sleep_s != NULL)
    {
      g_printerr ("test-testbed: pid %d, server pid %d, sleeping %s s\n", (int) getpid (),
                  (int) testbed_server_pid (), sleep_s);
      g_usleep (atoi (sleep_s) * G_USEC_PER_SEC);
    }

  g_test_add_func ("/testbed/init-time", test_init_time);
  /* first: the very first connection over each path must not lose its SYN */
  g_test_add_data_func ("/testbed/mptcp-path1-ipv4", &path1_v4, test_mptcp_path);
  g_test_add_data_func ("/testbed/mptcp-path2-ipv4", &path2_v4, test_mptcp_path);
  g_test_add_data_func ("/testbed/mptcp-path1-ipv6", &path1_v6, test_mptcp_path);
  g_test_add_func ("/testbed/topology", test_topology);
  g_test_add_func ("/testbed/sysctl-write", test_sysctl_write);
  g_test_add_func ("/testbed/limits", test_limits);
  g_test_add_func ("/testbed/addresses", test_addresses);
  g_test_add_func ("/testbed/plain-tcp", test_plain_tcp);
  g_test_add_func ("/testbed/echo-large", test_echo_large);
  g_test_add_func ("/testbed/echo-concurrent", test_echo_concurrent);
  g_test_add_func ("/testbed/run-in-server", test_run_in_server);
  g_test_add_func ("/testbed/socket-in-server", test_socket_in_server);
  g_test_add_func ("/testbed/drop-net-admin", test_drop_net_admin);
  g_test_add_func ("/testbed/fork-exit", test_fork_exit);
  g_test_add_func ("/testbed/rate", test_rate);

  return g_test_run ();
}
