// The embedded DNS: names, aliases and NAME.NETWORK on user-defined networks (not on the default
// bridge, not across networks), other names forwarded to the host's resolvers (a fake one in the
// lab's internet namespace), SERVFAIL at once when none answers, UDP and TCP, updates within a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLab, startDnsUpstream, ROOT_DIR, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

const DNS_PACKET = join(ROOT_DIR, 'node_modules', 'dns-packet', 'index.js');

let lab;
let upstream;

/** A resolver in the lab's internet namespace: outside.test is 198.51.100.7, everything else NXDOMAIN. */
const startUpstream = () => startDnsUpstream(lab.internet, A.internet, { 'outside.test': '198.51.100.7' });

before(async () => {
  lab = createLab();
  lab.ok(['network', 'create', 'app', '--subnet', '172.25.0.0/24']);
  lab.ok(['network', 'create', 'other', '--subnet', '172.26.0.0/24']);
  lab.ok(['network', 'create', 'closed', '--subnet', '172.27.0.0/24', '--internal']);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'app', '--network-alias', 'www', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'client', '--network', 'app', '--', 'sleep', '600']);
  upstream = await startUpstream();
});

after(() => {
  if (upstream) try { process.kill(-upstream.pid, 'SIGKILL'); } catch { /* gone */ }
  lab?.close();
});

/** What getent prints for each name inside a container ('' when it does not resolve). */
const resolve = (container, ...names) => lab.ctnet(['exec', container, '--', 'sh', '-c', names.map((n) => `getent hosts ${n} || echo "- ${n}"`).join('; ')]).stdout;
const ipOf = (name) => lab.json(['inspect', name]).NetworkSettings.IPAddress;

