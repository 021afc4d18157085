/* mgs-service-private.h: what the rooms of mptcp-glib-service share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A client (a unique bus name) and its registrations (a Reg: a connection the client steers by
 * token), and the service's bus connection and D-Bus manager object, which main() sets up
 * (mptcp-glib-service.c). Every room may include it; it includes no room.
 */

#pragma once

#include <gio/gio.h>

#include "mptcp-glib.h"
#include "mptcp-token-control-private.h"
#include "mgs-dbus.h"

G_BEGIN_DECLS

typedef struct
{
  char       *name;        /* unique bus name */
  GHashTable *regs;        /* id → Reg (not owned) */
  guint       n_pending;   /* Register calls not answered yet */
} Client;

typedef struct
{
  guint              id;
  Client            *client;
  MptcpTokenControl *tc;
  guint32            token;
  MptcpNlAddress     local;
  MptcpNlAddress     remote;
} Reg;

extern GDBusConnection *bus;
extern MgsDbusService1 *manager;

G_END_DECLS
