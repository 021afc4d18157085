/* mptcp-demo.c: watch Multipath TCP aggregate two paths, live
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Streams data over one MPTCP connection to the testbed's sink and shows a
 * table of the connection's subflows, refreshed in place: addresses, backup
 * state, round-trip time, congestion window, and the throughput of each
 * subflow and of the whole connection. Meanwhile the library steers the
 * connection, one phase after another:
 *
 *   1. one subflow, over path 1;
 *   2. a second subflow opened over path 2: the throughput doubles;
 *   3. the second subflow marked backup: it falls back to one path;
 *   4. the second subflow regular again: it doubles again;
 *   5. the second subflow closed: one path again.
 *
 * It ends by itself and prints the throughput of each phase. Run it in the
 * testbed with both paths rate-limited, which examples/demo.sh does:
 *
 *   ./_build/tests/mptcp-testbed --rate 20mbit ./_build/examples/mptcp-demo
 *
 * Options: --phase-seconds N (default 5), --interval MS (table refresh,
 * default 500). When stdout is not a terminal it prints plain lines instead
 * of redrawing the table. MPTCP_DEMO_RATE in the environment (demo.sh sets
 * it) is only shown, as the rate limit of each path.
 *
 * All of it runs in one GMainLoop with the asynchronous API: MptcpClient to
 * connect, g_output_stream_write_async() to stream, a timer that calls
 * mptcp_connection_refresh() and redraws, the connection's signals to log
 * subflow changes, and mptcp_connection_open_subflow_async(),
 * mptcp_subflow_set_backup_async() and mptcp_subflow_close_async() to steer.
 * The throughput of a subflow is the growth of its tcp_info bytes_acked
 * (mptcp_subflow_stats_get_bytes_acked()) between two refreshes; that of the
 * connection is the growth of the MPTCP-level bytes_acked
 * (mptcp_connection_info_get_bytes_acked()).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <glib-unix.h>
#include <mptcp-glib/mptcp-glib.h>

#define CHUNK (64 * 1024)
#define N_PHASES 5
#define LOG_LINES 6

typedef struct
{
  const char *title;       /* what the table header says during the phase */
  const char *summary;     /* its line in the final summary */
  double mbit;             /* average over the second half of the phase */
} Phase;

typedef struct
{
  GMainLoop *loop;
  int status;
  gboolean tty;
  guint phase_seconds;
  guint interval_ms;

  GInetSocketAddress *server;       /* path 1 */
  GInetSocketAddress *local2;       /* path 2 */
  GInetSocketAddress *remote2;

  MptcpClient *client;
  GSocketConnection *stream;
  MptcpConnection *connection;
  MptcpSubflow *second;             /* the subflow the demo opened */
  GCancellable *cancellable;

  guint8 chunk[CHUNK];
  gboolean writing;                 /* a write is pending */
  gboolean stopping;

  gint64 start;                     /* monotonic time of the first byte */
  guint phase;                      /* index of the current phase */
  gboolean action_pending;          /* the phase's control call has not completed */
  guint timer;
  guint sigint;

  /* throughput: the previous sample */
  gint64 last_time;
  guint64 last_total;
  double total_mbit;
  /* per phase: acked bytes at the middle of the phase */
  gint64 mid_time;
  guint64 mid_total;

  guint printed_lines;              /* lines of the last table (tty) */
  gsize columns;                    /* width of the terminal */
  GPtrArray *log;                   /* recent event lines */
  Phase phases[N_PHASES];
} Demo;

/* what the demo remembers about a subflow between two refreshes */
typedef struct
{
  gint64 time;
  guint64 acked;
  double mbit;
} Sample;

static void demo_stop (Demo *demo);
static void close_stream (Demo *demo);

static const char *
env_or (const char *name,
        const char *fallback)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? value : fallback;
}

static GInetSocketAddress *
address (const char *ip,
         guint16     port)
{
  GSocketAddress *a = g_inet_socket_address_new_from_string (ip, port);

  if (a == NULL)
    g_error ("not an IP address: %s", ip);
  return G_INET_SOCKET_ADDRESS (a);
}

