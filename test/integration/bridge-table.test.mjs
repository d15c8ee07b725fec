// The bridge table (the ports' guard, enable_icc=false, segments' trunks) is made with the host's
// first bridge network and changed in place after it: the first enable_icc=false network or a first
// segment adds its forward and output chains, the last of them takes the chains out, a removed
// network's trunks go element by element, and every container's elements stay as they were. After
// each step the kernel's tables equal a render from state (`firewall reload`), and the table is the
// same object (its handle), so nothing was replaced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { answersAtAll, createLab, echoServerCommand } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
});
after(() => lab?.close());

const nft = (...args) => execFileSync('ip', ['netns', 'exec', lab.host, 'nft', ...args], { encoding: 'utf8' });
const handle = () => /^table bridge ctnet \{ # handle (\d+)$/m.exec(nft('-a', 'list', 'table', 'bridge', 'ctnet'))[1];
const chains = () => JSON.parse(nft('-j', 'list', 'chains', 'bridge')).nftables.flatMap((o) => (o.chain?.table === 'ctnet' ? [o.chain.name] : [])).sort();
const elements = (set) => JSON.parse(nft('-j', 'list', 'set', 'bridge', 'ctnet', set)).nftables.find((o) => o.set).set.elem ?? [];

/**
 * ctnet's tables as the kernel has them, without what differs between equal rulesets: handles,
 * counters, the order of tables, chains and sets and of a set's elements (a rule's place in its
 * chain stays).
 */
function tables() {
  const drop = (v) => (Array.isArray(v) ? v.map(drop) : v && typeof v === 'object'
    ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, k === 'counter' ? {} : k === 'elem' ? drop(x).map((e) => JSON.stringify(e)).sort() : drop(x)]))
    : v);
  const objects = JSON.parse(nft('-j', 'list', 'ruleset')).nftables.filter((o) => !o.metainfo).map(drop);
  const where = (o) => { const [kind, v] = Object.entries(o)[0]; return `${kind === 'rule' ? 'z' : kind} ${v.family} ${v.table ?? v.name} ${v.chain ?? v.name}`; };
  return objects.map((o, i) => ({ o, i, k: where(o) })).sort((a, b) => a.k.localeCompare(b.k) || a.i - b.i).map((x) => JSON.stringify(x.o)).join('\n');
}

/** The tables equal a render from state, which then replaces the bridge table: its new handle. */
function assertAsRendered(what) {
  const incremental = tables();
  lab.ok(['firewall', 'reload']);
  assert.equal(incremental, tables(), `${what}: the tables equal a render from state`);
  return handle();
}

test('enable_icc=false and segments change the bridge table in place: chains made and removed, containers\' elements kept, the tables as a render from state has them', () => {
  const SMALL = { CTNET_SEGMENT_PORTS: '2' };
  lab.ok(['network', 'create', 'open', '--subnet', '172.36.0.0/24']);
  lab.ok(['run', '-d', '--name', 'a1', '--network', 'open', '--', 'sleep', '600'], SMALL);
  const veth = lab.json(['inspect', 'a1']).NetworkSettings.HostVeth;
  let table = handle();
  assert.deepEqual(chains(), ['port_guard'], 'no forward chain while nothing needs one');

  lab.ok(['network', 'create', 'iso', '--subnet', '172.36.1.0/24', '-o', 'com.docker.network.bridge.enable_icc=false']);
  assert.equal(handle(), table, 'the first enable_icc=false network: the table kept');
  assert.deepEqual(chains(), ['bridge_forward', 'bridge_output', 'port_guard']);
  assert.ok(elements('container_ports').includes(veth), 'the first container\'s guard is still there');
  for (const c of ['i1', 'i2']) lab.ok(['run', '-d', '--name', c, '--network', 'iso', '--', ...echoServerCommand(c, 8080)]);
  const ipOf = (c) => lab.json(['inspect', c]).NetworkSettings.IPAddress;
  assert.ok(answersAtAll(lab.nsOf('i1'), '172.36.1.1'), 'the gateway answers an isolated container');
  assert.equal(answersAtAll(lab.nsOf('i1'), ipOf('i2'), 2000), false, 'the chains made in place isolate: i1 does not reach i2');
  table = assertAsRendered('with an enable_icc=false network');

  lab.ok(['rm', '-f', 'i1', 'i2']);
  lab.ok(['network', 'rm', 'iso']);
  assert.equal(handle(), table, 'the last enable_icc=false network gone: the table kept');
  assert.deepEqual(chains(), ['port_guard']);
  table = assertAsRendered('without it');

  // a1 and s1 on the network's bridge, s2 and s3 on its first segment.
  for (const c of ['s1', 's2', 's3']) lab.ok(['run', '-d', '--name', c, '--network', 'open', '--', 'sleep', '600'], SMALL);
  const master = JSON.parse(execFileSync('ip', ['-n', lab.host, '-j', 'link', 'show', lab.json(['inspect', 's3']).NetworkSettings.HostVeth], { encoding: 'utf8' }))[0].master;
  assert.match(master, /^cts/, 's3 is on a segment');
  assert.equal(handle(), table, 'the first segment: the table kept');
  assert.deepEqual(chains(), ['bridge_forward', 'bridge_output', 'port_guard']);
  assert.equal(elements('trunks').length, 1, 'its trunk');
  assert.ok(answersAtAll(lab.nsOf('s3'), ipOf('a1')), 'a container on the segment reaches one on the network\'s bridge');
  table = assertAsRendered('with a segment');

  // A second network holds the table while the first goes, with its emptied segment.
  lab.ok(['network', 'create', 'keep', '--subnet', '172.36.2.0/24']);
  lab.ok(['rm', '-f', 'a1', 's1', 's2', 's3']);
  lab.ok(['network', 'rm', 'open']);
  assert.equal(handle(), table, 'a network with segments gone: the table kept');
  assert.deepEqual(chains(), ['port_guard']);
  assert.deepEqual(elements('trunks'), [], 'its trunk\'s elements gone');
  assertAsRendered('after the network with segments');
});
