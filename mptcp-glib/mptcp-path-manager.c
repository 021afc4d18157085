/* mptcp-path-manager.c: endpoints, limits and mode of the in-kernel path manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "mptcp-path-manager.h"
#include "mptcp-endpoint-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"
#include "mptcp-kernel-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-task-private.h"
#include "mptcp-path-manager-private.h"
#include "mptcp-sockopt-private.h"

/**
 * SECTION:mptcp-path-manager
 * @Title: MptcpPathManager
 * @Short_description: endpoints, limits and mode of the in-kernel path manager
 * @See_also: #MptcpEndpoint
 *
 * #MptcpPathManager configures the kernel's in-kernel MPTCP path manager, as
 * `ip mptcp endpoint` and `ip mptcp limits` do, and selects which path
 * manager a network namespace uses:
 *
 * - endpoints: the local addresses the in-kernel path manager uses for new
 *   connections, listed, read, added, removed, re-flagged and flushed as
 *   #MptcpEndpoint values;
 * - limits: how many additional subflows a connection may have, and how many
 *   addresses announced by a peer (ADD_ADDR) it accepts;
 * - mode: whether new connections get the in-kernel or the userspace path
 *   manager (#MptcpPathManagerMode).
 *
 * # Scope: one network namespace
 *
 * Endpoints, limits and the mode belong to a network namespace, not to a
 * process: a change made here applies to every new MPTCP connection of the
 * namespace, whoever owns it, and stays after the process exits. An
 * #MptcpPathManager acts on the network namespace its creating thread was in
 * when mptcp_path_manager_new() ran: its netlink sockets and its handle on the
 * path-manager sysctl are bound to that namespace, and a later setns() of the
 * thread does not move them. Device names (#MptcpEndpoint:ifname) are resolved
 * in that namespace too. To work on another namespace, make another
 * #MptcpPathManager from a thread inside it (with its own thread-default
 * #GMainContext).
 *
 * # Privileges
 *
 * Reading (listing endpoints, reading the limits and the mode) needs no
 * privilege. Every change needs CAP_NET_ADMIN in the user namespace that owns
 * the network namespace; without it the change fails with
 * %MPTCP_ERROR_PERMISSION_DENIED. (The mode sysctl may also be written by the
 * root user of that user namespace, who owns it.) Unless
 * #MptcpPathManager:service-policy forbids it, a change refused that way is
 * made through mptcp-glib-service when it runs: its admin action then
 * decides (polkit, an administrator's password, remembered for a while).
 *
 * # Errors change nothing
 *
 * Arguments the kernel would refuse (flags it does not accept together, a
 * port without %MPTCP_ENDPOINT_FLAG_SIGNAL, an id outside 1…255) fail with
 * %G_IO_ERROR_INVALID_ARGUMENT or %MPTCP_ERROR_OUT_OF_RANGE before anything
 * is sent. The kernel's own refusals come back as %MPTCP_ERROR_ENDPOINT_EXISTS
 * (same address, or id in use), %MPTCP_ERROR_NO_SUCH_ENDPOINT,
 * %MPTCP_ERROR_OUT_OF_RANGE (more than 8 endpoints, a limit above 8) and
 * %MPTCP_ERROR_PERMISSION_DENIED. A failed call leaves the kernel's state as it
 * was.
 *
 * # No change notification
 *
 * The kernel announces no change of endpoints or limits (the only related
 * events are the listener events of endpoints that have a port), so this class
 * has no signal for them: read the state again when you need it.
 *
 * # Main context
 *
 * The object captures the thread-default #GMainContext of the thread that
 * made it. Call the asynchronous methods with that context as the
 * thread-default one; their callbacks run in it. The synchronous methods
 * follow the library's one rule (see "Main contexts and threads" in the
 * overview): they run on a private context, may be called from any thread and
 * act on the object's namespace. A removal or a flush waits for an RCU grace
 * period in the kernel.
 */

/**
 * MptcpPathManager:
 *
 * Configures the in-kernel MPTCP path manager of one network namespace:
 * endpoints, limits and which path manager new connections get. See the
 * section overview for its scope and privileges.
 *
 * Since: 0.1
 */

static void mptcp_path_manager_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpPathManager, mptcp_path_manager, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mptcp_path_manager_initable_iface_init))

#define SYSCTL_PATH_MANAGER "/proc/sys/net/mptcp/path_manager"
#define SYSCTL_PM_TYPE      "/proc/sys/net/mptcp/pm_type"

#define ENDPOINT_FLAGS_KNOWN (MPTCP_ENDPOINT_FLAG_SIGNAL | MPTCP_ENDPOINT_FLAG_SUBFLOW | \
                              MPTCP_ENDPOINT_FLAG_BACKUP | MPTCP_ENDPOINT_FLAG_FULLMESH | \
                              MPTCP_ENDPOINT_FLAG_IMPLICIT | MPTCP_ENDPOINT_FLAG_LAMINAR)
#define ENDPOINT_FLAGS_CHANGEABLE (MPTCP_ENDPOINT_FLAG_BACKUP | MPTCP_ENDPOINT_FLAG_FULLMESH)

