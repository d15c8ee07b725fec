// Overlay networks across three hosts (namespaces on one underlay segment) coordinated through a
// three-member etcd cluster running inside the lab: cross-host traffic with the source kept, names
// across hosts, isolation, egress masquerade, published ports, kernel entries per host not per
// container, a host that crashes, an etcd member down, etcd down and back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Engine } from '../../dist/index.js';
import { OUTSIDE_IP } from '../../dist/demo/overlay-lab.js';
import { chmodSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CTNET, ROOT_DIR, probe, startEchoServer } from '../helpers/lab.mjs';
import { createOverlayLab, ECHO, etcdMissing, waitFor } from '../helpers/overlay.mjs';

const skip = !process.env.CTNET_REQUIRE_ETCD && etcdMissing();
const TTL = 3;
let o;
let outsideServer;
const ip = {};
const DEV = 'ctvx4096';

before(async () => {
  if (skip) return;
  o = await createOverlayLab({ ttl: TTL });
  outsideServer = startEchoServer(o.lab.outside, 'outside', 9000);
  for (const [i, h] of o.lab.hosts.entries()) o.ok(i, ['cluster', 'join', '--store', o.lab.store, '--name', h.name, '--ttl', String(TTL)]);
  o.ok(0, ['network', 'create', 'ov1', '--driver', 'overlay', '--subnet', '10.42.0.0/16']);
  o.ok(0, ['run', '-d', '--name', 'web1', '--network', 'ov1', process.execPath, ECHO, 'web1', '80']);
  o.ok(1, ['run', '-d', '--name', 'web2', '--network', 'ov1', '--network-alias', 'api', '-p', '8080:80', process.execPath, ECHO, 'web2', '80']);
  o.ok(2, ['run', '-d', '--name', 'c3', '--network', 'ov1', 'sleep', '600']);
  for (const [i, n] of [[0, 'web1'], [1, 'web2'], [2, 'c3']]) ip[n] = JSON.parse(o.ok(i, ['inspect', n])).NetworkSettings.IPAddress;
  // Each host's agent sees the others' blocks and containers.
  await waitFor(() => o.entries(2, DEV).routes.length === 2 && o.probeFrom(2, 'c3', 'web2', 80).startsWith('web2'), 'h3 to see both other hosts');
});

after(() => {
  if (skip) return;
  try { process.kill(-outsideServer.pid, 'SIGKILL'); } catch { /* gone */ }
  o?.close();
});

test('each host leases its own block of the cluster subnet; kernel state is one route, neighbour and FDB entry per other host', { skip }, () => {
  const blocks = JSON.parse(o.ok(0, ['cluster', 'status', '--json'])).networks[0].blocks.map((b) => b.block).sort();
  assert.deepEqual(blocks, ['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24']);
  assert.match(ip.web1, /^10\.42\.0\./);
  assert.match(ip.web2, /^10\.42\.1\./);
  for (const i of [0, 1, 2]) {
    const e = o.entries(i, DEV);
    assert.equal(e.routes.length, 2, `host ${i + 1} routes: ${e.routes}`);
    assert.equal(e.neighbours.length, 2, `host ${i + 1} neighbours: ${e.neighbours}`);
    assert.equal(e.fdb.length, 2, `host ${i + 1} fdb: ${e.fdb}`);
  }
  // VXLAN takes 50 bytes: the containers' interface is 1450.
  const mtu = o.ctnet(2, ['exec', 'c3', 'cat', '/sys/class/net/eth0/mtu']).stdout.trim();
  assert.equal(mtu, '1450');
});

