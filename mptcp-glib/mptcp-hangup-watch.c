/* mptcp-hangup-watch.c: one shared watch per main context for sockets' hangups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "mptcp-hangup-watch-private.h"

/* One source per main context watches the fds of all its watches for a hangup
 * (one GSource each would cost ~400 bytes), through one epoll instance: GLib
 * then polls one fd for them all, whatever their number (bench/README.md has
 * the cost of the alternative). Each fd is registered with EPOLLONESHOT under
 * an id that the dispatch maps back to its watch, so a registration that
 * outlives its watch (the owner's fd was closed while a dup of it lives on,
 * and nobody can tell the fd from a new one any more) reports at most once,
 * under an id nobody holds. Where epoll fails, the source polls the watch's
 * fd itself, as GLib does for any fd.
 *
 * A new watch is registered HUP_ARM_DELAY_US later, in a dispatch of the
 * source (its prepare() gives the context's poll that timeout): the
 * registration is a system call (epoll_ctl() costs about 1.3 us on the
 * project's test machine, and measured 0.06-0.08x of the raw time of
 * connect() to the second subflow, bench/README.md), and a connection's
 * first millisecond is when its application waits for its first events and
 * opens its subflows. A hangup before the registration is not lost: epoll
 * (or GLib's poll) reports the fd's state as it is when it is registered. */
#define HUP_ARM_DELAY_US 1000

typedef struct
{
  GSource source;
  GMainContext *context;
  int epfd;                      /* -1 without epoll */
  gpointer ep_tag;
  GHashTable *by_id;             /* registration id -> MptcpHangupWatch */
  guint next_id;
  GPtrArray *polled;             /* MptcpHangupWatch, at their index */
  GPtrArray *pending;            /* MptcpHangupWatch to register, at their index */
  gint n_pending;                /* pending->len, read without the lock by prepare() */
  gint64 arm_at;                 /* when the pending ones are registered (monotonic us) */
} HupSource;

G_LOCK_DEFINE_STATIC (hup_sources);
static GHashTable *hup_sources;  /* GMainContext -> HupSource */
static gboolean hup_use_epoll = TRUE;

void
_mptcp_hangup_watch_set_epoll (gboolean use)
{
  G_LOCK (hup_sources);
  hup_use_epoll = use;
  G_UNLOCK (hup_sources);
}

static gboolean hup_watch_epoll (HupSource *hs, MptcpHangupWatch *watch, int fd);
static gboolean hup_source_drop_if_empty (HupSource *hs);

/* Under the lock: watches fd through epoll, else through the source's own poll. */
static void
hup_register (HupSource        *hs,
              MptcpHangupWatch *watch,
              int               fd)
{
  if (hup_watch_epoll (hs, watch, fd))
    return;
  watch->tag = g_source_add_unix_fd (&hs->source, fd, G_IO_HUP | G_IO_ERR);
  watch->index = hs->polled->len;
  watch->mode = MPTCP_HANGUP_POLLED;
  g_ptr_array_add (hs->polled, watch);
}

/* Under the lock: registers the pending watches (a closed socket's is dropped). */
static void
hup_arm_pending (HupSource *hs)
{
  g_autoptr(GPtrArray) pending = g_steal_pointer (&hs->pending);

  hs->pending = g_ptr_array_new ();
  g_atomic_int_set (&hs->n_pending, 0);
  for (guint i = 0; i < pending->len; i++)
    {
      MptcpHangupWatch *watch = g_ptr_array_index (pending, i);
      int fd = watch->funcs->fd (watch);

      watch->mode = MPTCP_HANGUP_NONE;
      if (fd >= 0)
        hup_register (hs, watch, fd);
    }
}

static gboolean
hup_source_prepare (GSource *source,
                    gint    *timeout)
{
  HupSource *hs = (HupSource *) source;
  gint64 left;

  *timeout = -1;
  if (g_atomic_int_get (&hs->n_pending) == 0)
    return FALSE;
  G_LOCK (hup_sources);
  left = hs->arm_at - g_source_get_time (source);
  G_UNLOCK (hup_sources);
  if (left <= 0)
    return TRUE;
  *timeout = (gint) ((left + 999) / 1000);
  return FALSE;
}

