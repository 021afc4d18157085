#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-links.py HTML_DIR: fail on a dead local link in the built manual.

Every href and src of every page that is not a URL with a scheme (http:, https:, mailto:)
must name a file that exists (relative to the page, or an absolute path such as the GLib
manuals'), and its #fragment, if any, an id or a name in that page. Prints each dead link
as PAGE: LINK (why) and exits 1 if there is one, 0 with a count otherwise.
"""

import os
import re
import sys
import urllib.parse
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.anchors = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ('id', 'name') and (name == 'id' or tag == 'a'):
                self.anchors.add(value)
            elif name in ('href', 'src'):
                self.links.append(value)


_pages = {}


def parse(path):
    if path not in _pages:
        page = Page()
        with open(path, encoding='utf-8', errors='replace') as f:
            page.feed(f.read())
        _pages[path] = page
    return _pages[path]


def main():
    root = sys.argv[1]
    pages = sorted(os.path.join(root, n) for n in os.listdir(root) if n.endswith('.html'))
    if not pages:
        print(f'check-links: no page in {root}')
        return 1
    dead = checked = 0
    for page in pages:
        for link in parse(page).links:
            if re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', link) and not link.startswith('file:'):
                continue  # http:, https:, mailto: ... are not checked (no network)
            url = urllib.parse.urlsplit(link)
            target = urllib.parse.unquote(url.path)
            if target == '':
                target = page
            elif not os.path.isabs(target):
                target = os.path.normpath(os.path.join(os.path.dirname(page), target))
            checked += 1
            why = None
            if not os.path.exists(target):
                why = 'no such file'
            elif url.fragment and target.endswith('.html'):
                if url.fragment not in parse(target).anchors:
                    why = f'no anchor "{url.fragment}" in {os.path.basename(target)}'
            if why:
                dead += 1
                print(f'{os.path.basename(page)}: {link} ({why})')
    print(f'check-links: {len(pages)} pages, {checked} local links, {dead} dead')
    return 1 if dead else 0


if __name__ == '__main__':
    sys.exit(main())
