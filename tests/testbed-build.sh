#!/usr/bin/env bash
# Standalone build and checks of the real-kernel testbed, until meson builds it.
#
#   bash tests/testbed-build.sh [BUILD_DIR]            build test-testbed and mptcp-testbed
#                                                      (gcc, -Werror) into BUILD_DIR (/tmp/tbbuild)
#   bash tests/testbed-build.sh [BUILD_DIR] test       build, then: test-testbed plainly, under
#                                                      valgrind, as uid 65534 (user namespaces)
#                                                      and under ASan+UBSan; the runner's checks
#   bash tests/testbed-build.sh [BUILD_DIR] leakcheck  SIGKILL test-testbed and mptcp-testbed in
#                                                      the middle; no namespace or process may stay
#   bash tests/testbed-build.sh [BUILD_DIR] all        test + leakcheck
#
# The testbed is not linked to mptcp-glib: it needs GLib/GIO and iproute2 (`ip`, `tc`) only.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-/tmp/tbbuild}
what=${2:-build}
mkdir -p "$out"
chmod 755 "$out"   # uid 65534 must be able to run what is in there

pkgs="gio-2.0 gio-unix-2.0"
CFLAGS="-std=gnu11 -g -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
  -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wshadow -Wformat=2
  -D_GNU_SOURCE -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
  -I$src/tests $(pkg-config --cflags $pkgs)"
LIBS="$(pkg-config --libs $pkgs)"

build () {  # build DIR EXTRA_CFLAGS...
  local dir=$1; shift
  mkdir -p "$dir"
  chmod 755 "$dir"
  # shellcheck disable=SC2086
  gcc $CFLAGS "$@" -c "$src/tests/testbed.c" -o "$dir/testbed.o"
  # shellcheck disable=SC2086
  gcc $CFLAGS "$@" "$src/tests/test-testbed.c" "$dir/testbed.o" $LIBS -o "$dir/test-testbed"
  # shellcheck disable=SC2086
  gcc $CFLAGS "$@" "$src/tests/mptcp-testbed.c" "$dir/testbed.o" $LIBS -o "$dir/mptcp-testbed"
  chmod 755 "$dir/test-testbed" "$dir/mptcp-testbed"
}

build "$out"
echo "testbed-build: built $out/test-testbed and $out/mptcp-testbed"

as_nobody () {
  (cd "$out" && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@")
}

run_valgrind () {
  G_SLICE=always-malloc G_DEBUG=gc-friendly MPTCP_GLIB_UNDER_VALGRIND=1 valgrind \
    --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --track-origins=yes \
    --child-silent-after-fork=yes --suppressions=/usr/share/glib-2.0/valgrind/glib.supp \
    --suppressions="$src/tests/valgrind.supp" "$@"
}

check_runner () {  # the runner as root or as nobody ($1 = "" or "as_nobody")
  $1 bash "$src/tests/check-runner.sh" "$out/mptcp-testbed"
}

# pids of every process whose network or user namespace is one of the inodes given
pids_in () {
  local p t
  for p in /proc/[0-9]*; do
    for t in net user; do
      case " $* " in *" $(readlink "$p/ns/$t" 2>/dev/null | tr -dc '0-9') "*) echo "${p#/proc/}"; break;; esac
    done
  done | sort -u
}

# Start CMD, which prints "server pid N" or "/proc/N/ns/net" on stderr once the testbed is up,
# note the namespaces of the server and of its parent (the process that built the testbed)
# and every process in them, SIGKILL that parent, then check that none of those processes is
# left. Namespace inode numbers are reused at once by other tests running meanwhile, so a
# namespace counts as left only if one of the processes seen before the kill still holds it.
leakcheck_one () {  # leakcheck_one NAME CMD...
  local name=$1; shift
  local bg server="" owner cmd ns before after left
  "$@" >/dev/null 2>"$out/leak.err" &
  bg=$!
  for _ in $(seq 200); do
    server=$(sed -n -e 's/.*server pid \([0-9]*\).*/\1/p' -e 's|.*/proc/\([0-9]*\)/ns/net.*|\1|p' \
             "$out/leak.err" | head -n1)
    [ -n "$server" ] && break
    sleep 0.05
  done
  [ -n "$server" ] || { echo "leakcheck $name: never saw the server" >&2; cat "$out/leak.err"; return 1; }
  cmd=$(sed -n 's/.*command pid \([0-9]*\).*/\1/p' "$out/leak.err" | head -n1)
  owner=$(ps -o ppid= -p "$server" | tr -d ' ')
  ns=$(for p in "$owner" "$server"; do for t in net user; do
         readlink "/proc/$p/ns/$t" | tr -dc '0-9'; echo; done; done | sort -u)
  ns=$(comm -23 <(echo "$ns") <(readlink /proc/self/ns/net /proc/self/ns/user | tr -dc '0-9\n' | sort -u))
  # shellcheck disable=SC2086
  before=$(pids_in $ns)
  kill -9 "$owner"
  wait "$bg" 2>/dev/null || true
  for _ in $(seq 100); do
    # shellcheck disable=SC2086
    after=$(pids_in $ns)
    left=$(comm -12 <(echo "$before") <(echo "$after") | grep . || true)
    [ -z "$left" ] && break
    sleep 0.02
  done
  echo "leakcheck $name: $(echo "$ns" | wc -l) namespaces, processes in them before SIGKILL" \
       "of $owner: $(echo $before), after: ${left:-none}"
  [ "$(echo "$ns" | wc -l)" -ge 2 ] || { echo "leakcheck $name: namespaces not seen" >&2; return 1; }
  echo "$before" | grep -qx "$server" || { echo "leakcheck $name: server not seen" >&2; return 1; }
  [ -z "$cmd" ] || echo "$before" | grep -qx "$cmd" || { echo "leakcheck $name: command not seen" >&2; return 1; }
  [ -z "$left" ] || { echo "leakcheck $name: left behind: $left" >&2; return 1; }
}

