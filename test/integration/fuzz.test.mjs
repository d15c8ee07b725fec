// Fuzzed input: malformed CLI invocations and malformed CNI documents (through ctnet cni-daemon's
// socket, and some through the executable a runtime runs). Each is refused with one line (CLI) or
// valid CNI error JSON, a documented exit code, no stack trace, no hang, and the lab is unchanged
// after all of them. Counts: CTNET_FUZZ_CLI (default 250; `npm run soak` runs 1,000) and
// CTNET_FUZZ_CNI (default 1,000). The seed is printed; CTNET_FUZZ_SEED repeats a run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, fullSnapshot, CTNET, ROOT_DIR } from '../helpers/lab.mjs';
import { startCniDaemon } from '../../dist/cni/daemon.js';

const CLI_COUNT = Number(process.env.CTNET_FUZZ_CLI ?? 250);
const CNI_COUNT = Number(process.env.CTNET_FUZZ_CNI ?? 1000);
const SEED = Number(process.env.CTNET_FUZZ_SEED ?? Date.now() % 1_000_000);
/** Exit codes the README documents for refused input (126/127: a command that cannot be started). */
const REFUSED = new Set([2, 3, 4, 126, 127]);

let lab;
let rand;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.26.0.0/24', '--bridge', 'br0']);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lab', '-p', '8000:80', '--', 'sleep', '600']);
  // mulberry32: a small seeded generator, so a failing run can be repeated.
  let a = SEED;
  rand = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  process.stdout.write(`# fuzz seed ${SEED}\n`);
});
after(() => lab?.close());

const pick = (list) => list[Math.floor(rand() * list.length)];
const junk = () => pick(['', ' ', '\n', 'a\nb', '../..', '-', '--', '%s%n', 'x'.repeat(300), '\u00e9\u4e2d', '\u0001\u007f', '-1', '0', '1e9', '0x10', 'null', '{}', '[]', ';rm -rf /', '$(id)', '*']);
const BAD = {
  name: () => pick(['', ' ', 'a b', 'a/b', '-x', '.x', 'x'.repeat(300), 'a\nb', '\u00e9', 'a:b', '$(id)', '*', '%s%n', '{}', '..']),
  subnet: () => pick(['10.0.0.0', '10.0.0.0/33', '300.0.0.0/24', '10.0.0.0/-1', 'fd00::/64x', '1.2.3/24', '10.0.0.1/8x', junk()]),
  ip: () => pick(['010.090.000.005', '256.1.1.1', '1.2.3', '::1::', '172.26.0.0', '172.26.0.255', '172.26.0.1', '10.9.9.9', junk()]),
  int: () => pick(['-1', '0', '1e9', 'abc', '99999999', '67', junk()]),
  // Linux takes almost any name (null, *, $(id) are fine): only these are not interface names.
  ifname: () => pick(['', 'x'.repeat(16), 'a b', 'a/b', '.', '..', 'a:b', 'a\nb', '\u00e9\u4e2d']),
  port: () => pick(['0:80', '65536:80', '80:0', '80:65536', 'a:b', '8000:80/tcpx', '1.2.3.4:80', '::1::80:80', '9000-8000:80-90', '8000:80', '70000-70001:80', junk()]),
  mem: () => pick(['-1', '1x', 'abc', '0', '1k', '99999999999999999999g', junk()]),
  cap: () => pick(['CAP_BOGUS', 'bogus', '', '1', junk()]),
  opt: () => pick(['seccomp=/nonexistent.json', 'seccomp=relative.json', 'bogus', 'no-new-privileges=maybe', 'apparmor=x', junk()]),
  mode: () => pick(['container:', 'container:nosuch', 'container:web:x', 'none:x', 'host2', junk()]),
  addHost: () => pick(['nocolon', ':1.2.3.4', 'x:999.1.1.1', 'a b:1.2.3.4', 'x:', 'x:host-gateway:1', junk()]),
  sysctl: () => pick(['kernel.hostname=x', 'kernel.shmmax=', 'net.ipv4.no_such=1', 'net.ipv4.ip_forward', 'net.../x=1', 'net.ipv4.ip_forward=', '=1', junk()]),
  rate: () => pick(['50mbps', 'fast', '1k', '-5M', '1e3', '0', junk()]),
  driverOpt: () => pick(['com.docker.network.bridge.enable_icc=maybe', 'com.docker.network.nosuch=1', 'parent=eth0', 'noequals', 'com.docker.network.driver.mtu=x', junk()]),
  format: () => pick(['{{.Nope}}', '{{range .Names}}', '{{end}}', '{{if .Names}}x{{end}}', '{{.Names']),
  // Per flag, values that flag must refuse (junk() would often be valid there: "1e9" is a domain).
  flagValue: () => pick([['--dns', 'resolver.example'], ['--dns', '999.1.1.1'], ['--dns-search', 'bad domain'], ['--dns-search', 'a..b'], ['--dns-option', 'ndots 2'],
    ['--mac-address', 'zz:00:00:00:00:01'], ['--mac-address', '01:00:5e:00:00:01'], ['--ip6', 'fd00::zz'], ['--ip6', 'fd00::5'], ['--expose', '1:2'], ['--expose', 'http']]),
};
const word = () => `fz${Math.floor(rand() * 1e6)}`;

