// Dual stack: IPv6 addresses, default route, masquerade, published ports on the host's IPv6
// addresses, isolation and DNS AAAA answers, with real IPv6 traffic in the lab's namespaces.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Engine } from '../../dist/index.js';
import { createLab, echoServerCommand, fullSnapshot, probe, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
const sh = (...args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8' });
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'dual', '--ipv6', '--subnet', '172.28.0.0/24', '--subnet', 'fd00:db8:1::/64']);
  lab.ok(['network', 'create', 'other6', '--ipv6', '--subnet', 'fd00:db8:2::/64']);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'dual', '-p', '8000:8080', '-p', `[${A.host6}]:8001:8080/udp`, '--', ...echoServerCommand('web', 8080)]);
  lab.ok(['run', '-d', '--name', 'client', '--network', 'dual', '--', ...echoServerCommand('client', 8080)]);
  lab.ok(['run', '-d', '--name', 'stranger', '--network', 'other6', '--', ...echoServerCommand('stranger', 8080)]);
  lab.serve(lab.host2, 'host2', 80);
});
after(() => lab?.close());

const v6 = (name) => lab.json(['inspect', name]).NetworkSettings.GlobalIPv6Address;

test('containers get an IPv6 address of the subnet and a default route via the gateway; inspect shows both', () => {
  const c = lab.json(['inspect', 'web']).NetworkSettings;
  assert.equal(c.GlobalIPv6Address, 'fd00:db8:1::2');
  assert.equal(c.IPv6Gateway, 'fd00:db8:1::1');
  assert.match(c.IPAddress, /^172\.28\.0\.\d+$/);
  assert.equal(v6('client'), 'fd00:db8:1::3');
  assert.match(sh('ip', '-n', lab.nsOf('web'), '-6', 'route', 'show', 'default'), /default via fd00:db8:1::1 dev eth0/);
  const net = lab.json(['network', 'inspect', 'dual']);
  assert.deepEqual([net.IPv6Subnet, net.IPv6Gateway], ['fd00:db8:1::/64', 'fd00:db8:1::1']);
  // An IPv6 --subnet alone: ctnet picks the IPv4 one, as Docker does.
  assert.match(lab.json(['network', 'inspect', 'other6']).Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
});

test('IPv6 traffic: container to container, and out to another host masqueraded as the host', () => {
  assert.equal(probe(lab.nsOf('client'), v6('web'), 8080).text.trim(), `web from ${v6('client')}`);
  assert.equal(probe(lab.nsOf('web'), A.host2v6, 80).text.trim(), `host2 from ${A.host6}`);
});

test("published ports answer on the host's IPv6 address: any-address TCP, and a UDP one bound to that address", () => {
  assert.equal(probe(lab.host2, A.host6, 8000).text.trim().split(' ')[0], 'web');
  assert.equal(probe(lab.host2, A.host6, 8001, 'udp').text.trim().split(' ')[0], 'web');
  // Still IPv4 too.
  assert.equal(probe(lab.host2, A.host, 8000).text.trim().split(' ')[0], 'web');
  assert.equal(probe(lab.host2, A.host, 8001, 'udp', 700).ok, false, 'the UDP mapping is on the IPv6 address only');
});

test("the port counters add up an any-address port's connections over IPv4 and IPv6 (its element in each family's table)", async () => {
  // Both ways answer before counting (the lab's IPv6 addresses may still be settling when run alone).
  for (const address of [A.host, A.host6]) assert.ok((await lab.waitAnswer(lab.host2, address, 8000)).ok, `web answers on ${address}`);
  const engine = new Engine({ root: lab.root, hostNetns: lab.host });
  try {
    const connections = () => engine.portCounters().find((p) => p.HostPort === 8000 && p.Protocol === 'tcp').Packets;
    const before = connections();
    assert.equal(probe(lab.host2, A.host6, 8000).text.trim().split(' ')[0], 'web');
    assert.equal(connections(), before + 1, 'the IPv6 connection');
    assert.equal(probe(lab.host2, A.host, 8000).text.trim().split(' ')[0], 'web');
    assert.equal(connections(), before + 2, 'and the IPv4 one');
  } finally {
    engine.close();
  }
});

test('isolation holds for IPv6: no traffic between networks, none from another host without a published port', () => {
  assert.equal(probe(lab.nsOf('stranger'), v6('web'), 8080, 'tcp', 700).ok, false);
  assert.equal(probe(lab.nsOf('web'), v6('stranger'), 8080, 'tcp', 700).ok, false);
  sh('ip', '-n', lab.host2, '-6', 'route', 'add', 'fd00:db8:1::/64', 'via', A.host6);
  try {
    assert.equal(probe(lab.host2, v6('web'), 8080, 'tcp', 700).ok, false, 'a route to the subnet does not open it');
  } finally {
    sh('ip', '-n', lab.host2, '-6', 'route', 'del', 'fd00:db8:1::/64');
  }
});

test('network connect to a dual-stack network gives IPv6 too: address, traffic, the anti-spoofing set, a free address after disconnect', () => {
  lab.ok(['network', 'connect', 'dual', 'stranger']);
  const eth1 = lab.json(['inspect', 'stranger']).NetworkSettings.Networks.find((n) => n.Network === 'dual');
  assert.equal(eth1.Interface, 'eth1');
  assert.equal(eth1.GlobalIPv6Address, 'fd00:db8:1::4', 'the next free IPv6 address of the network');
  assert.match(sh('ip', '-n', lab.nsOf('stranger'), '-6', '-o', 'addr', 'show', 'eth1'), /inet6 fd00:db8:1::4\/64/);
  // The default route stays on the first network (as for IPv4); the subnet is on link.
  assert.doesNotMatch(sh('ip', '-n', lab.nsOf('stranger'), '-6', 'route', 'show', 'default'), /eth1/);
  assert.equal(probe(lab.nsOf('stranger'), v6('web'), 8080).text.trim(), 'web from fd00:db8:1::4');
  assert.equal(probe(lab.nsOf('web'), 'fd00:db8:1::4', 8080).text.trim(), `stranger from ${v6('web')}`);
  assert.match(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'set', 'bridge', 'ctnet', 'port_ip6'), /fd00:db8:1::4/);
  assert.match(lab.json(['network', 'inspect', 'dual']).Containers.find((c) => c.Name === 'stranger').IPv6Address, /^fd00:db8:1::4$/);
  lab.ok(['network', 'disconnect', 'dual', 'stranger']);
  assert.doesNotMatch(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'set', 'bridge', 'ctnet', 'port_ip6'), /fd00:db8:1::4/);
  // Its IPv6 address is free again.
  lab.ok(['network', 'connect', 'dual', 'stranger']);
  assert.equal(lab.json(['inspect', 'stranger']).NetworkSettings.Networks.find((n) => n.Network === 'dual').GlobalIPv6Address, 'fd00:db8:1::4');
  lab.ok(['network', 'disconnect', 'dual', 'stranger']);
});

