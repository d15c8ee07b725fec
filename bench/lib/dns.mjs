/**
 * The embedded DNS under load: 1,000 container names on a network, queried over UDP for random
 * names by a container of the network (the only clients it answers), beside aardvark-dns (Podman's
 * resolver, Debian's podman package) serving the same 1,000 names from a client placed the same way
 * (its own namespace, a veth into the bridge). The load is dnsperf (DNS-OARC's tool, C): a Node
 * load generator saturated its own core before either server did. Both servers run at once and the
 * rounds alternate between them (ABBA), so the machine's drift falls on both; each figure is the
 * median over the rounds.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { deleteNetns, kernelAt, newNetns, runIn, spawnIn } from './netns.mjs';
import { percentile, round } from './stats.mjs';

const AARDVARK = '/usr/lib/podman/aardvark-dns';
const DNSPERF = '/usr/bin/dnsperf';

/** One dnsperf run: `queries` lines of the data file, `concurrency` outstanding; per-query latencies from -v. */
export function dnsperf(ns, server, source, file, concurrency) {
  const r = runIn(ns, DNSPERF, ['-s', server, '-a', source, '-d', file, '-n', '1', '-q', String(concurrency), '-c', '1', '-T', '1', '-t', '1', '-v'], { maxBuffer: 1 << 30, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`dnsperf: ${r.stderr || r.stdout}`.trim());
  const qps = Number(/Queries per second:\s+(\S+)/.exec(r.stdout)?.[1]);
  const latencies = [];
  let answered = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('> ')) continue;
    latencies.push(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000);
    if (line.startsWith('> NOERROR')) answered++;
  }
  return { qps, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), answered, sent: latencies.length };
}

