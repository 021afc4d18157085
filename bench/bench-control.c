/* bench-control.c: open + established + close of a subflow through the library against the
 * same raw netlink requests, and the memory of idle registered connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run inside a testbed:  ./_build/tests/mptcp-testbed ./_build/bench/bench-control [ROUNDS|--smoke]
 * (run directly, it builds its own testbed).
 *
 * The server namespace is switched to the userspace path manager for the connection used
 * here (an in-kernel-PM peer refuses joins now and then in fast loops). One round is:
 *   raw      SUBFLOW_CREATE (explicit local id), its ack, read events until SUB_ESTABLISHED
 *            of the new subflow, SUBFLOW_DESTROY of its 4-tuple, its ack, read events until
 *            SUB_CLOSED: libmnl on two sockets of the bench's own, no library code;
 *   loop     the raw side's messages, non-blocking, each completion read from the
 *            thread-default GMainContext (recursive fd sources, no library code): the floor
 *            of any main-loop-driven API;
 *   loop-task the same with one GTask per operation, as the _async/_finish contract needs;
 *   library  mptcp_connection_open_subflow_async() then mptcp_subflow_close_async() on the
 *            thread-default main loop (both complete on the kernel's events);
 *   library-sync  mptcp_connection_open_subflow() then mptcp_subflow_close().
 * One cycle runs a batch of 50 rounds of each side in turn. It prints the median wall time
 * per round of each side, its ratio to raw, and the median and quartiles over the cycles of
 * the ratio of the cycle's batch medians (robust to slow spells of a shared machine). The
 * target for the library is <= 1.1. With BENCH_CONTROL_SIDE=raw, loop, loop-task, library or
 * library-sync in the environment only that side runs (for profilers: callgrind, perf);
 * with BENCH_CONTROL_ONLY=flight, second or kernel-pm, one batch of the cycle (a warm-up) and
 * then only that section.
 *
 * Memory: mallinfo2() before and after making 1000 MptcpConnection objects of 1000 idle
 * connections (each subscribed to the kernel's events), divided by 1000 (target <= 1 KiB).
 */

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <libmnl/libmnl.h>
#include <glib-unix.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "read-common.h"
#include "mptcp-connection-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-sockopt-private.h"

/* A timed part alone in a function of its own, for callgrind's --toggle-collect: never inlined,
 * and with GCC never cloned under another name (clang has no noclone and makes no such clones) */
#if defined(__clang__)
#define BENCH_WINDOW __attribute__ ((noinline))
#else
#define BENCH_WINDOW __attribute__ ((noinline, noclone))
#endif

/* --smoke: every section with the fewest rounds that exercise all its paths (the bench-smoke
 * test: natively, under valgrind and with ASan, so that a contestant that leaks, crashes or
 * stops working is found by CI; its figures mean nothing). */
static gboolean smoke;

/* n rounds, or few in a smoke run */
static guint
sized (guint n, guint few)
{
  return smoke ? few : n;
}

#define PORT 6100
#define BATCH 50

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static int cmp_i64 (const void *a, const void *b);

