/* mptcp-client.c: connect to MPTCP servers from GIO
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-client.h"
#include "mptcp-error.h"
#include "mptcp-socket.h"
#include "mptcp-task-private.h"

/**
 * SECTION:mptcp-client
 * @Title: MptcpClient
 * @Short_description: connect to servers over Multipath TCP
 * @See_also: #MptcpConnection, mptcp_socket_listener_add_inet_port(), #GSocketClient
 *
 * #MptcpClient does for Multipath TCP what #GSocketClient does for TCP: it
 * resolves a host name (or any #GSocketConnectable), tries every resolved
 * address in order until one accepts, and returns a #GSocketConnection.
 * The socket of that connection is an MPTCP socket (made with
 * mptcp_socket_new()); read and write it with GIO's streams as usual
 * (g_io_stream_get_input_stream() and g_io_stream_get_output_stream()), and
 * wrap it in an #MptcpConnection to see its subflows.
 *
 * |[<!-- language="C" -->
 * g_autoptr(MptcpClient) client = mptcp_client_new ();
 * g_autoptr(GSocketConnection) conn = NULL;
 * g_autoptr(MptcpConnection) mptcp = NULL;
 *
 * conn = mptcp_client_connect_to_host (client, "example.org:443", 443, NULL, &error);
 * if (conn == NULL)
 *   return FALSE;
 * mptcp = mptcp_connection_new_for_connection (conn, &error);
 * ]|
 *
 * Two kinds of "no MPTCP" can happen, and the client tells them apart:
 *
 * - The kernel here cannot make MPTCP sockets (no MPTCP in the kernel, or
 *   `net.mptcp.enabled` is 0 in this network namespace). With
 *   #MptcpClient:allow-fallback (the default) the client then connects over
 *   plain TCP; mptcp_socket_is_mptcp() on the socket of the returned
 *   connection is %FALSE. Without it, connecting fails with
 *   %MPTCP_ERROR_NOT_SUPPORTED or %MPTCP_ERROR_DISABLED.
 * - The socket is MPTCP but the server (or the network) does not speak
 *   MPTCP: the kernel falls back to TCP by itself.
 *   mptcp_socket_is_mptcp() is %TRUE and #MptcpConnection:fallback is %TRUE.
 *
 * Connecting never blocks the main loop in the asynchronous variants and
 * uses no threads: sockets are non-blocking and connection completion is
 * watched with a #GSource in the thread-default main context of the caller.
 * The synchronous variants block the calling thread. Proxies and TLS are not
 * handled; wrap the returned connection with g_tls_client_connection_new()
 * for TLS.
 *
 * Since: 0.1
 */

/**
 * MptcpClient:
 *
 * Makes outgoing Multipath TCP connections, like #GSocketClient does for TCP:
 * resolves the destination, tries every address in order, and returns a
 * #GSocketConnection over an MPTCP socket. Falls back to plain TCP when the
 * kernel cannot make MPTCP sockets and #MptcpClient:allow-fallback is set;
 * mptcp_socket_is_mptcp() on the returned connection's socket tells which.
 *
 * Since: 0.1
 */

struct _MptcpClient
{
  GObject parent_instance;

  GSocketFamily family;
  GSocketAddress *local_address;
  guint timeout;
  gboolean allow_fallback;
};

enum
{
  PROP_0,
  PROP_FAMILY,
  PROP_LOCAL_ADDRESS,
  PROP_TIMEOUT,
  PROP_ALLOW_FALLBACK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MptcpClient, mptcp_client, G_TYPE_OBJECT)

static void
mptcp_client_finalize (GObject *object)
{
  MptcpClient *self = MPTCP_CLIENT (object);

  g_clear_object (&self->local_address);

  G_OBJECT_CLASS (mptcp_client_parent_class)->finalize (object);
}

