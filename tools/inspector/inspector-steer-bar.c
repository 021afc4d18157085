/* inspector-steer-bar.c: steering the selected connection from the inspector
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Open a subflow between chosen addresses, close the selected subflow, toggle its backup
 * flag: through the MptcpConnection that mptcp_connection_entry_dup_connection() gives for a
 * listed connection (a handle by token, whichever process holds the socket; it needs
 * CAP_NET_ADMIN, and opening needs a connection of the userspace path manager). The handle
 * is taken for each action and dropped when it ends, so an idle inspector holds none. The
 * listed subflow is matched to the handle's MptcpSubflow by its addresses. Every outcome goes
 * to the result line, a failure as the library's GError says it; without CAP_NET_ADMIN the
 * bar asks for the handle once and shows the refusal as the reason it is read-only.
 */

#include "inspector-steer-bar.h"
#include "inspector-util.h"

#include <string.h>

struct _InspectorSteerBar
{
  GtkBox parent_instance;
  GCancellable *cancellable;
  MptcpConnectionEntry *connection;     /* selected (a reference) */
  MptcpSubflowEntry *subflow;           /* selected (a reference) */
  GtkWidget *close;
  GtkWidget *backup;
  GtkWidget *open;
  GtkEditable *local;
  GtkEditable *remote;
  char *prefilled;                      /* the remote text we put there ourselves */
  GtkLabel *reason;
  GtkLabel *result;
  gboolean net_admin;
  gboolean probed;                      /* without CAP_NET_ADMIN: the library asked once */
  char *refusal;                        /* what it said (NULL: steering works) */
};

G_DEFINE_FINAL_TYPE (InspectorSteerBar, inspector_steer_bar, GTK_TYPE_BOX)

/* "192.0.2.1", "192.0.2.1:5001", "2001:db8::1", "[2001:db8::1]:5001"; port 0 when none */
static GInetSocketAddress *
parse_endpoint (const char *text)
{
  g_autofree char *host = NULL;
  const char *port = NULL;
  g_autoptr(GInetAddress) address = NULL;
  guint64 number = 0;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return NULL;
      host = g_strndup (text + 1, end - text - 1);
      port = end[1] == ':' ? end + 2 : NULL;
    }
  else if (strchr (text, ':') != NULL && strchr (text, ':') == strrchr (text, ':'))
    {
      const char *colon = strchr (text, ':');

      host = g_strndup (text, colon - text);
      port = colon + 1;
    }
  else
    host = g_strdup (text);
  if ((address = g_inet_address_new_from_string (host)) == NULL)
    return NULL;
  if (port != NULL && !g_ascii_string_to_unsigned (port, 10, 0, G_MAXUINT16, &number, NULL))
    return NULL;
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (address, number));
}

static gboolean
same_endpoint (GInetSocketAddress *a,
               GInetSocketAddress *b)
{
  return a != NULL && b != NULL
         && g_inet_socket_address_get_port (a) == g_inet_socket_address_get_port (b)
         && g_inet_address_equal (g_inet_socket_address_get_address (a),
                                  g_inet_socket_address_get_address (b));
}

static void
update_sensitivity (InspectorSteerBar *self)
{
  gboolean can = self->refusal == NULL && (self->net_admin || self->probed);
  const char *why = self->refusal;

  gtk_widget_set_sensitive (self->open, can && self->connection != NULL);
  gtk_widget_set_sensitive (self->close, can && self->subflow != NULL);
  gtk_widget_set_sensitive (self->backup, can && self->subflow != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->local), can);
  gtk_widget_set_sensitive (GTK_WIDGET (self->remote), can);
  gtk_label_set_text (self->reason, why != NULL ? why : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason), why != NULL);
  gtk_widget_set_tooltip_text (self->open, why);
  gtk_widget_set_tooltip_text (self->close, why);
  gtk_widget_set_tooltip_text (self->backup, why);
}

/* ---- the actions ------------------------------------------------------------------------ */

typedef struct
{
  InspectorSteerBar *self;      /* a reference */
  MptcpConnection *connection;  /* the handle, for the action's time */
  char *what;                   /* "close subflow 198.51.100.1:40000 -> ...", for the result */
  gboolean (*finish) (MptcpSubflow *subflow, GAsyncResult *result, GError **error);
} Op;

