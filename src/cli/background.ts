import { answers } from '../listen.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { ConflictError, KernelError } from '../errors.js';
import { isAlive, processStartTime } from '../kernel/proc.js';
import { startSupervised } from '../kernel/supervise.js';
import { HostLock } from '../store/lock.js';

/** The supervisor recorded in a PID file ("PID START"), if it still runs. */
function runningSupervisor(pidFile: string): number | undefined {
  try {
    const [pid, start] = readFileSync(pidFile, 'utf8').trim().split(' ');
    return isAlive(Number(pid), start ?? null) ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `-d`: this same command, without -d, in the background under ctnet's supervisor (back within a
 * second after any death). Returns once it answers on `socket`; its supervisor's PID goes to `pidFile`.
 */
export async function runInBackground(name: string, socket: string, pidFile: string, logFile: string, quietIfRunning = false): Promise<number> {
  // Starters one at a time (the CNI plugin may start the daemon from several invocations at once).
  const lock = new HostLock(`${pidFile}.lock`);
  lock.acquire();
  try {
    return await startOnce(name, socket, pidFile, logFile, quietIfRunning);
  } finally {
    lock.release();
  }
}

async function startOnce(name: string, socket: string, pidFile: string, logFile: string, quietIfRunning: boolean): Promise<number> {
  const already = runningSupervisor(pidFile);
  if (already && quietIfRunning) return already;
  if (already) throw new ConflictError(`${name} already runs in the background (supervisor PID ${already}); stop it with: kill ${already}`);
  // --auto: the same command in the foreground, verbose (its log says what it served), leaving when idle.
  const auto = process.argv.includes('--auto');
  const args = process.argv.slice(1).filter((a) => a !== '-d' && a !== '--detach' && a !== '--auto');
  if (auto) args.push('--verbose', ...(args.includes('--idle-exit') ? [] : ['--idle-exit', process.env.CTNET_CNI_DAEMON_IDLE ?? '600']));
  const pid = startSupervised(name, [process.execPath, ...args], logFile);
  if (!pid) throw new KernelError(`cannot start ${name} in the background`);
  writeFileSync(pidFile, `${pid} ${processStartTime(pid) ?? ''}\n`, { mode: 0o600 });
  for (let i = 0; i < 100; i++) {
    if (await answers(socket)) return pid;
    if (!isAlive(pid, null)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  try { process.kill(pid, 'SIGTERM'); } catch { /* gave up already */ }
  const tail = (() => { try { return readFileSync(logFile, 'utf8').trim().split('\n').slice(-1)[0]; } catch { return ''; } })();
  throw new KernelError(`${name} did not start in the background${tail ? `: ${tail}` : ''}; see ${logFile}`);
}
