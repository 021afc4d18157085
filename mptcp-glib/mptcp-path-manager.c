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
 * root user of that user namespace, who owns it.)
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
struct _MptcpPathManager
{
  GObject        parent_instance;

  gboolean       initialized;
  GError        *init_error;

  GMainContext  *context;        /* async results run here */
  MptcpNetlink  *netlink;        /* the broker of context */
  MptcpSyncHome *sync_home;      /* made with the object: same namespace */
  GMutex         mode_lock;

  int            ifname_fd;      /* ioctl (SIOCGIFNAME) in our namespace */
  int            mode_fd;        /* path_manager (or pm_type) sysctl, -1 if none */
  gboolean       mode_fd_writable;
  gboolean       mode_is_pm_type;
  int            mode_errno;     /* why mode_fd is -1: ENOENT (no such sysctl) or another */
  gboolean       has_netns;
  dev_t          netns_dev;      /* the namespace the object was made in */
  ino_t          netns_ino;
};

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

static char *
resolve_ifname (MptcpPathManager *self,
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

static GInetAddress *
inet_from_nl_address (const MptcpNlAddress *address)
{
  if (address->family == AF_INET6)
    return g_inet_address_new_from_bytes ((const guint8 *) &address->addr.v6,
                                          G_SOCKET_FAMILY_IPV6);
  if (address->family == AF_INET)
    return g_inet_address_new_from_bytes ((const guint8 *) &address->addr.v4,
                                          G_SOCKET_FAMILY_IPV4);

  /* the kernel always reports an address for an endpoint */
  return g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
}

/* Same address, v4-mapped IPv6 and IPv4 counted as equal; the port only if asked. */
static gboolean
nl_address_equal (const MptcpNlAddress *a,
                  const MptcpNlAddress *b,
                  gboolean              compare_port)
{
  MptcpNlInetAddr xa = a->addr, xb = b->addr;
  int fa = a->family, fb = b->family;

  _mptcp_nl_inet_normalize (&fa, &xa);
  _mptcp_nl_inet_normalize (&fb, &xb);

  if (fa != fb)
    return FALSE;
  if (fa == AF_INET && memcmp (&xa.v4, &xb.v4, sizeof xa.v4) != 0)
    return FALSE;
  if (fa == AF_INET6 && memcmp (&xa.v6, &xb.v6, sizeof xa.v6) != 0)
    return FALSE;
  if (compare_port && a->port != b->port)
    return FALSE;

  return TRUE;
}

static MptcpEndpoint *
endpoint_from_nl (MptcpPathManager     *self,
                  const MptcpNlAddress *address)
{
  g_autoptr(GInetAddress) inet = inet_from_nl_address (address);
  g_autofree char *ifname = resolve_ifname (self, address->ifindex);

  return _mptcp_endpoint_new (address->has_id ? address->id : 0, inet, address->port,
                              address->ifindex, ifname,
                              address->has_flags ? address->flags : 0);
}

static char *
flags_to_string (guint32 flags)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (MPTCP_TYPE_ENDPOINT_FLAGS);
  GString *str = g_string_new (NULL);
  guint32 rest = flags;
  guint i;

  for (i = 0; i < klass->n_values; i++)
    {
      const GFlagsValue *value = &klass->values[i];

      if (value->value != 0 && (flags & value->value) == value->value)
        {
          g_string_append_printf (str, "%s%s", str->len ? "|" : "", value->value_nick);
          rest &= ~value->value;
        }
    }
  if (rest != 0)
    g_string_append_printf (str, "%s0x%x", str->len ? "|" : "", rest);
  if (str->len == 0)
    g_string_append (str, "none");

  return g_string_free (str, FALSE);
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

static gboolean
check_limit (const char  *name,
             int          value,
             GError     **error)
{
  if (value >= MPTCP_PATH_MANAGER_LIMIT_UNCHANGED)
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Invalid %s limit %d (use MPTCP_PATH_MANAGER_LIMIT_UNCHANGED to keep it)",
               name, value);
  return FALSE;
}

/* ---- operations: a chain of broker requests driven by their replies ------------------------- */

typedef enum
{
  OP_LIST,
  OP_GET,
  OP_ADD,
  OP_REMOVE,
  OP_REMOVE_BY_ADDRESS,
  OP_SET_FLAGS,
  OP_FLUSH,
  OP_GET_LIMITS,
  OP_SET_LIMITS,
} OpKind;

typedef struct
{
  guint subflows;
  guint add_addr_accepted;
} Limits;

