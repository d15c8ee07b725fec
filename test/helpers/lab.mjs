// Test fixtures: a throwaway lab (host, host2, internet namespaces) per test file, a CTNET_ROOT of
// its own, a way to run the CLI against it, and snapshots of the host namespace and the state.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { buildLab, destroyLab, labNames, probe, startEchoServer, echoServerCommand, LAB_ADDRESSES } from '../../dist/demo/lab.js';

export const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CTNET = join(ROOT_DIR, 'bin', 'ctnet');
export { probe, echoServerCommand, LAB_ADDRESSES, startEchoServer };

/** Creates a lab with a unique prefix; `close()` removes containers, networks, helpers and namespaces. */
export function createLab() {
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const names = labNames(prefix);
  buildLab(names);
  const root = mkdtempSync(join(tmpdir(), 'ctnet-test-'));
  const helpers = [];
  const env = { ...process.env, CTNET_ROOT: root, CTNET_HOST_NETNS: names.host };
  delete env.CTNET_FAULT_AT;
  const lab = {
    ...names,
    root,
    /** The host namespace as the lab made it, before ctnet touched it. */
    pristine: hostSnapshot(names.host),
    env,
    /** Runs the CLI; returns { code, stdout, stderr }. */
    ctnet(args, extraEnv = {}, opts = {}) {
      const r = spawnSync(process.execPath, [CTNET, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: opts.timeout ?? 30000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
    },
    /** Runs the CLI without blocking (for concurrent invocations); resolves with { args, code, stdout, stderr }. */
    ctnetAsync(args) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [CTNET, ...args], { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ args, code, stdout, stderr }));
      });
    },
    /** Runs the CLI and fails the test unless it exits 0. */
    ok(args, extraEnv) {
      const r = lab.ctnet(args, extraEnv);
      if (r.code !== 0) throw new Error(`ctnet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    json(args) {
      return JSON.parse(lab.ok([...args, '--json']));
    },
    /** Starts a long-lived echo server in one of the lab's namespaces. */
    serve(netns, name, port) {
      const child = startEchoServer(netns, name, port);
      helpers.push(child);
      return child;
    },
    /** The container's network namespace name. */
    nsOf(container) {
      return lab.json(['inspect', container]).NetworkSettings.SandboxKey.split('/').pop();
    },
    async waitAnswer(netns, ip, port, protocol = 'tcp') {
      for (let i = 0; i < 100; i++) {
        const r = probe(netns, ip, port, protocol, 500);
        if (r.ok) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
      return probe(netns, ip, port, protocol, 500);
    },
    close() {
      const errors = [];
      try {
        if (existsSync(join(root, 'ctnet.db'))) {
          const names = lab.json(['ps', '-a']).map((c) => c.Name);
          if (names.length) lab.ctnet(['rm', '-f', ...names]);
          for (const n of lab.json(['network', 'ls'])) lab.ctnet(['network', 'rm', n.Name]);
        }
      } catch (err) {
        errors.push(err);
      }
      for (const h of helpers) try { process.kill(-h.pid, 'SIGKILL'); } catch { /* gone */ }
      // Any container namespace this lab's state still names goes too (a failing test may have left one).
      try {
        const db = new Database(join(root, 'ctnet.db'), { readonly: true });
        for (const { netns } of db.prepare('SELECT netns FROM containers WHERE netns IS NOT NULL').all()) {
          try { execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' }); } catch { /* gone */ }
        }
        db.close();
      } catch { /* no state */ }
      destroyLab(names);
      rmSync(root, { recursive: true, force: true });
      if (errors.length) throw errors[0];
    },
  };
  return lab;
}

/**
 * ctnet veths being removed: detached containers' namespaces are unmounted at once and destroyed by
 * the kernel shortly after, veth pair included; until then the peer's namespace has no name.
 */
export function dyingVeths(netns) {
  const links = execFileSync('ip', ['-n', netns, '-o', 'link', 'show'], { encoding: 'utf8' });
  return links.split('\n').filter((l) => /^\d+: veth[0-9a-f]{8}@/.test(l) && !/ link-netns /.test(l)).map((l) => l.split(/[:@]/)[1].trim());
}

/** The rules of ctnet's bridge table in a namespace, in `chains`, whose expressions (JSON) match `pattern`: their chains and handles. */
export function bridgeRules(netns, chains, pattern) {
  return chains.flatMap((chain) => JSON.parse(execFileSync('ip', ['netns', 'exec', netns, 'nft', '-j', '-a', 'list', 'chain', 'bridge', 'ctnet', chain], { encoding: 'utf8' }))
    .nftables.filter((o) => o.rule && pattern.test(JSON.stringify(o.rule.expr))).map((o) => ({ chain, handle: o.rule.handle })));
}

/**
 * The steering rules (ARP and ND towards their targets) in ctnet's bridge table in a namespace, in
 * the forward and output chains (`chains` narrows them): their chains and handles.
 */
export function steeringRules(netns, chains = ['bridge_forward', 'bridge_output']) {
  return bridgeRules(netns, chains, /port_(arp|nd)_targets/);
}

/** Takes those rules out of the table (the controls of the tests that show what steering does). */
export function removeRules(netns, rules) {
  execFileSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: rules.map((r) => `delete rule bridge ctnet ${r.chain} handle ${r.handle}\n`).join('') });
}

/**
 * Whether an address answers at all from a namespace, at the link and IP level, with nothing
 * listening: a TCP connect to a closed port is refused only by a host that got it (ARP included);
 * a dropped frame or an unanswered ARP ends in a timeout or "no route to host". Without ping (not
 * on every machine) and its privileges.
 */
export function answersAtAll(netns, ip, timeoutMs = 5000) {
  const script = `const s = require('net').connect(9, process.argv[1]); s.on('connect', () => process.exit(0)); s.on('error', (e) => process.exit(e.code === 'ECONNREFUSED' ? 0 : 1)); setTimeout(() => process.exit(1), ${timeoutMs})`;
  return spawnSync('ip', ['netns', 'exec', netns, process.execPath, '-e', script, ip], { timeout: timeoutMs + 3000 }).status === 0;
}

/** Waits until `check` (sync or async) holds, checking every 100 ms; throws naming `what` after `ms`. */
export async function waitFor(check, what, ms = 10000) {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits (up to 5 s) until the kernel has finished removing detached veths. */
export function settle(netns) {
  for (let i = 0; i < 250 && dyingVeths(netns).length; i++) execFileSync('sleep', ['0.02']);
}

/** Waits until no link called `name` is left in `netns`; returns whether it is gone. */
export function linkGone(netns, name) {
  for (let i = 0; i < 250; i++) {
    if (!execFileSync('ip', ['-n', netns, '-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${name}@`)) return true;
    execFileSync('sleep', ['0.02']);
  }
  return false;
}

