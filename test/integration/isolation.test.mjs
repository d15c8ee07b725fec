// Networks as Docker users know them: isolated from each other, internal ones closed, containers not
// reachable directly from other hosts unless published (or the network is routed). Real traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, probe, echoServerCommand, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
const ns = {};
const ip = {};
const sh = (...a) => execFileSync(a[0], a.slice(1), { encoding: 'utf8' });

before(async () => {
  lab = createLab();
  lab.serve(lab.host2, 'host2', 80);
  lab.serve(lab.host, 'host', 80);
  lab.ok(['network', 'create', 'neta', '--subnet', '172.31.1.0/24']);
  lab.ok(['network', 'create', 'netb', '--subnet', '172.31.2.0/24']);
  lab.ok(['network', 'create', 'closed', '--internal', '--subnet', '172.31.3.0/24']);
  lab.ok(['network', 'create', 'routed', '--ip-masq', 'false', '--subnet', '172.31.4.0/24']);
  const start = (name, net, publish = []) => lab.ok(['run', '-d', '--name', name, '--network', net, ...publish.flatMap((p) => ['-p', p]), '--', ...echoServerCommand(name, 8080)]);
  start('a1', 'neta');
  start('a2', 'neta');
  start('b1', 'netb', ['9090:8080', '9090:8080/udp']);
  start('c1', 'closed');
  start('c2', 'closed');
  start('r1', 'routed');
  for (const n of ['a1', 'a2', 'b1', 'c1', 'c2', 'r1']) {
    const v = lab.json(['inspect', n]);
    ns[n] = v.NetworkSettings.SandboxKey.split('/').pop();
    ip[n] = v.NetworkSettings.IPAddress;
    await lab.waitAnswer(ns[n], '127.0.0.1', 8080);
  }
  await lab.waitAnswer(lab.host2, '127.0.0.1', 80);
  await lab.waitAnswer(lab.host, '127.0.0.1', 80);
  // Another host with routes to the container subnets via the host (as a router would have).
  for (const s of ['172.31.1.0/24', '172.31.3.0/24', '172.31.4.0/24']) sh('ip', '-n', lab.host2, 'route', 'add', s, 'via', A.host);
});

after(() => lab?.close());

const answers = (r, who) => assert.ok(r.ok && r.text.startsWith(`${who} from`), `expected ${who}, got: ${r.text}`);
const blocked = (r) => assert.ok(!r.ok, `expected no answer, got: ${r.text}`);

test('containers on one network talk, TCP and UDP', () => {
  answers(probe(ns.a1, ip.a2, 8080), 'a2');
  answers(probe(ns.a2, ip.a1, 8080, 'udp'), 'a1');
});

test('traffic between containers of a network is not tracked by the host; traffic out through the gateway is', () => {
  // The host's connection table, in the lab's host namespace: `src=... dst=...` of each direction.
  const tracked = (from, to) => sh('ip', 'netns', 'exec', lab.host, 'cat', '/proc/net/nf_conntrack').split('\n').some((l) => l.includes(`src=${from} dst=${to} `));
  answers(probe(ns.a1, ip.a2, 8080, 'udp'), 'a2');
  answers(probe(ns.a2, ip.a1, 8080), 'a1');
  assert.equal(tracked(ip.a1, ip.a2) || tracked(ip.a2, ip.a1), false, 'container to container goes untracked');
  assert.equal(probe(ns.a1, A.host2, 80, 'udp').text, `host2 from ${A.host}`);
  assert.ok(tracked(ip.a1, A.host2), 'control: what the host masquerades is tracked');
});

test('containers on different networks cannot reach each other, both ways, TCP and UDP', () => {
  blocked(probe(ns.a1, ip.b1, 8080, 'tcp', 800));
  blocked(probe(ns.b1, ip.a1, 8080, 'tcp', 800));
  blocked(probe(ns.a1, ip.b1, 8080, 'udp', 800));
  blocked(probe(ns.b1, ip.a2, 8080, 'udp', 800));
});

test('each still reaches the host, the outside world and published ports (also of another network)', () => {
  answers(probe(ns.a1, A.host, 80), 'host');
  assert.equal(probe(ns.a1, A.host2, 80).text, `host2 from ${A.host}`);
  answers(probe(ns.a1, A.host, 9090), 'b1');
  answers(probe(ns.a2, A.host, 9090, 'udp'), 'b1');
});

test('another host cannot reach a container directly even with a route, only through a published port', () => {
  blocked(probe(lab.host2, ip.a1, 8080, 'tcp', 800));
  blocked(probe(lab.host2, ip.a1, 8080, 'udp', 800));
  answers(probe(lab.host2, A.host, 9090), 'b1');
});

test('a routed network (--ip-masq false) is reachable directly and keeps its source address', () => {
  assert.equal(probe(lab.host2, ip.r1, 8080).text, `r1 from ${A.host2}`);
  assert.equal(probe(ns.r1, A.host2, 80).text, `host2 from ${ip.r1}`);
});

test('an internal network: its containers talk to each other, and nothing goes in or out', () => {
  answers(probe(ns.c1, ip.c2, 8080), 'c2');
  answers(probe(ns.c2, ip.c1, 8080, 'udp'), 'c1');
  assert.equal(probe(ns.c1, A.host2, 80, 'tcp', 800).text, 'ENETUNREACH');
  blocked(probe(lab.host2, ip.c1, 8080, 'tcp', 800));
  blocked(probe(ns.a1, ip.c1, 8080, 'tcp', 800));
  assert.match(sh('ip', '-n', ns.c1, 'route'), /^172\.31\.3\.0\/24 dev eth0/);
});

test("an internal network and the host: only DNS to its own gateway goes in, the host starts nothing towards it", () => {
  // The host serves on every address (port 80); a container of a normal network reaches it through its gateway (the control).
  answers(probe(ns.a1, '172.31.1.1', 80), 'host');
  blocked(probe(ns.c1, '172.31.3.1', 80, 'tcp', 800));
  blocked(probe(ns.c1, '172.31.3.1', 80, 'udp', 800));
  // Even with a route of its own (NET_ADMIN), not to the host's other addresses.
  sh('ip', '-n', ns.c1, 'route', 'add', `${A.host}/32`, 'via', '172.31.3.1');
  try {
    blocked(probe(ns.c1, A.host, 80, 'tcp', 800));
  } finally {
    sh('ip', '-n', ns.c1, 'route', 'del', `${A.host}/32`);
  }
  // Its own names still resolve at its gateway.
  assert.match(lab.ok(['exec', 'c1', '--', 'getent', 'hosts', 'c2']), new RegExp(`^${ip.c2.replace(/\./g, '\\.')}\\s+c2$`, 'm'));
  // The host cannot open a connection to it; it can to a normal network's container (the control).
  answers(probe(lab.host, ip.a1, 8080), 'a1');
  blocked(probe(lab.host, ip.c1, 8080, 'tcp', 800));
});