typedef struct
{
  OpKind          kind;
  MptcpNetlink   *netlink;     /* the broker this operation runs on */
  guint           step;
  gboolean        committed;   /* the kernel made a change: finish without the cancellable */

  guint           id;
  MptcpNlAddress  address;     /* add, remove by address */
  guint32         flags;
  int             subflows;
  int             add_addr_accepted;

  GArray         *ids;         /* remove by address: ids still to delete */
  GError         *deferred;    /* add: the error to report after undoing the change */
  GError         *refusal;     /* add: the kernel's EINVAL, being told apart by a dump */
} Op;

static Op *
op_new (OpKind kind)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  return op;
}

static void
op_free (gpointer data)
{
  Op *op = data;

  g_clear_pointer (&op->netlink, _mptcp_netlink_unref);
  g_clear_pointer (&op->ids, g_array_unref);
  g_clear_error (&op->deferred);
  g_clear_error (&op->refusal);
  g_free (op);
}

static void op_reply_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data);

/* Takes the reference on task. */
static void
op_send (GTask                *task,
         const MptcpNlRequest *request)
{
  Op *op = g_task_get_task_data (task);
  GCancellable *cancellable = op->committed ? NULL : g_task_get_cancellable (task);

  _mptcp_netlink_request_async (op->netlink, request, 0, cancellable, op_reply_cb, task);
}

static void
send_simple (GTask  *task,
             guint8  cmd)
{
  MptcpNlRequest request = { 0 };

  request.cmd = cmd;
  op_send (task, &request);
}

static void
send_by_id (GTask  *task,
            guint8  cmd,
            guint   id)
{
  MptcpNlRequest request = { 0 };

  request.cmd = cmd;
  request.has_addr = TRUE;
  request.addr.id = id;
  request.addr.has_id = TRUE;
  op_send (task, &request);
}

static void
send_dump (GTask *task)
{
  MptcpNlRequest request = { 0 };

  request.cmd = MPTCP_PM_CMD_GET_ADDR;
  request.dump = TRUE;
  op_send (task, &request);
}

/* After a successful change: the rest of the operation runs to its end. */
static void
op_commit (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  op->committed = TRUE;
  g_task_set_check_cancellable (task, FALSE);
}

