import { copyFile, deviceNumbers, ensurePrivateDir, exists, fileVersion, lookAt, publishFile, readTextOr, realPath, removeTree, resolvedPath, writePlainFile, writePrivateFile } from '../kernel/files.js';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { DependencyMissingError, InvalidArgumentError, NotFoundError, PermissionError } from '../errors.js';
import { NETNS_DIR } from '../names.js';
import { isAlive } from '../kernel/proc.js';
import type { AliveCheck } from './lookup.js';
import { isExecutableFile } from '../kernel/spawn.js';
import { step, type Step } from '../plan/ops.js';
import { writeSeccompProgram } from '../kernel/seccomp.js';
import { capabilityWords } from '../sandbox/capabilities.js';
import { cgroupDirs, cgroupDirsFor, cgroupLayout, cgroupPathOf, cpusetWrites, hostCpuset, cgroupUsage, deviceProgramTarget, deviceWrites, joinFile, limitWrites, unsupportedLimits, type Limits } from '../kernel/cgroups.js';
import { enterCommand } from '../sandbox/enter.js';
import { capabilitiesOf, seccompProfileOf, validateSecurity, type SecurityRequest } from '../sandbox/security.js';
import { defaultProfile, resolveProfile, type ResolvedFilter } from '../sandbox/seccomp-profile.js';
import { RLIMITS, parseCpuShares, parseCpus, parseMemory, parseMemoryReservation, parseMemorySwap, parseMount, parseCpuset, parseCpuPeriod, parseCpuQuota, parsePidsLimit, parseDevice, parseIpcSysctl, parseNamespaceModes, parseShmSize, parseStopSignal, parseStopTimeout, parseTmpfs, parseUlimit, parseUser, supplementaryGroups, parseVolume, tmpfsMount, type DeviceRequest, type Ulimit, type Volume } from '../sandbox/options.js';
import { sandboxCommand } from '../sandbox/script.js';
import { deviceRule, encodeInitSpec, type Confinement, type Device, type InitSpec, type SandboxConfig } from '../sandbox/spec.js';
import type { ContainerRecord, ProcessContainer } from '../store/store.js';
import type { EtcFiles } from './etc-files.js';
import { containerEnv } from './container-env.js';
import { validateHostname } from './validate.js';

/** The sandbox of a container ctnet runs: its filesystem view, user, cgroup, and how its first process starts. */

export interface SandboxRequest {
  rootfs?: string;
  volumes?: string[];
  tmpfs?: string[];
  /** Docker's --mount values: binds and tmpfs mounts, the same as -v and --tmpfs. */
  mounts?: string[];
  workdir?: string;
  readOnly?: boolean;
  ulimits?: string[];
  shmSize?: string;
  stopSignal?: string;
  stopTimeout?: string;
  devices?: string[];
  groupAdd?: string[];
  /** --sysctl keys of the IPC namespace (isIpcSysctl): run takes them out of netOptions.sysctls. */
  sysctls?: string[];
  user?: string;
  memory?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  oomKillDisable?: boolean;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  init?: boolean;
  /** --domainname: the NIS domain name of its UTS namespace. */
  domainname?: string;
  /** --pid, --ipc, --uts: Docker's modes (host; for --ipc also private, shareable, none). */
  pid?: string;
  ipc?: string;
  uts?: string;
  security?: SecurityRequest;
}

/** The container's files and directories on the host: logs, exit status, its own /etc files, PID 1. */
export const containerDir = (root: string, id: string): string => join(root, 'containers', id);
export const pidFileOf = (root: string, id: string): string => join(containerDir(root, id), 'pid');

const isDirectory = (path: string): boolean => lookAt(path)?.dir === true;

/** Why a volume cannot go where it was asked to (ctnet-init says the same of a rootfs's paths). */
const mountKindMismatch = (sourceIsDir: boolean, target: string): string =>
  `${sourceIsDir ? `a directory cannot go on the file ${target}` : `a file cannot go on the directory ${target}`}; mount a file on a file and a directory on a directory`;

