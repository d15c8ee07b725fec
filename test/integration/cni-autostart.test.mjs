// Fast by default: the CNI executable starts ctnet cni-daemon itself when none answers, once however
// many invocations race for it, later invocations go through it, and it leaves when the node is quiet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, ROOT_DIR } from '../helpers/lab.mjs';

let lab;
let socket;
const pods = [];
before(() => {
  lab = createLab();
  socket = join(lab.root, 'auto.sock');
});
after(() => {
  for (const id of daemonPids()) try { process.kill(id, 'SIGKILL'); } catch { /* gone */ }
  for (const p of pods) try { execFileSync('ip', ['netns', 'del', p.ns], { stdio: 'ignore' }); } catch { /* gone */ }
  try { lab.ctnet(['network', 'rm', 'autonet']); } catch { /* not there */ }
  lab?.close();
});

/** The processes (supervisor and daemon) serving this test's socket. */
function daemonPids() {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      return cmd.includes('cni-daemon') && cmd.includes(socket);
    } catch {
      return false;
    }
  }).map(Number);
}

const conf = { cniVersion: '1.0.0', name: 'autonet', type: 'ctnet', bridge: 'cni-auto', ipam: { type: 'host-local', subnet: '10.92.0.0/24', dataDir: lab?.root } };

function plugin(command, pod) {
  return new Promise((resolve) => {
    const env = {
      PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: pod.id, CNI_NETNS: `/run/netns/${pod.ns}`, CNI_IFNAME: 'eth0', CNI_PATH: join(ROOT_DIR, 'bin', 'cni'),
      CTNET_HOST_NETNS: lab.host, CTNET_CNI_SOCKET: socket, CTNET_CNI_DAEMON_IDLE: '3',
    };
    const child = spawn(join(ROOT_DIR, 'bin', 'cni', 'ctnet'), [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(JSON.stringify({ ...conf, ipam: { ...conf.ipam, dataDir: lab.root } }));
  });
}

test('six ADDs at once with no daemon: all attach, exactly one daemon starts, later DELs go through it, it leaves after 3 s idle', async () => {
  for (let i = 0; i < 6; i++) {
    const ns = `${lab.host.replace(/-host$/, '')}-auto${i}`;
    execFileSync('ip', ['netns', 'add', ns]);
    pods.push({ ns, id: `${i}`.repeat(64) });
  }
  const adds = await Promise.all(pods.map((p) => plugin('ADD', p)));
  for (const r of adds) assert.equal(r.code, 0, r.out);
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(socket), 'the plugin started a daemon on the socket');
  await new Promise((r) => setTimeout(r, 300));
  const serving = daemonPids();
  assert.equal(serving.length, 2, `one supervisor and one daemon, found PIDs ${serving.join(' ')}`);
  const dels = await Promise.all(pods.map((p) => plugin('DEL', p)));
  for (const r of dels) assert.equal(r.code, 0, r.out);
  const served = readFileSync(`${socket}.log`, 'utf8').split('\n').filter((l) => / DEL /.test(l));
  assert.equal(served.length, 6, 'every DEL was answered by the daemon');
  assert.deepEqual(lab.json(['network', 'inspect', 'autonet']).Containers, []);
  for (let i = 0; i < 100 && daemonPids().length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(daemonPids(), [], 'idle for 3 s: the daemon and its supervisor are gone');
  assert.ok(!existsSync(socket), 'and its socket');
});
