/* mptcp-inspector.c: a GTK 4 view of every MPTCP connection of the network namespace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built on the library's public API only: the connection list is an MptcpConnectionList
 * bound to a GtkColumnView, the selected connection's subflows its subflow GListModel bound
 * to a second one, with a graph of each subflow's throughput over the last minute (the
 * difference of its bytes acked plus received between two 1 Hz refreshes), its events and a
 * steering bar (inspector-steer-bar.c: open, close, backup, by the connection's token). The
 * path manager's endpoints and limits are on a page of their own, editable with
 * CAP_NET_ADMIN (inspector-pm-page.c).
 *
 * For tests (tools/tests/test-inspector.py): with MPTCP_INSPECTOR_REPORT=1 the application
 * prints, after every refresh, one JSON line of what its widgets' models hold, and reads
 * commands on stdin: "select TOKEN", "select-subflow LOCAL-IP", "show PAGE" (connections,
 * path-manager), "screenshot FILE.png", "quit", and those of the steering bar
 * (inspector-steer-bar.h) and the path manager page (inspector-pm-page.h).
 */

#include <mptcp-glib/mptcp-glib.h>
#include <gtk/gtk.h>
#include <gio/gunixinputstream.h>

#include "inspector-util.h"
#include "inspector-pm-page.h"
#include "inspector-steer-bar.h"

#include <stdio.h>
#include <string.h>

#define APP_ID "io.github.mptcp_glib.Inspector"
#define HISTORY 60              /* samples (seconds) in the graph */

/* ---- the throughput graph -------------------------------------------------------------- */

typedef struct
{
  guint64 bytes;                /* acked + received at the last sample */
  gint64 time_us;
  double rates[HISTORY];        /* bit/s, oldest first; < 0: no sample */
} History;

#define INSPECTOR_TYPE_GRAPH (inspector_graph_get_type ())
G_DECLARE_FINAL_TYPE (InspectorGraph, inspector_graph, INSPECTOR, GRAPH, GtkWidget)

struct _InspectorGraph
{
  GtkWidget parent_instance;
  GPtrArray *lines;             /* History * of the selected connection's subflows (borrowed) */
};

G_DEFINE_FINAL_TYPE (InspectorGraph, inspector_graph, GTK_TYPE_WIDGET)

static const double palette[][3] = {
  { 0.21, 0.52, 0.89 }, { 0.90, 0.38, 0.00 }, { 0.15, 0.64, 0.41 },
  { 0.75, 0.11, 0.16 }, { 0.57, 0.25, 0.67 }, { 0.39, 0.27, 0.17 },
};

