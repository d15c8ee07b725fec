// ctnet doctor: each layer broken on purpose is named exactly, and its suggested fix, applied as
// printed, makes the probe pass again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createLab, echoServerCommand, ROOT_DIR, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
let c;
before(async () => {
  lab = createLab();
  lab.serve(lab.host2, 'host2', 80);
  lab.ok(['network', 'create', 'lab', '--subnet', '172.22.0.0/24', '--bridge', 'br0']);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lab', '-p', '8000:8080', '--', ...echoServerCommand('web', 8080)]);
  c = lab.json(['inspect', 'web']);
  c.ns = c.NetworkSettings.SandboxKey.split('/').pop();
  await lab.waitAnswer(lab.host2, '127.0.0.1', 80);
});
after(() => lab?.close());

// Fixes are typed as a user would: ctnet on PATH.
const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...lab.env, PATH: `${join(ROOT_DIR, 'bin')}:${process.env.PATH}` } });
const doctor = (to) => {
  const r = lab.ctnet(['doctor', 'web', '--json', ...(to ? ['--to', to] : [])]);
  return { code: r.code, d: JSON.parse(r.stdout) };
};

function brokenThenFixed(layer, breakIt, to = `${A.host2}:80`) {
  assert.equal(doctor(to).code, 0, 'healthy before');
  sh(breakIt());
  const { code, d } = doctor(to);
  assert.equal(code, 1);
  assert.equal(d.failed?.layer, layer, JSON.stringify(d.failed));
  assert.ok(d.failed.fix, 'a fix is suggested');
  assert.ok(d.checks.slice(0, -1).every((x) => x.ok), 'every layer before it is fine');
  sh(d.failed.fix);
  const after = doctor(to);
  assert.equal(after.code, 0, JSON.stringify(after.d.failed));
  assert.match(after.d.checks.at(-1).detail, /connected/);
}

test('loopback down', () => brokenThenFixed('loopback', () => `ip -n ${c.ns} link set lo down`, '127.0.0.1:8080'));
test('default route deleted', () => brokenThenFixed('default route', () => `ip -n ${c.ns} route del default`));
test('forwarding off on the host', () => brokenThenFixed('forwarding', () => `ip netns exec ${lab.host} sysctl -qw net.ipv4.ip_forward=0`));
test('nftables ruleset flushed', () => brokenThenFixed('masquerade', () => `ip netns exec ${lab.host} nft flush ruleset`));
test('the host end of the veth down', () => brokenThenFixed('bridge port', () => `ip -n ${lab.host} link set ${c.NetworkSettings.HostVeth} down`));
test('the container interface down', () => brokenThenFixed('interface', () => `ip -n ${c.ns} link set eth0 down`));
test("the published port's DNAT element deleted", () => brokenThenFixed('published ports', () => `ip netns exec ${lab.host} nft delete element ip ctnet tcp_any '{ 8000 }'`));
test("the container's ARP steering element deleted", () =>
  brokenThenFixed('ARP steering', () => `ip netns exec ${lab.host} nft delete element bridge ctnet port_arp_targets '{ "${c.NetworkSettings.HostVeth}" . ${c.NetworkSettings.IPAddress} }'`));

test('the probe: a refusal proves the path, an address nobody holds times out', () => {
  const refused = doctor('172.22.0.1:9');
  assert.equal(refused.code, 0, JSON.stringify(refused.d.failed));
  assert.match(refused.d.checks.at(-1).detail, /^TCP 172\.22\.0\.1:9 from inside web: refused, so the path works/);
  const t0 = Date.now();
  const nobody = doctor('172.22.0.250:80');
  assert.equal(nobody.code, 1);
  assert.equal(nobody.d.failed?.layer, 'probe', JSON.stringify(nobody.d.failed));
  assert.match(nobody.d.failed.detail, /^TCP 172\.22\.0\.250:80 from inside web: (timeout|EHOSTUNREACH);/);
  assert.ok(Date.now() - t0 < 5000, 'the probe gives up after its timeout');
});

test('every layer ok prints a readable walk; an unknown container is one error line', () => {
  const out = lab.ok(['doctor', 'web', '--to', `${A.host2}:80`]);
  assert.match(out, /^doctor: web -> 10\.0\.12\.11:80\n/);
  assert.match(out, /ok {4}probe {12}TCP 10\.0\.12\.11:80 from inside web: connected/);
  assert.match(out, /every layer works\n$/);
  // Without a name: every running container, each walk printed as it ends.
  assert.match(lab.ok(['doctor']), /^doctor: web -> 172\.22\.0\.1:9\n[^]*every layer works\n$/);
  const r = lab.ctnet(['doctor', 'nope']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^ctnet: error: container nope does not exist/);
  const bad = lab.ctnet(['doctor', 'web', '--to', 'somewhere:80']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^ctnet: error: --to somewhere:80 is not ADDRESS or ADDRESS:PORT \(e\.g\. 10\.0\.12\.11:80\)\n$/);
  const octet = lab.ctnet(['doctor', 'web', '--to', '999.1.1.1:80']);
  assert.equal(octet.code, 2);
  assert.match(octet.stderr, /^ctnet: error: --to 999\.1\.1\.1:80 is not ADDRESS or ADDRESS:PORT/);
});
