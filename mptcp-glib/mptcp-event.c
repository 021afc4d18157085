/* mptcp-event.c: one MPTCP event of the network namespace, as the kernel sent it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "mptcp-event.h"
#include "mptcp-monitor-private.h"
#include "mptcp-kernel-private.h"

/**
 * SECTION:mptcp-event
 * @Title: MptcpEvent
 * @Short_description: one MPTCP event of the network namespace
 * @See_also: #MptcpMonitor
 *
 * An #MptcpEvent is one event of the kernel's `mptcp_pm_events` netlink
 * group, as #MptcpMonitor::event delivers it: a connection created,
 * established or closed, an address announced or removed by the peer, a
 * subflow established, closed or given another priority, or a listening
 * socket created or closed. It is what `ip mptcp monitor` prints, and
 * mptcp_event_to_string() gives a line in that spirit.
 *
 * An event holds every attribute the kernel sent with it, and only those:
 * mptcp_event_has_attribute() tells which ones came (it depends on the event
 * type and on the kernel version), and the getter of an absent attribute
 * returns 0, %NULL or %FALSE. Which event carries what, on Linux 6.18:
 *
 * - CREATED, ESTABLISHED: token, family, both addresses and ports, local and
 *   remote id (0: the initial subflow); on the accepted side also
 *   server-side and the %MPTCP_EVENT_FLAG_SERVER_SIDE flag.
 * - CLOSED: the token only. The kernel sends no SUBFLOW_CLOSED for the
 *   subflows that were still open.
 * - ANNOUNCED: token, remote id, remote address and port, but no family
 *   attribute (mptcp_event_get_family() infers it from the address).
 * - REMOVED: token and remote id.
 * - SUBFLOW_ESTABLISHED, SUBFLOW_CLOSED, SUBFLOW_PRIORITY: token, family, both
 *   addresses and ports, both ids, backup; the interface index for a subflow
 *   bound to a device; SUBFLOW_CLOSED adds the error of a subflow that
 *   failed, and the MP_RST reason and flags of a subflow the peer reset.
 * - LISTENER_CREATED, LISTENER_CLOSED: family, local address and port; no
 *   token.
 *
 * Local and remote are seen from the host that reports the event: for a
 * connection the host accepted, the local address is the server's.
 *
 * Addresses are reported as the kernel sent them. In particular, a
 * connection accepted by a dual-stack IPv6 listener from an IPv4 client has
 * the family %G_SOCKET_FAMILY_IPV6 and IPv4-mapped addresses
 * (`::ffff:192.0.2.1`), just as g_socket_get_remote_address() on the accepted
 * socket reports them; compare with that in mind.
 *
 * A token names a connection of one host in one network namespace: the two
 * ends of a connection have different tokens. The token of a socket of your
 * own is mptcp_connection_get_token().
 *
 * Events are immutable and reference counted; they may be kept and passed
 * to other threads.
 */

struct _MptcpEvent
{
  gint                ref_count;
  MptcpNlEvent        nl;
  /* built on first use, then immutable (set with a compare-and-exchange) */
  GInetSocketAddress *local;
  GInetSocketAddress *remote;
};

G_DEFINE_BOXED_TYPE (MptcpEvent, mptcp_event, mptcp_event_ref, mptcp_event_unref)

#define ATTR_BIT(attr) (1u << (attr))

MptcpEvent *
_mptcp_event_new_from_netlink (const MptcpNlEvent *nl_event)
{
  MptcpEvent *event;

  g_return_val_if_fail (nl_event != NULL, NULL);

  event = g_new0 (MptcpEvent, 1);
  event->ref_count = 1;
  event->nl = *nl_event;
  return event;
}

/**
 * mptcp_event_ref:
 * @event: an #MptcpEvent
 *
 * Takes a reference on @event.
 *
 * Returns: (transfer full): @event
 *
 * Since: 0.1
 */
MptcpEvent *
mptcp_event_ref (MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);

  g_atomic_int_inc (&event->ref_count);
  return event;
}

