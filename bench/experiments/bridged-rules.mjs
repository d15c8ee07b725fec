#!/usr/bin/env node
// What ctnet's firewall costs traffic between two containers of one network, with br_netfilter on:
// iperf3 between the same two containers while the host namespace's ruleset is swapped in turns
// (nft -f) between variants. The tool behind the container-to-container notes in docs/PERFORMANCE.md.
//
// Run as root: node bench/experiments/bridged-rules.mjs [--rounds N] [--seconds S] [--udp BYTES]
// Variants: ctnet (the ruleset as ctnet made it), before (the same with last round's rule layout:
// the raw chain's notrack rules not ending it, the guard's IPv4 rule after the port and ARP checks,
// the bridge forward chain always there), guard-notrack (bridged traffic untracked by the guard,
// no raw chain: tried and not built) and none (no ruleset at all). Prints each variant's median and
// the median of its per-round ratios to ctnet. TCP by default; --udp BYTES sends datagrams of that
// size as fast as it can and counts those received per second.
// Everything is made in throwaway namespaces and removed at the end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { deleteNetns, newNetns, runIn, spawnIn } from '../lib/netns.mjs';
import { numberArg } from '../lib/args.mjs';
import { percentile } from '../lib/stats.mjs';

const ROUNDS = numberArg('--rounds', 10);
const SECONDS = numberArg('--seconds', 2);
const UDP = numberArg('--udp', 0);

const chainOf = (text, name) => {
  const start = text.indexOf(`\tchain ${name} {`);
  return start < 0 ? '' : text.slice(start, text.indexOf('\t}\n', start) + 3);
};
const IPV4_GUARD = /\t\t(ether type ip )?iifname \. ether saddr \. ip saddr @port_ip accept\n/;
const ARP_GUARD = /\t\t(ether type arp )?iifname \. ether saddr \. arp saddr ether \. arp saddr ip @port_arp accept\n/;

/** The variants as whole rulesets, made from the one ctnet loaded. */
function variants(ctnet, bridgeMac) {
  const ipv4Guard = ctnet.match(IPV4_GUARD)[0];
  const arpGuard = ctnet.match(ARP_GUARD)[0];
  const forward = '\tchain bridge_forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tiifname @no_icc_ports oifname @no_icc_ports drop\n\t}\n';
  let before = ctnet.replaceAll(' notrack accept\n', ' notrack\n').replace(ipv4Guard, '').replace(arpGuard, arpGuard + ipv4Guard);
  if (!before.includes('chain bridge_forward')) {
    const end = before.indexOf('\n}\n', before.indexOf('table bridge ctnet {'));
    before = `${before.slice(0, end + 1)}${forward}${before.slice(end + 1)}`;
  }
  const guardNotrack = ctnet.replace(chainOf(ctnet, 'raw_prerouting'), '')
    .replace(ipv4Guard, ipv4Guard.replace(' accept\n', ` ether daddr != ${bridgeMac} notrack accept\n`) + ipv4Guard);
  return { ctnet, before, 'guard-notrack': guardNotrack, none: '' };
}

function measure(client, serverIp) {
  const args = ['-c', serverIp, '-t', String(SECONDS), '-J', ...(UDP ? ['-u', '-b', '0', '-l', String(UDP)] : [])];
  const r = runIn(client, 'iperf3', args, { timeout: (SECONDS + 15) * 1000, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`iperf3 failed: ${r.stdout.slice(0, 300)}${r.stderr}`);
  const end = JSON.parse(r.stdout).end;
  return UDP ? (end.sum.packets - end.sum.lost_packets) / SECONDS / 1000 : end.sum_received.bits_per_second / 1e9;
}

const host = newNetns('rules');
const root = mkdtempSync(join(tmpdir(), 'ctnet-bridged-rules-'));
const rulesFile = join(root, 'ruleset.nft');
const engine = new Engine({ root, hostNetns: host });
let server;
try {
  engine.createNetwork({ name: 'rules', subnet: '172.30.9.0/24', bridge: 'brrules' });
  const s = engine.attach({ name: 'server', network: 'rules' });
  const c = engine.attach({ name: 'client', network: 'rules' });
  const nsOf = (v) => v.NetworkSettings.SandboxKey.split('/').pop();
  server = spawnIn(nsOf(s), 'iperf3', ['-s', '-p', '5201'], { stdio: 'ignore', detached: true });
  if (runIn(host, 'sysctl', ['-n', 'net.bridge.bridge-nf-call-iptables']).stdout.trim() !== '1') console.log('note: br_netfilter is off in this host namespace');
  const mac = /link\/ether (\S+)/.exec(runIn(host, 'ip', ['link', 'show', 'brrules']).stdout)[1];
  const sets = variants(runIn(host, 'nft', ['list', 'ruleset']).stdout, mac);
  const load = (text) => {
    writeFileSync(rulesFile, `flush ruleset\n${text}`);
    const r = runIn(host, 'nft', ['-f', rulesFile]);
    if (r.status !== 0) throw new Error(`nft -f: ${r.stderr}`);
  };
  await new Promise((r) => setTimeout(r, 300));
  const results = Object.fromEntries(Object.keys(sets).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, text] of Object.entries(sets)) {
      load(text);
      results[name].push(measure(nsOf(c), s.NetworkSettings.IPAddress));
    }
  }
  load(sets.ctnet);
  const unit = UDP ? `k datagrams/s received (${UDP} bytes)` : 'Gbit/s';
  for (const [name, xs] of Object.entries(results)) {
    const ratios = xs.map((x, i) => x / results.ctnet[i]);
    console.log(`${name.padEnd(14)} ${percentile(xs, 50).toFixed(2)} ${unit}; to ctnet ${percentile(ratios, 50).toFixed(3)} (rounds ${ratios.map((x) => x.toFixed(2)).join(' ')})`);
  }
} finally {
  if (server) try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const x of engine.listContainers(true)) engine.detach(x.Id);
  if (engine.hasNetwork('rules')) engine.removeNetwork('rules');
  engine.close();
  deleteNetns(host);
  rmSync(root, { recursive: true, force: true });
}
