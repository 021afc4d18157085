# test-mptcp-top.py: mptcp-top --once --json agrees with `ss -tniM`, with and without
# CAP_NET_ADMIN; its throughput is non-zero for a busy stream; a closed subflow leaves it.
# Run by meson under mptcp-testbed (root with CAP_NET_ADMIN: the stream opens its second
# subflow through the library), with /usr/bin/python3.
#
# On every kernel: the connections (token, addresses) and, where ss shows them, the subflows
# (addresses, both ids and tokens, join and backup flags) are the same as ss's. Without
# CAP_NET_ADMIN on 6.1 and 6.12 ss shows no subflow details: there mptcp-top must print
# "subflows": null with a reason (and the text view must say why); on later kernels (6.18)
# both show them to everyone and they must agree as with the privilege.
# With VIEWER_DROPPED=1 (test mptcp-top-unprivileged, run by `mptcp-testbed --drop-net-admin`)
# it checks one connection of its own the same way, with no privilege from the start.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import subprocess

from viewerlib import DROP_NET_ADMIN, Stream, check, fail, helper_path, ss, tool, wait_for

TOP = os.environ['MPTCP_TOP']


def top_json(prefix=(), *args):
    out = subprocess.run(list(prefix) + tool(TOP) + ['--json'] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def agree(prefix, label):
    """one snapshot of each (a stable moment: no subflow is opening or closing)"""
    doc, = top_json(prefix, '--once')
    conns, subflows, _ = ss(prefix)
    mine = {int(c['token'], 16): c for c in doc}
    check(set(mine) == set(conns), f'{label}: tokens {sorted(mine)} vs ss {sorted(conns)}')
    for token, c in mine.items():
        check((c['local'], c['localport']) == conns[token]['local'], f'{label}: local address')
        check((c['peer'], c['peerport']) == conns[token]['peer'], f'{label}: peer address')
        theirs = subflows.get(token, [])
        if c['subflows'] is None:
            check(not theirs, f'{label}: ss shows the subflows that mptcp-top calls unavailable')
            check('CAP_NET_ADMIN' in c['subflows_unavailable'], f'{label}: says why')
            continue
        got = sorted(((s['local'], s['localport']), (s['peer'], s['peerport']), s['local_id'],
                      s['remote_id'], int(s['remote_token'], 16), s['join'], s['backup'],
                      s['peer_backup']) for s in c['subflows'])
        want = sorted((s['local'], s['peer'], s['local_id'], s['remote_id'], s['remote_token'],
                       'j' in s['flags'], 'b' in s['flags'], 'B' in s['flags'])
                      for s in theirs)
        check(got == want, f'{label}: subflows of {token:08x}:\n  top {got}\n  ss  {want}')
    return doc


if os.environ.get('VIEWER_DROPPED') == '1':
    # run by `mptcp-testbed --drop-net-admin`: one subflow of our own (opening a second one
    # needs the privilege), listed as ss lists it; the text view says why where subflows hide
    import socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    sock.connect((os.environ['MPTCP_TESTBED_SERVER1_V4'], int(os.environ['MPTCP_TESTBED_PORT_SINK'])))
    sock.send(b'x' * 1000)
    doc = agree((), 'dropped by the runner')
    check(len(doc) == 1, f'our connection listed: {doc}')
    text = subprocess.run(tool(TOP) + ['--once'], check=True, capture_output=True, text=True).stdout
    check(doc[0]['token'] in text, 'text view lists it')
    if doc[0]['subflows'] is None:
        check('subflows unavailable' in text and 'CAP_NET_ADMIN' in text, 'text view says why')
    else:
        check(len(doc[0]['subflows']) == 1, 'its one subflow')
    sock.close()
    print(f'without CAP_NET_ADMIN (runner): subflows {doc[0]["subflows"] and len(doc[0]["subflows"])}')
    raise SystemExit(0)

stream = Stream(helper_path('mptcp-stream'))
token = int(stream.token, 16)


def subflow_count(prefix=()):
    doc, = top_json(prefix, '--once')
    c = [c for c in doc if int(c['token'], 16) == token]
    return len(c[0]['subflows']) if c and c[0]['subflows'] is not None else -1


wait_for(lambda: subflow_count() == 2, 'two subflows in mptcp-top')
doc = agree((), 'privileged')
check(any(int(c['token'], 16) == token for c in doc), 'the stream is listed')

# unprivileged: the same connections; subflows as far as the kernel shows them to ss
doc = agree(DROP_NET_ADMIN, 'without CAP_NET_ADMIN')
mine = [c for c in doc if int(c['token'], 16) == token][0]
text = subprocess.run(DROP_NET_ADMIN + tool(TOP) + ['--once'], check=True, capture_output=True,
                      text=True).stdout
check(stream.token in text, 'text view lists the stream')
if mine['subflows'] is None:
    check('subflows unavailable' in text and 'CAP_NET_ADMIN' in text, 'text view says why')
    print('without CAP_NET_ADMIN: subflows unavailable, as ss (kernel hides them)')
else:
    check(len(mine['subflows']) == 2, 'both subflows visible without the privilege')
    print('without CAP_NET_ADMIN: both subflows, as ss (kernel shows them to everyone)')

# throughput: three refreshes 300 ms apart; the first has no rate, the later ones do
docs = top_json((), '--interval', '300', '--count', '3')
check(len(docs) == 3, f'--count 3 printed {len(docs)} documents')
first = [c for c in docs[0] if int(c['token'], 16) == token][0]
check(all(s['tx_bps'] is None for s in first['subflows']), 'no rate before two samples')
last = [c for c in docs[2] if int(c['token'], 16) == token][0]
rates = [s['tx_bps'] for s in last['subflows']]
check(all(r is not None for r in rates) and sum(rates) > 0, f'non-zero throughput {rates}')
print(f'throughput per subflow (bit/s): {rates}')

stream.close_second()
wait_for(lambda: subflow_count() == 1, 'one subflow after closing one')
agree((), 'after the close')
stream.stop()
print('mptcp-top: agrees with ss -tniM, with and without CAP_NET_ADMIN')
