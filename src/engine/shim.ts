import { readTextOr } from '../kernel/files.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The supervisor of a detached container: /bin/sh (about 2 MB), no process of ctnet's. It starts the
 * container (the `unshare` launch line), passes SIGTERM/SIGINT on to its PID 1, restarts it on failure up to N times (the network namespace
 * stays, since the shim lives on), and writes the exit status where reconcile and `wait` read it.
 * A first start that never ran the command (its PID is written at ctnet-init's gate: ctnet gave up
 * on the container or died while making its network) is not restarted.
 * With --rm it then starts `ctnet rm` in a session of its own (removing the container's process
 * group must not take the remover with it). Its copies of the readiness pipe (fd 3) and of the gate
 * (fd 4) are swapped for /dev/null once the first start has them, so `run -d` sees the pipe end and
 * a restart has no gate.
 */
const SCRIPT = `status=$1; max=$2; pidfile=$3; rm_node=$4; rm_bin=$5; rm_root=$6; rm_host=$7; rm_id=$8; shift 8
stopping=0; n=0; code=0
trap 'stopping=1; kill -TERM "$(cat "$pidfile")" 2>/dev/null' TERM INT
while :; do
  "$@" & child=$!; exec 3>/dev/null 4>/dev/null
  while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done
  [ "$stopping" = 0 ] && [ "$code" -ne 0 ] && [ "$n" -lt "$max" ] && { [ "$n" -gt 0 ] || [ -s "$pidfile" ]; } || break
  n=$((n + 1)); echo "$n" > "$status.restarts"; sleep 0.1
done
echo "$code" > "$status"
if [ -n "$rm_id" ]; then
  CTNET_ROOT=$rm_root CTNET_HOST_NETNS=$rm_host setsid -f "$rm_node" "$rm_bin" rm -f "$rm_id" </dev/null >/dev/null 2>&1
fi
exit "$code"`;

/** What the shim needs to remove its container when it exits (--rm): how to run ctnet against the host. */
export interface RemoveOnExit {
  root: string;
  /** A name in /run/netns or a path: the shim itself runs inside the container's namespace. */
  hostNetns: string;
  id: string;
}

/** The CLI, found the same way from dist/engine/ and from the bundle in dist/cli/. */
const CTNET_BIN = fileURLToPath(new URL('../../bin/ctnet', import.meta.url));

export function shimCommand(statusFile: string, restartMax: number, pidFile: string, command: readonly string[], rm?: RemoveOnExit): string[] {
  const remove = rm ? [process.execPath, CTNET_BIN, rm.root, rm.hostNetns, rm.id] : ['', '', '', '', ''];
  return ['/bin/sh', '-c', SCRIPT, 'ctnet-shim', statusFile, String(restartMax), pidFile, ...remove, ...command];
}

/** Where a detached container's exit status goes: beside its log. */
export const statusFileOf = (logPath: string): string => join(dirname(logPath), 'exit-status');

function readNumber(path: string): number | null {
  const text = readTextOr(path).trim();
  const n = Number(text);
  return text !== '' && Number.isInteger(n) ? n : null;
}

export const readExitStatus = (logPath: string | null): number | null => (logPath ? readNumber(statusFileOf(logPath)) : null);
export const readRestarts = (logPath: string | null): number => (logPath ? readNumber(`${statusFileOf(logPath)}.restarts`) ?? 0 : 0);
