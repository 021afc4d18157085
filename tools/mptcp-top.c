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
#include "viewer-json.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* appends a string literal without measuring it (a frame has ~1,000,000 appends at 10,000
 * connections) */
#define APPEND_LITERAL(out, literal) g_string_append_len ((out), "" literal, sizeof (literal) - 1)

/* what stays the same for an entry's life, formatted once, and the last sample */
typedef struct
{
  char *json_head;              /* ids/token and addresses, as JSON members */
  gsize json_head_len;
  char *local_text;
  char *remote_text;
  guint64 acked;
  guint64 received;
  gint64 time_us;               /* 0: no sample yet */
  guint generation;
} Cached;

static void
cached_free (gpointer data)
{
  Cached *c = data;

  g_free (c->json_head);
  g_free (c->local_text);
  g_free (c->remote_text);
  g_free (c);
}

typedef struct
{
  MptcpConnectionList *list;
  GMainLoop *loop;
  GHashTable *cache;            /* MptcpConnectionEntry or MptcpSubflowEntry (ref) -> Cached */
  guint generation;             /* of the frame being drawn: older cache entries are gone */
  guint seen;                   /* cache entries the frame being drawn used */
  GString *out;                 /* the frame, kept from one to the next */
  gboolean json;
  gboolean tty;
  int count;                    /* refreshes left; < 0: no limit */
  int status;
} Top;

static GEnumClass *state_class;
static const char *state_nicks[256];  /* by value, filled from state_class */

static const char *
state_nick (MptcpTcpState state)
{
  const char *nick = (guint) state < G_N_ELEMENTS (state_nicks) ? state_nicks[state] : NULL;

  return nick != NULL ? nick : "unknown";
}

/* `,"name":value` without printf (a frame of 10,000 connections has 200,000 of them) */
#define append_member(out, name, value) append_member_len ((out), "\"" name "\":", sizeof (name) + 2, (value))