static char *
to_string (GInetSocketAddress *a)
{
  return g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (a));
}

static double
seconds_since_start (Demo *demo)
{
  return demo->start ? (g_get_monotonic_time () - demo->start) / (double) G_USEC_PER_SEC : 0.0;
}

/* An event for the log under the table (or a plain line without a tty). */
static void G_GNUC_PRINTF (2, 3)
demo_log (Demo       *demo,
          const char *format,
          ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (!demo->tty)
    {
      g_print ("%6.1f s  %s\n", seconds_since_start (demo), text);
      return;
    }
  g_ptr_array_add (demo->log, g_strdup_printf ("%6.1f s  %s", seconds_since_start (demo), text));
  if (demo->log->len > LOG_LINES)
    g_ptr_array_remove_index (demo->log, 0);
}

static void
demo_fail (Demo       *demo,
           const char *what,
           GError     *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_printerr ("mptcp-demo: %s failed: %s\n", what, error->message);
  if (g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED) ||
      g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_WRONG_PATH_MANAGER))
    g_printerr ("mptcp-demo: steering subflows needs CAP_NET_ADMIN and "
                "net.mptcp.path_manager=userspace: run the demo inside mptcp-testbed\n");
  demo->status = 1;
  demo_stop (demo);
}

/* ---- streaming ----------------------------------------------------------- */

static void write_next (Demo *demo);

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;

  demo->writing = FALSE;
  if (demo->stopping)
    {
      close_stream (demo);
      return;
    }
  if (g_output_stream_write_finish (G_OUTPUT_STREAM (source), result, &error) < 0)
    {
      demo_fail (demo, "writing", error);
      return;
    }
  write_next (demo);
}

static void
write_next (Demo *demo)
{
  if (demo->stopping)
    return;
  demo->writing = TRUE;
  g_output_stream_write_async (g_io_stream_get_output_stream (G_IO_STREAM (demo->stream)),
                               demo->chunk, sizeof demo->chunk, G_PRIORITY_DEFAULT,
                               demo->cancellable, on_written, demo);
}

/* ---- the table ----------------------------------------------------------- */

static Sample *
subflow_sample (MptcpSubflow *subflow)
{
  Sample *sample = g_object_get_data (G_OBJECT (subflow), "mptcp-demo-sample");

  if (sample == NULL)
    {
      sample = g_new0 (Sample, 1);
      g_object_set_data_full (G_OBJECT (subflow), "mptcp-demo-sample", sample, g_free);
    }
  return sample;
}

/* MPTCP-level bytes acknowledged by the peer; the sum of the subflows' on a
 * kernel that does not report it */
static guint64
total_acked (Demo *demo)
{
  g_autoptr(MptcpConnectionInfo) info = mptcp_connection_get_info (demo->connection, NULL);
  GListModel *subflows = mptcp_connection_get_subflows (demo->connection);
  guint64 sum = 0;

  if (info != NULL && mptcp_connection_info_has_field (info, MPTCP_CONNECTION_INFO_FIELD_BYTES_ACKED))
    return mptcp_connection_info_get_bytes_acked (info);
  for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
      g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);

      sum += mptcp_subflow_stats_get_bytes_acked (stats);
    }
  return sum;
}

static void
take_samples (Demo *demo)
{
  GListModel *subflows = mptcp_connection_get_subflows (demo->connection);
  gint64 now = g_get_monotonic_time ();
  guint64 total = total_acked (demo);

  for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
      g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);
      Sample *sample = subflow_sample (subflow);
      guint64 acked = mptcp_subflow_stats_get_bytes_acked (stats);

      if (sample->time != 0 && now > sample->time)
        sample->mbit = (acked - sample->acked) * 8.0 / (now - sample->time);
      sample->time = now;
      sample->acked = acked;
    }
  if (demo->last_time != 0 && now > demo->last_time)
    demo->total_mbit = (total - demo->last_total) * 8.0 / (now - demo->last_time);
  demo->last_time = now;
  demo->last_total = total;
}

