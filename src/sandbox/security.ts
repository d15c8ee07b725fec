import { readFileSync } from 'node:fs';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { capabilityNames, effectiveCapabilities, type Capability } from './capabilities.js';
import { parseProfile, type SeccompProfile } from './seccomp-profile.js';

/** How a container is confined, as `run` records it (Docker's HostConfig: Privileged, CapAdd, CapDrop, SecurityOpt). */
export interface SecurityConfig {
  privileged?: boolean;
  /** As given, checked and spelled CAP_X (or ALL). */
  capAdd?: string[];
  capDrop?: string[];
  noNewPrivileges?: boolean;
  /** Absent: Docker's default profile; 'unconfined'; or the absolute path of a profile in Docker's JSON format. */
  seccomp?: string;
}

export interface SecurityRequest {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
}

/** Docker's spellings: `no-new-privileges`, `no-new-privileges=true|false` (and the old `:`), `seccomp=unconfined|PATH`. */
function applyOption(config: SecurityConfig, opt: string): void {
  const m = /^([a-z-]+)(?:[=:](.*))?$/.exec(opt.trim());
  const [key, value] = m ? [m[1], m[2]] : ['', undefined];
  if (key === 'no-new-privileges') {
    if (value === undefined || value === 'true') config.noNewPrivileges = true;
    else if (value === 'false') config.noNewPrivileges = false;
    else throw new InvalidArgumentError(`--security-opt ${opt}: no-new-privileges takes true or false`);
  } else if (key === 'seccomp') {
    if (!value) throw new InvalidArgumentError(`--security-opt ${opt}: give seccomp=unconfined or seccomp=/path/to/profile.json`);
    if (value === 'unconfined') config.seccomp = 'unconfined';
    else if (!value.startsWith('/')) throw new InvalidArgumentError(`--security-opt seccomp=${value}: give the profile's absolute path, e.g. seccomp=$PWD/${value}`);
    else config.seccomp = value;
  } else if (key === 'apparmor' || key === 'label' || key === 'systempaths') {
    throw new InvalidArgumentError(`--security-opt ${opt} is not supported by ctnet (no AppArmor or SELinux profiles); use no-new-privileges or seccomp=`);
  } else {
    throw new InvalidArgumentError(`--security-opt ${opt} is not known; use no-new-privileges or seccomp=unconfined|PROFILE.json`);
  }
}

/** A custom profile is read and checked now, so a bad file refuses the run before anything changes. */
function loadProfile(path: string): SeccompProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new NotFoundError(`--security-opt seccomp=${path}: the profile cannot be read; check the path`);
  }
  return parseProfile(text, path);
}

export function validateSecurity(req: SecurityRequest): SecurityConfig {
  const config: SecurityConfig = {};
  if (req.privileged) config.privileged = true;
  if (req.capAdd?.length) config.capAdd = capabilityNames('--cap-add', req.capAdd);
  if (req.capDrop?.length) config.capDrop = capabilityNames('--cap-drop', req.capDrop);
  for (const opt of req.securityOpt ?? []) applyOption(config, opt);
  if (config.seccomp && config.seccomp !== 'unconfined') loadProfile(config.seccomp);
  return config;
}

export const capabilitiesOf = (s: SecurityConfig = {}): Capability[] => effectiveCapabilities(s.capAdd ?? [], s.capDrop ?? [], s.privileged === true);

/**
 * The profile a container is filtered by: 'default' (ctnet's, built only when its filter must be
 * compiled: see defaultProfile), one from a file, or null (unconfined, or --privileged as in Docker).
 */
export function seccompProfileOf(s: SecurityConfig = {}): SeccompProfile | 'default' | null {
  if (s.privileged || s.seccomp === 'unconfined') return null;
  return s.seccomp ? loadProfile(s.seccomp) : 'default';
}

/** Docker's HostConfig.SecurityOpt as inspect shows it. */
export function securityOptions(s: SecurityConfig = {}): string[] | null {
  const opts = [...(s.noNewPrivileges ? ['no-new-privileges'] : []), ...(s.seccomp ? [`seccomp=${s.seccomp}`] : [])];
  return opts.length ? opts : null;
}
