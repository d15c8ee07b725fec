// ctnet topology: what exists now, from the kernel and the state, as text, JSON and Graphviz.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'web', '--subnet', '172.23.0.0/24', '--bridge', 'brweb']);
  lab.ok(['network', 'create', 'db', '--internal', '--subnet', '172.23.1.0/24', '--bridge', 'brdb']);
  lab.ok(['run', '-d', '--name', 'front', '--network', 'web', '--ip', '172.23.0.10', '-p', '8000:80', '-p', `${A.host}:5353:53/udp`, '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'store', '--network', 'db', '--', 'sleep', '600']);
});
after(() => lab?.close());

test('JSON: host interfaces, both networks with their containers, veths present, ports and rules', () => {
  const t = lab.json(['topology']);
  assert.equal(t.host.netns, lab.host);
  assert.ok(t.host.interfaces.some((i) => i.name === 'eth0' && i.addresses.includes(`${A.host}/22`)));
  assert.equal(t.host.ipForward, '1');
  const web = t.networks.find((n) => n.name === 'web');
  assert.deepEqual([web.bridge, web.gateway, web.bridgePresent, web.internal], ['brweb', '172.23.0.1', true, false]);
  const front = web.containers[0];
  assert.deepEqual([front.name, front.ip, front.ifname, front.vethPresent], ['front', '172.23.0.10', 'eth0', true]);
  assert.deepEqual(front.ports, [
    { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8000, containerPort: 80 },
    { protocol: 'udp', hostIp: A.host, hostPort: 5353, containerPort: 53 },
  ]);
  assert.ok(t.rules.includes('DNAT 0.0.0.0:8000/tcp -> 172.23.0.10:80 (front)'));
  assert.ok(t.rules.some((r) => r.startsWith('db: internal')));
  assert.ok(!t.host.interfaces.some((i) => i.name === front.hostVeth || i.name === 'brweb'), 'ctnet links are drawn under their networks');
});

test('text and dot drawings, and a bridge removed behind ctnet\'s back shows as missing', () => {
  const text = lab.ok(['topology']);
  assert.match(text, /├── bridge brweb {2}172\.23\.0\.1\/24 {2}network "web" \(masquerade\)/);
  assert.match(text, /veth[0-9a-f]{8} ══ eth0 172\.23\.0\.10\/24 {2}container front \(hostname front\)/);
  assert.match(text, /↖ 0\.0\.0\.0:8000\/tcp → 172\.23\.0\.10:80 {2}\(DNAT\)/);
  const dot = lab.ok(['topology', '--format', 'dot']);
  assert.match(dot, /^digraph ctnet \{/);
  assert.match(dot, /"bridge_brweb" -> "ct_[0-9a-f]{12}"/);
  execFileSync('ip', ['-n', lab.host, 'link', 'del', 'brdb']);
  assert.match(lab.ok(['topology']), /bridge brdb .* MISSING in the kernel \(ctnet gc rebuilds it\)/);
  lab.ok(['gc']);
  const svg = lab.ok(['topology', '--format', 'svg']);
  assert.match(svg, /^<svg /);
  assert.match(svg, />front</);
  assert.match(svg, /0\.0\.0\.0:8000\/tcp → 172\.23\.0\.10:80/);
  assert.equal(lab.ctnet(['topology', '--format', 'png']).code, 2);
});
