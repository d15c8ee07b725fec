import { closeSync, existsSync, mkdirSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { NETNS_DIR } from '../names.js';
import { NotFoundError } from '../errors.js';
import { CLONE_NEWNET, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED, check, errno, errnoName, libc } from './libc.js';

/**
 * Network namespaces, entered per thread with setns(2). Everything here is synchronous, so no
 * other JavaScript runs while the main thread is inside another namespace, and every switch is
 * undone in a `finally`.
 */

/** An open namespace file descriptor plus the path it came from. `fd === null` means "where ctnet runs". */
export interface NetnsHandle {
  readonly path: string | null;
  readonly fd: number | null;
}

export const CURRENT_NETNS: NetnsHandle = { path: null, fd: null };

/**
 * A named namespace lives in NETNS_DIR; an absolute path (a runtime's namespace) is used as it is.
 * Joined by hand: `ps` asks for every container's, and path.join took ~7 us a call there, cold.
 */
export function netnsPath(name: string): string {
  return name.startsWith('/') ? name : `${NETNS_DIR}/${name}`;
}

export function openNetns(path: string): NetnsHandle {
  try {
    return { path, fd: openSync(path, 'r') };
  } catch {
    throw new NotFoundError(`network namespace ${path} does not exist; create it with ip netns add or unset CTNET_HOST_NETNS`);
  }
}

export function closeNetns(handle: NetnsHandle): void {
  if (handle.fd !== null) closeSync(handle.fd);
}

/**
 * The one place that switches namespaces: runs `enter` then `fn` on the calling thread, and always
 * returns the thread to the namespace it was in (also when `enter` fails half-way).
 */
function within<T>(enter: () => void, fn: () => T): T {
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    try {
      enter();
      return fn();
    } finally {
      // Staying in the wrong namespace would send every later change of this process to the wrong
      // place (CNI's ns package treats it as fatal for the thread too): the process ends here.
      if (libc().setns(home, CLONE_NEWNET) !== 0) {
        process.stderr.write(`ctnet: fatal: cannot return to the original network namespace (${errnoName(errno())}); stopping before anything else changes\n`);
        process.exit(70);
      }
    }
  } finally {
    closeSync(home);
  }
}

/** Runs `fn` with the calling thread inside `ns`, and always switches back. */
export function withNetns<T>(ns: NetnsHandle, fn: () => T): T {
  if (ns.fd === null) return fn();
  return within(() => check(libc().setns(ns.fd as number, CLONE_NEWNET), `entering network namespace ${ns.path}`), fn);
}

/**
 * Makes NETNS_DIR a shared mount point, as `ip netns add` does, so namespaces show in every mount namespace.
 * Once it is one, only its own mount is marked again: a namespace bound under a shared mount is shared
 * from its start, and `ip netns add`'s recursive marking walks every namespace's mount under it, which
 * made creating a namespace cost ~1.4 ms more at 6,000 of them.
 */
function ensureNetnsDir(): void {
  if (!existsSync(NETNS_DIR)) mkdirSync(NETNS_DIR, { recursive: true, mode: 0o755 });
  if (libc().mount('none', NETNS_DIR, null, MS_SHARED, null) === 0) return;
  if (errno() !== osConstants.errno.EINVAL) check(-1, `making ${NETNS_DIR} shared`);
  check(libc().mount(NETNS_DIR, NETNS_DIR, 'none', MS_BIND | MS_REC, null), `bind-mounting ${NETNS_DIR}`);
  check(libc().mount('none', NETNS_DIR, null, MS_SHARED | MS_REC, null), `making ${NETNS_DIR} shared`);
}

/** Creates a named network namespace at NETNS_DIR/name, like `ip netns add name`. */
export function createNamedNetns(name: string): string {
  ensureNetnsDir();
  const path = netnsPath(name);
  writeFileSync(path, '', { flag: 'wx', mode: 0o444 });
  try {
    within(() => check(libc().unshare(CLONE_NEWNET), 'creating a network namespace'), () =>
      check(libc().mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, null), `bind-mounting namespace to ${path}`),
    );
  } catch (err) {
    try { unlinkSync(path); } catch { /* already gone */ }
    throw err;
  }
  return path;
}

/** Removes a named network namespace; a namespace that is already gone counts as removed. */
export function deleteNamedNetns(name: string): void {
  const path = netnsPath(name);
  if (!existsSync(path)) return;
  libc().umount2(path, MNT_DETACH);
  try { unlinkSync(path); } catch { /* already gone */ }
}

export function netnsExists(name: string): boolean {
  return existsSync(netnsPath(name));
}
