#!/usr/bin/env node
// Where an attach's time goes at N attached containers: every kernel operation of the measured
// attaches timed in-process (the applier's calls), their medians, and what is left outside them
// (state, planning, locking). The tool behind the per-operation figures in docs/PERFORMANCE.md.
//
// Run as root: node bench/experiments/attach-ops.mjs [--containers N] [--networks K] [--samples M] [--gap MS] [--publish] [--ipv6]
// N containers are spread over K networks (beyond 900 a network's containers go on segments);
// then M containers are attached to the first network and detached again, MS apart (100; 0: back to back).
// Everything is made in a throwaway namespace and removed at the end.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { KernelApplier } from '../../dist/engine/applier.js';
import { numberArg } from '../lib/args.mjs';
import { percentile } from '../lib/stats.mjs';

const TOTAL = numberArg('--containers', 999);
const NETWORKS = numberArg('--networks', 1);
const SAMPLES = numberArg('--samples', 20);
const GAP = numberArg('--gap', 100);
const publish = process.argv.includes('--publish');
// Dual-stack networks (an IPv6 subnet beside each IPv4 one).
const ipv6 = process.argv.includes('--ipv6');

// Each operation's time, keyed by its kind (and sysctl name, and whether it is in the container's namespace).
const times = new Map();
let measuring = false;
const apply = KernelApplier.prototype.apply;
KernelApplier.prototype.apply = function timed(op) {
  const start = performance.now();
  try {
    return apply.call(this, op);
  } finally {
    if (measuring) {
      const key = `${op.op}${op.key ? ` ${op.key.split('/').at(-1)}` : ''}${op.netns ? ' (container)' : ''}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key).push(performance.now() - start);
    }
  }
};

const host = `ctops-${randomBytes(3).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'ctnet-attach-ops-'));
execFileSync('ip', ['netns', 'add', host]);
const engine = new Engine({ root, hostNetns: host });
try {
  const filling = performance.now();
  const per = Math.ceil(TOTAL / NETWORKS);
  for (let n = 0; n < NETWORKS; n++) {
    engine.createNetwork({ name: `n${n}`, subnet: `10.${100 + n}.0.0/${TOTAL / NETWORKS > 2000 ? 16 : 21}`, bridge: `brops${n}`, ...(ipv6 ? { subnet6: `fd00:${100 + n}::/64` } : {}) });
    for (let i = 0; i < per && n * per + i < TOTAL; i++) {
      engine.attach({ name: `c${n}-${i}`, network: `n${n}`, ...(publish ? { publish: [`${20000 + n * 1000 + i}:80`] } : {}) });
    }
  }
  console.log(`filled in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
  // The fill's namespaces are still being cleaned up by the kernel for a while.
  await new Promise((r) => setTimeout(r, 3000));
  const attach = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (GAP) await new Promise((r) => setTimeout(r, GAP));
    measuring = true;
    const start = performance.now();
    engine.attach({ name: `m${i}`, network: 'n0', ...(publish ? { publish: ['65000:80'] } : {}) });
    attach.push(performance.now() - start);
    measuring = false;
    engine.detach(`m${i}`);
  }
  let kernel = 0;
  for (const [key, xs] of times) {
    const each = percentile(xs, 50);
    kernel += (each * xs.length) / SAMPLES;
    console.log(`${key.padEnd(36)} ${each.toFixed(2)} ms x${xs.length / SAMPLES}`);
  }
  const a = percentile(attach, 50);
  const mean = attach.reduce((x, y) => x + y) / SAMPLES;
  console.log(`attach mean ${mean.toFixed(2)} ms`);
  console.log(`attach p50 at ${TOTAL} containers over ${NETWORKS} network(s): ${a.toFixed(2)} ms; kernel operations ~${kernel.toFixed(2)} ms, the rest ~${(a - kernel).toFixed(2)} ms`);
} finally {
  for (const c of engine.listContainers(true)) engine.detach(c.Id);
  for (let n = 0; n < NETWORKS; n++) if (engine.hasNetwork(`n${n}`)) engine.removeNetwork(`n${n}`);
  engine.close();
  execFileSync('ip', ['netns', 'del', host]);
  rmSync(root, { recursive: true, force: true });
}
