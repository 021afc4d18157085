/* test-error.c: MptcpError and the socket helpers' argument checks (no kernel testbed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stddef.h>
#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-info-private.h"
#include "mptcp-kernel-private.h"

static void
test_error_domain (void)
{
  g_autoptr(GError) error = NULL;
  GEnumClass *klass;

  g_assert_cmpstr (g_quark_to_string (MPTCP_ERROR), ==, "mptcp-error-quark");

  /* the enum type is registered, with a nick for every code */
  klass = g_type_class_ref (MPTCP_TYPE_ERROR);
  g_assert_nonnull (g_enum_get_value (klass, MPTCP_ERROR_KERNEL_REFUSED));
  g_assert_cmpstr (g_enum_get_value (klass, MPTCP_ERROR_NOT_MPTCP)->value_nick, ==, "not-mptcp");
  g_type_class_unref (klass);

  g_set_error_literal (&error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK, "x");
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_FALLBACK);
}

static void
test_version (void)
{
  g_autofree char *text = g_strdup_printf ("%d.%d.%d", MPTCP_MAJOR_VERSION, MPTCP_MINOR_VERSION,
                                           MPTCP_MICRO_VERSION);

  /* from the version macros, so that a release bump does not break it */
  g_assert_true (MPTCP_CHECK_VERSION (MPTCP_MAJOR_VERSION, MPTCP_MINOR_VERSION, MPTCP_MICRO_VERSION));
  g_assert_true (MPTCP_CHECK_VERSION (MPTCP_MAJOR_VERSION, 0, 0));
  g_assert_false (MPTCP_CHECK_VERSION (MPTCP_MAJOR_VERSION, MPTCP_MINOR_VERSION,
                                       MPTCP_MICRO_VERSION + 1));
  g_assert_false (MPTCP_CHECK_VERSION (MPTCP_MAJOR_VERSION + 1, 0, 0));
  g_assert_cmpstr (MPTCP_VERSION_S, ==, text);
}

/* Kernels before 6.18 return a shorter mptcp_info (6.1: 48 of its 96 bytes), and a subflow
 * may have no tcp_info at all: the fields beyond what the kernel sent are absent, and read 0. */
static void
test_info_short_snapshot (void)
{
  guint8 raw[MPX_MPTCP_INFO_SIZE];
  MptcpConnectionInfo *info;
  MptcpSubflowStats *stats;

  memset (raw, 0x11, sizeof raw);
  info = _mptcp_connection_info_new (raw, offsetof (mpx_mptcp_info, retransmits));
  g_assert_cmpuint (mptcp_connection_info_get_size (info), ==, offsetof (mpx_mptcp_info, retransmits));
  g_assert_true (mptcp_connection_info_has_field (info, MPTCP_CONNECTION_INFO_FIELD_CSUM_ENABLED));
  g_assert_false (mptcp_connection_info_has_field (info, MPTCP_CONNECTION_INFO_FIELD_RETRANSMITS));
  g_assert_false (mptcp_connection_info_has_field (info, MPTCP_CONNECTION_INFO_FIELD_BYTES_SENT));
  /* a value that names no field is a programming error, not a silent FALSE */
  g_test_expect_message ("Mptcp", G_LOG_LEVEL_CRITICAL, "*field*");
  g_assert_false (mptcp_connection_info_has_field (info, (MptcpConnectionInfoField) 1000));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (mptcp_connection_info_get_bytes_sent (info), ==, 0);
  g_assert_cmpuint (mptcp_connection_info_get_retransmits (info), ==, 0);
  g_assert_true (mptcp_connection_info_get_csum_enabled (info));
  mptcp_connection_info_unref (info);

  stats = _mptcp_subflow_stats_new (NULL, 0);
  g_assert_cmpuint (mptcp_subflow_stats_get_size (stats), ==, 0);
  g_assert_false (mptcp_subflow_stats_has_field (stats, MPTCP_SUBFLOW_STATS_FIELD_STATE));
  g_assert_cmpint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_UNKNOWN);
  mptcp_subflow_stats_unref (stats);
}

static void
test_socket_bad_family (void)
{
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  socket = mptcp_socket_new (G_SOCKET_FAMILY_UNIX, &error);
  g_assert_null (socket);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_socket_plain_tcp (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_false (mptcp_socket_is_mptcp (socket));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/error/domain", test_error_domain);
  g_test_add_func ("/version/check", test_version);
  g_test_add_func ("/info/short-snapshot", test_info_short_snapshot);
  g_test_add_func ("/socket/bad-family", test_socket_bad_family);
  g_test_add_func ("/socket/plain-tcp", test_socket_plain_tcp);

  return g_test_run ();
}