G_STATIC_ASSERT (MPTCP_ENDPOINT_FLAG_SIGNAL == MPTCP_PM_ADDR_FLAG_SIGNAL);
G_STATIC_ASSERT (MPTCP_ENDPOINT_FLAG_SUBFLOW == MPTCP_PM_ADDR_FLAG_SUBFLOW);
G_STATIC_ASSERT (MPTCP_ENDPOINT_FLAG_BACKUP == MPTCP_PM_ADDR_FLAG_BACKUP);
G_STATIC_ASSERT (MPTCP_ENDPOINT_FLAG_FULLMESH == MPTCP_PM_ADDR_FLAG_FULLMESH);
G_STATIC_ASSERT (MPTCP_ENDPOINT_FLAG_IMPLICIT == MPTCP_PM_ADDR_FLAG_IMPLICIT);
G_STATIC_ASSERT (MPTCP_ENDPOINT_FLAG_LAMINAR == MPX_ADDR_FLAG_LAMINAR);
G_STATIC_ASSERT (ENDPOINT_FLAGS_KNOWN == MPX_ADDR_FLAGS_MASK);

/* ---- small helpers ------------------------------------------------------------------------ */

static gboolean
current_netns (dev_t *dev,
               ino_t *ino)
{
  struct stat st;

  if (stat ("/proc/thread-self/ns/net", &st) < 0)
    return FALSE;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return TRUE;
}

static gboolean
in_own_netns (MptcpPathManager *self)
{
  dev_t dev;
  ino_t ino;

  return self->has_netns && current_netns (&dev, &ino) &&
         dev == self->netns_dev && ino == self->netns_ino;
}

char *
_mptcp_pm_resolve_ifname (MptcpPathManager *self,
                int               ifindex)
{
  struct ifreq ifr;

  if (ifindex <= 0 || self->ifname_fd < 0)
    return NULL;

  memset (&ifr, 0, sizeof ifr);
  ifr.ifr_ifindex = ifindex;
  /* the socket's namespace answers, not the calling thread's */
  if (ioctl (self->ifname_fd, SIOCGIFNAME, &ifr) < 0)
    return NULL;

  return g_strndup (ifr.ifr_name, IFNAMSIZ);
}

static void
nl_address_from_inet (GInetAddress   *address,
                      MptcpNlAddress *out)
{
  gsize size = g_inet_address_get_native_size (address);

  memset (out, 0, sizeof *out);
  out->family = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  memcpy (&out->addr, g_inet_address_to_bytes (address), MIN (size, sizeof out->addr));
}

/* ---- argument checks (nothing is sent when they fail) --------------------------------------- */

static gboolean
check_id (guint    id,
          GError **error)
{
  if (id >= 1 && id <= 255)
    return TRUE;

  g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
               "Endpoint id %u is out of range: endpoint ids are 1 to 255", id);
  return FALSE;
}

static gboolean
check_add_arguments (guint16   port,
                     int       ifindex,
                     guint32   flags,
                     guint     id,
                     GError  **error)
{
  if ((flags & ~ENDPOINT_FLAGS_KNOWN) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Unknown endpoint flags 0x%x", flags & ~ENDPOINT_FLAGS_KNOWN);
      return FALSE;
    }
  if (flags & MPTCP_ENDPOINT_FLAG_IMPLICIT)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Implicit endpoints are made by the kernel only");
      return FALSE;
    }
  if ((flags & MPTCP_ENDPOINT_FLAG_SIGNAL) && (flags & MPTCP_ENDPOINT_FLAG_FULLMESH))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "An endpoint cannot be both signal and fullmesh");
      return FALSE;
    }
  if (port != 0 &&
      (!(flags & MPTCP_ENDPOINT_FLAG_SIGNAL) || (flags & MPTCP_ENDPOINT_FLAG_SUBFLOW)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "An endpoint with a port (%u) must be signal and not subflow", port);
      return FALSE;
    }
  if (ifindex < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Invalid interface index %d", ifindex);
      return FALSE;
    }
  if (id != 0 && !check_id (id, error))
    return FALSE;

  return TRUE;
}

static gboolean
check_changeable_flags (guint32   flags,
                        GError  **error)
{
  if ((flags & ~ENDPOINT_FLAGS_CHANGEABLE) == 0)
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Only the backup and fullmesh flags of an endpoint can be changed, not 0x%x",
               flags & ~ENDPOINT_FLAGS_CHANGEABLE);
  return FALSE;
}

/* ---- GObject, GInitable ------------------------------------------------------------------- */

static void
open_mode_sysctl (MptcpPathManager *self)
{
  static const char * const paths[] = { SYSCTL_PATH_MANAGER, SYSCTL_PM_TYPE };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      int fd = open (paths[i], O_RDWR | O_CLOEXEC);

      if (fd >= 0)
        self->mode_fd_writable = TRUE;
      else if (errno != ENOENT)
        fd = open (paths[i], O_RDONLY | O_CLOEXEC);

      if (fd >= 0)
        {
          self->mode_fd = fd;
          self->mode_is_pm_type = (i == 1);
          return;
        }
      /* the sysctl is there but could not be opened (EACCES ...): that is the reason to
       * report, not a missing kernel feature */
      if (errno != ENOENT && self->mode_errno == ENOENT)
        self->mode_errno = errno;
    }
}

static gboolean
mptcp_path_manager_initable_init (GInitable     *initable,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  MptcpPathManager *self = MPTCP_PATH_MANAGER (initable);

  if (self->initialized)
    goto out;
  self->initialized = TRUE;

  /* everything that is bound to a namespace is opened now, in the caller's */
  self->has_netns = current_netns (&self->netns_dev, &self->netns_ino);
  self->context = g_main_context_ref_thread_default ();
  self->netlink = _mptcp_netlink_get_for_context (self->context, &self->init_error);
  if (self->netlink == NULL)
    goto out;
  self->sync_home = _mptcp_sync_home_new (&self->init_error);
  if (self->sync_home == NULL)
    goto out;

  self->ifname_fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  open_mode_sysctl (self);

out:
  if (self->init_error != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (self->init_error);
      return FALSE;
    }

  return TRUE;
}

