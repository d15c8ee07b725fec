import { chmodSync, closeSync, copyFileSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, realpathSync, renameSync, rmdirSync, statSync, unlinkSync, watch, writeFileSync, type Dirent } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MNT_DETACH, libc } from './libc.js';

/**
 * The file system as the engine uses it: ctnet's own files (a container's directory, its spec, log
 * and status, compiled filters) and looks at host paths a user names (--rootfs, -v, --tmpfs).
 */

/** Detaches what is mounted at `path` (nothing when nothing is: EINVAL, ENOENT). */
export function detachMount(path: string): void {
  libc().umount2(path, MNT_DETACH);
}

/** What a file holds from byte `offset` on (empty when nothing more), or undefined when it is gone. */
export function readFrom(path: string, offset: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    // As much as is there now (logs -f asks every 100 ms: nothing is allocated when nothing came).
    const buf = Buffer.alloc(Math.max(fstatSync(fd).size - offset, 0));
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, offset + n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** A file's text, or `fallback` when it cannot be read. */
export function readTextOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** A file's size and modification time, as one string: what changes when the file is written again. */
export function fileVersion(path: string): string {
  const st = statSync(path);
  return `${st.size} ${st.mtimeMs}`;
}

/** What is at a path (following links): its kind and identity (device, inode), or undefined when nothing is. */
export function lookAt(path: string): { dir: boolean; dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return { dir: st.isDirectory(), dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

export const exists = (path: string): boolean => existsSync(path);
export const realPath = (path: string): string => realpathSync(path);

/**
 * Where an absolute path leads: its longest existing part with links resolved, then the rest as
 * given (`/var/run/x` is `/run/x` where /var/run is a link to /run, whether x exists or not).
 */
export function resolvedPath(path: string): string {
  const rest: string[] = [];
  for (let head = path; ; head = dirname(head)) {
    try {
      return join(realpathSync(head), ...rest.reverse());
    } catch {
      if (head === '/') return path;
      rest.push(basename(head));
    }
  }
}

/**
 * A device node's type and numbers (st_rdev as the kernel encodes it: 12 bits of major, 20 of
 * minor, split); undefined: nothing there; null: not a device node.
 */
export function deviceNumbers(path: string): { type: 'c' | 'b'; major: number; minor: number } | null | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) return undefined;
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return null;
  const r = st.rdev;
  return {
    type: st.isCharacterDevice() ? 'c' : 'b',
    major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)), minor: Number((r & 0xffn) | ((r >> 12n) & ~0xffn)),
  };
}

/** A directory only root may enter (and its parents). */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
}

/** A file only root may read (its directory made first); the mode is set even on an older file. */
export function writePrivateFile(path: string, text: string | Buffer): void {
  ensurePrivateDir(dirname(path));
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A file others may read (a container's /etc files, bound into it). */
export function writePlainFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export const copyFile = (from: string, to: string): void => copyFileSync(from, to);
/** Makes a finished file visible under its name at once (a rename: readers never see half of it). */
export const publishFile = (partial: string, path: string): void => renameSync(partial, path);

/**
 * Removes a file or a directory with everything in it; nothing there is fine. A listing with types
 * and one unlink per file: rmSync's recursive removal tries rmdir first and stats every entry (~3-5
 * ms against ~1.5 for a container's directory, in a command's first call).
 */
export function removeTree(path: string): void {
  // Most containers have no directory (network-only, CNI): a failed listing builds an Error with its
  // stack (~8 us warm, ~60 us in a detach), a stat that finds nothing returns undefined (~1 us).
  if (!lstatSync(path, { throwIfNoEntry: false })) return;
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR') throw err;
    gone(() => unlinkSync(path));
    return;
  }
  for (const entry of entries) {
    const inside = join(path, entry.name);
    if (entry.isDirectory()) removeTree(inside);
    else gone(() => unlinkSync(inside));
  }
  gone(() => rmdirSync(path));
}

/** Runs a removal; what is already gone is fine. */
function gone(remove: () => void): void {
  try {
    remove();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** A descriptor appending to a log, for a process's output; close it once the process has it. */
export const openAppend = (path: string): number => openSync(path, 'a');
export const closeFd = (fd: number): void => closeSync(fd);

/** Calls `changed` with the name of each file written in `dir` (inotify); `failed` when the directory cannot be watched, now or later. */
export function watchDirectory(dir: string, changed: (file: string | null) => void, failed: (err: Error) => void): void {
  try {
    watch(dir, (_event, file) => changed(file)).on('error', failed);
  } catch (err) {
    failed(err as Error);
  }
}