static void
print_table (Demo *demo)
{
  GListModel *subflows = mptcp_connection_get_subflows (demo->connection);
  g_autoptr(GString) out = g_string_new (NULL);
  guint lines;

  if (!demo->tty)
    {
      /* one line per refresh */
      g_string_append_printf (out, "%6.1f s  total %6.1f Mbit/s |", seconds_since_start (demo),
                              demo->total_mbit);
      for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
        {
          g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
          g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);
          g_autofree char *local = to_string (mptcp_subflow_get_local_address (subflow));

          g_string_append_printf (out, " #%u %s%s %.1f Mbit/s rtt %.1f ms cwnd %u |",
                                  mptcp_subflow_get_id (subflow), local,
                                  mptcp_subflow_get_backup (subflow) ? " backup" : "",
                                  subflow_sample (subflow)->mbit,
                                  mptcp_subflow_stats_get_rtt (stats) / 1000.0,
                                  mptcp_subflow_stats_get_snd_cwnd (stats));
        }
      g_print ("%s\n", out->str);
      return;
    }

  /* redraw in place: back to the first line of the previous table, clear
   * below; every line fits in 80 columns (log lines are cut to the terminal's
   * width), so that the count of lines to go back over stays right */
  if (demo->printed_lines > 0)
    g_string_append_printf (out, "\033[%uA\r\033[J", demo->printed_lines);
  g_string_append_printf (out, "\033[1mmptcp-demo\033[0m  %5.1f s   phase %u of %u: %s\n\n",
                          seconds_since_start (demo), MIN (demo->phase + 1, N_PHASES), N_PHASES,
                          demo->phases[MIN (demo->phase, N_PHASES - 1)].title);
  g_string_append_printf (out, "\033[7m%3s %-21s %-21s %-6s %7s %5s %8s \033[0m\n",
                          "id", "local", "remote", "backup", "rtt ms", "cwnd", "Mbit/s");
  lines = 3;
  for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
      g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (subflow);
      g_autofree char *local = to_string (mptcp_subflow_get_local_address (subflow));
      g_autofree char *remote = to_string (mptcp_subflow_get_remote_address (subflow));

      g_string_append_printf (out, "%3u %-21.21s %-21.21s %-6s %7.2f %5u %8.1f\n",
                              mptcp_subflow_get_id (subflow), local, remote,
                              mptcp_subflow_get_backup (subflow) ? "yes" : "no",
                              mptcp_subflow_stats_get_rtt (stats) / 1000.0,
                              mptcp_subflow_stats_get_snd_cwnd (stats),
                              subflow_sample (subflow)->mbit);
      lines++;
    }
  g_string_append_printf (out, "%3s %-64s \033[1m%8.1f\033[0m\n\n", "",
                          "total, at the MPTCP level", demo->total_mbit);
  lines += 2;
  for (guint i = 0; i < demo->log->len; i++)
    {
      const char *line = g_ptr_array_index (demo->log, i);

      g_string_append_printf (out, "%.*s\n", (int) MIN (strlen (line), demo->columns - 1), line);
      lines++;
    }
  demo->printed_lines = lines;
  g_print ("%s", out->str);
}

/* ---- the phases ---------------------------------------------------------- */

static void
on_subflow_opened (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;

  demo->second = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source), result, &error);
  demo->action_pending = FALSE;
  if (demo->second == NULL)
    {
      demo_fail (demo, "opening the second subflow", error);
      return;
    }
  demo_log (demo, "subflow %u is open", mptcp_subflow_get_id (demo->second));
}

static void
on_backup_set (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;

  demo->action_pending = FALSE;
  if (!mptcp_subflow_set_backup_finish (MPTCP_SUBFLOW (source), result, &error))
    {
      demo_fail (demo, "changing the backup flag", error);
      return;
    }
  demo_log (demo, "subflow %u is %s", mptcp_subflow_get_id (MPTCP_SUBFLOW (source)),
            mptcp_subflow_get_backup (MPTCP_SUBFLOW (source)) ? "backup" : "regular");
}

