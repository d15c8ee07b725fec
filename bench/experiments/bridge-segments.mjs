#!/usr/bin/env node
// An experiment, not part of ctnet: can one network hold more than the 1,023 ports of a Linux
// bridge without losing what users rely on (one L2 segment, published ports, enable_icc=false)?
//
// The designs tried here: the network's bridge (br0, in the host namespace, with the gateway)
// keeps up to ~900 containers; further containers go on "segment" bridges joined to br0 by a veth
// trunk each. All L3 work (DNAT, masquerade, forward rules) stays at br0.
// - By default each segment bridge is in a network namespace of its own: the host's br_netfilter
//   and nftables never see frames bridged inside it (the segment's namespace has bridge-nf-call-*
//   off: a per-namespace setting; the host's stays as it is).
// - With --host-bridges the segment bridges are in the host namespace, so the containers' host-side
//   veths stay where ctnet keeps them. What they bridge is left untracked (raw notrack: otherwise
//   a published port's replies, bridged there after br_netfilter, are tracked a second time in the
//   same namespace and NAT remaps the clashing port), and they do not answer ARP (otherwise the host
//   answers for the gateway's address on them with their own MAC, and what a container sends the
//   gateway reaches the host through the segment bridge, untracked and never DNATed).
// In both, br0's end of each trunk is in hairpin mode, guarded (see trunkHairpinGuard): that is
// what lets a container reach a published port of a container behind the same trunk.
// Every bridge, br0 and each segment, stays under the host's receive backlog
// (net.core.netdev_max_backlog, 1,000 by default): a broadcast is queued to all of a bridge's ports
// at once, and past the backlog the gateway's ARP reply is dropped (ctnet refuses a network's
// 1,001st container on one bridge for that reason; ctnet now builds the host-bridges design, see
// src/engine/segments.ts).
//
// What bounds a network with segments: every ARP request is flooded to every port of every bridge
// at once (through the trunks), and what does not fit the backlog is dropped, the gateway's reply
// among it. With --arp-steer (--host-bridges) a request leaves a bridge only by the port its target
// is behind: 4,000 containers on one network (900 on br0, 5 segments of up to 700) passed every
// check; the same 3,000 without it did not reach the gateway from any segment (ctnet now steers
// ARP and ND this way, see src/firewall/ruleset.ts). (--neigh-suppress,
// the bridge's own ARP suppression, does not fit: a request coming in on a suppressed port is
// flooded as usual, and one from an unsuppressed port still floods into the unsuppressed ones.)
//
// Run as root: node bench/experiments/bridge-segments.mjs [--host-bridges] [--static-neighbours [--proxy-arp]] [--neigh-suppress] [--arp-steer] [--containers N] [--direct D] [--segment-size S] [--keep]
// Everything is made in throwaway namespaces (prefix sx<tag>) and removed at the end.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { closeNetns, createNamedNetns, deleteNamedNetns } from '../../dist/kernel/netns.js';
import { inNetns, kernelAt, runIn, spawnIn } from '../lib/netns.mjs';
import { numberArg } from '../lib/args.mjs';

