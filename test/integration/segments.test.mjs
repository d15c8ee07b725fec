// Segments: a network's containers beyond what its bridge serves go on further bridges joined to it
// by a trunk each (src/engine/segments.ts). CTNET_SEGMENT_PORTS=2 puts two containers on each bridge,
// so a few containers show what a thousand would: one subnet and one gateway across the bridges,
// published ports (also a neighbour's behind the same trunk), enable_icc=false across trunks, the
// trunk's hairpin guard (with its control), ARP and ND steering (with its control), tables of an
// older layout renewed, doctor, gc and network rm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { FIREWALL_LAYOUT } from '../../dist/firewall/ruleset.js';
import { answersAtAll, createLab, echoServerCommand, probe, removeRules, stateSnapshot, steeringRules, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.serve(lab.internet, 'inet', 8088);
});
after(() => lab?.close());

const SMALL = { CTNET_SEGMENT_PORTS: '2' };
const run = (args) => lab.ok(['run', '-d', ...args], SMALL);
const ipOf = (c) => lab.json(['inspect', c]).NetworkSettings.IPAddress;
const hostVethOf = (c) => lab.json(['inspect', c]).NetworkSettings.HostVeth;
const links = () => JSON.parse(execFileSync('ip', ['-n', lab.host, '-j', '-d', 'link', 'show'], { encoding: 'utf8' }));
const masterOf = (dev) => links().find((l) => l.ifname === dev)?.master;
const segmentLinks = () => links().map((l) => l.ifname).filter((n) => n.startsWith('cts')).sort();
const fdb = (bridge) => JSON.parse(execFileSync('bridge', ['-n', lab.host, '-j', 'fdb', 'show', 'br', bridge], { encoding: 'utf8' }));
const macOf = (c) => JSON.parse(execFileSync('ip', ['-n', lab.nsOf(c), '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' }))[0].address;

/** Five containers with an echo server each (published on `base`+i), two to a bridge: the network's own, then segments 1 and 2. */
function fill(net, subnet, base, extra = []) {
  lab.ok(['network', 'create', net, '--subnet', subnet, ...extra]);
  const names = [1, 2, 3, 4, 5].map((i) => `${net}${i}`);
  for (const [i, c] of names.entries()) run(['--name', c, '--network', net, '-p', `${base + i + 1}:8080`, '--', ...echoServerCommand(c, 8080)]);
  return names;
}

