import { z } from 'zod';

/** Docker's seccomp profile format (moby's profiles/seccomp), as a zod schema: the shape every profile ctnet reads has. */

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

const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'] as const;
export type ActionName = (typeof ACTIONS)[number];
const action = z.enum(ACTIONS);

export const syscallEntry = z.object({
  names: z.array(z.string()).optional(),
  name: z.string().optional(),
  action,
  errnoRet: z.number().int().min(0).max(4095).optional(),
  args: z.array(argument).nullable().optional(),
  includes: condition.optional(),
  excludes: condition.optional(),
  comment: z.string().optional(),
}).passthrough();

export const seccompProfileSchema = z.object({
  defaultAction: action,
  defaultErrnoRet: z.number().int().min(0).max(4095).optional(),
  architectures: z.array(z.string()).nullable().optional(),
  archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullable() })).nullable().optional(),
  syscalls: z.array(syscallEntry).nullable().optional(),
}).passthrough();

export type SeccompProfile = z.infer<typeof seccompProfileSchema>;
