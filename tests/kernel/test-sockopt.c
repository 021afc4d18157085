/* test-sockopt.c: the getsockopt readers (mptcp-sockopt-private.h) against the real kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <arpa/inet.h>
#include <sys/un.h>

#include "testbed.h"
#include "read-common.h"
#include "mptcp-sockopt-private.h"

/* ---- pure address handling -------------------------------------------------------- */

static void
test_addr_normalise (void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = g_htons (80) };
  struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = g_htons (443),
                               .sin6_scope_id = 3 };
  struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = g_htons (80) };
  struct sockaddr_storage back;
  MptcpSockoptAddr a, b, c;

  g_assert_cmpint (inet_pton (AF_INET, "192.0.2.1", &sin.sin_addr), ==, 1);
  g_assert_cmpint (inet_pton (AF_INET6, "2001:db8::1", &sin6.sin6_addr), ==, 1);
  g_assert_cmpint (inet_pton (AF_INET6, "::ffff:192.0.2.1", &mapped.sin6_addr), ==, 1);

  _mptcp_sockopt_addr_from_sockaddr (&a, (struct sockaddr *) &sin, sizeof sin);
  g_assert_cmpuint (a.family, ==, AF_INET);
  g_assert_cmpuint (a.port, ==, 80);
  g_assert_cmpmem (a.addr, 4, &sin.sin_addr, 4);

  /* v4-mapped IPv6 is the same endpoint as IPv4, byte for byte */
  _mptcp_sockopt_addr_from_sockaddr (&b, (struct sockaddr *) &mapped, sizeof mapped);
  g_assert_true (_mptcp_sockopt_addr_equal (&a, &b));

  _mptcp_sockopt_addr_from_sockaddr (&c, (struct sockaddr *) &sin6, sizeof sin6);
  g_assert_cmpuint (c.family, ==, AF_INET6);
  g_assert_cmpuint (c.port, ==, 443);
  g_assert_cmpuint (c.scope_id, ==, 3);
  g_assert_false (_mptcp_sockopt_addr_equal (&a, &c));
  {
    /* the kernel reports no scope: an endpoint is the same whatever its scope id */
    MptcpSockoptAddr d = c;

    d.scope_id = 0;
    g_assert_true (_mptcp_sockopt_addr_equal (&c, &d));
    d.port = 444;
    g_assert_false (_mptcp_sockopt_addr_equal (&c, &d));
    g_assert_true (_mptcp_sockopt_addr_same_host (&c, &d));
  }

  /* and back */
  g_assert_cmpuint (_mptcp_sockopt_addr_to_sockaddr (&a, &back), ==, sizeof (struct sockaddr_in));
  g_assert_cmpmem (&back, sizeof (struct sockaddr_in), &sin, sizeof sin);
  g_assert_cmpuint (_mptcp_sockopt_addr_to_sockaddr (&c, &back), ==, sizeof (struct sockaddr_in6));
  g_assert_cmpmem (&back, sizeof (struct sockaddr_in6), &sin6, sizeof sin6);

  /* too short, unknown family: nothing */
  _mptcp_sockopt_addr_from_sockaddr (&a, (struct sockaddr *) &sin6, sizeof sin);
  g_assert_cmpuint (a.family, ==, 0);
  sin.sin_family = AF_UNIX;
  _mptcp_sockopt_addr_from_sockaddr (&a, (struct sockaddr *) &sin, sizeof sin);
  g_assert_cmpuint (a.family, ==, 0);
  g_assert_cmpuint (_mptcp_sockopt_addr_to_sockaddr (&a, &back), ==, 0);
}

/* ---- what a socket is -------------------------------------------------------------- */

/* What the two reads decide, for kernels the testbed's cannot stand for: before 6.10 there is
 * no TCP_IS_MPTCP, and an MPTCP socket answers EOPNOTSUPP to it (a fallen-back one plain
 * TCP's ENOPROTOOPT); MPTCP_INFO then tells. */
