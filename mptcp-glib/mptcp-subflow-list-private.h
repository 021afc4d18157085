/* mptcp-subflow-list-private.h: the GListModel of a connection's subflows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION)
#error "mptcp-subflow-list-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GListModel over a GPtrArray: reading it is an array access. Only the
 * connection changes it, and emits items-changed itself. */
#define MPTCP_TYPE_SUBFLOW_LIST (mptcp_subflow_list_get_type ())
G_DECLARE_FINAL_TYPE (MptcpSubflowList, mptcp_subflow_list, MPTCP, SUBFLOW_LIST, GObject)

struct _MptcpSubflowList
{
  GObject parent_instance;
  GPtrArray *items;   /* MptcpSubflow, owned */
};

G_END_DECLS
