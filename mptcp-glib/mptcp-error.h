/* mptcp-error.h: the MptcpError domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__MPTCP_GLIB_INSIDE__) && !defined (MPTCP_GLIB_COMPILATION)
#error "Only <mptcp-glib/mptcp-glib.h> can be included directly."
#endif

#include <glib.h>
#include "mptcp-version-macros.h"

G_BEGIN_DECLS

/**
 * MPTCP_ERROR:
 *
 * The error domain of mptcp-glib: failures that are specific to Multipath
 * TCP. Errors of the operating system itself (an unreachable host, a refused
 * connection, a timeout) use %G_IO_ERROR, and cancellation is always
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.1
 */
#define MPTCP_ERROR (mptcp_error_quark ())

/**
 * MptcpError:
 * @MPTCP_ERROR_FAILED: a failure with no more specific code
 * @MPTCP_ERROR_NOT_MPTCP: the socket is not an MPTCP socket (a plain TCP
 *   socket, or not a stream socket at all)
 * @MPTCP_ERROR_FALLBACK: the connection has fallen back to plain TCP, so
 *   MPTCP operations are no longer possible on it
 * @MPTCP_ERROR_DISABLED: MPTCP is built into the kernel but disabled in this
 *   network namespace (`net.mptcp.enabled` is 0)
 * @MPTCP_ERROR_NOT_SUPPORTED: the running kernel lacks MPTCP, or lacks the
 *   feature that was asked for
 * @MPTCP_ERROR_PERMISSION_DENIED: the operation needs CAP_NET_ADMIN in the
 *   user namespace that owns the network namespace
 * @MPTCP_ERROR_WRONG_PATH_MANAGER: the operation needs the other path manager
 *   (per-connection control needs `net.mptcp.path_manager=userspace`)
 * @MPTCP_ERROR_NOT_ESTABLISHED: the connection is not fully established yet
 * @MPTCP_ERROR_NO_SUCH_SUBFLOW: the subflow does not exist (any more)
 * @MPTCP_ERROR_INVALID_ADDRESS: an address is unusable for this request: wrong
 *   family, not owned by this host, unresolvable, or without a needed port
 * @MPTCP_ERROR_KERNEL_REFUSED: the kernel refused the request; the message
 *   carries the kernel's own explanation (its extended acknowledgement)
 * @MPTCP_ERROR_CLOSED: the connection is closed
 * @MPTCP_ERROR_NO_SUCH_ENDPOINT: no path-manager endpoint has that id or
 *   address
 * @MPTCP_ERROR_ENDPOINT_EXISTS: an endpoint with that address or id exists
 *   already
 * @MPTCP_ERROR_OUT_OF_RANGE: a value (a limit, an address id) is outside the
 *   range the kernel accepts
 * @MPTCP_ERROR_PEER_REFUSED: the peer refused a new subflow: it reset the
 *   join right after the handshake (an in-kernel path manager at its
 *   `subflows` limit does so). Since: 0.2
 *
 * Error codes of the %MPTCP_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum /*< prefix=MPTCP_ERROR >*/
{
  MPTCP_ERROR_FAILED,
  MPTCP_ERROR_NOT_MPTCP,
  MPTCP_ERROR_FALLBACK,
  MPTCP_ERROR_DISABLED,
  MPTCP_ERROR_NOT_SUPPORTED,
  MPTCP_ERROR_PERMISSION_DENIED,
  MPTCP_ERROR_WRONG_PATH_MANAGER,
  MPTCP_ERROR_NOT_ESTABLISHED,
  MPTCP_ERROR_NO_SUCH_SUBFLOW,
  MPTCP_ERROR_INVALID_ADDRESS,
  MPTCP_ERROR_KERNEL_REFUSED,
  MPTCP_ERROR_CLOSED,
  MPTCP_ERROR_NO_SUCH_ENDPOINT,
  MPTCP_ERROR_ENDPOINT_EXISTS,
  MPTCP_ERROR_OUT_OF_RANGE,
  MPTCP_ERROR_PEER_REFUSED,
} MptcpError;

MPTCP_AVAILABLE_IN_0_1
GQuark mptcp_error_quark (void);

G_END_DECLS
