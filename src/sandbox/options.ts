import { availableParallelism, constants as osConstants } from 'node:os';
import { InvalidArgumentError } from '../errors.js';

/** The run options that shape what a container sees and uses, parsed as Docker spells them. */

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** Below this, the command cannot even be loaded (Docker's minimum too). */
const MIN_MEMORY = 6 * 1024 ** 2;

/** A size as Docker's flags take it (`--memory 64m`, `--shm-size 1g`): bytes, or a number with b, k, m or g. */
function parseSize(flag: string, text: string, min: number, minText: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`${flag} ${text} is not a size; give bytes or a number with k, m or g, e.g. ${flag} 64m`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  if (bytes < min) throw new InvalidArgumentError(`${flag} ${text} is below the minimum of ${minText}; give at least ${flag} ${minText}`);
  // The kernel's counters take at most 2^63 bytes; a size past 2^53 (8 PiB) is a typo, not a limit.
  if (bytes > Number.MAX_SAFE_INTEGER) throw new InvalidArgumentError(`${flag} ${text} is larger than any host; give a size such as ${flag} 512m`);
  return bytes;
}

/** `--memory 64m`: at least 6m. */
export const parseMemory = (text: string): number => parseSize('--memory', text, MIN_MEMORY, '6m');

/** `--memory-reservation 256m`: a soft limit, at least one byte. */
export const parseMemoryReservation = (text: string): number => parseSize('--memory-reservation', text, 1, '1b');

/** `--memory-swap 1g` (memory and swap together, at least 6m) or -1 (unlimited swap). */
export const parseMemorySwap = (text: string): number => (text.trim() === '-1' ? -1 : parseSize('--memory-swap', text, MIN_MEMORY, '6m'));

/** `--cpu-shares 512`: a relative CPU weight, Docker's range 2-262144. */
export function parseCpuShares(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 2 || Number(text) > 262144) throw new InvalidArgumentError(`--cpu-shares ${text} is not a weight from 2 to 262144 (1024 is the default), e.g. --cpu-shares 512`);
  return Number(text);
}

/** `--shm-size 1g`: the size of the container's /dev/shm, at least one byte. */
export const parseShmSize = (text: string): number => parseSize('--shm-size', text, 1, '1b');

/** A namespace a container shares instead of having its own: the host's, or another container's (container:ID once the engine found it). */
export type NamespaceShare = 'host' | `container:${string}`;

/**
 * --pid, --ipc and --uts as Docker spells them: host shares the host's namespace, container:NAME
 * (--pid and --ipc) another container's, by the name given (the engine finds it); --ipc shareable
 * is its own that others may join, none its own without /dev/shm; the default (--ipc private, an
 * empty mode) is its own.
 */
export function parseNamespaceModes(req: { pid?: string; ipc?: string; uts?: string }): { pidMode?: NamespaceShare; ipcMode?: NamespaceShare | 'none' | 'shareable'; utsMode?: 'host' } {
  const mode = <T extends string>(flag: string, text: string | undefined, shared: readonly T[], own: readonly string[], container: boolean): T | `container:${string}` | undefined => {
    if (text === undefined || text === '' || own.includes(text)) return undefined;
    if ((shared as readonly string[]).includes(text)) return text as T;
    if (container && /^container:./.test(text)) return text as `container:${string}`;
    const choices = [...shared, ...(container ? ['container:NAME'] : []), ...own].join(', ');
    throw new InvalidArgumentError(`--${flag} ${text} is not a mode ctnet knows: give one of ${choices} (default: the container's own)`);
  };
  const pidMode = mode('pid', req.pid, ['host'] as const, [], true);
  const ipcMode = mode('ipc', req.ipc, ['host', 'none', 'shareable'] as const, ['private'], true);
  const utsMode = mode('uts', req.uts, ['host'] as const, [], false) as 'host' | undefined;
  return { ...(pidMode ? { pidMode } : {}), ...(ipcMode ? { ipcMode } : {}), ...(utsMode ? { utsMode } : {}) };
}