static void
op_free (Op *op)
{
  g_object_unref (op->self);
  g_clear_object (&op->connection);
  g_free (op->what);
  g_free (op);
}

static void
op_done (Op         *op,
         gboolean    ok,
         GError     *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = ok ? g_strdup_printf ("Done: %s.", op->what)
                                 : inspector_error_text (op->what, error);

      inspector_show_result (op->self->result, text, !ok);
    }
  op_free (op);
}

/* the handle of the selected connection, or NULL with the refusal in the result line */
static MptcpConnection *
handle (InspectorSteerBar *self,
        const char        *what)
{
  g_autoptr(GError) error = NULL;
  MptcpConnection *connection;

  if (self->connection == NULL)
    return NULL;
  connection = mptcp_connection_entry_dup_connection (self->connection, &error);
  if (connection == NULL)
    {
      g_autofree char *text = inspector_error_text (what, error);

      inspector_show_result (self->result, text, TRUE);
    }
  return connection;
}

/* the handle's subflow of the selected subflow entry (matched by addresses), or NULL with
 * the reason in the result line */
static MptcpSubflow *
find_subflow (InspectorSteerBar *self,
              MptcpConnection   *connection,
              const char        *what)
{
  g_autoptr(GError) error = NULL;
  GListModel *subflows;

  if (!mptcp_connection_refresh (connection, &error))
    {
      g_autofree char *text = inspector_error_text (what, error);

      inspector_show_result (self->result, text, TRUE);
      return NULL;
    }
  subflows = mptcp_connection_get_subflows (connection);
  for (guint i = 0; i < g_list_model_get_n_items (subflows); i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);

      if (same_endpoint (mptcp_subflow_get_local_address (subflow),
                         mptcp_subflow_entry_get_local_address (self->subflow))
          && same_endpoint (mptcp_subflow_get_remote_address (subflow),
                            mptcp_subflow_entry_get_remote_address (self->subflow)))
        return g_steal_pointer (&subflow);
    }
  {
    g_autofree char *text = g_strdup_printf ("Could not %s: the subflow is gone.", what);

    inspector_show_result (self->result, text, TRUE);
  }
  return NULL;
}

static char *
subflow_text (MptcpSubflowEntry *subflow)
{
  g_autofree char *local = inspector_endpoint_text (mptcp_subflow_entry_get_local_address (subflow));
  g_autofree char *remote = inspector_endpoint_text (mptcp_subflow_entry_get_remote_address (subflow));

  return g_strdup_printf ("%s → %s", local, remote);
}

static void
on_opened (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpSubflow) subflow = mptcp_connection_open_subflow_finish (MPTCP_CONNECTION (source),
                                                                           result, &error);

  op_done (data, subflow != NULL, error);
}

static void
on_open_clicked (GtkButton *button,
                 gpointer   data)
{
  InspectorSteerBar *self = data;
  const char *local_text = gtk_editable_get_text (self->local);
  const char *remote_text = gtk_editable_get_text (self->remote);
  g_autoptr(GInetSocketAddress) local = parse_endpoint (local_text);
  g_autoptr(GInetSocketAddress) remote = parse_endpoint (remote_text);
  g_autofree char *what = NULL;
  Op *op;

  if (local == NULL || remote == NULL)
    {
      g_autofree char *text = g_strdup_printf ("“%s” is not an address (192.0.2.1, 192.0.2.1:5001, "
                                               "[2001:db8::1]:5001).",
                                               local == NULL ? local_text : remote_text);

      inspector_show_result (self->result, text, TRUE);
      return;
    }
  if (g_inet_socket_address_get_port (remote) == 0)
    {
      inspector_show_result (self->result, "Give the peer's port too (e.g. 198.51.100.2:5001).", TRUE);
      return;
    }
  {
    g_autofree char *l = inspector_endpoint_text (local);
    g_autofree char *r = inspector_endpoint_text (remote);

    what = g_strdup_printf ("open a subflow %s → %s", l, r);
  }
  op = g_new0 (Op, 1);
  op->connection = handle (self, what);
  if (op->connection == NULL)
    {
      g_free (op);
      return;
    }
  op->self = g_object_ref (self);
  op->what = g_steal_pointer (&what);
  inspector_show_result (self->result, "Opening…", FALSE);
  mptcp_connection_open_subflow_async (op->connection, local, remote, self->cancellable, on_opened, op);
}

