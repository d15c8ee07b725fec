// Concurrent CLI invocations never hand out the same address or host port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, settle } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.26.0.0/24', '--bridge', 'br0']);
});
after(() => lab?.close());

const ctnetAsync = (args) => lab.ctnetAsync(args);

test('20 simultaneous runs get 20 distinct addresses and host ports, all in the kernel', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => ctnetAsync(['run', '-d', '--name', `c${i}`, '--network', 'lab', '-p', '80', '--', 'sleep', '600'])),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const ps = lab.json(['ps']);
  assert.equal(ps.length, 20);
  const ips = new Set(ps.map((c) => c.NetworkSettings.IPAddress));
  const ports = new Set(ps.map((c) => c.NetworkSettings.Ports[0].HostPort));
  assert.equal(ips.size, 20);
  assert.equal(ports.size, 20);
  const bridgePorts = execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(bridgePorts.length, 20);
  const table = execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-j', 'list', 'map', 'ip', 'ctnet', 'tcp_any'], { encoding: 'utf8' });
  const elements = JSON.parse(table).nftables.find((x) => x.map).map.elem;
  assert.equal(elements.length, 20);
});

test('simultaneous runs asking for the same host port: exactly one wins, the rest get a conflict', async () => {
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => ctnetAsync(['run', '-d', '--name', `p${i}`, '--network', 'lab', '-p', '7000:80', '--', 'sleep', '600'])),
  );
  assert.equal(results.filter((r) => r.code === 0).length, 1);
  for (const r of results.filter((r) => r.code !== 0)) {
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^ctnet: error: host port 0\.0\.0\.0:7000\/tcp is already published by p\d; pick another host port\n$/);
  }
});

test('20 simultaneous removals leave the bridge without ports and the map empty', async () => {
  const names = lab.json(['ps', '-a']).map((c) => c.Name);
  const results = await Promise.all(names.map((n) => ctnetAsync(['rm', '-f', n])));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  // Detached veths are down at once and leave with their namespaces shortly after.
  settle(lab.host);
  assert.equal(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }).trim(), '');
  assert.doesNotMatch(execFileSync('ip', ['netns', 'exec', lab.host, 'nft', 'list', 'map', 'ip', 'ctnet', 'tcp_any'], { encoding: 'utf8' }), /elements/);
});
