/* test-event.c: MptcpEvent values and an MptcpMonitor fed by a fake kernel (no testbed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /event/...          MptcpEvent built from hand-made messages through the broker's parser:
 *                     every accessor, has_attribute(), to_string(), boxed handling
 * /monitor/fake/...   an MptcpMonitor on a broker whose event socket is one end of a
 *                     socketpair(); the test plays the kernel on the other end
 */

#include <errno.h>
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

static MptcpEvent *
event_from (const EvMsg *m)
{
  MptcpNlEvent nl;

  g_assert_true (_mptcp_netlink_parse_event (m->buf, evmsg_len (m), &nl));
  return _mptcp_event_new_from_netlink (&nl);
}

static char *
address_string (GInetSocketAddress *address)
{
  g_autofree char *ip = NULL;

  g_assert_nonnull (address);
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  return g_strdup_printf ("%s|%u", ip, g_inet_socket_address_get_port (address));
}

/* a SUB_CLOSED with every attribute the kernel defines */
static void
test_event_all_attributes (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  g_autofree char *local = NULL;
  g_autofree char *remote = NULL;
  EvMsg m;

  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_CLOSED, 0x2f1c8a9e, AF_INET,
               "198.51.100.1", 40123, "198.51.100.2", 5001, 3, 4);
  evmsg_u8 (&m, MPTCP_ATTR_BACKUP, 1);
  evmsg_u32 (&m, MPTCP_ATTR_IF_IDX, 5);
  evmsg_u8 (&m, MPTCP_ATTR_ERROR, 111);
  evmsg_u16 (&m, MPTCP_ATTR_FLAGS, MPX_EV_FLAG_DENY_JOIN_ID0 | 0x40);
  evmsg_u32 (&m, MPTCP_ATTR_TIMEOUT, 7);
  evmsg_u32 (&m, MPX_ATTR_RESET_REASON, 2);
  evmsg_u32 (&m, MPX_ATTR_RESET_FLAGS, 1);
  evmsg_u8 (&m, MPX_ATTR_SERVER_SIDE, 1);
  event = event_from (&m);

  g_assert_cmpint (mptcp_event_get_event_type (event), ==, MPTCP_EVENT_TYPE_SUBFLOW_CLOSED);
  g_assert_cmpuint (mptcp_event_get_raw_type (event), ==, MPTCP_EVENT_SUB_CLOSED);
  for (guint a = MPTCP_EVENT_ATTRIBUTE_TOKEN; a <= MPTCP_EVENT_ATTRIBUTE_SERVER_SIDE; a++)
    g_assert_true (mptcp_event_has_attribute (event, a));
  g_assert_false (mptcp_event_has_attribute (event, 1000));
  g_assert_cmphex (mptcp_event_get_token (event), ==, 0x2f1c8a9e);
  g_assert_cmpint (mptcp_event_get_family (event), ==, G_SOCKET_FAMILY_IPV4);
  local = address_string (mptcp_event_get_local_address (event));
  remote = address_string (mptcp_event_get_remote_address (event));
  g_assert_cmpstr (local, ==, "198.51.100.1|40123");
  g_assert_cmpstr (remote, ==, "198.51.100.2|5001");
  g_assert_cmpint (g_inet_address_get_family (g_inet_socket_address_get_address (
                     mptcp_event_get_local_address (event))), ==, G_SOCKET_FAMILY_IPV4);
  /* the same object every time */
  g_assert_true (mptcp_event_get_local_address (event) == mptcp_event_get_local_address (event));
  g_assert_cmpuint (mptcp_event_get_local_port (event), ==, 40123);
  g_assert_cmpuint (mptcp_event_get_remote_port (event), ==, 5001);
  g_assert_cmpuint (mptcp_event_get_local_id (event), ==, 3);
  g_assert_cmpuint (mptcp_event_get_remote_id (event), ==, 4);
  g_assert_true (mptcp_event_get_backup (event));
  g_assert_cmpint (mptcp_event_get_error (event), ==, ECONNREFUSED);
  g_assert_cmphex (mptcp_event_get_flags (event), ==, MPTCP_EVENT_FLAG_DENY_JOIN_ID0 | 0x40);
  g_assert_cmpuint (mptcp_event_get_timeout (event), ==, 7);
  g_assert_cmpint (mptcp_event_get_ifindex (event), ==, 5);
  g_assert_true (mptcp_event_get_server_side (event));
  g_assert_cmpint (mptcp_event_get_reset_reason (event), ==, MPTCP_RESET_REASON_NO_RESOURCES);
  g_assert_cmpuint (mptcp_event_get_reset_flags (event), ==, 1);

  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==,
                   "[SF_CLOSED] token=2f1c8a9e remid=4 locid=3 saddr4=198.51.100.1 "
                   "daddr4=198.51.100.2 sport=40123 dport=5001 backup=1 error=111 flags=41 "
                   "timeout=7 ifindex=5 reset_reason=2 reset_flags=0x1 server_side=1");
}