const DESIGN = process.argv.includes('--host-bridges') ? 'host' : 'namespaces';
// Every container knows the gateway's MAC and the host every container's (permanent neighbour
// entries): nothing between a container and its gateway needs an ARP broadcast.
const STATIC_NEIGHBOURS = process.argv.includes('--static-neighbours');
// br0 answers ARP for its containers itself (proxy_arp_wifi on its container ports and trunks,
// from its neighbour table: the static entries) and floods an answered request to none of them.
const PROXY_ARP = process.argv.includes('--proxy-arp');
// br0 answers ARP from its neighbour table for the ports with neigh_suppress (its container ports and
// trunks: the bridge's own ARP/ND suppression, as EVPN uses it), given permanent entries for every
// container on br0 only (the containers keep learning their gateway by ARP). A request for br0's own
// address is not flooded to those ports at all: the flood that fills the backlog does not happen.
const NEIGH_SUPPRESS = process.argv.includes('--neigh-suppress');
// ARP requests steered in the bridge family's forward hook (host bridges only): a flooded copy of
// a request goes out only by the port the asked-for address is behind (a container's own port, the
// trunk of its segment, a segment's trunk towards br0 for br0's side and the gateway); the gateway's
// own copy is delivered to the host by the input path, which this hook does not see. No ARP
// request is then queued to every port of a bridge at once.
const ARP_STEER = process.argv.includes('--arp-steer');
const TOTAL = numberArg('--containers', 2000);
const DIRECT = Math.min(TOTAL, numberArg('--direct', 900));
const SEGMENT = numberArg('--segment-size', 128);
const tag = randomBytes(2).toString('hex');
const H = `sx${tag}h`;
const seg = (k) => `sx${tag}s${k}`;
const ctr = (i) => `sx${tag}c${i}`;
const ipOf = (i) => `10.200.${(i + 2) >> 8}.${(i + 2) & 255}`;
const GW = '10.200.0.1';
/** The network's prefix: a /21 holds 2,046 addresses, a /20 4,094 (10.200.0.0/PREFIX). */
const PREFIX = TOTAL + 2 > 2046 ? 20 : 21;
const macOfIp = (i) => `02:00:0a:c8:${((i + 2) >> 8).toString(16).padStart(2, '0')}:${((i + 2) & 255).toString(16).padStart(2, '0')}`;
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
/** Where segment k's bridge is, its name there, and its end of the trunk to br0. */
const segNs = (k) => (DESIGN === 'host' ? H : seg(k));
const segBridge = (k) => (DESIGN === 'host' ? `sg${k}` : 'seg');
const segTrunk = (k) => (DESIGN === 'host' ? `tb${k}` : 'trunk');
const GW_MAC = '02:00:0a:c8:00:01';

function build() {
  const segments = Math.ceil((TOTAL - DIRECT) / SEGMENT);
  newNs(H);
  if (DESIGN === 'namespaces') for (let k = 0; k < segments; k++) newNs(seg(k));
  for (let i = 0; i < TOTAL; i++) newNs(ctr(i));
  sysctl(H, 'net.ipv4.ip_forward', 1);
  batch(H, ['link set lo up', `link add br0 address ${GW_MAC} type bridge`, `addr add ${GW}/${PREFIX} dev br0`, 'link set br0 up']);
  for (let k = 0; k < segments; k++) {
    if (DESIGN === 'namespaces') {
      // The segment's own namespace: no br_netfilter there (the host's setting is untouched).
      for (const fam of ['iptables', 'ip6tables', 'arptables']) sysctl(seg(k), `net.bridge.bridge-nf-call-${fam}`, 0);
      batch(H, [`link add tr${k} master br0 type veth peer name trunk netns ${seg(k)}`, `link set tr${k} up`]);
    } else {
      batch(H, [`link add tr${k} master br0 type veth peer name ${segTrunk(k)}`, `link set tr${k} up`]);
    }
    // A bridge in the host namespace with ARP on would answer for the host's addresses (the
    // gateway's among them) with its own MAC: what a container then sends the gateway would reach
    // the host through this bridge, untracked and so never DNATed.
    batch(segNs(k), [`link add ${segBridge(k)} type bridge`, ...(DESIGN === 'host' ? [`link set ${segBridge(k)} arp off`] : []), `link set ${segBridge(k)} up`, `link set ${segTrunk(k)} master ${segBridge(k)}`, `link set ${segTrunk(k)} up`]);
  }
  const hostLines = [];
  const segLines = new Map();
  for (let i = 0; i < TOTAL; i++) {
    const k = placeOf(i);
    // Container ports in hairpin mode, as ctnet makes them.
    if (k === null) {
      hostLines.push(`link add v${i} master br0 type veth peer name eth0 address ${macOfIp(i)} netns ${ctr(i)}`, `link set v${i} type bridge_slave hairpin on`, `link set v${i} up`);
    } else {
      hostLines.push(`link add v${i}${DESIGN === 'namespaces' ? ` netns ${seg(k)}` : ''} type veth peer name eth0 address ${macOfIp(i)} netns ${ctr(i)}`);
      if (!segLines.has(k)) segLines.set(k, []);
      segLines.get(k).push(`link set v${i} master ${segBridge(k)}`, `link set v${i} type bridge_slave hairpin on`, `link set v${i} up`);
    }
  }
  batch(H, hostLines);
  for (const [k, lines] of segLines) batch(segNs(k), lines);
  for (let i = 0; i < TOTAL; i++) {
    batch(ctr(i), ['link set lo up', `addr add ${ipOf(i)}/${PREFIX} dev eth0`, 'link set eth0 up', `route add default via ${GW}`,
      ...(STATIC_NEIGHBOURS ? [`neigh replace ${GW} lladdr ${GW_MAC} dev eth0 nud permanent`] : [])]);
  }
  if (STATIC_NEIGHBOURS || NEIGH_SUPPRESS) batch(H, Array.from({ length: TOTAL }, (_, i) => `neigh replace ${ipOf(i)} lladdr ${macOfIp(i)} dev br0 nud permanent`));
  if (NEIGH_SUPPRESS) batch(H, [...Array.from({ length: DIRECT }, (_, i) => `v${i}`), ...Array.from({ length: segments }, (_, k) => `tr${k}`)].map((d) => `link set dev ${d} type bridge_slave neigh_suppress on`));
  if (PROXY_ARP) batch(H, [...Array.from({ length: DIRECT }, (_, i) => `v${i}`), ...Array.from({ length: segments }, (_, k) => `tr${k}`)].map((d) => `link set dev ${d} type bridge_slave proxy_arp_wifi on`));
  return segments;
}

