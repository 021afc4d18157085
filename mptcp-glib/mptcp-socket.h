/* mptcp-socket.h: MPTCP sockets for GIO
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

MPTCP_AVAILABLE_IN_0_1
GSocket  *mptcp_socket_new          (GSocketFamily   family,
                                     GError        **error) G_GNUC_WARN_UNUSED_RESULT;

MPTCP_AVAILABLE_IN_0_1
gboolean  mptcp_socket_is_mptcp     (GSocket        *sock);

MPTCP_AVAILABLE_IN_0_2
gboolean  mptcp_socket_is_supported (void);

MPTCP_AVAILABLE_IN_0_2
gboolean  mptcp_socket_check_supported (GError   **error);

G_END_DECLS
