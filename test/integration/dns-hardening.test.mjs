// The embedded DNS under attack: 10,000 malformed datagrams and half-open TCP from a container's
// namespace, a query from source port 0 (a raw socket), queries from other networks' containers and
// from an internal network by way of another gateway, upstreams that cannot be reached; and a kill -9.
// The server keeps answering its own containers, and comes back by itself within a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLab, ROOT_DIR, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

const DNS_PACKET = join(ROOT_DIR, 'node_modules', 'dns-packet', 'index.js');
const fixture = (name) => join(ROOT_DIR, 'test', 'fixtures', name);
let lab;

before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'app', '--subnet', '172.28.0.0/24']);
  lab.ok(['network', 'create', 'other', '--subnet', '172.29.0.0/24']);
  lab.ok(['network', 'create', 'closed', '--subnet', '172.30.0.0/24', '--internal']);
  for (const [name, net] of [['web', 'app'], ['client', 'app'], ['stranger', 'other'], ['inmate', 'closed']]) {
    lab.ok(['run', '-d', '--name', name, '--network', net, '--', 'sleep', '600']);
  }
});
after(() => lab?.close());

/** A command in a container's network namespace (its source address is the container's). */
function inNetns(container, args, timeout = 60000, env = {}) {
  const r = spawnSync('ip', ['netns', 'exec', lab.nsOf(container), ...args], { encoding: 'utf8', timeout, env: { ...process.env, DNS_PACKET, ...env } });
  return r.stdout + r.stderr;
}
const query = (container, server, name, type = 'A', waitMs = 2000) =>
  inNetns(container, [process.execPath, fixture('dns-query.cjs'), server, name, type], 60000, { DNS_TIMEOUT_MS: String(waitMs) }).trim();

/** The PID of the node process serving DNS for this lab's state. */
function dnsPid() {
  // Anchored at node: the supervisor's command line names the same script.
  const r = spawnSync('pgrep', ['-f', `^${process.execPath} \\S*ctnet-dns\\.mjs ${lab.root} `], { encoding: 'utf8' });
  const pids = r.stdout.trim().split('\n').filter(Boolean).map(Number);
  return pids.length === 1 ? pids[0] : null;
}

async function answersWithin(ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (query('client', '172.28.0.1', 'web', 'A', 100).startsWith('NOERROR 172.28.0.')) return Date.now() - start;
  }
  return null;
}

test('10,000 malformed datagrams and 300 half-open TCP connections: the same server still answers at once', async () => {
  assert.ok(await answersWithin(5000) !== null, 'answers before');
  const pid = dnsPid();
  assert.ok(pid);
  const sent = inNetns('client', [process.execPath, fixture('dns-fuzz.cjs'), '172.28.0.1', '10000', '300'], 120000);
  assert.match(sent, /sent 10000 datagrams, opened 300 half-open connections/);
  assert.match(query('client', '172.28.0.1', 'web'), /^NOERROR 172\.28\.0\.\d+$/);
  assert.equal(dnsPid(), pid, 'no crash and restart in between');
});

test('a query from source port 0 (raw socket) is dropped; the same packet from a real port is answered (the control)', () => {
  const pid = dnsPid();
  // A UDP header and a query for "web", sent raw; with a real port, a socket bound there reads the reply.
  const raw = (sport) => `perl -MSocket -e '
    my $q = pack("H*", "0007010000010000000000000377656200000100 01" =~ s/ //gr);
    my $udp = pack("nnnn", ${sport}, 53, 8 + length($q), 0) . $q;
    socket(my $r, AF_INET, SOCK_RAW, 17) or die "raw: $!";
    my $l; if (${sport}) { socket($l, AF_INET, SOCK_DGRAM, 0); bind($l, sockaddr_in(${sport}, INADDR_ANY)) or die "bind: $!"; }
    send($r, $udp, 0, sockaddr_in(0, inet_aton("172.28.0.1"))) or die "send: $!";
    if ($l) { my $rin = ""; vec($rin, fileno($l), 1) = 1; print select($rin, undef, undef, 2) ? "answered\\n" : "silent\\n"; }
    else { print "sent\\n"; }'`;
  assert.match(inNetns('client', ['sh', '-c', raw(0)]), /^sent$/m);
  assert.match(inNetns('client', ['sh', '-c', raw(5353)]), /^answered$/m, 'the control: the hand-made packet reaches the server');
  assert.match(query('client', '172.28.0.1', 'web'), /^NOERROR /);
  assert.equal(dnsPid(), pid, 'port 0 did not end the server');
});