static void
test_is_mptcp_answer (void)
{
  static const struct
  {
    int r_opt, value, r_info, expected;
  } cases[] = {
    { 0, 1, 0, 1 },                                   /* 6.10+: MPTCP */
    { 0, 0, 0, 0 },                                   /* 6.10+: fell back */
    { -EOPNOTSUPP, 0, 0, 1 },                         /* < 6.10: MPTCP */
    { -ENOPROTOOPT, 0, -EOPNOTSUPP, 0 },              /* < 6.10: fell back */
    { -ENOPROTOOPT, 0, -ENOPROTOOPT, 0 },             /* a TCP socket */
    { -EOPNOTSUPP, 0, -EBADF, -EBADF },               /* MPTCP_INFO's own error */
    { -EBADF, 0, 0, -EBADF },                         /* not a socket any more */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (_mptcp_sockopt_is_mptcp_answer (cases[i].r_opt, cases[i].value,
                                                     cases[i].r_info), ==, cases[i].expected);
}

static void
check_probe (gconstpointer data)
{
  g_autoptr(GSocket) mptcp = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  g_autoptr(GSocket) fallback = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_TCP);
  g_autoptr(GSocket) tcp = read_connect_tcp (G_SOCKET_FAMILY_IPV6, 1, TESTBED_PORT_SINK);
  g_autoptr(GSocket) unconnected = mptcp_socket_new (G_SOCKET_FAMILY_IPV6, NULL);
  MptcpSockoptProbe probe;
  int fds[2];
  int udp;

  g_assert_cmpint (_mptcp_sockopt_probe (g_socket_get_fd (mptcp), &probe), ==, 0);
  g_assert_cmpint (probe.kind, ==, MPTCP_SOCKOPT_KIND_MPTCP);
  g_assert_cmpint (probe.protocol, ==, IPPROTO_MPTCP);
  g_assert_cmpint (probe.family, ==, AF_INET);
  g_assert_cmpint (_mptcp_sockopt_is_mptcp (g_socket_get_fd (mptcp)), ==, 1);

  g_assert_cmpint (_mptcp_sockopt_probe (g_socket_get_fd (fallback), &probe), ==, 0);
  g_assert_cmpint (probe.kind, ==, MPTCP_SOCKOPT_KIND_MPTCP_FALLBACK);
  g_assert_cmpint (_mptcp_sockopt_is_mptcp (g_socket_get_fd (fallback)), ==, 0);

  g_assert_cmpint (_mptcp_sockopt_probe (g_socket_get_fd (tcp), &probe), ==, 0);
  g_assert_cmpint (probe.kind, ==, MPTCP_SOCKOPT_KIND_TCP);
  g_assert_cmpint (probe.family, ==, AF_INET6);

  g_assert_nonnull (unconnected);
  g_assert_cmpint (_mptcp_sockopt_probe (g_socket_get_fd (unconnected), &probe), ==, 0);
  g_assert_cmpint (probe.kind, ==, MPTCP_SOCKOPT_KIND_MPTCP);

  udp = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (_mptcp_sockopt_probe (udp, &probe), ==, 0);
  g_assert_cmpint (probe.kind, ==, MPTCP_SOCKOPT_KIND_NOT_STREAM);
  close (udp);

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  g_assert_cmpint (_mptcp_sockopt_probe (fds[0], &probe), ==, 0);
  g_assert_cmpint (probe.kind, ==, MPTCP_SOCKOPT_KIND_NOT_STREAM);
  close (fds[0]);
  close (fds[1]);

  g_assert_cmpint (_mptcp_sockopt_probe (-1, &probe), ==, -EBADF);
}

static void
test_probe (gconstpointer data)
{
  check_probe (data);
  read_run_unprivileged (check_probe, data);
}

