import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pauseSync } from './pause.js';

/**
 * Cgroups as this host has them: the unified (v2) hierarchy when it holds the memory controller,
 * otherwise the v1 hierarchies of each controller (a hybrid host, like this project's CI machines,
 * mounts v1 controllers plus an empty v2 tree). Every container ctnet runs gets `ctnet/<id>` in
 * each, so limits apply and `stats` can read what it uses.
 */
export type CgroupVersion = 1 | 2;

export interface CgroupLayout {
  version: CgroupVersion;
  /** v2: the one unified root. v1: the mount point of each controller ctnet uses. */
  roots: { memory?: string; cpu?: string; cpuacct?: string; pids?: string; devices?: string; cpuset?: string; unified?: string };
}

export interface Limits {
  /** Bytes. */
  memory?: number;
  /** CPUs, e.g. 0.5. */
  cpus?: number;
  pidsLimit?: number;
  /** --cpu-shares: a relative weight against other cgroups (1024: the default). */
  cpuShares?: number;
  /** --memory-reservation: bytes the kernel reclaims from it last (a soft limit). */
  memoryReservation?: number;
  /** --memory-swap: bytes of memory and swap together (-1: unlimited swap). */
  memorySwap?: number;
  /** --cpuset-cpus, --cpuset-mems: the CPUs and memory nodes it may use, as the kernel lists them (0-1,3). */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** --cpu-period, --cpu-quota: the CFS period and the CPU time in each, in microseconds (-1: no quota). */
  cpuPeriod?: number;
  cpuQuota?: number;
  /** --oom-kill-disable: at its memory limit the container waits for memory instead of being killed (v1). */
  oomKillDisable?: boolean;
}

const CPU_PERIOD_US = 100_000;
const PARENT = 'ctnet';

let detected: CgroupLayout | null | undefined;

/**
 * The file a process joins a cgroup through by writing 0 (itself). On v1 `tasks`, which moves the
 * writer's thread alone: the kernel does that without taking the lock that stops every fork and exit
 * of the host, which a process's move through cgroup.procs takes and whose taking waits for an RCU
 * grace period (the join cost 7-22 ms of every container start here, through tasks 0.1-1.5 ms).
 * Who joins (ctnet-init, ctnet-enter) is single-threaded Perl, so its thread is all of it. v2
 * has no such file for a domain cgroup.
 */
export const joinFile = (layout: CgroupLayout): string => (layout.version === 1 ? 'tasks' : 'cgroup.procs');

/**
 * This host's cgroups, found once per process; null when no usable hierarchy is mounted. They are
 * looked for where systemd mounts them first, because /proc/self/mountinfo grows with every named
 * network namespace (a mount each): at 5,000 containers reading it took ~17-34 ms of every `run` and `rm`.
 */
export function cgroupLayout(): CgroupLayout | null {
  if (detected !== undefined) return detected;
  detected = layoutAtStandardPlaces(systemCgroupFiles) ?? layoutFromMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'), systemCgroupFiles);
  return detected;
}

/** What layout detection reads of the system: the two readers replace it in tests. */
export interface CgroupFiles {
  /** The file system type (statfs f_type) of `path`, or undefined when it does not exist. */
  fsType(path: string): number | undefined;
  /** The text of a file, or '' when it cannot be read. */
  read(path: string): string;
}

export const systemCgroupFiles: CgroupFiles = {
  fsType: (path) => {
    try {
      return statfsSync(path).type;
    } catch {
      return undefined;
    }
  },
  read: (path) => readOr(path, ''),
};

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;
const STANDARD_ROOT = '/sys/fs/cgroup';
const USED_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'devices', 'cpuset'] as const;
type UsedController = (typeof USED_CONTROLLERS)[number];
const isUsed = (c: string): c is UsedController => (USED_CONTROLLERS as readonly string[]).includes(c);

const pickLayout = (unified: string | undefined, roots: CgroupLayout['roots'], files: CgroupFiles): CgroupLayout | null => {
  if (unified && files.read(join(unified, 'cgroup.controllers')).split(/\s+/).includes('memory')) return { version: 2, roots: { unified } };
  return roots.memory || roots.pids || roots.cpu ? { version: 1, roots } : null;
};

