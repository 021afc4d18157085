/* mptcp-subflow-private.h: what MptcpConnection uses to keep its subflows (one direction:
 * the subflow includes no header of the connection), and what the subflow's operations run on
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-subflow-private.h is private to mptcp-glib"
#endif

#include "mptcp-subflow.h"
#include "mptcp-sockopt-private.h"

G_BEGIN_DECLS

/* What the subflows of a connection know of it: one small record per
 * connection, shared by all its subflows (a GWeakRef each costs the
 * connection a GData and a list node per subflow). The connection sets
 * `connection` to NULL at the start of its finalization; like the objects
 * themselves, this is not meant for use from several threads at once. */
typedef struct
{
  gint ref_count;
  MptcpConnection *connection;    /* no reference */
  /* Reads the kernel's id and statistics of the connection's listed subflows that wait for
   * them (MptcpSubflow.info_pending), in the connection's thread only; set by the
   * connection. */
  void (*load_info) (MptcpConnection *connection);
} MptcpSubflowBackref;

/* The connection's record, made on first use (in mptcp-connection.c). */
G_GNUC_INTERNAL
MptcpSubflowBackref *_mptcp_connection_get_backref (MptcpConnection *connection);

/* The instance struct is here so that the connection's refresh can update a
 * subflow without a function call per field; nothing else touches it. */
struct _MptcpSubflow
{
  GObject parent_instance;

  guint id;
  guint tcp_info_len : 16;        /* see tcp_info below */
  guint backup : 1;
  guint peer_backup : 1;
  guint info_pending : 1;         /* made from an event: its kernel id (0 until then) and
                                   * statistics are read on first need (a getter, or the
                                   * next refresh of the list) */
  MptcpSockoptAddr local_raw;     /* normalised, for matching 4-tuples */
  MptcpSockoptAddr remote_raw;
  GInetSocketAddress *local;      /* made from the raw ones on first get */
  GInetSocketAddress *remote;
  MptcpSubflowBackref *backref;   /* a reference, or NULL */

  /* The tcp_info of the last refresh that listed the subflow. While the
   * subflow is listed it points into the connection's read buffer (no copy
   * per refresh); the connection calls _mptcp_subflow_detach_tcp_info()
   * before that buffer is reused or freed for a subflow it stops listing. */
  const guint8 *tcp_info;
  guint8 tcp_info_own[MPTCP_SOCKOPT_TCP_INFO_SIZE];
};

/* Points the subflow's statistics at len bytes of tcp_info owned by the
 * connection (valid until the connection detaches it). */
static inline void
_mptcp_subflow_set_tcp_info (MptcpSubflow *self,
                             const guint8 *tcp_info,
                             gsize         len)
{
  self->info_pending = FALSE;
  self->tcp_info = tcp_info;
  self->tcp_info_len = tcp_info != NULL ? MIN (len, sizeof self->tcp_info_own) : 0;
}

/* Copies the statistics into the subflow itself. */
static inline void
_mptcp_subflow_detach_tcp_info (MptcpSubflow *self)
{
  if (self->tcp_info == NULL || self->tcp_info == self->tcp_info_own)
    return;
  memcpy (self->tcp_info_own, self->tcp_info, self->tcp_info_len);
  self->tcp_info = self->tcp_info_own;
}

G_GNUC_INTERNAL
MptcpSubflow *_mptcp_subflow_new             (MptcpConnection        *connection,
                                              guint                   id,
                                              const MptcpSockoptAddr *local,
                                              const MptcpSockoptAddr *remote);

G_GNUC_INTERNAL
gboolean      _mptcp_subflow_matches         (MptcpSubflow           *self,
                                              const MptcpSockoptAddr *local,
                                              const MptcpSockoptAddr *remote);

/* Sets the id of a subflow made before its kernel id was known (0);
 * notifies "id". */
G_GNUC_INTERNAL
void          _mptcp_subflow_set_id          (MptcpSubflow           *self,
                                              guint                   id);

/* Sets the local backup request as known to the library; notifies "backup"
 * on change. For the control side (set_backup acks, events). */
G_GNUC_INTERNAL
void          _mptcp_subflow_set_backup      (MptcpSubflow           *self,
                                              gboolean                backup);

/* Sets the peer's backup request as read from sock_diag; notifies "peer-backup" on change. */
G_GNUC_INTERNAL
void          _mptcp_subflow_set_peer_backup (MptcpSubflow           *self,
                                              gboolean                peer_backup);

/* The subflow's own operations, run by the control room (mptcp-control-op.c) on the
 * subflow's connection: the subflow calls them directly and knows no connection internals.
 * The task's source object is the subflow; @backup is for SET_BACKUP. The sync variant runs
 * on the runner of mptcp-sync-private.h and returns the task's boolean. */
typedef enum
{
  MPTCP_SUBFLOW_OP_CLOSE,
  MPTCP_SUBFLOW_OP_SET_BACKUP,
} MptcpSubflowOp;

G_GNUC_INTERNAL
void          _mptcp_control_subflow_start   (MptcpSubflow           *subflow,
                                              MptcpSubflowOp          op,
                                              gboolean                backup,
                                              GCancellable           *cancellable,
                                              GAsyncReadyCallback     callback,
                                              gpointer                user_data,
                                              gpointer                source_tag,
                                              const char             *task_name);
G_GNUC_INTERNAL
gboolean      _mptcp_control_subflow_run     (MptcpSubflow           *subflow,
                                              MptcpSubflowOp          op,
                                              gboolean                backup,
                                              GCancellable           *cancellable,
                                              gpointer                source_tag,
                                              const char             *task_name,
                                              GError                **error);

G_END_DECLS