test("only the network's containers are answered: another network's container and an internal one asking another gateway get REFUSED", () => {
  assert.match(query('client', '172.28.0.1', 'web'), /^NOERROR 172\.28\.0\./, 'the control: a container of app is answered');
  assert.equal(query('stranger', '172.28.0.1', 'web'), 'REFUSED');
  assert.equal(query('stranger', '172.28.0.1', 'example.org'), 'REFUSED', 'no open resolver for other networks');
  // The internal network's own gateway resolves its names and forwards nothing. Its containers have
  // no route out; one that makes itself one (NET_ADMIN) to app's gateway gets nothing: the internal
  // network's input rule drops it before the DNS could refuse it.
  assert.equal(query('inmate', '172.30.0.1', 'example.org'), 'SERVFAIL');
  inNetns('inmate', ['ip', 'route', 'add', '172.28.0.1/32', 'via', '172.30.0.1']);
  assert.match(query('inmate', '172.28.0.1', 'example.org', 'A', 1000), /^(timeout|REFUSED)$/);
});

test('upstreams that cannot be reached (an offline host, a garbage line) give SERVFAIL, and the server lives on', () => {
  const resolv = join('/etc/netns', lab.host, 'resolv.conf');
  const saved = readFileSync(resolv, 'utf8');
  const pid = dnsPid();
  try {
    writeFileSync(resolv, 'nameserver fd99::53\nnameserver not-an-address\nnameserver 0.0.0.0\n');
    assert.equal(query('client', '172.28.0.1', 'outside.test'), 'SERVFAIL');
    writeFileSync(resolv, '# no servers at all\n');
    assert.equal(query('client', '172.28.0.1', 'outside.test'), 'SERVFAIL');
  } finally {
    writeFileSync(resolv, saved);
  }
  assert.match(query('client', '172.28.0.1', 'web'), /^NOERROR /);
  assert.equal(dnsPid(), pid);
});

test('an upstream that takes the query and never answers: SERVFAIL after the timeout, and the network\'s own names are answered meanwhile', async () => {
  const resolv = join('/etc/netns', lab.host, 'resolv.conf');
  const saved = readFileSync(resolv, 'utf8');
  const pid = dnsPid();
  // A resolver in the lab's internet that reads every query and answers none (not a refusal: a silence).
  const silent = spawn('ip', ['netns', 'exec', lab.internet, 'perl', '-MSocket', '-e',
    'socket(my $s, PF_INET, SOCK_DGRAM, 0) or die; bind($s, pack_sockaddr_in(53, inet_aton(shift))) or die "bind: $!"; print "up\\n"; $| = 1; while (1) { recv($s, my $b, 512, 0) }', A.internet], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((r) => silent.stdout.once('data', r));
    writeFileSync(resolv, `nameserver ${A.internet}\n`);
    const slow = spawn('ip', ['netns', 'exec', lab.nsOf('client'), process.execPath, fixture('dns-query.cjs'), '172.28.0.1', 'outside.test', 'A'], { env: { ...process.env, DNS_PACKET, DNS_TIMEOUT_MS: '5000' } });
    let answer = '';
    slow.stdout.on('data', (d) => (answer += d));
    const started = Date.now();
    // While that query waits on the silent upstream, a name of the network answers at once.
    assert.match(query('client', '172.28.0.1', 'web'), /^NOERROR 172\.28\.0\./);
    await new Promise((r) => slow.once('exit', r));
    assert.equal(answer.trim(), 'SERVFAIL');
    assert.ok(Date.now() - started < 4000, `SERVFAIL after ${Date.now() - started} ms`);
  } finally {
    writeFileSync(resolv, saved);
    silent.kill('SIGKILL');
  }
  assert.equal(dnsPid(), pid, 'no crash and restart in between');
});

