// A detached container's supervisor is started by posix_spawn (src/kernel/posix-spawn.ts): it must
// start as Node's spawn would start it (descriptors, signals, session) and be reaped when it ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe, posixSpawn } from '../../dist/kernel/posix-spawn.js';
import { closeOnExecAll } from '../../dist/kernel/spawn.js';

const statusOf = (pid) => Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').trim().split('\n').map((l) => l.split(/:\s+/)));
const waitFor = async (cond, ms = 3000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) if (cond()) return true;
  return cond();
};

test('the child gets exactly the descriptors asked for, default signal handling, a session of its own; its exit is reaped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-posix-spawn-'));
  const [readEnd, writeEnd] = pipe();
  const log = openSync(join(dir, 'log'), 'a');
  try {
    // This process ignores SIGPIPE (Node does): a child that inherited it would show it in SigIgn.
    assert.notEqual(BigInt(`0x${statusOf(process.pid).SigIgn}`) & (1n << 12n), 0n, 'the test runs in a process that ignores SIGPIPE');
    const script = 'grep -E "^(SigBlk|SigIgn):" /proc/self/status; ls /proc/self/fd | sort -n | tr "\\n" " "; echo; cat; echo sid=$(cut -d" " -f6 /proc/$$/stat) pid=$$; echo done >&3';
    // fd 3 gets the pipe's write end; the log is also fd 1 and 2; stdin is /dev/null (cat ends at once).
    // The rest of this process's descriptors are made close-on-exec first, as the container start does.
    closeOnExecAll();
    const pid = posixSpawn({ argv: ['/bin/sh', '-c', script], env: { PATH: '/usr/bin:/bin' }, fds: [null, log, log, writeEnd], setsid: true });
    closeSync(writeEnd);
    const buf = Buffer.alloc(64);
    const n = readSync(readEnd, buf);
    assert.equal(buf.subarray(0, n).toString(), 'done\n');
    assert.ok(await waitFor(() => !existsSync(`/proc/${pid}`)), 'the ended child was reaped, not left a zombie');
    const out = readFileSync(join(dir, 'log'), 'utf8').split('\n');
    assert.deepEqual(out.slice(0, 2), ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000']);
    // 0, 1, 2, 3 and the one ls itself opens to read the directory: nothing else of this process.
    assert.equal(out[2].trim().split(' ').length, 5, out[2]);
    assert.equal(out[3], `sid=${pid} pid=${pid}`);
  } finally {
    closeSync(readEnd);
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('descriptors that swap places in the child are not overwritten on the way', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-posix-spawn-'));
  try {
    const a = openSync(join(dir, 'a'), 'w');
    const b = openSync(join(dir, 'b'), 'w');
    const [low, high] = a < b ? [a, b] : [b, a];
    // The child's `low` is this process's `high` and the other way round: the first dup2 in order
    // would overwrite `low` before the second one copies it.
    const fds = Array.from({ length: high + 1 }, () => null);
    fds[low] = high;
    fds[high] = low;
    const write = 'open(my $l, ">&=", $ARGV[0]) or die; print $l "to-low"; open(my $h, ">&=", $ARGV[1]) or die; print $h "to-high";';
    const pid = posixSpawn({ argv: ['/usr/bin/perl', '-e', write, String(low), String(high)], env: {}, fds, setsid: false });
    closeSync(a);
    closeSync(b);
    assert.ok(await waitFor(() => !existsSync(`/proc/${pid}`)));
    const fileOf = (fd) => join(dir, fd === a ? 'a' : 'b');
    assert.equal(readFileSync(fileOf(high), 'utf8'), 'to-low');
    assert.equal(readFileSync(fileOf(low), 'utf8'), 'to-high');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a program that cannot be started is an error naming errno, not a child', () => {
  assert.throws(() => posixSpawn({ argv: ['/nonexistent/program'], env: {}, fds: [null, null, null], setsid: false }), /ENOENT/);
});
