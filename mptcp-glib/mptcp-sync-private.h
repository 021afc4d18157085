/* mptcp-sync-private.h: the one sync-over-async runner of mptcp-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every synchronous method of the library is its asynchronous twin run to completion here, the
 * way GDBus runs its synchronous calls:
 *
 *   1. _mptcp_sync_begin() takes a private GMainContext and a broker on it and pushes the context
 *      as the thread-default one (so every GTask, timeout and socket source of the call lands
 *      there and nowhere else);
 *   2. the caller starts its async machinery on sync->broker with _mptcp_sync_done() as the
 *      callback and sync as its data;
 *   3. _mptcp_sync_wait() iterates the private context until the result is there and, if a busy
 *      function is given, until it says nothing of the call is in flight any more;
 *   4. _mptcp_sync_end() pops the context and hands the result (transfer full) to the caller's
 *      _finish-like code.
 *
 * The caller's own contexts are never iterated, so a synchronous call may be made from any
 * thread, with or without a main loop running.
 *
 * The one rule for namespaces: a synchronous call acts on the network namespace its object acts
 * on. An object fixed to a namespace (it keeps acting on the namespace its creating thread was
 * in) makes an MptcpSyncHome at construction, in that namespace, and passes it to every
 * _mptcp_sync_begin(): its synchronous calls then work from any thread, also one that moved to
 * another namespace with setns(). Without a home (home == NULL) the call uses a private context
 * and broker kept per thread, for the namespace the thread is in at the time of the call: a
 * thread that moved with setns() gets a new broker there, never the old namespace's.
 *
 * A synchronous call made from a handler that runs inside another one on the same thread gets a
 * temporary context and broker of its own (the outer broker may be in the middle of a dispatch).
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-sync-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

struct _MptcpNetlink;

/* A private context and a broker, made together in the namespace of the thread that makes the
 * home. One synchronous call at a time uses it (others wait on its lock). */
typedef struct _MptcpSyncHome MptcpSyncHome;

G_GNUC_INTERNAL
MptcpSyncHome *_mptcp_sync_home_new  (GError        **error);
G_GNUC_INTERNAL
void           _mptcp_sync_home_free (MptcpSyncHome  *home);

typedef struct
{
  GMainContext         *context;   /* pushed as thread-default between begin and end */
  struct _MptcpNetlink *broker;    /* the broker on context: start the async machinery on it */
  GAsyncResult         *result;    /* set by _mptcp_sync_done() */
  /* private */
  MptcpSyncHome        *home;
  gboolean              temporary;
  GMainContext         *outer;
} MptcpSync;

/* Whether something of the call (a request, a timeout) is still in flight. */
typedef gboolean (*MptcpSyncBusyFunc) (gpointer user_data);

G_GNUC_INTERNAL
gboolean      _mptcp_sync_begin      (MptcpSync          *sync,
                                      MptcpSyncHome      *home,
                                      GError            **error);
/* A GAsyncReadyCallback; user_data is the MptcpSync. */
G_GNUC_INTERNAL
void          _mptcp_sync_done       (GObject            *source,
                                      GAsyncResult       *result,
                                      gpointer            user_data);
G_GNUC_INTERNAL
void          _mptcp_sync_wait       (MptcpSync          *sync,
                                      MptcpSyncBusyFunc   busy,
                                      gpointer            busy_data);
G_GNUC_INTERNAL G_GNUC_WARN_UNUSED_RESULT
GAsyncResult *_mptcp_sync_end        (MptcpSync          *sync);
/* Whether the thread-default context is the one of the innermost synchronous call running on
 * this thread (code running in a handler it emits). */
G_GNUC_INTERNAL
gboolean      _mptcp_sync_is_current (void);

G_END_DECLS
