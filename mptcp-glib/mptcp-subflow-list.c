/* mptcp-subflow-list.c: the GListModel of a connection's subflows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-subflow.h"
#include "mptcp-subflow-list-private.h"

static GType
mptcp_subflow_list_get_item_type (GListModel *model)
{
  return MPTCP_TYPE_SUBFLOW;
}

/* Plain casts below: these run for every item of every walk, and GListModel
 * has checked the instance already. */
static guint
mptcp_subflow_list_get_n_items (GListModel *model)
{
  return ((MptcpSubflowList *) model)->items->len;
}

static gpointer
mptcp_subflow_list_get_item (GListModel *model,
                             guint       position)
{
  MptcpSubflowList *self = (MptcpSubflowList *) model;

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
mptcp_subflow_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = mptcp_subflow_list_get_item_type;
  iface->get_n_items = mptcp_subflow_list_get_n_items;
  iface->get_item = mptcp_subflow_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpSubflowList, mptcp_subflow_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      mptcp_subflow_list_model_init))

static void
mptcp_subflow_list_finalize (GObject *object)
{
  MptcpSubflowList *self = MPTCP_SUBFLOW_LIST (object);

  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (mptcp_subflow_list_parent_class)->finalize (object);
}

static void
mptcp_subflow_list_class_init (MptcpSubflowListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mptcp_subflow_list_finalize;
}

static void
mptcp_subflow_list_init (MptcpSubflowList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}
