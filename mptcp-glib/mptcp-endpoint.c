/* mptcp-endpoint.c: one endpoint of the in-kernel path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-endpoint.h"
#include "mptcp-endpoint-private.h"
#include "mptcp-enum-types.h"

/**
 * SECTION:mptcp-endpoint
 * @Title: MptcpEndpoint
 * @Short_description: an address the in-kernel path manager uses
 * @See_also: #MptcpPathManager
 *
 * An #MptcpEndpoint is one entry of the in-kernel path manager's endpoint
 * table, as `ip mptcp endpoint show` prints it: a local address (with an
 * optional port and network device), the address id the kernel gave it, and
 * #MptcpEndpointFlags that say what the path manager does with it.
 *
 * Endpoints are immutable snapshots returned by #MptcpPathManager: they do not
 * follow later changes of the kernel's table (the kernel announces none). Ask
 * the path manager again for the current state.
 *
 * To add an endpoint, build one with its properties and pass it to
 * mptcp_path_manager_add_endpoint(): #MptcpEndpoint:address,
 * #MptcpEndpoint:port, #MptcpEndpoint:ifindex, #MptcpEndpoint:flags and
 * #MptcpEndpoint:id can be set when the object is constructed (and only then).
 * In C:
 * |[<!-- language="C" -->
 * g_autoptr(MptcpEndpoint) wanted = g_object_new (MPTCP_TYPE_ENDPOINT,
 *                                                 "address", address,
 *                                                 "flags", MPTCP_ENDPOINT_FLAG_SUBFLOW,
 *                                                 NULL);
 * g_autoptr(MptcpEndpoint) added = mptcp_path_manager_add_endpoint (pm, wanted, NULL, &error);
 * ]|
 * In Python, `Mptcp.Endpoint(address=address, flags=Mptcp.EndpointFlags.SUBFLOW)`;
 * in JavaScript, `new Mptcp.Endpoint({address, flags: Mptcp.EndpointFlags.SUBFLOW})`.
 */

/**
 * MptcpEndpoint:
 *
 * An immutable snapshot of one endpoint of the in-kernel path manager: its
 * id, address, port, device and flags, as the kernel reported them.
 *
 * Since: 0.1
 */
struct _MptcpEndpoint
{
  GObject       parent_instance;

  guint         id;
  GInetAddress *address;
  guint16       port;
  int           ifindex;
  char         *ifname;
  guint32       flags;
};

