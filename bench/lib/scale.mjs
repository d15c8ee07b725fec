/**
 * Many containers on one host: containers attached round-robin over several networks (each under
 * the 1,000 containers a network holds on a host with the default receive backlog), and at each checkpoint one more container's attach and
 * detach, `ctnet ps` and `ctnet network ls` as a user runs them, the state's size and the host memory
 * the attachments hold. The background containers are network-only (no process): what one running
 * container's processes cost is measured beside, on a real `run -d`, and multiplied out.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../dist/index.js';
import { SETTLE_MS } from './attach.mjs';
import { deleteNetns, newNetns } from './netns.mjs';
import { nodeEnv } from './node-env.mjs';
import { summary, timeMs } from './stats.mjs';

const CTNET = fileURLToPath(new URL('../../bin/ctnet', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const memAvailableKiB = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]);

function treeBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? treeBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return total;
}

/** The proportional memory (PSS) of a process and all its descendants, in KiB. */
function pssTreeKiB(pid) {
  const children = (p) => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let total = 0;
  for (const stack = [pid]; stack.length;) {
    const p = stack.pop();
    try {
      total += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))[1]);
    } catch {
      // ended meanwhile
    }
    stack.push(...children(p));
  }
  return total;
}

/** What a running detached container's own processes (supervisor, ctnet-init's parent, the command) hold. */
function processCostKiB(env) {
  const ctnet = (args) => spawnSync(process.execPath, [CTNET, ...args], { env, encoding: 'utf8' });
  const r = ctnet(['run', '-d', '--name', 'mem', '--network', 'none', '--', 'sleep', '600']);
  if (r.status !== 0) throw new Error(`ctnet run: ${r.stderr}`);
  try {
    const c = JSON.parse(ctnet(['inspect', 'mem']).stdout);
    const inspect = Array.isArray(c) ? c[0] : c;
    // PID 1 and, above it, its supervisor.
    let total = pssTreeKiB(inspect.State.Pid);
    let pid = inspect.State.Pid;
    for (let up = 0; up < 2; up++) {
      pid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/ctnet-supervisor/.test(cmd)) break;
      total += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]);
    }
    return total;
  } finally {
    ctnet(['rm', '-f', 'mem']);
  }
}

/** The networks the containers are spread over, s0..s(K-1), each under the 1,000 a network holds. */
export function createScaleNetworks(engine, k) {
  for (let n = 0; n < k; n++) engine.createNetwork({ name: `s${n}`, subnet: `10.${210 + n}.0.0/16`, bridge: `sb${n}` });
}

/** Removes every container and the K networks (what a failed part left included). */
export async function emptyScaleNetworks(engine, k) {
  for (const c of engine.listContainers(true)) {
    // A `run -d` a failed measurement left has a process: removed, not detached.
    try { engine.detach(c.Id); } catch { await engine.remove([c.Id], true); }
  }
  for (let n = 0; n < k; n++) {
    try { engine.removeNetwork(`s${n}`); } catch { /* the namespace goes below */ }
  }
}