static void
check_mptcp_info (gconstpointer data)
{
  g_autoptr(GSocket) mptcp = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  g_autoptr(GSocket) fallback = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_TCP);
  g_autoptr(GSocket) tcp = read_connect_tcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  guint8 buf[MPX_MPTCP_INFO_SIZE + 32];
  mpx_mptcp_info info;
  gsize len = 0;
  int r;

  /* the kernel says how much it filled: 96 bytes on 6.18, never more than asked */
  g_assert_cmpint (_mptcp_sockopt_get_mptcp_info (g_socket_get_fd (mptcp), buf, sizeof buf, &len), ==, 0);
  g_assert_cmpuint (len, >=, 48);
  g_assert_cmpuint (len, <=, MPX_MPTCP_INFO_SIZE);
  memcpy (&info, buf, MIN (len, sizeof info));
  g_assert_cmpuint (info.token, !=, 0);
  g_assert_cmpint (_mptcp_sockopt_get_mptcp_info (g_socket_get_fd (mptcp), buf, 16, &len), ==, 0);
  g_assert_cmpuint (len, ==, 16);

  r = _mptcp_sockopt_get_mptcp_info (g_socket_get_fd (fallback), buf, sizeof buf, &len);
  g_assert_true (r == -EOPNOTSUPP || r == -ENOPROTOOPT);
  g_assert_cmpuint (len, ==, 0);
  r = _mptcp_sockopt_get_mptcp_info (g_socket_get_fd (tcp), buf, sizeof buf, &len);
  g_assert_true (r == -EOPNOTSUPP || r == -ENOPROTOOPT);
}

static void
test_mptcp_info (gconstpointer data)
{
  check_mptcp_info (data);
  read_run_unprivileged (check_mptcp_info, data);
}

/* ---- subflow lists --------------------------------------------------------------------- */

/* MPTCP_FULL_INFO is Linux 6.5+. Before it (Debian 12's 6.1) these tests check that the
 * kernel refuses it with EOPNOTSUPP, which the library takes for "list the legacy way", and
 * test the legacy path where they would read FULL_INFO. */
static gboolean
kernel_has_full_info (void)
{
  return read_kernel_at_least (6, 5);
}

static int
read_full_info (MptcpSockoptList *list,
                int               fd)
{
  int r = _mptcp_sockopt_list_read (list, fd, MPTCP_SOCKOPT_PATH_FULL_INFO);

  if (kernel_has_full_info () || r != -EOPNOTSUPP)
    return r;
  g_assert_cmpuint (list->n_subflows, ==, 0);
  return _mptcp_sockopt_list_read (list, fd, MPTCP_SOCKOPT_PATH_LEGACY);
}

static void
assert_lists_agree (const MptcpSockoptList *full,
                    const MptcpSockoptList *legacy)
{
  guint i;

  g_assert_cmpuint (full->n_subflows, ==, legacy->n_subflows);
  for (i = 0; i < full->n_subflows; i++)
    {
      MptcpSockoptAddr fl, fr, ll, lr;

      _mptcp_sockopt_list_get_addrs (full, i, &fl, &fr);
      _mptcp_sockopt_list_get_addrs (legacy, i, &ll, &lr);
      g_assert_true (_mptcp_sockopt_addr_equal (&fl, &ll));
      g_assert_true (_mptcp_sockopt_addr_equal (&fr, &lr));
      g_assert_cmpuint (_mptcp_sockopt_list_state (full, i), ==, _mptcp_sockopt_list_state (legacy, i));
      g_assert_cmpuint (_mptcp_sockopt_list_id (full, i), ==, kernel_has_full_info () ? i + 1 : 0);
      g_assert_cmpuint (_mptcp_sockopt_list_id (legacy, i), ==, 0);
    }
}

/* Opens a connection with n_extra additional subflows (via in-kernel PM
 * endpoints set up by the caller) and checks both listing paths. */
