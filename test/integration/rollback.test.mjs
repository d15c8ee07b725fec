// A failure at any step of `run` or `network create` undoes everything done so far; a crash
// part-way is undone by the next command's reconcile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLab, fullSnapshot, hostSnapshot } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.30.0.0/24', '--bridge', 'br0']);
  lab.ok(['run', '-d', '--name', 'keep', '--network', 'lab', '-p', '8000:80', '--', 'sleep', '600']);
});
after(() => lab?.close());

const runArgs = (name) => ['run', '-d', '--name', name, '--network', 'lab', '-p', '9000:80', '-p', '9001:81/udp', '--', 'sleep', '600'];

test('run: an injected fault at every step, including starting the process, leaves nothing', () => {
  const plan = lab.ok(['run', '--dry-run', ...runArgs('probe').slice(1)]).trim().split('\n');
  // One step per command line; an nft heredoc's body lines are part of its step.
  const kernelSteps = plan.filter((l) => /^(ip|nft|sysctl) /.test(l) && !l.includes('unshare --uts')).length;
  assert.equal(kernelSteps, 11, plan.join("\n"));
  for (let step = 1; step <= kernelSteps + 1; step++) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(runArgs(`f${step}`), { CTNET_FAULT_AT: String(step) });
    assert.equal(r.code, 8, `step ${step}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^ctnet: error: injected fault at step ${step} `));
    assert.deepEqual(fullSnapshot(lab), before, `step ${step} left something behind`);
  }
  // And without a fault the same command works.
  lab.ok(runArgs('works'));
  lab.ok(['rm', '-f', 'works']);
});

test('network create: an injected fault at every step leaves nothing', () => {
  const plan = lab.ok(['network', 'create', 'n2', '--subnet', '172.31.0.0/24', '--dry-run']).trim();
  const steps = plan.split('\n').filter((l) => /^(ip|nft|sysctl) /.test(l)).length;
  assert.equal(steps, 8, plan);
  for (let step = 1; step <= steps; step++) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(['network', 'create', 'n2', '--subnet', '172.31.0.0/24'], { CTNET_FAULT_AT: String(step) });
    assert.equal(r.code, 8, `step ${step}: ${r.stderr}`);
    assert.deepEqual(fullSnapshot(lab), before, `step ${step} left something behind`);
  }
});

test('a crash part-way through run is undone by the next command (reconcile)', () => {
  const before = fullSnapshot(lab);
  const r = lab.ctnet(runArgs('crashed'), { CTNET_CRASH_AT: '7' });
  assert.equal(r.signal, 'SIGKILL');
  // Read from the database itself: ctnet's own reads would already undo it.
  const db = new Database(join(lab.root, 'ctnet.db'), { readonly: true });
  const c = db.prepare("SELECT state, netns FROM containers WHERE name = 'crashed'").get();
  db.close();
  assert.equal(c.state, 'created');
  assert.ok(existsSync(`/run/netns/${c.netns}`), 'the crash left the namespace behind');
  assert.notDeepEqual(hostSnapshot(lab.host), before.host);
  // Any changing command reconciles first: here a run that then succeeds.
  lab.ok(['run', '-d', '--name', 'after-crash', '--network', 'lab', '--', 'sleep', '600']);
  assert.equal(lab.ctnet(['inspect', 'crashed']).code, 3);
  assert.ok(!existsSync(`/run/netns/${c.netns}`));
  lab.ok(['rm', '-f', 'after-crash']);
  assert.deepEqual(fullSnapshot(lab), before);
});
