/* mptcp-task-private.h: a GTask's source tag and its name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib's g_task_set_source_tag() macro names a task after the text of its tag argument, which
 * for a tag passed down as a variable is the variable's name ("source_tag"). The library's
 * internal runners take the tag and its function's name together instead: callers write
 * MPTCP_TASK_TAG (mptcp_connection_open_subflow_async) where a tag and a name are expected,
 * and the runner calls _mptcp_task_set_tag().
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-task-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/* Two arguments: the source tag and the task's name, the function's own */
#define MPTCP_TASK_TAG(fn) ((gpointer) (fn)), G_STRINGIFY (fn)

static inline void
_mptcp_task_set_tag (GTask      *task,
                     gpointer    source_tag,
                     const char *name)
{
  (g_task_set_source_tag) (task, source_tag);   /* the function: no name from the macro */
  g_task_set_name (task, name);
}

G_END_DECLS