static void
mptcp_path_manager_initable_iface_init (GInitableIface *iface)
{
  iface->init = mptcp_path_manager_initable_init;
}

static void
mptcp_path_manager_finalize (GObject *object)
{
  MptcpPathManager *self = MPTCP_PATH_MANAGER (object);

  g_clear_pointer (&self->netlink, _mptcp_netlink_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->sync_home, _mptcp_sync_home_free);
  g_clear_error (&self->init_error);
  g_mutex_clear (&self->mode_lock);
  if (self->ifname_fd >= 0)
    close (self->ifname_fd);
  if (self->mode_fd >= 0)
    close (self->mode_fd);

  G_OBJECT_CLASS (mptcp_path_manager_parent_class)->finalize (object);
}

enum
{
  PROP_0,
  PROP_SERVICE_POLICY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mptcp_path_manager_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  MptcpPathManager *self = MPTCP_PATH_MANAGER (object);

  switch (prop_id)
    {
    case PROP_SERVICE_POLICY:
      g_value_set_enum (value, self->service_policy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_path_manager_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  MptcpPathManager *self = MPTCP_PATH_MANAGER (object);

  switch (prop_id)
    {
    case PROP_SERVICE_POLICY:
      mptcp_path_manager_set_service_policy (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
}

static void
mptcp_path_manager_class_init (MptcpPathManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mptcp_path_manager_finalize;
  object_class->get_property = mptcp_path_manager_get_property;
  object_class->set_property = mptcp_path_manager_set_property;

  /**
   * MptcpPathManager:service-policy:
   *
   * Whether changes go through mptcp-glib-service, the D-Bus system service
   * whose admin action (polkit: an administrator, remembered for a while)
   * lets a process without CAP_NET_ADMIN change the path manager.
   * %MPTCP_SERVICE_POLICY_AUTO (the default): a change the kernel refuses
   * with %MPTCP_ERROR_PERMISSION_DENIED is made again through the service,
   * if it is there and runs in the object's network namespace (the refusal
   * stands otherwise); %MPTCP_SERVICE_POLICY_NEVER: never;
   * %MPTCP_SERVICE_POLICY_ALWAYS: every change goes to the service (without
   * one, it fails with %MPTCP_ERROR_NOT_SUPPORTED naming its bus name). The
   * environment variable `MPTCP_GLIB_USE_SERVICE` (`never`, `always`), read
   * once per process, overrides %MPTCP_SERVICE_POLICY_AUTO only.
   *
   * Through the service a change has the same results and the same errors
   * as made directly (an added endpoint is read back from the kernel); a
   * refusal by polkit is %MPTCP_ERROR_PERMISSION_DENIED naming the action
   * (io.github.MptcpGlib.Service.admin). Reading needs no privilege and never
   * goes through the service.
   *
   * Since: 0.2
   */
  properties[PROP_SERVICE_POLICY] =
    g_param_spec_enum ("service-policy", "Service policy",
                       "Whether changes go through mptcp-glib-service",
                       MPTCP_TYPE_SERVICE_POLICY, MPTCP_SERVICE_POLICY_AUTO,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS |
                       G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mptcp_path_manager_init (MptcpPathManager *self)
{
  g_mutex_init (&self->mode_lock);
  self->ifname_fd = -1;
  self->mode_fd = -1;
  self->mode_errno = ENOENT;
}

/**
 * mptcp_path_manager_new:
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Makes a path manager for the network namespace the calling thread is in,
 * whose asynchronous results run in the calling thread's thread-default
 * #GMainContext. It opens its netlink sockets and resolves the kernel's
 * `mptcp_pm` generic netlink family (one blocking round trip to the kernel);
 * no privilege is needed.
 *
 * Fails with %MPTCP_ERROR_NOT_SUPPORTED when the kernel has no MPTCP path
 * manager interface.
 *
 * Returns: (transfer full): a new #MptcpPathManager, or %NULL on error
 *
 * Since: 0.1
 */
MptcpPathManager *
mptcp_path_manager_new (GCancellable  *cancellable,
                        GError       **error)
{
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (MPTCP_TYPE_PATH_MANAGER, cancellable, error, NULL);
}

/* ---- endpoints: list ---------------------------------------------------------------------- */

/**
 * mptcp_path_manager_list_endpoints:
 * @self: an #MptcpPathManager
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Lists the endpoints of the in-kernel path manager, as
 * `ip mptcp endpoint show` does, including the implicit ones the kernel made
 * itself (%MPTCP_ENDPOINT_FLAG_IMPLICIT). Needs no privilege.
 *
 * The list is a snapshot: it does not follow later changes of the kernel's
 * table. Before 0.2 this returned a #GPtrArray.
 *
 * Returns: (transfer full): a #GListModel of #MptcpEndpoint, in the kernel's
 *   order, or %NULL on error
 *
 * Since: 0.1
 */
GListModel *
mptcp_path_manager_list_endpoints (MptcpPathManager  *self,
                                   GCancellable      *cancellable,
                                   GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return _mptcp_pm_run_sync_pointer (self, _mptcp_pm_op_new (PM_OP_LIST), cancellable,
                           MPTCP_TASK_TAG (mptcp_path_manager_list_endpoints), error);
}

/**
 * mptcp_path_manager_list_endpoints_async:
 * @self: an #MptcpPathManager
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the list is read
 * @user_data: data for @callback
 *
 * Starts listing the endpoints; see mptcp_path_manager_list_endpoints().
 * Finish with mptcp_path_manager_list_endpoints_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_list_endpoints_async (MptcpPathManager    *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  _mptcp_pm_start_async (self, _mptcp_pm_op_new (PM_OP_LIST), cancellable, callback, user_data,
               MPTCP_TASK_TAG (mptcp_path_manager_list_endpoints_async));
}

/**
 * mptcp_path_manager_list_endpoints_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_list_endpoints_async().
 *
 * Returns: (transfer full): a #GListModel of #MptcpEndpoint, in the kernel's
 *   order, or %NULL on error
 *
 * Since: 0.1
 */
GListModel *
mptcp_path_manager_list_endpoints_finish (MptcpPathManager  *self,
                                          GAsyncResult      *result,
                                          GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_list_endpoints_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- endpoints: get ----------------------------------------------------------------------- */

static PmOp *
pm_op_new_get (guint    id,
            GError **error)
{
  PmOp *op;

  if (!check_id (id, error))
    return NULL;

  op = _mptcp_pm_op_new (PM_OP_GET);
  op->id = id;
  return op;
}

/**
 * mptcp_path_manager_get_endpoint:
 * @self: an #MptcpPathManager
 * @id: the id of the endpoint, 1 to 255
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Reads one endpoint. Fails with %MPTCP_ERROR_NO_SUCH_ENDPOINT when no
 * endpoint has @id, and %MPTCP_ERROR_OUT_OF_RANGE when @id is not a valid
 * endpoint id. Needs no privilege.
 *
 * Returns: (transfer full): the endpoint, or %NULL on error
 *
 * Since: 0.1
 */
MptcpEndpoint *
mptcp_path_manager_get_endpoint (MptcpPathManager  *self,
                                 guint              id,
                                 GCancellable      *cancellable,
                                 GError           **error)
{
  PmOp *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  op = pm_op_new_get (id, error);
  if (op == NULL)
    return NULL;

  return _mptcp_pm_run_sync_pointer (self, op, cancellable, MPTCP_TASK_TAG (mptcp_path_manager_get_endpoint), error);
}

/**
 * mptcp_path_manager_get_endpoint_async:
 * @self: an #MptcpPathManager
 * @id: the id of the endpoint, 1 to 255
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the endpoint is read
 * @user_data: data for @callback
 *
 * Starts reading one endpoint; see mptcp_path_manager_get_endpoint().
 * Finish with mptcp_path_manager_get_endpoint_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_get_endpoint_async (MptcpPathManager    *self,
                                       guint                id,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GError *error = NULL;
  PmOp *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  op = pm_op_new_get (id, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_get_endpoint_async, error);
  else
    _mptcp_pm_start_async (self, op, cancellable, callback, user_data,
                 MPTCP_TASK_TAG (mptcp_path_manager_get_endpoint_async));
}

/**
 * mptcp_path_manager_get_endpoint_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_get_endpoint_async().
 *
 * Returns: (transfer full): the endpoint, or %NULL on error
 *
 * Since: 0.1
 */
MptcpEndpoint *
mptcp_path_manager_get_endpoint_finish (MptcpPathManager  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_get_endpoint_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- endpoints: add ----------------------------------------------------------------------- */

/* What nothing could use: the kernel stores such an endpoint, and no subflow ever comes of it
 * (mptcp_connection_open_subflow() and _announce_address() refuse the same addresses). Judged
 * from the address's bytes, a v4-mapped IPv6 address as the IPv4 one it carries; the text is
 * formatted only for an error. */
static gboolean
check_endpoint_address (MptcpPathManager  *self,
                        GInetAddress      *address,
                        int                ifindex,
                        GError           **error)
{
  MptcpSockoptAddr raw;
  MptcpSockoptAddrKind kind = MPTCP_SOCKOPT_ADDR_UNICAST;

  if (_mptcp_sockopt_addr_from_inet (&raw, address, 0))
    kind = _mptcp_sockopt_addr_kind (&raw);
  if (kind != MPTCP_SOCKOPT_ADDR_UNICAST)
    {
      g_autofree char *text = g_inet_address_to_string (address);

      if (kind == MPTCP_SOCKOPT_ADDR_UNSPECIFIED)
        g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                     "%s names no host: an endpoint needs an address of this host", text);
      else
        g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                     "%s is not a unicast address: an endpoint needs an address of this host",
                     text);
      return FALSE;
    }
  if (ifindex > 0 && self->ifname_fd >= 0)
    {
      g_autofree char *ifname = _mptcp_pm_resolve_ifname (self, ifindex);

      if (ifname == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "No network interface has index %d in the path manager's network "
                       "namespace", ifindex);
          return FALSE;
        }
    }
  return TRUE;
}

/* Everything nothing can be sent for; the endpoint's fields become the request */
static PmOp *
pm_op_new_add (MptcpPathManager  *self,
               MptcpEndpoint     *endpoint,
               GError           **error)
{
  GInetAddress *address = mptcp_endpoint_get_address (endpoint);
  int ifindex = mptcp_endpoint_get_ifindex (endpoint);
  guint16 port = mptcp_endpoint_get_port (endpoint);
  guint32 flags = mptcp_endpoint_get_flags (endpoint);
  guint id = mptcp_endpoint_get_id (endpoint);
  PmOp *op;

  if (address == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The endpoint to add has no address (set MptcpEndpoint:address)");
      return NULL;
    }
  if (!check_endpoint_address (self, address, ifindex, error) ||
      !check_add_arguments (port, ifindex, flags, id, error))
    return NULL;

  op = _mptcp_pm_op_new (PM_OP_ADD);
  nl_address_from_inet (address, &op->address);
  op->address.port = port;
  op->address.ifindex = ifindex;
  op->flags = flags;
  op->id = id;
  return op;
}

/**
 * mptcp_path_manager_add_endpoint:
 * @self: an #MptcpPathManager
 * @endpoint: the endpoint to add, built with its properties (see
 *   #MptcpEndpoint): #MptcpEndpoint:address (needed), and as wanted
 *   #MptcpEndpoint:port (for a %MPTCP_ENDPOINT_FLAG_SIGNAL endpoint; the
 *   kernel then listens on it for joins, and the address must be an address
 *   of this host), #MptcpEndpoint:ifindex (the device subflows from it are
 *   bound to), #MptcpEndpoint:flags and #MptcpEndpoint:id (1 to 255, or 0 to
 *   let the kernel pick the next free one)
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Adds an endpoint to the in-kernel path manager, as
 * `ip mptcp endpoint add` does, and returns it as the kernel stored it (with
 * its id). It applies to connections made afterwards. @endpoint itself is not
 * changed; any #MptcpEndpoint, also one a path manager returned, can be
 * passed (its #MptcpEndpoint:ifname is not used).
 *
 * |[<!-- language="Python" -->
 * wanted = Mptcp.Endpoint(address=Gio.InetAddress.new_from_string('192.0.2.2'),
 *                         flags=Mptcp.EndpointFlags.SUBFLOW)
 * added = pm.add_endpoint(wanted, None)
 * print(added.props.id)
 * ]|
 *
 * Before anything is sent, it fails with %G_IO_ERROR_INVALID_ARGUMENT for an
 * endpoint without an address, for flags the kernel refuses:
 * %MPTCP_ENDPOINT_FLAG_SIGNAL together with %MPTCP_ENDPOINT_FLAG_FULLMESH,
 * %MPTCP_ENDPOINT_FLAG_IMPLICIT, bits #MptcpEndpointFlags does not name, or a
 * port without %MPTCP_ENDPOINT_FLAG_SIGNAL or with
 * %MPTCP_ENDPOINT_FLAG_SUBFLOW, and for an interface index no device of the
 * path manager's namespace has; with %MPTCP_ERROR_INVALID_ADDRESS for an
 * unspecified, multicast or broadcast address.
 *
 * The kernel then refuses with %MPTCP_ERROR_ENDPOINT_EXISTS when an endpoint
 * has the same address (and port) or id already, %MPTCP_ERROR_OUT_OF_RANGE
 * when the table is full (8 endpoints), %MPTCP_ERROR_INVALID_ADDRESS when it
 * cannot listen on the address and port, and %MPTCP_ERROR_PERMISSION_DENIED
 * without CAP_NET_ADMIN. When the kernel dropped a flag it does not support
 * (%MPTCP_ENDPOINT_FLAG_LAMINAR before Linux 6.18), the endpoint is removed
 * again and the call fails with %MPTCP_ERROR_NOT_SUPPORTED.
 *
 * An address the kernel holds as an implicit endpoint is turned into a normal
 * one, keeping its id.
 *
 * Before 0.2 this took the address, port, ifindex, flags and id as five
 * arguments.
 *
 * Returns: (transfer full): the new endpoint, as the kernel stored it, or
 *   %NULL on error
 *
 * Since: 0.1
 */
MptcpEndpoint *
mptcp_path_manager_add_endpoint (MptcpPathManager    *self,
                                 MptcpEndpoint       *endpoint,
                                 GCancellable        *cancellable,
                                 GError             **error)
{
  PmOp *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (MPTCP_IS_ENDPOINT (endpoint), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  op = pm_op_new_add (self, endpoint, error);
  if (op == NULL)
    return NULL;

  return _mptcp_pm_run_sync_pointer (self, op, cancellable, MPTCP_TASK_TAG (mptcp_path_manager_add_endpoint), error);
}

/**
 * mptcp_path_manager_add_endpoint_async:
 * @self: an #MptcpPathManager
 * @endpoint: the endpoint to add, built with its properties; see
 *   mptcp_path_manager_add_endpoint()
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the endpoint is added
 * @user_data: data for @callback
 *
 * Starts adding an endpoint; see mptcp_path_manager_add_endpoint(). Finish
 * with mptcp_path_manager_add_endpoint_finish().
 *
 * Cancelling stops the operation if the kernel has not acknowledged the
 * addition yet; as always with cancellation, the kernel may have made the
 * change already when the request was in flight.
 *
 * Since: 0.1
 */
void
mptcp_path_manager_add_endpoint_async (MptcpPathManager    *self,
                                       MptcpEndpoint       *endpoint,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GError *error = NULL;
  PmOp *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (MPTCP_IS_ENDPOINT (endpoint));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  op = pm_op_new_add (self, endpoint, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_add_endpoint_async, error);
  else
    _mptcp_pm_start_async (self, op, cancellable, callback, user_data,
                           MPTCP_TASK_TAG (mptcp_path_manager_add_endpoint_async));
}

/**
 * mptcp_path_manager_add_endpoint_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_add_endpoint_async().
 *
 * Returns: (transfer full): the new endpoint, as the kernel stored it, or
 *   %NULL on error
 *
 * Since: 0.1
 */
MptcpEndpoint *
mptcp_path_manager_add_endpoint_finish (MptcpPathManager  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_add_endpoint_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- endpoints: remove -------------------------------------------------------------------- */

static PmOp *
pm_op_new_remove (guint    id,
               GError **error)
{
  PmOp *op;

  if (!check_id (id, error))
    return NULL;

  op = _mptcp_pm_op_new (PM_OP_REMOVE);
  op->id = id;
  return op;
}

/**
 * mptcp_path_manager_remove_endpoint:
 * @self: an #MptcpPathManager
 * @id: the id of the endpoint, 1 to 255
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Removes an endpoint, as `ip mptcp endpoint delete id` does. The kernel also
 * withdraws the address from live connections that use it (RM_ADDR) and closes
 * their subflows from it. The kernel waits for an RCU grace period before it
 * answers.
 *
 * Fails with %MPTCP_ERROR_NO_SUCH_ENDPOINT when no endpoint has @id,
 * %MPTCP_ERROR_OUT_OF_RANGE when @id is not a valid endpoint id (0 is the
 * address of the first subflow of each connection, not an endpoint), and
 * %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_remove_endpoint (MptcpPathManager  *self,
                                    guint              id,
                                    GCancellable      *cancellable,
                                    GError           **error)
{
  PmOp *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  op = pm_op_new_remove (id, error);
  if (op == NULL)
    return FALSE;

  return _mptcp_pm_run_sync_boolean (self, op, cancellable, MPTCP_TASK_TAG (mptcp_path_manager_remove_endpoint), error);
}

/**
 * mptcp_path_manager_remove_endpoint_async:
 * @self: an #MptcpPathManager
 * @id: the id of the endpoint, 1 to 255
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the endpoint is removed
 * @user_data: data for @callback
 *
 * Starts removing an endpoint; see mptcp_path_manager_remove_endpoint().
 * Finish with mptcp_path_manager_remove_endpoint_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_remove_endpoint_async (MptcpPathManager    *self,
                                          guint                id,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  GError *error = NULL;
  PmOp *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  op = pm_op_new_remove (id, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_remove_endpoint_async,
                         error);
  else
    _mptcp_pm_start_async (self, op, cancellable, callback, user_data,
                 MPTCP_TASK_TAG (mptcp_path_manager_remove_endpoint_async));
}

/**
 * mptcp_path_manager_remove_endpoint_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_remove_endpoint_async().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_remove_endpoint_finish (MptcpPathManager  *self,
                                           GAsyncResult      *result,
                                           GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_remove_endpoint_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static PmOp *
pm_op_new_remove_by_address (GInetAddress *address)
{
  PmOp *op = _mptcp_pm_op_new (PM_OP_REMOVE_BY_ADDRESS);

  nl_address_from_inet (address, &op->address);
  return op;
}

/**
 * mptcp_path_manager_remove_endpoint_by_address:
 * @self: an #MptcpPathManager
 * @address: the address of the endpoints to remove
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Removes every endpoint with @address, whatever its port (an IPv4 address
 * and its v4-mapped IPv6 form count as the same). The kernel deletes endpoints
 * by id only, so this looks the ids up first.
 *
 * Fails with %MPTCP_ERROR_NO_SUCH_ENDPOINT when no endpoint has @address, and
 * %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_remove_endpoint_by_address (MptcpPathManager  *self,
                                               GInetAddress      *address,
                                               GCancellable      *cancellable,
                                               GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _mptcp_pm_run_sync_boolean (self, pm_op_new_remove_by_address (address), cancellable,
                           MPTCP_TASK_TAG (mptcp_path_manager_remove_endpoint_by_address), error);
}

/**
 * mptcp_path_manager_remove_endpoint_by_address_async:
 * @self: an #MptcpPathManager
 * @address: the address of the endpoints to remove
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the endpoints are removed
 * @user_data: data for @callback
 *
 * Starts removing the endpoints with @address; see
 * mptcp_path_manager_remove_endpoint_by_address(). Finish with
 * mptcp_path_manager_remove_endpoint_by_address_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_remove_endpoint_by_address_async (MptcpPathManager    *self,
                                                     GInetAddress        *address,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (G_IS_INET_ADDRESS (address));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  _mptcp_pm_start_async (self, pm_op_new_remove_by_address (address), cancellable, callback, user_data,
               MPTCP_TASK_TAG (mptcp_path_manager_remove_endpoint_by_address_async));
}

/**
 * mptcp_path_manager_remove_endpoint_by_address_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_remove_endpoint_by_address_async().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_remove_endpoint_by_address_finish (MptcpPathManager  *self,
                                                      GAsyncResult      *result,
                                                      GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result,
                                      mptcp_path_manager_remove_endpoint_by_address_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- endpoints: flags --------------------------------------------------------------------- */

static PmOp *
pm_op_new_set_flags (guint                id,
                  MptcpEndpointFlags   flags,
                  GError             **error)
{
  PmOp *op;

  if (!check_changeable_flags (flags, error) || !check_id (id, error))
    return NULL;

  op = _mptcp_pm_op_new (PM_OP_SET_FLAGS);
  op->id = id;
  op->flags = flags;
  return op;
}

/**
 * mptcp_path_manager_set_endpoint_flags:
 * @self: an #MptcpPathManager
 * @id: the id of the endpoint, 1 to 255
 * @flags: the new %MPTCP_ENDPOINT_FLAG_BACKUP and
 *   %MPTCP_ENDPOINT_FLAG_FULLMESH bits
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Sets the backup and fullmesh flags of an endpoint to exactly @flags (a flag
 * missing from @flags is cleared), as `ip mptcp endpoint change` does; its
 * other flags stay. A backup change also applies to the live connections that
 * use the endpoint (the kernel sends MP_PRIO).
 *
 * Fails with %G_IO_ERROR_INVALID_ARGUMENT, before anything is changed, when
 * @flags holds another flag or when it asks fullmesh for a signal endpoint;
 * with %MPTCP_ERROR_NO_SUCH_ENDPOINT when no endpoint has @id, and with
 * %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_endpoint_flags (MptcpPathManager    *self,
                                       guint                id,
                                       MptcpEndpointFlags   flags,
                                       GCancellable        *cancellable,
                                       GError             **error)
{
  PmOp *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  op = pm_op_new_set_flags (id, flags, error);
  if (op == NULL)
    return FALSE;

  return _mptcp_pm_run_sync_boolean (self, op, cancellable, MPTCP_TASK_TAG (mptcp_path_manager_set_endpoint_flags), error);
}

/**
 * mptcp_path_manager_set_endpoint_flags_async:
 * @self: an #MptcpPathManager
 * @id: the id of the endpoint, 1 to 255
 * @flags: the new %MPTCP_ENDPOINT_FLAG_BACKUP and
 *   %MPTCP_ENDPOINT_FLAG_FULLMESH bits
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the flags are set
 * @user_data: data for @callback
 *
 * Starts changing the flags of an endpoint; see
 * mptcp_path_manager_set_endpoint_flags(). Finish with
 * mptcp_path_manager_set_endpoint_flags_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_set_endpoint_flags_async (MptcpPathManager    *self,
                                             guint                id,
                                             MptcpEndpointFlags   flags,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  GError *error = NULL;
  PmOp *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  op = pm_op_new_set_flags (id, flags, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_set_endpoint_flags_async,
                         error);
  else
    _mptcp_pm_start_async (self, op, cancellable, callback, user_data,
                 MPTCP_TASK_TAG (mptcp_path_manager_set_endpoint_flags_async));
}

/**
 * mptcp_path_manager_set_endpoint_flags_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_set_endpoint_flags_async().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_endpoint_flags_finish (MptcpPathManager  *self,
                                              GAsyncResult      *result,
                                              GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_set_endpoint_flags_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- endpoints: flush --------------------------------------------------------------------- */

/**
 * mptcp_path_manager_flush_endpoints:
 * @self: an #MptcpPathManager
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Removes every endpoint, implicit ones included, as
 * `ip mptcp endpoint flush` does; the kernel waits for an RCU grace period
 * before it answers. Fails with
 * %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_flush_endpoints (MptcpPathManager  *self,
                                    GCancellable      *cancellable,
                                    GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _mptcp_pm_run_sync_boolean (self, _mptcp_pm_op_new (PM_OP_FLUSH), cancellable,
                           MPTCP_TASK_TAG (mptcp_path_manager_flush_endpoints), error);
}

/**
 * mptcp_path_manager_flush_endpoints_async:
 * @self: an #MptcpPathManager
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the endpoints are removed
 * @user_data: data for @callback
 *
 * Starts removing every endpoint; see mptcp_path_manager_flush_endpoints().
 * Finish with mptcp_path_manager_flush_endpoints_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_flush_endpoints_async (MptcpPathManager    *self,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (_mptcp_pm_in_own_context (self));

  _mptcp_pm_start_async (self, _mptcp_pm_op_new (PM_OP_FLUSH), cancellable, callback, user_data,
               MPTCP_TASK_TAG (mptcp_path_manager_flush_endpoints_async));
}

/**
 * mptcp_path_manager_flush_endpoints_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_flush_endpoints_async().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_flush_endpoints_finish (MptcpPathManager  *self,
                                           GAsyncResult      *result,
                                           GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (_mptcp_pm_check_result (self, result, mptcp_path_manager_flush_endpoints_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- mode --------------------------------------------------------------------------------- */

static MptcpPathManagerMode read_mode_locked (MptcpPathManager  *self,
                                              GError           **error);
static gboolean             write_mode_locked (MptcpPathManager      *self,
                                               MptcpPathManagerMode   mode,
                                               GError               **error);

static void
set_mode_errno_error (GError     **error,
                      int          err,
                      const char  *what)
{
  if (err == EPERM || err == EACCES)
    g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                 "Changing the path manager needs CAP_NET_ADMIN in the user namespace that "
                 "owns the network namespace, or to be its root (%s: %s)",
                 what, g_strerror (err));
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                 "Could not %s the path manager sysctl: %s", what, g_strerror (err));
}

/* The sysctl exists but could not be opened at all. */
static void
set_mode_open_error (GError **error,
                     int      err)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
               "Could not open the path manager sysctl (net.mptcp.path_manager or "
               "net.mptcp.pm_type): %s", g_strerror (err));
}

/**
 * mptcp_path_manager_get_mode:
 * @self: an #MptcpPathManager
 * @error: return location for a #GError, or %NULL
 *
 * Reads which path manager new MPTCP connections of the network namespace
 * get: the sysctl `net.mptcp.path_manager`, or `net.mptcp.pm_type` (0 or 1)
 * on older kernels. A connection keeps the path manager it was made
 * with.
 *
 * The sysctl is the one of the namespace the path manager was made in,
 * whatever namespace the calling thread is in now: `/proc/sys/net` shows the
 * namespace of the thread that opens a file, so the file is opened when the
 * path manager is made and kept open. A sysctl read does not block, so there
 * is no asynchronous variant. Needs no privilege.
 *
 * Fails with %MPTCP_ERROR_NOT_SUPPORTED when the sysctl is missing or names a
 * path manager #MptcpPathManagerMode does not know, and with the #GIOErrorEnum
 * of the errno (%G_IO_ERROR_PERMISSION_DENIED for EACCES) when it exists but
 * could not be opened.
 *
 * Returns: the path manager of new connections; %MPTCP_PATH_MANAGER_MODE_KERNEL
 *   on error
 *
 * Since: 0.1
 */
MptcpPathManagerMode
mptcp_path_manager_get_mode (MptcpPathManager  *self,
                             GError           **error)
{
  MptcpPathManagerMode mode;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), MPTCP_PATH_MANAGER_MODE_KERNEL);
  g_return_val_if_fail (error == NULL || *error == NULL, MPTCP_PATH_MANAGER_MODE_KERNEL);

  g_mutex_lock (&self->mode_lock);
  mode = read_mode_locked (self, error);
  g_mutex_unlock (&self->mode_lock);

  return mode;
}

static MptcpPathManagerMode
read_mode_locked (MptcpPathManager  *self,
                  GError           **error)
{
  char buf[64];
  ssize_t n;

  if (self->mode_fd < 0 && self->mode_errno != ENOENT)
    {
      set_mode_open_error (error, self->mode_errno);
      return MPTCP_PATH_MANAGER_MODE_KERNEL;
    }
  if (self->mode_fd < 0)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "The kernel has neither the net.mptcp.path_manager nor the "
                           "net.mptcp.pm_type sysctl");
      return MPTCP_PATH_MANAGER_MODE_KERNEL;
    }

  do
    n = pread (self->mode_fd, buf, sizeof buf - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "Could not read the path manager sysctl: %s", g_strerror (err));
      return MPTCP_PATH_MANAGER_MODE_KERNEL;
    }
  buf[n] = '\0';
  g_strstrip (buf);

  if (self->mode_is_pm_type ? g_str_equal (buf, "0") : g_str_equal (buf, "kernel"))
    return MPTCP_PATH_MANAGER_MODE_KERNEL;
  if (self->mode_is_pm_type ? g_str_equal (buf, "1") : g_str_equal (buf, "userspace"))
    return MPTCP_PATH_MANAGER_MODE_USERSPACE;

  g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
               "Unknown path manager \"%s\" in net.mptcp.%s", buf,
               self->mode_is_pm_type ? "pm_type" : "path_manager");
  return MPTCP_PATH_MANAGER_MODE_KERNEL;
}