static void
inspector_graph_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  InspectorGraph *self = INSPECTOR_GRAPH (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  double top = 1;
  cairo_t *cr;
  char label[64];

  if (width <= 0 || height <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cairo_set_source_rgb (cr, 0.98, 0.98, 0.98);
  cairo_paint (cr);
  for (guint i = 0; i < self->lines->len; i++)
    {
      History *h = g_ptr_array_index (self->lines, i);

      for (guint k = 0; k < HISTORY; k++)
        top = MAX (top, h->rates[k]);
    }
  /* grid: quarters of the scale */
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  cairo_set_line_width (cr, 1);
  for (int q = 1; q < 4; q++)
    {
      cairo_move_to (cr, 0, height * q / 4.0 + 0.5);
      cairo_line_to (cr, width, height * q / 4.0 + 0.5);
    }
  cairo_stroke (cr);
  cairo_set_line_width (cr, 2);
  for (guint i = 0; i < self->lines->len; i++)
    {
      History *h = g_ptr_array_index (self->lines, i);
      const double *c = palette[i % G_N_ELEMENTS (palette)];
      gboolean drawing = FALSE;

      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      for (guint k = 0; k < HISTORY; k++)
        {
          double x = width * k / (double) (HISTORY - 1);
          double y = height - 4 - (height - 24) * (h->rates[k] < 0 ? 0 : h->rates[k] / top);

          if (h->rates[k] < 0)
            continue;
          if (drawing)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          drawing = TRUE;
        }
      cairo_stroke (cr);
      /* legend */
      cairo_rectangle (cr, 8 + i * 110, 6, 10, 10);
      cairo_fill (cr);
      cairo_move_to (cr, 22 + i * 110, 15);
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      g_snprintf (label, sizeof label, "subflow %u", i + 1);
      cairo_show_text (cr, label);
    }
  g_snprintf (label, sizeof label, "max %.1f Mbit/s, last 60 s", top / 1e6);
  cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
  cairo_move_to (cr, width - 170, 15);
  cairo_show_text (cr, label);
  cairo_destroy (cr);
}

static void
inspector_graph_finalize (GObject *object)
{
  g_ptr_array_unref (INSPECTOR_GRAPH (object)->lines);
  G_OBJECT_CLASS (inspector_graph_parent_class)->finalize (object);
}

static void
inspector_graph_class_init (InspectorGraphClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = inspector_graph_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = inspector_graph_snapshot;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
inspector_graph_init (InspectorGraph *self)
{
  self->lines = g_ptr_array_new ();
  gtk_widget_set_size_request (GTK_WIDGET (self), 400, 160);
}

/* ---- the application -------------------------------------------------------------------- */

typedef struct
{
  GtkApplication *app;
  GtkWindow *window;
  MptcpConnectionList *list;
  GtkSingleSelection *connections;      /* the connection view's model, over list */
  GtkSingleSelection *subflows;         /* the subflow view's model, over the selection's */
  InspectorGraph *graph;
  GtkLabel *status;
  InspectorSteerBar *steer;
  GtkStack *stack;                      /* the pages */
  InspectorPmPage *pm_page;
  GtkListBox *events;                   /* of the selected connection, newest first */
  GtkLabel *events_note;
  MptcpMonitor *monitor;                /* with CAP_NET_ADMIN only */
  guint n_events;
  GHashTable *histories;                /* MptcpSubflowEntry (ref) -> History */
  GPtrArray *bound_rows;                /* GtkListItem of the subflow view, bound */
  GPtrArray *bound_conns;               /* GtkListItem of the connection view, bound */
  GCancellable *cancellable;
  gboolean net_admin;
  gboolean report;
  guint32 want_token;
  gpointer shown;                       /* the entry whose subflows are shown (no ref) */
  guint tick;
  guint ticks;
} Inspector;

static gboolean
have_net_admin (void)
{
  g_autofree char *status = NULL;
  const char *line;
  guint64 caps = 0;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      || (line = strstr (status, "\nCapEff:")) == NULL)
    return FALSE;
  caps = g_ascii_strtoull (line + strlen ("\nCapEff:"), NULL, 16);
  return (caps >> 12) & 1;      /* CAP_NET_ADMIN */
}

static const char *
state_text (MptcpTcpState state)
{
  GEnumClass *klass = g_type_class_peek (MPTCP_TYPE_TCP_STATE);
  GEnumValue *value = klass != NULL ? g_enum_get_value (klass, state) : NULL;

  return value != NULL ? value->value_nick : "unknown";
}

static double
last_rate (History *h)
{
  return h != NULL ? h->rates[HISTORY - 1] : -1;
}

/* the text of column `column` of a connection row */
static char *
connection_text (MptcpConnectionEntry *entry,
                 guint                 column)
{
  switch (column)
    {
    case 0:
      return g_strdup_printf ("%08x", mptcp_connection_entry_get_token (entry));
    case 1:
      return g_strdup (state_text (mptcp_connection_entry_get_state (entry)));
    case 2:
      return inspector_endpoint_text (mptcp_connection_entry_get_local_address (entry));
    case 3:
      return inspector_endpoint_text (mptcp_connection_entry_get_remote_address (entry));
    case 4:
      return g_strdup_printf ("%u", g_list_model_get_n_items (mptcp_connection_entry_get_subflows (entry)));
    default:
      return g_strdup_printf ("%u", mptcp_connection_entry_get_uid (entry));
    }
}

static char *
subflow_text (Inspector         *in,
              MptcpSubflowEntry *entry,
              guint              column)
{
  g_autoptr(MptcpSubflowStats) stats = NULL;
  double rate;

  switch (column)
    {
    case 0:
      return g_strdup_printf ("%u / %u", mptcp_subflow_entry_get_local_id (entry),
                              mptcp_subflow_entry_get_remote_id (entry));
    case 1:
      return inspector_endpoint_text (mptcp_subflow_entry_get_local_address (entry));
    case 2:
      return inspector_endpoint_text (mptcp_subflow_entry_get_remote_address (entry));
    case 3:
      return g_strdup_printf ("%s / %s", mptcp_subflow_entry_get_backup (entry) ? "yes" : "no",
                              mptcp_subflow_entry_get_peer_backup (entry) ? "yes" : "no");
    case 4:
      return g_strdup (state_text (mptcp_subflow_entry_get_state (entry)));
    case 5:
    case 6:
      stats = mptcp_subflow_entry_get_stats (entry);
      if (stats == NULL)
        return g_strdup ("–");
      if (column == 5)
        return g_strdup_printf ("%.2f ms", mptcp_subflow_stats_get_rtt (stats) / 1000.0);
      return g_strdup_printf ("%u", mptcp_subflow_stats_get_snd_cwnd (stats));
    default:
      rate = last_rate (g_hash_table_lookup (in->histories, entry));
      return rate < 0 ? g_strdup ("–") : g_strdup_printf ("%.2f Mbit/s", rate / 1e6);
    }
}

static void
update_row (Inspector   *in,
            GtkListItem *item,
            gboolean     subflow)
{
  GObject *entry = gtk_list_item_get_item (item);
  guint column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (item), "column"));
  g_autofree char *text = NULL;
  GtkLabel *label;

  if (entry == NULL)
    return;
  text = subflow ? subflow_text (in, MPTCP_SUBFLOW_ENTRY (entry), column)
                 : connection_text (MPTCP_CONNECTION_ENTRY (entry), column);
  /* most cells do not change from one second to the next: leave those alone (no relayout) */
  label = GTK_LABEL (gtk_list_item_get_child (item));
  if (strcmp (gtk_label_get_text (label), text) != 0)
    gtk_label_set_text (label, text);
}

