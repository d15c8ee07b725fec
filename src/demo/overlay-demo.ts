import { spawnSync, type ChildProcess } from 'node:child_process';
import { Engine } from '../engine/engine.js';
import { CtnetError } from '../errors.js';
import { netnsExists } from '../kernel/netns.js';
import { echoServerCommand, probe, startEchoServer } from './lab.js';
import { buildOverlayLab, destroyOverlayLab, etcdHealthy, etcdToolsMissing, OUTSIDE_IP, overlayLabNames, startEtcdMember } from './overlay-lab.js';

/**
 * `ctnet demo --overlay`: three hosts and a three-member etcd cluster in throwaway namespaces, one
 * overlay network across them, every cross-host path checked, then everything removed.
 */
const PREFIX = 'ctovl';
const SUBNET = '10.42.0.0/16';
const TTL = 5;

interface Check {
  what: string;
  run: () => string;
  expect: string;
  pass: string;
  fail: string;
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until;) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** A probe from inside a container's namespace, names asked of its embedded DNS (its network's gateway). */
function probeIn(engine: Engine, name: string, target: string, port: number, protocol: 'tcp' | 'udp' = 'tcp'): string {
  const c = engine.inspect(name);
  return probe(c.NetworkSettings.SandboxKey?.split('/').pop() as string, target, port, protocol, 2000, c.NetworkSettings.Gateway ?? undefined).text;
}

/** Returns the exit code. Long: it is the demo's story in order (build, join, create, run, check, remove), each step a few lines. */
export async function runOverlayDemo(out: (s: string) => void): Promise<number> {
  const lab = overlayLabNames(PREFIX);
  if (netnsExists(lab.underlay)) {
    out(`ctnet: error: an overlay demo lab is already there (${lab.underlay}); remove its namespaces (ip netns del ${lab.underlay} ...) first\n`);
    return 4;
  }
  const missing = etcdToolsMissing();
  if (missing) {
    out(`ctnet: error: the overlay demo runs etcd inside its lab: ${missing}\n`);
    return 6;
  }
  const processes: ChildProcess[] = [];
  const engines: Engine[] = [];
  let failed = 0;
  try {
    out(`Building three hosts on one underlay segment (${lab.hosts.map((h) => `${h.name} ${h.ip}`).join(', ')}) and an outside host ${OUTSIDE_IP}\n`);
    buildOverlayLab(lab);
    out('Starting an etcd member inside each host (a three-member cluster, reachable only inside the lab)\n');
    processes.push(...lab.hosts.map((_, i) => startEtcdMember(lab, i)), startEchoServer(lab.outside, 'outside', 9000));
    if (!(await waitFor(() => etcdHealthy(lab), 20000))) throw new Error('the etcd members did not become healthy within 20 s');
    for (const h of lab.hosts) {
      const e = new Engine({ root: h.root, hostNetns: h.netns });
      engines.push(e);
      await e.joinCluster({ store: lab.store, name: h.name, ttl: TTL });
      out(`  ${h.name}: ctnet cluster join --store ${lab.store} --name ${h.name}\n`);
    }
    const [e1, e2, e3] = engines;
    out(`Creating overlay network "ov" ${SUBNET} on h1; each host leases a /24 of it when a container needs one\n`);
    await e1.createOverlayNetwork({ name: 'ov', subnet: SUBNET });
    const started: [Engine, string][] = [[e1, 'web1'], [e2, 'web2'], [e3, 'web3']];
    for (const [e, name] of started) {
      await e.prepareNetwork('ov');
      e.run({ name, network: 'ov', detach: true, command: echoServerCommand(name, 80), ...(name === 'web2' ? { publish: ['8080:80'] } : {}) });
    }
    const ipOf = (e: Engine, name: string): string => e.inspect(name).NetworkSettings.IPAddress as string;
    const [ip1, ip2, ip3] = started.map(([e, n]) => ipOf(e, n));
    out(`  web1 ${ip1} on h1, web2 ${ip2} on h2 (publishes 8080), web3 ${ip3} on h3\n`);
    await waitFor(() => probe(lab.hosts[0].netns, ip3, 80, 'tcp', 500).ok && probe(lab.hosts[2].netns, ip2, 80, 'tcp', 500).ok, 10000);
    const entries = (i: number): number => spawnSync('ip', ['-n', lab.hosts[i].netns, 'route', 'show', 'dev', 'ctvx4096'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(' via ')).length;
    const checks: Check[] = [
      { what: `web1 (h1) -> web2 (h2) ${ip2}:80`, run: () => probeIn(e1, 'web1', ip2, 80), expect: `web2 from ${ip1}`, pass: 'VXLAN between the hosts; the source address is kept (no NAT inside the overlay)', fail: 'no route, neighbour or FDB entry for h2\'s block' },
      { what: 'web3 (h3) -> web1 by name', run: () => probeIn(e3, 'web3', 'web1', 80), expect: `web1 from ${ip3}`, pass: 'h3\'s embedded DNS knows h1\'s containers (published through etcd)', fail: 'the name is unknown on h3: is h3\'s cluster agent running?' },
      { what: 'web1 (h1) -> web3.ov over UDP', run: () => probeIn(e1, 'web1', 'web3.ov', 80, 'udp'), expect: `web3 from ${ip1}`, pass: 'UDP crosses the overlay as TCP does', fail: 'UDP lost between hosts' },
      { what: `web3 (h3) -> outside ${OUTSIDE_IP}:9000`, run: () => probeIn(e3, 'web3', OUTSIDE_IP, 9000), expect: `outside from ${lab.hosts[2].ip}`, pass: 'leaving the overlay, traffic is masqueraded to the host address', fail: 'no masquerade for the overlay block' },
      { what: `outside -> h2 ${lab.hosts[1].ip}:8080 -> web2`, run: () => probe(lab.outside, lab.hosts[1].ip, 8080).text, expect: `web2 from ${OUTSIDE_IP}`, pass: 'published ports work on overlay networks as on local ones', fail: 'no DNAT on the host running web2' },
      { what: 'routes through the VXLAN device on each host', run: () => [0, 1, 2].map(entries).join(' '), expect: '2 2 2', pass: 'one route per other host (flannel\'s model): state grows with hosts, not containers', fail: 'missing or extra routes' },
    ];
    out('\nChecking every cross-host path:\n');
    for (const c of checks) {
      const got = c.run();
      const ok = got === c.expect;
      if (!ok) failed++;
      out(`  ${ok ? 'PASS' : 'FAIL'}  ${c.what.padEnd(48)} ${ok ? c.pass : `${c.fail} (got: ${got})`}\n`);
    }
    out(`\n${failed ? `${failed} check(s) FAILED` : 'All checks passed'}.\n`);
  } catch (err) {
    failed++;
    out(`ctnet: error: ${err instanceof CtnetError ? err.message : (err as Error).stack}\n`);
  } finally {
    for (const e of engines) {
      try {
        await e.remove(e.listContainers(true).map((c) => c.Id), true);
        for (const n of e.listNetworks()) await e.removeAnyNetwork(n.Name);
        e.leaveCluster();
      } catch (err) {
        out(`ctnet: warning: ${(err as Error).message}\n`);
      } finally {
        e.close();
      }
    }
    destroyOverlayLab(lab, processes);
  }
  return failed ? 1 : 0;
}
