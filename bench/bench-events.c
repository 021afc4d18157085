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
 * Printed, as medians over R runs of N events (the configurations alternate run by run), per
 * event: wall time, this thread's CPU time (user + system: robust on a busy machine), events/s:
 *   parse only               _mptcp_netlink_parse_event() over the same messages, no socket
 *   raw recv + parse         send + recv + parse on a socketpair without GLib or the broker:
 *                            the floor any socket-fed design pays
 *   broker, 1 / S subs       send + broker (GSource, recvmsg, parse, token lookup, callback)
 *   monitor, 1 / S subs      the same with an MptcpMonitor also subscribed: an MptcpEvent and
 *                            an "event" signal emission per event
 *   broker, 1 sub, mixed     one subscription, and nine events in ten of other connections
 *                            (tokens nobody follows): what a busy namespace costs a process
 * and the S/1 cost ratios (from CPU time; wall time beside). Targets (issue #5): >= 100k events/s
 * (wall) for every configuration, S/1 ratio <= 1.2.
 * Exit status 1 if a target is missed. Needs no privilege and no kernel MPTCP.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* Time of one run: wall clock (for events/s) and this thread's CPU time (for the ratios: it
 * leaves out the time other processes of a busy machine took the CPU away). */
typedef struct
{
  double wall_ns;   /* per event */
  double cpu_ns;    /* per event */
} Sample;

typedef struct
{
  gint64          wall;
  struct timespec cpu;
} Stamp;

static void
stamp (Stamp *s)
{
  s->wall = g_get_monotonic_time ();
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &s->cpu);
}

static Sample
sample_between (const Stamp *a, const Stamp *b, guint64 n_events)
{
  Sample out;
  double cpu = (double) (b->cpu.tv_sec - a->cpu.tv_sec) * 1e9
               + (double) (b->cpu.tv_nsec - a->cpu.tv_nsec);

  out.wall_ns = (double) (b->wall - a->wall) * 1000.0 / (double) n_events;
  out.cpu_ns = cpu / (double) n_events;
  return out;
}

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

/* One broker on one socketpair, run alternately with 1 and with S token subscriptions (the
 * other S - 1 are added and removed between runs, outside the timing), so that both sides of
 * the ratio share the same sockets, broker and memory layout. */
