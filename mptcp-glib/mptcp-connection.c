/* mptcp-connection.c: an MPTCP connection and its subflows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcp-connection.h"
#include "mptcp-connection-private.h"
#include "mptcp-subflow-private.h"
#include "mptcp-info-private.h"
#include "mptcp-error.h"

/**
 * SECTION:mptcp-connection
 * @Title: MptcpConnection
 * @Short_description: see an MPTCP connection and its subflows
 * @See_also: #MptcpSubflow, #MptcpClient, mptcp_listener_add_inet_port()
 *
 * #MptcpConnection wraps the #GSocket of one Multipath TCP connection and
 * shows what the kernel knows about it: its #MptcpConnection:token, whether it
 * has fallen back to plain TCP (#MptcpConnection:fallback), its addresses, its
 * MPTCP-level counters (mptcp_connection_get_info()) and its subflows
 * (mptcp_connection_get_subflows()). It works with a socket from any source:
 * #MptcpClient, a #GSocketService listening through
 * mptcp_listener_add_inet_port(), mptcp_socket_new() or a file descriptor
 * adopted with g_socket_new_from_fd(). Reading and writing stay with GIO: the
 * library adds nothing to the data path.
 *
 * The socket must be a connected MPTCP socket. A plain TCP socket fails with
 * %MPTCP_ERROR_NOT_MPTCP, and so does the accepted side of a plain TCP client
 * on an MPTCP listener (the kernel hands out a TCP socket there). An MPTCP
 * socket whose connection fell back to TCP (the peer does not speak MPTCP, or
 * a middlebox stripped the options) is accepted: #MptcpConnection:fallback is
 * %TRUE, the subflow list is empty, and mptcp_connection_get_info() and
 * mptcp_connection_refresh() fail with %MPTCP_ERROR_FALLBACK.
 *
 * ## Subflows
 *
 * mptcp_connection_get_subflows() returns a #GListModel of #MptcpSubflow.
 * It changes only when mptcp_connection_refresh() is called (later versions
 * also follow the kernel's events): a refresh asks the kernel for the current
 * subflows and updates the model in place. A subflow keeps the same
 * #MptcpSubflow object as long as it lives, new subflows are appended, gone
 * ones removed, and #GListModel::items-changed is emitted exactly for what
 * changed. Subflows in TCP state CLOSE are not listed (the kernel keeps a
 * closed initial subflow in its list). The statistics of every listed subflow
 * (mptcp_subflow_get_stats()) are those of the last refresh.
 *
 * Reads need no privilege and cost one system call: on Linux 6.5 and later a
 * refresh is a single `MPTCP_FULL_INFO` getsockopt() (about a microsecond for
 * eight subflows). Older kernels (5.16 to 6.4) have no subflow ids: the
 * library then reads `MPTCP_SUBFLOW_ADDRS` and `MPTCP_TCPINFO` and numbers
 * the subflows itself, in the order it first sees them, matching them across
 * refreshes by their 4-tuple (so a subflow closed and reopened with the same
 * 4-tuple between two refreshes looks like the same subflow there). Setting the environment variable
 * `MPTCP_GLIB_SUBFLOW_LIST` to `legacy` before a connection is constructed
 * forces that older way on any kernel (`full-info` forbids it); it exists for
 * testing.
 *
 * Because reads are synchronous and cheap, there is no asynchronous variant.
 * Refresh as often as your application needs (for example from a
 * g_timeout_add_seconds() callback); the statistics are not updated
 * otherwise.
 *
 * An #MptcpConnection, like a #GSocket, is meant to be used from one thread.
 * It remembers the thread-default #GMainContext of the thread that
 * constructed it: signals and asynchronous results of the connection are
 * delivered there.
 *
 * Since: 0.1
 */

/**
 * MptcpConnection:
 *
 * One Multipath TCP connection, seen through its socket: token, fallback
 * state, addresses, MPTCP-level counters (mptcp_connection_get_info()) and a
 * #GListModel of its #MptcpSubflow objects that mptcp_connection_refresh()
 * keeps up to date in place. Works with any connected MPTCP #GSocket;
 * needs no privilege.
 *
 * Set `MPTCP_GLIB_SUBFLOW_LIST=legacy` in the environment to list subflows
 * the way kernels before 6.5 need (see the section above).
 *
 * Since: 0.1
 */