test('topology, doctor and the web view\'s SVG show the overlay: the VXLAN device, the other hosts, their blocks and containers', { skip }, async () => {
  const text = o.ok(2, ['topology']);
  assert.match(text, /ctvx4096 VXLAN 4096 from 192\.168\.100\.13, this host "h3"'s block of 10\.42\.0\.0\/16/);
  assert.match(text, new RegExp(`host "h1" 192\\.168\\.100\\.11: block 10\\.42\\.0\\.0/24 {2}\\(web1 ${ip.web1.replaceAll('.', '\\.')}\\)`));
  const svg = o.ok(2, ['topology', '--format', 'svg']);
  assert.match(svg, /VXLAN ctvx4096/);
  assert.match(svg, /host h2 192\.168\.100\.12/);
  const d = JSON.parse(o.ok(2, ['doctor', 'c3', '--to', `${ip.web1}:80`, '--json']));
  assert.deepEqual(d.checks.filter((c) => c.layer.startsWith('overlay') || c.layer === 'remote block').map((c) => [c.layer, c.ok]), [['overlay device', true], ['remote block', true], ['overlay route', true]]);
  assert.equal(d.failed, undefined, JSON.stringify(d));
});

test('a host that lost its kernel state (VXLAN device and peers, as after a reboot) is whole again after ctnet gc', { skip }, async () => {
  spawnSync('ip', ['-n', o.lab.hosts[0].netns, 'link', 'del', DEV]);
  assert.match(o.probeFrom(2, 'c3', ip.web1, 80, 'tcp', 500), /failed/, 'the control: web1 is cut off');
  assert.match(o.ok(0, ['gc']), /VXLAN device ctvx4096 was missing, rebuilt/);
  await waitFor(() => o.entries(0, DEV).routes.length === 2, 'h1\'s agent programs its peers again');
  assert.equal(o.probeFrom(2, 'c3', ip.web1, 80), `web1 from ${ip.c3}`);
});

test('containers on different hosts reach each other directly over TCP and UDP, by address and by name, with their source address kept', { skip }, () => {
  assert.equal(o.probeFrom(2, 'c3', ip.web1, 80), `web1 from ${ip.c3}`);
  assert.equal(o.probeFrom(2, 'c3', ip.web2, 80, 'udp'), `web2 from ${ip.c3}`);
  assert.equal(o.probeFrom(2, 'c3', 'web1', 80), `web1 from ${ip.c3}`);
  assert.equal(o.probeFrom(2, 'c3', 'web2.ov1', 80, 'udp'), `web2 from ${ip.c3}`);
  assert.equal(o.probeFrom(0, 'web1', 'api', 80), `web2 from ${ip.web1}`, 'a network alias on another host');
});

test('a container\'s name reaches the other hosts as its start is committed, not at the agents\' next pass (every 2 s)', { skip }, async () => {
  // Each run starts just after the last name arrived. Were names carried only by the agents' periodic
  // pass, that would be just after a pass, and each next name would wait ~2 s for the next one.
  const db = new Database(join(o.lab.hosts[0].root, 'ctnet.db'), { readonly: true, timeout: 5000 });
  const known = db.prepare('SELECT 1 FROM remote_endpoints WHERE name = ?');
  const names = ['quick1', 'quick2', 'quick3'];
  const took = [];
  try {
    for (const name of names) {
      o.ok(1, ['run', '-d', '--name', name, '--network', 'ov1', 'sleep', '600']);
      const t0 = Date.now();
      while (!known.get(name) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      took.push(Date.now() - t0);
    }
  } finally {
    db.close();
    o.ctnet(1, ['rm', '-f', ...names]);
  }
  assert.ok(took.every((ms) => ms < 1000), `h1 had each name ${took.join(', ')} ms after its run on h2 returned${o.storeLogs(1)}`);
});

test('a host\'s commands reach etcd through its cluster agent\'s connection, which a local user cannot use; an agent stopped, or in another cluster, is passed by', { skip }, async () => {
  const root = o.lab.hosts[0].root;
  const sock = join(root, 'cluster.sock');
  const st = statSync(sock);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
  const hosts = () => {
    const r = o.ctnet(0, ['cluster', 'status', '--json']);
    return r.code === 0 ? JSON.parse(r.stdout).hosts.map((h) => h.name).sort().join(' ') : `exit ${r.code}: ${r.stderr.trim()}`;
  };
  // h1 opens no new connection to etcd: only the agent's, made before, still carry anything.
  const nft = (script) => spawnSync('ip', ['netns', 'exec', o.lab.hosts[0].netns, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
  assert.equal(nft('table inet ctnettest_noetcd { chain out { type filter hook output priority 0; tcp dport 2379 ct state new drop; }; }\n').status, 0);
  try {
    assert.equal(hosts(), 'h1 h2 h3');
    // The control: without the agent's socket the command connects itself, and cannot.
    renameSync(sock, `${sock}.away`);
    try {
      assert.match(hosts(), /^exit \d+: .*cannot reach the cluster store/);
    } finally {
      renameSync(`${sock}.away`, sock);
    }
    // An agent whose cluster is not the one the state names (as if joined again elsewhere, with it
    // still running) is not used.
    const db = new Database(join(root, 'ctnet.db'), { timeout: 5000 });
    const config = db.prepare("SELECT value FROM meta WHERE key = 'cluster.config'").pluck().get();
    db.prepare("UPDATE meta SET value = ? WHERE key = 'cluster.config'").run(JSON.stringify({ ...JSON.parse(config), ttl: TTL + 1 }));
    try {
      assert.match(hosts(), /^exit \d+: .*cannot reach the cluster store/);
    } finally {
      db.prepare("UPDATE meta SET value = ? WHERE key = 'cluster.config'").run(config);
      db.close();
    }
  } finally {
    nft('delete table inet ctnettest_noetcd');
  }
  // As on a real host: ctnet in the host's own namespace (no CTNET_HOST_NETNS) with no agent to ask
  // loads the etcd client itself.
  renameSync(sock, `${sock}.away`);
  try {
    const { CTNET_HOST_NETNS: _, ...env } = process.env;
    const r = spawnSync('ip', ['netns', 'exec', o.lab.hosts[0].netns, process.execPath, CTNET, 'cluster', 'status', '--json'], { env: { ...env, CTNET_ROOT: root }, encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).hosts.length, 3);
  } finally {
    renameSync(`${sock}.away`, sock);
  }
  // A local user cannot use the agent's place in the cluster: the socket is root's (0600, in root's
  // directories); made reachable by hand, the agent still closes on them without an answer.
  const asNobody = () => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `
    const s = require('net').connect(process.argv[1]);
    setTimeout(() => { console.log('no answer'); process.exit(); }, 3000);
    s.on('error', (e) => { console.log(e.code); process.exit(); });
    s.on('connect', () => s.write(JSON.stringify({ id: 1, method: 'hosts', args: [] }) + '\\n'));
    s.on('data', (d) => { console.log('answered ' + d); process.exit(); });
    s.on('close', () => { console.log('closed'); process.exit(); });`, sock], { encoding: 'utf8', timeout: 10000 }).stdout.trim();
  assert.equal(asNobody(), 'EACCES');
  const modes = [o.lab.work, root, sock].map((p) => [p, statSync(p).mode & 0o7777]);
  for (const [p, mode] of [[o.lab.work, 0o711], [root, 0o711], [sock, 0o666]]) chmodSync(p, mode);
  try {
    assert.match(asNobody(), /^(closed|EPIPE|ECONNRESET)$/);
  } finally {
    for (const [p, mode] of modes) chmodSync(p, mode);
  }
  // A stopped agent: the command waits a second for its answer, then connects itself. The stopped
  // agent renews h1's lease no more, so on a loaded machine h1 may lapse (TTL 3 s) before the answer.
  const agents = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv[1]?.endsWith('ctnet-cluster.mjs') && argv[2] === root;
    } catch {
      return false;
    }
  }).map(Number);
  assert.equal(agents.length, 1, `h1's agent: ${agents}`);
  process.kill(agents[0], 'SIGSTOP');
  try {
    assert.match(hosts(), /^(h1 )?h2 h3$/);
  } finally {
    process.kill(agents[0], 'SIGCONT');
  }
  // Running again, the agent holds h1's place (granted anew if it lapsed) for the tests after this one.
  await waitFor(() => hosts() === 'h1 h2 h3', 'h1 in the cluster again after its agent ran on');
});

