/* read-common.h: helpers shared by the read-side tests (test-sockopt,
 * test-connection, test-client) and bench-refresh
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"

/* Whether the running kernel is at least major.minor (uname), for the features that
 * nothing but the version tells: the tests then check the older kernels' behaviour. */
static inline gboolean
read_kernel_at_least (guint major,
                      guint minor)
{
  struct utsname u;
  guint have_major = 0, have_minor = 0;

  g_assert_cmpint (uname (&u), ==, 0);
  g_assert_cmpint (sscanf (u.release, "%u.%u", &have_major, &have_minor), ==, 2);
  return have_major > major || (have_major == major && have_minor >= minor);
}

/* A blocking MPTCP socket connected to the testbed server. */
static inline GSocket *
read_connect_mptcp (GSocketFamily family,
                    guint         path,
                    guint16       port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) server = testbed_server_address (path, family, port);
  GSocket *socket;

  socket = mptcp_socket_new (family, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, server, NULL, &error));
  g_assert_no_error (error);
  return socket;
}

/* A blocking plain TCP socket connected to the testbed server. */
static inline GSocket *
read_connect_tcp (GSocketFamily family,
                  guint         path,
                  guint16       port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) server = testbed_server_address (path, family, port);
  GSocket *socket;

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, server, NULL, &error));
  g_assert_no_error (error);
  return socket;
}

/* Sends len bytes of filler on a blocking socket. */
static inline void
read_send_bytes (GSocket *socket,
                 gsize    len)
{
  static char chunk[65536];
  gsize sent = 0;

  while (sent < len)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (socket, chunk, MIN (sizeof chunk, len - sent), NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      sent += n;
    }
}

/* "a.b.c.d:port" or "[v6]:port" */
static inline char *
read_address_string (GInetSocketAddress *address)
{
  GInetAddress *ia;
  g_autofree char *ip = NULL;

  g_assert_nonnull (address);
  ia = g_inet_socket_address_get_address (address);
  ip = g_inet_address_to_string (ia);
  if (g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", ip, g_inet_socket_address_get_port (address));
  return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (address));
}

static inline void
read_assert_same_address (GInetSocketAddress *a,
                          GSocketAddress     *b)
{
  g_autofree char *sa = read_address_string (a);
  g_autofree char *sb = read_address_string (G_INET_SOCKET_ADDRESS (b));

  g_assert_cmpstr (sa, ==, sb);
}

/* An async open_subflow's callback that expects success: the subflow into *(MptcpSubflow **)
 * user_data (owned). */
static inline void
read_open_subflow_ok_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  MptcpSubflow **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source), result, &error);
  g_assert_no_error (error);
}

static inline gboolean
read_quit_loop_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Runs loop, but for at most timeout_ms: a lost callback fails the test where it is lost
 * instead of running into meson's timeout (which also loses the subtests after it). */
static inline void
read_run_loop (GMainLoop *loop,
               guint      timeout_ms)
{
  GSource *timeout = g_timeout_source_new (timeout_ms);

  g_source_set_callback (timeout, read_quit_loop_cb, loop, NULL);
  g_source_attach (timeout, g_main_loop_get_context (loop));
  g_main_loop_run (loop);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

/* An IPv4 or IPv6 address with a port (transfer full). */
static inline GInetSocketAddress *
read_inet_address (const char *ip,
                   guint16     port)
{
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (ip, port));
}

/* A listening MPTCP socket on ip, port 0 (the kernel picks *port) (transfer full). */
static inline GSocket *
read_listen_mptcp (GSocketFamily family,
                   const char   *ip,
                   guint16      *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (ip, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *socket;

  socket = mptcp_socket_new (family, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_listen (socket, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

/* Whether the connection's list model holds this very subflow object. */
static inline gboolean
read_model_holds (MptcpConnection *connection,
                  MptcpSubflow    *subflow)
{
  GListModel *model = mptcp_connection_get_subflows (connection);
  guint i;

  for (i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (model, i);

      if (item == subflow)
        return TRUE;
    }
  return FALSE;
}

/* "local -> remote" of a subflow, for comparing sets of 4-tuples. */
static inline char *
read_subflow_tuple (MptcpSubflow *subflow)
{
  g_autofree char *l = read_address_string (mptcp_subflow_get_local_address (subflow));
  g_autofree char *r = read_address_string (mptcp_subflow_get_remote_address (subflow));

  return g_strdup_printf ("%s -> %s", l, r);
}

/* Refreshes until the connection lists n subflows (or timeout_ms passed). */
static inline gboolean
read_wait_for_subflows (MptcpConnection *connection,
                        guint            n,
                        guint            timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (mptcp_connection_refresh (connection, &error));
      g_assert_no_error (error);
      if (g_list_model_get_n_items (mptcp_connection_get_subflows (connection)) == n)
        return TRUE;
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_usleep (10 * 1000);
    }
}

/* Refreshes until every listed subflow is established (a new subflow is
 * listed from SYN_SENT on). */
static inline gboolean
read_wait_for_established (MptcpConnection *connection,
                           guint            timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      GListModel *model = mptcp_connection_get_subflows (connection);
      guint n = g_list_model_get_n_items (model);
      guint established = 0;
      guint i;

      g_assert_true (mptcp_connection_refresh (connection, &error));
      g_assert_no_error (error);
      for (i = 0; i < n; i++)
        {
          g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (model, i);
          g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);

          if (mptcp_subflow_stats_get_state (stats) == MPTCP_TCP_STATE_ESTABLISHED)
            established++;
        }
      if (established == n)
        return TRUE;
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_usleep (10 * 1000);
    }
}

static inline void
read_write_sysctl (const char *path,
                   const char *value)
{
  /* not g_file_set_contents(): it writes a temporary file and renames it */
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, value, strlen (value)), ==, (gssize) strlen (value));
  close (fd);
}

