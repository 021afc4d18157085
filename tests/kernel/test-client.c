/* test-client.c: MptcpClient and the MPTCP listener helpers against the real kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gunixsocketaddress.h>
#include "testbed.h"
#include "read-common.h"

/* An address routed to the server, which does not forward it and drops it
 * silently: a connection attempt hangs (SYN retransmissions) until its
 * timeout. Set up in main(). */
/* A port nothing listens on: the server refuses at once. */
#define CLOSED_PORT 5999

/* ---- a connectable with a fixed list of addresses ------------------------------------ */

#define TEST_TYPE_ADDRESS_LIST (test_address_list_get_type ())
G_DECLARE_FINAL_TYPE (TestAddressList, test_address_list, TEST, ADDRESS_LIST, GObject)

#define TEST_TYPE_ADDRESS_ENUMERATOR (test_address_enumerator_get_type ())
G_DECLARE_FINAL_TYPE (TestAddressEnumerator, test_address_enumerator, TEST, ADDRESS_ENUMERATOR,
                      GSocketAddressEnumerator)

struct _TestAddressList
{
  GObject parent_instance;
  GPtrArray *addresses;
};

struct _TestAddressEnumerator
{
  GSocketAddressEnumerator parent_instance;
  GPtrArray *addresses;
  guint next;
};

G_DEFINE_FINAL_TYPE (TestAddressEnumerator, test_address_enumerator, G_TYPE_SOCKET_ADDRESS_ENUMERATOR)

static GSocketAddress *
test_address_enumerator_next (GSocketAddressEnumerator  *enumerator,
                              GCancellable              *cancellable,
                              GError                   **error)
{
  TestAddressEnumerator *self = TEST_ADDRESS_ENUMERATOR (enumerator);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (self->next >= self->addresses->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->addresses, self->next++));
}

static void
test_address_enumerator_finalize (GObject *object)
{
  g_ptr_array_unref (TEST_ADDRESS_ENUMERATOR (object)->addresses);
  G_OBJECT_CLASS (test_address_enumerator_parent_class)->finalize (object);
}

static void
test_address_enumerator_class_init (TestAddressEnumeratorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_address_enumerator_finalize;
  G_SOCKET_ADDRESS_ENUMERATOR_CLASS (klass)->next = test_address_enumerator_next;
}

static void
test_address_enumerator_init (TestAddressEnumerator *self)
{
}

static GSocketAddressEnumerator *
test_address_list_enumerate (GSocketConnectable *connectable)
{
  TestAddressEnumerator *e = g_object_new (TEST_TYPE_ADDRESS_ENUMERATOR, NULL);

  e->addresses = g_ptr_array_ref (TEST_ADDRESS_LIST (connectable)->addresses);
  return G_SOCKET_ADDRESS_ENUMERATOR (e);
}

static void
test_address_list_connectable_init (GSocketConnectableIface *iface)
{
  iface->enumerate = test_address_list_enumerate;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestAddressList, test_address_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_SOCKET_CONNECTABLE,
                                                      test_address_list_connectable_init))

static void
test_address_list_finalize (GObject *object)
{
  g_ptr_array_unref (TEST_ADDRESS_LIST (object)->addresses);
  G_OBJECT_CLASS (test_address_list_parent_class)->finalize (object);
}

static void
test_address_list_class_init (TestAddressListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_address_list_finalize;
}

static void
test_address_list_init (TestAddressList *self)
{
  self->addresses = g_ptr_array_new_with_free_func (g_object_unref);
}

/* "ip:port" strings, NULL-terminated */
static GSocketConnectable *
address_list_new (const char *first, ...)
{
  TestAddressList *self = g_object_new (TEST_TYPE_ADDRESS_LIST, NULL);
  const char *s;
  va_list ap;

  va_start (ap, first);
  for (s = first; s != NULL; s = va_arg (ap, const char *))
    {
      g_autoptr(GSocketConnectable) parsed = g_network_address_parse (s, 0, NULL);
      GSocketAddress *address;

      g_assert_nonnull (parsed);
      address = g_inet_socket_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)),
                                                       g_network_address_get_port (G_NETWORK_ADDRESS (parsed)));
      g_assert_nonnull (address);
      g_ptr_array_add (self->addresses, address);
    }
  va_end (ap);
  return G_SOCKET_CONNECTABLE (self);
}