test('traffic leaving the overlay is masqueraded to the host address; published ports answer on the host that runs the container', { skip }, () => {
  assert.equal(o.probeFrom(2, 'c3', OUTSIDE_IP, 9000), `outside from ${o.lab.hosts[2].ip}`);
  const r = spawnSync('ip', ['netns', 'exec', o.lab.outside, process.execPath, '-e', `require('http').get('http://${o.lab.hosts[1].ip}:8080', (res) => { let s=''; res.on('data', d => s += d).on('end', () => console.log(s.trim())); }).on('error', e => { console.log(e.code); })`], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.stdout.trim(), `web2 from ${OUTSIDE_IP}`);
});

test('overlays are isolated: from a local network, from another overlay, and from a host that routes into the overlay subnet', { skip }, () => {
  o.ok(2, ['network', 'create', 'loc']);
  o.ok(2, ['run', '-d', '--name', 'l3', '--network', 'loc', 'sleep', '600']);
  o.ok(2, ['network', 'create', 'ov2', '--driver', 'overlay', '--subnet', '10.43.0.0/16']);
  o.ok(2, ['run', '-d', '--name', 'x3', '--network', 'ov2', 'sleep', '600']);
  try {
    assert.match(o.probeFrom(2, 'l3', ip.web1, 80, 'tcp', 800), /failed|timeout|ETIMEDOUT|EHOSTUNREACH|ECONNREFUSED/i, 'local network -> remote overlay container');
    assert.match(o.probeFrom(2, 'l3', ip.c3, 80, 'tcp', 800), /failed|timeout|ETIMEDOUT|EHOSTUNREACH|ECONNREFUSED/i, 'local network -> same-host overlay container');
    assert.match(o.probeFrom(2, 'x3', ip.web1, 80, 'tcp', 800), /failed|timeout|ETIMEDOUT|EHOSTUNREACH|ECONNREFUSED/i, 'another overlay -> ov1');
    // The control: the same probe from ov1 passes.
    assert.equal(o.probeFrom(2, 'c3', ip.web1, 80), `web1 from ${ip.c3}`);
    spawnSync('ip', ['-n', o.lab.outside, 'route', 'add', '10.42.0.0/24', 'via', o.lab.hosts[0].ip]);
    const r = spawnSync('ip', ['netns', 'exec', o.lab.outside, process.execPath, '-e', `const s=require('net').connect(80,'${ip.web1}');s.setTimeout(800,()=>{console.log('timeout');process.exit()});s.on('connect',()=>{console.log('connected');process.exit()});s.on('error',e=>console.log(e.code))`], { encoding: 'utf8', timeout: 5000 });
    assert.notEqual(r.stdout.trim(), 'connected', 'a host on the underlay routing into the overlay');
  } finally {
    spawnSync('ip', ['-n', o.lab.outside, 'route', 'del', '10.42.0.0/24']);
    o.ctnet(2, ['rm', '-f', 'l3', 'x3']);
    o.ctnet(2, ['network', 'rm', 'loc', 'ov2']);
  }
  assert.equal(JSON.parse(o.ok(2, ['cluster', 'status', '--json'])).networks.some((n) => n.name === 'ov2'), false, 'the last host to leave ov2 removes it from the cluster');
});

