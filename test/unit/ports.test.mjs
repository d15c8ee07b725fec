import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePublish, portsCollide } from '../../dist/ipam/ports.js';

const parsePortSpec = (spec) => {
  const all = parsePublish(spec);
  assert.equal(all.length, 1, spec);
  return all[0];
};
import { CtnetError } from '../../dist/errors.js';

test('-p forms docker accepts', () => {
  assert.deepEqual(parsePortSpec('8000:8080'), { protocol: 'tcp', hostIp: null, hostPort: 8000, containerPort: 8080 });
  assert.deepEqual(parsePortSpec('8000:8080/udp'), { protocol: 'udp', hostIp: null, hostPort: 8000, containerPort: 8080 });
  assert.deepEqual(parsePortSpec('127.0.0.1:8000:8080'), { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8000, containerPort: 8080 });
  assert.deepEqual(parsePortSpec('0.0.0.0:8000:8080/TCP'), { protocol: 'tcp', hostIp: null, hostPort: 8000, containerPort: 8080 });
  assert.deepEqual(parsePortSpec(':8080'), { protocol: 'tcp', hostIp: null, hostPort: null, containerPort: 8080 });
  assert.deepEqual(parsePortSpec('8080'), { protocol: 'tcp', hostIp: null, hostPort: null, containerPort: 8080 });
  assert.deepEqual(parsePortSpec('10.0.12.15::53/udp'), { protocol: 'udp', hostIp: '10.0.12.15', hostPort: null, containerPort: 53 });
});

test('malformed -p values are one-line invalid-argument errors', () => {
  for (const bad of ['', 'abc', '8000:', '0:80', '80:0', '65536:80', '80:70000', '1:2:3:4', '80:80/icmp', '80:80/', 'x.y.z.w:1:2', '9000-9002:80-81', '90-80:80', '1-2-3:80', '80-:80']) {
    assert.throws(() => parsePublish(bad), (e) => e instanceof CtnetError && e.code === 'CTNET_INVALID_ARGUMENT' && !e.message.includes('\n'), bad);
  }
});

test('collisions: same protocol and port, and either binds everything or both bind one address', () => {
  const any = { protocol: 'tcp', hostIp: null, hostPort: 80 };
  const one = { protocol: 'tcp', hostIp: '10.0.0.1', hostPort: 80 };
  const other = { protocol: 'tcp', hostIp: '10.0.0.2', hostPort: 80 };
  assert.ok(portsCollide(any, one));
  assert.ok(portsCollide(one, one));
  assert.ok(!portsCollide(one, other));
  assert.ok(!portsCollide(any, { ...any, protocol: 'udp' }));
  assert.ok(!portsCollide(any, { ...any, hostPort: 81 }));
});

test('ranges: port to port, a host range for one container port, container ranges alone; SCTP', () => {
  const pairs = parsePublish('9000-9002:8000-8002/udp');
  assert.deepEqual(pairs.map((p) => [p.hostPort, p.containerPort, p.protocol]), [[9000, 8000, 'udp'], [9001, 8001, 'udp'], [9002, 8002, 'udp']]);
  assert.deepEqual(parsePublish('7000-7010:80'), [{ protocol: 'tcp', hostIp: null, hostPort: null, containerPort: 80, hostRange: { first: 7000, last: 7010 } }]);
  assert.deepEqual(parsePublish('8080-8081').map((p) => [p.hostPort, p.containerPort]), [[null, 8080], [null, 8081]]);
  assert.deepEqual(parsePublish('127.0.0.1:3868:3868/sctp'), [{ protocol: 'sctp', hostIp: '127.0.0.1', hostPort: 3868, containerPort: 3868 }]);
  assert.equal(parsePublish('10000-19999:10000-19999').length, 10000);
});
