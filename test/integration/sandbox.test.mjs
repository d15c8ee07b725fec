// What a container sees: its own PID, mount, IPC and UTS namespaces; the host's root read-only or a
// rootfs of its own (pivot_root); bind mounts; a user; and `exec` entering all of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { CTNET, createLab, waitFor } from '../helpers/lab.mjs';
import { makeRootfs } from '../helpers/rootfs.mjs';

let lab;
let rootfs;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'sb', '--subnet', '172.23.0.0/24']);
  rootfs = makeRootfs();
});
after(() => {
  lab?.close();
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
});

const run = (args, command) => lab.ctnet(['run', '--network', 'sb', ...args, '--', ...command]);


test('the command is PID 1 and sees only its own processes', () => {
  const r = run([], ['sh', '-c', 'echo $$; ps -e -o pid=,comm=']);
  assert.equal(r.code, 0, r.stderr);
  const [pid, ...procs] = r.stdout.trim().split('\n').map((l) => l.trim());
  assert.equal(pid, '1');
  assert.deepEqual(procs.map((l) => l.split(/\s+/)[1]).sort(), ['ps', 'sh']);
});

test('mount namespace: the host root read-only, --tmpfs /tmp of its own, /proc, /etc/hosts and /etc/hostname', () => {
  const r = run(['--name', 'files', '--hostname', 'web', '--tmpfs', '/tmp'], ['sh', '-c', [
    'touch /etc/ctnet-test 2>&1 || true',
    'echo private > /tmp/only-here && cat /tmp/only-here',
    'cat /etc/hostname',
    'grep web /etc/hosts',
    'readlink /proc/self/ns/ipc',
  ].join('; ')]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /Read-only file system/);
  assert.equal(existsSync('/etc/ctnet-test'), false);
  assert.equal(lines[1], 'private');
  assert.equal(existsSync('/tmp/only-here'), false, 'the container has its own /tmp');
  assert.equal(lines[2], 'web');
  assert.match(lines[3], /^172\.23\.0\.\d+\s+web$/);
  assert.notEqual(lines[4], readlinkSync('/proc/self/ns/ipc'), 'its own IPC namespace');
  lab.ok(['rm', 'files']);
  // Without --tmpfs, /tmp is the host's, read-only like the rest.
  const plain = run([], ['sh', '-c', '(echo x > /tmp/ctnet-sandbox-test) 2>&1; true']);
  assert.match(plain.stdout, /Read-only file system/);
  assert.equal(existsSync('/tmp/ctnet-sandbox-test'), false);
});

test('-v bind mounts: read-write and :ro, and nothing else of the host is writable', () => {
  const rw = join(lab.root, 'rw');
  const ro = join(lab.root, 'ro');
  mkdirSync(rw);
  mkdirSync(ro);
  writeFileSync(join(ro, 'data'), 'host data\n');
  // Docker's option lists, as scripts written for Docker give them.
  const r = run(['-v', `${rw}:/mnt:z,rprivate`, '-v', `${ro}:/srv:ro,Z`], ['sh', '-c', 'echo from-container > /mnt/out; cat /srv/data; (echo x > /srv/new) 2>&1 || true']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(rw, 'out'), 'utf8'), 'from-container\n');
  assert.match(r.stdout, /^host data\n.*Read-only file system/s);
  assert.equal(existsSync(join(ro, 'new')), false);
});

test("--mount, Docker's spelling: a read-only bind and a bounded tmpfs, the same as -v and --tmpfs", () => {
  const ro = join(lab.root, 'mount-ro');
  mkdirSync(ro);
  writeFileSync(join(ro, 'data'), 'host data\n');
  const r = run(['--mount', `type=bind,source=${ro},target=/srv,readonly`, '--mount', 'type=tmpfs,destination=/tmp,tmpfs-size=1m'], ['sh', '-c', [
    'cat /srv/data', '(echo x > /srv/new) 2>&1 || true',
    '(head -c 2000000 /dev/zero > /tmp/big) 2>&1 || true', 'echo $(($(wc -c < /tmp/big) <= 1048576))',
  ].join('; ')]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'host data');
  assert.match(lines[1], /Read-only file system/);
  assert.match(lines[2], /No space left on device/);
  assert.equal(lines[3], '1', 'the tmpfs holds at most its size');
  assert.equal(existsSync(join(ro, 'new')), false);
  const volume = run(['--mount', 'type=volume,source=cache,target=/data'], ['true']);
  assert.equal(volume.code, 2);
  assert.match(volume.stderr, /^ctnet: error: --mount type=volume,source=cache,target=\/data: ctnet has no named volumes; give type=bind with a host path as source, .*\n$/);
});

