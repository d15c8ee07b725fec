#!/usr/bin/env node
// Two builds of ctnet's CLI against each other: `run -d` and `rm -f` as bench/lib/cli.mjs times
// them, alternating between the builds (ABBA), with `node -e 0` in the same loop. The tool behind
// the before/after figures of docs/PERFORMANCE.md: single runs here move with the machine more than
// most changes do, alternating puts the drift on both.
//
// Run as root: node bench/experiments/cli-ab.mjs --a DIR --b DIR [--runs N]
// DIR: a checkout with its build (npm run build), e.g. a `git worktree` of the commit before.
// Everything is made in a throwaway namespace and state directory and removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkoutArg, numberArg } from '../lib/args.mjs';
import { deleteNetns, newNetns } from '../lib/netns.mjs';
import { nodeEnv } from '../lib/node-env.mjs';
import { summary, timeMs } from '../lib/stats.mjs';

const builds = { A: join(checkoutArg('--a', 'cli-ab'), 'bin', 'ctnet'), B: join(checkoutArg('--b', 'cli-ab'), 'bin', 'ctnet') };
const RUNS = numberArg('--runs', 30);

const hostNs = newNetns('cliab');
const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-cliab-'));
const env = nodeEnv({ CTNET_ROOT: root, CTNET_HOST_NETNS: hostNs });
const ctnet = (bin, args) => {
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr}`);
};
const times = { 'run -d A': [], 'run -d B': [], 'rm -f A': [], 'rm -f B': [], 'node -e 0': [] };
try {
  ctnet(builds.A, ['network', 'create', 'ab', '--subnet', '10.204.0.0/16']);
  for (let i = 0; i < RUNS; i++) {
    for (const k of i % 2 ? ['A', 'B'] : ['B', 'A']) {
      times[`run -d ${k}`].push(timeMs(() => ctnet(builds[k], ['run', '-d', '--name', 'ab', '--network', 'ab', '-p', '21999:80', '--', 'sleep', '600']))[0]);
      times[`rm -f ${k}`].push(timeMs(() => ctnet(builds[k], ['rm', '-f', 'ab']))[0]);
    }
    times['node -e 0'].push(timeMs(() => spawnSync(process.execPath, ['-e', '0'], { env }))[0]);
  }
} finally {
  spawnSync(process.execPath, [builds.A, 'rm', '-f', 'ab'], { env });
  spawnSync(process.execPath, [builds.A, 'network', 'rm', 'ab'], { env });
  deleteNetns(hostNs);
  rmSync(root, { recursive: true, force: true });
}
const node = summary(times['node -e 0']).p50;
for (const [what, t] of Object.entries(times)) {
  const p50 = summary(t).p50;
  console.log(`${what.padEnd(10)} p50 ${p50.toFixed(1)} ms  ${(p50 / node).toFixed(2)}x node -e 0`);
}