/** One malformed invocation: a valid command with one bad part, or a random argv. */
function cliCase() {
  const sleep = ['--', 'sleep', '1'];
  return pick([
    () => ['network', 'create', BAD.name()],
    () => ['network', 'create', word(), '--subnet', BAD.subnet()],
    () => ['network', 'create', word(), '--subnet', '172.40.0.0/24', '--gateway', BAD.ip()],
    () => ['network', 'create', word(), '--mtu', BAD.int()],
    () => ['network', 'create', word(), '--bridge', BAD.ifname()],
    () => ['network', 'create', 'lab'],
    () => ['network', 'create', word(), '--subnet', '172.26.0.0/25'],
    () => ['run', '-d', '--name', BAD.name(), ...sleep],
    () => ['run', '-d', '--ip', BAD.ip(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--ip', BAD.ip(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '-p', BAD.port(), ...sleep],
    () => ['run', '-d', '-p', BAD.port(), ...sleep],
    () => ['run', '-d', '--network', word(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--memory', BAD.mem(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--cpus', BAD.int(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--hostname', BAD.name(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '-e', pick(['', '=x', '=', '=1']), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--restart', pick(['sometimes', 'on-failure:x', junk()]), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--cap-add', BAD.cap(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--security-opt', BAD.opt(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--network-alias', BAD.name(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--name', 'web', ...sleep],
    () => ['run', '-d', '--network', 'lab', '--', `/nonexistent/${word()}`],
    () => ['run', '-d', '--network', BAD.mode(), ...sleep],
    () => ['run', '-d', '--network', pick(['none', 'host', 'container:web']), pick(['--ip', '--ip6', '--mac-address', '--network-alias']), pick(['172.26.0.9', 'fd00::9', '02:42:00:00:00:09', 'alias']), ...sleep],
    () => ['run', '-d', '--network', 'container:web', pick(['-p', '--hostname', '--dns', '--add-host']), pick(['8080:80', 'h', '10.0.12.11', 'x:1.2.3.4']), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--add-host', BAD.addHost(), ...sleep],
    () => ['run', '-d', '--network', 'lab', '--sysctl', BAD.sysctl(), ...sleep],
    () => ['run', '-d', '--network', 'lab', pick(['--ingress-rate', '--egress-rate']), BAD.rate(), ...sleep],
    () => ['run', '-d', '--network', 'lab', ...BAD.flagValue(), ...sleep],
    () => ['network', 'create', word(), '-o', BAD.driverOpt()],
    () => ['network', 'create', word(), ...pick([['-d', 'ipvlan'], ['-d', 'overlay'], ['--subnet', '10.0.31.0/24', '--ip-range', '10.0.32.0/24'], ['--ip-range', '10.0.31.0/24'],
      ['--subnet', '10.0.31.0/24', '--aux-address', 'x=999.1.1.1'], ['--subnet', '10.0.31.0/24', '--aux-address', 'gw=10.0.31.1'], ['--label', '=v'], ['--label', '']])],
    () => ['network', 'create', word(), '-d', 'macvlan', ...pick([['-o', 'parent=nosuch0', '--subnet', '10.0.30.0/24'], ['-o', 'parent=eth0'], ['-o', 'parent=eth0', '-o', 'macvlan_mode=vepa', '--subnet', '10.0.30.0/24'], ['--subnet', '10.0.30.0/24']])],
    () => [pick(['ps', 'inspect', 'network inspect', 'network ls']).split(' '), '--format', BAD.format(), ...(rand() < 0.5 ? ['web'] : [])].flat(),
    () => [pick(['ps', 'network ls']).split(' '), '--filter', pick(['colour=red', 'status=sleeping', 'dangling=maybe', 'name', '=x'])].flat(),
    () => ['run', '-d'],
    () => [pick(['rm', 'stop', 'inspect', 'logs', 'wait', 'port']), word()],
    () => ['network', pick(['rm', 'inspect']), word()],
    () => ['network', pick(['connect', 'disconnect']), word(), pick(['web', word()])],
    () => ['exec', word(), '--', 'true'],
    () => [pick(['run', 'network', 'ps', 'gc', 'rm']), `--${word()}`],
    () => [word()],
    // Random words after a command that takes no free command line (`run X ...` would run X: valid).
    () => [pick(['network', 'rm', 'inspect', word()]), ...Array.from({ length: Math.floor(rand() * 4) }, () => pick(['run', 'network', 'rm', '-d', '-p', '--ip', junk(), word()]))],
  ])();
}

function runCli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CTNET, ...args], { env: lab.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, stdout, stderr });
    });
  });
}

