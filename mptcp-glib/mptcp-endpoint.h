/* mptcp-endpoint.h: one endpoint of the in-kernel path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mptcp-version-macros.h"

G_BEGIN_DECLS

/**
 * MptcpEndpointFlags:
 * @MPTCP_ENDPOINT_FLAG_NONE: no flag: the address is known to the path
 *   manager but neither announced nor used for subflows
 * @MPTCP_ENDPOINT_FLAG_SIGNAL: announce the address to the peers of new
 *   connections (ADD_ADDR), so that they open subflows towards it
 * @MPTCP_ENDPOINT_FLAG_SUBFLOW: open a subflow from this address on every new
 *   connection (client side)
 * @MPTCP_ENDPOINT_FLAG_BACKUP: subflows using the address are backups: used
 *   only when no other subflow can send
 * @MPTCP_ENDPOINT_FLAG_FULLMESH: open a subflow from this address to every
 *   address the peer announced, not only to the first one; not together with
 *   %MPTCP_ENDPOINT_FLAG_SIGNAL
 * @MPTCP_ENDPOINT_FLAG_IMPLICIT: made by the kernel itself for a local
 *   address that a peer's join arrived on; cannot be requested
 * @MPTCP_ENDPOINT_FLAG_LAMINAR: use the address for at most one subflow per
 *   remote address the peer announced (Linux 6.18)
 *
 * The flags of an #MptcpEndpoint. The values are the kernel's own
 * (`MPTCP_PM_ADDR_FLAG_*`), so a flag that a newer kernel reports and this
 * version of mptcp-glib does not name yet is kept, as its bit, in the value of
 * #MptcpEndpoint:flags and in mptcp_endpoint_get_flags().
 *
 * Since: 0.1
 */
typedef enum /*< flags,prefix=MPTCP_ENDPOINT_FLAG >*/
{
  MPTCP_ENDPOINT_FLAG_NONE     = 0,
  MPTCP_ENDPOINT_FLAG_SIGNAL   = 1 << 0,
  MPTCP_ENDPOINT_FLAG_SUBFLOW  = 1 << 1,
  MPTCP_ENDPOINT_FLAG_BACKUP   = 1 << 2,
  MPTCP_ENDPOINT_FLAG_FULLMESH = 1 << 3,
  MPTCP_ENDPOINT_FLAG_IMPLICIT = 1 << 4,
  MPTCP_ENDPOINT_FLAG_LAMINAR  = 1 << 5,
} MptcpEndpointFlags;

/**
 * MPTCP_TYPE_ENDPOINT:
 *
 * The #GType of #MptcpEndpoint.
 *
 * Since: 0.1
 */
#define MPTCP_TYPE_ENDPOINT (mptcp_endpoint_get_type ())

MPTCP_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (MptcpEndpoint, mptcp_endpoint, MPTCP, ENDPOINT, GObject)

MPTCP_AVAILABLE_IN_0_2
MptcpEndpoint      *mptcp_endpoint_new         (GInetAddress  *address) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
guint               mptcp_endpoint_get_id      (MptcpEndpoint *self);

MPTCP_AVAILABLE_IN_0_1
GInetAddress       *mptcp_endpoint_get_address (MptcpEndpoint *self);

MPTCP_AVAILABLE_IN_0_1
guint16             mptcp_endpoint_get_port    (MptcpEndpoint *self);

MPTCP_AVAILABLE_IN_0_1
int                 mptcp_endpoint_get_ifindex (MptcpEndpoint *self);

MPTCP_AVAILABLE_IN_0_1
const char         *mptcp_endpoint_get_ifname  (MptcpEndpoint *self);

MPTCP_AVAILABLE_IN_0_1
MptcpEndpointFlags  mptcp_endpoint_get_flags   (MptcpEndpoint *self);

MPTCP_AVAILABLE_IN_0_1
gboolean            mptcp_endpoint_has_flags   (MptcpEndpoint      *self,
                                                MptcpEndpointFlags  flags);

MPTCP_AVAILABLE_IN_0_1
char               *mptcp_endpoint_to_string   (MptcpEndpoint *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
