// The escape suite: a real program inside a default container tries to get out or at the host,
// and must fail; the same attempt with --privileged (or with the one protection lifted) succeeds,
// so each probe can tell. Effects are harmless: a marker file in /tmp, one block read, reads of
// kernel files, a dummy link in the container's own namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLab, CTNET } from '../helpers/lab.mjs';
import { makeRootfs } from '../helpers/rootfs.mjs';

let lab;
let rootfs;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'esc', '--subnet', '172.24.0.0/24']);
  rootfs = makeRootfs(['sh', 'cat', 'ls', 'id', 'sleep', 'grep']);
});
after(() => {
  lab?.close();
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
});

const run = (args, script) => lab.ctnet(['run', '--rm', '--network', 'esc', ...args, '--', 'sh', '-c', script]);
const DEFAULT = [];
const PRIVILEGED = ['--privileged'];

/** errno of one raw syscall made by perl inside the container (0: it worked). */
const SYSCALLS = {
  x64: { init_module: 175, keyctl: 250, bpf: 321 },
  arm64: { init_module: 105, keyctl: 219, bpf: 280 },
}[process.arch];
const errnoOf = (args, call) => {
  const r = run(args, `perl -e '$! = 0; my $r = ${call}; print(($r == -1 ? 0 + $! : 0), "\\n")'`);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
};
const EPERM = 1;

test('remounting / read-write fails, so nothing reaches the host; privileged it works (a marker in /tmp)', () => {
  const marker = `/tmp/ctnet-escape-${randomBytes(4).toString('hex')}`;
  try {
    // The attack as users type it, then the bind form, which changes only this mount's flags.
    const r = run(DEFAULT, `mount -o remount,rw / 2>&1; mount -o remount,bind,rw / 2>&1; touch ${marker} 2>&1; echo done`);
    assert.match(r.stdout, /done/);
    assert.ok(!existsSync(marker), 'the default container wrote the host root');
    const p = run(PRIVILEGED, `mount -o remount,bind,rw / && touch ${marker}`);
    assert.equal(p.code, 0, p.stderr);
    assert.ok(existsSync(marker), 'the control could not write: the probe proves nothing');
  } finally {
    rmSync(marker, { force: true });
  }
});

test("umount /proc fails; even privileged, no host /proc lies below the container's", () => {
  const r = run(DEFAULT, 'umount /proc 2>&1 || umount -l /proc 2>&1; ls /proc | wc -l');
  assert.match(r.stdout, /must be superuser|permission denied|not permitted/i);
  assert.ok(Number(r.stdout.trim().split('\n').pop()) > 5, 'its own /proc stays');
  const p = run(PRIVILEGED, 'umount /proc && ls /proc | wc -l');
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout.trim(), '0', 'the host /proc was detached before the container got its own');
  // CAP_SYS_ADMIN alone (Docker's profile then allows umount): detached as well, /sys too (first: umount reads /proc).
  const admin = run(['--cap-add', 'SYS_ADMIN'], 'umount -l /sys && umount -l /proc && ls /proc /sys | wc -l');
  assert.equal(admin.code, 0, admin.stderr);
  assert.equal(admin.stdout.trim(), '3', 'nothing below either: only the listing\'s two headers and its blank line');
});

/**
 * A block device the host itself may open: the root disk where it can, else /dev/loop0 (an
 * unbound loop device reads 0 bytes). Only ever read, one block.
 */