test("-w, --read-only and --env-file, as Docker's: the directory made when missing, the rootfs's own mount read-only, variables from a file that -e overrides; the control: without --read-only the write lands", () => {
  const envFile = join(lab.root, 'app.env');
  writeFileSync(envFile, '# the app\nGREETING=hello world\nFROM_CALLER\nLEVEL=file\n');
  const hostView = lab.ctnet(['run', '--network', 'sb', '--env-file', envFile, '-e', 'LEVEL=flag', '-w', '/run/app', '--', 'sh', '-c', 'pwd; echo "$GREETING|$FROM_CALLER|$LEVEL"'], { FROM_CALLER: 'passed' });
  assert.equal(hostView.code, 0, hostView.stderr);
  assert.equal(hostView.stdout, '/run/app\nhello world|passed|flag\n', 'made in its own /run; -e wins over the file');
  assert.equal(existsSync('/run/app'), false, "the container's /run, not the host's");
  const missing = run(['-w', '/no/such/dir'], ['true']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^ctnet: error: -w \/no\/such\/dir is not a directory on the host, whose root the container sees read-only; .*\n$/);
  const image = makeRootfs();
  try {
    mkdirSync(join(image, 'private'), { mode: 0o700 });
    const write = 'touch /written 2>&1 || true; echo x > /tmp/scratch && cat /tmp/scratch';
    const ro = run(['--name', 'ro-root', '--rootfs', image, '--read-only', '--tmpfs', '/tmp', '-w', '/srv/app'], ['sh', '-c', `pwd; ${write}`]);
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stdout, /^\/srv\/app\n.*Read-only file system\nx\n$/s);
    assert.ok(existsSync(join(image, 'srv', 'app')), 'the working directory is made in the rootfs');
    assert.equal(existsSync(join(image, 'written')), false);
    const shown = lab.json(['inspect', 'ro-root']);
    assert.deepEqual([shown.HostConfig.ReadonlyRootfs, shown.Config.WorkingDir], [true, '/srv/app']);
    lab.ok(['rm', 'ro-root']);
    const rw = run(['--rootfs', image, '--tmpfs', '/tmp'], ['sh', '-c', write]);
    assert.equal(rw.code, 0, rw.stderr);
    assert.ok(existsSync(join(image, 'written')), 'control: without --read-only the write lands in the rootfs');
    assert.equal(run(['--rootfs', image, '-w', '/'], ['sh', '-c', 'pwd']).stdout, '/\n', '-w / is the root, nothing to make');
    const denied = run(['--rootfs', image, '--user', 'app', '-w', '/private'], ['sh', '-c', ':']);
    assert.equal(denied.code, 125);
    assert.match(denied.stderr, /^ctnet: error: cannot enter the working directory \/private: Permission denied; give one the user may enter\n$/);
  } finally {
    rmSync(image, { recursive: true, force: true });
  }
});

