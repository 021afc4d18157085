#!/usr/bin/env bash
# Run one real-kernel test as an unprivileged user (uid 65534), to prove that the testbed
# works without root by entering a user + network namespace. Used by .ci/run when root.
set -euo pipefail
build=${1:-_build}
if [ "$(id -u)" -ne 0 ]; then
  echo "run-unprivileged: already unprivileged, nothing to prove here"; exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
tests=(test-socket test-connection test-netlink test-monitor)
status=0
for t in "${tests[@]}"; do
  cp "$build/tests/$t" "$dir/"
  chmod 755 "$dir/$t"
done
cd "$dir"
for t in "${tests[@]}"; do
  echo "run-unprivileged: $t as uid 65534"
  failed=0
  # the G_DEBUG of meson's test environment: a g_warning fails here too
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        env MPTCP_GLIB_REQUIRE_KERNEL=1 G_SLICE=always-malloc G_DEBUG=gc-friendly,fatal-warnings \
        "./$t" --tap 2>&1) || failed=1
  printf '%s\n' "$out" | grep -E '^(not ok|ok|1\.\.)' | grep -vE '^ok [0-9]+ [^#]*$' || true
  if printf '%s\n' "$out" | grep -qE '^not ok|# SKIP'; then failed=1; fi
  if [ "$failed" -ne 0 ]; then
    status=1
    printf '%s\n' "$out"   # the whole output: why it failed
  fi
  echo "run-unprivileged: $t: $(printf '%s\n' "$out" | grep -cE '^ok ') ok"
done
exit $status
