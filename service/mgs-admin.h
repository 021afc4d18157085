/* mgs-admin.h: the admin calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything that needs io.github.MptcpGlib.Service.admin: RegisterToken's authorisation,
 * ListAllRegistrations, the endpoints, the limits, the namespace's path manager (the sysctl),
 * and the service as the namespace's path manager (mptcp-pm-policy.c). ListEndpoints needs
 * nothing.
 */

#pragma once

#include "mgs-service-private.h"
#include "mptcp-pm-policy.h"

G_BEGIN_DECLS

extern MgsPmPolicy *policy;

void
update_pm_properties (void);

gboolean
act_as_path_manager (gboolean   enable,
                     GError   **error);

void
admin_call (GDBusMethodInvocation *invocation,
            guint                  kind,
            GVariant              *params);

gboolean
handle_add_endpoint (MgsDbusService1       *object,
                     GDBusMethodInvocation *invocation,
                     GVariant              *address,
                     const char *const     *flags,
                     gint                   ifindex,
                     guint                  id,
                     gpointer               user_data);

gboolean
handle_remove_endpoint (MgsDbusService1       *object,
                        GDBusMethodInvocation *invocation,
                        guint                  id,
                        gpointer               user_data);

gboolean
handle_set_path_manager (MgsDbusService1       *object,
                         GDBusMethodInvocation *invocation,
                         const char            *mode,
                         gpointer               user_data);

gboolean
handle_act_as_path_manager (MgsDbusService1       *object,
                            GDBusMethodInvocation *invocation,
                            gboolean               enable,
                            gpointer               user_data);

gboolean
handle_set_endpoint_flags (MgsDbusService1 *o, GDBusMethodInvocation *invocation, guint id,
                           const char *const *flags, gpointer user_data);

gboolean
handle_remove_endpoint_by_address (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                                   const char *address, gpointer user_data);

gboolean
handle_flush_endpoints (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                        gpointer user_data);

gboolean
handle_set_limits (MgsDbusService1 *o, GDBusMethodInvocation *invocation, guint subflows,
                   guint accepted, gpointer user_data);

gboolean
handle_set_path_manager_sysctl (MgsDbusService1 *o, GDBusMethodInvocation *invocation,
                                const char *mode, gpointer user_data);

gboolean
handle_list_all_registrations (MgsDbusService1       *object,
                               GDBusMethodInvocation *invocation,
                               gpointer               user_data);

gboolean
handle_list_endpoints (MgsDbusService1       *object,
                       GDBusMethodInvocation *invocation,
                       gpointer               user_data);

G_END_DECLS
