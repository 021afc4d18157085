/* bench-common.h: small helpers shared by the benches (header only)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include <glib.h>

static inline int
bench_cmp_double (const void *a,
                  const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* The median of v's n values (0 for none); sorts v. */
static inline double
bench_median (double *v,
              guint   n)
{
  if (n == 0)
    return 0;
  qsort (v, n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The connection's established subflows other than the initial one (MPTCP_TCPINFO; the first
 * 8 subflows are looked at, 0 when the read fails). */
static inline guint
bench_extra_established (int fd)
{
  struct
  {
    struct mptcp_subflow_data d;
    struct tcp_info info[8];
  } buf;
  socklen_t len = sizeof buf;
  guint n = 0;

  memset (&buf.d, 0, sizeof buf.d);
  buf.d.size_subflow_data = sizeof buf.d;
  buf.d.size_user = sizeof (struct tcp_info);
  if (getsockopt (fd, SOL_MPTCP, MPTCP_TCPINFO, &buf, &len) != 0)
    return 0;
  for (guint i = 1; i < buf.d.num_subflows && i < 8; i++)
    {
      const guint8 *p = (const guint8 *) buf.info + (gsize) i * buf.d.size_user;

      if (p[0] == 1 /* TCP_ESTABLISHED */)
        n++;
    }
  return n;
}
