// A named network namespace is a mount under /run/netns, shared as `ip netns add` makes it: a mount
// namespace made before the network namespace sees it come and go (a runtime's). A container's mount
// namespace keeps no copy of those mounts: a copy of every named namespace of the host in every
// running container grew the kernel's mounts with the square of the containers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, netnsPath } from '../../dist/kernel/netns.js';
import { createLab, waitFor } from '../helpers/lab.mjs';

/**
 * A process in a copy of the host's mount namespace: `private` as a container's start makes it,
 * `unchanged` (still receiving the host's mounts) as a container runtime's.
 */
async function startMountCopy(propagation) {
  const copy = spawn('unshare', ['--mount', '--propagation', propagation, 'sleep', '60'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    copy.once('spawn', resolve);
    copy.once('error', reject);
  });
  await waitFor(() => !readFileSync(`/proc/${copy.pid}/cmdline`, 'utf8').startsWith('unshare'), 'unshare runs sleep', 5000);
  return copy;
}

const mountOf = (pid, path) => readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === path);

test('a namespace made after another mount namespace shows in it, shared, and goes from it when deleted', async () => {
  const names = [0, 1].map((i) => `ctt-nm-${randomBytes(3).toString('hex')}-${i}`);
  const other = await startMountCopy('unchanged');
  try {
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

let lab;
after(() => lab?.close());

test('a running container holds no copy of another container\'s network namespace mount; the control: a plain copy of the host\'s mounts holds one', async () => {
  lab = createLab();
  lab.ok(['network', 'create', 'held', '--subnet', '172.29.40.0/24']);
  lab.ok(['run', '-d', '--name', 'early', '--network', 'held', '--', 'sleep', '600']);
  const early = lab.json(['inspect', 'early']);
  const held = `net:[${statSync(early.NetworkSettings.SandboxKey).ino}]`;
  // Both made while early runs: the container, and the control copying the mounts as its start does.
  lab.ok(['run', '-d', '--name', 'late', '--network', 'held', '--', 'sleep', '600']);
  const late = lab.json(['inspect', 'late']).State.Pid;
  const copy = await startMountCopy('private');
  try {
    // A volume that brings them in on purpose keeps them.
    const ns = early.NetworkSettings.SandboxKey.split('/').pop();
    assert.equal(lab.ok(['run', '--rm', '--network', 'none', '-v', '/run/netns:/mnt:ro', '--', 'stat', '-f', '-c', '%T', `/mnt/${ns}`]).trim(), 'nsfs');
    const holds = (pid) => readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(held);
    assert.equal(holds(copy.pid), true, `control: a copy of the host's mounts holds early's network namespace ${held}`);
    assert.equal(holds(late), false, `late's mount namespace holds no copy of early's network namespace ${held}`);
    lab.ok(['rm', '-f', 'early']);
    assert.equal(holds(late), false, 'nor after early is removed');
    assert.deepEqual(readFileSync(`/proc/${late}/mountinfo`, 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith('/run/netns')), [], 'late has no mount under /run/netns at all');
  } finally {
    copy.kill('SIGKILL');
  }
});