static void
mptcp_client_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  MptcpClient *self = MPTCP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_FAMILY:
      g_value_set_enum (value, self->family);
      break;
    case PROP_LOCAL_ADDRESS:
      g_value_set_object (value, self->local_address);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_ALLOW_FALLBACK:
      g_value_set_boolean (value, self->allow_fallback);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_client_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  MptcpClient *self = MPTCP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_FAMILY:
      mptcp_client_set_family (self, g_value_get_enum (value));
      break;
    case PROP_LOCAL_ADDRESS:
      mptcp_client_set_local_address (self, g_value_get_object (value));
      break;
    case PROP_TIMEOUT:
      mptcp_client_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_ALLOW_FALLBACK:
      mptcp_client_set_allow_fallback (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_client_class_init (MptcpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mptcp_client_finalize;
  object_class->get_property = mptcp_client_get_property;
  object_class->set_property = mptcp_client_set_property;

  /**
   * MptcpClient:family:
   *
   * The address family to connect with: %G_SOCKET_FAMILY_IPV4,
   * %G_SOCKET_FAMILY_IPV6, or %G_SOCKET_FAMILY_INVALID (the default) for
   * whatever the resolved addresses are. Addresses of another family are
   * skipped.
   *
   * Since: 0.1
   */
  properties[PROP_FAMILY] =
    g_param_spec_enum ("family", "Family", "The address family to connect with",
                       G_TYPE_SOCKET_FAMILY, G_SOCKET_FAMILY_INVALID,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpClient:local-address:
   *
   * The local address the socket is bound to before connecting (that of the
   * initial subflow), or %NULL to let the kernel choose. Only addresses of
   * the same family as the destination are tried when it is set.
   *
   * Since: 0.1
   */
  properties[PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address",
                         "The local address to bind to before connecting",
                         G_TYPE_SOCKET_ADDRESS,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpClient:timeout:
   *
   * The I/O timeout of the sockets, in seconds, or 0 for none. It limits
   * each connection attempt (%G_IO_ERROR_TIMED_OUT) and, as with
   * #GSocketClient:timeout, stays set on the socket of the returned
   * connection (#GSocket:timeout).
   *
   * Since: 0.1
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", "Timeout", "The I/O timeout of the sockets, in seconds",
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpClient:allow-fallback:
   *
   * Whether to connect over plain TCP when the kernel cannot make MPTCP
   * sockets (%MPTCP_ERROR_NOT_SUPPORTED or %MPTCP_ERROR_DISABLED from
   * mptcp_socket_new()). %TRUE by default; mptcp_socket_is_mptcp() on the
   * returned connection's socket says whether it happened. When %FALSE,
   * connecting fails with that error instead.
   *
   * Since: 0.1
   */
  properties[PROP_ALLOW_FALLBACK] =
    g_param_spec_boolean ("allow-fallback", "Allow fallback",
                          "Whether to use TCP when the kernel cannot make MPTCP sockets",
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mptcp_client_init (MptcpClient *self)
{
  self->family = G_SOCKET_FAMILY_INVALID;
  self->allow_fallback = TRUE;
}

/**
 * mptcp_client_new:
 *
 * Creates a client with the default settings: any address family, no local
 * address, no timeout, fallback to TCP allowed.
 *
 * Returns: (transfer full): a new #MptcpClient
 *
 * Since: 0.1
 */
MptcpClient *
mptcp_client_new (void)
{
  return g_object_new (MPTCP_TYPE_CLIENT, NULL);
}

/**
 * mptcp_client_get_family:
 * @self: a #MptcpClient
 *
 * Gets the address family the client connects with; see #MptcpClient:family.
 *
 * Returns: the family, or %G_SOCKET_FAMILY_INVALID for any
 *
 * Since: 0.1
 */
GSocketFamily
mptcp_client_get_family (MptcpClient *self)
{
  g_return_val_if_fail (MPTCP_IS_CLIENT (self), G_SOCKET_FAMILY_INVALID);

  return self->family;
}

/**
 * mptcp_client_set_family:
 * @self: a #MptcpClient
 * @family: %G_SOCKET_FAMILY_IPV4, %G_SOCKET_FAMILY_IPV6 or
 *   %G_SOCKET_FAMILY_INVALID for any
 *
 * Sets the address family the client connects with; see #MptcpClient:family.
 *
 * Since: 0.1
 */
void
mptcp_client_set_family (MptcpClient   *self,
                         GSocketFamily  family)
{
  g_return_if_fail (MPTCP_IS_CLIENT (self));
  g_return_if_fail (family == G_SOCKET_FAMILY_INVALID ||
                    family == G_SOCKET_FAMILY_IPV4 ||
                    family == G_SOCKET_FAMILY_IPV6);

  if (self->family == family)
    return;
  self->family = family;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAMILY]);
}

/**
 * mptcp_client_get_local_address:
 * @self: a #MptcpClient
 *
 * Gets the local address sockets are bound to; see
 * #MptcpClient:local-address.
 *
 * Returns: (transfer none) (nullable): the local address, or %NULL
 *
 * Since: 0.1
 */
GSocketAddress *
mptcp_client_get_local_address (MptcpClient *self)
{
  g_return_val_if_fail (MPTCP_IS_CLIENT (self), NULL);

  return self->local_address;
}

/**
 * mptcp_client_set_local_address:
 * @self: a #MptcpClient
 * @address: (nullable): a #GInetSocketAddress, or %NULL
 *
 * Sets the local address sockets are bound to before connecting; see
 * #MptcpClient:local-address. Use port 0 to let the kernel choose the port.
 *
 * Since: 0.1
 */
void
mptcp_client_set_local_address (MptcpClient    *self,
                                GSocketAddress *address)
{
  g_return_if_fail (MPTCP_IS_CLIENT (self));
  g_return_if_fail (address == NULL || G_IS_INET_SOCKET_ADDRESS (address));

  if (g_set_object (&self->local_address, address))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCAL_ADDRESS]);
}

/**
 * mptcp_client_get_timeout:
 * @self: a #MptcpClient
 *
 * Gets the I/O timeout of the client's sockets; see #MptcpClient:timeout.
 *
 * Returns: the timeout in seconds, 0 for none
 *
 * Since: 0.1
 */
guint
mptcp_client_get_timeout (MptcpClient *self)
{
  g_return_val_if_fail (MPTCP_IS_CLIENT (self), 0);

  return self->timeout;
}

/**
 * mptcp_client_set_timeout:
 * @self: a #MptcpClient
 * @timeout: the timeout in seconds, 0 for none
 *
 * Sets the I/O timeout of the client's sockets; see #MptcpClient:timeout.
 *
 * Since: 0.1
 */
void
mptcp_client_set_timeout (MptcpClient *self,
                          guint        timeout)
{
  g_return_if_fail (MPTCP_IS_CLIENT (self));

  if (self->timeout == timeout)
    return;
  self->timeout = timeout;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * mptcp_client_get_allow_fallback:
 * @self: a #MptcpClient
 *
 * Gets whether the client connects over TCP when the kernel cannot make
 * MPTCP sockets; see #MptcpClient:allow-fallback.
 *
 * Returns: %TRUE if falling back to TCP is allowed
 *
 * Since: 0.1
 */
gboolean
mptcp_client_get_allow_fallback (MptcpClient *self)
{
  g_return_val_if_fail (MPTCP_IS_CLIENT (self), FALSE);

  return self->allow_fallback;
}

/**
 * mptcp_client_set_allow_fallback:
 * @self: a #MptcpClient
 * @allow_fallback: whether to fall back to TCP
 *
 * Sets whether the client connects over TCP when the kernel cannot make
 * MPTCP sockets; see #MptcpClient:allow-fallback.
 *
 * Since: 0.1
 */
void
mptcp_client_set_allow_fallback (MptcpClient *self,
                                 gboolean     allow_fallback)
{
  g_return_if_fail (MPTCP_IS_CLIENT (self));

  allow_fallback = !!allow_fallback;
  if (self->allow_fallback == allow_fallback)
    return;
  self->allow_fallback = allow_fallback;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOW_FALLBACK]);
}

/* ---- connecting ------------------------------------------------------------ */

/* Keeps the most useful error of a series of attempts: the last one. */
static void
remember_error (GError **last_error,
                GError  *error)
{
  g_clear_error (last_error);
  *last_error = error;
}

/* Whether address is worth trying with this client's settings; if not, sets
 * error to say why. */
static gboolean
address_usable (MptcpClient     *self,
                GSocketAddress  *address,
                GError         **error)
{
  GSocketFamily family;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "MPTCP needs an IPv4 or IPv6 address");
      return FALSE;
    }
  family = g_socket_address_get_family (address);
  if (self->family != G_SOCKET_FAMILY_INVALID && family != self->family)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "No address of the requested family (%s)",
                   self->family == G_SOCKET_FAMILY_IPV4 ? "IPv4" : "IPv6");
      return FALSE;
    }
  if (self->local_address != NULL &&
      g_socket_address_get_family (self->local_address) != family)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "No address of the family of the local address");
      return FALSE;
    }
  return TRUE;
}

