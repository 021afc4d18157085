/* inspector-pm-page.c: the inspector's path manager page
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The in-kernel path manager's endpoints (a GtkListBox bound to the GListModel of
 * mptcp_path_manager_list_endpoints()) and limits, through MptcpPathManager. With
 * CAP_NET_ADMIN the page edits them: an endpoint added with its flags (and port and device,
 * as wanted), removed, its backup and fullmesh flags toggled, the limits set; every change
 * is asynchronous and followed by a reload, and a refusal is shown as the library's GError
 * says it. Without CAP_NET_ADMIN the page tries the cheapest change the kernel would check
 * (the limits set to what they are) once, and shows the error it got as the reason the page
 * is read-only.
 */

#include "inspector-pm-page.h"
#include "inspector-util.h"

#include <mptcp-glib/mptcp-glib.h>
#include <net/if.h>
#include <string.h>

struct _InspectorPmPage
{
  GtkBox parent_instance;
  MptcpPathManager *pm;
  GCancellable *cancellable;
  GListModel *endpoints;        /* of MptcpEndpoint: what the list box shows */
  GtkListBox *list;
  GtkLabel *placeholder;
  GtkLabel *reason;             /* why the page is read-only ("" when it is not) */
  GtkLabel *result;             /* what the last change did */
  GtkEditable *address;
  GtkEditable *port;
  GtkEditable *device;
  GtkCheckButton *flags[4];
  GtkWidget *add;
  GtkLabel *limits;
  GtkLabel *mode;               /* which path manager new connections get */
  GtkSpinButton *limit_subflows;
  GtkSpinButton *limit_accepted;
  GtkWidget *apply_limits;
  gboolean editable;
  InspectorPmPageChanged changed;
  gpointer changed_data;
};

G_DEFINE_FINAL_TYPE (InspectorPmPage, inspector_pm_page, GTK_TYPE_BOX)

/* the flags the add form offers, in its order */
static const struct
{
  MptcpEndpointFlags flag;
  const char *name;             /* as `ip mptcp endpoint` names it */
  const char *label;
  const char *tooltip;
} form_flags[] = {
  { MPTCP_ENDPOINT_FLAG_SIGNAL, "signal", "Signal",
    "Announce the address to the peers of new connections (ADD_ADDR)" },
  { MPTCP_ENDPOINT_FLAG_SUBFLOW, "subflow", "Subflow",
    "Open a subflow from the address on every new connection" },
  { MPTCP_ENDPOINT_FLAG_BACKUP, "backup", "Backup",
    "Subflows from the address are backups, used only when no other subflow can send" },
  { MPTCP_ENDPOINT_FLAG_FULLMESH, "fullmesh", "Fullmesh",
    "A subflow from the address to every address the peer announced (not with Signal)" },
};

/* ---- the endpoint rows ------------------------------------------------------------------ */

static MptcpEndpointFlags
row_flags (GtkWidget *row)
{
  GtkCheckButton *backup = g_object_get_data (G_OBJECT (row), "backup");
  GtkCheckButton *fullmesh = g_object_get_data (G_OBJECT (row), "fullmesh");

  return (gtk_check_button_get_active (backup) ? MPTCP_ENDPOINT_FLAG_BACKUP : 0)
         | (gtk_check_button_get_active (fullmesh) ? MPTCP_ENDPOINT_FLAG_FULLMESH : 0);
}

/* the _finish() of a change that returns a gboolean (they share one callback) */
typedef gboolean (*PmFinish) (MptcpPathManager *pm, GAsyncResult *result, GError **error);

/* an operation in flight: the page and what the result line says about it */
typedef struct
{
  InspectorPmPage *self;        /* a reference */
  char *what;                   /* "add the endpoint 192.0.2.1", for the result line */
  PmFinish finish;              /* NULL for the add */
} Op;

static Op *
op_new (InspectorPmPage *self,
        PmFinish         finish,
        char            *what)
{
  Op *op = g_new (Op, 1);

  op->self = g_object_ref (self);
  op->finish = finish;
  op->what = what;
  return op;
}

/* the end of every change: its outcome in the result line, then the kernel's state again */
static void
op_done (Op           *op,
         gboolean      ok,
         GError       *error,
         const char   *success)
{
  InspectorPmPage *self = op->self;

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (ok)
        inspector_show_result (self->result, success, FALSE);
      else
        {
          g_autofree char *text = inspector_error_text (op->what, error);

          inspector_show_result (self->result, text, TRUE);
        }
      inspector_pm_page_reload (self);
    }
  g_object_unref (self);
  g_free (op->what);
  g_free (op);
}