/* The median of one batch of round times. */
static double
batch_median (const gint64 *times)
{
  gint64 copy[BATCH];

  memcpy (copy, times, sizeof copy);
  qsort (copy, BATCH, sizeof (gint64), cmp_i64);
  return (double) copy[BATCH / 2];
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* ---- raw baseline ------------------------------------------------------------------------ */

typedef struct
{
  struct mnl_socket *req;
  struct mnl_socket *ev;
  guint16 family;
  guint32 seq;
  guint32 token;
  struct in_addr local, remote;
  guint16 remote_port;
  int fd;                       /* the connection's socket (the in-flight section's check) */
  char buf[8192];
} Raw;

static void
put_addr (struct nlmsghdr *nlh,
          guint16          type,
          struct in_addr  *addr,
          guint16          port,
          guint8           id)
{
  struct nlattr *nest = mnl_attr_nest_start (nlh, type);

  mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
  mnl_attr_put (nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, addr);
  if (id != 0)
    mnl_attr_put_u8 (nlh, MPTCP_PM_ADDR_ATTR_ID, id);
  if (port != 0)
    mnl_attr_put_u16 (nlh, MPTCP_PM_ADDR_ATTR_PORT, port);
  mnl_attr_nest_end (nlh, nest);
}

static void
raw_send (Raw     *raw,
          guint8   cmd,
          guint16  local_port)
{
  char buf[512];
  struct nlmsghdr *nlh;
  struct genlmsghdr *genl;

  /* as the library's encoder: no uninitialised padding on the wire */
  memset (buf, 0, sizeof buf);
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = raw->family;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = ++raw->seq;
  genl = mnl_nlmsg_put_extra_header (nlh, sizeof *genl);
  genl->cmd = cmd;
  genl->version = 1;
  mnl_attr_put_u32 (nlh, MPTCP_PM_ATTR_TOKEN, raw->token);
  put_addr (nlh, MPTCP_PM_ATTR_ADDR, &raw->local, local_port, cmd == MPTCP_PM_CMD_SUBFLOW_CREATE ? 1 : 0);
  put_addr (nlh, MPTCP_PM_ATTR_ADDR_REMOTE, &raw->remote, raw->remote_port, 0);
  g_assert_cmpint (mnl_socket_sendto (raw->req, nlh, nlh->nlmsg_len), >, 0);
}

/* Checks the ack of the last request in raw->buf. */
static void
raw_check_ack (Raw *raw,
               int  n)
{
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (mnl_cb_run (raw->buf, n, raw->seq, mnl_socket_get_portid (raw->req), NULL, NULL),
                   >=, 0);
}

static void
raw_request (Raw     *raw,
             guint8   cmd,
             guint16  local_port)
{
  raw_send (raw, cmd, local_port);
  raw_check_ack (raw, mnl_socket_recvfrom (raw->req, raw->buf, sizeof raw->buf));
}

typedef struct
{
  guint8 type;
  guint32 token;
  guint16 sport;
} RawEvent;

static int
raw_event_attr (const struct nlattr *attr,
                void               *data)
{
  RawEvent *ev = data;

  switch (mnl_attr_get_type (attr))
    {
    case MPTCP_ATTR_TOKEN:
      ev->token = mnl_attr_get_u32 (attr);
      break;
    case MPTCP_ATTR_SPORT:
      ev->sport = ntohs (mnl_attr_get_u16 (attr));
      break;
    default:
      break;
    }
  return MNL_CB_OK;
}

/* Parses the event in raw->buf. */
static void
raw_parse_event (Raw      *raw,
                 RawEvent *ev)
{
  struct nlmsghdr *nlh = (struct nlmsghdr *) raw->buf;
  struct genlmsghdr *genl = mnl_nlmsg_get_payload (nlh);

  memset (ev, 0, sizeof *ev);
  mnl_attr_parse (nlh, sizeof *genl, raw_event_attr, ev);
  ev->type = genl->cmd;
}

/* Reads the next event (blocking) and parses it. */
static void
raw_read_event (Raw      *raw,
                RawEvent *ev)
{
  g_assert_cmpint (mnl_socket_recvfrom (raw->ev, raw->buf, sizeof raw->buf), >, 0);
  raw_parse_event (raw, ev);
}

/* Parses the event in raw->buf: TRUE if it is of type for our token (*sport set). */
static gboolean
raw_event_is (Raw     *raw,
              guint8   type,
              guint16 *sport)
{
  RawEvent ev;

  raw_parse_event (raw, &ev);
  *sport = ev.sport;
  return ev.type == type && ev.token == raw->token;
}

/* Reads events until one of type for our token; returns its sport. */
static guint16
raw_wait_event (Raw   *raw,
                guint8 type)
{
  guint16 sport;

  for (;;)
    {
      int n = mnl_socket_recvfrom (raw->ev, raw->buf, sizeof raw->buf);

      g_assert_cmpint (n, >, 0);
      if (raw_event_is (raw, type, &sport))
        return sport;
    }
}

static void
raw_round (Raw *raw)
{
  guint16 sport;

  raw_request (raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
  sport = raw_wait_event (raw, MPTCP_EVENT_SUB_ESTABLISHED);
  raw_request (raw, MPTCP_PM_CMD_SUBFLOW_DESTROY, sport);
  raw_wait_event (raw, MPTCP_EVENT_SUB_CLOSED);
}

/* ---- the same requests driven by a GMainContext ------------------------------------------- */

/* The floor of any main-loop-driven async API: the raw side's messages on the same two
 * sockets (non-blocking), each completion read from the thread-default GMainContext by a
 * recursive fd source (no eventfd writes around dispatches), with or without one GTask per
 * operation (the _async/_finish contract). No library code. */
typedef struct
{
  Raw *raw;
  gboolean use_task;
  guint8 phase;                 /* 0 idle, 1 opening, 2 closing, 3 waiting for ESTABLISHED */
  gboolean acked, evented, done;
  guint16 sport;
  GMainContext *context;        /* its own, so that the library's sources cost it nothing */
  GSource *req_source, *ev_source;
  GObject *api_connection;      /* the API-shaped floor's stand-in for MptcpConnection */
  int api_fd;                   /* >= 0: also the library's two kernel reads, on this socket */
} Loop;

/* The list read the library makes (mptcp-sockopt.c) as one plain getsockopt(): MPTCP_FULL_INFO
 * of up to n subflows with their tcp_info, and the MPTCP info if asked; no library code. */
static void
plain_full_info (int               fd,
                 mpx_subflow_info *sf,
                 guint8           *tcp,
                 guint             n,
                 gboolean          with_mptcp_info)
{
  struct
  {
    mpx_full_info_head head;
    mpx_mptcp_info info;
  } req;
  socklen_t len = with_mptcp_info ? sizeof req : sizeof req.head;

  memset (&req, 0, len);
  req.head.size_tcpinfo_user = MPTCP_SOCKOPT_TCP_INFO_SIZE;
  req.head.size_sfinfo_user = sizeof (mpx_subflow_info);
  req.head.size_arrays_user = n;
  req.head.subflow_info = (guint64) (guintptr) sf;
  req.head.tcp_info = (guint64) (guintptr) tcp;
  g_assert_cmpint (getsockopt (fd, SOL_MPTCP, MPX_FULL_INFO, &req, &len), ==, 0);
  g_assert_cmpuint (req.head.num_subflows, <=, n);
}

/* The kernel reads the library cannot leave out on the connect()-to-second-subflow path, and
 * which neither raw nor the floors make: the connection's list with its MPTCP info when the
 * connection object is made (the token that routes its events, its subflows, whether it is
 * established), and the list with every subflow's TCP state when a subflow is established
 * (the refused-join check, issue 12's defect 2). */
static void
floor_list_read (int fd, gboolean with_mptcp_info)
{
  static mpx_subflow_info sf[4];
  static guint8 tcp[G_N_ELEMENTS (sf) * MPTCP_SOCKOPT_TCP_INFO_SIZE];

  plain_full_info (fd, sf, tcp, G_N_ELEMENTS (sf), with_mptcp_info);
}

/* The API-shaped floor: the objects the library's API makes any implementation create on the
 * connect()-to-second-subflow path, and nothing else: a GObject per connection with an
 * `established` property whose change is notified, the application's `notify::established`
 * handler, a GObject for the new subflow returned through the GTask. A stand-in for each,
 * with no state beyond what the path needs. */
typedef struct { GObject parent; gboolean established; } BenchConn;
typedef struct { GObjectClass parent_class; } BenchConnClass;
typedef struct { GObject parent; guint16 sport; } BenchSub;
typedef struct { GObjectClass parent_class; } BenchSubClass;

static GType bench_conn_get_type (void);
static GType bench_sub_get_type (void);
G_DEFINE_TYPE (BenchConn, bench_conn, G_TYPE_OBJECT)
G_DEFINE_TYPE (BenchSub, bench_sub, G_TYPE_OBJECT)

static GParamSpec *bench_conn_established;

static void
bench_conn_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_boolean (value, ((BenchConn *) object)->established);
}

static void
bench_conn_class_init (BenchConnClass *klass)
{
  G_OBJECT_CLASS (klass)->get_property = bench_conn_get_property;
  bench_conn_established = g_param_spec_boolean ("established", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                                                 G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_property (G_OBJECT_CLASS (klass), 1, bench_conn_established);
}

static void bench_conn_init (BenchConn *self) { }
static void bench_sub_class_init (BenchSubClass *klass) { }
static void bench_sub_init (BenchSub *self) { }

static void loop_start_close (Loop *loop);

static void
loop_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Loop *loop = user_data;

  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
  loop->done = TRUE;
}

static void
loop_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Loop *loop = user_data;

  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
  loop_start_close (loop);
}

static GTask *loop_task;

/* Returns the pending task and drops the creator's reference (the callback holds its own). */
static void
loop_return (gpointer result, GDestroyNotify notify)
{
  GTask *task = g_steal_pointer (&loop_task);

  if (notify != NULL)
    g_task_return_pointer (task, result, notify);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
loop_advance (Loop *loop)
{
  if (!loop->acked || !loop->evented)
    return;
  if (loop->phase == 1)
    {
      if (loop->api_connection != NULL)
        {
          BenchSub *sub = g_object_new (bench_sub_get_type (), NULL);

          sub->sport = loop->sport;
          loop_return (sub, g_object_unref);
        }
      else if (loop->use_task)
        loop_return (NULL, NULL);
      else
        loop_start_close (loop);
    }
  else if (loop->phase == 2)
    {
      loop->phase = 0;
      if (loop->use_task)
        loop_return (NULL, NULL);
      else
        loop->done = TRUE;
    }
}

static void
loop_start_close (Loop *loop)
{
  loop->phase = 2;
  loop->acked = loop->evented = FALSE;
  if (loop->use_task)
    loop_task = g_task_new (NULL, NULL, loop_closed_cb, loop);
  raw_send (loop->raw, MPTCP_PM_CMD_SUBFLOW_DESTROY, loop->sport);
}

static gboolean
loop_req_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  Loop *loop = user_data;
  int n = (int) recv (fd, loop->raw->buf, sizeof loop->raw->buf, MSG_DONTWAIT);

  if (n > 0 && loop->phase != 0)
    {
      raw_check_ack (loop->raw, n);
      loop->acked = TRUE;
      loop_advance (loop);
    }
  return G_SOURCE_CONTINUE;
}

