import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { CommandStartError, ContainerSetupError } from '../errors.js';
import { exists, readTextOr } from '../kernel/files.js';
import { closeGate, closeReadiness, passGate, readinessNow, readinessOf, type DetachedStart } from '../kernel/spawn.js';

/**
 * A container's process as its start holds it. ctnet-init waits at its gate (fd 4) for one byte
 * before it becomes the command, so the command never sees its network half made; it closes the
 * readiness pipe (fd 3) by that exec, or writes into it why it could not set the container up.
 */
export interface ContainerProcess {
  /** The host PID of what ctnet started: a detached container's supervisor, or ctnet-init. */
  readonly pid: number;
  /** A foreground container's Node handle (its exit, its streams); a detached one has none. */
  readonly handle?: ChildProcess;
  /** Lets the command run. A container that failed its setup meanwhile closed the gate: the readiness pipe says why. */
  openGate(): void;
  /** A process whose gate did not open: the gate closes (ctnet-init then ends without running the command, also if the kill misses it) and it is killed (with its supervisor). */
  abandon(): void;
  /** Resolves once the command runs, or rejects with the one-line reason ctnet-init gave; closes the readiness pipe. */
  started(): Promise<void>;
  /** The same, blocking this thread (a detached container only): for a caller with nothing else to do meanwhile. */
  readonly startedNow?: () => void;
}

function killGroupOrProcess(pid: number, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, 'SIGKILL');
  } catch {
    // ended already
  }
}

/**
 * What ctnet-init said through the readiness pipe: nothing when the command runs, else its exit code
 * and its line. 126 and 127 (the command cannot be started in the container) are the command's
 * errors, as Docker reports them; any other is the container's setup's (125).
 */
function check(said: string): void {
  if (!said.trim()) return;
  const [, code, line] = /^(\d+) (.*)$/s.exec(said.trim()) ?? ['', '125', said.trim()];
  const message = line.replace(/^ctnet: error: /, '');
  if (code === '126') throw new CommandStartError('CTNET_COMMAND_NOT_EXECUTABLE', message);
  if (code === '127') throw new CommandStartError('CTNET_COMMAND_NOT_FOUND', message);
  throw new ContainerSetupError(message);
}
const settle = async (said: string): Promise<void> => check(said);

/**
 * The readiness pipe also ends with nothing said when ctnet-init is killed before the command runs
 * (a seccomp profile that forbids a call it makes after loading it, a kill): PID 1 writes its PID
 * file just before it becomes the command, so an empty one then means the command never ran. (A
 * container directory already gone is a --rm container that ran and was removed.) A command that
 * ended at once may have been restarted already: the supervisor empties the file then (the PID it
 * names has ended), and the next PID 1 until its gate, but only after counting the restart, which it
 * makes only of a start that ran the command.
 */
export function checkRan(said: string, pidFile: string, restartsFile: string): void {
  check(said);
  if (exists(dirname(pidFile)) && readTextOr(pidFile).trim() === '' && readTextOr(restartsFile).trim() === '') {
    throw new ContainerSetupError("the container's first process ended before it ran the command (it was killed, or its seccomp profile forbids a system call ctnet-init makes after loading it)");
  }
}

/**
 * A detached container's supervisor, started by posix_spawn (kernel/spawn.ts); `pidFile` is where
 * its PID 1 writes its PID, `restartsFile` where the supervisor counts restarts.
 */
export function detachedProcess(d: DetachedStart, pidFile: string, restartsFile: string): ContainerProcess {
  return {
    pid: d.pid,
    openGate: () => passGate(d),
    abandon() {
      closeGate(d);
      closeReadiness(d);
      killGroupOrProcess(d.pid, true);
    },
    started: () => readinessOf(d).then((said) => checkRan(said, pidFile, restartsFile)),
    startedNow: () => checkRan(readinessNow(d), pidFile, restartsFile),
  };
}

/** A foreground container's ctnet-init, started by Node (its streams may be the caller's terminal). */
export function foregroundProcess(child: ChildProcess): ContainerProcess {
  const gate = child.stdio[4] as Duplex | null | undefined;
  return {
    pid: child.pid as number,
    handle: child,
    openGate() {
      if (!gate) return;
      gate.on('error', () => {});
      gate.end('g', () => gate.destroy());
    },
    abandon() {
      gate?.destroy();
      killGroupOrProcess(child.pid as number, false);
    },
    started() {
      const pipe = child.stdio[3] as Readable | null | undefined;
      if (!pipe) return Promise.resolve();
      return new Promise<string>((resolve) => {
        let said = '';
        pipe.on('data', (d: Buffer) => (said += d.toString()));
        pipe.on('error', () => resolve(''));
        pipe.on('end', () => {
          pipe.destroy();
          resolve(said);
        });
      }).then(settle);
    },
  };
}
