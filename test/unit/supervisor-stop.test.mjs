// TERM to ctnet's supervisor while it restarts its helper. Traps run between commands, so the TERM
// can be handled after the restart's fork but before child=$! names the new helper: a supervisor
// that passed TERM on from its trap alone signalled the dead helper and left the new one running.
// To land the TERM in that moment every time, strace holds the supervisor 300 ms in the return of
// each fork (its injected delay); the new helper meanwhile runs. The control: that earlier supervisor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SUPERVISOR } from '../../dist/kernel/supervise.js';
import { alive } from '../helpers/processes.mjs';

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};
const childrenOf = (pid) => (read(`/proc/${pid}/task/${pid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(find, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const found = find();
    if (found) return found;
    await sleepMs(5);
  }
  return null;
}

/** Kills the helper, sends TERM to the supervisor while it is held in the restart's fork, and reports what is left. */
async function stopDuringRestart(script) {
  const tag = String(100000 + Math.floor(Math.random() * 800000));
  const helperCmdline = `sleep\0${tag}\0`;
  const sup = spawn('/bin/sh', ['-c', script, 'test-helper', 'sleep', tag], { stdio: 'ignore' });
  let strace = null;
  const helpers = [];
  try {
    const helper = () => childrenOf(sup.pid).find((c) => !helpers.includes(c) && read(`/proc/${c}/cmdline`) === helperCmdline);
    helpers.push(await waitFor(helper, 5000));
    assert.ok(helpers[0], 'the helper started');
    const forks = 'clone,clone3,fork,vfork';
    strace = spawn('strace', ['-qq', '-o', '/dev/null', '-e', `trace=${forks}`, '-e', `inject=${forks}:delay_exit=300000`, '-p', String(sup.pid)], { stdio: 'ignore' });
    assert.ok(await waitFor(() => /TracerPid:\s+[1-9]/.test(read(`/proc/${sup.pid}/status`) ?? ''), 5000), 'strace holds the supervisor');
    process.kill(helpers[0], 'SIGKILL');
    helpers.push(await waitFor(helper, 5000));
    assert.ok(helpers[1], 'a new helper runs');
    // The supervisor is still inside that fork's delayed return: its TERM is handled right after.
    process.kill(sup.pid, 'SIGTERM');
    for (let i = 0; i < 250 && (alive(sup.pid) || alive(helpers[1])); i++) await sleepMs(20);
    return { supervisorEnded: !alive(sup.pid), helperEnded: !alive(helpers[1]) };
  } finally {
    strace?.kill('SIGKILL');
    if (alive(sup.pid)) sup.kill('SIGKILL');
    for (const pid of helpers) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

test('TERM to the supervisor while it restarts the helper ends the new helper too', async () => {
  assert.deepEqual(await stopDuringRestart(SUPERVISOR), { supervisorEnded: true, helperEnded: true });
});

test('the control: a supervisor that passes TERM on from its trap alone leaves the new helper running', async () => {
  const trapOnly = `trap 'kill "$child" 2>/dev/null; exit 0' TERM INT
while :; do
  "$@" & child=$!
  wait "$child"
  sleep 0.2
done`;
  assert.deepEqual(await stopDuringRestart(trapOnly), { supervisorEnded: true, helperEnded: false });
});
