import type { ChildProcess } from 'node:child_process';
import { readFrom } from '../kernel/files.js';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { netnsPath } from '../kernel/netns.js';
import { isAlive, processStartTime } from '../kernel/proc.js';
import { resolveCommand, spawnWithTerminal } from '../kernel/spawn.js';
import { execCommand, pid1Of } from './sandbox.js';
import { type ContainerRecord } from '../store/store.js';
import { containerEnv } from './container-env.js';
import type { EngineContext } from './context.js';
import { findContainer, liveState } from './lookup.js';
import { readExitStatus } from './shim.js';
import { markExited, removeContainerNow } from './teardown.js';
import { signalCommand, signalContainer } from './signals.js';

/** What happens to a container after it started: it exits, is stopped, removed, exec'd into, read. */

/** Called when a foreground container's process ends. */
export function containerExited(ctx: EngineContext, id: string, exitCode: number): void {
  ctx.locked(() => ctx.warnAll(markExited(ctx, id, exitCode)));
}

type Identity = { pid: number | null; start: string | null };

/**
 * What a container's end is waited for on: its supervisor (or ctnet-init), and its PID 1, which
 * ends only once everything else in its PID namespace has (it leaves its cgroup before that wait).
 * PID 1's start time is read while its supervisor lives, so a PID given away later holds no wait.
 */
function endsOf(root: string, c: ContainerRecord): Identity[] {
  const pid1 = pid1Of(root, c);
  return [{ pid: c.pid, start: c.pidStart }, ...(pid1 ? [{ pid: pid1, start: processStartTime(pid1) ?? null }] : [])];
}

async function waitGone(ends: Identity[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  // A killed process is mostly gone within a millisecond or two: looked at again soon, then every 5 ms.
  for (let pause = 1; ends.some((e) => isAlive(e.pid, e.start)); pause = Math.min(pause * 2, 5)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pause));
  }
  return true;
}

/** Ends a container's process: its stop signal (SIGTERM unless --stop-signal), then SIGKILL after `timeoutSeconds`. Returns the signal that ended it. */
async function terminate(root: string, c: ContainerRecord, timeoutSeconds: number): Promise<NodeJS.Signals | undefined> {
  if (!isAlive(c.pid, c.pidStart)) return undefined;
  const ends = endsOf(root, c);
  const first = timeoutSeconds > 0 ? (c.sandbox.stopSignal ?? 'SIGTERM') : 'SIGKILL';
  signalContainer(root, c, first);
  if (await waitGone(ends, timeoutSeconds * 1000)) return first;
  signalContainer(root, c, 'SIGKILL');
  await waitGone(ends, 5000);
  return 'SIGKILL';
}

/** Stops a container; without `timeoutSeconds`, its --stop-timeout or 10, as Docker's stop. */
export async function stopContainer(ctx: EngineContext, nameOrId: string, timeoutSeconds?: number): Promise<ContainerRecord> {
  if (timeoutSeconds !== undefined && (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0)) throw new InvalidArgumentError(`--time ${timeoutSeconds} is not a number of seconds >= 0`);
  const c = findContainer(ctx, nameOrId);
  if (c.state !== 'running') return c;
  if (c.kind !== 'process') throw new ConflictError(noProcess(c));
  const signal = await terminate(ctx.root, c, timeoutSeconds ?? c.sandbox.stopTimeout ?? 10);
  recordEnd(ctx, c, signal === 'SIGKILL');
  return c;
}

/** Records a container's end; one SIGKILL ended wrote no status (its supervisor went too): 128 + 9, as a shell reports it. */
function recordEnd(ctx: EngineContext, c: ContainerRecord, killed: boolean): void {
  const code = killed && readExitStatus(c.logPath) === null ? 137 : null;
  ctx.locked(() => ctx.warnAll(markExited(ctx, c.id, code)));
}

/**
 * `kill`: a signal to a running container's command, at once, as Docker's kill. SIGKILL and the
 * container's stop signal end it for good: its supervisor takes the stop signal as a stop (no
 * restart), and SIGKILL ends the supervisor too, so the exit (137) is recorded here. Any other
 * signal goes to the command alone, and the restart policy stays (Docker's "non-fatal" signals).
 */
export async function killContainer(ctx: EngineContext, nameOrId: string, signal: NodeJS.Signals): Promise<ContainerRecord> {
  const c = findContainer(ctx, nameOrId);
  if (c.kind !== 'process' && c.state === 'running') throw new ConflictError(noProcess(c));
  if (liveState(c) !== 'running') throw new ConflictError(`container ${c.name} is not running; kill signals a running container's command`);
  if (signal !== 'SIGKILL' && signal !== (c.sandbox.stopSignal ?? 'SIGTERM')) {
    signalCommand(ctx.root, c, signal);
    return c;
  }
  if (signal !== 'SIGKILL') {
    signalContainer(ctx.root, c, signal);
    return c;
  }
  const ends = endsOf(ctx.root, c);
  signalContainer(ctx.root, c, signal);
  await waitGone(ends, 5000);
  recordEnd(ctx, c, true);
  return c;
}

