// The cgroup v2 device program in the kernel: a process in a cgroup that has it may use the
// allowed devices and nothing else; the same process in a cgroup without it may (the control).
// Runs on any host with a writable cgroup2 mount (a hybrid host's "unified" tree included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { attachDeviceProgram } from '../../dist/kernel/bpf.js';
import { deviceProgram, parseDeviceRule } from '../../dist/sandbox/device-program.js';
import { ALLOWED_DEVICES } from '../../dist/kernel/cgroups.js';

const cgroup2 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' - ')).find(([, right]) => right?.startsWith('cgroup2 '))?.[0].split(' ')[4];

/** A shell in `dir`'s cgroup that reads one byte of /dev/zero and opens a block device; what it printed. */
function probe(dir) {
  const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && head -c 1 /dev/zero | wc -c && dd if=/dev/loop0 of=/dev/null count=1 2>&1 | head -1`], { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

test('a cgroup v2 device program lets its processes use /dev/zero but not a block device', (t) => {
  if (!cgroup2) return t.skip('no cgroup2 mount');
  if (!existsSync('/dev/loop0') || spawnSync('dd', ['if=/dev/loop0', 'of=/dev/null', 'count=1'], { stdio: 'ignore' }).status !== 0) return t.skip('no block device the host itself may open');
  const base = join(cgroup2, `ctnet-devtest-${randomBytes(3).toString('hex')}`);
  const [guarded, open] = [join(base, 'guarded'), join(base, 'open')];
  try {
    mkdirSync(guarded, { recursive: true });
    mkdirSync(open);
    attachDeviceProgram(guarded, deviceProgram(ALLOWED_DEVICES.map(parseDeviceRule)));
    assert.match(probe(guarded), /^1\ndd: failed to open '\/dev\/loop0': Operation not permitted/);
    assert.match(probe(open), /^1\n0\+0 records in/, 'the control opens it: the probe proves nothing');
  } finally {
    for (const d of [guarded, open, base]) try { rmdirSync(d); } catch { /* gone */ }
  }
});