/* An MPTCP socket for address (or a TCP one, if the kernel has no MPTCP and
 * that is allowed), bound to the local address, with the timeout set. */
static GSocket *
make_socket (MptcpClient     *self,
             GSocketAddress  *address,
             GError         **error)
{
  GSocketFamily family = g_socket_address_get_family (address);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) local_error = NULL;

  socket = mptcp_socket_new (family, &local_error);
  if (socket == NULL)
    {
      if (self->allow_fallback &&
          (g_error_matches (local_error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED) ||
           g_error_matches (local_error, MPTCP_ERROR, MPTCP_ERROR_DISABLED)))
        {
          g_debug ("No MPTCP here (%s): connecting over TCP", local_error->message);
          socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
          if (socket == NULL)
            return NULL;
        }
      else
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }

  g_socket_set_timeout (socket, self->timeout);
  if (self->local_address != NULL &&
      !g_socket_bind (socket, self->local_address, FALSE, error))
    return NULL;

  return g_steal_pointer (&socket);
}

static void
set_no_address_error (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "The destination resolved to no address");
}

/**
 * mptcp_client_connect:
 * @self: a #MptcpClient
 * @connectable: what to connect to: a #GNetworkAddress, a
 *   #GInetSocketAddress, a #GNetworkService ...
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Resolves @connectable and connects to its addresses in order until one
 * accepts, over MPTCP (or TCP; see #MptcpClient:allow-fallback). Blocks the
 * calling thread; see mptcp_client_connect_async() for the non-blocking
 * variant.
 *
 * On failure the error of the last attempt is returned (or the resolver's,
 * if no attempt was made); %G_IO_ERROR_CANCELLED if @cancellable was
 * cancelled.
 *
 * Returns: (transfer full): a #GSocketConnection, or %NULL on error
 *
 * Since: 0.1
 */