/* the end of a flag change, a removal or a limits change */
static void
on_changed (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  g_autoptr(GError) error = NULL;
  Op *op = data;
  gboolean ok = op->finish (MPTCP_PATH_MANAGER (source), result, &error);
  g_autofree char *success = g_strdup_printf ("Done: %s.", op->what);

  op_done (op, ok, error, success);
}

static void
on_row_toggled (GtkCheckButton *button,
                gpointer        data)
{
  InspectorPmPage *self = data;
  GtkWidget *row = g_object_get_data (G_OBJECT (button), "row");
  MptcpEndpoint *endpoint = g_object_get_data (G_OBJECT (row), "endpoint");
  const char *flag = g_object_get_data (G_OBJECT (button), "flag");
  g_autofree char *address = g_inet_address_to_string (mptcp_endpoint_get_address (endpoint));
  char *what;

  what = g_strdup_printf ("%s the %s flag of endpoint %u (%s)",
                          gtk_check_button_get_active (button) ? "set" : "clear", flag,
                          mptcp_endpoint_get_id (endpoint), address);
  mptcp_path_manager_set_endpoint_flags_async (self->pm, mptcp_endpoint_get_id (endpoint),
                                               row_flags (row), self->cancellable, on_changed,
                                               op_new (self, mptcp_path_manager_set_endpoint_flags_finish,
                                                       what));
}

static void
on_remove_clicked (GtkButton *button,
                   gpointer   data)
{
  InspectorPmPage *self = data;
  GtkWidget *row = g_object_get_data (G_OBJECT (button), "row");
  MptcpEndpoint *endpoint = g_object_get_data (G_OBJECT (row), "endpoint");
  g_autofree char *address = g_inet_address_to_string (mptcp_endpoint_get_address (endpoint));

  mptcp_path_manager_remove_endpoint_async (self->pm, mptcp_endpoint_get_id (endpoint),
                                            self->cancellable, on_changed,
                                            op_new (self, mptcp_path_manager_remove_endpoint_finish,
                                                    g_strdup_printf ("remove endpoint %u (%s)",
                                                                           mptcp_endpoint_get_id (endpoint),
                                                                           address)));
}

static GtkWidget *
row_check (InspectorPmPage *self,
           GtkWidget       *row,
           const char      *label,
           const char      *flag,
           gboolean         active)
{
  GtkWidget *check = gtk_check_button_new_with_label (label);

  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), active);
  g_object_set_data (G_OBJECT (check), "row", row);
  g_object_set_data (G_OBJECT (check), "flag", (gpointer) flag);
  g_object_set_data (G_OBJECT (row), flag, check);
  gtk_widget_set_sensitive (check, self->editable);
  g_signal_connect (check, "toggled", G_CALLBACK (on_row_toggled), self);
  return check;
}

static GtkWidget *
create_row (gpointer item,
            gpointer data)
{
  InspectorPmPage *self = data;
  MptcpEndpoint *endpoint = item;
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  g_autofree char *text = mptcp_endpoint_to_string (endpoint);
  GtkWidget *label = gtk_label_new (text);
  GtkWidget *fullmesh, *remove = gtk_button_new_with_label ("Remove");

  g_object_set_data_full (G_OBJECT (row), "endpoint", g_object_ref (endpoint), g_object_unref);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row),
                  row_check (self, row, "Backup", "backup",
                             mptcp_endpoint_has_flags (endpoint, MPTCP_ENDPOINT_FLAG_BACKUP)));
  fullmesh = row_check (self, row, "Fullmesh", "fullmesh",
                        mptcp_endpoint_has_flags (endpoint, MPTCP_ENDPOINT_FLAG_FULLMESH));
  if (mptcp_endpoint_has_flags (endpoint, MPTCP_ENDPOINT_FLAG_SIGNAL))
    {
      /* the kernel refuses it: say so instead of failing */
      gtk_widget_set_sensitive (fullmesh, FALSE);
      gtk_widget_set_tooltip_text (fullmesh, "A signal endpoint cannot be fullmesh");
    }
  gtk_box_append (GTK_BOX (row), fullmesh);
  g_object_set_data (G_OBJECT (remove), "row", row);
  g_object_set_data (G_OBJECT (row), "remove", remove);
  gtk_widget_set_sensitive (remove, self->editable);
  g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_clicked), self);
  gtk_box_append (GTK_BOX (row), remove);
  gtk_widget_set_margin_top (row, 3);
  gtk_widget_set_margin_bottom (row, 3);
  return row;
}

