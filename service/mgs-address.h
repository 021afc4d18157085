/* mgs-address.h: MPTCP addresses as D-Bus values, and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "mptcp-glib.h"
#include "mptcp-netlink-private.h"

G_BEGIN_DECLS

GVariant *
address_to_variant (int                    family,
                    const MptcpNlInetAddr *addr,
                    guint16                port);

gboolean
address_from_variant (GVariant       *value,
                      const char     *what,
                      MptcpNlAddress *out,
                      GError        **error);

void
address_from_inet (GInetSocketAddress *sa,
                   MptcpNlAddress     *out);

G_END_DECLS
