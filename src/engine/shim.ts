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
 * The supervisor of a detached container is ctnet's Perl program in its `supervise` mode
 * (src/sandbox/ctnet-sandbox.pl), no process of ctnet's: it forks the container's PID 1 itself,
 * then, as a Perl of a few lines, passes SIGTERM/SIGINT on to that PID 1, restarts a container that
 * failed up to N times (the network namespace stays, since the supervisor lives on), and writes the
 * exit status where reconcile and `wait` read it. A first start that never ran the command (its PID
 * is written at ctnet-init's gate: ctnet gave up on the container or died while making its network)
 * is not restarted. With --rm it then starts `ctnet rm` in a session of its own.
 * It was /bin/sh starting ctnet-init, which forked PID 1 from a process of its own: three programs
 * started before the command could run (~10 ms of every `run -d`), and three processes kept.
 */
export function supervisorCommand(specFile: string, statusFile: string, restartMax: number, pidFile: string, rm?: RemoveOnExit): string[] {
  const remove = rm ? [process.execPath, CTNET_BIN, rm.root, rm.hostNetns, rm.id] : ['', '', '', '', ''];
  // The last number is how many restarts came before: none at the first start.
  return sandboxCommand('supervise', [specFile, statusFile, String(restartMax), pidFile, '0', ...remove]);
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
