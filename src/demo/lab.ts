import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeNetns, createNamedNetns, deleteNamedNetns, netnsExists, netnsPath, openNetns, withNetns } from '../kernel/netns.js';
import { KernelSession } from '../kernel/session.js';
import { KernelApplier } from '../engine/applier.js';
import { execute } from '../plan/executor.js';
import { step, type Step } from '../plan/ops.js';

/**
 * The seed's surroundings, in throwaway namespaces: a host (10.0.12.15/22 on eth0) and host2
 * (10.0.12.11/22) on one LAN, and a fake internet host (203.0.113.10) behind host2, which
 * routes for the host. ctnet is then pointed at the host namespace through CTNET_HOST_NETNS.
 */
export interface Lab {
  host: string;
  host2: string;
  internet: string;
}

export const LAB_ADDRESSES = {
  host: '10.0.12.15',
  host2: '10.0.12.11',
  lanPrefix: 22,
  host2Outside: '203.0.113.1',
  internet: '203.0.113.10',
  internetPrefix: 24,
  /** The LAN's IPv6 addresses, for dual-stack networks. */
  host6: 'fd00:12::15',
  host2v6: 'fd00:12::11',
  lanPrefix6: 64,
} as const;

export function labNames(prefix: string): Lab {
  return { host: `${prefix}-host`, host2: `${prefix}-host2`, internet: `${prefix}-inet` };
}

/** The lab as operations, applied from host2's namespace (its links are created there, peers born in the others). */
export function planLab(lab: Lab): Step[] {
  const A = LAB_ADDRESSES;
  return [
    step({ op: 'link.up', name: 'lo', netns: lab.host }, null),
    step({ op: 'link.up', name: 'lo', netns: lab.host2 }, null),
    step({ op: 'link.up', name: 'lo', netns: lab.internet }, null),
    step({ op: 'veth.add', name: 'eth0', peer: 'eth0', peerNetns: lab.host, mtu: 1500 }, null),
    step({ op: 'veth.add', name: 'eth1', peer: 'eth0', peerNetns: lab.internet, mtu: 1500 }, null),
    step({ op: 'addr.add', dev: 'eth0', ip: A.host, prefix: A.lanPrefix, netns: lab.host }, null),
    step({ op: 'link.up', name: 'eth0', netns: lab.host }, null),
    step({ op: 'addr.add', dev: 'eth0', ip: A.host2, prefix: A.lanPrefix, netns: lab.host2 }, null),
    step({ op: 'addr.add', dev: 'eth0', ip: A.host6, prefix: A.lanPrefix6, netns: lab.host }, null),
    step({ op: 'addr.add', dev: 'eth0', ip: A.host2v6, prefix: A.lanPrefix6, netns: lab.host2 }, null),
    step({ op: 'link.up', name: 'eth0', netns: lab.host2 }, null),
    step({ op: 'addr.add', dev: 'eth1', ip: A.host2Outside, prefix: A.internetPrefix, netns: lab.host2 }, null),
    step({ op: 'link.up', name: 'eth1', netns: lab.host2 }, null),
    step({ op: 'addr.add', dev: 'eth0', ip: A.internet, prefix: A.internetPrefix, netns: lab.internet }, null),
    step({ op: 'link.up', name: 'eth0', netns: lab.internet }, null),
    step({ op: 'route.add', dev: 'eth0', dst: '0.0.0.0', prefix: 0, via: A.host2, netns: lab.host }, null),
    step({ op: 'route.add', dev: 'eth0', dst: '0.0.0.0', prefix: 0, via: A.host2Outside, netns: lab.internet }, null),
    step({ op: 'sysctl.set', key: 'net.ipv4.ip_forward', value: '1' }, null),
  ];
}

