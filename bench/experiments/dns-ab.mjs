#!/usr/bin/env node
// Two builds of ctnet's embedded DNS against each other: each build's engine makes the network of
// bench/lib/dns.mjs (1,000 names, a client container) in a host namespace of its own, and dnsperf
// runs against each build's ctnet-dns in turn (ABBA), as the bench runs it against aardvark-dns.
// Single DNS runs here move by up to 2x with the machine; only rounds in turn compare builds.
//
// Run as root: node bench/experiments/dns-ab.mjs --a DIR --b DIR [--rounds K] [--queries N]
// DIR: a checkout with its build (npm run build), e.g. a `git worktree` of the commit before.
// Needs dnsperf (apt-get install dnsperf). Everything is made in throwaway namespaces and removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkoutArg, numberArg } from '../lib/args.mjs';
import { ctnetServer, dnsperf, queryFiles, summarize, waitAnswering } from '../lib/dns.mjs';
import { percentile, round } from '../lib/stats.mjs';

delete process.env.NODE_EXTRA_CA_CERTS; // as the bench: see bench/lib/node-env.mjs
const ROUNDS = numberArg('--rounds', 8);
const plan = { names: 1000, queries: numberArg('--queries', 50000), concurrency: 32 };

const dir = mkdtempSync(join(tmpdir(), 'ctnet-bench-dnsab-'));
const builds = [];
try {
  const { file, one } = queryFiles(dir, plan);
  for (const [label, flag] of [['A', '--a'], ['B', '--b']]) {
    const { Engine } = await import(pathToFileURL(join(checkoutArg(flag, 'dns-ab'), 'dist', 'index.js')).href);
    builds.push({ label, runs: [], ...ctnetServer(plan, Engine, `dnsab${label}`) });
  }
  for (const b of builds) await waitAnswering(b.client, b.server, b.source, one);
  const ratios = { qps: [], p99: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const b of i % 2 ? [...builds].reverse() : builds) b.runs.push(dnsperf(b.client, b.server, b.source, file, plan.concurrency));
    const [a, b] = builds.map((x) => x.runs.at(-1));
    ratios.qps.push(b.qps / a.qps);
    ratios.p99.push(b.p99_ms / a.p99_ms);
    process.stderr.write(`round ${i + 1}: A ${Math.round(a.qps)} q/s p99 ${round(a.p99_ms, 3)} ms, B ${Math.round(b.qps)} q/s p99 ${round(b.p99_ms, 3)} ms\n`);
  }
  for (const b of builds) {
    const s = summarize(b.runs);
    console.log(`${b.label}: ${s.qps} q/s, p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms (medians of ${ROUNDS} rounds)`);
  }
  console.log(`B/A per round, median: queries/s ${round(percentile(ratios.qps, 50), 3)}x, p99 ${round(percentile(ratios.p99, 50), 3)}x`);
} finally {
  for (const b of builds) b.close();
  rmSync(dir, { recursive: true, force: true });
}
