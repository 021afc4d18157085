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
#include "mptcp-info.h"
#include "mptcp-connection.h"
#include "mptcp-subflow.h"
#include "mptcp-client.h"
#include "mptcp-socket-listener.h"
#include "mptcp-event.h"
#include "mptcp-monitor.h"
#include "mptcp-endpoint.h"
#include "mptcp-path-manager.h"
#include "mptcp-subflow-entry.h"
#include "mptcp-connection-entry.h"
#include "mptcp-connection-list.h"
/* @headers@ (add new public headers above this line) */

#undef __MPTCP_GLIB_INSIDE__
