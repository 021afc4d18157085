#!/usr/bin/env bash
# Standalone build of the netlink broker, its tests and its fuzz target, until meson builds them.
#
#   bash tests/netlink-build.sh [BUILD_DIR]           build (gcc) into BUILD_DIR (/tmp/nlbuild)
#   bash tests/netlink-build.sh [BUILD_DIR] test      build, then run test-netlink and the fuzz
#                                                     fallback, plainly and under valgrind
#   bash tests/netlink-build.sh [BUILD_DIR] fuzz [S]  also build the libFuzzer target with clang
#                                                     (fuzzer, address, undefined) and run it S s
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-/tmp/nlbuild}
what=${2:-build}
mkdir -p "$out/mptcp-glib"

# The generated headers that <mptcp-glib/mptcp-glib.h> needs (meson makes them in the real build).
sed -e 's/@MPTCP_MAJOR_VERSION@/0/; s/@MPTCP_MINOR_VERSION@/1/; s/@MPTCP_MICRO_VERSION@/0/' \
    -e 's/@MPTCP_VERSION@/0.1.0/' "$src/mptcp-glib/mptcp-version.h.in" > "$out/mptcp-glib/mptcp-version.h"
public_headers=$(cd "$src/mptcp-glib" && ls *.h | grep -v -e '-private\.h$' -e '^mptcp-glib\.h$' \
                   -e '^mptcp-version-macros\.h$' | sed "s|^|$src/mptcp-glib/|")
glib-mkenums \
  --fhead '#pragma once
#include <glib-object.h>
#include "mptcp-version-macros.h"
G_BEGIN_DECLS
' \
  --eprod 'MPTCP_AVAILABLE_IN_0_1 GType @enum_name@_get_type (void) G_GNUC_CONST;
#define MPTCP_TYPE_@ENUMSHORT@ (@enum_name@_get_type ())
' \
  --ftail 'G_END_DECLS' \
  $public_headers > "$out/mptcp-glib/mptcp-enum-types.h"

pkgs="gio-2.0 gio-unix-2.0 libmnl"
CFLAGS="-std=gnu11 -g -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
  -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wshadow -Wformat=2
  -D_GNU_SOURCE -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
  -DG_LOG_DOMAIN=\"Mptcp\" -I$out -I$out/mptcp-glib -I$src -I$src/mptcp-glib $(pkg-config --cflags $pkgs)"
LIBS="$(pkg-config --libs $pkgs)"
lib_src="$src/mptcp-glib/mptcp-netlink.c $src/mptcp-glib/mptcp-error.c"

# shellcheck disable=SC2086
gcc $CFLAGS -DMPTCP_GLIB_COMPILATION -c "$src/mptcp-glib/mptcp-netlink.c" -o "$out/mptcp-netlink.o"
# shellcheck disable=SC2086
gcc $CFLAGS -DMPTCP_GLIB_COMPILATION -c "$src/mptcp-glib/mptcp-error.c" -o "$out/mptcp-error.o"
# shellcheck disable=SC2086
gcc $CFLAGS -DMPTCP_GLIB_TESTS "$src/tests/test-netlink.c" "$out/mptcp-netlink.o" "$out/mptcp-error.o" \
  $LIBS -o "$out/test-netlink"
# shellcheck disable=SC2086
gcc $CFLAGS -DMPTCP_GLIB_TESTS "$src/tests/fuzz-netlink-events.c" "$out/mptcp-netlink.o" \
  "$out/mptcp-error.o" $LIBS -o "$out/fuzz-netlink-events"
echo "netlink-build: built $out/test-netlink and $out/fuzz-netlink-events"

run_valgrind () {
  G_SLICE=always-malloc G_DEBUG=gc-friendly valgrind --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite --track-origins=yes --child-silent-after-fork=yes \
    --suppressions=/usr/share/glib-2.0/valgrind/glib.supp \
    --suppressions="$src/tests/valgrind.supp" "$@"
}

case "$what" in
  test)
    G_SLICE=always-malloc G_DEBUG=gc-friendly,fatal-warnings MALLOC_CHECK_=2 "$out/test-netlink" --tap
    "$out/fuzz-netlink-events" 200000
    run_valgrind "$out/test-netlink" --tap
    run_valgrind "$out/fuzz-netlink-events" 5000
    ;;
  fuzz)
    secs=${3:-60}
    FCFLAGS=$(echo "$CFLAGS" | sed 's/-Werror//')
    SAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
    for f in $lib_src; do
      # shellcheck disable=SC2086
      clang $FCFLAGS $SAN -fsanitize=fuzzer-no-link -DMPTCP_GLIB_COMPILATION -c "$f" \
        -o "$out/fuzz-$(basename "$f" .c).o"
    done
    # shellcheck disable=SC2086
    clang $FCFLAGS $SAN -fsanitize=fuzzer -DMPTCP_GLIB_TESTS -DMPTCP_FUZZING \
      "$src/tests/fuzz-netlink-events.c" "$out/fuzz-mptcp-netlink.o" "$out/fuzz-mptcp-error.o" \
      $LIBS -o "$out/fuzz-netlink-events-libfuzzer"
    mkdir -p "$out/fuzz-corpus"
    "$out/fuzz-netlink-events" --write-seeds "$out/fuzz-corpus"
    "$out/fuzz-netlink-events-libfuzzer" -max_total_time="$secs" -max_len=4096 \
      -print_final_stats=1 "$out/fuzz-corpus"
    ;;
  build) ;;
  *) echo "unknown action $what" >&2; exit 2 ;;
esac
