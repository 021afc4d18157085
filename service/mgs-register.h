/* mgs-register.h: Register, RegisterToken and ListRegistrations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Register takes the connection's socket (mgs-socket.c) and asks polkit for steer-own once a
 * client; RegisterToken is an admin call (mgs-admin.c). Each client holds at most
 * max_per_client registrations.
 */

#pragma once

#include <gio/gunixfdlist.h>

#include "mgs-service-private.h"

G_BEGIN_DECLS

gboolean
handle_register (MgsDbusService1       *object,
                 GDBusMethodInvocation *invocation,
                 GUnixFDList           *fd_list,
                 GVariant              *arg_socket,
                 GVariant              *arg_options,
                 gpointer               user_data);

gboolean
handle_register_token (MgsDbusService1       *object,
                       GDBusMethodInvocation *invocation,
                       guint                  token,
                       GVariant              *options,
                       gpointer               user_data);

gboolean
handle_list_registrations (MgsDbusService1       *object,
                           GDBusMethodInvocation *invocation,
                           gpointer               user_data);

G_END_DECLS
