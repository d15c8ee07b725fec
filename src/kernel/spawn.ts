import type { ChildProcess, StdioOptions } from 'node:child_process';
import { childProcess } from './child-process.js';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CommandStartError } from '../errors.js';
import { setCloexec } from './libc.js';
import { withNetns, withNewUts, type NetnsHandle } from './netns.js';

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
  /** The hostname of the new UTS namespace the process starts in. */
  hostname: string;
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
  const child = withNetns(req.netns, () => withNewUts(req.hostname, start));
  if (child.pid === undefined) {
    child.once('error', () => { /* reported below */ });
    throw new CommandStartError('CTNET_COMMAND_NOT_EXECUTABLE', `command ${req.command[0]} could not be started; check that it runs on this host`);
  }
  return child;
}

/** Starts a program with the caller's terminal (exec into a container); no descriptor of ctnet's leaks into it. */
export function spawnWithTerminal(argv: readonly string[], env: Record<string, string>): ChildProcess {
  closeOnExecAll();
  const [program, ...args] = argv;
  return childProcess().spawn(program, args, { env, stdio: 'inherit' });
}
