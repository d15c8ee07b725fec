#!/usr/bin/env node
// An experiment, not part of ctnet: can one network hold more than the 1,023 ports of a Linux
// bridge without losing what users rely on (one L2 segment, published ports, enable_icc=false)?
//
// The design tried here: the network's bridge (br0, in the host namespace, with the gateway) keeps
// up to ~900 containers; further containers go on "segment" bridges, each in a network namespace
// of its own, joined to br0 by a veth trunk. Because a segment bridge is in its own namespace, the
// host's br_netfilter and nftables never see frames bridged inside it (the segment's namespace has
// bridge-nf-call-* off: a per-namespace setting; the host's stays as it is), and connection
// tracking happens once, at br0. All L3 work (DNAT, masquerade, forward rules) stays at br0.
// Every bridge, br0 and each segment, stays under the host's receive backlog
// (net.core.netdev_max_backlog, 1,000 by default): a broadcast is queued to all of a bridge's ports
// at once, and past the backlog the gateway's ARP reply is dropped (ctnet refuses a network's
// 1,001st container for that reason). Beside it, for contrast, the simpler design: a further bridge
// in the host namespace itself.
//
// Run as root: node bench/experiments/bridge-segments.mjs [--containers N] [--direct D] [--segment-size S] [--keep]
// Everything is made in throwaway namespaces (prefix sx<tag>) and removed at the end.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { closeNetns, createNamedNetns, deleteNamedNetns } from '../../dist/kernel/netns.js';
import { inNetns, kernelAt, runIn, spawnIn } from '../lib/netns.mjs';
import { numberArg } from '../lib/args.mjs';

const TOTAL = numberArg('--containers', 2000);
const DIRECT = Math.min(TOTAL, numberArg('--direct', 900));
const SEGMENT = numberArg('--segment-size', 128);
const tag = randomBytes(2).toString('hex');
const H = `sx${tag}h`;
const seg = (k) => `sx${tag}s${k}`;
const ctr = (i) => `sx${tag}c${i}`;
const ipOf = (i) => `10.200.${(i + 2) >> 8}.${(i + 2) & 255}`;
const GW = '10.200.0.1';
const made = [];

