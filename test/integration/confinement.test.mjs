// The confinement options as Docker spells them: --cap-add / --cap-drop, --privileged,
// --security-opt no-new-privileges and seccomp=, shown by inspect and applied to exec too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'conf', '--subnet', '172.25.0.0/24']);
});
after(() => lab?.close());

const run = (args, script) => lab.ctnet(['run', '--rm', '--network', 'conf', ...args, '--', 'sh', '-c', script]);
const status = (args) => {
  const r = run(args, 'grep -E "^(CapPrm|CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status');
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/)));
};

test("by default: Docker's 14 capabilities in the bounding, permitted and effective sets, none inheritable or ambient, a seccomp filter", () => {
  const s = status([]);
  assert.deepEqual(s, { CapInh: '0000000000000000', CapPrm: '00000000a80425fb', CapEff: '00000000a80425fb', CapBnd: '00000000a80425fb', CapAmb: '0000000000000000', NoNewPrivs: '0', Seccomp: '2' });
});

test('--cap-drop NET_RAW takes raw sockets away; --cap-add NET_ADMIN gives link changes; ALL drops everything', () => {
  const raw = `perl -MSocket -e 'print socket(my $s, AF_INET, SOCK_RAW, 1) ? "raw\\n" : "no raw: $!\\n"'`;
  assert.match(run([], raw).stdout, /^raw$/m);
  assert.match(run(['--cap-drop', 'net_raw'], raw).stdout, /no raw: Operation not permitted/);
  assert.equal(status(['--cap-drop', 'ALL']).CapEff, '0000000000000000');
  assert.equal(status(['--cap-drop', 'ALL', '--cap-add', 'CAP_CHOWN']).CapBnd, '0000000000000001');
  assert.equal(status(['--cap-add', 'NET_ADMIN']).CapEff, '00000000a80435fb');
  const p = status(['--privileged']);
  assert.equal(p.Seccomp, '0');
  assert.equal(p.CapEff, p.CapBnd);
  assert.notEqual(p.CapEff, '00000000a80425fb');
});

test('no-new-privileges and seccomp=unconfined; a custom profile in Docker\'s format denies what it names', () => {
  const s = status(['--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=unconfined']);
  assert.deepEqual([s.NoNewPrivs, s.Seccomp], ['1', '0']);
  const profile = join(lab.root, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
  const r = run(['--tmpfs', '/tmp', '--security-opt', `seccomp=${profile}`], 'mkdir /tmp/d 2>&1; touch /tmp/f && echo touched');
  assert.match(r.stdout, /Permission denied\ntouched/);
  assert.match(run(['--tmpfs', '/tmp'], 'mkdir /tmp/d && echo made').stdout, /made/);
});

test('exec loads the filter compiled at start, even after the profile file is gone', () => {
  const profile = join(lab.root, 'short-lived.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  lab.ok(['run', '-d', '--name', 'filtered', '--network', 'conf', '--tmpfs', '/tmp', '--security-opt', `seccomp=${profile}`, '--', 'sleep', '600']);
  rmSync(profile);
  const r = lab.ctnet(['exec', 'filtered', '--', 'sh', '-c', 'mkdir /tmp/d 2>&1; echo rc=$?']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Operation not permitted\nrc=1/);
  lab.ok(['rm', '-f', 'filtered']);
});

test('a compiled filter is only used for the profile it was compiled from (a cache entry of the same name holding another profile is compiled again)', () => {
  const profileDenying = (call) => {
    const path = join(lab.root, `deny-${call}.json`);
    writeFileSync(path, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [call, `${call}at`], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    return ['--tmpfs', '/tmp', '--security-opt', `seccomp=${path}`];
  };
  const probe = 'mkdir /tmp/d 2>/dev/null && echo mkdir-ok || echo mkdir-denied; ln -s x /tmp/l 2>/dev/null && echo symlink-ok || echo symlink-denied';
  assert.equal(run(profileDenying('mkdir'), probe).stdout, 'mkdir-denied\nsymlink-ok\n');
  assert.equal(run(profileDenying('symlink'), probe).stdout, 'mkdir-ok\nsymlink-denied\n');
  const cache = join(lab.root, 'seccomp');
  const entryFor = (call) => readdirSync(cache).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4))
    .find((name) => readFileSync(join(cache, `${name}.key`), 'utf8').includes(`"${call}at"`));
  const [mkdirEntry, symlinkEntry] = [entryFor('mkdir'), entryFor('symlink')];
  assert.ok(mkdirEntry && symlinkEntry && mkdirEntry !== symlinkEntry, readdirSync(cache).join(' '));
  // What a collision of names looks like: the symlink profile's entry under the mkdir profile's name.
  for (const ext of ['key', 'bpf']) copyFileSync(join(cache, `${symlinkEntry}.${ext}`), join(cache, `${mkdirEntry}.${ext}`));
  assert.equal(run(profileDenying('mkdir'), probe).stdout, 'mkdir-denied\nsymlink-ok\n');
  assert.match(readFileSync(join(cache, `${mkdirEntry}.key`), 'utf8'), /"mkdirat"/);
});

test('inspect shows Privileged, CapAdd, CapDrop and SecurityOpt as Docker does', () => {
  lab.ok(['run', '-d', '--name', 'shown', '--network', 'conf', '--cap-add', 'net_admin', '--cap-drop', 'MKNOD', '--security-opt', 'no-new-privileges', '--', 'sleep', '600']);
  const h = lab.json(['inspect', 'shown']).HostConfig;
  assert.deepEqual([h.Privileged, h.CapAdd, h.CapDrop, h.SecurityOpt], [false, ['CAP_NET_ADMIN'], ['CAP_MKNOD'], ['no-new-privileges']]);
  // exec runs as confined as the container: the same sets (+NET_ADMIN, -MKNOD), the flag and the filter.
  const e = lab.ok(['exec', 'shown', '--', 'grep', '-E', '^(CapEff|CapBnd|NoNewPrivs|Seccomp):', '/proc/self/status']);
  assert.match(e, /CapEff:\s+00000000a00435fb\nCapBnd:\s+00000000a00435fb\nNoNewPrivs:\s+1\nSeccomp:\s+2/);
  assert.match(lab.ok(['exec', 'shown', '--', 'cat', '/proc/self/cgroup']), /:\/$/m, 'exec joins its cgroup namespace');
  lab.ok(['rm', '-f', 'shown']);
  lab.ok(['run', '-d', '--name', 'priv', '--network', 'conf', '--privileged', '--', 'sleep', '600']);
  assert.equal(lab.json(['inspect', 'priv']).HostConfig.Privileged, true);
  assert.match(lab.ok(['exec', 'priv', '--', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
  lab.ok(['rm', '-f', 'priv']);
});

test('bad confinement options change nothing and exit 2 with one line', () => {
  const before = lab.ok(['ps', '-a', '--json']);
  for (const [args, re] of [
    [['--cap-add', 'FLY'], /--cap-add FLY is not a Linux capability/],
    [['--security-opt', 'seccomp=/nonexistent.json'], /cannot be read/],
    [['--security-opt', 'apparmor=docker-default'], /not supported by ctnet/],
  ]) {
    const r = lab.ctnet(['run', '--network', 'conf', ...args, '--', 'true']);
    assert.ok([2, 3].includes(r.code), `${args}: ${r.code}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.equal(lab.ok(['ps', '-a', '--json']), before);
});
