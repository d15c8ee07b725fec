// CNI conformance: the plugin executable driven exactly as a runtime drives it (exec, CNI_* env,
// JSON on stdin), for every command and spec version, with the kernel state read back after each
// step and traffic through a published port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createServer } from 'node:net';
import { createLab, fullSnapshot, probe, echoServerCommand, sendUdpCommand, startUdpWitness, ROOT_DIR, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

const PLUGIN = join(ROOT_DIR, 'bin', 'cni', 'ctnet');
const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
/** Port map elements carry a counter: `8100 counter packets 0 bytes 0 : 10.88.0.2 . 80`. */
const COUNTER = '(counter packets \\d+ bytes \\d+ )?';

let lab;
let serial = 0;
const pods = [];

before(() => { lab = createLab(); });
after(() => {
  for (const p of pods) try { execFileSync('ip', ['netns', 'del', p.ns], { stdio: 'ignore' }); } catch { /* gone */ }
  try { lab.ctnet(['network', 'rm', 'podnet']); } catch { /* not there */ }
  lab?.close();
});

const conf = (version, extra = {}) => ({
  cniVersion: version, name: 'podnet', type: 'ctnet', bridge: 'cni0', isGateway: true, ipMasq: true, hairpinMode: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: lab.root },
  ...extra,
});

/** A pod: a namespace the "runtime" made, with loopback up, and a 64-hex container ID. */
function newPod() {
  const ns = `${lab.host.replace(/-host$/, '')}-pod${serial++}`;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const id = (Date.now().toString(16) + serial.toString(16)).padEnd(64, 'a');
  const pod = { ns, id, path: `/run/netns/${ns}` };
  pods.push(pod);
  return pod;
}

function cni(command, config, pod, extraEnv = {}) {
  // CTNET_CNI_DAEMON=off: each invocation in its own Node process (cni-autostart.test.mjs covers the daemon the plugin starts).
  const env = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_PATH: join(ROOT_DIR, 'bin', 'cni'), CTNET_HOST_NETNS: lab.host, CTNET_ROOT: lab.root, CTNET_CNI_DAEMON: 'off', ...extraEnv };
  if (pod) Object.assign(env, { CNI_CONTAINERID: pod.id, CNI_NETNS: pod.path, CNI_IFNAME: pod.ifname ?? 'eth0' });
  const r = spawnSync(PLUGIN, [], { input: typeof config === 'string' ? config : JSON.stringify(config), env, encoding: 'utf8' });
  const out = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  return { code: r.status, signal: r.signal, out, stderr: r.stderr };
}

const ok = (r) => { assert.equal(r.code, 0, JSON.stringify(r.out) + r.stderr); return r.out; };
const failsWith = (r, code) => { assert.equal(r.code, 1, JSON.stringify(r.out)); assert.equal(r.out.code, code, JSON.stringify(r.out)); assert.equal(typeof r.out.msg, 'string'); assert.ok(!r.out.msg.includes('\n')); };
const sh = (...a) => execFileSync(a[0], a.slice(1), { encoding: 'utf8' });

/** The result shape the spec gives for each version. */
function checkResult(version, res, pod, ifname = 'eth0') {
  assert.equal(res.cniVersion, version);
  assert.equal(res.interfaces.length, 3);
  assert.deepEqual(res.interfaces.map((i) => i.name).filter((n) => n === 'cni0' || n === ifname), ['cni0', ifname]);
  const sandboxed = res.interfaces.findIndex((i) => i.sandbox === pod.path);
  assert.equal(res.interfaces[sandboxed].name, ifname);
  for (const i of res.interfaces) assert.match(i.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(res.ips.length, 1);
  assert.equal(res.ips[0].interface, sandboxed);
  assert.match(res.ips[0].address, /^10\.88\.\d+\.\d+\/16$/);
  assert.equal(res.ips[0].gateway, '10.88.0.1');
  if (version.startsWith('0.')) assert.equal(res.ips[0].version, '4');
  else assert.equal('version' in res.ips[0], false);
  assert.deepEqual(res.routes, [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }]);
}