/* ---- helpers -------------------------------------------------------------------------- */

static void
assert_echo (GSocketConnection *connection)
{
  g_autoptr(GError) error = NULL;
  const char msg[] = "hello through GIO streams";
  char buf[sizeof msg] = { 0 };
  gsize n = 0;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                            msg, sizeof msg, &n, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                          buf, sizeof buf, &n, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, sizeof msg);
  g_assert_cmpstr (buf, ==, msg);
}

static void
assert_remote (GSocketConnection *connection,
               const char        *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, &error);
  g_autofree char *s = NULL;

  g_assert_no_error (error);
  s = read_address_string (G_INET_SOCKET_ADDRESS (remote));
  g_assert_cmpstr (s, ==, expected);
}

/* An MPTCP connection with one subflow. */
static void
assert_mptcp (GSocketConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) mptcp = NULL;

  g_assert_true (mptcp_socket_is_mptcp (g_socket_connection_get_socket (connection)));
  mptcp = mptcp_connection_new_for_connection (connection, &error);
  g_assert_no_error (error);
  g_assert_false (mptcp_connection_get_fallback (mptcp));
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (mptcp)), ==, 1);
}

static void
on_async_result (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Runs the thread-default main context until *result is set. */
static void
wait_for (GAsyncResult **result)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  /* bounded: a lost callback fails here rather than at meson's timeout */
  while (*result == NULL && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  g_assert_nonnull (*result);
}

/* ---- connecting ------------------------------------------------------------------------ */

static void
check_connect_to_host (gconstpointer data)
{
  GSocketFamily family = GPOINTER_TO_INT (data);
  const char *host = family == G_SOCKET_FAMILY_IPV6 ? "[" TESTBED_SERVER1_V6 "]" : TESTBED_SERVER1_V4;
  g_autofree char *host_and_port = g_strdup_printf ("%s:%u", host, TESTBED_PORT_ECHO);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketConnection) connection2 = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* sync, with the port in the string */
  connection = mptcp_client_connect_to_host (client, host_and_port, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);
  assert_remote (connection, host_and_port);
  assert_mptcp (connection);
  assert_echo (connection);

  /* async, with the default port */
  mptcp_client_connect_to_host_async (client, family == G_SOCKET_FAMILY_IPV6 ? TESTBED_SERVER1_V6 : host,
                                      TESTBED_PORT_ECHO, NULL, on_async_result, &result);
  wait_for (&result);
  connection2 = mptcp_client_connect_to_host_finish (client, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection2);
  assert_remote (connection2, host_and_port);
  assert_mptcp (connection2);
  assert_echo (connection2);
}

static void
test_connect_to_host (gconstpointer data)
{
  check_connect_to_host (data);
  read_run_unprivileged (check_connect_to_host, data);
}

