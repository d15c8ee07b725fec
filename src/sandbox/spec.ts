import type { Limits } from '../kernel/cgroups.js';
import { RLIMITS, type NamespaceShare, type Ulimit, type UserSpec, type Volume } from './options.js';
import type { SecurityConfig } from './security.js';

/** What `run` records about a container beyond its network: kept in the store, shown by inspect. */
export interface SandboxConfig {
  /** A directory the container gets as its root (pivot_root); absent: the host's root, read-only. */
  rootfs?: string;
  volumes?: Volume[];
  /** Paths that get an empty tmpfs of their own (--tmpfs), e.g. a writable /tmp. */
  tmpfs?: string[];
  /** The options given after a --tmpfs path (`size=64m,noexec`), by path: none, the defaults. */
  tmpfsOptions?: Record<string, string>;
  user?: UserSpec;
  limits?: Limits;
  /** A small init is PID 1 (reaps zombies, passes signals on) and the command its child. */
  init?: boolean;
  /** Capabilities, no-new-privileges, seccomp, --privileged; absent: Docker's defaults. */
  security?: SecurityConfig;
  /** -w: where the command starts, made in the container's tree when missing (Docker's --workdir). */
  workdir?: string;
  /** --read-only: the rootfs's own mount read-only (the host's root is read-only already). */
  readOnly?: boolean;
  /** --ulimit: resource limits of its processes (-1: unlimited). */
  ulimits?: Ulimit[];
  /** --shm-size: bytes of its /dev/shm; absent: the kernel's tmpfs default (half of memory). */
  shmSize?: number;
  /** --stop-signal: what stop sends first (absent: SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** --stop-timeout: seconds stop waits before SIGKILL when not told (absent: 10). */
  stopTimeout?: number;
  /** --device: host nodes bound into its /dev, each allowed in its device cgroup. */
  devices?: Device[];
  /** Supplementary groups: its user's in /etc/group and --group-add's (absent: none). */
  groups?: number[];
  /** --sysctl of its IPC namespace (kernel.shmmax=...), as given. */
  sysctls?: Record<string, string>;
  /** --pid host: the host's PID namespace; container:ID another container's (absent: its own). */
  pidMode?: NamespaceShare;
  /**
   * --ipc host or container:ID: that IPC namespace and its /dev/shm (another container's must be
   * shareable); shareable: its own, with its /dev/shm on the host for others to join; none: its own,
   * without /dev/shm (absent: its own).
   */
  ipcMode?: NamespaceShare | 'none' | 'shareable';
  /** --uts host: the host's UTS namespace, so its hostname (absent: its own). */
  utsMode?: 'host';
  /** --domainname: the NIS domain name of its own UTS namespace. */
  domainname?: string;
}

/** A --device as recorded: the node's type and numbers, which its cgroup allows with `perms`. */
export interface Device {
  path: string;
  target: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  perms: string;
}

/** The device cgroup rule of a --device. */
export const deviceRule = (d: Device): string => `${d.type} ${d.major}:${d.minor} ${d.perms}`;

/** What a container's first process applies before it becomes the command; computed by ctnet at run (see engine/sandbox.ts). */
export interface Confinement {
  /** The capabilities kept, as capset's two words; null: every capability ctnet has (--privileged). */
  capabilities: [number, number] | null;
  noNewPrivileges: boolean;
  /** A compiled filter (struct sock_filter[], written by kernel/seccomp.ts); null: none. */
  seccompFile: string | null;
}

/** A file of the container's own, bind-mounted over the path the container sees. */
export interface OwnFile {
  path: string;
  source: string;
}

/**
 * Everything the container's first process (ctnet-init, src/sandbox/ctnet-sandbox.pl) needs to turn
 * itself into the container: a file readable by root only (it holds the environment), so a restart
 * by the supervisor repeats exactly the same setup.
 */
