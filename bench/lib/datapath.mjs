/**
 * The data path: TCP connection rate through a published port with 10 and with 10,000 published
 * ports (ctnet) against the reference portmap plugin with 10 and 1,000; throughput through a published
 * port; container-to-container throughput against a bare veth pair. All traffic stays between the
 * bench's own namespaces; every load generator is bounded in time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Engine } from '../../dist/index.js';
import { netnsPath } from '../../dist/kernel/netns.js';
import { echoServerCommand } from '../../dist/demo/lab.js';
import { cniAvailable, cniChain } from './cni.mjs';
import { bridgePair, deleteNetns, linkPair, newNetns, runIn, spawnIn } from './netns.mjs';

const CONNRATE = fileURLToPath(new URL('./connrate.mjs', import.meta.url));
const HOST = '10.0.12.15';
const CLIENT = '10.0.12.11';
const iperfAvailable = () => existsSync('/usr/bin/iperf3');

function connRate(clientNs, port, seconds) {
  const r = runIn(clientNs, process.execPath, [CONNRATE, HOST, String(port), String(seconds), '8'], { timeout: (seconds + 10) * 1000 });
  return JSON.parse(r.stdout).per_second;
}

async function waitListening(ns, ip, port) {
  for (let i = 0; i < 100; i++) {
    const probe = `setTimeout(() => process.exit(1), 300); require('net').connect(${port}, '${ip}').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
    const r = runIn(ns, process.execPath, ['-e', probe], { timeout: 2000 });
    if (r.status === 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on ${ip}:${port} in ${ns}`);
}

/** iperf3 client from `fromNs` to ip:port for `seconds`; returns Gbit/s received. */
function iperf(fromNs, ip, port, seconds) {
  // iperf3 takes whole seconds.
  const r = runIn(fromNs, 'iperf3', ['-c', ip, '-p', String(port), '-t', String(Math.max(1, Math.round(seconds))), '-J'], { timeout: (seconds + 15) * 1000, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`iperf3 to ${ip}:${port} failed: ${r.stdout.slice(0, 300)}${r.stderr}`);
  return JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
}

function iperfServer(ns, port) {
  return spawnIn(ns, 'iperf3', ['-s', '-p', String(port)], { stdio: 'ignore', detached: true });
}

const readSysctlIn = (ns, key) => runIn(ns, 'sysctl', ['-n', key]).stdout.trim() || null;

const kill = (child) => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };

/** Published port rules: does the lookup grow with the number of published ports? */
async function ctnetPorts({ seconds, rounds }, log) {
  const hostNs = newNetns('dph');
  const clientNs = newNetns('dpc');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-dp-'));
  const engine = new Engine({ root, hostNetns: hostNs });
  const servers = [];
  try {
    linkPair(hostNs, HOST, clientNs, CLIENT, 22);
    engine.createNetwork({ name: 'dp', subnet: '172.28.0.0/16', bridge: 'br0' });
    const srv = engine.run({ name: 'srv', network: 'dp', detach: true, publish: ['8000:8080', '5201:5201'], command: echoServerCommand('srv', 8080) });
    servers.push(srv.child);
    const srvNs = srv.container.netns;
    await waitListening(srvNs, '127.0.0.1', 8080);
    engine.attach({ name: 'few', network: 'dp', publish: Array.from({ length: 8 }, (_, i) => `${40001 + i}:80`) });
    const fill = () => engine.attach({ name: 'many', network: 'dp', publish: Array.from({ length: 9990 }, (_, i) => `${10001 + i}:80`) });
    const few = [], many = [];
    connRate(clientNs, 8000, Math.min(1, seconds)); // warm-up: the server's JIT and the conntrack table, not measured
    for (let r = 0; r < rounds; r++) {
      // 10 ports before and after 10,000, so neither case always runs first.
      const before = connRate(clientNs, 8000, seconds);
      fill();
      many.push(connRate(clientNs, 8000, seconds));
      engine.detach('many');
      few.push((before + connRate(clientNs, 8000, seconds)) / 2);
    }
    const published = engine.listContainers(true).reduce((n, c) => n + c.NetworkSettings.Ports.length, 0);
    log(`  ctnet DNAT: ${median(few).toFixed(0)} conn/s with 10 published ports, ${median(many).toFixed(0)} with 10,000 (now ${published})`);
    let throughput = null;
    if (iperfAvailable()) {
      servers.push(iperfServer(srvNs, 5201));
      await waitListening(srvNs, '127.0.0.1', 5201);
      throughput = iperf(clientNs, HOST, 5201, seconds);
      log(`  throughput through published port 5201: ${throughput.toFixed(2)} Gbit/s`);
    }
    return { connPerSec10: median(few), connPerSec10000: median(many), publishedThroughputGbps: throughput };
  } finally {
    servers.forEach(kill);
    for (const c of engine.listContainers(true)) await engine.remove([c.Id], true);
    engine.removeNetwork('dp');
    engine.close();
    deleteNetns(clientNs);
    deleteNetns(hostNs);
    rmSync(root, { recursive: true, force: true });
  }
}

