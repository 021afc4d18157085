/* bench-events.c: parse + dispatch of recorded MPTCP events, with 1 and with 10,000 subscribers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-events [--events N] [--runs R] [--subscribers S]
 *
 * Events laid out as kernel 6.18 sends them (a connection's life: CREATED, ESTABLISHED,
 * SUB_ESTABLISHED, SUB_PRIORITY, ANNOUNCED, REMOVED, SUB_CLOSED, CLOSED) are written, one per
 * datagram, into one end of a socketpair(AF_UNIX, SOCK_DGRAM) whose other end is the event
 * socket of a netlink broker (_mptcp_netlink_new_for_fds). The broker reads them from its
 * GMainContext, parses them and dispatches each to the subscribers of its token through its
 * hash table. Every event's token is one of the subscribed tokens: with 1 subscription all
 * events carry it, with S subscriptions event i carries token i mod S (random 32-bit values).
 *
 * Printed, as medians over R runs of N events (the configurations alternate run by run):
 *   parse only               _mptcp_netlink_parse_event() over the same messages, no socket
 *   raw recv + parse         send + recv + parse on a socketpair without GLib or the broker:
 *                            the floor any socket-fed design pays
 *   broker, 1 / S subs       send + broker (GSource, recvmsg, parse, token lookup, callback)
 *   monitor, 1 / S subs      the same with an MptcpMonitor also subscribed: an MptcpEvent and
 *                            an "event" signal emission per event
 * and the S/1 cost ratios. Targets (issue #5): >= 100k events/s, S/1 ratio <= 1.2.
 * Exit status 1 if a target is missed. Needs no privilege and no kernel MPTCP.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-monitor-private.h"
#include "event-messages.h"

#define FAKE_FAMILY 0x1c
#define FAKE_GROUP  9
#define N_KINDS     8
#define BATCH       128      /* datagrams written before the context runs (broker reads 128) */
#define TOKEN_OFFSET (NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN)   /* token is the first attr */

static EvMsg kinds[N_KINDS];

/* The recorded shapes of one connection's events (addresses of the testbed's path 1 / 2). */
static void
build_kinds (void)
{
  EvMsg *m = kinds;

  evmsg_tuple (m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 1, AF_INET, "192.0.2.1", 40000,
               "192.0.2.2", 5001, 0, 0);
  m++;
  evmsg_tuple (m, FAKE_FAMILY, MPTCP_EVENT_ESTABLISHED, 1, AF_INET, "192.0.2.1", 40000,
               "192.0.2.2", 5001, 0, 0);
  m++;
  evmsg_tuple (m, FAKE_FAMILY, MPTCP_EVENT_SUB_ESTABLISHED, 1, AF_INET, "198.51.100.1", 40001,
               "198.51.100.2", 5001, 1, 1);
  evmsg_u8 (m, MPTCP_ATTR_BACKUP, 0);
  m++;
  evmsg_tuple (m, FAKE_FAMILY, MPTCP_EVENT_SUB_PRIORITY, 1, AF_INET, "198.51.100.1", 40001,
               "198.51.100.2", 5001, 1, 1);
  evmsg_u8 (m, MPTCP_ATTR_BACKUP, 1);
  m++;
  evmsg_begin (m, FAKE_FAMILY, MPTCP_EVENT_ANNOUNCED);
  evmsg_u32 (m, MPTCP_ATTR_TOKEN, 1);
  evmsg_u8 (m, MPTCP_ATTR_REM_ID, 5);
  evmsg_port (m, MPTCP_ATTR_DPORT, 5001);
  evmsg_addr (m, MPTCP_ATTR_DADDR4, MPTCP_ATTR_DADDR6, "2001:db8:1::2");
  m++;
  evmsg_begin (m, FAKE_FAMILY, MPTCP_EVENT_REMOVED);
  evmsg_u32 (m, MPTCP_ATTR_TOKEN, 1);
  evmsg_u8 (m, MPTCP_ATTR_REM_ID, 5);
  m++;
  evmsg_tuple (m, FAKE_FAMILY, MPTCP_EVENT_SUB_CLOSED, 1, AF_INET, "198.51.100.1", 40001,
               "198.51.100.2", 5001, 1, 1);
  evmsg_u8 (m, MPTCP_ATTR_BACKUP, 1);
  evmsg_u8 (m, MPTCP_ATTR_ERROR, 110);
  m++;
  evmsg_begin (m, FAKE_FAMILY, MPTCP_EVENT_CLOSED);
  evmsg_u32 (m, MPTCP_ATTR_TOKEN, 1);
}

