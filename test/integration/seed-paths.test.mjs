// Every path of the seed and of published ports, with real traffic between throwaway namespaces.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, probe, echoServerCommand, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
const ns = {};

before(async () => {
  lab = createLab();
  lab.serve(lab.host, 'host', 80);
  lab.serve(lab.host2, 'host2', 80);
  lab.serve(lab.internet, 'internet', 80);
  lab.ok(['network', 'create', 'seed', '--subnet', '172.17.0.0/24', '--bridge', 'br0']);
  lab.ok(['run', '-d', '--name', 'c1', '--network', 'seed', '--ip', '172.17.0.101', '-p', '8000:8080', '-p', '5300:8080/udp', '--', ...echoServerCommand('c1', 8080)]);
  lab.ok(['run', '-d', '--name', 'c2', '--network', 'seed', '--ip', '172.17.0.102', '-p', `${A.host}:9000:8080`, '--', ...echoServerCommand('c2', 8080)]);
  lab.ok(['run', '-d', '--name', 'c3', '--network', 'seed', '--ip', '172.17.0.103', '--', ...echoServerCommand('c3', 8080)]);
  for (const c of ['c1', 'c2', 'c3']) {
    ns[c] = lab.nsOf(c);
    await lab.waitAnswer(ns[c], '127.0.0.1', 8080);
  }
  for (const n of [lab.host, lab.host2, lab.internet]) await lab.waitAnswer(n, '127.0.0.1', 80);
});

after(() => lab?.close());

const answers = (r, who) => assert.ok(r.ok && r.text.startsWith(`${who} from`), `expected an answer from ${who}, got: ${r.text}`);

test('each container reaches its own localhost (loopback is up)', () => {
  for (const c of ['c1', 'c2', 'c3']) answers(probe(ns[c], '127.0.0.1', 8080), c);
});

test('the hostname inside is the container name', () => {
  assert.equal(lab.ok(['exec', 'c1', '--', 'hostname']).trim(), 'c1');
});

test('container to container across the bridge', () => {
  answers(probe(ns.c1, '172.17.0.102', 8080), 'c2');
  answers(probe(ns.c3, '172.17.0.101', 8080), 'c1');
});

test('host to container through the gateway address on the bridge', () => {
  answers(probe(lab.host, '172.17.0.103', 8080), 'c3');
});

test('container to the host address (default route via the gateway)', () => {
  const r = probe(ns.c3, A.host, 80);
  answers(r, 'host');
});

test('container to host2: forwarding and masquerade, host2 sees the host address', () => {
  assert.equal(probe(ns.c3, A.host2, 80).text, `host2 from ${A.host}`);
});

test('container to the internet host behind host2', () => {
  assert.equal(probe(ns.c2, A.internet, 80).text, `internet from ${A.host}`);
});

test('host2 to host:8000 reaches c1:8080 (DNAT), TCP and UDP', () => {
  answers(probe(lab.host2, A.host, 8000), 'c1');
  answers(probe(lab.host2, A.host, 5300, 'udp'), 'c1');
});

test('the host itself: localhost and its own address, TCP and UDP', () => {
  answers(probe(lab.host, '127.0.0.1', 8000), 'c1');
  answers(probe(lab.host, A.host, 8000), 'c1');
  answers(probe(lab.host, '127.0.0.1', 5300, 'udp'), 'c1');
});

test('another container through the host address', () => {
  answers(probe(ns.c2, A.host, 8000), 'c1');
  answers(probe(ns.c3, A.host, 5300, 'udp'), 'c1');
});

test('the publishing container through the host address (hairpin), TCP and UDP', () => {
  answers(probe(ns.c1, A.host, 8000), 'c1');
  answers(probe(ns.c1, A.host, 5300, 'udp'), 'c1');
});

test('HOSTIP: a mapping bound to one host address answers there only', () => {
  answers(probe(lab.host2, A.host, 9000), 'c2');
  answers(probe(lab.host, A.host, 9000), 'c2');
  assert.equal(probe(lab.host, '127.0.0.1', 9000).text, 'ECONNREFUSED');
});

test('a port that is not published is not reachable through the host address', () => {
  assert.equal(probe(lab.host2, A.host, 8080).text, 'ECONNREFUSED');
  assert.equal(probe(lab.host2, A.host, 5301, 'udp', 700).ok, false);
});

test('port and inspect report the mappings', () => {
  assert.equal(lab.ok(['port', 'c1']), '8080/tcp -> 0.0.0.0:8000\n8080/udp -> 0.0.0.0:5300\n');
  const v = lab.json(['inspect', 'c2']);
  assert.deepEqual(v.NetworkSettings.Ports, [{ Protocol: 'tcp', HostIp: A.host, HostPort: 9000, ContainerPort: 8080 }]);
  assert.equal(v.NetworkSettings.IPAddress, '172.17.0.102');
  assert.equal(v.State.Running, true);
  assert.match(v.NetworkSettings.SandboxKey, /^\/run\/netns\/ctnet-[0-9a-f]{12}$/);
});

test('removing the container removes its mapping: the port stops answering', () => {
  lab.ok(['rm', '-f', 'c1']);
  assert.equal(probe(lab.host2, A.host, 8000).text, 'ECONNREFUSED');
  answers(probe(lab.host2, A.host, 9000), 'c2');
});