/**
 * The layout when every hierarchy the process is in (/proc/self/cgroup) is mounted where systemd
 * mounts it: the unified one at /sys/fs/cgroup or /sys/fs/cgroup/unified, a v1 one at
 * /sys/fs/cgroup/<its controllers>. Undefined when one is not there, or not a cgroup file system:
 * then mountinfo tells.
 */
export function layoutAtStandardPlaces(files: CgroupFiles): CgroupLayout | null | undefined {
  const lists = files.read('/proc/self/cgroup').split('\n').filter(Boolean).map((line) => line.split(':')[1]);
  if (!lists.length) return undefined;
  let unified: string | undefined;
  if (lists.includes('')) {
    unified = [STANDARD_ROOT, join(STANDARD_ROOT, 'unified')].find((dir) => files.fsType(dir) === CGROUP2_SUPER_MAGIC);
    if (!unified) return undefined;
  }
  const roots: CgroupLayout['roots'] = {};
  for (const list of lists) {
    const used = list.split(',').filter(isUsed);
    if (!used.length) continue;
    const mountPoint = join(STANDARD_ROOT, list);
    if (files.fsType(mountPoint) !== CGROUP_SUPER_MAGIC) return undefined;
    for (const controller of used) roots[controller] ??= mountPoint;
  }
  return pickLayout(unified, roots, files);
}

/** The layout from the text of /proc/self/mountinfo: the first mount of each hierarchy. */
export function layoutFromMountinfo(mountinfo: string, files: CgroupFiles): CgroupLayout | null {
  const roots: CgroupLayout['roots'] = {};
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const mountPoint = left.split(' ')[4];
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype === 'cgroup2') unified ??= mountPoint;
    if (fstype !== 'cgroup') continue;
    for (const option of superOptions.split(',')) if (isUsed(option)) roots[option] ??= mountPoint;
  }
  return pickLayout(unified, roots, files);
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** A container's cgroup as /proc/PID/cgroup shows it from the host's cgroup namespace (the end of a line). */
export const cgroupPathOf = (id: string): string => `/${PARENT}/${id}`;

/** The directories that make up one container's cgroup (one per v1 hierarchy, or the one v2 directory). */
export function cgroupDirs(layout: CgroupLayout, id: string): string[] {
  const mounts = Object.values(layout.roots).filter((r): r is string => r !== undefined);
  return [...new Set(mounts)].map((root) => join(root, PARENT, id));
}

/**
 * v1: whether a container with these limits has a directory in the cpuset hierarchy. A new v1
 * cpuset holds no CPU until one is written, and no process can join it: only a container that asks
 * for CPUs or memory nodes gets one (or every container, where cpuset shares its hierarchy with
 * another controller ctnet uses), with its parent's values unless it asks.
 */
function hasCpusetDir(layout: CgroupLayout, limits: Limits): boolean {
  const { cpuset, ...others } = layout.roots;
  if (layout.version !== 1 || !cpuset) return false;
  return limits.cpusetCpus !== undefined || limits.cpusetMems !== undefined || Object.values(others).includes(cpuset);
}

/** The directories to make for a container with these limits (cgroupDirs, without a cpuset it does not need). */
export function cgroupDirsFor(layout: CgroupLayout, id: string, limits: Limits): string[] {
  const skip = layout.version === 1 && layout.roots.cpuset && !hasCpusetDir(layout, limits) ? join(layout.roots.cpuset, PARENT, id) : undefined;
  return cgroupDirs(layout, id).filter((d) => d !== skip);
}

/** The CPUs and memory nodes of the whole host, as the root cpuset lists them (v1; undefined elsewhere). */
export function hostCpuset(layout: CgroupLayout): { cpus: string; mems: string } | undefined {
  if (layout.version !== 1 || !layout.roots.cpuset) return undefined;
  return { cpus: readOr(join(layout.roots.cpuset, 'cpuset.cpus'), '').trim(), mems: readOr(join(layout.roots.cpuset, 'cpuset.mems'), '').trim() };
}

