import type { ChildProcess, StdioOptions } from 'node:child_process';
import { childProcess } from './child-process.js';
import { accessSync, closeSync, constants, read, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CommandStartError, ContainerSetupError } from '../errors.js';
import { setCloexec } from './libc.js';
import { pipe, posixSpawn } from './posix-spawn.js';
import { withNetns, type NetnsHandle } from './netns.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the program a container will run, before anything is changed, so a typo changes nothing.
 * With `rootfs`, PATH and absolute paths are looked up in that directory, as the container will.
 */
export function resolveCommand(program: string, path: string, rootfs = ''): string {
  const where = rootfs ? ` in the rootfs ${rootfs}` : '';
  if (program.includes('/')) {
    try {
      statSync(join(rootfs, program));
    } catch {
      throw new CommandStartError('CTNET_COMMAND_NOT_FOUND', rootfs ? `command ${program} was not found${where}; check the path` : `command ${program} does not exist; check the path`);
    }
    if (!isExecutableFile(join(rootfs, program))) throw new CommandStartError('CTNET_COMMAND_NOT_EXECUTABLE', `command ${program}${where} is not an executable file; check its permissions (chmod +x)`);
    return program;
  }
  for (const dir of path.split(delimiter)) {
    if (dir && isExecutableFile(join(rootfs, dir, program))) return join(dir, program);
  }
  throw new CommandStartError('CTNET_COMMAND_NOT_FOUND', `command "${program}" was not found ${rootfs ? `${where.trim()} (PATH)` : 'in PATH'}; check the name or give a full path`);
}

export interface SpawnRequest {
  netns: NetnsHandle;
  command: readonly string[];
  env: Record<string, string>;
  stdio: StdioOptions;
  detached: boolean;
}

/** A container must not inherit ctnet's descriptors: the host lock, netlink sockets, the database. */
export function closeOnExecAll(): void {
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd > 2) setCloexec(fd);
  }
}

/**
 * Forks the process from the main thread while it is inside the container's namespaces, so the
 * child starts there; the main thread is back in the host's namespaces when this returns.
 */
export function spawnInNamespaces(req: SpawnRequest): ChildProcess {
  closeOnExecAll();
  const start = (): ChildProcess =>
    childProcess().spawn(req.command[0], req.command.slice(1), { env: req.env, stdio: req.stdio, detached: req.detached });
  const child = withNetns(req.netns, start);
  if (child.pid === undefined) {
    child.once('error', () => { /* reported below */ });
    throw new CommandStartError('CTNET_COMMAND_NOT_EXECUTABLE', `command ${req.command[0]} could not be started; check that it runs on this host`);
  }
  return child;
}

/** A detached process and its ends of the pipes a container's start uses (ctnet-init's fds 3, 4 and 5). */
export interface DetachedStart {
  pid: number;
  /** Read end of the readiness pipe: ctnet-init writes why it failed, or closes it by its exec. */
  ready: number;
  /** Write end of the gate: ctnet-init runs the command once a byte comes. */
  gate: number;
  /** Write end of the order pipe: what the process waits for before it does anything (sendOrder); -1 once sent. */
  order: number;
}

/**
 * Starts a process that waits, in its own session, for its order on fd 5 (a detached container's
 * supervisor, before its container exists): by posix_spawn, so no copy of this process for it and
 * no node:child_process. It starts in this thread's namespaces with an empty environment and
 * /dev/null for 0, 1 and 2: where it goes, its environment and its output come with the order.
 */
export function spawnWaiting(command: readonly string[]): DetachedStart {
  closeOnExecAll();
  const [readyRead, readyWrite] = pipe();
  const [gateRead, gateWrite] = pipe();
  const [orderRead, orderWrite] = pipe();
  try {
    const pid = posixSpawn({ argv: command, env: {}, fds: [null, null, null, readyWrite, gateRead, orderRead], setsid: true });
    return { pid, ready: readyRead, gate: gateWrite, order: orderWrite };
  } catch (err) {
    for (const fd of [readyRead, gateWrite, orderWrite]) closeSync(fd);
    throw new CommandStartError('CTNET_COMMAND_NOT_EXECUTABLE', `command ${command[0]} could not be started (${(err as Error).message}); check that it runs on this host`);
  } finally {
    for (const fd of [readyWrite, gateRead, orderRead]) closeSync(fd);
  }
}

/** Sends a waiting process its order: the fields, each ending in NUL; closes the pipe. */
export function sendOrder(d: DetachedStart, fields: readonly string[]): void {
  // As in init.spec (sandbox/spec.ts), which is written first and refuses a setting with a NUL.
  if (fields.some((f) => f.includes('\0'))) throw new Error('an order field holds a NUL byte');
  const bytes = Buffer.from(fields.map((f) => `${f}\0`).join(''));
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(d.order, bytes, done);
  } catch (err) {
    // EPIPE: it ended before its order came.
    dismiss(d);
    throw new ContainerSetupError(`the container's supervisor (PID ${d.pid}) ended before it was given its container (${(err as NodeJS.ErrnoException).code ?? err}); run the container again`);
  }
  closeSync(d.order);
  d.order = -1;
}

/** A waiting process that got no order: its pipes close (it then ends by itself) and it is killed now, so nothing of it outlives the command. */
export function dismiss(d: DetachedStart): void {
  if (d.order < 0) return;
  for (const fd of [d.order, d.gate, d.ready]) closeSync(fd);
  d.order = d.gate = d.ready = -1;
  try {
    process.kill(d.pid, 'SIGKILL');
  } catch {
    // ended already
  }
}

/** Writes the gate's byte and closes it. Nobody reading it any more (ctnet-init ended) is no error: the readiness pipe says why. */
export function passGate(d: DetachedStart): void {
  try {
    writeSync(d.gate, 'g');
  } catch {
    // EPIPE
  } finally {
    closeGate(d);
  }
}

export function closeGate(d: DetachedStart): void {
  if (d.gate < 0) return;
  closeSync(d.gate);
  d.gate = -1;
}

export function closeReadiness(d: DetachedStart): void {
  if (d.ready < 0) return;
  closeSync(d.ready);
  d.ready = -1;
}

/** What comes through the readiness pipe until its end (ctnet-init's exec closes it): '' when all went well. */
export function readinessOf(d: DetachedStart): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(4096);
    const done = (): void => {
      closeReadiness(d);
      resolve(Buffer.concat(chunks).toString());
    };
    const next = (): void => {
      if (d.ready < 0) return done();
      read(d.ready, buf, 0, buf.length, null, (err, n) => {
        if (err || n === 0) return done();
        chunks.push(Buffer.from(buf.subarray(0, n)));
        next();
      });
    };
    next();
  });
}

/**
 * The same, blocking this thread: no libuv thread pool is started for it (an asynchronous read
 * starts its four threads, which a 2-CPU machine then runs beside the container's setup).
 */
export function readinessNow(d: DetachedStart): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  try {
    for (let n: number; d.ready >= 0 && (n = readSync(d.ready, buf, 0, buf.length, null)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  } finally {
    closeReadiness(d);
  }
  return Buffer.concat(chunks).toString();
}

/** Starts a program with the caller's terminal (exec into a container); no descriptor of ctnet's leaks into it. */
export function spawnWithTerminal(argv: readonly string[], env: Record<string, string>): ChildProcess {
  closeOnExecAll();
  const [program, ...args] = argv;
  return childProcess().spawn(program, args, { env, stdio: 'inherit' });
}