/** Where an ARP request for each address may leave a bridge (see ARP_STEER): interface . address pairs. */
function steerTable(segments) {
  const pairs = [];
  for (let i = 0; i < TOTAL; i++) {
    pairs.push(`"v${i}" . ${ipOf(i)}`);
    const k = placeOf(i);
    if (k !== null) pairs.push(`"tr${k}" . ${ipOf(i)}`);
    for (let s = 0; s < segments; s++) if (s !== k) pairs.push(`"${segTrunk(s)}" . ${ipOf(i)}`);
  }
  for (let s = 0; s < segments; s++) pairs.push(`"${segTrunk(s)}" . ${GW}`);
  return `table bridge sxa {
  set steer { type ifname . ipv4_addr; elements = { ${pairs.join(', ')} } }
  chain forward { type filter hook forward priority -20;
    ether type arp arp operation request oifname . arp daddr ip != @steer drop
  }
}`;
}

const segmentBridges = (segments) => Array.from({ length: segments }, (_, k) => segBridge(k));
const trunks = (segments) => Array.from({ length: segments }, (_, k) => [`tr${k}`, ...(DESIGN === 'host' ? [segTrunk(k)] : [])]).flat();
const set = (xs) => `{ ${xs.map((x) => `"${x}"`).join(', ')} }`;