static void loop_second_start (Loop *loop);

static gboolean
loop_ev_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  Loop *loop = user_data;
  int n;

  while ((n = (int) recv (fd, loop->raw->buf, sizeof loop->raw->buf, MSG_DONTWAIT)) > 0)
    {
      guint16 sport;

      if (loop->phase == 3)
        loop_second_start (loop);
      else if (loop->phase == 1 && raw_event_is (loop->raw, MPTCP_EVENT_SUB_ESTABLISHED, &sport))
        {
          if (loop->api_fd >= 0)
            floor_list_read (loop->api_fd, FALSE);
          loop->sport = sport;
          loop->evented = TRUE;
          loop_advance (loop);
        }
      else if (loop->phase == 2 && raw_event_is (loop->raw, MPTCP_EVENT_SUB_CLOSED, &sport))
        {
          loop->evented = TRUE;
          loop_advance (loop);
        }
    }
  return G_SOURCE_CONTINUE;
}

static GSource *
loop_source (int fd, GUnixFDSourceFunc func, Loop *loop)
{
  GSource *source = g_unix_fd_source_new (fd, G_IO_IN);

  g_source_set_can_recurse (source, TRUE);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) func, loop, NULL);
  g_source_attach (source, loop->context);
  return source;
}

/* A context of its own, made thread-default and given the two sources for a batch only,
 * so that the library's sources and the loop's cost each other nothing. */
static void
loop_attach (Loop *loop)
{
  if (loop->context == NULL)
    loop->context = g_main_context_new ();
  g_main_context_push_thread_default (loop->context);
  loop->req_source = loop_source (mnl_socket_get_fd (loop->raw->req), loop_req_cb, loop);
  loop->ev_source = loop_source (mnl_socket_get_fd (loop->raw->ev), loop_ev_cb, loop);
}

static void
loop_detach (Loop *loop)
{
  g_source_destroy (loop->req_source);
  g_clear_pointer (&loop->req_source, g_source_unref);
  g_source_destroy (loop->ev_source);
  g_clear_pointer (&loop->ev_source, g_source_unref);
  g_main_context_pop_thread_default (loop->context);
}

static void
loop_round (Loop *loop)
{
  loop->done = FALSE;
  loop->phase = 1;
  loop->acked = loop->evented = FALSE;
  if (loop->use_task)
    loop_task = g_task_new (NULL, NULL, loop_opened_cb, loop);
  raw_send (loop->raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
  while (!loop->done)
    g_main_context_iteration (loop->context, TRUE);
}

/* ---- library ------------------------------------------------------------------------------ */

typedef struct
{
  MptcpConnection *connection;
  GInetSocketAddress *local, *remote;
  gboolean done;
} Lib;

static void
lib_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lib *lib = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &error));
  g_assert_no_error (error);
  lib->done = TRUE;
}

static void
lib_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lib *lib = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) sf = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source),
                                                                     result, &error);

  g_assert_no_error (error);
  mptcp_subflow_close_async (sf, NULL, lib_closed_cb, lib);
}

static void
lib_round (Lib *lib)
{
  lib->done = FALSE;
  mptcp_connection_open_subflow_async (lib->connection, lib->local, lib->remote, NULL,
                                       lib_opened_cb, lib);
  while (!lib->done)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- the sides ---------------------------------------------------------------------------- */

enum { SIDE_RAW, SIDE_LOOP, SIDE_LOOP_TASK, SIDE_LIB, SIDE_LIB_SYNC, N_SIDES };

static const char *side_keys[N_SIDES] = { "raw", "loop", "loop-task", "library", "library-sync" };
static const char *side_names[N_SIDES] = {
  "raw netlink (libmnl, blocking)",
  "raw netlink + main loop",
  "raw netlink + main loop + GTask",
  "library (async)",
  "library (sync)",
};

static void lib_round_sync (Lib *lib);

static void
side_round (guint  side,
            Raw   *raw,
            Loop  *loop,
            Loop  *loop_task_side,
            Lib   *lib)
{
  switch (side)
    {
    case SIDE_RAW:
      raw_round (raw);
      break;
    case SIDE_LOOP:
      loop_round (loop);
      break;
    case SIDE_LOOP_TASK:
      loop_round (loop_task_side);
      break;
    case SIDE_LIB_SYNC:
      lib_round_sync (lib);
      break;
    default:
      lib_round (lib);
      break;
    }
}

static void
side_drain (Raw *raw)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  while (recv (mnl_socket_get_fd (raw->ev), raw->buf, sizeof raw->buf, MSG_DONTWAIT) > 0)
    ;
}

static void
lib_round_sync (Lib *lib)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) sf = mptcp_connection_open_subflow (lib->connection, lib->local,
                                                              lib->remote, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_close (sf, NULL, &error));
  g_assert_no_error (error);
}


/* ---- N opens in flight ---------------------------------------------------------------------- */

typedef struct
{
  guint pending;
  GPtrArray *subflows;
} Flight;

static void
flight_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Flight *f = user_data;
  g_autoptr(GError) error = NULL;
  MptcpSubflow *sf = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source), result,
                                                           &error);

  g_assert_no_error (error);
  g_ptr_array_add (f->subflows, sf);
  f->pending--;
}

static void
flight_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Flight *f = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_subflow_close_finish (MPTCP_SUBFLOW (source), result, &error));
  g_assert_no_error (error);
  f->pending--;
}

/* The timed part of lib_flight(): n opens in flight until all n results are in (its own
 * function, for callgrind's --toggle-collect). */
static BENCH_WINDOW gint64
lib_flight_opens (Lib *lib, Flight *f, guint n)
{
  gint64 t0 = now_ns ();
  guint i;

  for (i = 0; i < n; i++)
    mptcp_connection_open_subflow_async (lib->connection, lib->local, lib->remote, NULL,
                                         flight_opened_cb, f);
  while (f->pending > 0)
    g_main_context_iteration (NULL, TRUE);
  return now_ns () - t0;
}

/* Wall time (ns) of opening n subflows with n opens in flight at once (the library), then
 * closes them (not timed). */