/** `--cpus 0.5`: a share of CPUs, more than 0 and at most the CPUs this host has. */
export function parseCpus(text: string, hostCpus = availableParallelism()): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || !(n > 0)) throw new InvalidArgumentError(`--cpus ${text} is not a number of CPUs above 0, e.g. --cpus 0.5`);
  if (n > hostCpus) throw new InvalidArgumentError(`--cpus ${text} is more than the ${hostCpus} CPUs of this host; give at most --cpus ${hostCpus}`);
  if (n * 100_000 < 1000) throw new InvalidArgumentError(`--cpus ${text} is below the kernel's minimum of 0.01`);
  return n;
}

/** The numbers of a kernel list (0-3,8), or undefined when it is not one (a range backwards or past 4096 numbers). */
function listNumbers(text: string): number[] | undefined {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) return undefined;
  const numbers: number[] = [];
  for (const part of text.split(',')) {
    const [first, last = first] = part.split('-').map(Number);
    if (last < first || numbers.length + last - first > 4096) return undefined;
    for (let n = first; n <= last; n++) numbers.push(n);
  }
  return numbers;
}

/** `--cpuset-cpus 0-1,3` or `--cpuset-mems 0`: CPUs or memory nodes the host has (`available`, as the kernel lists them). */
export function parseCpuset(flag: '--cpuset-cpus' | '--cpuset-mems', text: string, available: string): string {
  const what = flag === '--cpuset-cpus' ? 'CPU' : 'memory node';
  const given = text.trim();
  const numbers = listNumbers(given);
  if (!numbers) throw new InvalidArgumentError(`${flag} ${text} is not a list of ${what}s; give numbers and ranges, e.g. ${flag} 0-1,3`);
  const have = new Set(listNumbers(available) ?? []);
  const missing = numbers.filter((n) => !have.has(n));
  if (missing.length) throw new InvalidArgumentError(`${flag} ${text}: this host has no ${what} ${missing.join(',')} (it has ${available}); give ${what}s it has`);
  return given;
}

/** `--cpu-period 50000`: the CFS period in microseconds, Docker's range 1000-1000000. */
export function parseCpuPeriod(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1000 || n > 1_000_000) throw new InvalidArgumentError(`--cpu-period ${text} is not a period from 1000 to 1000000 microseconds (100000 is the default), e.g. --cpu-period 50000`);
  return n;
}

/** `--cpu-quota 25000`: CPU microseconds in each period, at least 1000; -1 is none. */
export function parseCpuQuota(text: string): number {
  const n = Number(text);
  if (text.trim() === '-1') return -1;
  if (!/^\d+$/.test(text.trim()) || n < 1000) throw new InvalidArgumentError(`--cpu-quota ${text} is not a quota of at least 1000 microseconds per period (-1: none), e.g. --cpu-quota 50000`);
  return n;
}

/** `--pids-limit 100`: how many processes (and threads) the container may have at once. */
export function parsePidsLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new InvalidArgumentError(`--pids-limit ${text} is not a whole number of processes of at least 1, e.g. --pids-limit 100`);
  return n;
}

// Mount flags (sys/mount.h) a --tmpfs option sets or clears.
const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8;
const TMPFS_FLAGS: Record<string, [set: number, clear: number]> = {
  ro: [MS_RDONLY, 0], rw: [0, MS_RDONLY], noexec: [MS_NOEXEC, 0], exec: [0, MS_NOEXEC], nosuid: [MS_NOSUID, 0], suid: [0, MS_NOSUID], nodev: [MS_NODEV, 0],
};
const TMPFS_DATA: Record<string, [pattern: RegExp, example: string]> = {
  size: [/^\d+[kmg%]?$/i, 'size=64m (bytes, or with k, m, g or % of memory)'],
  mode: [/^[0-7]{3,4}$/, 'mode=1777 (octal)'],
  uid: [/^\d+$/, 'uid=1000'],
  gid: [/^\d+$/, 'gid=1000'],
  nr_inodes: [/^\d+[kmg]?$/i, 'nr_inodes=10k'],
};

/** `--tmpfs PATH[:OPTIONS]`, Docker's spelling: the path, and the options as given (validated). */
export function parseTmpfs(text: string): { path: string; options: string } {
  const at = text.indexOf(':');
  const path = (at < 0 ? text : text.slice(0, at)).replace(/\/+$/, '');
  const options = at < 0 ? '' : text.slice(at + 1);
  if (!path.startsWith('/') || path.split('/').includes('..')) throw new InvalidArgumentError(`--tmpfs ${path || '/'} must be an absolute path below /, e.g. --tmpfs /tmp`);
  if (at >= 0) tmpfsMount(options, `--tmpfs ${text}`);
  return { path, options };
}

