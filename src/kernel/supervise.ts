import { childProcess } from './child-process.js';
import { closeSync, openSync } from 'node:fs';
import { closeOnExecAll } from './spawn.js';

/**
 * ctnet's supervisor for its long-lived helpers (ctnet-dns, and cni-daemon or serve with -d): a
 * /bin/sh loop (~2 MB) that starts the helper again 0.2 s after any death but its own clean exit
 * (status 0: told to stop, or nothing left to serve), so a crash or a kill -9 costs a fraction of a
 * second and needs no ctnet command; a helper that dies at start five times in a row is given up. TERM and INT to the supervisor end both. `$0` names the helper
 * in its log lines.
 */
export const SUPERVISOR = `stop=
# A helper forked but not yet exec'd still runs this shell's TERM handler, so a TERM it gets then is
# lost: wait until it runs the helper (its command line is no longer this shell's) before passing one on.
stop_child() {
  [ -n "$child" ] || return 0
  while kill -0 "$child" 2>/dev/null && cmp -s "/proc/$child/cmdline" "/proc/$$/cmdline"; do sleep 0.01; done
  kill "$child" 2>/dev/null
}
# Traps run between commands: one may come after a restart's fork but before child=$! names the new
# helper, so the loop checks the flag right after.
trap 'stop=1; stop_child' TERM INT
quick=0
while [ -z "$stop" ]; do
  started=$(date +%s)
  "$@" & child=$!
  if [ -n "$stop" ]; then stop_child; exit 0; fi
  wait "$child"; code=$?; child=
  [ -n "$stop" ] && exit 0
  [ "$code" -eq 0 ] && exit 0
  # Five deaths in a row within a second of starting: it cannot run here; restarting would only spin.
  if [ $(( $(date +%s) - started )) -le 1 ]; then quick=$((quick + 1)); else quick=0; fi
  if [ "$quick" -ge 5 ]; then echo "$(date -u +%FT%TZ) $0 ended with status $code five times at start; giving up" >&2; exit 1; fi
  echo "$(date -u +%FT%TZ) $0 ended with status $code; starting it again" >&2
  sleep 0.2
done
exit 0`;

/**
 * Starts `argv` under the supervisor, detached (its own session, no terminal), both writing to
 * `logPath`; returns the supervisor's PID. Spawned from the calling thread, so in its network namespace.
 */
export function startSupervised(name: string, argv: readonly string[], logPath: string): number | undefined {
  const log = openSync(logPath, 'a', 0o600);
  try {
    closeOnExecAll();
    const child = childProcess().spawn('/bin/sh', ['-c', SUPERVISOR, name, ...argv], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}
