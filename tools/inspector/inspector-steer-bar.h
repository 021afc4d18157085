/* inspector-steer-bar.h: steering the selected connection from the inspector
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <mptcp-glib/mptcp-glib.h>

G_BEGIN_DECLS

#define INSPECTOR_TYPE_STEER_BAR (inspector_steer_bar_get_type ())
G_DECLARE_FINAL_TYPE (InspectorSteerBar, inspector_steer_bar, INSPECTOR, STEER_BAR, GtkBox)

/* net_admin: the caller's CAP_NET_ADMIN; without it the bar asks the library once for the
 * selected connection's handle and shows why it got none */
GtkWidget *inspector_steer_bar_new           (gboolean              net_admin);
/* what the connection and subflow views have selected (either may be NULL) */
void       inspector_steer_bar_set_selection (InspectorSteerBar    *self,
                                              MptcpConnectionEntry *connection,
                                              MptcpSubflowEntry    *subflow);
/* appends ",\"steering\":BOOL,\"steering_reason\":TEXT,\"steer_result\":TEXT" */
void       inspector_steer_bar_report        (InspectorSteerBar    *self,
                                              GString              *out);
/* the test commands "steer-open FROM TO", "steer-close", "steer-backup": they fill in and
 * click the bar's widgets; FALSE for a line that is not one of them */
gboolean   inspector_steer_bar_command       (InspectorSteerBar    *self,
                                              const char           *line);

G_END_DECLS