/* the row box of the endpoint with id, or NULL */
static GtkWidget *
find_row (InspectorPmPage *self,
          guint            id)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = GTK_IS_LIST_BOX_ROW (child) ? gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (child)) : NULL;
      MptcpEndpoint *endpoint = row != NULL ? g_object_get_data (G_OBJECT (row), "endpoint") : NULL;

      if (endpoint != NULL && mptcp_endpoint_get_id (endpoint) == id)
        return row;
    }
  return NULL;
}

/* ---- the add form and the limits -------------------------------------------------------- */

static void
on_added (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpEndpoint) added = mptcp_path_manager_add_endpoint_finish (MPTCP_PATH_MANAGER (source),
                                                                            result, &error);
  g_autofree char *text = added != NULL ? mptcp_endpoint_to_string (added) : NULL;
  g_autofree char *success = g_strdup_printf ("Added endpoint %s.", text);

  op_done (data, added != NULL, error, success);
}

static void
on_add_clicked (GtkButton *button,
                gpointer   data)
{
  InspectorPmPage *self = data;
  g_autofree char *address_text = g_strstrip (g_strdup (gtk_editable_get_text (self->address)));
  g_autofree char *port_text = g_strstrip (g_strdup (gtk_editable_get_text (self->port)));
  g_autofree char *device = g_strstrip (g_strdup (gtk_editable_get_text (self->device)));
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (address_text);
  g_autoptr(MptcpEndpoint) endpoint = NULL;
  MptcpEndpointFlags flags = 0;
  guint64 port = 0;
  guint ifindex = 0;

  if (address == NULL)
    {
      g_autofree char *text = g_strdup_printf ("“%s” is not an IPv4 or IPv6 address.", address_text);

      inspector_show_result (self->result, *address_text == '\0' ? "Type the endpoint's address first." : text, TRUE);
      return;
    }
  if (*port_text != '\0' && (!g_ascii_string_to_unsigned (port_text, 10, 1, G_MAXUINT16, &port, NULL)))
    {
      g_autofree char *text = g_strdup_printf ("“%s” is not a port (1 to 65535).", port_text);

      inspector_show_result (self->result, text, TRUE);
      return;
    }
  if (*device != '\0' && (ifindex = if_nametoindex (device)) == 0)
    {
      g_autofree char *text = g_strdup_printf ("This host has no network device “%s”.", device);

      inspector_show_result (self->result, text, TRUE);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (form_flags); i++)
    if (gtk_check_button_get_active (self->flags[i]))
      flags |= form_flags[i].flag;
  endpoint = g_object_new (MPTCP_TYPE_ENDPOINT, "address", address, "port", (guint) port,
                           "ifindex", (int) ifindex, "flags", flags, NULL);
  /* the library checks the combination (signal with fullmesh, a port without signal) and
   * says what is wrong, before the kernel sees it */
  mptcp_path_manager_add_endpoint_async (self->pm, endpoint, self->cancellable, on_added,
                                         op_new (self, NULL, g_strdup_printf ("add the endpoint %s",
                                                                        address_text)));
}

static void
on_apply_limits (GtkButton *button,
                 gpointer   data)
{
  InspectorPmPage *self = data;
  guint subflows = gtk_spin_button_get_value_as_int (self->limit_subflows);
  guint accepted = gtk_spin_button_get_value_as_int (self->limit_accepted);

  mptcp_path_manager_set_limits_async (self->pm, subflows, accepted, self->cancellable,
                                       on_changed,
                                       op_new (self, mptcp_path_manager_set_limits_finish,
                                               g_strdup_printf ("set the limits to %u subflows "
                                                                      "and %u accepted addresses",
                                                                      subflows, accepted)));
}

/* ---- loading ---------------------------------------------------------------------------- */

static void
set_editable (InspectorPmPage *self,
              gboolean         editable,
              const char      *reason)
{
  GtkWidget *form[] = { GTK_WIDGET (self->address), GTK_WIDGET (self->port),
                        GTK_WIDGET (self->device), self->add, GTK_WIDGET (self->limit_subflows),
                        GTK_WIDGET (self->limit_accepted), self->apply_limits };

  self->editable = editable;
  for (guint i = 0; i < G_N_ELEMENTS (form); i++)
    {
      gtk_widget_set_sensitive (form[i], editable);
      gtk_widget_set_tooltip_text (form[i], reason);
    }
  for (guint i = 0; i < G_N_ELEMENTS (self->flags); i++)
    gtk_widget_set_sensitive (GTK_WIDGET (self->flags[i]), editable);
  gtk_label_set_text (self->reason, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason), reason != NULL);
}

