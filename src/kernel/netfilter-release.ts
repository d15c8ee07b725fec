import { closeSync, readdirSync, readlinkSync } from 'node:fs';
import { NETLINK_NETFILTER } from './netlink/nft-elements.js';
import { isNetlinkSocket } from './netlink/socket.js';
import { pipe, posixSpawn } from './posix-spawn.js';
import { closeOnExecAll } from './spawn.js';

/**
 * The program that holds the sockets: it reads its input (a pipe from here) until this process
 * closes it, then ends. Any program that does only that would do; cat is on every host.
 */
const HOLDER = '/bin/cat';

/**
 * Closes this process's nf_tables netlink sockets (`netfilter`) and whatever else `closeOwn` closes,
 * without waiting for the kernel's clean-up of nf_tables.
 *
 * The last close of a NETLINK_NETFILTER socket makes nf_tables finish freeing the transactions
 * committed before it, anyone's (its release notifier flushes the destroy work, which waits for an RCU
 * grace period): closing the socket a container's removal had just changed a set through took 15-35
 * ms here, a third of an `rm -f`, and `network create`'s libnftables context as long. The change is
 * applied by then; only the kernel's memory is left to free. A holder process started with copies
 * of the sockets ends once this process has closed its own, so the last close, and the wait, is its.
 * When it cannot be started, the sockets are closed here, waiting as before.
 */
export function closeNetfilterSockets(netfilter: readonly number[], closeOwn: () => void): void {
  const holder = netfilter.length > 0 ? startHolder(netfilter) : undefined;
  try {
    closeOwn();
  } finally {
    // Its input ends only now: our copies are closed, so its are the last.
    if (holder !== undefined) closeSync(holder);
  }
}

/** Starts the holder with `fds` as its 3, 4, ...; returns the write end of its input, or undefined if it could not start. */
function startHolder(fds: readonly number[]): number | undefined {
  let input: [number, number];
  try {
    input = pipe();
  } catch {
    return undefined;
  }
  try {
    // It gets exactly its input, /dev/null and the sockets (libnftables opens its socket without close-on-exec).
    closeOnExecAll();
    posixSpawn({ argv: [HOLDER], env: {}, fds: [input[0], null, null, ...fds], setsid: true });
    return input[1];
  } catch {
    closeSync(input[1]);
    return undefined;
  } finally {
    closeSync(input[0]);
  }
}

/** The nf_tables netlink sockets this process has opened since `before` (openDescriptors) was taken. */
export function netfilterSocketsSince(before: ReadonlyMap<number, string>): number[] {
  return [...openDescriptors()].filter(([fd, what]) => before.get(fd) !== what && isNetlinkSocket(fd, NETLINK_NETFILTER)).map(([fd]) => fd);
}

/**
 * What each descriptor of this process is (its /proc/self/fd link): a number alone is no identity,
 * the one that listed them (closed at once) is the next one opened.
 */
export function openDescriptors(): Map<number, string> {
  const open = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      open.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the listing's own descriptor, closed since
    }
  }
  return open;
}