static void
on_subflow_closed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;

  demo->action_pending = FALSE;
  if (!mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &error))
    {
      demo_fail (demo, "closing the second subflow", error);
      return;
    }
  demo_log (demo, "subflow %u is closed", mptcp_subflow_get_id (MPTCP_SUBFLOW (source)));
}

/* what starts phase `phase` */
static void
start_phase (Demo  *demo,
             guint  phase)
{
  g_autofree char *local = to_string (demo->local2);
  g_autofree char *remote = to_string (demo->remote2);

  demo->phase = phase;
  demo->mid_time = 0;
  switch (phase)
    {
    case 1:
      demo_log (demo, "opening a second subflow %s -> %s", local, remote);
      demo->action_pending = TRUE;
      mptcp_connection_open_subflow_async (demo->connection, demo->local2, demo->remote2,
                                           demo->cancellable, on_subflow_opened, demo);
      break;
    case 2:
    case 3:
      demo_log (demo, "marking subflow %u %s", mptcp_subflow_get_id (demo->second),
                phase == 2 ? "backup" : "regular");
      demo->action_pending = TRUE;
      mptcp_subflow_set_backup_async (demo->second, phase == 2, demo->cancellable,
                                      on_backup_set, demo);
      break;
    case 4:
      demo_log (demo, "closing subflow %u", mptcp_subflow_get_id (demo->second));
      demo->action_pending = TRUE;
      mptcp_subflow_close_async (demo->second, demo->cancellable, on_subflow_closed, demo);
      break;
    default:
      break;
    }
}

static gboolean
on_tick (gpointer user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_monotonic_time ();
  gint64 phase_us = (gint64) demo->phase_seconds * G_USEC_PER_SEC;
  gint64 in_phase = now - demo->start - (gint64) demo->phase * phase_us;

  if (!mptcp_connection_refresh (demo->connection, &error))
    {
      demo->timer = 0;
      demo_fail (demo, "reading the subflows", error);
      return G_SOURCE_REMOVE;
    }
  take_samples (demo);

  /* the average of a phase is taken over its second half, once it settled */
  if (demo->mid_time == 0 && in_phase >= phase_us / 2)
    {
      demo->mid_time = demo->last_time;
      demo->mid_total = demo->last_total;
    }

  /* next phase: not before the current one's control call completed */
  if (in_phase >= phase_us && !demo->action_pending)
    {
      Phase *p = &demo->phases[demo->phase];

      if (demo->mid_time != 0 && demo->last_time > demo->mid_time)
        p->mbit = (demo->last_total - demo->mid_total) * 8.0 / (demo->last_time - demo->mid_time);
      if (demo->phase + 1 == N_PHASES)
        {
          print_table (demo);
          demo->timer = 0;
          demo_stop (demo);
          return G_SOURCE_REMOVE;
        }
      /* keep phase boundaries on the schedule even if a call took a while */
      demo->start = now - (gint64) (demo->phase + 1) * phase_us;
      start_phase (demo, demo->phase + 1);
    }
  print_table (demo);
  return G_SOURCE_CONTINUE;
}

/* ---- the connection's signals -------------------------------------------- */

static void
on_subflow_added (MptcpConnection *connection,
                  MptcpSubflow    *subflow,
                  Demo            *demo)
{
  g_autofree char *local = to_string (mptcp_subflow_get_local_address (subflow));
  g_autofree char *remote = to_string (mptcp_subflow_get_remote_address (subflow));

  demo_log (demo, "signal subflow-added: %u, %s -> %s", mptcp_subflow_get_id (subflow),
            local, remote);
}

static void
on_subflow_removed (MptcpConnection  *connection,
                    MptcpSubflow     *subflow,
                    const GError     *error,
                    MptcpResetReason  reset_reason,
                    Demo             *demo)
{
  demo_log (demo, "signal subflow-removed: %u%s%s", mptcp_subflow_get_id (subflow),
            error != NULL ? ", " : "", error != NULL ? error->message : "");
}