for (const [i, version] of VERSIONS.entries()) {
  test(`cniVersion ${version}: ADD, kernel state, traffic through the published port, CHECK, DEL twice`, async () => {
    const pod = newPod();
    const hostPort = 8100 + i;
    const c = conf(version, { runtimeConfig: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] } });
    const res = ok(cni('ADD', c, pod));
    checkResult(version, res, pod);
    const ip = res.ips[0].address.split('/')[0];
    // Kernel: address and default route inside, the host end on the bridge, the DNAT element.
    assert.match(sh('ip', '-n', pod.ns, '-4', '-o', 'addr', 'show', 'eth0'), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/16`));
    assert.match(sh('ip', '-n', pod.ns, 'route'), /default via 10\.88\.0\.1 dev eth0/);
    assert.match(sh('ip', '-n', lab.host, '-o', 'link', 'show', 'master', 'cni0'), new RegExp(res.interfaces[1].name));
    assert.match(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'map', 'ip', 'ctnet', 'tcp_any'), new RegExp(`${hostPort} ${COUNTER}: ${ip.replace(/\./g, '\\.')} \\. 80`));
    // Traffic: another host reaches the pod through the host's published port.
    const server = spawnInNs(pod.ns, echoServerCommand(`pod${i}`, 80));
    try {
      await lab.waitAnswer(pod.ns, '127.0.0.1', 80);
      assert.equal(probe(lab.host2, A.host, hostPort).text, `pod${i} from ${A.host2}`);
      assert.equal(probe(pod.ns, A.host2, 9, 'tcp', 800).text, 'ECONNREFUSED', 'the pod reaches the other host');
    } finally {
      process.kill(-server.pid, 'SIGKILL');
    }
    // CHECK: from 0.4.0 on, with prevResult; before, the spec has no CHECK.
    if (version === '0.3.0' || version === '0.3.1') failsWith(cni('CHECK', { ...c, prevResult: res }, pod), 1);
    else ok(cni('CHECK', { ...c, prevResult: res }, pod));
    // DEL removes the interface, the element and the address; a second DEL succeeds too.
    ok(cni('DEL', { ...c, prevResult: res }, pod));
    assert.doesNotMatch(sh('ip', '-n', pod.ns, '-o', 'link'), /eth0/);
    assert.doesNotMatch(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'map', 'ip', 'ctnet', 'tcp_any'), new RegExp(`${hostPort} ${COUNTER}:`));
    ok(cni('DEL', c, pod));
    if (version !== '1.1.0') return;
    // CHECK after DEL reports the missing attachment.
    assert.equal(cni('CHECK', { ...c, prevResult: res }, pod).code, 1);
  });
}

function spawnInNs(ns, command) {
  return spawn('ip', ['netns', 'exec', ns, ...command], { stdio: 'ignore', detached: true });
}

test('CHECK notices an interface the runtime lost', () => {
  const pod = newPod();
  const c = conf('1.0.0');
  const res = ok(cni('ADD', c, pod));
  sh('ip', '-n', pod.ns, 'addr', 'flush', 'dev', 'eth0');
  const r = cni('CHECK', { ...c, prevResult: res }, pod);
  failsWith(r, 999);
  assert.match(r.out.msg, /address 10\.88\.\d+\.\d+\/16 is missing/);
  ok(cni('DEL', c, pod));
});

test('a runtime\'s pods beyond a bridge\'s share go on a segment: ADD places, traffic crosses the trunk, CHECK notices a broken trunk, DEL', () => {
  const SMALL = { CTNET_SEGMENT_PORTS: '1' };
  const c = conf('1.0.0', { name: 'segnet', bridge: 'cni1', ipam: { type: 'host-local', ranges: [[{ subnet: '10.89.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: lab.root } });
  const [p1, p2] = [newPod(), newPod()];
  const [r1, r2] = [p1, p2].map((p) => ok(cni('ADD', c, p, SMALL)));
  const hostVeth = (res) => res.interfaces.find((i) => !i.sandbox && i.name !== 'cni1').name;
  const masterOf = (dev) => JSON.parse(sh('ip', '-n', lab.host, '-j', 'link', 'show', dev))[0].master;
  assert.equal(masterOf(hostVeth(r1)), 'cni1');
  const segment = masterOf(hostVeth(r2));
  assert.match(segment, /^cts[0-9a-f]{8}b1$/, 'the second pod on segment 1');
  const ip2 = r2.ips[0].address.split('/')[0];
  sh('ip', 'netns', 'exec', p1.ns, 'busybox', 'ping', '-c', '1', '-W', '2', ip2);
  ok(cni('CHECK', { ...c, prevResult: r2 }, p2, SMALL));
  const trunk = segment.replace(/b1$/, 't1');
  sh('ip', '-n', lab.host, 'link', 'set', trunk, 'nomaster');
  const broken = cni('CHECK', { ...c, prevResult: r2 }, p2, SMALL);
  failsWith(broken, 999);
  assert.match(broken.out.msg, new RegExp(`the trunk of segment 1 \\(${trunk}\\) does not join ${segment} to cni1`));
  lab.ok(['gc']);
  ok(cni('CHECK', { ...c, prevResult: r2 }, p2, SMALL));
  for (const p of [p1, p2]) ok(cni('DEL', c, p, SMALL));
  lab.ok(['network', 'rm', 'segnet']);
  assert.equal(sh('ip', '-n', lab.host, '-o', 'link', 'show').includes(segment), false, 'network rm took the segment');
});

test('DEL succeeds when the namespace is already gone, and cleans up the host side', () => {
  const pod = newPod();
  const c = conf('1.0.0');
  const res = ok(cni('ADD', c, pod));
  sh('ip', 'netns', 'del', pod.ns);
  ok(cni('DEL', c, pod));
  assert.doesNotMatch(sh('ip', '-n', lab.host, '-o', 'link'), new RegExp(`${res.interfaces[1].name}@`));
  assert.ok(!lab.json(['ps', '-a']).some((x) => x.Name === `cni-${pod.id.slice(0, 12)}-eth0`));
});

test('DEL killed at any step never leaves the pod\'s interface up without its guard: a forged source never reaches the host', async () => {
  const pod = newPod();
  const c = conf('1.0.0');
  const hostEnd = (res) => res.interfaces.find((i) => !i.sandbox && i.name !== 'cni0').name;
  let res = ok(cni('ADD', c, pod));
  const witness = await startUdpWitness(lab.host, '10.88.0.1', 9999);
  try {
    /** The runtime's namespace outlives DEL: while its eth0 is there, it sends from a forged address, then from its own. */
    const attack = async (tag) => {
      if (spawnSync('ip', ['-n', pod.ns, 'link', 'show', 'eth0'], { stdio: 'ignore' }).status !== 0) return 'no interface';
      const own = res.ips[0].address.split('/')[0];
      sh('ip', 'netns', 'exec', pod.ns, 'sh', '-c', `ip addr add 10.88.255.250/16 dev eth0; ${sendUdpCommand('10.88.255.250', '10.88.0.1', 9999, `forged ${tag}`)}; ${sendUdpCommand(own, '10.88.0.1', 9999, `own ${tag}`)}; ip addr del 10.88.255.250/16 dev eth0`);
      const ownArrived = await witness.arrived(`own ${tag}`);
      if (witness.heard(`forged ${tag}`)) return 'forged arrived';
      return ownArrived ? 'guarded' : 'eth0 there, its own datagram lost';
    };
    assert.equal(await attack('attached'), 'guarded');
    const seen = [];
    for (let step = 1; ; step++) {
      const r = cni('DEL', c, pod, { CTNET_CRASH_AT: String(step) });
      if (r.signal !== 'SIGKILL') {
        ok(r);
        break;
      }
      seen.push(await attack(`killed at step ${step}`));
      ok(cni('DEL', c, pod));
      res = ok(cni('ADD', c, pod));
    }
    process.stdout.write(`# CNI DEL killed at each of ${seen.length} steps: ${seen.join(', ')}\n`);
    assert.ok(seen.every((x) => x === 'guarded' || x === 'no interface'), seen.join(', '));
    assert.ok(seen.includes('guarded') && seen.includes('no interface'), `kills before and after the interface went: ${seen.join(', ')}`);
    // The control: the same attack once the pod's port is taken out of the guard by hand.
    res = ok(cni('ADD', c, pod));
    sh('ip', 'netns', 'exec', lab.host, 'nft', 'delete', 'element', 'bridge', 'ctnet', 'container_ports', `{ ${hostEnd(res)} }`);
    assert.equal(await attack('unguarded'), 'forged arrived');
  } finally {
    witness.close();
  }
  ok(cni('DEL', c, pod));
});