/**
 * The mount flags and data of a tmpfs with these options: nosuid and nodev, writable, mode 1777
 * unless they say otherwise. `what` names the option in an error.
 */
export function tmpfsMount(options: string, what = `--tmpfs options ${options}`): { flags: number; data: string } {
  let flags = MS_NOSUID | MS_NODEV;
  const data = new Map<string, string>([['mode', '1777']]);
  for (const option of options === '' ? [] : options.split(',')) {
    const [key, value] = option.split(/=(.*)/s);
    if (value === undefined && Object.hasOwn(TMPFS_FLAGS, key)) {
      flags = (flags | TMPFS_FLAGS[key][0]) & ~TMPFS_FLAGS[key][1];
    } else if (value !== undefined && Object.hasOwn(TMPFS_DATA, key)) {
      const [pattern, example] = TMPFS_DATA[key];
      if (!pattern.test(value)) throw new InvalidArgumentError(`${what}: ${option} is not valid; e.g. ${example}`);
      data.set(key, value);
    } else if (key === 'dev') {
      throw new InvalidArgumentError(`${what}: ctnet mounts a tmpfs nodev (a device node in it cannot be opened); drop dev`);
    } else {
      throw new InvalidArgumentError(`${what}: ${option || 'an empty option'} is not a tmpfs option ctnet knows (${[...Object.keys(TMPFS_FLAGS), ...Object.keys(TMPFS_DATA).map((k) => `${k}=`)].join(', ')})`);
    }
  }
  return { flags, data: [...data].map(([k, v]) => `${k}=${v}`).join(',') };
}

export interface Volume {
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * Docker's `-v` options, by group: each group may be given once. z and Z relabel for SELinux, which
 * ctnet does not run containers under; consistent, cached and delegated are Docker Desktop's for
 * macOS, ignored on Linux as Docker ignores them; every ctnet volume is rprivate.
 */
const NO_PROPAGATION = "is not supported: ctnet's volumes are rprivate (Docker's default); leave it out";
const VOLUME_OPTIONS: readonly { options: readonly string[]; refused?: string }[] = [
  { options: ['ro', 'rw'] },
  { options: ['z', 'Z'] },
  { options: ['consistent', 'cached', 'delegated'] },
  { options: ['private', 'rprivate'] },
  { options: ['slave', 'rslave', 'shared', 'rshared'], refused: `propagation ${NO_PROPAGATION}` },
  { options: ['nocopy'], refused: "is for Docker's named volumes, not a host path; leave it out" },
];

/** `-v HOSTPATH:PATH[:OPTIONS]`, both absolute; OPTIONS Docker's, comma-separated (see VOLUME_OPTIONS). */
export function parseVolume(text: string): Volume {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw new InvalidArgumentError(`-v ${text} is not HOSTPATH:PATH[:OPTIONS], e.g. -v /srv/data:/data:ro`);
  }
  const [source, target, options = ''] = parts;
  if (!source.startsWith('/')) throw new InvalidArgumentError(`-v ${text}: the host path ${source} must be absolute, e.g. -v $PWD/${source}:${target}`);
  checkContainerPath(target, `-v ${text}`);
  const given = options === '' ? [] : options.split(',');
  for (const option of given) {
    const group = VOLUME_OPTIONS.find((g) => g.options.includes(option));
    if (!group) throw new InvalidArgumentError(`-v ${text}: ${option || 'an empty option'} is not a volume option; use ro or rw (Docker's z, Z, rprivate, consistent, cached and delegated are accepted too)`);
    if (group.refused) throw new InvalidArgumentError(`-v ${text}: ${option} ${group.refused}`);
    const same = given.filter((o) => group.options.includes(o));
    if (same.length > 1) throw new InvalidArgumentError(`-v ${text}: ${same.join(' and ')} are one choice; give one of them`);
  }
  return { source, target: target.replace(/\/+$/, ''), readOnly: given.includes('ro') };
}