test('hosts racing: two networks created at once get different VNIs; three hosts taking their part of one network at once get three different blocks', { skip }, async () => {
  const made = await Promise.all([
    o.ctnetAsync(1, ['network', 'create', 'raceA', '--driver', 'overlay', '--subnet', '10.60.0.0/22']),
    o.ctnetAsync(2, ['network', 'create', 'raceB', '--driver', 'overlay', '--subnet', '10.61.0.0/22']),
  ]);
  for (const r of made) assert.equal(r.code, 0, r.stderr);
  const status = () => JSON.parse(o.ok(0, ['cluster', 'status', '--json'])).networks;
  const vnis = status().filter((n) => n.name.startsWith('race')).map((n) => n.vni);
  assert.equal(new Set(vnis).size, 2, `VNIs ${vnis}`);
  // raceA is on h2 already; h1 and h3 join it at the same moment (a container each).
  const runs = await Promise.all([0, 2].map((i) => o.ctnetAsync(i, ['run', '-d', '--name', `racer${i}`, '--network', 'raceA', 'sleep', '60'])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const blocks = status().find((n) => n.name === 'raceA').blocks;
  assert.equal(blocks.length, 3);
  assert.equal(new Set(blocks.map((b) => b.block)).size, 3, JSON.stringify(blocks));
  for (const i of [0, 2]) o.ok(i, ['rm', '-f', `racer${i}`]);
  for (const i of [0, 1, 2]) o.ctnet(i, ['network', 'rm', 'raceA', 'raceB']);
  assert.deepEqual(status().filter((n) => n.name.startsWith('race')), [], 'removed from the cluster when the last host let go');
});

test('CNI: a runtime\'s pods on two hosts join an overlay through the plugin (made on the first ADD, leased on the second host) and reach each other directly', { skip }, async () => {
  const pods = [0, 1].map((i) => ({ host: i, ns: `${o.lab.prefix}-pod${i}`, id: `${i + 1}`.repeat(64) }));
  const conf = (i) => JSON.stringify({
    cniVersion: '1.0.0', name: 'podnet', type: 'ctnet', ipMasq: true, isDefaultGateway: true,
    overlay: { store: o.lab.store, host: o.lab.hosts[i].name }, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/16' }]], dataDir: o.lab.hosts[i].root },
  });
  const plugin = (command, p) => spawnSync(join(ROOT_DIR, 'bin', 'cni', 'ctnet'), [], {
    input: conf(p.host), encoding: 'utf8', timeout: 30000,
    env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: p.id, CNI_NETNS: `/run/netns/${p.ns}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', CTNET_HOST_NETNS: o.lab.hosts[p.host].netns, CTNET_CNI_DAEMON: 'off' },
  });
  let server;
  try {
    for (const p of pods) spawnSync('ip', ['netns', 'add', p.ns]);
    const ips = pods.map((p) => {
      const r = plugin('ADD', p);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return JSON.parse(r.stdout).ips[0].address.split('/')[0];
    });
    assert.notEqual(ips[0].split('.').slice(0, 3).join('.'), ips[1].split('.').slice(0, 3).join('.'), `each node its own block: ${ips}`);
    server = startEchoServer(pods[1].ns, 'pod1', 80);
    await waitFor(() => probe(pods[0].ns, ips[1], 80, 'tcp', 500).ok, 'pod0 -> pod1 across hosts');
    assert.equal(probe(pods[0].ns, ips[1], 80).text, `pod1 from ${ips[0]}`);
    for (const p of pods) assert.equal(plugin('DEL', p).status, 0);
  } finally {
    try { process.kill(-server.pid, 'SIGKILL'); } catch { /* not started */ }
    for (const p of pods) spawnSync('ip', ['netns', 'del', p.ns]);
  }
  // Its blocks go back with the network, host by host.
  for (const i of [0, 1]) assert.equal(o.ctnet(i, ['network', 'rm', 'podnet']).code, 0);
});

test('300 containers across three hosts: each host still has one route, neighbour and FDB entry per other host', { skip }, async () => {
  const engines = o.lab.hosts.map((h) => new Engine({ root: h.root, hostNetns: h.netns }));
  try {
    for (const [i, e] of engines.entries()) for (let n = 0; n < 100; n++) e.attach({ name: `bulk${i}-${n}`, network: 'ov1' });
    for (const i of [0, 1, 2]) {
      const e = o.entries(i, DEV);
      assert.deepEqual([e.routes.length, e.neighbours.length, e.fdb.length], [2, 2, 2], `host ${i + 1}`);
    }
    // Their names reach the other hosts' DNS (the agents publish them through etcd).
    await waitFor(() => o.probeFrom(2, 'c3', 'bulk0-99', 1, 'tcp', 300).includes('ECONNREFUSED'), 'bulk0-99 known on h3', 15000);
  } finally {
    for (const [i, e] of engines.entries()) {
      for (let n = 0; n < 100; n++) try { e.detach(`bulk${i}-${n}`); } catch { /* not made */ }
      e.close();
    }
  }
});

test('a crashed host leaves every other host within the lease TTL; with its etcd member down nothing else is disturbed; back, it takes its block again', { skip }, async () => {
  // When h2's member led etcd, the others first elect a leader (an election timeout of 1 s, up to
  // twice that), and the new one gives every lease its TTL again plus an election timeout.
  const leader = o.leads(1);
  const bound = TTL + 3 + (leader ? 3 : 0);
  const started = Date.now();
  o.crashHost(1);
  await waitFor(() => o.entries(0, DEV).routes.length === 1 && o.entries(2, DEV).routes.length === 1, 'h2 gone from h1 and h3', (bound + 2) * 1000);
  const gone = (Date.now() - started) / 1000;
  assert.ok(gone <= bound, `h2's entries went after ${gone} s (TTL ${TTL} s; h2's etcd member ${leader ? 'led' : 'did not lead'})`);
  await waitFor(() => o.probeFrom(2, 'c3', 'web2', 80, 'tcp', 500).startsWith('failed'), 'web2 gone from h3\'s DNS', 5000);
  // doctor names the broken layer: no host holds that block any more.
  const d = o.ctnet(2, ['doctor', 'c3', '--to', `${ip.web2}:80`, '--json']);
  assert.equal(d.code, 1);
  assert.equal(JSON.parse(d.stdout).failed.layer, 'remote block');
  // Two of three etcd members: the cluster goes on.
  assert.equal(o.probeFrom(2, 'c3', 'web1', 80), `web1 from ${ip.c3}`);
  o.ok(0, ['run', '-d', '--name', 'late1', '--network', 'ov1', process.execPath, ECHO, 'late1', '80']);
  await waitFor(() => o.probeFrom(2, 'c3', 'late1', 80).startsWith('late1 from'), 'late1 known on h3 with one etcd member down');
  // h2 comes back: its etcd member, then any ctnet command starts its agent again.
  o.restartEtcd(1);
  o.ok(1, ['gc']);
  await waitFor(() => o.probeFrom(2, 'c3', 'web2', 80, 'tcp', 500) === `web2 from ${ip.c3}`, 'web2 back', 20000);
  const blocks = JSON.parse(o.ok(0, ['cluster', 'status', '--json'])).networks[0].blocks;
  assert.deepEqual(blocks.find((b) => b.host === 'h2')?.block, '10.42.1.0/24', 'the same block: its containers keep their addresses');
});

test('etcd down: running containers keep talking, a new container on a network here works, what needs etcd is refused in one line; all catches up when etcd is back', { skip }, async () => {
  for (const p of o.etcd) try { process.kill(-p.pid, 'SIGSTOP'); } catch { /* gone */ }
  try {
    await new Promise((r) => setTimeout(r, (TTL + 2) * 1000));
    assert.equal(o.probeFrom(2, 'c3', ip.web1, 80), `web1 from ${ip.c3}`);
    assert.equal(o.probeFrom(0, 'web1', ip.web2, 80), `web2 from ${ip.web1}`);
    const refused = o.ctnet(0, ['network', 'create', 'ov9', '--driver', 'overlay', '--subnet', '10.49.0.0/16']);
    assert.equal(refused.code, 9, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.match(refused.stderr, /cannot reach the cluster store .* then retry/);
    o.ok(0, ['run', '-d', '--name', 'during', '--network', 'ov1', process.execPath, ECHO, 'during', '80']);
    // The default network is the host's own: made on first use without asking etcd.
    o.ok(0, ['run', '-d', '--name', 'local0', '--network', 'bridge', 'sleep', '60']);
    o.ok(0, ['rm', '-f', 'local0']);
  } finally {
    for (const p of o.etcd) try { process.kill(-p.pid, 'SIGCONT'); } catch { /* gone */ }
  }
  await waitFor(() => o.probeFrom(2, 'c3', 'during', 80).startsWith('during from'), 'the container started during the outage known on h3', 20000);
  assert.equal(o.probeFrom(2, 'c3', ip.web1, 80), `web1 from ${ip.c3}`);
});
