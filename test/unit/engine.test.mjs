// Engine logic without a kernel: the store in memory (Store.inMemory) and a context that records
// the kernel operations the engine asks for instead of applying them. What the crash protocol's
// reconcile does with each transitional record, the firewall rendered from state, the views, ports.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../dist/store/store.js';
import { reconcile, reconcileForRead } from '../../dist/engine/reconcile.js';
import { isAlive, processStartTime } from '../../dist/kernel/proc.js';
import { firewallScript, firewallScriptFrom, activeGuards, bridgeTableShape } from '../../dist/engine/firewall-state.js';
import { containerListing, containerView, listingSources, networkListing, networkView } from '../../dist/engine/views.js';
import { allocatePorts } from '../../dist/engine/host-ports.js';
import { renderSetElements } from '../../dist/firewall/ruleset.js';
import { FORWARD_BEFORE } from '../../dist/engine/network-teardown.js';

/** A PID no process has (above the kernel's pid_max). */
const DEAD_PID = 2 ** 22 + 1;
let ctx;
let root;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ctnet-engine-'));
  const store = Store.inMemory(root);
  ctx = {
    store, root, dryRun: false, options: {}, applied: [], warnings: [],
    applyBestEffort(ops) { this.applied.push(...ops); return []; },
    warn(err) { this.warnings.push(err); },
    warnAll(errs) { for (const e of errs) this.warn(e); },
    crashPoint() {},
    // A host with no links: no segment of a network is left to remove.
    kernel: () => ({ rtnl: () => ({ listLinks: () => [] }) }),
  };
});
afterEach(() => {
  ctx.store.close();
  rmSync(root, { recursive: true, force: true });
});

const network = (id, extra = {}) => ({
  id: id.padEnd(64, '0'), name: id, subnet: '10.1.0.0/24', gateway: '10.1.0.1', bridge: `br-${id}`, internal: false, mtu: 1500, createdAt: 't',
  rangeStart: null, rangeEnd: null, ipMasq: true, defaultRoute: true, dns: true, subnet6: null, gateway6: null, state: 'ready', labels: {}, ipRange: null, auxAddresses: {}, icc: true, hostBindingIpv4: null, driver: 'bridge', parent: null, ...extra,
});
const container = (name, net, ip, extra = {}) => {
  const id = Buffer.from(name).toString('hex').padEnd(64, 'a');
  return {
    id, name, networkId: net.id, ip, hostVeth: `veth${id.slice(0, 8)}`, netns: `ctnet-${id.slice(0, 12)}`, hostname: name, command: ['sleep', '1'], env: [],
    portSpecs: [], detached: true, autoRemove: false, state: 'running', pid: DEAD_PID, pidStart: null, exitCode: null, logPath: null, createdAt: 't',
    startedAt: null, finishedAt: null, ifname: 'eth0', ownsNetns: true, cniContainerId: null, restartMax: 0, sandbox: {}, oomKilled: false, aliases: [], labels: {},
    ip6: null, ip6Offset: null, mac: null, networkMode: 'bridge', netnsOf: null, netOptions: {}, ...extra,
  };
};
const ops = () => ctx.applied.map((o) => (o.op === 'nft' ? `nft:${o.script.includes('table ip ctnet {') ? 'table' : 'no table'}` : `${o.op}:${o.name ?? o.key ?? o.dev}${o.value !== undefined ? `=${o.value}` : ''}`));

test('reconcile: a network left creating is undone; as the host\'s first it takes forwarding back to what it was', () => {
  ctx.store.setMeta(FORWARD_BEFORE, '0');
  ctx.store.insertNetwork(network('half', { state: 'creating' }));
  assert.deepEqual(reconcile(ctx), ['network half: interrupted creation undone']);
  assert.deepEqual(ops(), ['nft:no table', 'link.del:br-half', 'sysctl.set:net.ipv4.ip_forward=0']);
  assert.match(ctx.applied[0].script, /delete table bridge ctnet/, 'the last bridge network takes the bridge table with it');
  assert.equal(ctx.store.findNetwork('half'), undefined);
  assert.equal(ctx.store.getMeta(FORWARD_BEFORE), undefined);
  assert.deepEqual(reconcile(ctx), [], 'nothing left to do the second time');
});

