import { closeSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { koffi } from './koffi.js';
import { duplicateFd, errnoName } from './libc.js';

/**
 * Starting a process with posix_spawn(3) rather than Node's spawn: glibc starts it with
 * clone(CLONE_VM | CLONE_VFORK), so nothing of this process's ~60-80 MB is copied for it and torn down
 * again at its exec (Node forks: ~7 ms at that size, ~1 ms here), and node:child_process, which brings
 * node:net and the stream modules (~7 ms to load), is not needed. For a detached container's
 * supervisor, which ctnet does not wait for; its exit is reaped here, so a long-lived process (serve,
 * the library) keeps no zombies.
 */

interface Spawn {
  posix_spawn(pid: number[], path: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
  actionsInit(actions: Buffer): number;
  addDup2(actions: Buffer, fd: number, newFd: number): number;
  addOpen(actions: Buffer, fd: number, path: string, flags: number, mode: number): number;
  actionsDestroy(actions: Buffer): number;
  attrInit(attr: Buffer): number;
  setFlags(attr: Buffer, flags: number): number;
  setSigDefault(attr: Buffer, set: Buffer): number;
  setSigMask(attr: Buffer, set: Buffer): number;
  attrDestroy(attr: Buffer): number;
  pipe2(fds: Int32Array, flags: number): number;
  waitpid(pid: number, status: Buffer | null, options: number): number;
}

let bound: Spawn | undefined;

function spawnCalls(): Spawn {
  if (bound) return bound;
  const lib = koffi().load('libc.so.6');
  bound = {
    posix_spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, const void *actions, const void *attr, const char **argv, const char **envp)'),
    actionsInit: lib.func('int posix_spawn_file_actions_init(void *actions)'),
    addDup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    addOpen: lib.func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, uint32_t mode)'),
    actionsDestroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)'),
    attrInit: lib.func('int posix_spawnattr_init(void *attr)'),
    setFlags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    setSigDefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
    setSigMask: lib.func('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
    attrDestroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
    waitpid: lib.func('int waitpid(int pid, _Out_ void *status, int options)'),
  } as Spawn;
  return bound;
}

// glibc's values (the same on x86-64 and arm64).
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
// glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336: room to spare.
const ACTIONS_SIZE = 256;
const ATTR_SIZE = 1024;
const SIGSET_SIZE = 128;

/**
 * The signals the child starts with default handling: all of them. Node ignores SIGPIPE, glibc sets
 * its own two (32 and 33) to ignored in a spawned child unless told otherwise, and an ignored signal
 * stays ignored across exec: the command must start as it would from a shell.
 */
function allSignals(): Buffer {
  const set = Buffer.alloc(SIGSET_SIZE);
  for (let sig = 1; sig <= 64; sig++) if (sig !== osConstants.signals.SIGKILL && sig !== osConstants.signals.SIGSTOP) set[(sig - 1) >> 3] |= 1 << ((sig - 1) & 7);
  return set;
}

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  const r = spawnCalls().pipe2(fds, O_CLOEXEC);
  if (r !== 0) throw new Error(`pipe2: ${errnoName(koffi().errno())}`);
  return [fds[0], fds[1]];
}

export interface PosixSpawnRequest {
  argv: readonly string[];
  env: Record<string, string>;
  /** What each of the child's descriptors 0, 1, 2, ... is: one of this process's, or null for /dev/null. */
  fds: readonly (number | null)[];
  /** In a session of its own (setsid), as Node's `detached`. */
  setsid: boolean;
}

/**
 * Starts `argv[0]` (a path) from the calling thread, so in its namespaces; returns its PID. The child
 * gets exactly the descriptors in `fds`: everything else must be close-on-exec already (closeOnExecAll).
 * Throws errno's name when it could not be started (glibc reports a failed exec here).
 */
export function posixSpawn(req: PosixSpawnRequest): number {
  const calls = spawnCalls();
  const actions = Buffer.alloc(ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  calls.actionsInit(actions);
  calls.attrInit(attr);
  // A source that is itself one of the child's low numbers would be overwritten by an earlier dup2:
  // moved above them first (close-on-exec copies, closed below).
  const moved: number[] = [];
  try {
    const sources = req.fds.map((fd) => {
      if (fd === null || fd >= req.fds.length) return fd;
      const copy = duplicateFd(fd, req.fds.length);
      moved.push(copy);
      return copy;
    });
    sources.forEach((fd, target) => {
      if (fd === null) calls.addOpen(actions, target, '/dev/null', target === 0 ? fsConstants.O_RDONLY : fsConstants.O_WRONLY, 0);
      else calls.addDup2(actions, fd, target);
    });
    calls.setFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (req.setsid ? POSIX_SPAWN_SETSID : 0));
    calls.setSigDefault(attr, allSignals());
    calls.setSigMask(attr, Buffer.alloc(SIGSET_SIZE));
    const pid = [0];
    const envp = [...Object.entries(req.env).map(([k, v]) => `${k}=${v}`), null];
    const err = calls.posix_spawn(pid, req.argv[0], actions, attr, [...req.argv, null], envp);
    if (err !== 0) throw new Error(errnoName(err));
    reapWhenDone(pid[0]);
    return pid[0];
  } finally {
    calls.actionsDestroy(actions);
    calls.attrDestroy(attr);
    for (const fd of moved) closeSync(fd);
  }
}

const spawned = new Set<number>();

/** Collects the exit of every process started here that has ended: Node's libuv reaps only its own children. */
function reapEnded(): void {
  for (const pid of spawned) {
    const r = spawnCalls().waitpid(pid, null, WNOHANG);
    // > 0: collected now; < 0: not ours to collect any more (ECHILD).
    if (r !== 0) spawned.delete(pid);
  }
  if (spawned.size === 0) process.off('SIGCHLD', reapEnded);
}

function reapWhenDone(pid: number): void {
  if (spawned.size === 0) process.on('SIGCHLD', reapEnded);
  spawned.add(pid);
  // A child that ended before the handler was there sent its SIGCHLD to nobody (a busy machine
  // can run the whole child between posix_spawn's return and this): collect it now.
  reapEnded();
}