function blockDevice() {
  for (const name of [rootDiskName(), 'loop0']) {
    if (!name || !existsSync(`/dev/${name}`)) continue;
    if (spawnSync('dd', [`if=/dev/${name}`, 'of=/dev/null', 'bs=512', 'count=1'], { stdio: 'ignore' }).status !== 0) continue;
    const rdev = statSync(`/dev/${name}`).rdev;
    return { name, major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
  }
  return null;
}

function rootDiskName() {
  const dev = statSync('/').dev;
  try {
    return readlinkSync(`/sys/dev/block/${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`).split('/').pop();
  } catch {
    return null;
  }
}

test("a block device: made with mknod it cannot be opened; the host's /dev is not there; privileged reads one block", (t) => {
  const disk = blockDevice();
  if (!disk) return t.skip('no block device the host itself may open');
  const read = (path) => `dd if=${path} of=/dev/null bs=512 count=1 2>&1`;
  const r = run(DEFAULT, `mknod /dev/disk b ${disk.major} ${disk.minor} && ${read('/dev/disk')}; ls /dev/${disk.name} 2>&1`);
  assert.match(r.stdout, /failed to open '\/dev\/disk': (Permission denied|Operation not permitted)/);
  assert.match(r.stdout, /No such file or directory/, `the host's /dev/${disk.name} is visible`);
  const p = run(PRIVILEGED, read(`/dev/${disk.name}`));
  assert.equal(p.code, 0, p.stdout + p.stderr);
  assert.match(p.stdout, /[01]\+0 records in/);
});

test('the devices cgroup refuses a node even where nodev is lifted (CAP_SYS_ADMIN, no seccomp): defence in depth on v1', (t) => {
  const disk = blockDevice();
  if (!disk) return t.skip('no block device the host itself may open');
  if (!existsSync('/sys/fs/cgroup/devices/devices.list')) return t.skip('no v1 devices controller on this host (v2: nodev everywhere it can write)');
  const lifted = ['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined'];
  const r = run(lifted, `mount -o remount,dev /dev && mknod /dev/disk b ${disk.major} ${disk.minor} && dd if=/dev/disk of=/dev/null bs=512 count=1 2>&1`);
  assert.match(r.stdout, /failed to open '\/dev\/disk': Operation not permitted/, r.stdout + r.stderr);
});

test('kernel files: masked ones read empty, /proc/sys is read-only; privileged sees and may write them', () => {
  const masked = ['/proc/timer_list', '/proc/kcore', '/proc/sched_debug', '/proc/keys'].filter((p) => existsSync(p));
  const bytes = (args) => run(args, masked.map((p) => `head -c 64 ${p} 2>/dev/null | wc -c`).join('; ')).stdout.trim().split('\n').map(Number);
  assert.ok(masked.includes('/proc/timer_list'));
  assert.deepEqual(bytes(DEFAULT), masked.map(() => 0), masked.join(' '));
  assert.ok(bytes(PRIVILEGED)[masked.indexOf('/proc/timer_list')] > 0, 'the control reads nothing: the probe proves nothing');
  const firmware = run(DEFAULT, 'ls /sys/firmware | wc -l').stdout.trim();
  assert.equal(firmware, '0');
  // A sysctl of the container's own network namespace: harmless to the host either way.
  const sysctl = '(echo 1 > /proc/sys/net/ipv4/conf/lo/accept_local) 2>&1; cat /proc/sys/net/ipv4/conf/lo/accept_local';
  assert.match(run(DEFAULT, sysctl).stdout, /Read-only file system\n0/);
  assert.match(run(PRIVILEGED, sysctl).stdout, /^1$/m);
  if (existsSync('/proc/sysrq-trigger')) {
    // h only prints help to the kernel log.
    assert.match(run(DEFAULT, '(echo h > /proc/sysrq-trigger) 2>&1').stdout, /Read-only file system/);
    assert.equal(run(PRIVILEGED, 'echo h > /proc/sysrq-trigger').code, 0);
  }
});

test('init_module, keyctl, bpf: refused by the filter and the missing capabilities; privileged gets past both', () => {
  const calls = {
    init_module: `syscall(${SYSCALLS.init_module}, 0, 0, my $p = "")`,
    keyctl: `syscall(${SYSCALLS.keyctl}, 0, -3, 0)`,
    bpf: `syscall(${SYSCALLS.bpf}, 0, my $a = "\\0" x 64, 64)`,
  };
  for (const [name, call] of Object.entries(calls)) {
    assert.equal(errnoOf(DEFAULT, call), EPERM, `${name} by default`);
    assert.notEqual(errnoOf(PRIVILEGED, call), EPERM, `${name} privileged: the probe proves nothing`);
  }
});

test('no NET_ADMIN: ip addr add and ip link set fail; privileged (or --cap-add NET_ADMIN) changes its own namespace', () => {
  const script = 'ip addr add 10.99.0.1/32 dev lo 2>&1; ip link set lo mtu 1300 2>&1; ip -o link show lo';
  const r = run(DEFAULT, script);
  assert.match(r.stdout, /Operation not permitted/);
  assert.doesNotMatch(r.stdout, /mtu 1300/);
  assert.match(run(PRIVILEGED, script).stdout, /mtu 1300/);
  assert.match(run(['--cap-add', 'NET_ADMIN'], script).stdout, /mtu 1300/);
});

test('unshare -U (a user namespace with every capability in it) is refused; privileged may', () => {
  const r = run(DEFAULT, 'unshare -U true 2>&1; echo rc=$?');
  assert.match(r.stdout, /Operation not permitted[\s\S]*rc=1/);
  assert.match(run(PRIVILEGED, 'unshare -U true; echo rc=$?').stdout, /rc=0/);
});

test("other containers' network namespaces: /run/netns is not there, so there is nothing to setns into", () => {
  lab.ok(['run', '-d', '--name', 'victim', '--network', 'esc', '--', 'sleep', '600']);
  try {
    const victim = lab.nsOf('victim');
    const enter = `nsenter --net=/run/netns/${victim} ip -o -4 addr show eth0 2>&1`;
    assert.match(run(DEFAULT, `ls /run/netns 2>&1; ${enter}`).stdout, /No such file or directory[\s\S]*No such file or directory/);
    // The control: with /run/netns mounted in on purpose (and the capability setns needs), the probe gets in.
    assert.match(run(['--privileged', '-v', '/run/netns:/run/netns:ro'], enter).stdout, /172\.24\.0\./);
  } finally {
    lab.ctnet(['rm', '-f', 'victim']);
  }
});

test("ctnet's API socket and state (the database with every container's environment) are out of sight", async () => {
  const socket = join(lab.root, 'api.sock');
  const server = spawn('ip', ['netns', 'exec', lab.host, process.execPath, CTNET, 'serve', '--listen', '127.0.0.1:0', '--socket', socket], { env: lab.env, stdio: 'ignore', detached: true });
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(socket));
    const connect = (path) => `perl -MIO::Socket::UNIX -e 'print IO::Socket::UNIX->new(Peer => "${path}") ? "connected\\n" : "refused: $!\\n"'; ls ${lab.root} | wc -l`;
    const r = run(DEFAULT, connect(socket));
    assert.match(r.stdout, /refused: No such file or directory\n0\n/);
    assert.match(run(DEFAULT, 'ls /run/ctnet 2>&1').stdout, /No such file or directory/);
    // Mounted in on purpose, the same probe connects.
    assert.match(run(['-v', `${lab.root}:${lab.root}`], connect(socket)).stdout, /connected/);
  } finally {
    process.kill(-server.pid, 'SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.on('exit', r)));
  }
});