static G_GNUC_NO_INLINE gint64
lib_flight (Lib *lib, guint n)
{
  Flight f = { n, g_ptr_array_new_with_free_func (g_object_unref) };
  gint64 dt = lib_flight_opens (lib, &f, n);
  guint i;

  f.pending = f.subflows->len;
  for (i = 0; i < f.subflows->len; i++)
    mptcp_subflow_close_async (g_ptr_array_index (f.subflows, i), NULL, flight_closed_cb, &f);
  while (f.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_ptr_array_unref (f.subflows);
  return dt;
}

/* What the library must do at each new subflow of an open, and a raw open does not: read the
 * kernel's list of the connection's subflows with their TCP state (MPTCP_FULL_INFO with
 * tcp_info), which tells a join the peer reset right after its handshake (issue 12, defect 2).
 * The kernel fills a tcp_info per subflow: its cost grows with the subflows. A plain
 * getsockopt() as the rest of the raw side: no library code (only the kernel's structures). */
typedef struct
{
  mpx_subflow_info *sf;
  guint8 *tcp;
  guint n_alloc;
} RawCheck;

static void
raw_check (Raw *raw, RawCheck *c)
{
  plain_full_info (raw->fd, c->sf, c->tcp, c->n_alloc, FALSE);
}

/* The same n opens one after the other with blocking libmnl (create, wait for its
 * SUB_ESTABLISHED; with check, then the list read of raw_check()), then closed (not timed). */
static gint64
raw_flight_full (Raw *raw, guint n, RawCheck *check)
{
  guint16 *sports = g_new (guint16, n);
  gint64 t0 = now_ns (), dt;
  guint i;

  for (i = 0; i < n; i++)
    {
      raw_request (raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
      sports[i] = raw_wait_event (raw, MPTCP_EVENT_SUB_ESTABLISHED);
      if (check != NULL)
        raw_check (raw, check);
    }
  dt = now_ns () - t0;
  for (i = 0; i < n; i++)
    {
      raw_request (raw, MPTCP_PM_CMD_SUBFLOW_DESTROY, sports[i]);
      raw_wait_event (raw, MPTCP_EVENT_SUB_CLOSED);
    }
  g_free (sports);
  return dt;
}

static gint64
raw_flight (Raw *raw, guint n)
{
  return raw_flight_full (raw, n, NULL);
}

static void
bench_in_flight (Raw *raw, Lib *lib)
{
  static const guint sizes[] = { 1, 8, 32 };
  /* BENCH_CONTROL_FLIGHT_N: that one size only, for a profiler */
  const char *only = g_getenv ("BENCH_CONTROL_FLIGHT_N");
  guint only_n = only != NULL ? (guint) atoi (only) : 0;
  enum { MAX_REPS = 40 };
  const guint REPS = sized (MAX_REPS, 2);
  gint64 tl[MAX_REPS], tr[MAX_REPS], tc[MAX_REPS];
  double per1 = 0, ratio1 = 0, ratio1c = 0;
  RawCheck check = { .n_alloc = 40 };
  guint s, r;

  check.sf = g_new0 (mpx_subflow_info, check.n_alloc);
  check.tcp = g_malloc0 (check.n_alloc * MPTCP_SOCKOPT_TCP_INFO_SIZE);
  g_print ("opens in flight on one connection (median of %d runs, time per open; raw = the same "
           "number of blocking libmnl opens one after the other; raw + check = each followed by "
           "the kernel's list read with TCP states that the library needs to tell a refused "
           "join):\n", REPS);
  for (s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      guint n = sizes[s];
      double lib_per, raw_per, chk_per;

      if (only_n != 0 && n != only_n)
        continue;

      for (r = 0; r < REPS; r++)
        {
          tl[r] = lib_flight (lib, n);
          side_drain (raw);
          tr[r] = raw_flight (raw, n);
          side_drain (raw);
          tc[r] = raw_flight_full (raw, n, &check);
          side_drain (raw);
        }
      qsort (tl, REPS, sizeof (gint64), cmp_i64);
      qsort (tr, REPS, sizeof (gint64), cmp_i64);
      qsort (tc, REPS, sizeof (gint64), cmp_i64);
      lib_per = (double) tl[REPS / 2] / n / 1000.0;
      raw_per = (double) tr[REPS / 2] / n / 1000.0;
      chk_per = (double) tc[REPS / 2] / n / 1000.0;
      if (n == 1)
        {
          per1 = lib_per;
          ratio1 = lib_per / raw_per;
          ratio1c = lib_per / chk_per;
        }
      g_print ("  N = %2u: library %7.1f us per open, raw sequential %7.1f us, ratio %.2f "
               "(per-open cost vs N = 1: %.2f); raw + check %7.1f us, ratio %.2f\n", n, lib_per,
               raw_per, lib_per / raw_per, lib_per / per1, chk_per, lib_per / chk_per);
    }
  g_print ("  (target: per-open cost with 8 and 32 in flight <= that with 1, ratio <= %.2f; "
           "to raw + check <= %.2f)\n", ratio1, ratio1c);
  g_free (check.sf);
  g_free (check.tcp);
}


/* ---- connect() to the second subflow -------------------------------------------------------- */

typedef struct
{
  MptcpConnection *connection;
  Lib *lib;
  gint64 t_est;
  gint64 t_done;
} Second;

static gint64 second_lib_est, second_raw_est;   /* connect() to the ESTABLISHED event, last run */
static gint64 second_lib_new;                   /* connect() to mptcp_connection_new() returning */
/* connect() to the data sent, and the open call (the handler's start to its return; the kernel
 * runs the join's handshake inside SUBFLOW_CREATE on veth): library and floor, last run */
static gint64 second_lib_sent, second_lib_call, second_loop_sent, second_loop_call;

static void
second_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Second *sc = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) sf = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source),
                                                                     result, &error);

  g_assert_no_error (error);
  sc->t_done = now_ns ();
  g_assert_nonnull (sf);
}

static void
second_established_cb (MptcpConnection *connection, GParamSpec *pspec, gpointer user_data)
{
  Second *sc = user_data;

  sc->t_est = now_ns ();
  mptcp_connection_open_subflow_async (connection, sc->lib->local, sc->lib->remote, NULL,
                                       second_opened_cb, sc);
  second_lib_call = now_ns () - sc->t_est;
}

/* The library: connect(), the connection object, data sent; open_subflow_async() from the
 * `established` signal; the time from connect() returning to the open's result. */
/* The timed part of lib_second() alone (for callgrind's --toggle-collect): from connect()
 * returning to the open's result. */
static BENCH_WINDOW gint64
lib_second_window (Second *sc, GSocket *socket)
{
  gint64 t0 = now_ns ();
  g_autoptr(GError) error = NULL;

  sc->connection = mptcp_connection_new (socket, &error);
  second_lib_new = now_ns () - t0;
  g_assert_no_error (error);
  g_signal_connect (sc->connection, "notify::established", G_CALLBACK (second_established_cb), sc);
  read_send_bytes (socket, 100);
  second_lib_sent = now_ns () - t0;
  while (sc->t_done == 0)
    g_main_context_iteration (NULL, TRUE);
  return t0;
}

static G_GNUC_NO_INLINE gint64
lib_second (Lib *lib)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  Second sc = { NULL, lib, 0, 0 };
  gint64 t0 = lib_second_window (&sc, socket);

  g_object_unref (sc.connection);
  second_lib_est = sc.t_est - t0;
  return sc.t_done - t0;
}

/* Raw: the same connect() and data; the ESTABLISHED event read with libmnl, SUBFLOW_CREATE sent
 * at once, its SUB_ESTABLISHED read. */