typedef struct
{
  gboolean      with_monitor;
  GMainContext *context;
  MptcpNetlink *nl;
  MptcpMonitor *monitor;
  int           kernel_ev;
  int           kernel_req;
  const guint32 *tokens;
  guint         max_subs;
  guint         n_subs;     /* active now */
  guint        *sub_ids;
  Counter       counter;
  GArray       *samples[2]; /* of Sample: [0] with 1 subscription, [1] with max_subs */
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
config_set_subs (Config *cfg, guint n)
{
  g_autoptr(GError) error = NULL;

  for (; cfg->n_subs < n; cfg->n_subs++)
    {
      cfg->sub_ids[cfg->n_subs] = _mptcp_netlink_subscribe (cfg->nl, FALSE,
                                                            cfg->tokens[cfg->n_subs],
                                                            token_event_cb, NULL,
                                                            &cfg->counter, &error);
      g_assert_no_error (error);
    }
  for (; cfg->n_subs > n; cfg->n_subs--)
    _mptcp_netlink_unsubscribe (cfg->nl, cfg->sub_ids[cfg->n_subs - 1]);
}

static void
config_init (Config *cfg, guint max_subs, const guint32 *tokens, gboolean with_monitor)
{
  g_autoptr(GError) error = NULL;
  int req[2], ev[2];
  int sndbuf = 4 * 1024 * 1024;

  memset (cfg, 0, sizeof *cfg);
  cfg->with_monitor = with_monitor;
  cfg->tokens = tokens;
  cfg->max_subs = max_subs;
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, req), ==, 0);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ev), ==, 0);
  /* room for a whole batch (the kernel caps it at wmem_max; EAGAIN is handled anyway) */
  setsockopt (ev[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  cfg->context = g_main_context_new ();
  cfg->nl = _mptcp_netlink_new_for_fds (req[0], ev[0], FAKE_FAMILY, FAKE_GROUP, cfg->context);
  cfg->kernel_req = req[1];
  cfg->kernel_ev = ev[1];
  cfg->sub_ids = g_new0 (guint, max_subs);
  config_set_subs (cfg, 1);
  if (with_monitor)
    {
      cfg->monitor = _mptcp_monitor_new_for_netlink (cfg->nl, &error);
      g_assert_no_error (error);
      g_signal_connect (cfg->monitor, "event", G_CALLBACK (monitor_event_cb), &cfg->counter);
    }
  cfg->samples[0] = g_array_new (FALSE, FALSE, sizeof (Sample));
  cfg->samples[1] = g_array_new (FALSE, FALSE, sizeof (Sample));
}

static void
config_clear (Config *cfg)
{
  g_clear_object (&cfg->monitor);
  config_set_subs (cfg, 0);
  g_free (cfg->sub_ids);
  _mptcp_netlink_unref (cfg->nl);
  close (cfg->kernel_ev);
  close (cfg->kernel_req);
  while (g_main_context_iteration (cfg->context, FALSE))
    ;
  g_main_context_unref (cfg->context);
  g_array_unref (cfg->samples[0]);
  g_array_unref (cfg->samples[1]);
}

/* Writes up to n events (from event number first on), without blocking; returns how many.
 * Event i carries token i mod n_tokens; with every > 0 (a process that follows one connection
 * of a busy namespace) tokens[0], the followed one, when i % every == every - 1, else one of
 * tokens[1..n_tokens - 1], which nobody follows. */
static guint
send_events (int fd, const guint32 *tokens, guint n_tokens, guint every, guint64 first, guint n)
{
  guint sent = 0;

  for (; sent < n; sent++)
    {
      guint64 i = first + sent;
      EvMsg *m = &kinds[i % N_KINDS];

      if (every == 0)
        set_token (m, tokens[i % n_tokens]);
      else
        set_token (m, i % every == every - 1 ? tokens[0] : tokens[1 + i % (n_tokens - 1)]);
      if (send (fd, m->buf, evmsg_len (m), MSG_DONTWAIT) < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            break;
          g_error ("send: %s", g_strerror (errno));
        }
    }
  return sent;
}

/* n_events through the broker with n_subs subscriptions active, each event of a subscribed
 * token; with every > 0, one subscription (tokens[0]) and one event in every of it, the
 * others of tokens nobody follows (n_events a multiple of every: the run ends with the
 * dispatch of its last event, the others were read before it) */
static Sample
config_run (Config *cfg, guint n_subs, guint every, guint64 n_events)
{
  guint64 done = 0, start_events;
  Stamp t0, t1;

  g_assert_true (every == 0 || (n_subs == 1 && n_events % every == 0));
  config_set_subs (cfg, n_subs);
  start_events = cfg->counter.events;
  stamp (&t0);
  while (done < n_events)
    {
      guint want = (guint) MIN ((guint64) BATCH, n_events - done);
      guint sent = send_events (cfg->kernel_ev, cfg->tokens, every == 0 ? n_subs : cfg->max_subs,
                                every, done, want);

      done += sent;
      /* until the broker has dispatched all of them */
      while (cfg->counter.events - start_events < (every == 0 ? done : done / every))
        g_main_context_iteration (cfg->context, TRUE);
    }
  stamp (&t1);
  if (cfg->with_monitor)
    g_assert_cmpuint (cfg->counter.monitor_events, ==, cfg->counter.events);
  return sample_between (&t0, &t1, n_events);
}

/* ---- baselines ----------------------------------------------------------------------------- */

static Sample
run_parse_only (const guint32 *tokens, guint n_tokens, guint64 n_events)
{
  static EvMsg pool[N_KINDS * 64];
  volatile guint64 sink = 0;
  MptcpNlEvent event;
  Stamp t0, t1;

  /* messages prepared beforehand: the loop measures the parser alone */
  for (guint i = 0; i < G_N_ELEMENTS (pool); i++)
    {
      pool[i] = kinds[i % N_KINDS];
      pool[i].nlh = (struct nlmsghdr *) pool[i].buf;
      set_token (&pool[i], tokens[i % n_tokens]);
    }
  stamp (&t0);
  for (guint64 i = 0; i < n_events; i++)
    {
      const EvMsg *m = &pool[i % G_N_ELEMENTS (pool)];

      if (!_mptcp_netlink_parse_event (m->buf, m->nlh->nlmsg_len, &event))
        g_error ("a recorded event did not parse");
      sink += event.token;
    }
  stamp (&t1);
  (void) sink;
  return sample_between (&t0, &t1, n_events);
}

static Sample
run_raw (const guint32 *tokens, guint n_tokens, guint64 n_events)
{
  guint8 buf[4096] __attribute__ ((aligned (8)));
  volatile guint64 sink = 0;
  MptcpNlEvent event;
  guint64 done = 0;
  Stamp t0, t1;
  int sv[2];
  int sndbuf = 4 * 1024 * 1024;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  setsockopt (sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  stamp (&t0);
  while (done < n_events)
    {
      guint want = (guint) MIN ((guint64) BATCH, n_events - done);
      guint sent = send_events (sv[1], tokens, n_tokens, 0, done, want);

      for (guint i = 0; i < sent; i++)
        {
          gssize n = recv (sv[0], buf, sizeof buf, 0);

          if (n <= 0 || !_mptcp_netlink_parse_event (buf, (gsize) n, &event))
            g_error ("raw baseline: bad datagram");
          sink += event.token;
        }
      done += sent;
    }
  stamp (&t1);
  close (sv[0]);
  close (sv[1]);
  (void) sink;
  return sample_between (&t0, &t1, n_events);
}

/* ---- main ---------------------------------------------------------------------------------- */

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* median of the wall (cpu = FALSE) or CPU times of the samples */
static double
median (GArray *samples, gboolean cpu)
{
  g_autoptr(GArray) values = g_array_sized_new (FALSE, FALSE, sizeof (double), samples->len);

  for (guint i = 0; i < samples->len; i++)
    {
      const Sample *sm = &g_array_index (samples, Sample, i);
      double v = cpu ? sm->cpu_ns : sm->wall_ns;

      g_array_append_val (values, v);
    }
  g_array_sort (values, compare_double);
  return g_array_index (values, double, values->len / 2);
}

static void
print_line (const char *what, GArray *samples)
{
  double wall = median (samples, FALSE), cpu = median (samples, TRUE);

  printf ("  %-40s %8.1f %8.1f %12.0f\n", what, wall, cpu, 1e9 / wall);
}

int
main (int argc, char **argv)
{
  gint64 n_events = 100000;
  gint64 runs = 11;
  gint64 n_subs = 10000;
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) parse = g_array_new (FALSE, FALSE, sizeof (Sample));
  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (Sample));
  g_autoptr(GArray) mixed = g_array_new (FALSE, FALSE, sizeof (Sample));
  enum { EVERY = 10 };   /* mixed: the followed connection has one event in EVERY */
  gint64 n_mixed;
  GOptionEntry entries[] = {
    { "events", 'n', 0, G_OPTION_ARG_INT64, &n_events, "Events per run (100000)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT64, &runs, "Runs per configuration (11)", "R" },
    { "subscribers", 's', 0, G_OPTION_ARG_INT64, &n_subs, "Token subscriptions (10000)", "S" },
    { NULL }
  };
  Config configs[2];
  guint32 *tokens;
  GRand *rand;
  double ratio[2], ratio_wall[2], worst_rate = G_MAXDOUBLE, floor_cpu;
  gboolean ok;

  options = g_option_context_new ("- parse + dispatch cost of MPTCP events");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (n_events < 1 || runs < 1 || n_subs < 2 || n_subs > 10000000)
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

  n_mixed = (n_events + EVERY - 1) / EVERY * EVERY;
  config_init (&configs[0], (guint) n_subs, tokens, FALSE);
  config_init (&configs[1], (guint) n_subs, tokens, TRUE);

  /* warm-up: page in everything once */
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      config_run (&configs[c], (guint) n_subs, 0, MIN (n_events, 20000));
      config_run (&configs[c], 1, 0, MIN (n_events, 20000));
    }

  for (gint64 r = 0; r < runs; r++)
    {
      Sample v;

      v = run_parse_only (tokens, (guint) n_subs, (guint64) n_events);
      g_array_append_val (parse, v);
      v = run_raw (tokens, (guint) n_subs, (guint64) n_events);
      g_array_append_val (raw, v);
      v = config_run (&configs[0], 1, EVERY, (guint64) n_mixed);
      g_array_append_val (mixed, v);
      for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
        for (guint k = 0; k < 2; k++)
          {
            /* alternate the order so that drift hurts both sides alike */
            guint side = (r % 2 == 0) ? k : 1 - k;

            v = config_run (&configs[c], side == 0 ? 1 : (guint) n_subs, 0, (guint64) n_events);
            g_array_append_val (configs[c].samples[side], v);
          }
    }

  printf ("bench-events: %" G_GINT64_FORMAT " events per run, medians of %" G_GINT64_FORMAT
          " runs; %d event kinds as kernel 6.18 lays them out, one per datagram\n",
          n_events, runs, N_KINDS);
  printf ("  %-40s %8s %8s %12s\n", "ns per event", "wall", "cpu", "events/s");
  print_line ("parse only (no socket)", parse);
  print_line ("raw socketpair send + recv + parse", raw);
  floor_cpu = median (raw, TRUE);
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      const char *what = c == 0 ? "broker" : "monitor";
      char label[80];

      for (guint side = 0; side < 2; side++)
        {
          g_snprintf (label, sizeof label, "%s, %u token subscription%s", what,
                      side == 0 ? 1 : (guint) n_subs, side == 0 ? "" : "s");
          print_line (label, configs[c].samples[side]);
          worst_rate = MIN (worst_rate, 1e9 / median (configs[c].samples[side], FALSE));
        }
      ratio[c] = median (configs[c].samples[1], TRUE) / median (configs[c].samples[0], TRUE);
      ratio_wall[c] = median (configs[c].samples[1], FALSE)
                      / median (configs[c].samples[0], FALSE);
    }
  print_line ("broker, 1 subscription, 9 in 10 events other connections'", mixed);
  printf ("  (monitor = the broker plus an MptcpMonitor: an MptcpEvent and an \"event\" signal "
          "per event;\n   the last line: a process that follows one connection of ten, the "
          "others' events read, parsed and dropped)\n");
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    printf ("  ratio %" G_GINT64_FORMAT "/1, %-8s %.3f cpu, %.3f wall   (target <= 1.2);"
            " above the raw floor: %.0f / %.0f ns cpu\n",
            n_subs, c == 0 ? "broker:" : "monitor:", ratio[c], ratio_wall[c],
            median (configs[c].samples[0], TRUE) - floor_cpu,
            median (configs[c].samples[1], TRUE) - floor_cpu);
  ok = ratio[0] <= 1.2 && ratio[1] <= 1.2 && worst_rate >= 100000.0;
  printf ("  slowest configuration: %.0f events/s (target >= 100000): %s\n", worst_rate,
          ok ? "targets met" : "TARGET MISSED");

  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    config_clear (&configs[c]);
  g_free (tokens);
  return ok ? 0 : 1;
}