/**
 * What to write for --cpuset-cpus and --cpuset-mems. v1: ctnet's parent gets the host's CPUs and
 * nodes (a new cpuset has none, and a child may only take its parent's), then the container its
 * own or its parent's. v2: the controller delegated down, then the container's values.
 */
export function cpusetWrites(layout: CgroupLayout, id: string, limits: Limits, hostSet: () => { cpus: string; mems: string } | undefined): [string, string, string][] {
  if (layout.version === 2) {
    if (limits.cpusetCpus === undefined && limits.cpusetMems === undefined) return [];
    const root = layout.roots.unified as string;
    const d = join(root, PARENT, id);
    return [
      [root, 'cgroup.subtree_control', '+cpuset'], [join(root, PARENT), 'cgroup.subtree_control', '+cpuset'],
      ...(limits.cpusetCpus !== undefined ? [[d, 'cpuset.cpus', limits.cpusetCpus] as [string, string, string]] : []),
      ...(limits.cpusetMems !== undefined ? [[d, 'cpuset.mems', limits.cpusetMems] as [string, string, string]] : []),
    ];
  }
  const host = hasCpusetDir(layout, limits) ? hostSet() : undefined;
  if (!host) return [];
  const parent = join(layout.roots.cpuset as string, PARENT);
  return [
    [parent, 'cpuset.cpus', host.cpus], [parent, 'cpuset.mems', host.mems],
    [join(parent, id), 'cpuset.cpus', limits.cpusetCpus ?? host.cpus], [join(parent, id), 'cpuset.mems', limits.cpusetMems ?? host.mems],
  ];
}

/**
 * What to write, file by file, to apply the limits: [directory, file, value]. On v2 the controllers
 * are first delegated down to ctnet's parent and from it to the containers.
 */