static void
on_setup (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (item, label);
  g_object_set_data (G_OBJECT (item), "column", g_object_get_data (G_OBJECT (factory), "column"));
}

static void
on_bind (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         gpointer                  data)
{
  Inspector *in = data;
  gboolean subflow = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "subflow"));

  g_ptr_array_add (subflow ? in->bound_rows : in->bound_conns, item);
  update_row (in, item, subflow);
}

static void
on_unbind (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  Inspector *in = data;
  gboolean subflow = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "subflow"));

  g_ptr_array_remove_fast (subflow ? in->bound_rows : in->bound_conns, item);
}

static GtkWidget *
column_view (Inspector          *in,
             GtkSelectionModel  *model,
             const char * const *titles,
             gboolean            subflow)
{
  GtkWidget *view = gtk_column_view_new (g_object_ref (model));

  for (guint i = 0; titles[i] != NULL; i++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      GtkColumnViewColumn *column;

      g_object_set_data (G_OBJECT (factory), "column", GUINT_TO_POINTER (i));
      g_object_set_data (G_OBJECT (factory), "subflow", GINT_TO_POINTER (subflow));
      g_signal_connect (factory, "setup", G_CALLBACK (on_setup), in);
      g_signal_connect (factory, "bind", G_CALLBACK (on_bind), in);
      g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind), in);
      column = gtk_column_view_column_new (titles[i], factory);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_column_set_expand (column, i == 1 || i == 2 || (!subflow && i == 3));
      gtk_column_view_append_column (GTK_COLUMN_VIEW (view), column);
      g_object_unref (column);
    }
  gtk_column_view_set_show_column_separators (GTK_COLUMN_VIEW (view), TRUE);
  return view;
}

static void
clear_events (Inspector *in)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (in->events))) != NULL)
    gtk_list_box_remove (in->events, child);
  in->n_events = 0;
}

