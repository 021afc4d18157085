#!/usr/bin/env bash
# Every GType the library exports must be listed in the gtk-doc types file, or its
# properties, signals and enum values are missing from the manual without any warning.
set -euo pipefail
lib=$1 types=$2
# not in a process substitution: a failing nm must fail the test, not look like "nothing missing"
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep '_get_type$' | sort -u)
[ -n "$exported" ] || { echo "no GType exported by $lib"; exit 1; }
missing=$(comm -23 <(printf '%s\n' "$exported") <(grep -o '^mptcp_[a-z0-9_]*_get_type' "$types" | sort -u))
if [ -n "$missing" ]; then
  echo "not in $(basename "$types"):"; echo "$missing"; exit 1
fi
echo "all $(grep -c '_get_type' "$types") GTypes are in $(basename "$types")"
