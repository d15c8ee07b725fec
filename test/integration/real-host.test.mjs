// The CLI as on a real host: run inside the namespace it acts on (nsenter into the lab's host, the
// machine's mount namespace), with no CTNET_HOST_NETNS. Every other test points ctnet at a lab's
// host namespace from outside it, which takes other paths (the DNS's upstreams, the cluster store
// through a helper): a command broken only here went unnoticed (network prune's question, the
// overlay's commands: both failed at an import() the bundle could not make).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CTNET, ROOT_DIR, createLab, echoServerCommand, hostSnapshot, probe, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

const PROBE = join(ROOT_DIR, 'dist', 'demo', 'probe.js');
let lab;

/** ctnet in the lab's host namespace itself, as a user on that host runs it. */
function onHost(args) {
  const { CTNET_HOST_NETNS: _, ...env } = lab.env;
  const r = spawnSync('nsenter', [`--net=/run/netns/${lab.host}`, process.execPath, CTNET, ...args], { env, encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `ctnet ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(() => {
  lab = createLab();
});

after(() => lab?.close());

test('on a real host: a network, containers by name, a published port, ps, exec, rm and network rm; the host as it was after', async () => {
  onHost(['network', 'create', 'seed', '--subnet', '172.17.0.0/24']);
  onHost(['run', '-d', '--name', 'c1', '--network', 'seed', '-p', '8000:8080', '--', ...echoServerCommand('c1', 8080)]);
  onHost(['run', '-d', '--name', 'c2', '--network', 'seed', '--', 'sleep', '600']);
  await lab.waitAnswer(lab.nsOf('c1'), '127.0.0.1', 8080);
  assert.deepEqual(onHost(['ps', '--format', '{{.Names}}']).trim().split('\n').sort(), ['c1', 'c2']);
  const c2 = JSON.parse(onHost(['inspect', 'c2'])).NetworkSettings.IPAddress;
  assert.equal(onHost(['exec', 'c2', '--', process.execPath, PROBE, 'tcp', 'c1', '8080', '2000']).trim(), `c1 from ${c2}`);
  const outside = probe(lab.host2, A.host, 8000);
  assert.ok(outside.ok && outside.text.startsWith('c1 from'), outside.text);
  onHost(['rm', '-f', 'c1', 'c2']);
  onHost(['network', 'rm', 'seed']);
  assert.equal(hostSnapshot(lab.host), lab.pristine);
});
