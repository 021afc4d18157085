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
cp "$build/tests/test-socket" "$dir/"
chmod 755 "$dir/test-socket"
echo "run-unprivileged: test-socket as uid 65534"
cd "$dir"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
  env MPTCP_GLIB_REQUIRE_KERNEL=1 G_SLICE=always-malloc ./test-socket --tap