static void
append_member_len (GString    *out,
                   const char *quoted,
                   gsize       quoted_len,
                   guint64     value)
{
  char digits[24];
  int i = sizeof digits;

  do
    digits[--i] = '0' + value % 10;
  while ((value /= 10) != 0);
  g_string_append_c (out, ',');
  g_string_append_len (out, quoted, quoted_len);
  g_string_append_len (out, digits + i, sizeof digits - i);
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
subflow_rates (Cached  *c,
               guint64  acked,
               guint64  received,
               gint64   now,
               double  *tx,
               double  *rx)
{
  *tx = *rx = -1;
  if (c->time_us != 0 && now > c->time_us)
    {
      double seconds = (now - c->time_us) / 1e6;

      *tx = acked >= c->acked ? (acked - c->acked) * 8 / seconds : 0;
      *rx = received >= c->received ? (received - c->received) * 8 / seconds : 0;
    }
  c->acked = acked;
  c->received = received;
  c->time_us = now;
}

static void json_address (GString *out, const char *prefix, GInetSocketAddress *address);

/* the cache entry of a connection or subflow entry, made on first sight */
static Cached *
cached (Top     *top,
        GObject *entry)
{
  Cached *c = g_hash_table_lookup (top->cache, entry);

  if (c == NULL)
    {
      g_autoptr(GString) head = g_string_new (NULL);
      GInetSocketAddress *local, *remote;

      c = g_new0 (Cached, 1);
      if (MPTCP_IS_CONNECTION_ENTRY (entry))
        {
          MptcpConnectionEntry *conn = MPTCP_CONNECTION_ENTRY (entry);

          local = mptcp_connection_entry_get_local_address (conn);
          remote = mptcp_connection_entry_get_remote_address (conn);
          g_string_append_printf (head, "\"token\":\"%08x\",", mptcp_connection_entry_get_token (conn));
          json_address (head, "local", local);
          g_string_append_c (head, ',');
          json_address (head, "peer", remote);
          g_string_append_printf (head, ",\"uid\":%u,\"inode\":%" G_GUINT64_FORMAT,
                                  mptcp_connection_entry_get_uid (conn),
                                  mptcp_connection_entry_get_inode (conn));
        }
      else
        {
          MptcpSubflowEntry *sub = MPTCP_SUBFLOW_ENTRY (entry);

          local = mptcp_subflow_entry_get_local_address (sub);
          remote = mptcp_subflow_entry_get_remote_address (sub);
          g_string_append_printf (head, "\"local_id\":%u,\"remote_id\":%u,",
                                  mptcp_subflow_entry_get_local_id (sub),
                                  mptcp_subflow_entry_get_remote_id (sub));
          json_address (head, "local", local);
          g_string_append_c (head, ',');
          json_address (head, "peer", remote);
          g_string_append_printf (head, ",\"join\":%s,\"remote_token\":\"%08x\"",
                                  mptcp_subflow_entry_get_join (sub) ? "true" : "false",
                                  mptcp_subflow_entry_get_remote_token (sub));
        }
      c->json_head_len = head->len;
      c->json_head = g_string_free (g_steal_pointer (&head), FALSE);
      c->local_text = endpoint_string (local);
      c->remote_text = endpoint_string (remote);
      g_hash_table_insert (top->cache, g_object_ref (entry), c);
    }
  if (c->generation != top->generation)
    top->seen++;
  c->generation = top->generation;
  return c;
}

static gboolean
cached_is_stale (gpointer key,
                 gpointer value,
                 gpointer data)
{
  return ((Cached *) value)->generation != GPOINTER_TO_UINT (data);
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

#define json_rate(out, name, rate) \
  G_STMT_START { \
    double rate_ = (rate); \
    if (rate_ < 0) \
      APPEND_LITERAL ((out), ",\"" name "\":null"); \
    else \
      append_member ((out), name, (guint64) (rate_ + 0.5)); \
  } G_STMT_END

static void
draw (Top *top)
{
  GListModel *model = G_LIST_MODEL (top->list);
  GString *out = top->out;
  g_autoptr(GError) why = NULL;
  gboolean visible = mptcp_connection_list_check_subflows (top->list, &why);
  gint64 now = g_get_monotonic_time ();
  guint n = g_list_model_get_n_items (model);

  g_string_truncate (out, 0);
  top->generation++;
  top->seen = 0;
  if (top->json)
    g_string_append_c (out, '[');
  else
    {
      g_autoptr(GDateTime) clock = g_date_time_new_now_local ();
      g_autofree char *stamp = g_date_time_format (clock, "%H:%M:%S");

      if (top->tty)
        APPEND_LITERAL (out, "\033[H\033[2J");
      g_string_append_printf (out, "mptcp-top %s  %u connection%s%s%s\n", stamp, n,
                              n == 1 ? "" : "s",
                              visible ? "" : "  (subflows unavailable: ",
                              visible ? "" : why->message);
      if (!visible)
        APPEND_LITERAL (out, ")\n");
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
      Cached *c = cached (top, (GObject *) entry);

      if (top->json)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          g_string_append_c (out, '{');
          g_string_append_len (out, c->json_head, c->json_head_len);
          APPEND_LITERAL (out, ",\"state\":\"");
          g_string_append (out, state_nick (mptcp_connection_entry_get_state (entry)));
          g_string_append_c (out, '"');
          if (info != NULL)
            {
              gsize first;

              APPEND_LITERAL (out, ",\"mptcp\":{");
              first = out->len;
              append_member (out, "subflows", mptcp_connection_info_get_n_subflows (info));
              g_string_erase (out, first, 1);         /* the first member's comma */
              append_member (out, "add_addr_signal", mptcp_connection_info_get_add_addr_signal (info));
              append_member (out, "add_addr_accepted", mptcp_connection_info_get_add_addr_accepted (info));
              append_member (out, "subflows_max", mptcp_connection_info_get_subflows_max (info));
              append_member (out, "write_seq", mptcp_connection_info_get_write_seq (info));
              append_member (out, "snd_una", mptcp_connection_info_get_snd_una (info));
              append_member (out, "rcv_nxt", mptcp_connection_info_get_rcv_nxt (info));
              g_string_append_c (out, '}');
            }
          if (visible)
            APPEND_LITERAL (out, ",\"subflows\":[");
          else
            {
              APPEND_LITERAL (out, ",\"subflows\":null,\"subflows_unavailable\":");
              viewer_json_string (out, why->message);
            }
        }
      else
        {
          g_string_append_printf (out, "%08x  %-11s  %-25s  %-25s  %-8u  %u\n",
                                  mptcp_connection_entry_get_token (entry),
                                  state_nick (mptcp_connection_entry_get_state (entry)),
                                  c->local_text, c->remote_text, info != NULL ? mptcp_connection_info_get_n_subflows (info) + 1 : n_subflows,
                                  mptcp_connection_entry_get_uid (entry));
        }

      for (guint j = 0; visible && j < n_subflows; j++)
        {
          g_autoptr(MptcpSubflowEntry) subflow = g_list_model_get_item (subflows, j);
          /* the fields read in place (no snapshot per subflow and frame), one after the other:
           * the dump's tcp_info is cold by now, and these reads wait for memory together */
          guint64 sent = mptcp_subflow_entry_get_stat (subflow, MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT);
          guint64 acked = mptcp_subflow_entry_get_stat (subflow, MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED);
          guint64 received = mptcp_subflow_entry_get_stat (subflow, MPTCP_SUBFLOW_STATS_FIELD_BYTES_RECEIVED);
          guint64 rtt = mptcp_subflow_entry_get_stat (subflow, MPTCP_SUBFLOW_STATS_FIELD_RTT);
          guint64 cwnd = mptcp_subflow_entry_get_stat (subflow, MPTCP_SUBFLOW_STATS_FIELD_SND_CWND);
          Cached *sc = cached (top, (GObject *) subflow);
          double tx = -1, rx = -1;

          subflow_rates (sc, acked, received, now, &tx, &rx);
          if (top->json)
            {
              if (j > 0)
                g_string_append_c (out, ',');
              g_string_append_c (out, '{');
              g_string_append_len (out, sc->json_head, sc->json_head_len);
              APPEND_LITERAL (out, ",\"state\":\"");
              g_string_append (out, state_nick (mptcp_subflow_entry_get_state (subflow)));
              g_string_append (out, mptcp_subflow_entry_get_backup (subflow)
                                    ? "\",\"backup\":true" : "\",\"backup\":false");
              g_string_append (out, mptcp_subflow_entry_get_peer_backup (subflow)
                                    ? ",\"peer_backup\":true" : ",\"peer_backup\":false");
              append_member (out, "rtt_us", rtt);
              append_member (out, "cwnd", cwnd);
              append_member (out, "bytes_sent", sent);
              append_member (out, "bytes_acked", acked);
              append_member (out, "bytes_received", received);
              json_rate (out, "tx_bps", tx);
              json_rate (out, "rx_bps", rx);
              g_string_append_c (out, '}');
            }
          else
            {
              g_autofree char *t = rate_string (tx);
              g_autofree char *x = rate_string (rx);
              const char *backup = mptcp_subflow_entry_get_backup (subflow)
                                   ? (mptcp_subflow_entry_get_peer_backup (subflow) ? "both" : "out")
                                   : (mptcp_subflow_entry_get_peer_backup (subflow) ? "in" : "-");

              g_string_append_printf (out, "  %u/%u %-25s  %-25s  %-4s  %7.2f  %4u  %9s  %9s\n",
                                      mptcp_subflow_entry_get_local_id (subflow),
                                      mptcp_subflow_entry_get_remote_id (subflow),
                                      sc->local_text, sc->remote_text, backup,
                                      rtt / 1000.0, (guint) cwnd,
                                      t, x);
            }
        }
      if (top->json)
        g_string_append (out, visible ? "]}" : "}");
    }
  if (top->json)
    APPEND_LITERAL (out, "]\n");

  /* the entries of connections and subflows that have gone (a walk over the whole cache
   * only when the frame did not use all of it) */
  if (top->seen != g_hash_table_size (top->cache))
    g_hash_table_foreach_remove (top->cache, cached_is_stale, GUINT_TO_POINTER (top->generation));
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

static double
cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* --bench N (for bench/bench-viewers.c): N rounds, interleaved, of a refresh alone and of a
 * refresh and its frame (drawn to stdout); the medians of their CPU times on stderr */
static int
bench (Top  *top,
       guint rounds)
{
  g_autofree double *alone = g_new (double, rounds);
  g_autofree double *frame = g_new (double, rounds);

  for (guint r = 0; r < rounds; r++)
    {
      double t0 = cpu_us (), t1;

      if (!mptcp_connection_list_refresh (top->list, NULL, NULL))
        return 1;
      t1 = cpu_us ();
      alone[r] = t1 - t0;
      if (!refresh_once (top))
        return 1;
      frame[r] = cpu_us () - t1;
    }
  qsort (alone, rounds, sizeof (double), compare_double);
  qsort (frame, rounds, sizeof (double), compare_double);
  g_printerr ("mptcp-top --bench: %u connections, median CPU us: refresh %.0f, refresh + frame %.0f\n",
              g_list_model_get_n_items (G_LIST_MODEL (top->list)), alone[rounds / 2],
              frame[rounds / 2]);
  return 0;
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
  int interval = 1000, count = -1, bench_rounds = 0;
  Top top = { 0 };
  GOptionEntry entries[] = {
    { "once", '1', 0, G_OPTION_ARG_NONE, &once, "Print one snapshot and exit", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON (one document per line)", NULL },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval, "Milliseconds between refreshes (1000)", "MS" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Stop after N refreshes", "N" },
    { "bench", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &bench_rounds, "Time N refreshes", "N" },
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
  top.cache = g_hash_table_new_full (NULL, NULL, g_object_unref, cached_free);
  top.out = g_string_new (NULL);
  state_class = g_type_class_ref (MPTCP_TYPE_TCP_STATE);
  for (guint i = 0; i < state_class->n_values; i++)
    if ((guint) state_class->values[i].value < G_N_ELEMENTS (state_nicks))
      state_nicks[state_class->values[i].value] = state_class->values[i].value_nick;

  top.list = mptcp_connection_list_new (NULL, &error);
  if (top.list == NULL)
    {
      g_printerr ("mptcp-top: %s\n", error->message);
      g_hash_table_unref (top.cache);
      g_string_free (top.out, TRUE);
      return 1;
    }
  /* the refreshes are ours, paced by our own timer */
  mptcp_connection_list_set_interval (top.list, 0);

  if (bench_rounds > 0)
    top.status = bench (&top, bench_rounds);
  else if (refresh_once (&top) && top.count != 1)
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

  g_hash_table_unref (top.cache);
  g_string_free (top.out, TRUE);
  g_object_unref (top.list);
  g_type_class_unref (state_class);
  return top.status;
}
