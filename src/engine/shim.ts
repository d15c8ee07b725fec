import { readTextOr } from '../kernel/files.js';
import { sandboxCommand } from '../sandbox/script.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the supervisor needs to remove its container when it exits (--rm): how to run ctnet against the host. */
export interface RemoveOnExit {
  root: string;
  /** A name in /run/netns or a path: the supervisor itself runs inside the container's namespace. */
  hostNetns: string;
  id: string;
}

/** The CLI, found the same way from dist/engine/ and from the bundle in dist/cli/. */
const CTNET_BIN = fileURLToPath(new URL('../../bin/ctnet', import.meta.url));

/**
 * The supervisor of a detached container is ctnet's Perl program (src/sandbox/ctnet-sandbox.pl),
 * no process of ctnet's. `run -d` starts it first, in its `standby` mode: Perl's start and the
 * compile of the program then overlap with recording the container and making its namespace, and
 * the supervisor gets its container by an order (supervisorOrder) once those exist. It then forks the
 * container's PID 1 itself and, as a Perl of a few lines, passes SIGTERM/SIGINT on to that PID 1,
 * restarts a container that failed up to N times (the network namespace stays, since the supervisor
 * lives on), and writes the exit status where reconcile and `wait` read it. A first start that never
 * ran the command (its PID is written at ctnet-init's gate: ctnet gave up on the container or died
 * while making its network) is not restarted. With --rm it then starts `ctnet rm` in a session of its own.
 */
export const standbyCommand = (pidNamespace: string[]): string[] => sandboxCommand('standby', pidNamespace);

/** Where a supervisor goes and what it runs: its order (see `standby` in ctnet-sandbox.pl). */
export interface SupervisorOrder {
  /** Path of the network namespace the container runs in; null: the one ctnet runs in. */
  netns: string | null;
  log: string;
  env: Record<string, string>;
  spec: string;
  status: string;
  restartMax: number;
  pidFile: string;
  rm?: RemoveOnExit;
}

export function supervisorOrder(o: SupervisorOrder): string[] {
  const env = Object.entries(o.env).map(([k, v]) => `${k}=${v}`);
  const remove = o.rm ? [process.execPath, CTNET_BIN, o.rm.root, o.rm.hostNetns, o.rm.id] : ['', '', '', '', ''];
  // `supervise`'s arguments end the order; the 0 before `remove` is how many restarts came before.
  return [o.netns ?? '', o.log, String(env.length), ...env, o.spec, o.status, String(o.restartMax), o.pidFile, '0', ...remove];
}

/** Where a detached container's exit status goes: beside its log. */
export const statusFileOf = (logPath: string): string => join(dirname(logPath), 'exit-status');

function readNumber(path: string): number | null {
  const text = readTextOr(path).trim();
  const n = Number(text);
  return text !== '' && Number.isInteger(n) ? n : null;
}

export const readExitStatus = (logPath: string | null): number | null => (logPath ? readNumber(statusFileOf(logPath)) : null);
/** Where a detached container's supervisor counts its restarts. */
export const restartsFileOf = (logPath: string): string => `${statusFileOf(logPath)}.restarts`;
export const readRestarts = (logPath: string | null): number => (logPath ? readNumber(restartsFileOf(logPath)) ?? 0 : 0);