/** CPU ticks (user + system) each thread of a process has used, by thread ID. */
function threadTicks(pid) {
  const ticks = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks.set(Number(tid), Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}
const load = (container, name, count, inFlight) => JSON.parse(inNetns(container, [process.execPath, fixture('dns-load.cjs'), '172.28.0.1', name, String(count), String(inFlight)], 120000));

test('a second thread reads the same UDP sockets: under 20,000 queries both threads answer, every query is answered', { skip: availableParallelism() < 2 && 'one CPU: ctnet-dns runs no reader thread' }, () => {
  const pid = dnsPid();
  assert.ok(pid);
  const before = threadTicks(pid);
  const out = load('client', 'web', 20000, 32);
  const after = threadTicks(pid);
  assert.deepEqual([out.sent, out.rcodes.NOERROR, out.unanswered], [20000, 20000, 0], JSON.stringify(out));
  // The main thread's ID is the PID; the reader is the busiest of the others (V8's helper threads
  // only collect garbage). Without it, the busiest other thread had a few percent of the main's.
  const used = [...after].map(([tid, t]) => [tid, t - (before.get(tid) ?? 0)]);
  const main = used.find(([tid]) => tid === pid)[1];
  const reader = Math.max(...used.filter(([tid]) => tid !== pid).map(([, t]) => t));
  assert.ok(reader >= main * 0.25, `CPU ticks: main thread ${main}, busiest other thread ${reader}`);
  assert.equal(dnsPid(), pid);
});

test('forwarding stays within one rate per client whichever thread reads the query: 150 at once for an outside name, the burst of 100 passes, ~50 are REFUSED', () => {
  lab.ok(['run', '-d', '--name', 'flooder', '--network', 'app', '--', 'sleep', '600']);
  try {
    // Two readers with a bucket each would let nearly all 150 through (about 75 each, under a burst of 100 each: 131-135 did).
    const out = load('flooder', 'outside.example', 150, 150);
    assert.equal(out.sent, 150);
    const refused = out.rcodes.REFUSED ?? 0;
    assert.ok(refused >= 40 && refused <= 55, `${refused} of 150 refused: ${JSON.stringify(out)}`);
  } finally {
    lab.ctnet(['rm', '-f', 'flooder']);
  }
});

test('killed with SIGKILL, the DNS is back within a second without any ctnet command', async () => {
  const pid = dnsPid();
  assert.ok(pid);
  // One probe process, started before the kill, asks every 10 ms from then on: a query process per
  // look would add its own start to the time measured.
  const probe = spawn('ip', ['netns', 'exec', lab.nsOf('client'), process.execPath, fixture('dns-probe.cjs'), '172.28.0.1', 'web'],
    { env: { ...process.env, DNS_PACKET, DNS_TIMEOUT_MS: '3000' }, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: probe.stdout })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, 'ready');
    execFileSync('kill', ['-9', String(pid)]);
    const killed = Date.now();
    probe.stdin.write('go\n');
    const answered = (await lines.next()).value;
    const back = Number(answered) - killed;
    assert.ok(Number.isFinite(back) && back < 1000, `answered again after ${Number.isFinite(back) ? `${back} ms` : answered}`);
  } finally {
    probe.kill('SIGKILL');
  }
  assert.notEqual(dnsPid(), pid);
});