GSocketConnection *
mptcp_client_connect (MptcpClient         *self,
                      GSocketConnectable  *connectable,
                      GCancellable        *cancellable,
                      GError             **error)
{
  g_autoptr(GSocketAddressEnumerator) enumerator = NULL;
  g_autoptr(GError) last_error = NULL;

  g_return_val_if_fail (MPTCP_IS_CLIENT (self), NULL);
  g_return_val_if_fail (G_IS_SOCKET_CONNECTABLE (connectable), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  enumerator = g_socket_connectable_enumerate (connectable);
  for (;;)
    {
      g_autoptr(GSocketAddress) address = NULL;
      g_autoptr(GSocket) socket = NULL;
      GError *attempt_error = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      address = g_socket_address_enumerator_next (enumerator, cancellable, &attempt_error);
      if (address == NULL)
        {
          if (attempt_error != NULL &&
              (last_error == NULL ||
               g_error_matches (attempt_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
            remember_error (&last_error, attempt_error);
          else
            g_clear_error (&attempt_error);
          break;
        }

      if (!address_usable (self, address, &attempt_error))
        {
          if (last_error == NULL)
            remember_error (&last_error, attempt_error);
          else
            g_clear_error (&attempt_error);
          continue;
        }

      socket = make_socket (self, address, &attempt_error);
      if (socket != NULL && g_socket_connect (socket, address, cancellable, &attempt_error))
        return g_socket_connection_factory_create_connection (socket);

      if (g_error_matches (attempt_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, attempt_error);
          return NULL;
        }
      remember_error (&last_error, attempt_error);
    }

  if (last_error == NULL)
    set_no_address_error (&last_error);
  g_propagate_error (error, g_steal_pointer (&last_error));
  return NULL;
}

typedef struct
{
  GSocketAddressEnumerator *enumerator;
  GSocket *socket;          /* the attempt in progress */
  GSource *source;          /* waiting for it to connect */
  GError *last_error;
} ConnectData;

static void
connect_data_free (ConnectData *data)
{
  g_clear_object (&data->enumerator);
  g_clear_object (&data->socket);
  if (data->source != NULL)
    {
      g_source_destroy (data->source);
      g_source_unref (data->source);
    }
  g_clear_error (&data->last_error);
  g_free (data);
}

static void try_next_address (GTask *task);

static void
attempt_failed (GTask  *task,
                GError *error)
{
  ConnectData *data = g_task_get_task_data (task);

  g_clear_object (&data->socket);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }
  remember_error (&data->last_error, error);
  try_next_address (task);
}

static void
attempt_succeeded (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GSocket) socket = g_steal_pointer (&data->socket);

  g_socket_set_blocking (socket, TRUE);
  g_task_return_pointer (task, g_socket_connection_factory_create_connection (socket),
                         g_object_unref);
}

static gboolean
on_socket_writable (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  GTask *task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  GError *error = NULL;

  g_clear_pointer (&data->source, g_source_unref);

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error) ||
      !g_socket_check_connect_result (socket, &error))
    attempt_failed (task, error);
  else
    attempt_succeeded (task);

  return G_SOURCE_REMOVE;
}