void
inspector_pm_page_reload (InspectorPmPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) endpoints = NULL;
  guint subflows = 0, accepted = 0;

  g_return_if_fail (INSPECTOR_IS_PM_PAGE (self));

  if (self->pm == NULL)
    return;
  {
    MptcpPathManagerMode mode = mptcp_path_manager_get_mode (self->pm, &error);
    g_autofree char *text = NULL;

    if (error != NULL)
      text = g_strdup_printf ("Could not tell which path manager new connections get: %s",
                              error->message);
    else if (mode == MPTCP_PATH_MANAGER_MODE_USERSPACE)
      text = g_strdup ("New connections get the userspace path manager: the kernel opens no "
                       "subflows and announces no addresses from these endpoints for them.");
    else
      text = g_strdup ("New connections get the in-kernel path manager, which uses these "
                       "endpoints and limits.");
    gtk_label_set_text (self->mode, text);
    g_clear_error (&error);
  }
  if (mptcp_path_manager_get_limits (self->pm, &subflows, &accepted, NULL, &error))
    {
      g_autofree char *text = g_strdup_printf ("Limits: %u subflows per connection, %u addresses "
                                               "accepted from the peer", subflows, accepted);

      gtk_label_set_text (self->limits, text);
      gtk_spin_button_set_value (self->limit_subflows, subflows);
      gtk_spin_button_set_value (self->limit_accepted, accepted);
    }
  else
    {
      g_autofree char *text = g_strdup_printf ("Could not read the limits: %s", error->message);

      gtk_label_set_text (self->limits, text);
      g_clear_error (&error);
    }

  endpoints = mptcp_path_manager_list_endpoints (self->pm, NULL, &error);
  if (endpoints == NULL)
    {
      g_autofree char *text = g_strdup_printf ("Could not list the endpoints: %s", error->message);

      gtk_label_set_text (self->placeholder, text);
    }
  else
    gtk_label_set_text (self->placeholder, "No endpoints: the kernel uses each connection's "
                                           "own addresses only.");
  g_set_object (&self->endpoints, endpoints);
  /* the rows are made with their checks set before their "toggled" handlers are connected */
  gtk_list_box_bind_model (self->list, self->endpoints, create_row, self, NULL);
  if (self->changed != NULL)
    self->changed (self, self->changed_data);
}

/* Without CAP_NET_ADMIN: the limits set to what they are, so that the page shows what the
 * library says when the kernel refuses a change (nothing changes either way). */
static void
probe (InspectorPmPage *self)
{
  g_autoptr(GError) error = NULL;
  guint subflows, accepted;
  g_autofree char *reason = NULL;

  if (!mptcp_path_manager_get_limits (self->pm, &subflows, &accepted, NULL, &error)
      || !mptcp_path_manager_set_limits (self->pm, subflows, accepted, NULL, &error))
    {
      if (g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED))
        reason = g_strdup_printf ("Read-only: changing endpoints and limits needs CAP_NET_ADMIN, "
                                  "which this process does not have.\n%s.", error->message);
      else
        reason = g_strdup_printf ("Read-only: %s.", error->message);
    }
  set_editable (self, reason == NULL, reason);
}

/* ---- the widget ------------------------------------------------------------------------- */

static GtkEditable *
form_entry (GtkGrid    *grid,
            int         row,
            const char *label,
            const char *placeholder,
            const char *accessible)
{
  GtkWidget *title = gtk_label_new (label);
  GtkWidget *entry = gtk_entry_new ();

  gtk_label_set_xalign (GTK_LABEL (title), 1);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), placeholder);
  gtk_widget_set_hexpand (entry, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  gtk_grid_attach (grid, title, 0, row, 1, 1);
  gtk_grid_attach (grid, entry, 1, row, 1, 1);
  return GTK_EDITABLE (entry);
}

static GtkSpinButton *
limit_spin (GtkWidget  *box,
            const char *label)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 8, 1);   /* the kernel's maximum */

  gtk_box_append (GTK_BOX (box), gtk_label_new (label));
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_box_append (GTK_BOX (box), spin);
  return GTK_SPIN_BUTTON (spin);
}