static void
check_lists (gconstpointer data)
{
  guint n_extra = GPOINTER_TO_UINT (data);
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  MptcpSockoptList full, legacy, both;
  gint64 end;
  int fd = g_socket_get_fd (socket);
  guint i;

  _mptcp_sockopt_list_init (&full);
  _mptcp_sockopt_list_init (&legacy);
  _mptcp_sockopt_list_init (&both);

  /* a fresh connection: one subflow, the socket's own */
  g_assert_cmpint (read_full_info (&full, fd), ==, 0);
  g_assert_cmpuint (full.n_subflows, ==, 1);
  if (kernel_has_full_info ())
    {
      g_assert_cmpuint (full.n_kernel, ==, 1);
      g_assert_cmpuint (full.sfinfo_stride, ==, sizeof (mpx_subflow_info));
    }
  else
    g_test_message ("no MPTCP_FULL_INFO (Linux < 6.5): the legacy path stands in");
  g_assert_cmpuint (full.tcp_info_len, ==, MPTCP_SOCKOPT_TCP_INFO_SIZE);
  g_assert_cmpuint (_mptcp_sockopt_list_state (&full, 0), ==, 1 /* TCP_ESTABLISHED */);
  {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    MptcpSockoptAddr own, local, remote;

    g_assert_cmpint (getsockname (fd, (struct sockaddr *) &ss, &len), ==, 0);
    _mptcp_sockopt_addr_from_sockaddr (&own, (struct sockaddr *) &ss, len);
    _mptcp_sockopt_list_get_addrs (&full, 0, &local, &remote);
    g_assert_true (_mptcp_sockopt_addr_equal (&own, &local));
    len = sizeof ss;
    g_assert_cmpint (getpeername (fd, (struct sockaddr *) &ss, &len), ==, 0);
    _mptcp_sockopt_addr_from_sockaddr (&own, (struct sockaddr *) &ss, len);
    g_assert_true (_mptcp_sockopt_addr_equal (&own, &remote));
  }

  if (n_extra > 0)
    {
      read_send_bytes (socket, 1000);
      end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      do
        {
          guint established = 0;

          g_usleep (10 * 1000);
          g_assert_cmpint (read_full_info (&full, fd), ==, 0);
          for (i = 0; i < full.n_subflows; i++)
            established += _mptcp_sockopt_list_state (&full, i) == 1;
          if (established == n_extra + 1)
            break;
        }
      while (g_get_monotonic_time () < end);
    }

  g_assert_cmpint (read_full_info (&full, fd), ==, 0);
  g_assert_cmpint (_mptcp_sockopt_list_read (&legacy, fd, MPTCP_SOCKOPT_PATH_LEGACY), ==, 0);
  g_assert_cmpuint (full.n_subflows, ==, n_extra + 1);
  g_assert_cmpuint (legacy.addrs_stride, ==, sizeof (struct mptcp_subflow_addrs));
  g_assert_cmpuint (legacy.tcp_info_len, ==, MPTCP_SOCKOPT_TCP_INFO_SIZE);
  g_assert_cmpuint (legacy.sfinfo_stride, ==, 0);
  assert_lists_agree (&full, &legacy);

  /* one list switching paths back and forth keeps working */
  g_assert_cmpint (_mptcp_sockopt_list_read (&both, fd, MPTCP_SOCKOPT_PATH_LEGACY), ==, 0);
  assert_lists_agree (&full, &both);
  g_assert_cmpint (read_full_info (&both, fd), ==, 0);
  assert_lists_agree (&both, &legacy);

  /* the tcp_info of each entry is the subflow's: all sent bytes of the
   * connection are somewhere */
  {
    guint64 acked = 0;

    for (i = 0; i < full.n_subflows; i++)
      {
        struct tcp_info ti;

        memcpy (&ti, _mptcp_sockopt_list_tcp_info (&full, i), sizeof ti);
        acked += ti.tcpi_bytes_acked;
      }
    g_assert_cmpuint (acked, >=, n_extra > 0 ? 1000 : 0);
  }

  _mptcp_sockopt_list_clear (&full);
  _mptcp_sockopt_list_clear (&legacy);
  _mptcp_sockopt_list_clear (&both);
}

