import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planAttach, planDetach } from '../../dist/plan/container-plan.js';
import { planCreateNetwork, bridgeMac } from '../../dist/plan/network-plan.js';
import { renderPlan } from '../../dist/plan/ops.js';
import { execute, executeBestEffort } from '../../dist/plan/executor.js';
import { CtnetError } from '../../dist/errors.js';

const attachment = {
  netns: 'ctnet-abc', ownsNetns: true, ifname: 'eth0', port: { kind: 'bridge', hostVeth: 'vethabc', bridge: 'br0' }, mtu: 1500, ip: '172.17.0.101', prefix: 24, gateway: '172.17.0.1',
  ports: [{ protocol: 'tcp', hostIp: null, hostPort: 8000, containerIp: '172.17.0.101', containerPort: 8080 }],
};

test('attaching a container renders as the seed\'s commands', () => {
  assert.deepEqual(renderPlan(planAttach(attachment), { hostNetns: null }), [
    'ip netns add ctnet-abc',
    'ip -n ctnet-abc link set lo up',
    "nft 'add element ip ctnet tcp_any { 8000 : 172.17.0.101 . 8080 }'",
    'ip link add vethabc mtu 1500 master br0 up type veth peer name eth0 netns ctnet-abc',
    'ip link set vethabc type bridge_slave hairpin on',
    'sysctl -w net/ipv6/conf/vethabc/disable_ipv6=1',
    'ip netns exec ctnet-abc sysctl -w net/ipv6/conf/eth0/disable_ipv6=1',
    'ip -n ctnet-abc link set eth0 up',
    'ip -n ctnet-abc addr add 172.17.0.101/24 dev eth0',
    'ip -n ctnet-abc route add default via 172.17.0.1 dev eth0',
  ]);
});

test("a bridge network's container and its gateway are told each other's MAC, in both families; the host's entries go at detach", () => {
  const steps = planAttach({ ...attachment, mac: '02:42:ac:11:00:65', ip6: { ip: 'fd00::65', prefix: 64, gateway: 'fd00::1', ports: [] },
    neighbours: { bridge: 'br0', gatewayMac: '02:aa:bb:cc:dd:ee', gateway: '172.17.0.1', gateway6: 'fd00::1' } });
  const lines = renderPlan(steps, { hostNetns: null });
  assert.deepEqual(lines.filter((l) => l.includes('neigh')), [
    'ip -n ctnet-abc neigh replace 172.17.0.1 lladdr 02:aa:bb:cc:dd:ee dev eth0 nud permanent',
    'ip neigh replace 172.17.0.101 lladdr 02:42:ac:11:00:65 dev br0 nud permanent',
    'ip -n ctnet-abc neigh replace fd00::1 lladdr 02:aa:bb:cc:dd:ee dev eth0 nud permanent',
    'ip neigh replace fd00::65 lladdr 02:42:ac:11:00:65 dev br0 nud permanent',
  ]);
  // The container's go with its interface; the host's are undone by name.
  assert.deepEqual(steps.filter((s) => s.do.op === 'neigh.set').map((s) => s.undo), [null, { op: 'neigh.del', dev: 'br0', ip: '172.17.0.101' }, null, { op: 'neigh.del', dev: 'br0', ip: 'fd00::65' }]);
  assert.ok(lines.indexOf('ip -n ctnet-abc addr add 172.17.0.101/24 dev eth0') < lines.findIndex((l) => l.includes('neigh')), 'after the interface is up with its address');
  const detach = planDetach({ netns: 'ctnet-abc', ownsNetns: true, ifname: 'eth0', hostVeth: 'vethabc', ip: '172.17.0.101', prefix: 24, ports: [], neighbours: [{ bridge: 'br0', ips: ['172.17.0.101', 'fd00::65'] }, { bridge: 'br1', ips: ['10.1.0.5'] }] });
  // Its further networks' entries too, each at its own bridge.
  assert.deepEqual(detach.filter((o) => o.op === 'neigh.del'), [{ op: 'neigh.del', dev: 'br0', ip: '172.17.0.101' }, { op: 'neigh.del', dev: 'br0', ip: 'fd00::65' }, { op: 'neigh.del', dev: 'br1', ip: '10.1.0.5' }]);
  // A macvlan container has no bridge: nothing to tell.
  assert.ok(!renderPlan(planAttach({ ...attachment, port: { kind: 'macvlan', parent: 'eth0' }, mac: '02:42:0a:00:0d:05', neighbours: { bridge: 'br0', gatewayMac: '02:aa:bb:cc:dd:ee', gateway: '172.17.0.1' } }), { hostNetns: null }).some((l) => l.includes('neigh')));
});

