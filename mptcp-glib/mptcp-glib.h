/* mptcp-glib.h: the one header users include
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __MPTCP_GLIB_INSIDE__

#include <gio/gio.h>

#include "mptcp-version.h"
#include "mptcp-version-macros.h"
#include "mptcp-enum-types.h"
#include "mptcp-error.h"
#include "mptcp-socket.h"
/* @headers@ (add new public headers above this line) */

#undef __MPTCP_GLIB_INSIDE__