test("--ulimit sets the container's resource limits, and an exec into it gets them too; the control: without it, the host's", () => {
  // Below the hard limits ctnet runs with, which every host lets it set.
  const show = ['sh', '-c', 'echo $(ulimit -S -n) $(ulimit -H -n) $(ulimit -S -c) $(ulimit -H -c)'];
  const wanted = '1234 2345 0 0\n';
  const plain = run([], show);
  assert.equal(plain.code, 0, plain.stderr);
  assert.notEqual(plain.stdout, wanted, 'the control: the host\'s limits are not these');
  const given = ['--ulimit', 'nofile=1234:2345', '--ulimit', 'core=0'];
  const limited = run(given, show);
  assert.equal(limited.code, 0, limited.stderr);
  assert.equal(limited.stdout, wanted);
  lab.ok(['run', '-d', '--name', 'limited', '--network', 'sb', ...given, '--', 'sleep', '600']);
  assert.equal(lab.ok(['exec', 'limited', '--', ...show]), wanted);
  assert.deepEqual(lab.json(['inspect', 'limited']).HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1234, Hard: 2345 }, { Name: 'core', Soft: 0, Hard: 0 }]);
  lab.ok(['rm', '-f', 'limited']);
  const tooMany = run(['--ulimit', 'nofile=-1'], ['true']);
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.stderr, /^ctnet: error: --ulimit nofile=-1:-1: this kernel allows at most \d+ open files \(fs\.nr_open\); give at most nofile=\d+:\d+\n$/);
  // Raising a hard limit takes CAP_SYS_RESOURCE: where ctnet lacks it, refused before anything starts.
  const canRaise = (BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]}`) >> 24n) & 1n;
  const unlimited = run(['--ulimit', 'memlock=-1'], ['sh', '-c', 'ulimit -H -l']);
  if (canRaise) {
    assert.equal(unlimited.code, 0, unlimited.stderr);
    assert.equal(unlimited.stdout, 'unlimited\n');
  } else {
    assert.equal(unlimited.code, 5);
    assert.match(unlimited.stderr, /^ctnet: error: --ulimit memlock=-1:-1: above the hard limit ctnet runs with \(\d+\), which it may not raise here \(no CAP_SYS_RESOURCE\); give at most memlock=\d+\n$/);
  }
});

test("--shm-size bounds the container's /dev/shm; a privileged container's is its own too, not the host's; the control: without it, the default size", () => {
  const fill = ['sh', '-c', '(head -c 3000000 /dev/zero > /dev/shm/big) 2>&1 || true; echo $(($(wc -c < /dev/shm/big) <= 2097152))'];
  const bounded = run(['--shm-size', '2m'], fill);
  assert.equal(bounded.code, 0, bounded.stderr);
  assert.match(bounded.stdout, /No space left on device\n1\n$/);
  const plain = run([], fill);
  assert.equal(plain.stdout, '0\n', 'the control: the default /dev/shm takes 3 MB');
  const probe = `ctnet-test-${process.pid}`;
  const privileged = run(['--privileged', '--shm-size', '2m'], ['sh', '-c', `echo x > /dev/shm/${probe} && cat /dev/shm/${probe}`]);
  assert.equal(privileged.code, 0, privileged.stderr);
  assert.equal(privileged.stdout, 'x\n');
  assert.equal(existsSync(join('/dev/shm', probe)), false, "the host's /dev/shm is not the privileged container's");
});

test('--device binds a host device into the container\'s /dev and allows it in its device cgroup, with the permissions given; the control: without it, there is no such node', (t) => {
  if (!existsSync('/dev/net/tun')) return t.skip('this host has no /dev/net/tun');
  // Opened, a tun device refuses a read until it is configured (EBADFD): the open itself is what counts.
  const open = ['sh', '-c', '(cat /dev/net/tun) 2>&1; (echo x > /dev/net/tun) 2>&1; true'];
  const plain = run([], open);
  assert.match(plain.stdout, /No such file or directory/, 'the control: no tun device without --device');
  const full = run(['--device', '/dev/net/tun'], open);
  assert.equal(full.code, 0, full.stderr);
  assert.doesNotMatch(full.stdout, /No such file|Operation not permitted/, full.stdout);
  assert.match(full.stdout, /File descriptor in bad state/);
  const readOnly = run(['--device', '/dev/net/tun:/dev/net/tun:r'], open);
  assert.match(readOnly.stdout, /^cat: .*File descriptor in bad state\n.*Operation not permitted\n$/s, 'r: read opens, a write open is refused by the cgroup');
  const moved = run(['--device', '/dev/net/tun:/dev/tun0'], ['sh', '-c', '(cat /dev/tun0) 2>&1; true']);
  assert.match(moved.stdout, /File descriptor in bad state/);
  const missing = run(['--device', '/dev/ctnet-no-such'], ['true']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^ctnet: error: --device \/dev\/ctnet-no-such: there is no such device on the host; .*\n$/);
  const notDevice = run(['--device', '/etc/hostname:/dev/x'], ['true']);
  assert.equal(notDevice.code, 2);
  assert.match(notDevice.stderr, /is not a device node/);
});

test('--sysctl of the IPC namespace (kernel.shm*, kernel.msg*, fs.mqueue.*) is set in the container\'s own, with any network mode; the control: the host keeps its values', () => {
  const read = 'cat /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max';
  const host = readFileSync('/proc/sys/kernel/shmmax', 'utf8') + readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8');
  const set = ['--sysctl', 'kernel.shmmax=123456789', '--sysctl', 'fs.mqueue.msg_max=17'];
  const tuned = run(set, ['sh', '-c', read]);
  assert.equal(tuned.code, 0, tuned.stderr);
  assert.equal(tuned.stdout, '123456789\n17\n');
  const hostNet = lab.ctnet(['run', '--network', 'host', ...set, '--', 'sh', '-c', read]);
  assert.equal(hostNet.stdout, '123456789\n17\n', 'its own IPC namespace with the host\'s network too');
  assert.equal(readFileSync('/proc/sys/kernel/shmmax', 'utf8') + readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8'), host, 'the host keeps its values');
  assert.notEqual(run([], ['sh', '-c', read]).stdout, '123456789\n17\n', 'the control: a container without them has a new IPC namespace\'s defaults');
  const refused = run(['--sysctl', 'kernel.shmmni=-5'], ['true']);
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, /^ctnet: error: --sysctl kernel\.shmmni=-5: Invalid argument; give a value the kernel takes\n$/);
});

test("--pid host: the host's processes, its own PID as the host numbers it, an exec there too; what the command leaves is ended with it, run or -d; the control: its own PID namespace", async () => {
  const own = readlinkSync('/proc/self/ns/pid');
  const look = `echo $$; readlink /proc/self/ns/pid; [ -d /proc/${process.pid} ] && echo sees-host || echo own-only`;
  const [pid, ns, sees] = run(['--pid', 'host'], ['sh', '-c', look]).stdout.trim().split('\n');
  assert.notEqual(pid, '1');
  assert.deepEqual([ns, sees], [own, 'sees-host']);
  const control = run([], ['sh', '-c', look]).stdout.trim().split('\n');
  assert.equal(control[0], '1');
  assert.notEqual(control[1], own);
  assert.equal(control[2], 'own-only');
  // A process in the background outlives the command unless something ends it: in a PID namespace of
  // its own the kernel does; with the host's, whoever waited for the command.
  const gone = (p) => !existsSync(`/proc/${p}`) || /\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
  const left = run(['--pid', 'host'], ['sh', '-c', 'sleep 600 & echo $!']).stdout.trim();
  await waitFor(() => gone(left), `the foreground container's sleep ${left} ended`);
  // -d, restarted once: the supervisor ends what each run left, with no ctnet command in between
  // (the next one would end what an exited container left in its cgroup).
  const pids = join(lab.root, 'pid-host-left');
  lab.ok(['run', '-d', '--name', 'pidhost', '--network', 'sb', '--pid', 'host', '--restart', 'on-failure:1', '-v', `${lab.root}:${lab.root}`, '--', 'sh', '-c', `sleep 600 & echo $! >> ${pids}; sleep 0.5; exit 1`]);
  await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length === 2 && readFileSync(pids, 'utf8').trim().split('\n').every(gone), 'both runs\' sleeps ended');
  lab.ok(['rm', 'pidhost']);
  lab.ok(['run', '-d', '--name', 'pidhost', '--network', 'sb', '--pid', 'host', '--', 'sleep', '600']);
  const c = lab.json(['inspect', 'pidhost']);
  assert.equal(c.HostConfig.PidMode, 'host');
  const inside = lab.ctnet(['exec', 'pidhost', 'sh', '-c', 'readlink /proc/self/ns/pid; cat /proc/1/comm']).stdout.trim().split('\n');
  assert.deepEqual(inside, [own, readFileSync('/proc/1/comm', 'utf8').trim()]);
  lab.ok(['rm', '-f', 'pidhost']);
});

