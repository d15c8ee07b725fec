/**
 * CLI wall time for `run -d` and `rm -f`, with bare `node -e 0` in the same run, and the CLI's peak RSS;
 * `run -d --privileged` alternates with the confined run: the difference is what confinement costs.
 * Under every command sit `ctnet --version` (Node, ctnet's code loaded, no state) and `ctnet ps`
 * (the state opened and read, no kernel): the floor a command of this CLI starts from.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deleteNetns, newNetns } from './netns.mjs';
import { nodeEnv } from './node-env.mjs';
import { percentile, summary, timeMs } from './stats.mjs';

const CTNET = fileURLToPath(new URL('../../bin/ctnet', import.meta.url));
const RSS = fileURLToPath(new URL('./rss.mjs', import.meta.url));

export function benchCli({ iterations }, log) {
  const hostNs = newNetns('cli');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-cli-'));
  const env = nodeEnv({ CTNET_ROOT: root, CTNET_HOST_NETNS: hostNs });
  const ctnet = (args) => {
    const r = spawnSync(process.execPath, [CTNET, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ctnet ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const run = [], rm = [], node = [], rss = [], privileged = [], version = [], ps = [];
  try {
    ctnet(['network', 'create', 'bench', '--subnet', '10.203.0.0/16']);
    for (let i = 0; i < iterations; i++) {
      node.push(timeMs(() => spawnSync(process.execPath, ['-e', '0'], { env }))[0]);
      version.push(timeMs(() => ctnet(['--version']))[0]);
      ps.push(timeMs(() => ctnet(['ps']))[0]);
      run.push(timeMs(() => ctnet(['run', '-d', '--name', `c${i}`, '--network', 'bench', '-p', `${21000 + i}:80`, '--', 'sleep', '600']))[0]);
      rm.push(timeMs(() => ctnet(['rm', '-f', `c${i}`]))[0]);
      privileged.push(timeMs(() => ctnet(['run', '-d', '--privileged', '--name', `p${i}`, '--network', 'bench', '-p', `${21000 + i}:80`, '--', 'sleep', '600']))[0]);
      ctnet(['rm', '-f', `p${i}`]);
    }
    for (let i = 0; i < Math.min(3, iterations); i++) {
      const out = spawnSync(process.execPath, [RSS, process.execPath, CTNET, 'run', '-d', '--name', `r${i}`, '--network', 'bench', '--', 'sleep', '600'], { env, encoding: 'utf8' }).stdout;
      rss.push(Number(out.split(' ')[0]) / 1024);
      ctnet(['rm', '-f', `r${i}`]);
    }
    ctnet(['network', 'rm', 'bench']);
  } finally {
    // What a failed or interrupted step left running goes before its namespaces.
    const left = spawnSync(process.execPath, [CTNET, 'ps', '-aq'], { env, encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    if (left.length) spawnSync(process.execPath, [CTNET, 'rm', '-f', ...left], { env });
    spawnSync(process.execPath, [CTNET, 'network', 'prune', '-f'], { env });
    deleteNetns(hostNs);
    rmSync(root, { recursive: true, force: true });
  }
  const res = { run: summary(run), rm: summary(rm), node: summary(node), peakRssMiB: Math.max(...rss), runPrivileged: summary(privileged), version: summary(version), ps: summary(ps) };
  log(`  ctnet run -d p50 ${res.run.p50.toFixed(1)} ms (--privileged ${res.runPrivileged.p50.toFixed(1)} ms), rm -f p50 ${res.rm.p50.toFixed(1)} ms, node -e 0 p50 ${res.node.p50.toFixed(1)} ms, --version p50 ${res.version.p50.toFixed(1)} ms, ps p50 ${res.ps.p50.toFixed(1)} ms, peak RSS ${res.peakRssMiB.toFixed(1)} MiB`);
  return res;
}