static void
on_priority_changed (MptcpConnection *connection,
                     MptcpSubflow    *subflow,
                     gboolean         backup,
                     Demo            *demo)
{
  demo_log (demo, "signal subflow-priority-changed: the peer wants %u %s",
            mptcp_subflow_get_id (subflow), backup ? "as backup" : "as regular");
}

/* ---- start and stop ------------------------------------------------------- */

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *server = to_string (demo->server);

  demo->stream = mptcp_client_connect_finish (MPTCP_CLIENT (source), result, &error);
  if (demo->stream == NULL)
    {
      demo_fail (demo, "connecting", error);
      return;
    }
  demo->connection = mptcp_connection_new_for_connection (demo->stream, &error);
  if (demo->connection == NULL)
    {
      demo_fail (demo, "watching the connection", error);
      return;
    }
  if (mptcp_connection_get_fallback (demo->connection))
    {
      g_set_error (&error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK, "the server does not speak MPTCP");
      demo_fail (demo, "connecting", error);
      return;
    }
  g_signal_connect (demo->connection, "subflow-added", G_CALLBACK (on_subflow_added), demo);
  g_signal_connect (demo->connection, "subflow-removed", G_CALLBACK (on_subflow_removed), demo);
  g_signal_connect (demo->connection, "subflow-priority-changed",
                    G_CALLBACK (on_priority_changed), demo);

  demo->start = g_get_monotonic_time ();
  demo_log (demo, "connected to %s (token %08x, events from %s)",
            server, mptcp_connection_get_token (demo->connection),
            mptcp_connection_get_event_source (demo->connection) == MPTCP_EVENT_SOURCE_NETLINK
              ? "netlink" : "polling");
  if (g_getenv ("MPTCP_DEMO_RATE") != NULL)
    demo_log (demo, "each path is limited to %s", g_getenv ("MPTCP_DEMO_RATE"));
  write_next (demo);
  start_phase (demo, 0);
  demo->timer = g_timeout_add (demo->interval_ms, on_tick, demo);
}

static void
on_stream_closed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Demo *demo = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  g_main_loop_quit (demo->loop);
}

/* once stopping and no write is pending (a stream with a pending operation
 * cannot be closed) */
static void
close_stream (Demo *demo)
{
  if (demo->stream == NULL)
    g_main_loop_quit (demo->loop);
  else
    g_io_stream_close_async (G_IO_STREAM (demo->stream), G_PRIORITY_DEFAULT, NULL,
                             on_stream_closed, demo);
}

/* stops streaming and closes the connection; the loop quits when it is closed */
static void
demo_stop (Demo *demo)
{
  if (demo->stopping)
    return;
  demo->stopping = TRUE;
  g_clear_handle_id (&demo->timer, g_source_remove);
  g_cancellable_cancel (demo->cancellable);
  if (!demo->writing)
    close_stream (demo);
  /* else on_written() closes it when the cancelled write returns */
}

static gboolean
on_sigint (gpointer user_data)
{
  Demo *demo = user_data;

  demo->sigint = 0;
  demo_log (demo, "interrupted");
  demo->status = 130;
  demo_stop (demo);
  return G_SOURCE_REMOVE;
}