// The host's firewall as ctnet lays it out for a network: established first, the network's own
// traffic, a published port (8000 on the gateway's address to a container's 8080) with masquerade
// for a container reaching it from the same network. With bridges in the host namespace
// (`untracked` given), what those bridges bridge is left untracked: it is not NATed there, and its
// replies are not tracked a second time in the same namespace.
const hostRules = (target, icc, bridges = ['br0'], untracked = []) => `
table inet sx {
${untracked.length ? `  chain raw { type filter hook prerouting priority raw;\n    iifname ${set(untracked)} notrack accept\n  }\n` : ''}  chain forward { type filter hook forward priority 0; policy drop;
    ct state established,related accept
${bridges.map((b) => `${icc ? '' : `    iifname "${b}" oifname "${b}" ct status dnat accept\n`}    iifname "${b}" oifname "${b}" ${icc ? 'accept' : 'drop'}\n    iifname "${b}" accept`).join('\n')}
${untracked.map((b) => `    iifname "${b}" oifname "${b}" accept`).join('\n')}
  }
  chain pre { type nat hook prerouting priority dstnat;
    fib daddr type local tcp dport 8000 dnat ip to ${target}:8080
  }
  chain post { type nat hook postrouting priority srcnat;
    ip saddr 10.200.0.0/${PREFIX} ip daddr ${target} ct status dnat masquerade
  }
}`;
// enable_icc=false inside a segment's namespace: a bridge-family rule lets a frame through only to
// or from the trunk (br0 then drops container-to-container at its forward hook).
const segmentIsolation = 'table bridge sx { chain isolate { type filter hook forward priority 0;\n iifname != "trunk" oifname != "trunk" drop\n }\n}';
// br0's ends of the trunks in hairpin mode let a connection DNATed at br0 go back to a container
// behind the trunk it came by. br_netfilter bridges a frame addressed to br0 itself (pkttype host)
// on only when DNAT changed its destination; every other frame a hairpin would send back (floods,
// which would teach the segment that its own containers are behind the trunk) is dropped. What br0
// bridges on after DNAT leaves by a trunk with br0's MAC as its source: with the client's own, the
// segment would learn the client behind its trunk and drop the reply to it there (a port does not
// send back where a frame came in), and a segment's isolation (below) takes from a trunk only what
// the gateway sends.
const trunkHairpinGuard = (segments) => `table bridge sxh {
  set hairpins { type ifname . ifname; elements = { ${Array.from({ length: segments }, (_, k) => `"tr${k}" . "tr${k}"`).join(', ')} } }
  set trunks { type ifname; elements = { ${Array.from({ length: segments }, (_, k) => `"tr${k}"`).join(', ')} } }
  chain forward { type filter hook forward priority -10;
    iifname . oifname @hairpins meta pkttype != host drop
    oifname @trunks meta pkttype host ether saddr set ${GW_MAC}
  }
}`;
// enable_icc=false with every bridge in the host namespace, in the bridge family as ctnet has it:
// between two container ports of a bridge nothing but what br_netfilter bridges on after DNAT
// (pkttype host); across a trunk, from a container only what goes to the gateway, is broadcast or
// was DNATed, and towards a container only ARP, what the gateway sends and what was DNATed. (One
// condition a rule: nft 1.0.6 joins `ether saddr != X ether type != arp` into one comparison of
// the eight bytes, true when either differs.)
const hostIsolation = (segments) => {
  const ports = Array.from({ length: TOTAL }, (_, i) => `v${i}`);
  return `table bridge sx {
  set noicc { type ifname; elements = ${set(ports)} }
  set trunks { type ifname; elements = ${set(trunks(segments))} }
  chain isolate { type filter hook forward priority 0;
    iifname @noicc oifname @noicc meta pkttype != host drop
    iifname @noicc oifname @trunks meta pkttype host accept
    iifname @noicc oifname @trunks ether daddr ${GW_MAC} accept
    iifname @noicc oifname @trunks ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 drop
    iifname @trunks oifname @noicc meta pkttype host accept
    iifname @trunks oifname @noicc ether type arp accept
    iifname @trunks oifname @noicc ether saddr != ${GW_MAC} drop
  }
}`;
};

const ping = (from, to) => {
  const r = runIn(from, 'busybox', ['ping', '-c', '2', '-W', '1', to], { timeout: 5000 });
  const ttl = /ttl=(\d+)/.exec(r.stdout)?.[1];
  return { ok: r.status === 0, ttl: ttl ? Number(ttl) : null };
};
const macOf = (ns, dev) => /link\/ether (\S+)/.exec(ip(['-n', ns, 'link', 'show', dev]))[1];
const neighMac = (ns, addr) => /lladdr (\S+)/.exec(ip(['-n', ns, 'neigh', 'show', addr]))?.[1] ?? null;