test(`${CLI_COUNT} malformed CLI invocations: each refused with one line and a documented code, nothing changed`, async () => {
  const before = fullSnapshot(lab);
  const cases = Array.from({ length: CLI_COUNT }, cliCase);
  const results = [];
  for (let i = 0; i < cases.length; i += 4) results.push(...await Promise.all(cases.slice(i, i + 4).map(runCli)));
  const bad = results.filter((r) => {
    if (r.signal) return true; // a hang, killed after 20 s
    // A command group alone (`ctnet network`) shows its usage, as Docker's does.
    if (/^Usage: /.test(r.stderr) && r.code === 0) return false;
    const usage = r.code === 2 && /^(error|Usage|ctnet: error)/m.test(r.stderr);
    const oneLine = /^ctnet: error: [^\n]*\n$/.test(r.stderr);
    // Several names (rm a b, inspect a b): one error line per name refused, exit 1 (Docker's).
    const perName = r.code === 1 && /^(ctnet: error: [^\n]*\n)+$/.test(r.stderr) && r.stderr.split('\n').length - 1 <= r.args.length;
    if (perName) return false;
    return !REFUSED.has(r.code) || !(oneLine || usage) || /\n\s+at /.test(r.stderr) || /internal error/.test(r.stderr);
  });
  assert.deepEqual(bad.slice(0, 5).map((r) => ({ args: r.args, code: r.code, signal: r.signal, stderr: r.stderr.slice(0, 300) })), [], `seed ${SEED}: ${bad.length} of ${results.length} not refused cleanly`);
  assert.deepEqual(fullSnapshot(lab), before, `seed ${SEED}: a refused invocation changed something`);
});

const BASE = () => ({ cniVersion: '1.0.0', name: 'fznet', type: 'ctnet', bridge: 'fz0', ipam: { type: 'host-local', subnet: '10.77.0.0/24' } });
const VALUES = () => pick([null, true, 0, -1, 1e308, '', 'x', 'x'.repeat(5000), [], [1, 'a'], {}, { a: { b: {} } }, '10.77.0.0/24', '../rel', 'fd00::/64']);
const PATHS = [['cniVersion'], ['name'], ['type'], ['bridge'], ['mtu'], ['ipMasq'], ['isGateway'], ['isDefaultGateway'], ['ipam'], ['ipam', 'type'], ['ipam', 'subnet'],
  ['ipam', 'rangeStart'], ['ipam', 'rangeEnd'], ['ipam', 'gateway'], ['ipam', 'dataDir'], ['ipam', 'ranges'], ['ipam', 'routes'], ['runtimeConfig'], ['runtimeConfig', 'portMappings'],
  ['runtimeConfig', 'ips'], ['runtimeConfig', 'mac'], ['prevResult'], ['capabilities']];

function setPath(obj, path, value) {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k];
  }
  if (value === undefined) delete o[path.at(-1)];
  else o[path.at(-1)] = value;
}

