// Whether a process still runs, for tests that end helpers and wait for them to go.
import { readFileSync } from 'node:fs';

/** Running (a zombie has ended: an orphan waits for PID 1 to reap it, which here can take a while). */
export function alive(pid) {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
