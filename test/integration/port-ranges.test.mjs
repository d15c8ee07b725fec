// Port ranges as docker run -p reads them: one map element per port, never a rule or a process per port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, probe, echoServerCommand, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.24.0.0/24']);
});
after(() => lab?.close());

const map = (name) => execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-j', 'list', 'map', 'ip', 'ctnet', name], { encoding: 'utf8' });
// Keys come wrapped with their counter ({ elem: { val, counter } }): unwrapped here.
const elements = (name) => (JSON.parse(map(name)).nftables.find((x) => x.map).map.elem ?? []).map(([k, v]) => [k.elem ? k.elem.val : k, v]);

test('HOSTPORTS-RANGE:CONTAINERPORTS-RANGE maps port to port, TCP and UDP', async () => {
  lab.ok(['run', '-d', '--name', 'r1', '--network', 'lab', '-p', '9000-9002:8078-8080', '-p', '9000-9002:8078-8080/udp', '--', ...echoServerCommand('r1', 8080)]);
  await lab.waitAnswer(lab.nsOf('r1'), '127.0.0.1', 8080);
  assert.equal(probe(lab.host2, A.host, 9002).text, `r1 from ${A.host2}`);
  assert.equal(probe(lab.host2, A.host, 9002, 'udp').text, `r1 from ${A.host2}`);
  assert.equal(probe(lab.host2, A.host, 9000).text, 'ECONNREFUSED', '9000 goes to 8078, where nothing listens');
  assert.equal(elements('tcp_any').length, 3);
  assert.equal(lab.ok(['port', 'r1']).split('\n').filter(Boolean).length, 6);
});

test('HOSTPORTS-RANGE:CONTAINERPORT takes the first free host port of the range', async () => {
  lab.ok(['run', '-d', '--name', 'h1', '--network', 'lab', '-p', '7000-7010:8080', '--', ...echoServerCommand('h1', 8080)]);
  lab.ok(['run', '-d', '--name', 'h2', '--network', 'lab', '-p', '7000-7010:8080', '--', ...echoServerCommand('h2', 8080)]);
  assert.equal(lab.ok(['port', 'h1']), '8080/tcp -> 0.0.0.0:7000\n');
  assert.equal(lab.ok(['port', 'h2']), '8080/tcp -> 0.0.0.0:7001\n');
  await lab.waitAnswer(lab.nsOf('h2'), '127.0.0.1', 8080);
  assert.equal(probe(lab.host2, A.host, 7001).text, `h2 from ${A.host2}`);
  const r = lab.ctnet(['run', '-d', '--network', 'lab', '-p', '7000-7001:8080', '--', 'sleep', '1']);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /^ctnet: error: no free host port is left in 7000-7001\/tcp; give other host ports\n$/);
});

test('SCTP publications are elements of their own map', () => {
  lab.ok(['run', '-d', '--name', 's1', '--network', 'lab', '-p', '3868:3868/sctp', '--', 'sleep', '600']);
  const ip = lab.json(['inspect', 's1']).NetworkSettings.IPAddress;
  assert.deepEqual(elements('sctp_any'), [[3868, { concat: [ip, 3868] }]]);
  assert.match(execFileSync('ip', ['netns', 'exec', lab.host, 'nft', 'list', 'chain', 'ip', 'ctnet', 'published'], { encoding: 'utf8' }), /dnat ip to sctp dport map @sctp_any/);
});

test('range lengths that differ are refused and change nothing', () => {
  const r = lab.ctnet(['run', '-d', '--network', 'lab', '-p', '9100-9102:80-81', '--', 'sleep', '1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /host range has 3 ports and container range 2; give ranges of the same length/);
});