static void
op_return_error (GTask  *task,
                 GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
op_return_boolean (GTask *task)
{
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
op_return_endpoint (GTask         *task,
                    MptcpEndpoint *endpoint)
{
  g_task_return_pointer (task, endpoint, g_object_unref);
  g_object_unref (task);
}

static void
op_start (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  MptcpNlRequest request = { 0 };

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  switch (op->kind)
    {
    case OP_LIST:
    case OP_REMOVE_BY_ADDRESS:
      send_dump (task);
      break;

    case OP_GET:
    case OP_SET_FLAGS:   /* read it first: unknown id, flags the endpoint cannot take */
      send_by_id (task, MPTCP_PM_CMD_GET_ADDR, op->id);
      break;

    case OP_ADD:
      request.cmd = MPTCP_PM_CMD_ADD_ADDR;
      request.has_addr = TRUE;
      request.addr = op->address;
      request.addr.has_flags = TRUE;
      request.addr.flags = op->flags;
      if (op->id != 0)
        {
          request.addr.has_id = TRUE;
          request.addr.id = op->id;
        }
      op_send (task, &request);
      break;

    case OP_REMOVE:
      send_by_id (task, MPTCP_PM_CMD_DEL_ADDR, op->id);
      break;

    case OP_FLUSH:
      send_simple (task, MPTCP_PM_CMD_FLUSH_ADDRS);
      break;

    case OP_GET_LIMITS:
      send_simple (task, MPTCP_PM_CMD_GET_LIMITS);
      break;

    case OP_SET_LIMITS:
      request.cmd = MPTCP_PM_CMD_SET_LIMITS;
      if (op->subflows != MPTCP_PATH_MANAGER_LIMIT_UNCHANGED)
        {
          request.has_subflows = TRUE;
          request.subflows = op->subflows;
        }
      if (op->add_addr_accepted != MPTCP_PATH_MANAGER_LIMIT_UNCHANGED)
        {
          request.has_rcv_add_addrs = TRUE;
          request.rcv_add_addrs = op->add_addr_accepted;
        }
      op_send (task, &request);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
advance_list (GTask        *task,
              MptcpNlReply *reply)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  GPtrArray *endpoints;
  guint i;

  endpoints = g_ptr_array_new_full (reply->addresses->len, g_object_unref);
  for (i = 0; i < reply->addresses->len; i++)
    g_ptr_array_add (endpoints,
                     endpoint_from_nl (self, &g_array_index (reply->addresses, MptcpNlAddress, i)));

  g_task_return_pointer (task, endpoints, (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

static const MptcpNlAddress *
reply_find_id (MptcpNlReply *reply,
               guint         id)
{
  guint i;

  for (i = 0; i < reply->addresses->len; i++)
    {
      const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);

      if (address->has_id && address->id == id)
        return address;
    }

  return NULL;
}

static GError *
no_such_id_error (guint id)
{
  return g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT, "No endpoint has id %u", id);
}

static void
advance_get (GTask        *task,
             MptcpNlReply *reply)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  const MptcpNlAddress *address = reply_find_id (reply, op->id);

  if (address == NULL)
    op_return_error (task, no_such_id_error (op->id));
  else
    op_return_endpoint (task, endpoint_from_nl (self, address));
}

/* The in-kernel path manager's table size (MPTCP_PM_ADDR_MAX) */
#define KERNEL_MAX_ENDPOINTS 8

/* Linux before 6.2 refuses a duplicate endpoint and a full table alike, with EINVAL and "too
 * many addresses or duplicate one" (6.2 and later: EEXIST for a duplicate). Tell them apart
 * from the table, compared the way the kernel does: same address, ports only when both have
 * one, or the same id. */
static GError *
classify_add_refusal (Op           *op,
                      MptcpNlReply *reply)
{
  GError *refusal = g_steal_pointer (&op->refusal);
  guint i;

  for (i = 0; i < reply->addresses->len; i++)
    {
      const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);
      gboolean ports = address->port != 0 && op->address.port != 0;

      if (nl_address_equal (address, &op->address, ports)
          || (op->id != 0 && address->has_id && address->id == op->id))
        {
          GError *error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS,
                                       "An endpoint with this address or id exists already "
                                       "(endpoint %u; %s)", address->id, refusal->message);

          g_error_free (refusal);
          return error;
        }
    }

  if (reply->addresses->len >= KERNEL_MAX_ENDPOINTS)
    {
      GError *error = g_error_new (MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE,
                                   "The kernel holds at most %u endpoints (%s)",
                                   KERNEL_MAX_ENDPOINTS, refusal->message);

      g_error_free (refusal);
      return error;
    }

  return refusal;
}

static void
advance_add (GTask        *task,
             MptcpNlReply *reply)
{
  MptcpPathManager *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  const MptcpNlAddress *found = NULL;
  guint i;

  if (op->refusal != NULL)
    {
      /* the table, read after the kernel refused the endpoint */
      op_return_error (task, classify_add_refusal (op, reply));
      return;
    }

  switch (op->step)
    {
    case 1:
      /* added; the ack carries no id: read the endpoint back as the kernel stored it */
      op_commit (task);
      if (op->id != 0)
        send_by_id (task, MPTCP_PM_CMD_GET_ADDR, op->id);
      else
        send_dump (task);
      break;

    case 2:
      if (op->id != 0)
        found = reply_find_id (reply, op->id);
      else
        {
          for (i = 0; i < reply->addresses->len && found == NULL; i++)
            {
              const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);

              if (nl_address_equal (address, &op->address, TRUE))
                found = address;
            }
        }

      if (found == NULL)
        {
          op_return_error (task, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT,
                                                      "The endpoint was added, but was gone "
                                                      "when it was read back"));
        }
      else if (((found->has_flags ? found->flags : 0) & op->flags) != op->flags)
        {
          /* an older kernel silently dropped a flag it does not know: undo */
          g_autofree char *asked = flags_to_string (op->flags);
          g_autofree char *got = flags_to_string (found->flags);

          op->deferred = g_error_new (MPTCP_ERROR, MPTCP_ERROR_NOT_SUPPORTED,
                                      "The running kernel does not support the endpoint flags "
                                      "asked for (asked %s, got %s)", asked, got);
          send_by_id (task, MPTCP_PM_CMD_DEL_ADDR, found->id);
        }
      else
        op_return_endpoint (task, endpoint_from_nl (self, found));
      break;

    case 3:
      op_return_error (task, g_steal_pointer (&op->deferred));
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
advance_remove_by_address (GTask        *task,
                           MptcpNlReply *reply)
{
  Op *op = g_task_get_task_data (task);
  guint id;
  guint i;

  if (op->step == 1)
    {
      op->ids = g_array_new (FALSE, FALSE, sizeof (guint));
      for (i = 0; i < reply->addresses->len; i++)
        {
          const MptcpNlAddress *address = &g_array_index (reply->addresses, MptcpNlAddress, i);

          if (address->has_id && nl_address_equal (address, &op->address, FALSE))
            {
              id = address->id;
              g_array_append_val (op->ids, id);
            }
        }

      if (op->ids->len == 0)
        {
          g_autoptr(GInetAddress) inet = inet_from_nl_address (&op->address);
          g_autofree char *text = g_inet_address_to_string (inet);

          op_return_error (task, g_error_new (MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT,
                                              "No endpoint has the address %s", text));
          return;
        }
    }
  else
    {
      /* one endpoint went away */
      op_commit (task);
    }

  if (op->ids->len == 0)
    {
      op_return_boolean (task);
      return;
    }

  id = g_array_index (op->ids, guint, op->ids->len - 1);
  g_array_set_size (op->ids, op->ids->len - 1);
  send_by_id (task, MPTCP_PM_CMD_DEL_ADDR, id);
}

static void
advance_set_flags (GTask        *task,
                   MptcpNlReply *reply)
{
  Op *op = g_task_get_task_data (task);
  const MptcpNlAddress *address;
  MptcpNlRequest request = { 0 };

  if (op->step == 2)
    {
      op_return_boolean (task);
      return;
    }

  address = reply_find_id (reply, op->id);
  if (address == NULL)
    {
      op_return_error (task, no_such_id_error (op->id));
      return;
    }
  if ((op->flags & MPTCP_ENDPOINT_FLAG_FULLMESH) && address->has_flags &&
      (address->flags & MPTCP_ENDPOINT_FLAG_SIGNAL))
    {
      op_return_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                          "Endpoint %u is a signal endpoint: it cannot be "
                                          "fullmesh", op->id));
      return;
    }

  /* by id only: with an address the kernel would select by address */
  request.cmd = MPTCP_PM_CMD_SET_FLAGS;
  request.has_addr = TRUE;
  request.addr.has_id = TRUE;
  request.addr.id = op->id;
  request.addr.has_flags = TRUE;
  request.addr.flags = op->flags;
  op_send (task, &request);
}