/** Builds the lab; on any failure removes whatever part of it exists. */
export function buildLab(lab: Lab, explain?: (line: string) => void): void {
  createLabNamespaces([lab.host, lab.host2, lab.internet], explain);
  try {
    // The host's resolvers, as `ip netns exec` (and ctnet's embedded DNS) read them: the lab's
    // internet host, so no query ever leaves the lab.
    writeLabResolvConf(lab.host, LAB_ADDRESSES.internet);
    applyFrom(lab.host2, planLab(lab), explain);
  } catch (err) {
    destroyLab(lab);
    throw err;
  }
}

/** A lab's namespaces, refused when any exists already (another lab, or one left behind). */
export function createLabNamespaces(names: readonly string[], explain?: (line: string) => void): void {
  const existing = names.filter(netnsExists);
  if (existing.length) throw new Error(`lab namespaces already exist (${existing.join(', ')}); remove them first`);
  for (const n of names) {
    try {
      createNamedNetns(n);
    } catch (err) {
      for (const made of names.slice(0, names.indexOf(n))) deleteNamedNetns(made);
      throw err;
    }
    explain?.(`ip netns add ${n}`);
  }
}

/** Applies a lab's steps from inside `netns` (its links are created there, peers born in the others). */
export function applyFrom(netns: string, steps: Step[], explain?: (line: string) => void): void {
  const session = new KernelSession(openNetns(netnsPath(netns)));
  try {
    execute(steps, new KernelApplier(session), { explain, render: { hostNetns: netns } });
  } finally {
    session.close();
    closeNetns(session.host);
  }
}

export function destroyLab(lab: Lab): void {
  for (const n of [lab.host, lab.host2, lab.internet]) deleteNamedNetns(n);
  removeLabResolvConf(lab.host);
}

export function removeLabResolvConf(netns: string): void {
  rmSync(join(NETNS_ETC, netns), { recursive: true, force: true });
  try {
    rmdirSync(NETNS_ETC); // only when no other lab (or anyone) has files there
  } catch {
    // not empty, or gone
  }
}

/** Per-namespace configuration files, where `ip netns exec` finds them. */
const NETNS_ETC = '/etc/netns';

export function writeLabResolvConf(host: string, nameserver: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(join(NETNS_ETC, host), { recursive: true });
      writeFileSync(join(NETNS_ETC, host, 'resolv.conf'), `nameserver ${nameserver}\n`);
      return;
    } catch (err) {
      // Another lab may remove the empty /etc/netns between the two mkdirs.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
}

/** The demo's helper scripts, found the same way from dist/demo/ and from the CLI bundle in dist/cli/. */
const script = (name: string): string => fileURLToPath(new URL(`../demo/${name}`, import.meta.url));

/** Starts the seed's small HTTP server (answers "NAME from CLIENT") inside a named namespace. */
export function startEchoServer(netns: string, name: string, port: number): ChildProcess {
  const ns = openNetns(netnsPath(netns));
  try {
    return withNetns(ns, () => spawn(process.execPath, [script('http-echo.js'), name, String(port)], { stdio: 'ignore', detached: true }));
  } finally {
    closeNetns(ns);
  }
}

export const echoServerCommand = (name: string, port: number): string[] => [process.execPath, script('http-echo.js'), name, String(port)];

export interface ProbeResult {
  ok: boolean;
  /** The server's answer, or the error. */
  text: string;
}

/** Connects from inside a namespace (lab or container) to host:port over TCP or UDP and returns the answer. */
export function probe(netnsName: string, target: string, port: number, protocol: 'tcp' | 'udp' = 'tcp', timeoutMs = 2000, dnsServer?: string): ProbeResult {
  const ns = openNetns(netnsPath(netnsName));
  try {
    const env = dnsServer ? { ...process.env, PROBE_DNS: dnsServer } : process.env;
    const r = withNetns(ns, () =>
      spawnSync(process.execPath, [script('probe.js'), protocol, target, String(port), String(timeoutMs)], { encoding: 'utf8', timeout: timeoutMs + 3000, env }),
    );
    const out = (r.stdout || '').trim();
    return r.status === 0 ? { ok: true, text: out } : { ok: false, text: out || (r.stderr || '').trim() || `exit ${r.status}` };
  } finally {
    closeNetns(ns);
  }
}