/**
 * mptcp_event_unref:
 * @event: (transfer full): an #MptcpEvent
 *
 * Drops a reference on @event; the last one frees it.
 *
 * Since: 0.1
 */
void
mptcp_event_unref (MptcpEvent *event)
{
  g_return_if_fail (event != NULL);

  if (!g_atomic_int_dec_and_test (&event->ref_count))
    return;
  g_clear_object (&event->local);
  g_clear_object (&event->remote);
  g_free (event);
}

/**
 * mptcp_event_get_event_type:
 * @event: an #MptcpEvent
 *
 * Tells what happened. An event type this version of the library does not
 * know (a newer kernel's) is %MPTCP_EVENT_TYPE_UNKNOWN; its number is
 * mptcp_event_get_raw_type().
 *
 * Returns: the type of @event
 *
 * Since: 0.1
 */
MptcpEventType
mptcp_event_get_event_type (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, MPTCP_EVENT_TYPE_UNKNOWN);

  switch (event->nl.type)
    {
    case MPTCP_EVENT_TYPE_CREATED:
    case MPTCP_EVENT_TYPE_ESTABLISHED:
    case MPTCP_EVENT_TYPE_CLOSED:
    case MPTCP_EVENT_TYPE_ANNOUNCED:
    case MPTCP_EVENT_TYPE_REMOVED:
    case MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED:
    case MPTCP_EVENT_TYPE_SUBFLOW_CLOSED:
    case MPTCP_EVENT_TYPE_SUBFLOW_PRIORITY:
    case MPTCP_EVENT_TYPE_LISTENER_CREATED:
    case MPTCP_EVENT_TYPE_LISTENER_CLOSED:
      return (MptcpEventType) event->nl.type;
    default:
      return MPTCP_EVENT_TYPE_UNKNOWN;
    }
}

/**
 * mptcp_event_get_raw_type:
 * @event: an #MptcpEvent
 *
 * Gets the kernel's number of the event type (`MPTCP_EVENT_*` of
 * `<linux/mptcp.h>`), also for types that mptcp_event_get_event_type()
 * reports as %MPTCP_EVENT_TYPE_UNKNOWN.
 *
 * Returns: the event type as the kernel numbers it
 *
 * Since: 0.1
 */
guint
mptcp_event_get_raw_type (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.type;
}

/**
 * mptcp_event_has_attribute:
 * @event: an #MptcpEvent
 * @attribute: an attribute
 *
 * Tells whether the kernel sent @attribute with @event. An address counts
 * as present if the kernel sent it in either family.
 *
 * Returns: %TRUE if @event carries @attribute
 *
 * Since: 0.1
 */
