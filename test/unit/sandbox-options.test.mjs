import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpuShares, parseMemoryReservation, parseMemorySwap, isIpcSysctl, parseIpcSysctl, supplementaryGroups, parseCpus, parseCpuset, parseCpuPeriod, parseCpuQuota, parseDevice, parseMemory, parseMount, parseNamespaceModes, parsePidsLimit, parseShmSize, parseStopSignal, parseStopTimeout, parseTmpfs, parseUlimit, parseUser, parseVolume, tmpfsMount } from '../../dist/sandbox/options.js';
import { cgroupDirs, cgroupDirsFor, cpusetWrites, limitWrites, unsupportedLimits } from '../../dist/kernel/cgroups.js';
import { resolvedPath } from '../../dist/kernel/files.js';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('--memory: bytes and k/m/g suffixes, Docker minimum of 6m', () => {
  assert.equal(parseMemory('64m'), 64 * 1024 ** 2);
  assert.equal(parseMemory('1G'), 1024 ** 3);
  assert.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseMemory('7000000'), 7000000);
  for (const bad of ['abc', '64mb', '-1m', '', '5m']) assert.throws(() => parseMemory(bad), /--memory/);
});

test('--shm-size: a size as --memory takes it, at least one byte', () => {
  assert.equal(parseShmSize('1g'), 1024 ** 3);
  assert.equal(parseShmSize('65536k'), 64 * 1024 ** 2);
  assert.throws(() => parseShmSize('0'), /--shm-size 0 is below the minimum of 1b; give at least --shm-size 1b$/);
  assert.throws(() => parseShmSize('lots'), /--shm-size lots is not a size; give bytes or a number with k, m or g, e.g. --shm-size 64m$/);
});

test('--cpus: above 0, at most the host, at least 0.01', () => {
  assert.equal(parseCpus('0.5', 2), 0.5);
  assert.equal(parseCpus('2', 2), 2);
  for (const bad of ['0', '-1', 'x', '3', '0.001', '1e3']) assert.throws(() => parseCpus(bad, 2), /--cpus/);
});

test('--pids-limit: a whole number of at least 1', () => {
  assert.equal(parsePidsLimit('100'), 100);
  for (const bad of ['0', '-1', '1.5', 'many']) assert.throws(() => parsePidsLimit(bad), /--pids-limit/);
});

test('-v: HOSTPATH:PATH[:ro|rw], both absolute, no .., not onto /', () => {
  assert.deepEqual(parseVolume('/srv/data:/data'), { source: '/srv/data', target: '/data', readOnly: false });
  assert.deepEqual(parseVolume('/srv/data:/data/:ro'), { source: '/srv/data', target: '/data', readOnly: true });
  for (const bad of ['/srv', 'srv:/data', '/srv:data', '/srv:/data:rx', '/srv:/a/../etc', '/a:/b:ro:x', '/srv:/', '/srv://:ro']) assert.throws(() => parseVolume(bad), /-v/);
});