test('a macvlan attachment: the interface is born in the namespace on the parent, with its MAC; no veth, no bridge port', () => {
  const lines = renderPlan(planAttach({ ...attachment, port: { kind: 'macvlan', parent: 'eth0' }, ifname: 'eth0', mac: '02:42:0a:00:0d:05', ports: [] }), { hostNetns: null });
  assert.deepEqual(lines.slice(0, 4), [
    'ip netns add ctnet-abc',
    'ip -n ctnet-abc link set lo up',
    'ip link add eth0-tmp link eth0 mtu 1500 address 02:42:0a:00:0d:05 type macvlan mode bridge && ip link set eth0-tmp netns ctnet-abc name eth0',
    'ip netns exec ctnet-abc sysctl -w net/ipv6/conf/eth0/disable_ipv6=1',
  ]);
  assert.equal(lines[4], 'ip -n ctnet-abc link set eth0 up');
  assert.ok(!lines.some((l) => /veth|hairpin|nft/.test(l)));
  // Removed before its namespace: the kernel destroys a namespace later, and the MAC stays taken on the parent until then.
  const detach = renderPlan(planDetach({ netns: 'ctnet-abc', ownsNetns: true, ifname: 'eth0', hostVeth: null, ip: '10.0.13.5', prefix: 22, ports: [], links: ['eth0'] }).map((op) => ({ do: op, undo: null })), { hostNetns: null });
  assert.deepEqual(detach.slice(-2), ['ip -n ctnet-abc link del eth0', 'ip netns del ctnet-abc']);
});

test('a runtime\'s namespace (CNI): no namespace created, the interface name and MAC it asked for, nsenter to show it', () => {
  const lines = renderPlan(planAttach({ ...attachment, netns: '/var/run/netns/cni-1', ownsNetns: false, ifname: 'net1', mac: '02:00:00:00:00:09', ports: [] }), { hostNetns: null });
  assert.equal(lines[0], 'ip link add vethabc mtu 1500 master br0 up type veth peer name net1 address 02:00:00:00:00:09 netns /var/run/netns/cni-1');
  assert.ok(lines.includes('nsenter --net=/var/run/netns/cni-1 ip link set net1 up'));
  assert.ok(lines.includes('nsenter --net=/var/run/netns/cni-1 ip addr add 172.17.0.101/24 dev net1'));
  assert.ok(!lines.some((l) => l.includes('netns add')));
});

test('with a host namespace, host commands name it; internal networks get no default route', () => {
  const lines = renderPlan(planAttach({ ...attachment, gateway: undefined, ports: [] }), { hostNetns: 'lab' });
  assert.ok(lines.includes('ip -n lab link add vethabc mtu 1500 master br0 up type veth peer name eth0 netns ctnet-abc'));
  assert.ok(!lines.some((l) => l.includes('route add default')));
  assert.ok(!lines.some((l) => l.includes('nft')));
});

test('creating a network: bridge with a fixed MAC, gateway, route_localnet, up, forwarding, firewall', () => {
  const id = 'aabbccddeeff00112233';
  const lines = renderPlan(planCreateNetwork({ id, bridge: 'br0', subnet: '172.17.0.0/24', gateway: '172.17.0.1', mtu: 1500, internal: false }, { apply: 'add table ip ctnet', undo: '' }), { hostNetns: null });
  assert.deepEqual(lines, [
    'ip link add br0 address 02:aa:bb:cc:dd:ee mtu 1500 type bridge',
    'ip addr add 172.17.0.1/24 dev br0',
    'sysctl -w net.ipv4.conf.br0.route_localnet=1',
    'sysctl -w net/ipv6/conf/br0/disable_ipv6=1',
    'sysctl -w net/ipv6/conf/br0/accept_ra=0',
    'ip link set br0 up',
    'sysctl -w net.ipv4.ip_forward=1',
    "nft 'add table ip ctnet'",
  ]);
  assert.equal(bridgeMac(id), '02:aa:bb:cc:dd:ee');
});

test('detaching removes ports, veth and namespace, and skips what was never there', () => {
  const d = { netns: 'ns', ownsNetns: true, ifname: 'eth0', hostVeth: 'v', ip: '172.17.0.101', prefix: 24, ports: [] };
  assert.deepEqual(planDetach(d).map((o) => o.op), ['addr.del', 'netns.del']);
  assert.deepEqual(planDetach({ ...d, netns: null }).map((o) => o.op), ['link.del']);
  // A runtime's namespace stays; its interface goes.
  assert.deepEqual(planDetach({ ...d, netns: '/var/run/netns/x', ownsNetns: false, ifname: 'net1' }).map((o) => `${o.op} ${o.name}`), ['link.del net1', 'link.del v']);
  assert.deepEqual(planDetach({ ...d, netns: null, hostVeth: null }), []);
  assert.equal(planDetach({ ...d, ports: attachment.ports })[0].missingOk, true);
});

