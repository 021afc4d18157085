# test-path-manager.py: MptcpPathManager from PyGObject, cross-checked with `ip mptcp`.
# Run by meson under mptcp-testbed with /usr/bin/python3 (Debian's PyGObject), in the testbed's
# client namespace: list, add and remove endpoints, limits, mode, errors, async variants.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import shutil
import socket
import subprocess

import testlib  # noqa: F401 (exits on exceptions in callbacks)

import gi
gi.require_version('Mptcp', '1.0')
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib, Mptcp  # noqa: E402

IP = shutil.which('ip') or next(p for p in ('/usr/sbin/ip', '/sbin/ip', '/bin/ip')
                                if os.path.exists(p))


def ip(*args):
    return subprocess.run([IP, *args], check=True, capture_output=True, text=True).stdout


def ip_endpoints():
    out = ip('-j', 'mptcp', 'endpoint', 'show').strip()
    return sorted(json.loads(out) if out else [], key=lambda e: e['id'])


def ip_limits():
    words = ip('mptcp', 'limits', 'show').split()
    values = dict(zip(words[::2], words[1::2]))
    return int(values['subflows']), int(values['add_addr_accepted'])


def expect_error(domain, code, func, *args):
    try:
        func(*args)
    except GLib.Error as e:
        assert e.matches(domain, code), e
        return e
    raise AssertionError(f'{func.__name__} did not fail')


client2 = os.environ['MPTCP_TESTBED_CLIENT2_V4']
c2 = socket.if_nametoindex('c2')

pm = Mptcp.PathManager.new(None)
assert isinstance(pm, Gio.Initable)
pm.flush_endpoints(None)
endpoints = pm.list_endpoints(None)
assert isinstance(endpoints, Gio.ListModel) and endpoints.get_item_type() == Mptcp.Endpoint.__gtype__
assert len(endpoints) == 0
assert ip_endpoints() == []

# add: the library writes, ip reads
wanted = Mptcp.Endpoint(address=Gio.InetAddress.new_from_string(client2), ifindex=c2,
                        flags=Mptcp.EndpointFlags.SUBFLOW | Mptcp.EndpointFlags.BACKUP)
assert wanted.props.id == 0 and wanted.props.port == 0
ep = pm.add_endpoint(wanted, None)
assert isinstance(ep, Mptcp.Endpoint) and ep is not wanted and wanted.props.id == 0
assert 1 <= ep.props.id <= 255
assert ep.props.address.to_string() == client2
assert ep.props.ifindex == c2 and ep.props.ifname == 'c2'
assert ep.props.flags == Mptcp.EndpointFlags.SUBFLOW | Mptcp.EndpointFlags.BACKUP
assert ep.get_flags() & Mptcp.EndpointFlags.BACKUP
assert ep.has_flags(Mptcp.EndpointFlags.SUBFLOW)
assert ep.to_string() == f'{client2} id {ep.props.id} subflow backup dev c2', ep.to_string()
assert ip_endpoints() == [{'address': client2, 'id': ep.get_id(), 'subflow': True,
                           'backup': True, 'dev': 'c2'}], ip_endpoints()

# ip writes, the library lists
ip('mptcp', 'endpoint', 'add', '203.0.113.5', 'id', '50', 'signal')
endpoints = pm.list_endpoints(None)
assert sorted(e.props.id for e in endpoints) == sorted(e['id'] for e in ip_endpoints())
got = pm.get_endpoint(50, None)
assert got.props.address.to_string() == '203.0.113.5'
assert got.props.flags == Mptcp.EndpointFlags.SIGNAL
assert got.props.ifname is None and got.props.port == 0

# flags
pm.set_endpoint_flags(ep.props.id, Mptcp.EndpointFlags.NONE, None)
assert 'backup' not in next(e for e in ip_endpoints() if e['id'] == ep.props.id)
expect_error(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT,
             pm.set_endpoint_flags, ep.props.id, Mptcp.EndpointFlags.SIGNAL, None)

