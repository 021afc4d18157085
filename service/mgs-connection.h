/* mgs-connection.h: the connection objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One D-Bus object a registration (MPTCP_SERVICE_CONNECTION_PATH/<id>, a subtree), interface
 * io.github.MptcpGlib.Connection1: the path-manager commands on the registration's token, and
 * the token's kernel events as signals to the registering client only. Every call and property
 * read is refused unless the caller is the client that registered it.
 */

#pragma once

#include "mgs-service-private.h"

G_BEGIN_DECLS

Reg *
reg_new (Client         *client,
         guint32         token,
         const MptcpNlAddress *local,
         const MptcpNlAddress *remote,
         GError        **error);

extern const GDBusSubtreeVTable subtree_vtable;

G_END_DECLS