export function limitWrites(layout: CgroupLayout, id: string, limits: Limits): [string, string, string][] {
  const dir = (root: string | undefined): string => join(root as string, PARENT, id);
  const writes: [string, string, string][] = [];
  // --cpus is a quota over the default period; --cpu-period and --cpu-quota give them as they are.
  const cfs = limits.cpus !== undefined ? { quota: Math.round(limits.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US }
    : limits.cpuPeriod !== undefined || limits.cpuQuota !== undefined ? { quota: limits.cpuQuota ?? -1, period: limits.cpuPeriod ?? CPU_PERIOD_US } : undefined;
  if (layout.version === 2) {
    const root = layout.roots.unified as string;
    const d = dir(root);
    writes.push([root, 'cgroup.subtree_control', '+memory +cpu +pids'], [join(root, PARENT), 'cgroup.subtree_control', '+memory +cpu +pids']);
    if (limits.memory !== undefined) writes.push([d, 'memory.max', String(limits.memory)]);
    if (cfs) writes.push([d, 'cpu.max', `${cfs.quota === -1 ? 'max' : cfs.quota} ${cfs.period}`]);
    if (limits.pidsLimit !== undefined) writes.push([d, 'pids.max', String(limits.pidsLimit)]);
    // runc's conversion of shares (2-262144) to a weight (1-10000).
    if (limits.cpuShares !== undefined) writes.push([d, 'cpu.weight', String(1 + Math.floor(((limits.cpuShares - 2) * 9999) / 262142))]);
    if (limits.memoryReservation !== undefined) writes.push([d, 'memory.low', String(limits.memoryReservation)]);
    // v2 counts swap alone.
    if (limits.memorySwap !== undefined) writes.push([d, 'memory.swap.max', limits.memorySwap === -1 ? 'max' : String(limits.memorySwap - (limits.memory ?? 0))]);
    return writes;
  }
  const { memory, cpu, pids } = layout.roots;
  if (limits.memory !== undefined && memory) writes.push([dir(memory), 'memory.limit_in_bytes', String(limits.memory)]);
  // After the memory limit: the kernel keeps memory and swap at or above it.
  if (limits.memorySwap !== undefined && memory) writes.push([dir(memory), 'memory.memsw.limit_in_bytes', String(limits.memorySwap)]);
  if (limits.memoryReservation !== undefined && memory) writes.push([dir(memory), 'memory.soft_limit_in_bytes', String(limits.memoryReservation)]);
  if (limits.oomKillDisable && memory) writes.push([dir(memory), 'memory.oom_control', '1']);
  if (limits.cpuShares !== undefined && cpu) writes.push([dir(cpu), 'cpu.shares', String(limits.cpuShares)]);
  if (cfs && cpu) writes.push([dir(cpu), 'cpu.cfs_period_us', String(cfs.period)], [dir(cpu), 'cpu.cfs_quota_us', String(cfs.quota)]);
  if (limits.pidsLimit !== undefined && pids) writes.push([dir(pids), 'pids.max', String(limits.pidsLimit)]);
  return writes;
}

/**
 * The devices a container may use (runc's default list): mknod of any node, but read and write
 * only of null, zero, full, random, urandom, tty, console, ptmx and its pseudo-terminals. A v1 host
 * enforces it with the devices controller, a v2 host with a device program (device-program.ts);
 * besides, the container's /dev and every mount it can write to are nodev.
 */
export const ALLOWED_DEVICES = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm'];

/** v1: what to write to the devices controller; `extra`: the container's --device rules. */
export function deviceWrites(layout: CgroupLayout, id: string, extra: readonly string[] = []): [string, string, string][] {
  if (layout.version !== 1 || !layout.roots.devices) return [];
  const dir = join(layout.roots.devices, PARENT, id);
  return [[dir, 'devices.deny', 'a'], ...[...ALLOWED_DEVICES, ...extra].map((rule): [string, string, string] => [dir, 'devices.allow', rule])];
}

/** v2: the directory that gets the device program, and the rules it allows. */
export function deviceProgramTarget(layout: CgroupLayout, id: string, extra: readonly string[] = []): { dir: string; allow: string[] } | undefined {
  return layout.version === 2 ? { dir: join(layout.roots.unified as string, PARENT, id), allow: [...ALLOWED_DEVICES, ...extra] } : undefined;
}

/** Each limit, its flag and the controller that enforces it. */
const LIMIT_CONTROLLERS: readonly [keyof Limits, string, 'memory' | 'cpu' | 'pids' | 'cpuset'][] = [
  ['memory', '--memory', 'memory'], ['memoryReservation', '--memory-reservation', 'memory'], ['memorySwap', '--memory-swap', 'memory'],
  ['cpus', '--cpus', 'cpu'], ['cpuShares', '--cpu-shares', 'cpu'], ['pidsLimit', '--pids-limit', 'pids'],
  ['cpusetCpus', '--cpuset-cpus', 'cpuset'], ['cpusetMems', '--cpuset-mems', 'cpuset'],
  ['cpuPeriod', '--cpu-period', 'cpu'], ['cpuQuota', '--cpu-quota', 'cpu'], ['oomKillDisable', '--oom-kill-disable', 'memory'],
];

/** Which limits this host cannot enforce, each with why (a controller not mounted, swap not accounted). */
export function unsupportedLimits(layout: CgroupLayout | null, limits: Limits): string[] {
  const has = (c: 'memory' | 'cpu' | 'pids' | 'cpuset'): boolean =>
    layout !== null && (layout.version === 2 ? readOr(join(layout.roots.unified as string, 'cgroup.controllers'), '').split(/\s+/).includes(c) : layout.roots[c] !== undefined);
  const missing = LIMIT_CONTROLLERS.filter(([key, , c]) => limits[key] !== undefined && !has(c)).map(([, flag, c]) => `${flag} (no ${c} controller is mounted)`);
  // v1 counts swap only where the kernel accounts it.
  if (limits.memorySwap !== undefined && has('memory') && layout?.version === 1 && !existsSync(join(layout.roots.memory as string, 'memory.memsw.limit_in_bytes'))) {
    missing.push('--memory-swap (the kernel does not account swap: it boots without swapaccount=1)');
  }
  if (limits.oomKillDisable && layout?.version === 2) missing.push('--oom-kill-disable (cgroup v2 has no switch for the OOM killer of one cgroup)');
  return missing;
}

/** Removes a container's cgroup directories; its processes must be gone (they may still be exiting: retried briefly). */
function removeCgroup(layout: CgroupLayout, id: string): void {
  for (const dir of cgroupDirs(layout, id)) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt >= 200) throw err;
        pauseSync(5);
      }
    }
  }
}

