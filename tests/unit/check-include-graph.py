#!/usr/bin/env python3
# check-include-graph.py: fails when the library's (or the service's) rooms include each other
# in a circle
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A room is a .c file of mptcp-glib/ with the private headers of its name: mptcp-X.c owns
# mptcp-X-private.h and mptcp-X-impl-private.h (the inside of a type spread over several
# files). A header with no .c of its name belongs to the room whose name is its longest
# prefix (mptcp-netlink-broker-private.h: mptcp-netlink). Room A uses room B when a file of
# A includes a private header of B. Public headers do not count: every room may use the API.
# The rooms must form no circle (mptcp-glib/README.md is the map). Prints the graph with -v.
#
# With --service the folder is service/ (the D-Bus service), where every header of the folder
# counts, not only private ones: mgs-X.c owns mgs-X.h, mgs-service-private.h (no .c of its
# name) is a room of its own that all may use, and the rooms must form no circle either (the
# map is the head comment of service/mptcp-glib-service.c). Headers from elsewhere (the
# library's, the generated mgs-dbus.h) do not count.

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stem(name, all_headers=False):
    for suffix in ('-impl-private.h', '-private.h', '.c') + (('.h',) if all_headers else ()):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return None


def room_of(name, rooms, all_headers=False):
    s = stem(name, all_headers)
    if s is None:
        return None
    if s.endswith('-private'):          # mptcp-sync-private.c
        s = s[:-len('-private')]
    parts = s.split('-')
    for n in range(len(parts), 0, -1):
        candidate = '-'.join(parts[:n])
        if candidate in rooms:
            return candidate
    return s


def main():
    verbose = '-v' in sys.argv[1:]
    service = '--service' in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a not in ('-v', '--service')]
    default = 'service' if service else 'mptcp-glib'
    srcdir = args[0] if args else os.path.join(os.path.dirname(__file__), '..', '..', default)
    header_suffix = '.h' if service else '-private.h'
    files = sorted(f for f in os.listdir(srcdir)
                   if f.endswith('.c') or f.endswith(header_suffix))
    rooms = {room_of(f, set(), service) for f in files if f.endswith('.c')}
    edges = {}        # room -> {room: [(file, header)]}
    for f in files:
        a = room_of(f, rooms, service)
        with open(os.path.join(srcdir, f), encoding='utf-8') as fh:
            text = fh.read()
        for header in INCLUDE.findall(text):
            if not header.endswith(header_suffix) or header not in files:
                continue
            b = room_of(header, rooms, service)
            if b != a:
                edges.setdefault(a, {}).setdefault(b, []).append((f, header))

    if verbose:
        for a in sorted(edges):
            print('%s -> %s' % (a, ', '.join(sorted(edges[a]))))

    # Tarjan's strongly connected components
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    for v in sorted(set(edges) | {w for e in edges.values() for w in e}):
        if v not in index:
            visit(v)

    if not sccs:
        print('no include circle among %d rooms (%d files)' % (len(rooms), len(files)))
        return 0
    for scc in sccs:
        print('include circle: %s' % ' <-> '.join(scc))
        for a in scc:
            for b, why in sorted(edges.get(a, {}).items()):
                if b in scc:
                    for f, header in why:
                        print('  %s includes %s (%s -> %s)' % (f, header, a, b))
    return 1


if __name__ == '__main__':
    sys.exit(main())
