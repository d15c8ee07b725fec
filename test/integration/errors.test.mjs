// Bad input: one clear line, a stable exit code, no stack trace, and kernel and state exactly as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, fullSnapshot, CTNET, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;

before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.20.0.0/24', '--bridge', 'br0']);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lab', '--ip', '172.20.0.10', '-p', '8000:80', '-p', `${A.host}:9000:80`, '--', 'sleep', '600']);
});

after(() => lab?.close());

/** Runs a failing command and checks the whole contract. */
function refused(args, expectedCode, pattern, extraEnv = {}) {
  const before = fullSnapshot(lab);
  const r = lab.ctnet(args, extraEnv);
  assert.equal(r.code, expectedCode, `ctnet ${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], /^ctnet: error: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.deepEqual(fullSnapshot(lab), before, 'kernel or state changed');
}

const cases = [
  ['invalid CIDR', ['network', 'create', 'x', '--subnet', '10.0.0.0/33'], 2, /invalid subnet.*CIDR/],
  ['subnet with host bits', ['network', 'create', 'x', '--subnet', '10.30.0.1/24'], 2, /use 10\.30\.0\.0\/24/],
  ['invalid gateway address', ['network', 'create', 'x', '--subnet', '10.30.0.0/24', '--gateway', 'nope'], 2, /invalid --gateway/],
  ['loopback subnet', ['network', 'create', 'x', '--subnet', '127.5.0.0/24'], 2, /subnet 127\.5\.0\.0\/24 is loopback .*pick a private subnet/],
  ['multicast subnet', ['network', 'create', 'x', '--subnet', '224.5.0.0/24'], 2, /is multicast/],
  ['multicast IPv6 subnet', ['network', 'create', 'x', '--ipv6', '--subnet', '10.30.0.0/24', '--subnet', 'ff05::/64'], 2, /IPv6 subnet ff05::\/64 holds multicast addresses/],
  ['gateway outside the subnet', ['network', 'create', 'x', '--subnet', '10.30.0.0/24', '--gateway', '10.31.0.1'], 2, /outside subnet/],
  ['subnet overlapping another network', ['network', 'create', 'x', '--subnet', '172.20.0.0/16'], 4, /overlaps network lab/],
  ['subnet overlapping a host route', ['network', 'create', 'x', '--subnet', '10.0.13.0/24'], 4, /overlaps the host's route to 10\.0\.12\.0\/22 \(dev eth0\)/],
  ['duplicate network name', ['network', 'create', 'lab', '--subnet', '10.40.0.0/24'], 4, /already exists/],
  ['bridge name over 15 characters', ['network', 'create', 'x', '--bridge', 'a-very-long-bridge'], 2, /at most 15/],
  ['bridge of another network', ['network', 'create', 'x', '--bridge', 'br0'], 4, /belongs to network lab/],
  ['MTU out of range', ['network', 'create', 'x', '--mtu', '10'], 2, /68-65535/],
  ['duplicate container name', ['run', '-d', '--name', 'web', '--network', 'lab', '--', 'sleep', '1'], 4, /already in use/],
  ['--ip outside the subnet', ['run', '-d', '--network', 'lab', '--ip', '172.21.0.5', '--', 'sleep', '1'], 2, /outside network lab/],
  ['--ip taken', ['run', '-d', '--network', 'lab', '--ip', '172.20.0.10', '--', 'sleep', '1'], 4, /already in use/],
  ['--ip is the gateway', ['run', '-d', '--network', 'lab', '--ip', '172.20.0.1', '--', 'sleep', '1'], 4, /gateway/],
  ['--ip not an address', ['run', '-d', '--network', 'lab', '--ip', '172.20.0', '--', 'sleep', '1'], 2, /invalid --ip/],
  ['host port already published', ['run', '-d', '--network', 'lab', '-p', '8000:81', '--', 'sleep', '1'], 4, /0\.0\.0\.0:8000\/tcp is already published by web/],
  ['host port published on that host address', ['run', '-d', '--network', 'lab', '-p', `${A.host}:9000:81`, '--', 'sleep', '1'], 4, /already published by web/],
  ['all addresses while one address holds the port', ['run', '-d', '--network', 'lab', '-p', '9000:81', '--', 'sleep', '1'], 4, /already published by web/],
  ['port outside 1-65535', ['run', '-d', '--network', 'lab', '-p', '70000:80', '--', 'sleep', '1'], 2, /outside 1-65535/],
  ['port zero', ['run', '-d', '--network', 'lab', '-p', '0:80', '--', 'sleep', '1'], 2, /outside 1-65535/],
  ['malformed -p', ['run', '-d', '--network', 'lab', '-p', '80:80:80:80', '--', 'sleep', '1'], 2, /invalid port mapping/],
  ['unknown protocol', ['run', '-d', '--network', 'lab', '-p', '80:80/icmp', '--', 'sleep', '1'], 2, /not tcp, udp or sctp/],
  ['host address not on the host', ['run', '-d', '--network', 'lab', '-p', '10.9.9.9:80:80', '--', 'sleep', '1'], 2, /not an address of the host/],
  ['unknown network', ['run', '-d', '--network', 'nope', '--', 'sleep', '1'], 3, /network nope does not exist/],
  ['unknown container (inspect)', ['inspect', 'nope'], 3, /container nope does not exist/],
  ['unknown container (stop)', ['stop', 'nope'], 3, /container nope does not exist/],
  ['unknown container (rm)', ['rm', 'nope'], 3, /container nope does not exist/],
  ['unknown container (exec)', ['exec', 'nope', '--', 'true'], 3, /container nope does not exist/],
  ['unknown network (rm)', ['network', 'rm', 'nope'], 3, /network nope does not exist/],
  ['unknown command', ['frobnicate'], 2, /unknown command/],
  ['unknown option', ['run', '--frobnicate', '--', 'true'], 2, /unknown option/],
  ['network rm while containers are attached', ['network', 'rm', 'lab'], 4, /still has containers attached \(web\)/],
  ['rm of a running container without -f', ['rm', 'web'], 4, /is running/],
  ['container command not found', ['run', '-d', '--network', 'lab', '--', 'no-such-command-xyz'], 127, /not found in PATH/],
  ['run without a command', ['run', '--network', 'lab'], 2, /missing required argument/],
  ['invalid container name', ['run', '--name', 'bad name', '--', 'true'], 2, /invalid container name/],
  ['invalid -e', ['run', '-e', '1X=2', '--', 'true'], 2, /invalid -e/],
  ['publishing on an internal network', ['run', '-d', '--network', 'lab', '-p', '80', '--', 'sleep', '1'], null, null],
  ['--memory not a size', ['run', '-d', '--network', 'lab', '--memory', 'abc', '--', 'sleep', '1'], 2, /--memory abc is not a size/],
  ['--memory below 6m', ['run', '-d', '--network', 'lab', '--memory', '1k', '--', 'sleep', '1'], 2, /minimum of 6m/],
  ['--cpus 0', ['run', '-d', '--network', 'lab', '--cpus', '0', '--', 'sleep', '1'], 2, /--cpus 0 is not a number of CPUs above 0/],
  ['--cpus beyond the host', ['run', '-d', '--network', 'lab', '--cpus', '999', '--', 'sleep', '1'], 2, /more than the \d+ CPUs of this host/],
  ['--pids-limit 0', ['run', '-d', '--network', 'lab', '--pids-limit', '0', '--', 'sleep', '1'], 2, /at least 1/],
  ['--rootfs that does not exist', ['run', '-d', '--network', 'lab', '--rootfs', '/no/such/rootfs', '--', 'sh'], 3, /--rootfs \/no\/such\/rootfs does not exist/],
  ['--rootfs that is a file', ['run', '-d', '--network', 'lab', '--rootfs', '/etc/hostname', '--', 'sh'], 2, /is not a directory/],
  ['command missing from the rootfs', ['run', '-d', '--network', 'lab', '--rootfs', '/usr/share/doc', '--', 'sh'], 127, /not found in the rootfs/],
  ['mount source that does not exist', ['run', '-d', '--network', 'lab', '-v', '/no/such/dir:/data', '--', 'sleep', '1'], 3, /host path \/no\/such\/dir does not exist/],
  ['--mount source that does not exist: named as given', ['run', '-d', '--network', 'lab', '--mount', 'type=bind,src=/no/such/dir,dst=/data', '--', 'sleep', '1'], 3, /^ctnet: error: --mount type=bind,src=\/no\/such\/dir,dst=\/data: the host path \/no\/such\/dir does not exist; create it first$/m],
  ['--mount and -v at one path', ['run', '-d', '--network', 'lab', '-v', '/etc:/srv', '--mount', 'type=bind,source=/etc,target=/srv', '--', 'sleep', '1'], 2, /--mount type=bind,source=\/etc,target=\/srv: \/srv is mounted twice; give each container path once/],
  ['mount source not absolute', ['run', '-d', '--network', 'lab', '-v', 'data:/data', '--', 'sleep', '1'], 2, /must be absolute/],
  ['mount target missing on the read-only host root', ['run', '-d', '--network', 'lab', '-v', '/etc:/no/such/target', '--', 'sleep', '1'], 3, /does not exist on the host/],
  ['volume: a file onto a directory', ['run', '-d', '--network', 'lab', '-v', '/etc/hostname:/srv', '--', 'sleep', '1'], 2, /-v \/etc\/hostname:\/srv: a file cannot go on the directory \/srv; mount a file on a file/],
  ['volume: a directory onto a file', ['run', '-d', '--network', 'lab', '-v', '/etc:/etc/hostname', '--', 'sleep', '1'], 2, /a directory cannot go on the file \/etc\/hostname/],
  ['a volume and a tmpfs at one path', ['run', '-d', '--network', 'lab', '--tmpfs', '/srv', '-v', '/etc:/srv', '--', 'sleep', '1'], 2, /-v \/etc:\/srv: \/srv is also a --tmpfs; give each container path once/],
  ['-v propagation ctnet does not make', ['run', '-d', '--network', 'lab', '-v', '/etc:/srv:ro,rslave', '--', 'sleep', '1'], 2, /-v \/etc:\/srv:ro,rslave: rslave propagation is not supported: ctnet's volumes are rprivate \(Docker's default\); leave it out/],
  ['--tmpfs option ctnet does not know', ['run', '-d', '--network', 'lab', '--tmpfs', '/tmp:async', '--', 'sleep', '1'], 2, /--tmpfs \/tmp:async: async is not a tmpfs option ctnet knows \(ro, rw, .*nr_inodes=\)/],
  ['--tmpfs size not a size', ['run', '-d', '--network', 'lab', '--tmpfs', '/tmp:size=lots', '--', 'sleep', '1'], 2, /size=lots is not valid; e\.g\. size=64m/],
  ['mount option neither ro nor rw nor Docker\'s', ['run', '-d', '--network', 'lab', '-v', '/etc:/mnt:rx', '--', 'sleep', '1'], 2, /-v \/etc:\/mnt:rx: rx is not a volume option; use ro or rw/],
  ['--tmpfs not absolute', ['run', '-d', '--network', 'lab', '--tmpfs', 'tmp', '--', 'sleep', '1'], 2, /--tmpfs tmp must be an absolute path/],
  ['--tmpfs on a missing host directory', ['run', '-d', '--network', 'lab', '--tmpfs', '/no/such/dir', '--', 'sleep', '1'], 3, /--tmpfs \/no\/such\/dir is not a directory on the host/],
  ['--user unknown name', ['run', '-d', '--network', 'lab', '--user', 'no-such-user', '--', 'sleep', '1'], 2, /no user no-such-user/],
  ['--user malformed', ['run', '-d', '--network', 'lab', '--user', '1:2:3', '--', 'sleep', '1'], 2, /not UID\[:GID\]/],
  // On the default network, which does not exist yet: a refused run does not leave it made.
  ['--ip with leading zeros, default network', ['run', '-d', '--ip', '010.090.000.005', '--', 'sleep', '1'], 2, /invalid --ip address "010\.090\.000\.005"/],
  ['name in use, default network', ['run', '-d', '--name', 'web', '--', 'sleep', '1'], 4, /already in use/],
  ['--memory past any host', ['run', '-d', '--network', 'lab', '--memory', '99999999999999999999g', '--', 'sleep', '1'], 2, /larger than any host/],
  ['a name with a newline is shown escaped', ['network', 'rm', 'a\nb'], 3, /network a\\nb does not exist/],
];

for (const [what, args, code, pattern] of cases) {
  if (code === null) continue;
  test(`refused: ${what}`, () => refused(args, code, pattern));
}

test('refused: publishing on an internal network', () => {
  lab.ok(['network', 'create', 'closed', '--internal', '--subnet', '172.22.0.0/24']);
  try {
    refused(['run', '-d', '--network', 'closed', '-p', '8100:80', '--', 'sleep', '1'], 2, /internal/);
  } finally {
    lab.ok(['network', 'rm', 'closed']);
  }
});

test('refused: container command not executable', () => {
  const file = join(lab.root, 'not-executable');
  writeFileSync(file, 'echo hi\n', { mode: 0o644 });
  refused(['run', '-d', '--network', 'lab', '--', file], 126, /not an executable/);
});

test('a command the container cannot run (a file mounted over an executable): run -d exits 126 as a foreground run does, in one line', () => {
  const file = join(lab.root, 'plain');
  writeFileSync(file, 'echo hi\n', { mode: 0o644 });
  // The host's /usr/bin/true passes the check before anything starts; the container's is the plain file.
  for (const detach of [['-d'], []]) {
    const r = lab.ctnet(['run', ...detach, '--name', 'mounted', '--network', 'lab', '-v', `${file}:/usr/bin/true:ro`, '--', '/usr/bin/true']);
    assert.equal(r.code, 126, `run ${detach.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
    assert.equal(r.stderr, 'ctnet: error: cannot run /usr/bin/true: permission denied\n');
    // As Docker's, the container stays, exited with that code.
    assert.equal(lab.json(['inspect', 'mounted']).State.ExitCode, 126);
    lab.ok(['rm', '-f', 'mounted']);
  }
});

test('refused: libnftables missing, with the install hint', () => {
  refused(['network', 'create', 'x', '--subnet', '10.50.0.0/24'], 6, /apt-get install -y nftables/, { CTNET_LIBNFTABLES: '/nonexistent/libnftables.so.1' });
});

test('refused: not running as root', () => {
  const before = fullSnapshot(lab);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CTNET, 'network', 'create', 'x'], { env: lab.env, encoding: 'utf8' });
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /^ctnet: error: .*needs root; run it with sudo\n$/);
  assert.deepEqual(fullSnapshot(lab), before);
});

test('refused: CTNET_HOST_NETNS naming a namespace that does not exist', () => {
  const r = lab.ctnet(['network', 'ls'], { CTNET_HOST_NETNS: 'no-such-ns-xyz' });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^ctnet: error: network namespace \/run\/netns\/no-such-ns-xyz does not exist/);
});
