#!/usr/bin/env node
// Does a V8 startup snapshot (Node 20's --build-snapshot) start ctnet's commands faster than the
// bundle compiled from its code cache (bin/ctnet)? And does a young generation large enough that a
// command never collects it (--min-semi-space-size) help? Issue 18 names both among what Node 20
// offers against its own start.
//
// The snapshot is built from this checkout's bundle: its modules' top levels run at build time and
// the command line is parsed when the snapshot starts (`node --snapshot-blob BLOB x ARGS`). A
// snapshot's builder can require only Node's built-in modules, so the native addons (better-sqlite3,
// koffi) are loaded by path through a stand-in for createRequire. The semi-space variant runs a copy
// of bin/ and dist/: V8 refuses a code cache made under other flags, and each variant writing the
// other's cache would time recompiles.
//
// `run -d`, `rm -f` and `--version` of each variant, alternating (ABBA), with `node -e 0` in the same
// loop. Run as root: node bench/experiments/startup-snapshot.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberArg } from '../lib/args.mjs';
import { deleteNetns, newNetns } from '../lib/netns.mjs';
import { nodeEnv } from '../lib/node-env.mjs';
import { summary, timeMs } from '../lib/stats.mjs';

const RUNS = numberArg('--runs', 30);
const SEMI_SPACE = '--min-semi-space-size=4';
const checkout = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const bundlePath = join(checkout, 'dist', 'cli', 'ctnet.cjs');
const work = mkdtempSync(join(tmpdir(), 'ctnet-bench-snapshot-'));

/** The bundle as a snapshot's entry: evaluated at build time, its command run when the snapshot starts. */
function snapshotEntry() {
  const bundle = readFileSync(bundlePath, 'latin1').trimEnd();
  // The bundle's last statement starts the CLI: `main(process.argv);` (minified name).
  const start = /([\w$]+)\(process\.argv\);(?=0&&\(module\.exports)/;
  if (!start.test(bundle)) throw new Error(`${bundlePath}: no main(process.argv) call at its end; update this script`);
  const deferred = bundle.replace(start, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => $1(process.argv));");
  const modules = join(checkout, 'node_modules');
  return `'use strict';
const Module = require('node:module');
const { join } = require('node:path');
const builtin = require;
const modules = ${JSON.stringify(modules)};
function load(id) {
  if (!id.includes('/')) return builtin(id);
  const path = id.startsWith('/') ? id : join(modules, id);
  if (!path.endsWith('.node')) throw new Error('the snapshot cannot load ' + id);
  const m = { exports: {} };
  process.dlopen(m, path);
  return m.exports;
}
load.resolve = (id) => (id.startsWith('/') ? id : join(modules, id));
load.resolve.paths = () => [modules];
Module.createRequire = () => load;
const cli = ${deferred};
const bundled = { exports: {} };
cli(bundled.exports, load, bundled, ${JSON.stringify(bundlePath)}, ${JSON.stringify(join(checkout, 'dist', 'cli'))});
`;
}

function buildSnapshot() {
  const entry = join(work, 'entry.js');
  const blob = join(work, 'ctnet.blob');
  writeFileSync(entry, snapshotEntry());
  const [ms, r] = timeMs(() => spawnSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', entry], { encoding: 'utf8', env: nodeEnv() }));
  if (r.status !== 0) throw new Error(`--build-snapshot failed: ${r.stderr}`);
  console.log(`snapshot built in ${ms.toFixed(0)} ms: ${(statSync(blob).size / 2 ** 20).toFixed(1)} MiB (the bundle ${(statSync(bundlePath).size / 2 ** 10).toFixed(0)} KiB)`);
  return blob;
}

/** bin/ and dist/ copied, so this variant's code caches are its own. */
function copyOfBuild() {
  const dir = join(work, 'semi-space');
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(checkout, part), join(dir, part), { recursive: true });
  symlinkSync(join(checkout, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bin', 'ctnet');
}

const hostNs = newNetns('snap');
const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-snapshot-state-'));
const env = nodeEnv({ CTNET_ROOT: root, CTNET_HOST_NETNS: hostNs });
const times = {};
const node = (args) => {
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: ${r.stderr}`);
};
try {
  const variants = {
    'code cache': [join(checkout, 'bin', 'ctnet')],
    snapshot: ['--snapshot-blob', buildSnapshot(), 'x'],
    [SEMI_SPACE]: [SEMI_SPACE, copyOfBuild()],
  };
  const names = Object.keys(variants);
  const commands = {
    '--version': ['--version'],
    'run -d': ['run', '-d', '--name', 'snap', '--network', 'snap', '-p', '21999:80', '--', 'sleep', '600'],
    'rm -f': ['rm', '-f', 'snap'],
  };
  node([...variants['code cache'], 'network', 'create', 'snap', '--subnet', '10.205.0.0/16']);
  // Each variant once before timing: the copy makes its code caches at its first commands.
  for (const v of names) for (const args of Object.values(commands)) node([...variants[v], ...args]);
  for (let i = 0; i < RUNS; i++) {
    for (const v of i % 2 ? names : [...names].reverse()) {
      for (const [what, args] of Object.entries(commands)) (times[`${what} ${v}`] ??= []).push(timeMs(() => node([...variants[v], ...args]))[0]);
    }
    (times['node -e 0'] ??= []).push(timeMs(() => node(['-e', '0']))[0]);
  }
} finally {
  spawnSync(process.execPath, [join(checkout, 'bin', 'ctnet'), 'rm', '-f', 'snap'], { env });
  spawnSync(process.execPath, [join(checkout, 'bin', 'ctnet'), 'network', 'rm', 'snap'], { env });
  deleteNetns(hostNs);
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
const base = summary(times['node -e 0']).p50;
for (const [what, t] of Object.entries(times).sort(([a], [b]) => a.localeCompare(b))) {
  const p50 = summary(t).p50;
  console.log(`${what.padEnd(44)} p50 ${p50.toFixed(1).padStart(6)} ms  ${(p50 / base).toFixed(2)}x node -e 0`);
}