test('topology shows both addresses of a dual-stack container', () => {
  assert.match(lab.ok(['topology']), /eth0 172\.28\.0\.\d+\/24 fd00:db8:1::2\/64 {2}container web/);
  assert.match(lab.ok(['topology', '--format', 'svg']), /fd00:db8:1::2\/64/);
});

test('DNS answers AAAA with the IPv6 address and A with the IPv4 one', () => {
  const out = lab.ok(['exec', 'client', '--', 'getent', 'ahostsv6', 'web']);
  assert.match(out, /^fd00:db8:1::2\s+STREAM web$/m);
  assert.match(lab.ok(['exec', 'client', '--', 'getent', 'ahostsv4', 'web']), /^172\.28\.0\.\d+\s+STREAM web$/m);
});

test('rm frees the IPv6 address; the last dual-stack network takes the ip6 table and IPv6 forwarding back', () => {
  lab.ok(['rm', '-f', 'client']);
  lab.ok(['run', '-d', '--name', 'again', '--network', 'dual', '--', 'sleep', '600']);
  assert.equal(v6('again'), 'fd00:db8:1::3');
  lab.ok(['rm', '-f', 'again', 'web', 'stranger']);
  lab.ok(['network', 'rm', 'dual']);
  assert.match(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'tables'), /table ip6 ctnet/);
  lab.ok(['network', 'rm', 'other6']);
  assert.doesNotMatch(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'tables'), /ctnet/);
  assert.equal(sh('ip', 'netns', 'exec', lab.host, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding').trim(), '0');
});

test('bad IPv6 input is refused in one line and changes nothing', () => {
  lab.ok(['network', 'create', 'v4only', '--subnet', '172.30.9.0/24']);
  for (const [args, code, re] of [
    [['network', 'create', 'x', '--ipv6', '--subnet', '172.29.0.0/24'], 2, /--ipv6 needs an IPv6 --subnet/],
    [['network', 'create', 'x', '--subnet', 'fd00:db8:9::/64'], 2, /is IPv6; add --ipv6/],
    [['network', 'create', 'x', '--ipv6', '--subnet', 'fd00:db8:9::1/64'], 2, /host bits set; use fd00:db8:9::\/64/],
    [['network', 'create', 'x', '--ipv6', '--subnet', 'fd00::/32'], 2, /prefix from \/48 to \/124/],
    [['network', 'create', 'x', '--ipv6', '--subnet', 'nope::/64'], 2, /invalid IPv6 subnet/],
    [['run', '-d', '-p', '[fd00:12::99]:8000:80', '--', 'sleep', '1'], 2, /not an address of the host/],
    [['run', '-d', '--network', 'v4only', '-p', `[${A.host6}]:8000:80`, '--', 'sleep', '1'], 2, /network v4only has no IPv6/],
  ]) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^ctnet: error: .*${re.source}.*\\n$`));
    assert.deepEqual(fullSnapshot(lab), before, `${args.join(' ')} changed something`);
  }
});