/* CLOSED: a token and nothing else */
static void
test_event_closed (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  EvMsg m;

  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_CLOSED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 0xa);
  event = event_from (&m);

  g_assert_cmpint (mptcp_event_get_event_type (event), ==, MPTCP_EVENT_TYPE_CLOSED);
  for (guint a = MPTCP_EVENT_ATTRIBUTE_TOKEN; a <= MPTCP_EVENT_ATTRIBUTE_SERVER_SIDE; a++)
    g_assert_cmpint (mptcp_event_has_attribute (event, a), ==, a == MPTCP_EVENT_ATTRIBUTE_TOKEN);
  g_assert_cmphex (mptcp_event_get_token (event), ==, 0xa);
  g_assert_cmpint (mptcp_event_get_family (event), ==, G_SOCKET_FAMILY_INVALID);
  g_assert_null (mptcp_event_get_local_address (event));
  g_assert_null (mptcp_event_get_remote_address (event));
  g_assert_cmpuint (mptcp_event_get_local_port (event), ==, 0);
  g_assert_false (mptcp_event_get_backup (event));
  g_assert_false (mptcp_event_get_server_side (event));
  g_assert_cmpint (mptcp_event_get_error (event), ==, 0);
  g_assert_cmphex (mptcp_event_get_flags (event), ==, MPTCP_EVENT_FLAG_NONE);
  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==, "[CLOSED] token=0000000a");
}

/* A reset code the library does not know reads as UNSPECIFIED; the text keeps the code. */
static void
test_event_unknown_reset_reason (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  EvMsg m;

  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_CLOSED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 0xa);
  evmsg_u32 (&m, MPX_ATTR_RESET_REASON, 42);
  event = event_from (&m);

  g_assert_true (mptcp_event_has_attribute (event, MPTCP_EVENT_ATTRIBUTE_RESET_REASON));
  g_assert_cmpint (mptcp_event_get_reset_reason (event), ==, MPTCP_RESET_REASON_UNSPECIFIED);
  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==, "[SF_CLOSED] token=0000000a reset_reason=42");
}

/* ANNOUNCED of an IPv6 address: no family attribute, the family comes from the address */
static void
test_event_announced_v6 (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  g_autofree char *remote = NULL;
  EvMsg m;

  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_ANNOUNCED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 0xc0ffee);
  evmsg_u8 (&m, MPTCP_ATTR_REM_ID, 5);
  evmsg_port (&m, MPTCP_ATTR_DPORT, 40001);
  evmsg_addr (&m, MPTCP_ATTR_DADDR4, MPTCP_ATTR_DADDR6, "2001:db8:1::2");
  event = event_from (&m);

  g_assert_cmpint (mptcp_event_get_event_type (event), ==, MPTCP_EVENT_TYPE_ANNOUNCED);
  g_assert_false (mptcp_event_has_attribute (event, MPTCP_EVENT_ATTRIBUTE_FAMILY));
  g_assert_true (mptcp_event_has_attribute (event, MPTCP_EVENT_ATTRIBUTE_REMOTE_ADDRESS));
  g_assert_false (mptcp_event_has_attribute (event, MPTCP_EVENT_ATTRIBUTE_LOCAL_ADDRESS));
  g_assert_cmpint (mptcp_event_get_family (event), ==, G_SOCKET_FAMILY_IPV6);
  g_assert_null (mptcp_event_get_local_address (event));
  remote = address_string (mptcp_event_get_remote_address (event));
  g_assert_cmpstr (remote, ==, "2001:db8:1::2|40001");
  g_assert_cmpuint (mptcp_event_get_remote_id (event), ==, 5);
  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==, "[ANNOUNCED] token=00c0ffee remid=5 daddr6=2001:db8:1::2 "
                             "dport=40001");
}