static void
inspector_pm_page_dispose (GObject *object)
{
  InspectorPmPage *self = INSPECTOR_PM_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->endpoints);
  G_OBJECT_CLASS (inspector_pm_page_parent_class)->dispose (object);
}

static void
inspector_pm_page_finalize (GObject *object)
{
  InspectorPmPage *self = INSPECTOR_PM_PAGE (object);

  g_clear_object (&self->pm);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (inspector_pm_page_parent_class)->finalize (object);
}

static void
inspector_pm_page_class_init (InspectorPmPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = inspector_pm_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = inspector_pm_page_finalize;
}

static void
inspector_pm_page_init (InspectorPmPage *self)
{
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *flag_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *limit_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *flags_title = gtk_label_new ("Flags");

  self->cancellable = g_cancellable_new ();
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 12);

  gtk_box_append (GTK_BOX (self), inspector_heading ("Endpoints of the in-kernel path manager"));
  self->reason = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->reason, 0);
  gtk_label_set_wrap (self->reason, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->reason), "dim-label");
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->reason));
  self->mode = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->mode, 0);
  gtk_label_set_wrap (self->mode, TRUE);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->mode));

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  self->placeholder = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->placeholder, TRUE);
  gtk_list_box_set_placeholder (self->list, GTK_WIDGET (self->placeholder));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->list));
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 180);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (self), scroller);

  /* a new endpoint */
  gtk_box_append (GTK_BOX (self), inspector_heading ("Add an endpoint"));
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  self->address = form_entry (GTK_GRID (grid), 0, "Address", "192.0.2.1 or 2001:db8::1",
                              "Endpoint address");
  self->port = form_entry (GTK_GRID (grid), 1, "Port", "optional; signal endpoints only",
                           "Endpoint port");
  self->device = form_entry (GTK_GRID (grid), 2, "Device", "optional, e.g. eth1",
                             "Endpoint device");
  gtk_label_set_xalign (GTK_LABEL (flags_title), 1);
  gtk_grid_attach (GTK_GRID (grid), flags_title, 0, 3, 1, 1);
  for (guint i = 0; i < G_N_ELEMENTS (form_flags); i++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (form_flags[i].label);

      gtk_widget_set_tooltip_text (check, form_flags[i].tooltip);
      gtk_box_append (GTK_BOX (flag_box), check);
      self->flags[i] = GTK_CHECK_BUTTON (check);
    }
  gtk_grid_attach (GTK_GRID (grid), flag_box, 1, 3, 1, 1);
  self->add = gtk_button_new_with_label ("Add endpoint");
  gtk_widget_set_halign (self->add, GTK_ALIGN_START);
  gtk_widget_add_css_class (self->add, "suggested-action");
  g_signal_connect (self->add, "clicked", G_CALLBACK (on_add_clicked), self);
  gtk_grid_attach (GTK_GRID (grid), self->add, 1, 4, 1, 1);
  gtk_box_append (GTK_BOX (self), grid);

  /* the limits */
  gtk_box_append (GTK_BOX (self), inspector_heading ("Limits"));
  self->limits = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->limits, 0);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->limits));
  self->limit_subflows = limit_spin (limit_box, "Subflows per connection");
  self->limit_accepted = limit_spin (limit_box, "Addresses accepted from the peer");
  self->apply_limits = gtk_button_new_with_label ("Set limits");
  g_signal_connect (self->apply_limits, "clicked", G_CALLBACK (on_apply_limits), self);
  gtk_box_append (GTK_BOX (limit_box), self->apply_limits);
  gtk_box_append (GTK_BOX (self), limit_box);

  self->result = inspector_result_line ("Result of the last change");
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->result));
}

GtkWidget *
inspector_pm_page_new (gboolean net_admin)
{
  InspectorPmPage *self = g_object_new (INSPECTOR_TYPE_PM_PAGE, NULL);
  g_autoptr(GError) error = NULL;

  self->pm = mptcp_path_manager_new (NULL, &error);
  if (self->pm == NULL)
    {
      g_autofree char *text = g_strdup_printf ("The path manager is unavailable: %s", error->message);

      gtk_label_set_text (self->placeholder, text);
      set_editable (self, FALSE, text);
      return GTK_WIDGET (self);
    }
  if (net_admin)
    set_editable (self, TRUE, NULL);
  else
    probe (self);
  inspector_pm_page_reload (self);
  return GTK_WIDGET (self);
}

void
inspector_pm_page_set_changed_func (InspectorPmPage       *self,
                                    InspectorPmPageChanged func,
                                    gpointer               data)
{
  self->changed = func;
  self->changed_data = data;
}

