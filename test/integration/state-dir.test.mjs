// The state directory holds every container's environment and decides what ctnet does as root:
// another owner's is refused, one writable by others is repaired with a warning, the database is 0600.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLab } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'st', '--subnet', '172.25.9.0/24']);
});
after(() => {
  try { chownSync(lab.root, 0, 0); chmodSync(lab.root, 0o700); } catch { /* gone */ }
  lab?.close();
});

test('the database is readable by root only', () => {
  assert.equal(statSync(join(lab.root, 'ctnet.db')).mode & 0o777, 0o600);
});

test('a state directory writable by others is made private again, with a warning', () => {
  chmodSync(lab.root, 0o777);
  const r = lab.ctnet(['network', 'ls']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ctnet: warning: the state directory .* was writable by group or others; it is now mode 755\n$/);
  assert.equal(statSync(lab.root).mode & 0o777, 0o755);
});

test("another user's state directory is refused in one line, exit 5, and not touched", () => {
  chownSync(lab.root, 65534, 65534);
  try {
    const r = lab.ctnet(['network', 'ls']);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^ctnet: error: the state directory .* belongs to uid 65534, not to uid 0; chown it to root or set CTNET_ROOT to a directory of root's\n$/);
    assert.equal(statSync(lab.root).uid, 65534);
  } finally {
    chownSync(lab.root, 0, 0);
  }
});