G_DEFINE_FINAL_TYPE (MptcpEndpoint, mptcp_endpoint, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_IFINDEX,
  PROP_IFNAME,
  PROP_FLAGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mptcp_endpoint_finalize (GObject *object)
{
  MptcpEndpoint *self = MPTCP_ENDPOINT (object);

  g_clear_object (&self->address);
  g_clear_pointer (&self->ifname, g_free);

  G_OBJECT_CLASS (mptcp_endpoint_parent_class)->finalize (object);
}

static void
mptcp_endpoint_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MptcpEndpoint *self = MPTCP_ENDPOINT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_uint (value, self->id);
      break;
    case PROP_ADDRESS:
      g_value_set_object (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_IFINDEX:
      g_value_set_int (value, self->ifindex);
      break;
    case PROP_IFNAME:
      g_value_set_string (value, self->ifname);
      break;
    case PROP_FLAGS:
      /* g_value_set_flags() keeps bits the type does not name */
      g_value_set_flags (value, self->flags);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_endpoint_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  MptcpEndpoint *self = MPTCP_ENDPOINT (object);

  /* construct-only: each is set once, before anyone sees the object */
  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_get_uint (value);
      break;
    case PROP_ADDRESS:
      g_clear_object (&self->address);
      self->address = g_value_dup_object (value);
      break;
    case PROP_PORT:
      self->port = (guint16) g_value_get_uint (value);
      break;
    case PROP_IFINDEX:
      self->ifindex = g_value_get_int (value);
      break;
    case PROP_FLAGS:
      self->flags = g_value_get_flags (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_endpoint_class_init (MptcpEndpointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS;

  object_class->finalize = mptcp_endpoint_finalize;
  object_class->get_property = mptcp_endpoint_get_property;
  object_class->set_property = mptcp_endpoint_set_property;

  /**
   * MptcpEndpoint:id:
   *
   * The address id of the endpoint (1 to 255), which the kernel also uses in
   * the MPTCP options it sends for this address.
   *
   * Since: 0.1
   */
  properties[PROP_ID] =
    g_param_spec_uint ("id", "Id", "The address id of the endpoint",
                       0, 255, 0,
                       construct);

  /**
   * MptcpEndpoint:address:
   *
   * The local address of the endpoint.
   *
   * Since: 0.1
   */
  properties[PROP_ADDRESS] =
    g_param_spec_object ("address", "Address", "The local address of the endpoint",
                         G_TYPE_INET_ADDRESS,
                         construct);

  /**
   * MptcpEndpoint:port:
   *
   * The port of a %MPTCP_ENDPOINT_FLAG_SIGNAL endpoint that has its own
   * listening port (the kernel then listens on it for joins), or 0.
   *
   * Since: 0.1
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", "Port", "The port of the endpoint, or 0",
                       0, G_MAXUINT16, 0,
                       construct);

  /**
   * MptcpEndpoint:ifindex:
   *
   * The index of the network device subflows from this endpoint are bound to,
   * or 0 for none.
   *
   * Since: 0.1
   */
  properties[PROP_IFINDEX] =
    g_param_spec_int ("ifindex", "Interface index",
                      "The index of the device the endpoint is bound to, or 0",
                      0, G_MAXINT, 0,
                      construct);

  /**
   * MptcpEndpoint:ifname:
   *
   * The name of the device of #MptcpEndpoint:ifindex, resolved in the
   * network namespace of the #MptcpPathManager when the endpoint was read, or
   * %NULL when there is none (no device, or no device with that index exists).
   *
   * Since: 0.1
   */
  properties[PROP_IFNAME] =
    g_param_spec_string ("ifname", "Interface name",
                         "The name of the device the endpoint is bound to, or NULL",
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * MptcpEndpoint:flags:
   *
   * The flags of the endpoint. Bits that a newer kernel reports and
   * #MptcpEndpointFlags does not name are kept in the value.
   *
   * Since: 0.1
   */
  properties[PROP_FLAGS] =
    g_param_spec_flags ("flags", "Flags", "The flags of the endpoint",
                        MPTCP_TYPE_ENDPOINT_FLAGS, MPTCP_ENDPOINT_FLAG_NONE,
                        construct);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mptcp_endpoint_init (MptcpEndpoint *self)
{
}

/**
 * mptcp_endpoint_new:
 * @address: the local address of the endpoint
 *
 * Makes an endpoint with @address and nothing else: no port, no device, no
 * flags, and id 0 (the kernel picks one). To set the other properties, use
 * g_object_new() with them, as the section description shows; pass the
 * endpoint to mptcp_path_manager_add_endpoint().
 *
 * Returns: (transfer full): a new #MptcpEndpoint
 *
 * Since: 0.2
 */
MptcpEndpoint *
mptcp_endpoint_new (GInetAddress *address)
{
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), NULL);

  return g_object_new (MPTCP_TYPE_ENDPOINT, "address", address, NULL);
}

MptcpEndpoint *
_mptcp_endpoint_new (guint         id,
                     GInetAddress *address,
                     guint16       port,
                     int           ifindex,
                     const char   *ifname,
                     guint32       flags)
{
  MptcpEndpoint *self;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), NULL);

  self = g_object_new (MPTCP_TYPE_ENDPOINT, NULL);
  self->id = id;
  self->address = g_object_ref (address);
  self->port = port;
  self->ifindex = MAX (ifindex, 0);
  self->ifname = g_strdup (ifname);
  self->flags = flags;

  return self;
}

/**
 * mptcp_endpoint_get_id:
 * @self: an #MptcpEndpoint
 *
 * Gets #MptcpEndpoint:id.
 *
 * Returns: the address id of the endpoint, 1 to 255 (0 in an endpoint built
 *   without an id, which no path manager has stored)
 *
 * Since: 0.1
 */
guint
mptcp_endpoint_get_id (MptcpEndpoint *self)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), 0);

  return self->id;
}

/**
 * mptcp_endpoint_get_address:
 * @self: an #MptcpEndpoint
 *
 * Gets #MptcpEndpoint:address.
 *
 * Returns: (transfer none) (nullable): the local address of the endpoint;
 *   %NULL only in an endpoint built without #MptcpEndpoint:address
 *
 * Since: 0.1
 */
