import type { Limits } from '../kernel/cgroups.js';
import type { Confinement } from './confine.js';
import type { UserSpec, Volume } from './options.js';
import type { SecurityConfig } from './security.js';

/** What `run` records about a container beyond its network: kept in the store, shown by inspect. */
export interface SandboxConfig {
  /** A directory the container gets as its root (pivot_root); absent: the host's root, read-only. */
  rootfs?: string;
  volumes?: Volume[];
  /** Paths that get an empty tmpfs of their own (--tmpfs), e.g. a writable /tmp. */
  tmpfs?: string[];
  user?: UserSpec;
  limits?: Limits;
  /** A small init is PID 1 (reaps zombies, passes signals on) and the command its child. */
  init?: boolean;
  /** Capabilities, no-new-privileges, seccomp, --privileged; absent: Docker's defaults. */
  security?: SecurityConfig;
}

/** A file of the container's own, bind-mounted over the path the container sees. */
export interface OwnFile {
  path: string;
  source: string;
}

/**
 * Everything the container's first process (ctnet-init) needs to turn itself into the container:
 * a JSON file readable by root only (it holds the environment), so a restart by the supervisor
 * repeats exactly the same setup.
 */
export interface InitSpec {
  command: string[];
  env: Record<string, string>;
  rootfs: string | null;
  /** Working directory inside (the caller's for a host-root container, / with a rootfs). */
  cwd: string;
  volumes: Volume[];
  tmpfs: string[];
  files: OwnFile[];
  user: UserSpec | null;
  /** cgroup.procs files the process enters just before it becomes the command. */
  cgroupProcs: string[];
  /** Where the process writes its PID as the host sees it (signals, exec and stats use it). */
  pidFile: string;
  init: boolean;
  /** The inode of ctnet's own mount namespace, which init checks it has left before mounting anything. */
  hostMountNs: number;
  /** Every capability, no seccomp, no masked paths, the host's /dev and a writable /sys (Docker's --privileged). */
  privileged: boolean;
  security: Confinement;
  /** Host directories covered by an empty tmpfs in host-root mode (ctnet's state directory). */
  hide: string[];
  /** Standard input is a pseudo-terminal of the container's own, to become its controlling terminal (run -t). */
  terminal: boolean;
}
