/* mptcp-monitor.c: every MPTCP event of the network namespace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-monitor.h"
#include "mptcp-monitor-private.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"

/**
 * SECTION:mptcp-monitor
 * @Title: MptcpMonitor
 * @Short_description: watch every MPTCP event of the network namespace
 * @See_also: #MptcpEvent, #MptcpConnection
 *
 * An #MptcpMonitor delivers every event of the kernel's `mptcp_pm_events`
 * netlink group, as `ip mptcp monitor` prints them: connections created,
 * established and closed, addresses announced and removed by peers,
 * subflows established, closed and reprioritised, listeners created and
 * closed. They come as #MptcpEvent values through the #MptcpMonitor::event
 * signal, for every MPTCP connection and listener of the network namespace,
 * whichever process owns it. To follow one connection of your own, its
 * #MptcpConnection signals are simpler; a monitor is for tools that watch
 * the whole host.
 *
 * |[<!-- language="C" -->
 * static void
 * on_event (MptcpMonitor *monitor, MptcpEvent *event, gpointer user_data)
 * {
 *   g_autofree char *line = mptcp_event_to_string (event);
 *
 *   g_print ("%s\n", line);
 * }
 *
 *   g_autoptr(MptcpMonitor) monitor = mptcp_monitor_new (NULL, &error);
 *
 *   if (monitor == NULL)
 *     g_error ("%s", error->message);
 *   g_signal_connect (monitor, "event", G_CALLBACK (on_event), NULL);
 *   // also "event::subflow-closed" for one event type only
 * ]|
 *
 * Receiving the events needs CAP_NET_ADMIN in the user namespace that owns
 * the network namespace (root, or any user inside its own `unshare -Urn`
 * namespaces); without it mptcp_monitor_new() fails with
 * %MPTCP_ERROR_PERMISSION_DENIED. The monitor sees the network namespace it
 * was created in, whatever the thread does later.
 *
 * The kernel drops events when the monitor's socket buffer is full, for
 * instance while the main context is not iterated for a long time during a
 * burst of connections. The monitor then emits #MptcpMonitor::overrun: some
 * events in between were lost, and no later event repeats them; an
 * application that keeps state from the events must rebuild it (for its own
 * connections, mptcp_connection_refresh() reads the kernel's view).
 *
 * A monitor belongs to the thread-default #GMainContext of the thread that
 * created it: its signals are emitted there, while that context is
 * iterated, and its last reference must be dropped in that thread. Monitors
 * and #MptcpConnection objects of one context share a single event socket.
 *
 * Since: 0.1
 */

/**
 * MptcpMonitor:
 *
 * Watches every MPTCP event of the network namespace and emits it as an
 * #MptcpEvent: the #MptcpMonitor::event signal, plus #MptcpMonitor::overrun
 * when the kernel dropped events. Create it with mptcp_monitor_new(); it
 * needs CAP_NET_ADMIN, and emits its signals in the thread-default main
 * context of the thread that created it.
 *
 * Since: 0.1
 */
struct _MptcpMonitor
{
  GObject       parent_instance;

  gboolean      initialized;
  MptcpNetlink *netlink;
  guint         subscription;
  guint64       lost_base;     /* the broker's count when the monitor subscribed */
};

enum
{
  SIGNAL_EVENT,
  SIGNAL_OVERRUN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* the detail of ::event for each known type, indexed by the kernel's number */
#define MAX_EVENT_TYPE 16
static GQuark event_details[MAX_EVENT_TYPE + 1];

static void mptcp_monitor_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MptcpMonitor, mptcp_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mptcp_monitor_initable_iface_init))

static void
mptcp_monitor_unsubscribe (MptcpMonitor *self)
{
  if (self->subscription != 0)
    {
      _mptcp_netlink_unsubscribe (self->netlink, self->subscription);
      self->subscription = 0;
    }
}

static void
mptcp_monitor_dispose (GObject *object)
{
  MptcpMonitor *self = MPTCP_MONITOR (object);

  mptcp_monitor_unsubscribe (self);
  g_clear_pointer (&self->netlink, _mptcp_netlink_unref);

  G_OBJECT_CLASS (mptcp_monitor_parent_class)->dispose (object);
}

static void
mptcp_monitor_class_init (MptcpMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  g_autoptr(GEnumClass) types = NULL;

  object_class->dispose = mptcp_monitor_dispose;

  /**
   * MptcpMonitor::event:
   * @monitor: the #MptcpMonitor
   * @event: the #MptcpEvent, with every attribute the kernel sent
   *
   * Emitted for every MPTCP event of the network namespace, in the order
   * the kernel sent them, in the main context the monitor was created in.
   * The signal detail is the nick of the #MptcpEventType (`created`,
   * `subflow-established`, `listener-closed` ...): connect to
   * `event::subflow-closed` to get only those. Events of types this version
   * does not know have no detail.
   *
   * Since: 0.1
   */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  MPTCP_TYPE_EVENT);

  /**
   * MptcpMonitor::overrun:
   * @monitor: the #MptcpMonitor
   *
   * Emitted when the kernel dropped events because the monitor's socket
   * buffer was full: the events that follow are complete again, but some of
   * those in between are lost for good. An application that keeps state
   * from the events must rebuild it.
   *
   * Where the kernel tells (the event socket's drop counter, Linux 4.12 and
   * later), mptcp_monitor_get_lost_events() includes the events lost by the
   * time of this emission: the difference to its value at the previous
   * emission is how many this overrun lost.
   *
   * Since: 0.1
   */
  signals[SIGNAL_OVERRUN] =
    g_signal_new ("overrun",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  types = g_type_class_ref (MPTCP_TYPE_EVENT_TYPE);
  for (guint i = 0; i < types->n_values; i++)
    {
      const GEnumValue *value = &types->values[i];

      if (value->value > 0 && value->value <= MAX_EVENT_TYPE)
        event_details[value->value] = g_quark_from_static_string (value->value_nick);
    }
}