/* the accepted side of an IPv4 client on a dual-stack listener: kept as the kernel said */
static void
test_event_v4_mapped (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  g_autofree char *local = NULL;
  EvMsg m;

  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 0x1234, AF_INET6,
               "::ffff:192.0.2.2", 5001, "::ffff:192.0.2.1", 40000, 0, 0);
  evmsg_u16 (&m, MPTCP_ATTR_FLAGS, MPX_EV_FLAG_SERVER_SIDE);
  event = event_from (&m);

  g_assert_cmpint (mptcp_event_get_family (event), ==, G_SOCKET_FAMILY_IPV6);
  local = address_string (mptcp_event_get_local_address (event));
  g_assert_cmpstr (local, ==, "::ffff:192.0.2.2|5001");
  /* the flag alone says server side too */
  g_assert_false (mptcp_event_has_attribute (event, MPTCP_EVENT_ATTRIBUTE_SERVER_SIDE));
  g_assert_true (mptcp_event_get_server_side (event));
  g_assert_cmphex (mptcp_event_get_flags (event), ==, MPTCP_EVENT_FLAG_SERVER_SIDE);
  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==, "[CREATED] token=00001234 remid=0 locid=0 "
                             "saddr6=::ffff:192.0.2.2 daddr6=::ffff:192.0.2.1 sport=5001 "
                             "dport=40000 flags=2");
}

static void
test_event_listener (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  g_autofree char *local = NULL;
  EvMsg m;

  evmsg_begin (&m, FAKE_FAMILY, MPX_EVENT_LISTENER_CREATED);
  evmsg_u16 (&m, MPTCP_ATTR_FAMILY, AF_INET6);
  evmsg_port (&m, MPTCP_ATTR_SPORT, 40000);
  evmsg_addr (&m, MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6, "::");
  event = event_from (&m);

  g_assert_cmpint (mptcp_event_get_event_type (event), ==, MPTCP_EVENT_TYPE_LISTENER_CREATED);
  g_assert_false (mptcp_event_has_attribute (event, MPTCP_EVENT_ATTRIBUTE_TOKEN));
  g_assert_cmpuint (mptcp_event_get_token (event), ==, 0);
  local = address_string (mptcp_event_get_local_address (event));
  g_assert_cmpstr (local, ==, "::|40000");
  g_assert_null (mptcp_event_get_remote_address (event));
  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==, "[LISTENER_CREATED] saddr6=:: sport=40000");
}

/* a type from a future kernel */
static void
test_event_unknown_type (void)
{
  g_autoptr(MptcpEvent) event = NULL;
  g_autofree char *text = NULL;
  EvMsg m;

  evmsg_begin (&m, FAKE_FAMILY, 42);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 1);
  evmsg_u32 (&m, 99, 1);    /* an attribute nobody knows: ignored */
  event = event_from (&m);

  g_assert_cmpint (mptcp_event_get_event_type (event), ==, MPTCP_EVENT_TYPE_UNKNOWN);
  g_assert_cmpuint (mptcp_event_get_raw_type (event), ==, 42);
  text = mptcp_event_to_string (event);
  g_assert_cmpstr (text, ==, "[UNKNOWN 42] token=00000001");
}

static void
test_event_boxed (void)
{
  g_auto(GValue) value = G_VALUE_INIT;
  MptcpEvent *event, *copy;
  EvMsg m;

  g_assert_true (G_TYPE_IS_BOXED (MPTCP_TYPE_EVENT));
  g_assert_true (G_TYPE_IS_ENUM (MPTCP_TYPE_EVENT_TYPE));
  g_assert_true (G_TYPE_IS_ENUM (MPTCP_TYPE_EVENT_ATTRIBUTE));
  g_assert_true (G_TYPE_IS_FLAGS (MPTCP_TYPE_EVENT_FLAGS));

  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_REMOVED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 9);
  evmsg_u8 (&m, MPTCP_ATTR_REM_ID, 2);
  event = event_from (&m);
  copy = g_boxed_copy (MPTCP_TYPE_EVENT, event);
  g_assert_true (copy == event);   /* reference counted */
  g_value_init (&value, MPTCP_TYPE_EVENT);
  g_value_take_boxed (&value, copy);
  mptcp_event_unref (event);
  g_assert_cmpuint (mptcp_event_get_remote_id (g_value_get_boxed (&value)), ==, 2);
}