/** Checks every option before anything is changed; returns what the store keeps. */
export function validateSandbox(req: SandboxRequest): SandboxConfig {
  const config: SandboxConfig = {};
  if (req.rootfs !== undefined) {
    const st = lookAt(req.rootfs);
    if (!st) throw new NotFoundError(`--rootfs ${req.rootfs} does not exist; give a directory holding the container's files`);
    if (!st.dir) throw new InvalidArgumentError(`--rootfs ${req.rootfs} is not a directory; give a directory holding the container's files`);
    if (!req.rootfs.startsWith('/')) throw new InvalidArgumentError(`--rootfs ${req.rootfs} must be an absolute path, e.g. --rootfs $PWD/${req.rootfs}`);
    // The same directory as /, however spelled (/., /usr/.., a link): compared by device and inode.
    const host = lookAt('/');
    if (st.dev === host?.dev && st.ino === host.ino) throw new InvalidArgumentError(`--rootfs ${req.rootfs} is the host's root itself; leave --rootfs out to run on the host root, read-only`);
    config.rootfs = realPath(req.rootfs);
  }
  const mounts = (req.mounts ?? []).map((text) => ({ ...parseMount(text), text }));
  const tmpfsMounts = [...(req.tmpfs ?? []).map(parseTmpfs), ...mounts.flatMap((m) => ('tmpfs' in m ? [m.tmpfs] : []))];
  for (const { path, options } of tmpfsMounts) {
    if (config.tmpfs?.includes(path)) {
      if ((config.tmpfsOptions?.[path] ?? '') !== options) throw new InvalidArgumentError(`--tmpfs: ${path} is given twice with different options; give each container path once`);
      continue;
    }
    (config.tmpfs ??= []).push(path);
    if (options !== '') (config.tmpfsOptions ??= {})[path] = options;
  }
  // Each volume with the option that gave it, as the user wrote it, for what is said about it.
  const volumes = [...(req.volumes ?? []).map((text) => ({ ...parseVolume(text), flag: `-v ${text}` })), ...mounts.flatMap((m) => ('volume' in m ? [{ ...m.volume, flag: `--mount ${m.text}` }] : []))];
  if (volumes.length) config.volumes = volumes.map(({ flag: _flag, ...v }) => v);
  // Without a rootfs, a mount point is the host's, which the container sees read-only, unless it lies,
  // where the host's links lead (/var/run/x is /run/x), below a directory of the container's own: its
  // /run, its /dev (the host's when privileged), a --tmpfs, a volume. ctnet-init makes it there.
  const own = config.rootfs ? [] : ['/run', ...(req.security?.privileged ? [] : ['/dev']), ...(config.tmpfs ?? []), ...(config.volumes ?? []).map((v) => v.target)].map(resolvedPath);
  const onHost = (path: string): boolean => !config.rootfs && !own.some((dir) => resolvedPath(path).startsWith(`${dir}/`));
  for (const t of config.tmpfs ?? []) {
    if (onHost(t) && !isDirectory(t)) throw new NotFoundError(`--tmpfs ${t} is not a directory on the host, whose root the container sees; use an existing directory, one below a volume, or --rootfs`);
  }
  const seen = new Set<string>();
  for (const v of volumes) {
    const source = lookAt(v.source);
    if (!source) throw new NotFoundError(`${v.flag}: the host path ${v.source} does not exist; create it first`);
    if (seen.has(v.target)) throw new InvalidArgumentError(`${v.flag}: ${v.target} is mounted twice; give each container path once`);
    if (config.tmpfs?.includes(v.target)) throw new InvalidArgumentError(`${v.flag}: ${v.target} is also a --tmpfs; give each container path once`);
    seen.add(v.target);
    if (!onHost(v.target)) continue;
    const target = lookAt(v.target);
    if (!target) throw new NotFoundError(`${v.flag}: ${v.target} does not exist on the host, whose root the container sees read-only; use an existing path, one below a --tmpfs or a volume, or --rootfs`);
    if (target.dir !== source.dir) throw new InvalidArgumentError(`${v.flag}: ${mountKindMismatch(source.dir, v.target)}`);
  }
  if (req.workdir !== undefined) {
    const w = req.workdir.replace(/\/+$/, '') || '/';
    if (!w.startsWith('/') || w.split('/').includes('..')) throw new InvalidArgumentError(`-w ${req.workdir} must be an absolute path without .., e.g. -w /app`);
    if (onHost(w) && !isDirectory(w)) throw new NotFoundError(`-w ${w} is not a directory on the host, whose root the container sees read-only; use an existing one, one below a --tmpfs or a volume, or --rootfs`);
    config.workdir = w;
  }
  if (req.readOnly) config.readOnly = true;
  if (req.sysctls?.length) config.sysctls = Object.fromEntries(req.sysctls.map((s) => Object.values(parseIpcSysctl(s))));
  if (req.ulimits?.length) config.ulimits = checkUlimits(req.ulimits.map(parseUlimit));
  if (req.shmSize !== undefined) config.shmSize = parseShmSize(req.shmSize);
  Object.assign(config, parseNamespaceModes(req));
  if (req.domainname !== undefined) {
    if (config.utsMode) throw new InvalidArgumentError(`conflicting options: --domainname and --uts host: the container has the host's domain name then; drop one`);
    config.domainname = validateHostname(req.domainname, '--domainname');
  }
  const ipcOwner = config.ipcMode === 'host' ? "the host's" : config.ipcMode?.startsWith('container:') ? `container ${config.ipcMode.slice('container:'.length)}'s` : undefined;
  if (config.ipcMode && config.ipcMode !== 'shareable' && config.shmSize !== undefined) {
    throw new InvalidArgumentError(`--shm-size cannot be combined with --ipc ${config.ipcMode}: ${ipcOwner ? `/dev/shm is then ${ipcOwner}` : 'there is no /dev/shm then'}; drop one`);
  }
  if (ipcOwner && config.sysctls) {
    throw new InvalidArgumentError(`--sysctl ${Object.keys(config.sysctls)[0]} cannot be combined with --ipc ${config.ipcMode}: it would change ${ipcOwner} IPC namespace; drop one`);
  }
  if (req.stopSignal !== undefined) config.stopSignal = parseStopSignal(req.stopSignal);
  if (req.stopTimeout !== undefined) config.stopTimeout = parseStopTimeout(req.stopTimeout);
  if (req.devices?.length) config.devices = req.devices.map((d) => hostDevice(parseDevice(d), req.security?.privileged === true));
  const [passwd, group] = ['passwd', 'group'].map((file) => readTextOr(join(config.rootfs ?? '/', 'etc', file)));
  if (req.user !== undefined) config.user = parseUser(req.user, passwd, group);
  const groups = supplementaryGroups(config.user?.uid ?? 0, req.groupAdd ?? [], passwd, group).filter((g) => g !== (config.user?.gid ?? 0));
  if (groups.length) config.groups = groups;
  const limits: Limits = {};
  if (req.memory !== undefined) limits.memory = parseMemory(req.memory);
  if (req.cpus !== undefined) limits.cpus = parseCpus(req.cpus);
  if (req.pidsLimit !== undefined) limits.pidsLimit = parsePidsLimit(req.pidsLimit);
  if (req.cpuShares !== undefined) limits.cpuShares = parseCpuShares(req.cpuShares);
  if (req.cpuPeriod !== undefined) limits.cpuPeriod = parseCpuPeriod(req.cpuPeriod);
  if (req.cpuQuota !== undefined) limits.cpuQuota = parseCpuQuota(req.cpuQuota);
  if (req.oomKillDisable) limits.oomKillDisable = true;
  if (req.memoryReservation !== undefined) limits.memoryReservation = parseMemoryReservation(req.memoryReservation);
  if (req.memorySwap !== undefined) limits.memorySwap = parseMemorySwap(req.memorySwap);
  if (req.cpusetCpus !== undefined) limits.cpusetCpus = parseCpuset('--cpuset-cpus', req.cpusetCpus, readTextOr('/sys/devices/system/cpu/online').trim() || '0');
  // A host without NUMA information has the one node 0.
  if (req.cpusetMems !== undefined) limits.cpusetMems = parseCpuset('--cpuset-mems', req.cpusetMems, readTextOr('/sys/devices/system/node/online').trim() || '0');
  checkLimits(limits);
  const missing = unsupportedLimits(cgroupLayout(), limits);
  if (missing.length) throw new DependencyMissingError(`this host cannot enforce ${missing.join(', ')}; drop the option`);
  if (Object.keys(limits).length) config.limits = limits;
  const security = validateSecurity(req.security ?? {});
  if (Object.keys(security).length) config.security = security;
  if (req.init) {
    if (config.rootfs && !isExecutableFile(join(config.rootfs, 'bin/sh'))) throw new InvalidArgumentError(`--init needs /bin/sh in the rootfs ${config.rootfs}; add it or drop --init`);
    config.init = true;
  }
  return config;
}