/* the end of a close or a backup change (both _finish() return a gboolean) */
static void
on_subflow_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  g_autoptr(GError) error = NULL;
  Op *op = data;
  gboolean ok = op->finish (MPTCP_SUBFLOW (source), result, &error);

  op_done (op, ok, error);
}

/* close (backup FALSE) or toggle the backup flag of (backup TRUE) the selected subflow */
static void
subflow_action (InspectorSteerBar *self,
                gboolean           backup)
{
  g_autofree char *sf = NULL;
  g_autofree char *what = NULL;
  g_autoptr(MptcpSubflow) subflow = NULL;
  gboolean value;
  Op *op;

  if (self->subflow == NULL)
    return;
  sf = subflow_text (self->subflow);
  value = !mptcp_subflow_entry_get_backup (self->subflow);
  what = backup ? g_strdup_printf ("%s the backup flag of subflow %s", value ? "set" : "clear", sf)
                : g_strdup_printf ("close subflow %s", sf);
  op = g_new0 (Op, 1);
  if ((op->connection = handle (self, what)) == NULL
      || (subflow = find_subflow (self, op->connection, what)) == NULL)
    {
      g_clear_object (&op->connection);
      g_free (op);
      return;
    }
  op->self = g_object_ref (self);
  op->what = g_steal_pointer (&what);
  if (backup)
    {
      op->finish = mptcp_subflow_set_backup_finish;
      mptcp_subflow_set_backup_async (subflow, value, self->cancellable, on_subflow_done, op);
    }
  else
    {
      op->finish = mptcp_subflow_close_finish;
      mptcp_subflow_close_async (subflow, self->cancellable, on_subflow_done, op);
    }
}

static void
on_close_clicked (GtkButton *button,
                  gpointer   data)
{
  subflow_action (data, FALSE);
}

static void
on_backup_clicked (GtkButton *button,
                   gpointer   data)
{
  subflow_action (data, TRUE);
}

/* ---- the selection ---------------------------------------------------------------------- */

void
inspector_steer_bar_set_selection (InspectorSteerBar    *self,
                                   MptcpConnectionEntry *connection,
                                   MptcpSubflowEntry    *subflow)
{
  g_return_if_fail (INSPECTOR_IS_STEER_BAR (self));

  /* called at every refresh: nothing to redraw when nothing changed */
  if (connection == self->connection && subflow == self->subflow
      && (self->net_admin || self->probed || connection == NULL))
    return;
  if (connection != self->connection)
    {
      g_set_object (&self->connection, connection);
      /* the peer's address of the connection, as a start, unless the user typed one */
      if (connection != NULL
          && (g_strcmp0 (gtk_editable_get_text (self->remote), self->prefilled) == 0
              || *gtk_editable_get_text (self->remote) == '\0'))
        {
          g_free (self->prefilled);
          self->prefilled = inspector_endpoint_text (mptcp_connection_entry_get_remote_address (connection));
          gtk_editable_set_text (self->remote, self->prefilled);
        }
    }
  g_set_object (&self->subflow, subflow);

  /* without CAP_NET_ADMIN: what the library says when asked for a handle, once */
  if (!self->net_admin && !self->probed && connection != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MptcpConnection) handle = mptcp_connection_entry_dup_connection (connection, &error);

      self->probed = TRUE;
      g_clear_pointer (&self->refusal, g_free);
      if (handle == NULL && g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED))
        self->refusal = g_strdup_printf ("Read-only: steering needs CAP_NET_ADMIN, which this "
                                         "process does not have.\n%s", error->message);
      else if (handle == NULL)
        self->refusal = g_strdup_printf ("Read-only: %s", error->message);
    }
  update_sensitivity (self);
}

/* ---- the widget ------------------------------------------------------------------------- */