test('while something still runs in the namespace, its ports go before their guards', () => {
  const guards = [{ port: 'v', mac: '02:42:ac:11:00:65', ip: '172.17.0.101' }];
  const d = { netns: 'ns', ownsNetns: true, ifname: 'eth0', hostVeth: 'v', ip: '172.17.0.101', prefix: 24, ports: [], guards };
  const order = (ops) => ops.map((o) => (o.op === 'link.del' ? `link.del ${o.name}` : o.op));
  // A runtime's namespace (CNI DEL), and one that containers joined to this one keep.
  assert.deepEqual(order(planDetach({ ...d, netns: '/var/run/netns/x', ownsNetns: false })), ['link.del eth0', 'link.del v', 'nft.elements']);
  assert.deepEqual(order(planDetach({ ...d, joinedVeths: ['v', 'w'] })), ['link.del v', 'link.del w', 'nft.elements', 'addr.del', 'netns.del']);
  // Nothing runs in it any more: the guard goes first, the veth with the namespace.
  assert.deepEqual(order(planDetach(d)), ['nft.elements', 'addr.del', 'netns.del']);
});

/** A fake kernel that records what was applied and fails on request. */
function fakeKernel(failOn) {
  const log = [];
  return {
    log,
    apply(op) {
      if (failOn && failOn(op)) throw new Error(`boom at ${op.op}`);
      log.push(op);
      if (op.op === 'sysctl.set' && !op.ephemeral) return { op: 'sysctl.set', key: op.key, value: 'old' };
    },
  };
}

test('a failure undoes the applied steps in reverse order and rethrows', () => {
  const k = fakeKernel((op) => op.op === 'route.add');
  assert.throws(() => execute(planAttach(attachment), k, { render: { hostNetns: null } }), /boom at route.add/);
  const undone = k.log.slice(9).map((o) => `${o.op} ${o.name ?? o.verb}`);
  assert.deepEqual(undone, ['link.del vethabc', 'nft.elements delete', 'netns.del ctnet-abc']);
});

test('undo values computed at apply time are used (sysctl restores what it found)', () => {
  const k = fakeKernel((op) => op.op === 'nft' && op.script === 'x');
  const steps = [{ do: { op: 'sysctl.set', key: 'k', value: '1' }, undo: null }, { do: { op: 'nft', script: 'x' }, undo: null }];
  assert.throws(() => execute(steps, k, { render: { hostNetns: null } }));
  assert.deepEqual(k.log.at(-1), { op: 'sysctl.set', key: 'k', value: 'old' });
});

test('an injected fault stops before the step and rolls back', () => {
  const k = fakeKernel();
  assert.throws(() => execute(planAttach(attachment), k, { render: { hostNetns: null }, faultAt: 5 }), (e) => e instanceof CtnetError && e.code === 'CTNET_INJECTED_FAULT');
  // Steps 1-4 ran (namespace, loopback, the port's elements, veth); undo removes them in reverse.
  assert.deepEqual(k.log.map((o) => o.op), ['netns.add', 'link.up', 'nft.elements', 'veth.add', 'link.del', 'nft.elements', 'netns.del']);
});

test('best effort goes on past failures and returns them', () => {
  const k = fakeKernel((op) => op.op === 'addr.del');
  const errors = executeBestEffort(planDetach({ netns: 'ns', ownsNetns: true, ifname: 'eth0', hostVeth: 'v', ip: '10.0.0.2', prefix: 24, ports: [] }), k, { render: { hostNetns: null } });
  assert.equal(errors.length, 1);
  assert.deepEqual(k.log.map((o) => o.op), ['netns.del']);
});

test('a cgroup the host refuses: optional (no limits) is skipped, with limits it is an error', async () => {
  const { KernelSession } = await import('../../dist/kernel/session.js');
  const { KernelApplier } = await import('../../dist/engine/applier.js');
  const { CURRENT_NETNS } = await import('../../dist/kernel/netns.js');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-cg-'));
  writeFileSync(join(dir, 'file'), ''); // a directory cannot be made below a file
  const session = new KernelApplier(new KernelSession(CURRENT_NETNS));
  try {
    const dirs = [join(dir, 'file', 'ctnet', 'x')];
    session.apply({ op: 'cgroup.create', dirs, writes: [], optional: true });
    assert.throws(() => session.apply({ op: 'cgroup.create', dirs, writes: [[dirs[0], 'memory.max', '1']] }), /cannot set up the container's cgroup: .*drop the resource limits \(--memory, --cpus, --cpuset-cpus, --pids-limit, \.\.\.\)/);
  } finally {
    session.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