/**
 * mptcp_path_manager_set_mode:
 * @self: an #MptcpPathManager
 * @mode: the path manager new connections should get
 * @error: return location for a #GError, or %NULL
 *
 * Selects the path manager of new MPTCP connections of the network namespace
 * the path manager was made in, by writing `net.mptcp.path_manager` (or
 * `net.mptcp.pm_type`). Connections that exist keep theirs. Per-connection
 * control (#MptcpConnection) needs %MPTCP_PATH_MANAGER_MODE_USERSPACE; the
 * endpoints and limits of this class act only with
 * %MPTCP_PATH_MANAGER_MODE_KERNEL.
 *
 * Needs CAP_NET_ADMIN in the user namespace that owns the network namespace
 * (or to be that user namespace's root, who owns the sysctl): else it fails
 * with %MPTCP_ERROR_PERMISSION_DENIED. The permission is checked when the
 * value is written, with the credentials of the calling thread. (A path
 * manager made without the right to write the sysctl opens it again for
 * writing, which works only from a thread in the namespace it was made in.)
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_mode (MptcpPathManager      *self,
                             MptcpPathManagerMode   mode,
                             GError               **error)
{
  GError *local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (mode == MPTCP_PATH_MANAGER_MODE_KERNEL ||
                        mode == MPTCP_PATH_MANAGER_MODE_USERSPACE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (_mptcp_pm_service_mode_first (self))
    return _mptcp_pm_service_set_mode (self, mode, NULL, error);
  g_mutex_lock (&self->mode_lock);
  ok = write_mode_locked (self, mode, &local_error);
  g_mutex_unlock (&self->mode_lock);
  if (!ok && _mptcp_pm_service_mode_fallback (self, local_error))
    return _mptcp_pm_service_set_mode (self, mode, local_error, error);
  if (!ok)
    g_propagate_error (error, local_error);

  return ok;
}

static gboolean
write_mode_locked (MptcpPathManager      *self,
                   MptcpPathManagerMode   mode,
                   GError               **error)
{
  const char *value;
  ssize_t n;
  int fd;

  if (self->mode_fd < 0 && self->mode_errno != ENOENT)
    {
      set_mode_open_error (error, self->mode_errno);
      return FALSE;
    }
  if (self->mode_fd < 0)
    {
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                           "The kernel has neither the net.mptcp.path_manager nor the "
                           "net.mptcp.pm_type sysctl");
      return FALSE;
    }

  if (!self->mode_fd_writable)
    {
      /* made without the right to write: reopen, but only in the same namespace */
      if (!in_own_netns (self))
        {
          g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED,
                               "Changing the path manager needs CAP_NET_ADMIN in the user "
                               "namespace that owns the network namespace, which the path "
                               "manager lacked when it was made");
          return FALSE;
        }
      fd = open (self->mode_is_pm_type ? SYSCTL_PM_TYPE : SYSCTL_PATH_MANAGER,
                 O_RDWR | O_CLOEXEC);
      if (fd < 0)
        {
          set_mode_errno_error (error, errno, "open");
          return FALSE;
        }
      close (self->mode_fd);
      self->mode_fd = fd;
      self->mode_fd_writable = TRUE;
    }

  if (self->mode_is_pm_type)
    value = mode == MPTCP_PATH_MANAGER_MODE_KERNEL ? "0" : "1";
  else
    value = mode == MPTCP_PATH_MANAGER_MODE_KERNEL ? "kernel" : "userspace";

  do
    n = pwrite (self->mode_fd, value, strlen (value), 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      set_mode_errno_error (error, errno, "write");
      return FALSE;
    }

  return TRUE;
}
