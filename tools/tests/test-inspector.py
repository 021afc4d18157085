# test-inspector.py: the GTK inspector under Xvfb (GSK_RENDERER=cairo) inside the testbed,
# while a stream runs over both paths. Its widget models (the report of
# MPTCP_INSPECTOR_REPORT=1, read from the models bound to its column views and graph) must
# show the stream's connection with two subflows and non-zero throughput in the graph, then,
# after the test closes one subflow, one (and that SF_CLOSED event in its events list, from
# MptcpMonitor); a screenshot of each state is saved in the build directory
# (inspector-two-subflows.png, which the README shows as tools/inspector/screenshot.png,
# inspector-one-subflow.png, inspector-path-manager.png).
# Steering (privileged): an open between addresses the test chose (after a refused one), a
# backup toggle and a close of that subflow, from the steering bar, each seen in `ss -tniM`.
# The path manager page, privileged: an endpoint added with flags in the page is in the
# kernel's table (`ip -j mptcp endpoint show`), its fullmesh and backup toggles reach it, a
# duplicate is refused with the library's message, removal removes it, the limits are set and
# restored. Then again without CAP_NET_ADMIN: the connection is listed (subflows as far as the
# kernel shows them: on 6.1 and 6.12 none, with the reason in the status line), the steering
# bar and the path manager page are read-only with the library's refusal as the reason, and
# the page's widgets change nothing in the kernel.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import select
import subprocess
import tempfile
import time

from viewerlib import DROP_NET_ADMIN, Stream, check, fail, helper_path, ss, wait_for

INSPECTOR = os.environ['MPTCP_INSPECTOR']
OUT = os.environ['VIEWER_BUILDDIR']
# Under qemu's TCG (the kernel matrix of .ci/run) everything runs ~10 times slower: the
# deadlines (not the checks) stretch by SLOW. On the host they are doubled too: CI runs two
# suites at once on two CPUs, where one inspector start once took most of 20 s.
SLOW = 6 if os.environ.get('MPTCP_GLIB_UNDER_QEMU') else 2
SAMPLES = 8     # seconds of graph before the first screenshot (a line worth looking at)


def start_xvfb():
    r, w = os.pipe()
    # -noreset: by default the server resets when its last client leaves, and a client that
    # connects during the reset (the second inspector, right after the first quit) can wait
    # for its connection setup forever
    xvfb = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-nolisten', 'tcp', '-noreset',
                             '-screen', '0', '1280x1024x24'], pass_fds=[w],
                            stderr=subprocess.DEVNULL)
    os.close(w)
    number = b''
    while not number.endswith(b'\n'):
        chunk = os.read(r, 16)
        check(chunk, 'Xvfb started')
        number += chunk
    os.close(r)
    return xvfb, ':' + number.decode().strip()