/* the MPTCP events of the selected connection, as they happen (MptcpMonitor) */
static void
on_event (MptcpMonitor *monitor,
          MptcpEvent   *event,
          gpointer      data)
{
  Inspector *in = data;
  MptcpConnectionEntry *selected = gtk_single_selection_get_selected_item (in->connections);
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  GtkWidget *label, *last;

  if (selected == NULL || mptcp_event_get_token (event) != mptcp_connection_entry_get_token (selected))
    return;
  now = g_date_time_new_now_local ();
  stamp = g_date_time_format (now, "%H:%M:%S");
  text = mptcp_event_to_string (event);
  line = g_strdup_printf ("%s  %s", stamp, text);
  label = gtk_label_new (line);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_box_prepend (in->events, label);
  in->n_events++;
  /* the last hundred */
  if (in->n_events > 100 && (last = gtk_widget_get_last_child (GTK_WIDGET (in->events))) != NULL)
    {
      gtk_list_box_remove (in->events, last);
      in->n_events--;
    }
}

/* the graph follows the selected connection's subflows */
static void
update_graph_lines (Inspector *in)
{
  GListModel *model = G_LIST_MODEL (in->subflows);

  g_ptr_array_set_size (in->graph->lines, 0);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflowEntry) entry = g_list_model_get_item (model, i);
      History *h = g_hash_table_lookup (in->histories, entry);

      if (h != NULL)
        g_ptr_array_add (in->graph->lines, h);
    }
  gtk_widget_queue_draw (GTK_WIDGET (in->graph));
}

static void
update_steer_selection (Inspector *in)
{
  if (in->steer == NULL)        /* the window is being built */
    return;
  inspector_steer_bar_set_selection (in->steer, gtk_single_selection_get_selected_item (in->connections),
                                     gtk_single_selection_get_selected_item (in->subflows));
}

static void
on_connection_selected (GObject    *selection,
                        GParamSpec *pspec,
                        gpointer    data)
{
  Inspector *in = data;
  MptcpConnectionEntry *entry = gtk_single_selection_get_selected_item (in->connections);

  if (entry == in->shown)
    return;
  in->shown = entry;
  clear_events (in);

  gtk_single_selection_set_model (in->subflows,
                                  entry != NULL ? mptcp_connection_entry_get_subflows (entry) : NULL);
  /* the histories are of the selected connection's subflows only: that keeps an idle
   * inspector cheap with many connections listed */
  g_hash_table_remove_all (in->histories);
  update_graph_lines (in);
  update_steer_selection (in);
}

static void
on_subflow_selected (GObject    *selection,
                     GParamSpec *pspec,
                     gpointer    data)
{
  update_steer_selection (data);
}

/* the subflow of the selected connection from local IP address text (a test command) */
static void
select_subflow (Inspector  *in,
                const char *local)
{
  GListModel *model = G_LIST_MODEL (in->subflows);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflowEntry) entry = g_list_model_get_item (model, i);
      GInetSocketAddress *address = mptcp_subflow_entry_get_local_address (entry);
      g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (address));

      if (strcmp (host, local) == 0)
        {
          gtk_single_selection_set_selected (in->subflows, i);
          break;
        }
    }
  update_steer_selection (in);
}

/* a sample of every subflow of the selected connection */
static void
sample (Inspector *in)
{
  GListModel *model = G_LIST_MODEL (in->subflows);
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflowEntry) entry = g_list_model_get_item (model, i);
      g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_entry_get_stats (entry);
      History *h = g_hash_table_lookup (in->histories, entry);
      guint64 bytes;

      if (stats == NULL)
        continue;
      bytes = mptcp_subflow_stats_get_bytes_acked (stats) + mptcp_subflow_stats_get_bytes_received (stats);
      if (h == NULL)
        {
          h = g_new (History, 1);
          for (guint k = 0; k < HISTORY; k++)
            h->rates[k] = -1;
          g_hash_table_insert (in->histories, g_object_ref (entry), h);
        }
      else
        {
          memmove (h->rates, h->rates + 1, sizeof h->rates[0] * (HISTORY - 1));
          h->rates[HISTORY - 1] = now > h->time_us && bytes >= h->bytes
                                  ? (bytes - h->bytes) * 8e6 / (now - h->time_us) : 0;
        }
      h->bytes = bytes;
      h->time_us = now;
    }
  update_graph_lines (in);
}

