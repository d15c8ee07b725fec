import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Engine } from '../dist/index.js';
const N = Number(process.argv[2] ?? 5000), NETS = 6;
const host = 'ctw-scale';
const root = '/tmp/w/scale-root'; rmSync(root, { recursive: true, force: true });
execFileSync('ip', ['netns', 'add', host]);
const engine = new Engine({ root, hostNetns: host });
const env = { ...process.env, CTNET_ROOT: root, CTNET_HOST_NETNS: host }; delete env.NODE_EXTRA_CA_CERTS;
const cli = (args, prof) => { const t = performance.now(); const r = spawnSync(process.execPath, [...(prof ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', `/tmp/w/sprof/${prof}`] : []), 'bin/ctnet', ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 }); if (r.status) throw new Error(r.stderr); return performance.now() - t; };
try {
  for (let n = 0; n < NETS; n++) engine.createNetwork({ name: `s${n}`, subnet: `10.${150 + n}.0.0/16`, bridge: `sb${n}` });
  for (let i = 0; i < N; i++) engine.attach({ name: `bg${i}`, network: `s${i % NETS}` });
  console.log('filled');
  if (process.argv[3] === 'hold') { const { existsSync } = await import('node:fs'); while (!existsSync('/tmp/w/scale.stop')) await new Promise((r) => setTimeout(r, 500)); } else {
  for (const [what, args] of [['ps', ['ps']], ['ls', ['network', 'ls']]]) {
    const t = []; for (let i = 0; i < 5; i++) t.push(cli(args, i >= 2 ? what : null)); console.log(what, t.map((x) => x.toFixed(0)).join(' '));
  }
  const run = [], rm = [];
  for (let i = 0; i < 6; i++) { run.push(cli(['run', '-d', '--name', `r${i}`, '--network', 's0', '--', 'sleep', '60'], i >= 2 ? 'run' : null)); rm.push(cli(['rm', '-f', `r${i}`], i >= 2 ? 'rm' : null)); }
  console.log('run', run.map((x) => x.toFixed(0)).join(' ')); console.log('rm', rm.map((x) => x.toFixed(0)).join(' '));
  }
} finally {
  for (const c of engine.listContainers(true)) { try { engine.detach(c.Id); } catch (e) { console.error(String(e)); } }
  for (let n = 0; n < NETS; n++) try { engine.removeNetwork(`s${n}`); } catch {}
  engine.close(); execFileSync('ip', ['netns', 'del', host]); rmSync(root, { recursive: true, force: true });
}