class Inspector:
    def __init__(self, display, runtime, token, prefix=()):
        env = dict(os.environ, DISPLAY=display, GDK_BACKEND='x11', GSK_RENDERER='cairo',
                   MPTCP_INSPECTOR_REPORT='1', MPTCP_INSPECTOR_SELECT=token,
                   XDG_RUNTIME_DIR=runtime, NO_AT_BRIDGE='1', GTK_A11Y='none')
        env['G_DEBUG'] = 'fatal-criticals'
        self.proc = subprocess.Popen(list(prefix) + [INSPECTOR], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pending = b''

    def line(self, deadline):
        fd = self.proc.stdout.fileno()
        while b'\n' not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                fail(f'inspector ended early (status {self.proc.wait()})')
            self.pending += chunk
        text, self.pending = self.pending.split(b'\n', 1)
        return json.loads(text)

    def wait(self, predicate, what, seconds=20):
        deadline = time.monotonic() + seconds * SLOW
        last = None
        while time.monotonic() < deadline:
            r = self.line(deadline)
            if r is not None and 'connections' in r:
                last = r
                if predicate(r):
                    return r
        fail(f'inspector: {what}; last report {last}; {self.state()}')

    def state(self):
        """where the process waits (for a failure's message: a stall shows its wait channel)"""
        if self.proc.poll() is not None:
            return f'exited with {self.proc.returncode}'
        try:
            with open(f'/proc/{self.proc.pid}/wchan') as f:
                wchan = f.read().strip()
            with open(f'/proc/{self.proc.pid}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError as e:
            return f'state unknown ({e})'
        return f'running, state {state}, waiting in {wchan or "-"}'

    def command(self, text):
        self.proc.stdin.write(text + '\n')
        self.proc.stdin.flush()

    def screenshot(self, name):
        path = os.path.join(OUT, name)
        if os.path.exists(path):
            os.unlink(path)
        self.command('screenshot ' + path)
        shot = self.wait_for_key('screenshot')
        check(shot['saved'] and shot['width'] > 600 and shot['height'] > 400, f'screenshot size {shot}')
        with open(path, 'rb') as f:
            check(f.read(8) == b'\x89PNG\r\n\x1a\n', 'screenshot is a PNG')
        print(f'screenshot: {path} ({shot["width"]}x{shot["height"]})')

    def wait_for_key(self, key, seconds=10):
        deadline = time.monotonic() + seconds * SLOW
        while True:
            r = self.line(deadline)
            check(r is not None, f'inspector: no {key} reply')
            if key in r:
                return r

    def quit(self):
        self.command('quit')
        check(self.proc.wait(timeout=10 * SLOW) == 0, 'inspector exit status')


# an address of no host here: a subflow endpoint on it changes no connection of the testbed
SPARE_ADDRESS = '203.0.113.9'


def kernel_endpoint(address):
    """the kernel's endpoint of address (`ip -j mptcp endpoint show`), or None"""
    out = subprocess.run(['ip', '-j', 'mptcp', 'endpoint', 'show'], check=True,
                         capture_output=True, text=True).stdout
    for e in json.loads(out or '[]'):
        if e.get('address') == address:
            return e
    return None


def kernel_limits():
    words = subprocess.run(['ip', 'mptcp', 'limits', 'show'], check=True, capture_output=True,
                           text=True).stdout.split()
    values = dict(zip(words[::2], words[1::2]))
    return int(values['subflows']), int(values['add_addr_accepted'])


def pm_row(r, address):
    return next((e for e in r['pm']['endpoints'] if e['address'] == address), None)


def kernel_subflows(token):
    """the connection's subflows as `ss -tniM` shows them"""
    return ss()[1].get(int(token, 16), [])


def steer(app, token):
    """the steering bar: open a subflow over path 2, mark it backup, close it; each checked in
    the kernel (ss) and the inspector's models"""
    local2 = os.environ['MPTCP_TESTBED_CLIENT2_V4']
    remote2 = f'{os.environ["MPTCP_TESTBED_SERVER2_V4"]}:{os.environ["MPTCP_TESTBED_PORT_SINK"]}'
    check(len(kernel_subflows(token)) == 1, f'one subflow in the kernel: {kernel_subflows(token)}')

    # a refusal first, as the library words it: an address this host does not have
    app.command(f'steer-open {SPARE_ADDRESS} {remote2}')
    r = app.wait(lambda r: r['steer_result'].startswith('Could not open'), 'the open refused')
    print(f'steering refusal shown: {r["steer_result"]}')

    app.command(f'steer-open {local2} {remote2}')
    r = app.wait(lambda r: len(r['subflows']) == 2 and r['steer_result'].startswith('Done'),
                 'the subflow opened from the page listed')
    wait_for(lambda: len(kernel_subflows(token)) == 2, 'two subflows in the kernel after the open')
    print(f'opened from the inspector: {r["steer_result"]}')

    app.command(f'select-subflow {local2}')
    app.command('steer-backup')
    r = app.wait(lambda r: any(s['local'].startswith(local2 + ':') and s['backup']
                               for s in r['subflows']), 'the opened subflow marked backup')
    wait_for(lambda: any(s['local'][0] == local2 and 'b' in s['flags']
                         for s in kernel_subflows(token)), 'the backup flag in the kernel (ss: b)')

    app.command(f'select-subflow {local2}')
    app.command('steer-close')
    r = app.wait(lambda r: len(r['subflows']) == 1 and r['steer_result'].startswith('Done: close'),
                 'one subflow after the close from the page')
    wait_for(lambda: len(kernel_subflows(token)) == 1, 'one subflow in the kernel after the close')
    print(f'closed from the inspector: {r["steer_result"]}')


def edit_path_manager(app):
    """the path manager page's widgets: add, toggle, remove, limits; each checked in the kernel"""
    app.command('show path-manager')
    app.command(f'pm-add {SPARE_ADDRESS} subflow,backup')
    r = app.wait(lambda r: pm_row(r, SPARE_ADDRESS) is not None, 'the added endpoint in the page')
    row = pm_row(r, SPARE_ADDRESS)
    check(row['backup'] and not row['fullmesh'] and row['removable'], f'added row {row}')
    check(r['pm']['result'].startswith('Added endpoint'), f'add result: {r["pm"]["result"]}')
    e = kernel_endpoint(SPARE_ADDRESS)
    check(e is not None and e.get('subflow') and e.get('backup') and e['id'] == row['id'],
          f'the kernel has the endpoint: {e}')
    print(f'added in the page: {row}; kernel: {e}')
    app.screenshot('inspector-path-manager.png')

    app.command(f'pm-toggle {row["id"]} fullmesh')
    r = app.wait(lambda r: (pm_row(r, SPARE_ADDRESS) or {}).get('fullmesh'), 'fullmesh set')
    e = kernel_endpoint(SPARE_ADDRESS)
    check(e.get('fullmesh') and e.get('backup'), f'the kernel has fullmesh and backup: {e}')
    app.command(f'pm-toggle {row["id"]} backup')
    r = app.wait(lambda r: pm_row(r, SPARE_ADDRESS) is not None
                 and not pm_row(r, SPARE_ADDRESS)['backup'], 'backup cleared')
    e = kernel_endpoint(SPARE_ADDRESS)
    check(e.get('fullmesh') and not e.get('backup'), f'the kernel has fullmesh only: {e}')

    # a refusal, shown as the library words it
    app.command(f'pm-add {SPARE_ADDRESS} subflow')
    r = app.wait(lambda r: r['pm']['result'].startswith('Could not add'), 'the duplicate refused')
    check('exists' in r['pm']['result'], f'duplicate endpoint: {r["pm"]["result"]}')
    print(f'refusal shown: {r["pm"]["result"]}')

    app.command(f'pm-remove {row["id"]}')
    app.wait(lambda r: pm_row(r, SPARE_ADDRESS) is None, 'the endpoint gone from the page')
    check(kernel_endpoint(SPARE_ADDRESS) is None, 'the kernel removed the endpoint')

    app.command('pm-limits 4 2')
    app.wait(lambda r: r['pm']['limits'].startswith('Limits: 4 subflows'), 'limits 4 / 2')
    check(kernel_limits() == (4, 2), f'kernel limits {kernel_limits()}')
    app.command('pm-limits 8 8')
    app.wait(lambda r: r['pm']['limits'].startswith('Limits: 8 subflows'), 'limits 8 / 8 again')
    check(kernel_limits() == (8, 8), f'kernel limits {kernel_limits()}')
    print('path manager page: add, fullmesh, backup, refusal, remove and limits reached the kernel')
    app.command('show connections')


stream = Stream(helper_path('mptcp-stream'))
xvfb, display = start_xvfb()
try:
    with tempfile.TemporaryDirectory() as runtime:
        os.chmod(runtime, 0o700)
        app = Inspector(display, runtime, stream.token)
        r = app.wait(lambda r: r['selected'] == stream.token and len(r['subflows']) == 2
                     and r['graph_lines'] == 2
                     and max(s['graph_max_bps'] for s in r['subflows']) > 0
                     and min(s['graph_samples'] for s in r['subflows']) >= SAMPLES,
                     f'the stream selected, two subflows, {SAMPLES} s of throughput in the graph',
                     seconds=SAMPLES + 20)
        check(stream.token in r['connections'], 'listed')
        ids = sorted(s['local_id'] for s in r['subflows'])
        check(len(set(ids)) == 2, f'two distinct local ids {ids}')
        check(r['steering'] is True and r['steering_reason'] == '',
              f'privileged steering state: {r["steering_reason"]}')
        check(r['pm']['limits'].startswith('Limits: 8 subflows'), f'limits page: {r["pm"]}')
        check(r['pm']['editable'] and r['pm']['reason'] == '', f'privileged path manager page: {r["pm"]}')
        # the testbed's client namespace runs the userspace path manager
        check('userspace' in r['pm']['mode'], f'path manager mode: {r["pm"]["mode"]}')
        print('two subflows, graph max (bit/s):', [s['graph_max_bps'] for s in r['subflows']])
        app.screenshot('inspector-two-subflows.png')

        stream.close_second()
        r = app.wait(lambda r: r['selected'] == stream.token and len(r['subflows']) == 1
                     and r['graph_lines'] == 1 and r['events'] >= 1,
                     'one subflow after the close, and its event in the events list')
        print(f'events of the connection after the close: {r["events"]}')
        app.screenshot('inspector-one-subflow.png')
        steer(app, stream.token)
        edit_path_manager(app)
        app.quit()

        # without CAP_NET_ADMIN
        app = Inspector(display, runtime, stream.token, DROP_NET_ADMIN)
        r = app.wait(lambda r: r['selected'] == stream.token, 'listed without CAP_NET_ADMIN')
        check(r['steering'] is False and 'CAP_NET_ADMIN' in r['steering_reason'],
              f'unprivileged steering: {r["steering_reason"]}')
        check('CAP_NET_ADMIN' in r['events_note'], f'unprivileged events: {r["events_note"]}')
        if not r['subflows']:
            check('Subflows are hidden' in r['status'], f'says why: {r["status"]}')
        # the path manager page: read-only, with the library's reason, and its widgets inert
        pm = r['pm']
        check(not pm['editable'] and 'CAP_NET_ADMIN' in pm['reason'], f'unprivileged page: {pm}')
        check(pm['limits'].startswith('Limits: '), f'unprivileged limits: {pm["limits"]}')
        app.command('show path-manager')
        app.command(f'pm-add {SPARE_ADDRESS} subflow')
        app.command('pm-limits 2 2')
        time.sleep(1.5)
        check(kernel_endpoint(SPARE_ADDRESS) is None and kernel_limits() == (8, 8),
              'the unprivileged page changed nothing')
        print(f'path manager page without CAP_NET_ADMIN: {pm["reason"]}')
        print(f'without CAP_NET_ADMIN: {len(r["subflows"])} subflows; {r["steering_reason"]}')
        app.quit()
finally:
    xvfb.terminate()
    xvfb.wait()
stream.stop()
print('inspector: the models showed 2 then 1 subflows with throughput')
