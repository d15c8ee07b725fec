import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, processStartTime } from '../../dist/kernel/proc.js';

/** Field 22 of /proc/PID/stat, read the plain way: what processStartTime must agree with. */
const startTimeOf = (pid) => readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ')[19];

test('a process start time: the kernel\'s field 22, also behind a command name with ") " in it; none for a zombie or a PID no process has', async () => {
  assert.match(processStartTime(process.pid), /^\d+$/);
  assert.equal(processStartTime(process.pid), startTimeOf(process.pid));
  assert.equal(isAlive(process.pid, processStartTime(process.pid)), true);
  assert.equal(isAlive(process.pid, '1'), false, 'the same PID with another start time is another process');

  const dir = mkdtempSync(join(tmpdir(), 'ctnet-proc-'));
  // The kernel names a process after its program's file: ") 1 2 (" would shift every field of a naive split.
  const program = join(dir, 'x) 1 2 (y');
  copyFileSync('/bin/sleep', program);
  const odd = spawn(program, ['30'], { stdio: 'ignore' });
  // A child that has ended and that its parent has not waited for yet: a zombie, until the parent's input closes.
  const parent = spawn('perl', ['-e', '$| = 1; my $p = fork // die; exit 0 unless $p; print "$p\\n"; <STDIN>; waitpid($p, 0)'], { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    const zombie = Number((await new Promise((resolve) => parent.stdout.once('data', resolve))).toString().trim());
    await new Promise((r) => setTimeout(r, 300));
    assert.match(readFileSync(`/proc/${odd.pid}/stat`, 'latin1'), /\(x\) 1 2 \(y\) /);
    assert.equal(processStartTime(odd.pid), startTimeOf(odd.pid));
    assert.match(readFileSync(`/proc/${zombie}/stat`, 'latin1'), /\) Z /);
    assert.equal(processStartTime(zombie), undefined);
    assert.equal(isAlive(zombie, null), false);
  } finally {
    odd.kill('SIGKILL');
    parent.stdin.end();
    await new Promise((resolve) => (parent.exitCode === null ? parent.once('exit', resolve) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(processStartTime(2 ** 22 + 1), undefined, 'above the kernel\'s pid_max');
});
