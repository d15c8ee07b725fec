import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { CtnetError } from '../errors.js';
import { netnsExists } from '../kernel/netns.js';
import { LAB_ADDRESSES as A, buildLab, destroyLab, echoServerCommand, labNames, probe, startEchoServer, type Lab } from './lab.js';
import { topologyText } from '../topology/render.js';

const LAB_PREFIX = 'ctdemo';
const DEMO_ROOT = join(tmpdir(), 'ctnet-demo');
const HELPERS_FILE = join(DEMO_ROOT, 'helpers.json');
const SUBNET = '172.17.0.0/24';
const CONTAINERS = [
  { name: 'container1', ip: '172.17.0.101', publish: ['8000:8080'] },
  { name: 'container2', ip: '172.17.0.102', publish: [] },
  { name: 'container3', ip: '172.17.0.103', publish: [] },
];

interface Check {
  what: string;
  from: string;
  to: string;
  port: number;
  expect: (text: string) => boolean;
  /** One line telling what passing proves, or what failing most likely means. */
  pass: string;
  fail: string;
}

const answeredBy = (name: string) => (t: string) => t.startsWith(`${name} from`);

function checks(lab: Lab, ns: (c: string) => string): Check[] {
  const [c1, c2, c3] = CONTAINERS;
  const own = CONTAINERS.map<Check>((c) => ({
    what: `${c.name} reaches its own localhost:8080`, from: ns(c.name), to: '127.0.0.1', port: 8080, expect: answeredBy(c.name),
    pass: 'loopback is up inside the namespace (seed step 3)', fail: 'loopback is down: "Network is unreachable"',
  }));
  return [
    ...own,
    { what: `${c1.name} -> ${c2.name} (${c2.ip}:8080)`, from: ns(c1.name), to: c2.ip, port: 8080, expect: answeredBy(c2.name), pass: 'both veths are ports of br0, one L2 segment (step 5)', fail: 'bridge ports missing or down' },
    { what: `${c3.name} -> ${c1.name} (${c1.ip}:8080)`, from: ns(c3.name), to: c1.ip, port: 8080, expect: answeredBy(c1.name), pass: 'every container on the bridge reaches every other (step 5)', fail: 'bridge ports missing or down' },
    { what: `host -> ${c1.name} (${c1.ip}:8080)`, from: lab.host, to: c1.ip, port: 8080, expect: answeredBy(c1.name), pass: 'br0 holds the gateway 172.17.0.1/24 and its connected route (step 6)', fail: 'no gateway address on the bridge' },
    { what: `${c2.name} -> host address ${A.host}:80`, from: ns(c2.name), to: A.host, port: 80, expect: answeredBy('host'), pass: 'default route via 172.17.0.1 inside the container (step 7)', fail: 'no default route in the container: no reply' },
    { what: `${c1.name} -> host2 ${A.host2}:80, seen as ${A.host}`, from: ns(c1.name), to: A.host2, port: 80, expect: (t) => t === `host2 from ${A.host}`, pass: 'forwarding on and masquerade of 172.17.0.0/24 leaving eth0 (steps 8, 9)', fail: 'ip_forward off (100% loss) or no masquerade (host2 cannot answer 172.17.0.x)' },
    { what: `${c3.name} -> internet ${A.internet}:80`, from: ns(c3.name), to: A.internet, port: 80, expect: answeredBy('internet'), pass: 'the way out continues past host2 (step 9)', fail: 'no masquerade or no route beyond the LAN' },
    { what: `host2 -> host ${A.host}:8000 -> ${c1.name}:8080`, from: lab.host2, to: A.host, port: 8000, expect: answeredBy(c1.name), pass: 'DNAT of published port 8000 (step 10, docker run -p 8000:8080)', fail: 'no DNAT map element for port 8000' },
    { what: `host -> localhost:8000 -> ${c1.name}:8080`, from: lab.host, to: '127.0.0.1', port: 8000, expect: answeredBy(c1.name), pass: 'DNAT in the output hook, route_localnet on br0 and masquerade of 127.0.0.0/8', fail: 'localhost is not published (output-hook DNAT or route_localnet missing)' },
    { what: `host -> own address ${A.host}:8000 -> ${c1.name}`, from: lab.host, to: A.host, port: 8000, expect: answeredBy(c1.name), pass: 'DNAT in the output hook for the host\'s own addresses', fail: 'output-hook DNAT missing' },
    { what: `${c2.name} -> host ${A.host}:8000 -> ${c1.name}`, from: ns(c2.name), to: A.host, port: 8000, expect: answeredBy(c1.name), pass: 'another container reaches the published port (masquerade of DNATed bridge traffic)', fail: 'replies bypass the host: missing masquerade for DNATed traffic' },
    { what: `${c1.name} -> host ${A.host}:8000 -> itself (hairpin)`, from: ns(c1.name), to: A.host, port: 8000, expect: answeredBy(c1.name), pass: 'hairpin mode on the bridge port', fail: 'hairpin off on the bridge port' },
    { what: `host2 -> host ${A.host}:8080 (not published) is refused`, from: lab.host2, to: A.host, port: 8080, expect: (t) => t === 'ECONNREFUSED', pass: 'only published ports are reachable through the host\'s address', fail: 'an unpublished port answers' },
  ];
}

function services(lab: Lab): ChildProcess[] {
  return [startEchoServer(lab.host, 'host', 80), startEchoServer(lab.host2, 'host2', 80), startEchoServer(lab.internet, 'internet', 80)];
}

