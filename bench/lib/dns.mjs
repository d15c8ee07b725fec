/**
 * The embedded DNS under load: 1,000 container names on a network, queried over UDP for random
 * names by a container of the network (the only clients it answers); queries per second and p99 latency, beside aardvark-dns (Podman's resolver,
 * Debian's podman package) serving the same 1,000 names in the same run.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { deleteNetns, kernelAt, newNetns, runIn, spawnIn } from './netns.mjs';
import { round } from './stats.mjs';

const AARDVARK = '/usr/lib/podman/aardvark-dns';
const LOAD = fileURLToPath(new URL('./dns-load.mjs', import.meta.url));

function load(ns, server, source, { names, queries, concurrency }) {
  const r = runIn(ns, process.execPath, [LOAD, server, source, 'c', String(names), String(queries), String(concurrency)], { timeout: 120_000 });
  if (r.status !== 0) throw new Error(`dns load: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function waitAnswering(ns, server, source) {
  for (let i = 0; i < 100; i++) {
    if (load(ns, server, source, { names: 1, queries: 1, concurrency: 1 }).answered) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no DNS answer from ${server}`);
}

async function ctnetDns(plan) {
  const ns = newNetns('dns');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-dns-'));
  const engine = new Engine({ root, hostNetns: ns });
  try {
    engine.createNetwork({ name: 'bench', subnet: '10.210.0.0/16', bridge: 'br0' });
    // The names c0..c(N-1): container names and aliases, at most 100 per container (a bridge with
    // a thousand ports is a test of its own).
    for (let first = 0; first < plan.names; first += 100) {
      const names = Array.from({ length: Math.min(100, plan.names - first) }, (_, i) => `c${first + i}`);
      engine.attach({ name: names[0], network: 'bench', aliases: names.slice(1) });
    }
    // The DNS answers only containers of the network: the load runs in one's namespace, over its veth.
    const client = engine.attach({ name: 'client', network: 'bench', ip: '10.210.255.254' }).NetworkSettings.SandboxKey;
    await waitAnswering(client, '10.210.0.1', '10.210.255.254');
    return load(client, '10.210.0.1', '10.210.255.254', plan);
  } finally {
    for (const c of engine.listContainers(true)) engine.detach(c.Id);
    engine.removeNetwork('bench');
    engine.close();
    deleteNetns(ns);
    rmSync(root, { recursive: true, force: true });
  }
}

/** aardvark-dns answers only queries from addresses it knows as containers: the client has one of them. */
async function aardvarkDns(plan) {
  const ns = newNetns('aardvark');
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-bench-aardvark-'));
  const k = kernelAt(ns);
  let child;
  try {
    k.apply({ op: 'bridge.add', name: 'br0', mtu: 1500, mac: '02:00:00:00:00:01' });
    k.apply({ op: 'addr.add', dev: 'br0', ip: '10.211.0.1', prefix: 16 });
    k.apply({ op: 'addr.add', dev: 'br0', ip: '10.211.255.254', prefix: 16 });
    k.apply({ op: 'link.up', name: 'br0' });
    const lines = ['10.211.0.1', `${'f'.repeat(64)} 10.211.255.254  client`];
    for (let i = 0; i < plan.names; i++) lines.push(`${i.toString(16).padStart(64, '0')} 10.211.${(i + 2) >> 8}.${(i + 2) & 255}  c${i}`);
    writeFileSync(join(dir, 'bench'), lines.join('\n') + '\n');
    child = spawnIn(ns, AARDVARK, ['--config', dir, '-p', '53', 'run'], { stdio: 'ignore' });
    await waitAnswering(ns, '10.211.0.1', '10.211.255.254');
    return load(ns, '10.211.0.1', '10.211.255.254', plan);
  } finally {
    child?.kill('SIGKILL');
    // `aardvark-dns run` forks into the background: end the server it left, found by its config dir.
    for (const pid of processesMentioning(dir)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    k.close();
    deleteNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PIDs whose command line mentions `text` (the bench's own helpers: their scratch dirs are unique). */
function processesMentioning(text) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export async function benchDns(plan, log) {
  log(`dns: ${plan.names} names, ${plan.queries} queries, ${plan.concurrency} in flight`);
  const ctnet = await ctnetDns(plan);
  log(`  ctnet-dns: ${ctnet.qps} q/s, p99 ${round(ctnet.p99_ms)} ms`);
  const aardvark = existsSync(AARDVARK) ? await aardvarkDns(plan) : null;
  if (aardvark) log(`  aardvark-dns: ${aardvark.qps} q/s, p99 ${round(aardvark.p99_ms)} ms`);
  else log('  aardvark-dns: not installed (apt-get install podman), skipped');
  return { names: plan.names, ctnet, aardvark };
}