/* Every address is tried in order: the first refuses, the second accepts. */
static void
check_addresses_in_order (gconstpointer data)
{
  g_autofree char *refused = g_strdup_printf ("%s:%u", TESTBED_SERVER1_V4, CLOSED_PORT);
  g_autofree char *good = g_strdup_printf ("%s:%u", TESTBED_SERVER2_V4, TESTBED_PORT_ECHO);
  g_autoptr(GSocketConnectable) list = address_list_new (refused, good, NULL);
  g_autoptr(GSocketConnectable) bad = address_list_new (refused, refused, NULL);
  g_autoptr(GSocketConnectable) empty = address_list_new (NULL);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketConnection) connection2 = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(GAsyncResult) result3 = NULL;
  g_autoptr(GError) error = NULL;
  GSocketConnection *none;

  connection = mptcp_client_connect (client, list, NULL, &error);
  g_assert_no_error (error);
  assert_remote (connection, good);
  assert_mptcp (connection);
  assert_echo (connection);

  mptcp_client_connect_async (client, list, NULL, on_async_result, &result);
  wait_for (&result);
  connection2 = mptcp_client_connect_finish (client, result, &error);
  g_assert_no_error (error);
  assert_remote (connection2, good);
  assert_echo (connection2);

  /* all refuse: the last attempt's error */
  none = mptcp_client_connect (client, bad, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);
  mptcp_client_connect_async (client, bad, NULL, on_async_result, &result2);
  wait_for (&result2);
  none = mptcp_client_connect_finish (client, result2, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  /* no address at all */
  none = mptcp_client_connect (client, empty, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  mptcp_client_connect_async (client, empty, NULL, on_async_result, &result3);
  wait_for (&result3);
  none = mptcp_client_connect_finish (client, result3, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_addresses_in_order (gconstpointer data)
{
  check_addresses_in_order (data);
  read_run_unprivileged (check_addresses_in_order, data);
}

static void
check_properties (gconstpointer data)
{
  g_autofree char *v4 = g_strdup_printf ("%s:%u", TESTBED_SERVER2_V4, TESTBED_PORT_ECHO);
  g_autofree char *v6 = g_strdup_printf ("[%s]:%u", TESTBED_SERVER1_V6, TESTBED_PORT_ECHO);
  g_autoptr(GSocketConnectable) both = address_list_new (v4, v6, NULL);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketConnection) connection2 = NULL;
  g_autoptr(GSocketAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *local_string = NULL;
  GSocketFamily family;
  gboolean allow_fallback;
  guint timeout;

  g_object_get (client, "family", &family, "timeout", &timeout,
                "allow-fallback", &allow_fallback, NULL);
  g_assert_cmpint (family, ==, G_SOCKET_FAMILY_INVALID);
  g_assert_cmpuint (timeout, ==, 0);
  g_assert_true (allow_fallback);
  g_assert_null (mptcp_client_get_local_address (client));

  /* family: the IPv4 address is skipped */
  mptcp_client_set_family (client, G_SOCKET_FAMILY_IPV6);
  g_assert_cmpint (mptcp_client_get_family (client), ==, G_SOCKET_FAMILY_IPV6);
  connection = mptcp_client_connect (client, both, NULL, &error);
  g_assert_no_error (error);
  assert_remote (connection, v6);
  assert_echo (connection);

  /* local address: bound before connecting, so the initial subflow uses it */
  mptcp_client_set_family (client, G_SOCKET_FAMILY_INVALID);
  bind_address = g_inet_socket_address_new_from_string (TESTBED_CLIENT2_V4, 0);
  mptcp_client_set_local_address (client, bind_address);
  g_assert_true (mptcp_client_get_local_address (client) == bind_address);
  connection2 = mptcp_client_connect (client, both, NULL, &error);
  g_assert_no_error (error);
  assert_remote (connection2, v4);
  local = g_socket_connection_get_local_address (connection2, &error);
  g_assert_no_error (error);
  local_string = read_address_string (G_INET_SOCKET_ADDRESS (local));
  g_assert_true (g_str_has_prefix (local_string, TESTBED_CLIENT2_V4 ":"));
  assert_echo (connection2);

  /* timeout: stays on the socket */
  mptcp_client_set_timeout (client, 7);
  g_assert_cmpuint (mptcp_client_get_timeout (client), ==, 7);
  g_clear_object (&connection2);
  connection2 = mptcp_client_connect (client, both, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_socket_get_timeout (g_socket_connection_get_socket (connection2)), ==, 7);
}

static void
test_properties (gconstpointer data)
{
  check_properties (data);
  read_run_unprivileged (check_properties, data);
}

static void
check_bad_host_string (gconstpointer data)
{
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GSocketConnection *none;

  none = mptcp_client_connect_to_host (client, "[2001:db8::1", 80, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  mptcp_client_connect_to_host_async (client, "[2001:db8::1", 80, NULL, on_async_result, &result);
  wait_for (&result);
  none = mptcp_client_connect_to_host_finish (client, result, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
check_cancel_and_timeout (gconstpointer data)
{
  g_autofree char *blackhole = g_strdup_printf ("%s:%u", TESTBED_SILENT_V4, TESTBED_PORT_ECHO);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GCancellable) later = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(GError) error = NULL;
  GSocketConnection *none;
  gint64 start;

  /* cancelled before starting */
  g_cancellable_cancel (cancelled);
  none = mptcp_client_connect_to_host (client, blackhole, 0, cancelled, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  mptcp_client_connect_to_host_async (client, blackhole, 0, cancelled, on_async_result, &result);
  wait_for (&result);
  none = mptcp_client_connect_to_host_finish (client, result, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* cancelled while the connection is pending: returns at once */
  start = g_get_monotonic_time ();
  mptcp_client_connect_to_host_async (client, blackhole, 0, later, on_async_result, &result2);
  g_timeout_add (100, cancel_cb, later);
  wait_for (&result2);
  none = mptcp_client_connect_to_host_finish (client, result2, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);

  /* timeout: 1 s, well before ARP gives up */
  mptcp_client_set_timeout (client, 1);
  start = g_get_monotonic_time ();
  none = mptcp_client_connect_to_host (client, blackhole, 0, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  {
    g_autoptr(GAsyncResult) result3 = NULL;

    mptcp_client_connect_to_host_async (client, blackhole, 0, NULL, on_async_result, &result3);
    wait_for (&result3);
    none = mptcp_client_connect_to_host_finish (client, result3, &error);
    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  }
}

static void
test_cancel_and_timeout (gconstpointer data)
{
  check_cancel_and_timeout (data);
  read_run_unprivileged (check_cancel_and_timeout, data);
}

/* With net.mptcp.enabled=0 the client falls back to TCP, and says so. */
static void
check_no_mptcp (gconstpointer data)
{
  g_autofree char *host_and_port = g_strdup_printf ("%s:%u", TESTBED_SERVER1_V4, TESTBED_PORT_ECHO);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  g_autoptr(GError) error = NULL;
  GSocketConnection *none;

  connection = mptcp_client_connect_to_host (client, host_and_port, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mptcp_socket_is_mptcp (g_socket_connection_get_socket (connection)));
  assert_echo (connection);
  g_clear_object (&connection);

  mptcp_client_connect_to_host_async (client, host_and_port, 0, NULL, on_async_result, &result);
  wait_for (&result);
  connection = mptcp_client_connect_to_host_finish (client, result, &error);
  g_assert_no_error (error);
  g_assert_false (mptcp_socket_is_mptcp (g_socket_connection_get_socket (connection)));
  assert_echo (connection);

  /* not allowed: the reason */
  mptcp_client_set_allow_fallback (client, FALSE);
  none = mptcp_client_connect_to_host (client, host_and_port, 0, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED);
  g_clear_error (&error);
  mptcp_client_connect_to_host_async (client, host_and_port, 0, NULL, on_async_result, &result2);
  wait_for (&result2);
  none = mptcp_client_connect_to_host_finish (client, result2, &error);
  g_assert_null (none);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED);
  g_clear_error (&error);

  /* listeners say the same, and add nothing */
  {
    g_autoptr(GSocketListener) listener = g_socket_listener_new ();
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string ("0.0.0.0", 0);

    g_assert_cmpuint (mptcp_socket_listener_add_any_inet_port (listener, NULL, &error), ==, 0);
    g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED);
    g_clear_error (&error);
    g_assert_false (mptcp_socket_listener_add_address (listener, any, NULL, NULL, &error));
    g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED);
    g_clear_error (&error);
    g_assert_false (mptcp_socket_listener_add_inet_port (listener, 6200, NULL, &error));
    g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_DISABLED);
  }
}

/* Addresses the client's settings rule out: the reason, not a connection attempt. */
static void
test_unusable_addresses (gconstpointer data)
{
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) unix_address = G_SOCKET_CONNECTABLE (g_unix_socket_address_new ("/nonexistent"));
  g_autoptr(GSocketConnectable) v4 = G_SOCKET_CONNECTABLE (testbed_server_address (1, G_SOCKET_FAMILY_IPV4, TESTBED_PORT_ECHO));
  g_autoptr(GSocketAddress) local6 = g_inet_socket_address_new_from_string ("::", 0);
  GSocketConnection *none;

  /* not an IP address */
  none = mptcp_client_connect (client, unix_address, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* the family asked for excludes every address */
  mptcp_client_set_family (client, G_SOCKET_FAMILY_IPV6);
  none = mptcp_client_connect (client, v4, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* the local address's family matches no destination */
  mptcp_client_set_family (client, G_SOCKET_FAMILY_INVALID);
  mptcp_client_set_local_address (client, local6);
  none = mptcp_client_connect (client, v4, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_no_mptcp (gconstpointer data)
{
  read_write_sysctl ("/proc/sys/net/mptcp/enabled", "0");
  check_no_mptcp (data);
  read_run_unprivileged (check_no_mptcp, data);
  read_write_sysctl ("/proc/sys/net/mptcp/enabled", "1");
}

/* A server whose peer does not speak MPTCP: the kernel falls back by itself. */
static void
check_server_without_mptcp (gconstpointer data)
{
  g_autofree char *host_and_port = g_strdup_printf ("%s:%u", TESTBED_SERVER1_V4, TESTBED_PORT_TCP);
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(MptcpConnection) mptcp = NULL;
  g_autoptr(GError) error = NULL;

  connection = mptcp_client_connect_to_host (client, host_and_port, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_socket_is_mptcp (g_socket_connection_get_socket (connection)));
  mptcp = mptcp_connection_new_for_connection (connection, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_connection_get_fallback (mptcp));
}

static void
test_server_without_mptcp (gconstpointer data)
{
  check_server_without_mptcp (data);
  read_run_unprivileged (check_server_without_mptcp, data);
}

/* ---- listening ------------------------------------------------------------------------- */

typedef struct
{
  GPtrArray *accepted;   /* GSocketConnection */
  GString *events;
} ServiceData;

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  ServiceData *sd = user_data;

  g_ptr_array_add (sd->accepted, g_object_ref (connection));
  return TRUE;
}

static void
on_listener_event (GSocketListener      *listener,
                   GSocketListenerEvent  event,
                   GSocket              *socket,
                   gpointer              user_data)
{
  ServiceData *sd = user_data;

  g_assert_true (mptcp_socket_is_mptcp (socket));
  g_string_append_printf (sd->events, "%d;", (int) event);
}

/* Connects to host:port asynchronously while the service accepts. */
static GSocketConnection *
connect_through_service (MptcpClient *client,
                         const char  *host,
                         guint16      port,
                         ServiceData *sd)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;
  guint before = sd->accepted->len;

  mptcp_client_connect_to_host_async (client, host, port, NULL, on_async_result, &result);
  wait_for (&result);
  connection = mptcp_client_connect_to_host_finish (client, result, &error);
  g_assert_no_error (error);
  while (sd->accepted->len == before)
    g_main_context_iteration (NULL, TRUE);
  return connection;
}

static void
check_service (gconstpointer data)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GSocketConnection) c4 = NULL;
  g_autoptr(GSocketConnection) c6 = NULL;
  g_autoptr(GSocketConnection) tcp = NULL;
  g_autoptr(MptcpConnection) m4 = NULL;
  g_autoptr(MptcpConnection) m6 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *client_v4 = NULL;
  g_autofree char *server_v4 = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *local = NULL;
  g_autofree char *tuple = NULL;
  g_autofree char *expected = NULL;
  ServiceData sd = { g_ptr_array_new_with_free_func (g_object_unref), g_string_new (NULL) };
  GSocketConnection *accepted;
  MptcpConnection *none;
  MptcpSubflow *subflow;
  guint16 port;

  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), &sd);
  g_signal_connect (service, "event", G_CALLBACK (on_listener_event), &sd);
  port = mptcp_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port, !=, 0);
  g_assert_cmpstr (sd.events->str, ==, "0;1;2;3;");   /* BINDING BOUND LISTENING LISTENED */
  g_socket_service_start (service);

  /* an IPv4 client: the dual-stack listener sees it v4-mapped, the
   * MptcpConnection reports IPv4 */
  c4 = connect_through_service (client, TESTBED_CLIENT1_V4, port, &sd);
  accepted = g_ptr_array_index (sd.accepted, 0);
  g_assert_true (mptcp_socket_is_mptcp (g_socket_connection_get_socket (accepted)));
  m4 = mptcp_connection_new_for_connection (accepted, &error);
  g_assert_no_error (error);
  g_assert_false (mptcp_connection_get_fallback (m4));
  g_assert_cmpuint (mptcp_connection_get_token (m4), !=, 0);
  {
    g_autoptr(GSocketAddress) client_local = g_socket_connection_get_local_address (c4, &error);

    g_assert_no_error (error);
    client_v4 = read_address_string (G_INET_SOCKET_ADDRESS (client_local));
  }
  remote = read_address_string (mptcp_connection_get_remote_address (m4));
  g_assert_cmpstr (remote, ==, client_v4);
  local = read_address_string (mptcp_connection_get_local_address (m4));
  server_v4 = g_strdup_printf ("%s:%u", TESTBED_CLIENT1_V4, port);
  g_assert_cmpstr (local, ==, server_v4);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (m4)), ==, 1);
  subflow = g_list_model_get_item (mptcp_connection_get_subflows (m4), 0);
  tuple = read_subflow_tuple (subflow);
  expected = g_strdup_printf ("%s -> %s", server_v4, client_v4);
  g_assert_cmpstr (tuple, ==, expected);
  g_object_unref (subflow);

  /* an IPv6 client */
  c6 = connect_through_service (client, TESTBED_CLIENT1_V6, port, &sd);
  m6 = mptcp_connection_new_for_connection (g_ptr_array_index (sd.accepted, 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_inet_address_get_family (g_inet_socket_address_get_address (mptcp_connection_get_remote_address (m6))),
                   ==, G_SOCKET_FAMILY_IPV6);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (m6)), ==, 1);

  /* a plain TCP client: the kernel hands out a TCP socket */
  {
    g_autoptr(GSocketClient) tcp_client = g_socket_client_new ();
    g_autoptr(GAsyncResult) result = NULL;

    g_socket_client_connect_to_host_async (tcp_client, TESTBED_CLIENT1_V4, port, NULL,
                                           on_async_result, &result);
    wait_for (&result);
    tcp = g_socket_client_connect_to_host_finish (tcp_client, result, &error);
    g_assert_no_error (error);
    while (sd.accepted->len < 3)
      g_main_context_iteration (NULL, TRUE);
    accepted = g_ptr_array_index (sd.accepted, 2);
    g_assert_false (mptcp_socket_is_mptcp (g_socket_connection_get_socket (accepted)));
    none = mptcp_connection_new_for_connection (accepted, &error);
    g_assert_null (none);
    g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP);
    g_clear_error (&error);
  }

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_ptr_array_unref (sd.accepted);
  g_string_free (sd.events, TRUE);
}