static void
mptcp_monitor_init (MptcpMonitor *self)
{
}

static void
event_cb (const MptcpNlEvent *nl_event,
          gpointer            user_data)
{
  MptcpMonitor *self = user_data;
  MptcpEvent *event = _mptcp_event_new_from_netlink (nl_event);
  GQuark detail = 0;

  if (nl_event->type <= MAX_EVENT_TYPE
      && mptcp_event_get_event_type (event) != MPTCP_EVENT_TYPE_UNKNOWN)
    detail = event_details[nl_event->type];

  /* a handler may drop the last reference to the monitor */
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_EVENT], detail, event);
  g_object_unref (self);
  mptcp_event_unref (event);
}

/**
 * mptcp_monitor_get_lost_events:
 * @monitor: an #MptcpMonitor
 *
 * How many events the kernel dropped on the event socket since the monitor
 * was created, as the kernel counts them (the socket's drop counter, read at
 * each #MptcpMonitor::overrun). The event socket is shared by the monitors
 * and connections of one main context, and sized as `ip mptcp monitor`
 * sizes its own (1 MiB with CAP_NET_ADMIN, else the largest buffer
 * `net.core.rmem_max` allows), so an overrun is rare.
 *
 * Returns: the number of events lost; 0 also where the kernel does not tell
 *
 * Since: 0.2
 */
guint64
mptcp_monitor_get_lost_events (MptcpMonitor *monitor)
{
  g_return_val_if_fail (MPTCP_IS_MONITOR (monitor), 0);

  if (monitor->netlink == NULL)
    return 0;
  return _mptcp_netlink_get_events_lost (monitor->netlink) - monitor->lost_base;
}

static void
overrun_cb (gpointer user_data)
{
  MptcpMonitor *self = user_data;

  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_OVERRUN], 0);
  g_object_unref (self);
}

static gboolean
mptcp_monitor_initable_init (GInitable     *initable,
                             GCancellable  *cancellable,
                             GError       **error)
{
  MptcpMonitor *self = MPTCP_MONITOR (initable);

  if (self->initialized)
    {
      if (self->subscription != 0)
        return TRUE;
      g_set_error_literal (error, MPTCP_ERROR, MPTCP_ERROR_FAILED,
                           "The monitor could not be initialized");
      return FALSE;
    }
  self->initialized = TRUE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* a broker given by _mptcp_monitor_new_for_netlink() fixes the context; otherwise the
   * thread-default one's */
  if (self->netlink == NULL &&
      (self->netlink = _mptcp_netlink_get_for_context (NULL, error)) == NULL)
    return FALSE;

  self->lost_base = _mptcp_netlink_get_events_lost (self->netlink);
  self->subscription = _mptcp_netlink_subscribe (self->netlink, TRUE, 0,
                                                 event_cb, overrun_cb, self, error);
  return self->subscription != 0;
}

static void
mptcp_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = mptcp_monitor_initable_init;
}

/**
 * mptcp_monitor_new:
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Creates a monitor of every MPTCP event of the calling thread's network
 * namespace. Its signals are emitted in the thread-default main context of
 * the calling thread (g_main_context_ref_thread_default()); events arrive
 * only while that context is iterated. Events of connections and listeners
 * made before this call are not replayed.
 *
 * Fails with %MPTCP_ERROR_PERMISSION_DENIED without CAP_NET_ADMIN in the
 * user namespace that owns the network namespace, and with
 * %MPTCP_ERROR_NOT_SUPPORTED on a kernel without the MPTCP netlink family or
 * its event group.
 *
 * Returns: (transfer full): a new #MptcpMonitor, or %NULL on error
 *
 * Since: 0.1
 */
MptcpMonitor *
mptcp_monitor_new (GCancellable  *cancellable,
                   GError       **error)
{
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (MPTCP_TYPE_MONITOR, cancellable, error, NULL);
}

MptcpMonitor *
_mptcp_monitor_new_for_netlink (MptcpNetlink  *netlink,
                                GError       **error)
{
  MptcpMonitor *self;

  g_return_val_if_fail (netlink != NULL, NULL);

  self = g_object_new (MPTCP_TYPE_MONITOR, NULL);
  self->netlink = _mptcp_netlink_ref (netlink);
  if (!g_initable_init (G_INITABLE (self), NULL, error))
    g_clear_object (&self);
  return self;
}

MptcpNetlink *
_mptcp_monitor_get_netlink (MptcpMonitor *self)
{
  g_return_val_if_fail (MPTCP_IS_MONITOR (self), NULL);

  return self->netlink;
}