test('reconcile: a network left removing is removed, beside one that stays (forwarding untouched)', () => {
  ctx.store.setMeta(FORWARD_BEFORE, '0');
  ctx.store.insertNetwork(network('keep'));
  ctx.store.insertNetwork(network('gone', { state: 'removing', subnet: '10.2.0.0/24', gateway: '10.2.0.1' }));
  assert.deepEqual(reconcile(ctx), ['network gone: interrupted removal finished']);
  assert.deepEqual(ops(), ['nft:table', 'link.del:br-gone']);
  assert.match(ctx.applied[0].script, /br-keep/);
  assert.doesNotMatch(ctx.applied[0].script, /br-gone/);
  assert.doesNotMatch(ctx.applied[0].script, /table bridge/, 'the bridge table stays as it is');
  assert.equal(ctx.store.getMeta(FORWARD_BEFORE), '0');
});

test('a network made or removed changes the bridge table only as the first or last bridge network (whole), or its forward and output chains as the first or last with enable_icc=false', () => {
  const shape = () => bridgeTableShape(ctx.store);
  const add = (n) => ctx.store.insertNetwork(n);
  assert.deepEqual(shape(), { table: false, hooks: false });
  add(network('mv', { driver: 'macvlan', bridge: null, parent: 'eth0' }));
  const none = shape();
  assert.deepEqual(none, { table: false, hooks: false }, 'a macvlan network has no bridge port');
  add(network('keep'));
  assert.match(firewallScriptFrom(ctx.store, none), /add table bridge ctnet\ndelete table bridge ctnet\ntable bridge ctnet \{/, 'the table comes with the first bridge network');
  const open = shape();
  add(network('more', { subnet: '10.2.0.0/24', gateway: '10.2.0.1' }));
  assert.doesNotMatch(firewallScriptFrom(ctx.store, open), /bridge ctnet/, 'nothing of it with a second');
  add(network('iso', { subnet: '10.3.0.0/24', gateway: '10.3.0.1', icc: false }));
  const isolating = shape();
  assert.deepEqual(isolating, { table: true, hooks: true });
  const made = firewallScriptFrom(ctx.store, open);
  assert.doesNotMatch(made.slice(made.indexOf('add chain bridge')), /table bridge ctnet\n|\tset |port_guard/, 'the table, its sets and guard stay as they are');
  assert.doesNotMatch(made.slice(0, made.indexOf('add chain bridge')), /bridge ctnet/);
  assert.match(made, /^add chain bridge ctnet bridge_forward \{ type filter hook forward priority filter; policy accept; \}$/m);
  assert.match(made, /^flush chain bridge ctnet bridge_output$/m);
  // The chains as the whole table has them.
  const chainsOf = (script) => /\tchain bridge_forward \{[^]*$/.exec(script)[0].replace(/\}\n\}\n$/, '');
  assert.equal(chainsOf(made), chainsOf(firewallScript(ctx.store)));
  assert.doesNotMatch(firewallScriptFrom(ctx.store, isolating), /bridge ctnet/, 'nothing of it with a second enable_icc=false network');
  ctx.store.deleteNetwork(network('iso').id);
  assert.deepEqual(firewallScriptFrom(ctx.store, isolating).split('\n').filter((l) => /bridge ctnet/.test(l)), [
    'add chain bridge ctnet bridge_forward { type filter hook forward priority filter; policy accept; }',
    'add chain bridge ctnet bridge_output { type filter hook output priority filter; policy accept; }',
    'delete chain bridge ctnet bridge_forward',
    'delete chain bridge ctnet bridge_output',
  ], 'the chains go with the last: made first, so that deleting them cannot fail');
  assert.doesNotMatch(firewallScript(ctx.store, { bridgeTable: false }), /bridge ctnet/);
});

