// Confinement logic without a kernel: capability sets, --security-opt parsing, seccomp profiles
// resolved Docker's way, and libseccomp's compilation of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEFAULT_CAPABILITIES, capabilityWords, effectiveCapabilities } from '../../dist/sandbox/capabilities.js';
import { validateSecurity, capabilitiesOf, seccompProfileOf, securityOptions } from '../../dist/sandbox/security.js';
import { defaultProfile, parseProfile, resolveProfile } from '../../dist/sandbox/seccomp-profile.js';
import { writeSeccompProgram } from '../../dist/kernel/seccomp.js';

test("the default set is Docker's 14 capabilities, 0xa80425fb as a kernel mask", () => {
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(capabilityWords(effectiveCapabilities([], [], false)), [0xa80425fb, 0]);
});

test('--cap-add and --cap-drop take names with or without CAP_, any case, and ALL', () => {
  const caps = effectiveCapabilities(['net_admin', 'CAP_SYS_TIME'], ['NET_RAW', 'cap_mknod'], false);
  assert.ok(caps.includes('NET_ADMIN') && caps.includes('SYS_TIME'));
  assert.ok(!caps.includes('NET_RAW') && !caps.includes('MKNOD'));
  assert.equal(caps.length, 14);
  assert.deepEqual(effectiveCapabilities([], ['ALL'], false), []);
  assert.deepEqual(effectiveCapabilities(['CHOWN'], ['ALL'], false), ['CHOWN']);
  assert.equal(effectiveCapabilities(['ALL'], [], false).length, 41);
  assert.equal(effectiveCapabilities([], ['ALL'], true).length, 41, '--privileged is every capability');
  // An add wins over a drop of the same name, as in Docker.
  assert.ok(effectiveCapabilities(['NET_RAW'], ['NET_RAW'], false).includes('NET_RAW'));
});

test('bad capability names and security options are one-line errors with exit code 2', () => {
  for (const [req, re] of [
    [{ capAdd: ['NET_FLY'] }, /--cap-add NET_FLY is not a Linux capability/],
    [{ capDrop: [''] }, /--cap-drop  is not a Linux capability/],
    [{ securityOpt: ['no-new-privileges=maybe'] }, /takes true or false/],
    [{ securityOpt: ['seccomp'] }, /give seccomp=unconfined or seccomp=/],
    [{ securityOpt: ['seccomp=profile.json'] }, /absolute path/],
    [{ securityOpt: ['apparmor=unconfined'] }, /not supported by ctnet/],
    [{ securityOpt: ['whatever'] }, /is not known/],
    [{ securityOpt: ['seccomp=/nonexistent/profile.json'] }, /cannot be read/],
  ]) {
    assert.throws(() => validateSecurity(req), (err) => re.test(err.message) && !err.message.includes('\n') && [2, 3].includes(err.exitCode), JSON.stringify(req));
  }
});

test('security options are recorded as inspect shows them (CapAdd, CapDrop, SecurityOpt)', () => {
  const s = validateSecurity({ capAdd: ['net_admin'], capDrop: ['all'], securityOpt: ['no-new-privileges', 'seccomp=unconfined'] });
  assert.deepEqual(s, { capAdd: ['CAP_NET_ADMIN'], capDrop: ['ALL'], noNewPrivileges: true, seccomp: 'unconfined' });
  assert.deepEqual(securityOptions(s), ['no-new-privileges', 'seccomp=unconfined']);
  assert.deepEqual(capabilitiesOf(s), ['NET_ADMIN']);
  assert.equal(seccompProfileOf(s), null);
  assert.equal(seccompProfileOf({ privileged: true }), null, '--privileged has no filter, as in Docker');
  assert.deepEqual(validateSecurity({ securityOpt: ['no-new-privileges:false'] }), { noNewPrivileges: false });
});

const x64 = { arch: 'x64', kernel: '6.1.0-13-amd64' };
const actionsFor = (filter, name) => filter.rules.filter((r) => r.name === name);

