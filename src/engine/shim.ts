import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The supervisor of a detached container: /bin/sh (about 2 MB), no process of ctnet's. It starts the
 * command, passes SIGTERM/SIGINT on, restarts it on failure up to N times (the network namespace
 * stays, since the shim lives on), and writes the exit status where reconcile and `wait` read it.
 */
const SCRIPT = `status=$1; max=$2; shift 2
stopping=0; n=0; code=0
trap 'stopping=1; kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  "$@" & child=$!
  while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done
  [ "$stopping" = 0 ] && [ "$code" -ne 0 ] && [ "$n" -lt "$max" ] || break
  n=$((n + 1)); echo "$n" > "$status.restarts"; sleep 0.1
done
echo "$code" > "$status"
exit "$code"`;

export function shimCommand(statusFile: string, restartMax: number, command: readonly string[]): string[] {
  return ['/bin/sh', '-c', SCRIPT, 'ctnet-shim', statusFile, String(restartMax), ...command];
}

/** Where a detached container's exit status goes: beside its log. */
export const statusFileOf = (logPath: string): string => join(dirname(logPath), 'exit-status');

function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

export const readExitStatus = (logPath: string | null): number | null => (logPath ? readNumber(statusFileOf(logPath)) : null);
export const readRestarts = (logPath: string | null): number => (logPath ? readNumber(`${statusFileOf(logPath)}.restarts`) ?? 0 : 0);
