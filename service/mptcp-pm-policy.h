/* mptcp-pm-policy.h: the service as the namespace's path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With net.mptcp.path_manager=userspace the kernel makes no subflow and sends no ADD_ADDR on its
 * own. A MgsPmPolicy listens to every MPTCP event of the service's namespace and, for every
 * connection no application has taken over (is_taken() returns FALSE), does what the in-kernel
 * path manager would do with the namespace's endpoint table and limits (GET_ADDR dump and
 * GET_LIMITS, read when the connection is established; read again after the service's own
 * changes, after rtnetlink address and link events and at a slow poll, and a change found by
 * any read is applied to the live connections too). The differences from the in-kernel path manager are listed in
 * docs/path-manager-service.md.
 *
 * It lives in the service, not in the library: it needs the namespace-wide event group and the
 * per-connection commands (CAP_NET_ADMIN), and it is a policy of the service, not an API.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MgsPmPolicy MgsPmPolicy;

/* TRUE when an application registered the connection of token: the policy leaves it alone */
typedef gboolean (*MgsPmPolicyTakenFunc) (guint32 token, gpointer user_data);

/* Subscribes to the namespace's events. Fails with MPTCP_ERROR_WRONG_PATH_MANAGER while the
 * namespace uses the in-kernel path manager. Connections that exist already are found through
 * sock_diag and completed (restart safety), with what the state file (path-manager.state in
 * $MPTCP_GLIB_SERVICE_RUNTIME_DIR, else $RUNTIME_DIRECTORY; none without either) kept of the
 * peers' announcements and of the service's own. */
MgsPmPolicy *mgs_pm_policy_new      (MgsPmPolicyTakenFunc is_taken,
                                     gpointer             user_data,
                                     GError             **error);
void         mgs_pm_policy_free     (MgsPmPolicy *self);
/* Connections the policy follows, and subflow creations it asked for since it started */
guint        mgs_pm_policy_get_n_connections (MgsPmPolicy *self);
guint        mgs_pm_policy_get_n_created     (MgsPmPolicy *self);

/* The endpoint table or the limits may have changed (the service changed them): read them
 * now and apply a change to the live connections as the in-kernel PM would. NULL: nothing. */
void         mgs_pm_policy_table_maybe_changed (MgsPmPolicy *self);

/* The namespace's path manager from the sysctl: TRUE = userspace. */
gboolean     mgs_pm_policy_namespace_is_userspace (GError **error);

G_END_DECLS