static G_GNUC_NO_INLINE gint64
raw_second (Raw *raw)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  gint64 t0 = now_ns ();
  guint32 saved = raw->token;
  guint16 sport;

  read_send_bytes (socket, 100);
  for (;;)
    {
      RawEvent ev;

      raw_read_event (raw, &ev);
      if (ev.type == MPTCP_EVENT_ESTABLISHED)
        {
          raw->token = ev.token;
          break;
        }
    }
  second_raw_est = now_ns () - t0;
  raw_request (raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
  sport = raw_wait_event (raw, MPTCP_EVENT_SUB_ESTABLISHED);
  (void) sport;
  t0 = now_ns () - t0;
  raw->token = saved;
  return t0;
}

/* The floor of any main-loop + GTask API on this path: the loop-task side's machinery (the
 * raw sockets read by fd sources of a GMainContext, one GTask for the open) driven from the
 * ESTABLISHED event of the new connection, as an application's handler would be. No library
 * code, no connection object. */
static gint64 second_loop_est, second_loop_done;

static void
second_loop_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Loop *loop = user_data;

  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
  second_loop_done = now_ns ();
  loop->phase = 0;
  loop->done = TRUE;
}

/* The event in loop->raw->buf, while waiting for the connection's ESTABLISHED. */
static void
loop_second_start (Loop *loop)
{
  RawEvent ev;

  raw_parse_event (loop->raw, &ev);
  if (ev.type != MPTCP_EVENT_ESTABLISHED)
    return;
  if (loop->api_connection != NULL)
    {
      /* the handler (api_established_cb) sends the request */
      loop->raw->token = ev.token;
      ((BenchConn *) loop->api_connection)->established = TRUE;
      g_object_notify_by_pspec (loop->api_connection, bench_conn_established);
      return;
    }
  second_loop_est = now_ns ();
  loop->raw->token = ev.token;
  loop->phase = 1;
  loop->acked = loop->evented = FALSE;
  loop_task = g_task_new (NULL, NULL, second_loop_opened_cb, loop);
  raw_send (loop->raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
  second_loop_call = now_ns () - second_loop_est;
}

static G_GNUC_NO_INLINE gint64
loop_second (Loop *loop)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  gint64 t0 = now_ns ();
  guint32 saved = loop->raw->token;

  loop->done = FALSE;
  loop->phase = 3;
  read_send_bytes (socket, 100);
  second_loop_sent = now_ns () - t0;
  while (!loop->done)
    g_main_context_iteration (loop->context, TRUE);
  loop->raw->token = saved;
  second_loop_est -= t0;
  return second_loop_done - t0;
}

static gint64 second_api_done;

static void
api_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Loop *loop = user_data;
  BenchSub *sub = g_task_propagate_pointer (G_TASK (result), NULL);

  g_assert_nonnull (sub);
  second_api_done = now_ns ();
  g_object_unref (sub);
  loop->phase = 0;
  loop->done = TRUE;
}

/* the application's handler, as second_established_cb */
static void
api_established_cb (GObject *connection, GParamSpec *pspec, gpointer user_data)
{
  Loop *loop = user_data;

  loop->phase = 1;
  loop->acked = loop->evented = FALSE;
  loop_task = g_task_new (connection, NULL, api_opened_cb, loop);
  raw_send (loop->raw, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
}

/* The API-shaped floor: the floor (loop_second) with the API's objects. */
/* The timed part of api_second() alone (for --toggle-collect). */
static BENCH_WINDOW gint64
api_second_window (Loop *loop, GSocket *socket)
{
  gint64 t0 = now_ns ();

  loop->api_connection = g_object_new (bench_conn_get_type (), NULL);
  if (loop->api_fd >= 0)
    floor_list_read (loop->api_fd, TRUE);
  g_signal_connect (loop->api_connection, "notify::established", G_CALLBACK (api_established_cb),
                    loop);
  loop->done = FALSE;
  loop->phase = 3;
  read_send_bytes (socket, 100);
  while (!loop->done)
    g_main_context_iteration (loop->context, TRUE);
  return t0;
}

static G_GNUC_NO_INLINE gint64
api_second (Loop *loop, gboolean with_reads)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  guint32 saved = loop->raw->token;
  gint64 t0;

  loop->api_fd = with_reads ? g_socket_get_fd (socket) : -1;
  t0 = api_second_window (loop, socket);
  loop->api_fd = -1;
  g_clear_object (&loop->api_connection);
  loop->raw->token = saved;
  return second_api_done - t0;
}

