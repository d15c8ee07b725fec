import { closeSync, constants, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { KernelError } from '../errors.js';
import { openDetachedProc } from './libc.js';

/**
 * sysctls through /proc/sys; net.* keys belong to the network namespace of the calling thread. A key
 * is dotted (net.ipv4.ip_forward) or, where an interface name may hold a dot, slashed (net/ipv6/conf/eth0.5/accept_ra).
 */
const relativePath = (key: string): string => (key.includes('/') ? key : key.replace(/\./g, '/'));

/**
 * A namespace's per-interface sysctl directories, opened once: a path under /proc/sys is looked up
 * component by component, and the kernel keeps one `ipv6`/`conf` entry per network namespace on the
 * host, all alike, so each look-up of a new interface's entry compared against every namespace's
 * (0.06 ms with a few namespaces, 0.9 ms with 1,000; through a directory held open it stays 0.07).
 * A directory is opened at its first use, which must be with the calling thread in the namespace
 * the directories are for; from then on its entries are that namespace's, whatever the thread's.
 */
export class SysctlDirs implements SysctlPaths {
  private readonly fds = new Map<string, number>();

  /** The path a key is read and written through: under a held directory when it is an interface's. */
  pathOf(key: string): string {
    const rel = relativePath(key);
    const dir = /^net\/ipv[46]\/conf(?=\/[^/]+\/)/.exec(rel)?.[0];
    if (!dir) return `/proc/sys/${rel}`;
    let fd = this.fds.get(dir);
    if (fd === undefined) {
      fd = openSync(`/proc/sys/${dir}`, constants.O_RDONLY | constants.O_DIRECTORY);
      this.fds.set(dir, fd);
    }
    return `/proc/self/fd/${fd}${rel.slice(dir.length)}`;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/**
 * How many look-ups one private instance serves before it is replaced (each new namespace adds
 * entries to it): 16 containers' keys (a container's is written once).
 */
const LOOKUPS_PER_INSTANCE = 16;

/**
 * Sysctls of namespaces seen once (a container's, new at each attach) through a proc instance of
 * this process's own, mounted nowhere. Through the host's /proc, the first look-up in a namespace
 * compares against the entries every namespace looked up before left there (a container's
 * disable_ipv6 at 999 containers: 1.9 ms; and every namespace's eth0 entry sits in one hash chain:
 * 3 ms a look-up at 1,500 namespaces); in an instance that only saw the last few namespaces it
 * stays flat (0.16 ms), so a container's interface can be born eth0 (no rename, no look-up of its
 * index). Where the kernel gives no instance, keys go through /proc/sys.
 */
export class PrivateProcSys implements SysctlPaths {
  private root: number | undefined;
  private served = 0;
  private unavailable = false;

  pathOf(key: string): string {
    if (this.unavailable) return `/proc/sys/${relativePath(key)}`;
    if (this.root === undefined || this.served >= LOOKUPS_PER_INSTANCE) {
      this.close();
      this.root = openDetachedProc();
      if (this.root === undefined) {
        this.unavailable = true;
        return this.pathOf(key);
      }
    }
    this.served++;
    return `/proc/self/fd/${this.root}/sys/${relativePath(key)}`;
  }

  close(): void {
    if (this.root !== undefined) closeSync(this.root);
    this.root = undefined;
    this.served = 0;
  }
}

/** Where a key is read and written: a held directory, a private instance, or /proc/sys itself. */
export interface SysctlPaths {
  pathOf(key: string): string;
}

const pathIn = (key: string, dirs?: SysctlPaths): string => (dirs ? dirs.pathOf(key) : `/proc/sys/${relativePath(key)}`);

export function readSysctl(key: string, dirs?: SysctlPaths): string | undefined {
  try {
    return readFileSync(pathIn(key, dirs), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function writeSysctl(key: string, value: string, dirs?: SysctlPaths): void {
  if (!writeSysctlIfPresent(key, value, dirs)) throw new KernelError(`setting ${key}=${value}: ENOENT`);
}

/** Writes a key that may not exist (an interface's IPv6 keys on a host without IPv6): false when it does not. */
export function writeSysctlIfPresent(key: string, value: string, dirs?: SysctlPaths): boolean {
  try {
    writeFileSync(pathIn(key, dirs), value);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new KernelError(`setting ${key}=${value}: ${code ?? err}`);
  }
}

/**
 * A key read at every attach (the host's receive backlog): its file held open and read again from
 * offset 0, one system call where readFileSync makes four; each read gives the current value. Opened
 * at the first read, in the calling thread's network namespace then.
 */
export class HeldSysctl {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(64);

  constructor(private readonly key: string) {}

  read(): string | undefined {
    try {
      this.fd ??= openSync(`/proc/sys/${relativePath(this.key)}`, constants.O_RDONLY);
      return this.buffer.toString('utf8', 0, readSync(this.fd, this.buffer, 0, this.buffer.length, 0)).trim();
    } catch {
      return undefined;
    }
  }
}