/** A --device's node on the host, a character or block device, with its numbers (what its cgroup rule names). */
function hostDevice(d: DeviceRequest, privileged: boolean): Device {
  const numbers = deviceNumbers(d.path);
  if (numbers === undefined) throw new NotFoundError(`--device ${d.path}: there is no such device on the host; give one that exists, e.g. /dev/net/tun`);
  if (numbers === null) throw new InvalidArgumentError(`--device ${d.path} is not a device node; give a character or block device, e.g. /dev/fuse`);
  if (privileged && d.target !== d.path) throw new InvalidArgumentError(`--device ${d.path}:${d.target} with --privileged: the container sees the host's /dev, where it is ${d.path}; drop :${d.target} or --privileged`);
  return { ...d, ...numbers };
}

/** Docker's rules between the limits: --cpus or a period and quota; swap counts memory in, a reservation stays below the limit. */
function checkLimits(l: Limits): void {
  if (l.cpus !== undefined && (l.cpuPeriod !== undefined || l.cpuQuota !== undefined)) {
    throw new InvalidArgumentError(`conflicting options: --cpus and ${l.cpuPeriod !== undefined ? '--cpu-period' : '--cpu-quota'}: --cpus is a quota over a period of its own; give one or the other`);
  }
  if (l.memorySwap !== undefined) {
    if (l.memory === undefined) throw new InvalidArgumentError('--memory-swap needs --memory (it is memory and swap together), e.g. -m 512m --memory-swap 1g');
    if (l.memorySwap !== -1 && l.memorySwap < l.memory) throw new InvalidArgumentError(`--memory-swap ${l.memorySwap} is below --memory ${l.memory}: it counts memory and swap together; give at least the memory limit, or -1 for unlimited swap`);
  }
  if (l.memoryReservation !== undefined && l.memory !== undefined && l.memoryReservation > l.memory) {
    throw new InvalidArgumentError(`--memory-reservation ${l.memoryReservation} is above --memory ${l.memory}; give a soft limit below the limit`);
  }
}