/* what the widgets' models hold, for the tests */
static void
report (Inspector *in)
{
  g_autoptr(GString) out = g_string_new ("{\"connections\":[");
  GListModel *conns = G_LIST_MODEL (in->connections);
  GListModel *subs = G_LIST_MODEL (in->subflows);
  MptcpConnectionEntry *selected = gtk_single_selection_get_selected_item (in->connections);

  for (guint i = 0; i < g_list_model_get_n_items (conns); i++)
    {
      g_autoptr(MptcpConnectionEntry) entry = g_list_model_get_item (conns, i);

      g_string_append_printf (out, "%s\"%08x\"", i > 0 ? "," : "",
                              mptcp_connection_entry_get_token (entry));
    }
  if (selected != NULL)
    g_string_append_printf (out, "],\"selected\":\"%08x\",\"subflows\":[",
                            mptcp_connection_entry_get_token (selected));
  else
    g_string_append (out, "],\"selected\":null,\"subflows\":[");
  for (guint i = 0; i < g_list_model_get_n_items (subs); i++)
    {
      g_autoptr(MptcpSubflowEntry) entry = g_list_model_get_item (subs, i);
      History *h = g_hash_table_lookup (in->histories, entry);
      g_autofree char *local = inspector_endpoint_text (mptcp_subflow_entry_get_local_address (entry));
      g_autofree char *remote = inspector_endpoint_text (mptcp_subflow_entry_get_remote_address (entry));
      double top = -1;
      guint samples = 0;

      for (guint k = 0; h != NULL && k < HISTORY; k++)
        {
          top = MAX (top, h->rates[k]);
          samples += h->rates[k] >= 0;
        }
      g_string_append_printf (out, "%s{\"local\":\"%s\",\"remote\":\"%s\",\"local_id\":%u,"
                              "\"remote_id\":%u,\"backup\":%s,\"peer_backup\":%s,"
                              "\"graph_max_bps\":%.0f,\"graph_last_bps\":%.0f,\"graph_samples\":%u}",
                              i > 0 ? "," : "", local, remote,
                              mptcp_subflow_entry_get_local_id (entry),
                              mptcp_subflow_entry_get_remote_id (entry),
                              mptcp_subflow_entry_get_backup (entry) ? "true" : "false",
                              mptcp_subflow_entry_get_peer_backup (entry) ? "true" : "false",
                              top, last_rate (h), samples);
    }
  g_string_append_printf (out, "],\"graph_lines\":%u", in->graph->lines->len);
  inspector_steer_bar_report (in->steer, out);
  g_string_append (out, ",\"status\":");
  viewer_json_string (out, gtk_label_get_text (in->status));
  g_string_append_printf (out, ",\"events\":%u,\"events_note\":", in->n_events);
  viewer_json_string (out, gtk_label_get_text (in->events_note));
  inspector_pm_page_report (in->pm_page, out);
  g_string_append (out, "}\n");
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

static void
select_wanted (Inspector *in)
{
  GListModel *conns = G_LIST_MODEL (in->connections);

  if (in->want_token == 0)
    return;
  for (guint i = 0; i < g_list_model_get_n_items (conns); i++)
    {
      g_autoptr(MptcpConnectionEntry) entry = g_list_model_get_item (conns, i);

      if (mptcp_connection_entry_get_token (entry) == in->want_token)
        {
          if (gtk_single_selection_get_selected (in->connections) != i)
            gtk_single_selection_set_selected (in->connections, i);
          return;
        }
    }
}

static void
on_refreshed (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Inspector *in = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) why = NULL;

  if (g_cancellable_is_cancelled (in->cancellable))
    {
      mptcp_connection_list_refresh_finish (MPTCP_CONNECTION_LIST (source), result, NULL);
      return;
    }
  g_autofree char *text = NULL;

  if (!mptcp_connection_list_refresh_finish (MPTCP_CONNECTION_LIST (source), result, &error))
    {
      if (g_cancellable_is_cancelled (in->cancellable))
        return;
      text = g_strdup_printf ("Could not read the connections: %s", error->message);
    }
  else
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (in->list));

      select_wanted (in);
      /* GtkSingleSelection's autoselect does not always notify selected-item */
      on_connection_selected (NULL, NULL, in);
      update_steer_selection (in);
      sample (in);
      if (!mptcp_connection_list_check_subflows (in->list, &why))
        text = g_strdup_printf ("%u connections. Subflows are hidden: %s", n, why->message);
      else
        text = g_strdup_printf ("%u connection%s, updated every second", n, n == 1 ? "" : "s");
    }
  if (strcmp (gtk_label_get_text (in->status), text) != 0)
    gtk_label_set_text (in->status, text);
  for (guint i = 0; i < in->bound_rows->len; i++)
    update_row (in, g_ptr_array_index (in->bound_rows, i), TRUE);
  for (guint i = 0; i < in->bound_conns->len; i++)
    update_row (in, g_ptr_array_index (in->bound_conns, i), FALSE);
  if (in->report)
    report (in);
}