/** Waits until each server answers (they start in parallel, in well under a second). */
async function waitReady(targets: { ns: string; ip: string; port: number }[]): Promise<void> {
  for (const t of targets) {
    for (let i = 0; i < 100 && !probe(t.ns, t.ip, t.port, 'tcp', 500).ok; i++) await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DemoOptions {
  keep: boolean;
  explain: boolean;
  out?: (s: string) => void;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out ?? ((s: string) => process.stdout.write(s));
  const lab = labNames(LAB_PREFIX);
  if (netnsExists(lab.host)) {
    out(`ctnet: error: a demo lab is already there (${lab.host}); remove it with: ctnet demo --clean\n`);
    return 4;
  }
  if (process.getuid?.() !== 0) {
    out('ctnet: error: the demo creates network namespaces and needs root; run it with sudo\n');
    return 5;
  }
  rmSync(DEMO_ROOT, { recursive: true, force: true });
  mkdirSync(DEMO_ROOT, { recursive: true });
  const explain = opts.explain ? (line: string) => out(`  + ${line}\n`) : undefined;
  const helpers: ChildProcess[] = [];
  let engine: Engine | undefined;
  let failed = 0;
  try {
    out(`Building the lab: host ${A.host}/${A.lanPrefix}, host2 ${A.host2}/${A.lanPrefix}, internet ${A.internet} (namespaces ${lab.host}, ${lab.host2}, ${lab.internet})\n`);
    buildLab(lab, explain);
    helpers.push(...services(lab));
    engine = new Engine({ root: DEMO_ROOT, hostNetns: lab.host, explain });
    out(`Connecting it with ctnet (CTNET_HOST_NETNS=${lab.host}): network "seed" ${SUBNET} on bridge br0\n`);
    engine.createNetwork({ name: 'seed', subnet: SUBNET, bridge: 'br0' });
    for (const c of CONTAINERS) {
      out(`Starting ${c.name} at ${c.ip}${c.publish.length ? ` publishing ${c.publish.join(' ')}` : ''}\n`);
      engine.run({ name: c.name, network: 'seed', ip: c.ip, publish: c.publish, detach: true, command: echoServerCommand(c.name, 8080) });
    }
    const nsOf = (name: string): string => engine!.inspect(name).NetworkSettings.SandboxKey!.split('/').pop()!;
    await waitReady([
      ...CONTAINERS.map((c) => ({ ns: nsOf(c.name), ip: '127.0.0.1', port: 8080 })),
      { ns: lab.host, ip: '127.0.0.1', port: 80 }, { ns: lab.host2, ip: '127.0.0.1', port: 80 }, { ns: lab.internet, ip: '127.0.0.1', port: 80 },
    ]);
    out('\nChecking every path of the seed:\n');
    for (const c of checks(lab, nsOf)) {
      const r = probe(c.from, c.to, c.port);
      const ok = c.expect(r.text);
      if (!ok) failed++;
      out(`  ${ok ? 'PASS' : 'FAIL'}  ${c.what.padEnd(52)} ${ok ? c.pass : `${c.fail} (got: ${r.text})`}\n`);
    }
    out(`\nTopology (ctnet topology; host2 ${A.host2} and the internet ${A.internet} lie beyond eth0):\n${topologyText(engine.topology())}`);
    out(`\n${failed ? `${failed} check(s) FAILED` : 'All checks passed'}.\n`);
  } catch (err) {
    failed++;
    out(`ctnet: error: ${err instanceof CtnetError ? err.message : (err as Error).stack}\n`);
  } finally {
    if (opts.keep) {
      for (const h of helpers) h.unref();
      writeFileSync(HELPERS_FILE, JSON.stringify(helpers.map((h) => h.pid)));
      out(`\nThe lab is still there. Explore it with:\n  export CTNET_ROOT=${DEMO_ROOT} CTNET_HOST_NETNS=${lab.host}\n  ctnet ps; ctnet network inspect seed; ip netns exec ${lab.host} nft list table ip ctnet\nRemove it with: ctnet demo --clean\n`);
      engine?.close();
    } else {
      await teardown(engine, helpers.map((h) => h.pid as number), lab);
    }
  }
  return failed ? 1 : 0;
}

async function teardown(engine: Engine | undefined, helpers: number[], lab: Lab): Promise<void> {
  if (engine) {
    try {
      await engine.remove(engine.listContainers(true).map((c) => c.Id), true);
      for (const n of engine.listNetworks()) engine.removeNetwork(n.Name);
    } finally {
      engine.close();
    }
  }
  for (const pid of helpers) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  destroyLab(lab);
  rmSync(DEMO_ROOT, { recursive: true, force: true });
}

/** Removes a lab left by `ctnet demo --keep`: containers, network, helper servers, namespaces. */
export async function cleanDemo(): Promise<number> {
  const lab = labNames(LAB_PREFIX);
  if (!netnsExists(lab.host)) {
    rmSync(DEMO_ROOT, { recursive: true, force: true });
    return 0;
  }
  const engine = new Engine({ root: DEMO_ROOT, hostNetns: lab.host });
  let helpers: number[] = [];
  try {
    helpers = JSON.parse(readFileSync(HELPERS_FILE, 'utf8'));
  } catch {
    // no helper list: nothing to stop
  }
  await teardown(engine, helpers, lab);
  process.stdout.write('demo lab removed\n');
  return 0;
}