/* Switches this network namespace's path manager: "kernel" or "userspace".
 * net.mptcp.path_manager exists from Linux 6.15; before it (Debian 12's 6.1 and
 * 6.12) the same switch is net.mptcp.pm_type, 0 (kernel) or 1 (userspace), as
 * in the library. */
static inline void
read_set_path_manager (const char *mode)
{
  g_assert_true (g_str_equal (mode, "kernel") || g_str_equal (mode, "userspace"));
  if (g_file_test ("/proc/sys/net/mptcp/path_manager", G_FILE_TEST_EXISTS))
    read_write_sysctl ("/proc/sys/net/mptcp/path_manager", mode);
  else
    read_write_sysctl ("/proc/sys/net/mptcp/pm_type", g_str_equal (mode, "kernel") ? "0" : "1");
}

/* Runs argv in the client namespace and asserts it worked. */
static inline void
read_run_client (const char * const *argv)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (testbed_run_in_client (argv, NULL, &error));
  g_assert_no_error (error);
}

/* Makes the client namespace use the in-kernel path manager with subflow
 * endpoints on the given local addresses (NULL-terminated), so the next
 * connections get one more subflow per endpoint once data has flowed. */
static inline void
read_use_kernel_pm_endpoints (const char * const *addresses)
{
  const char *flush[] = { "ip", "mptcp", "endpoint", "flush", NULL };
  gsize i;

  read_set_path_manager ("kernel");
  read_run_client (flush);
  for (i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      const char *argv[] = { "ip", "mptcp", "endpoint", "add", addresses[i], "subflow", NULL };

      read_run_client (argv);
    }
}

/* Local addresses for up to 8 subflow endpoints: the testbed's second
 * client address, then extra ones this adds to c1 and c2. */
static const char * const read_endpoint_addresses[][2] = {
  { TESTBED_CLIENT2_V4, "c2" },
  { "192.0.2.11", "c1" },
  { "198.51.100.11", "c2" },
  { "192.0.2.12", "c1" },
  { "198.51.100.12", "c2" },
  { "192.0.2.13", "c1" },
  { "198.51.100.13", "c2" },
  { "192.0.2.14", "c1" },
};

/* In-kernel path manager with n subflow endpoints (n <= 8): the next
 * connection gets n additional subflows once data has flowed. */
static inline void
read_use_kernel_pm_n_endpoints (guint n)
{
  const char *addresses[9] = { NULL };
  guint i;

  g_assert_cmpuint (n, <=, G_N_ELEMENTS (read_endpoint_addresses));
  for (i = 0; i < n; i++)
    {
      g_autofree char *cidr = g_strdup_printf ("%s/24", read_endpoint_addresses[i][0]);
      const char *argv[] = { "ip", "addr", "replace", cidr, "dev", read_endpoint_addresses[i][1],
                             NULL };

      read_run_client (argv);
      addresses[i] = read_endpoint_addresses[i][0];
    }
  read_use_kernel_pm_endpoints (addresses);
}

/* Back to what the testbed set up: userspace path manager, no endpoints. */
static inline void
read_restore_userspace_pm (void)
{
  const char *flush[] = { "ip", "mptcp", "endpoint", "flush", NULL };

  read_run_client (flush);
  read_set_path_manager ("userspace");
}

/* Runs func in a forked child without CAP_NET_ADMIN and asserts it
 * succeeded (assertions in func abort the child). */
static inline void
read_run_unprivileged (void (*func) (gconstpointer),
                       gconstpointer data)
{
  pid_t pid;
  int status = 0;

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      g_autoptr(GError) error = NULL;
      if (!testbed_drop_net_admin (&error))
        {
          g_printerr ("could not drop CAP_NET_ADMIN: %s\n", error->message);
          _exit (2);
        }
      /* prove it: CAP_NET_ADMIN (12) is no longer in the effective set */
      {
        g_autofree char *status_text = NULL;
        const char *cap_eff;

        if (!g_file_get_contents ("/proc/self/status", &status_text, NULL, NULL) ||
            (cap_eff = strstr (status_text, "CapEff:")) == NULL ||
            (g_ascii_strtoull (cap_eff + strlen ("CapEff:"), NULL, 16) & (1u << 12)) != 0)
          {
            g_printerr ("CAP_NET_ADMIN still effective\n");
            _exit (3);
          }
      }
      func (data);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  if (WIFSIGNALED (status))
    g_error ("unprivileged child killed by signal %d", WTERMSIG (status));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}