static gboolean
on_tick (gpointer data)
{
  Inspector *in = data;

  in->ticks++;
  mptcp_connection_list_refresh_async (in->list, in->cancellable, on_refreshed, in);
  return G_SOURCE_CONTINUE;
}

/* ---- the test commands on stdin --------------------------------------------------------- */

typedef struct
{
  Inspector *in;
  char *path;
  guint tries;
} Shot;

/* the window as drawn, into a PNG; retried a little while the window has no drawing yet
 * (a widget paintable has none between an invalidation and the next frame) */
static gboolean
take_screenshot (gpointer data)
{
  Shot *shot = data;
  GtkWidget *widget = GTK_WIDGET (shot->in->window);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  gboolean saved = FALSE;

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_to_node (snapshot);
  if (node == NULL && ++shot->tries < 50)
    return G_SOURCE_CONTINUE;
  if (node != NULL)
    {
      texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                             &GRAPHENE_RECT_INIT (0, 0, width, height));
      saved = gdk_texture_save_to_png (texture, shot->path);
    }
  if (!saved)
    g_printerr ("mptcp-inspector: could not save %s\n", shot->path);
  printf ("{\"screenshot\":\"%s\",\"saved\":%s,\"width\":%d,\"height\":%d}\n", shot->path,
          saved ? "true" : "false", width, height);
  fflush (stdout);
  g_free (shot->path);
  g_free (shot);
  return G_SOURCE_REMOVE;
}

static void
screenshot (Inspector  *in,
            const char *path)
{
  Shot *shot = g_new0 (Shot, 1);

  shot->in = in;
  shot->path = g_strdup (path);
  if (take_screenshot (shot))
    g_timeout_add (100, take_screenshot, shot);
}

static void read_command (Inspector *in, GDataInputStream *stream);

static void
on_command (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  Inspector *in = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result,
                                                                NULL, &error);

  if (line == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_application_quit (G_APPLICATION (in->app));
      return;
    }
  if (g_str_has_prefix (line, "select "))
    {
      in->want_token = (guint32) g_ascii_strtoull (line + 7, NULL, 16);
      select_wanted (in);
    }
  else if (g_str_has_prefix (line, "screenshot "))
    screenshot (in, line + 11);
  else if (g_str_has_prefix (line, "select-subflow "))
    select_subflow (in, line + 15);
  else if (inspector_steer_bar_command (in->steer, line))
    ;
  else if (g_str_has_prefix (line, "show "))
    gtk_stack_set_visible_child_name (in->stack, line + 5);
  else if (inspector_pm_page_command (in->pm_page, line))
    ;
  else if (strcmp (line, "quit") == 0)
    {
      g_application_quit (G_APPLICATION (in->app));
      return;
    }
  read_command (in, G_DATA_INPUT_STREAM (source));
}

static void
read_command (Inspector        *in,
              GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, in->cancellable, on_command, in);
}

/* ---- the window ------------------------------------------------------------------------- */

static const char * const connection_titles[] = { "Token", "State", "Local", "Remote",
                                                  "Subflows", "UID", NULL };
