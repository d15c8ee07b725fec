/**
 * Overlay networks across hosts: two hosts (namespaces on one underlay) and a three-member etcd
 * cluster inside the lab. Measures the time from `run` on one host to the container answering by
 * name from a container on the other host, the time a host takes to lease a block and make its part
 * of a network, and cross-host throughput against a plain VXLAN pair between the same namespaces.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Engine } from '../../dist/index.js';
import { buildOverlayLab, destroyOverlayLab, etcdHealthy, etcdToolsMissing, OUTSIDE_IP, overlayLabNames, startEtcdMember } from '../../dist/demo/overlay-lab.js';
import { echoServerCommand } from '../../dist/demo/lab.js';
import { inNetns, runIn, spawnIn } from './netns.mjs';
import { summary, timeMsAsync } from './stats.mjs';

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
const kill = (child) => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
const killMentioning = (dir) => {
  for (const pid of spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
};

/**
 * Started inside a container's namespace: asks `dns` for `name` and connects to it on `port` every
 * 5 ms until it answers; prints "asking" after its first answer (the name not there yet), then the
 * times (ms since the epoch) it first resolved and it answered.
 */
const WAITER = `
const dns = require('node:dns'); const net = require('node:net');
const [server, name, port] = process.argv.slice(1);
const r = new dns.Resolver({ timeout: 200, tries: 1 }); r.setServers([server]);
let resolved, asked;
const tick = () => r.resolve4(name, (err, ips) => {
  if (err && !asked) process.stdout.write('asking\\n');
  asked = true;
  if (err) return setTimeout(tick, 5);
  resolved ??= Date.now();
  const s = net.connect(Number(port), ips[0]);
  s.on('data', () => { console.log(resolved, Date.now()); process.exit(0); }).on('error', () => setTimeout(tick, 5));
  s.write('GET / HTTP/1.0\\r\\n\\r\\n');
});
tick();`;

/**
 * The hosts' resolver (the lab's outside host): answers every query NXDOMAIN, as a real one answers a
 * name it does not have. With none there, the embedded DNS forwarded each miss to a silent upstream,
 * the outside host's kernel rate-limited its port-unreachable replies (net.ipv4.icmp_ratelimit: one a
 * second after a burst of six), and the waiter's queries timed out at 200 ms each: that, not ctnet,
 * was most of the time measured (with the limit off in the lab, the same).
 */