static void
bench_second_subflow (Raw *raw, Lib *lib, Loop *loop, int lfd)
{
  /* BENCH_CONTROL_REPS: more runs, for a profiler */
  const guint REPS = g_getenv ("BENCH_CONTROL_REPS") != NULL
                     ? CLAMP ((guint) atoi (g_getenv ("BENCH_CONTROL_REPS")), 4, 20000)
                     : sized (60, 4);
  g_autofree gint64 *tl = g_new (gint64, REPS), *tr = g_new (gint64, REPS);
  g_autofree gint64 *el = g_new (gint64, REPS), *er = g_new (gint64, REPS);
  g_autofree gint64 *nl = g_new (gint64, REPS);
  g_autofree gint64 *tf = g_new (gint64, REPS), *ef = g_new (gint64, REPS);
  g_autofree gint64 *ta = g_new (gint64, REPS), *tb = g_new (gint64, REPS);
  guint r;
  /* the phases: data sent, open call, after the open's call; library and floor */
  g_autofree gint64 *sl = g_new (gint64, REPS), *cl = g_new (gint64, REPS), *al = g_new (gint64, REPS);
  g_autofree gint64 *sf = g_new (gint64, REPS), *cf = g_new (gint64, REPS), *af = g_new (gint64, REPS);

  for (r = 0; r < REPS; r++)
    {
      int afd;

      tl[r] = lib_second (lib);
      sl[r] = second_lib_sent;
      cl[r] = second_lib_call;
      al[r] = tl[r] - second_lib_est - second_lib_call;
      el[r] = second_lib_est;
      nl[r] = second_lib_new;
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
      tr[r] = raw_second (raw);
      er[r] = second_raw_est;
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
      loop_attach (loop);
      tf[r] = loop_second (loop);
      ef[r] = second_loop_est;
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
      ta[r] = api_second (loop, FALSE);
      sf[r] = second_loop_sent;
      cf[r] = second_loop_call;
      af[r] = tf[r] - ef[r] - second_loop_call;
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
      tb[r] = api_second (loop, TRUE);
      loop_detach (loop);
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
    }
  qsort (tl, REPS, sizeof (gint64), cmp_i64);
  qsort (tr, REPS, sizeof (gint64), cmp_i64);
  qsort (el, REPS, sizeof (gint64), cmp_i64);
  qsort (er, REPS, sizeof (gint64), cmp_i64);
  qsort (nl, REPS, sizeof (gint64), cmp_i64);
  qsort (tf, REPS, sizeof (gint64), cmp_i64);
  qsort (ta, REPS, sizeof (gint64), cmp_i64);
  qsort (tb, REPS, sizeof (gint64), cmp_i64);
  qsort (ef, REPS, sizeof (gint64), cmp_i64);
  qsort (sl, REPS, sizeof (gint64), cmp_i64);
  qsort (cl, REPS, sizeof (gint64), cmp_i64);
  qsort (al, REPS, sizeof (gint64), cmp_i64);
  qsort (sf, REPS, sizeof (gint64), cmp_i64);
  qsort (cf, REPS, sizeof (gint64), cmp_i64);
  qsort (af, REPS, sizeof (gint64), cmp_i64);
  g_print ("connect() to the ESTABLISHED event seen: library %.1f us (of which "
           "mptcp_connection_new() %.1f us), main loop + GTask %.1f us, raw %.1f us (medians)\n",
           el[REPS / 2] / 1000.0, nl[REPS / 2] / 1000.0, ef[REPS / 2] / 1000.0,
           er[REPS / 2] / 1000.0);
  g_print ("connect() returning to the second subflow established (median of %d, quartiles):\n"
           "  library (open_subflow_async from ::established) %6.1f us (%.1f-%.1f)\n"
           "  main loop + GTask, no library (the floor)      %6.1f us (%.1f-%.1f)\n"
           "  raw libmnl (SUBFLOW_CREATE on the ESTABLISHED event) %6.1f us (%.1f-%.1f)\n"
           "  ratio %.2f (target <= 1.3); floor / raw %.2f, library / floor %.2f\n", (int) REPS,
           tl[REPS / 2] / 1000.0, tl[REPS / 4] / 1000.0, tl[REPS * 3 / 4] / 1000.0,
           tf[REPS / 2] / 1000.0, tf[REPS / 4] / 1000.0, tf[REPS * 3 / 4] / 1000.0,
           tr[REPS / 2] / 1000.0, tr[REPS / 4] / 1000.0, tr[REPS * 3 / 4] / 1000.0,
           (double) tl[REPS / 2] / tr[REPS / 2], (double) tf[REPS / 2] / tr[REPS / 2],
           (double) tl[REPS / 2] / tf[REPS / 2]);
  g_print ("  phases (medians), library / floor: connect() to the data sent %.1f / %.1f us, "
           "to the ESTABLISHED handled %.1f / %.1f, the open call %.1f / %.1f (the kernel's join "
           "inside it), after the call %.1f / %.1f\n",
           sl[REPS / 2] / 1000.0, sf[REPS / 2] / 1000.0, el[REPS / 2] / 1000.0,
           ef[REPS / 2] / 1000.0, cl[REPS / 2] / 1000.0, cf[REPS / 2] / 1000.0,
           al[REPS / 2] / 1000.0, af[REPS / 2] / 1000.0);
  g_print ("  the API-shaped floor (the floor with a connection object, its notify::established "
           "handler and a subflow object) %6.1f us (%.1f-%.1f): / raw %.2f, library / it %.2f\n",
           ta[REPS / 2] / 1000.0, ta[REPS / 4] / 1000.0, ta[REPS * 3 / 4] / 1000.0,
           (double) ta[REPS / 2] / tr[REPS / 2], (double) tl[REPS / 2] / ta[REPS / 2]);
  g_print ("  the API-shaped floor with the library's two kernel reads (MPTCP_FULL_INFO when the "
           "connection object is made and at SUB_ESTABLISHED) %6.1f us (%.1f-%.1f): / raw %.2f, "
           "library / it %.2f; left for the library's own work within 1.3x raw: %.1f us, "
           "used: %.1f us\n",
           tb[REPS / 2] / 1000.0, tb[REPS / 4] / 1000.0, tb[REPS * 3 / 4] / 1000.0,
           (double) tb[REPS / 2] / tr[REPS / 2], (double) tl[REPS / 2] / tb[REPS / 2],
           (1.3 * tr[REPS / 2] - tb[REPS / 2]) / 1000.0, (tl[REPS / 2] - tb[REPS / 2]) / 1000.0);
}

/* ---- an in-kernel path manager's subflow, observed ------------------------------------------ */

/* The client's in-kernel path manager (a subflow endpoint on path 2) opens the second subflow
 * itself once the connection is established; from connect() returning to the application
 * knowing of it. Library: mptcp_connection_new(), 100 bytes sent, the first ::subflow-added.
 * Raw: the same connect and data, then MPTCP_FULL_INFO read in a busy loop until a second
 * subflow is in TCP_ESTABLISHED. */
static gint64 kpm_added;

static void
kpm_added_cb (MptcpConnection *connection, MptcpSubflow *subflow, gpointer user_data)
{
  if (kpm_added == 0)
    kpm_added = now_ns ();
}

static G_GNUC_NO_INLINE gint64
lib_kernel_pm (void)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  gint64 t0 = now_ns ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = mptcp_connection_new (socket, &error);

  g_assert_no_error (error);
  kpm_added = 0;
  g_signal_connect (connection, "subflow-added", G_CALLBACK (kpm_added_cb), NULL);
  read_send_bytes (socket, 100);
  while (kpm_added == 0 && now_ns () - t0 < G_TIME_SPAN_SECOND * 1000)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (kpm_added, !=, 0);
  return kpm_added - t0;
}

static G_GNUC_NO_INLINE gint64
raw_kernel_pm (void)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  gint64 t0 = now_ns ();
  MptcpSockoptList kl;
  int fd = g_socket_get_fd (socket);
  gint64 dt = 0;

  _mptcp_sockopt_list_init (&kl);
  read_send_bytes (socket, 100);
  while (dt == 0 && now_ns () - t0 < G_TIME_SPAN_SECOND * 1000)
    {
      guint i, est = 0;

      if (_mptcp_sockopt_list_read (&kl, fd, MPTCP_SOCKOPT_PATH_FULL_INFO) < 0)
        break;
      for (i = 0; i < kl.n_subflows; i++)
        est += _mptcp_sockopt_list_state (&kl, i) == MPTCP_TCP_STATE_ESTABLISHED;
      if (est >= 2)
        dt = now_ns () - t0;
    }
  _mptcp_sockopt_list_clear (&kl);
  g_assert_cmpint (dt, !=, 0);
  return dt;
}

/* Raw, event-driven: the same connect and data, the events read with libmnl (blocking) until
 * the SUB_ESTABLISHED of the connection (its token from its first event). */
static gint64
raw_event_kernel_pm (Raw *raw)
{
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  gint64 t0 = now_ns ();
  guint32 token = 0;

  read_send_bytes (socket, 100);
  for (;;)
    {
      RawEvent ev;

      raw_read_event (raw, &ev);
      if (token == 0 && ev.type == MPTCP_EVENT_CREATED)
        token = ev.token;
      else if (token != 0 && ev.token == token && ev.type == MPTCP_EVENT_SUB_ESTABLISHED)
        break;
    }
  return now_ns () - t0;
}