static const char * const subflow_titles[] = { "IDs (local / remote)", "Local", "Remote",
                                               "Backup (ours / peer's)", "State", "RTT", "cwnd",
                                               "Throughput", NULL };

static GtkWidget *
scrolled (GtkWidget *child,
          int        height)
{
  GtkWidget *window = gtk_scrolled_window_new ();

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (window), child);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (window), height);
  gtk_widget_set_vexpand (window, TRUE);
  return window;
}

static void
on_pm_changed (InspectorPmPage *page,
               gpointer         data)
{
  report (data);
}

static void
on_page_shown (Inspector  *in,
               GParamSpec *pspec,
               GtkStack   *stack)
{
  if (gtk_stack_get_visible_child (stack) == GTK_WIDGET (in->pm_page))
    inspector_pm_page_reload (in->pm_page);
}

static void
build_window (Inspector *in)
{
  GtkWidget *stack = gtk_stack_new ();
  GtkWidget *switcher = gtk_stack_switcher_new ();
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  in->window = GTK_WINDOW (gtk_application_window_new (in->app));
  gtk_window_set_title (in->window, "MPTCP Inspector");
  gtk_window_set_icon_name (in->window, APP_ID);
  gtk_window_set_default_size (in->window, 1100, 860);
  gtk_window_set_titlebar (in->window, header);
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (stack));
  gtk_header_bar_set_title_widget (GTK_HEADER_BAR (header), switcher);

  /* connections */
  in->connections = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (in->list)));
  gtk_single_selection_set_autoselect (in->connections, TRUE);
  in->subflows = gtk_single_selection_new (NULL);
  g_signal_connect (in->connections, "notify::selected-item", G_CALLBACK (on_connection_selected), in);
  gtk_widget_set_margin_start (top, 12);
  gtk_widget_set_margin_end (top, 12);
  gtk_widget_set_margin_top (top, 12);
  gtk_box_append (GTK_BOX (top), inspector_heading ("Connections of this network namespace"));
  gtk_box_append (GTK_BOX (top), scrolled (column_view (in, GTK_SELECTION_MODEL (in->connections),
                                                       connection_titles, FALSE), 140));
  in->status = GTK_LABEL (gtk_label_new ("Reading the connections…"));
  gtk_label_set_xalign (in->status, 0);
  gtk_label_set_wrap (in->status, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (in->status), "dim-label");
  gtk_box_append (GTK_BOX (top), GTK_WIDGET (in->status));

  gtk_widget_set_margin_start (bottom, 12);
  gtk_widget_set_margin_end (bottom, 12);
  gtk_widget_set_margin_bottom (bottom, 12);
  gtk_box_append (GTK_BOX (bottom), inspector_heading ("Subflows of the selected connection"));
  gtk_box_append (GTK_BOX (bottom), scrolled (column_view (in, GTK_SELECTION_MODEL (in->subflows),
                                                          subflow_titles, TRUE), 90));
  in->graph = g_object_new (INSPECTOR_TYPE_GRAPH, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (in->graph), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Throughput per subflow over the last minute", -1);
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (in->graph));
  gtk_box_append (GTK_BOX (bottom), inspector_heading ("Events of the selected connection"));
  in->events = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (in->events, GTK_SELECTION_NONE);
  gtk_box_append (GTK_BOX (bottom), scrolled (GTK_WIDGET (in->events), 60));
  in->events_note = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (in->events_note, 0);
  gtk_label_set_wrap (in->events_note, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (in->events_note), "dim-label");
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (in->events_note));
  if (!in->net_admin)
    gtk_label_set_text (in->events_note, "Events need CAP_NET_ADMIN, which this process does not have.");
  else
    {
      g_autoptr(GError) error = NULL;

      in->monitor = mptcp_monitor_new (NULL, &error);
      if (in->monitor == NULL)
        {
          g_autofree char *text = g_strdup_printf ("No events: %s", error->message);

          gtk_label_set_text (in->events_note, text);
        }
      else
        {
          g_signal_connect (in->monitor, "event", G_CALLBACK (on_event), in);
          gtk_label_set_text (in->events_note, "Events as the kernel announces them.");
        }
    }
  gtk_box_append (GTK_BOX (bottom), inspector_heading ("Steer the selected connection"));
  in->steer = INSPECTOR_STEER_BAR (inspector_steer_bar_new (in->net_admin));
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (in->steer));
  g_signal_connect (in->subflows, "notify::selected-item", G_CALLBACK (on_subflow_selected), in);

  gtk_paned_set_start_child (GTK_PANED (paned), top);
  gtk_paned_set_end_child (GTK_PANED (paned), bottom);
  gtk_paned_set_position (GTK_PANED (paned), 230);
  gtk_stack_add_titled (GTK_STACK (stack), paned, "connections", "Connections");

  /* path manager */
  in->pm_page = INSPECTOR_PM_PAGE (inspector_pm_page_new (in->net_admin));
  if (in->report)
    inspector_pm_page_set_changed_func (in->pm_page, on_pm_changed, in);
  gtk_stack_add_titled (GTK_STACK (stack), GTK_WIDGET (in->pm_page), "path-manager", "Path manager");
  /* the kernel's table may change behind our back: read it again when the page is shown */
  g_signal_connect_swapped (stack, "notify::visible-child", G_CALLBACK (on_page_shown), in);

  gtk_window_set_child (in->window, stack);
  in->stack = GTK_STACK (stack);
}