/* ---- a monitor fed by a fake kernel -------------------------------------------------------- */

typedef struct
{
  GMainContext *context;
  int           kernel_req;    /* our ends of the socketpairs */
  int           kernel_ev;
  MptcpNetlink *nl;
} Fake;

static void
fake_setup (Fake *f, gconstpointer data)
{
  int req[2], ev[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, req), ==, 0);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ev), ==, 0);
  f->context = g_main_context_new ();
  f->nl = _mptcp_netlink_new_for_fds (req[0], ev[0], FAKE_FAMILY, FAKE_GROUP, f->context);
  f->kernel_req = req[1];
  f->kernel_ev = ev[1];
}

static void
fake_teardown (Fake *f, gconstpointer data)
{
  g_clear_pointer (&f->nl, _mptcp_netlink_unref);
  close (f->kernel_req);
  close (f->kernel_ev);
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_unref (f->context);
}

static void
fake_send (Fake *f, const void *buf, gsize len)
{
  g_assert_cmpint (send (f->kernel_ev, buf, len, 0), ==, (gssize) len);
}

static void
fake_send_msg (Fake *f, const EvMsg *m)
{
  fake_send (f, m->buf, evmsg_len (m));
}

typedef struct
{
  GPtrArray    *events;       /* of MptcpEvent */
  guint         details;      /* emissions of event::subflow-closed */
  guint         overruns;
  MptcpMonitor *drop_on_event; /* drop this reference from the handler */
} Seen;

static void
seen_event_cb (MptcpMonitor *monitor, MptcpEvent *event, gpointer user_data)
{
  Seen *seen = user_data;

  g_assert_true (MPTCP_IS_MONITOR (monitor));
  g_ptr_array_add (seen->events, mptcp_event_ref (event));
  if (seen->drop_on_event != NULL)
    g_clear_object (&seen->drop_on_event);
}

static void
seen_detail_cb (MptcpMonitor *monitor, MptcpEvent *event, gpointer user_data)
{
  Seen *seen = user_data;

  g_assert_cmpint (mptcp_event_get_event_type (event), ==, MPTCP_EVENT_TYPE_SUBFLOW_CLOSED);
  seen->details++;
}

static void
iterate_until (GMainContext *context, Seen *seen, guint n, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (seen->events->len < n && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (200);
    }
  /* and whatever else is queued */
  while (g_main_context_iteration (context, FALSE))
    ;
}

