// The kernel is the truth: gc and every changing command repair what crashes, kills and flushes leave.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getXattr, setXattr } from '../../dist/kernel/libc.js';
import { CGROUP_OWNER_XATTR } from '../../dist/plan/ops.js';
import { randomBytes } from 'node:crypto';
import { createLab, probe, echoServerCommand, linkGone, CTNET, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.25.0.0/24', '--bridge', 'br0']);
});
after(() => lab?.close());

const sh = (...args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8' });
const nftTable = () => sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'table', 'ip', 'ctnet');

test('a container whose process was killed: the next read (ps, inspect) removes its veth, namespace and port, and frees its address', () => {
  lab.ok(['run', '-d', '--name', 'victim', '--network', 'lab', '-p', '8300:80', '--', 'sleep', '600']);
  const c = lab.json(['inspect', 'victim']);
  // Its supervisor and PID 1 killed from outside: no ctnet command is told.
  process.kill(-c.State.Pid, 'SIGKILL');
  for (let i = 0; i < 50 && existsSync(c.NetworkSettings.SandboxKey); i++) {
    sh('sleep', '0.05');
    lab.ok(['ps']);
  }
  assert.equal(lab.json(['inspect', 'victim']).State.Status, 'exited');
  assert.doesNotMatch(lab.ok(['gc']), /victim/, 'nothing left for gc');
  assert.ok(!existsSync(c.NetworkSettings.SandboxKey));
  assert.ok(linkGone(lab.host, c.NetworkSettings.HostVeth));
  assert.doesNotMatch(nftTable(), /8300/);
  // The address and the host port are free again.
  lab.ok(['run', '-d', '--name', 'next', '--network', 'lab', '-p', '8300:80', '--', 'sleep', '600']);
  assert.equal(lab.json(['inspect', 'next']).NetworkSettings.IPAddress, c.NetworkSettings.IPAddress);
  lab.ok(['rm', '-f', 'next', 'victim']);
});

test('a flushed ruleset is restored from state by gc, published ports work again, other tables untouched', async () => {
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lab', '-p', '8400:8080', '--', ...echoServerCommand('web', 8080)]);
  await lab.waitAnswer(lab.nsOf('web'), '127.0.0.1', 8080);
  assert.ok(probe(lab.host2, A.host, 8400).text.startsWith('web from'));
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'flush', 'ruleset');
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'add', 'table', 'inet', 'someone_else');
  assert.ok(!probe(lab.host2, A.host, 8400, 'tcp', 700).ok);
  lab.ok(['gc']);
  assert.match(nftTable(), /8400 (counter packets \d+ bytes \d+ )?: 172\.25\.0\.\d+ \. 8080/);
  assert.match(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'tables'), /table inet someone_else/);
  assert.ok(probe(lab.host2, A.host, 8400).text.startsWith('web from'));
  lab.ok(['rm', '-f', 'web']);
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'delete', 'table', 'inet', 'someone_else');
});

test('a bridge deleted behind ctnet\'s back (as after a reboot) is rebuilt by gc', () => {
  sh('ip', '-n', lab.host, 'link', 'del', 'br0');
  const out = lab.ok(['gc']);
  assert.match(out, /bridge br0 was missing, rebuilt/);
  assert.match(sh('ip', '-n', lab.host, '-4', '-o', 'addr', 'show', 'br0'), /172\.25\.0\.1\/24/);
  lab.ok(['run', '-d', '--name', 'again', '--network', 'lab', '--', 'sleep', '600']);
  const ip = lab.json(['inspect', 'again']).NetworkSettings.IPAddress;
  assert.ok(probe(lab.host, ip, 9, 'tcp', 700).text === 'ECONNREFUSED', 'the container answers (with a reset) through the rebuilt bridge');
  lab.ok(['rm', '-f', 'again']);
});

test("a veth of ctnet's on a ctnet bridge that belongs to no container is removed by gc; a VM's tap there stays", () => {
  sh('ip', '-n', lab.host, 'link', 'add', 'vethdeadbeef', 'type', 'veth', 'peer', 'name', 'vethstray2');
  sh('ip', '-n', lab.host, 'link', 'set', 'vethdeadbeef', 'master', 'br0');
  sh('ip', '-n', lab.host, 'tuntap', 'add', 'dev', 'tap-vm', 'mode', 'tap');
  sh('ip', '-n', lab.host, 'link', 'set', 'tap-vm', 'master', 'br0');
  try {
    assert.match(lab.ok(['gc']), /removed leftover veth vethdeadbeef/);
    const links = sh('ip', '-n', lab.host, 'link');
    assert.doesNotMatch(links, /vethdeadbeef/);
    assert.match(links, /tap-vm.*master br0/, "a link ctnet did not make is not ctnet's to remove");
  } finally {
    sh('ip', '-n', lab.host, 'link', 'del', 'tap-vm');
  }
});

