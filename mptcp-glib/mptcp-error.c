/* mptcp-error.c: the MptcpError domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-error.h"

/**
 * SECTION:mptcp-error
 * @Title: MptcpError
 * @Short_description: errors specific to Multipath TCP
 *
 * mptcp-glib reports failures in two domains. %MPTCP_ERROR holds what only
 * MPTCP can get wrong: a socket that is not MPTCP, a connection that fell back
 * to TCP, a missing capability or the wrong path manager, a subflow or endpoint
 * that does not exist, or a request the kernel refused (with the kernel's own
 * explanation in the message). Everything the operating system reports in its
 * own terms (a refused connection, an unreachable host, a timeout) comes as
 * %G_IO_ERROR, and a cancelled operation is always %G_IO_ERROR_CANCELLED.
 *
 * A failed call never changes anything: an operation that reports an error
 * left the connection, its subflows and the path manager as they were.
 */

/**
 * mptcp_error_quark:
 *
 * The quark of the %MPTCP_ERROR domain.
 *
 * Returns: the error domain quark
 *
 * Since: 0.1
 */
GQuark
mptcp_error_quark (void)
{
  /* written by hand: clang-format would space out G_DEFINE_QUARK's name */
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("mptcp-error-quark");
  return quark;
}
