# service_client.py: the mptcplib scenario from PyGObject as an unprivileged user, through
# the ordinary Mptcp.Connection API (the library takes it to mptcp-glib-service).
# Run by test-service as uid 65534 without CAP_NET_ADMIN.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import socket
import sys
import time

import gi
gi.require_version('Mptcp', '1.0')
from gi.repository import GLib, Gio, Mptcp  # noqa: E402

SERVER1, SERVER2, CLIENT2, ECHO = '192.0.2.2', '198.51.100.2', '198.51.100.1', 5002

assert os.geteuid() != 0
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.connect((SERVER1, ECHO))
s.sendall(b'ping')
assert s.recv(4) == b'ping'
conn = Mptcp.Connection.new(Gio.Socket.new_from_fd(s.detach()))
assert conn.get_event_source() == Mptcp.EventSource.POLLING
assert conn.props.service_policy == Mptcp.ServicePolicy.AUTO

local = Gio.InetSocketAddress.new_from_string(CLIENT2, 0)
remote = Gio.InetSocketAddress.new_from_string(SERVER2, ECHO)


def refused(code, text):
    try:
        conn.open_subflow(local, remote, None)
        raise AssertionError('the open succeeded')
    except GLib.Error as e:
        assert e.domain == 'mptcp-error-quark', e.domain
        assert e.code == code, (e.code, e.message)
        assert text in e.message, e.message


if sys.argv[1] == 'noservice':
    # the test stopped the service: AUTO is the direct path's refusal, ALWAYS names the bus
    refused(Mptcp.Error.PERMISSION_DENIED, 'CAP_NET_ADMIN')
    conn.props.service_policy = Mptcp.ServicePolicy.ALWAYS
    refused(Mptcp.Error.NOT_SUPPORTED, 'io.github.MptcpGlib.Service')
    print('ok')
    sys.exit(0)

# NEVER: the direct path, which cannot without CAP_NET_ADMIN
conn.set_service_policy(Mptcp.ServicePolicy.NEVER)
refused(Mptcp.Error.PERMISSION_DENIED, '')
assert conn.get_event_source() == Mptcp.EventSource.POLLING
# ALWAYS, then AUTO: the service
conn.set_service_policy(Mptcp.ServicePolicy.ALWAYS)
sf = conn.open_subflow(local, remote, None)
assert conn.get_event_source() == Mptcp.EventSource.SERVICE
assert sf.close(None)
conn.set_service_policy(Mptcp.ServicePolicy.AUTO)
deadline = time.monotonic() + 10
while conn.get_subflows().get_n_items() != 1:
    conn.refresh()
    assert time.monotonic() < deadline, 'the subflow did not go'
    time.sleep(0.01)

sf = conn.open_subflow(local, remote, None)
assert conn.get_event_source() == Mptcp.EventSource.SERVICE
assert conn.get_subflows().get_n_items() == 2
assert sf.get_local_address().get_address().to_string() == CLIENT2
assert sf.set_backup(True, None)
assert sf.get_backup()
assert sf.close(None)
deadline = time.monotonic() + 10
while True:
    conn.refresh()
    if conn.get_subflows().get_n_items() == 1:
        break
    assert time.monotonic() < deadline, 'the subflow did not go'
    time.sleep(0.01)

ident = conn.announce_address(local, None)
assert ident > 0
assert conn.remove_address(ident, None)
try:
    conn.remove_address(200, None)
    raise AssertionError('removing an unknown id succeeded')
except GLib.Error as e:
    assert e.domain == 'mptcp-error-quark', e.domain
    assert e.code == int(sys.argv[1]), (e.code, sys.argv[1])
# MptcpPathManager: a change goes to the service's admin action, which this user lacks here
pm = Mptcp.PathManager.new(None)
assert pm.props.service_policy == Mptcp.ServicePolicy.AUTO
try:
    pm.add_endpoint(Mptcp.Endpoint.new(Gio.InetAddress.new_from_string('10.213.0.1')), None)
    raise AssertionError('adding an endpoint succeeded')
except GLib.Error as e:
    assert e.domain == 'mptcp-error-quark', e.domain
    assert e.code == Mptcp.Error.PERMISSION_DENIED, (e.code, e.message)
    assert 'io.github.MptcpGlib.Service.admin' in e.message, e.message
print('ok')
