// test-path-manager.js: MptcpPathManager from gjs, cross-checked with `ip mptcp`.
// Run by meson under mptcp-testbed as `gjs -m`, in the testbed's client namespace: list, add
// and remove endpoints with the promisified async methods, and the sync ones.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mptcp from 'gi://Mptcp?version=1.0';
import System from 'system';

for (const name of ['list_endpoints', 'get_endpoint', 'add_endpoint', 'remove_endpoint',
    'remove_endpoint_by_address', 'set_endpoint_flags', 'flush_endpoints', 'get_limits',
    'set_limits'])
    Gio._promisify(Mptcp.PathManager.prototype, `${name}_async`, `${name}_finish`);

function assert(cond, what) {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
}

const IP = GLib.find_program_in_path('ip') ??
    ['/usr/sbin/ip', '/sbin/ip'].find(p => GLib.file_test(p, GLib.FileTest.EXISTS));

function ip(...args) {
    const proc = Gio.Subprocess.new([IP, ...args],
        Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE);
    const [, out, err] = proc.communicate_utf8(null, null);
    assert(proc.get_successful(), `ip ${args.join(' ')}: ${err}`);
    return out;
}

function ipEndpoints() {
    const out = ip('-j', 'mptcp', 'endpoint', 'show').trim();
    return (out ? JSON.parse(out) : []).sort((a, b) => a.id - b.id);
}

function ipLimits() {
    const words = ip('mptcp', 'limits', 'show').trim().split(/\s+/);
    return [Number(words[words.indexOf('subflows') + 1]),
        Number(words[words.indexOf('add_addr_accepted') + 1])];
}

const client2 = GLib.getenv('MPTCP_TESTBED_CLIENT2_V4');

async function main() {
    const pm = Mptcp.PathManager.new(null);
    await pm.flush_endpoints_async(null);
    assert(ipEndpoints().length === 0, 'flushed');

    // add (async): the library writes, ip reads
    const address = Gio.InetAddress.new_from_string(client2);
    const wanted = new Mptcp.Endpoint({address, flags: Mptcp.EndpointFlags.SUBFLOW});
    const ep = await pm.add_endpoint_async(wanted, null);
    assert(ep instanceof Mptcp.Endpoint, 'an endpoint');
    assert(ep.id >= 1 && ep.address.to_string() === client2, `endpoint ${ep.to_string()}`);
    assert(ep.flags === Mptcp.EndpointFlags.SUBFLOW && ep.ifname === null, 'flags, no device');
    let seen = ipEndpoints();
    assert(seen.length === 1 && seen[0].id === ep.id && seen[0].address === client2 &&
        seen[0].subflow === true, `ip sees ${JSON.stringify(seen)}`);

    // ip writes, the library lists (async and sync)
    ip('mptcp', 'endpoint', 'add', '203.0.113.9', 'id', '90', 'signal', 'backup');
    const list = await pm.list_endpoints_async(null);
    assert(list instanceof Gio.ListModel && list.get_item_type() === Mptcp.Endpoint.$gtype,
        'a GListModel of MptcpEndpoint');
    assert(list.get_n_items() === 2, `listed ${list.get_n_items()}`);
    let other = null;
    for (let i = 0; i < list.get_n_items(); i++) {
        if (list.get_item(i).id === 90)
            other = list.get_item(i);
    }
    assert(other && other.address.to_string() === '203.0.113.9' &&
        other.flags === (Mptcp.EndpointFlags.SIGNAL | Mptcp.EndpointFlags.BACKUP), 'ip-added one');
    assert(pm.list_endpoints(null).get_n_items() === 2, 'sync list');

    // limits: the finish function's out values
    const [subflows, accepted] = await pm.get_limits_async(null);
    const [ipSubflows, ipAccepted] = ipLimits();
    assert(subflows === ipSubflows && accepted === ipAccepted, `limits ${subflows} ${accepted}`);
    await pm.set_limits_async(Mptcp.PATH_MANAGER_LIMIT_UNCHANGED, 4, null);
    assert(ipLimits()[1] === 4 && ipLimits()[0] === subflows, 'add_addr_accepted set');
    await pm.set_limits_async(subflows, accepted, null);

    // errors
    let caught = null;
    try {
        await pm.add_endpoint_async(
            new Mptcp.Endpoint({address, flags: Mptcp.EndpointFlags.SIGNAL}), null);
    } catch (e) {
        caught = e;
    }
    assert(caught && caught.matches(Mptcp.Error, Mptcp.Error.ENDPOINT_EXISTS), `dup: ${caught}`);
    caught = null;
    try {
        pm.get_endpoint(99, null);
    } catch (e) {
        caught = e;
    }
    assert(caught && caught.matches(Mptcp.Error, Mptcp.Error.NO_SUCH_ENDPOINT), `99: ${caught}`);

    // remove (async by id, sync by address): ip sees them gone
    await pm.remove_endpoint_async(ep.id, null);
    seen = ipEndpoints();
    assert(seen.length === 1 && seen[0].id === 90, `after remove ${JSON.stringify(seen)}`);
    pm.remove_endpoint_by_address(Gio.InetAddress.new_from_string('203.0.113.9'), null);
    assert(ipEndpoints().length === 0, 'all removed');
    assert(pm.get_mode() === Mptcp.PathManagerMode.USERSPACE, 'testbed client mode');
}

const loop = GLib.MainLoop.new(null, false);
let status = 0;
main().catch(e => {
    logError(e);
    status = 1;
}).finally(() => loop.quit());
loop.run();
if (status === 0)
    print('gjs: path manager endpoints listed, added and removed');
System.exit(status);