static void
on_next_address (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  MptcpClient *self = g_task_get_source_object (task);
  g_autoptr(GSocketAddress) address = NULL;
  GError *error = NULL;

  address = g_socket_address_enumerator_next_finish (data->enumerator, result, &error);
  if (address == NULL)
    {
      if (error != NULL &&
          (data->last_error == NULL ||
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
        g_task_return_error (task, error);
      else
        {
          g_clear_error (&error);
          if (data->last_error == NULL)
            set_no_address_error (&data->last_error);
          g_task_return_error (task, g_steal_pointer (&data->last_error));
        }
      return;
    }

  if (!address_usable (self, address, &error))
    {
      if (data->last_error == NULL)
        remember_error (&data->last_error, error);
      else
        g_clear_error (&error);
      try_next_address (task);
      return;
    }

  data->socket = make_socket (self, address, &error);
  if (data->socket == NULL)
    {
      attempt_failed (task, error);
      return;
    }

  g_socket_set_blocking (data->socket, FALSE);
  if (g_socket_connect (data->socket, address, g_task_get_cancellable (task), &error))
    {
      attempt_succeeded (task);
      return;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      attempt_failed (task, error);
      return;
    }
  g_clear_error (&error);

  /* Wait for the connection in the caller's main context. The source also
   * fires on cancellation and, with a socket timeout, when it expires
   * (g_socket_check_connect_result() then reports G_IO_ERROR_TIMED_OUT). */
  data->source = g_socket_create_source (data->socket, G_IO_OUT, g_task_get_cancellable (task));
  g_source_set_callback (data->source, (GSourceFunc) G_CALLBACK (on_socket_writable),
                         g_object_ref (task), g_object_unref);
  g_source_set_priority (data->source, g_task_get_priority (task));
  g_source_attach (data->source, g_task_get_context (task));
}

static void
try_next_address (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);

  g_socket_address_enumerator_next_async (data->enumerator, g_task_get_cancellable (task),
                                          on_next_address, g_object_ref (task));
}

static GTask *
connect_task_new (MptcpClient         *self,
                  GSocketConnectable  *connectable,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data,
                  gpointer             source_tag,
                  const char          *task_name)
{
  GTask *task;
  ConnectData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  _mptcp_task_set_tag (task, source_tag, task_name);
  data = g_new0 (ConnectData, 1);
  data->enumerator = g_socket_connectable_enumerate (connectable);
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);
  return task;
}