/** A volume's path in the container: absolute, below / and without `..`. `what` names the option in an error. */
function checkContainerPath(target: string, what: string): void {
  if (!target.startsWith('/')) throw new InvalidArgumentError(`${what}: the container path ${target} must be absolute, e.g. /${target}`);
  if (target.split('/').includes('..')) throw new InvalidArgumentError(`${what}: the container path must not contain ..`);
  if (/^\/+$/.test(target)) throw new InvalidArgumentError(`${what}: the container path cannot be /; mount below it, e.g. /data`);
}

/** Docker's --mount value: comma-separated fields, any of them quoted ("a,b" or "say ""x""") as a CSV field. */
function mountFields(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let field = '';
    if (text[i] === '"') {
      for (i++; i < text.length && !(text[i] === '"' && text[i + 1] !== '"'); i++) field += text[i] === '"' ? text[++i] : text[i];
      if (i >= text.length) throw new InvalidArgumentError(`--mount ${text}: a quote is not closed; close it, e.g. --mount "type=bind,\"source=/a,b\",target=/data"`);
      i++;
      if (i < text.length && text[i] !== ',') throw new InvalidArgumentError(`--mount ${text}: text follows a quoted field; put the whole field in quotes`);
    } else {
      const end = text.indexOf(',', i);
      field = text.slice(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    }
    fields.push(field);
    i++;
  }
  return fields;
}

const TRUE = ['1', 't', 'T', 'true', 'TRUE', 'True'];
const FALSE = ['0', 'f', 'F', 'false', 'FALSE', 'False'];

/**
 * Docker's `--mount`: a bind of a host path or a tmpfs, as the volume or --tmpfs mount it names.
 * Keys are Docker's (type, source|src, target|destination|dst, readonly|ro, bind-propagation,
 * bind-recursive, consistency, tmpfs-size, tmpfs-mode); type=volume is refused: ctnet has no named volumes.
 */
export function parseMount(text: string): { volume: Volume } | { tmpfs: { path: string; options: string } } {
  const fail: (why: string) => never = (why) => {
    throw new InvalidArgumentError(`--mount ${text}: ${why}`);
  };
  const given = new Map<string, string | undefined>();
  for (const field of mountFields(text)) {
    const at = field.indexOf('=');
    const key = (at < 0 ? field : field.slice(0, at)).trim().toLowerCase();
    if (!key) fail('an empty field; give key=value fields separated by commas, e.g. type=bind,source=/srv,target=/data');
    const canonical = ({ src: 'source', destination: 'target', dst: 'target', ro: 'readonly' } as Record<string, string>)[key] ?? key;
    if (given.has(canonical)) fail(`${key} is given twice; give it once`);
    given.set(canonical, at < 0 ? undefined : field.slice(at + 1));
  }
  const flag = (key: string): boolean => {
    if (!given.has(key)) return false;
    const v = given.get(key);
    if (v === undefined || TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    return fail(`${key}=${v} is not true or false`);
  };
  const type = given.get('type');
  if (type === undefined) fail("give type=bind (a host path) or type=tmpfs; Docker's default, a named volume, is not one ctnet has");
  if (type === 'volume') fail('ctnet has no named volumes; give type=bind with a host path as source, e.g. type=bind,source=/srv/data,target=/data');
  if (type !== 'bind' && type !== 'tmpfs') fail(`type=${type} is not bind or tmpfs`);
  const known = type === 'bind' ? ['type', 'source', 'target', 'readonly', 'bind-propagation', 'bind-recursive', 'consistency'] : ['type', 'target', 'readonly', 'consistency', 'tmpfs-size', 'tmpfs-mode'];
  for (const key of given.keys()) {
    if (known.includes(key)) continue;
    if (key.startsWith('volume-')) fail(`${key} is for Docker's named volumes, which ctnet does not have; leave it out`);
    fail(`${key} is not a key of a type=${type} mount; use ${known.join(', ')}`);
  }
  const target = given.get('target');
  if (!target) fail('give target=PATH, the path in the container');
  const consistency = given.get('consistency');
  if (consistency !== undefined && !['default', 'consistent', 'cached', 'delegated'].includes(consistency)) fail(`consistency=${consistency} is not default, consistent, cached or delegated`);
  const readOnly = flag('readonly');
  if (type === 'tmpfs') {
    const options = readOnly ? ['ro'] : [];
    const size = given.get('tmpfs-size');
    if (size !== undefined) {
      const m = /^(\d+)([kmg])?b?$/i.exec(size);
      if (!m) fail(`tmpfs-size=${size} is not a size; give bytes or a number with k, m or g, e.g. tmpfs-size=64m`);
      options.push(`size=${m[1]}${m[2] ?? ''}`);
    }
    const mode = given.get('tmpfs-mode');
    if (mode !== undefined) options.push(`mode=${mode}`);
    checkContainerPath(target, `--mount ${text}`);
    tmpfsMount(options.join(','), `--mount ${text}`);
    return { tmpfs: { path: target.replace(/\/+$/, ''), options: options.join(',') } };
  }
  const propagation = given.get('bind-propagation');
  if (propagation !== undefined && propagation !== 'private' && propagation !== 'rprivate') {
    if (!/^r?(slave|shared)$/.test(propagation)) fail(`bind-propagation=${propagation} is not one of rprivate, private, rshared, shared, rslave, slave`);
    fail(`bind-propagation=${propagation} ${NO_PROPAGATION}`);
  }
  const recursive = given.get('bind-recursive');
  if (recursive !== undefined && recursive !== 'enabled' && !(recursive === 'readonly' && readOnly)) {
    fail(`bind-recursive=${recursive} is not supported: a ctnet volume brings the host's mounts below it, all read-only with readonly; leave it out`);
  }
  const source = given.get('source');
  if (!source) fail('give source=HOSTPATH, the host file or directory to mount');
  if (!source.startsWith('/')) fail(`the host path ${source} must be absolute, e.g. source=$PWD/${source}`);
  checkContainerPath(target, `--mount ${text}`);
  return { volume: { source, target: target.replace(/\/+$/, ''), readOnly } };
}

/** Resource limits (setrlimit's resources) by Docker's --ulimit names. */
export const RLIMITS: Readonly<Record<string, number>> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9, locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
};

