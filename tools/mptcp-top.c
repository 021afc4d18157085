/* mptcp-top.c: every MPTCP connection of the namespace, with its subflows, in a terminal
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   mptcp-top [--once] [--json] [--interval MS] [--count N]
 *
 * Built on the public API only (MptcpConnectionList): the connections and their subflows,
 * redrawn in place every --interval milliseconds with each subflow's throughput (the
 * difference of its bytes acked and received between two refreshes). --once prints one
 * snapshot and exits (no throughput: that needs two); --json prints JSON (an array of
 * connections, each with an array of subflows, in the manner of `ip -j`), one document per
 * refresh, one per line. Ctrl-C (SIGINT) or SIGTERM ends it cleanly.
 *
 * Without CAP_NET_ADMIN, on kernels that show subflow details only to it (6.1, 6.12), the
 * connections are listed without subflows and the view says why.
 */

#include <mptcp-glib/mptcp-glib.h>

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  guint64 acked;
  guint64 received;
  gint64 time_us;
} Sample;

typedef struct
{
  MptcpConnectionList *list;
  GMainLoop *loop;
  GHashTable *samples;          /* MptcpSubflowEntry (ref) -> Sample */
  gboolean json;
  gboolean tty;
  int count;                    /* refreshes left; < 0: no limit */
  int status;
} Top;

static const char *
state_nick (MptcpTcpState state)
{
  GEnumClass *klass = g_type_class_peek (MPTCP_TYPE_TCP_STATE);
  GEnumValue *value = klass != NULL ? g_enum_get_value (klass, state) : NULL;

  return value != NULL ? value->value_nick : "unknown";
}

static char *
address_string (GInetSocketAddress *address)
{
  if (address == NULL)
    return g_strdup ("?");
  return g_inet_address_to_string (g_inet_socket_address_get_address (address));
}

static guint
address_port (GInetSocketAddress *address)
{
  return address != NULL ? g_inet_socket_address_get_port (address) : 0;
}

static char *
endpoint_string (GInetSocketAddress *address)
{
  g_autofree char *host = address_string (address);
  GSocketFamily family = address != NULL ? g_socket_address_get_family (G_SOCKET_ADDRESS (address))
                                         : G_SOCKET_FAMILY_IPV4;

  if (family == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, address_port (address));
  return g_strdup_printf ("%s:%u", host, address_port (address));
}

static char *
rate_string (double bits_per_second)
{
  if (bits_per_second < 0)
    return g_strdup ("-");
  if (bits_per_second >= 1e9)
    return g_strdup_printf ("%.1fG", bits_per_second / 1e9);
  if (bits_per_second >= 1e6)
    return g_strdup_printf ("%.1fM", bits_per_second / 1e6);
  if (bits_per_second >= 1e3)
    return g_strdup_printf ("%.1fk", bits_per_second / 1e3);
  return g_strdup_printf ("%.0f", bits_per_second);
}

/* the rates of one subflow since the last refresh, in bits per second (-1: no earlier sample) */
static void
subflow_rates (Top               *top,
               GHashTable        *next,
               MptcpSubflowEntry *subflow,
               MptcpSubflowStats *stats,
               gint64             now,
               double            *tx,
               double            *rx)
{
  Sample *before = g_hash_table_lookup (top->samples, subflow);
  Sample *sample = g_new (Sample, 1);

  sample->acked = mptcp_subflow_stats_get_bytes_acked (stats);
  sample->received = mptcp_subflow_stats_get_bytes_received (stats);
  sample->time_us = now;
  *tx = *rx = -1;
  if (before != NULL && now > before->time_us)
    {
      double seconds = (now - before->time_us) / 1e6;

      *tx = sample->acked >= before->acked ? (sample->acked - before->acked) * 8 / seconds : 0;
      *rx = sample->received >= before->received ? (sample->received - before->received) * 8 / seconds : 0;
    }
  g_hash_table_insert (next, g_object_ref (subflow), sample);
}

static void
json_address (GString            *out,
              const char         *prefix,
              GInetSocketAddress *address)
{
  g_autofree char *host = address_string (address);

  g_string_append_printf (out, "\"%s\":\"%s\",\"%sport\":%u", prefix, host, prefix,
                          address_port (address));
}