test("names, aliases, NAME.NETWORK and the short ID resolve to the container's address on that network", () => {
  const ip = ipOf('web');
  const id = lab.json(['inspect', 'web']).Id.slice(0, 12);
  for (let i = 0; i < 20 && !resolve('client', 'web').startsWith(ip); i++) execFileSync('sleep', ['0.1']); // within a second of run
  // An ID of digits alone (one in ~280) is an IPv4 number to glibc, which then never asks the DNS;
  // a trailing dot makes it a name (getent prints it without the dot).
  const out = resolve('client', 'web', 'www', 'web.app', 'WEB', /^\d+$/.test(id) ? `${id}.` : id);
  for (const name of ['web', 'www', 'web.app', 'WEB', id]) assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+${name}$`, 'm'), out);
  assert.equal(lab.ctnet(['exec', 'client', '--', 'cat', '/etc/resolv.conf']).stdout.split('\n')[0], 'nameserver 172.25.0.1');
});

test('other names go to the host resolvers; no DNS across networks or on the default bridge', () => {
  assert.match(resolve('client', 'outside.test'), /^198\.51\.100\.7\s+outside\.test$/m);
  lab.ok(['run', '-d', '--name', 'stranger', '--network', 'other', '--', 'sleep', '600']);
  assert.match(resolve('stranger', 'web'), /^- web$/m, 'a container on another network does not resolve web');
  lab.ok(['run', '-d', '--name', 'legacy', '--', 'sleep', '600']);
  assert.match(resolve('legacy', 'web'), /^- web$/m, 'the default bridge has no embedded DNS');
  lab.ok(['rm', '-f', 'stranger', 'legacy']);
});

test('an internal network resolves its own names but forwards nothing', () => {
  lab.ok(['run', '-d', '--name', 'inside', '--network', 'closed', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'peer', '--network', 'closed', '--', 'sleep', '600']);
  // The DNS reads the state five times a second: the new container's name is there within a second.
  const want = new RegExp(`^${ipOf('peer').replace(/\./g, '\\.')}\\s+peer$`, 'm');
  let out = '';
  for (let i = 0; i < 20 && !want.test(out); i++) {
    out = resolve('inside', 'peer');
    if (!want.test(out)) execFileSync('sleep', ['0.1']);
  }
  assert.match(out, want);
  assert.match(resolve('inside', 'outside.test'), /^- outside\.test$/m);
  lab.ok(['rm', '-f', 'inside', 'peer']);
});

test('run and rm show in the DNS within a second', () => {
  const watch = (want) => {
    const script = `t0=$(date +%s%N); while ${want ? '!' : ''} getent hosts late >/dev/null; do sleep 0.05; done; echo $(( ($(date +%s%N) - t0) / 1000000 ))`;
    return spawn(process.execPath, [join(ROOT_DIR, 'bin', 'ctnet'), 'exec', 'client', '--', 'sh', '-c', script], { env: lab.env, stdio: ['ignore', 'pipe', 'inherit'] });
  };
  const waitMs = (child) => new Promise((res) => { let out = ''; child.stdout.on('data', (d) => (out += d)); child.on('exit', () => res(Number(out.trim()))); });
  return (async () => {
    const appears = watch(true);
    await new Promise((r) => setTimeout(r, 300));
    lab.ok(['run', '-d', '--name', 'late', '--network', 'app', '--', 'sleep', '600']);
    const tookIn = await waitMs(appears);
    const disappears = watch(false);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    lab.ok(['rm', '-f', 'late']);
    const rmTook = Date.now() - t0;
    const tookOut = await waitMs(disappears);
    // Measured from the watcher's start, which began 300 ms before the change (plus the CLI's own time).
    assert.ok(tookIn - 300 < 1000 + 200, `late resolved ${tookIn - 300} ms after run started`);
    assert.ok(tookOut - 300 - rmTook < 1000, `late was gone ${tookOut - 300 - rmTook} ms after rm`);
  })();
});

test('a container started with run -d resolves from the moment run returns, before the DNS polls the state', async () => {
  // The asker is already running and known, so only the new name is missing: the server must look at
  // the state on the miss. Its poll (every 200 ms) would find the name anyway some of the time, so
  // three containers are asked for, each within milliseconds of its run returning. The control:
  // without the look on a miss, most of these answers are "- NAME" (forwarded, NXDOMAIN upstream).
  const asker = spawn(process.execPath, [join(ROOT_DIR, 'bin', 'ctnet'), 'exec', 'client', '--', 'sh', '-c', 'while read n; do getent hosts $n || echo "- $n"; done'], { env: lab.env, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  asker.stdout.on('data', (d) => (out += d));
  const answer = async (name) => {
    const lines = out.split('\n').length;
    asker.stdin.write(`${name}\n`);
    for (let i = 0; i < 200 && out.split('\n').length === lines; i++) await new Promise((r) => setTimeout(r, 10));
    return out.trim().split('\n').at(-1);
  };
  const names = ['soon1', 'soon2', 'soon3'];
  try {
    assert.match(await answer('web'), /^172\.25\.0\.\d+\s+web$/, 'the asker answers');
    const got = [];
    for (const name of names) {
      lab.ok(['run', '-d', '--name', name, '--network', 'app', '--', 'sleep', '600']);
      got.push(await answer(name));
    }
    assert.deepEqual(got.map((line) => line.split(/\s+/)), names.map((n) => [lab.json(['inspect', n]).NetworkSettings.IPAddress, n]));
  } finally {
    asker.stdin.end();
    asker.kill();
    for (const name of names) lab.ctnet(['rm', '-f', name]);
  }
});

/** A query from inside a container with Node's resolver (one try), or over TCP by hand: the rcode or the answer. */
function query(container, name, tcp = false) {
  const code = tcp
    ? `const dns = require(${JSON.stringify(DNS_PACKET)}); const c = require('net').connect(53, '172.25.0.1', () => c.write(dns.streamEncode({ type: 'query', id: 7, flags: dns.RECURSION_DESIRED, questions: [{ type: 'A', name: ${JSON.stringify(name)} }] })));
       let b = Buffer.alloc(0); c.on('data', (d) => { b = Buffer.concat([b, d]); if (b.length >= 2 + b.readUInt16BE(0)) { const r = dns.streamDecode(b); console.log(r.rcode + ' ' + r.answers.map((a) => a.data).join(',')); c.end(); } });`
    : `const r = new (require('dns').promises.Resolver)({ timeout: 5000, tries: 1 }); r.setServers(['172.25.0.1']); const t0 = Date.now();
       r.resolve4(${JSON.stringify(name)}).then((a) => console.log('NOERROR ' + a.join(',') + ' ' + (Date.now() - t0)), (e) => console.log(e.code + ' - ' + (Date.now() - t0)));`;
  return lab.ok(['exec', container, '--', process.execPath, '-e', code]).trim();
}

test('TCP answers as UDP does', () => {
  assert.equal(query('client', 'www', true), `NOERROR ${ipOf('web')}`);
  assert.equal(query('client', 'outside.test', true), 'NOERROR 198.51.100.7');
});

test('SERVFAIL at once, not a hang, when no host resolver answers', () => {
  process.kill(-upstream.pid, 'SIGKILL');
  upstream = undefined;
  const [code, , ms] = query('client', 'outside.test').split(' ');
  assert.equal(code, 'ESERVFAIL');
  assert.ok(Number(ms) < 2000, `answered after ${ms} ms`);
});

test('--network-alias clashes and bad aliases are refused and change nothing', () => {
  const before = lab.json(['ps', '-a']).length;
  const clash = lab.ctnet(['run', '-d', '--network', 'app', '--network-alias', 'web', '--', 'sleep', '1']);
  assert.equal(clash.code, 4);
  assert.match(clash.stderr, /^ctnet: error: --network-alias web is already a name of container web on network app; pick another alias\n$/);
  const bad = lab.ctnet(['run', '-d', '--network', 'app', '--network-alias', 'no_underscores', '--', 'sleep', '1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --network-alias/);
  assert.equal(lab.json(['ps', '-a']).length, before);
});