/* ---- for the tests ---------------------------------------------------------------------- */

void
inspector_pm_page_report (InspectorPmPage *self,
                          GString         *out)
{
  gboolean first = TRUE;

  g_string_append_printf (out, ",\"pm\":{\"editable\":%s,\"reason\":",
                          self->editable ? "true" : "false");
  viewer_json_string (out, gtk_label_get_text (self->reason));
  g_string_append (out, ",\"result\":");
  viewer_json_string (out, gtk_label_get_text (self->result));
  g_string_append (out, ",\"limits\":");
  viewer_json_string (out, gtk_label_get_text (self->limits));
  g_string_append (out, ",\"mode\":");
  viewer_json_string (out, gtk_label_get_text (self->mode));
  g_string_append (out, ",\"endpoints\":[");
  /* the rows as the list box shows them */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = GTK_IS_LIST_BOX_ROW (child) ? gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (child)) : NULL;
      MptcpEndpoint *endpoint = row != NULL ? g_object_get_data (G_OBJECT (row), "endpoint") : NULL;
      g_autofree char *address = NULL;

      if (endpoint == NULL)
        continue;
      address = g_inet_address_to_string (mptcp_endpoint_get_address (endpoint));
      g_string_append_printf (out, "%s{\"id\":%u,\"address\":\"%s\",\"backup\":%s,\"fullmesh\":%s,"
                              "\"removable\":%s}", first ? "" : ",", mptcp_endpoint_get_id (endpoint),
                              address,
                              gtk_check_button_get_active (g_object_get_data (G_OBJECT (row), "backup")) ? "true" : "false",
                              gtk_check_button_get_active (g_object_get_data (G_OBJECT (row), "fullmesh")) ? "true" : "false",
                              gtk_widget_is_sensitive (g_object_get_data (G_OBJECT (row), "remove")) ? "true" : "false");
      first = FALSE;
    }
  g_string_append (out, "]}");
}

gboolean
inspector_pm_page_command (InspectorPmPage *self,
                           const char      *line)
{
  g_auto(GStrv) words = g_strsplit (line, " ", -1);
  guint n = g_strv_length (words);
  guint64 a = 0, b = 0;

  if (n >= 3 && strcmp (words[0], "pm-add") == 0)
    {
      g_auto(GStrv) names = g_strsplit (words[2], ",", -1);

      gtk_editable_set_text (self->address, words[1]);
      gtk_editable_set_text (self->port, n >= 4 ? words[3] : "");
      gtk_editable_set_text (self->device, "");
      for (guint i = 0; i < G_N_ELEMENTS (form_flags); i++)
        gtk_check_button_set_active (self->flags[i],
                                     g_strv_contains ((const char * const *) names, form_flags[i].name));
      inspector_click (self->add);
      return TRUE;
    }
  if (n == 2 && strcmp (words[0], "pm-remove") == 0
      && g_ascii_string_to_unsigned (words[1], 10, 1, 255, &a, NULL))
    {
      GtkWidget *row = find_row (self, a);

      if (row != NULL)
        inspector_click (g_object_get_data (G_OBJECT (row), "remove"));
      else
        inspector_show_result (self->result, "No such row", TRUE);
      return TRUE;
    }
  if (n == 3 && strcmp (words[0], "pm-toggle") == 0
      && g_ascii_string_to_unsigned (words[1], 10, 1, 255, &a, NULL)
      && (strcmp (words[2], "backup") == 0 || strcmp (words[2], "fullmesh") == 0))
    {
      GtkWidget *row = find_row (self, a);
      GtkWidget *check = row != NULL ? g_object_get_data (G_OBJECT (row), words[2]) : NULL;

      /* as a click would: nothing when the check is insensitive */
      if (check != NULL && gtk_widget_is_sensitive (check))
        gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                     !gtk_check_button_get_active (GTK_CHECK_BUTTON (check)));
      else if (check == NULL)
        inspector_show_result (self->result, "No such row", TRUE);
      return TRUE;
    }
  if (n == 3 && strcmp (words[0], "pm-limits") == 0
      && g_ascii_string_to_unsigned (words[1], 10, 0, 8, &a, NULL)
      && g_ascii_string_to_unsigned (words[2], 10, 0, 8, &b, NULL))
    {
      gtk_spin_button_set_value (self->limit_subflows, a);
      gtk_spin_button_set_value (self->limit_accepted, b);
      inspector_click (self->apply_limits);
      return TRUE;
    }
  return FALSE;
}
