/* mgs-socket.h: what the socket an application passes to Register is
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * validate_socket() checks it is a connected MPTCP stream socket of the service's own network
 * namespace, and reads the connection's token and addresses through a copy of the fd it closes.
 */

#pragma once

#include <gio/gio.h>

#include "mptcp-glib.h"
#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

gboolean
validate_socket (int              fd,
                 guint32         *token,
                 MptcpNlAddress  *local,
                 MptcpNlAddress  *remote,
                 GError         **error);

G_END_DECLS
