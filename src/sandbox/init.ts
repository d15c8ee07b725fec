import { closeSync, existsSync, fstatSync, lstatSync, openSync, mkdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MNT_DETACH, clearCloexec, setCloexec, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_REC, errno, errnoName, libc } from '../kernel/libc.js';
import type { InitSpec } from './spec.js';

/**
 * ctnet-init: the container's first process. It starts as PID 1 of a new PID namespace, in new
 * mount and IPC namespaces (made by `unshare`), inside the container's network and UTS namespaces
 * (made by ctnet). It builds the container's view of the filesystem, enters its cgroups, becomes
 * its user and then replaces itself with the command (execve), which so is PID 1 inside, as in
 * `docker run`. Nothing of Node stays behind.
 */

/** A failure before the command runs; the exit codes are Docker's: 125 setup, 126 cannot run, 127 not found. */
export class InitError extends Error {
  constructor(message: string, readonly exitCode = 125) {
    super(message);
  }
}

const AT_FDCWD = -100;
const AT_RECURSIVE = 0x8000;
const MOUNT_ATTR_RDONLY = 1n;
const SYS_MOUNT_SETATTR = 442;
const SYS_PIVOT_ROOT = process.arch === 'arm64' ? 41 : 155;
const SIGPIPE = 13;
const SIGXFSZ = 25;

function sys(result: number, what: string): void {
  if (result < 0) throw new InitError(`${what}: ${errnoName(errno())}`);
}

function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  sys(libc().mount(source, target, fstype, flags, data), `mounting ${fstype ?? source} on ${target}`);
}

const bind = (source: string, target: string): void => mount(source, target, null, MS_BIND | MS_REC);

/** Makes the mount at `path` (and with `tree` every mount below it) read-only or writable (mount_setattr, Linux 5.12). */
function setReadOnly(path: string, readOnly: boolean, tree: boolean): void {
  const attr = Buffer.alloc(32); // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(MOUNT_ATTR_RDONLY, readOnly ? 0 : 8);
  const flags = tree ? AT_RECURSIVE : 0;
  sys(libc().syscall(SYS_MOUNT_SETATTR, 'int', AT_FDCWD, 'const char *', path, 'unsigned int', flags, 'void *', attr, 'size_t', attr.length), `making ${path} ${readOnly ? 'read-only' : 'writable'}`);
}

const readOnlyTree = (path: string): void => setReadOnly(path, true, true);

/** A bind of a source in the read-only host tree is born read-only too: a writable one is made so, at its top. */
function bindWritable(source: string, target: string): void {
  bind(source, target);
  setReadOnly(target, false, false);
}

/** A safety net: everything below changes mounts, which must never happen in the host's mount namespace. */
function assertOwnMountNamespace(hostMountNs: number): void {
  if (statSync('/proc/self/ns/mnt').ino === hostMountNs) {
    throw new InitError('ctnet-init runs in the host mount namespace; it must be started by ctnet inside unshare --mount');
  }
}

/**
 * A path inside the rootfs, created when missing (a directory, or an empty file for a file mount).
 * Symbolic links are refused on the way: one pointing outside would make ctnet write host files.
 */
function ensureInRoot(root: string, path: string, kind: 'dir' | 'file'): string {
  const parts = path.split('/').filter(Boolean);
  let current = root;
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    const last = i === parts.length - 1;
    let st;
    try {
      st = lstatSync(current);
    } catch {
      if (last && kind === 'file') writeFileSync(current, '', { flag: 'a' });
      else mkdirSync(current);
      continue;
    }
    if (st.isSymbolicLink()) throw new InitError(`${path} in the rootfs goes through the symbolic link ${current}; ctnet does not follow links when it mounts; make it a directory`);
  }
  return current;
}

