#!/usr/bin/env bash
# .ci/debs.sh BUILDDIR RESULTS: the Debian packages, end to end, as a user gets them.
#
#  1. `meson dist` of BUILDDIR (the committed tree) gives the release tarball;
#  2. dpkg-buildpackage -us -uc -b builds the packages from the unpacked tarball (its build
#     runs the unit and docs suites: the tarball builds and passes them);
#  3. lintian on the .changes: no error (warnings are printed);
#  4. apt installs the .debs on this machine;
#  5. the installed tests (debian/tests/installed-tests: gnome-desktop-testing-runner, the
#     Python/gjs/Vala binding tests and the C, Python, gjs and Vala examples) and the
#     autopkgtest that builds a C program against the -dev package (debian/tests/build) run
#     with an empty environment from outside the source tree, i.e. against the installed
#     files only (and the installed example must resolve the installed library); the
#     installed manual has no dead link;
#  6. the packages this script installed are purged again.
#
# Each check appends "PASS name" or "FAIL name" to RESULTS (.ci/run counts them).
# MPTCP_GLIB_KEEP_DEBS=DIR keeps a copy of the packages in DIR.
set -uo pipefail
build=$1
results=$(realpath -m "$2")  # the script changes directory
src=$(pwd)
start=$(date +%s)
work=$(mktemp -d /tmp/mptcp-glib-debs.XXXXXX)
installed=()
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
cleanup() {
  if [ ${#installed[@]} -gt 0 ]; then
    echo "debs: purging ${installed[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 \
      "${installed[@]}" </dev/null >/dev/null || echo "debs: purge failed"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

record() {  # record PASS|FAIL NAME
  echo "$1 debs/$2" >> "$results"
  echo "debs: $1: $2"
}
step() {  # step NAME LOG CMD...: run CMD, its output to LOG (printed when it fails)
  local name=$1 log=$2
  shift 2
  if "$@" >"$log" 2>&1; then
    record PASS "$name"
  else
    record FAIL "$name"
    tail -n 60 "$log"
    return 1
  fi
}
finish() {
  echo "debs: wall time $(( $(date +%s) - start )) s"
  exit 0
}

if [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "debs: WARNING: uncommitted changes are not in the tarball the packages are built from"
fi
rm -rf "$build/meson-dist"
step dist "$work/dist.log" meson dist -C "$build" --no-tests --formats xztar </dev/null || finish
tarball=$(ls "$build"/meson-dist/*.tar.xz)
tar -C "$work" -xf "$tarball"
srcdir=$(ls -d "$work"/mptcp-glib-*/)

( cd "$srcdir" && step dpkg-buildpackage "$work/build.log" dpkg-buildpackage -us -uc -b </dev/null ) || finish
echo "debs: built $(cd "$work" && ls ./*.deb | tr '\n' ' ')"
if [ -n "${MPTCP_GLIB_KEEP_DEBS:-}" ]; then  # a directory to keep the packages in
  mkdir -p "$MPTCP_GLIB_KEEP_DEBS" && cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo \
    "$MPTCP_GLIB_KEEP_DEBS"/
fi

# lintian: errors fail, the warnings are listed (see debian/ and the packaging notes)
lintian --fail-on error --display-level '>=warning' "$work"/*.changes >"$work/lintian.log" 2>&1
lintian_rc=$?
grep -v '^running with root' "$work/lintian.log" || true
if [ $lintian_rc -eq 0 ]; then record PASS lintian; else record FAIL lintian; fi

debs=("$work"/*.deb)
for d in "${debs[@]}"; do
  p=$(dpkg-deb -f "$d" Package)
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || installed+=("$p")
done
step apt-install "$work/apt.log" $SUDO env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${debs[@]}" \
  </dev/null || finish

# from here on: an empty environment, outside the source tree, nothing of the build
cd "$work"
clean_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8
           MPTCP_GLIB_REQUIRE_KERNEL=1 AUTOPKGTEST_TMP="$work/tmp")
mkdir -p "$work/tmp"

# the installed C example resolves the packaged library (not one of a build tree)
lib=$(ldd /usr/libexec/installed-tests/mptcp-glib/mptcp-example | awk '/libmptcp-glib/ {print $3}')
pkglib=$(dpkg -L libmptcp-glib-1.0-0 | grep '/libmptcp-glib-1.0.so.0$')
if [ -n "$lib" ] && [ "$(realpath "$lib")" = "$(realpath "$pkglib")" ]; then
  record PASS "installed-example-links-packaged-library"
else
  record FAIL "installed-example-links-packaged-library ($lib, package: $pkglib)"
fi

"${clean_env[@]}" sh "$srcdir/debian/tests/installed-tests" >"$work/installed.log" 2>&1
rc=$?
n=0
while read -r verdict name; do
  n=$((n + 1))
  case $verdict in
    PASS:) record PASS "installed/$name" ;;
    *)     record FAIL "installed/$name ($verdict)" ;;
  esac
done < <(grep -E '^(PASS|FAIL|SKIP|ERROR|TIMEOUT)[A-Z]*: ' "$work/installed.log")
if [ $rc -ne 0 ] || [ $n -eq 0 ]; then
  record FAIL "installed-tests runner (status $rc, $n tests)"
  tail -n 80 "$work/installed.log"
fi
grep -E '^SUMMARY' "$work/installed.log" || true

# the installed manual: no dead link (its GLib links are relative there, ../glib/...)
step installed-manual-links "$work/links.log" \
  "${clean_env[@]}" python3 "$srcdir/docs/reference/check-links.py" /usr/share/gtk-doc/html/mptcp-glib
tail -n 1 "$work/links.log"

AUTOPKGTEST_TMP="$work/tmp" step autopkgtest-build "$work/apt-build.log" \
  "${clean_env[@]}" sh "$srcdir/debian/tests/build"

finish
