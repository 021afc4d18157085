/* mptcp-sync-private.c: the one sync-over-async runner (see mptcp-sync-private.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/stat.h>

#include "mptcp-netlink-private.h"
#include "mptcp-sync-private.h"

struct _MptcpSyncHome
{
  GMutex        lock;      /* held by the synchronous call using the home */
  GMainContext *context;
  MptcpNetlink *broker;
};

MptcpSyncHome *
_mptcp_sync_home_new (GError **error)
{
  MptcpSyncHome *home = g_new0 (MptcpSyncHome, 1);

  g_mutex_init (&home->lock);
  home->context = g_main_context_new ();
  home->broker = _mptcp_netlink_get_for_context (home->context, error);
  if (home->broker == NULL)
    {
      _mptcp_sync_home_free (home);
      return NULL;
    }
  return home;
}

void
_mptcp_sync_home_free (MptcpSyncHome *home)
{
  if (home == NULL)
    return;
  g_clear_pointer (&home->broker, _mptcp_netlink_unref);
  g_clear_pointer (&home->context, g_main_context_unref);
  g_mutex_clear (&home->lock);
  g_free (home);
}

/* ---- the thread's state -------------------------------------------------------------------- */

typedef struct
{
  GMainContext *context;   /* the thread's private context, for calls without a home */
  MptcpNetlink *broker;    /* on context, in the namespace netns_dev/netns_ino */
  dev_t         netns_dev;
  ino_t         netns_ino;
  guint         depth;     /* synchronous calls running on this thread */
  GMainContext *current;   /* the innermost one's context */
} ThreadState;

static void
thread_state_free (gpointer data)
{
  ThreadState *state = data;

  g_clear_pointer (&state->broker, _mptcp_netlink_unref);
  g_clear_pointer (&state->context, g_main_context_unref);
  g_free (state);
}

static GPrivate thread_state_key = G_PRIVATE_INIT (thread_state_free);

static ThreadState *
thread_state (void)
{
  ThreadState *state = g_private_get (&thread_state_key);

  if (state == NULL)
    {
      state = g_new0 (ThreadState, 1);
      g_private_set (&thread_state_key, state);
    }
  return state;
}

/* The thread's broker, made again when the thread is in another namespace than it was made in. */
static gboolean
thread_broker_ensure (ThreadState  *state,
                      GError      **error)
{
  struct stat st;
  gboolean known = stat ("/proc/thread-self/ns/net", &st) == 0;

  if (state->broker != NULL &&
      (!known || (st.st_dev == state->netns_dev && st.st_ino == state->netns_ino)))
    return TRUE;

  /* a new context too: the registry keys brokers by context */
  g_clear_pointer (&state->broker, _mptcp_netlink_unref);
  g_clear_pointer (&state->context, g_main_context_unref);
  state->context = g_main_context_new ();
  state->broker = _mptcp_netlink_get_for_context (state->context, error);
  if (state->broker == NULL)
    {
      g_clear_pointer (&state->context, g_main_context_unref);
      return FALSE;
    }
  state->netns_dev = known ? st.st_dev : 0;
  state->netns_ino = known ? st.st_ino : 0;
  return TRUE;
}

/* ---- the runner ---------------------------------------------------------------------------- */

gboolean
_mptcp_sync_begin (MptcpSync      *sync,
                   MptcpSyncHome  *home,
                   GError        **error)
{
  ThreadState *state = thread_state ();

  g_return_val_if_fail (sync != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (sync, 0, sizeof *sync);
  if (home != NULL)
    {
      g_mutex_lock (&home->lock);
      sync->home = home;
      sync->context = g_main_context_ref (home->context);
      sync->broker = _mptcp_netlink_ref (home->broker);
    }
  else if (state->depth == 0)
    {
      if (!thread_broker_ensure (state, error))
        return FALSE;
      sync->context = g_main_context_ref (state->context);
      sync->broker = _mptcp_netlink_ref (state->broker);
    }
  else
    {
      /* inside another synchronous call of this thread (a handler it runs): its broker may be
       * in the middle of a dispatch, holding its socket back until that returns */
      sync->context = g_main_context_new ();
      sync->broker = _mptcp_netlink_get_for_context (sync->context, error);
      if (sync->broker == NULL)
        {
          g_clear_pointer (&sync->context, g_main_context_unref);
          return FALSE;
        }
      sync->temporary = TRUE;
    }
  sync->outer = state->current;
  state->current = sync->context;
  state->depth++;
  g_main_context_push_thread_default (sync->context);
  return TRUE;
}

void
_mptcp_sync_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MptcpSync *sync = user_data;

  g_return_if_fail (sync->result == NULL);
  sync->result = g_object_ref (result);
}

void
_mptcp_sync_wait (MptcpSync         *sync,
                  MptcpSyncBusyFunc  busy,
                  gpointer           busy_data)
{
  while (sync->result == NULL || (busy != NULL && busy (busy_data)))
    g_main_context_iteration (sync->context, TRUE);
}

GAsyncResult *
_mptcp_sync_end (MptcpSync *sync)
{
  ThreadState *state = g_private_get (&thread_state_key);

  g_return_val_if_fail (state != NULL && state->depth > 0 && state->current == sync->context,
                        NULL);

  g_main_context_pop_thread_default (sync->context);
  state->depth--;
  state->current = sync->outer;
  g_clear_pointer (&sync->broker, _mptcp_netlink_unref);
  if (sync->temporary)
    {
      /* a task's last idle may still sit in the context: let it go */
      while (g_main_context_iteration (sync->context, FALSE))
        ;
    }
  g_clear_pointer (&sync->context, g_main_context_unref);
  if (sync->home != NULL)
    g_mutex_unlock (&sync->home->lock);
  sync->home = NULL;
  return g_steal_pointer (&sync->result);
}

gboolean
_mptcp_sync_is_current (void)
{
  ThreadState *state = g_private_get (&thread_state_key);

  return state != NULL && state->depth > 0 &&
         g_main_context_get_thread_default () == state->current;
}

/* ---- the broker's sync variant (declared in mptcp-netlink-private.h) ---- */

MptcpNlReply *
_mptcp_netlink_request_sync (const MptcpNlRequest *request,
                             guint                 timeout_ms,
                             GCancellable         *cancellable,
                             GError              **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  MptcpSync sync;
  MptcpNlReply *reply;

  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_mptcp_sync_begin (&sync, NULL, error))
    return NULL;
  _mptcp_netlink_request_async (sync.broker, request, timeout_ms, cancellable,
                                _mptcp_sync_done, &sync);
  _mptcp_sync_wait (&sync, NULL, NULL);
  reply = _mptcp_netlink_request_finish (sync.broker, sync.result, error);
  result = _mptcp_sync_end (&sync);
  return reply;
}

