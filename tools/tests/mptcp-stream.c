/* mptcp-stream.c: a test helper, an MPTCP stream over both paths of the testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   mptcp-stream   (inside mptcp-testbed, with CAP_NET_ADMIN)
 *
 * Connects to the testbed's MPTCP sink over path 1, opens a second subflow over path 2
 * through the library, prints "ready TOKEN" and streams (64 KiB every 10 ms, at most) until
 * stdin ends. A line "close" on stdin closes the second subflow and prints "closed".
 */

#include <mptcp-glib/mptcp-glib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  GSocket *socket;
  MptcpSubflow *second;
  char buffer[65536];
  int status;
} Stream;

static GInetSocketAddress *
env_address (const char *name,
             const char *port_name)
{
  const char *host = g_getenv (name);
  const char *port = port_name != NULL ? g_getenv (port_name) : "0";

  if (host == NULL || port == NULL)
    g_error ("mptcp-stream: %s is not set (run it inside mptcp-testbed)", name);
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (host, atoi (port)));
}

static gboolean
on_send (gpointer data)
{
  Stream *stream = data;
  g_autoptr(GError) error = NULL;

  if (g_socket_send_with_blocking (stream->socket, stream->buffer, sizeof stream->buffer,
                                   FALSE, NULL, &error) < 0
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_printerr ("mptcp-stream: send: %s\n", error->message);
      stream->status = 1;
      g_main_loop_quit (stream->loop);
      return G_SOURCE_CONTINUE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stdin (GIOChannel   *channel,
          GIOCondition  condition,
          gpointer      data)
{
  Stream *stream = data;
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  GIOStatus status = g_io_channel_read_line (channel, &line, NULL, NULL, &error);

  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (status != G_IO_STATUS_NORMAL)
    {
      g_main_loop_quit (stream->loop);
      return G_SOURCE_CONTINUE;
    }
  g_strchomp (line);
  if (strcmp (line, "close") == 0 && stream->second != NULL)
    {
      if (!mptcp_subflow_close (stream->second, NULL, &error))
        {
          g_printerr ("mptcp-stream: close: %s\n", error->message);
          stream->status = 1;
          g_main_loop_quit (stream->loop);
          return G_SOURCE_CONTINUE;
        }
      g_clear_object (&stream->second);
      printf ("closed\n");
      fflush (stdout);
    }
  return G_SOURCE_CONTINUE;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetSocketAddress) server = env_address ("MPTCP_TESTBED_SERVER1_V4", "MPTCP_TESTBED_PORT_SINK");
  g_autoptr(GInetSocketAddress) local2 = env_address ("MPTCP_TESTBED_CLIENT2_V4", NULL);
  g_autoptr(GInetSocketAddress) remote2 = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GIOChannel) in = NULL;
  Stream stream = { 0 };
  guint send_source, in_source;

  {
    g_autoptr(GInetSocketAddress) s2 = env_address ("MPTCP_TESTBED_SERVER2_V4", NULL);

    remote2 = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (g_inet_socket_address_get_address (s2),
                                                                g_inet_socket_address_get_port (server)));
  }
  memset (stream.buffer, 'm', sizeof stream.buffer);
  stream.socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);
  if (stream.socket != NULL
      && g_socket_connect (stream.socket, G_SOCKET_ADDRESS (server), NULL, &error)
      && g_socket_send (stream.socket, stream.buffer, 1024, NULL, &error) > 0
      && (connection = mptcp_connection_new (stream.socket, &error)) != NULL)
    {
      /* the connection is fully established once the peer's first ack came back */
      for (int tries = 0; stream.second == NULL && tries < 50; tries++)
        {
          g_clear_error (&error);
          stream.second = mptcp_connection_open_subflow (connection, local2, remote2, NULL, &error);
          if (stream.second == NULL)
            g_usleep (100 * 1000);
        }
    }
  if (stream.second == NULL)
    {
      g_printerr ("mptcp-stream: %s\n", error->message);
      g_clear_object (&stream.socket);
      return 1;
    }
  printf ("ready %08x\n", mptcp_connection_get_token (connection));
  fflush (stdout);

  stream.loop = g_main_loop_new (NULL, FALSE);
  in = g_io_channel_unix_new (0);
  in_source = g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &stream);
  send_source = g_timeout_add (10, on_send, &stream);
  g_main_loop_run (stream.loop);
  g_clear_handle_id (&send_source, g_source_remove);
  g_clear_handle_id (&in_source, g_source_remove);
  g_main_loop_unref (stream.loop);
  g_clear_object (&stream.second);
  g_clear_object (&connection);
  g_socket_close (stream.socket, NULL);
  g_object_unref (stream.socket);
  return stream.status;
}