static void
json_string (GString    *out,
             const char *text)
{
  g_string_append_c (out, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (out, "\\%c", *c);
      else if ((guchar) *c < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *c);
      else
        g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

static void
json_rate (GString    *out,
           const char *name,
           double      rate)
{
  if (rate < 0)
    g_string_append_printf (out, ",\"%s\":null", name);
  else
    g_string_append_printf (out, ",\"%s\":%.0f", name, rate);
}

static void
draw (Top *top)
{
  GListModel *model = G_LIST_MODEL (top->list);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) why = NULL;
  GHashTable *next = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  gboolean visible = mptcp_connection_list_check_subflows (top->list, &why);
  gint64 now = g_get_monotonic_time ();
  guint n = g_list_model_get_n_items (model);

  if (top->json)
    g_string_append_c (out, '[');
  else
    {
      g_autoptr(GDateTime) clock = g_date_time_new_now_local ();
      g_autofree char *stamp = g_date_time_format (clock, "%H:%M:%S");

      if (top->tty)
        g_string_append (out, "\033[H\033[2J");
      g_string_append_printf (out, "mptcp-top %s  %u connection%s%s%s\n", stamp, n,
                              n == 1 ? "" : "s",
                              visible ? "" : "  (subflows unavailable: ",
                              visible ? "" : why->message);
      if (!visible)
        g_string_append (out, ")\n");
      g_string_append (out, "TOKEN     STATE        LOCAL                      REMOTE"
                            "                     SUBFLOWS  UID\n"
                            "  ID  LOCAL                      REMOTE                     "
                            "BKUP  RTT(ms)  CWND  TX(bit/s)  RX(bit/s)\n");
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MptcpConnectionEntry) entry = g_list_model_get_item (model, i);
      g_autoptr(MptcpConnectionInfo) info = mptcp_connection_entry_get_info (entry);
      GListModel *subflows = mptcp_connection_entry_get_subflows (entry);
      guint n_subflows = g_list_model_get_n_items (subflows);
      GInetSocketAddress *local = mptcp_connection_entry_get_local_address (entry);
      GInetSocketAddress *remote = mptcp_connection_entry_get_remote_address (entry);

      if (top->json)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          g_string_append_printf (out, "{\"token\":\"%08x\",\"state\":\"%s\",",
                                  mptcp_connection_entry_get_token (entry),
                                  state_nick (mptcp_connection_entry_get_state (entry)));
          json_address (out, "local", local);
          g_string_append_c (out, ',');
          json_address (out, "peer", remote);
          g_string_append_printf (out, ",\"uid\":%u,\"inode\":%" G_GUINT64_FORMAT,
                                  mptcp_connection_entry_get_uid (entry),
                                  mptcp_connection_entry_get_inode (entry));
          if (info != NULL)
            g_string_append_printf (out,
                                    ",\"mptcp\":{\"subflows\":%u,\"add_addr_signal\":%u,"
                                    "\"add_addr_accepted\":%u,\"subflows_max\":%u,"
                                    "\"write_seq\":%" G_GUINT64_FORMAT ",\"snd_una\":%"
                                    G_GUINT64_FORMAT ",\"rcv_nxt\":%" G_GUINT64_FORMAT "}",
                                    mptcp_connection_info_get_subflows (info),
                                    mptcp_connection_info_get_add_addr_signal (info),
                                    mptcp_connection_info_get_add_addr_accepted (info),
                                    mptcp_connection_info_get_subflows_max (info),
                                    mptcp_connection_info_get_write_seq (info),
                                    mptcp_connection_info_get_snd_una (info),
                                    mptcp_connection_info_get_rcv_nxt (info));
          if (visible)
            g_string_append (out, ",\"subflows\":[");
          else
            {
              g_string_append (out, ",\"subflows\":null,\"subflows_unavailable\":");
              json_string (out, why->message);
            }
        }
      else
        {
          g_autofree char *l = endpoint_string (local);
          g_autofree char *r = endpoint_string (remote);

          g_string_append_printf (out, "%08x  %-11s  %-25s  %-25s  %-8u  %u\n",
                                  mptcp_connection_entry_get_token (entry),
                                  state_nick (mptcp_connection_entry_get_state (entry)),
                                  l, r, info != NULL ? mptcp_connection_info_get_subflows (info) + 1 : n_subflows,
                                  mptcp_connection_entry_get_uid (entry));
        }

      for (guint j = 0; visible && j < n_subflows; j++)
        {
          g_autoptr(MptcpSubflowEntry) subflow = g_list_model_get_item (subflows, j);
          g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_entry_get_stats (subflow);
          GInetSocketAddress *sl = mptcp_subflow_entry_get_local_address (subflow);
          GInetSocketAddress *sr = mptcp_subflow_entry_get_remote_address (subflow);
          double tx = -1, rx = -1;

          if (stats != NULL)
            subflow_rates (top, next, subflow, stats, now, &tx, &rx);
          if (top->json)
            {
              if (j > 0)
                g_string_append_c (out, ',');
              g_string_append_printf (out, "{\"local_id\":%u,\"remote_id\":%u,",
                                      mptcp_subflow_entry_get_local_id (subflow),
                                      mptcp_subflow_entry_get_remote_id (subflow));
              json_address (out, "local", sl);
              g_string_append_c (out, ',');
              json_address (out, "peer", sr);
              g_string_append_printf (out, ",\"state\":\"%s\",\"backup\":%s,\"peer_backup\":%s,"
                                      "\"join\":%s,\"remote_token\":\"%08x\"",
                                      state_nick (mptcp_subflow_entry_get_state (subflow)),
                                      mptcp_subflow_entry_get_backup (subflow) ? "true" : "false",
                                      mptcp_subflow_entry_get_peer_backup (subflow) ? "true" : "false",
                                      mptcp_subflow_entry_get_join (subflow) ? "true" : "false",
                                      mptcp_subflow_entry_get_remote_token (subflow));
              if (stats != NULL)
                g_string_append_printf (out, ",\"rtt_us\":%u,\"cwnd\":%u,\"bytes_sent\":%"
                                        G_GUINT64_FORMAT ",\"bytes_acked\":%" G_GUINT64_FORMAT
                                        ",\"bytes_received\":%" G_GUINT64_FORMAT,
                                        mptcp_subflow_stats_get_rtt (stats),
                                        mptcp_subflow_stats_get_snd_cwnd (stats),
                                        mptcp_subflow_stats_get_bytes_sent (stats),
                                        mptcp_subflow_stats_get_bytes_acked (stats),
                                        mptcp_subflow_stats_get_bytes_received (stats));
              json_rate (out, "tx_bps", tx);
              json_rate (out, "rx_bps", rx);
              g_string_append_c (out, '}');
            }
          else
            {
              g_autofree char *l = endpoint_string (sl);
              g_autofree char *r = endpoint_string (sr);
              g_autofree char *t = rate_string (tx);
              g_autofree char *x = rate_string (rx);
              const char *backup = mptcp_subflow_entry_get_backup (subflow)
                                   ? (mptcp_subflow_entry_get_peer_backup (subflow) ? "both" : "out")
                                   : (mptcp_subflow_entry_get_peer_backup (subflow) ? "in" : "-");

              g_string_append_printf (out, "  %u/%u %-25s  %-25s  %-4s  %7.2f  %4u  %9s  %9s\n",
                                      mptcp_subflow_entry_get_local_id (subflow),
                                      mptcp_subflow_entry_get_remote_id (subflow), l, r, backup,
                                      stats != NULL ? mptcp_subflow_stats_get_rtt (stats) / 1000.0 : 0,
                                      stats != NULL ? mptcp_subflow_stats_get_snd_cwnd (stats) : 0,
                                      t, x);
            }
        }
      if (top->json)
        g_string_append (out, visible ? "]}" : "}");
    }
  if (top->json)
    g_string_append (out, "]\n");

  g_hash_table_unref (top->samples);
  top->samples = next;
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