/** The host namespace as the kernel has it (links, addresses, routes, forwarding, nftables), for before/after comparisons. */
export function hostSnapshot(netns) {
  const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
  settle(netns);
  return [
    // Carrier flags (NO-CARRIER, LOWER_UP) settle asynchronously on a new bridge; they are not configuration.
    sh(`ip -n ${netns} -o link show | sed -E 's/^[0-9]+: //; s/ link\\/.*//; s/ (qlen|state|mode|group) [^ ]+//g; s/(NO-CARRIER,|,LOWER_UP)//g'`),
    sh(`ip -n ${netns} -o addr show | awk '{print $2, $3, $4}'`),
    sh(`ip -n ${netns} route show table all | grep -v '^local\\|^broadcast\\|^multicast\\|fe80::\\|ff00::' | sed 's/ linkdown//' || true`),
    sh(`ip -n ${netns} neigh show nud permanent; ip -n ${netns} -6 neigh show nud permanent`),
    sh(`ip netns exec ${netns} sysctl -n net.ipv4.ip_forward`),
    // Tables are listed in the order they were made (one replaced alone moves to the end), which
    // means nothing to the kernel: sorted.
    sh(`ip netns exec ${netns} nft list ruleset | sed -E 's/counter packets [0-9]+ bytes [0-9]+ ?//'`).split(/^(?=table )/m).sort().join(''),
  ].join('\n');
}