function tcpServer(ns, port) {
  return spawnIn(ns, process.execPath, ['-e', `require('net').createServer((s) => { s.on('error', () => {}); s.end('hello from ' + require('os').hostname() + '\\n'); }).listen(${port}, '0.0.0.0')`], { stdio: 'ignore', detached: true });
}
/** A TCP connection that reads to the end: 'ok', 'refused', or 'timeout' (no answer in 2 s). */
function tcpWhy(ns, host, port) {
  const probe = `const s = require('net').connect(${port}, '${host}'); s.resume(); s.on('end', () => process.exit(0)); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(2), 2000)`;
  return ['ok', 'refused', 'timeout'][runIn(ns, process.execPath, ['-e', probe], { timeout: 5000 }).status] ?? 'failed';
}
const tcpGet = (ns, host, port) => tcpWhy(ns, host, port) === 'ok';
async function waitServer(ns, host, port) {
  for (let i = 0; i < 100 && !tcpGet(ns, host, port); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Adding one container's port (veth into its bridge) with ctnet's own netlink code, timed. */
function portAddMs(ns, bridge, samples, prefix) {
  const k = kernelAt(ns);
  const times = [];
  try {
    for (let s = 0; s < samples; s++) {
      const c = `sx${tag}${prefix}${s}`;
      newNs(c);
      const t0 = process.hrtime.bigint();
      k.apply({ op: 'veth.add', name: `${prefix}x${s}`, peer: 'eth0', peerNetns: c, mtu: 1500, master: bridge });
      k.apply({ op: 'link.up', name: `${prefix}x${s}` });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    k.close();
    closeNetns(k.kernel.host);
  }
  for (let s = 0; s < samples; s++) {
    deleteNamedNetns(`sx${tag}${prefix}${s}`);
    made.splice(made.indexOf(`sx${tag}${prefix}${s}`), 1);
  }
  return median(times);
}

function iperf(from, toNs, toIp) {
  const server = spawnIn(toNs, 'iperf3', ['-s', '-p', '5201', '-1'], { stdio: 'ignore', detached: true });
  try {
    spawnSync('sleep', ['0.3']);
    const r = runIn(from, 'iperf3', ['-c', toIp, '-p', '5201', '-t', '4', '-J'], { timeout: 20000, maxBuffer: 16 << 20 });
    if (r.status !== 0) return null;
    const bps = JSON.parse(r.stdout).end?.sum_received?.bits_per_second;
    return bps === undefined ? null : bps / 1e9;
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
  if (ARP_STEER) nft(H, steerTable(segments));
  log(`built: ${TOTAL} containers on one /${PREFIX}, ${DIRECT} on br0, ${TOTAL - DIRECT} on ${segments} segment bridge(s) of up to ${SEGMENT} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const ports = Number(ip(['-n', H, 'link', 'show', 'master', 'br0']).split('\n').filter((l) => /^\d+:/.test(l)).length);
  log(`br0 holds ${ports} ports`);

  // The first and the last container of each bridge.
  const ends = [0, DIRECT - 1, ...Array.from({ length: segments }, (_, k) => [DIRECT + k * SEGMENT, Math.min(TOTAL, DIRECT + (k + 1) * SEGMENT) - 1]).flat()];
  const silent = ends.filter((i) => !ping(ctr(i), GW).ok);
  check(`the gateway from the first and last container of br0 and each of the ${segments} segments`, silent.length === 0, silent.length ? `not from ${silent.map(ipOf).join(', ')}` : '');
  const summary = () => {
    const failed = results.filter((r) => !r.ok).length;
    log(`${results.length - failed}/${results.length} checks passed`);
    return failed;
  };
  if (segments === 0) {
    // One bridge: its first container reaches its last directly (an ARP broadcast of their own).
    const p = ping(ctr(0), ipOf(DIRECT - 1));
    check(`L2 on one bridge: ${ipOf(0)} -> ${ipOf(DIRECT - 1)}`, p.ok && p.ttl === 64);
    return summary();
  }
  const d0 = 0, d1 = 1, a = DIRECT, b = DIRECT + 1, e = DIRECT + SEGMENT; // e: the second segment
  const far = e < TOTAL ? e : b;
  // 1. One L2 segment: a container on a segment reaches one on br0 and one on another segment
  //    directly (TTL not decremented, the neighbour entry holds the peer's own MAC).
  for (const [from, to] of [[a, d0], [a, far], [d0, far], [a, b]]) {
    const p = ping(ctr(from), ipOf(to));
    const mac = neighMac(ctr(from), ipOf(to));
    check(`L2: ${ipOf(from)} -> ${ipOf(to)}`, p.ok && p.ttl === 64 && mac === macOf(ctr(to), 'eth0'), `ttl ${p.ttl}, neighbour ${mac}`);
  }

  // 2. Published ports: served on br0 and on a segment, reached from br0, from the same segment,
  //    from another segment and by the serving container itself, with br0's ends of the trunks in
  //    hairpin mode and without. A connection from a segment to a container behind the same trunk
  //    is DNATed at br0 (br_netfilter) and bridged back out the port it came in by.
  const untracked = DESIGN === 'host' ? segmentBridges(segments) : [];
  const rules = (target, icc = true, tracked = ['br0']) => hostRules(target, icc, tracked, tracked.length > 1 ? [] : untracked);
  const setTrunkHairpin = (on) => batch(H, Array.from({ length: segments }, (_, k) => `link set tr${k} type bridge_slave hairpin ${on ? 'on' : 'off'}`));
  const servers = [tcpServer(ctr(d1), 8080), tcpServer(ctr(b), 8080)];
  /** The host's table replaced whole (made first when missing). */
  const loadRules = (table) => nft(H, `add table inet sx\ndelete table inet sx\n${table}`);
  /** Which of `froms` get no answer from the published port, and why. */
  const notAnswering = (froms) => froms.map((f) => [f, tcpWhy(ctr(f), GW, 8000)]).filter(([, why]) => why !== 'ok').map(([f, why]) => `${ipOf(f)} ${why}`);
  const publishedFrom = (target, froms, icc = true) => {
    loadRules(rules(ipOf(target), icc));
    return notAnswering(froms);
  };
  const mac = macOf(ctr(a), 'eth0');
  /** Segment k's forwarding database: where it has learned each MAC. */
  const fdbOf = (k) => JSON.parse(spawnSync('bridge', ['-n', segNs(k), '-j', 'fdb', 'show', 'br', segBridge(k)], { encoding: 'utf8' }).stdout);
  const learnedAt = (k) => fdbOf(k).filter((f) => f.mac === mac).map((f) => f.ifname);
  try {
    await waitServer(ctr(d1), '127.0.0.1', 8080);
    await waitServer(ctr(b), '127.0.0.1', 8080);
    const failing = (list) => (list.length ? `not from ${list.join(', ')}` : 'from all');
    /** The published ports from everywhere, checked; a control expects some to fail. */
    const published = (mode, control = false) => {
      const toBr0 = publishedFrom(d1, [far, a, d0, d1]);
      const toSeg = publishedFrom(b, [a, b, far, d0]);
      if (control) {
        check(`control: ${mode}: some published port does not answer`, toBr0.length + toSeg.length > 0, `on br0 ${failing(toBr0)}; on a segment ${failing(toSeg)}`);
        return;
      }
      check(`published port on br0 from a segment, from br0, itself (${mode})`, toBr0.length === 0, failing(toBr0));
      check(`published port on a segment from the same segment, itself, another segment, br0 (${mode})`, toSeg.length === 0, failing(toSeg));
    };
    // A broadcast from a: its ARP request for d0, and (answered by br0 itself with --proxy-arp, which
    // then floods it nowhere) one for an address nobody has, which every design but --arp-steer
    // floods; and a UDP datagram to the network's broadcast address, which every design floods.
    const broadcast = `10.200.${PREFIX === 20 ? 15 : 7}.255`;
    const learnsOwn = () => {
      ip(['-n', ctr(a), 'neigh', 'flush', 'all']);
      ping(ctr(a), ipOf(d0));
      ping(ctr(a), ipOf(TOTAL + 20));
      const send = `const s = require('dgram').createSocket('udp4'); s.bind(() => { s.setBroadcast(true); s.send('x', 9, '${broadcast}', () => s.close()); })`;
      runIn(ctr(a), process.execPath, ['-e', send], { timeout: 5000 });
      return learnedAt(0);
    };
    published('the trunks not in hairpin mode (a connection from a segment to a container behind the same trunk)', true);
    // br0's ends of the trunks in hairpin mode, with what br0 sends back out a trunk limited to what
    // it DNATed: floods do not come back to the segment that sent them.
    setTrunkHairpin(true);
    nft(H, trunkHairpinGuard(segments));
    published('trunks in hairpin mode, only DNATed frames back');
    const own = learnsOwn();
    check('with the trunks in hairpin mode and the guard, a segment learns its own container on its own port', JSON.stringify(own) === JSON.stringify([`v${a}`]), `learned at ${JSON.stringify(own)}`);
    // The control: hairpin mode alone. Floods come back, the segment learns its own containers
    // behind the trunk and sends their frames to br0, which sends them back.
    nft(H, 'delete table bridge sxh');
    const learned = learnsOwn();
    check('control: without the guard, the segment learns its own container behind the trunk', learned.includes(segTrunk(0)), `learned at ${JSON.stringify(learned)}`);
    published('the trunks in hairpin mode, unguarded', true);
    // From here on, the design as it stands: the trunks in hairpin mode, guarded. What the control
    // taught the segments (their own containers behind the trunk) is forgotten first: it would
    // stand for the bridges' ageing time (300 s) for a container that sends nothing.
    nft(H, trunkHairpinGuard(segments));
    for (let k = 0; k < segments; k++) {
      const wrong = fdbOf(k).filter((f) => f.ifname === segTrunk(k) && !f.state && !(f.flags ?? []).includes('self'));
      if (wrong.length) spawnSync('bridge', ['-n', segNs(k), '-batch', '-'], { input: wrong.map((f) => `fdb del ${f.mac} dev ${segTrunk(k)} master\n`).join('') });
    }

    // 3. enable_icc=false: ctnet's rules (frames between container ports dropped unless br_netfilter
    //    bridges them on after DNAT; what the host forwards within the network passes only DNATed),
    //    and across the trunks: with the segments in their own namespaces, a rule in each and br0's
    //    forward hook (br_netfilter); with the bridges in the host namespace, the bridge table.
    loadRules(rules(ipOf(d1), false));
    if (DESIGN === 'namespaces') for (let k = 0; k < segments; k++) nft(seg(k), segmentIsolation);
    else nft(H, hostIsolation(segments));
    for (const [from, to, what] of [[a, b, 'same segment'], [a, far, 'across segments'], [a, d0, 'segment to br0'], [d0, a, 'br0 to segment'], [d0, d1, 'on br0']]) {
      check(`icc=false blocks ${what}`, !ping(ctr(from), ipOf(to)).ok);
    }
    check('icc=false: the gateway still answers a segment', ping(ctr(a), GW).ok);
    const toBr0 = notAnswering([far, a, d0, d1]);
    check('icc=false: published port on br0 from segments, br0, itself', toBr0.length === 0, failing(toBr0));
    const toSeg = publishedFrom(b, [a, b, far, d0], false);
    check('icc=false: published port on a segment from its segment, itself, another, br0', toSeg.length === 0, failing(toSeg));
    if (DESIGN === 'namespaces') for (let k = 0; k < segments; k++) nft(seg(k), 'delete table bridge sx');
    else nft(H, 'delete table bridge sx');
    loadRules(rules(ipOf(d1)));
    check('control: without the isolation rules, same segment passes', ping(ctr(a), ipOf(b)).ok);

    // Strict reverse-path filtering is the host's choice (ctnet does not set it): with it on, the
    // published port is still reached from a segment, since nothing is routed there.
    sysctl(H, 'net.ipv4.conf.all.rp_filter', 1);
    check('published port from a segment, host with rp_filter=1', tcpGet(ctr(far), GW, 8000));
    sysctl(H, 'net.ipv4.conf.all.rp_filter', 0);

    // 4. The control of the bridges in the host namespace: their traffic tracked like br0's. A
    //    container there reaching the published port is DNATed at that bridge (br_netfilter) and
    //    routed up its IP stack to br0; the replies come back through br0 (un-NATed there) and are
    //    bridged at that bridge, where br_netfilter tracks them a second time in the same namespace
    //    as a new flow whose reply tuple clashes with the first; NAT then gives it another source
    //    port and the container resets the connection (seen with nft monitor trace).
    if (DESIGN === 'host') {
      loadRules(rules(ipOf(d1), true, ['br0', ...segmentBridges(segments)]));
      check('control: segment bridges tracked like br0, L2 to br0 still', ping(ctr(a), ipOf(d0)).ok);
      check('control: segment bridges tracked like br0, the published port fails from a segment', !tcpGet(ctr(far), GW, 8000));
      loadRules(rules(ipOf(d1)));
    } else {
      const x = `sx${tag}x`;
      newNs(x);
      batch(H, ['link add brx type bridge', 'link set brx up', 'link add trx master br0 type veth peer name trx-b', 'link set trx-b master brx', 'link set trx up', 'link set trx-b up',
        `link add vx master brx type veth peer name eth0 netns ${x}`, 'link set vx up']);
      batch(x, ['link set lo up', `addr add 10.200.${(TOTAL + 10) >> 8}.250/${PREFIX} dev eth0`, 'link set eth0 up', `route add default via ${GW}`]);
      loadRules(hostRules(ipOf(d1), true, ['br0', 'brx']));
      check('contrast, bridge in the host namespace, tracked: L2 to br0', ping(x, ipOf(d0)).ok);
      check('contrast, bridge in the host namespace, tracked: its published port fails', !tcpGet(x, GW, 8000));
    }

    // 5. Costs.
    const addBr0 = portAddMs(H, 'br0', 15, 'p');
    const addSeg = segments > 0 ? portAddMs(segNs(segments - 1), segBridge(segments - 1), 15, 'q') : null;
    log(`port add (veth into the bridge, ctnet's netlink code), median of 15: br0 with ${ports} ports ${addBr0.toFixed(2)} ms; a segment with ${Math.min(SEGMENT, TOTAL - DIRECT - (segments - 1) * SEGMENT)} ports ${addSeg?.toFixed(2)} ms`);
    const direct = iperf(ctr(d0), ctr(d1), ipOf(d1));
    const across = iperf(ctr(a), ctr(far), ipOf(far));
    const segToBr0 = iperf(ctr(a), ctr(d1), ipOf(d1));
    const gbit = (x) => (x === null ? 'no connection' : `${x.toFixed(1)} Gbit/s`);
    log(`throughput (iperf3, 4 s): on br0 ${gbit(direct)}; segment to segment ${gbit(across)}; segment to br0 ${gbit(segToBr0)}`);
  } finally {
    for (const s of servers) try { process.kill(-s.pid, 'SIGKILL'); } catch { /* ended */ }
  }
  return summary();
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
