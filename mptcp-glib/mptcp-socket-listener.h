/* mptcp-socket-listener.h: accept MPTCP connections with GSocketListener and GSocketService
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

MPTCP_AVAILABLE_IN_0_2
gboolean mptcp_socket_listener_add_address       (GSocketListener  *listener,
                                                 GSocketAddress   *address,
                                                 GObject          *source_object,
                                                 GSocketAddress  **effective_address,
                                                 GError          **error);

MPTCP_AVAILABLE_IN_0_2
gboolean mptcp_socket_listener_add_inet_port     (GSocketListener  *listener,
                                                 guint16           port,
                                                 GObject          *source_object,
                                                 GError          **error);

MPTCP_AVAILABLE_IN_0_2
guint16  mptcp_socket_listener_add_any_inet_port (GSocketListener  *listener,
                                                 GObject          *source_object,
                                                 GError          **error);

G_END_DECLS
