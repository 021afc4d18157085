# viewerlib.py: what the viewer tests share: the stream helper and `ss -tniM` parsed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import subprocess
import sys
import time

# root without CAP_NET_ADMIN (also out of the bounding set, so exec does not give it back)
DROP_NET_ADMIN = ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin']

# under `meson test --setup valgrind` (MPTCP_GLIB_UNDER_VALGRIND=1) the project's programs these
# tests start run under the same valgrind command line as the C tests (VIEWER_MEMCHECK, one
# argument a line, set by tools/tests/meson.build); valgrind's --error-exitcode makes a memory
# error or a definite leak a non-zero exit, which the tests check
MEMCHECK = (os.environ.get('VIEWER_MEMCHECK', '').split('\n')
            if os.environ.get('MPTCP_GLIB_UNDER_VALGRIND') == '1' else [])


def tool(path):
    """the command line that runs one of the project's programs"""
    return MEMCHECK + [path]


def fail(message):
    print('FAIL: ' + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


class Stream:
    """mptcp-stream: a connection over both testbed paths, streaming until closed"""

    def __init__(self, helper):
        self.proc = subprocess.Popen(tool(helper), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().split()
        check(len(line) == 2 and line[0] == 'ready', f'stream helper: {line}')
        self.token = line[1]

    def close_second(self):
        self.proc.stdin.write('close\n')
        self.proc.stdin.flush()
        check(self.proc.stdout.readline().strip() == 'closed', 'stream helper closed subflow 2')

    def stop(self):
        self.proc.stdin.close()
        check(self.proc.wait(timeout=10) == 0, 'stream helper exit status')


def split_addr(text):
    host, _, port = text.rpartition(':')
    return host.strip('[]').split('%')[0], int(port)


def ss(prefix=()):
    """the MPTCP connections and the MPTCP subflows of `ss -tniM`, keyed by local token"""
    out = subprocess.run(list(prefix) + ['ss', '-tniMH'], check=True, capture_output=True,
                         text=True).stdout
    conns, subflows, plain_tcp = {}, {}, 0
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        head = lines[i].split()
        detail = lines[i + 1] if i + 1 < len(lines) and lines[i + 1][:1].isspace() else ''
        i += 2 if detail else 1
        if len(head) < 6 or head[1] == 'LISTEN':
            continue
        local, peer = split_addr(head[4]), split_addr(head[5])
        if head[0] == 'mptcp':
            m = re.search(r'\btoken:([0-9a-f]+)', detail)
            check(m is not None, f'ss mptcp line without a token: {detail}')
            conns[int(m.group(1), 16)] = {'local': local, 'peer': peer}
        elif head[0] == 'tcp':
            m = re.search(r'tcp-ulp-mptcp flags:(\S*) token:([0-9a-f]+)\(id:(\d+)\)/'
                          r'([0-9a-f]+)\(id:(\d+)\)', detail)
            if m is None:
                plain_tcp += 1
                continue
            subflows.setdefault(int(m.group(4), 16), []).append({
                'local': local, 'peer': peer, 'flags': m.group(1),
                'remote_token': int(m.group(2), 16), 'remote_id': int(m.group(3)),
                'local_id': int(m.group(5))})
    return conns, subflows, plain_tcp


def wait_for(predicate, what, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    fail('timed out waiting for ' + what)


def helper_path(name):
    return os.path.join(os.environ['VIEWER_BUILDDIR'], name)
