#!/usr/bin/env bash
# check-runner.sh RUNNER: what mptcp-testbed promises the tests that run through it: the
# testbed's environment, its exit status passed through (42 as 42, death by SIGKILL as 137, a
# missing command as 127), --drop-net-admin and --rate. Every binding test and example
# depends on the first: a runner that said 0 would make them pass whatever they did.
set -euo pipefail
runner=$1
rc=0

# environment, exit status passthrough, nsenter into the server side (77: no testbed here)
# shellcheck disable=SC2016
"$runner" -- sh -c '
  set -e
  test "$MPTCP_TESTBED_SERVER1_V4" = 192.0.2.2
  test "$MPTCP_TESTBED_SERVER2_V4" = 198.51.100.2
  test "$MPTCP_TESTBED_SERVER1_V6" = 2001:db8:1::2
  test "$MPTCP_TESTBED_CLIENT1_V4" = 192.0.2.1
  test "$MPTCP_TESTBED_CLIENT2_V4" = 198.51.100.1
  test "$MPTCP_TESTBED_CLIENT1_V6" = 2001:db8:1::1
  test "$MPTCP_TESTBED_SILENT_V4" = 203.0.113.5
  ip route get 203.0.113.5 | grep -q "via 198.51.100.2"
  nsenter --net="$MPTCP_TESTBED_SERVER_NETNS" ip route show type blackhole | grep -q 203.0.113.0/24
  test "$MPTCP_TESTBED_PORT_SINK" = 5001
  test "$MPTCP_TESTBED_PORT_ECHO" = 5002
  test "$MPTCP_TESTBED_PORT_TCP" = 5003
  test "$(cat /proc/sys/net/mptcp/pm_type)" = 1
  test ! -e /proc/sys/net/mptcp/path_manager || test "$(cat /proc/sys/net/mptcp/path_manager)" = userspace
  nsenter --net="$MPTCP_TESTBED_SERVER_NETNS" ip -o addr show dev s1 | grep -q "192.0.2.2/24"
  test "$(nsenter --net="$MPTCP_TESTBED_SERVER_NETNS" cat /proc/sys/net/mptcp/pm_type)" = 0
  nsenter --net="$MPTCP_TESTBED_SERVER_NETNS" ss -Hltn "sport = :5002" | grep -q 5002
  ip mptcp limits show | grep -q "subflows 8"
  exit 42' || rc=$?
[ "$rc" -ne 77 ] || exit 77
[ "$rc" -eq 42 ] || { echo "runner: expected exit 42, got $rc" >&2; exit 1; }
rc=0
"$runner" sh -c 'kill -9 $$' || rc=$?
[ "$rc" -eq 137 ] || { echo "runner: expected exit 137, got $rc" >&2; exit 1; }
# --drop-net-admin: ip can no longer add a link; without it, it can
rc=0
"$runner" --drop-net-admin ip link add tbv0 type veth peer name tbv1 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || { echo "runner: --drop-net-admin did not drop CAP_NET_ADMIN" >&2; exit 1; }
"$runner" ip link add tbv0 type veth peer name tbv1
"$runner" --rate 20mbit sh -c \
  'tc qdisc show dev c1 | grep -q "rate 20Mbit" &&
   nsenter --net="$MPTCP_TESTBED_SERVER_NETNS" tc qdisc show dev s2 | grep -q "rate 20Mbit"'
rc=0
"$runner" no-such-command-testbed 2>/dev/null || rc=$?
[ "$rc" -eq 127 ] || { echo "runner: expected exit 127, got $rc" >&2; exit 1; }
echo "runner checks passed"