const log = (s) => process.stdout.write(`${s}\n`);
function ip(args, input) {
  const r = spawnSync('ip', args, { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  return r.stdout;
}
const batch = (ns, lines) => (lines.length ? ip(ns ? ['-n', ns, '-batch', '-'] : ['-batch', '-'], `${lines.join('\n')}\n`) : '');
function newNs(name) {
  createNamedNetns(name);
  made.push(name);
  // IPv6 off, as ctnet does: otherwise every new interface's DAD, MLD and router solicitations
  // are flooded to every port, and with ~1,000 ports that storm holds the bridge for seconds.
  inNetns(name, () => {
    for (const conf of ['all', 'default']) writeFileSync(`/proc/sys/net/ipv6/conf/${conf}/disable_ipv6`, '1');
  });
}
const nft = (ns, rules) => {
  const r = runIn(ns, 'nft', ['-f', '-'], { input: rules });
  if (r.status !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
};
const sysctl = (ns, key, value) => {
  const r = runIn(ns, 'sysctl', ['-qw', `${key}=${value}`]);
  if (r.status !== 0) throw new Error(`sysctl ${key} in ${ns}: ${r.stderr}`);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Which bridge container i hangs on: br0 for the first DIRECT, then segments of SEGMENT. */
const placeOf = (i) => (i < DIRECT ? null : Math.floor((i - DIRECT) / SEGMENT));

function build() {
  const segments = Math.ceil((TOTAL - DIRECT) / SEGMENT);
  newNs(H);
  for (let k = 0; k < segments; k++) newNs(seg(k));
  for (let i = 0; i < TOTAL; i++) newNs(ctr(i));
  sysctl(H, 'net.ipv4.ip_forward', 1);
  batch(H, ['link set lo up', 'link add br0 address 02:00:0a:c8:00:01 type bridge', `addr add ${GW}/21 dev br0`, 'link set br0 up']);
  for (let k = 0; k < segments; k++) {
    // The segment's own namespace: no br_netfilter there (the host's setting is untouched).
    for (const fam of ['iptables', 'ip6tables', 'arptables']) sysctl(seg(k), `net.bridge.bridge-nf-call-${fam}`, 0);
    batch(H, [`link add tr${k} master br0 type veth peer name trunk netns ${seg(k)}`, `link set tr${k} up`]);
    batch(seg(k), ['link add seg type bridge', 'link set seg up', 'link set trunk master seg', 'link set trunk up']);
  }
  const hostLines = [];
  const segLines = new Map();
  for (let i = 0; i < TOTAL; i++) {
    const k = placeOf(i);
    if (k === null) {
      hostLines.push(`link add v${i} master br0 type veth peer name eth0 netns ${ctr(i)}`, `link set v${i} up`);
    } else {
      hostLines.push(`link add v${i} netns ${seg(k)} type veth peer name eth0 netns ${ctr(i)}`);
      if (!segLines.has(k)) segLines.set(k, []);
      segLines.get(k).push(`link set v${i} master seg`, `link set v${i} up`);
    }
  }
  batch(H, hostLines);
  for (const [k, lines] of segLines) batch(seg(k), lines);
  for (let i = 0; i < TOTAL; i++) {
    batch(ctr(i), ['link set lo up', `addr add ${ipOf(i)}/21 dev eth0`, 'link set eth0 up', `route add default via ${GW}`]);
  }
  // The host's firewall as ctnet lays it out for a network: established first, the network's own
  // traffic, a published port (8000 on the gateway's address to a container's 8080) with masquerade
  // for a container reaching it from the same network.
  return segments;
}

const hostRules = (target, icc, bridges = ['br0']) => `
table inet sx {
  chain forward { type filter hook forward priority 0; policy drop;
    ct state established,related accept
${bridges.map((b) => `    iifname "${b}" oifname "${b}" ${icc ? 'accept' : 'drop'}\n    iifname "${b}" accept`).join('\n')}
  }
  chain pre { type nat hook prerouting priority dstnat;
    fib daddr type local tcp dport 8000 dnat ip to ${target}:8080
  }
  chain post { type nat hook postrouting priority srcnat;
    ip saddr 10.200.0.0/21 ip daddr ${target} ct status dnat masquerade
  }
}`;
// enable_icc=false inside a segment: a bridge-family rule in the segment's namespace lets a frame
// through only to or from the trunk (br0 then drops container-to-container at its forward hook).
const segmentIsolation = 'table bridge sx { chain isolate { type filter hook forward priority 0;\n iifname != "trunk" oifname != "trunk" drop\n }\n}';

const ping = (from, to) => {
  const r = runIn(from, 'busybox', ['ping', '-c', '2', '-W', '1', to], { timeout: 5000 });
  const ttl = /ttl=(\d+)/.exec(r.stdout)?.[1];
  return { ok: r.status === 0, ttl: ttl ? Number(ttl) : null };
};
const macOf = (ns, dev) => /link\/ether (\S+)/.exec(ip(['-n', ns, 'link', 'show', dev]))[1];
const neighMac = (ns, addr) => /lladdr (\S+)/.exec(ip(['-n', ns, 'neigh', 'show', addr]))?.[1] ?? null;

function tcpServer(ns, port) {
  return spawnIn(ns, process.execPath, ['-e', `require('net').createServer((s) => s.end('hello from ' + require('os').hostname() + '\\n')).listen(${port}, '0.0.0.0')`], { stdio: 'ignore', detached: true });
}
function tcpGet(ns, host, port) {
  const probe = `const s = require('net').connect(${port}, '${host}'); let d = ''; s.on('data', (c) => (d += c)); s.on('end', () => { console.log('ok'); process.exit(0); }); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(2), 2000)`;
  return runIn(ns, process.execPath, ['-e', probe], { timeout: 5000 }).status === 0;
}
async function waitServer(ns, host, port) {
  for (let i = 0; i < 100 && !tcpGet(ns, host, port); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Adding one container's port (veth into its bridge) with ctnet's own netlink code, timed. */
function portAddMs(ns, bridge, samples) {
  const k = kernelAt(ns);
  const times = [];
  try {
    for (let s = 0; s < samples; s++) {
      const c = `sx${tag}p${s}`;
      newNs(c);
      const t0 = process.hrtime.bigint();
      k.apply({ op: 'veth.add', name: `px${s}`, peer: 'eth0', peerNetns: c, mtu: 1500, master: bridge });
      k.apply({ op: 'link.up', name: `px${s}` });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    k.close();
    closeNetns(k.kernel.host);
  }
  for (let s = 0; s < samples; s++) {
    deleteNamedNetns(`sx${tag}p${s}`);
    made.splice(made.indexOf(`sx${tag}p${s}`), 1);
  }
  return median(times);
}

function iperf(from, toNs, toIp) {
  const server = spawnIn(toNs, 'iperf3', ['-s', '-p', '5201', '-1'], { stdio: 'ignore', detached: true });
  try {
    spawnSync('sleep', ['0.3']);
    const r = runIn(from, 'iperf3', ['-c', toIp, '-p', '5201', '-t', '4', '-J'], { timeout: 20000, maxBuffer: 16 << 20 });
    if (r.status !== 0) return null;
    return JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
  } finally {
    try { process.kill(-server.pid, 'SIGKILL'); } catch { /* ended */ }
  }
}

async function main() {
  const results = [];
  const check = (name, ok, detail = '') => {
    results.push({ name, ok });
    log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
  };
  const t0 = Date.now();
  const segments = build();
  log(`built: ${TOTAL} containers on one /21, ${DIRECT} on br0, ${TOTAL - DIRECT} on ${segments} segment bridge(s) of up to ${SEGMENT} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const ports = Number(ip(['-n', H, 'link', 'show', 'master', 'br0']).split('\n').filter((l) => /^\d+:/.test(l)).length);
  log(`br0 holds ${ports} ports`);

  const d0 = 0, d1 = 1, a = DIRECT, b = DIRECT + 1, e = DIRECT + SEGMENT; // e: the second segment
  const far = e < TOTAL ? e : b;
  // 1. One L2 segment: a container on a segment reaches one on br0 and one on another segment
  //    directly (TTL not decremented, the neighbour entry holds the peer's own MAC).
  for (const [from, to] of [[a, d0], [a, far], [d0, far], [a, b]]) {
    const p = ping(ctr(from), ipOf(to));
    const mac = neighMac(ctr(from), ipOf(to));
    check(`L2: ${ipOf(from)} -> ${ipOf(to)}`, p.ok && p.ttl === 64 && mac === macOf(ctr(to), 'eth0'), `ttl ${p.ttl}, neighbour ${mac}`);
  }
  const firstOf = Array.from({ length: segments }, (_, k) => DIRECT + k * SEGMENT);
  const silent = firstOf.filter((i) => !ping(ctr(i), GW).ok);
  check(`the gateway from each of the ${segments} segments`, silent.length === 0, silent.length ? `not from ${silent.map(ipOf).join(', ')}` : '');

  // 2. A published port, reached from a container on a segment, served by one on another segment.
  nft(H, hostRules(ipOf(d1), true));
  const servers = [tcpServer(ctr(d1), 8080)];
  try {
    await waitServer(ctr(d1), '127.0.0.1', 8080);
    check('published port from a segment (hairpin through br0)', tcpGet(ctr(far), GW, 8000));
    check('published port from br0 itself', tcpGet(ctr(d0), GW, 8000));

    // 3. enable_icc=false: host forward drop at br0 plus the segments' bridge rule.
    nft(H, `delete table inet sx\n${hostRules(ipOf(d1), false)}`);
    for (let k = 0; k < segments; k++) nft(seg(k), segmentIsolation);
    for (const [from, to, what] of [[a, b, 'same segment'], [a, far, 'across segments'], [a, d0, 'segment to br0'], [d0, a, 'br0 to segment'], [d0, d1, 'on br0']]) {
      check(`icc=false blocks ${what}`, !ping(ctr(from), ipOf(to)).ok);
    }
    check('icc=false: the gateway still answers a segment', ping(ctr(a), GW).ok);
    for (let k = 0; k < segments; k++) nft(seg(k), 'delete table bridge sx');
    check('control: without the segment rule, same segment passes', ping(ctr(a), ipOf(b)).ok);
    nft(H, `delete table inet sx\n${hostRules(ipOf(d1), true)}`);

    // Strict reverse-path filtering is the host's choice (ctnet does not set it): with it on, the
    // published port is still reached from a segment, since nothing is routed there.
    sysctl(H, 'net.ipv4.conf.all.rp_filter', 1);
    check('published port from a segment, host with rp_filter=1', tcpGet(ctr(far), GW, 8000));
    sysctl(H, 'net.ipv4.conf.all.rp_filter', 0);

    // 4. The simpler design for contrast: a further bridge in the host namespace, trunked to br0,
    //    with the network's rules extended to it. A container there reaching the published port is
    //    DNATed at that bridge (br_netfilter) and routed up its IP stack to br0; the replies come
    //    back through br0 (un-NATed there) and are bridged at that bridge, where br_netfilter tracks
    //    them a second time in the same namespace as a new flow whose reply tuple clashes with the
    //    first; NAT then gives it another source port and the container resets the connection
    //    (seen with nft monitor trace). The segments' own namespaces keep a single conntrack here.
    const x = `sx${tag}x`;
    newNs(x);
    batch(H, ['link add brx type bridge', 'link set brx up', 'link add trx master br0 type veth peer name trx-b', 'link set trx-b master brx', 'link set trx up', 'link set trx-b up',
      `link add vx master brx type veth peer name eth0 netns ${x}`, 'link set vx up']);
    batch(x, ['link set lo up', 'addr add 10.200.7.250/21 dev eth0', 'link set eth0 up', `route add default via ${GW}`]);
    nft(H, `delete table inet sx\n${hostRules(ipOf(d1), true, ['br0', 'brx'])}`);
    check('contrast, bridge in the host namespace: L2 to br0', ping(x, ipOf(d0)).ok);
    check('contrast, bridge in the host namespace: its published port fails', !tcpGet(x, GW, 8000));

    // 5. Costs.
    const addBr0 = portAddMs(H, 'br0', 15);
    const addSeg = segments > 0 ? portAddMs(seg(segments - 1), 'seg', 15) : null;
    log(`port add (veth into the bridge, ctnet's netlink code), median of 15: br0 with ${ports} ports ${addBr0.toFixed(2)} ms; a segment with ${Math.min(SEGMENT, TOTAL - DIRECT - (segments - 1) * SEGMENT)} ports ${addSeg?.toFixed(2)} ms`);
    const direct = iperf(ctr(d0), ctr(d1), ipOf(d1));
    const across = iperf(ctr(a), ctr(far), ipOf(far));
    const segToBr0 = iperf(ctr(a), ctr(d1), ipOf(d1));
    log(`throughput (iperf3, 4 s): on br0 ${direct?.toFixed(1)} Gbit/s; segment to segment ${across?.toFixed(1)}; segment to br0 ${segToBr0?.toFixed(1)}`);
  } finally {
    for (const s of servers) try { process.kill(-s.pid, 'SIGKILL'); } catch { /* ended */ }
  }
  const failed = results.filter((r) => !r.ok).length;
  log(`${results.length - failed}/${results.length} checks passed`);
  return failed;
}

let failed = 1;
try {
  failed = await main();
} finally {
  if (process.argv.includes('--keep')) {
    log(`kept: host namespace ${H}; remove with: ip netns | grep -o '^sx${tag}[a-z0-9]*' | sed 's/^/netns del /' | ip -batch -`);
    process.exit(failed ? 1 : 0);
  }
  const t = Date.now();
  batch(null, made.map((n) => `netns del ${n}`));
  log(`removed ${made.length} namespaces (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}
process.exitCode = failed ? 1 : 0;