# errors
dup = expect_error(Mptcp.error_quark(), Mptcp.Error.ENDPOINT_EXISTS, pm.add_endpoint,
                   Mptcp.Endpoint(address=Gio.InetAddress.new_from_string(client2),
                                  flags=Mptcp.EndpointFlags.SIGNAL), None)
expect_error(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT, pm.add_endpoint,
             Mptcp.Endpoint(address=Gio.InetAddress.new_from_string('203.0.113.6'),
                            flags=Mptcp.EndpointFlags.SIGNAL | Mptcp.EndpointFlags.FULLMESH),
             None)
# no address: refused before anything is sent
expect_error(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT, pm.add_endpoint,
             Mptcp.Endpoint(flags=Mptcp.EndpointFlags.SUBFLOW), None)
# the constructor with the address only
plain = Mptcp.Endpoint.new(Gio.InetAddress.new_from_string('203.0.113.8'))
assert plain.props.address.to_string() == '203.0.113.8' and plain.props.flags == 0
expect_error(Mptcp.error_quark(), Mptcp.Error.NO_SUCH_ENDPOINT, pm.get_endpoint, 99, None)
expect_error(Mptcp.error_quark(), Mptcp.Error.NO_SUCH_ENDPOINT, pm.remove_endpoint, 99, None)

# remove: by id and by address; ip sees them gone
pm.remove_endpoint(ep.props.id, None)
assert [e['id'] for e in ip_endpoints()] == [50]
pm.remove_endpoint_by_address(Gio.InetAddress.new_from_string('203.0.113.5'), None)
assert ip_endpoints() == [] and list(pm.list_endpoints(None)) == []

# limits: a plain tuple, -1 keeps a value
subflows, accepted = pm.get_limits(None)
assert (subflows, accepted) == ip_limits()
pm.set_limits(3, Mptcp.PATH_MANAGER_LIMIT_UNCHANGED, None)
assert ip_limits() == (3, accepted)
expect_error(Mptcp.error_quark(), Mptcp.Error.OUT_OF_RANGE, pm.set_limits, 9, 9, None)
pm.set_limits(subflows, accepted, None)

# mode: the testbed's client runs the userspace path manager
assert pm.get_mode() == Mptcp.PathManagerMode.USERSPACE

# async, driven by a main loop
loop = GLib.MainLoop()
results = []


def done(source, result, finish):
    try:
        results.append(finish(result))
    except GLib.Error as e:
        results.append(e)
    loop.quit()


pm.add_endpoint_async(Mptcp.Endpoint(address=Gio.InetAddress.new_from_string('203.0.113.7'),
                                     flags=Mptcp.EndpointFlags.SIGNAL, id=7),
                      None, done, pm.add_endpoint_finish)
loop.run()
added = results.pop()
assert isinstance(added, Mptcp.Endpoint) and added.props.id == 7, added
assert [e['id'] for e in ip_endpoints()] == [7]

pm.list_endpoints_async(None, done, pm.list_endpoints_finish)
loop.run()
assert [e.props.id for e in results.pop()] == [7]

pm.get_limits_async(None, done, pm.get_limits_finish)
loop.run()
assert tuple(results.pop()) == ip_limits()

cancellable = Gio.Cancellable()
cancellable.cancel()
pm.remove_endpoint_async(7, cancellable, done, pm.remove_endpoint_finish)
loop.run()
err = results.pop()
assert isinstance(err, GLib.Error) and err.matches(Gio.io_error_quark(),
                                                     Gio.IOErrorEnum.CANCELLED), err
assert [e['id'] for e in ip_endpoints()] == [7]

pm.remove_endpoint_async(7, None, done, pm.remove_endpoint_finish)
loop.run()
assert results.pop() is True
assert ip_endpoints() == []

print('python: path manager endpoints listed, added and removed; limits', ip_limits())