static void
test_service (gconstpointer data)
{
  check_service (data);
  read_run_unprivileged (check_service, data);
}

static void
check_listener_address (gconstpointer data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketListener) listener2 = g_socket_listener_new ();
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GSocketConnection) outgoing = NULL;
  g_autoptr(GSocketConnection) incoming = NULL;
  g_autoptr(MptcpClient) client = mptcp_client_new ();
  g_autoptr(GError) error = NULL;
  GObject *source = NULL;   /* transfer none */
  g_autoptr(GObject) tag = g_object_new (G_TYPE_OBJECT, NULL);
  guint16 port;

  g_assert_true (mptcp_socket_listener_add_address (listener, address, tag, &effective, &error));
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_assert_cmpuint (port, !=, 0);

  /* the handshake completes in the backlog, so one thread can do both */
  outgoing = mptcp_client_connect (client, G_SOCKET_CONNECTABLE (effective), NULL, &error);
  g_assert_no_error (error);
  incoming = g_socket_listener_accept (listener, &source, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (source == tag);
  g_assert_true (mptcp_socket_is_mptcp (g_socket_connection_get_socket (incoming)));

  /* the same port again: in use */
  g_assert_false (mptcp_socket_listener_add_address (listener2, effective, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_false (mptcp_socket_listener_add_inet_port (listener2, port, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
}

static void
test_listener_address (gconstpointer data)
{
  check_listener_address (data);
  read_run_unprivileged (check_listener_address, data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_data_func ("/client/connect-to-host/ipv4", GINT_TO_POINTER (G_SOCKET_FAMILY_IPV4),
                        test_connect_to_host);
  g_test_add_data_func ("/client/connect-to-host/ipv6", GINT_TO_POINTER (G_SOCKET_FAMILY_IPV6),
                        test_connect_to_host);
  g_test_add_data_func ("/client/connect-to-host/bad-string", NULL, check_bad_host_string);
  g_test_add_data_func ("/client/addresses-in-order", NULL, test_addresses_in_order);
  g_test_add_data_func ("/client/properties", NULL, test_properties);
  g_test_add_data_func ("/client/cancel-and-timeout", NULL, test_cancel_and_timeout);
  g_test_add_data_func ("/client/no-mptcp", NULL, test_no_mptcp);
  g_test_add_data_func ("/client/unusable-addresses", NULL, test_unusable_addresses);
  g_test_add_data_func ("/client/server-without-mptcp", NULL, test_server_without_mptcp);
  g_test_add_data_func ("/listener/service", NULL, test_service);
  g_test_add_data_func ("/listener/address", NULL, test_listener_address);

  return g_test_run ();
}
