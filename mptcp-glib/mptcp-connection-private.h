/* mptcp-connection-private.h: MptcpConnection internals for the other rooms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-connection-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection.h"
#include "mptcp-subflow.h"
#include "mptcp-sockopt-private.h"

G_BEGIN_DECLS

/* The environment variable that selects how subflows are listed, read when
 * a connection is constructed: "legacy" (MPTCP_SUBFLOW_ADDRS +
 * MPTCP_TCPINFO), "full-info" (MPTCP_FULL_INFO only), anything else or unset:
 * MPTCP_FULL_INFO, falling back to legacy on kernels before 6.5. */
#define MPTCP_CONNECTION_SUBFLOW_LIST_ENV "MPTCP_GLIB_SUBFLOW_LIST"

/* MPTCP_CONNECTION_SUBFLOW_LIST_ENV, read once per process when first needed: a getenv()
 * walks the whole environment, which cost as much as a tenth of a connection's construction.
 * A test that changes it calls _mptcp_connection_reload_environment() after, which also
 * forgets MPTCP_GLIB_USE_SERVICE (mptcp-service-private.h), read once per process too. */
typedef enum
{
  MPTCP_CONN_LIST_MODE_AUTO,        /* unset or anything else: FULL_INFO, legacy before 6.5 */
  MPTCP_CONN_LIST_MODE_LEGACY,
  MPTCP_CONN_LIST_MODE_FULL_INFO,
} MptcpConnListMode;

G_GNUC_INTERNAL
MptcpConnListMode _mptcp_connection_env_list_mode      (void);
G_GNUC_INTERNAL
void              _mptcp_connection_reload_environment (void);

/* Which getsockopt path lists the subflows (after any automatic switch). */
G_GNUC_INTERNAL
MptcpSockoptPath _mptcp_connection_get_list_path (MptcpConnection        *self);

/* For tests and benches: the connection's event subscription and broker
 * (NULL when it has none). */
typedef struct _MptcpNetlink MptcpNetlink;
G_GNUC_INTERNAL
MptcpNetlink    *_mptcp_connection_get_netlink     (MptcpConnection *self);

/* For tests: hangup watches made from now on poll each socket (FALSE) instead of going
 * through the context's epoll instance (TRUE, the default). */
G_GNUC_INTERNAL
void             _mptcp_connection_set_hangup_epoll (gboolean use);
/* For tests: 0 no hangup watch, 1 through epoll, 2 its socket polled. */
G_GNUC_INTERNAL
guint            _mptcp_connection_get_hangup_mode  (MptcpConnection *self);

/* For the tests (mptcp-control-op.c): whether the connection's list of opens whose subflow is unknown
 * (ConnectionExtra.unidentified, _mptcp_control_open_recount()) holds exactly its listed opens
 * whose request went out and whose subflow is not known. */
G_GNUC_INTERNAL
gboolean
_mptcp_control_check_unidentified (MptcpConnection *self);

G_END_DECLS