/** plan: { total, networks, checkpoints: [1, ...], samples, sleeping } */
export async function benchScale(plan, log, progress) {
  const hostNs = newNetns('scale');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-scale-'));
  const env = nodeEnv({ CTNET_ROOT: root, CTNET_HOST_NETNS: hostNs });
  const engine = new Engine({ root, hostNetns: hostNs });
  const points = [];
  let count = 0;
  let memBefore = 0;
  const cli = (args) => {
    const times = [];
    for (let i = 0; i < 3; i++) {
      const [ms, r] = timeMs(() => spawnSync(process.execPath, [CTNET, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }));
      if (r.status !== 0) throw new Error(`ctnet ${args.join(' ')}: ${r.stderr}`);
      times.push(ms);
    }
    return summary(times).p50;
  };
  // A user's `run -d` of a sleeping container and its `rm -f` at this size: both read host-wide
  // state that grows with the containers (mounts, interfaces), which the engine's attach does not.
  const runAndRm = (network) => {
    const run = [], rm = [];
    for (let i = 0; i < 3; i++) {
      const name = `cli${i}`;
      const [r, started] = timeMs(() => spawnSync(process.execPath, [CTNET, 'run', '-d', '--name', name, '--network', network, '--', 'sleep', '600'], { env, encoding: 'utf8' }));
      if (started.status !== 0) throw new Error(`ctnet run -d --name ${name}: ${started.stderr}`);
      const [d, removed] = timeMs(() => spawnSync(process.execPath, [CTNET, 'rm', '-f', name], { env, encoding: 'utf8' }));
      if (removed.status !== 0) throw new Error(`ctnet rm -f ${name}: ${removed.stderr}`);
      run.push(r);
      rm.push(d);
    }
    return { runMs: summary(run).p50, rmMs: summary(rm).p50 };
  };
  /**
   * The same commands with `plan.sleeping` running containers (a sleeping process each, as a host
   * of containers has them) in place of network-only ones: every run checks each running
   * container's process, and each has a mount namespace of its own. Started and removed again
   * before the network-only containers come.
   */
  const withSleeping = async () => {
    const ids = [];
    try {
      for (let i = 0; i < plan.sleeping; i++) {
        const { container, child } = engine.run({ name: `sleep${i}`, network: `s${i % plan.networks}`, detach: true, command: ['sleep', '100000'] });
        ids.push(container.id);
        await engine.started(child);
        progress?.report?.(i + 1, plan.sleeping, 'sleeping containers');
      }
      return { containers: plan.sleeping, psMs: cli(['ps']), ...runAndRm('s0') };
    } finally {
      await engine.remove(ids, true);
    }
  };
  let processKiB = null;
  let sleeping = null;
  try {
    createScaleNetworks(engine, plan.networks);
    processKiB = processCostKiB(env);
    if (plan.sleeping) {
      sleeping = await withSleeping();
      log(`  ${sleeping.containers} sleeping containers: ps ${sleeping.psMs.toFixed(0)} ms, run -d ${sleeping.runMs.toFixed(0)} ms, rm -f ${sleeping.rmMs.toFixed(0)} ms`);
    }
    memBefore = memAvailableKiB();
    for (const target of plan.checkpoints) {
      for (; count < target; count++) {
        engine.attach({ name: `bg${count}`, network: `s${count % plan.networks}` });
        progress?.report?.(count + 1, plan.total, 'containers');
      }
      const attach = [], detach = [];
      for (let i = 0; i < plan.samples + 3; i++) {
        await sleep(SETTLE_MS);
        const name = `m${i}`;
        const [a] = timeMs(() => engine.attach({ name, network: `s${i % plan.networks}`, publish: [`${20000 + i}:80`] }));
        const [d] = timeMs(() => engine.detach(name));
        if (i >= 3) { attach.push(a); detach.push(d); }
      }
      const point = {
        containers: count, attach: summary(attach), detach: summary(detach),
        psMs: cli(['ps']), networkLsMs: cli(['network', 'ls']), ...runAndRm('s0'),
        stateBytes: treeBytes(root), kernelKiBPerContainer: count >= 100 ? (memBefore - memAvailableKiB()) / count : null,
      };
      points.push(point);
      log(`  ${count} containers: attach p50 ${point.attach.p50.toFixed(2)} ms, detach p50 ${point.detach.p50.toFixed(2)} ms, ps ${point.psMs.toFixed(0)} ms, network ls ${point.networkLsMs.toFixed(0)} ms, run -d ${point.runMs.toFixed(0)} ms, rm -f ${point.rmMs.toFixed(0)} ms, state ${(point.stateBytes / 2 ** 20).toFixed(1)} MiB`);
    }
  } finally {
    await emptyScaleNetworks(engine, plan.networks);
    engine.close();
    deleteNetns(hostNs);
    rmSync(root, { recursive: true, force: true });
  }
  return { networks: plan.networks, points, processKiBPerContainer: processKiB, sleeping };
}
