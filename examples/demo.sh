#!/usr/bin/env bash
# examples/demo.sh: build mptcp-glib and run its demo, from a fresh clone
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   bash examples/demo.sh [DEMO OPTIONS]      e.g. --phase-seconds 3
#
# 1. checks that this machine can run it, and says what is missing if not;
# 2. installs the missing Debian 12 packages (.ci/deps: apt-get, through sudo
#    when not root);
# 3. configures and builds in _build (MPTCP_DEMO_BUILD to use another one);
# 4. runs examples/mptcp-demo inside mptcp-testbed: a private two-path network
#    in throw-away namespaces, both paths limited to 20 Mbit/s
#    (MPTCP_DEMO_RATE to change it). The namespaces vanish when it ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${MPTCP_DEMO_BUILD:-_build}
rate=${MPTCP_DEMO_RATE:-20mbit}

need() {
  printf 'mptcp-demo: %s\n' "$1" >&2
  shift
  [ $# -eq 0 ] || printf '  %s\n' "$@" >&2
  exit 1
}

# ---- 1. what the machine must offer, before anything is installed
[ "$(uname -s)" = Linux ] || need "Multipath TCP as this demo uses it needs Linux (5.19 or later)."
if [ ! -d /proc/sys/net/mptcp ]; then
  need "this kernel ($(uname -r)) has no Multipath TCP: it needs Linux 5.19 or later" \
       "built with CONFIG_MPTCP=y (every Debian 12 kernel is)."
fi
if [ "$(id -u)" -ne 0 ]; then
  # the demo builds its network in new network namespaces: without root that
  # takes an unprivileged user namespace
  if command -v unshare >/dev/null && ! unshare --user --map-root-user --net true 2>/dev/null; then
    why=""
    if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ]; then
      why="kernel.unprivileged_userns_clone is 0"
    elif [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" = 0 ]; then
      why="user.max_user_namespaces is 0"
    elif [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null || echo 0)" = 1 ]; then
      why="AppArmor restricts unprivileged user namespaces"
    else
      why="unshare --user --net failed"
    fi
    need "the demo builds a private two-path network in new network namespaces, which" \
         "needs root or unprivileged user namespaces, and this user has neither ($why)." \
         "Either run it as root:     sudo bash examples/demo.sh" \
         "or allow user namespaces:  sudo sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=10000" \
         "                           (and kernel.apparmor_restrict_unprivileged_userns=0 where it exists)"
  fi
fi

# ---- 2. packages
if ! bash .ci/deps; then
  need "installing the build dependencies failed; it needs root: run   sudo bash .ci/deps   once."
fi

# ---- 3. build
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" </dev/null
fi
meson compile -C "$build" </dev/null

# ---- 4. run
export MPTCP_DEMO_RATE=$rate
status=0
"$build/tests/mptcp-testbed" --rate "$rate" "$build/examples/mptcp-demo" "$@" || status=$?
if [ "$status" -eq 77 ]; then
  need "the test network could not be built (the reason is above)."
fi
exit "$status"