/** This lab's state directory's ID, which ctnet marks the host links it makes with. */
const instanceId = () => new Database(join(lab.root, 'ctnet.db'), { readonly: true }).prepare("SELECT value FROM meta WHERE key = 'instance.id'").get().value;

/** A link of `type` in the lab's host marked as made by the state directory `owner` (as ctnet marks its bridges and ifbs). */
function madeBy(name, type, owner) {
  sh('ip', '-n', lab.host, 'link', 'add', name, 'type', type);
  sh('ip', '-n', lab.host, 'link', 'set', name, 'alias', `ctnet:${owner}:000000000000`);
}

/** Runs gc: it removes `ours` (a leftover `what`) and says so, and leaves `theirs`, another state directory's. */
function gcTakesOnlyOurs(what, ours, theirs) {
  const out = lab.ok(['gc']);
  assert.match(out, new RegExp(`removed leftover ${what} ${ours}`));
  assert.doesNotMatch(out, new RegExp(theirs));
  assert.ok(linkGone(lab.host, ours));
  assert.match(sh('ip', '-n', lab.host, 'link', 'show', theirs), new RegExp(theirs), `another state directory's ${what} stays`);
}

test("an ifb this state directory made for a container it no longer has: gc removes it; another state directory's stays", () => {
  const instance = instanceId();
  madeBy('ctb0123456789ab', 'ifb', instance);
  madeBy('ctbfedcba987654', 'ifb', 'another0root');
  try {
    gcTakesOnlyOurs('ifb', 'ctb0123456789ab', 'ctbfedcba987654');
  } finally {
    for (const name of ['ctb0123456789ab', 'ctbfedcba987654']) if (!linkGone(lab.host, name)) sh('ip', '-n', lab.host, 'link', 'del', name);
  }
});

test('every run repairs cheaply: a flushed table and a missing bridge are back before the container attaches', async () => {
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'flush', 'ruleset');
  sh('ip', '-n', lab.host, 'link', 'del', 'br0');
  lab.ok(['run', '-d', '--name', 'repair', '--network', 'lab', '-p', '8500:8080', '--', ...echoServerCommand('repair', 8080)]);
  await lab.waitAnswer(lab.nsOf('repair'), '127.0.0.1', 8080);
  assert.ok(probe(lab.host2, A.host, 8500).text.startsWith('repair from'));
  assert.match(nftTable(), /masq_subnets[\s\S]*172\.25\.0\.0\/24/);
  lab.ok(['rm', '-f', 'repair']);
});

test('a run after a flush alone (bridge still there) restores the table, with every container\'s ports', async () => {
  lab.ok(['run', '-d', '--name', 'old', '--network', 'lab', '-p', '8600:8080', '--', ...echoServerCommand('old', 8080)]);
  await lab.waitAnswer(lab.nsOf('old'), '127.0.0.1', 8080);
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'flush', 'ruleset');
  lab.ok(['run', '-d', '--name', 'new', '--network', 'lab', '-p', '8700:8080', '--', ...echoServerCommand('new', 8080)]);
  await lab.waitAnswer(lab.nsOf('new'), '127.0.0.1', 8080);
  assert.ok(probe(lab.host2, A.host, 8600).text.startsWith('old from'));
  assert.ok(probe(lab.host2, A.host, 8700).text.startsWith('new from'));
  lab.ok(['rm', '-f', 'old', 'new']);
});

test('ctnet firewall reload restores the table after a flush and leaves other tables alone', async () => {
  lab.ok(['run', '-d', '--name', 'fw', '--network', 'lab', '-p', '8800:8080', '--', ...echoServerCommand('fw', 8080)]);
  await lab.waitAnswer(lab.nsOf('fw'), '127.0.0.1', 8080);
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'flush', 'ruleset');
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'add', 'table', 'inet', 'firewalld_like');
  assert.ok(!probe(lab.host2, A.host, 8800, 'tcp', 700).ok);
  assert.match(lab.ok(['firewall', 'reload', '--explain']), /^\+ ip netns exec \S+ nft -f - <<'EOF'$/m);
  assert.ok(probe(lab.host2, A.host, 8800).text.startsWith('fw from'));
  assert.match(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'tables'), /table inet firewalld_like/);
  sh('ip', 'netns', 'exec', lab.host, 'nft', 'delete', 'table', 'inet', 'firewalld_like');
  lab.ok(['rm', '-f', 'fw']);
});

