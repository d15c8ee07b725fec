import { InvalidArgumentError } from '../errors.js';

/** Linux capabilities by name, numbered as in <linux/capability.h>. */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** Docker's default set (moby oci/caps defaults): what a container keeps unless told otherwise. */
export const DEFAULT_CAPABILITIES: readonly Capability[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** `net_admin`, `CAP_NET_ADMIN` and `NET_ADMIN` are one capability; `ALL` stands for every one. */
function normalise(flag: string, name: string): Capability | 'ALL' {
  const upper = name.trim().toUpperCase().replace(/^CAP_/, '');
  if (upper === 'ALL') return 'ALL';
  if ((CAPABILITIES as readonly string[]).includes(upper)) return upper as Capability;
  throw new InvalidArgumentError(`${flag} ${name} is not a Linux capability; use a name such as NET_ADMIN or CAP_SYS_TIME, or ALL`);
}

export const capabilityNumber = (cap: Capability): number => CAPABILITIES.indexOf(cap);

/**
 * The set a container runs with, Docker's way: the default set, minus --cap-drop, plus --cap-add
 * (an add wins over a drop of the same name; ALL on either side means every capability).
 */
export function effectiveCapabilities(add: readonly string[], drop: readonly string[], privileged: boolean): Capability[] {
  const adds = add.map((a) => normalise('--cap-add', a));
  const drops = drop.map((d) => normalise('--cap-drop', d));
  if (privileged || adds.includes('ALL')) return [...CAPABILITIES];
  const base = drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
  return CAPABILITIES.filter((c) => base.includes(c) || adds.includes(c));
}

/** The names as the user gave them, checked and spelled as `inspect` shows them (CAP_ prefix, as Docker). */
export function capabilityNames(flag: string, names: readonly string[]): string[] {
  return [...new Set(names.map((n) => normalise(flag, n)))].map((n) => (n === 'ALL' ? 'ALL' : `CAP_${n}`));
}

/** A set as the two 32-bit words capset(2) takes. */
export function capabilityWords(caps: readonly Capability[]): [number, number] {
  const words: [number, number] = [0, 0];
  for (const cap of caps) {
    const n = capabilityNumber(cap);
    words[n >> 5] = (words[n >> 5] | (1 << (n & 31))) >>> 0;
  }
  return words;
}
