/* mgs-registrations.h: the clients and their registrations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The table of registrations (id → Reg) and of clients (unique bus name → Client). A
 * registration ends on reg_free(): when the kernel reports the connection closed
 * (mgs-connection.c), on Unregister, or when its client leaves the bus (client_vanished()).
 */

#pragma once

#include "mgs-service-private.h"

G_BEGIN_DECLS

extern GHashTable *clients;
extern GHashTable *regs;
extern GHashTable *steer_ok;
extern guint next_id;
extern guint max_per_client;
extern guint control_timeout_ms;

void
client_free (Client *client);

Client *
client_ensure (const char *name);

void
client_maybe_drop (Client *client);

char *
reg_path (guint id);

void
reg_free (Reg *reg);

void
name_owner_changed_cb (GDBusConnection *connection,
                       const char      *sender_name,
                       const char      *object_path,
                       const char      *interface_name,
                       const char      *signal_name,
                       GVariant        *parameters,
                       gpointer         user_data);

void
check_client_alive (const char *name);

G_END_DECLS
