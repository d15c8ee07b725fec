#!/usr/bin/env node
// What the rest of the CLI costs on a host with many containers, beyond the bench's scale rows: N
// network-only containers over K networks (as the bench's scale part; every 33rd publishes a port),
// then each command once, cold, as a user runs it (a new process each; `network create` and `rm`
// also with enable_icc=false and with a segment), and `doctor` through the engine over windows of
// 200 containers: a container's first packet to its gateway, after its neighbour entries expired
// when it has no permanent ones. With 12 networks or more no bench network has a segment (under 900
// containers each), so the bridge table has no forward chain until enable_icc=false or a segment.
//
// Run as root: node bench/experiments/scale-commands.mjs [--checkout DIR] [--containers N] [--networks K] [--windows W]
// DIR: a checkout with its build (npm run build), e.g. a `git worktree` of the commit before; this one by default.
// Everything is made in a throwaway namespace and state directory and removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkoutOrThis, numberArg } from '../lib/args.mjs';
import { deleteNetns, newNetns } from '../lib/netns.mjs';
import { nodeEnv } from '../lib/node-env.mjs';
import { createScaleNetworks, emptyScaleNetworks } from '../lib/scale.mjs';
import { timeMs } from '../lib/stats.mjs';

const checkout = checkoutOrThis();
const TOTAL = numberArg('--containers', 10000);
const NETWORKS = numberArg('--networks', 11);
const WINDOWS = numberArg('--windows', 3);
const WINDOW = 200;
const CTNET = join(checkout, 'bin', 'ctnet');

const { Engine } = await import(pathToFileURL(join(checkout, 'dist', 'index.js')).href);
const hostNs = newNetns('commands');
const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-commands-'));
const env = nodeEnv({ CTNET_ROOT: root, CTNET_HOST_NETNS: hostNs });
const engine = new Engine({ root, hostNetns: hostNs });
const out = (line) => process.stdout.write(`${line}\n`);
const ctnet = (...args) => ctnetWith({}, ...args);
function ctnetWith(extraEnv, ...args) {
  const [ms, r] = timeMs(() => spawnSync(process.execPath, [CTNET, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 1 << 28 }));
  if (r.status !== 0) throw new Error(`ctnet ${args.join(' ')}: ${r.stderr}`);
  out(`  ${args.join(' ').padEnd(44)} ${ms.toFixed(0).padStart(6)} ms`);
}
/** The engine's doctor over a window of containers: how long, how many probes failed, how many took a second or more. */
function doctorWindow(names) {
  let failed = 0, slow = 0;
  const [ms] = timeMs(() => {
    for (const n of names) {
      const [one, d] = timeMs(() => engine.doctor(n));
      if (d.failed) failed++;
      else if (one >= 900) slow++;
    }
  });
  return `${(ms / 1000).toFixed(2)} s, ${failed} failed, ${slow} took a second or more`;
}
try {
  createScaleNetworks(engine, NETWORKS);
  const [fillMs] = timeMs(() => {
    for (let i = 0; i < TOTAL; i++) engine.attach({ name: `bg${i}`, network: `s${i % NETWORKS}`, ...(i % 33 === 0 ? { publish: [`${20000 + i}:80`] } : {}) });
  });
  out(`${checkout}: ${TOTAL} containers on ${NETWORKS} networks, filled in ${(fillMs / 1000).toFixed(1)} s`);
  ctnet('ps');
  ctnet('topology');
  ctnet('topology', '--json');
  ctnet('network', 'create', 'probe', '--subnet', '10.250.0.0/24');
  ctnet('network', 'rm', 'probe');
  // The first network with enable_icc=false, and a first segment (one container a bridge: the
  // second container makes it): each adds the bridge table's forward chain, the last takes it out.
  ctnet('network', 'create', 'probe-icc', '--subnet', '10.250.1.0/24', '-o', 'com.docker.network.bridge.enable_icc=false');
  ctnet('network', 'rm', 'probe-icc');
  ctnet('network', 'create', 'probe-seg', '--subnet', '10.250.2.0/24');
  for (const name of ['seg0', 'seg1']) ctnetWith({ CTNET_SEGMENT_PORTS: '1' }, 'run', '-d', '--name', name, '--network', 'probe-seg', 'sleep', '600');
  ctnet('rm', '-f', 'seg0', 'seg1');
  ctnet('network', 'rm', 'probe-seg');
  ctnet('doctor', 'bg5');
  ctnet('gc');
  // Windows spread over the containers, each used once: their neighbour entries, if dynamic, are cold.
  for (let w = 0; w < WINDOWS; w++) {
    const first = Math.floor((w * TOTAL) / WINDOWS);
    out(`  doctor of bg${first}..bg${first + WINDOW - 1}: ${doctorWindow(Array.from({ length: Math.min(WINDOW, TOTAL - first) }, (_, i) => `bg${first + i}`))}`);
  }
} finally {
  await emptyScaleNetworks(engine, NETWORKS);
  engine.close();
  deleteNetns(hostNs);
  rmSync(root, { recursive: true, force: true });
}