static void
bench_kernel_pm (Raw *raw, int lfd)
{
  const char *pm_kernel[] = { "sysctl", "-q", "-w", "net.mptcp.pm_type=0", NULL };
  const char *pm_userspace[] = { "sysctl", "-q", "-w", "net.mptcp.pm_type=1", NULL };
  const char *limits[] = { "ip", "mptcp", "limits", "set", "subflows", "2", NULL };
  const char *endpoint[] = { "ip", "mptcp", "endpoint", "add", TESTBED_CLIENT2_V4, "subflow",
                             NULL };
  const char *flush[] = { "ip", "mptcp", "endpoint", "flush", NULL };
  enum { MAX_REPS = 60 };
  const guint REPS = sized (MAX_REPS, 4);
  gint64 tl[MAX_REPS], tr[MAX_REPS], te[MAX_REPS];
  g_autoptr(GError) error = NULL;
  guint r;

  g_assert_true (testbed_run_in_client (pm_kernel, NULL, &error));
  g_assert_true (testbed_run_in_client (limits, NULL, &error));
  g_assert_true (testbed_run_in_client (endpoint, NULL, &error));
  g_assert_no_error (error);
  for (r = 0; r < REPS; r++)
    {
      int afd;

      tl[r] = lib_kernel_pm ();
      afd = accept (lfd, NULL, NULL);
      close (afd);
      tr[r] = raw_kernel_pm ();
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
      te[r] = raw_event_kernel_pm (raw);
      afd = accept (lfd, NULL, NULL);
      close (afd);
      side_drain (raw);
    }
  g_assert_true (testbed_run_in_client (flush, NULL, &error));
  g_assert_true (testbed_run_in_client (pm_userspace, NULL, &error));
  g_assert_no_error (error);
  qsort (tl, REPS, sizeof (gint64), cmp_i64);
  qsort (tr, REPS, sizeof (gint64), cmp_i64);
  qsort (te, REPS, sizeof (gint64), cmp_i64);
  g_print ("connect() returning to an in-kernel-PM subflow known (median of %d, quartiles):\n"
           "  library (::subflow-added)                 %6.1f us (%.1f-%.1f)\n"
           "  raw (MPTCP_FULL_INFO polled in a busy loop) %6.1f us (%.1f-%.1f)\n"
           "  raw (its SUB_ESTABLISHED read, blocking)  %6.1f us (%.1f-%.1f)\n"
           "  ratio %.2f to polling (target <= 1.3), %.2f to the event\n", REPS,
           tl[REPS / 2] / 1000.0, tl[REPS / 4] / 1000.0, tl[REPS * 3 / 4] / 1000.0,
           tr[REPS / 2] / 1000.0, tr[REPS / 4] / 1000.0, tr[REPS * 3 / 4] / 1000.0,
           te[REPS / 2] / 1000.0, te[REPS / 4] / 1000.0, te[REPS * 3 / 4] / 1000.0,
           (double) tl[REPS / 2] / tr[REPS / 2], (double) tl[REPS / 2] / te[REPS / 2]);
}

/* ---- setup -------------------------------------------------------------------------------- */

static int
server_listen (guint16 port)
{
  g_autoptr(GError) error = NULL;
  struct sockaddr_in sin = { 0 };
  int one = 1;
  int fd = testbed_socket_in_server (AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &error);

  g_assert_no_error (error);
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sin.sin_family = AF_INET;
  sin.sin_port = htons (port);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (fd, 1024), ==, 0);
  return fd;
}

