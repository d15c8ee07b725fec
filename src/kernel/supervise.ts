import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { closeOnExecAll } from './spawn.js';

/**
 * ctnet's supervisor for its long-lived helpers (ctnet-dns, and cni-daemon or serve with -d): a
 * /bin/sh loop (~2 MB) that starts the helper again 0.2 s after any death but its own clean exit
 * (status 0: told to stop, or nothing left to serve), so a crash or a kill -9 costs a fraction of a
 * second and needs no ctnet command; a helper that dies at start five times in a row is given up. TERM and INT to the supervisor end both. `$0` names the helper
 * in its log lines.
 */
export const SUPERVISOR = `trap 'kill "$child" 2>/dev/null; exit 0' TERM INT
quick=0
while :; do
  started=$(date +%s)
  "$@" & child=$!
  wait "$child"; code=$?
  [ "$code" -eq 0 ] && exit 0
  # Five deaths in a row within a second of starting: it cannot run here; restarting would only spin.
  if [ $(( $(date +%s) - started )) -le 1 ]; then quick=$((quick + 1)); else quick=0; fi
  if [ "$quick" -ge 5 ]; then echo "$(date -u +%FT%TZ) $0 ended with status $code five times at start; giving up" >&2; exit 1; fi
  echo "$(date -u +%FT%TZ) $0 ended with status $code; starting it again" >&2
  sleep 0.2
done`;

/**
 * Starts `argv` under the supervisor, detached (its own session, no terminal), both writing to
 * `logPath`; returns the supervisor's PID. Spawned from the calling thread, so in its network namespace.
 */
export function startSupervised(name: string, argv: readonly string[], logPath: string): number | undefined {
  const log = openSync(logPath, 'a', 0o600);
  try {
    closeOnExecAll();
    const child = spawn('/bin/sh', ['-c', SUPERVISOR, name, ...argv], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}
