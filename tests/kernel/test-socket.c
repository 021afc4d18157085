/* test-socket.c: mptcp_socket_new() against the real kernel, in the testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/socket.h>
#include <netinet/in.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"

static int
kernel_protocol (GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  gint protocol = -1;

  g_assert_true (g_socket_get_option (socket, SOL_SOCKET, SO_PROTOCOL, &protocol, &error));
  g_assert_no_error (error);
  return protocol;
}

static void
connect_and_echo (GSocketFamily family, guint path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) server = NULL;
  const char msg[] = "hello over mptcp";
  char buf[sizeof msg] = { 0 };
  gssize n, got = 0;

  socket = mptcp_socket_new (family, &error);
  g_assert_no_error (error);
  g_assert_nonnull (socket);

  /* the kernel's own word, not GIO's */
  g_assert_cmpint (kernel_protocol (socket), ==, IPPROTO_MPTCP);
  g_assert_true (mptcp_socket_is_mptcp (socket));

  server = testbed_server_address (path, family, TESTBED_PORT_ECHO);
  g_assert_true (g_socket_connect (socket, server, NULL, &error));
  g_assert_no_error (error);

  n = g_socket_send (socket, msg, sizeof msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, sizeof msg);
  while (got < (gssize) sizeof msg)
    {
      n = g_socket_receive (socket, buf + got, sizeof msg - got, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += n;
    }
  g_assert_cmpstr (buf, ==, msg);

  /* still MPTCP after the exchange */
  g_assert_cmpint (kernel_protocol (socket), ==, IPPROTO_MPTCP);
  g_assert_true (g_socket_close (socket, &error));
  g_assert_no_error (error);
}

static void
test_connect_ipv4_path1 (void)
{
  connect_and_echo (G_SOCKET_FAMILY_IPV4, 1);
}

static void
test_connect_ipv4_path2 (void)
{
  connect_and_echo (G_SOCKET_FAMILY_IPV4, 2);
}

static void
test_connect_ipv6_path1 (void)
{
  connect_and_echo (G_SOCKET_FAMILY_IPV6, 1);
}

static void
test_supported (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_socket_is_supported ());
  g_assert_true (mptcp_socket_check_supported (&error));
  g_assert_no_error (error);
}

/* net.mptcp.enabled=0 in this namespace: a GError, never a TCP socket */
static void
test_disabled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;
  GSocket *socket;

  g_assert_true (testbed_write_sysctl ("net.mptcp.enabled", "0", NULL));

  socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);
  g_assert_null (socket);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED);
  g_assert_nonnull (strstr (error->message, "net.mptcp.enabled"));

  g_assert_false (mptcp_socket_is_supported ());
  g_assert_false (mptcp_socket_check_supported (&error2));
  g_assert_error (error2, MPTCP_ERROR, MPTCP_ERROR_DISABLED);

  g_assert_true (testbed_write_sysctl ("net.mptcp.enabled", "1", NULL));
  socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, NULL);
  g_assert_nonnull (socket);
  g_object_unref (socket);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/socket/supported", test_supported);
  g_test_add_func ("/socket/connect/ipv4-path1", test_connect_ipv4_path1);
  g_test_add_func ("/socket/connect/ipv4-path2", test_connect_ipv4_path2);
  g_test_add_func ("/socket/connect/ipv6-path1", test_connect_ipv6_path1);
  g_test_add_func ("/socket/disabled", test_disabled);

  return g_test_run ();
}