/** A malformed configuration text: mutated fields, broken JSON, or bytes. */
function cniDocument() {
  const kind = rand();
  if (kind < 0.1) return JSON.stringify(BASE()).slice(0, Math.floor(rand() * 60));
  if (kind < 0.15) return Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))).toString('latin1');
  const doc = BASE();
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) setPath(doc, pick(PATHS), rand() < 0.2 ? undefined : VALUES());
  // Known-bad forms of valid keys too.
  if (rand() < 0.3) setPath(doc, ['ipam'], pick([{ type: 'host-local', subnet: '10.77.0.0/24', rangeStart: '10.77.0.200', rangeEnd: '10.77.0.10' }, { type: 'host-local', subnet: '10.77.0.0/24', dataDir: 'relative/dir' }, { type: 'host-local', subnet: '10.77.0.0/33' }]));
  return JSON.stringify(doc);
}

/** A runtime's environment, sometimes broken: the netns is never a usable one, so no ADD may succeed. */
function cniEnv() {
  const netns = pick(['', '/nonexistent/netns', '/etc/hostname', `/run/netns/${lab.host}`, '/run/netns']);
  const cni = { CNI_COMMAND: pick(['ADD', 'ADD', 'ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', 'BOGUS', '', 'add']), CNI_CONTAINERID: pick(['c1', '', 'x'.repeat(300)]), CNI_NETNS: netns, CNI_IFNAME: pick(['eth0', '', 'x'.repeat(20)]), CNI_PATH: '/usr/lib/cni' };
  if (rand() < 0.1) delete cni[pick(Object.keys(cni))];
  // Never fuzzed: without these the plugin would act on the machine's own state and network namespace.
  return { ...cni, CTNET_ROOT: lab.root, CTNET_HOST_NETNS: lab.host };
}

function viaDaemon(socket, env, doc) {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let out = '';
    conn.on('data', (d) => (out += d));
    conn.on('error', reject);
    conn.on('end', () => {
      const nl = out.indexOf('\n');
      resolve({ code: Number(out.slice(0, nl)), stdout: out.slice(nl + 1) });
    });
    conn.end(Buffer.concat([...Object.entries(env).map(([k, v]) => Buffer.from(`${k}=${v}\0`)), Buffer.from('\0'), Buffer.from(doc, 'latin1')]));
  });
}

/** As a runtime runs the plugin (asynchronously: the daemon answering it lives in this process). */
function viaExecutable(socket, env, doc) {
  return new Promise((resolve) => {
    const child = spawn(join(ROOT_DIR, 'bin', 'cni', 'ctnet'), [], { env: { PATH: process.env.PATH, ...env, CTNET_CNI_SOCKET: socket, CTNET_CNI_DAEMON: 'off' }, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(Buffer.from(doc, 'latin1'));
  });
}

/** An error is the spec's JSON: code, msg; a success of a command that needs nothing (DEL, GC, VERSION) is fine. */
function checkCni(r, env) {
  if (r.code === 0) return ['DEL', 'GC', 'VERSION', 'STATUS', 'CHECK'].includes(env.CNI_COMMAND) ? null : 'an ADD was accepted';
  let err;
  try {
    err = JSON.parse(r.stdout);
  } catch {
    return `not JSON: ${r.stdout.slice(0, 200)}`;
  }
  if (!Number.isInteger(err.code) || typeof err.msg !== 'string' || !err.msg || /\n\s+at /.test(err.msg)) return `not a CNI error: ${r.stdout.slice(0, 200)}`;
  return null;
}

test(`${CNI_COUNT} malformed CNI documents through cni-daemon and the executable: CNI error JSON, nothing changed`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-fuzz-'));
  const socket = join(dir, 'cni.sock');
  const server = await startCniDaemon(socket);
  try {
    const before = fullSnapshot(lab);
    const problems = [];
    for (let i = 0; i < CNI_COUNT; i++) {
      const env = cniEnv();
      const doc = cniDocument();
      // One in twenty through the executable, as a runtime runs it (it forwards to the daemon).
      const r = i % 20 === 0 ? await viaExecutable(socket, env, doc) : await viaDaemon(socket, env, doc);
      const problem = r.signal ? `hung (${r.signal})` : checkCni(r, env);
      if (problem) problems.push({ problem, env: { ...env, CTNET_ROOT: undefined }, doc: doc.slice(0, 300) });
    }
    assert.deepEqual(problems.slice(0, 3), [], `seed ${SEED}: ${problems.length} of ${CNI_COUNT} documents`);
    assert.deepEqual(fullSnapshot(lab), before, `seed ${SEED}: a refused document changed something`);
  } finally {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
