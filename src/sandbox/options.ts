import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errors.js';

/** The run options that shape what a container sees and uses, parsed as Docker spells them. */

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** Below this, the command cannot even be loaded (Docker's minimum too). */
const MIN_MEMORY = 6 * 1024 ** 2;

/** `--memory 64m`: bytes, or a number with b, k, m or g. */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`--memory ${text} is not a size; give bytes or a number with k, m or g, e.g. --memory 64m`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  if (bytes < MIN_MEMORY) throw new InvalidArgumentError(`--memory ${text} is below the minimum of 6m; give at least --memory 6m`);
  // The kernel's memory counters take at most 2^63 bytes; a size past 2^53 (8 PiB) is a typo, not a limit.
  if (bytes > Number.MAX_SAFE_INTEGER) throw new InvalidArgumentError(`--memory ${text} is larger than any host; give a size such as --memory 512m, or no --memory for no limit`);
  return bytes;
}

/** `--cpus 0.5`: a share of CPUs, more than 0 and at most the CPUs this host has. */
export function parseCpus(text: string, hostCpus = availableParallelism()): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || !(n > 0)) throw new InvalidArgumentError(`--cpus ${text} is not a number of CPUs above 0, e.g. --cpus 0.5`);
  if (n > hostCpus) throw new InvalidArgumentError(`--cpus ${text} is more than the ${hostCpus} CPUs of this host; give at most --cpus ${hostCpus}`);
  if (n * 100_000 < 1000) throw new InvalidArgumentError(`--cpus ${text} is below the kernel's minimum of 0.01`);
  return n;
}

/** `--pids-limit 100`: how many processes (and threads) the container may have at once. */
export function parsePidsLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new InvalidArgumentError(`--pids-limit ${text} is not a whole number of processes of at least 1, e.g. --pids-limit 100`);
  return n;
}

export interface Volume {
  source: string;
  target: string;
  readOnly: boolean;
}

/** `-v HOSTPATH:PATH[:ro|rw]`, both absolute. */
export function parseVolume(text: string): Volume {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw new InvalidArgumentError(`-v ${text} is not HOSTPATH:PATH[:ro], e.g. -v /srv/data:/data:ro`);
  }
  const [source, target, mode = 'rw'] = parts;
  if (!source.startsWith('/')) throw new InvalidArgumentError(`-v ${text}: the host path ${source} must be absolute, e.g. -v $PWD/${source}:${target}`);
  if (!target.startsWith('/')) throw new InvalidArgumentError(`-v ${text}: the container path ${target} must be absolute, e.g. /${target}`);
  if (mode !== 'ro' && mode !== 'rw') throw new InvalidArgumentError(`-v ${text}: the mode ${mode} is not ro or rw`);
  if (target.split('/').includes('..')) throw new InvalidArgumentError(`-v ${text}: the container path must not contain ..`);
  if (/^\/+$/.test(target)) throw new InvalidArgumentError(`-v ${text}: the container path cannot be /; mount below it, e.g. ${source}:/data`);
  return { source, target: target.replace(/\/+$/, '') || '/', readOnly: mode === 'ro' };
}

export interface UserSpec {
  uid: number;
  gid: number;
}

/** One line of /etc/passwd or /etc/group: name, then the numeric id in `idField`. */
function lookup(table: string, name: string, idField: number): { id: number; fields: string[] } | undefined {
  for (const line of table.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length > idField) return { id: Number(fields[idField]), fields };
  }
  return undefined;
}

function byUid(passwd: string, uid: number): { id: number; fields: string[] } | undefined {
  const fields = passwd.split('\n').map((l) => l.split(':')).find((f) => f.length > 3 && Number(f[2]) === uid && f[2] !== '');
  return fields ? { id: uid, fields } : undefined;
}

/**
 * `--user UID[:GID]` or names, looked up in the container's /etc/passwd and /etc/group (the
 * rootfs's, or the host's). A user given alone gets its primary group, or group 0 when it has no
 * passwd entry (as Docker does).
 */
export function parseUser(text: string, passwd: string, group: string): UserSpec {
  const [u, g, extra] = text.split(':');
  if (!u || extra !== undefined || g === '') throw new InvalidArgumentError(`--user ${text} is not UID[:GID] or NAME[:GROUP], e.g. --user 1000:1000`);
  const byName = /^\d+$/.test(u) ? undefined : lookup(passwd, u, 2);
  if (!/^\d+$/.test(u) && !byName) throw new InvalidArgumentError(`--user ${text}: there is no user ${u} in the container's /etc/passwd; give a numeric uid`);
  const uid = byName ? byName.id : Number(u);
  let gid: number;
  if (g === undefined) gid = Number((byName ?? byUid(passwd, uid))?.fields[3] ?? 0);
  else if (/^\d+$/.test(g)) gid = Number(g);
  else {
    const found = lookup(group, g, 2);
    if (!found) throw new InvalidArgumentError(`--user ${text}: there is no group ${g} in the container's /etc/group; give a numeric gid`);
    gid = found.id;
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new InvalidArgumentError(`--user ${text}: ids must be below 4294967295`);
  return { uid, gid };
}
