/* mptcp-endpoint-private.h: MptcpEndpoint internals
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-endpoint-private.h is private to mptcp-glib"
#endif

#include "mptcp-endpoint.h"

G_BEGIN_DECLS

/* The path manager makes endpoints with every field as the kernel reported it; flags may hold
 * bits MptcpEndpointFlags does not name. */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpEndpoint      *_mptcp_endpoint_new        (guint          id,
                                                GInetAddress  *address,
                                                guint16        port,
                                                int            ifindex,
                                                const char    *ifname,
                                                guint32        flags);

G_END_DECLS