/* ---- the subflow list model ---------------------------------------------- */

/* A GListModel over a GPtrArray: reading it is an array access. Only the
 * connection changes it, and emits items-changed itself. */
#define MPTCP_TYPE_SUBFLOW_LIST (mptcp_subflow_list_get_type ())
G_DECLARE_FINAL_TYPE (MptcpSubflowList, mptcp_subflow_list, MPTCP, SUBFLOW_LIST, GObject)

struct _MptcpSubflowList
{
  GObject parent_instance;
  GPtrArray *items;   /* MptcpSubflow, owned */
};

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

/* ---- MptcpConnection ------------------------------------------------------- */

struct _MptcpConnection
{
  GObject parent_instance;

  GSocket *socket;
  GSocketConnection *stream;     /* kept alive: disposing it closes the socket */
  GMainContext *context;

  guint32 token;
  gboolean fallback;
  gboolean closed;
  gboolean in_refresh;
  gboolean initialized;          /* GInitable: init ran, with this outcome */
  GError *init_error;

  GInetSocketAddress *local;
  GInetSocketAddress *remote;

  MptcpSubflowList *subflows;
  GPtrArray *added;              /* scratch for refresh, empty between calls */

  MptcpSockoptPath path;
  gboolean path_forced;
  guint next_id;                 /* legacy path: the library's subflow numbers */

  /* Two read buffers, used in turn: the listed subflows' statistics point
   * into kernel[cur] (the last successful read) while the next read fills
   * the other one, so a subflow that disappears can still copy its last
   * statistics. Both are reused across refreshes. */
  MptcpSockoptList kernel[2];
  guint cur;
};

enum
{
  PROP_0,
  PROP_SOCKET,
  PROP_TOKEN,
  PROP_FALLBACK,
  PROP_LOCAL_ADDRESS,
  PROP_REMOTE_ADDRESS,
  PROP_SUBFLOWS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void mptcp_connection_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpConnection, mptcp_connection, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mptcp_connection_initable_iface_init))

static void
mptcp_connection_dispose (GObject *object)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  /* The subflows point back through a weak reference; drop them first so
   * nobody sees a half-finalized connection through them, and let them keep
   * their statistics (which point into our buffers). */
  if (self->subflows != NULL)
    {
      guint i;

      for (i = 0; i < self->subflows->items->len; i++)
        _mptcp_subflow_detach_tcp_info (g_ptr_array_index (self->subflows->items, i));
      g_ptr_array_set_size (self->subflows->items, 0);
    }

  G_OBJECT_CLASS (mptcp_connection_parent_class)->dispose (object);
}

static void
mptcp_connection_finalize (GObject *object)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  g_clear_object (&self->subflows);
  g_ptr_array_unref (self->added);
  g_clear_error (&self->init_error);
  g_clear_object (&self->local);
  g_clear_object (&self->remote);
  g_clear_object (&self->stream);
  g_clear_object (&self->socket);
  g_main_context_unref (self->context);
  _mptcp_sockopt_list_clear (&self->kernel[0]);
  _mptcp_sockopt_list_clear (&self->kernel[1]);

  G_OBJECT_CLASS (mptcp_connection_parent_class)->finalize (object);
}