static void
print_summary (Demo *demo)
{
  double one = demo->phases[0].mbit;

  g_print ("\nthroughput of the connection (MPTCP level, second half of each phase):\n");
  for (guint i = 0; i < N_PHASES; i++)
    {
      if (demo->phases[i].mbit <= 0)
        g_print ("  %-36s (not measured)\n", demo->phases[i].summary);
      else
        g_print ("  %-36s %7.1f Mbit/s   %4.2f x phase 1\n", demo->phases[i].summary,
                 demo->phases[i].mbit, one > 0 ? demo->phases[i].mbit / one : 0.0);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) options = NULL;
  int phase_seconds = 5, interval_ms = 500;
  GOptionEntry entries[] = {
    { "phase-seconds", 0, 0, G_OPTION_ARG_INT, &phase_seconds,
      "Length of each of the five phases (default 5)", "N" },
    { "interval", 0, 0, G_OPTION_ARG_INT, &interval_ms,
      "Refresh the table every MS milliseconds (default 500)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  guint16 port = (guint16) atoi (env_or ("MPTCP_TESTBED_PORT_SINK", "5001"));
  Demo demo = {
    .phases = {
      { "one subflow, path 1", "one subflow", 0 },
      { "a 2nd subflow on path 2: twice as fast", "two subflows", 0 },
      { "2nd subflow backup: one path", "second subflow backup", 0 },
      { "2nd subflow regular again: twice", "second subflow regular again", 0 },
      { "2nd subflow closed: one path", "second subflow closed", 0 },
    },
  };

  options = g_option_context_new ("- watch MPTCP use two paths");
  g_option_context_set_summary (options,
    "Streams over MPTCP to the testbed's sink and shows the subflows live while the\n"
    "library opens a second subflow, marks it backup, unmarks it and closes it.\n"
    "Run it inside the testbed: mptcp-testbed --rate 20mbit mptcp-demo");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("mptcp-demo: %s\n", error->message);
      return 2;
    }
  if (phase_seconds < 1 || interval_ms < 50)
    {
      g_printerr ("mptcp-demo: --phase-seconds must be >= 1 and --interval >= 50\n");
      return 2;
    }

  if (!mptcp_socket_check_supported (&error))
    {
      g_printerr ("mptcp-demo: MPTCP is not usable here: %s\n", error->message);
      return 1;
    }
  if (g_getenv ("MPTCP_TESTBED_SERVER1_V4") == NULL)
    g_printerr ("mptcp-demo: not inside mptcp-testbed; trying the testbed's addresses anyway\n");

  demo.loop = g_main_loop_new (NULL, FALSE);
  demo.tty = isatty (STDOUT_FILENO) && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
  demo.columns = 80;
  if (demo.tty)
    {
      struct winsize ws;

      if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        demo.columns = ws.ws_col;
    }
  demo.phase_seconds = (guint) phase_seconds;
  /* plain lines: at most one a second, but at least four per phase */
  demo.interval_ms = demo.tty ? (guint) interval_ms
                              : MIN (MAX ((guint) interval_ms, 1000), demo.phase_seconds * 250);
  demo.server = address (env_or ("MPTCP_TESTBED_SERVER1_V4", "192.0.2.2"), port);
  demo.local2 = address (env_or ("MPTCP_TESTBED_CLIENT2_V4", "198.51.100.1"), 0);
  demo.remote2 = address (env_or ("MPTCP_TESTBED_SERVER2_V4", "198.51.100.2"), port);
  demo.cancellable = g_cancellable_new ();
  demo.log = g_ptr_array_new_with_free_func (g_free);
  memset (demo.chunk, 'm', sizeof demo.chunk);

  demo.client = mptcp_client_new ();
  mptcp_client_set_allow_fallback (demo.client, FALSE);
  mptcp_client_connect_async (demo.client, G_SOCKET_CONNECTABLE (demo.server), demo.cancellable,
                              on_connected, &demo);
  demo.sigint = g_unix_signal_add (SIGINT, on_sigint, &demo);

  g_main_loop_run (demo.loop);

  g_clear_handle_id (&demo.sigint, g_source_remove);
  if (demo.status == 0)
    print_summary (&demo);
  g_clear_object (&demo.second);
  g_clear_object (&demo.connection);
  g_clear_object (&demo.stream);
  g_clear_object (&demo.client);
  g_clear_object (&demo.cancellable);
  g_clear_object (&demo.server);
  g_clear_object (&demo.local2);
  g_clear_object (&demo.remote2);
  g_ptr_array_unref (demo.log);
  g_main_loop_unref (demo.loop);
  return demo.status;
}
