/* mptcp-connection-token-private.h: an MptcpConnection without a socket, steered by token
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mptcp_connection_new_for_token() makes an MptcpConnection of any connection of the
 * namespace, whichever process holds its socket, for a caller with CAP_NET_ADMIN. Such a
 * connection has no socket (self->socket is NULL): this room reads what the socket would
 * tell from sock_diag instead (the connection's addresses and mptcp_info by a lookup of its
 * token, the subflow list with both backup flags and tcp_info from a dump of the namespace),
 * and the rest of MptcpConnection runs unchanged: the control machine steers by token as
 * always, the events come from the token's subscription, and "closed" from the CLOSED event
 * (or from a read that no longer finds the token). The hooks elsewhere are one test of
 * self->socket == NULL each (mptcp-connection.c, -refresh.c, -control-op.c, -events.c).
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-connection-token-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection.h"
#include "mptcp-info.h"
#include "mptcp-sockopt-private.h"

G_BEGIN_DECLS

/* The kernel's subflow list of a socketless connection, as _mptcp_sockopt_list_read() gives
 * it for a socket (the legacy layout: addresses and tcp_info, no subflow ids), from one
 * sock_diag dump. 0, -EBADF when the kernel has the token no more, or -errno. */
G_GNUC_INTERNAL
int                  _mptcp_conn_token_read_list (MptcpConnection   *self,
                                                  MptcpSockoptList  *out);
/* _mptcp_conn_refresh() of a socketless connection: the list applied, the backup flags
 * read from the same dump. */
G_GNUC_INTERNAL
gboolean             _mptcp_conn_token_refresh   (MptcpConnection   *self,
                                                  GError           **error);
/* mptcp_connection_get_info() of a socketless connection (a lookup by token). */
G_GNUC_INTERNAL
MptcpConnectionInfo *_mptcp_conn_token_get_info  (MptcpConnection   *self,
                                                  GError           **error);

G_END_DECLS