/** A --ulimit: the resource's name, soft and hard limits (-1: unlimited). */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** `--ulimit NAME=SOFT[:HARD]`, Docker's: HARD is SOFT when left out, -1 is unlimited. */
export function parseUlimit(text: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`--ulimit ${text} is not NAME=SOFT[:HARD], e.g. --ulimit nofile=65536:65536`);
  const [, name, softText, hardText] = m;
  if (!Object.hasOwn(RLIMITS, name)) throw new InvalidArgumentError(`--ulimit ${text}: ${name} is not a limit; use one of ${Object.keys(RLIMITS).join(', ')}`);
  const [soft, hard] = [softText, hardText ?? softText].map(Number);
  for (const v of [soft, hard]) {
    if (v < -1 || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`--ulimit ${text}: ${v} is not a limit; give a whole number, or -1 for unlimited`);
  }
  if (hard !== -1 && (soft === -1 || soft > hard)) throw new InvalidArgumentError(`--ulimit ${text}: the soft limit is above the hard one; give SOFT:HARD with SOFT at most HARD`);
  return { name, soft, hard };
}

/** The signals a detached container's supervisor passes on to its PID 1 (see ctnet-sandbox.pl). */
const STOP_SIGNALS: Readonly<Record<string, number>> = { HUP: 1, INT: 2, QUIT: 3, USR1: 10, TERM: 15, USR2: 12 };

/** `--stop-signal QUIT` (or SIGQUIT, or 3): what stop sends first; returned as Node names it (SIGQUIT). */
export function parseStopSignal(text: string): NodeJS.Signals {
  const bare = text.toUpperCase().replace(/^SIG/, '');
  const name = /^\d+$/.test(bare) ? Object.keys(STOP_SIGNALS).find((k) => STOP_SIGNALS[k] === Number(bare)) : bare;
  if (name === 'KILL' || bare === '9') throw new InvalidArgumentError(`--stop-signal ${text}: for SIGKILL at once give --stop-timeout 0 instead`);
  if (!name || !Object.hasOwn(STOP_SIGNALS, name)) throw new InvalidArgumentError(`--stop-signal ${text} is not one ctnet passes on; give TERM, INT, QUIT, HUP, USR1 or USR2`);
  return `SIG${name}` as NodeJS.Signals;
}

