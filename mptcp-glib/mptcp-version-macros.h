/* mptcp-version-macros.h: export and availability macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <glib.h>

#ifndef _MPTCP_EXTERN
#define _MPTCP_EXTERN __attribute__((visibility ("default"))) extern
#endif

#define MPTCP_AVAILABLE_IN_ALL _MPTCP_EXTERN
#define MPTCP_AVAILABLE_IN_0_1 _MPTCP_EXTERN
#define MPTCP_AVAILABLE_IN_0_2 _MPTCP_EXTERN