gboolean
mptcp_event_has_attribute (const MptcpEvent    *event,
                           MptcpEventAttribute  attribute)
{
  guint32 bits;

  g_return_val_if_fail (event != NULL, FALSE);

  switch (attribute)
    {
    case MPTCP_EVENT_ATTRIBUTE_TOKEN:
      bits = ATTR_BIT (MPTCP_ATTR_TOKEN);
      break;
    case MPTCP_EVENT_ATTRIBUTE_FAMILY:
      bits = ATTR_BIT (MPTCP_ATTR_FAMILY);
      break;
    case MPTCP_EVENT_ATTRIBUTE_LOCAL_ADDRESS:
      bits = ATTR_BIT (MPTCP_ATTR_SADDR4) | ATTR_BIT (MPTCP_ATTR_SADDR6);
      break;
    case MPTCP_EVENT_ATTRIBUTE_REMOTE_ADDRESS:
      bits = ATTR_BIT (MPTCP_ATTR_DADDR4) | ATTR_BIT (MPTCP_ATTR_DADDR6);
      break;
    case MPTCP_EVENT_ATTRIBUTE_LOCAL_PORT:
      bits = ATTR_BIT (MPTCP_ATTR_SPORT);
      break;
    case MPTCP_EVENT_ATTRIBUTE_REMOTE_PORT:
      bits = ATTR_BIT (MPTCP_ATTR_DPORT);
      break;
    case MPTCP_EVENT_ATTRIBUTE_LOCAL_ID:
      bits = ATTR_BIT (MPTCP_ATTR_LOC_ID);
      break;
    case MPTCP_EVENT_ATTRIBUTE_REMOTE_ID:
      bits = ATTR_BIT (MPTCP_ATTR_REM_ID);
      break;
    case MPTCP_EVENT_ATTRIBUTE_BACKUP:
      bits = ATTR_BIT (MPTCP_ATTR_BACKUP);
      break;
    case MPTCP_EVENT_ATTRIBUTE_ERROR:
      bits = ATTR_BIT (MPTCP_ATTR_ERROR);
      break;
    case MPTCP_EVENT_ATTRIBUTE_FLAGS:
      bits = ATTR_BIT (MPTCP_ATTR_FLAGS);
      break;
    case MPTCP_EVENT_ATTRIBUTE_TIMEOUT:
      bits = ATTR_BIT (MPTCP_ATTR_TIMEOUT);
      break;
    case MPTCP_EVENT_ATTRIBUTE_IFINDEX:
      bits = ATTR_BIT (MPTCP_ATTR_IF_IDX);
      break;
    case MPTCP_EVENT_ATTRIBUTE_RESET_REASON:
      bits = ATTR_BIT (MPX_ATTR_RESET_REASON);
      break;
    case MPTCP_EVENT_ATTRIBUTE_RESET_FLAGS:
      bits = ATTR_BIT (MPX_ATTR_RESET_FLAGS);
      break;
    case MPTCP_EVENT_ATTRIBUTE_SERVER_SIDE:
      bits = ATTR_BIT (MPX_ATTR_SERVER_SIDE);
      break;
    default:
      return FALSE;
    }
  return (event->nl.present & bits) != 0;
}

static gboolean
has (const MptcpEvent *event,
     guint             kernel_attr)
{
  return (event->nl.present & ATTR_BIT (kernel_attr)) != 0;
}

/**
 * mptcp_event_get_token:
 * @event: an #MptcpEvent
 *
 * Gets the token of the connection the event is about: the value of
 * mptcp_connection_get_token() on this host. Listener events have none.
 *
 * Returns: the token, or 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint32
mptcp_event_get_token (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.token;
}

/**
 * mptcp_event_get_family:
 * @event: an #MptcpEvent
 *
 * Gets the address family of the event: the kernel's `family` attribute, or,
 * when it sent none (ANNOUNCED), the family of the addresses it sent.
 *
 * Returns: %G_SOCKET_FAMILY_IPV4, %G_SOCKET_FAMILY_IPV6, or
 *   %G_SOCKET_FAMILY_INVALID for an event without addresses
 *
 * Since: 0.1
 */
GSocketFamily
mptcp_event_get_family (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, G_SOCKET_FAMILY_INVALID);

  switch (event->nl.family)
    {
    case AF_INET:
      return G_SOCKET_FAMILY_IPV4;
    case AF_INET6:
      return G_SOCKET_FAMILY_IPV6;
    default:
      return G_SOCKET_FAMILY_INVALID;
    }
}

/* The address of attr4 or attr6 (at most one is present, see the parser), made on first use.
 * Not through a sockaddr (_mptcp_sockopt_addr_cached()): GLib turns a v4-mapped IPv6
 * sockaddr into an IPv4 address, and an event keeps what the kernel sent. */
static GInetSocketAddress *
event_address (const MptcpEvent       *event,
               GInetSocketAddress    **slot,
               guint                   attr4,
               guint                   attr6,
               const MptcpNlInetAddr  *addr,
               guint16                 port)
{
  GInetSocketAddress *address = g_atomic_pointer_get (slot);
  g_autoptr(GInetAddress) inet = NULL;

  if (address != NULL)
    return address;
  if (has (event, attr6))
    inet = g_inet_address_new_from_bytes (addr->v6.s6_addr, G_SOCKET_FAMILY_IPV6);
  else if (has (event, attr4))
    inet = g_inet_address_new_from_bytes ((const guint8 *) &addr->v4, G_SOCKET_FAMILY_IPV4);
  else
    return NULL;
  address = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (inet, port));
  if (!g_atomic_pointer_compare_and_exchange (slot, NULL, address))
    {
      g_object_unref (address);
      address = g_atomic_pointer_get (slot);
    }
  return address;
}