static gboolean
hup_source_check (GSource *source)
{
  HupSource *hs = (HupSource *) source;
  gboolean due;

  /* the fds are GLib's to check */
  if (g_atomic_int_get (&hs->n_pending) == 0)
    return FALSE;
  G_LOCK (hup_sources);
  due = g_source_get_time (source) >= hs->arm_at;
  G_UNLOCK (hup_sources);
  return due;
}

static gboolean
hup_source_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  HupSource *hs = (HupSource *) source;
  g_autoptr(GPtrArray) dead = g_ptr_array_new ();
  guint i;

  /* under the lock: an owner may be dropped in another thread */
  G_LOCK (hup_sources);
  if (hs->pending->len > 0 && g_source_get_time (source) >= hs->arm_at)
    {
      hup_arm_pending (hs);
      /* every socket closed meanwhile: nothing left to watch */
      if (hup_source_drop_if_empty (hs))
        {
          G_UNLOCK (hup_sources);
          return G_SOURCE_REMOVE;
        }
    }
  if (hs->epfd >= 0 && (g_source_query_unix_fd (source, hs->ep_tag) & G_IO_IN))
    {
      struct epoll_event events[32];
      int n;

      do
        {
          n = epoll_wait (hs->epfd, events, G_N_ELEMENTS (events), 0);
          for (i = 0; n > 0 && i < (guint) n; i++)
            {
              MptcpHangupWatch *watch = g_hash_table_lookup (hs->by_id,
                                                             GUINT_TO_POINTER ((guint) events[i].data.u64));

              if (watch != NULL)
                {
                  watch->funcs->ref (watch);
                  g_ptr_array_add (dead, watch);
                }
            }
        }
      while (n == G_N_ELEMENTS (events));
    }
  for (i = 0; i < hs->polled->len; i++)
    {
      MptcpHangupWatch *watch = g_ptr_array_index (hs->polled, i);

      if (g_source_query_unix_fd (source, watch->tag) & (G_IO_HUP | G_IO_ERR | G_IO_NVAL))
        {
          watch->funcs->ref (watch);
          g_ptr_array_add (dead, watch);
        }
    }
  G_UNLOCK (hup_sources);
  /* each one may stop its watch, and the source may go with the last */
  for (i = 0; i < dead->len; i++)
    {
      MptcpHangupWatch *watch = g_ptr_array_index (dead, i);
      const MptcpHangupWatchFuncs *funcs = watch->funcs;

      funcs->hangup (watch);
      funcs->unref (watch);
    }
  return G_SOURCE_CONTINUE;
}

static void
hup_source_finalize (GSource *source)
{
  HupSource *hs = (HupSource *) source;

  if (hs->epfd >= 0)
    close (hs->epfd);
  g_hash_table_unref (hs->by_id);
  g_ptr_array_unref (hs->polled);
  g_ptr_array_unref (hs->pending);
  g_main_context_unref (hs->context);
}

static GSourceFuncs hup_source_funcs = {
  hup_source_prepare, hup_source_check, hup_source_dispatch, hup_source_finalize, NULL, NULL
};

/* Under the lock: the source of a context that watches nothing any more goes. */
static gboolean
hup_source_drop_if_empty (HupSource *hs)
{
  if (hs->polled->len > 0 || hs->pending->len > 0 || g_hash_table_size (hs->by_id) > 0)
    return FALSE;
  g_hash_table_remove (hup_sources, hs->context);
  if (g_hash_table_size (hup_sources) == 0)
    g_clear_pointer (&hup_sources, g_hash_table_unref);
  g_source_destroy (&hs->source);
  g_source_unref (&hs->source);
  return TRUE;
}

