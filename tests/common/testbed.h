/* testbed.h: a throw-away two-path MPTCP network for the real-kernel tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * testbed_init_or_exit() moves the calling process into a fresh network namespace (the
 * client side) and builds a second one (the server side) around a forked server process:
 *
 *   client netns (this process)              server netns (server child)
 *   c1 192.0.2.1/24, 2001:db8:1::1/64  <==>  s1 192.0.2.2/24, 2001:db8:1::2/64   path 1
 *   c2 198.51.100.1/24                 <==>  s2 198.51.100.2/24                  path 2
 *   net.mptcp.path_manager=userspace         in-kernel path manager
 *   limits subflows 8 add_addr_accepted 8    limits subflows 8 add_addr_accepted 8
 *                                            [::]:5001 MPTCP sink, [::]:5002 MPTCP echo,
 *                                            [::]:5003 plain TCP sink (all dual-stack)
 *
 * Nothing is named: both namespaces are anonymous (unshare()) and vanish with the processes
 * and file descriptors that hold them, even when the test is killed with SIGKILL (the server
 * gets SIGKILL through PR_SET_PDEATHSIG). As root only network namespaces are made; as a
 * normal user the process first enters a user namespace of its own in which it is uid 0
 * with CAP_NET_ADMIN over both network namespaces.
 *
 * Not linked to mptcp-glib. Single-threaded use only.
 */

#pragma once

/* lets tests include the library's private headers */
#ifndef MPTCP_GLIB_TESTS
#define MPTCP_GLIB_TESTS 1
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

#define TESTBED_CLIENT1_V4 "192.0.2.1"
#define TESTBED_SERVER1_V4 "192.0.2.2"
#define TESTBED_CLIENT2_V4 "198.51.100.1"
#define TESTBED_SERVER2_V4 "198.51.100.2"
/* A host that never answers: 203.0.113.0/24 (TEST-NET-3) is routed from the client over
 * path 2 into the server namespace, which drops it (a blackhole route). For timeouts and
 * cancellations of connects and subflow opens. */
#define TESTBED_SILENT_V4  "203.0.113.5"
#define TESTBED_CLIENT1_V6 "2001:db8:1::1"
#define TESTBED_SERVER1_V6 "2001:db8:1::2"
#define TESTBED_PORT_SINK 5001
#define TESTBED_PORT_ECHO 5002
#define TESTBED_PORT_TCP  5003

/* Interface names: client side of path 1 and 2, server side of path 1 and 2. */
#define TESTBED_CLIENT1_IFNAME "c1"
#define TESTBED_CLIENT2_IFNAME "c2"
#define TESTBED_SERVER1_IFNAME "s1"
#define TESTBED_SERVER2_IFNAME "s2"

/* Set to "1" to turn every "cannot build the testbed" skip into a failure. */
#define TESTBED_REQUIRE_ENV "MPTCP_GLIB_REQUIRE_KERNEL"

/**
 * testbed_init_or_exit:
 *
 * Call it first thing in main(), right after g_test_init() and before anything can start a
 * thread (unshare(CLONE_NEWUSER) refuses a multi-threaded process; GIO starts threads for
 * GResolver, GTask threads, child watches, D-Bus ...). Builds the topology in fresh
 * namespaces and returns once the server listens and all four links are running.
 *
 * If it cannot (no MPTCP in the kernel, neither root nor user namespaces, `ip` missing ...)
 * it prints "1..0 # SKIP <reason>" (TAP) on stdout and exits 0, unless the environment has
 * MPTCP_GLIB_REQUIRE_KERNEL=1: then it prints the reason on stderr and exits 1. Called when
 * the process already has threads, it always fails (stderr, exit 1): that is a bug in the
 * test, not a missing feature of the machine.
 *
 * Teardown is automatic (atexit, only in the process that built the testbed: a forked child
 * that calls exit() does not tear it down).
 */
void testbed_init_or_exit (void);

/**
 * testbed_init:
 * @error: return location for the reason it could not be built
 *
 * What testbed_init_or_exit() does, reporting failure instead of exiting (the runner uses
 * it). Idempotent: a second call returns TRUE at once. Same threading rule: with more than
 * one thread it fails with G_IO_ERROR_BUSY.
 */
gboolean testbed_init (GError **error);

/**
 * testbed_teardown:
 *
 * SIGKILLs and reaps the server and closes the namespace fds. Registered with atexit() by
 * testbed_init(); may be called earlier. The process stays in the client namespace.
 */
void testbed_teardown (void);

/* TRUE when the process entered a user namespace of its own (it was not root), FALSE when it
 * runs as real root (network namespaces only). */
gboolean testbed_is_userns (void);

/* A GInetSocketAddress for the server on path 1 or 2 (IPv6 only on path 1) and port.
 * (transfer full) */
GSocketAddress *testbed_server_address (guint path, GSocketFamily family, guint16 port);
/* The client's own address on path 1 or 2 (IPv6 only on path 1). (transfer full) */
GInetAddress *testbed_client_inet_address (guint path, GSocketFamily family);

/* Run argv (searched in PATH, then /usr/sbin and /sbin) in the server namespace,
 * synchronously, e.g. {"ip", "link", "set", "s2", "down", NULL}. Returns FALSE with error
 * (G_SPAWN_ERROR, G_SPAWN_EXIT_ERROR or G_IO_ERROR; the message holds the command's stderr)
 * if it could not run or exited non-zero. @out_stdout receives stdout if not NULL. */
gboolean testbed_run_in_server (const char * const *argv, char **out_stdout, GError **error);
/* Same, in the client namespace (the test's own). */
gboolean testbed_run_in_client (const char * const *argv, char **out_stdout, GError **error);

/* Drop CAP_NET_ADMIN from the calling process: effective, permitted, inheritable, ambient and
 * the bounding set (so a later exec, even as uid 0, cannot regain it). Raw capget/capset and
 * prctl, no libcap. Irreversible: call it in a forked child or at the very end. */
gboolean testbed_drop_net_admin (GError **error);

/* The server's pid (0 before init), and "/proc/<pid>/ns/net" (NULL before init). */
GPid testbed_server_pid (void);
const char *testbed_server_netns_path (void);

/* Read a sysctl of the client namespace: "net.mptcp.path_manager",
 * "net/mptcp/path_manager" or a full /proc/sys path. Value without the trailing newline,
 * NULL if unreadable. (transfer full) */
char *testbed_read_sysctl (const char *path);
/* Write one in the client namespace; FALSE with error on failure. */
gboolean testbed_write_sysctl (const char *path, const char *value, GError **error);

/* A new socket(2) (SOCK_CLOEXEC added) created in the server namespace; it stays bound to
 * that namespace whatever the calling process does later (e.g. a netlink socket to watch
 * the server's MPTCP events or to change its endpoints). -1 with error on failure. */
int testbed_socket_in_server (int domain, int type, int protocol, GError **error);

/* Put a tbf rate limit ("20mbit", "500kbit", "1gbit", "2mbps", plain number = bit/s) on the
 * egress of c1, c2, s1 and s2, so both directions of both paths are limited. */
gboolean testbed_set_rate (const char *rate, GError **error);

G_END_DECLS