static void
bench_memory (int lfd)
{
  const guint N = sized (1000, 20);
  GSocket **sockets = g_new0 (GSocket *, N);
  MptcpConnection **conns = g_new0 (MptcpConnection *, N);
  int *accepted = g_new0 (int, N);
  struct mallinfo2 before, after;
  guint i;

  for (i = 0; i < N; i++)
    {
      sockets[i] = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
      accepted[i] = accept (lfd, NULL, NULL);
      g_assert_cmpint (accepted[i], >=, 0);
    }
  /* one connection first, so that the shared broker and its event socket exist */
  conns[0] = mptcp_connection_new (sockets[0], NULL);
  g_assert_nonnull (conns[0]);
  malloc_trim (0);
  before = mallinfo2 ();
  for (i = 1; i < N; i++)
    {
      conns[i] = mptcp_connection_new (sockets[i], NULL);
      g_assert_nonnull (conns[i]);
    }
  /* their hangup watches are registered about 1 ms after the construction */
  g_usleep (2000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  after = mallinfo2 ();
  g_assert_cmpint (mptcp_connection_get_event_source (conns[N - 1]), ==, MPTCP_EVENT_SOURCE_NETLINK);
  g_print ("memory: %.0f bytes of heap per idle registered MptcpConnection "
           "(mallinfo2 uordblks over %d; GObject + list model + 1 subflow + event subscription "
           "+ hangup watch; target <= 1024)\n",
           (double) (after.uordblks - before.uordblks) / (N - 1), (int) N - 1);

  /* what the idle connections cost every iteration of their main context */
  {
    const guint ITER = sized (2000, 20);
    gint64 t0, with_all, with_one;

    while (g_main_context_iteration (NULL, FALSE))
      ;
    t0 = now_ns ();
    for (i = 0; i < ITER; i++)
      g_main_context_iteration (NULL, FALSE);
    with_all = now_ns () - t0;
    for (i = 1; i < N; i++)
      g_clear_object (&conns[i]);
    while (g_main_context_iteration (NULL, FALSE))
      ;
    t0 = now_ns ();
    for (i = 0; i < ITER; i++)
      g_main_context_iteration (NULL, FALSE);
    with_one = now_ns () - t0;
    g_print ("idle main-loop iteration: %.2f us with %d registered connections, %.2f us with 1\n",
             with_all / 1000.0 / ITER, (int) N, with_one / 1000.0 / ITER);
  }

  for (i = 0; i < N; i++)
    {
      g_clear_object (&conns[i]);
      g_clear_object (&sockets[i]);
      close (accepted[i]);
    }
  g_free (conns);
  g_free (sockets);
  g_free (accepted);
}

int
main (int argc, char **argv)
{
  const char *userspace[] = { "sysctl", "-q", "-w", "net.mptcp.path_manager=userspace", NULL };
  const char *kernel[] = { "sysctl", "-q", "-w", "net.mptcp.path_manager=kernel", NULL };
  guint rounds;
  const char *only = g_getenv ("BENCH_CONTROL_ONLY");   /* flight or second: that section */
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpNetlink) broker = NULL;
  gint64 *t[N_SIDES];
  double *cycle_ratio[N_SIDES];
  double med[N_SIDES] = { 0 };
  gboolean run[N_SIDES];
  guint n, k;
  Loop loop = { .api_fd = -1 }, loop_task_side = { .api_fd = -1 };
  Raw raw = { 0 };
  Lib lib = { 0 };
  int lfd, afd, group;
  char buf[100];

  smoke = argc > 1 && strcmp (argv[1], "--smoke") == 0;
  rounds = argc > 1 && !smoke ? (guint) atoi (argv[1]) : 1000;
  testbed_init_or_exit ();
  if (only != NULL || smoke)
    rounds = BATCH;   /* the cycle benchmark as a warm-up only */
  if (smoke)
    g_print ("smoke run (--smoke): the fewest rounds, figures without meaning\n");
  rounds = MAX (rounds / BATCH, 1) * BATCH;
  for (k = 0; k < N_SIDES; k++)
    run[k] = g_getenv ("BENCH_CONTROL_SIDE") == NULL ||
             g_strcmp0 (g_getenv ("BENCH_CONTROL_SIDE"), side_keys[k]) == 0;

  g_assert_true (testbed_run_in_server (userspace, NULL, &error));
  g_assert_no_error (error);
  lfd = server_listen (PORT);
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, PORT);
  afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  read_send_bytes (socket, 100);
  g_assert_cmpint (recv (afd, buf, sizeof buf, MSG_WAITALL), ==, 100);
  g_usleep (50 * 1000);

  lib.connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  lib.local = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (TESTBED_CLIENT2_V4, 0));
  lib.remote = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (TESTBED_SERVER2_V4, PORT));

  /* the raw side: family and group ids resolved once (taken from a broker to keep this
   * short; every message below is built and parsed here with libmnl) */
  broker = _mptcp_netlink_get_for_context (NULL, &error);
  g_assert_no_error (error);
  raw.family = _mptcp_netlink_get_family_id (broker);
  group = (int) _mptcp_netlink_get_event_group (broker);
  raw.token = mptcp_connection_get_token (lib.connection);
  inet_pton (AF_INET, TESTBED_CLIENT2_V4, &raw.local);
  inet_pton (AF_INET, TESTBED_SERVER2_V4, &raw.remote);
  raw.remote_port = PORT;
  raw.fd = g_socket_get_fd (socket);
  raw.req = mnl_socket_open (NETLINK_GENERIC);
  raw.ev = mnl_socket_open (NETLINK_GENERIC);
  g_assert_nonnull (raw.req);
  g_assert_nonnull (raw.ev);
  g_assert_cmpint (mnl_socket_bind (raw.req, 0, MNL_SOCKET_AUTOPID), ==, 0);
  g_assert_cmpint (mnl_socket_bind (raw.ev, 0, MNL_SOCKET_AUTOPID), ==, 0);
  g_assert_cmpint (mnl_socket_setsockopt (raw.ev, NETLINK_ADD_MEMBERSHIP, &group, sizeof group), ==, 0);

  loop.raw = &raw;
  loop_task_side.raw = &raw;
  loop_task_side.use_task = TRUE;
  for (k = 0; k < N_SIDES; k++)
    t[k] = g_new (gint64, rounds);

  /* warm up every side, then drain what the others heard */
  for (k = 0; k < N_SIDES; k++)
    if (run[k])
      {
        if (k == SIDE_LOOP || k == SIDE_LOOP_TASK)
          loop_attach (k == SIDE_LOOP ? &loop : &loop_task_side);
        side_round (k, &raw, &loop, &loop_task_side, &lib);
        if (k == SIDE_LOOP || k == SIDE_LOOP_TASK)
          loop_detach (k == SIDE_LOOP ? &loop : &loop_task_side);
        side_drain (&raw);
      }

  for (k = 0; k < N_SIDES; k++)
    cycle_ratio[k] = g_new (double, rounds / BATCH);
  for (n = 0; n < rounds; n += BATCH)
    {
      for (k = 0; k < N_SIDES; k++)
        {
          guint i;

          if (!run[k])
            continue;
          if (k == SIDE_LOOP || k == SIDE_LOOP_TASK)
            loop_attach (k == SIDE_LOOP ? &loop : &loop_task_side);
          for (i = 0; i < BATCH; i++)
            {
              gint64 t0 = now_ns ();

              side_round (k, &raw, &loop, &loop_task_side, &lib);
              t[k][n + i] = now_ns () - t0;
            }
          if (k == SIDE_LOOP || k == SIDE_LOOP_TASK)
            loop_detach (k == SIDE_LOOP ? &loop : &loop_task_side);
          /* the library's broker and the raw event socket heard this side's events */
          side_drain (&raw);
        }
      /* this cycle's ratios: batch medians, so that a slow spell of the machine that spans
       * a cycle weighs on both sides of its ratio */
      for (k = 0; k < N_SIDES; k++)
        if (run[k] && run[SIDE_RAW])
          cycle_ratio[k][n / BATCH] = batch_median (t[k] + n) / batch_median (t[SIDE_RAW] + n);
    }

  g_print ("open + established + close, %u rounds per side, batches of %d interleaved\n"
           "(median wall time per round):\n",
           rounds, BATCH);
  for (k = 0; k < N_SIDES; k++)
    if (run[k])
      {
        qsort (t[k], rounds, sizeof (gint64), cmp_i64);
        med[k] = (double) t[k][rounds / 2];
        g_print ("  %-34s %7.1f us", side_names[k], med[k] / 1000.0);
        if (run[SIDE_RAW] && k != SIDE_RAW)
          {
            qsort (cycle_ratio[k], rounds / BATCH, sizeof (double), cmp_double);
            g_print ("  ratio to raw %.2f (per cycle: median %.2f, quartiles %.2f-%.2f)",
                     med[k] / med[SIDE_RAW], cycle_ratio[k][rounds / BATCH / 2],
                     cycle_ratio[k][rounds / BATCH / 4], cycle_ratio[k][rounds / BATCH * 3 / 4]);
          }
        g_print ("\n");
      }
  if (run[SIDE_RAW] && run[SIDE_LIB])
    g_print ("  ratio library / raw %.2f, per-cycle median %.2f (target <= 1.1)\n",
             med[SIDE_LIB] / med[SIDE_RAW], cycle_ratio[SIDE_LIB][rounds / BATCH / 2]);
  if (run[SIDE_RAW] && run[SIDE_LOOP_TASK] && run[SIDE_LIB])
    g_print ("  ratio library / main loop + GTask %.2f, per-cycle medians %.2f / %.2f\n",
             med[SIDE_LIB] / med[SIDE_LOOP_TASK], cycle_ratio[SIDE_LIB][rounds / BATCH / 2],
             cycle_ratio[SIDE_LOOP_TASK][rounds / BATCH / 2]);

  if (g_getenv ("BENCH_CONTROL_SIDE") == NULL)
    {
      if (only == NULL || g_strcmp0 (only, "flight") == 0)
        bench_in_flight (&raw, &lib);
      if (only == NULL || g_strcmp0 (only, "second") == 0)
        bench_second_subflow (&raw, &lib, &loop_task_side, lfd);
      if (only == NULL || g_strcmp0 (only, "kernel-pm") == 0)
        bench_kernel_pm (&raw, lfd);
    }

  mnl_socket_close (raw.req);
  mnl_socket_close (raw.ev);
  g_clear_object (&lib.connection);
  g_clear_object (&lib.local);
  g_clear_object (&lib.remote);
  close (afd);

  bench_memory (lfd);

  close (lfd);
  g_assert_true (testbed_run_in_server (kernel, NULL, &error));
  for (k = 0; k < N_SIDES; k++)
    {
      g_free (t[k]);
      g_free (cycle_ratio[k]);
    }
  return 0;
}