test('a setuid binary regains root for a user; under no-new-privileges it does not', () => {
  const dir = join(lab.root, 'suid');
  mkdirSync(dir, { recursive: true });
  copyFileSync('/usr/bin/id', join(dir, 'id'));
  chmodSync(join(dir, 'id'), 0o4755);
  const script = '/mnt/suid/id; grep CapEff /proc/self/status';
  const mountIt = ['--tmpfs', '/mnt', '-v', `${dir}:/mnt/suid:ro`];
  const without = run(['-u', '1000', ...mountIt], '/mnt/suid/id');
  assert.match(without.stdout, /euid=0/, 'the control: the setuid bit works without no-new-privileges');
  const nnp = run(['-u', '1000', ...mountIt, '--security-opt', 'no-new-privileges'], script);
  assert.doesNotMatch(nnp.stdout, /euid=0/);
  assert.match(nnp.stdout, /uid=1000/);
  assert.match(nnp.stdout, /CapEff:\s+0000000000000000/);
});

test("a secret given with -e is on no command line another user's ps can read", () => {
  const secret = `hunter2-${randomBytes(6).toString('hex')}`;
  lab.ok(['run', '-d', '--name', 'secretive', '--network', 'esc', '-e', `DB_PASSWORD=${secret}`, '--', 'sleep', '600']);
  const decoy = spawn('sh', ['-c', 'sleep 30', secret], { stdio: 'ignore' });
  try {
    const ps = () => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ps', '-eo', 'args'], { encoding: 'utf8' }).stdout;
    const seen = ps().split('\n').filter((l) => l.includes(secret));
    assert.equal(seen.length, 1, `only the decoy (the control) shows it: ${seen.join(' | ')}`);
    assert.match(seen[0], /^sh -c sleep 30/);
    const c = lab.json(['inspect', 'secretive']);
    const spec = join(lab.root, 'containers', c.Id, 'init.spec');
    assert.equal(statSync(spec).mode & 0o777, 0o600);
    assert.match(readFileSync(spec, 'utf8'), new RegExp(secret), 'the spec file is where it went');
    assert.match(lab.ok(['exec', 'secretive', '--', 'sh', '-c', 'echo $DB_PASSWORD']), new RegExp(secret));
  } finally {
    decoy.kill();
    lab.ctnet(['rm', '-f', 'secretive']);
  }
});

test("a foreground container cannot push keystrokes into the caller's terminal (TIOCSTI)", (t) => {
  // Under a pseudo-terminal made by script(1): the probe pushes "x" back into the terminal's input.
  const sti = `perl -e 'print ioctl(STDOUT, 0x5412, my $c = "x") ? "pushed\\n" : "refused: $!\\n"'`;
  const underTerminal = (command) => spawnSync('script', ['-qec', command, '/dev/null'], { env: lab.env, encoding: 'utf8', timeout: 30000 }).stdout;
  if (!/pushed/.test(underTerminal(sti))) return t.skip('TIOCSTI is disabled on this kernel (dev.tty.legacy_tiocsti=0): nothing to escape');
  const inside = underTerminal(`${process.execPath} ${CTNET} run --rm --network esc -- ${sti}`);
  assert.match(inside, /refused: Operation not permitted/);
  // Without -i the caller's terminal is not even its input; -t gives it a terminal of its own, -i feeds it.
  assert.match(underTerminal(`${process.execPath} ${CTNET} run --rm --network esc -- sh -c 'cat; echo eof'`), /^eof/m);
  const own = underTerminal(`${process.execPath} ${CTNET} run --rm -t --network esc -- sh -c 'test -t 0 && test -t 1 && tty'`);
  assert.match(own, /^\/dev\/console\r?$/m, 'its own terminal, found by name inside');
});

test('--rootfs refuses the host root however it is spelled, and a rootfs runs confined too', () => {
  for (const spelling of ['/.', '/usr/..', lab.root + '/../../']) {
    const r = lab.ctnet(['run', '--rm', '--network', 'esc', '--rootfs', spelling, '--', 'true']);
    assert.equal(r.code, 2, spelling);
    assert.match(r.stderr, /is the host's root itself/);
  }
  const r = run(['--rootfs', rootfs], 'grep -E "CapEff|Seccomp:" /proc/self/status');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /CapEff:\s+00000000a80425fb\nSeccomp:\s+2\n/);
});
