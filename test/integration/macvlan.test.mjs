// macvlan networks: containers on the parent's segment with their own MAC and address, reached
// directly from a neighbour host (no NAT, no published ports), leaving nothing in the host namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, hostSnapshot, probe, echoServerCommand, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
});
after(() => lab?.close());

const LAN = ['--subnet', '10.0.12.0/22', '--gateway', A.host2, '--ip-range', '10.0.13.0/24'];

test('a container on the LAN: its own MAC, reached from a neighbour directly, out through the LAN router with its own address', async () => {
  const pristine = hostSnapshot(lab.host);
  lab.ok(['network', 'create', 'lan', '-d', 'macvlan', '-o', 'parent=eth0', ...LAN]);
  const n = lab.json(['network', 'inspect', 'lan']);
  assert.deepEqual([n.Driver, n.Parent, n.Bridge, n.Options.parent], ['macvlan', 'eth0', null, 'eth0']);
  assert.match(lab.ok(['network', 'ls']), /lan\s+10\.0\.12\.0\/22\s+10\.0\.12\.11\s+macvlan@eth0/);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lan', '--ip', '10.0.13.5', '--', ...echoServerCommand('web', 8080)]);
  lab.ok(['run', '-d', '--name', 'second', '--network', 'lan', '--', 'sleep', '600']);
  const web = lab.json(['inspect', 'web']);
  assert.equal(web.NetworkSettings.HostVeth, null);
  assert.match(lab.json(['inspect', 'second']).NetworkSettings.IPAddress, /^10\.0\.13\.\d+$/, 'from the --ip-range');
  // From the neighbour: straight to the container's address, at the container's own MAC.
  const answer = await lab.waitAnswer(lab.host2, '10.0.13.5', 8080);
  assert.ok(answer.ok, answer.text);
  assert.equal(answer.text.trim(), `web from ${A.host2}`);
  const neigh = execFileSync('ip', ['-n', lab.host2, 'neigh', 'show', '10.0.13.5'], { encoding: 'utf8' });
  assert.match(neigh, new RegExp(`lladdr ${web.Config.MacAddress}`));
  const hostMac = execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'eth0'], { encoding: 'utf8' }).match(/link\/ether (\S+)/)[1];
  assert.notEqual(web.Config.MacAddress, hostMac);
  // Out through the LAN's router, unmasqueraded: the far end sees the container's address.
  lab.serve(lab.internet, 'internet', 8089);
  const out = await lab.waitAnswer(lab.nsOf('second'), A.internet, 8089);
  assert.equal(out.text.trim(), `internet from ${lab.json(['inspect', 'second']).NetworkSettings.IPAddress}`);
  // doctor walks a macvlan container's own layers: the parent instead of a bridge port, gateway and NAT.
  const d = lab.json(['doctor', 'web', '--to', `${A.host2}:1`]);
  assert.deepEqual(d.checks.map((c) => c.layer), ['namespace', 'loopback', 'interface', 'default route', 'parent', 'probe']);
  assert.equal(d.failed, undefined);
  lab.ok(['rm', '-f', 'web', 'second']);
  // At once again with the same address, so the same MAC: the old macvlan went with the container, not later with its namespace.
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lan', '--ip', '10.0.13.5', '--', 'sleep', '600']);
  lab.ok(['rm', '-f', 'web']);
  lab.ok(['network', 'rm', 'lan']);
  assert.equal(hostSnapshot(lab.host), pristine, 'a macvlan network leaves the host namespace as it was');
});

test('macvlan refuses what needs the host in the path, the host\'s own addresses, a missing or taken parent, and ipvlan; network connect puts a container on the LAN', async () => {
  lab.ok(['network', 'create', 'lan2', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '10.0.12.0/22', '--gateway', A.host2]);
  for (const [args, code, pattern] of [
    [['run', '--network', 'lan2', '-p', '8080:80', '--', 'true'], 2, /-p on macvlan network lan2/],
    [['run', '--network', 'lan2', '--egress-rate', '10M', '--', 'true'], 2, /rate limits on macvlan network lan2/],
    [['run', '--network', 'lan2', '--ip', A.host, '--', 'true'], 4, /already in use/],
    [['network', 'create', 'lan3', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '10.0.20.0/24'], 4, /already the parent of network lan2/],
    [['network', 'create', 'lan4', '-d', 'macvlan', '-o', 'parent=nosuch0', '--subnet', '10.0.21.0/24'], 2, /has no interface nosuch0/],
    [['network', 'create', 'lan5', '-d', 'macvlan', '--subnet', '10.0.22.0/24'], 2, /needs -o parent=IFNAME/],
    [['network', 'create', 'lan6', '-d', 'macvlan', '-o', 'parent=eth0'], 2, /needs --subnet/],
    [['network', 'create', 'lan7', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '10.0.23.0/24', '--internal'], 2, /cannot be internal/],
    [['network', 'create', 'lan8', '-d', 'macvlan', '-o', 'parent=eth0', '-o', 'macvlan_mode=private', '--subnet', '10.0.24.0/24'], 2, /bridge mode/],
    [['network', 'create', 'iv', '-d', 'ipvlan', '-o', 'parent=eth0', '--subnet', '10.0.25.0/24'], 2, /this kernel has no ipvlan driver/],
  ]) {
    const r = lab.ctnet(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  // The first free address skips the host's own on the parent (10.0.12.15) and the gateway.
  lab.ok(['run', '-d', '--name', 'auto', '--network', 'lan2', '--ip', '10.0.12.14', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'auto2', '--network', 'lan2', '--ip', '10.0.12.13', '--', 'sleep', '600']);
  const taken = new Set(['10.0.12.11', A.host, '10.0.12.13', '10.0.12.14']);
  for (let i = 1; i <= 12; i++) if (!taken.has(`10.0.12.${i}`)) lab.ok(['run', '-d', '--name', `fill${i}`, '--network', 'lan2', '--ip', `10.0.12.${i}`, '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'next', '--network', 'lan2', '--', 'sleep', '600']);
  assert.equal(lab.json(['inspect', 'next']).NetworkSettings.IPAddress, '10.0.12.16');
  // network connect onto the LAN: a macvlan eth1 beside the container's bridge network, gone on disconnect.
  lab.ok(['network', 'create', 'br', '--subnet', '172.38.0.0/24']);
  lab.ok(['run', '-d', '--name', 'dual', '--network', 'br', '--', ...echoServerCommand('dual', 8080)]);
  assert.equal(lab.ok(['network', 'connect', 'lan2', 'dual', '--ip', '10.0.12.40']), 'eth1 10.0.12.40\n');
  assert.match(lab.ok(['exec', 'dual', '--', 'ip', '-d', '-o', 'link', 'show', 'eth1']), /macvlan mode bridge/);
  const viaLan = await lab.waitAnswer(lab.host2, '10.0.12.40', 8080);
  assert.equal(viaLan.text.trim(), `dual from ${A.host2}`);
  lab.ok(['network', 'disconnect', 'lan2', 'dual']);
  assert.equal(lab.ctnet(['exec', 'dual', '--', 'ip', 'link', 'show', 'eth1']).code, 1, 'eth1 went with the disconnect');
  lab.ok(['rm', '-f', ...lab.json(['ps']).map((c) => c.Name)]);
  lab.ok(['network', 'rm', 'lan2', 'br']);
});