static void
mptcp_connection_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_SOCKET:
      g_value_set_object (value, self->socket);
      break;
    case PROP_TOKEN:
      g_value_set_uint (value, self->token);
      break;
    case PROP_FALLBACK:
      g_value_set_boolean (value, self->fallback);
      break;
    case PROP_LOCAL_ADDRESS:
      g_value_set_object (value, self->local);
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_set_object (value, self->remote);
      break;
    case PROP_SUBFLOWS:
      g_value_set_object (value, self->subflows);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_connection_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  MptcpConnection *self = MPTCP_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_SOCKET:
      g_assert (self->socket == NULL);
      self->socket = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_connection_class_init (MptcpConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mptcp_connection_dispose;
  object_class->finalize = mptcp_connection_finalize;
  object_class->get_property = mptcp_connection_get_property;
  object_class->set_property = mptcp_connection_set_property;

  /**
   * MptcpConnection:socket:
   *
   * The connected MPTCP socket of the connection. The connection keeps a
   * reference to it but never reads, writes or closes it.
   *
   * Since: 0.1
   */
  properties[PROP_SOCKET] =
    g_param_spec_object ("socket", "Socket", "The connected MPTCP socket",
                         G_TYPE_SOCKET,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:token:
   *
   * The kernel's token of the connection: a 32-bit number that names it in
   * the kernel's path-manager commands and events. Each side of a
   * connection has its own token. 0 when the connection fell back to TCP
   * before it was wrapped.
   *
   * Since: 0.1
   */
  properties[PROP_TOKEN] =
    g_param_spec_uint ("token", "Token", "The kernel's token of the connection",
                       0, G_MAXUINT32, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:fallback:
   *
   * %TRUE once the connection has fallen back to plain TCP: it then runs
   * over a single path and MPTCP operations fail with %MPTCP_ERROR_FALLBACK.
   * Checked at construction and by every mptcp_connection_refresh() and
   * mptcp_connection_get_info(); notified when it changes.
   *
   * Since: 0.1
   */
  properties[PROP_FALLBACK] =
    g_param_spec_boolean ("fallback", "Fallback",
                          "Whether the connection has fallen back to TCP",
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:local-address:
   *
   * The local address and port of the socket (the initial subflow's). IPv4
   * addresses are given as IPv4, also on a dual-stack IPv6 socket.
   *
   * Since: 0.1
   */
  properties[PROP_LOCAL_ADDRESS] =
    g_param_spec_object ("local-address", "Local address",
                         "The local address and port of the socket",
                         G_TYPE_INET_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:remote-address:
   *
   * The remote address and port of the socket (the initial subflow's). IPv4
   * addresses are given as IPv4, also on a dual-stack IPv6 socket.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", "Remote address",
                         "The remote address and port of the socket",
                         G_TYPE_INET_SOCKET_ADDRESS,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MptcpConnection:subflows:
   *
   * The subflows of the connection, a #GListModel of #MptcpSubflow that
   * mptcp_connection_refresh() updates in place. The model object stays the
   * same for the life of the connection.
   *
   * Since: 0.1
   */
  properties[PROP_SUBFLOWS] =
    g_param_spec_object ("subflows", "Subflows",
                         "The list model of the connection's subflows",
                         G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mptcp_connection_init (MptcpConnection *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->subflows = g_object_new (MPTCP_TYPE_SUBFLOW_LIST, NULL);
  self->added = g_ptr_array_new ();
  self->next_id = 1;
  _mptcp_sockopt_list_init (&self->kernel[0]);
  _mptcp_sockopt_list_init (&self->kernel[1]);
}

static void
set_errno_error (GError    **error,
                 int         err,
                 const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
               "%s: %s", what, g_strerror (err));
}

static void
set_fallback_error (GError **error)
{
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK,
                       "The connection has fallen back to plain TCP");
}

static void
set_closed_error (GError **error)
{
  g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED,
                       "The socket of the connection is closed");
}

/* Empties the subflow list, emitting items-changed. */
static void
clear_subflows (MptcpConnection *self)
{
  guint n = self->subflows->items->len;
  guint i;

  if (n == 0)
    return;
  for (i = 0; i < n; i++)
    _mptcp_subflow_detach_tcp_info (g_ptr_array_index (self->subflows->items, i));
  g_ptr_array_set_size (self->subflows->items, 0);
  g_list_model_items_changed (G_LIST_MODEL (self->subflows), 0, n, 0);
}

static void
mark_fallback (MptcpConnection *self)
{
  if (!self->fallback)
    {
      self->fallback = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FALLBACK]);
    }
  clear_subflows (self);
}

static void
mark_closed (MptcpConnection *self)
{
  self->closed = TRUE;
  clear_subflows (self);
}

/* Finds the listed subflow entry i of the kernel's list belongs to, starting
 * the search at hint (the expected position). */
static MptcpSubflow *
match_entry (MptcpConnection        *self,
             const MptcpSockoptList *kl,
             guint                   i,
             guint                   hint,
             const MptcpSockoptAddr *local,
             const MptcpSockoptAddr *remote)
{
  GPtrArray *items = self->subflows->items;
  guint32 id = _mptcp_sockopt_list_id (kl, i);
  guint n = items->len;
  guint k;

  for (k = 0; k < n; k++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, (hint + k) % n);

      /* by kernel id; a subflow added from an event has no id yet (0)
       * and is matched by its 4-tuple once, then takes the kernel's id */
      if (kl->sfinfo_stride != 0
          ? sf->id == id || (sf->id == 0 && _mptcp_subflow_matches (sf, local, remote))
          : _mptcp_subflow_matches (sf, local, remote))
        return sf;
    }
  return NULL;
}

/* Brings the list model in line with the kernel's list kl (a fresh read;
 * the subflows' statistics still point into the previous one). */
static void
apply_kernel_list (MptcpConnection        *self,
                   const MptcpSockoptList *kl)
{
  GPtrArray *items = self->subflows->items;
  gboolean by_id = kl->sfinfo_stride != 0;
  guint n_old = items->len;
  guint n_seen = 0;
  guint live = 0;
  guint i, j;

  /* Fast path: the same subflows in the same order (the common case of a
   * periodic refresh): only the statistics change. */
  for (i = 0, j = 0; i < kl->n_subflows; i++)
    {
      MptcpSubflow *sf;

      if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
        continue;
      if (j >= n_old)
        break;
      sf = g_ptr_array_index (items, j);
      if (by_id)
        {
          if (sf->id != _mptcp_sockopt_list_id (kl, i))
            break;
        }
      else
        {
          MptcpSockoptAddr local, remote;

          _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
          if (!_mptcp_subflow_matches (sf, &local, &remote))
            break;
        }
      _mptcp_subflow_set_tcp_info (sf, _mptcp_sockopt_list_tcp_info (kl, i), kl->tcp_info_len);
      j++;
    }
  if (i == kl->n_subflows && j == n_old)
    return;

  /* General path: match every live kernel entry to a listed subflow (by id,
   * or by 4-tuple on the legacy path), make objects for new ones, then drop
   * the listed subflows nobody matched (seen[] holds the matched ones). */
  {
    g_autofree MptcpSubflow **seen = g_new0 (MptcpSubflow *, n_old + 1);

    for (i = 0; i < kl->n_subflows; i++)
      {
        MptcpSockoptAddr local, remote;
        MptcpSubflow *sf;

        if (_mptcp_sockopt_list_state (kl, i) == MPTCP_TCP_STATE_CLOSE)
          continue;
        live++;

        _mptcp_sockopt_list_get_addrs (kl, i, &local, &remote);
        sf = match_entry (self, kl, i, live - 1, &local, &remote);
        if (sf == NULL)
          {
            guint id = by_id ? _mptcp_sockopt_list_id (kl, i) : self->next_id++;

            sf = _mptcp_subflow_new (self, id, &local, &remote);
            g_ptr_array_add (self->added, sf);
          }
        else
          {
            guint k;

            /* the same kernel subflow listed twice cannot happen, but be
             * safe: count each listed subflow once */
            for (k = 0; k < n_seen && seen[k] != sf; k++)
              ;
            if (k == n_seen)
              seen[n_seen++] = sf;
            if (by_id && sf->id == 0)
              _mptcp_subflow_set_id (sf, _mptcp_sockopt_list_id (kl, i));
          }
        _mptcp_subflow_set_tcp_info (sf, _mptcp_sockopt_list_tcp_info (kl, i), kl->tcp_info_len);
      }

    /* Remove the unmatched ones, one items-changed per contiguous run,
     * back to front so positions stay valid. */
    if (n_seen < n_old)
      {
        guint end = n_old;

        while (end > 0)
          {
            guint start;
            guint k;
            gboolean keep;

            MptcpSubflow *sf = g_ptr_array_index (items, end - 1);

            for (k = 0; k < n_seen && seen[k] != sf; k++)
              ;
            keep = k < n_seen;
            if (keep)
              {
                end--;
                continue;
              }

            start = end - 1;
            while (start > 0)
              {
                sf = g_ptr_array_index (items, start - 1);
                for (k = 0; k < n_seen && seen[k] != sf; k++)
                  ;
                if (k < n_seen)
                  break;
                start--;
              }
            for (k = start; k < end; k++)
              _mptcp_subflow_detach_tcp_info (g_ptr_array_index (items, k));
            g_ptr_array_remove_range (items, start, end - start);
            g_list_model_items_changed (G_LIST_MODEL (self->subflows), start, end - start, 0);
            end = start;
          }
      }
  }

  /* Append the new ones in the kernel's order. */
  if (self->added->len > 0)
    {
      guint pos = items->len;
      guint n_added = self->added->len;

      for (i = 0; i < n_added; i++)
        g_ptr_array_add (items, g_ptr_array_index (self->added, i));
      g_ptr_array_set_size (self->added, 0);   /* references moved to items */
      g_list_model_items_changed (G_LIST_MODEL (self->subflows), pos, 0, n_added);
    }
}

/* Reads the kernel's list (switching to the legacy path on kernels without
 * MPTCP_FULL_INFO) and applies it. */
static gboolean
refresh_internal (MptcpConnection  *self,
                  GError          **error)
{
  guint next = self->cur ^ 1;
  MptcpSockoptList *kl = &self->kernel[next];
  int fd;
  int r;

  if (self->fallback)
    {
      set_fallback_error (error);
      return FALSE;
    }
  if (self->closed || g_socket_is_closed (self->socket))
    {
      mark_closed (self);
      set_closed_error (error);
      return FALSE;
    }

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_list_read (kl, fd, self->path);
  if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
    {
      int is_mptcp = _mptcp_sockopt_is_mptcp (fd);

      if (is_mptcp == 0)
        {
          mark_fallback (self);
          set_fallback_error (error);
          return FALSE;
        }
      if (is_mptcp == 1 && self->path == MPTCP_SOCKOPT_PATH_FULL_INFO && !self->path_forced)
        {
          /* Linux before 6.5: no MPTCP_FULL_INFO */
          g_debug ("MPTCP_FULL_INFO not supported, listing subflows the legacy way");
          self->path = MPTCP_SOCKOPT_PATH_LEGACY;
          r = _mptcp_sockopt_list_read (kl, fd, self->path);
        }
    }
  if (r < 0)
    {
      if (r == -EBADF)
        {
          mark_closed (self);
          set_closed_error (error);
        }
      else
        set_errno_error (error, -r, "Could not list the subflows");
      return FALSE;
    }

  apply_kernel_list (self, kl);
  self->cur = next;
  return TRUE;
}

static gboolean
native_address (GSocketAddress    *address,
                MptcpSockoptAddr  *raw,
                GError           **error)
{
  struct sockaddr_storage ss;
  gssize len = g_socket_address_get_native_size (address);

  if (len <= 0 || !g_socket_address_to_native (address, &ss, sizeof ss, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "Unusable socket address");
      return FALSE;
    }
  _mptcp_sockopt_addr_from_sockaddr (raw, (struct sockaddr *) &ss, len);
  return TRUE;
}

static GInetSocketAddress *
normalised_address (GSocketAddress  *address,
                    GError         **error)
{
  MptcpSockoptAddr raw;
  struct sockaddr_storage ss;
  gsize len;

  if (!native_address (address, &raw, error))
    return NULL;
  len = _mptcp_sockopt_addr_to_sockaddr (&raw, &ss);
  return G_INET_SOCKET_ADDRESS (g_socket_address_new_from_native (&ss, len));
}

static gboolean init_once (MptcpConnection *self, GError **error);

/* GInitable wants init to be idempotent: run it once, then repeat its
 * outcome. */
static gboolean
mptcp_connection_initable_init (GInitable     *initable,
                                GCancellable  *cancellable,
                                GError       **error)
{
  MptcpConnection *self = MPTCP_CONNECTION (initable);

  if (!self->initialized)
    {
      self->initialized = TRUE;
      init_once (self, &self->init_error);
    }
  if (self->init_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->init_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
init_once (MptcpConnection  *self,
           GError          **error)
{
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(GError) local_error = NULL;
  MptcpSockoptProbe probe;
  const char *mode;
  int fd;
  int r;

  if (self->socket == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "An MptcpConnection needs a socket");
      return FALSE;
    }
  if (g_socket_is_closed (self->socket))
    {
      set_closed_error (error);
      return FALSE;
    }

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_probe (fd, &probe);
  if (r < 0)
    {
      set_errno_error (error, -r, "Could not inspect the socket");
      return FALSE;
    }
  switch (probe.kind)
    {
    case MPTCP_SOCKOPT_KIND_NOT_STREAM:
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                           "The socket is not an IPv4 or IPv6 stream socket, "
                           "so it cannot be MPTCP");
      return FALSE;
    case MPTCP_SOCKOPT_KIND_TCP:
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_MPTCP,
                           "The socket is a plain TCP socket, not an MPTCP one");
      return FALSE;
    case MPTCP_SOCKOPT_KIND_MPTCP_FALLBACK:
      self->fallback = TRUE;
      break;
    case MPTCP_SOCKOPT_KIND_MPTCP:
    default:
      break;
    }

  /* Addresses: the socket must be connected. */
  local = g_socket_get_local_address (self->socket, error);
  if (local == NULL)
    return FALSE;
  remote = g_socket_get_remote_address (self->socket, &local_error);
  if (remote == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                             "The MPTCP socket is not connected");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  self->local = normalised_address (local, error);
  if (self->local == NULL)
    return FALSE;
  self->remote = normalised_address (remote, error);
  if (self->remote == NULL)
    return FALSE;

  mode = g_getenv (MPTCP_CONNECTION_SUBFLOW_LIST_ENV);
  if (g_strcmp0 (mode, "legacy") == 0)
    {
      self->path = MPTCP_SOCKOPT_PATH_LEGACY;
      self->path_forced = TRUE;
    }
  else if (g_strcmp0 (mode, "full-info") == 0)
    {
      self->path = MPTCP_SOCKOPT_PATH_FULL_INFO;
      self->path_forced = TRUE;
    }
  else
    self->path = MPTCP_SOCKOPT_PATH_FULL_INFO;

  if (self->fallback)
    return TRUE;

  {
    mpx_mptcp_info info = { 0 };
    gsize len;

    r = _mptcp_sockopt_get_mptcp_info (fd, (guint8 *) &info, sizeof info, &len);
    if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
      {
        /* fell back right now */
        self->fallback = TRUE;
        return TRUE;
      }
    if (r < 0)
      {
        set_errno_error (error, -r, "Could not read the MPTCP connection info");
        return FALSE;
      }
    if (len >= G_STRUCT_OFFSET (mpx_mptcp_info, token) + sizeof info.token)
      self->token = info.token;
  }

  if (!refresh_internal (self, &local_error))
    {
      if (g_error_matches (local_error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

static void
mptcp_connection_initable_iface_init (GInitableIface *iface)
{
  iface->init = mptcp_connection_initable_init;
}

/**
 * mptcp_connection_new:
 * @socket: a connected MPTCP #GSocket
 * @error: return location for a #GError, or %NULL
 *
 * Wraps @socket, reads its token and lists its subflows. @socket may come
 * from anywhere (#MptcpClient, a #GSocketService listening through
 * mptcp_listener_add_inet_port(), mptcp_socket_new(), an adopted file
 * descriptor) but must be a connected MPTCP socket.
 *
 * Fails with %MPTCP_ERROR_NOT_MPTCP for a plain TCP socket or a socket that
 * is not an IPv4/IPv6 stream socket, %G_IO_ERROR_NOT_CONNECTED for an
 * unconnected one and %MPTCP_ERROR_CLOSED for a closed one. A connection that
 * fell back to TCP is not an error: #MptcpConnection:fallback is then %TRUE.
 *
 * Returns: (transfer full): a new #MptcpConnection, or %NULL on error
 *
 * Since: 0.1
 */
MptcpConnection *
mptcp_connection_new (GSocket  *socket,
                      GError  **error)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (MPTCP_TYPE_CONNECTION, NULL, error,
                         "socket", socket,
                         NULL);
}

/**
 * mptcp_connection_new_for_connection:
 * @connection: a #GSocketConnection over an MPTCP socket
 * @error: return location for a #GError, or %NULL
 *
 * Like mptcp_connection_new() for the socket of @connection, for example
 * the result of mptcp_client_connect() or a connection a #GSocketService
 * accepted. The #MptcpConnection keeps @connection alive (disposing a
 * #GSocketConnection closes its socket), but never reads, writes or closes
 * it.
 *
 * Returns: (transfer full): a new #MptcpConnection, or %NULL on error
 *
 * Since: 0.1
 */
MptcpConnection *
mptcp_connection_new_for_connection (GSocketConnection  *connection,
                                     GError            **error)
{
  MptcpConnection *self;

  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (connection), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = mptcp_connection_new (g_socket_connection_get_socket (connection), error);
  if (self != NULL)
    self->stream = g_object_ref (connection);
  return self;
}

/**
 * mptcp_connection_get_socket:
 * @self: a #MptcpConnection
 *
 * Gets the socket of the connection.
 *
 * Returns: (transfer none): the socket
 *
 * Since: 0.1
 */
GSocket *
mptcp_connection_get_socket (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return self->socket;
}

/**
 * mptcp_connection_get_token:
 * @self: a #MptcpConnection
 *
 * Gets the kernel's token of the connection; see #MptcpConnection:token.
 *
 * Returns: the token, or 0 if the connection had fallen back to TCP when it
 *   was wrapped
 *
 * Since: 0.1
 */
guint32
mptcp_connection_get_token (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), 0);

  return self->token;
}

/**
 * mptcp_connection_get_fallback:
 * @self: a #MptcpConnection
 *
 * Gets whether the connection has fallen back to plain TCP, as of the
 * construction or the last mptcp_connection_refresh() or
 * mptcp_connection_get_info(); see #MptcpConnection:fallback.
 *
 * Returns: %TRUE if the connection fell back to TCP
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_get_fallback (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);

  return self->fallback;
}

/**
 * mptcp_connection_get_local_address:
 * @self: a #MptcpConnection
 *
 * Gets the local address and port of the socket; see
 * #MptcpConnection:local-address.
 *
 * Returns: (transfer none): the local address
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_connection_get_local_address (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return self->local;
}

/**
 * mptcp_connection_get_remote_address:
 * @self: a #MptcpConnection
 *
 * Gets the remote address and port of the socket; see
 * #MptcpConnection:remote-address.
 *
 * Returns: (transfer none): the remote address
 *
 * Since: 0.1
 */
GInetSocketAddress *
mptcp_connection_get_remote_address (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return self->remote;
}

/**
 * mptcp_connection_get_subflows:
 * @self: a #MptcpConnection
 *
 * Gets the subflows of the connection as a #GListModel of #MptcpSubflow, as
 * of the last mptcp_connection_refresh() (or the construction). The model is
 * updated in place and emits #GListModel::items-changed for exactly what
 * changed; it is empty once the connection fell back to TCP or was closed.
 *
 * Returns: (transfer none): the list model of #MptcpSubflow
 *
 * Since: 0.1
 */
GListModel *
mptcp_connection_get_subflows (MptcpConnection *self)
{
  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);

  return G_LIST_MODEL (self->subflows);
}

/**
 * mptcp_connection_refresh:
 * @self: a #MptcpConnection
 * @error: return location for a #GError, or %NULL
 *
 * Asks the kernel for the current subflows of the connection and their TCP
 * statistics, and updates the list of mptcp_connection_get_subflows() in
 * place: subflows that appeared are appended, subflows that are gone are
 * removed, and every listed subflow gets the new statistics. It is one
 * getsockopt() on Linux 6.5 and later (two before), needs no privilege and
 * does not block.
 *
 * Fails with %MPTCP_ERROR_FALLBACK once the connection fell back to TCP
 * (#MptcpConnection:fallback becomes %TRUE and the list is emptied) and with
 * %MPTCP_ERROR_CLOSED once the socket is closed (the list is emptied too).
 *
 * Calling it from a #GListModel::items-changed handler of the same
 * connection does nothing and returns %TRUE.
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
mptcp_connection_refresh (MptcpConnection  *self,
                          GError          **error)
{
  gboolean ok;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->in_refresh)
    return TRUE;

  self->in_refresh = TRUE;
  ok = refresh_internal (self, error);
  self->in_refresh = FALSE;
  return ok;
}

/**
 * mptcp_connection_get_info:
 * @self: a #MptcpConnection
 * @error: return location for a #GError, or %NULL
 *
 * Reads the MPTCP-level counters of the connection from the kernel (one
 * getsockopt(), no privilege needed). The snapshot holds every field of
 * `struct mptcp_info` the running kernel returns; see #MptcpConnectionInfo.
 *
 * Fails with %MPTCP_ERROR_FALLBACK if the connection fell back to TCP (the
 * kernel then keeps no MPTCP counters; #MptcpConnection:fallback becomes
 * %TRUE) and with %MPTCP_ERROR_CLOSED if the socket is closed.
 *
 * Returns: (transfer full): a snapshot of the connection's counters, or
 *   %NULL on error
 *
 * Since: 0.1
 */
MptcpConnectionInfo *
mptcp_connection_get_info (MptcpConnection  *self,
                           GError          **error)
{
  guint8 info[MPX_MPTCP_INFO_SIZE];
  gsize len;
  int fd;
  int r;

  g_return_val_if_fail (MPTCP_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->fallback)
    {
      set_fallback_error (error);
      return NULL;
    }
  if (self->closed || g_socket_is_closed (self->socket))
    {
      set_closed_error (error);
      return NULL;
    }

  fd = g_socket_get_fd (self->socket);
  r = _mptcp_sockopt_get_mptcp_info (fd, info, sizeof info, &len);
  if (r == -EOPNOTSUPP || r == -ENOPROTOOPT)
    {
      if (_mptcp_sockopt_is_mptcp (fd) == 0)
        {
          if (!self->in_refresh)
            {
              self->in_refresh = TRUE;
              mark_fallback (self);
              self->in_refresh = FALSE;
            }
          set_fallback_error (error);
          return NULL;
        }
    }
  if (r < 0)
    {
      set_errno_error (error, -r, "Could not read the MPTCP connection info");
      return NULL;
    }

  return _mptcp_connection_info_new (info, len);
}

/* ---- private API ------------------------------------------------------------ */

GMainContext *
_mptcp_connection_get_context (MptcpConnection *self)
{
  return self->context;
}

MptcpSockoptPath
_mptcp_connection_get_list_path (MptcpConnection *self)
{
  return self->path;
}

MptcpSubflow *
_mptcp_connection_find_subflow (MptcpConnection        *self,
                                const MptcpSockoptAddr *local,
                                const MptcpSockoptAddr *remote)
{
  GPtrArray *items = self->subflows->items;
  guint i;

  for (i = 0; i < items->len; i++)
    {
      MptcpSubflow *sf = g_ptr_array_index (items, i);

      if (_mptcp_subflow_matches (sf, local, remote))
        return sf;
    }
  return NULL;
}

void
_mptcp_connection_add_subflow (MptcpConnection *self,
                               MptcpSubflow    *subflow)
{
  GPtrArray *items = self->subflows->items;

  if (subflow->id == 0 && self->path == MPTCP_SOCKOPT_PATH_LEGACY)
    _mptcp_subflow_set_id (subflow, self->next_id++);
  g_ptr_array_add (items, g_object_ref (subflow));
  g_list_model_items_changed (G_LIST_MODEL (self->subflows), items->len - 1, 0, 1);
}

gboolean
_mptcp_connection_remove_subflow (MptcpConnection *self,
                                  MptcpSubflow    *subflow)
{
  guint pos;

  if (!g_ptr_array_find (self->subflows->items, subflow, &pos))
    return FALSE;
  _mptcp_subflow_detach_tcp_info (subflow);
  g_ptr_array_remove_index (self->subflows->items, pos);
  g_list_model_items_changed (G_LIST_MODEL (self->subflows), pos, 1, 0);
  return TRUE;
}