test("--ipc host: the host's IPC namespace and /dev/shm; --ipc none: its own without /dev/shm; --uts host: the host's hostname, run or -d; the control: its own of each", async () => {
  const host = (kind) => readlinkSync(`/proc/self/ns/${kind}`);
  const look = 'readlink /proc/self/ns/ipc /proc/self/ns/uts; stat -c %d:%i /dev/shm 2>/dev/null || echo no-shm; hostname; cat /etc/hostname';
  const shm = execFileSync('stat', ['-c', '%d:%i', '/dev/shm'], { encoding: 'utf8' }).trim();
  const [ipc, uts, devShm, name, etcName, writable] = run(['--ipc', 'host', '--uts', 'host'], ['sh', '-c', `${look}; [ -w /dev/shm ] && echo writable`]).stdout.trim().split('\n');
  assert.deepEqual([ipc, uts, devShm, name, etcName, writable], [host('ipc'), host('uts'), shm, hostname(), hostname(), 'writable']);
  const own = run(['--name', 'ownns', '--ipc', 'private'], ['sh', '-c', look]).stdout.trim().split('\n');
  assert.notEqual(own[0], host('ipc'));
  assert.notEqual(own[1], host('uts'));
  assert.notEqual(own[2], shm);
  assert.deepEqual(own.slice(3), ['ownns', 'ownns']);
  const none = run(['--ipc', 'none', '--sysctl', 'kernel.shmmax=1000000'], ['sh', '-c', `${look}; cat /proc/sys/kernel/shmmax`]).stdout.trim().split('\n');
  assert.notEqual(none[0], host('ipc'));
  assert.equal(none[2], 'no-shm');
  assert.equal(none.at(-1), '1000000');
  // -d: the supervisor forks PID 1 before it knows the container; the UTS namespace is PID 1's to make.
  lab.ok(['run', '-d', '--name', 'utshost', '--network', 'sb', '--uts', 'host', '--ipc', 'host', '--', 'sh', '-c', 'hostname; readlink /proc/self/ns/uts; sleep 600']);
  let logs;
  await waitFor(() => (logs = lab.ok(['logs', 'utshost']).trim().split('\n')).length === 2, 'the -d container\'s hostname logged');
  assert.deepEqual(logs, [hostname(), host('uts')]);
  const c = lab.json(['inspect', 'utshost']);
  assert.deepEqual([c.Config.Hostname, c.HostConfig.UTSMode, c.HostConfig.IpcMode, c.HostConfig.PidMode], [hostname(), 'host', 'host', '']);
  lab.ok(['rm', '-f', 'utshost']);
});

test("--pid and --ipc container:NAME join a running container's namespaces: its processes, its shared memory (it is --ipc shareable) both ways; what the joiner leaves ends with it, the donor's end ends the joiner; the control: without them, neither", async () => {
  lab.ok(['run', '-d', '--name', 'donor', '--network', 'sb', '--ipc', 'shareable', '--shm-size', '8m', '--', 'sh', '-c', 'echo from-donor > /dev/shm/mark; exec sleep 600']);
  await waitFor(() => lab.ctnet(['exec', 'donor', 'cat', '/dev/shm/mark']).stdout.trim() === 'from-donor', "the donor's mark");
  const ns = (kind) => lab.ctnet(['exec', 'donor', 'readlink', `/proc/self/ns/${kind}`]).stdout.trim();
  const look = 'readlink /proc/self/ns/pid /proc/self/ns/ipc; ps -e -o comm= | grep -c "^sleep$"; cat /dev/shm/mark 2>&1; df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2; echo from-joiner > /dev/shm/back';
  const joined = run(['--pid', 'container:donor', '--ipc', 'container:donor'], ['sh', '-c', look]);
  assert.equal(joined.code, 0, joined.stderr);
  assert.deepEqual(joined.stdout.trim().split('\n'), [ns('pid'), ns('ipc'), '1', 'from-donor', '8192']);
  assert.equal(lab.ctnet(['exec', 'donor', 'cat', '/dev/shm/back']).stdout.trim(), 'from-joiner');
  const control = run([], ['sh', '-c', look]).stdout.trim().split('\n');
  assert.notEqual(control[0], ns('pid'));
  assert.notEqual(control[1], ns('ipc'));
  assert.equal(control[2], '0');
  assert.match(control[3], /No such file/);
  // A -d joiner: what it leaves in the donor's PID namespace ends with it, with no ctnet command in between.
  const left = join(lab.root, 'joiner-left');
  lab.ok(['run', '-d', '--name', 'joiner', '--network', 'sb', '--pid', 'container:donor', '-v', `${lab.root}:${lab.root}`, '--', 'sh', '-c', `sleep 600 & echo $! > ${left}; sleep 0.3`]);
  // Its PID in the donor's namespace; once killed it stays there as a zombie (the donor's PID 1, sleep, reaps nothing).
  const running = () => lab.ctnet(['exec', 'donor', 'ps', '-e', '-o', 'pid=,stat=']).stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter(([, stat]) => stat && !stat.startsWith('Z')).map(([pid]) => pid);
  await waitFor(() => existsSync(left) && readFileSync(left, 'utf8').trim() !== '' && !running().includes(readFileSync(left, 'utf8').trim()), "the joiner's sleep ended");
  lab.ok(['rm', 'joiner']);
  // A PID file that names another process (its PID taken after the donor's PID 1 ended) leads nowhere:
  // ctnet-init joins only a process in the donor's cgroup. Here it names this test's process, in the host's namespaces.
  const donorId = lab.json(['inspect', 'donor']).Id;
  const pidFile = join(lab.root, 'containers', donorId, 'pid');
  const realPid = readFileSync(pidFile, 'utf8');
  writeFileSync(pidFile, String(process.pid));
  try {
    const misled = run(['--pid', 'container:donor'], ['readlink', '/proc/self/ns/pid']);
    assert.equal(misled.code, 125, misled.stdout);
    assert.match(misled.stderr, /container [0-9a-f]{12} is not running, so its PID namespace cannot be joined/);
  } finally {
    writeFileSync(pidFile, realPid);
  }
  assert.equal(lab.json(['inspect', 'donor']).HostConfig.IpcMode, 'shareable');
  lab.ok(['run', '-d', '--name', 'joiner', '--network', 'sb', '--pid', 'container:donor', '--ipc', 'container:donor', '--', 'sleep', '600']);
  const j = lab.json(['inspect', 'joiner']);
  assert.deepEqual([j.HostConfig.PidMode, j.HostConfig.IpcMode], [`container:${donorId}`, `container:${donorId}`]);
  // The donor's PID 1 ends: the kernel ends every process of its PID namespace, the joiner's too.
  lab.ok(['stop', '-t', '1', 'donor']);
  await waitFor(() => lab.json(['inspect', 'joiner']).State.Status === 'exited', 'the joiner ended with the donor');
  const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(join(lab.root, 'containers'))).length;
  assert.equal(mounts(), 1, "the donor's /dev/shm, on the host");
  lab.ok(['rm', 'joiner', 'donor']);
  assert.equal(mounts(), 0, 'unmounted with the donor');
});

