import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';

/** /proc/PID/stat is a few hundred bytes; the kernel gives it whole to one read at offset 0. */
const statBuffer = Buffer.alloc(4096);

/**
 * A process identity that survives PID reuse: the PID plus its start time in clock ticks since boot.
 * Read with one read(2) into a buffer kept for it: reconcile asks this of every running container in
 * every `run` (readFileSync's stat, second read and buffer cost ~30% more, ~20 us a call here).
 */
export function processStartTime(pid: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return undefined;
  }
  try {
    // latin1: the command name before ')' may be any bytes; the fields after it are ASCII.
    const stat = statBuffer.toString('latin1', 0, readSync(fd, statBuffer, 0, statBuffer.length, 0));
    // Field 22 (starttime), counted after the command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The PIDs of a process's children (what /proc/PID/task/PID/children lists). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function isAlive(pid: number | null | undefined, startTime: string | null | undefined): boolean {
  if (!pid) return false;
  const now = processStartTime(pid);
  return now !== undefined && (startTime == null || now === startTime);
}

/**
 * Ends every process whose network namespace is the one at `netnsPath` (a container's, which ctnet
 * created): what a container's command left behind, and what `exec` started in it.
 */
export function killProcessesIn(netnsPath: string): number {
  let link: string;
  try {
    // What /proc/PID/ns/net reads as for a process in it: a readlink per process, where a stat
    // made a Stats object each (this scan runs in every rm, over every process of the host).
    link = `net:[${statSync(netnsPath).ino}]`;
  } catch {
    return 0;
  }
  const self = String(process.pid);
  // A process may be forking while the scan runs: its child is not in this listing and outlives its
  // killed parent. Scanned again until a pass finds nobody (a fork bomb ends at the pass limit).
  let killed = 0;
  for (let pass = 0; pass < 50; pass++) {
    let found = 0;
    for (const entry of readdirSync('/proc')) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57 || entry === self) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/net`) !== link) continue;
        process.kill(Number(entry), 'SIGKILL');
        found++;
      } catch {
        // gone meanwhile, or not ours to see
      }
    }
    killed += found;
    if (found === 0) break;
  }
  return killed;
}

/**
 * The names of the links of the calling thread's network namespace, from its /proc/net/dev: 29 ms
 * for 10,000 links, where a listing over rtnetlink fills every link's attributes (see
 * Rtnl.listLinks: ~1 s). A link's name holds neither ':' nor a blank.
 */
export function linkNamesHere(): string[] {
  return Array.from(readFileSync('/proc/thread-self/net/dev', 'utf8').matchAll(/^\s*([^\s:]+):/gm), (m) => m[1]);
}
