import { InvalidArgumentError } from '../errors.js';
import type { Capability } from './capabilities.js';
import { seccompSchemas, type ActionName, type SeccompProfile, type SyscallEntry } from './seccomp-schema.js';

export type { SeccompProfile };

/**
 * Seccomp profiles in Docker's JSON format (`--security-opt seccomp=PROFILE.json`), and their
 * resolution for one container: which entries apply given its capabilities, the machine's
 * architecture and kernel. The result is a flat list of rules that kernel/seccomp.ts compiles
 * with libseccomp.
 */

/** One rule for libseccomp: a syscall by name, an action as the kernel encodes it, argument comparisons. */
export interface SeccompRule {
  name: string;
  action: number;
  args: { index: number; op: number; a: bigint; b: bigint }[];
}

export interface ResolvedFilter {
  defaultAction: number;
  /** libseccomp's architecture names (x86_64, x86, x32, aarch64, arm, ...). */
  arches: string[];
  rules: SeccompRule[];
}

const EPERM = 1;
const ACTION_CODES: Record<ActionName, (errno: number) => number> = {
  SCMP_ACT_KILL: () => 0,
  SCMP_ACT_KILL_THREAD: () => 0,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_ERRNO: (e) => (0x00050000 | (e & 0xffff)) >>> 0,
  SCMP_ACT_TRACE: (e) => (0x7ff00000 | (e & 0xffff)) >>> 0,
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_ALLOW: () => 0x7fff0000,
};
const OPS = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 } as const;

/** Node's architecture as Go (and so Docker's profiles) names it, and as libseccomp names it. */
const NODE_ARCH: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  ia32: { go: '386', scmp: 'SCMP_ARCH_X86' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
};

const scmpName = (arch: string): string => arch.replace(/^SCMP_ARCH_/, '').toLowerCase();

/** "5.15.0-1-amd64" → [5, 15]. */
function kernelAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

export interface Target {
  caps: readonly Capability[];
  /** process.arch */
  arch: string;
  /** os.release() */
  kernel: string;
}

function applies(entry: SyscallEntry, t: Target, goArch: string): boolean {
  const has = (caps: string[] | undefined): boolean => (caps ?? []).every((c) => t.caps.includes(c.replace(/^CAP_/, '') as Capability));
  const inc = entry.includes;
  if (inc?.caps?.length && !has(inc.caps)) return false;
  if (inc?.arches?.length && !inc.arches.includes(goArch)) return false;
  if (inc?.minKernel && !kernelAtLeast(t.kernel, inc.minKernel)) return false;
  const exc = entry.excludes;
  if (exc?.caps?.length && exc.caps.some((c) => t.caps.includes(c.replace(/^CAP_/, '') as Capability))) return false;
  if (exc?.arches?.length && exc.arches.includes(goArch)) return false;
  if (exc?.minKernel && kernelAtLeast(t.kernel, exc.minKernel)) return false;
  return true;
}

/** What the profile means for one container, as Docker resolves it (moby profiles/seccomp). */
export function resolveProfile(profile: SeccompProfile, t: Target): ResolvedFilter {
  const native = NODE_ARCH[t.arch];
  if (!native) throw new InvalidArgumentError(`seccomp: ctnet does not know the architecture ${t.arch}; use --security-opt seccomp=unconfined`);
  const listed = profile.architectures ?? [];
  const mapped = (profile.archMap ?? []).find((m) => m.architecture === native.scmp);
  const arches = [...new Set([native.scmp, ...(mapped?.subArchitectures ?? []), ...listed])].map(scmpName);
  const defaultAction = ACTION_CODES[profile.defaultAction](profile.defaultErrnoRet ?? EPERM);
  const rules: SeccompRule[] = [];
  for (const entry of profile.syscalls ?? []) {
    if (!applies(entry, t, native.go)) continue;
    const names = [...(entry.names ?? []), ...(entry.name ? [entry.name] : [])];
    const code = ACTION_CODES[entry.action](entry.errnoRet ?? EPERM);
    const args = (entry.args ?? []).map((a) => ({ index: a.index, op: OPS[a.op], a: BigInt(a.value), b: BigInt(a.valueTwo ?? 0) }));
    for (const name of names) rules.push({ name, action: code, args });
  }
  return { defaultAction, arches, rules };
}

/** Parses a profile file's text; every problem is one line naming the file. */
export function parseProfile(text: string, file: string): SeccompProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`--security-opt seccomp=${file} is not JSON (${(err as Error).message}); give a profile in Docker's format`);
  }
  const parsed = seccompSchemas().seccompProfileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`--security-opt seccomp=${file}: ${issue.path.join('.') || 'profile'}: ${issue.message}; see Docker's seccomp profile format`);
  }
  return parsed.data;
}

/** Docker's default profile, as ctnet applies it unless told otherwise (built at first use). */
export { defaultSeccompProfile as defaultProfile } from './seccomp-default.js';