test("-v options are Docker's, comma-separated: z, Z, rprivate and the macOS consistency modes are accepted; propagation and nocopy are refused with the way out", () => {
  assert.deepEqual(parseVolume('/srv:/data:ro,z'), { source: '/srv', target: '/data', readOnly: true });
  assert.deepEqual(parseVolume('/srv:/data:Z,rprivate,cached'), { source: '/srv', target: '/data', readOnly: false });
  assert.deepEqual(parseVolume('/srv:/data:delegated,rw,private'), { source: '/srv', target: '/data', readOnly: false });
  assert.throws(() => parseVolume('/srv:/data:ro,rslave'), /-v \/srv:\/data:ro,rslave: rslave propagation is not supported: ctnet's volumes are rprivate \(Docker's default\); leave it out$/);
  assert.throws(() => parseVolume('/srv:/data:nocopy'), /nocopy is for Docker's named volumes, not a host path; leave it out$/);
  assert.throws(() => parseVolume('/srv:/data:ro,rw'), /: ro and rw are one choice; give one of them$/);
  assert.throws(() => parseVolume('/srv:/data:z,Z'), /: z and Z are one choice/);
  assert.throws(() => parseVolume('/srv:/data:ro,'), /: an empty option is not a volume option; use ro or rw/);
  assert.throws(() => parseVolume('/srv:/data:bogus'), /: bogus is not a volume option; use ro or rw \(Docker's z, Z, rprivate, consistent, cached and delegated are accepted too\)$/);
});

test("--mount, Docker's spelling: binds and tmpfs mounts with Docker's keys and aliases, quoted fields, one line naming what is wrong", () => {
  assert.deepEqual(parseMount('type=bind,source=/srv/data,target=/data'), { volume: { source: '/srv/data', target: '/data', readOnly: false } });
  assert.deepEqual(parseMount('type=bind,src=/srv,dst=/data/,readonly'), { volume: { source: '/srv', target: '/data', readOnly: true } });
  assert.deepEqual(parseMount('Type=bind,Source=/srv,Destination=/data,ro=true,bind-propagation=rprivate,consistency=cached'), { volume: { source: '/srv', target: '/data', readOnly: true } });
  assert.deepEqual(parseMount('type=bind,src=/srv,dst=/data,readonly=false'), { volume: { source: '/srv', target: '/data', readOnly: false } });
  assert.deepEqual(parseMount('type=bind,"src=/srv/a,b:c",dst=/data'), { volume: { source: '/srv/a,b:c', target: '/data', readOnly: false } }, 'a quoted field keeps its commas, and a path its colons');
  assert.deepEqual(parseMount('type=tmpfs,target=/cache,tmpfs-size=64m,tmpfs-mode=1770'), { tmpfs: { path: '/cache', options: 'size=64m,mode=1770' } });
  assert.deepEqual(parseMount('type=tmpfs,dst=/cache,readonly,tmpfs-size=1048576'), { tmpfs: { path: '/cache', options: 'ro,size=1048576' } });
  const refused = [
    ['src=/srv,dst=/data', /give type=bind \(a host path\) or type=tmpfs; Docker's default, a named volume, is not one ctnet has$/],
    ['type=volume,src=cache,dst=/data', /ctnet has no named volumes; give type=bind with a host path as source/],
    ['type=npipe,src=/srv,dst=/data', /type=npipe is not bind or tmpfs$/],
    ['type=bind,dst=/data', /give source=HOSTPATH/],
    ['type=bind,src=/srv', /give target=PATH/],
    ['type=bind,src=srv,dst=/data', /the host path srv must be absolute, e.g. source=\$PWD\/srv$/],
    ['type=bind,src=/srv,dst=data', /--mount type=bind,src=\/srv,dst=data: the container path data must be absolute/],
    ['type=bind,src=/srv,dst=/', /the container path cannot be \//],
    ['type=bind,src=/srv,target=/a,dst=/b', /target is given twice|dst is given twice/],
    ['type=bind,src=/srv,dst=/data,readonly=maybe', /readonly=maybe is not true or false/],
    ['type=bind,src=/srv,dst=/data,bind-propagation=rslave', /bind-propagation=rslave is not supported: ctnet's volumes are rprivate/],
    ['type=bind,src=/srv,dst=/data,bind-recursive=disabled', /bind-recursive=disabled is not supported/],
    ['type=bind,src=/srv,dst=/data,volume-nocopy', /volume-nocopy is for Docker's named volumes/],
    ['type=bind,src=/srv,dst=/data,tmpfs-size=1m', /tmpfs-size is not a key of a type=bind mount; use type, source, target/],
    ['type=tmpfs,src=/srv,dst=/data', /source is not a key of a type=tmpfs mount/],
    ['type=tmpfs,dst=/data,tmpfs-size=lots', /tmpfs-size=lots is not a size/],
    ['type=tmpfs,dst=/data,tmpfs-mode=rwx', /mode=rwx is not valid/],
    ['type=bind,"src=/srv,dst=/data', /a quote is not closed/],
    ['type=bind,,src=/srv,dst=/data', /an empty field/],
  ];
  for (const [text, why] of refused) assert.throws(() => parseMount(text), (err) => err.message.startsWith(`--mount ${text}: `) && why.test(err.message), text);
});

test('--tmpfs PATH[:OPTIONS]: Docker\'s options as mount flags and data; nosuid, nodev and mode 1777 unless they say otherwise', () => {
  const [RDONLY, NOSUID, NODEV, NOEXEC] = [1, 2, 4, 8];
  assert.deepEqual(parseTmpfs('/tmp/'), { path: '/tmp', options: '' });
  assert.deepEqual(parseTmpfs('/tmp:size=64m,noexec'), { path: '/tmp', options: 'size=64m,noexec' });
  assert.deepEqual(tmpfsMount(''), { flags: NOSUID | NODEV, data: 'mode=1777' });
  assert.deepEqual(tmpfsMount('ro,noexec,size=64m,mode=700,uid=1000,gid=100,nr_inodes=10k'), { flags: RDONLY | NOSUID | NODEV | NOEXEC, data: 'mode=700,size=64m,uid=1000,gid=100,nr_inodes=10k' });
  assert.deepEqual(tmpfsMount('noexec,exec,suid,ro,rw'), { flags: NODEV, data: 'mode=1777' }, 'the last of a pair wins');
  assert.deepEqual(tmpfsMount('size=50%'), { flags: NOSUID | NODEV, data: 'mode=1777,size=50%' });
  for (const [bad, why] of [['dev', /nodev/], ['size=big', /size=64m/], ['mode=999', /octal/], ['uid=-1', /uid=1000/], ['async', /not a tmpfs option ctnet knows/], ['toString', /not a tmpfs option/], ['constructor=1', /not a tmpfs option/], ['ro,', /an empty option/]]) {
    assert.throws(() => parseTmpfs(`/tmp:${bad}`), why, bad);
  }
  for (const bad of ['tmp', '/a/../b', ':size=1m']) assert.throws(() => parseTmpfs(bad), /must be an absolute path/, bad);
});

test('--user: numbers, names from passwd and group, Docker defaults', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nstaff:x:50:\n';
  assert.deepEqual(parseUser('1234:5678', passwd, group), { uid: 1234, gid: 5678 });
  assert.deepEqual(parseUser('app', passwd, group), { uid: 1000, gid: 1001 });
  assert.deepEqual(parseUser('1000', passwd, group), { uid: 1000, gid: 1001 }, 'a uid with a passwd entry gets its group');
  assert.deepEqual(parseUser('4321', passwd, group), { uid: 4321, gid: 0 }, 'no entry: group 0, as Docker');
  assert.deepEqual(parseUser('app:staff', passwd, group), { uid: 1000, gid: 50 });
  for (const bad of ['nobody-here', 'app:nogroup', '1:2:3', ':1', '1:']) assert.throws(() => parseUser(bad, passwd, group), /--user/);
});

test('cgroup writes: v1 per controller hierarchy, v2 in one directory with controllers delegated', () => {
  const v1 = { version: 1, roots: { memory: '/cg/memory', cpu: '/cg/cpu', cpuacct: '/cg/cpuacct', pids: '/cg/pids' } };
  assert.deepEqual(cgroupDirs(v1, 'ID'), ['/cg/memory/ctnet/ID', '/cg/cpu/ctnet/ID', '/cg/cpuacct/ctnet/ID', '/cg/pids/ctnet/ID']);
  assert.deepEqual(limitWrites(v1, 'ID', { memory: 1024, cpus: 0.5, pidsLimit: 10 }), [
    ['/cg/memory/ctnet/ID', 'memory.limit_in_bytes', '1024'],
    ['/cg/cpu/ctnet/ID', 'cpu.cfs_period_us', '100000'],
    ['/cg/cpu/ctnet/ID', 'cpu.cfs_quota_us', '50000'],
    ['/cg/pids/ctnet/ID', 'pids.max', '10'],
  ]);
  const v2 = { version: 2, roots: { unified: '/cg' } };
  assert.deepEqual(cgroupDirs(v2, 'ID'), ['/cg/ctnet/ID']);
  assert.deepEqual(limitWrites(v2, 'ID', { memory: 1024, cpus: 1.5 }), [
    ['/cg', 'cgroup.subtree_control', '+memory +cpu +pids'],
    ['/cg/ctnet', 'cgroup.subtree_control', '+memory +cpu +pids'],
    ['/cg/ctnet/ID', 'memory.max', '1024'],
    ['/cg/ctnet/ID', 'cpu.max', '150000 100000'],
  ]);
  // Co-mounted v1 controllers (cpu,cpuacct in one hierarchy) get one directory.
  assert.deepEqual(cgroupDirs({ version: 1, roots: { cpu: '/cg/cpu,cpuacct', cpuacct: '/cg/cpu,cpuacct' } }, 'ID'), ['/cg/cpu,cpuacct/ctnet/ID']);
});

test("--pid, --ipc, --uts: host shares the host's namespace, container:NAME another's (--pid, --ipc); Docker's names for the default give none; the unknown is refused", () => {
  assert.deepEqual(parseNamespaceModes({}), {});
  assert.deepEqual(parseNamespaceModes({ pid: '', ipc: 'private', uts: '' }), {});
  assert.deepEqual(parseNamespaceModes({ pid: 'host', ipc: 'host', uts: 'host' }), { pidMode: 'host', ipcMode: 'host', utsMode: 'host' });
  assert.deepEqual(parseNamespaceModes({ ipc: 'none' }), { ipcMode: 'none' });
  assert.deepEqual(parseNamespaceModes({ ipc: 'shareable' }), { ipcMode: 'shareable' });
  assert.deepEqual(parseNamespaceModes({ pid: 'container:web', ipc: 'container:db' }), { pidMode: 'container:web', ipcMode: 'container:db' });
  assert.throws(() => parseNamespaceModes({ pid: 'container:' }), /--pid container: is not a mode ctnet knows: give one of host, container:NAME/);
  assert.throws(() => parseNamespaceModes({ uts: 'container:web' }), /--uts container:web is not a mode ctnet knows: give one of host \(default/);
  assert.throws(() => parseNamespaceModes({ ipc: 'HOST' }), /--ipc HOST is not a mode ctnet knows: give one of host, none, shareable, container:NAME, private/);
});

test('the init spec: NUL-terminated name, count and values per field, as ctnet-sandbox.pl reads it', async () => {
  const { encodeInitSpec } = await import('../../dist/sandbox/spec.js');
  const spec = {
    command: ['sh', '-c', 'echo a\nb'], env: { PATH: '/bin', X: 'a=b' }, rootfs: null, cwd: '/', cwdRequired: true, readOnlyRoot: false, ulimits: [{ name: 'nofile', soft: 1024, hard: -1 }], shmSize: 1048576, devices: [{ path: '/dev/net/tun', target: '/dev/net/tun', type: 'c', major: 10, minor: 200, perms: 'rwm' }], groups: [27, 2000], sysctls: { 'kernel.shmmax': '1048576', 'fs.mqueue.msg_max': '17' }, volumes: [{ source: '/s', target: '/t', readOnly: true }],
    tmpfs: ['/tmp'], tmpfsMounts: [{ flags: 14, data: 'mode=1777,size=1m' }], files: [{ path: '/etc/hosts', source: '/r/hosts' }], user: { uid: 1000, gid: 100 }, cgroupJoin: ['/c/tasks'],
    pidFile: '/r/pid', init: false, hostMountNs: 4026531841, hostname: 'web', domainname: 'example.test', pidNamespace: ['container', '/r/d/pid', 'd', '/ctnet/d'], ipcNamespace: ['none'], privileged: false,
    security: { capabilities: [2818844155, 0], noNewPrivileges: true, seccompFile: '/r/seccomp.bpf' }, hide: ['/r'], detach: ['/run/netns'], terminal: false,
  };
  const golden = ['command', '3', 'sh', '-c', 'echo a\nb', 'env', '2', 'PATH=/bin', 'X=a=b', 'rootfs', '0', 'cwd', '1', '/', 'cwd_required', '1', '1', 'readonly_root', '1', '0', 'ulimits', '4', 'nofile', '7', '1024', '-1', 'shm_size', '1', '1048576', 'devices', '2', '/dev/net/tun', 'net/tun', 'groups', '2', '27', '2000', 'sysctls', '4', 'kernel/shmmax', '1048576', 'fs/mqueue/msg_max', '17',
    'volumes', '3', '/s', '/t', '1', 'tmpfs', '1', '/tmp', 'tmpfs_mounts', '2', '14', 'mode=1777,size=1m', 'files', '2', '/etc/hosts', '/r/hosts', 'user', '2', '1000', '100',
    'cgroup', '1', '/c/tasks', 'pidfile', '1', '/r/pid', 'init', '1', '0', 'hostmntns', '1', '4026531841',
    'hostname', '1', 'web', 'domainname', '1', 'example.test', 'pid', '4', 'container', '/r/d/pid', 'd', '/ctnet/d', 'ipc', '1', 'none',
    'privileged', '1', '0', 'caps', '2', '2818844155', '0', 'nnp', '1', '1', 'seccomp', '1', '/r/seccomp.bpf',
    'hide', '1', '/r', 'detach', '1', '/run/netns', 'terminal', '1', '0'].map((s) => `${s}\x00`).join('');
  assert.equal(encodeInitSpec(spec).toString('binary'), golden);
  assert.throws(() => encodeInitSpec({ ...spec, command: ['a\0b'] }), /NUL/);
  // The defaults are empty fields: the host's UTS namespace has no hostname of the container's, namespaces of its own no mode.
  const defaults = encodeInitSpec({ ...spec, hostname: '', domainname: '', pidNamespace: [], ipcNamespace: [] }).toString('binary');
  assert.ok(defaults.includes('hostname\x000\x00domainname\x000\x00pid\x000\x00ipc\x000\x00'), 'empty hostname, domainname, pid and ipc');
});

test('a container drops its copies of /run/netns, unless a volume brings them in (the directory, one in it or one above it)', async () => {
  const { netnsCopiesToDetach } = await import('../../dist/engine/sandbox.js');
  const of = (...sources) => netnsCopiesToDetach(sources.map((source) => ({ source, target: '/x', readOnly: true })));
  assert.deepEqual(of(), ['/run/netns']);
  assert.deepEqual(of('/srv/data', '/run/netnsx', '/run/user'), ['/run/netns']);
  for (const source of ['/run/netns', '/run/netns/some-ns', '/run', '/', '/var/run']) assert.deepEqual(of('/srv/data', source), [], source);
});

test('resolvedPath: the existing part of a path with its links resolved, then the rest as given', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ctnet-resolved-')));
  try {
    mkdirSync(join(dir, 'run'));
    symlinkSync('run', join(dir, 'run-link'));
    symlinkSync(join(dir, 'run'), join(dir, 'absolute'));
    assert.equal(resolvedPath(join(dir, 'run-link', 'docker.sock')), join(dir, 'run', 'docker.sock'));
    assert.equal(resolvedPath(join(dir, 'absolute', 'a', 'b')), join(dir, 'run', 'a', 'b'));
    assert.equal(resolvedPath(join(dir, 'run')), join(dir, 'run'));
    assert.equal(resolvedPath('/ctnet-nowhere/x'), '/ctnet-nowhere/x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--env-file, Docker's format: KEY=VALUE as it stands, KEY alone, comments and blank lines skipped; a bad name named with its line", async () => {
  const { parseEnvFile } = await import('../../dist/engine/validate.js');
  const text = '\uFEFF# settings\nA=1\n  B=two words \n\nC=\'quoted\'\nD\r\nE=x=y\n   # indented comment\n';
  assert.deepEqual(parseEnvFile(text, 'app.env'), ['A=1', 'B=two words ', "C='quoted'", 'D', 'E=x=y']);
  assert.throws(() => parseEnvFile('A=1\nBAD KEY=2\n', 'app.env'), /^Error: --env-file app.env, line 2: "BAD KEY" is not a variable name|--env-file app\.env, line 2: "BAD KEY" is not a variable name \(letters, digits and '_'\); write KEY=VALUE$/);
});

test("--ulimit, Docker's NAME=SOFT[:HARD]: the hard limit is the soft one when left out, -1 unlimited; a name, a number or an order that is wrong is named", () => {
  assert.deepEqual(parseUlimit('nofile=1024:4096'), { name: 'nofile', soft: 1024, hard: 4096 });
  assert.deepEqual(parseUlimit('nproc=512'), { name: 'nproc', soft: 512, hard: 512 });
  assert.deepEqual(parseUlimit('memlock=-1'), { name: 'memlock', soft: -1, hard: -1 });
  assert.deepEqual(parseUlimit('core=0:-1'), { name: 'core', soft: 0, hard: -1 });
  assert.throws(() => parseUlimit('nofile'), /--ulimit nofile is not NAME=SOFT\[:HARD\], e\.g\. --ulimit nofile=65536:65536$/);
  assert.throws(() => parseUlimit('files=10'), /files is not a limit; use one of cpu, fsize, data, stack, core, rss, nproc, nofile,/);
  assert.throws(() => parseUlimit('nofile=10:5'), /the soft limit is above the hard one/);
  assert.throws(() => parseUlimit('nofile=-1:5'), /the soft limit is above the hard one/);
  assert.throws(() => parseUlimit('nofile=-2'), /is not NAME=SOFT|is not a limit/);
  assert.throws(() => parseUlimit('nofile=99999999999999999999'), /is not a limit; give a whole number/);
});

test('--stop-signal: the signals a supervisor passes on, by name, SIG name or number; SIGKILL pointed to --stop-timeout 0. --stop-timeout: whole seconds', () => {
  assert.equal(parseStopSignal('QUIT'), 'SIGQUIT');
  assert.equal(parseStopSignal('sigusr1'), 'SIGUSR1');
  assert.equal(parseStopSignal('15'), 'SIGTERM');
  assert.throws(() => parseStopSignal('SIGKILL'), /--stop-signal SIGKILL: for SIGKILL at once give --stop-timeout 0 instead$/);
  assert.throws(() => parseStopSignal('9'), /give --stop-timeout 0 instead$/);
  assert.throws(() => parseStopSignal('WINCH'), /--stop-signal WINCH is not one ctnet passes on; give TERM, INT, QUIT, HUP, USR1 or USR2$/);
  assert.throws(() => parseStopSignal('99'), /is not one ctnet passes on/);
  assert.equal(parseStopTimeout('30'), 30);
  assert.equal(parseStopTimeout('0'), 0);
  for (const bad of ['-1', '1.5', 'soon', '']) assert.throws(() => parseStopTimeout(bad), /--stop-timeout .* is not a whole number of seconds/);
});

test("--device, Docker's HOST[:CONTAINER][:PERMS]: the container path below /dev, permissions of rwm", () => {
  assert.deepEqual(parseDevice('/dev/net/tun'), { path: '/dev/net/tun', target: '/dev/net/tun', perms: 'rwm' });
  assert.deepEqual(parseDevice('/dev/fuse:r'), { path: '/dev/fuse', target: '/dev/fuse', perms: 'r' });
  assert.deepEqual(parseDevice('/dev/sdb:/dev/xvdc:rw'), { path: '/dev/sdb', target: '/dev/xvdc', perms: 'rw' });
  assert.deepEqual(parseDevice('/dev/kvm:/dev/kvm'), { path: '/dev/kvm', target: '/dev/kvm', perms: 'rwm' });
  assert.throws(() => parseDevice('dev/fuse'), /--device dev\/fuse: the host path dev\/fuse must be absolute/);
  assert.throws(() => parseDevice('/dev/fuse:/mnt/fuse'), /\/mnt\/fuse is not a path ctnet can give it in the container: give one below \/dev/);
  assert.throws(() => parseDevice('/dev/fuse:/dev/shm/fuse'), /not \/dev\/pts, \/dev\/shm or \/dev\/mqueue/);
  assert.throws(() => parseDevice('/dev/fuse:/dev/../etc/x'), /is not a path ctnet can give it/);
  assert.throws(() => parseDevice('/dev/fuse:/dev/fuse:rwx'), /rwx is not permissions; give some of r, w and m/);
  assert.throws(() => parseDevice('/dev/fuse:/dev/fuse:rr'), /rr is not permissions/);
  assert.throws(() => parseDevice('/a:/dev/b:r:x'), /give HOSTPATH\[:CONTAINERPATH\]\[:PERMS\]/);
});

test('supplementary groups, as Docker gives them: those /etc/group lists the user in, found by uid, then --group-add by gid or name', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nsudo:x:27:app,other\nvideo:x:44:\napp:x:1000:\n';
  assert.deepEqual(supplementaryGroups(1000, [], passwd, group), [27]);
  assert.deepEqual(supplementaryGroups(1000, ['video', '2000', '27'], passwd, group), [27, 44, 2000]);
  assert.deepEqual(supplementaryGroups(0, [], passwd, group), []);
  assert.deepEqual(supplementaryGroups(4242, ['44'], passwd, group), [44], 'a uid without a passwd entry: --group-add alone');
  assert.throws(() => supplementaryGroups(0, ['nogroup'], passwd, group), /--group-add nogroup: there is no group nogroup in the container's \/etc\/group; give a numeric gid$/);
  assert.throws(() => supplementaryGroups(0, ['99999999999'], passwd, group), /ids must be below 4294967295/);
});

test("--sysctl: Docker's IPC keys are the IPC namespace's (written by ctnet-init), the rest the network's", () => {
  for (const key of ['kernel.shmmax=1', 'kernel.sem=250 32000 32 128', 'fs.mqueue.msg_max=17', 'kernel.shm_rmid_forced=1']) assert.equal(isIpcSysctl(key), true, key);
  for (const key of ['net.ipv4.ip_forward=1', 'kernel.hostname=x', 'kernel.shmmax', 'fs.file-max=1', 'kernel.shmmaxx=1']) assert.equal(isIpcSysctl(key), false, key);
  assert.deepEqual(parseIpcSysctl('kernel.sem=250 32000 32 128'), { key: 'kernel.sem', value: '250 32000 32 128' });
  assert.throws(() => parseIpcSysctl('kernel.shmmax='), /--sysctl kernel\.shmmax: give a value on one line, e\.g\. kernel\.shmmax=1$/);
});

test('--cpu-shares, --memory-reservation, --memory-swap: parsed as Docker takes them, written as each cgroup version names them', () => {
  assert.equal(parseCpuShares('512'), 512);
  for (const bad of ['1', '262145', 'x', '-5']) assert.throws(() => parseCpuShares(bad), /--cpu-shares .* is not a weight from 2 to 262144/);
  assert.equal(parseMemoryReservation('256m'), 256 * 1024 ** 2);
  assert.equal(parseMemorySwap('-1'), -1);
  assert.equal(parseMemorySwap('1g'), 1024 ** 3);
  assert.throws(() => parseMemorySwap('1m'), /--memory-swap 1m is below the minimum of 6m/);
  const v1 = { version: 1, roots: { memory: '/cg/memory', cpu: '/cg/cpu', pids: '/cg/pids' } };
  assert.deepEqual(limitWrites(v1, 'ID', { memory: 1000, memorySwap: 3000, memoryReservation: 500, cpuShares: 512 }), [
    ['/cg/memory/ctnet/ID', 'memory.limit_in_bytes', '1000'],
    ['/cg/memory/ctnet/ID', 'memory.memsw.limit_in_bytes', '3000'],
    ['/cg/memory/ctnet/ID', 'memory.soft_limit_in_bytes', '500'],
    ['/cg/cpu/ctnet/ID', 'cpu.shares', '512'],
  ]);
  const v2 = { version: 2, roots: { unified: '/cg' } };
  assert.deepEqual(limitWrites(v2, 'ID', { memory: 1000, memorySwap: 3000, memoryReservation: 500, cpuShares: 1024 }).slice(2), [
    ['/cg/ctnet/ID', 'memory.max', '1000'],
    ['/cg/ctnet/ID', 'cpu.weight', '39'],
    ['/cg/ctnet/ID', 'memory.low', '500'],
    ['/cg/ctnet/ID', 'memory.swap.max', '2000'],
  ], 'shares 1024 is weight 39 (runc), swap alone is what is above memory');
  assert.equal(limitWrites(v2, 'ID', { memory: 1000, memorySwap: -1 }).at(-1)[2], 'max');
});

test('--cpuset-cpus and --cpuset-mems: kernel lists of what the host has; v1 cpuset directories only for a container that asks, its parent given the host\'s set first', () => {
  assert.equal(parseCpuset('--cpuset-cpus', '0-1,3', '0-3'), '0-1,3');
  assert.equal(parseCpuset('--cpuset-mems', ' 0 ', '0'), '0');
  for (const bad of ['', 'a', '1-', '3-1', '0,,1', '0-100000']) assert.throws(() => parseCpuset('--cpuset-cpus', bad, '0-3'), /--cpuset-cpus .* is not a list of CPUs; give numbers and ranges, e.g. --cpuset-cpus 0-1,3/, bad);
  assert.throws(() => parseCpuset('--cpuset-cpus', '1-4', '0-3'), /--cpuset-cpus 1-4: this host has no CPU 4 \(it has 0-3\); give CPUs it has/);
  assert.throws(() => parseCpuset('--cpuset-mems', '1', '0'), /--cpuset-mems 1: this host has no memory node 1 \(it has 0\)/);
  const v1 = { version: 1, roots: { memory: '/cg/memory', cpuset: '/cg/cpuset' } };
  const host = () => ({ cpus: '0-3', mems: '0' });
  assert.deepEqual(cgroupDirsFor(v1, 'ID', {}), ['/cg/memory/ctnet/ID'], 'no cpuset directory: it could hold no process');
  assert.deepEqual(cgroupDirsFor(v1, 'ID', { cpusetCpus: '1' }), ['/cg/memory/ctnet/ID', '/cg/cpuset/ctnet/ID']);
  assert.deepEqual(cgroupDirs(v1, 'ID'), ['/cg/memory/ctnet/ID', '/cg/cpuset/ctnet/ID'], 'removal looks at every hierarchy');
  assert.deepEqual(cpusetWrites(v1, 'ID', {}, () => assert.fail('the host set is read only when needed')), []);
  assert.deepEqual(cpusetWrites(v1, 'ID', { cpusetCpus: '1' }, host), [
    ['/cg/cpuset/ctnet', 'cpuset.cpus', '0-3'], ['/cg/cpuset/ctnet', 'cpuset.mems', '0'],
    ['/cg/cpuset/ctnet/ID', 'cpuset.cpus', '1'], ['/cg/cpuset/ctnet/ID', 'cpuset.mems', '0'],
  ]);
  // cpuset co-mounted with a controller every container uses: every container has the directory, with its parent's set.
  const shared = { version: 1, roots: { cpu: '/cg/cpu,cpuset', cpuset: '/cg/cpu,cpuset' } };
  assert.deepEqual(cgroupDirsFor(shared, 'ID', {}), ['/cg/cpu,cpuset/ctnet/ID']);
  assert.deepEqual(cpusetWrites(shared, 'ID', {}, host).slice(2), [['/cg/cpu,cpuset/ctnet/ID', 'cpuset.cpus', '0-3'], ['/cg/cpu,cpuset/ctnet/ID', 'cpuset.mems', '0']]);
  const v2 = { version: 2, roots: { unified: '/cg' } };
  assert.deepEqual(cpusetWrites(v2, 'ID', {}, host), []);
  assert.deepEqual(cpusetWrites(v2, 'ID', { cpusetMems: '0' }, host), [
    ['/cg', 'cgroup.subtree_control', '+cpuset'], ['/cg/ctnet', 'cgroup.subtree_control', '+cpuset'], ['/cg/ctnet/ID', 'cpuset.mems', '0'],
  ]);
  assert.deepEqual(unsupportedLimits({ version: 1, roots: { memory: '/cg/memory' } }, { cpusetCpus: '0' }), ['--cpuset-cpus (no cpuset controller is mounted)']);
});

test('--cpu-period and --cpu-quota: Docker\'s ranges; written as the CFS period and quota (v1) or cpu.max (v2, max for no quota); --oom-kill-disable v1 only', () => {
  assert.equal(parseCpuPeriod('50000'), 50000);
  assert.equal(parseCpuQuota('-1'), -1);
  assert.equal(parseCpuQuota('1000'), 1000);
  for (const bad of ['999', '1000001', 'x', '-1']) assert.throws(() => parseCpuPeriod(bad), /--cpu-period .* is not a period from 1000 to 1000000/);
  for (const bad of ['999', '-2', '1.5']) assert.throws(() => parseCpuQuota(bad), /--cpu-quota .* is not a quota of at least 1000/);
  const v1 = { version: 1, roots: { memory: '/cg/memory', cpu: '/cg/cpu' } };
  assert.deepEqual(limitWrites(v1, 'ID', { cpuPeriod: 50000, cpuQuota: 25000, oomKillDisable: true }), [
    ['/cg/memory/ctnet/ID', 'memory.oom_control', '1'], ['/cg/cpu/ctnet/ID', 'cpu.cfs_period_us', '50000'], ['/cg/cpu/ctnet/ID', 'cpu.cfs_quota_us', '25000'],
  ]);
  assert.deepEqual(limitWrites(v1, 'ID', { cpuQuota: 20000 }).map((w) => w[2]), ['100000', '20000'], 'the default period');
  const v2 = { version: 2, roots: { unified: '/cg' } };
  assert.deepEqual(limitWrites(v2, 'ID', { cpuPeriod: 20000 }).at(-1), ['/cg/ctnet/ID', 'cpu.max', 'max 20000']);
  assert.deepEqual(unsupportedLimits({ version: 2, roots: { unified: '/ctnet-no-such-cgroup' } }, { oomKillDisable: true }).at(-1), '--oom-kill-disable (cgroup v2 has no switch for the OOM killer of one cgroup)');
});

test('limits a host cannot enforce are named with why: a controller not mounted, swap not accounted', () => {
  const v1 = { version: 1, roots: { memory: '/ctnet-no-such-cgroup/memory', pids: '/ctnet-no-such-cgroup/pids' } };
  assert.deepEqual(unsupportedLimits(v1, { memory: 1, pidsLimit: 2 }), []);
  assert.deepEqual(unsupportedLimits(v1, { cpus: 0.5, cpuShares: 512, memorySwap: 2 }), [
    '--cpus (no cpu controller is mounted)', '--cpu-shares (no cpu controller is mounted)',
    '--memory-swap (the kernel does not account swap: it boots without swapaccount=1)',
  ]);
  assert.deepEqual(unsupportedLimits(null, { memory: 1 }), ['--memory (no memory controller is mounted)']);
});