/** The reference portmap plugin: one iptables rule per port in a per-container chain. */
async function portmapPorts({ seconds, rounds, portmapMany = 1000 }, log) {
  const hostNs = newNetns('pmh');
  const clientNs = newNetns('pmc');
  const ctrNs = newNetns('pmx');
  const dataDir = mkdtempSync(join(tmpdir(), 'ctnet-bench-pm-'));
  const chain = cniChain({ hostNs, dataDir, subnet: '10.204.0.0/16' });
  const id = randomBytes(32).toString('hex');
  let server;
  let current;
  const mappings = (n) => [...Array.from({ length: n - 1 }, (_, i) => ({ hostPort: 10001 + i, containerPort: 80, protocol: 'tcp' })), { hostPort: 8000, containerPort: 8080, protocol: 'tcp' }];
  const add = (n) => { current = { ports: mappings(n) }; current.result = chain.add(id, netnsPath(ctrNs), current.ports); };
  const del = () => { chain.del(id, netnsPath(ctrNs), current.ports, current.result); current = undefined; };
  try {
    linkPair(hostNs, HOST, clientNs, CLIENT, 22);
    const few = [], many = [];
    for (let r = 0; r < rounds; r++) {
      add(10);
      if (!server) {
        server = spawnIn(ctrNs, process.execPath, echoServerCommand('pm', 8080).slice(1), { stdio: 'ignore', detached: true });
        await waitListening(ctrNs, '127.0.0.1', 8080);
        connRate(clientNs, 8000, 1); // warm-up, not measured
      }
      few.push(connRate(clientNs, 8000, seconds));
      del();
      // The quick run leaves this out: the plugin runs iptables once per rule, ~70 s for 1,000 rules and back.
      if (!portmapMany) continue;
      add(portmapMany); // the measured port is the last of 1000 rules, as a port published late would be
      many.push(connRate(clientNs, 8000, seconds));
      del();
    }
    log(`  portmap DNAT: ${median(few).toFixed(0)} conn/s with 10 published ports${many.length ? `, ${median(many).toFixed(0)} with 1,000` : ''}`);
    return { connPerSec10: median(few), connPerSec1000: many.length ? median(many) : null };
  } finally {
    if (server) kill(server);
    if (current) try { del(); } catch { /* namespace goes anyway */ }
    for (const ns of [ctrNs, clientNs, hostNs]) deleteNetns(ns);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Container to container over ctnet's bridge, against the physical limit (a bare veth pair) and
 * against a plain Linux bridge with no firewall at all (what any bridge costs on this host).
 */
async function containerThroughput({ seconds, throughputRounds = 2 }, log) {
  if (!iperfAvailable()) return null;
  const hostNs = newNetns('tph');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-tp-'));
  const engine = new Engine({ root, hostNetns: hostNs });
  const a = newNetns('va');
  const b = newNetns('vb');
  const plainHost = newNetns('tpp');
  const pa = newNetns('pa');
  const pb = newNetns('pb');
  const servers = [];
  try {
    engine.createNetwork({ name: 'tp', subnet: '172.29.0.0/24', bridge: 'br0' });
    const s = engine.attach({ name: 'server', network: 'tp' });
    const c = engine.attach({ name: 'client', network: 'tp' });
    const sNs = s.NetworkSettings.SandboxKey.split('/').pop();
    const cNs = c.NetworkSettings.SandboxKey.split('/').pop();
    servers.push(iperfServer(sNs, 5201));
    linkPair(a, '192.0.2.1', b, '192.0.2.2', 24);
    servers.push(iperfServer(b, 5201));
    bridgePair(plainHost, pa, '198.51.100.1', pb, '198.51.100.2', 24);
    servers.push(iperfServer(pb, 5201));
    for (const ns of [sNs, b, pb]) await waitListening(ns, '127.0.0.1', 5201);
    // br_netfilter (loaded on Docker and Kubernetes hosts, built in here) passes every bridged packet
    // through IPv4 netfilter; measure the host as it is and as a host without it (the sysctl is
    // turned off only in the bench's own host namespaces).
    const brnf = readSysctlIn(hostNs, 'net.bridge.bridge-nf-call-iptables');
    const bridged = [], bridgedNoBrnf = [], bare = [], plain = [], plainNoBrnf = [];
    const withoutBrnf = (ns, fn) => {
      runIn(ns, 'sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=0']);
      try {
        return fn();
      } finally {
        runIn(ns, 'sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']);
      }
    };
    for (let r = 0; r < throughputRounds; r++) {
      bridged.push(iperf(cNs, s.NetworkSettings.IPAddress, 5201, seconds));
      plain.push(iperf(pa, '198.51.100.2', 5201, seconds));
      bare.push(iperf(a, '192.0.2.2', 5201, seconds));
      if (brnf === '1') {
        bridgedNoBrnf.push(withoutBrnf(hostNs, () => iperf(cNs, s.NetworkSettings.IPAddress, 5201, seconds)));
        plainNoBrnf.push(withoutBrnf(plainHost, () => iperf(pa, '198.51.100.2', 5201, seconds)));
      }
    }
    log(`  container to container ${median(bridged).toFixed(2)} Gbit/s${brnf === '1' ? ` (br_netfilter on), ${median(bridgedNoBrnf).toFixed(2)} Gbit/s (off)` : ''}; plain bridge ${median(plain).toFixed(2)}${brnf === '1' ? ` / ${median(plainNoBrnf).toFixed(2)}` : ''} Gbit/s; bare veth pair ${median(bare).toFixed(2)} Gbit/s`);
    return {
      containerToContainerGbps: median(bridged),
      containerToContainerNoBrNetfilterGbps: bridgedNoBrnf.length ? median(bridgedNoBrnf) : null,
      brNetfilterActive: brnf === '1',
      bareVethGbps: median(bare),
      plainBridgeGbps: median(plain),
      plainBridgeNoBrNetfilterGbps: plainNoBrnf.length ? median(plainNoBrnf) : null,
    };
  } finally {
    servers.forEach(kill);
    for (const x of engine.listContainers(true)) engine.detach(x.Id);
    engine.removeNetwork('tp');
    engine.close();
    for (const ns of [a, b, pa, pb, plainHost, hostNs]) deleteNetns(ns);
    rmSync(root, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];

export async function benchDatapath(plan, log) {
  const out = { ctnet: await ctnetPorts(plan, log), portmap: null, throughput: null, skipped: [] };
  if (cniAvailable()) out.portmap = await portmapPorts(plan, log); else out.skipped.push('portmap (apt-get install containernetworking-plugins)');
  if (iperfAvailable()) out.throughput = await containerThroughput(plan, log); else out.skipped.push('iperf3 (apt-get install iperf3)');
  return out;
}

