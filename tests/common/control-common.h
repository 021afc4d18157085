/* control-common.h: the helpers of the control tests under load (test-concurrency and
 * test-stress): a connection to a peer on either path manager, the kernel's subflow list as
 * text to compare with the library's, and a batch of async opens to wait for
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "testbed.h"
#include "read-common.h"
#include "mptcp-connection-private.h"

static inline gboolean
loop_timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static inline gboolean
wait_for_flag (gboolean *flag,
               guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, loop_timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

static inline void
on_established (MptcpConnection *connection,
                GParamSpec      *pspec,
                gpointer         user_data)
{
  *(gboolean *) user_data = mptcp_connection_is_established (connection);
}

/* The server's path manager for the connections made from now on. */
static inline void
server_pm (gboolean userspace)
{
  g_autoptr(GError) error = NULL;
  gboolean new_sysctl = g_file_test ("/proc/sys/net/mptcp/path_manager", G_FILE_TEST_EXISTS);
  const char *argv[] = { "sysctl", "-q", "-w", NULL, NULL };

  if (new_sysctl)
    argv[3] = userspace ? "net.mptcp.path_manager=userspace" : "net.mptcp.path_manager=kernel";
  else
    argv[3] = userspace ? "net.mptcp.pm_type=1" : "net.mptcp.pm_type=0";
  g_assert_true (testbed_run_in_server (argv, NULL, &error));
  g_assert_no_error (error);
}

/* A connection to the sink, established at the MPTCP level; the server's path manager for it
 * is the userspace one if asked (set back to the in-kernel one afterwards). */
static inline MptcpConnection *
connect_established (gboolean  userspace_peer,
                     GSocket **out_socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  MptcpConnection *connection;
  gboolean established = FALSE;

  if (userspace_peer)
    server_pm (TRUE);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  g_signal_connect (connection, "notify::established", G_CALLBACK (on_established), &established);
  read_send_bytes (socket, 1000);
  g_assert_true (wait_for_flag (&established, 5000));
  g_signal_handlers_disconnect_by_func (connection, on_established, &established);
  if (userspace_peer)
    server_pm (FALSE);
  if (out_socket != NULL)
    *out_socket = g_steal_pointer (&socket);
  return connection;
}

/* The kernel's subflows of the socket as sorted "local-remote;" text (a fresh
 * MptcpConnection reads them), and the same for a connection's list. */
static inline int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static inline char *
list_text (GListModel *model)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  GString *out = g_string_new ("");
  guint i;

  for (i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (model, i);

      g_ptr_array_add (items, read_subflow_tuple (item));
    }
  g_ptr_array_sort (items, compare_strings);
  for (i = 0; i < items->len; i++)
    g_string_append_printf (out, "%s;", (char *) g_ptr_array_index (items, i));
  return g_string_free (out, FALSE);
}

static inline char *
kernel_text (GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) fresh = mptcp_connection_new (socket, &error);

  g_assert_no_error (error);
  return list_text (mptcp_connection_get_subflows (fresh));
}

/* The connection's list, after a refresh, equals the kernel's view. */
static inline void
assert_list_is_kernel (MptcpConnection *connection,
                       GSocket         *socket)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *kernel = kernel_text (socket);
  g_autofree char *ours = NULL;

  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_no_error (error);
  ours = list_text (mptcp_connection_get_subflows (connection));
  g_assert_cmpstr (ours, ==, kernel);
}

/* ---- 1. concurrent opens on one connection ---- */

typedef struct
{
  guint started;
  guint done;
  guint ok;
  guint refused;
  guint cancelled;
  guint other;
  guint inconsistent;   /* results after which the opens' bookkeeping was not the ops' */
  GPtrArray *subflows;
} Opens;

static inline void
opens_init (Opens *o)
{
  memset (o, 0, sizeof *o);
  o->subflows = g_ptr_array_new_with_free_func (g_object_unref);
}

static inline void
opens_clear (Opens *o)
{
  g_ptr_array_unref (o->subflows);
}

static inline void
open_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Opens *o = user_data;
  g_autoptr(GError) error = NULL;
  MptcpSubflow *sf = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source), result,
                                                           &error);

  o->done++;
  if (!_mptcp_control_check_unidentified (MPTCP_CONNECTION (source)))
    o->inconsistent++;
  if (sf != NULL)
    {
      o->ok++;
      g_ptr_array_add (o->subflows, sf);
    }
  else if (g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PEER_REFUSED))
    o->refused++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    o->cancelled++;
  else
    {
      g_test_message ("open failed: %s", error->message);
      o->other++;
    }
}

/* All started opens end within timeout_ms (a timeout source wakes the loop: an open that is
 * stuck, e.g. behind a gate never released, wakes nothing). */
static inline void
wait_opens (Opens *o,
            guint  timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, loop_timeout_cb, &timed_out);

  while (o->done < o->started && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (o->done, ==, o->started);
  g_assert_cmpuint (o->inconsistent, ==, 0);
}

static inline void
start_opens (MptcpConnection *connection,
             Opens           *o,
             guint            n)
{
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  guint i;

  for (i = 0; i < n; i++)
    {
      o->started++;
      mptcp_connection_open_subflow_async (connection, l2, r2, NULL, open_done_cb, o);
    }
}