/** CAP_SYS_RESOURCE: what raising a hard limit takes. */
const CAP_SYS_RESOURCE = 24;

/**
 * The last --ulimit of each name wins, as in Docker. What setrlimit would refuse only once the
 * container starts is refused here: open files past the kernel's fs.nr_open (unlimited included),
 * and a hard limit above ctnet's own where ctnet may not raise it (the container's first process
 * inherits ctnet's limits: /proc/self/limits lists them in the resources' order).
 */
function checkUlimits(given: Ulimit[]): Ulimit[] {
  const byName = new Map(given.map((u) => [u.name, u]));
  const nofile = byName.get('nofile');
  const most = Number(readTextOr('/proc/sys/fs/nr_open').trim()) || 1048576;
  if (nofile && (nofile.hard === -1 || nofile.hard > most || nofile.soft === -1)) {
    throw new InvalidArgumentError(`--ulimit nofile=${nofile.soft}:${nofile.hard}: this kernel allows at most ${most} open files (fs.nr_open); give at most nofile=${most}:${most}`);
  }
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(readTextOr('/proc/self/status'))?.[1] ?? '0';
  if ((BigInt(`0x${effective}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n) return [...byName.values()];
  // Fixed columns: the kernel prints each row as %-25s %-20s %-20s.
  const hardNow = readTextOr('/proc/self/limits').split('\n').slice(1).map((row) => row.slice(46, 67).trim());
  for (const u of byName.values()) {
    const now = hardNow[RLIMITS[u.name]];
    if (now === undefined || now === 'unlimited' || (u.hard !== -1 && u.hard <= Number(now))) continue;
    throw new PermissionError(`--ulimit ${u.name}=${u.soft}:${u.hard}: above the hard limit ctnet runs with (${now}), which it may not raise here (no CAP_SYS_RESOURCE); give at most ${u.name}=${now}`);
  }
  return [...byName.values()];
}

/** Kernel steps of a container's cgroup: made (with its limits) before the process starts, removed when it goes. */
export function cgroupSteps(c: ProcessContainer, owner: string): Step[] {
  const layout = cgroupLayout();
  if (!layout) return [];
  const limits = c.sandbox.limits ?? {};
  const dirs = cgroupDirsFor(layout, c.id, limits);
  const optional = Object.keys(limits).length === 0;
  const privileged = c.sandbox.security?.privileged === true;
  const extra = (c.sandbox.devices ?? []).map(deviceRule);
  const writes = [...cpusetWrites(layout, c.id, limits, () => hostCpuset(layout)), ...limitWrites(layout, c.id, limits), ...(privileged ? [] : deviceWrites(layout, c.id, extra))];
  const devices = privileged ? undefined : deviceProgramTarget(layout, c.id, extra);
  return [step({ op: 'cgroup.create', dirs, writes, optional, owner, ...(devices ? { devices } : {}) }, { op: 'cgroup.remove', id: c.id })];
}

/** A container's cgroup directories; only those that exist (a host may refuse an optional cgroup). */
function cgroupDirsOf(id: string): string[] {
  const layout = cgroupLayout();
  return layout ? cgroupDirs(layout, id).filter(exists) : [];
}

/** The files a container's processes join its cgroups through, each by writing 0 (see joinFile). */
function cgroupJoinFiles(id: string): string[] {
  const layout = cgroupLayout();
  return layout ? cgroupDirsOf(id).map((d) => join(d, joinFile(layout))) : [];
}

/** Ends every process in a container's cgroup; false when it has no cgroup on this host. */
export function killCgroupMembers(id: string): boolean {
  const [dir] = cgroupDirsOf(id);
  if (dir === undefined) return false;
  for (const pid of readTextOr(join(dir, 'cgroup.procs')).split('\n')) {
    try {
      if (pid) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return true;
}

export const oomKillsOf = (id: string): number => {
  const layout = cgroupLayout();
  return layout ? cgroupUsage(layout, id).oomKills : 0;
};

/** A container's /etc/hosts, /etc/hostname and /etc/resolv.conf (see etc-files.ts), written where its init binds them. */
function writeOwnFiles(dir: string, files: EtcFiles): InitSpec['files'] {
  const etc = join(dir, 'etc');
  return Object.entries(files).map(([name, text]) => {
    writePlainFile(join(etc, name), text);
    return { path: `/etc/${name}`, source: join(etc, name) };
  });
}

/** Where ctnet-init's spec and the compiled seccomp filter of a container are kept (root only). */
const specFileOf = (root: string, id: string): string => join(containerDir(root, id), 'init.spec');
const seccompFileOf = (root: string, id: string): string => join(containerDir(root, id), 'seccomp.bpf');

/**
 * FNV-1a (32 bits) over `text`'s bytes taken four at a time, as hex: names a cache entry whose full
 * key is checked on every use, so it only has to spread keys. A character at a time, the ~19 KB key
 * of Docker's profile took ~2.5 ms in a command's first (interpreted) pass, before the container's
 * process could start; a word at a time ~0.6.
 */
function fnv1aHex(text: string): string {
  const bytes = Buffer.alloc((text.length + 3) & ~3);
  bytes.write(text, 'latin1');
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * A filter compiled once per distinct profile, capability set and machine, kept under the state
 * directory: compiling Docker's profile costs ~15 ms, a copy ~0.1. An entry is named by a cheap hash
 * of its key and holds the key beside it (`.key`), compared in full before the program is used: a
 * SHA-256 name needed node:crypto, ~12 ms to load at every run. A profile from a file is keyed by
 * the filter it resolves to.
 */
function compiledFilter(root: string, key: string, filter: () => ResolvedFilter): string {
  const dir = join(root, 'seccomp');
  const base = join(dir, fnv1aHex(key));
  const path = `${base}.bpf`;
  if (readTextOr(`${base}.key`) === key && exists(path)) return path;
  ensurePrivateDir(dir);
  // The old key goes first: a command killed between the two writes below leaves an entry without
  // a key, compiled again next time, never a key beside another profile's program.
  removeTree(`${base}.key`);
  writeSeccompProgram(filter(), `${path}.${process.pid}`);
  publishFile(`${path}.${process.pid}`, path);
  writePrivateFile(`${base}.key.${process.pid}`, key);
  publishFile(`${base}.key.${process.pid}`, `${base}.key`);
  return path;
}

const keyOfFilter = (filter: ResolvedFilter): string => JSON.stringify(filter, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * The default profile's entry is keyed by what its filter is resolved from and by this build of
 * ctnet (the file this code runs from: its size and time, which every build changes), not by the
 * filter: resolving and printing Docker's profile (~3 ms and ~40 KB of short-lived strings) is
 * then skipped at every start but the first.
 */
function defaultFilterKey(caps: readonly string[], kernel: string): string {
  return `ctnet's default profile; build ${fileVersion(fileURLToPath(import.meta.url))}; caps ${caps.join(',')}; ${process.arch}; kernel ${kernel}`;
}

/**
 * What confines a container: its capability set, no-new-privileges, and its seccomp profile
 * compiled for this machine into `seccomp.bpf` (once, at start; restarts and `exec` load the same).
 */
function confinementOf(root: string, c: ProcessContainer, compile: boolean): Confinement {
  const security = c.sandbox.security ?? {};
  const caps = capabilitiesOf(security);
  const file = seccompFileOf(root, c.id);
  let seccompFile: string | null = null;
  if (compile) {
    const profile = seccompProfileOf(security);
    const target = { caps, arch: process.arch, kernel: release() };
    if (profile === 'default') {
      copyFile(compiledFilter(root, defaultFilterKey(caps, target.kernel), () => resolveProfile(defaultProfile(), target)), (seccompFile = file));
    } else if (profile) {
      const filter = resolveProfile(profile, target);
      copyFile(compiledFilter(root, keyOfFilter(filter), () => filter), (seccompFile = file));
    }
  } else if (exists(file)) {
    // exec loads what the container's start compiled: the profile file may be gone since.
    seccompFile = file;
  }
  return { capabilities: security.privileged ? null : capabilityWords(caps), noNewPrivileges: security.noNewPrivileges === true, seccompFile };
}

/**
 * What starting a container's process comes to, as one shell line for --explain: in its network,
 * ctnet-init (Perl) makes the PID namespace and forks its PID 1, which makes the mount, IPC and UTS
 * namespaces (the hostname set), builds the filesystem from init.spec, confines itself and execs
 * the command; the first process waits and exits as the command did. The spec
 * goes in a file readable by root only: a command line is readable by every user (`ps`), and it
 * holds the environment.
 */
export function startCommandLine(root: string, c: ProcessContainer): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `ip netns exec ${c.netns} ${sandboxCommand('init', [specFileOf(root, c.id)]).join(' ')}`
    + `  # hostname ${c.hostname}; ctnet-init execs: ${c.command.map(quote).join(' ')}`;
}

/**
 * The host's named network namespaces, whose copies a container's mount namespace drops first;
 * none when a volume brings them (or a directory above them) in on purpose.
 */
export function netnsCopiesToDetach(volumes: readonly Volume[]): string[] {
  const overlaps = (source: string): boolean => {
    let path = source;
    try {
      path = realPath(source);
    } catch {
      // gone since the run: ctnet-init reports it
    }
    return path === '/' || path === NETNS_DIR || path.startsWith(`${NETNS_DIR}/`) || NETNS_DIR.startsWith(`${path}/`);
  };
  return volumes.some((v) => overlaps(v.source)) ? [] : [NETNS_DIR];
}

/** Writes what ctnet-init builds the container from (its init.spec); returns that file. */
export function writeInitSpec(root: string, c: ProcessContainer, files: EtcFiles, terminal = false): string {
  const dir = containerDir(root, c.id);
  ensurePrivateDir(dir);
  const spec: InitSpec = {
    command: c.command,
    env: containerEnv(c),
    rootfs: c.sandbox.rootfs ?? null,
    cwd: c.sandbox.workdir ?? (c.sandbox.rootfs ? '/' : process.cwd()),
    cwdRequired: c.sandbox.workdir !== undefined,
    readOnlyRoot: c.sandbox.readOnly === true && c.sandbox.rootfs !== undefined,
    ulimits: c.sandbox.ulimits ?? [],
    shmSize: c.sandbox.shmSize ?? null,
    // Privileged, /dev is the host's: every device is there already.
    devices: c.sandbox.security?.privileged ? [] : c.sandbox.devices ?? [],
    groups: c.sandbox.groups ?? [],
    sysctls: c.sandbox.sysctls ?? {},
    volumes: c.sandbox.volumes ?? [],
    tmpfs: c.sandbox.tmpfs ?? [],
    tmpfsMounts: (c.sandbox.tmpfs ?? []).map((t) => tmpfsMount(c.sandbox.tmpfsOptions?.[t] ?? '')),
    files: writeOwnFiles(dir, files),
    user: c.sandbox.user ?? null,
    cgroupJoin: cgroupJoinFiles(c.id),
    pidFile: pidFileOf(root, c.id),
    init: c.sandbox.init === true,
    hostMountNs: lookAt('/proc/self/ns/mnt')?.ino ?? 0,
    hostname: c.sandbox.utsMode === 'host' ? '' : c.hostname,
    domainname: c.sandbox.domainname ?? '',
    pidNamespace: pidNamespaceArgs(root, c.sandbox.pidMode),
    ipcNamespace: ipcNamespaceArgs(root, c.id, c.sandbox.ipcMode),
    privileged: c.sandbox.security?.privileged === true,
    security: confinementOf(root, c, true),
    hide: [resolve(root)].filter((p) => p !== '/'),
    detach: netnsCopiesToDetach(c.sandbox.volumes ?? []),
    terminal,
  };
  const specFile = specFileOf(root, c.id);
  writePrivateFile(specFile, encodeInitSpec(spec));
  return specFile;
}

/** Another container, as ctnet-init finds its namespaces when a container starts (each time): its PID file, name and cgroup. */
const donorArgs = (root: string, id: string): string[] => [pidFileOf(root, id), id.slice(0, 12), cgroupLayout() ? cgroupPathOf(id) : ''];

/** A --pid mode as ctnet-init takes it (see InitSpec). */
export function pidNamespaceArgs(root: string, mode: string | undefined): string[] {
  if (mode === undefined) return [];
  return mode.startsWith('container:') ? ['container', ...donorArgs(root, mode.slice('container:'.length))] : [mode];
}

/** Where a shareable container's /dev/shm is mounted on the host (Docker's shm mount). */
export const shareableShmOf = (root: string, id: string): string => join(containerDir(root, id), 'shm');

/** An --ipc mode as ctnet-init takes it (see InitSpec). */
function ipcNamespaceArgs(root: string, id: string, mode: string | undefined): string[] {
  if (mode === undefined) return [];
  if (mode === 'shareable') return [mode, shareableShmOf(root, id)];
  if (!mode.startsWith('container:')) return [mode];
  const donor = mode.slice('container:'.length);
  return ['container', ...donorArgs(root, donor), shareableShmOf(root, donor)];
}

/** ctnet-init for a container in the foreground: its first process waits for PID 1 (detached ones: shim.ts). */
export const initCommand = (specFile: string): string[] => sandboxCommand('init', [specFile]);

/**
 * The host PID of the container's PID 1 while it runs (undefined before it started or after it
 * ended). `alive`: how its supervisor is known to live (a listing's, which has just checked it).
 */
export function pid1Of(root: string, c: ContainerRecord, alive: AliveCheck = isAlive): number | undefined {
  if (c.pid === null || !alive(c.pid, c.pidStart)) return undefined;
  const pid = Number(readTextOr(pidFileOf(root, c.id)).trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid, null) ? pid : undefined;
}

/**
 * `exec`: a process that enters the container's cgroup, then all its namespaces, root and working
 * directory, as its user and as confined as its first process (ctnet-enter).
 */
export function execCommand(root: string, c: ProcessContainer, pid1: number, command: string[]): string[] {
  return enterCommand({ pid1, user: c.sandbox.user ?? null, confinement: confinementOf(root, c, false), cgroupJoin: cgroupJoinFiles(c.id), command });
}