/**
 * mptcp_client_connect_async:
 * @self: a #MptcpClient
 * @connectable: what to connect to
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the connection is made or failed
 * @user_data: data for @callback
 *
 * Like mptcp_client_connect(), without blocking: resolution and connection
 * progress are watched in the thread-default main context of the caller,
 * where @callback runs; no thread is used. Get the result with
 * mptcp_client_connect_finish().
 *
 * Since: 0.1
 */
void
mptcp_client_connect_async (MptcpClient         *self,
                            GSocketConnectable  *connectable,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MPTCP_IS_CLIENT (self));
  g_return_if_fail (G_IS_SOCKET_CONNECTABLE (connectable));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = connect_task_new (self, connectable, cancellable, callback, user_data,
                           MPTCP_TASK_TAG (mptcp_client_connect_async));
  try_next_address (task);
}

/**
 * mptcp_client_connect_finish:
 * @self: a #MptcpClient
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_client_connect_async().
 *
 * Returns: (transfer full): a #GSocketConnection, or %NULL on error
 *
 * Since: 0.1
 */
GSocketConnection *
mptcp_client_connect_finish (MptcpClient   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (MPTCP_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_client_connect_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mptcp_client_connect_to_host:
 * @self: a #MptcpClient
 * @host_and_port: a host name or address, optionally with a port:
 *   `"example.org"`, `"example.org:8080"`, `"192.0.2.1:80"`,
 *   `"[2001:db8::1]:80"`
 * @default_port: the port to use when @host_and_port has none
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Connects to a host given as a string, as g_socket_client_connect_to_host()
 * does; see mptcp_client_connect(). A string that cannot be parsed fails
 * with %G_IO_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): a #GSocketConnection, or %NULL on error
 *
 * Since: 0.1
 */
GSocketConnection *
mptcp_client_connect_to_host (MptcpClient   *self,
                              const char    *host_and_port,
                              guint16        default_port,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;

  g_return_val_if_fail (MPTCP_IS_CLIENT (self), NULL);
  g_return_val_if_fail (host_and_port != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  connectable = g_network_address_parse (host_and_port, default_port, error);
  if (connectable == NULL)
    return NULL;
  return mptcp_client_connect (self, connectable, cancellable, error);
}

/**
 * mptcp_client_connect_to_host_async:
 * @self: a #MptcpClient
 * @host_and_port: a host name or address, optionally with a port
 * @default_port: the port to use when @host_and_port has none
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the connection is made or failed
 * @user_data: data for @callback
 *
 * Like mptcp_client_connect_to_host(), without blocking; see
 * mptcp_client_connect_async(). Get the result with
 * mptcp_client_connect_to_host_finish().
 *
 * Since: 0.1
 */
void
mptcp_client_connect_to_host_async (MptcpClient         *self,
                                    const char          *host_and_port,
                                    guint16              default_port,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (MPTCP_IS_CLIENT (self));
  g_return_if_fail (host_and_port != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  connectable = g_network_address_parse (host_and_port, default_port, &error);
  if (connectable == NULL)
    {
      g_task_report_error (self, callback, user_data,
                           mptcp_client_connect_to_host_async, error);
      return;
    }

  task = connect_task_new (self, connectable, cancellable, callback, user_data,
                           MPTCP_TASK_TAG (mptcp_client_connect_to_host_async));
  try_next_address (task);
}

/**
 * mptcp_client_connect_to_host_finish:
 * @self: a #MptcpClient
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_client_connect_to_host_async().
 *
 * Returns: (transfer full): a #GSocketConnection, or %NULL on error
 *
 * Since: 0.1
 */
GSocketConnection *
mptcp_client_connect_to_host_finish (MptcpClient   *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (MPTCP_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, mptcp_client_connect_to_host_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
