/* request-common.h: path-manager requests made behind a connection's back (test-connection-events,
 * test-connection-list, test-stress)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <arpa/inet.h>
#include <linux/mptcp.h>

#include "testbed.h"
#include "mptcp-netlink-private.h"

/* A subflow request (SUBFLOW_CREATE, SUBFLOW_DESTROY) of IPv4 addresses for token, through the
 * library's synchronous request on a broker of its own (not the connection's); local_id 0: no
 * id attribute. The reply, or NULL with error set. */
static inline MptcpNlReply *
request_subflow_v4 (guint8       cmd,
                    guint32      token,
                    const char  *local_ip,
                    guint16      local_port,
                    guint8       local_id,
                    const char  *remote_ip,
                    guint16      remote_port,
                    GError     **error)
{
  MptcpNlRequest request = { 0 };

  request.cmd = cmd;
  request.token = token;
  request.has_token = TRUE;
  request.has_addr = TRUE;
  request.addr.family = AF_INET;
  g_assert_cmpint (inet_pton (AF_INET, local_ip, &request.addr.addr.v4), ==, 1);
  request.addr.port = local_port;
  if (local_id != 0)
    {
      request.addr.id = local_id;
      request.addr.has_id = TRUE;
    }
  request.has_remote = TRUE;
  request.remote.family = AF_INET;
  g_assert_cmpint (inet_pton (AF_INET, remote_ip, &request.remote.addr.v4), ==, 1);
  request.remote.port = remote_port;
  return _mptcp_netlink_request_sync (&request, 0, NULL, error);
}
