/* mptcp-connection-list-private.h: MptcpConnectionList internals for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-connection-list-private.h is private to mptcp-glib"
#endif

#include "mptcp-connection-list.h"

G_BEGIN_DECLS

/* A list over a fake kernel's datagram socket (takes fd); no dump at construction and no
 * periodic dump (interval 0) until the caller asks. */
G_GNUC_INTERNAL
MptcpConnectionList *_mptcp_connection_list_new_for_fd (int fd);

/* Dumps applied since the list was made (the first one included): the tests check that an
 * event needed none. */
G_GNUC_INTERNAL
guint _mptcp_connection_list_get_n_dumps (MptcpConnectionList *self);

/* Bytes of heap a refresh allocated, for the bench (counted by nothing: see bench-sockdiag). */

G_END_DECLS