test('segments: containers beyond a bridge\'s share go on segments of the same network: one subnet, one gateway, published ports from every bridge, IPv6, network connect, doctor, gc and network rm', async () => {
  const [w1, w2, w3, w4, w5] = fill('wide', '10.240.0.0/24', 8200, ['--ipv6', '--subnet', 'fd00:240::/64']);
  const bridge = lab.json(['network', 'inspect', 'wide']).Bridge;
  const on = Object.fromEntries([w1, w2, w3, w4, w5].map((c) => [c, masterOf(hostVethOf(c))]));
  assert.equal(on[w1], on[w2]);
  assert.ok(!on[w1].startsWith('cts'), `the first two on the network's bridge: ${JSON.stringify(on)}`);
  assert.ok(on[w3].startsWith('cts') && on[w3] === on[w4] && on[w5].startsWith('cts') && on[w5] !== on[w3], `then two to a segment: ${JSON.stringify(on)}`);
  assert.deepEqual(lab.json(['network', 'inspect', 'wide']).Segments, [
    { Segment: 1, Bridge: on[w3], Trunk: on[w3].replace(/b1$/, 't1'), Containers: 2 },
    { Segment: 2, Bridge: on[w5], Trunk: on[w5].replace(/b2$/, 't2'), Containers: 1 },
  ], 'network inspect lists the segments with their containers');
  const gateway = '10.240.0.1';
  // Every container to every other, across the bridges and within one.
  for (const [from, to] of [[w1, w5], [w5, w1], [w3, w4], [w3, w5], [w4, w2]]) {
    const r = await lab.waitAnswer(lab.nsOf(from), ipOf(to), 8080);
    assert.ok(r.ok && r.text.includes(to), `${from} -> ${to}: ${r.text}`);
  }
  // Published ports through the gateway's address: a neighbour behind the same trunk, itself, one on another bridge.
  for (const [from, to] of [[w3, w4], [w3, w3], [w5, w1], [w1, w5]]) {
    const port = 8200 + Number(to.slice(-1));
    const r = await lab.waitAnswer(lab.nsOf(from), gateway, port);
    assert.ok(r.ok && r.text.includes(to), `${from} -> ${gateway}:${port} (${to}): ${r.text}`);
  }
  for (const c of [w1, w5]) {
    const r = await lab.waitAnswer(lab.host2, A.host, 8200 + Number(c.slice(-1)));
    assert.ok(r.ok && r.text.includes(c), `another host -> ${c}'s published port: ${r.text}`);
    assert.ok((await lab.waitAnswer(lab.nsOf(c), A.internet, 8088)).ok, `${c} reaches the outside`);
  }
  const ip6Of = (c) => lab.json(['inspect', c]).NetworkSettings.GlobalIPv6Address;
  for (const [from, to] of [[w1, w5], [w3, w4], [w5, w3]]) {
    const r = await lab.waitAnswer(lab.nsOf(from), ip6Of(to), 8080);
    assert.ok(r.ok && r.text.includes(to), `${from} -> ${to} over IPv6: ${r.text}`);
  }
  // A container of another network connected to this one: its eth1 goes where a new container would.
  lab.ok(['network', 'create', 'side', '--subnet', '10.243.0.0/24']);
  run(['--name', 'visitor', '--network', 'side', '--', 'sleep', '600']);
  lab.ok(['network', 'connect', 'wide', 'visitor'], SMALL);
  const visitor = lab.json(['inspect', 'visitor']).NetworkSettings.Networks.find((n) => n.Network === 'wide');
  assert.equal(masterOf(visitor.HostVeth), on[w5], 'the segment with room');
  assert.ok((await lab.waitAnswer(lab.nsOf('visitor'), ipOf(w1), 8080)).ok, 'visitor -> w1 by its eth1');
  lab.ok(['rm', '-f', 'visitor']);
  lab.ok(['network', 'rm', 'side']);
  // The topology's host has no interfaces of the network's segments: they are part of the network.
  const hostInterfaces = lab.json(['topology']).host.interfaces.map((i) => i.name);
  assert.ok(segmentLinks().length >= 6 && hostInterfaces.every((n) => !n.startsWith('cts')), hostInterfaces.join(' '));
  const doctor = lab.ctnet(['doctor', w5]);
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, new RegExp(`is up on ${on[w5]}, segment 2 of ${bridge}`));
  // A segment's trunk taken off the network's bridge: doctor names it, gc makes the segment again.
  const trunk = on[w5].replace(/b(\d+)$/, 't$1');
  execFileSync('ip', ['-n', lab.host, 'link', 'set', trunk, 'nomaster']);
  const broken = lab.ctnet(['doctor', w5]);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stdout, new RegExp(`the trunk of segment 2 \\(${trunk}\\) does not join ${on[w5]} to ${bridge}\\n\\s+fix: ctnet gc`));
  assert.match(lab.ok(['gc']), /network wide: the trunk of segment 2 .* made again with its 1 container port/);
  assert.equal(lab.ctnet(['doctor', w5]).code, 0);
  assert.ok((await lab.waitAnswer(lab.nsOf(w1), ipOf(w5), 8080)).ok, 'w1 -> w5 again');
  // gc keeps segments in use, removes an emptied one (with its trunk); a segment with room is filled
  // first, then the emptied one's number is made again.
  lab.ok(['rm', '-f', w3, w4]);
  assert.match(lab.ok(['gc']), new RegExp(`removed unused segment ${on[w3]}`));
  assert.ok(segmentLinks().every((l) => !l.endsWith(on[w3].slice(-2).replace('b', 't')) || !l.startsWith(on[w3].slice(0, 11))), segmentLinks().join(' '));
  for (const c of ['again', 'again2']) run(['--name', c, '--network', 'wide', '--', 'sleep', '600']);
  assert.equal(masterOf(hostVethOf('again')), on[w5], 'the segment with room');
  assert.equal(masterOf(hostVethOf('again2')), on[w3], 'then the lowest free number, made again');
  lab.ok(['rm', '-f', w1, w2, w5, 'again', 'again2']);
  lab.ok(['network', 'rm', 'wide']);
  assert.deepEqual(segmentLinks(), [], 'network rm took its segments with it');
});

