#!/usr/bin/env node
// Two builds of ctnet's engine against each other in one process: attach (one published port) and
// detach as bench/lib/attach.mjs times them, 40 ms apart, alternating between the builds (ABBA),
// and with --floor the kernel floor of bench/lib/floor.mjs between rounds. The tool behind the
// before/after figures of an attach in docs/PERFORMANCE.md: one process, so both builds share the
// machine's moment; single runs move with it more than most changes do.
//
// Run as root: node bench/experiments/engine-ab.mjs --a DIR --b DIR [--samples N] [--rounds K] [--floor]
// DIR: a checkout with its build (npm run build), e.g. a `git worktree` of the commit before.
// Everything is made in throwaway namespaces and state directories and removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkoutArg, numberArg } from '../lib/args.mjs';
import { SETTLE_MS } from '../lib/attach.mjs';
import { benchFloor } from '../lib/floor.mjs';
import { deleteNetns, newNetns } from '../lib/netns.mjs';
import { summary, timeMs } from '../lib/stats.mjs';

const SAMPLES = numberArg('--samples', 100);
const ROUNDS = numberArg('--rounds', 1);
const WARMUP = 5;
const withFloor = process.argv.includes('--floor');

async function engineOf(label, dir, k) {
  const { Engine } = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href);
  const hostNs = newNetns(`engab${k}`);
  const root = mkdtempSync(join(tmpdir(), `ctnet-bench-engab${k}-`));
  const engine = new Engine({ root, hostNetns: hostNs });
  engine.createNetwork({ name: 'ab', subnet: `10.${205 + k}.0.0/16`, bridge: 'br0' });
  return {
    label, engine, attach: [], detach: [],
    close() {
      for (const c of engine.listContainers(true)) engine.detach(c.Id);
      engine.removeNetwork('ab');
      engine.close();
      deleteNetns(hostNs);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const builds = [];
try {
  builds.push(await engineOf('A', checkoutArg('--a', 'engine-ab'), 0), await engineOf('B', checkoutArg('--b', 'engine-ab'), 1));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const b of builds) b.attach.length = b.detach.length = 0;
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      for (const b of i % 2 ? builds : [...builds].reverse()) {
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        const name = `m${i}`;
        const [a] = timeMs(() => b.engine.attach({ name, network: 'ab', publish: [`${20000 + i}:80`] }));
        const [d] = timeMs(() => b.engine.detach(name));
        if (i >= WARMUP) {
          b.attach.push(a);
          b.detach.push(d);
        }
      }
    }
    const [A, B] = builds.map((b) => ({ attach: summary(b.attach).p50, detach: summary(b.detach).p50 }));
    const floor = withFloor ? (await benchFloor({ iterations: SAMPLES }, () => {})).attach.p50 : undefined;
    const vsFloor = (x) => (floor ? ` (${(x / floor).toFixed(2)}x the floor)` : '');
    process.stdout.write(`round ${round}: attach p50 A ${A.attach.toFixed(2)} ms${vsFloor(A.attach)}, B ${B.attach.toFixed(2)} ms${vsFloor(B.attach)}, B/A ${(B.attach / A.attach).toFixed(3)}; `
      + `detach p50 A ${A.detach.toFixed(2)}, B ${B.detach.toFixed(2)} ms, B/A ${(B.detach / A.detach).toFixed(3)}${floor ? `; floor ${floor.toFixed(2)} ms` : ''}\n`);
  }
} finally {
  for (const b of builds) b.close();
}
