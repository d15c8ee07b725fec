import { koffi } from './koffi.js';
import { KernelError, PermissionError } from '../errors.js';
import { constants as osConstants } from 'node:os';
import type { Socket } from 'node:net';

/** The few libc calls Node has no API for, bound once through koffi on first use. */
interface Libc {
  setns(fd: number, nstype: number): number;
  unshare(flags: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  poll(fds: Buffer, nfds: number, timeout: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  flock(fd: number, op: number): number;
  fcntl(fd: number, cmd: number, ...args: unknown[]): number;
  pthread_sigmask(how: number, set: Buffer | null, old: Buffer | null): number;
  syscall(nr: number, ...args: unknown[]): number;
  ioctl(fd: number, request: number, arg: Buffer | null): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  setxattr(path: string, name: string, value: string, size: number, flags: number): number;
  getxattr(path: string, name: string, value: Buffer, size: number): number;
}

let bound: Libc | undefined;

export function libc(): Libc {
  if (bound) return bound;
  const lib = koffi().load('libc.so.6');
  bound = {
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
    poll: lib.func('int poll(_Inout_ void *fds, unsigned long nfds, int timeout)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    send: lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    close: lib.func('int close(int fd)'),
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    flock: lib.func('int flock(int fd, int op)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
    pthread_sigmask: lib.func('int pthread_sigmask(int how, const void *set, _Out_ void *old)'),
    syscall: lib.func('long syscall(long nr, ...)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ void *len)'),
    setxattr: lib.func('int setxattr(const char *path, const char *name, const char *value, size_t size, int flags)'),
    getxattr: lib.func('intptr_t getxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)'),
  } as Libc;
  return bound;
}

export function errno(): number {
  return koffi().errno();
}

export function errnoName(code: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === code) return name;
  return `errno ${code}`;
}

/** Throws a KernelError (or PermissionError for EPERM/EACCES) when a libc call returned -1. */
export function check(result: number, what: string): number {
  if (result >= 0) return result;
  const code = errno();
  if (code === osConstants.errno.EPERM || code === osConstants.errno.EACCES) {
    throw new PermissionError(`${what}: permission denied; run ctnet as root`);
  }
  throw new KernelError(`${what}: ${errnoName(code)}`, code);
}

export const EINTR = 4;
export const CLONE_NEWNET = 0x40000000;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
const ALL_SIGNALS = Buffer.alloc(128, 0xff); // a full sigset_t; SIGKILL and SIGSTOP stay deliverable

/**
 * Runs `fn` with every signal held back on this thread, delivered as soon as it returns. For
 * library calls that fail with EINTR half-way (libnftables reports an error after the kernel has
 * already committed the transaction).
 */
export function withSignalsBlocked<T>(fn: () => T): T {
  const old = Buffer.alloc(128);
  libc().pthread_sigmask(SIG_BLOCK, ALL_SIGNALS, old);
  try {
    return fn();
  } finally {
    libc().pthread_sigmask(SIG_SETMASK, old, null);
  }
}

export const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

/** An integer option of a socket at SOL_SOCKET (SO_DOMAIN, SO_PROTOCOL, ...); undefined when it cannot be read (not a socket). */
export function intSocketOption(fd: number, name: number): number | undefined {
  const value = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4);
  return libc().getsockopt(fd, SOL_SOCKET, name, value, len) === 0 ? value.readInt32LE(0) : undefined;
}

/** The uid of the process at the other end of a connected unix socket (SO_PEERCRED); undefined if it cannot be read. */
function peerUid(fd: number): number | undefined {
  const cred = Buffer.alloc(12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
  const len = Buffer.alloc(4);
  len.writeUInt32LE(cred.length);
  return libc().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len) === 0 ? cred.readUInt32LE(4) : undefined;
}

/** Whether root is at the other end of a Node socket accepted on a unix socket (false for anything else). */
export function peerIsRoot(socket: Socket): boolean {
  // Node exposes no peer credentials; the descriptor is on the socket's handle.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 && peerUid(fd) === 0;
}

const F_DUPFD_CLOEXEC = 1030;

/** A second descriptor of the same open file or socket, close-on-exec, numbered `lowest` or above: each holder closes its own. */
export function duplicateFd(fd: number, lowest = 0): number {
  return check(libc().fcntl(fd, F_DUPFD_CLOEXEC, 'int', lowest), `copying descriptor ${fd}`);
}

/** Marks a descriptor close-on-exec (some libraries, libnftables among them, open sockets without it). */
export function setCloexec(fd: number): void {
  libc().fcntl(fd, F_SETFD, 'int', FD_CLOEXEC);
}

/** Sets an extended attribute (a `trusted.` one: only root reads or writes it). */
export function setXattr(path: string, name: string, value: string): void {
  check(libc().setxattr(path, name, value, Buffer.byteLength(value), 0), `marking ${path}`);
}

/** An extended attribute's value, or undefined when the file has none by that name. */
export function getXattr(path: string, name: string): string | undefined {
  const buf = Buffer.alloc(256);
  const n = libc().getxattr(path, name, buf, buf.length);
  return n < 0 ? undefined : buf.subarray(0, n).toString();
}

// The new mount API (Linux 5.2); these syscall numbers are the same on every architecture.
const SYS_FSOPEN = 430;
const SYS_FSCONFIG = 431;
const SYS_FSMOUNT = 432;
const FSOPEN_CLOEXEC = 1;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 1;
const MOUNT_ATTR_NOSUID_NODEV_NOEXEC = 0x2 | 0x4 | 0x8;

/**
 * A proc instance of the caller's own: a descriptor of its root, mounted nowhere (gone with the
 * descriptor). Undefined where the kernel refuses it (too old, or a sandbox without the mount API).
 */
export function openDetachedProc(): number | undefined {
  const lib = libc();
  const fs = lib.syscall(SYS_FSOPEN, 'str', 'proc', 'unsigned int', FSOPEN_CLOEXEC);
  if (fs < 0) return undefined;
  try {
    if (lib.syscall(SYS_FSCONFIG, 'int', fs, 'unsigned int', FSCONFIG_CMD_CREATE, 'void *', null, 'void *', null, 'int', 0) < 0) return undefined;
    const root = lib.syscall(SYS_FSMOUNT, 'int', fs, 'unsigned int', FSMOUNT_CLOEXEC, 'unsigned int', MOUNT_ATTR_NOSUID_NODEV_NOEXEC);
    return root < 0 ? undefined : root;
  } finally {
    lib.close(fs);
  }
}