test('segments: the trunk\'s hairpin passes only what was DNATed, and a segment\'s traffic goes untracked; the controls: the guard taken out, the segment learns its own container behind its trunk; tracked, a neighbour\'s published port fails', async () => {
  const [, , s3, s4] = fill('pin', '10.241.0.0/24', 8300);
  const segment = masterOf(hostVethOf(s3));
  const peer = segment.replace(/b(\d+)$/, 'p$1');
  const learnedBehindTrunk = () => fdb(segment).some((e) => e.mac === macOf(s3) && e.ifname === peer);
  // A broadcast from s3 (a UDP datagram to the subnet's broadcast address; an ARP request is steered
  // and goes back down no trunk anyway) reaches the network's bridge by the trunk.
  const broadcast = () => {
    const send = "const s = require('dgram').createSocket('udp4'); s.bind(() => { s.setBroadcast(true); s.send('x', 9, '10.241.0.255', () => s.close()); })";
    execFileSync('ip', ['netns', 'exec', lab.nsOf(s3), process.execPath, '-e', send], { timeout: 5000 });
  };
  broadcast();
  assert.equal(learnedBehindTrunk(), false, 'guarded: the flood does not come back up the trunk');
  assert.ok((await lab.waitAnswer(lab.nsOf(s3), '10.241.0.1', 8304)).ok, 'the neighbour behind the same trunk through its published port');
  const handle = JSON.parse(execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-j', '-a', 'list', 'chain', 'bridge', 'ctnet', 'bridge_forward'], { encoding: 'utf8' }))
    .nftables.find((x) => x.rule && JSON.stringify(x.rule.expr).includes('trunk_hairpins'))?.rule.handle;
  assert.ok(handle, 'the hairpin guard rule');
  execFileSync('ip', ['netns', 'exec', lab.host, 'nft', 'delete', 'rule', 'bridge', 'ctnet', 'bridge_forward', 'handle', String(handle)]);
  try {
    broadcast();
    assert.equal(learnedBehindTrunk(), true, 'control: without the guard the flood comes back and the segment learns s3 behind its trunk');
  } finally {
    lab.ok(['firewall', 'reload']);
  }
  execFileSync('bridge', ['-n', lab.host, 'fdb', 'del', macOf(s3), 'dev', peer, 'master']);
  assert.ok((await lab.waitAnswer(lab.nsOf(s4), ipOf(s3), 8080)).ok, 'guard back: s4 -> s3');
  // Why a segment's traffic goes untracked: tracked there too, the published port's replies (bridged
  // on the segment after DNAT at the network's bridge) meet their own entry and NAT remaps them.
  const notrack = JSON.parse(execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-j', '-a', 'list', 'chain', 'ip', 'ctnet', 'raw_prerouting'], { encoding: 'utf8' }))
    .nftables.find((x) => x.rule && JSON.stringify(x.rule.expr).includes('segment_bridges'))?.rule.handle;
  assert.ok(notrack, 'the segments\' notrack rule');
  execFileSync('ip', ['netns', 'exec', lab.host, 'nft', 'delete', 'rule', 'ip', 'ctnet', 'raw_prerouting', 'handle', String(notrack)]);
  try {
    assert.equal(probe(lab.nsOf(s3), '10.241.0.1', 8304, 'tcp', 2000).ok, false, 'control: tracked on the segment, the neighbour\'s published port does not answer');
  } finally {
    lab.ok(['firewall', 'reload']);
  }
  assert.ok((await lab.waitAnswer(lab.nsOf(s3), '10.241.0.1', 8304)).ok, 'untracked again: it answers');
  lab.ok(['rm', '-f', ...[1, 2, 3, 4, 5].map((i) => `pin${i}`)]);
  lab.ok(['network', 'rm', 'pin']);
});

test('segments with enable_icc=false: no container reaches another, on its bridge or across a trunk; the gateway, published ports and the outside answer', async () => {
  const names = fill('walled', '10.242.0.0/24', 8400, ['-o', 'com.docker.network.bridge.enable_icc=false']);
  const [x1, x2, x3, x4, x5] = names;
  for (const [from, to] of [[x1, x2], [x1, x3], [x3, x4], [x3, x5], [x5, x1], [x4, x2]]) {
    assert.equal(answersAtAll(lab.nsOf(from), ipOf(to), 1500), false, `${from} -> ${to}: not even ARP and a refusal`);
  }
  for (const [from, to] of [[x3, x4], [x5, x1], [x1, x3], [x3, x3]]) {
    const port = 8400 + Number(to.slice(-1));
    const r = await lab.waitAnswer(lab.nsOf(from), '10.242.0.1', port);
    assert.ok(r.ok && r.text.includes(to), `${from} -> gateway:${port} (${to}): ${r.text}`);
  }
  for (const c of [x1, x3, x5]) assert.ok((await lab.waitAnswer(lab.nsOf(c), A.internet, 8088)).ok, `${c} reaches the outside`);
  lab.ok(['rm', '-f', ...names]);
  lab.ok(['network', 'rm', 'walled']);
});

test('segments steer ARP requests and neighbour solicitations: a container sees none for another\'s address, on its bridge or a segment, while every pair, the gateway and the host answer over IPv4 and IPv6; the controls: the output chain\'s rules out, the host\'s requests reach the bystander on the bridge; all out, both bystanders see them; doctor names a missing element', () => {
  const [c1, c2, c3, c4, c5] = fill('steer', '10.243.0.0/24', 8500, ['--ipv6', '--subnet', 'fd00:243::/64']);
  const ip6Of = (c) => lab.json(['inspect', c]).NetworkSettings.GlobalIPv6Address;
  const asked = [c1, c3, c5].flatMap((c) => [ipOf(c), ip6Of(c)]).concat(['10.243.0.1', 'fd00:243::1']);
  const hex128 = (ip) => `0x${Buffer.from(ipaddr.parse(ip).toByteArray()).toString('hex')}`;
  // Bystanders c2 (on the network's bridge) and c4 (on segment 1) count the requests for others' addresses that reach them.
  const bystanders = [c2, c4];
  const counting = `table netdev steerprobe {
  chain ingress { type filter hook ingress device eth0 priority 0;
    arp operation request arp daddr ip { ${asked.filter((a) => !a.includes(':')).join(', ')} } counter
    icmpv6 type nd-neighbor-solicit @th,64,128 { ${asked.filter((a) => a.includes(':')).map(hex128).join(', ')} } counter
  }
}
`;
  for (const c of bystanders) execFileSync('ip', ['netns', 'exec', lab.nsOf(c), 'nft', '-f', '-'], { input: counting });
  /** ARP requests and neighbour solicitations a bystander got for the others' addresses, in all. */
  const total = (c) => {
    const [arp, nd] = [...execFileSync('ip', ['netns', 'exec', lab.nsOf(c), 'nft', 'list', 'table', 'netdev', 'steerprobe'], { encoding: 'utf8' }).matchAll(/packets (\d+)/g)].map((m) => Number(m[1]));
    return { arp, nd };
  };
  // Counted from the last reset on: nft 1.0.6's `reset counters` leaves a rule's own counter as it is.
  let base = new Map();
  const reset = () => (base = new Map(bystanders.map((c) => [c, total(c)])));
  const seen = (c) => {
    const now = total(c);
    return { arp: now.arp - base.get(c).arp, nd: now.nd - base.get(c).nd };
  };
  /**
   * Every asker forgets its neighbours and reaches c1, c3, c5 and the gateway over both families;
   * returns what failed. The permanent entries an attach sets (a container's for its gateway, the
   * host's for it: see neighbours.test.mjs) go too, so the host and the gateway ask as well.
   */
  const exchange = () => {
    for (const c of [c1, c3, c5]) execFileSync('ip', ['-n', lab.nsOf(c), 'neigh', 'flush', 'all', 'nud', 'all']);
    execFileSync('ip', ['-n', lab.host, 'neigh', 'flush', 'all', 'nud', 'all']);
    const failed = [];
    for (const [from, to] of [[c1, c5], [c5, c1], [c3, c5], [c5, c3], [c1, c3]]) {
      for (const addr of [ipOf(to), ip6Of(to)]) if (!answersAtAll(lab.nsOf(from), addr, 2000)) failed.push(`${from} -> ${addr}`);
    }
    for (const c of [c1, c3, c5]) for (const gw of ['10.243.0.1', 'fd00:243::1']) if (!answersAtAll(lab.nsOf(c), gw, 2000)) failed.push(`${c} -> ${gw}`);
    // The host's own requests (it forgets its neighbours again): steered in the bridge table's output chain.
    execFileSync('ip', ['-n', lab.host, 'neigh', 'flush', 'all', 'nud', 'all']);
    for (const c of [c3, c5]) for (const addr of [ipOf(c), ip6Of(c)]) if (!answersAtAll(lab.host, addr, 2000)) failed.push(`host -> ${addr}`);
    return failed;
  };
  reset();
  assert.deepEqual(exchange(), [], 'every pair and the gateway answer');
  for (const c of bystanders) assert.deepEqual(seen(c), { arp: 0, nd: 0 }, `${c} got no request for another's address`);
  assert.equal(steeringRules(lab.host).length, 8, 'four steering rules in the forward chain, four in the output chain');
  // The output chain's part: without it, the host's own requests reach the bystander on the
  // network's bridge; the one on a segment is still kept out where the segment forwards them.
  removeRules(lab.host, steeringRules(lab.host, ['bridge_output']));
  try {
    reset();
    execFileSync('ip', ['-n', lab.host, 'neigh', 'flush', 'all', 'nud', 'all']);
    for (const addr of [ipOf(c5), ip6Of(c5)]) assert.ok(answersAtAll(lab.host, addr, 2000), `host -> ${addr}`);
    const [onBridge, onSegment] = bystanders.map(seen);
    assert.ok(onBridge.arp > 0 && onBridge.nd > 0, `control: the output chain's rules out, ${c2} gets the host's requests: ${JSON.stringify(onBridge)}`);
    assert.deepEqual(onSegment, { arp: 0, nd: 0 }, `${c4} behind a trunk: the forward chain still steers`);
  } finally {
    lab.ok(['firewall', 'reload']);
  }
  removeRules(lab.host, steeringRules(lab.host));
  try {
    reset();
    assert.deepEqual(exchange(), [], 'unsteered, they answer too');
    for (const c of bystanders) {
      const got = seen(c);
      assert.ok(got.arp > 0 && got.nd > 0, `control: unsteered, ${c} gets the requests for others' addresses: ${JSON.stringify(got)}`);
    }
  } finally {
    lab.ok(['firewall', 'reload']);
  }
  // A container's steering element gone (someone's nft): doctor names it, a firewall reload puts it back.
  const veth5 = hostVethOf(c5);
  const trunk5 = masterOf(veth5).replace(/b(\d+)$/, 't$1');
  assert.match(lab.ok(['doctor', c5]), new RegExp(`ARP steering\\s+requests for ${ipOf(c5).replace(/\./g, '\\.')} may leave by ${veth5} and ${trunk5}`));
  execFileSync('ip', ['netns', 'exec', lab.host, 'nft', 'delete', 'element', 'bridge', 'ctnet', 'port_arp_targets', `{ "${trunk5}" . ${ipOf(c5)} }`]);
  const broken = lab.ctnet(['doctor', c5]);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stdout, new RegExp(`port_arp_targets lacks ${trunk5} \\. ${ipOf(c5).replace(/\./g, '\\.')}: .*\\n\\s+fix: ctnet firewall reload`));
  lab.ok(['firewall', 'reload']);
  assert.equal(lab.ctnet(['doctor', c5]).code, 0);
  lab.ok(['rm', '-f', c1, c2, c3, c4, c5]);
  lab.ok(['network', 'rm', 'steer']);
});

test('tables an older ctnet wrote, without the steering sets, are rendered anew before the next change: run -d works and its elements are there; the control: recorded as current, the attach fails and leaves nothing', () => {
  lab.ok(['network', 'create', 'older', '--subnet', '10.244.0.0/24']);
  lab.ok(['run', '-d', '--name', 'old1', '--network', 'older', '--', 'sleep', '600']);
  const nft = (...args) => execFileSync('ip', ['netns', 'exec', lab.host, 'nft', ...args], { encoding: 'utf8' });
  // What an older ctnet's bridge table lacks (no segment or isolating network: no chain uses them).
  nft('delete', 'set', 'bridge', 'ctnet', 'port_arp_targets');
  nft('delete', 'set', 'bridge', 'ctnet', 'trunks');
  const layout = (value) => {
    const db = new Database(join(lab.root, 'ctnet.db'));
    try {
      if (value !== undefined) db.prepare("UPDATE meta SET value = ? WHERE key = 'firewall.layout'").run(value);
      return db.prepare("SELECT value FROM meta WHERE key = 'firewall.layout'").get()?.value;
    } finally {
      db.close();
    }
  };
  assert.equal(layout(), String(FIREWALL_LAYOUT));
  const before = stateSnapshot(lab.root);
  const control = lab.ctnet(['run', '-d', '--name', 'old2', '--network', 'older', '--', 'sleep', '600']);
  assert.notEqual(control.code, 0, 'control: with the layout recorded as current, nothing renders the tables anew');
  assert.equal(stateSnapshot(lab.root), before, control.stderr);
  layout('1');
  lab.ok(['run', '-d', '--name', 'old2', '--network', 'older', '--', 'sleep', '600']);
  assert.equal(layout(), String(FIREWALL_LAYOUT));
  const targets = nft('list', 'set', 'bridge', 'ctnet', 'port_arp_targets');
  for (const c of ['old1', 'old2']) assert.ok(targets.includes(`"${hostVethOf(c)}" . ${ipOf(c)}`), `${c}'s element: ${targets}`);
  assert.match(nft('list', 'set', 'bridge', 'ctnet', 'trunks'), /set trunks/);
  lab.ok(['rm', '-f', 'old1', 'old2']);
  lab.ok(['network', 'rm', 'older']);
});