static void
test_monitor_fake_dispatch (Fake *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  Seen seen = { g_ptr_array_new_with_free_func ((GDestroyNotify) mptcp_event_unref), 0, 0, NULL };
  guint8 dgram[1024] __attribute__ ((aligned (8)));
  EvMsg m, m2;
  gsize off;
  const MptcpEventType expected[] = {
    MPTCP_EVENT_TYPE_LISTENER_CREATED, MPTCP_EVENT_TYPE_CREATED, MPTCP_EVENT_TYPE_ESTABLISHED,
    MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED, MPTCP_EVENT_TYPE_SUBFLOW_PRIORITY,
    MPTCP_EVENT_TYPE_ANNOUNCED, MPTCP_EVENT_TYPE_REMOVED, MPTCP_EVENT_TYPE_SUBFLOW_CLOSED,
    MPTCP_EVENT_TYPE_SUBFLOW_CLOSED, MPTCP_EVENT_TYPE_CLOSED, MPTCP_EVENT_TYPE_UNKNOWN,
    MPTCP_EVENT_TYPE_LISTENER_CLOSED,
  };

  monitor = _mptcp_monitor_new_for_netlink (f->nl, &error);
  g_assert_no_error (error);
  g_signal_connect (monitor, "event", G_CALLBACK (seen_event_cb), &seen);
  g_signal_connect (monitor, "event::subflow-closed", G_CALLBACK (seen_detail_cb), &seen);

  evmsg_begin (&m, FAKE_FAMILY, MPX_EVENT_LISTENER_CREATED);
  evmsg_u16 (&m, MPTCP_ATTR_FAMILY, AF_INET);
  evmsg_port (&m, MPTCP_ATTR_SPORT, 5001);
  evmsg_addr (&m, MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6, "0.0.0.0");
  fake_send_msg (f, &m);
  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED, 77, AF_INET, "10.0.0.1", 40000,
               "10.0.0.2", 5001, 0, 0);
  fake_send_msg (f, &m);
  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_ESTABLISHED, 77, AF_INET, "10.0.0.1", 40000,
               "10.0.0.2", 5001, 0, 0);
  fake_send_msg (f, &m);
  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_ESTABLISHED, 77, AF_INET, "10.0.1.1", 40001,
               "10.0.1.2", 5001, 1, 0);
  evmsg_u8 (&m, MPTCP_ATTR_BACKUP, 0);
  fake_send_msg (f, &m);
  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_PRIORITY, 77, AF_INET, "10.0.1.1", 40001,
               "10.0.1.2", 5001, 1, 0);
  evmsg_u8 (&m, MPTCP_ATTR_BACKUP, 1);
  fake_send_msg (f, &m);
  /* a message of another family and a malformed one: nobody hears of them */
  evmsg_tuple (&m, FAKE_FAMILY + 1, MPTCP_EVENT_CREATED, 77, AF_INET, "10.0.0.1", 1,
               "10.0.0.2", 2, 0, 0);
  fake_send_msg (f, &m);
  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_CREATED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 77);
  ((struct nlattr *) (m.buf + NLMSG_HDRLEN + GENL_HDRLEN))->nla_len = 300;
  fake_send_msg (f, &m);
  /* ANNOUNCED + REMOVED in one datagram */
  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_ANNOUNCED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 77);
  evmsg_u8 (&m, MPTCP_ATTR_REM_ID, 3);
  evmsg_port (&m, MPTCP_ATTR_DPORT, 5002);
  evmsg_addr (&m, MPTCP_ATTR_DADDR4, MPTCP_ATTR_DADDR6, "10.0.2.2");
  evmsg_begin (&m2, FAKE_FAMILY, MPTCP_EVENT_REMOVED);
  evmsg_u32 (&m2, MPTCP_ATTR_TOKEN, 77);
  evmsg_u8 (&m2, MPTCP_ATTR_REM_ID, 3);
  off = NLMSG_ALIGN (evmsg_len (&m));
  memcpy (dgram, m.buf, evmsg_len (&m));
  memcpy (dgram + off, m2.buf, evmsg_len (&m2));
  fake_send (f, dgram, off + evmsg_len (&m2));
  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_CLOSED, 77, AF_INET, "10.0.1.1", 40001,
               "10.0.1.2", 5001, 1, 0);
  fake_send_msg (f, &m);
  evmsg_tuple (&m, FAKE_FAMILY, MPTCP_EVENT_SUB_CLOSED, 77, AF_INET, "10.0.3.1", 40002,
               "10.0.3.2", 5001, 2, 0);
  evmsg_u8 (&m, MPTCP_ATTR_ERROR, 110);
  fake_send_msg (f, &m);
  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_CLOSED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 77);
  fake_send_msg (f, &m);
  evmsg_begin (&m, FAKE_FAMILY, 200);
  fake_send_msg (f, &m);
  evmsg_begin (&m, FAKE_FAMILY, MPX_EVENT_LISTENER_CLOSED);
  evmsg_u16 (&m, MPTCP_ATTR_FAMILY, AF_INET);
  evmsg_port (&m, MPTCP_ATTR_SPORT, 5001);
  evmsg_addr (&m, MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6, "0.0.0.0");
  fake_send_msg (f, &m);

  /* nothing arrives before the monitor's context runs */
  g_assert_cmpuint (seen.events->len, ==, 0);
  iterate_until (f->context, &seen, G_N_ELEMENTS (expected), 2000);

  g_assert_cmpuint (seen.events->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      MptcpEvent *e = g_ptr_array_index (seen.events, i);
      g_autofree char *line = mptcp_event_to_string (e);

      g_test_message ("%s", line);
      g_assert_cmpint (mptcp_event_get_event_type (e), ==, expected[i]);
    }
  g_assert_cmpuint (seen.details, ==, 2);
  g_assert_true (mptcp_event_get_backup (g_ptr_array_index (seen.events, 4)));
  g_assert_cmpint (mptcp_event_get_error (g_ptr_array_index (seen.events, 8)), ==, ETIMEDOUT);
  g_assert_cmpuint (mptcp_event_get_raw_type (g_ptr_array_index (seen.events, 10)), ==, 200);

  /* after the monitor is gone its subscription is too */
  g_clear_object (&monitor);
  evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_CLOSED);
  evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 78);
  fake_send_msg (f, &m);
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_assert_cmpuint (seen.events->len, ==, G_N_ELEMENTS (expected));
  g_ptr_array_unref (seen.events);
}

