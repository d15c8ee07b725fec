import { koffi } from './koffi.js';
import { closeSync, constants, openSync } from 'node:fs';
import { KernelError } from '../errors.js';
import { errno, errnoName, libc } from './libc.js';

/** Loading a cgroup device program and attaching it to a cgroup v2 directory, with bpf(2). */

const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280 };
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
/** Other programs (systemd's) may sit above and beside it; every one must allow. */
const BPF_F_ALLOW_MULTI = 2;
const ATTR_SIZE = 128;
const LICENSE = Buffer.from('Apache-2.0\0');

function bpf(cmd: number, attr: Buffer, what: string): number {
  const nr = SYS_BPF[process.arch];
  if (!nr) throw new KernelError(`ctnet does not know bpf's syscall number on ${process.arch}`);
  const r = libc().syscall(nr, 'int', cmd, 'void *', attr, 'unsigned int', attr.length);
  if (r < 0) {
    const code = errno();
    throw new KernelError(`${what}: ${errnoName(code)}`, code);
  }
  return r;
}

/** Attaches `program` (struct bpf_insn[]) to the cgroup v2 directory: its processes may use only the devices it allows. */
export function attachDeviceProgram(cgroupDir: string, program: Buffer): void {
  const load = Buffer.alloc(ATTR_SIZE);
  load.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
  load.writeUInt32LE(program.length / 8, 4);
  load.writeBigUInt64LE(BigInt(koffi().address(program) as bigint), 8);
  load.writeBigUInt64LE(BigInt(koffi().address(LICENSE) as bigint), 16);
  const prog = bpf(BPF_PROG_LOAD, load, 'loading the device program');
  const dir = openSync(cgroupDir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const attach = Buffer.alloc(ATTR_SIZE);
    attach.writeUInt32LE(dir, 0);
    attach.writeUInt32LE(prog, 4);
    attach.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
    attach.writeUInt32LE(BPF_F_ALLOW_MULTI, 12);
    bpf(BPF_PROG_ATTACH, attach, `attaching the device program to ${cgroupDir}`);
  } finally {
    closeSync(dir);
    closeSync(prog); // the attachment holds the program
  }
}
