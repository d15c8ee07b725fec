// How a detached container's start is judged once ctnet-init's readiness pipe has closed: by its PID
// file, and by the supervisor's count of restarts when a command that ended at once was restarted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRan } from '../../dist/engine/container-process.js';

test('a start is judged by the PID file, and by the restart count when the supervisor already emptied it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-unit-ran-'));
  try {
    const pidFile = join(dir, 'pid');
    const restarts = join(dir, 'exit-status.restarts');
    writeFileSync(pidFile, '4242');
    assert.doesNotThrow(() => checkRan('', pidFile, restarts), 'the command ran: its PID is there');
    assert.throws(() => checkRan('cannot mount /x: ENOENT\n', pidFile, restarts), /^ContainerSetupError: cannot mount \/x: ENOENT$/, 'what ctnet-init said');
    writeFileSync(pidFile, '');
    assert.throws(() => checkRan('', pidFile, restarts), /ended before it ran the command/, 'killed before its gate: no PID, no restart');
    // `--restart always -- true`: the command ended at once and the supervisor counted a restart and
    // emptied the file before this look (CI saw it: "ended before it ran the command").
    writeFileSync(restarts, '1\n');
    assert.doesNotThrow(() => checkRan('', pidFile, restarts));
    rmSync(dir, { recursive: true });
    assert.doesNotThrow(() => checkRan('', pidFile, restarts), 'a --rm container already removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