/* Under the lock: registers fd with the source's epoll instance. */
static gboolean
hup_watch_epoll (HupSource        *hs,
                 MptcpHangupWatch *watch,
                 int               fd)
{
  struct epoll_event ev;
  guint id;

  if (!hup_use_epoll || hs->epfd < 0)
    return FALSE;
  do
    id = ++hs->next_id;
  while (id == 0 || g_hash_table_contains (hs->by_id, GUINT_TO_POINTER (id)));
  memset (&ev, 0, sizeof ev);
  ev.events = EPOLLONESHOT;      /* HUP and ERR are always reported */
  ev.data.u64 = id;
  if (epoll_ctl (hs->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      g_debug ("Watching fd %d for a hangup through epoll: %s; polling it", fd, g_strerror (errno));
      return FALSE;
    }
  g_hash_table_insert (hs->by_id, GUINT_TO_POINTER (id), watch);
  watch->index = id;
  watch->mode = MPTCP_HANGUP_EPOLL;
  return TRUE;
}

void
_mptcp_hangup_watch_start (MptcpHangupWatch            *watch,
                           GMainContext                *context,
                           const MptcpHangupWatchFuncs *funcs)
{
  HupSource *hs;
  gboolean first;

  g_return_if_fail (watch->mode == MPTCP_HANGUP_NONE);
  G_LOCK (hup_sources);
  watch->funcs = funcs;
  if (hup_sources == NULL)
    hup_sources = g_hash_table_new (NULL, NULL);
  hs = g_hash_table_lookup (hup_sources, context);
  if (hs == NULL)
    {
      hs = (HupSource *) g_source_new (&hup_source_funcs, sizeof (HupSource));
      hs->context = g_main_context_ref (context);
      hs->epfd = hup_use_epoll ? epoll_create1 (EPOLL_CLOEXEC) : -1;
      if (hs->epfd >= 0)
        hs->ep_tag = g_source_add_unix_fd (&hs->source, hs->epfd, G_IO_IN);
      else if (hup_use_epoll)
        g_debug ("No epoll instance for hangup watches (%s): polling each fd",
                 g_strerror (errno));
      hs->by_id = g_hash_table_new (NULL, NULL);
      hs->polled = g_ptr_array_new ();
      hs->pending = g_ptr_array_new ();
      g_source_set_static_name (&hs->source, "[mptcp-glib] connection hangup");
      g_source_attach (&hs->source, context);
      g_hash_table_insert (hup_sources, context, hs);
    }
  first = hs->pending->len == 0;
  if (first)
    hs->arm_at = g_get_monotonic_time () + HUP_ARM_DELAY_US;
  watch->index = hs->pending->len;
  watch->mode = MPTCP_HANGUP_PENDING;
  g_ptr_array_add (hs->pending, watch);
  g_atomic_int_set (&hs->n_pending, (gint) hs->pending->len);
  G_UNLOCK (hup_sources);
  /* The thread that runs the context sees the pending watch in its next prepare(); only a
   * context another thread is blocked in needs to be woken (its poll has no timeout for
   * it). Acquiring it succeeds in the thread that runs it, and where nobody does. */
  if (first)
    {
      if (g_main_context_acquire (context))
        g_main_context_release (context);
      else
        g_main_context_wakeup (context);
    }
}

void
_mptcp_hangup_watch_stop (MptcpHangupWatch *watch,
                          GMainContext     *context,
                          int               fd)
{
  HupSource *hs;
  MptcpHangupWatch *last;

  if (watch->mode == MPTCP_HANGUP_NONE)
    return;
  G_LOCK (hup_sources);
  hs = g_hash_table_lookup (hup_sources, context);
  g_assert (hs != NULL);
  if (watch->mode == MPTCP_HANGUP_EPOLL)
    {
      g_hash_table_remove (hs->by_id, GUINT_TO_POINTER (watch->index));
      if (fd >= 0)
        epoll_ctl (hs->epfd, EPOLL_CTL_DEL, fd, NULL);
    }
  else
    {
      GPtrArray *list = watch->mode == MPTCP_HANGUP_PENDING ? hs->pending : hs->polled;

      g_assert (g_ptr_array_index (list, watch->index) == watch);
      if (watch->mode == MPTCP_HANGUP_POLLED)
        g_source_remove_unix_fd (&hs->source, g_steal_pointer (&watch->tag));
      last = g_ptr_array_index (list, list->len - 1);
      g_ptr_array_remove_index_fast (list, watch->index);
      if (last != watch)
        last->index = watch->index;
      g_atomic_int_set (&hs->n_pending, (gint) hs->pending->len);
    }
  watch->mode = MPTCP_HANGUP_NONE;
  (void) hup_source_drop_if_empty (hs);
  G_UNLOCK (hup_sources);
}