/**
 * mptcp_event_get_local_address:
 * @event: an #MptcpEvent
 *
 * Gets the local address of the event, with the local port (0 if the kernel
 * sent no port): the source of a subflow or connection, the address of a
 * listener. The address is the one the kernel sent: an IPv4-mapped IPv6
 * address stays one (see the section introduction).
 *
 * Returns: (transfer none) (nullable): the local address, or %NULL if the
 *   kernel sent none
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_event_get_local_address (const MptcpEvent *event)
{
  MptcpEvent *self = (MptcpEvent *) event;

  g_return_val_if_fail (event != NULL, NULL);

  return event_address (event, &self->local, MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6,
                        &event->nl.saddr, event->nl.sport);
}

/**
 * mptcp_event_get_remote_address:
 * @event: an #MptcpEvent
 *
 * Gets the remote address of the event, with the remote port (0 if the
 * kernel sent no port): the destination of a subflow or connection, the
 * address the peer announced. The address is the one the kernel sent: an
 * IPv4-mapped IPv6 address stays one (see the section introduction).
 *
 * Returns: (transfer none) (nullable): the remote address, or %NULL if the
 *   kernel sent none
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_event_get_remote_address (const MptcpEvent *event)
{
  MptcpEvent *self = (MptcpEvent *) event;

  g_return_val_if_fail (event != NULL, NULL);

  return event_address (event, &self->remote, MPTCP_ATTR_DADDR4, MPTCP_ATTR_DADDR6,
                        &event->nl.daddr, event->nl.dport);
}

/**
 * mptcp_event_get_local_port:
 * @event: an #MptcpEvent
 *
 * Gets the local port (in host byte order), also when the kernel sent a port
 * without an address.
 *
 * Returns: the local port, or 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint16
mptcp_event_get_local_port (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.sport;
}

/**
 * mptcp_event_get_remote_port:
 * @event: an #MptcpEvent
 *
 * Gets the remote port (in host byte order), also when the kernel sent a
 * port without an address.
 *
 * Returns: the remote port, or 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint16
mptcp_event_get_remote_port (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.dport;
}

/**
 * mptcp_event_get_local_id:
 * @event: an #MptcpEvent
 *
 * Gets the local address id: the MPTCP id of the local address a subflow
 * uses (0 is the address of the initial subflow). Address ids are not the
 * subflow ids of the kernel's subflow lists.
 *
 * Returns: the local address id, 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint
mptcp_event_get_local_id (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.loc_id;
}

/**
 * mptcp_event_get_remote_id:
 * @event: an #MptcpEvent
 *
 * Gets the remote address id: the id the peer gave the address of a subflow,
 * or the id of an address it announced or removed.
 *
 * Returns: the remote address id, 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint
mptcp_event_get_remote_id (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.rem_id;
}

/**
 * mptcp_event_get_backup:
 * @event: an #MptcpEvent
 *
 * Gets the backup flag of a subflow event: whether the **peer** asked for
 * this subflow to be used as a backup only (a subflow this host marked as
 * backup shows up as such in the peer's events, not in its own).
 *
 * Returns: %TRUE if the subflow is a backup one
 *
 * Since: 0.1
 */
gboolean
mptcp_event_get_backup (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, FALSE);

  return event->nl.backup != 0;
}

/**
 * mptcp_event_get_error:
 * @event: an #MptcpEvent
 *
 * Gets the error of a subflow that failed: an errno value such as
 * `ECONNREFUSED` (111) or `ETIMEDOUT` (110); g_io_error_from_errno() turns
 * it into a #GIOErrorEnum.
 *
 * Returns: the errno value, 0 if the kernel sent none
 *
 * Since: 0.1
 */
gint
mptcp_event_get_error (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.error;
}