test('capabilities and CNI_ARGS: ips, mac, IP=, a second interface name', () => {
  const pod = newPod();
  const c = conf('1.0.0', { runtimeConfig: { ips: ['10.88.7.7/16'], mac: '02:42:0a:58:07:07' } });
  const res = ok(cni('ADD', c, pod));
  assert.equal(res.ips[0].address, '10.88.7.7/16');
  assert.equal(res.interfaces[2].mac, '02:42:0a:58:07:07');
  const pod2 = { ...newPod(), ifname: 'net1' };
  const res2 = ok(cni('ADD', conf('1.0.0'), pod2, { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.88.9.9' }));
  assert.equal(res2.ips[0].address, '10.88.9.9/16');
  assert.match(sh('ip', '-n', pod2.ns, '-o', 'link'), /net1@/);
  ok(cni('DEL', c, pod));
  ok(cni('DEL', conf('1.0.0'), pod2));
});

test('errors come as spec JSON with the spec\'s codes', () => {
  const pod = newPod();
  failsWith(cni('ADD', '{not json', pod), 6);
  failsWith(cni('ADD', conf('0.2.0'), pod), 1);
  failsWith(cni('ADD', { cniVersion: '1.0.0', type: 'ctnet' }, pod), 7);
  failsWith(cni('ADD', conf('1.0.0', { isGateway: false }), pod), 2);
  failsWith(cni('ADD', conf('1.0.0', { ipMasq: false }), pod), 7); // podnet exists with ipMasq on
  failsWith(cni('ADD', conf('1.0.0', { vlan: 5 }), pod), 2);
  failsWith(cni('ADD', conf('1.0.0'), { ...pod, path: '/run/netns/does-not-exist' }), 3);
  failsWith(cni('ADD', conf('1.0.0'), undefined), 4);
  failsWith(cni('FROB', conf('1.0.0'), pod), 4);
  failsWith(cni('ADD', conf('1.0.0', { runtimeConfig: { ips: ['10.99.0.1'] } }), pod), 7);
  failsWith(cni('STATUS', conf('1.0.0'), undefined), 1);
  // Nothing was left behind by the failures.
  assert.doesNotMatch(sh('ip', '-n', pod.ns, '-o', 'link'), /eth0/);
});

test('refused up front or taken back: a hostIP not on the host, the host\'s own namespace, an inverted range, a relative dataDir leave nothing', () => {
  const pod = newPod();
  const fresh = { ...conf('1.0.0'), name: 'refused', bridge: 'cni9', ipam: { type: 'host-local', subnet: '10.89.0.0/24', dataDir: lab.root } };
  const before = fullSnapshot(lab);
  // Found out only while attaching, after the network was made for this ADD: the network goes too.
  failsWith(cni('ADD', { ...fresh, runtimeConfig: { portMappings: [{ hostPort: 8199, containerPort: 80, protocol: 'tcp', hostIP: '192.0.2.99' }] } }, pod), 7);
  failsWith(cni('ADD', fresh, { ...pod, path: `/run/netns/${lab.host}` }), 7);
  failsWith(cni('ADD', fresh, { ...pod, path: '/etc/hostname' }), 7);
  failsWith(cni('ADD', { ...fresh, ipam: { ...fresh.ipam, rangeStart: '10.89.0.200', rangeEnd: '10.89.0.10' } }, pod), 7);
  failsWith(cni('ADD', { ...fresh, ipam: { ...fresh.ipam, dataDir: 'relative/dir' } }, pod), 7);
  assert.deepEqual(fullSnapshot(lab), before);
  assert.doesNotMatch(sh('ip', '-n', pod.ns, '-o', 'link'), /eth0/);
  assert.equal(lab.ctnet(['network', 'inspect', 'refused']).code, 3);
});

test('a second ADD of the same attachment is refused and changes nothing; the CLI will not stop or exec into it', () => {
  const pod = newPod();
  const c = conf('1.0.0');
  ok(cni('ADD', c, pod));
  const name = `cni-${pod.id.slice(0, 12)}-eth0`;
  for (const args of [['stop', name], ['exec', name, '--', 'true']]) {
    const r = lab.ctnet(args);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^ctnet: error: container cni-\S+ has no process of ctnet's: it is a runtime's \(CNI\) attachment; DEL it through the runtime/);
  }
  const r = cni('ADD', c, pod);
  assert.equal(r.code, 1);
  assert.match(r.out.msg, /already has eth0/);
  ok(cni('DEL', c, pod));
});

test('VERSION lists every supported version', () => {
  const r = cni('VERSION', { cniVersion: '1.1.0' });
  assert.deepEqual(ok(r), { cniVersion: '1.1.0', supportedVersions: VERSIONS });
});

test('with no daemon, the executable finds ctnet through a symlink to it, a relative one and a symlinked directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-cni-links-'));
  try {
    symlinkSync(PLUGIN, join(dir, 'absolute'));
    mkdirSync(join(dir, 'plugins'));
    symlinkSync(relative(join(dir, 'plugins'), PLUGIN), join(dir, 'plugins', 'relative'));
    symlinkSync(dirname(PLUGIN), join(dir, 'linked-dir'));
    for (const path of [join(dir, 'absolute'), join(dir, 'plugins', 'relative'), join(dir, 'linked-dir', 'ctnet')]) {
      const r = spawnSync(path, [], { input: '{"cniVersion":"1.1.0"}', env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', CTNET_CNI_DAEMON: 'off', CTNET_CNI_SOCKET: join(dir, 'none.sock') }, encoding: 'utf8' });
      assert.equal(r.status, 0, `${path}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout).supportedVersions, VERSIONS, path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with no daemon and no node on the runtime\'s PATH: a CNI error on stdout (code 50), not a Perl message', () => {
  const r = spawnSync(PLUGIN, [], { input: '{"cniVersion":"1.1.0"}', env: { PATH: '/nonexistent', CNI_COMMAND: 'VERSION', CTNET_CNI_DAEMON: 'off', CTNET_CNI_SOCKET: '/nonexistent/cni.sock' }, encoding: 'utf8' });
  failsWith({ code: r.status, out: JSON.parse(r.stdout) }, 50);
  assert.match(JSON.parse(r.stdout).msg, /cannot run node .*install Node\.js 20/);
});

test('a daemon that closes without answering: a CNI error (code 11) that stays JSON with a quote and a backslash in the socket\'s path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-cni-mute-'));
  const socket = join(dir, 'a"b\\c.sock');
  const server = createServer((conn) => conn.destroy());
  await new Promise((resolve) => server.listen(socket, resolve));
  try {
    const r = spawn(PLUGIN, [], { env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', CTNET_CNI_SOCKET: socket } });
    r.stdin.end('{"cniVersion":"1.1.0"}');
    let stdout = '';
    r.stdout.on('data', (d) => { stdout += d; });
    const code = await new Promise((resolve) => r.on('close', resolve));
    const out = JSON.parse(stdout);
    failsWith({ code, out }, 11);
    assert.ok(out.msg.includes(socket), out.msg);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('STATUS: ready, or code 50 with the reason (no libnftables)', () => {
  assert.equal(ok(cni('STATUS', conf('1.1.0'))), undefined);
  const r = cni('STATUS', conf('1.1.0'), undefined, { CTNET_LIBNFTABLES: '/nonexistent/libnftables.so.1' });
  failsWith(r, 50);
  assert.match(r.out.msg, /apt-get install -y nftables/);
});

test('GC removes every attachment the runtime does not list (also under the older key), and frees addresses', () => {
  const keep = newPod(), leak1 = newPod(), leak2 = newPod();
  const c = conf('1.1.0', { runtimeConfig: { portMappings: [{ hostPort: 8200, containerPort: 80 }] } });
  ok(cni('ADD', conf('1.1.0'), keep));
  const r1 = ok(cni('ADD', c, leak1));
  ok(cni('ADD', conf('1.1.0'), leak2));
  ok(cni('GC', { ...conf('1.1.0'), 'cni.dev/valid-attachments': [{ containerID: keep.id, ifname: 'eth0' }, { containerID: leak2.id, ifname: 'eth0' }] }));
  assert.doesNotMatch(sh('ip', '-n', leak1.ns, '-o', 'link'), /eth0/);
  assert.match(sh('ip', '-n', keep.ns, '-o', 'link'), /eth0/);
  assert.doesNotMatch(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'map', 'ip', 'ctnet', 'tcp_any'), new RegExp(`8200 ${COUNTER}:`));
  ok(cni('GC', { ...conf('1.1.0'), 'cni.dev/attachments': [{ containerID: keep.id, ifname: 'eth0' }] }));
  assert.doesNotMatch(sh('ip', '-n', leak2.ns, '-o', 'link'), /eth0/);
  const names = lab.json(['ps']).map((x) => x.Name);
  assert.deepEqual(names.filter((n) => n.startsWith('cni-')), [`cni-${keep.id.slice(0, 12)}-eth0`]);
  // The leaked address is free again.
  const again = ok(cni('ADD', conf('1.1.0', { runtimeConfig: { ips: [r1.ips[0].address] } }), newPod()));
  assert.equal(again.ips[0].address, r1.ips[0].address);
});

test('concurrent ADDs never collide; the CLI sees the attachments (shared state)', async () => {
  const batch = Array.from({ length: 10 }, () => newPod());
  const results = await Promise.all(batch.map((pod) => new Promise((resolve) => {
    const env = { PATH: process.env.PATH, CNI_COMMAND: 'ADD', CNI_CONTAINERID: pod.id, CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: '', CTNET_HOST_NETNS: lab.host, CTNET_ROOT: lab.root };
    const child = spawn(PLUGIN, [], { env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
    child.stdin.end(JSON.stringify(conf('1.0.0')));
  })));
  for (const r of results) assert.equal(r.code, 0, r.out);
  const ips = results.map((r) => JSON.parse(r.out).ips[0].address);
  assert.equal(new Set(ips).size, 10);
  const ps = lab.json(['ps']);
  for (const pod of batch) assert.ok(ps.some((x) => x.Name === `cni-${pod.id.slice(0, 12)}-eth0`));
  for (const pod of batch) ok(cni('DEL', conf('1.0.0'), pod));
});

/** Runs a conflist the way libcni does: each plugin gets name, cniVersion, its own keys and the previous result. */
function runChain(command, conflist, pod, cached) {
  const plugins = command === 'DEL' ? [...conflist.plugins].reverse() : conflist.plugins;
  let prev = command === 'ADD' ? undefined : cached;
  for (const p of plugins) {
    const path = p.type === 'ctnet' ? PLUGIN : `/usr/lib/cni/${p.type}`;
    const env = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: pod.id, CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', CTNET_HOST_NETNS: lab.host, CTNET_ROOT: lab.root };
    const input = JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...p, ...(prev ? { prevResult: prev } : {}) });
    const run = () => spawnSync(path, [], { input, env, encoding: 'utf8' });
    // The reference plugins act on the namespace they run in, the lab's host.
    const r = p.type === 'ctnet' ? run() : spawnSync('ip', ['netns', 'exec', lab.host, path], { input, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `${p.type} ${command}: ${r.stdout}${r.stderr}`);
    if (command === 'ADD') prev = JSON.parse(r.stdout);
  }
  return prev;
}

test('first in a conflist, followed by the reference tuning and bandwidth plugins', { skip: !existsSync('/usr/lib/cni/tuning') && 'containernetworking-plugins not installed' }, () => {
  const pod = newPod();
  const conflist = {
    cniVersion: '1.0.0', name: 'podnet',
    plugins: [
      { ...conf('1.0.0'), cniVersion: undefined, name: undefined },
      { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' } },
      { type: 'bandwidth', ingressRate: 8000000, ingressBurst: 1000000, egressRate: 8000000, egressBurst: 1000000 },
    ],
  };
  for (const p of conflist.plugins) for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  const result = runChain('ADD', conflist, pod);
  assert.equal(result.ips[0].gateway, '10.88.0.1');
  assert.equal(sh('ip', 'netns', 'exec', pod.ns, 'sysctl', '-n', 'net.ipv4.conf.eth0.rp_filter').trim(), '2');
  assert.match(sh('ip', 'netns', 'exec', lab.host, 'tc', 'qdisc', 'show'), /tbf/);
  ok(cni('CHECK', { ...conf('1.0.0'), prevResult: result }, pod));
  runChain('DEL', conflist, pod, result);
  assert.doesNotMatch(sh('ip', '-n', pod.ns, '-o', 'link'), /eth0/);
});

test('an ipam type other than host-local is delegated to that plugin (reference static)', { skip: !existsSync('/usr/lib/cni/static') && 'containernetworking-plugins not installed' }, () => {
  const pod = newPod();
  const c = {
    cniVersion: '1.0.0', name: 'staticnet', type: 'ctnet', bridge: 'cni-static',
    ipam: { type: 'static', addresses: [{ address: '10.77.0.10/24', gateway: '10.77.0.1' }], routes: [{ dst: '0.0.0.0/0' }] },
  };
  const res = ok(cni('ADD', c, pod, { CNI_PATH: '/usr/lib/cni' }));
  assert.equal(res.ips[0].address, '10.77.0.10/24');
  assert.equal(res.ips[0].gateway, '10.77.0.1');
  assert.match(sh('ip', '-n', pod.ns, '-4', '-o', 'addr'), /10\.77\.0\.10\/24/);
  assert.match(sh('ip', '-n', lab.host, '-4', '-o', 'addr', 'show', 'cni-static'), /10\.77\.0\.1\/24/);
  // CHECK and GC reach the delegated plugin too (static checks its address; it speaks no GC, so GC is not forwarded).
  ok(cni('CHECK', { ...c, prevResult: res }, pod, { CNI_PATH: '/usr/lib/cni' }));
  const gc = { ...c, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: pod.id, ifname: 'eth0' }] };
  ok(cni('GC', gc, pod, { CNI_PATH: '/usr/lib/cni' }));
  assert.match(sh('ip', '-n', pod.ns, '-4', '-o', 'addr'), /10\.77\.0\.10\/24/, 'a valid attachment survives GC');
  ok(cni('DEL', c, pod, { CNI_PATH: '/usr/lib/cni' }));
  failsWith(cni('ADD', { ...c, ipam: { type: 'no-such-ipam' } }, pod, { CNI_PATH: '/usr/lib/cni' }), 7);
  lab.ok(['network', 'rm', 'staticnet']);
});

test('dual stack: an IPv6 range gives the pod an IPv6 address and default route; ipam routes are added inside', () => {
  const pod = newPod();
  const c = {
    cniVersion: '1.0.0', name: 'dualnet', type: 'ctnet', bridge: 'cni-dual', isDefaultGateway: true,
    ipam: {
      type: 'host-local', dataDir: lab.root,
      ranges: [[{ subnet: '10.68.0.0/24' }], [{ subnet: 'fd00:68::/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '198.51.100.7/24' }, { dst: '192.0.2.0/24', gw: '10.68.0.254' }, { dst: 'fd00:99::/64' }],
    },
    runtimeConfig: { portMappings: [{ hostPort: 8680, containerPort: 8080, protocol: 'tcp' }] },
  };
  const res = ok(cni('ADD', c, pod));
  assert.deepEqual(res.ips.map((i) => [i.address, i.gateway]), [['10.68.0.2/24', '10.68.0.1'], ['fd00:68::2/64', 'fd00:68::1']]);
  assert.deepEqual(res.routes, [
    { dst: '0.0.0.0/0', gw: '10.68.0.1' }, { dst: '::/0', gw: 'fd00:68::1' },
    { dst: '198.51.100.0/24', gw: '10.68.0.1' }, { dst: '192.0.2.0/24', gw: '10.68.0.254' }, { dst: 'fd00:99::/64', gw: 'fd00:68::1' },
  ]);
  assert.match(sh('ip', '-n', pod.ns, '-6', '-o', 'addr', 'show', 'eth0'), /fd00:68::2\/64/);
  assert.match(sh('ip', '-n', pod.ns, '-6', 'route'), /default via fd00:68::1 dev eth0/);
  assert.match(sh('ip', '-n', pod.ns, '-6', 'route'), /fd00:99::\/64 via fd00:68::1 dev eth0/);
  const v4routes = sh('ip', '-n', pod.ns, '-4', 'route');
  assert.match(v4routes, /198\.51\.100\.0\/24 via 10\.68\.0\.1 dev eth0/);
  assert.match(v4routes, /192\.0\.2\.0\/24 via 10\.68\.0\.254 dev eth0/);
  // The published port answers on the host's IPv6 address too.
  const server = spawnInNs(pod.ns, echoServerCommand('dualpod', 8080));
  try {
    let r;
    for (let i = 0; i < 50 && !(r = probe(lab.host2, A.host6, 8680, 'tcp', 300)).ok; i++) sh('sleep', '0.05');
    assert.ok(r.text.startsWith('dualpod from'), r.text);
  } finally {
    process.kill(-server.pid, 'SIGKILL');
  }
  ok(cni('DEL', { ...c, prevResult: res }, pod));
  assert.doesNotMatch(sh('ip', '-n', pod.ns, '-o', 'link'), /eth0/);
  // A second IPv6 range, or an IPv6 route without an IPv6 range, is refused.
  failsWith(cni('ADD', { ...c, name: 'dual2', ipam: { ...c.ipam, ranges: [[{ subnet: 'fd01::/64' }], [{ subnet: 'fd02::/64' }], [{ subnet: '10.69.0.0/24' }]] } }, pod), 2);
  failsWith(cni('ADD', { ...c, name: 'dual3', ipam: { type: 'host-local', dataDir: lab.root, subnet: '10.69.0.0/24', routes: [{ dst: 'fd00:99::/64' }] } }, pod), 7);
  lab.ok(['network', 'rm', 'dualnet']);
});

test('ipMasq false (routed: the other host sees the pod\'s own address) and no default route without isDefaultGateway or a 0.0.0.0/0 route', () => {
  const pod = newPod();
  const routed = { cniVersion: '1.0.0', name: 'routednet', type: 'ctnet', bridge: 'cni-routed', ipMasq: false, isDefaultGateway: true, ipam: { type: 'host-local', subnet: '10.66.0.0/24', dataDir: lab.root } };
  const res = ok(cni('ADD', routed, pod));
  assert.deepEqual(res.routes, [{ dst: '0.0.0.0/0', gw: '10.66.0.1' }]);
  // host2 needs a route back to the pod subnet via the host: routed mode.
  sh('ip', '-n', lab.host2, 'route', 'add', '10.66.0.0/24', 'via', A.host);
  const server = spawn('ip', ['netns', 'exec', lab.host2, ...echoServerCommand('h2', 8081)], { stdio: 'ignore', detached: true });
  try {
    for (let i = 0; i < 50 && !probe(lab.host2, '127.0.0.1', 8081, 'tcp', 300).ok; i++) sh('sleep', '0.05');
    assert.equal(probe(pod.ns, A.host2, 8081).text, `h2 from ${res.ips[0].address.split('/')[0]}`);
  } finally {
    process.kill(-server.pid, 'SIGKILL');
    sh('ip', '-n', lab.host2, 'route', 'del', '10.66.0.0/24');
  }
  ok(cni('DEL', routed, pod));
  const pod2 = newPod();
  const noRoute = { cniVersion: '1.0.0', name: 'noroute', type: 'ctnet', bridge: 'cni-noroute', ipam: { type: 'host-local', subnet: '10.67.0.0/24', dataDir: lab.root } };
  const res2 = ok(cni('ADD', noRoute, pod2));
  assert.deepEqual(res2.routes, []);
  assert.doesNotMatch(sh('ip', '-n', pod2.ns, 'route'), /default/);
  ok(cni('CHECK', { ...noRoute, prevResult: res2 }, pod2));
  ok(cni('DEL', noRoute, pod2));
  lab.ok(['network', 'rm', 'routednet']);
  lab.ok(['network', 'rm', 'noroute']);
});

test('with ctnet cni-daemon the executable forwards to it: same results, errors and concurrency; a dead daemon falls back to Node', async () => {
  const socket = join(lab.root, 'cni.sock');
  const daemon = spawn(process.execPath, [join(ROOT_DIR, 'bin', 'ctnet'), 'cni-daemon', '--socket', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((res) => daemon.stdout.once('data', res));
    const via = { CTNET_CNI_SOCKET: socket };
    const pod = newPod();
    const res = ok(cni('ADD', conf('1.1.0'), pod, via));
    checkResult('1.1.0', res, pod);
    assert.match(sh('ip', '-n', pod.ns, '-4', '-o', 'addr', 'show', 'eth0'), new RegExp(res.ips[0].address.replace(/\./g, '\\.')));
    ok(cni('CHECK', { ...conf('1.1.0'), prevResult: res }, pod, via));
    failsWith(cni('ADD', conf('1.0.0', { isGateway: false }), newPod(), via), 2);
    failsWith(cni('ADD', '{not json', newPod(), via), 6);
    const batch = Array.from({ length: 8 }, () => newPod());
    const results = batch.map((p) => cni('ADD', conf('1.0.0'), p, via)).map(ok);
    assert.equal(new Set(results.map((r) => r.ips[0].address)).size, 8);
    for (const [i, p] of batch.entries()) ok(cni('DEL', { ...conf('1.0.0'), prevResult: results[i] }, p, via));
    ok(cni('DEL', conf('1.1.0'), pod, via));
    assert.doesNotMatch(sh('ip', '-n', pod.ns, '-o', 'link'), /eth0/);
  } finally {
    daemon.kill('SIGKILL'); // leaves its socket file behind, as a crash would
    await new Promise((res) => daemon.on('exit', res));
  }
  // A socket nobody listens on: the executable runs the plugin itself.
  const pod = newPod();
  const res = ok(cni('ADD', conf('1.0.0'), pod, { CTNET_CNI_SOCKET: socket }));
  ok(cni('DEL', { ...conf('1.0.0'), prevResult: res }, pod, { CTNET_CNI_SOCKET: socket }));
});

test('the daemon keeps its engine while invocations come, opens another for a host namespace or state directory made anew, and closes it when idle', async () => {
  // A host namespace and a state directory of this test's own, made anew under the daemon's feet.
  const host = `${lab.host.replace(/-host$/, '')}-kh`;
  const dir = join(lab.root, 'kept');
  const socket = join(lab.root, 'kept.sock');
  const fresh = () => {
    try { execFileSync('ip', ['netns', 'del', host], { stdio: 'ignore' }); } catch { /* first time */ }
    execFileSync('ip', ['netns', 'add', host]);
  };
  const keptConf = (bridge, subnet) => ({ ...conf('1.0.0'), bridge, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: dir } });
  const via = { CTNET_CNI_SOCKET: socket, CTNET_HOST_NETNS: host };
  fresh();
  const daemon = spawn(process.execPath, [join(ROOT_DIR, 'bin', 'ctnet'), 'cni-daemon', '--socket', socket, '--keep-engines', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const holdsState = () => {
    const fds = join('/proc', String(daemon.pid), 'fd');
    return sh('ls', fds).split('\n').filter(Boolean).some((fd) => { try { return sh('readlink', join(fds, fd)).trim() === join(dir, 'ctnet.db'); } catch { return false; } });
  };
  const bridgeIn = (name) => spawnSync('ip', ['-n', host, '-o', 'link', 'show', name], { encoding: 'utf8' }).stdout.includes(`${name}:`);
  try {
    await new Promise((res) => daemon.stdout.once('data', res));
    const first = newPod();
    const res = ok(cni('ADD', keptConf('cni0', '10.89.0.0/16'), first, via));
    assert.ok(holdsState(), 'the daemon closed its engine after the ADD');
    ok(cni('DEL', { ...keptConf('cni0', '10.89.0.0/16'), prevResult: res }, first, via));

    // The host namespace made anew: the kept engine's is another one, so the bridge must come back in this one.
    fresh();
    const second = newPod();
    ok(cni('ADD', keptConf('cni0', '10.89.0.0/16'), second, via));
    assert.ok(bridgeIn('cni0'), 'the ADD went to the namespace the kept engine had open, not to the one named now');
    assert.match(sh('ip', '-n', host, '-o', 'link', 'show', 'master', 'cni0'), /veth/);
    ok(cni('DEL', keptConf('cni0', '10.89.0.0/16'), second, via));

    // The state directory made anew (and the namespace, whose bridge the old state owned): the new state has the pod.
    rmSync(dir, { recursive: true, force: true });
    fresh();
    const third = newPod();
    ok(cni('ADD', keptConf('cni1', '10.90.0.0/16'), third, via));
    const listed = spawnSync(join(ROOT_DIR, 'bin', 'ctnet'), ['ps', '-a', '--format', '{{.Networks}}'], { env: { ...process.env, CTNET_ROOT: dir, CTNET_HOST_NETNS: host }, encoding: 'utf8' });
    assert.equal(listed.stdout.trim(), 'podnet', listed.stderr);
    assert.ok(bridgeIn('cni1'));
    ok(cni('DEL', keptConf('cni1', '10.90.0.0/16'), third, via));

    // Idle for longer than --keep-engines: nothing of the state (or of a namespace) stays open.
    await new Promise((res) => setTimeout(res, 2500));
    assert.ok(!holdsState(), 'the daemon still holds the state after --keep-engines seconds without an invocation');
  } finally {
    daemon.kill('SIGKILL');
    await new Promise((res) => daemon.on('exit', res));
    try { execFileSync('ip', ['netns', 'del', host], { stdio: 'ignore' }); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('as containerd sends it: capitalised portMappings (ADD, traffic, DEL); DEL after a failed ADD with no CNI_NETNS, three times, succeeds and frees everything', async () => {
  const pod = newPod();
  const c = conf('1.0.0', { name: 'ctrdnet', bridge: 'cni-ctrd', ipam: { type: 'host-local', ranges: [[{ subnet: '10.91.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: lab.root },
    runtimeConfig: { portMappings: [{ HostPort: 8140, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }] } });
  const res = ok(cni('ADD', c, pod));
  const server = spawn('ip', ['netns', 'exec', pod.ns, ...echoServerCommand('ctrd', 80)], { stdio: 'ignore', detached: true });
  try {
    for (let i = 0; i < 50 && !probe(lab.host2, A.host, 8140, 'tcp', 300).ok; i++) sh('sleep', '0.05');
    assert.equal(probe(lab.host2, A.host, 8140).text.split(' ')[0], 'ctrd');
  } finally {
    process.kill(-server.pid, 'SIGKILL');
  }
  ok(cni('DEL', c, pod));
  assert.doesNotMatch(sh('ip', 'netns', 'exec', lab.host, 'nft', 'list', 'map', 'ip', 'ctnet', 'tcp_any'), /8140/);
  assert.ok(res.ips[0].address.startsWith('10.91.0.'));
  // A failed ADD (the host port is taken), then DEL as containerd repeats it: no netns, three times.
  const other = newPod();
  const taken = conf('1.0.0', { ...c, runtimeConfig: { portMappings: [{ HostPort: 8141, ContainerPort: 80, Protocol: 'tcp' }] } });
  ok(cni('ADD', taken, other));
  const loser = newPod();
  assert.equal(cni('ADD', taken, loser).code, 1);
  for (let i = 0; i < 3; i++) ok(cni('DEL', { ...taken, runtimeConfig: { portMappings: [{ hostPort: 'garbage' }] } }, { ...loser, path: '' }));
  ok(cni('DEL', taken, other));
  assert.deepEqual(lab.json(['network', 'inspect', 'ctrdnet']).Containers, [], 'nothing of the failed ADD or the others is left');
  lab.ok(['network', 'rm', 'ctrdnet']);
});

test('as the bridge plugin: with ipMasq a routed neighbour reaches the pod directly; blockDirectAccess (ctnet\'s key, Docker 28\'s rule) closes that', () => {
  const open = { cniVersion: '1.0.0', name: 'flatnet', type: 'ctnet', bridge: 'cni-flat', ipMasq: true, isDefaultGateway: true, ipam: { type: 'host-local', subnet: '10.68.0.0/24', dataDir: lab.root } };
  const closed = { ...open, name: 'closednet', bridge: 'cni-closed', blockDirectAccess: true, ipam: { ...open.ipam, subnet: '10.69.0.0/24' } };
  const pods = [newPod(), newPod()];
  const ips = [open, closed].map((c, i) => ok(cni('ADD', c, pods[i])).ips[0].address.split('/')[0]);
  const servers = pods.map((p) => spawn('ip', ['netns', 'exec', p.ns, ...echoServerCommand('pod', 8090)], { stdio: 'ignore', detached: true }));
  sh('ip', '-n', lab.host2, 'route', 'add', '10.68.0.0/23', 'via', A.host);
  try {
    for (let i = 0; i < 50 && !probe(pods[0].ns, '127.0.0.1', 8090, 'tcp', 300).ok; i++) sh('sleep', '0.05');
    assert.equal(probe(lab.host2, ips[0], 8090).text, `pod from ${A.host2}`, 'routed access to a pod of a masquerading CNI network, as with bridge');
    assert.equal(probe(lab.host2, ips[1], 8090, 'tcp', 700).ok, false, 'blockDirectAccess: true drops it');
  } finally {
    for (const s of servers) process.kill(-s.pid, 'SIGKILL');
    sh('ip', '-n', lab.host2, 'route', 'del', '10.68.0.0/23');
  }
  ok(cni('DEL', open, pods[0]));
  ok(cni('DEL', closed, pods[1]));
  lab.ok(['network', 'rm', 'flatnet', 'closednet']);
});