/** The network namespace's own sysfs (what /sys/class/net shows), read-only. */
function sysfs(target: string): void {
  // EBUSY: this very sysfs is mounted there already (started under ip netns exec): keep it.
  if (libc().mount('sysfs', target, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, null) < 0 && errnoName(errno()) !== 'EBUSY') sys(-1, `mounting sysfs on ${target}`);
  readOnlyTree(target);
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

/** A target under one of the container's tmpfs mounts can be made; the rest of the host's tree is read-only. */
const underTmpfs = (spec: InitSpec, path: string): boolean => spec.tmpfs.some((t) => path.startsWith(`${t}/`));

/**
 * Without a rootfs: the host's tree, read-only, with the container's own /proc, /sys, /dev/shm,
 * files, and --tmpfs mounts. Sources are opened first and bound through /proc/self/fd: a tmpfs
 * would otherwise hide a source below it.
 */
function hostRootView(spec: InitSpec): void {
  const opened = new Map([...spec.files.map((f) => f.source), ...spec.volumes.map((v) => v.source)].map((p) => [p, openSync(p, 'r')]));
  const source = (path: string): string => `/proc/self/fd/${opened.get(path)}`;
  readOnlyTree('/');
  mount('proc', '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  sysfs('/sys');
  mount('tmpfs', '/dev/shm', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777');
  if (existsSync('/dev/mqueue')) mount('mqueue', '/dev/mqueue', 'mqueue', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  for (const t of spec.tmpfs) mount('tmpfs', t, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777');
  for (const f of spec.files) if (existsSync(f.path)) bindWritable(source(f.source), f.path);
  for (const v of spec.volumes) {
    if (!existsSync(v.target)) {
      if (!underTmpfs(spec, v.target)) throw new InitError(`mount target ${v.target} does not exist on the host`);
      ensureInRoot('/', v.target, isDirectory(source(v.source)) ? 'dir' : 'file');
    }
    if (v.readOnly) bind(source(v.source), v.target);
    else bindWritable(source(v.source), v.target);
  }
  for (const fd of opened.values()) closeSync(fd);
}

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/** /dev basics: a tmpfs with the host's harmless devices bound in, its own pseudo-terminals and shared memory. */
function devBasics(root: string): void {
  const dev = ensureInRoot(root, '/dev', 'dir');
  mount('tmpfs', dev, 'tmpfs', MS_NOSUID, 'mode=755');
  for (const d of DEVICES) {
    writeFileSync(join(dev, d), '');
    bind(`/dev/${d}`, join(dev, d));
  }
  for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']]) {
    symlinkSync(target, join(dev, name));
  }
  for (const d of ['pts', 'shm', 'mqueue']) mkdirSync(join(dev, d));
  mount('devpts', join(dev, 'pts'), 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620');
  mount('tmpfs', join(dev, 'shm'), 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777');
  mount('mqueue', join(dev, 'mqueue'), 'mqueue', MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/** With a rootfs: that directory becomes / (pivot_root), with /proc, /sys, /dev basics, the container's files and mounts. */
function rootfsView(spec: InitSpec, root: string): void {
  bind(root, root); // pivot_root needs the new root to be a mount point
  mount('proc', ensureInRoot(root, '/proc', 'dir'), 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  sysfs(ensureInRoot(root, '/sys', 'dir'));
  devBasics(root);
  for (const t of spec.tmpfs) mount('tmpfs', ensureInRoot(root, t, 'dir'), 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777');
  for (const f of spec.files) bind(f.source, ensureInRoot(root, f.path, 'file'));
  for (const v of spec.volumes) {
    const target = ensureInRoot(root, v.target, isDirectory(v.source) ? 'dir' : 'file');
    bind(v.source, target);
    if (v.readOnly) readOnlyTree(target);
  }
  sys(libc().chdir(root), `entering ${root}`);
  // The old root is stacked on the new one and then detached: nothing of the host stays reachable.
  sys(libc().syscall(SYS_PIVOT_ROOT, 'const char *', '.', 'const char *', '.'), `pivot_root to ${root}`);
  sys(libc().umount2('.', MNT_DETACH), 'detaching the old root');
  sys(libc().chdir('/'), 'entering /');
}

/** Runs the command in place of this process, searching PATH as execvp does. Returns only by throwing. */
function execCommand(command: string[], env: Record<string, string>): never {
  const envp = [...Object.entries(env).map(([k, v]) => `${k}=${v}`), null];
  const argv = [...command, null];
  const candidates = command[0].includes('/') ? [command[0]] : (env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, command[0]));
  let denied: string | undefined;
  for (const path of candidates) {
    libc().execve(path, argv, envp);
    const code = errnoName(errno());
    if (code === 'EACCES') denied = path;
    else if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InitError(`cannot run ${path}: ${code}`, 126);
  }
  if (denied) throw new InitError(`cannot run ${denied}: permission denied`, 126);
  throw new InitError(`command ${command[0]} was not found in the container${command[0].includes('/') ? '' : ' (PATH)'}`, 127);
}

/**
 * The init of --init: a shell that is PID 1 and runs the command in the foreground, so the
 * command keeps its standard input and signal dispositions; while it waits, it reaps every child,
 * orphans adopted by PID 1 included. It exits with the command's status. Signals for the command
 * are sent to it directly (PID 1 ignores those it has no handler for).
 */
const INIT_SCRIPT = '"$@"; exit $?';

function commandOf(spec: InitSpec): string[] {
  return spec.init ? ['/bin/sh', '-c', INIT_SCRIPT, 'ctnet-init', ...spec.command] : spec.command;
}

/**
 * The readiness pipe from ctnet (fd 3; Node makes it a socket pair): closed by execve, so its end
 * tells ctnet the command runs. After a restart by the supervisor, fd 3 is /dev/null.
 */
export const READY_FD = 3;

export function hasReadyPipe(): boolean {
  try {
    const st = fstatSync(READY_FD);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

export function runInit(spec: InitSpec): never {
  if (hasReadyPipe()) setCloexec(READY_FD);
  writeFileSync(spec.pidFile, readlinkSync('/proc/self'));
  assertOwnMountNamespace(spec.hostMountNs);
  // First, while the cgroup tree is in reach and writable. Moving does not move this Node process's
  // memory into the container's account (cgroups charge pages where they were first used), and the
  // command replaces it soon.
  for (const procs of spec.cgroupProcs) writeFileSync(procs, '0'); // 0: the writer, whatever its PID namespace
  if (spec.rootfs) rootfsView(spec, spec.rootfs);
  else hostRootView(spec);
  if (spec.user) {
    sys(libc().setgroups(1, Uint32Array.of(spec.user.gid)), 'setting groups');
    sys(libc().setgid(spec.user.gid), `setting gid ${spec.user.gid}`);
    sys(libc().setuid(spec.user.uid), `setting uid ${spec.user.uid}`);
  }
  // A user may not be allowed into the caller's directory: then /, and if not even that, where it is.
  if (libc().chdir(spec.cwd) < 0) libc().chdir('/');
  for (const fd of [0, 1, 2]) clearCloexec(fd);
  // Node ignores these; ignored signals would stay ignored in the command.
  libc().signal(SIGPIPE, 0);
  libc().signal(SIGXFSZ, 0);
  return execCommand(commandOf(spec), spec.env);
}
