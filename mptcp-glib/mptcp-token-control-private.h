/* mptcp-token-control-private.h: steering a connection by its token, without its socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * MptcpConnection needs the connection's socket (it lists subflows with getsockopt). The
 * service (service/) must not keep an application's socket, so it steers by token only: this
 * room sends the userspace path manager's per-connection commands for one token through the
 * netlink broker and follows that token's events. Plain structs and callbacks, no public
 * GObject type. Needs CAP_NET_ADMIN (events and commands). One GMainContext: the thread-default
 * one at _new(); every callback runs there.
 *
 * Completion: an open completes with the kernel's SUB_ESTABLISHED event for its tuple (or fails
 * with the SUB_CLOSED error, the kernel's refusal, or a timeout), as MptcpConnection's does;
 * close, backup, announce and remove complete with the kernel's acknowledgement. When the
 * connection closes (MPTCP_EVENT_CLOSED) every pending operation fails with MPTCP_ERROR_CLOSED
 * before the event callback sees the event.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-token-control-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>
#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

typedef struct _MptcpTokenControl MptcpTokenControl;

/* Every event of the token, after the pending operations have seen it. The callback may free
 * the control. */
typedef void (*MptcpTokenEventFunc) (const MptcpNlEvent *event,
                                     gpointer            user_data);

/* Subscribes to the token's events (MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN). */
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
MptcpTokenControl *_mptcp_token_control_new   (guint32               token,
                                               guint                 timeout_ms,
                                               MptcpTokenEventFunc   func,
                                               gpointer              user_data,
                                               GError              **error);
/* Unsubscribes; pending operations fail with MPTCP_ERROR_CLOSED (from an idle). */
G_GNUC_INTERNAL
void               _mptcp_token_control_free  (MptcpTokenControl    *self);
G_GNUC_INTERNAL
guint32            _mptcp_token_control_get_token (MptcpTokenControl *self);
/* Number of operations still waiting for the kernel. */
G_GNUC_INTERNAL
guint              _mptcp_token_control_get_n_pending (MptcpTokenControl *self);

/* The completion of every operation: on success event is the SUB_ESTABLISHED event of an
 * open (NULL for the others) and id the address id of an announce (0 otherwise). */
typedef void (*MptcpTokenDoneFunc) (const MptcpNlEvent *event,
                                    guint               id,
                                    GError             *error,   /* owned by the callee */
                                    gpointer            user_data);

/* local->id 0: the control picks the id of the address (the same for the same address,
 * 1..255). remote->port must be set. */
G_GNUC_INTERNAL
void _mptcp_token_control_open     (MptcpTokenControl    *self,
                                    const MptcpNlAddress *local,
                                    const MptcpNlAddress *remote,
                                    gboolean              backup,
                                    MptcpTokenDoneFunc    func,
                                    gpointer              user_data);
G_GNUC_INTERNAL
void _mptcp_token_control_close    (MptcpTokenControl    *self,
                                    const MptcpNlAddress *local,
                                    const MptcpNlAddress *remote,
                                    MptcpTokenDoneFunc    func,
                                    gpointer              user_data);
G_GNUC_INTERNAL
void _mptcp_token_control_backup   (MptcpTokenControl    *self,
                                    const MptcpNlAddress *local,
                                    const MptcpNlAddress *remote,
                                    gboolean              backup,
                                    MptcpTokenDoneFunc    func,
                                    gpointer              user_data);
/* address->id 0: picked as for an open. */
G_GNUC_INTERNAL
void _mptcp_token_control_announce (MptcpTokenControl    *self,
                                    const MptcpNlAddress *address,
                                    MptcpTokenDoneFunc    func,
                                    gpointer              user_data);
G_GNUC_INTERNAL
void _mptcp_token_control_remove   (MptcpTokenControl    *self,
                                    guint8                id,
                                    MptcpTokenDoneFunc    func,
                                    gpointer              user_data);

G_END_DECLS
