// `ctnet demo`, the main job: builds the seed's lab, checks every path, draws it, removes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CTNET } from '../helpers/lab.mjs';
import { etcdMissing } from '../helpers/overlay.mjs';

test('ctnet demo passes every check and leaves nothing behind', () => {
  const env = { ...process.env };
  delete env.CTNET_HOST_NETNS;
  delete env.CTNET_ROOT;
  const r = spawnSync(process.execPath, [CTNET, 'demo'], { env, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const pass = r.stdout.split('\n').filter((l) => /^\s+PASS\s/.test(l));
  assert.equal(pass.length, 15, r.stdout);
  assert.doesNotMatch(r.stdout, /FAIL/);
  for (const path of ['own localhost', 'container1 -> container2', 'host -> container1', 'host address', 'host2 10.0.12.11:80, seen as 10.0.12.15', 'internet 203.0.113.10', 'host2 -> host 10.0.12.15:8000', 'host -> localhost:8000']) {
    assert.ok(pass.some((l) => l.includes(path)), `no PASS line for ${path}`);
  }
  assert.match(r.stdout, /bridge br0 {2}172\.17\.0\.1\/24/);
  assert.match(r.stdout, /eth0 172\.17\.0\.101\/24 {2}container container1/);
  assert.match(r.stdout, /0\.0\.0\.0:8000\/tcp → 172\.17\.0\.101:8080/);
  for (const ns of ['ctdemo-host', 'ctdemo-host2', 'ctdemo-inet']) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} left behind`);
});

test('ctnet demo --explain shows the commands, --keep leaves the lab and --clean removes it', () => {
  const env = { ...process.env };
  delete env.CTNET_HOST_NETNS;
  delete env.CTNET_ROOT;
  try {
    const r = spawnSync(process.execPath, [CTNET, 'demo', '--keep', '--explain'], { env, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\+ ip -n ctdemo-host link add br0 address 02:[0-9a-f:]+ mtu 1500 type bridge/);
    assert.match(r.stdout, /\+ ip netns exec ctdemo-host sysctl -w net\.ipv4\.ip_forward=1/);
    assert.match(r.stdout, /\+ ip netns exec ctdemo-host nft 'add element ip ctnet tcp_any \{ 8000 : 172\.17\.0\.101 \. 8080 \}'/);
    assert.ok(existsSync('/run/netns/ctdemo-host'));
    const again = spawnSync(process.execPath, [CTNET, 'demo'], { env, encoding: 'utf8' });
    assert.equal(again.status, 4);
    assert.match(again.stdout, /already there.*ctnet demo --clean/);
  } finally {
    const c = spawnSync(process.execPath, [CTNET, 'demo', '--clean'], { env, encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
  }
  for (const ns of ['ctdemo-host', 'ctdemo-host2', 'ctdemo-inet']) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} left behind`);
});

test('ctnet demo --overlay: three hosts and etcd in throwaway namespaces, every cross-host path passes, nothing is left', { skip: !process.env.CTNET_REQUIRE_ETCD && etcdMissing() }, async () => {
  const env = { ...process.env };
  delete env.CTNET_HOST_NETNS;
  delete env.CTNET_ROOT;
  const r = spawnSync(process.execPath, [CTNET, 'demo', '--overlay'], { env, encoding: 'utf8', timeout: 90000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const pass = r.stdout.split('\n').filter((l) => /^\s+PASS\s/.test(l));
  assert.equal(pass.length, 6, r.stdout);
  assert.doesNotMatch(r.stdout, /FAIL/);
  for (const ns of ['ctovl-ul', 'ctovl-out', 'ctovl-h1', 'ctovl-h2', 'ctovl-h3']) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} left behind`);
  // The hosts' helpers (cluster agents, DNS servers) leave with their state within a few seconds; etcd at once.
  const helpers = () => spawnSync('pgrep', ['-f', 'ctnet-overlay-ctovl'], { encoding: 'utf8' }).stdout.trim();
  for (let i = 0; i < 50 && helpers(); i++) await new Promise((res) => setTimeout(res, 100));
  assert.equal(helpers(), '', 'no process of the demo is left');
});

test('ctnet demo --overlay with its lab already there: exit 4, the reason in one line, and nothing made, not even a work directory', () => {
  const env = { ...process.env };
  delete env.CTNET_HOST_NETNS;
  delete env.CTNET_ROOT;
  const workDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('ctnet-overlay-ctovl-')).sort();
  const before = workDirs();
  spawnSync('ip', ['netns', 'add', 'ctovl-ul']);
  try {
    const r = spawnSync(process.execPath, [CTNET, 'demo', '--overlay'], { env, encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 4, r.stdout + r.stderr);
    const said = (r.stdout + r.stderr).trim().split('\n');
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0], /an overlay demo lab is already there \(ctovl-ul\)/);
    assert.deepEqual(workDirs(), before, 'a work directory was left in the temporary directory');
    for (const ns of ['ctovl-out', 'ctovl-h1', 'ctovl-h2', 'ctovl-h3']) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} made`);
  } finally {
    spawnSync('ip', ['netns', 'del', 'ctovl-ul']);
  }
});
