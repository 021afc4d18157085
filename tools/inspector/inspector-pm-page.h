/* inspector-pm-page.h: the inspector's path manager page
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define INSPECTOR_TYPE_PM_PAGE (inspector_pm_page_get_type ())
G_DECLARE_FINAL_TYPE (InspectorPmPage, inspector_pm_page, INSPECTOR, PM_PAGE, GtkBox)

/* net_admin: the caller's CAP_NET_ADMIN; without it the page probes the kernel once and,
 * refused, shows the library's error and stays read-only */
GtkWidget *inspector_pm_page_new     (gboolean         net_admin);
/* reads the endpoints and limits again */
void       inspector_pm_page_reload  (InspectorPmPage *self);
/* appends the page's state, as its widgets show it, as JSON members (",\"pm\":{...}") */
void       inspector_pm_page_report  (InspectorPmPage *self,
                                      GString         *out);
/* the test commands "pm-add ADDRESS FLAGS [PORT]", "pm-remove ID", "pm-toggle ID FLAG",
 * "pm-limits SUBFLOWS ACCEPTED": they fill in and activate the page's widgets; FALSE for a
 * line that is not one of them */
gboolean   inspector_pm_page_command (InspectorPmPage *self,
                                      const char      *line);

/* called after every reload the page made (for the tests' report) */
typedef void (*InspectorPmPageChanged) (InspectorPmPage *self,
                                        gpointer         data);
void       inspector_pm_page_set_changed_func (InspectorPmPage       *self,
                                               InspectorPmPageChanged func,
                                               gpointer               data);

G_END_DECLS