static void
test_lists (gconstpointer data)
{
  read_use_kernel_pm_n_endpoints (GPOINTER_TO_UINT (data));
  check_lists (data);
  read_run_unprivileged (check_lists, data);
  read_restore_userspace_pm ();
}

static void
check_lists_special (gconstpointer data)
{
  g_autoptr(GSocket) unconnected = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GSocket) fallback = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_TCP);
  g_autoptr(GSocket) tcp = read_connect_tcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  MptcpSockoptList list;
  int r;

  _mptcp_sockopt_list_init (&list);

  /* not connected: no subflows */
  g_assert_cmpint (_mptcp_sockopt_list_read (&list, g_socket_get_fd (unconnected),
                                             MPTCP_SOCKOPT_PATH_FULL_INFO), ==,
                   kernel_has_full_info () ? 0 : -EOPNOTSUPP);
  g_assert_cmpuint (list.n_subflows, ==, 0);
  g_assert_cmpint (_mptcp_sockopt_list_read (&list, g_socket_get_fd (unconnected),
                                             MPTCP_SOCKOPT_PATH_LEGACY), ==, 0);
  if (!kernel_has_full_info () && list.n_subflows == 1)
    {
      /* 6.1 makes the first subflow with the socket: listed, closed, no addresses */
      MptcpSockoptAddr local, remote;

      g_test_message ("Linux < 6.5: the unconnected socket's first subflow is listed");
      g_assert_cmpuint (_mptcp_sockopt_list_state (&list, 0), ==, 7 /* TCP_CLOSE */);
      _mptcp_sockopt_list_get_addrs (&list, 0, &local, &remote);
      g_assert_cmpuint (local.port, ==, 0);
      g_assert_cmpuint (remote.port, ==, 0);
    }
  else
    g_assert_cmpuint (list.n_subflows, ==, 0);

  /* fell back, or plain TCP: refused, and nothing listed */
  r = _mptcp_sockopt_list_read (&list, g_socket_get_fd (fallback), MPTCP_SOCKOPT_PATH_FULL_INFO);
  g_assert_cmpint (r, ==, -EOPNOTSUPP);
  g_assert_cmpuint (list.n_subflows, ==, 0);
  r = _mptcp_sockopt_list_read (&list, g_socket_get_fd (fallback), MPTCP_SOCKOPT_PATH_LEGACY);
  g_assert_cmpint (r, ==, -EOPNOTSUPP);
  r = _mptcp_sockopt_list_read (&list, g_socket_get_fd (tcp), MPTCP_SOCKOPT_PATH_FULL_INFO);
  g_assert_true (r == -EOPNOTSUPP || r == -ENOPROTOOPT);
  g_assert_cmpint (_mptcp_sockopt_is_mptcp (g_socket_get_fd (tcp)), ==, 0);

  _mptcp_sockopt_list_clear (&list);
}

static void
test_lists_special (gconstpointer data)
{
  check_lists_special (data);
  read_run_unprivileged (check_lists_special, data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/sockopt/addr/normalise", test_addr_normalise);
  g_test_add_func ("/sockopt/is-mptcp/answers", test_is_mptcp_answer);
  g_test_add_data_func ("/sockopt/probe", NULL, test_probe);
  g_test_add_data_func ("/sockopt/mptcp-info", NULL, test_mptcp_info);
  g_test_add_data_func ("/sockopt/list/1-subflow", GUINT_TO_POINTER (0), test_lists);
  g_test_add_data_func ("/sockopt/list/2-subflows", GUINT_TO_POINTER (1), test_lists);
  /* 9 subflows: more than the first buffer holds (8) */
  g_test_add_data_func ("/sockopt/list/9-subflows", GUINT_TO_POINTER (8), test_lists);
  g_test_add_data_func ("/sockopt/list/special", NULL, test_lists_special);

  return g_test_run ();
}