const NXDOMAIN_UPSTREAM = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, from) => {
  let end = 12;
  while (end < m.length && m[end] !== 0) end += m[end] + 1;
  end += 5;
  if (m.length < 12 || end > m.length) return;
  const out = Buffer.from(m.subarray(0, end));
  out.writeUInt16BE(0x8083 | (m.readUInt16BE(2) & 0x0100), 2);
  out.writeUInt16BE(1, 4); out.writeUInt32BE(0, 6); out.writeUInt16BE(0, 10);
  s.send(out, from.port, from.address);
});
s.bind(53, process.argv[1]);`;


function iperf(fromNs, ip, seconds) {
  const r = runIn(fromNs, 'iperf3', ['-c', ip, '-p', '5201', '-t', String(Math.max(1, Math.round(seconds))), '-J'], { timeout: (seconds + 15) * 1000, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`iperf3 to ${ip} failed: ${r.stdout.slice(0, 300)}${r.stderr}`);
  return JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
}

async function listening(ns, ip) {
  for (let i = 0; i < 100; i++) {
    if (runIn(ns, process.execPath, ['-e', `setTimeout(() => process.exit(1), 300); require('net').connect(5201, '${ip}').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`]).status === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`iperf3 does not listen on ${ip} in ${ns}`);
}

/** Resolves with the overlay figures, or { skipped } without etcd. Long: one lab, three measures, one teardown. */
export async function benchOverlay({ iterations, seconds, throughputRounds = 2 }, log) {
  if (etcdToolsMissing()) return { skipped: ['overlay (apt-get install etcd-server etcd-client)'] };
  log('overlay (two hosts, three etcd members):');
  const lab = overlayLabNames(`cbo${process.pid % 1000}`);
  const processes = [];
  const engines = [];
  buildOverlayLab(lab);
  try {
    processes.push(...lab.hosts.map((_, i) => startEtcdMember(lab, i)));
    for (let i = 0; i < 200 && !etcdHealthy(lab); i++) await new Promise((r) => setTimeout(r, 100));
    for (const h of lab.hosts.slice(0, 2)) {
      const e = new Engine({ root: h.root, hostNetns: h.netns });
      engines.push(e);
      await e.joinCluster({ store: lab.store, name: h.name, ttl: 10 });
    }
    const [e1, e2] = engines;
    processes.push(spawnIn(lab.outside, process.execPath, ['-e', NXDOMAIN_UPSTREAM, OUTSIDE_IP], { stdio: 'ignore', detached: true }));
    await e1.createOverlayNetwork({ name: 'ov', subnet: '10.42.0.0/16' });

    // A host's part of a network: lease a block in etcd (one transaction) and make bridge + VXLAN device.
    const lease = [];
    for (let i = 0; i < iterations; i++) {
      const [ms] = await timeMsAsync(() => e2.prepareNetwork('ov'));
      lease.push(ms);
      await e2.removeAnyNetwork('ov');
    }
    await e2.prepareNetwork('ov');

    // run on h2 -> reachable by name from a container on h1 (the name crosses etcd and h1's agent to its DNS).
    const watcher = e1.attach({ name: 'watcher', network: 'ov' });
    const watcherNs = watcher.NetworkSettings.SandboxKey.split('/').pop();
    const reach = [];
    const named = [];
    for (let i = 0; i < iterations; i++) {
      const name = `svc${i}`;
      const waiter = inNetns(watcherNs, () => spawn(process.execPath, ['-e', WAITER, watcher.NetworkSettings.Gateway, name, '80'], { stdio: ['ignore', 'pipe', 'ignore'] }));
      let out = '';
      const asking = new Promise((r) => waiter.stdout.on('data', (d) => {
        out += d;
        if (out.includes('asking\n')) r();
      }));
      const done = new Promise((r) => waiter.on('exit', r));
      const timer = setTimeout(() => waiter.kill('SIGKILL'), 20000);
      // Started once the waiter asks: its own Node start is not in the figures.
      await Promise.race([asking, done]);
      const t0 = Date.now();
      e2.run({ name, network: 'ov', detach: true, command: echoServerCommand(name, 80) });
      await done;
      clearTimeout(timer);
      const [resolvedAt, answeredAt] = out.replace('asking\n', '').trim().split(' ').map(Number);
      if (answeredAt) {
        named.push(resolvedAt - t0);
        reach.push(answeredAt - t0);
      }
      await e2.remove([name], true);
    }

    // Throughput: container on h1 -> container on h2 through the overlay, against a plain VXLAN pair
    // (VNI 99, its own port) between the same two host namespaces.
    const throughput = { overlayGbps: null, plainVxlanGbps: null, overlayRoundsGbps: [], plainVxlanRoundsGbps: [] };
    if (existsSync('/usr/bin/iperf3')) {
      const server = e2.attach({ name: 'iperf-server', network: 'ov' });
      const serverNs = server.NetworkSettings.SandboxKey.split('/').pop();
      const [h1, h2] = lab.hosts;
      for (const [h, other, ip] of [[h1, h2, '10.99.0.1'], [h2, h1, '10.99.0.2']]) {
        runIn(h.netns, 'ip', ['link', 'add', 'vxplain', 'type', 'vxlan', 'id', '99', 'local', h.ip, 'remote', other.ip, 'dstport', '4790']);
        runIn(h.netns, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'vxplain']);
        runIn(h.netns, 'ip', ['link', 'set', 'vxplain', 'up']);
      }
      processes.push(spawnIn(serverNs, 'iperf3', ['-s', '-p', '5201'], { stdio: 'ignore', detached: true }), spawnIn(h2.netns, 'iperf3', ['-s', '-p', '5201', '-B', '10.99.0.2'], { stdio: 'ignore', detached: true }));
      await listening(serverNs, '127.0.0.1');
      await listening(h2.netns, '10.99.0.2');
      const overlay = [], plain = [];
      // In turn, the order swapped every round: the machine's drift falls on both.
      for (let r = 0; r < throughputRounds; r++) {
        const measure = [() => overlay.push(iperf(watcherNs, server.NetworkSettings.IPAddress, seconds)), () => plain.push(iperf(h1.netns, '10.99.0.2', seconds))];
        for (const m of r % 2 ? measure.reverse() : measure) m();
      }
      throughput.overlayGbps = median(overlay);
      throughput.plainVxlanGbps = median(plain);
      throughput.overlayRoundsGbps = overlay;
      throughput.plainVxlanRoundsGbps = plain;
    }
    const r = { blockLease: summary(lease), runToResolvable: summary(named), runToReachable: summary(reach), ...throughput, skipped: reach.length < iterations ? [`overlay: ${iterations - reach.length} of ${iterations} containers never answered by name within 20 s`] : [] };
    log(`  run on one host -> resolves / answers by name on the other: p50 ${r.runToResolvable.p50?.toFixed(0)} / ${r.runToReachable.p50?.toFixed(0)} ms, p95 ${r.runToResolvable.p95?.toFixed(0)} / ${r.runToReachable.p95?.toFixed(0)} ms; block lease + local part p50 ${r.blockLease.p50?.toFixed(0)} ms`);
    if (r.overlayGbps) log(`  cross-host container -> container ${r.overlayGbps.toFixed(2)} Gbit/s, plain VXLAN ${r.plainVxlanGbps.toFixed(2)} Gbit/s (${((100 * r.overlayGbps) / r.plainVxlanGbps).toFixed(0)}%)`);
    return r;
  } finally {
    for (const e of engines) {
      try {
        for (const c of e.listContainers(true)) {
          try { e.detach(c.Id); } catch { await e.remove([c.Id], true); }
        }
        for (const n of e.listNetworks()) await e.removeAnyNetwork(n.Name);
        e.leaveCluster();
      } catch { /* the lab goes anyway */ }
      e.close();
    }
    processes.forEach(kill);
    killMentioning(lab.work);
    destroyOverlayLab(lab, []);
  }
}
