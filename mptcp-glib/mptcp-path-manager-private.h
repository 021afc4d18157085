/* mptcp-path-manager-private.h: the rooms of MptcpPathManager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mptcp-path-manager.c: the object, the argument checks, endpoints and mode.
 * mptcp-path-manager-service.c: the changes through mptcp-glib-service (no CAP_NET_ADMIN).
 * mptcp-path-manager-limits.c: the limits. mptcp-path-manager-ops.c: the operations (a chain of broker requests driven by
 * their replies) and how they run, asynchronously on the object's context or synchronously with
 * the runner of mptcp-sync-private.h on the object's home.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-path-manager-private.h is private to mptcp-glib"
#endif

#include <sys/types.h>

#include "mptcp-path-manager.h"
#include "mptcp-netlink-private.h"
#include "mptcp-sync-private.h"

G_BEGIN_DECLS

/* the instance structure, shared by the rooms */
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
  MptcpServicePolicy service_policy;
};

typedef enum
{
  PM_OP_LIST,
  PM_OP_GET,
  PM_OP_ADD,
  PM_OP_REMOVE,
  PM_OP_REMOVE_BY_ADDRESS,
  PM_OP_SET_FLAGS,
  PM_OP_FLUSH,
  PM_OP_GET_LIMITS,
  PM_OP_SET_LIMITS,
} PmOpKind;

typedef struct
{
  guint subflows;
  guint add_addr_accepted;
} Limits;

typedef struct
{
  PmOpKind          kind;
  MptcpNetlink   *netlink;     /* the broker this operation runs on */
  guint           step;
  gboolean        committed;   /* the kernel made a change: finish without the cancellable */

  guint           id;
  MptcpNlAddress  address;     /* add, remove by address */
  guint32         flags;
  guint           subflows;    /* set limits: MPTCP_PATH_MANAGER_LIMIT_UNCHANGED to keep */
  guint           add_addr_accepted;

  GArray         *ids;         /* remove by address: ids still to delete */
  GError         *deferred;    /* add: the error to report after undoing the change */
  GError         *refusal;     /* add: the kernel's EINVAL, being told apart by a dump */
} PmOp;

G_GNUC_INTERNAL
char     *_mptcp_pm_resolve_ifname   (MptcpPathManager    *self,
                                      int                  ifindex);

G_GNUC_INTERNAL
PmOp     *_mptcp_pm_op_new           (PmOpKind             kind);
G_GNUC_INTERNAL
gboolean  _mptcp_pm_in_own_context   (MptcpPathManager    *self);
G_GNUC_INTERNAL
void      _mptcp_pm_start_async      (MptcpPathManager    *self,
                                      PmOp                *op,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data,
                                      gpointer             source_tag,
                                      const char          *task_name);
G_GNUC_INTERNAL
gboolean  _mptcp_pm_run_sync_boolean (MptcpPathManager    *self,
                                      PmOp                *op,
                                      GCancellable        *cancellable,
                                      gpointer             source_tag,
                                      const char          *task_name,
                                      GError             **error);
G_GNUC_INTERNAL
gpointer  _mptcp_pm_run_sync_pointer (MptcpPathManager    *self,
                                      PmOp                *op,
                                      GCancellable        *cancellable,
                                      gpointer             source_tag,
                                      const char          *task_name,
                                      GError             **error);
G_GNUC_INTERNAL
gboolean  _mptcp_pm_check_result     (MptcpPathManager    *self,
                                      GAsyncResult        *result,
                                      gpointer             source_tag);
/* An endpoint the service added (id): the task goes on as a read of it (takes the task). */
G_GNUC_INTERNAL
void      _mptcp_pm_op_read_back     (GTask               *task,
                                      guint                id);

/* mptcp-path-manager-service.c: whether an op goes to the service first (ALWAYS), or after
 * the kernel refused it for lack of CAP_NET_ADMIN (AUTO); then run it there (takes the
 * task, completes it as the direct path would). */
G_GNUC_INTERNAL
gboolean  _mptcp_pm_service_first    (MptcpPathManager    *self,
                                      const PmOp          *op);
G_GNUC_INTERNAL
gboolean  _mptcp_pm_service_fallback (MptcpPathManager    *self,
                                      const PmOp          *op,
                                      const GError        *error);
/* direct (taken): the kernel's refusal, returned if no service is there; NULL for ALWAYS */
G_GNUC_INTERNAL
void      _mptcp_pm_service_run      (GTask               *task,
                                      GError              *direct);
/* the same for set_mode(), synchronously */
G_GNUC_INTERNAL
gboolean  _mptcp_pm_service_mode_first    (MptcpPathManager     *self);
G_GNUC_INTERNAL
gboolean  _mptcp_pm_service_mode_fallback (MptcpPathManager     *self,
                                           const GError         *error);
G_GNUC_INTERNAL
gboolean  _mptcp_pm_service_set_mode      (MptcpPathManager     *self,
                                           MptcpPathManagerMode  mode,
                                           GError               *direct,
                                           GError              **error);

G_END_DECLS
