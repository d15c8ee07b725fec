import { closeSync, existsSync, fstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLONE_NEWCGROUP, MNT_DETACH, clearCloexec, setCloexec, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_REC, errno, errnoName, libc } from '../kernel/libc.js';
import { confine, prepare } from './confine.js';
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
const MOUNT_ATTR_RDONLY = 0x1n;
const MOUNT_ATTR_NODEV = 0x4n;
const MS_RDONLY = 1;
const O_PATH = 0o10000000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_WRONLY = 1;
const SYS_MOUNT_SETATTR = 442;
const SYS_PIVOT_ROOT = process.arch === 'arm64' ? 41 : 155;
const TIOCSCTTY = 0x540e;
const SIGPIPE = 13;
const SIGXFSZ = 25;

/** Docker's masked paths (oci defaults): files of the kernel a container has no business reading. */
const MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
/** Docker's read-only paths: the kernel's knobs (sysctls, sysrq, IRQs), readable but not writable. */
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
/** The devices every container gets (runc's defaults, without the host's others), bound from the host's /dev. */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

function sys(result: number, what: string): void {
  if (result < 0) throw new InitError(`${what}: ${errnoName(errno())}`);
}

function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  sys(libc().mount(source, target, fstype, flags, data), `mounting ${fstype ?? source} on ${target}`);
}

const bind = (source: string, target: string): void => mount(source, target, null, MS_BIND | MS_REC);

/** Sets and clears mount attributes of the mount at `path` (with `tree`, of every mount below it too): mount_setattr, Linux 5.12. */
function setMountAttrs(path: string, set: bigint, clear: bigint, tree: boolean): void {
  const attr = Buffer.alloc(32); // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(set, 0);
  attr.writeBigUInt64LE(clear, 8);
  const flags = tree ? AT_RECURSIVE : 0;
  sys(libc().syscall(SYS_MOUNT_SETATTR, 'int', AT_FDCWD, 'const char *', path, 'unsigned int', flags, 'void *', attr, 'size_t', attr.length), `changing the mount flags of ${path}`);
}

const readOnlyTree = (path: string): void => setMountAttrs(path, MOUNT_ATTR_RDONLY, 0n, true);

/** A bind of a source in the read-only host tree is born read-only too: a writable one is made so, at its top. */
function bindWritable(source: string, target: string): void {
  bind(source, target);
  setMountAttrs(target, 0n, MOUNT_ATTR_RDONLY, false);
}

/** A safety net: everything below changes mounts, which must never happen in the host's mount namespace. */
function assertOwnMountNamespace(hostMountNs: number): void {
  if (statSync('/proc/self/ns/mnt').ino === hostMountNs) {
    throw new InitError('ctnet-init runs in the host mount namespace; it must be started by ctnet inside unshare --mount');
  }
}

/** An O_PATH descriptor of `path`: a handle that mounts can use through /proc/self/fd without opening the file. */
function openPath(path: string): number {
  const fd = libc().openat(AT_FDCWD, path, O_PATH | O_CLOEXEC, 0);
  sys(fd, `opening ${path}`);
  return fd;
}

const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;

/**
 * A path inside the rootfs, created when missing (a directory, or an empty file for a file mount),
 * walked one component at a time from a descriptor of the root with O_NOFOLLOW, and returned as a
 * descriptor: what gets mounted is what was checked, whatever the container changes meanwhile
 * (runc's fix for CVE-2021-30465). A symbolic link on the way is refused: one pointing outside
 * would make ctnet mount over host files.
 */
function openInRoot(rootFd: number, path: string, kind: 'dir' | 'file'): { parent: number; name: string; fd: number } {
  const parts = path.split('/').filter(Boolean);
  let parent = -1;
  let dir = libc().openat(rootFd, '.', O_PATH | O_CLOEXEC, 0);
  sys(dir, 'opening the rootfs');
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    let fd = libc().openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0 && errnoName(errno()) === 'ENOENT') {
      if (last && kind === 'file') {
        const created = libc().openat(dir, part, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644);
        sys(created, `creating ${path} in the rootfs`);
        closeSync(created);
      } else {
        sys(libc().mkdirat(dir, part, 0o755), `creating ${path} in the rootfs`);
      }
      fd = libc().openat(dir, part, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    }
    sys(fd, `opening ${path} in the rootfs`);
    if (parent >= 0) closeSync(parent);
    parent = dir;
    dir = fd;
    if (fstatSync(fd).isSymbolicLink()) {
      closeSync(fd);
      closeSync(parent);
      throw new InitError(`${path} in the rootfs goes through the symbolic link ${parts.slice(0, i + 1).join('/')}; ctnet does not follow links when it mounts; make it a directory`);
    }
  }
  return { parent, name: parts[parts.length - 1], fd: dir };
}

/**
 * Mounts onto a path of the rootfs through a descriptor of it. A magic link (/proc/self/fd/N)
 * leads to what the descriptor holds, not to what is mounted on it since: `configure` gets the new
 * mount through its name looked up again in the held parent (a mount point cannot be renamed).
 */
