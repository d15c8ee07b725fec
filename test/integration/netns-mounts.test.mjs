// A named network namespace is a mount under /run/netns, shared as `ip netns add` makes it: a mount
// namespace made before the network namespace sees it come and go (a container's, a runtime's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, netnsPath } from '../../dist/kernel/netns.js';

const mountOf = (pid, path) => readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === path);

test('a namespace made after another mount namespace shows in it, shared, and goes from it when deleted', async () => {
  const names = [0, 1].map((i) => `ctt-nm-${randomBytes(3).toString('hex')}-${i}`);
  // A mount namespace that keeps the propagation it was made with, as a container runtime's does.
  const other = spawn('unshare', ['--mount', '--propagation', 'unchanged', 'sleep', '60'], { stdio: 'ignore' });
  try {
    await new Promise((resolve, reject) => {
      other.once('spawn', resolve);
      other.once('error', reject);
    });
    for (let i = 0; i < 50 && readFileSync(`/proc/${other.pid}/cmdline`, 'utf8').startsWith('unshare'); i++) await new Promise((r) => setTimeout(r, 20));
    // The second is made with the directory already shared: its mount is not marked again.
    for (const name of names) createNamedNetns(name);
    for (const name of names) {
      const here = mountOf('self', netnsPath(name));
      assert.match(here ?? '', / shared:\d+ .*- nsfs /, `${name} is a shared nsfs mount here: ${here}`);
      assert.match(mountOf(other.pid, netnsPath(name)) ?? '', / - nsfs /, `${name} shows in the mount namespace made before it`);
    }
    deleteNamedNetns(names[0]);
    assert.equal(mountOf(other.pid, netnsPath(names[0])), undefined, 'a deleted namespace goes from the other mount namespace too');
    assert.ok(mountOf(other.pid, netnsPath(names[1])), 'the other namespace stays');
  } finally {
    for (const name of names) deleteNamedNetns(name);
    other.kill('SIGKILL');
  }
});
