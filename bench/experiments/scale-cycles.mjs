#!/usr/bin/env node
// What a user's `run -d` and `rm -f` cost on a host with many containers, and what they cost the
// embedded DNS: N network-only containers over K networks (as the bench's scale part), then C cycles
// of `ctnet run -d` of a sleeping container and its `rm -f`, a second apart, through one build's
// CLI; ctnet-dns's CPU time (both threads) over the cycles, read from /proc.
//
// Run as root: node bench/experiments/scale-cycles.mjs [--checkout DIR] [--containers N] [--networks K] [--cycles C]
// DIR: a checkout with its build (npm run build), e.g. a `git worktree` of the commit before; this one by default.
// Everything is made in a throwaway namespace and state directory and removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkoutOrThis, numberArg } from '../lib/args.mjs';
import { deleteNetns, newNetns } from '../lib/netns.mjs';
import { nodeEnv } from '../lib/node-env.mjs';
import { createScaleNetworks, emptyScaleNetworks } from '../lib/scale.mjs';
import { summary, timeMs } from '../lib/stats.mjs';

const checkout = checkoutOrThis();
const TOTAL = numberArg('--containers', 10000);
const NETWORKS = numberArg('--networks', 11);
const CYCLES = numberArg('--cycles', 10);
const CTNET = join(checkout, 'bin', 'ctnet');
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** The ctnet-dns serving this state directory (its node process, not its supervising shell). */
function dnsPid(root) {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[1]?.endsWith('ctnet-dns.mjs') && argv[2] === root) return Number(pid);
    } catch {
      // ended meanwhile
    }
  }
  return undefined;
}

/** A process's user and system CPU time so far, in ms (all its threads). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

const { Engine } = await import(pathToFileURL(join(checkout, 'dist', 'index.js')).href);
const hostNs = newNetns('cycles');
const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-cycles-'));
const env = nodeEnv({ CTNET_ROOT: root, CTNET_HOST_NETNS: hostNs });
const engine = new Engine({ root, hostNetns: hostNs });
const ctnet = (args) => {
  const [ms, r] = timeMs(() => spawnSync(process.execPath, [CTNET, ...args], { env, encoding: 'utf8' }));
  if (r.status !== 0) throw new Error(`ctnet ${args.join(' ')}: ${r.stderr}`);
  return ms;
};
try {
  createScaleNetworks(engine, NETWORKS);
  const [fillMs] = timeMs(() => {
    for (let i = 0; i < TOTAL; i++) engine.attach({ name: `bg${i}`, network: `s${i % NETWORKS}` });
  });
  const pid = dnsPid(root);
  if (pid === undefined) throw new Error('no ctnet-dns serves the networks');
  await new Promise((r) => setTimeout(r, 1000));
  const before = cpuMs(pid);
  const run = [], rm = [];
  for (let i = 0; i < CYCLES; i++) {
    run.push(ctnet(['run', '-d', '--name', `cycle${i}`, '--network', 's0', '--', 'sleep', '600']));
    rm.push(ctnet(['rm', '-f', `cycle${i}`]));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const dnsMs = (cpuMs(pid) - before) / CYCLES;
  const p50 = (xs) => summary(xs).p50.toFixed(1);
  process.stdout.write(`${checkout}: ${TOTAL} containers on ${NETWORKS} networks, filled in ${(fillMs / 1000).toFixed(1)} s; `
    + `${CYCLES} cycles: run -d p50 ${p50(run)} ms, rm -f p50 ${p50(rm)} ms, ctnet-dns CPU ${dnsMs.toFixed(0)} ms a cycle\n`);
} finally {
  await emptyScaleNetworks(engine, NETWORKS);
  engine.close();
  deleteNetns(hostNs);
  rmSync(root, { recursive: true, force: true });
}
