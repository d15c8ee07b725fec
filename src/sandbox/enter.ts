import type { Confinement } from './spec.js';
import { sandboxCommand } from './script.js';
import type { UserSpec } from './options.js';

/**
 * ctnet-enter (`ctnet exec`, in ctnet-sandbox.pl): joins a running container's cgroups, then every
 * namespace of its PID 1 and its root (and working directory), and confines itself as the
 * container's first process was (user, bounding set, capabilities, no-new-privileges, the same
 * seccomp filter) before it becomes the command. It forks once so the command is in the
 * container's PID namespace, waits, and exits as the command did.
 */
export interface EnterRequest {
  pid1: number;
  user: UserSpec | null;
  confinement: Confinement;
  /** The files through which it joins the container's cgroups, writing 0 (see joinFile in kernel/cgroups.ts). */
  cgroupJoin: string[];
  command: readonly string[];
}

export function enterCommand(req: EnterRequest): string[] {
  const caps = req.confinement.capabilities;
  return sandboxCommand('enter', [String(req.pid1), req.user ? String(req.user.uid) : '-', req.user ? String(req.user.gid) : '-',
    caps ? String(caps[0]) : '-', caps ? String(caps[1]) : '-', req.confinement.noNewPrivileges ? '1' : '0',
    req.confinement.seccompFile ?? '', String(req.cgroupJoin.length), ...req.cgroupJoin, ...req.command]);
}