GInetAddress *
mptcp_endpoint_get_address (MptcpEndpoint *self)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), NULL);

  return self->address;
}

/**
 * mptcp_endpoint_get_port:
 * @self: an #MptcpEndpoint
 *
 * Gets #MptcpEndpoint:port.
 *
 * Returns: the listening port of the endpoint, or 0 if it has none
 *
 * Since: 0.1
 */
guint16
mptcp_endpoint_get_port (MptcpEndpoint *self)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), 0);

  return self->port;
}

/**
 * mptcp_endpoint_get_ifindex:
 * @self: an #MptcpEndpoint
 *
 * Gets #MptcpEndpoint:ifindex.
 *
 * Returns: the index of the device the endpoint is bound to, or 0
 *
 * Since: 0.1
 */
int
mptcp_endpoint_get_ifindex (MptcpEndpoint *self)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), 0);

  return self->ifindex;
}

/**
 * mptcp_endpoint_get_ifname:
 * @self: an #MptcpEndpoint
 *
 * Gets #MptcpEndpoint:ifname.
 *
 * Returns: (nullable): the name of the device the endpoint is bound to, or
 *   %NULL
 *
 * Since: 0.1
 */
const char *
mptcp_endpoint_get_ifname (MptcpEndpoint *self)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), NULL);

  return self->ifname;
}

/**
 * mptcp_endpoint_get_flags:
 * @self: an #MptcpEndpoint
 *
 * Gets #MptcpEndpoint:flags, including bits that #MptcpEndpointFlags does not
 * name.
 *
 * Returns: the flags of the endpoint
 *
 * Since: 0.1
 */
MptcpEndpointFlags
mptcp_endpoint_get_flags (MptcpEndpoint *self)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), MPTCP_ENDPOINT_FLAG_NONE);

  return (MptcpEndpointFlags) self->flags;
}

/**
 * mptcp_endpoint_has_flags:
 * @self: an #MptcpEndpoint
 * @flags: the flags to test
 *
 * Checks whether the endpoint has all of @flags.
 *
 * Returns: %TRUE if every flag of @flags is set on @self
 *
 * Since: 0.1
 */
gboolean
mptcp_endpoint_has_flags (MptcpEndpoint      *self,
                          MptcpEndpointFlags  flags)
{
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), FALSE);

  return (self->flags & (guint32) flags) == (guint32) flags;
}

/**
 * mptcp_endpoint_to_string:
 * @self: an #MptcpEndpoint
 *
 * Describes the endpoint in the words of `ip mptcp endpoint show`, for
 * logs and user interfaces, for example
 * `192.0.2.1 port 4000 id 1 signal backup dev eth0`. Flags without a name
 * are shown as `rawflags 0x40`.
 *
 * Returns: (transfer full): a new string
 *
 * Since: 0.1
 */
char *
mptcp_endpoint_to_string (MptcpEndpoint *self)
{
  g_autofree char *address = NULL;
  g_autoptr(GFlagsClass) klass = NULL;
  GString *str;
  guint32 rest;
  guint i;

  g_return_val_if_fail (MPTCP_IS_ENDPOINT (self), NULL);

  address = self->address != NULL ? g_inet_address_to_string (self->address)
                                  : g_strdup ("(no address)");
  str = g_string_new (address);
  if (self->port != 0)
    g_string_append_printf (str, " port %u", self->port);
  g_string_append_printf (str, " id %u", self->id);

  /* the flags' nicks are the words of ip mptcp */
  klass = g_type_class_ref (MPTCP_TYPE_ENDPOINT_FLAGS);
  rest = self->flags;
  for (i = 0; i < klass->n_values; i++)
    {
      const GFlagsValue *value = &klass->values[i];

      if (value->value != 0 && (self->flags & value->value) == value->value)
        {
          g_string_append_printf (str, " %s", value->value_nick);
          rest &= ~value->value;
        }
    }
  if (rest != 0)
    g_string_append_printf (str, " rawflags 0x%x", rest);

  if (self->ifname != NULL)
    g_string_append_printf (str, " dev %s", self->ifname);
  else if (self->ifindex != 0)
    g_string_append_printf (str, " ifindex %d", self->ifindex);

  return g_string_free (str, FALSE);
}