static gboolean
refresh_once (Top *top)
{
  g_autoptr(GError) error = NULL;

  if (!mptcp_connection_list_refresh (top->list, NULL, &error))
    {
      g_printerr ("mptcp-top: %s\n", error->message);
      top->status = 1;
      return FALSE;
    }
  draw (top);
  return TRUE;
}

static gboolean
on_tick (gpointer data)
{
  Top *top = data;

  if (!refresh_once (top) || (top->count > 0 && --top->count == 0))
    {
      g_main_loop_quit (top->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer data)
{
  Top *top = data;

  g_main_loop_quit (top->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean once = FALSE, json = FALSE;
  int interval = 1000, count = -1;
  Top top = { 0 };
  GOptionEntry entries[] = {
    { "once", '1', 0, G_OPTION_ARG_NONE, &once, "Print one snapshot and exit", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON (one document per line)", NULL },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval, "Milliseconds between refreshes (1000)", "MS" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Stop after N refreshes", "N" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- every MPTCP connection of the network namespace");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || interval < 10)
    {
      g_printerr ("mptcp-top: %s\n", error != NULL ? error->message : "--interval is at least 10");
      return 2;
    }

  top.json = json;
  top.tty = !json && isatty (STDOUT_FILENO);
  top.count = once ? 1 : count;
  top.samples = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  g_type_class_ref (MPTCP_TYPE_TCP_STATE);

  top.list = mptcp_connection_list_new (NULL, &error);
  if (top.list == NULL)
    {
      g_printerr ("mptcp-top: %s\n", error->message);
      g_hash_table_unref (top.samples);
      return 1;
    }
  /* the refreshes are ours, paced by our own timer */
  mptcp_connection_list_set_interval (top.list, 0);

  if (refresh_once (&top) && top.count != 1)
    {
      guint tick, sigint, sigterm;

      if (top.count > 0)
        top.count--;
      top.loop = g_main_loop_new (NULL, FALSE);
      tick = g_timeout_add (interval, on_tick, &top);
      sigint = g_unix_signal_add (SIGINT, on_signal, &top);
      sigterm = g_unix_signal_add (SIGTERM, on_signal, &top);
      g_main_loop_run (top.loop);
      g_source_remove (sigint);
      g_source_remove (sigterm);
      /* on_tick removed itself when it ended the loop */
      if (g_main_context_find_source_by_id (NULL, tick) != NULL)
        g_source_remove (tick);
      g_main_loop_unref (top.loop);
    }

  g_hash_table_unref (top.samples);
  g_object_unref (top.list);
  g_type_class_unref (g_type_class_peek (MPTCP_TYPE_TCP_STATE));
  return top.status;
}
