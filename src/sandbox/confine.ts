import { addressOf, errno, errnoName, libc } from '../kernel/libc.js';

/**
 * The last steps of a container's first process before it becomes the command: user, capability
 * sets, no-new-privileges and the seccomp filter, in runc's order. Capabilities, the
 * no-new-privileges flag and a filter loaded without TSYNC belong to the calling thread, which is
 * the one that calls execve: Node's other threads end with the exec.
 */

/** What init applies; computed by ctnet at run (see engine/sandbox.ts). */
export interface Confinement {
  /** The capabilities kept, as capset's two words; null: every capability ctnet has (--privileged). */
  capabilities: [number, number] | null;
  noNewPrivileges: boolean;
  /** A compiled filter (struct sock_filter[], written by kernel/seccomp.ts); null: none. */
  seccompFile: string | null;
}

export interface UserIds {
  uid: number;
  gid: number;
}

export class ConfineError extends Error {}

const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAPBSET_DROP = 24;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const SECCOMP_SET_MODE_FILTER = 1;
const SYSCALLS: Record<string, { capget: number; capset: number; seccomp: number }> = {
  x64: { capget: 125, capset: 126, seccomp: 317 },
  arm64: { capget: 90, capset: 91, seccomp: 277 },
};

function nr(): { capget: number; capset: number; seccomp: number } {
  const n = SYSCALLS[process.arch];
  if (!n) throw new ConfineError(`ctnet does not know the syscall numbers of ${process.arch}`);
  return n;
}

function sys(result: number, what: string): void {
  if (result < 0) throw new ConfineError(`${what}: ${errnoName(errno())}`);
}

const header = (): Buffer => {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  return h;
};

/** The permitted set this thread holds now: a container cannot be given more than ctnet has. */
function permitted(): [number, number] {
  const data = Buffer.alloc(24); // two struct __user_cap_data_struct { effective, permitted, inheritable }
  sys(libc().syscall(nr().capget, 'void *', header(), 'void *', data), 'reading capabilities');
  return [data.readUInt32LE(4), data.readUInt32LE(16)];
}

function setCapabilities(words: [number, number]): void {
  const [p0, p1] = permitted();
  const keep = [(words[0] & p0) >>> 0, (words[1] & p1) >>> 0];
  const data = Buffer.alloc(24);
  for (const [i, w] of keep.entries()) {
    data.writeUInt32LE(w, i * 12); // effective
    data.writeUInt32LE(w, i * 12 + 4); // permitted; inheritable stays empty, as in Docker since CVE-2022-24769
  }
  sys(libc().syscall(nr().capset, 'void *', header(), 'void *', data), 'setting capabilities');
}

function dropBoundingSet(words: [number, number], lastCap: number): void {
  for (let cap = 0; cap <= lastCap; cap++) {
    if ((words[cap >> 5] >>> (cap & 31)) & 1) continue;
    sys(libc().prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), `dropping capability ${cap} from the bounding set`);
  }
}

function loadSeccomp(program: Buffer): void {
  const fprog = Buffer.alloc(16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  fprog.writeUInt16LE(program.length / 8, 0);
  fprog.writeBigUInt64LE(addressOf(program), 8);
  sys(libc().syscall(nr().seccomp, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', 0, 'void *', fprog), 'loading the seccomp filter');
}

/** What must be read while the host's files are still in reach (the filter lives in ctnet's state directory). */
export interface Prepared {
  confinement: Confinement;
  program: Buffer | null;
  lastCap: number;
}

export function prepare(confinement: Confinement, readFile: (path: string) => Buffer, lastCapText: string): Prepared {
  return { confinement, program: confinement.seccompFile ? readFile(confinement.seccompFile) : null, lastCap: Number(lastCapText.trim()) };
}

/**
 * Becomes the user and gives up what the container may not have, runc's order: without
 * no-new-privileges the filter goes first, while CAP_SYS_ADMIN still allows loading it; with it,
 * last before execve.
 */
export function confine(p: Prepared, user: UserIds | null): void {
  const { capabilities, noNewPrivileges } = p.confinement;
  if (p.program && !noNewPrivileges) loadSeccomp(p.program);
  if (capabilities) dropBoundingSet(capabilities, p.lastCap);
  if (user) {
    sys(libc().setgroups(1, Uint32Array.of(user.gid)), 'setting groups');
    sys(libc().setgid(user.gid), `setting gid ${user.gid}`);
    sys(libc().setuid(user.uid), `setting uid ${user.uid}`);
  }
  // A user other than root has no capabilities left after setuid, and gets none from execve.
  if (capabilities && (!user || user.uid === 0)) setCapabilities(capabilities);
  sys(libc().prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'clearing ambient capabilities');
  if (noNewPrivileges) sys(libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'setting no-new-privileges');
  if (p.program && noNewPrivileges) loadSeccomp(p.program);
}