export async function waitAnswering(ns, server, source, file) {
  for (let i = 0; i < 100; i++) {
    try {
      if (dnsperf(ns, server, source, file, 1).answered) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no DNS answer from ${server}`);
}

/**
 * ctnet's network with the names c0..c(N-1) and a client container; returns what the load needs and
 * a cleanup. `EngineOf` is the engine of another build (bench/experiments/dns-ab.mjs).
 */
export function ctnetServer(plan, EngineOf = Engine, tag = 'dns') {
  const ns = newNetns(tag);
  const root = mkdtempSync(join(tmpdir(), `ctnet-bench-${tag}-`));
  const engine = new EngineOf({ root, hostNetns: ns });
  const close = () => {
    for (const c of engine.listContainers(true)) engine.detach(c.Id);
    engine.removeNetwork('bench');
    engine.close();
    deleteNetns(ns);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    engine.createNetwork({ name: 'bench', subnet: '10.210.0.0/16', bridge: 'br0' });
    // Container names and aliases, at most 100 per container (a bridge with a thousand ports is a test of its own).
    for (let first = 0; first < plan.names; first += 100) {
      const names = Array.from({ length: Math.min(100, plan.names - first) }, (_, i) => `c${first + i}`);
      engine.attach({ name: names[0], network: 'bench', aliases: names.slice(1) });
    }
    const client = engine.attach({ name: 'client', network: 'bench', ip: '10.210.255.254' }).NetworkSettings.SandboxKey;
    return { client, server: '10.210.0.1', source: '10.210.255.254', close };
  } catch (err) {
    close();
    throw err;
  }
}

/** aardvark-dns answers only queries from addresses it knows as containers: the client is one. */
function aardvarkServer(plan) {
  const ns = newNetns('aardvark');
  const client = newNetns('aardvark-client');
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-bench-aardvark-'));
  const k = kernelAt(ns);
  let child;
  const close = () => {
    child?.kill('SIGKILL');
    // `aardvark-dns run` forks into the background: end the server it left, found by its config dir.
    for (const pid of processesMentioning(dir)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    k.close();
    deleteNetns(client);
    deleteNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    k.apply({ op: 'bridge.add', name: 'br0', mtu: 1500, mac: '02:00:00:00:00:01' });
    k.apply({ op: 'addr.add', dev: 'br0', ip: '10.211.0.1', prefix: 16 });
    k.apply({ op: 'link.up', name: 'br0' });
    k.apply({ op: 'veth.add', name: 'veth0', peer: 'eth0', peerNetns: client, mtu: 1500, master: 'br0' });
    k.apply({ op: 'link.up', name: 'veth0' });
    k.apply({ op: 'addr.add', dev: 'eth0', ip: '10.211.255.254', prefix: 16, netns: client });
    k.apply({ op: 'link.up', name: 'eth0', netns: client });
    const lines = ['10.211.0.1', `${'f'.repeat(64)} 10.211.255.254  client`];
    for (let i = 0; i < plan.names; i++) lines.push(`${i.toString(16).padStart(64, '0')} 10.211.${(i + 2) >> 8}.${(i + 2) & 255}  c${i}`);
    writeFileSync(join(dir, 'bench'), lines.join('\n') + '\n');
    child = spawnIn(ns, AARDVARK, ['--config', dir, '-p', '53', 'run'], { stdio: 'ignore' });
    return { client, server: '10.211.0.1', source: '10.211.255.254', close };
  } catch (err) {
    close();
    throw err;
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

const median = (values) => percentile(values, 50);

/** The median of each figure over the rounds, with the rounds' own figures beside it. */
export function summarize(runs) {
  return {
    qps: Math.round(median(runs.map((r) => r.qps))),
    p50_ms: round(median(runs.map((r) => r.p50_ms)), 3),
    p99_ms: round(median(runs.map((r) => r.p99_ms)), 3),
    answered: runs.reduce((n, r) => n + r.answered, 0),
    sent: runs.reduce((n, r) => n + r.sent, 0),
    rounds_qps: runs.map((r) => Math.round(r.qps)),
  };
}

/** dnsperf's inputs in `dir`: `plan.queries` A queries for random names of the network, and one for a name it has. */
export function queryFiles(dir, plan) {
  const file = join(dir, 'queries');
  writeFileSync(file, Array.from({ length: plan.queries }, () => `c${Math.floor(Math.random() * plan.names)} A`).join('\n') + '\n');
  const one = join(dir, 'one');
  writeFileSync(one, 'c0 A\n');
  return { file, one };
}

export async function benchDns(plan, log) {
  log(`dns: ${plan.names} names, ${plan.rounds} rounds of ${plan.queries} queries, ${plan.concurrency} in flight (dnsperf)`);
  if (!existsSync(DNSPERF)) {
    log('  dnsperf: not installed (apt-get install dnsperf), skipped');
    return { names: plan.names, skipped: ['dns (apt-get install dnsperf)'] };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-bench-dnsperf-'));
  const servers = [];
  try {
    const { file, one } = queryFiles(dir, plan);
    servers.push({ name: 'ctnet', ...ctnetServer(plan), runs: [] });
    if (existsSync(AARDVARK)) servers.push({ name: 'aardvark', ...aardvarkServer(plan), runs: [] });
    else log('  aardvark-dns: not installed (apt-get install podman), skipped');
    for (const s of servers) await waitAnswering(s.client, s.server, s.source, one);
    for (let i = 0; i < plan.rounds; i++) {
      for (const s of i % 2 ? [...servers].reverse() : servers) s.runs.push(dnsperf(s.client, s.server, s.source, file, plan.concurrency));
    }
    const out = { names: plan.names, loadgen: dnsperfVersion(), rounds: plan.rounds };
    for (const s of servers) {
      out[s.name] = summarize(s.runs);
      log(`  ${s.name === 'ctnet' ? 'ctnet-dns' : 'aardvark-dns'}: ${out[s.name].qps} q/s (rounds: ${out[s.name].rounds_qps.join(', ')}), p50 ${out[s.name].p50_ms} ms, p99 ${out[s.name].p99_ms} ms`);
    }
    out.aardvark ??= null;
    return out;
  } finally {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function dnsperfVersion() {
  const r = spawnSync(DNSPERF, ['-h'], { encoding: 'utf8' });
  return /Version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}