static void
on_activate (GtkApplication *app,
             gpointer        data)
{
  Inspector *in = data;
  g_autoptr(GError) error = NULL;

  if (in->window != NULL)
    {
      gtk_window_present (in->window);
      return;
    }
  in->list = mptcp_connection_list_new (NULL, &error);
  if (in->list == NULL)
    {
      GtkWidget *dialog = gtk_message_dialog_new (NULL, 0, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                                  "Cannot list the MPTCP connections");

      gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", error->message);
      gtk_window_set_application (GTK_WINDOW (dialog), app);
      g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  /* our own 1 Hz timer drives the refreshes, so each sample is taken right after a dump */
  mptcp_connection_list_set_interval (in->list, 0);
  build_window (in);
  gtk_window_present (in->window);
  on_tick (in);
  in->tick = g_timeout_add_seconds (1, on_tick, in);
  if (in->report)
    {
      g_autoptr(GInputStream) raw = g_unix_input_stream_new (0, FALSE);
      g_autoptr(GDataInputStream) stream = g_data_input_stream_new (raw);

      read_command (in, stream);
    }
}

int
main (int argc, char **argv)
{
  Inspector in = { 0 };
  const char *select = g_getenv ("MPTCP_INSPECTOR_SELECT");
  int status;

  in.net_admin = have_net_admin ();
  in.report = g_strcmp0 (g_getenv ("MPTCP_INSPECTOR_REPORT"), "1") == 0;
  in.want_token = select != NULL ? (guint32) g_ascii_strtoull (select, NULL, 16) : 0;
  in.histories = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  in.bound_rows = g_ptr_array_new ();
  in.bound_conns = g_ptr_array_new ();
  in.cancellable = g_cancellable_new ();
  g_type_class_ref (MPTCP_TYPE_TCP_STATE);
  in.app = gtk_application_new (APP_ID, G_APPLICATION_NON_UNIQUE);
  g_signal_connect (in.app, "activate", G_CALLBACK (on_activate), &in);
  status = g_application_run (G_APPLICATION (in.app), argc, argv);

  g_cancellable_cancel (in.cancellable);
  g_clear_handle_id (&in.tick, g_source_remove);
  /* let a refresh in flight see its cancellation */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&in.connections);
  g_clear_object (&in.subflows);
  g_clear_object (&in.list);
  g_clear_object (&in.monitor);
  g_object_unref (in.app);
  g_hash_table_unref (in.histories);
  g_ptr_array_unref (in.bound_rows);
  g_ptr_array_unref (in.bound_conns);
  g_object_unref (in.cancellable);
  g_type_class_unref (g_type_class_peek (MPTCP_TYPE_TCP_STATE));
  return status;
}