leakcheck () {
  [ "$(id -u)" -eq 0 ] || { echo "leakcheck needs root (lsns must see every namespace)"; return 0; }
  leakcheck_one "test-testbed (root)" env MPTCP_TESTBED_SELFTEST_SLEEP=30 "$out/test-testbed"
  leakcheck_one "test-testbed (uid 65534)" \
    as_nobody env MPTCP_TESTBED_SELFTEST_SLEEP=30 ./test-testbed
  # shellcheck disable=SC2016
  leakcheck_one "mptcp-testbed (root)" "$out/mptcp-testbed" sh -c \
    'echo "command pid $$ in $MPTCP_TESTBED_SERVER_NETNS" >&2; exec sleep 30'
  # shellcheck disable=SC2016
  leakcheck_one "mptcp-testbed (uid 65534)" as_nobody ./mptcp-testbed sh -c \
    'echo "command pid $$ in $MPTCP_TESTBED_SERVER_NETNS" >&2; exec sleep 30'
}

tests () {
  echo "== test-testbed"
  MPTCP_GLIB_REQUIRE_KERNEL=1 G_SLICE=always-malloc G_DEBUG=gc-friendly,fatal-warnings \
    MALLOC_CHECK_=2 "$out/test-testbed" --tap
  echo "== test-testbed under valgrind"
  MPTCP_GLIB_REQUIRE_KERNEL=1 run_valgrind "$out/test-testbed" --tap
  echo "== runner under valgrind"
  MPTCP_GLIB_REQUIRE_KERNEL=1 run_valgrind "$out/mptcp-testbed" true
  if [ "$(id -u)" -eq 0 ]; then
    echo "== test-testbed as uid 65534"
    as_nobody env MPTCP_GLIB_REQUIRE_KERNEL=1 G_DEBUG=gc-friendly,fatal-warnings \
      ./test-testbed --tap
    echo "== test-testbed as uid 65534 under valgrind"
    as_nobody env MPTCP_GLIB_REQUIRE_KERNEL=1 G_SLICE=always-malloc G_DEBUG=gc-friendly \
      MPTCP_GLIB_UNDER_VALGRIND=1 valgrind --error-exitcode=1 --leak-check=full \
      --errors-for-leak-kinds=definite --child-silent-after-fork=yes \
      --suppressions=/usr/share/glib-2.0/valgrind/glib.supp \
      --suppressions="$src/tests/valgrind.supp" ./test-testbed --tap
  fi
  echo "== runner"
  check_runner ""
  if [ "$(id -u)" -eq 0 ]; then check_runner as_nobody; fi
  echo "== test-testbed with ASan+UBSan"
  CFLAGS="$CFLAGS -O1 -fno-omit-frame-pointer" build "$out/asan" \
    -fsanitize=address,undefined -fno-sanitize-recover=undefined
  MPTCP_GLIB_REQUIRE_KERNEL=1 ASAN_OPTIONS=detect_leaks=1 \
    LSAN_OPTIONS="suppressions=$src/tests/lsan.supp" "$out/asan/test-testbed" --tap
  echo "== 4 test-testbed in parallel"
  local pids=()
  for _ in 1 2 3 4; do
    MPTCP_GLIB_REQUIRE_KERNEL=1 "$out/test-testbed" >"$out/par.$_.log" 2>&1 & pids+=($!)
  done
  local fail=0
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  [ $fail -eq 0 ] || { cat "$out"/par.*.log; return 1; }
  echo "parallel: ok"
}

case "$what" in
  build) ;;
  test) tests ;;
  leakcheck) leakcheck ;;
  all) tests; leakcheck ;;
  *) echo "unknown action $what" >&2; exit 2 ;;
esac