/** Everything ctnet records, for proving a failed command changed nothing. */
export function stateSnapshot(root) {
  if (!existsSync(join(root, 'ctnet.db'))) return '';
  const db = new Database(join(root, 'ctnet.db'), { readonly: true });
  try {
    const dump = {};
    for (const t of ['networks', 'containers', 'attachments', 'ports', 'meta']) dump[t] = db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all();
    return JSON.stringify(dump);
  } finally {
    db.close();
  }
}

/** Kills the processes whose command line names `dir` (and matches `also`): helpers that outlive a test's daemons. */
export function killProcessesMentioning(dir, also = /./) {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes(dir) && also.test(cmd)) process.kill(Number(p), 'SIGKILL');
    } catch { /* gone */ }
  }
}

/** Container namespaces that exist right now (ctnet-*). */
export function containerNamespaces() {
  return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('ctnet-')).sort() : [];
}

/** Host + state + container namespaces of this lab, as one comparable value. */
export function fullSnapshot(lab) {
  return { host: hostSnapshot(lab.host), state: stateSnapshot(lab.root) };
}

/**
 * A resolver listening on ADDRESS:53 inside a lab namespace: answers A queries for the names in
 * `records` (name -> IPv4 address), NXDOMAIN for everything else. Resolves with the child (kill its group).
 */
export function startDnsUpstream(netns, address, records) {
  const code = `
    const dns = require(${JSON.stringify(join(ROOT_DIR, 'node_modules', 'dns-packet', 'index.js'))});
    const records = ${JSON.stringify(records)};
    const s = require('dgram').createSocket('udp4');
    s.on('message', (m, r) => {
      const q = dns.decode(m);
      const ip = q.questions[0].type === 'A' ? records[q.questions[0].name] : undefined;
      s.send(dns.encode({ type: 'response', id: q.id, flags: ip ? 0x8180 : 0x8183, questions: q.questions,
        answers: ip ? [{ type: 'A', name: q.questions[0].name, ttl: 60, data: ip }] : [] }), r.port, r.address);
    });
    s.bind(53, ${JSON.stringify(address)}, () => console.log('ready'));`;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  return new Promise((resolve) => child.stdout.once('data', () => resolve(child)));
}

/**
 * A UDP listener in `netns` on address:port for anti-spoofing tests: it notes every datagram's text.
 * `arrived(text)` waits up to `ms` for one; `heard(text)` says whether one came. Close it after.
 */
export async function startUdpWitness(netns, address, port) {
  const code = `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => console.log(String(m))); s.bind(${port}, ${JSON.stringify(address)}, () => console.log('ready'));`;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const heard = (text) => out.split('\n').includes(text);
  await waitFor(() => heard('ready'), `a UDP listener on ${address}:${port} in ${netns}`);
  return {
    heard,
    arrived: (text, ms = 3000) => waitFor(() => heard(text), `datagram "${text}"`, ms).then(() => true, () => false),
    close: () => child.kill(),
  };
}

/** A shell command sending one UDP datagram of `text` from source address `from` (Perl: no netcat needed). */
export const sendUdpCommand = (from, to, port, text) =>
  `perl -MSocket -e 'socket(my $s, AF_INET, SOCK_DGRAM, 0); bind($s, sockaddr_in(0, inet_aton("${from}"))) or die "bind: $!"; send($s, "${text}", 0, sockaddr_in(${port}, inet_aton("${to}"))) or die "send: $!"'`;