static void
advance_get_limits (GTask        *task,
                    MptcpNlReply *reply)
{
  Limits *limits;

  if (!reply->has_limits)
    {
      op_return_error (task, g_error_new_literal (MPTCP_ERROR, MPTCP_ERROR_FAILED,
                                                  "The kernel's reply held no limits"));
      return;
    }

  limits = g_new0 (Limits, 1);
  limits->subflows = reply->subflows;
  limits->add_addr_accepted = reply->rcv_add_addrs;
  g_task_return_pointer (task, limits, g_free);
  g_object_unref (task);
}

/* Called with the reply of step - 1; takes the reference on task. */
static void
op_advance (GTask        *task,
            MptcpNlReply *reply)
{
  Op *op = g_task_get_task_data (task);

  switch (op->kind)
    {
    case OP_LIST:
      advance_list (task, reply);
      break;
    case OP_GET:
      advance_get (task, reply);
      break;
    case OP_ADD:
      advance_add (task, reply);
      break;
    case OP_REMOVE_BY_ADDRESS:
      advance_remove_by_address (task, reply);
      break;
    case OP_SET_FLAGS:
      advance_set_flags (task, reply);
      break;
    case OP_GET_LIMITS:
      advance_get_limits (task, reply);
      break;
    case OP_REMOVE:
    case OP_FLUSH:
    case OP_SET_LIMITS:
      op_return_boolean (task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
op_reply_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(MptcpNlReply) reply = NULL;
  GError *error = NULL;

  reply = _mptcp_netlink_request_finish (op->netlink, result, &error);
  if (reply == NULL && op->refusal != NULL)
    {
      /* the dump after a refusal failed: the refusal as the kernel said it */
      g_error_free (error);
      op_return_error (task, g_steal_pointer (&op->refusal));
      return;
    }
  if (reply == NULL && op->kind == OP_ADD && op->step == 0 &&
      g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_KERNEL_REFUSED))
    {
      /* EINVAL without a reason we know: duplicate or full table, on Linux < 6.2 */
      op->refusal = error;
      send_dump (task);
      return;
    }
  if (reply == NULL)
    {
      if (op->deferred != NULL)
        {
          /* undoing failed: say so, with the original reason */
          g_prefix_error (&error, "%s; removing the endpoint again failed: ",
                          op->deferred->message);
        }
      op_return_error (task, error);
      return;
    }

  op->step++;
  op_advance (task, reply);
}

/* ---- running operations ------------------------------------------------------------------- */

static gboolean
in_own_context (MptcpPathManager *self)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  gboolean same = context == self->context;

  g_main_context_unref (context);
  return same;
}

static void
start_async (MptcpPathManager    *self,
             Op                  *op,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag)
{
  GTask *task;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  op->netlink = _mptcp_netlink_ref (self->netlink);
  g_task_set_task_data (task, op, op_free);
  op_start (task);
}