/**
 * mptcp_event_get_flags:
 * @event: an #MptcpEvent
 *
 * Gets the `flags` attribute of a connection event, unknown bits included.
 *
 * Returns: the flags, %MPTCP_EVENT_FLAG_NONE if the kernel sent none
 *
 * Since: 0.1
 */
MptcpEventFlags
mptcp_event_get_flags (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, MPTCP_EVENT_FLAG_NONE);

  return (MptcpEventFlags) event->nl.flags;
}

/**
 * mptcp_event_get_timeout:
 * @event: an #MptcpEvent
 *
 * Gets the `timeout` attribute. The kernel defines it but was not seen to
 * send it.
 *
 * Returns: the timeout, 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint32
mptcp_event_get_timeout (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.timeout;
}

/**
 * mptcp_event_get_ifindex:
 * @event: an #MptcpEvent
 *
 * Gets the index of the network interface a subflow is bound to; the kernel
 * sends it only for subflows bound to a device.
 *
 * Returns: the interface index, 0 if the kernel sent none
 *
 * Since: 0.1
 */
gint
mptcp_event_get_ifindex (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.ifindex;
}

/**
 * mptcp_event_get_server_side:
 * @event: an #MptcpEvent
 *
 * Tells whether the connection was accepted by this host rather than
 * initiated by it: the kernel's `server_side` attribute, or the
 * %MPTCP_EVENT_FLAG_SERVER_SIDE flag.
 *
 * Returns: %TRUE for the accepted side of a connection
 *
 * Since: 0.1
 */
gboolean
mptcp_event_get_server_side (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, FALSE);

  return event->nl.server_side != 0
         || (has (event, MPTCP_ATTR_FLAGS) && (event->nl.flags & MPX_EV_FLAG_SERVER_SIDE) != 0);
}

/**
 * mptcp_event_get_reset_reason:
 * @event: an #MptcpEvent
 *
 * Gets the reason of the MP_TCPRST with which the peer reset a subflow
 * (RFC 8684, section 3.6), sent with SUBFLOW_CLOSED: the same value
 * #MptcpConnection::subflow-removed passes. mptcp_event_to_string() prints the
 * kernel's code as it came.
 *
 * Returns: the reset reason; %MPTCP_RESET_REASON_UNSPECIFIED if the kernel sent
 *   none or a code this library does not know
 *
 * Since: 0.1
 */
MptcpResetReason
mptcp_event_get_reset_reason (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, MPTCP_RESET_REASON_UNSPECIFIED);

  return _mptcp_reset_reason_from_kernel (event->nl.reset_reason);
}

MptcpResetReason
_mptcp_reset_reason_from_kernel (guint32 code)
{
  return code <= MPTCP_RESET_REASON_MIDDLEBOX ? (MptcpResetReason) code
                                              : MPTCP_RESET_REASON_UNSPECIFIED;
}

/**
 * mptcp_event_get_reset_flags:
 * @event: an #MptcpEvent
 *
 * Gets the flags of the MP_RST with which the peer reset a subflow, sent
 * with SUBFLOW_CLOSED.
 *
 * Returns: the reset flags, 0 if the kernel sent none
 *
 * Since: 0.1
 */
guint32
mptcp_event_get_reset_flags (const MptcpEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);

  return event->nl.reset_flags;
}

static const char *
event_label (guint8 type)
{
  switch (type)
    {
    case MPTCP_EVENT_TYPE_CREATED: return "CREATED";
    case MPTCP_EVENT_TYPE_ESTABLISHED: return "ESTABLISHED";
    case MPTCP_EVENT_TYPE_CLOSED: return "CLOSED";
    case MPTCP_EVENT_TYPE_ANNOUNCED: return "ANNOUNCED";
    case MPTCP_EVENT_TYPE_REMOVED: return "REMOVED";
    case MPTCP_EVENT_TYPE_SUBFLOW_ESTABLISHED: return "SF_ESTABLISHED";
    case MPTCP_EVENT_TYPE_SUBFLOW_CLOSED: return "SF_CLOSED";
    case MPTCP_EVENT_TYPE_SUBFLOW_PRIORITY: return "SF_PRIO";
    case MPTCP_EVENT_TYPE_LISTENER_CREATED: return "LISTENER_CREATED";
    case MPTCP_EVENT_TYPE_LISTENER_CLOSED: return "LISTENER_CLOSED";
    default: return NULL;
    }
}