/** Why a network-only container (CNI or the engine's attach) has nothing to stop or exec into. */
function noProcess(c: ContainerRecord): string {
  const owner = c.kind === 'cni' ? `a runtime's (CNI) attachment; DEL it through the runtime` : `a network-only container; remove it with ctnet rm ${c.name}`;
  return `container ${c.name} has no process of ctnet's: it is ${owner}, or enter it with nsenter --net=${netnsPath(c.netns ?? '')}`;
}

/** Removes containers; running ones only with `force`. All names are checked before anything is removed. */
export async function removeContainers(ctx: EngineContext, names: readonly string[], force: boolean): Promise<ContainerRecord[]> {
  const targets = names.map((n) => findContainer(ctx, n));
  for (const c of targets) {
    if (liveState(c) === 'running' && !force) {
      throw new ConflictError(`container ${c.name} is running; stop it first with ctnet stop ${c.name}, or use ctnet rm -f ${c.name}`);
    }
  }
  for (const c of targets) {
    // Marked first: killed from here on, the next command finishes the removal.
    if (!ctx.dryRun) ctx.locked(() => ctx.store.transaction(() => ctx.store.markRemoving(c.id)));
    ctx.crashPoint();
    await terminate(ctx.root, c, 0);
    ctx.locked(() => {
      const current = ctx.store.getContainer(c.id);
      if (current) removeContainerNow(ctx, current);
    });
  }
  return targets;
}

/** Removes a network-only container (made by attach): its network pieces and its record. Repeatable. */
export function detachNetworkOnly(ctx: EngineContext, nameOrId: string): void {
  ctx.locked(() => {
    const c = findContainer(ctx, nameOrId);
    if (c.kind === 'process' && liveState(c) === 'running') {
      throw new ConflictError(`container ${c.name} has a running process; remove it with ctnet rm -f ${c.name}`);
    }
    removeContainerNow(ctx, c);
  });
}

/** Starts a command inside a running container's namespaces; returns its process. */
export function execInContainer(ctx: EngineContext, nameOrId: string, command: string[]): ChildProcess {
  if (!command.length) throw new InvalidArgumentError('ctnet exec needs a command after the container name, e.g.: ctnet exec web -- ip addr');
  const c = findContainer(ctx, nameOrId);
  if (liveState(c) !== 'running' || !c.netns) throw new ConflictError(`container ${c.name} is not running; start a new one with ctnet run`);
  if (c.kind !== 'process') throw new ConflictError(noProcess(c));
  const env = containerEnv(c);
  resolveCommand(command[0], env.PATH, c.sandbox.rootfs);
  const pid1 = pid1Of(ctx.root, c);
  if (!pid1) throw new ConflictError(`container ${c.name} is starting or ending; try again`);
  return spawnWithTerminal(execCommand(ctx.root, c, pid1, command), env);
}

/** Waits until a container has exited (its state recorded) and returns its exit code. */
export async function waitContainer(ctx: EngineContext, nameOrId: string): Promise<number | null> {
  const c = findContainer(ctx, nameOrId);
  if (c.state === 'running' && c.kind !== 'process') throw new ConflictError(noProcess(c));
  while (liveState(findContainer(ctx, c.id)) === 'running') await new Promise((r) => setTimeout(r, 100));
  const now = findContainer(ctx, c.id);
  if (now.state !== 'exited' && !ctx.dryRun) ctx.locked(() => ctx.warnAll(markExited(ctx, now.id, null)));
  return ctx.store.getContainer(c.id)?.exitCode ?? readExitStatus(c.logPath);
}

/** A detached container's log as it is now, its bytes as the command wrote them. */
export function containerLogs(ctx: EngineContext, nameOrId: string): Buffer {
  const c = findContainer(ctx, nameOrId);
  return (c.logPath ? readFrom(c.logPath, 0) : undefined) ?? Buffer.alloc(0);
}

/**
 * `logs -f`: what a detached container's log gets after `from` (a byte offset), passed to `write`
 * as it comes, until its supervisor has ended (restarts included) and the last of it is read. Ends
 * early when the container is removed (its log goes).
 */
export async function followLogs(ctx: EngineContext, nameOrId: string, from: number, write: (chunk: Buffer) => void): Promise<void> {
  const c = findContainer(ctx, nameOrId);
  if (!c.logPath) return;
  for (let offset = from; ;) {
    // Looked at before the read: what was written before it ended is read after.
    const running = isAlive(c.pid, c.pidStart);
    const chunk = readFrom(c.logPath, offset);
    if (chunk === undefined) return;
    if (chunk.length) write(chunk);
    offset += chunk.length;
    if (!running) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
