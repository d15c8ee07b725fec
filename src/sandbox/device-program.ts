/**
 * The device allow-list as a cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE), the way runc
 * enforces it where there is no devices controller: the kernel runs it on every open and mknod of
 * a device node by the container's processes, with struct bpf_cgroup_dev_ctx { u32 access_type
 * (access << 16 | type); u32 major; u32 minor; } in r1; it returns 1 to allow, 0 to refuse.
 * A few instructions per rule, assembled here: no compiler or BPF library is needed.
 */

/** One rule in the devices controller's own syntax: `c 1:3 rwm`, `b *:* m`. */
export interface DeviceRule {
  type: 'c' | 'b' | 'a';
  major: number | null;
  minor: number | null;
  access: string;
}

export function parseDeviceRule(text: string): DeviceRule {
  const m = /^([cba]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(text);
  if (!m) throw new Error(`not a device rule: ${text}`);
  const num = (s: string): number | null => (s === '*' ? null : Number(s));
  return { type: m[1] as DeviceRule['type'], major: num(m[2]), minor: num(m[3]), access: m[4] };
}

const TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
const ACCESS = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE
const ALL_ACCESS = 7;

/** struct bpf_insn: opcode, dst_reg (low 4 bits) and src_reg (high 4), a signed 16-bit offset, a 32-bit immediate. */
function insn(code: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

const LDX_W = 0x61; // r_dst = *(u32 *)(r_src + off)
const MOV_REG = 0xbf;
const MOV_IMM = 0xb7;
const AND_IMM = 0x57;
const RSH_IMM = 0x77;
const JNE_IMM = 0x55; // if r_dst != imm: skip `off` instructions
const EXIT = 0x95;

/** The program for an allow-list: the first rule that matches allows; nothing matching refuses. */
export function deviceProgram(rules: readonly DeviceRule[]): Buffer {
  const code: Buffer[] = [
    insn(LDX_W, 2, 1, 0, 0), // r2 = access_type
    insn(MOV_REG, 3, 2, 0, 0),
    insn(AND_IMM, 3, 0, 0, 0xffff), // r3 = type
    insn(RSH_IMM, 2, 0, 0, 16), // r2 = access
    insn(LDX_W, 4, 1, 4, 0), // r4 = major
    insn(LDX_W, 5, 1, 8, 0), // r5 = minor
  ];
  for (const rule of rules) {
    // Each test jumps past the rest of this rule's block when it does not match.
    const tests: ((skip: number) => Buffer[])[] = [];
    if (rule.type !== 'a') tests.push((skip) => [insn(JNE_IMM, 3, 0, skip, TYPE[rule.type as 'b' | 'c'])]);
    const allowed = [...rule.access].reduce((a, c) => a | ACCESS[c as keyof typeof ACCESS], 0);
    if (allowed !== ALL_ACCESS) {
      // Refused when the request asks for anything the rule does not give.
      tests.push((skip) => [insn(MOV_REG, 6, 2, 0, 0), insn(AND_IMM, 6, 0, 0, ~allowed & ALL_ACCESS), insn(JNE_IMM, 6, 0, skip, 0)]);
    }
    if (rule.major !== null) tests.push((skip) => [insn(JNE_IMM, 4, 0, skip, rule.major as number)]);
    if (rule.minor !== null) tests.push((skip) => [insn(JNE_IMM, 5, 0, skip, rule.minor as number)]);
    const allow = [insn(MOV_IMM, 0, 0, 0, 1), insn(EXIT, 0, 0, 0, 0)];
    // Built backwards: each jump's distance is the length of what follows it in the block.
    let block = allow;
    for (const test of tests.reverse()) block = [...test(block.length), ...block];
    code.push(...block);
  }
  code.push(insn(MOV_IMM, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0));
  return Buffer.concat(code);
}