/** Removes a container's cgroup where this host has one, and ctnet's parent once it is empty. */
export function removeContainerCgroup(id: string): void {
  const layout = cgroupLayout();
  if (!layout) return;
  removeCgroup(layout, id);
  for (const root of new Set(Object.values(layout.roots))) {
    try {
      rmdirSync(join(root as string, PARENT));
    } catch {
      // other containers still have theirs
    }
  }
}

/**
 * Makes a container's cgroup directories. Another ctnet (another state root) may remove the empty
 * parent between the two mkdirs of `mkdir -p`: then it is made again.
 */
export function makeCgroupDirs(dirs: readonly string[]): void {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        mkdirSync(dir, { recursive: true });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
      }
    }
  }
}

/** Container ids that have a cgroup under ctnet's parent (for gc). */
export function cgroupIds(layout: CgroupLayout): string[] {
  const ids = new Set<string>();
  for (const root of new Set(Object.values(layout.roots))) {
    try {
      for (const e of readdirSync(join(root as string, PARENT))) if (statSync(join(root as string, PARENT, e)).isDirectory()) ids.add(e);
    } catch {
      // no ctnet parent in this hierarchy yet
    }
  }
  return [...ids];
}

export interface CgroupUsage {
  /** Nanoseconds of CPU time since the cgroup was made. */
  cpuNs: number | null;
  memoryBytes: number | null;
  memoryLimit: number | null;
  pids: number | null;
  oomKills: number;
}

const num = (text: string | null): number | null => (text === null || text.trim() === '' || text.trim() === 'max' ? null : Number(text.trim()));
const field = (text: string, key: string): number | null => {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
};
const read = (dir: string | undefined, file: string): string | null => (dir ? readOr(join(dir, file), '') || null : null);

/** What a container's cgroup has counted: CPU time, memory (without reclaimable page cache, as Docker shows it), pids, OOM kills. */
export function cgroupUsage(layout: CgroupLayout, id: string): CgroupUsage {
  const dir = (root: string | undefined): string | undefined => (root ? join(root, PARENT, id) : undefined);
  if (layout.version === 2) {
    const d = dir(layout.roots.unified);
    const stat = read(d, 'memory.stat') ?? '';
    const current = num(read(d, 'memory.current'));
    const usec = field(read(d, 'cpu.stat') ?? '', 'usage_usec');
    return {
      cpuNs: usec === null ? null : usec * 1000,
      memoryBytes: current === null ? null : current - (field(stat, 'inactive_file') ?? 0),
      memoryLimit: num(read(d, 'memory.max')),
      pids: num(read(d, 'pids.current')),
      oomKills: field(read(d, 'memory.events') ?? '', 'oom_kill') ?? 0,
    };
  }
  const mem = dir(layout.roots.memory);
  const stat = read(mem, 'memory.stat') ?? '';
  const usage = num(read(mem, 'memory.usage_in_bytes'));
  const limit = num(read(mem, 'memory.limit_in_bytes'));
  return {
    cpuNs: num(read(dir(layout.roots.cpuacct), 'cpuacct.usage')),
    memoryBytes: usage === null ? null : usage - (field(stat, 'total_inactive_file') ?? 0),
    // v1 reports "no limit" as a huge page-rounded number.
    memoryLimit: limit !== null && limit < 2 ** 62 ? limit : null,
    pids: num(read(dir(layout.roots.pids), 'pids.current')),
    oomKills: field(read(mem, 'memory.oom_control') ?? '', 'oom_kill') ?? 0,
  };
}

/** Limit and device settings, [directory, file, value] in order. */
export function writeCgroupFiles(writes: readonly [string, string, string][]): void {
  for (const [dir, file, value] of writes) writeFileSync(join(dir, file), value);
}

/** Whether a cgroup directory holds no process (one that went meanwhile holds none). */
export function holdsNoProcess(dir: string): boolean {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '';
  } catch {
    return true;
  }
}