test("the default profile, resolved: an allow-list with EPERM for the rest, on x86-64's three ABIs", () => {
  const f = resolveProfile(defaultProfile(), { caps: effectiveCapabilities([], [], false), ...x64 });
  assert.equal(f.defaultAction, 0x00050001);
  assert.deepEqual(f.arches, ['x86_64', 'x86', 'x32']);
  assert.equal(actionsFor(f, 'read')[0].action, 0x7fff0000);
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'init_module', 'bpf', 'keyctl', 'add_key', 'ptrace_nonexistent', 'reboot', 'open_by_handle_at']) {
    assert.equal(actionsFor(f, name).length, 0, `${name} is not allowed by default`);
  }
  // clone without namespace flags only; clone3 answers ENOSYS so libc falls back to clone.
  const [clone] = actionsFor(f, 'clone');
  assert.deepEqual(clone.args, [{ index: 0, op: 7, a: 2114060288n, b: 0n }]);
  assert.equal(actionsFor(f, 'clone3')[0].action, 0x00050000 | 38);
  assert.equal(actionsFor(f, 'personality').length, 5);
  assert.equal(actionsFor(f, 'arch_prctl').length, 1);
  assert.equal(actionsFor(f, 'cacheflush').length, 0, 'arm only');
});

test('syscalls that need a capability follow it: CAP_SYS_ADMIN allows mount, unshare and any clone', () => {
  const f = resolveProfile(defaultProfile(), { caps: effectiveCapabilities(['SYS_ADMIN', 'SYS_MODULE'], [], false), ...x64 });
  for (const name of ['mount', 'unshare', 'setns', 'init_module']) assert.equal(actionsFor(f, name)[0]?.action, 0x7fff0000, name);
  assert.deepEqual(actionsFor(f, 'clone').map((r) => r.args.length), [0], 'no masked clone rule with CAP_SYS_ADMIN');
  assert.equal(actionsFor(f, 'clone3')[0].action, 0x7fff0000);
  const old = resolveProfile(defaultProfile(), { caps: [], arch: 'x64', kernel: '4.4.0' });
  assert.equal(actionsFor(old, 'ptrace').length, 0, 'ptrace needs kernel 4.8 without CAP_SYS_PTRACE');
});

test("a custom profile in Docker's format: name or names, errnoRet, args; bad ones are refused in one line", () => {
  const p = parseProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }],
  }), 'p.json');
  const f = resolveProfile(p, { caps: [], ...x64 });
  assert.equal(f.defaultAction, 0x7fff0000);
  assert.deepEqual(f.arches, ['x86_64']);
  assert.deepEqual(f.rules.map((r) => [r.name, r.action]), [['mkdir', 0x0005000d], ['keyctl', 0x00050001]]);
  assert.throws(() => parseProfile('{', 'bad.json'), /bad.json is not JSON/);
  assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_MAYBE"}', 'bad.json'), /bad.json: defaultAction: /);
  assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}', 'b.json'), /syscalls.0.args.0.index/);
});

test('libseccomp compiles the default profile into a BPF program readable by root only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-seccomp-'));
  try {
    const file = join(dir, 'seccomp.bpf');
    writeSeccompProgram(resolveProfile(defaultProfile(), { caps: effectiveCapabilities([], [], false), arch: process.arch, kernel: '6.1.0' }), file);
    const program = readFileSync(file);
    assert.equal(program.length % 8, 0, 'struct sock_filter is 8 bytes');
    assert.ok(program.length / 8 > 300, `${program.length / 8} instructions`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // The program starts by loading the architecture (seccomp_data.arch, offset 4): BPF_LD|BPF_W|BPF_ABS.
    assert.equal(program.readUInt16LE(0), 0x20);
    assert.equal(program.readUInt32LE(4), 4);
    writeFileSync(file, '');
    assert.throws(() => writeSeccompProgram({ defaultAction: 0x7fff0000, arches: ['pdp11'], rules: [] }, file), /does not know the architecture pdp11/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
