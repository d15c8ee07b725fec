#!/usr/bin/env node
// One network with N containers through the engine (beyond 900 they go on segments of 900) and
// whether it still works as one: the gateway from the first and the last container of every
// bridge, each bridge's first container to the last container of the next bridge and of the
// network's bridge, both after every side forgot its neighbours. With --no-steer the bridge
// table's ARP/ND steering rules are taken out first (the control: the request flooded into every
// segment overruns the receive backlog). With --ipv6 the network is dual stack and every check is
// made over IPv6 too (neighbour solicitations are steered the same way). Prints the checks, the
// attach times, and how long it all took.
//
// Run as root: node bench/experiments/network-crowd.mjs [--containers N] [--no-steer] [--ipv6]
// Everything is made in a throwaway namespace and removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { numberArg } from '../lib/args.mjs';
import { percentile } from '../lib/stats.mjs';

const TOTAL = numberArg('--containers', 5000);
const STEER = !process.argv.includes('--no-steer');
const IPV6 = process.argv.includes('--ipv6');
const host = `ctcrowd-${randomBytes(3).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'ctnet-crowd-'));
const started = performance.now();

/** A TCP connect to port 9 answered at all (a refusal counts: ARP and the route worked). */
function answers(netns, ip) {
  const script = "const s = require('net').connect(9, process.argv[1]); s.on('connect', () => process.exit(0)); s.on('error', (e) => process.exit(e.code === 'ECONNREFUSED' ? 0 : 1)); setTimeout(() => process.exit(1), 5000)";
  return spawnSync('ip', ['netns', 'exec', netns, process.execPath, '-e', script, ip], { timeout: 8000 }).status === 0;
}

execFileSync('ip', ['netns', 'add', host]);
const engine = new Engine({ root, hostNetns: host });
try {
  engine.createNetwork({ name: 'crowd', subnet: '10.96.0.0/16', bridge: 'brcrowd', ...(IPV6 ? { subnet6: 'fd00:96::/64' } : {}) });
  const attach = [];
  for (let i = 0; i < TOTAL; i++) {
    const t = performance.now();
    engine.attach({ name: `c${i}`, network: 'crowd' });
    attach.push(performance.now() - t);
  }
  const fill = (performance.now() - started) / 1000;
  const containers = engine.listContainers(true);
  const byName = new Map(containers.map((c) => [c.Name, c]));
  const links = JSON.parse(execFileSync('ip', ['-n', host, '-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  const bridgeOf = new Map(links.filter((l) => l.master).map((l) => [l.ifname, l.master]));
  // Containers per bridge, in attach order.
  const bridges = new Map();
  for (let i = 0; i < TOTAL; i++) {
    const b = bridgeOf.get(byName.get(`c${i}`).NetworkSettings.HostVeth);
    bridges.set(b, [...(bridges.get(b) ?? []), `c${i}`]);
  }
  console.log(`${TOTAL} containers: ${[...bridges].map(([b, cs]) => `${b} ${cs.length}`).join(', ')}; filled in ${fill.toFixed(0)} s`);
  console.log(`attach p50 ${percentile(attach, 50).toFixed(2)} ms, first 100 ${percentile(attach.slice(0, 100), 50).toFixed(2)} ms, last 100 ${percentile(attach.slice(-100), 50).toFixed(2)} ms`);
  if (!STEER) {
    const rules = ['bridge_forward', 'bridge_output'].flatMap((chain) => JSON.parse(execFileSync('ip', ['netns', 'exec', host, 'nft', '-j', '-a', 'list', 'chain', 'bridge', 'ctnet', chain], { encoding: 'utf8' }))
      .nftables.filter((o) => o.rule && /port_(arp|nd)_targets/.test(JSON.stringify(o.rule.expr))));
    execFileSync('ip', ['netns', 'exec', host, 'nft', '-f', '-'], { input: rules.map((o) => `delete rule bridge ctnet ${o.rule.chain} handle ${o.rule.handle}\n`).join('') });
    console.log(`steering rules taken out: ${rules.length}`);
  }
  const nsOf = (name) => byName.get(name).NetworkSettings.SandboxKey.split('/').at(-1);
  /** A container's addresses: IPv4, and with --ipv6 its IPv6 one too; the gateway's likewise. */
  const addrsOf = (name) => [byName.get(name).NetworkSettings.IPAddress, ...(IPV6 ? [byName.get(name).NetworkSettings.GlobalIPv6Address] : [])];
  const gateways = ['10.96.0.1', ...(IPV6 ? ['fd00:96::1'] : [])];
  const forget = (name) => {
    execFileSync('ip', ['-n', nsOf(name), 'neigh', 'flush', 'all']);
    execFileSync('ip', ['-n', host, 'neigh', 'flush', 'all']);
  };
  let passed = 0;
  let failed = 0;
  const check = (what, ok) => {
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  };
  /** From one container to each of a list of addresses, every side's neighbours forgotten before each. */
  const reach = (from, what, addrs) => {
    for (const addr of addrs) {
      forget(from);
      check(`${from} ${what} ${addr}`, answers(nsOf(from), addr));
    }
  };
  const order = [...bridges.keys()];
  for (const [k, b] of order.entries()) {
    const cs = bridges.get(b);
    for (const c of [cs[0], cs.at(-1)]) reach(c, `(${b}) -> gateway`, gateways);
    // The next bridge's last container (the last bridge's: the first segment's).
    const nk = k + 1 < order.length ? k + 1 : Math.min(1, order.length - 1);
    const next = bridges.get(order[nk]).at(-1);
    reach(cs[0], `(${b}) -> ${next} (${order[nk]})`, addrsOf(next));
    const home = bridges.get(order[0]).at(-1);
    if (k > 0) reach(cs[0], `(${b}) -> ${home} (${order[0]})`, addrsOf(home));
  }
  console.log(`${passed}/${passed + failed} checks passed${STEER ? '' : ' without steering'}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
} finally {
  for (const c of engine.listContainers(true)) engine.detach(c.Id);
  if (engine.hasNetwork('crowd')) engine.removeNetwork('crowd');
  engine.close();
  execFileSync('ip', ['netns', 'del', host]);
  rmSync(root, { recursive: true, force: true });
}