function mountInRoot(rootFd: number, path: string, kind: 'dir' | 'file', doMount: (target: string) => void, configure?: (mounted: string) => void): void {
  const { parent, name, fd } = openInRoot(rootFd, path, kind);
  try {
    doMount(fdPath(fd));
    if (!configure) return;
    const mounted = libc().openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    sys(mounted, `opening ${path} in the rootfs`);
    try {
      configure(fdPath(mounted));
    } finally {
      closeSync(mounted);
    }
  } finally {
    closeSync(fd);
    closeSync(parent);
  }
}

/** The network namespace's own sysfs (what /sys/class/net shows), read-only unless privileged. */
function sysfs(target: string, writable: boolean): void {
  // EBUSY: this very sysfs is mounted there already (started under ip netns exec): keep it.
  if (libc().mount('sysfs', target, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, null) < 0 && errnoName(errno()) !== 'EBUSY') sys(-1, `mounting sysfs on ${target}`);
  if (!writable) readOnlyTree(target);
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

/** A target under one of the container's tmpfs mounts (its own /run included) can be made; the rest of the host's tree is read-only. */
const underTmpfs = (spec: InitSpec, path: string): boolean => [...spec.tmpfs, '/run'].some((t) => path.startsWith(`${t}/`));

/** Host files a container's mounts come from, opened before any mount can hide them. */
interface Sources {
  of(path: string): string;
  devices: Map<string, number>;
  close(): void;
}

function openSources(spec: InitSpec): Sources {
  const opened = new Map([...spec.files.map((f) => f.source), ...spec.volumes.map((v) => v.source)].map((p) => [p, openPath(p)]));
  const devices = new Map(spec.privileged ? [] : DEVICES.map((d) => [d, openPath(`/dev/${d}`)]));
  // run -t: its terminal is also /dev/console, as in Docker, so ttyname(3) finds it inside.
  // Opened by its name in this mount namespace: the descriptor itself belongs to ctnet's namespace's devpts mount, which cannot be bound here.
  if (spec.terminal && !spec.privileged) devices.set('console', openPath(readlinkSync(fdPath(0))));
  return {
    of: (path) => fdPath(opened.get(path) as number),
    devices,
    close: () => { for (const fd of [...opened.values(), ...devices.values()]) closeSync(fd); },
  };
}

/**
 * /dev: the host's whole /dev for a privileged container (as Docker); otherwise a tmpfs with the
 * harmless devices bound in from the host, its own pseudo-terminals, shared memory and message
 * queues. The tmpfs is nodev: a device node made in it (CAP_MKNOD) cannot be opened; the bound
 * nodes keep the host's devtmpfs flags.
 */
function ownDev(dev: string, sources: Sources, privileged: boolean): void {
  if (privileged) return bind('/dev', dev);
  mount('tmpfs', dev, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, DEV_TMPFS);
  devNodes(dev, sources);
}

const DEV_TMPFS = 'mode=755,size=65536k';

function devNodes(dev: string, sources: Sources): void {
  for (const [name, fd] of sources.devices) {
    writeFileSync(join(dev, name), '');
    mount(fdPath(fd), join(dev, name), null, MS_BIND);
    setMountAttrs(join(dev, name), 0n, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, false);
  }
  for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']]) {
    symlinkSync(target, join(dev, name));
  }
  for (const d of ['pts', 'shm', 'mqueue']) mkdirSync(join(dev, d));
  mount('devpts', join(dev, 'pts'), 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620');
  mount('tmpfs', join(dev, 'shm'), 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=1777');
  mount('mqueue', join(dev, 'mqueue'), 'mqueue', MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/** Masked and read-only kernel files, Docker's lists; a privileged container sees them as they are. */
function protectKernelFiles(): void {
  for (const path of MASKED_PATHS) {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) mount('tmpfs', path, 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=0');
    else mount('/dev/null', path, null, MS_BIND);
  }
  for (const path of READONLY_PATHS) {
    if (!existsSync(path)) continue;
    bind(path, path);
    readOnlyTree(path);
  }
}

/** Covers a host directory with an empty read-only tmpfs (ctnet's state, /run's sockets and namespaces). */
function hide(path: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) mount('tmpfs', path, 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=0,mode=755');
}

/** The host's mount of a kernel filesystem, detached before the container's own goes in its place, so no umount can bring it back. */
function detach(path: string): void {
  libc().umount2(path, MNT_DETACH); // EINVAL: not a mount point here
}

/**
 * Without a rootfs: the host's tree, read-only, with the container's own /proc, /sys, /dev, /run,
 * files, and --tmpfs mounts; ctnet's state directory is covered. Sources are opened first and
 * bound through /proc/self/fd: a tmpfs would otherwise hide a source below it.
 */
function hostRootView(spec: InitSpec, sources: Sources): void {
  readOnlyTree('/');
  detach('/proc');
  mount('proc', '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  detach('/sys');
  sysfs('/sys', spec.privileged);
  ownDev('/dev', sources, spec.privileged);
  mount('tmpfs', '/run', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=755,size=65536k');
  for (const t of spec.tmpfs) mount('tmpfs', t, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777');
  for (const f of spec.files) if (existsSync(f.path)) bindWritable(sources.of(f.source), f.path);
  for (const v of spec.volumes) {
    if (!existsSync(v.target)) {
      if (!underTmpfs(spec, v.target)) throw new InitError(`mount target ${v.target} does not exist on the host`);
      const root = openPath('/');
      try {
        const made = openInRoot(root, v.target, isDirectory(sources.of(v.source)) ? 'dir' : 'file');
        closeSync(made.fd);
        closeSync(made.parent);
      } finally {
        closeSync(root);
      }
    }
    if (v.readOnly) bind(sources.of(v.source), v.target);
    else bindWritable(sources.of(v.source), v.target);
    if (!spec.privileged) setMountAttrs(v.target, MOUNT_ATTR_NODEV, 0n, true);
  }
  // Last, so no recursive bind copies the cover; a directory the user mounts in on purpose stays.
  const chosen = [...spec.tmpfs, ...spec.volumes.map((v) => v.target)];
  for (const path of spec.hide) if (!chosen.some((t) => t === path || t.startsWith(`${path}/`) || path.startsWith(`${t}/`))) hide(path);
}

/** With a rootfs: that directory becomes / (pivot_root), with /proc, /sys, /dev, the container's files and mounts. */
function rootfsView(spec: InitSpec, root: string, sources: Sources): void {
  bind(root, root); // pivot_root needs the new root to be a mount point
  if (!spec.privileged) setMountAttrs(root, MOUNT_ATTR_NODEV, 0n, true);
  const rootFd = openPath(root);
  try {
    mountInRoot(rootFd, '/proc', 'dir', (t) => mount('proc', t, 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC));
    mountInRoot(rootFd, '/sys', 'dir', (t) => sysfs(t, true), (m) => { if (!spec.privileged) readOnlyTree(m); });
    if (spec.privileged) mountInRoot(rootFd, '/dev', 'dir', (t) => bind('/dev', t));
    else mountInRoot(rootFd, '/dev', 'dir', (t) => mount('tmpfs', t, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, DEV_TMPFS), (m) => devNodes(m, sources));
    for (const t of spec.tmpfs) mountInRoot(rootFd, t, 'dir', (p) => mount('tmpfs', p, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777'));
    for (const f of spec.files) mountInRoot(rootFd, f.path, 'file', (t) => bind(sources.of(f.source), t));
    for (const v of spec.volumes) {
      mountInRoot(rootFd, v.target, isDirectory(sources.of(v.source)) ? 'dir' : 'file', (t) => bind(sources.of(v.source), t), (m) => {
        const set = (v.readOnly ? MOUNT_ATTR_RDONLY : 0n) | (spec.privileged ? 0n : MOUNT_ATTR_NODEV);
        if (set) setMountAttrs(m, set, 0n, true);
      });
    }
  } finally {
    closeSync(rootFd);
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

/** Reads the spec ctnet wrote for this container (0600, in its state directory: never on a command line, where every user could read its environment). */
export function readSpec(path: string): InitSpec {
  return JSON.parse(readFileSync(path, 'utf8')) as InitSpec;
}

export function runInit(spec: InitSpec): never {
  if (hasReadyPipe()) setCloexec(READY_FD);
  writeFileSync(spec.pidFile, readlinkSync('/proc/self'));
  assertOwnMountNamespace(spec.hostMountNs);
  // No controlling terminal: the caller's terminal cannot be driven from inside (TIOCSTI needs it, or CAP_SYS_ADMIN).
  libc().setsid();
  if (spec.terminal) sys(libc().ioctl(0, TIOCSCTTY, null), 'taking the pseudo-terminal');
  // First, while the cgroup tree is in reach and writable. Moving does not move this Node process's
  // memory into the container's account (cgroups charge pages where they were first used), and the
  // command replaces it soon.
  for (const procs of spec.cgroupProcs) writeFileSync(procs, '0'); // 0: the writer, whatever its PID namespace
  // Its cgroups are then the root of its own cgroup namespace (/proc/self/cgroup shows /).
  if (spec.cgroupProcs.length) sys(libc().unshare(CLONE_NEWCGROUP), 'making the cgroup namespace');
  const prepared = prepare(spec.security, (p) => readFileSync(p), readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const sources = openSources(spec);
  if (spec.rootfs) rootfsView(spec, spec.rootfs, sources);
  else hostRootView(spec, sources);
  sources.close();
  if (!spec.privileged) protectKernelFiles();
  try {
    confine(prepared, spec.user);
  } catch (err) {
    throw new InitError((err as Error).message);
  }
  // A user may not be allowed into the caller's directory: then /, and if not even that, where it is.
  if (libc().chdir(spec.cwd) < 0) libc().chdir('/');
  for (const fd of [0, 1, 2]) clearCloexec(fd);
  // Node ignores these; ignored signals would stay ignored in the command.
  libc().signal(SIGPIPE, 0);
  libc().signal(SIGXFSZ, 0);
  return execCommand(commandOf(spec), spec.env);
}
