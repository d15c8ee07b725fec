import { z } from 'zod';

const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'] as const;
export type ActionName = (typeof ACTIONS)[number];

/**
 * Docker's seccomp profile format (moby's profiles/seccomp), as a zod schema: the shape every profile
 * ctnet reads has. Built at first use: only a profile read from a file is checked against it, and
 * building it cost ~2 ms of every command's start.
 */
function build() {
  const condition = z.object({
    caps: z.array(z.string()).optional(),
    arches: z.array(z.string()).optional(),
    minKernel: z.string().optional(),
  }).passthrough();

  const argument = z.object({
    index: z.number().int().min(0).max(5),
    value: z.number().int().min(0),
    valueTwo: z.number().int().min(0).optional(),
    op: z.enum(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']),
  });

  const action = z.enum(ACTIONS);

  const syscallEntry = z.object({
    names: z.array(z.string()).optional(),
    name: z.string().optional(),
    action,
    errnoRet: z.number().int().min(0).max(4095).optional(),
    args: z.array(argument).nullable().optional(),
    includes: condition.optional(),
    excludes: condition.optional(),
    comment: z.string().optional(),
  }).passthrough();

  const seccompProfileSchema = z.object({
    defaultAction: action,
    defaultErrnoRet: z.number().int().min(0).max(4095).optional(),
    architectures: z.array(z.string()).nullable().optional(),
    archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullable() })).nullable().optional(),
    syscalls: z.array(syscallEntry).nullable().optional(),
  }).passthrough();
  return { syscallEntry, seccompProfileSchema };
}

let built: ReturnType<typeof build> | undefined;
export const seccompSchemas = (): ReturnType<typeof build> => (built ??= build());

export type SyscallEntry = z.infer<ReturnType<typeof build>['syscallEntry']>;
export type SeccompProfile = z.infer<ReturnType<typeof build>['seccompProfileSchema']>;
