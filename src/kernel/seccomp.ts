import { koffi } from './koffi.js';
import { closeSync, openSync } from 'node:fs';
import { DependencyMissingError, InvalidArgumentError } from '../errors.js';
import type { ResolvedFilter } from '../sandbox/seccomp-profile.js';

/**
 * Seccomp filters compiled by Debian's libseccomp (libseccomp.so.2) through koffi: the profile's
 * rules become a classic BPF program, written to a file the container's first process (and every
 * `exec`) loads last before it becomes the command. Nothing here loads a filter into ctnet itself.
 */

interface Libseccomp {
  seccomp_init(defaultAction: number): unknown;
  seccomp_release(ctx: unknown): void;
  seccomp_arch_resolve_name(name: string): number;
  seccomp_arch_add(ctx: unknown, token: number): number;
  seccomp_syscall_resolve_name(name: string): number;
  seccomp_rule_add_array(ctx: unknown, action: number, syscall: number, count: number, args: Buffer | null): number;
  seccomp_export_bpf(ctx: unknown, fd: number): number;
}

let bound: Libseccomp | undefined;

function libseccomp(): Libseccomp {
  if (bound) return bound;
  let lib;
  try {
    lib = koffi().load('libseccomp.so.2');
  } catch {
    throw new DependencyMissingError('libseccomp.so.2 is missing, which confines containers; install it (apt-get install libseccomp2) or run with --security-opt seccomp=unconfined');
  }
  bound = {
    seccomp_init: lib.func('void *seccomp_init(uint32_t def_action)'),
    seccomp_release: lib.func('void seccomp_release(void *ctx)'),
    seccomp_arch_resolve_name: lib.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    seccomp_arch_add: lib.func('int seccomp_arch_add(void *ctx, uint32_t token)'),
    seccomp_syscall_resolve_name: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    seccomp_rule_add_array: lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int count, const void *args)'),
    seccomp_export_bpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
  } as Libseccomp;
  return bound;
}

const EEXIST = 17;
/** __NR_SCMP_ERROR: a name libseccomp does not know on any architecture (a newer syscall): skipped, as runc does. */
const UNKNOWN_SYSCALL = -1;
/** struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; scmp_datum_t datum_a, datum_b; } */
const ARG_SIZE = 24;

function argArray(args: ResolvedFilter['rules'][number]['args']): Buffer | null {
  if (!args.length) return null;
  const buf = Buffer.alloc(ARG_SIZE * args.length);
  args.forEach((a, i) => {
    buf.writeUInt32LE(a.index, i * ARG_SIZE);
    buf.writeUInt32LE(a.op, i * ARG_SIZE + 4);
    buf.writeBigUInt64LE(a.a, i * ARG_SIZE + 8);
    buf.writeBigUInt64LE(a.b, i * ARG_SIZE + 16);
  });
  return buf;
}

/** Compiles the filter and writes its BPF program (struct sock_filter[]) to `path`, readable by root only. */
export function writeSeccompProgram(filter: ResolvedFilter, path: string): void {
  const lib = libseccomp();
  const ctx = lib.seccomp_init(filter.defaultAction);
  if (!ctx) throw new InvalidArgumentError('seccomp: libseccomp refused the profile\'s defaultAction');
  try {
    for (const arch of filter.arches) {
      const token = lib.seccomp_arch_resolve_name(arch);
      if (!token) throw new InvalidArgumentError(`seccomp: libseccomp does not know the architecture ${arch}; remove it from the profile`);
      const rc = lib.seccomp_arch_add(ctx, token);
      if (rc < 0 && rc !== -EEXIST) throw new InvalidArgumentError(`seccomp: cannot add the architecture ${arch} (error ${-rc})`);
    }
    for (const rule of filter.rules) {
      // The kernel's default already does what this rule says; libseccomp refuses such rules.
      if (rule.action === filter.defaultAction) continue;
      const nr = lib.seccomp_syscall_resolve_name(rule.name);
      if (nr === UNKNOWN_SYSCALL) continue;
      const rc = lib.seccomp_rule_add_array(ctx, rule.action, nr, rule.args.length, argArray(rule.args));
      if (rc < 0) throw new InvalidArgumentError(`seccomp: the rule for ${rule.name} is refused by libseccomp (error ${-rc}); check its args`);
    }
    const fd = openSync(path, 'w', 0o600);
    try {
      const rc = lib.seccomp_export_bpf(ctx, fd);
      if (rc < 0) throw new InvalidArgumentError(`seccomp: libseccomp could not build the filter (error ${-rc})`);
    } finally {
      closeSync(fd);
    }
  } finally {
    lib.seccomp_release(ctx);
  }
}