/* a handler drops the last reference to the monitor while more events wait */
static void
test_monitor_fake_unref_in_handler (Fake *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  Seen seen = { g_ptr_array_new_with_free_func ((GDestroyNotify) mptcp_event_unref), 0, 0, NULL };
  Seen second = { g_ptr_array_new_with_free_func ((GDestroyNotify) mptcp_event_unref), 0, 0, NULL };
  MptcpMonitor *monitor, *other;
  EvMsg m;

  monitor = _mptcp_monitor_new_for_netlink (f->nl, &error);
  g_assert_no_error (error);
  other = _mptcp_monitor_new_for_netlink (f->nl, &error);
  g_assert_no_error (error);
  g_object_add_weak_pointer (G_OBJECT (monitor), (gpointer *) &monitor);
  seen.drop_on_event = monitor;
  g_signal_connect (monitor, "event", G_CALLBACK (seen_event_cb), &seen);
  g_signal_connect (other, "event", G_CALLBACK (seen_event_cb), &second);

  for (guint i = 0; i < 3; i++)
    {
      evmsg_begin (&m, FAKE_FAMILY, MPTCP_EVENT_CLOSED);
      evmsg_u32 (&m, MPTCP_ATTR_TOKEN, 100 + i);
      fake_send_msg (f, &m);
    }
  iterate_until (f->context, &second, 3, 2000);
  g_assert_null (monitor);
  g_assert_cmpuint (seen.events->len, ==, 1);
  g_assert_cmpuint (second.events->len, ==, 3);

  g_object_unref (other);
  g_ptr_array_unref (seen.events);
  g_ptr_array_unref (second.events);
}

static void
test_monitor_new_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;

  g_cancellable_cancel (cancellable);
  monitor = mptcp_monitor_new (cancellable, &error);
  g_assert_null (monitor);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* a broker without an event socket: the monitor reports why */
static void
test_monitor_fake_no_event_socket (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpMonitor) monitor = NULL;
  MptcpNetlink *nl;
  int req[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, req), ==, 0);
  nl = _mptcp_netlink_new_for_fds (req[0], -1, FAKE_FAMILY, 0, context);
  monitor = _mptcp_monitor_new_for_netlink (nl, &error);
  g_assert_null (monitor);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED);
  _mptcp_netlink_unref (nl);
  close (req[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/event/all-attributes", test_event_all_attributes);
  g_test_add_func ("/event/closed", test_event_closed);
  g_test_add_func ("/event/unknown-reset-reason", test_event_unknown_reset_reason);
  g_test_add_func ("/event/announced-v6", test_event_announced_v6);
  g_test_add_func ("/event/v4-mapped", test_event_v4_mapped);
  g_test_add_func ("/event/listener", test_event_listener);
  g_test_add_func ("/event/unknown-type", test_event_unknown_type);
  g_test_add_func ("/event/boxed", test_event_boxed);
  g_test_add ("/monitor/fake/dispatch", Fake, NULL, fake_setup, test_monitor_fake_dispatch,
              fake_teardown);
  g_test_add ("/monitor/fake/unref-in-handler", Fake, NULL, fake_setup,
              test_monitor_fake_unref_in_handler, fake_teardown);
  g_test_add_func ("/monitor/fake/no-event-socket", test_monitor_fake_no_event_socket);
  g_test_add_func ("/monitor/new-cancelled", test_monitor_new_cancelled);

  return g_test_run ();
}