test('gc shows progress on a terminal and stays quiet when output is not a terminal', () => {
  const kill = () => {
    for (const n of ['p1', 'p2', 'p3']) {
      lab.ok(['run', '-d', '--name', n, '--network', 'lab', '--', 'sleep', '600']);
      // The supervisor and the container's PID 1, as a crash (or the OOM killer) would.
      const { State } = lab.json(['inspect', n]);
      process.kill(State.SupervisorPid, 'SIGKILL');
      process.kill(State.Pid, 'SIGKILL');
    }
    sh('sleep', '0.2');
  };
  kill();
  const piped = lab.ctnet(['gc']);
  assert.equal(piped.stderr, '');
  assert.doesNotMatch(piped.stdout, /checking containers/);
  lab.ok(['rm', 'p1', 'p2', 'p3']);
  kill();
  // A pseudo-terminal: util-linux script runs the command with its output on a tty.
  const cmd = `${process.execPath} ${CTNET} gc`;
  const tty = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: lab.env });
  // Each run -d above reconciled the containers killed before it; gc finds the last one.
  assert.match(tty, /\r\x1b\[Kchecking containers 1\/1/);
  assert.match(tty, /\r\x1b\[Kcleaning up exited containers 3\/3/);
  assert.match(tty, /p3: process ended, network removed/);
  assert.doesNotMatch(tty, /leftover/);
  lab.ok(['rm', 'p1', 'p2', 'p3']);
});

test('gc removes a leftover container cgroup this state directory made, and keeps live ones and another state directory\'s', () => {
  lab.ok(['run', '-d', '--name', 'kept', '--network', 'lab', '--', 'sleep', '600']);
  const keptId = lab.json(['inspect', 'kept']).Id;
  const instance = instanceId();
  const stray = 'f'.repeat(56) + randomBytes(4).toString('hex');
  const foreign = 'e'.repeat(56) + randomBytes(4).toString('hex');
  const roots = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids'].filter((r) => existsSync(`${r}/ctnet`));
  assert.ok(roots.length, 'ctnet has cgroups on this host');
  for (const r of roots) {
    mkdirSync(`${r}/ctnet/${stray}`);
    setXattr(`${r}/ctnet/${stray}`, CGROUP_OWNER_XATTR, instance);
    // Another state directory's container (CTNET_ROOT elsewhere): not this gc's to remove.
    mkdirSync(`${r}/ctnet/${foreign}`);
    setXattr(`${r}/ctnet/${foreign}`, CGROUP_OWNER_XATTR, 'another0root');
  }
  try {
    const out = lab.ok(['gc']);
    assert.match(out, new RegExp(`removed leftover cgroup ctnet/${stray.slice(0, 12)}`));
    assert.doesNotMatch(out, new RegExp(foreign.slice(0, 12)));
    for (const r of roots) {
      assert.equal(existsSync(`${r}/ctnet/${stray}`), false);
      assert.equal(existsSync(`${r}/ctnet/${foreign}`), true, 'another state directory keeps its cgroup');
      assert.equal(existsSync(`${r}/ctnet/${keptId}`), true, 'a running container keeps its cgroup');
      assert.equal(getXattr(`${r}/ctnet/${keptId}`, CGROUP_OWNER_XATTR), instance, 'ctnet marks the cgroups it makes');
    }
  } finally {
    for (const r of roots) for (const id of [stray, foreign]) try { rmdirSync(`${r}/ctnet/${id}`); } catch { /* removed by gc */ }
    lab.ok(['rm', '-f', 'kept']);
  }
});

test("a bridge this state directory made that no network names: gc removes it, and network create takes its name over; another state directory's stays", () => {
  const instance = instanceId();
  const made = (name, owner) => madeBy(name, 'bridge', owner);
  made('brleft', instance);
  made('brother', 'another0root');
  made('brtaken', instance);
  try {
    gcTakesOnlyOurs('bridge', 'brleft', 'brother');
    // A refused create leaves the leftover as it was; a valid one takes the name over.
    made('brleft', instance);
    assert.equal(lab.ctnet(['network', 'create', 'over', '--subnet', '172.25.0.0/24', '--bridge', 'brleft']).code, 4, 'subnet overlaps network lab');
    assert.match(sh('ip', '-n', lab.host, 'link', 'show', 'brleft'), /brleft/);
    lab.ok(['network', 'create', 'over', '--subnet', '172.26.5.0/24', '--bridge', 'brleft']);
    assert.match(sh('ip', '-n', lab.host, '-d', 'link', 'show', 'brleft'), /alias ctnet:[0-9a-f]{12}:[0-9a-f]{12}/);
    assert.equal(lab.ctnet(['network', 'create', 'other', '--subnet', '172.26.6.0/24', '--bridge', 'brother']).code, 4, 'not ours: refused');
    lab.ok(['network', 'rm', 'over']);
  } finally {
    for (const n of ['brleft', 'brother', 'brtaken']) try { sh('ip', '-n', lab.host, 'link', 'del', n); } catch { /* gone */ }
  }
});
