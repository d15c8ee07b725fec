// Long-lived helpers started with -d run under ctnet's supervisor: killed with SIGKILL they answer
// again within a second without any ctnet command; a clean stop (TERM to the supervisor) ends both.
// The control: the same helper in the foreground stays dead after the same kill.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, CTNET } from '../helpers/lab.mjs';
import { alive } from '../helpers/processes.mjs';

let lab;
before(() => {
  lab = createLab();
});
after(() => lab?.close());

const answers = (socket) => new Promise((resolve) => {
  const c = connect(socket);
  c.once('connect', () => { c.destroy(); resolve(true); });
  c.once('error', () => resolve(false));
});

async function answersWithin(socket, ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await answers(socket)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

const childOf = (pid) => Number(spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]) || null;

for (const [name, args] of [['cni-daemon', ['cni-daemon']], ['serve', ['serve']]]) {
  test(`${name} -d: back within a second after kill -9, refused twice, gone after kill of its supervisor`, async () => {
    const socket = join(lab.root, `${name}.sock`);
    const out = lab.ok([...args, '-d', '--socket', socket]);
    const pid = Number(/supervisor PID (\d+)/.exec(out)?.[1]);
    assert.ok(pid > 0, out);
    let helperAtStop = null;
    try {
      assert.ok(await answers(socket), 'answers once started');
      const helper = childOf(pid);
      assert.ok(helper, 'the helper runs under the supervisor');
      const killed = Date.now();
      process.kill(helper, 'SIGKILL');
      // SIGKILL lands asynchronously, and a multi-threaded helper's leader shows as a zombie while its
      // other threads still hold the socket (CI once saw the old helper answer the probe): wait until
      // the supervisor has reaped it, so only a new helper can answer.
      for (let i = 0; i < 250 && existsSync(`/proc/${helper}`); i++) await new Promise((r) => setTimeout(r, 4));
      assert.equal(existsSync(`/proc/${helper}`), false, 'the supervisor reaped the killed helper');
      const answered = await answersWithin(socket, 3000);
      const back = answered === null ? null : Date.now() - killed;
      // The old socket file stays after a kill: wait for the new helper, not the file.
      assert.ok(back !== null && back < 1000, `answered again after ${back} ms`);
      assert.notEqual(childOf(pid), helper, 'a new helper');
      const twice = lab.ctnet([...args, '-d', '--socket', socket]);
      assert.equal(twice.code, 4, twice.stderr);
      assert.match(twice.stderr, new RegExp(`already runs in the background \\(supervisor PID ${pid}\\)`));
    } finally {
      helperAtStop = childOf(pid);
      process.kill(pid, 'SIGTERM');
      // A clean stop: the supervisor passes TERM on and the helper closes its socket. Up to 10 s (in CI,
      // beside another test, the socket still answered when a 2 s bound ran out).
      for (let i = 0; i < 500 && (alive(pid) || (helperAtStop && alive(helperAtStop))); i++) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(alive(pid), false, 'the supervisor ended');
    assert.equal(helperAtStop !== null && alive(helperAtStop), false, 'the helper ended');
    assert.equal(await answers(socket), false, 'nothing answers after the stop');
  });
}

test('the control: a foreground cni-daemon killed with SIGKILL stays dead', async () => {
  const socket = join(lab.root, 'fg.sock');
  const child = spawn(process.execPath, [CTNET, 'cni-daemon', '--socket', socket], { env: lab.env, stdio: 'ignore' });
  try {
    assert.ok(await answersWithin(socket, 5000) !== null, 'it started');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(await answersWithin(socket, 1500), null, 'nothing brought it back');
    assert.ok(existsSync(socket), 'its stale socket file is left');
  } finally {
    child.kill('SIGKILL');
  }
});