/** `kill -s HUP` (or SIGHUP, or 1): any signal the host knows, as Node names it (SIGHUP). */
export function parseSignal(text: string): NodeJS.Signals {
  const bare = text.toUpperCase().replace(/^SIG/, '');
  const signals = osConstants.signals as Record<string, number>;
  const name = /^\d+$/.test(bare) ? Object.keys(signals).find((k) => signals[k] === Number(bare)) : `SIG${bare}`;
  if (!name || !Object.hasOwn(signals, name)) throw new InvalidArgumentError(`--signal ${text} is not a signal; give a name or number, e.g. --signal HUP or --signal 9`);
  return name as NodeJS.Signals;
}

/** `--stop-timeout 30`: seconds stop waits before SIGKILL, when its -t is not given. */
export function parseStopTimeout(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`--stop-timeout ${text} is not a whole number of seconds, e.g. --stop-timeout 30`);
  return Number(text);
}

/** A --device as given: the host's node, where the container sees it, what the cgroup lets it do (r, w, m). */
export interface DeviceRequest {
  path: string;
  target: string;
  perms: string;
}

/** `--device HOST[:CONTAINER][:PERMS]`, Docker's: CONTAINER is HOST when left out, PERMS rwm. */
export function parseDevice(text: string): DeviceRequest {
  const parts = text.split(':');
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`--device ${text}: ${why}`);
  };
  if (parts.length > 3 || !parts[0]) fail('give HOSTPATH[:CONTAINERPATH][:PERMS], e.g. --device /dev/net/tun');
  const [path] = parts;
  // HOST:PERMS when the second part is permissions, as Docker reads it.
  const [target, perms] = parts.length === 3 ? [parts[1], parts[2]] : parts.length === 2 && /^[rwm]+$/.test(parts[1]) ? [path, parts[1]] : [parts[1] ?? path, 'rwm'];
  if (!path.startsWith('/')) fail(`the host path ${path} must be absolute, e.g. /dev/${path}`);
  if (!/^\/dev\/[^/]/.test(target) || target.split('/').includes('..') || /^\/dev\/(pts|shm|mqueue)(\/|$)/.test(target)) {
    fail(`${target} is not a path ctnet can give it in the container: give one below /dev (not /dev/pts, /dev/shm or /dev/mqueue)`);
  }
  if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) fail(`${perms} is not permissions; give some of r, w and m, e.g. rw`);
  return { path, target: target.replace(/\/+$/, ''), perms };
}

/** The IPC namespace's sysctls, Docker's list: what a container with an IPC namespace of its own may set. */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/** Whether --sysctl KEY=VALUE is one of the IPC namespace's (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*). */
export const isIpcSysctl = (text: string): boolean => {
  const key = text.slice(0, Math.max(text.indexOf('='), 0));
  return IPC_SYSCTLS.includes(key) || /^fs\.mqueue\.[a-z_]+$/.test(key);
};

/** An IPC --sysctl as ctnet-init writes it: its /proc/sys path (kernel/shmmax) and a one-line value. */
export function parseIpcSysctl(text: string): { key: string; value: string } {
  const eq = text.indexOf('=');
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (value === '' || /[\n\0]/.test(value)) throw new InvalidArgumentError(`--sysctl ${key}: give a value on one line, e.g. ${key}=1`);
  return { key, value };
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
 * The supplementary groups of a container's process, as Docker gives them: those /etc/group lists
 * its user in (found by uid), then each --group-add (a gid, or a name in /etc/group).
 */
export function supplementaryGroups(uid: number, added: readonly string[], passwd: string, group: string): number[] {
  const name = byUid(passwd, uid)?.fields[0];
  const rows = group.split('\n').map((l) => l.split(':')).filter((f) => f.length > 3 && /^\d+$/.test(f[2]));
  const member = name === undefined ? [] : rows.filter((f) => f[3].split(',').includes(name)).map((f) => Number(f[2]));
  const extra = added.map((g) => {
    if (/^\d+$/.test(g)) {
      if (Number(g) > 0xfffffffe) throw new InvalidArgumentError(`--group-add ${g}: ids must be below 4294967295`);
      return Number(g);
    }
    const found = lookup(group, g, 2);
    if (!found) throw new InvalidArgumentError(`--group-add ${g}: there is no group ${g} in the container's /etc/group; give a numeric gid`);
    return found.id;
  });
  return [...new Set([...member, ...extra])];
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