/* Runs op with the runner of mptcp-sync-private.h on the object's home; returns the completed
 * task. */
static GTask *
run_sync (MptcpPathManager *self,
          Op               *op,
          GCancellable     *cancellable,
          gpointer          source_tag)
{
  g_autoptr(GTask) task = NULL;
  GAsyncResult *result;
  MptcpSync sync;

  if (!_mptcp_sync_begin (&sync, self->sync_home, NULL))
    g_assert_not_reached ();   /* a home never fails */
  task = g_task_new (self, cancellable, _mptcp_sync_done, &sync);
  g_task_set_source_tag (task, source_tag);
  op->netlink = _mptcp_netlink_ref (sync.broker);
  g_task_set_task_data (task, op, op_free);
  op_start (g_object_ref (task));
  _mptcp_sync_wait (&sync, NULL, NULL);
  result = _mptcp_sync_end (&sync);

  return G_TASK (result);
}

static gboolean
run_sync_boolean (MptcpPathManager  *self,
                  Op                *op,
                  GCancellable      *cancellable,
                  gpointer           source_tag,
                  GError           **error)
{
  g_autoptr(GTask) task = run_sync (self, op, cancellable, source_tag);

  return g_task_propagate_boolean (task, error);
}

static gpointer
run_sync_pointer (MptcpPathManager  *self,
                  Op                *op,
                  GCancellable      *cancellable,
                  gpointer           source_tag,
                  GError           **error)
{
  g_autoptr(GTask) task = run_sync (self, op, cancellable, source_tag);

  return g_task_propagate_pointer (task, error);
}

