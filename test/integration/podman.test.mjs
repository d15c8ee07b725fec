// A real runtime: Podman (network_backend "cni") with ctnet as its plugin, in throwaway namespaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_DIR } from '../helpers/lab.mjs';

const podman = ['/usr/bin/podman', '/usr/bin/crun'].every(existsSync);

test('Podman runs containers on a ctnet network: they talk, a published port answers, rm leaves nothing', { skip: !podman && 'podman and crun are not installed (apt-get install -y podman crun)' }, () => {
  const before = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(`/sys/fs/cgroup/${c}/libpod_parent`));
  const r = spawnSync(join(ROOT_DIR, 'scripts', 'podman-e2e'), [], { encoding: 'utf8', timeout: 180000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal((r.stdout.match(/^ {2}PASS /gm) ?? []).length, 7, r.stdout);
  assert.doesNotMatch(r.stdout, /FAIL/);
  assert.deepEqual(readdirSync('/sys/fs/cgroup').filter((c) => existsSync(`/sys/fs/cgroup/${c}/libpod_parent`)), before, 'cgroups Podman created are removed');
});
