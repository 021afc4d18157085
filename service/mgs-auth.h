/* mgs-auth.h: polkit: may the caller do this?
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every check asks polkit's CheckAuthorization about the caller's bus name; the service keeps
 * no answer but steer-own's (mgs-register.c).
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef void (*AuthFunc) (GError *error, gpointer user_data);

void
check_auth (const char *sender,
            const char *action,
            AuthFunc    func,
            gpointer    user_data);

G_END_DECLS