static gboolean
check_result (MptcpPathManager *self,
              GAsyncResult     *result,
              gpointer          source_tag)
{
  return g_task_is_valid (result, self) &&
         g_task_get_source_tag (G_TASK (result)) == source_tag;
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

static void
mptcp_path_manager_class_init (MptcpPathManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mptcp_path_manager_finalize;
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
 * `mptcp_pm` generic netlink family (a few tens of microseconds); no privilege
 * is needed.
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
 * Returns: (transfer container) (element-type MptcpEndpoint): the endpoints, in
 *   the kernel's order, or %NULL on error; the array owns its endpoints: free
 *   it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
mptcp_path_manager_list_endpoints (MptcpPathManager  *self,
                                   GCancellable      *cancellable,
                                   GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return run_sync_pointer (self, op_new (OP_LIST), cancellable,
                           mptcp_path_manager_list_endpoints, error);
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
  g_return_if_fail (in_own_context (self));

  start_async (self, op_new (OP_LIST), cancellable, callback, user_data,
               mptcp_path_manager_list_endpoints_async);
}

/**
 * mptcp_path_manager_list_endpoints_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_list_endpoints_async().
 *
 * Returns: (transfer container) (element-type MptcpEndpoint): the endpoints, or
 *   %NULL on error; free the array with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
mptcp_path_manager_list_endpoints_finish (MptcpPathManager  *self,
                                          GAsyncResult      *result,
                                          GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_list_endpoints_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- endpoints: get ----------------------------------------------------------------------- */

static Op *
op_new_get (guint    id,
            GError **error)
{
  Op *op;

  if (!check_id (id, error))
    return NULL;

  op = op_new (OP_GET);
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
  Op *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  op = op_new_get (id, error);
  if (op == NULL)
    return NULL;

  return run_sync_pointer (self, op, cancellable, mptcp_path_manager_get_endpoint, error);
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
  Op *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (in_own_context (self));

  op = op_new_get (id, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_get_endpoint_async, error);
  else
    start_async (self, op, cancellable, callback, user_data,
                 mptcp_path_manager_get_endpoint_async);
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
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_get_endpoint_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- endpoints: add ----------------------------------------------------------------------- */

/* What nothing could use: the kernel stores such an endpoint, and no subflow ever comes of it
 * (mptcp_connection_open_subflow() and _announce_address() refuse the same addresses). */
static gboolean
check_endpoint_address (MptcpPathManager  *self,
                        GInetAddress      *address,
                        int                ifindex,
                        GError           **error)
{
  g_autofree char *text = g_inet_address_to_string (address);

  if (g_inet_address_get_is_any (address))
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "%s names no host: an endpoint needs an address of this host", text);
      return FALSE;
    }
  if (g_inet_address_get_is_multicast (address) ||
      (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4 &&
       g_inet_address_get_native_size (address) == 4 &&
       memcmp (g_inet_address_to_bytes (address), "\xff\xff\xff\xff", 4) == 0))
    {
      g_set_error (error, MPTCP_ERROR, MPTCP_ERROR_INVALID_ADDRESS,
                   "%s is not a unicast address: an endpoint needs an address of this host",
                   text);
      return FALSE;
    }
  if (ifindex > 0 && self->ifname_fd >= 0)
    {
      g_autofree char *ifname = resolve_ifname (self, ifindex);

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

static Op *
op_new_add (GInetAddress        *address,
            guint16              port,
            int                  ifindex,
            MptcpEndpointFlags   flags,
            guint                id,
            GError             **error)
{
  Op *op;

  if (!check_add_arguments (port, ifindex, flags, id, error))
    return NULL;

  op = op_new (OP_ADD);
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
 * @address: the local address of the endpoint
 * @port: a port for a %MPTCP_ENDPOINT_FLAG_SIGNAL endpoint (the kernel then
 *   listens on it for joins, and @address must be an address of this host), or
 *   0
 * @ifindex: the index of the device subflows from this endpoint are bound to,
 *   or 0 for none
 * @flags: the flags of the endpoint
 * @id: the id the endpoint should get, 1 to 255, or 0 to let the kernel pick
 *   the next free one
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Adds an endpoint to the in-kernel path manager, as
 * `ip mptcp endpoint add` does, and returns it as the kernel stored it (with
 * its id). It applies to connections made afterwards.
 *
 * Before anything is sent, it fails with %G_IO_ERROR_INVALID_ARGUMENT for
 * flags the kernel refuses: %MPTCP_ENDPOINT_FLAG_SIGNAL together with
 * %MPTCP_ENDPOINT_FLAG_FULLMESH, %MPTCP_ENDPOINT_FLAG_IMPLICIT, bits
 * #MptcpEndpointFlags does not name, or a @port without
 * %MPTCP_ENDPOINT_FLAG_SIGNAL or with %MPTCP_ENDPOINT_FLAG_SUBFLOW; and with
 * %MPTCP_ERROR_OUT_OF_RANGE for an @id above 255.
 *
 * The kernel then refuses with %MPTCP_ERROR_ENDPOINT_EXISTS when an endpoint
 * has the same address (and port) or @id already, %MPTCP_ERROR_OUT_OF_RANGE
 * when the table is full (8 endpoints), %MPTCP_ERROR_INVALID_ADDRESS when it
 * cannot listen on @address and @port, and %MPTCP_ERROR_PERMISSION_DENIED
 * without CAP_NET_ADMIN. When the kernel dropped a flag it does not support
 * (%MPTCP_ENDPOINT_FLAG_LAMINAR before Linux 6.18), the endpoint is removed
 * again and the call fails with %MPTCP_ERROR_NOT_SUPPORTED.
 *
 * An address the kernel holds as an implicit endpoint is turned into a normal
 * one, keeping its id.
 *
 * Returns: (transfer full): the new endpoint, or %NULL on error
 *
 * Since: 0.1
 */
MptcpEndpoint *
mptcp_path_manager_add_endpoint (MptcpPathManager    *self,
                                 GInetAddress        *address,
                                 guint16              port,
                                 int                  ifindex,
                                 MptcpEndpointFlags   flags,
                                 guint                id,
                                 GCancellable        *cancellable,
                                 GError             **error)
{
  Op *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_endpoint_address (self, address, ifindex, error))
    return NULL;
  op = op_new_add (address, port, ifindex, flags, id, error);
  if (op == NULL)
    return NULL;

  return run_sync_pointer (self, op, cancellable, mptcp_path_manager_add_endpoint, error);
}

/**
 * mptcp_path_manager_add_endpoint_async:
 * @self: an #MptcpPathManager
 * @address: the local address of the endpoint
 * @port: a port for a %MPTCP_ENDPOINT_FLAG_SIGNAL endpoint, or 0
 * @ifindex: the index of the device of the endpoint, or 0 for none
 * @flags: the flags of the endpoint
 * @id: the id the endpoint should get, 1 to 255, or 0 to let the kernel pick
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
                                       GInetAddress        *address,
                                       guint16              port,
                                       int                  ifindex,
                                       MptcpEndpointFlags   flags,
                                       guint                id,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GError *error = NULL;
  Op *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (G_IS_INET_ADDRESS (address));
  g_return_if_fail (in_own_context (self));

  if (!check_endpoint_address (self, address, ifindex, &error))
    op = NULL;
  else
    op = op_new_add (address, port, ifindex, flags, id, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_add_endpoint_async, error);
  else
    start_async (self, op, cancellable, callback, user_data,
                 mptcp_path_manager_add_endpoint_async);
}

/**
 * mptcp_path_manager_add_endpoint_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_add_endpoint_async().
 *
 * Returns: (transfer full): the new endpoint, or %NULL on error
 *
 * Since: 0.1
 */
MptcpEndpoint *
mptcp_path_manager_add_endpoint_finish (MptcpPathManager  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), NULL);
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_add_endpoint_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- endpoints: remove -------------------------------------------------------------------- */

static Op *
op_new_remove (guint    id,
               GError **error)
{
  Op *op;

  if (!check_id (id, error))
    return NULL;

  op = op_new (OP_REMOVE);
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
 * their subflows from it. Takes about 8 ms (an RCU grace period).
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
  Op *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  op = op_new_remove (id, error);
  if (op == NULL)
    return FALSE;

  return run_sync_boolean (self, op, cancellable, mptcp_path_manager_remove_endpoint, error);
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
  Op *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (in_own_context (self));

  op = op_new_remove (id, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_remove_endpoint_async,
                         error);
  else
    start_async (self, op, cancellable, callback, user_data,
                 mptcp_path_manager_remove_endpoint_async);
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
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_remove_endpoint_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static Op *
op_new_remove_by_address (GInetAddress *address)
{
  Op *op = op_new (OP_REMOVE_BY_ADDRESS);

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

  return run_sync_boolean (self, op_new_remove_by_address (address), cancellable,
                           mptcp_path_manager_remove_endpoint_by_address, error);
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
  g_return_if_fail (in_own_context (self));

  start_async (self, op_new_remove_by_address (address), cancellable, callback, user_data,
               mptcp_path_manager_remove_endpoint_by_address_async);
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
  g_return_val_if_fail (check_result (self, result,
                                      mptcp_path_manager_remove_endpoint_by_address_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- endpoints: flags --------------------------------------------------------------------- */

static Op *
op_new_set_flags (guint                id,
                  MptcpEndpointFlags   flags,
                  GError             **error)
{
  Op *op;

  if (!check_changeable_flags (flags, error) || !check_id (id, error))
    return NULL;

  op = op_new (OP_SET_FLAGS);
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
  Op *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  op = op_new_set_flags (id, flags, error);
  if (op == NULL)
    return FALSE;

  return run_sync_boolean (self, op, cancellable, mptcp_path_manager_set_endpoint_flags, error);
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
  Op *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (in_own_context (self));

  op = op_new_set_flags (id, flags, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_set_endpoint_flags_async,
                         error);
  else
    start_async (self, op, cancellable, callback, user_data,
                 mptcp_path_manager_set_endpoint_flags_async);
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
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_set_endpoint_flags_async),
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
 * `ip mptcp endpoint flush` does. Takes about 8 ms. Fails with
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

  return run_sync_boolean (self, op_new (OP_FLUSH), cancellable,
                           mptcp_path_manager_flush_endpoints, error);
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
  g_return_if_fail (in_own_context (self));

  start_async (self, op_new (OP_FLUSH), cancellable, callback, user_data,
               mptcp_path_manager_flush_endpoints_async);
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
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_flush_endpoints_async),
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- limits ------------------------------------------------------------------------------- */

/**
 * mptcp_path_manager_get_limits:
 * @self: an #MptcpPathManager
 * @subflows: (out) (optional): the most additional subflows a connection may
 *   have (beyond its first)
 * @add_addr_accepted: (out) (optional): the most addresses announced by a peer
 *   (ADD_ADDR) a connection accepts and opens subflows to
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Reads the limits of the in-kernel path manager, as
 * `ip mptcp limits show` does. A fresh network namespace has 2 and 0. Needs
 * no privilege.
 *
 * Returns: (skip): %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_get_limits (MptcpPathManager  *self,
                               guint             *subflows,
                               guint             *add_addr_accepted,
                               GCancellable      *cancellable,
                               GError           **error)
{
  g_autofree Limits *limits = NULL;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  limits = run_sync_pointer (self, op_new (OP_GET_LIMITS), cancellable,
                             mptcp_path_manager_get_limits, error);
  if (limits == NULL)
    return FALSE;

  if (subflows != NULL)
    *subflows = limits->subflows;
  if (add_addr_accepted != NULL)
    *add_addr_accepted = limits->add_addr_accepted;
  return TRUE;
}

/**
 * mptcp_path_manager_get_limits_async:
 * @self: an #MptcpPathManager
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the limits are read
 * @user_data: data for @callback
 *
 * Starts reading the limits; see mptcp_path_manager_get_limits(). Finish with
 * mptcp_path_manager_get_limits_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_get_limits_async (MptcpPathManager    *self,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (in_own_context (self));

  start_async (self, op_new (OP_GET_LIMITS), cancellable, callback, user_data,
               mptcp_path_manager_get_limits_async);
}

/**
 * mptcp_path_manager_get_limits_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @subflows: (out) (optional): the most additional subflows a connection may
 *   have
 * @add_addr_accepted: (out) (optional): the most announced addresses a
 *   connection accepts
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_get_limits_async().
 *
 * Returns: (skip): %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_get_limits_finish (MptcpPathManager  *self,
                                      GAsyncResult      *result,
                                      guint             *subflows,
                                      guint             *add_addr_accepted,
                                      GError           **error)
{
  g_autofree Limits *limits = NULL;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_get_limits_async), FALSE);

  limits = g_task_propagate_pointer (G_TASK (result), error);
  if (limits == NULL)
    return FALSE;

  if (subflows != NULL)
    *subflows = limits->subflows;
  if (add_addr_accepted != NULL)
    *add_addr_accepted = limits->add_addr_accepted;
  return TRUE;
}

static Op *
op_new_set_limits (int       subflows,
                   int       add_addr_accepted,
                   GError  **error)
{
  Op *op;

  if (!check_limit ("subflows", subflows, error) ||
      !check_limit ("add_addr_accepted", add_addr_accepted, error))
    return NULL;

  op = op_new (OP_SET_LIMITS);
  op->subflows = subflows;
  op->add_addr_accepted = add_addr_accepted;
  return op;
}

/**
 * mptcp_path_manager_set_limits:
 * @self: an #MptcpPathManager
 * @subflows: the most additional subflows a connection may have, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED (-1) to keep the current value
 * @add_addr_accepted: the most announced addresses a connection accepts, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED (-1) to keep the current value
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Sets the limits of the in-kernel path manager, as `ip mptcp limits set`
 * does. They apply to connections made afterwards, and an in-kernel path
 * manager also refuses joins from peers beyond its @subflows limit.
 *
 * Fails with %MPTCP_ERROR_OUT_OF_RANGE when a value is above what the kernel
 * allows (8), %G_IO_ERROR_INVALID_ARGUMENT for a negative value other than
 * %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED, and %MPTCP_ERROR_PERMISSION_DENIED
 * without CAP_NET_ADMIN. Either both limits change or neither does.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_limits (MptcpPathManager  *self,
                               int                subflows,
                               int                add_addr_accepted,
                               GCancellable      *cancellable,
                               GError           **error)
{
  Op *op;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  op = op_new_set_limits (subflows, add_addr_accepted, error);
  if (op == NULL)
    return FALSE;

  return run_sync_boolean (self, op, cancellable, mptcp_path_manager_set_limits, error);
}

/**
 * mptcp_path_manager_set_limits_async:
 * @self: an #MptcpPathManager
 * @subflows: the most additional subflows a connection may have, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED
 * @add_addr_accepted: the most announced addresses a connection accepts, or
 *   %MPTCP_PATH_MANAGER_LIMIT_UNCHANGED
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async): called when the limits are set
 * @user_data: data for @callback
 *
 * Starts setting the limits; see mptcp_path_manager_set_limits(). Finish with
 * mptcp_path_manager_set_limits_finish().
 *
 * Since: 0.1
 */
void
mptcp_path_manager_set_limits_async (MptcpPathManager    *self,
                                     int                  subflows,
                                     int                  add_addr_accepted,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GError *error = NULL;
  Op *op;

  g_return_if_fail (MPTCP_IS_PATH_MANAGER (self));
  g_return_if_fail (in_own_context (self));

  op = op_new_set_limits (subflows, add_addr_accepted, &error);
  if (op == NULL)
    g_task_report_error (self, callback, user_data, mptcp_path_manager_set_limits_async, error);
  else
    start_async (self, op, cancellable, callback, user_data,
                 mptcp_path_manager_set_limits_async);
}

/**
 * mptcp_path_manager_set_limits_finish:
 * @self: an #MptcpPathManager
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, or %NULL
 *
 * Finishes mptcp_path_manager_set_limits_async().
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mptcp_path_manager_set_limits_finish (MptcpPathManager  *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (check_result (self, result, mptcp_path_manager_set_limits_async), FALSE);

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
  gboolean ok;

  g_return_val_if_fail (MPTCP_IS_PATH_MANAGER (self), FALSE);
  g_return_val_if_fail (mode == MPTCP_PATH_MANAGER_MODE_KERNEL ||
                        mode == MPTCP_PATH_MANAGER_MODE_USERSPACE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mode_lock);
  ok = write_mode_locked (self, mode, error);
  g_mutex_unlock (&self->mode_lock);

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