export interface InitSpec {
  command: string[];
  env: Record<string, string>;
  rootfs: string | null;
  /** Working directory inside (-w; without it the caller's for a host-root container, / with a rootfs). */
  cwd: string;
  /** cwd was given (-w): made when missing, and a start that cannot enter it fails. */
  cwdRequired: boolean;
  /** --read-only with a rootfs: its own mount made read-only once the mount points are made. */
  readOnlyRoot: boolean;
  /** --ulimit: set before the command runs. */
  ulimits: Ulimit[];
  /** --shm-size in bytes; null: the tmpfs default. */
  shmSize: number | null;
  /** --device: host nodes and where in /dev they go. */
  devices: Device[];
  /** Supplementary groups beyond the user's own gid (0 without --user). */
  groups: number[];
  /** IPC sysctls: written in its IPC namespace before /proc/sys goes read-only. */
  sysctls: Record<string, string>;
  volumes: Volume[];
  tmpfs: string[];
  /** Each tmpfs's mount flags and data, in the order of `tmpfs`. */
  tmpfsMounts: { flags: number; data: string }[];
  files: OwnFile[];
  user: UserSpec | null;
  /** The files through which the process joins its cgroups, writing 0, before it mounts anything (see joinFile in kernel/cgroups.ts). */
  cgroupJoin: string[];
  /** Where the process writes its PID as the host sees it (signals, exec and stats use it). */
  pidFile: string;
  init: boolean;
  /** The inode of ctnet's own mount namespace, which init checks it has left before mounting anything. */
  hostMountNs: number;
  /** The hostname of its own UTS namespace; '': it stays in the host's (--uts host). */
  hostname: string;
  /** Its domain name there (--domainname); '': none. */
  domainname: string;
  /**
   * Where PID 1 is forked: [] a PID namespace of its own, ['host'], or ['container', that one's PID
   * file, name, cgroup as the host sees it] (pid_namespace in ctnet-sandbox.pl). Without its own,
   * what the command leaves is ended with it.
   */
  pidNamespace: string[];
  /**
   * Its IPC namespace and /dev/shm: [] its own, ['host'], ['none'] its own without /dev/shm,
   * ['shareable', where its /dev/shm is mounted on the host], or ['container', that one's PID file,
   * name, cgroup, /dev/shm on the host].
   */
  ipcNamespace: string[];
  /** Every capability, no seccomp, no masked paths, the host's /dev and a writable /sys (Docker's --privileged). */
  privileged: boolean;
  security: Confinement;
  /** Host directories covered by an empty tmpfs in host-root mode (ctnet's state directory). */
  hide: string[];
  /**
   * Host mount points the container's mount namespace lets go of first (NETNS_DIR): a copy of every
   * named network namespace's mount in every running container grew the kernel's mounts with the
   * square of the containers.
   */
  detach: string[];
  /** Standard input is a pseudo-terminal of the container's own, to become its controlling terminal (run -t). */
  terminal: boolean;
}

const flag = (b: boolean): string[] => [b ? '1' : '0'];

/**
 * The spec as ctnet-init reads it without a JSON parser (perl-base has none): NUL-terminated
 * strings, each field as its name, the number of values, then the values. No value can hold a
 * NUL: they are paths, arguments and environment entries, which the kernel ends at one too.
 */
export function encodeInitSpec(spec: InitSpec): Buffer {
  const fields: [string, string[]][] = [
    ['command', spec.command],
    ['env', Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)],
    ['rootfs', spec.rootfs === null ? [] : [spec.rootfs]],
    ['cwd', [spec.cwd]],
    ['cwd_required', flag(spec.cwdRequired)],
    ['readonly_root', flag(spec.readOnlyRoot)],
    ['ulimits', spec.ulimits.flatMap((u) => [u.name, String(RLIMITS[u.name]), String(u.soft), String(u.hard)])],
    ['shm_size', spec.shmSize === null ? [] : [String(spec.shmSize)]],
    ['devices', spec.devices.flatMap((d) => [d.path, d.target.slice('/dev/'.length)])],
    ['groups', spec.groups.map(String)],
    ['sysctls', Object.entries(spec.sysctls).flatMap(([k, v]) => [k.replaceAll('.', '/'), v])],
    ['volumes', spec.volumes.flatMap((v) => [v.source, v.target, v.readOnly ? '1' : '0'])],
    ['tmpfs', spec.tmpfs],
    ['tmpfs_mounts', spec.tmpfsMounts.flatMap((m) => [String(m.flags), m.data])],
    ['files', spec.files.flatMap((f) => [f.path, f.source])],
    ['user', spec.user ? [String(spec.user.uid), String(spec.user.gid)] : []],
    ['cgroup', spec.cgroupJoin],
    ['pidfile', [spec.pidFile]],
    ['init', flag(spec.init)],
    ['hostmntns', [String(spec.hostMountNs)]],
    ['hostname', spec.hostname === '' ? [] : [spec.hostname]],
    ['domainname', spec.domainname === '' ? [] : [spec.domainname]],
    ['pid', spec.pidNamespace],
    ['ipc', spec.ipcNamespace],
    ['privileged', flag(spec.privileged)],
    ['caps', spec.security.capabilities ? spec.security.capabilities.map(String) : []],
    ['nnp', flag(spec.security.noNewPrivileges)],
    ['seccomp', spec.security.seccompFile === null ? [] : [spec.security.seccompFile]],
    ['hide', spec.hide],
    ['detach', spec.detach],
    ['terminal', flag(spec.terminal)],
  ];
  const strings = fields.flatMap(([name, values]) => [name, String(values.length), ...values]);
  if (strings.some((s) => s.includes('\0'))) throw new Error('a container setting holds a NUL byte');
  return Buffer.from(strings.map((s) => `${s}\0`).join(''));
}