static inline void
set_token (EvMsg *m, guint32 token)
{
  memcpy (m->buf + TOKEN_OFFSET, &token, sizeof token);
}

/* ---- a broker fed through a socketpair ----------------------------------------------------- */

typedef struct
{
  guint64 events;        /* token-subscriber calls */
  guint64 checksum;
  guint64 monitor_events;
} Counter;

typedef struct
{
  const char   *name;
  guint         n_subs;
  gboolean      with_monitor;
  GMainContext *context;
  MptcpNetlink *nl;
  MptcpMonitor *monitor;
  int           kernel_ev;
  int           kernel_req;
  guint        *sub_ids;
  Counter       counter;
  GArray       *samples;   /* of double, ns per event */
} Config;

static void
token_event_cb (const MptcpNlEvent *event, gpointer user_data)
{
  Counter *c = user_data;

  c->events++;
  c->checksum += event->token ^ event->sport;
}

static void
monitor_event_cb (MptcpMonitor *monitor, MptcpEvent *event, gpointer user_data)
{
  Counter *c = user_data;

  c->monitor_events++;
  c->checksum += mptcp_event_get_raw_type (event);
}

static void
config_init (Config *cfg, const char *name, guint n_subs, const guint32 *tokens,
             gboolean with_monitor)
{
  g_autoptr(GError) error = NULL;
  int req[2], ev[2];
  int sndbuf = 4 * 1024 * 1024;

  memset (cfg, 0, sizeof *cfg);
  cfg->name = name;
  cfg->n_subs = n_subs;
  cfg->with_monitor = with_monitor;
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, req), ==, 0);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ev), ==, 0);
  /* room for a whole batch (the kernel caps it at wmem_max; EAGAIN is handled anyway) */
  setsockopt (ev[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  cfg->context = g_main_context_new ();
  cfg->nl = _mptcp_netlink_new_for_fds (req[0], ev[0], FAKE_FAMILY, FAKE_GROUP, cfg->context);
  cfg->kernel_req = req[1];
  cfg->kernel_ev = ev[1];
  cfg->sub_ids = g_new0 (guint, n_subs);
  for (guint i = 0; i < n_subs; i++)
    {
      cfg->sub_ids[i] = _mptcp_netlink_subscribe (cfg->nl, FALSE, tokens[i], token_event_cb,
                                                  NULL, &cfg->counter, &error);
      g_assert_no_error (error);
    }
  if (with_monitor)
    {
      cfg->monitor = _mptcp_monitor_new_for_netlink (cfg->nl, &error);
      g_assert_no_error (error);
      g_signal_connect (cfg->monitor, "event", G_CALLBACK (monitor_event_cb), &cfg->counter);
    }
  cfg->samples = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
config_clear (Config *cfg)
{
  g_clear_object (&cfg->monitor);
  for (guint i = 0; i < cfg->n_subs; i++)
    _mptcp_netlink_unsubscribe (cfg->nl, cfg->sub_ids[i]);
  g_free (cfg->sub_ids);
  _mptcp_netlink_unref (cfg->nl);
  close (cfg->kernel_ev);
  close (cfg->kernel_req);
  while (g_main_context_iteration (cfg->context, FALSE))
    ;
  g_main_context_unref (cfg->context);
  g_array_unref (cfg->samples);
}

/* Writes up to n events (from event number first on), without blocking; returns how many. */
static guint
send_events (int fd, const guint32 *tokens, guint n_tokens, guint64 first, guint n)
{
  guint sent = 0;

  for (; sent < n; sent++)
    {
      guint64 i = first + sent;
      EvMsg *m = &kinds[i % N_KINDS];

      set_token (m, tokens[i % n_tokens]);
      if (send (fd, m->buf, evmsg_len (m), MSG_DONTWAIT) < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            break;
          g_error ("send: %s", g_strerror (errno));
        }
    }
  return sent;
}

static double
config_run (Config *cfg, const guint32 *tokens, guint64 n_events)
{
  guint64 done = 0, start_events = cfg->counter.events;
  gint64 t0, t1;

  t0 = g_get_monotonic_time ();
  while (done < n_events)
    {
      guint want = (guint) MIN ((guint64) BATCH, n_events - done);
      guint sent = send_events (cfg->kernel_ev, tokens, cfg->n_subs, done, want);

      done += sent;
      /* until the broker has dispatched all of them */
      while (cfg->counter.events - start_events < done)
        g_main_context_iteration (cfg->context, TRUE);
    }
  t1 = g_get_monotonic_time ();
  if (cfg->with_monitor)
    g_assert_cmpuint (cfg->counter.monitor_events, ==, cfg->counter.events);
  return (double) (t1 - t0) * 1000.0 / (double) n_events;
}

/* ---- baselines ----------------------------------------------------------------------------- */

static double
run_parse_only (const guint32 *tokens, guint n_tokens, guint64 n_events)
{
  static EvMsg pool[N_KINDS * 64];
  volatile guint64 sink = 0;
  MptcpNlEvent event;
  gint64 t0, t1;

  /* messages prepared beforehand: the loop measures the parser alone */
  for (guint i = 0; i < G_N_ELEMENTS (pool); i++)
    {
      pool[i] = kinds[i % N_KINDS];
      pool[i].nlh = (struct nlmsghdr *) pool[i].buf;
      set_token (&pool[i], tokens[i % n_tokens]);
    }
  t0 = g_get_monotonic_time ();
  for (guint64 i = 0; i < n_events; i++)
    {
      const EvMsg *m = &pool[i % G_N_ELEMENTS (pool)];

      if (!_mptcp_netlink_parse_event (m->buf, m->nlh->nlmsg_len, &event))
        g_error ("a recorded event did not parse");
      sink += event.token;
    }
  t1 = g_get_monotonic_time ();
  (void) sink;
  return (double) (t1 - t0) * 1000.0 / (double) n_events;
}

static double
run_raw (const guint32 *tokens, guint n_tokens, guint64 n_events)
{
  guint8 buf[4096] __attribute__ ((aligned (8)));
  volatile guint64 sink = 0;
  MptcpNlEvent event;
  guint64 done = 0;
  gint64 t0, t1;
  int sv[2];
  int sndbuf = 4 * 1024 * 1024;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  setsockopt (sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  t0 = g_get_monotonic_time ();
  while (done < n_events)
    {
      guint want = (guint) MIN ((guint64) BATCH, n_events - done);
      guint sent = send_events (sv[1], tokens, n_tokens, done, want);

      for (guint i = 0; i < sent; i++)
        {
          gssize n = recv (sv[0], buf, sizeof buf, 0);

          if (n <= 0 || !_mptcp_netlink_parse_event (buf, (gsize) n, &event))
            g_error ("raw baseline: bad datagram");
          sink += event.token;
        }
      done += sent;
    }
  t1 = g_get_monotonic_time ();
  close (sv[0]);
  close (sv[1]);
  (void) sink;
  return (double) (t1 - t0) * 1000.0 / (double) n_events;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *samples)
{
  g_array_sort (samples, compare_double);
  return g_array_index (samples, double, samples->len / 2);
}

static void
print_line (const char *what, double ns)
{
  printf ("  %-44s %9.1f ns/event %12.0f events/s\n", what, ns, 1e9 / ns);
}

int
main (int argc, char **argv)
{
  gint64 n_events = 200000;
  gint64 runs = 7;
  gint64 n_subs = 10000;
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) parse = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (double));
  GOptionEntry entries[] = {
    { "events", 'n', 0, G_OPTION_ARG_INT64, &n_events, "Events per run (200000)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT64, &runs, "Runs per configuration (7)", "R" },
    { "subscribers", 's', 0, G_OPTION_ARG_INT64, &n_subs, "Token subscriptions (10000)", "S" },
    { NULL }
  };
  Config configs[4];
  guint32 *tokens;
  GRand *rand;
  double ratio_broker, ratio_monitor, worst_rate;
  gboolean ok;
  char name[4][64];

  options = g_option_context_new ("- parse + dispatch cost of MPTCP events");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (n_events < 1 || runs < 1 || n_subs < 1 || n_subs > 10000000)
    {
      g_printerr ("bad arguments\n");
      return 2;
    }

  build_kinds ();
  /* distinct random tokens, as the kernel hands them out */
  rand = g_rand_new_with_seed (0x6d707463);
  tokens = g_new (guint32, n_subs);
  {
    g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

    for (gint64 i = 0; i < n_subs; i++)
      {
        do
          tokens[i] = g_rand_int (rand);
        while (tokens[i] == 0 || g_hash_table_contains (seen, GUINT_TO_POINTER (tokens[i])));
        g_hash_table_add (seen, GUINT_TO_POINTER (tokens[i]));
      }
  }
  g_rand_free (rand);

  g_snprintf (name[0], sizeof name[0], "broker, 1 token subscription");
  g_snprintf (name[1], sizeof name[1], "broker, %" G_GINT64_FORMAT " token subscriptions",
              n_subs);
  g_snprintf (name[2], sizeof name[2], "monitor + 1 token subscription");
  g_snprintf (name[3], sizeof name[3], "monitor + %" G_GINT64_FORMAT " token subscriptions",
              n_subs);
  config_init (&configs[0], name[0], 1, tokens, FALSE);
  config_init (&configs[1], name[1], (guint) n_subs, tokens, FALSE);
  config_init (&configs[2], name[2], 1, tokens, TRUE);
  config_init (&configs[3], name[3], (guint) n_subs, tokens, TRUE);

  /* warm-up: page in everything once */
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    config_run (&configs[c], tokens, MIN (n_events, 20000));

  for (gint64 r = 0; r < runs; r++)
    {
      double v;

      v = run_parse_only (tokens, (guint) n_subs, (guint64) n_events);
      g_array_append_val (parse, v);
      v = run_raw (tokens, (guint) n_subs, (guint64) n_events);
      g_array_append_val (raw, v);
      /* alternate the order so that drift hurts both sides alike */
      for (guint k = 0; k < G_N_ELEMENTS (configs); k++)
        {
          guint c = (r % 2 == 0) ? k : (guint) G_N_ELEMENTS (configs) - 1 - k;

          v = config_run (&configs[c], tokens, (guint64) n_events);
          g_array_append_val (configs[c].samples, v);
        }
    }

  printf ("bench-events: %" G_GINT64_FORMAT " events per run, median of %" G_GINT64_FORMAT
          " runs, %d event kinds as kernel 6.18 lays them out, one per datagram\n",
          n_events, runs, N_KINDS);
  print_line ("parse only (no socket)", median (parse));
  print_line ("raw socketpair send + recv + parse", median (raw));
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    print_line (configs[c].name, median (configs[c].samples));

  ratio_broker = median (configs[1].samples) / median (configs[0].samples);
  ratio_monitor = median (configs[3].samples) / median (configs[2].samples);
  worst_rate = 1e9 / MAX (median (configs[1].samples), median (configs[3].samples));
  printf ("  ratio %" G_GINT64_FORMAT "/1, broker:  %.3f   (target <= 1.2)\n", n_subs,
          ratio_broker);
  printf ("  ratio %" G_GINT64_FORMAT "/1, monitor: %.3f   (target <= 1.2)\n", n_subs,
          ratio_monitor);
  printf ("  broker overhead over the raw socket floor: %.1f ns/event (1 subscription)\n",
          median (configs[0].samples) - median (raw));
  ok = ratio_broker <= 1.2 && ratio_monitor <= 1.2 && worst_rate >= 100000.0;
  printf ("  slowest configuration: %.0f events/s (target >= 100000): %s\n", worst_rate,
          ok ? "targets met" : "TARGET MISSED");

  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    config_clear (&configs[c]);
  g_free (tokens);
  return ok ? 0 : 1;
}
