/* mptcp-hangup-watch-private.h: one shared watch per main context for sockets' hangups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-hangup-watch-private.h is private to mptcp-glib"
#endif

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MPTCP_HANGUP_NONE,             /* not watched */
  MPTCP_HANGUP_EPOLL,            /* through the context's epoll instance */
  MPTCP_HANGUP_POLLED,           /* its fd polled by the context's source itself */
  MPTCP_HANGUP_PENDING,          /* to be registered one of the two ways, shortly */
} MptcpHangupMode;

typedef struct _MptcpHangupWatch MptcpHangupWatch;

/* What a watch calls. ref and unref hold the watch's owner while the hangup
 * callback runs outside the lock (the owner may be dropped in another thread);
 * hangup gets the watch, which its owner embeds; fd, when a pending watch is
 * registered, gives the fd to watch, or -1 if the owner's socket was closed
 * meanwhile (its number may be another file's by now; not watched then). */
typedef struct
{
  void (*ref)    (MptcpHangupWatch *watch);
  void (*unref)  (MptcpHangupWatch *watch);
  void (*hangup) (MptcpHangupWatch *watch);
  int  (*fd)     (MptcpHangupWatch *watch);
} MptcpHangupWatchFuncs;

/* Embedded in its owner; all zero when not watching. */
struct _MptcpHangupWatch
{
  const MptcpHangupWatchFuncs *funcs;
  gpointer tag;                  /* MPTCP_HANGUP_POLLED: the fd's tag in the source */
  guint index;                   /* EPOLL: its registration id; POLLED, PENDING: its place in
                                  * the source's list of them */
  MptcpHangupMode mode;
};

/* Watches the fd that funcs->fd gives for a hangup (HUP, ERR) in context:
 * funcs->hangup runs there, at most once for an epoll registration. The
 * registration (a system call) is made about 1 ms after the start, in a
 * dispatch of context: off the path from a connection's construction to its
 * first events and operations, and never for a watch stopped before. A hangup
 * that came meanwhile is reported as soon as it is registered. */
G_GNUC_INTERNAL
void _mptcp_hangup_watch_start (MptcpHangupWatch            *watch,
                                GMainContext                *context,
                                const MptcpHangupWatchFuncs *funcs);
/* Ends the watch; fd is -1 if it was closed (its number may be another
 * file's by now). */
G_GNUC_INTERNAL
void _mptcp_hangup_watch_stop  (MptcpHangupWatch            *watch,
                                GMainContext                *context,
                                int                          fd);
/* For tests: watches registered from now on (a pending one included) poll
 * each fd (FALSE) instead of going through epoll (TRUE, the default). */
G_GNUC_INTERNAL
void _mptcp_hangup_watch_set_epoll (gboolean use);

G_END_DECLS