test('reconcile: a container marked removing is removed whole; one whose process died is marked exited and frees its addresses', () => {
  const net = network('n', { subnet6: 'fd00::/64', gateway6: 'fd00::1' });
  ctx.store.insertNetwork(net);
  ctx.store.insertNetwork(network('side', { subnet: '10.2.0.0/24', gateway: '10.2.0.1' }));
  const marked = container('marked', net, '10.1.0.2');
  const died = container('died', net, '10.1.0.3', { ip6: 'fd00::3', ip6Offset: 3 });
  ctx.store.insertContainer(marked);
  ctx.store.insertContainer(died);
  ctx.store.insertPort({ containerId: died.id, protocol: 'tcp', hostIp: null, hostPort: 8000, containerPort: 80 });
  ctx.store.insertAttachment({ containerId: died.id, networkId: network('side').id, ifname: 'eth1', ip: '10.2.0.2', hostVeth: 'vethside0', aliases: [], ip6: null, ip6Offset: null, mac: null });
  ctx.store.markRemoving(marked.id);
  assert.deepEqual(reconcile(ctx), ['marked: interrupted removal finished', 'died: process ended, network removed']);
  assert.equal(ctx.store.getContainer(marked.id), undefined);
  const exited = ctx.store.getContainer(died.id);
  assert.deepEqual([exited.state, exited.ip, exited.ip6, exited.netns], ['exited', null, null, null]);
  assert.deepEqual(ctx.store.listEndpoints(), [], 'every address of both is free again');
  assert.deepEqual(ctx.store.portsOf(died.id), []);
  // Each namespace went (the veth pairs with it), its IPv4 and IPv6 addresses first; the host's
  // permanent neighbour entries for them at each network's bridge too.
  assert.deepEqual(ops().filter((o) => !o.startsWith('nft') && !o.startsWith('cgroup')), [
    'neigh.del:br-n', 'addr.del:eth0', `netns.del:${marked.netns}`,
    'neigh.del:br-n', 'neigh.del:br-n', 'neigh.del:br-side', 'addr.del:eth0', 'addr.del:eth0', `netns.del:${died.netns}`,
  ]);
  // The guard elements of both its ports (first network and connected) and its port map element went.
  const nft = ctx.applied.map((o) => (o.op === 'nft' ? o.script : o.op === 'nft.elements' ? renderSetElements(o.verb, o.elements) : '')).join('');
  assert.match(nft, /delete element ip ctnet tcp_any \{ 8000/);
  assert.match(nft, /vethside0/);
});

test('reconcile: a setup whose ctnet process died is undone; one still being set up by a live process is left alone', () => {
  const net = network('n');
  ctx.store.insertNetwork(net);
  ctx.store.insertContainer(container('orphan', net, '10.1.0.2', { state: 'created' }));
  ctx.store.insertContainer(container('busy', net, '10.1.0.3', { state: 'created', pid: process.pid }));
  assert.deepEqual(reconcile(ctx), ['orphan: interrupted setup undone']);
  assert.deepEqual(ctx.store.listContainers().map((c) => c.name), ['busy']);
});

test('reconcile for a read: with every process alive it reconciles nothing and answers for them as the kernel does', () => {
  const net = network('n');
  ctx.store.insertNetwork(net);
  const start = processStartTime(process.pid);
  ctx.store.insertContainer(container('live', net, '10.1.0.2', { pid: process.pid, pidStart: start }));
  ctx.store.insertContainer(container('endpoint', net, '10.1.0.3', { command: [], pid: null }));
  const alive = reconcileForRead(ctx);
  assert.deepEqual(ctx.applied, [], 'nothing to reconcile');
  assert.equal(alive(process.pid, start), true);
  assert.equal(alive(process.pid, '1'), false, 'the same PID with another start time is another process');
  assert.equal(alive(process.pid, null), true);
  assert.equal(alive(DEAD_PID, null), false);
  assert.equal(reconcileForRead({ ...ctx, dryRun: true }), isAlive, 'a dry run reads the kernel');
});

test('firewall from state: port map elements of first networks, guards of every attachment (IPv6 included), a runtime\'s legacy MAC not guessed', () => {
  const net = network('n', { subnet6: 'fd00::/64', gateway6: 'fd00::1' });
  const side = network('side', { subnet: '10.2.0.0/24', gateway: '10.2.0.1' });
  ctx.store.insertNetwork(net);
  ctx.store.insertNetwork(side);
  const web = container('web', net, '10.1.0.2', { ip6: 'fd00::2', ip6Offset: 2, mac: '02:42:0a:01:00:02' });
  ctx.store.insertContainer(web);
  ctx.store.insertContainer(container('legacy', net, '10.1.0.3', { ownsNetns: false, cniContainerId: 'rt1', command: [] }));
  ctx.store.insertPort({ containerId: web.id, protocol: 'udp', hostIp: null, hostPort: 5353, containerPort: 53 });
  ctx.store.insertAttachment({ containerId: web.id, networkId: side.id, ifname: 'eth1', ip: '10.2.0.5', hostVeth: 'vethside1', aliases: [], ip6: null, ip6Offset: null, mac: null });
  assert.deepEqual(activeGuards(ctx.store).map((g) => [g.port, g.mac, g.ip, g.ip6 ?? null]).sort(), [
    [web.hostVeth, '02:42:0a:01:00:02', '10.1.0.2', 'fd00::2'],
    ['vethside1', '02:42:0a:02:00:05', '10.2.0.5', null],
  ]);
  const script = firewallScript(ctx.store);
  assert.match(script, /5353 : 10\.1\.0\.2 \. 53/);
  assert.match(script, /table ip6 ctnet/);
  assert.match(script, /5353 : fd00::2 \. 53/, 'published on IPv6 too, to the IPv6 address');
});

test('views: inspect lists every network with its addresses; network inspect lists first and connected containers', () => {
  const net = network('front');
  const back = network('back', { subnet: '10.2.0.0/24', gateway: '10.2.0.1', subnet6: 'fd00:2::/64', gateway6: 'fd00:2::1' });
  ctx.store.insertNetwork(net);
  ctx.store.insertNetwork(back);
  const api = container('api', net, '10.1.0.2', { aliases: ['gateway'] });
  ctx.store.insertContainer(api);
  ctx.store.insertAttachment({ containerId: api.id, networkId: back.id, ifname: 'eth1', ip: '10.2.0.2', hostVeth: 'vethback0', aliases: ['store'], ip6: 'fd00:2::2', ip6Offset: 2, mac: null });
  const view = containerView(ctx.store, ctx.store.getContainer(api.id));
  assert.deepEqual(view.NetworkSettings.Networks.map((n) => [n.Network, n.Interface, n.IPAddress, n.GlobalIPv6Address, n.Aliases]), [
    ['front', 'eth0', '10.1.0.2', null, ['gateway']],
    ['back', 'eth1', '10.2.0.2', 'fd00:2::2', ['store']],
  ]);
  assert.deepEqual(networkView(ctx.store, back).Containers.map((c) => [c.Name, c.IPAddress, c.IPv6Address]), [['api', '10.2.0.2', 'fd00:2::2']]);
});

test('views: what ps lists of each container, and network ls of each network, is what their whole views say', () => {
  const net = network('front', { subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' });
  const back = network('back', { subnet: '10.2.0.0/24', gateway: '10.2.0.1' });
  ctx.store.insertNetwork(net);
  ctx.store.insertNetwork(back);
  const api = container('api', net, '10.1.0.2', { aliases: ['gateway'], labels: { app: 'shop', tier: 'api' }, ip6: 'fd00:1::2', ip6Offset: 2, pid: process.pid, startedAt: '2026-01-01T00:00:00.000Z' });
  const all = [
    api,
    // Its recorded process is gone: listed as exited, as its view says.
    container('gone', net, '10.1.0.3', { command: ['sh', '-c', 'exit 3'] }),
    container('done', net, null, { state: 'exited', exitCode: 137, oomKilled: true, finishedAt: '2026-01-02T00:00:00.000Z', netns: null, hostVeth: null }),
    container('fresh', net, '10.1.0.4', { state: 'created', pid: null }),
    container('alone', net, null, { networkId: null, networkMode: 'none', hostVeth: null, pid: process.pid }),
    container('host', net, null, { networkId: null, networkMode: 'host', hostVeth: null, netns: null, pid: process.pid }),
    container('sidecar', net, null, { networkId: null, networkMode: 'container', netnsOf: api.id, hostVeth: null, netns: null, pid: process.pid }),
    container('endpoint', net, '10.1.0.5', { command: [], pid: null }),
    container('pod', net, '10.1.0.6', { command: [], pid: null, ownsNetns: false, cniContainerId: 'rt1' }),
  ];
  for (const c of all) ctx.store.insertContainer(c);
  ctx.store.insertPort({ containerId: api.id, protocol: 'tcp', hostIp: null, hostPort: 8080, containerPort: 80 });
  ctx.store.insertPort({ containerId: api.id, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 });
  ctx.store.insertAttachment({ containerId: api.id, networkId: back.id, ifname: 'eth1', ip: '10.2.0.2', hostVeth: 'vethback0', aliases: ['store'], ip6: null, ip6Offset: null, mac: null });
  const pick = (o, keys) => Object.fromEntries(keys.map((k) => [k, o[k]]));
  const sources = listingSources(ctx.store, isAlive);
  const heads = ctx.store.listContainerHeads();
  assert.deepEqual(heads.map((h) => h.id), ctx.store.listContainers().map((c) => c.id), 'in the order of the whole records');
  for (const head of heads) {
    const v = containerView(ctx.store, ctx.store.getContainer(head.id));
    assert.deepEqual(containerListing(ctx.store, head, sources), {
      Id: v.Id, Name: v.Name, State: pick(v.State, ['Status', 'Running', 'OOMKilled', 'ExitCode', 'StartedAt', 'FinishedAt']), Created: v.Created,
      Config: pick(v.Config, ['Cmd', 'Labels']), NetworkSettings: pick(v.NetworkSettings, ['Network', 'IPAddress', 'Ports', 'Networks']),
    }, head.name);
  }
  // The cases above are the ones meant: each state, every network mode, ports and a second network.
  const listed = Object.fromEntries(heads.map((h) => [h.name, containerListing(ctx.store, h, sources)]));
  assert.deepEqual(Object.fromEntries(Object.entries(listed).map(([n, l]) => [n, l.State.Status])), {
    api: 'running', gone: 'exited', done: 'exited', fresh: 'created', alone: 'running', host: 'running', sidecar: 'running', endpoint: 'running', pod: 'running',
  });
  assert.deepEqual(listed.sidecar.NetworkSettings.Network, 'container:api');
  assert.deepEqual(listed.api.NetworkSettings.Networks.map((n) => n.Network), ['front', 'back']);
  assert.equal(listed.api.NetworkSettings.Ports.length, 2);

  ctx.store.insertNetwork(network('empty', { subnet: '10.3.0.0/24', gateway: '10.3.0.1' }));
  const counts = ctx.store.containerCounts();
  const networks = ctx.store.listNetworks();
  for (const n of networks) {
    const { Containers, ...rest } = networkView(ctx.store, n);
    assert.deepEqual(networkListing(ctx.store, n, counts.get(n.id) ?? 0), { ...rest, ContainerCount: Containers.length }, n.name);
  }
  // First networks (an exited container's too), a connection, and none.
  assert.deepEqual(Object.fromEntries(networks.map((n) => [n.name, counts.get(n.id) ?? 0])), { front: 6, back: 1, empty: 0 });
});

test('host ports: the first free one of a range, the same port on another protocol, a clash named with its owner', () => {
  const net = network('n');
  ctx.store.insertNetwork(net);
  const a = container('a', net, '10.1.0.2');
  const b = container('b', net, '10.1.0.3');
  ctx.store.insertContainer(a);
  ctx.store.insertContainer(b);
  for (const p of allocatePorts(ctx.store, [{ protocol: 'tcp', hostIp: null, hostPort: 7000, containerPort: 80 }], a.id)) ctx.store.insertPort(p);
  const ports = allocatePorts(ctx.store, [
    { protocol: 'tcp', hostIp: null, hostPort: null, containerPort: 80, hostRange: { first: 7000, last: 7002 } },
    { protocol: 'tcp', hostIp: null, hostPort: null, containerPort: 81, hostRange: { first: 7000, last: 7002 } },
    { protocol: 'udp', hostIp: null, hostPort: 7000, containerPort: 53 },
  ], b.id);
  assert.deepEqual(ports.map((p) => `${p.hostPort}/${p.protocol}`), ['7001/tcp', '7002/tcp', '7000/udp']);
  assert.throws(() => allocatePorts(ctx.store, [{ protocol: 'tcp', hostIp: '10.0.12.15', hostPort: 7000, containerPort: 1 }], b.id), /host port 0\.0\.0\.0:7000\/tcp is already published by a/);
  assert.throws(() => allocatePorts(ctx.store, [{ protocol: 'tcp', hostIp: null, hostPort: null, containerPort: 1, hostRange: { first: 7000, last: 7000 } }], b.id), /no free host port is left in 7000-7000\/tcp/);
});