test('--domainname is the domain name of its UTS namespace, and /etc/hosts calls its address by hostname.domainname first; the control: without it, none', () => {
  const look = ['cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname', 'grep -v localhost /etc/hosts | grep -v "^ff\\|^::"', 'hostname -f'].join('; ');
  const r = run(['--hostname', 'web', '--domainname', 'example.test'], ['sh', '-c', look]);
  assert.equal(r.code, 0, r.stderr);
  const [name, domain, hostsLine, fqdn] = r.stdout.trim().split('\n');
  assert.deepEqual([name, domain, fqdn], ['web', 'example.test', 'web.example.test']);
  assert.match(hostsLine, /^172\.23\.0\.\d+\tweb\.example\.test web$/);
  assert.equal(readFileSync('/proc/sys/kernel/domainname', 'utf8').trim() === 'example.test', false, "the host's stays");
  const control = run(['--hostname', 'web'], ['sh', '-c', look]).stdout.trim().split('\n');
  assert.deepEqual(control.slice(0, 2), ['web', '(none)']);
  assert.match(control[2], /^172\.23\.0\.\d+\tweb$/);
});

test('--pid, --ipc and --uts refuse what they cannot do, in one line and before anything is made', () => {
  for (const [args, message] of [
    [['--uts', 'host', '--hostname', 'web'], /conflicting options: --hostname and --uts host/],
    [['--ipc', 'host', '--shm-size', '64m'], /--shm-size cannot be combined with --ipc host/],
    [['--ipc', 'none', '--shm-size', '64m'], /--shm-size cannot be combined with --ipc none/],
    [['--ipc', 'host', '--sysctl', 'kernel.shmmax=1000000'], /--sysctl kernel\.shmmax cannot be combined with --ipc host/],
    [['--ipc', 'bogus'], /--ipc bogus is not a mode ctnet knows: give one of host, none, shareable, container:NAME, private/],
    [['--uts', 'private'], /--uts private is not a mode ctnet knows: give one of host/],
    [['--uts', 'host', '--domainname', 'example.test'], /conflicting options: --domainname and --uts host/],
    [['--domainname', 'bad_name'], /invalid --domainname "bad_name": use letters, digits and '-', labels joined by '\.'/],
    [['--ipc', 'container:x', '--shm-size', '64m'], /--shm-size cannot be combined with --ipc container:x: \/dev\/shm is then container x's/],
    [['--ipc', 'container:x', '--sysctl', 'kernel.shmmax=1000000'], /--sysctl kernel\.shmmax cannot be combined with --ipc container:x: it would change container x's IPC namespace/],
  ]) {
    const r = run(['--name', 'refused', ...args], ['true']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  // Containers to join that cannot be joined.
  lab.ok(['run', '-d', '--name', 'private1', '--network', 'sb', '--', 'sleep', '600']);
  lab.ok(['run', '--name', 'ended', '--network', 'sb', '--ipc', 'shareable', '--', 'true']);
  for (const [args, code, message] of [
    [['--ipc', 'container:private1'], 4, /cannot join the IPC namespace of container private1: it is not shareable; run it with --ipc shareable/],
    [['--pid', 'container:ended'], 4, /cannot join the PID namespace of container ended: it is not running; start it first/],
    [['--ipc', 'container:ended'], 4, /cannot join the IPC namespace of container ended: it is not running; start it first/],
    [['--pid', 'container:nosuch'], 3, /container nosuch does not exist/],
  ]) {
    const r = run(['--name', 'refused', ...args], ['true']);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.equal(lab.json(['ps', '-a']).some((c) => c.Name === 'refused'), false);
  lab.ok(['rm', '-f', 'private1', 'ended']);
});

test('-v of what the container covers with its own (/run, /dev, /proc) shows the host\'s, with and without --rootfs; the control: its own at the same paths', () => {
  const script = ['ls -A /mnt/run', 'ls -A /run', 'ls -A /mnt/dev', 'ls -A /dev', 'cat /mnt/proc/1/comm', 'cat /proc/1/comm'].map((c) => `echo "$(${c})" | tr "\\n" " "`).join('; echo; ');
  const volumes = ['-v', '/run:/mnt/run:ro', '-v', '/dev:/mnt/dev:ro', '-v', '/proc:/mnt/proc:ro'];
  for (const view of [['--tmpfs', '/mnt'], ['--rootfs', rootfs]]) {
    const hostBefore = { run: readdirSync('/run'), dev: readdirSync('/dev') };
    const r = run([...view, ...volumes], ['sh', '-c', script]);
    assert.equal(r.code, 0, `${view.join(' ')}: ${r.stderr}`);
    const [mntRun, ownRun, mntDev, ownDev, mntInit, ownInit] = r.stdout.split('\n').map((l) => l.split(' ').filter(Boolean));
    // A name made or removed by something else on the host meanwhile is left out.
    const stable = (dir, before) => before.filter((n) => readdirSync(`/${dir}`).includes(n)).sort();
    assert.deepEqual(stable('run', hostBefore.run).filter((n) => !mntRun.includes(n)), [], `${view.join(' ')}: the host's /run through the volume: ${mntRun}`);
    assert.deepEqual(stable('dev', hostBefore.dev).filter((n) => !mntDev.includes(n)), [], `${view.join(' ')}: the host's /dev through the volume: ${mntDev}`);
    assert.equal(mntInit.join(' '), readFileSync('/proc/1/comm', 'utf8').trim(), "the host's PID 1 through the volume");
    assert.ok(!hostBefore.run.every((n) => ownRun.includes(n)), `control: the container's own /run is not the host's: ${ownRun}`);
    assert.ok(ownDev.length < mntDev.length && ownDev.includes('null'), `control: the container's own /dev: ${ownDev}`);
    assert.deepEqual(ownInit, ['sh'], 'control: its own PID 1');
  }
});

test('--tmpfs options (Docker\'s): size bounds what the container writes, noexec refuses to run what it put there, ro refuses writes; the control: a plain tmpfs takes all three', () => {
  const script = 'head -c 2097152 /dev/zero > /mnt/big 2>/dev/null; echo w=$?; rm -f /mnt/big; cp /bin/true /mnt/x && /mnt/x 2>/dev/null; echo x=$?; touch /mnt/t 2>/dev/null; echo t=$?';
  const bounded = run(['--tmpfs', '/mnt:size=1m,noexec'], ['sh', '-c', script]);
  assert.equal(bounded.code, 0, bounded.stderr);
  assert.match(bounded.stdout, /^w=[1-9]\d*\nx=126\nt=0\n$/, 'a full tmpfs and a program it may not run');
  assert.match(run(['--tmpfs', '/mnt:ro'], ['sh', '-c', script]).stdout, /^w=[1-9]\d*\nx=1\nt=1\n$/, 'nothing written to a read-only tmpfs');
  assert.equal(run(['--tmpfs', '/mnt'], ['sh', '-c', script]).stdout, 'w=0\nx=0\nt=0\n', 'control: the defaults');
  const c = lab.json(['inspect', lab.ok(['run', '-d', '--network', 'sb', '--tmpfs', '/mnt:size=1m', '--', 'sleep', '60']).trim()]);
  assert.deepEqual(c.HostConfig.Tmpfs, ['/mnt:size=1m']);
  lab.ok(['rm', '-f', c.Id]);
});

test('mounts go on parents first, whatever order they are given in: a :ro volume below another stays read-only; the control: without it the same write lands', () => {
  const data = join(lab.root, 'nested');
  mkdirSync(join(data, 'keys'), { recursive: true });
  writeFileSync(join(data, 'keys', 'key'), 'secret\n');
  const write = 'cat /srv/data/keys/key; (echo x > /srv/data/keys/planted) 2>&1; true';
  for (const view of [['--tmpfs', '/srv'], ['--rootfs', rootfs]]) {
    const r = run([...view, '-v', `${join(data, 'keys')}:/srv/data/keys:ro`, '-v', `${data}:/srv/data`], ['sh', '-c', write]);
    assert.equal(r.code, 0, `${view.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^secret\n.*Read-only file system/s, view.join(' '));
    assert.equal(existsSync(join(data, 'keys', 'planted')), false, `${view.join(' ')}: the :ro volume given first is not hidden by its parent`);
    const control = run([...view, '-v', `${data}:/srv/data`], ['sh', '-c', write]);
    assert.equal(control.code, 0, control.stderr);
    assert.equal(existsSync(join(data, 'keys', 'planted')), true, `${view.join(' ')}: control: through the parent alone the write lands`);
    rmSync(join(data, 'keys', 'planted'));
  }
});

test('below a volume, mount points are made in its directory (as Docker makes them); a symbolic link an earlier container left there leads only within the container\'s tree', () => {
  const data = join(lab.root, 'below');
  const other = join(lab.root, 'other');
  mkdirSync(data);
  mkdirSync(other);
  writeFileSync(join(other, 'f'), 'other\n');
  const r = run(['-v', `${data}:/srv`, '--tmpfs', '/srv/scratch', '-v', `${other}:/srv/in/other:ro`], ['sh', '-c', 'echo x > /srv/scratch/y && cat /srv/scratch/y /srv/in/other/f']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'x\nother\n');
  assert.deepEqual(readdirSync(data).sort(), ['in', 'scratch'], 'the mount points, empty: the tmpfs held what was written');
  assert.deepEqual(readdirSync(join(data, 'scratch')), []);
  // A read-only volume cannot take a new mount point: said so, with the way out.
  const readOnly = run(['-v', `${data}:/srv:ro`, '--tmpfs', '/srv/more'], ['true']);
  assert.equal(readOnly.code, 125);
  assert.match(readOnly.stderr, /^ctnet: error: cannot make the mount point \/srv\/more in the container's tree: \/srv is read-only; create it there first, or mount that read-write\n$/);
  assert.equal(existsSync(join(data, 'more')), false);
  // What a container wrote into the volume: a link out of it, where the next container's mount goes.
  // It leads to the container's view of the host's /tmp, read-only: no mount point is made there.
  rmSync(join(data, 'in'), { recursive: true });
  symlinkSync('/tmp', join(data, 'in'));
  const probe = join('/tmp', 'other');
  const existed = existsSync(probe);
  const refused = run(['-v', `${data}:/srv`, '-v', `${other}:/srv/in/other:ro`], ['true']);
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, /^ctnet: error: the mount point \/srv\/in\/other does not exist in the container's tree \(\/tmp\/other is missing\) and cannot be made on the host's tree, which the container sees read-only; .*\n$/);
  assert.equal(existsSync(probe), existed, 'nothing made at the link\'s destination on the host');
  // A link that names itself: said so, not followed forever.
  rmSync(join(data, 'in'));
  symlinkSync('/srv/in', join(data, 'in'));
  const loop = run(['-v', `${data}:/srv`, '-v', `${other}:/srv/in/other:ro`], ['true']);
  assert.equal(loop.code, 125);
  assert.match(loop.stderr, /^ctnet: error: \/srv\/in\/other in the container's tree goes through more than 40 symbolic links \(a loop\?\); make it a path without them\n$/);
});

test('a mount point through the host\'s links goes where the container sees it: /var/run/x is its own /run/x, and /etc/resolv.conf of a systemd-resolved host is ctnet\'s', (t) => {
  const socket = join(lab.root, 'daemon.sock');
  writeFileSync(socket, 'socket stand-in\n');
  const name = `ctnet-test-${process.pid}.sock`;
  if (!existsSync('/var/run') || realpathSync('/var/run') !== '/run') return t.skip('/var/run is not a link to /run on this host');
  assert.equal(existsSync(join('/run', name)), false);
  // Docker's most common volume: the host has no such file at /run (and need not: it is the container's /run).
  const r = run(['-v', `${socket}:/var/run/${name}:ro`], ['sh', '-c', `cat /var/run/${name} /run/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'socket stand-in\nsocket stand-in\n');
  assert.equal(existsSync(join('/run', name)), false, 'nothing made on the host');
  // A host whose /etc/resolv.conf is systemd-resolved's link into /run: in the container's tree it
  // leads into the container's empty /run, where ctnet's file goes (before, there was none at all).
  const etc = join(lab.root, 'etc');
  execFileSync('cp', ['-a', '/etc', etc]);
  rmSync(join(etc, 'resolv.conf'), { force: true });
  symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(etc, 'resolv.conf'));
  const inside = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" /etc && shift && exec "$@"', 'sh', etc,
    process.execPath, CTNET, 'run', '--network', 'sb', '--', 'sh', '-c', 'readlink /etc/resolv.conf; cat /etc/resolv.conf'], { env: lab.env, encoding: 'utf8' });
  assert.equal(inside.status, 0, inside.stderr);
  const [link, ...resolv] = inside.stdout.trim().split('\n');
  assert.equal(link, '../run/systemd/resolve/stub-resolv.conf');
  assert.ok(resolv.includes('nameserver 172.23.0.1'), inside.stdout);
});

test('--rootfs: symbolic links of the image are followed inside it, as runc follows them; none leads onto the host', () => {
  const image = makeRootfs(['sh', 'cat', 'ls']);
  const probe = join(lab.root, 'probe'); // on the host, where an absolute link of the image names
  const volume = join(lab.root, 'image-volume');
  mkdirSync(probe);
  mkdirSync(volume);
  writeFileSync(join(volume, 'f'), 'volume\n');
  const socket = join(lab.root, 'image.sock');
  writeFileSync(socket, 'socket stand-in\n');
  try {
    symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(image, 'etc', 'resolv.conf'));
    mkdirSync(join(image, 'var'));
    symlinkSync('/run', join(image, 'var', 'run'));
    symlinkSync(probe, join(image, 'data'));
    // Followed by the kernel from the host, the image's link reaches the host's directory: the attack is live.
    assert.equal(realpathSync(join(image, 'data')), probe);
    const r = run(['--rootfs', image, '-v', `${volume}:/data/sub`, '-v', `${socket}:/var/run/x.sock`], ['sh', '-c', 'cat /etc/resolv.conf /run/x.sock /data/sub/f; ls /run/systemd/resolve']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nameserver 172\.23\.0\.1\n/);
    assert.match(r.stdout, /\nsocket stand-in\nvolume\nstub-resolv.conf\n$/);
    assert.deepEqual(readdirSync(probe), [], 'nothing made or mounted in the host directory the link names');
    assert.ok(existsSync(join(image, probe, 'sub')), 'the mount point is in the image, where the link leads inside it');
    // Privileged, /dev is the host's: no mount point is made there, through a link or not. The
    // control: unprivileged, /dev is a tmpfs of the container's, and the same volume goes in.
    symlinkSync('/dev', join(image, 'devices'));
    const name = `ctnet-test-${process.pid}`;
    const devices = ['-v', `${volume}:/devices/${name}`];
    const privileged = run(['--rootfs', image, '--privileged', ...devices], ['sh', '-c', ':']);
    assert.equal(privileged.code, 125);
    assert.match(privileged.stderr, new RegExp(`^ctnet: error: the mount point /devices/${name} does not exist in the rootfs \\(/dev/${name} is missing\\) and cannot be made in a privileged container's /dev, the host's; .*\n$`));
    assert.equal(existsSync(join('/dev', name)), false);
    const confined = run(['--rootfs', image, ...devices], ['cat', `/dev/${name}/f`]);
    assert.equal(confined.code, 0, confined.stderr);
    assert.equal(confined.stdout, 'volume\n');
    // A link to the root itself: nothing to mount on.
    symlinkSync('/', join(image, 'top'));
    const top = run(['--rootfs', image, '-v', `${volume}:/top`], ['sh', '-c', ':']);
    assert.equal(top.code, 125);
    assert.match(top.stderr, /^ctnet: error: \/top in the rootfs leads to its root; mount on a path below it\n$/);
  } finally {
    rmSync(image, { recursive: true, force: true });
  }
});

test('--rootfs: pivot_root into a directory with /proc, /sys and /dev basics; the host is out of reach', () => {
  const r = run(['--rootfs', rootfs, '--hostname', 'boxed'], ['sh', '-c', [
    'cat /marker', 'echo $$', 'hostname', 'echo $(ls /dev)', 'echo $(ls /sys/class/net)',
    'test -e /usr/bin/node && echo host-visible || echo host-hidden', 'echo ok > /dev/null && echo devnull-ok',
  ].join('; ')]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['inside the rootfs', '1', 'boxed']);
  for (const d of ['null', 'zero', 'urandom', 'pts', 'shm', 'tty']) assert.ok(lines[3].split(' ').includes(d), `/dev/${d}`);
  assert.deepEqual(lines[4].trim().split(' ').sort(), ['eth0', 'lo'], "the container's own sysfs");
  assert.deepEqual(lines.slice(5), ['host-hidden', 'devnull-ok']);
});

test('--user runs the command as that user, by number or by name from the rootfs', () => {
  assert.equal(run(['--user', '1234:5678'], ['id', '-u']).stdout, '1234\n');
  assert.equal(run(['--user', '1234:5678'], ['id', '-g']).stdout, '5678\n');
  const r = run(['--rootfs', rootfs, '--user', 'app'], ['sh', '-c', 'id -u; id -g; touch /marker 2>&1 || true']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1000\n1000\n.*Permission denied/s);
});

test('--group-add and the user\'s own groups in /etc/group are its supplementary groups, in exec too; the control: a user it does not list has its gid alone', () => {
  const image = makeRootfs(['sh', 'id', 'sleep']);
  try {
    writeFileSync(join(image, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nsudo:x:27:app\nvideo:x:44:\n');
    const plain = run(['--rootfs', image, '--user', '1000:1000'], ['id', '-G']);
    assert.equal(plain.stdout, '1000 27\n', "its gid, and sudo, which /etc/group lists it in");
    assert.equal(run(['--rootfs', image, '--user', '1001:1001'], ['id', '-G']).stdout, '1001\n', 'the control: a user /etc/group does not list');
    const added = run(['--rootfs', image, '--user', 'app', '--group-add', 'video', '--group-add', '2000'], ['id', '-G']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, '1000 27 44 2000\n');
    const root = run(['--rootfs', image, '--group-add', '44'], ['id', '-G']);
    assert.equal(root.stdout, '0 44\n');
    lab.ok(['run', '-d', '--name', 'grouped', '--network', 'sb', '--rootfs', image, '--user', 'app', '--group-add', '2000', '--', 'sleep', '600']);
    assert.equal(lab.ok(['exec', 'grouped', '--', 'id', '-G']), '1000 27 2000\n');
    assert.deepEqual(lab.json(['inspect', 'grouped']).HostConfig.GroupAdd, ['27', '2000']);
    lab.ok(['rm', '-f', 'grouped']);
    const unknown = run(['--rootfs', image, '--group-add', 'wheel'], ['id']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^ctnet: error: --group-add wheel: there is no group wheel in the container's \/etc\/group; give a numeric gid\n$/);
  } finally {
    rmSync(image, { recursive: true, force: true });
  }
});

test('exec enters every namespace of the container, its root and its user', () => {
  lab.ok(['run', '-d', '--name', 'target', '--network', 'sb', '--rootfs', rootfs, '--user', 'app', '--hostname', 'inside', '--', 'sleep', '600']);
  const r = lab.ctnet(['exec', 'target', '--', 'sh', '-c', 'hostname; cat /marker; id -u; ps -e -o pid=,comm= | head -1']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), ['inside', 'inside the rootfs', '1000', '1 sleep']);
  lab.ok(['rm', '-f', 'target']);
});

test('--init: an init is PID 1 and reaps orphans; without it, an orphan of a non-reaping PID 1 stays a zombie', async () => {
  // The subshell starts `sleep 0.1` and exits: the sleep is orphaned to PID 1, then ends.
  const orphan = ['sh', '-c', '(sleep 0.1 &); exec sleep 600'];
  lab.ok(['run', '-d', '--init', '--name', 'reaped', '--network', 'sb', '--', ...orphan]);
  lab.ok(['run', '-d', '--name', 'unreaped', '--network', 'sb', '--', ...orphan]);
  await new Promise((r) => setTimeout(r, 600));
  const states = (name) => lab.ok(['exec', name, '--', 'ps', '-e', '-o', 'pid=,stat=,comm=']).trim().split('\n').map((l) => l.trim().split(/\s+/));
  const reaped = states('reaped');
  assert.equal(reaped.find((p) => p[0] === '1')[2], 'sh', 'PID 1 is the init');
  assert.ok(!reaped.some((p) => p[1].startsWith('Z')), JSON.stringify(reaped));
  const unreaped = states('unreaped');
  assert.equal(unreaped.find((p) => p[0] === '1')[2], 'sleep', 'PID 1 is the command');
  assert.ok(unreaped.some((p) => p[1].startsWith('Z')), JSON.stringify(unreaped));
  // The init passes SIGTERM on: stop ends it at once, with the command's 143.
  const t0 = Date.now();
  lab.ok(['stop', 'reaped']);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(lab.json(['inspect', 'reaped']).State.ExitCode, 143);
  lab.ok(['rm', '-f', 'reaped', 'unreaped']);
});

test('a container that cannot be set up: run -d reports why in one line and exits 125, as Docker does', () => {
  const bad = join(lab.root, 'badroot');
  mkdirSync(join(bad, 'usr', 'bin'), { recursive: true });
  copyFileSync('/usr/bin/true', join(bad, 'usr', 'bin', 'true'));
  symlinkSync('/etc', join(bad, 'etc')); // inside the rootfs, a link to itself
  const r = lab.ctnet(['run', '-d', '--name', 'unbuilt', '--network', 'sb', '--rootfs', bad, '--', '/usr/bin/true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^ctnet: error: \/etc\/hosts in the rootfs goes through more than 40 symbolic links .*\n$/);
  assert.equal(r.stdout, '');
  lab.ok(['rm', '-f', 'unbuilt']);
  // A file onto a directory of the rootfs: named as such, where the kernel says only EINVAL.
  const mismatch = lab.ctnet(['run', '-d', '--name', 'unbuilt', '--network', 'sb', '--rootfs', rootfs, '-v', '/etc/hostname:/usr', '--', 'sleep', '1']);
  assert.equal(mismatch.code, 125);
  assert.match(mismatch.stderr, /^ctnet: error: -v \/etc\/hostname:\/usr: a file cannot go on the directory \/usr; mount a file on a file and a directory on a directory\n$/);
  lab.ok(['rm', '-f', 'unbuilt']);
});

test('run -d whose PID 1 is killed before the command runs (its seccomp profile kills chdir, which ctnet-init calls after loading it) exits 125, not as started', () => {
  const profile = join(lab.root, 'no-chdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chdir'], action: 'SCMP_ACT_KILL_PROCESS' }] }));
  const r = lab.ctnet(['run', '-d', '--name', 'stillborn', '--network', 'sb', '--security-opt', `seccomp=${profile}`, '--', 'sleep', '600']);
  assert.equal(r.code, 125, r.stdout + r.stderr);
  assert.match(r.stderr, /^ctnet: error: the container's first process ended before it ran the command \(.*\)\n$/);
  assert.equal(r.stdout, '');
  lab.ok(['rm', '-f', 'stillborn']);
});