static GtkEditable *
entry (GtkWidget  *box,
       const char *placeholder,
       const char *accessible)
{
  GtkWidget *widget = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (widget), placeholder);
  gtk_editable_set_width_chars (GTK_EDITABLE (widget), 22);
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  gtk_box_append (GTK_BOX (box), widget);
  return GTK_EDITABLE (widget);
}

static void
inspector_steer_bar_dispose (GObject *object)
{
  InspectorSteerBar *self = INSPECTOR_STEER_BAR (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->connection);
  g_clear_object (&self->subflow);
  G_OBJECT_CLASS (inspector_steer_bar_parent_class)->dispose (object);
}

static void
inspector_steer_bar_finalize (GObject *object)
{
  InspectorSteerBar *self = INSPECTOR_STEER_BAR (object);

  g_clear_object (&self->cancellable);
  g_free (self->prefilled);
  g_free (self->refusal);
  G_OBJECT_CLASS (inspector_steer_bar_parent_class)->finalize (object);
}

static void
inspector_steer_bar_class_init (InspectorSteerBarClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = inspector_steer_bar_dispose;
  G_OBJECT_CLASS (klass)->finalize = inspector_steer_bar_finalize;
}

static void
inspector_steer_bar_init (InspectorSteerBar *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->cancellable = g_cancellable_new ();
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 4);

  self->close = gtk_button_new_with_label ("Close subflow");
  g_signal_connect (self->close, "clicked", G_CALLBACK (on_close_clicked), self);
  gtk_box_append (GTK_BOX (row), self->close);
  self->backup = gtk_button_new_with_label ("Toggle backup");
  g_signal_connect (self->backup, "clicked", G_CALLBACK (on_backup_clicked), self);
  gtk_box_append (GTK_BOX (row), self->backup);
  gtk_box_append (GTK_BOX (row), gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (GTK_BOX (row), gtk_label_new ("From"));
  self->local = entry (row, "local address, e.g. 198.51.100.1", "Local address of the new subflow");
  gtk_box_append (GTK_BOX (row), gtk_label_new ("to"));
  self->remote = entry (row, "peer address:port", "Peer address and port of the new subflow");
  self->open = gtk_button_new_with_label ("Open subflow");
  g_signal_connect (self->open, "clicked", G_CALLBACK (on_open_clicked), self);
  gtk_box_append (GTK_BOX (row), self->open);
  gtk_box_append (GTK_BOX (self), row);

  self->reason = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->reason, 0);
  gtk_label_set_wrap (self->reason, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->reason), "dim-label");
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->reason));
  self->result = inspector_result_line ("Result of the last steering action");
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->result));
}

GtkWidget *
inspector_steer_bar_new (gboolean net_admin)
{
  InspectorSteerBar *self = g_object_new (INSPECTOR_TYPE_STEER_BAR, NULL);

  self->net_admin = net_admin;
  update_sensitivity (self);
  return GTK_WIDGET (self);
}

/* ---- for the tests ---------------------------------------------------------------------- */

void
inspector_steer_bar_report (InspectorSteerBar *self,
                            GString           *out)
{
  g_string_append_printf (out, ",\"steering\":%s,\"steering_reason\":",
                          gtk_widget_get_sensitive (self->open) ? "true" : "false");
  viewer_json_string (out, gtk_label_get_text (self->reason));
  g_string_append (out, ",\"steer_result\":");
  viewer_json_string (out, gtk_label_get_text (self->result));
}

gboolean
inspector_steer_bar_command (InspectorSteerBar *self,
                             const char        *line)
{
  g_auto(GStrv) words = g_strsplit (line, " ", -1);
  guint n = g_strv_length (words);

  if (n == 3 && strcmp (words[0], "steer-open") == 0)
    {
      gtk_editable_set_text (self->local, words[1]);
      gtk_editable_set_text (self->remote, words[2]);
      inspector_click (self->open);
      return TRUE;
    }
  if (n == 1 && strcmp (words[0], "steer-close") == 0)
    {
      inspector_click (self->close);
      return TRUE;
    }
  if (n == 1 && strcmp (words[0], "steer-backup") == 0)
    {
      inspector_click (self->backup);
      return TRUE;
    }
  return FALSE;
}