static void
append_address (GString               *out,
                const MptcpEvent      *event,
                const char            *name,
                guint                  attr4,
                guint                  attr6,
                const MptcpNlInetAddr *addr)
{
  char text[INET6_ADDRSTRLEN];

  if (has (event, attr6))
    {
      inet_ntop (AF_INET6, &addr->v6, text, sizeof text);
      g_string_append_printf (out, " %s6=%s", name, text);
    }
  else if (has (event, attr4))
    {
      inet_ntop (AF_INET, &addr->v4, text, sizeof text);
      g_string_append_printf (out, " %s4=%s", name, text);
    }
}

/**
 * mptcp_event_to_string:
 * @event: an #MptcpEvent
 *
 * Describes @event on one line, in the manner of `ip mptcp monitor`: the
 * event name in brackets, then `name=value` for every attribute the kernel
 * sent, for instance
 * `[SF_ESTABLISHED] token=2f1c8a9e remid=0 locid=1 saddr4=198.51.100.1
 * daddr4=198.51.100.2 sport=40123 dport=5001 backup=0`. Meant for people
 * and logs: the format may change.
 *
 * Returns: (transfer full): a newly allocated string
 *
 * Since: 0.1
 */
char *
mptcp_event_to_string (const MptcpEvent *event)
{
  const MptcpNlEvent *nl;
  GString *out;
  const char *label;

  g_return_val_if_fail (event != NULL, NULL);

  nl = &event->nl;
  out = g_string_sized_new (160);
  label = event_label (nl->type);
  if (label != NULL)
    g_string_append_printf (out, "[%s]", label);
  else
    g_string_append_printf (out, "[UNKNOWN %u]", nl->type);

  if (has (event, MPTCP_ATTR_TOKEN))
    g_string_append_printf (out, " token=%08x", nl->token);
  if (has (event, MPTCP_ATTR_REM_ID))
    g_string_append_printf (out, " remid=%u", nl->rem_id);
  if (has (event, MPTCP_ATTR_LOC_ID))
    g_string_append_printf (out, " locid=%u", nl->loc_id);
  append_address (out, event, "saddr", MPTCP_ATTR_SADDR4, MPTCP_ATTR_SADDR6, &nl->saddr);
  append_address (out, event, "daddr", MPTCP_ATTR_DADDR4, MPTCP_ATTR_DADDR6, &nl->daddr);
  if (has (event, MPTCP_ATTR_SPORT))
    g_string_append_printf (out, " sport=%u", nl->sport);
  if (has (event, MPTCP_ATTR_DPORT))
    g_string_append_printf (out, " dport=%u", nl->dport);
  if (has (event, MPTCP_ATTR_BACKUP))
    g_string_append_printf (out, " backup=%u", nl->backup);
  if (has (event, MPTCP_ATTR_ERROR))
    g_string_append_printf (out, " error=%u", nl->error);
  if (has (event, MPTCP_ATTR_FLAGS))
    g_string_append_printf (out, " flags=%x", nl->flags);
  if (has (event, MPTCP_ATTR_TIMEOUT))
    g_string_append_printf (out, " timeout=%u", nl->timeout);
  if (has (event, MPTCP_ATTR_IF_IDX))
    g_string_append_printf (out, " ifindex=%d", nl->ifindex);
  if (has (event, MPX_ATTR_RESET_REASON))
    g_string_append_printf (out, " reset_reason=%u", nl->reset_reason);
  if (has (event, MPX_ATTR_RESET_FLAGS))
    g_string_append_printf (out, " reset_flags=0x%x", nl->reset_flags);
  if (has (event, MPX_ATTR_SERVER_SIDE))
    g_string_append_printf (out, " server_side=%u", nl->server_side);

  return g_string_free (out, FALSE);
}
