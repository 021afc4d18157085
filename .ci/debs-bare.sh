#!/usr/bin/env bash
# .ci/debs-bare.sh DEBDIR RESULTS: the packages on a bare Debian 12 root, as a user gets them.
#
# .ci/debs.sh installs the packages on the CI machine, which has every build tool: a package
# that silently needs one (a compiler, a -dev package, python3-gi pulled in by the build) works
# there and fails for a user. Here the packages go into a root with nothing but Debian 12's
# minimal base system (debootstrap --variant=minbase):
#
#  1. the base root is made once and kept as a tarball (MPTCP_GLIB_BARE_CACHE, by default
#     /var/cache/mptcp-glib-ci); each run unpacks a throw-away copy of it;
#  2. apt installs the runtime packages from DEBDIR (the library, its typelib, the tools, the
#     service and the installed tests; not the -dev and -doc packages, nor the inspector, which
#     has no installed test) with their dependencies from the archive, and
#     gnome-desktop-testing to run the tests;
#  3. nothing of a build toolchain came with them (no cc, no pkg-config, no -dev package);
#  4. inside the root (chroot, its own /proc, /sys, /dev, /run), gnome-desktop-testing-runner
#     runs every installed test (the binding tests and the C, Python, gjs and Vala examples, each
#     in its own throw-away two-path network), against the installed files only;
#  5. the copy is unmounted and removed.
#
# Each check appends "PASS bare/<name>" or "FAIL bare/<name>" to RESULTS.
set -uo pipefail
debdir=$(realpath "$1")
results=$(realpath -m "$2")
cache=${MPTCP_GLIB_BARE_CACHE:-/var/cache/mptcp-glib-ci}
base="$cache/bookworm-minbase.tar.zst"
mirror=http://deb.debian.org/debian
start=$(date +%s)
root=$(mktemp -d /tmp/mptcp-glib-bare.XXXXXX)
mounted=()

record() {  # record PASS|FAIL NAME
  echo "$1 bare/$2" >> "$results"
  echo "bare: $1: $2"
}

cleanup() {
  local m
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    m=${mounted[$i]}
    umount -R "$m" 2>/dev/null || umount -lR "$m" 2>/dev/null || echo "bare: cannot unmount $m"
  done
  # never follow into a mount that is still there
  if findmnt -rn -o TARGET | grep -q "^$root"; then
    echo "bare: $root still has mounts, left in place"
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
  record FAIL "needs-root (chroot and namespaces)"
  exit 1
fi

# 1. the base root, made once
if [ ! -s "$base" ]; then
  echo "bare: making the Debian 12 minbase root (once; kept in $base)"
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/make.XXXXXX")
  if debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 &&
     tar -C "$tmp/root" --zstd -cf "$base.part" . ; then
    mv "$base.part" "$base"
  else
    tail -n 20 "$tmp/debootstrap.log"
  fi
  rm -rf "$tmp" "$base.part"
fi
if [ ! -s "$base" ]; then
  record FAIL "base-root (debootstrap failed)"
  exit 1
fi
tar -C "$root" --zstd -xf "$base" || { record FAIL "base-root (unpack failed)"; exit 1; }
record PASS base-root

# the archive the packages were built against (bookworm, its updates and security suites),
# as the CI machine has it
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -f "$root/etc/apt/sources.list"
if [ -d /etc/apt/sources.list.d ] && ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
else
  echo "deb $mirror bookworm main" > "$root/etc/apt/sources.list"
fi

for fs in proc sys dev run; do
  mkdir -p "$root/$fs"
done
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" && mounted+=("$root/sys")
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && mounted+=("$root/dev")
mount -t tmpfs tmpfs "$root/run" && mounted+=("$root/run")
mkdir -p "$root/tmp/debs"
cp "$debdir"/*.deb "$root/tmp/debs/"

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# 2. the runtime packages, with their dependencies from the archive
runtime=()
for deb in "$root"/tmp/debs/*.deb; do
  name=$(dpkg-deb -f "$deb" Package)
  case "$name" in
    *-dev|*-doc|*-dbgsym|mptcp-inspector) ;;  # the inspector has no installed test
    *) runtime+=("/tmp/debs/$(basename "$deb")") ;;
  esac
done
echo "bare: installing ${runtime[*]##*/}"
if in_root apt-get update -qq </dev/null >"$root/tmp/apt.log" 2>&1 &&
   in_root apt-get install -y -qq --no-install-recommends gnome-desktop-testing "${runtime[@]}" \
     </dev/null >>"$root/tmp/apt.log" 2>&1; then
  record PASS apt-install
else
  tail -n 30 "$root/tmp/apt.log"
  record FAIL apt-install
  exit 1
fi

# 3. no toolchain came with them
toolchain=$(in_root dpkg-query -W -f '${Package} ${db:Status-Status}\n' 2>/dev/null |
            awk '$2 == "installed" && ($1 ~ /-dev$/ || $1 ~ /^(gcc|cpp|g\+\+|clang|binutils|pkg-config|pkgconf|make|meson|ninja-build|valac)(-[0-9.]+)?$/) {print $1}')
if [ -z "$toolchain" ] && ! in_root sh -c 'command -v cc || command -v gcc || command -v pkg-config' >/dev/null; then
  record PASS no-build-tools
else
  record FAIL "no-build-tools (installed: $(echo $toolchain))"
fi

# 4. every installed test, in the bare root
in_root sh -c 'MPTCP_GLIB_REQUIRE_KERNEL=1 gnome-desktop-testing-runner mptcp-glib' \
  >"$root/tmp/installed.log" 2>&1
rc=$?
n=0
while read -r verdict name _; do
  n=$((n + 1))
  case "$verdict" in
    PASS:) record PASS "installed/$name" ;;
    *)     record FAIL "installed/$name ($verdict)" ;;
  esac
done < <(grep -E '^(PASS|FAIL|SKIP|ERROR|TIMEOUT)[A-Z]*: ' "$root/tmp/installed.log")
if [ $rc -ne 0 ] || [ $n -eq 0 ]; then
  record FAIL "installed-tests runner (status $rc, $n tests)"
  tail -n 80 "$root/tmp/installed.log"
fi
grep -E '^SUMMARY' "$root/tmp/installed.log" || true
echo "bare: $(( $(date +%s) - start )) s"
