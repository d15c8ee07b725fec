import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomHex } from '../crypto.js';
import { step, type Step } from '../plan/ops.js';
import { closeNetns, deleteNamedNetns, netnsPath, openNetns, withNetns } from '../kernel/netns.js';
import { DEFAULT_PATH, resolveCommand } from '../kernel/spawn.js';
import { applyFrom, createLabNamespaces, removeLabResolvConf, writeLabResolvConf } from './lab.js';

/**
 * A lab for overlay networks: hosts (network namespaces) on one underlay segment (a bridge in a
 * namespace of its own), an "outside" host on the same segment, and an etcd member inside each host
 * (listening only on the host's underlay address). Nothing of it is in the machine's namespace.
 */
export interface OverlayLab {
  prefix: string;
  underlay: string;
  outside: string;
  hosts: { name: string; netns: string; ip: string; root: string }[];
  /** The etcd client endpoints, as `cluster join --store` takes them. */
  store: string;
  work: string;
}

export const UNDERLAY_PREFIX = '192.168.100';
export const OUTSIDE_IP = `${UNDERLAY_PREFIX}.200`;

/** The lab's names and paths, nothing made yet (buildOverlayLab makes them): a caller may still give up. */
export function overlayLabNames(prefix: string, count = 3): OverlayLab {
  const work = join(tmpdir(), `ctnet-overlay-${prefix}-${randomHex(4)}`);
  const hosts = Array.from({ length: count }, (_, i) => ({ name: `h${i + 1}`, netns: `${prefix}-h${i + 1}`, ip: `${UNDERLAY_PREFIX}.${11 + i}`, root: join(work, `h${i + 1}`) }));
  return { prefix, underlay: `${prefix}-ul`, outside: `${prefix}-out`, hosts, work, store: hosts.map((h) => `http://${h.ip}:2379`).join(',') };
}

function planOverlayLab(lab: OverlayLab): Step[] {
  const steps: Step[] = [
    step({ op: 'link.up', name: 'lo' }, null),
    step({ op: 'bridge.add', name: 'ul0', mtu: 1500, mac: '02:00:00:00:01:00' }, null),
    step({ op: 'link.up', name: 'ul0' }, null),
  ];
  const members = [...lab.hosts.map((h) => ({ netns: h.netns, ip: h.ip })), { netns: lab.outside, ip: OUTSIDE_IP }];
  members.forEach((m, i) => {
    const port = `p${i}`;
    steps.push(
      step({ op: 'link.up', name: 'lo', netns: m.netns }, null),
      step({ op: 'veth.add', name: port, peer: 'eth0', peerNetns: m.netns, mtu: 1500, master: 'ul0' }, null),
      step({ op: 'addr.add', dev: 'eth0', ip: m.ip, prefix: 24, netns: m.netns }, null),
      step({ op: 'link.up', name: 'eth0', netns: m.netns }, null),
    );
  });
  return steps;
}

/** Builds the namespaces and the underlay; on failure removes what exists. */
export function buildOverlayLab(lab: OverlayLab, explain?: (line: string) => void): void {
  mkdirSync(lab.work, { mode: 0o700 });
  createLabNamespaces([lab.underlay, lab.outside, ...lab.hosts.map((h) => h.netns)], explain);
  try {
    for (const h of lab.hosts) {
      mkdirSync(h.root, { recursive: true });
      // The hosts' resolvers (what their embedded DNS forwards to): the outside host, so no query leaves the lab.
      writeLabResolvConf(h.netns, OUTSIDE_IP);
    }
    applyFrom(lab.underlay, planOverlayLab(lab), explain);
  } catch (err) {
    destroyOverlayLab(lab, []);
    throw err;
  }
}

/** TLS for etcd's client port: its certificate and key, and the CA whose client certificates it requires. */
export interface EtcdTls { cert: string; key: string; clientCa?: string }

/**
 * What the overlay labs (demo, tests, bench) lack to run etcd, as the line that says how to install
 * it; undefined when both are there. etcdctl checks the members' health: Debian ships it in
 * etcd-client, which etcd-server only suggests.
 */
export function etcdToolsMissing(): string | undefined {
  try {
    for (const tool of ['etcd', 'etcdctl']) resolveCommand(tool, process.env.PATH || DEFAULT_PATH);
    return undefined;
  } catch {
    return 'etcd or etcdctl is not installed; install them with: apt-get install -y etcd-server etcd-client';
  }
}

/** Whether every member of the lab's etcd answers its health check (plain HTTP; the TLS test checks its own). */
export const etcdHealthy = (lab: OverlayLab): boolean =>
  lab.hosts.every((h) => spawnSync('ip', ['netns', 'exec', h.netns, 'etcdctl', '--endpoints', `http://${h.ip}:2379`, '--command-timeout=1s', 'endpoint', 'health'], { stdio: 'ignore' }).status === 0);

/** Where the etcd member of host `name` writes its warnings (slow disk, elections): what explains a store that did not answer. */
export const etcdLogPath = (lab: OverlayLab, name: string): string => join(lab.work, `etcd-${name}.log`);

/** Starts the etcd member of host `i` inside its namespace (its own process group). */
export function startEtcdMember(lab: OverlayLab, i: number, state: 'new' | 'existing' = 'new', tls?: EtcdTls): ChildProcess {
  const h = lab.hosts[i];
  const cluster = lab.hosts.map((x) => `${x.name}=http://${x.ip}:2380`).join(',');
  const client = `${tls ? 'https' : 'http'}://${h.ip}:2379`;
  const args = [
    '--name', h.name, '--data-dir', join(lab.work, `etcd-${h.name}`),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    ...(tls ? ['--cert-file', tls.cert, '--key-file', tls.key, ...(tls.clientCa ? ['--client-cert-auth', '--trusted-ca-file', tls.clientCa] : [])] : []),
    '--listen-peer-urls', `http://${h.ip}:2380`, '--initial-advertise-peer-urls', `http://${h.ip}:2380`,
    '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', `ctnet-${lab.prefix}`,
    // etcd's default timings: on a loaded machine shorter ones make the members hold elections, and
    // writes wait for them.
    '--heartbeat-interval', '100', '--election-timeout', '1000', '--log-level', 'warn',
  ];
  const log = openSync(etcdLogPath(lab, h.name), 'a');
  const ns = openNetns(netnsPath(h.netns));
  try {
    return withNetns(ns, () => spawn('etcd', args, { stdio: ['ignore', log, log], detached: true, env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } }));
  } finally {
    closeNetns(ns);
    closeSync(log);
  }
}

/** Ends the lab's processes (by process group), every ctnet helper under its state roots, and its namespaces. */
export function destroyOverlayLab(lab: OverlayLab, processes: readonly ChildProcess[]): void {
  for (const p of processes) {
    try {
      if (p.pid) process.kill(-p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const n of [lab.underlay, lab.outside, ...lab.hosts.map((h) => h.netns)]) deleteNamedNetns(n);
  for (const h of lab.hosts) removeLabResolvConf(h.netns);
  rmSync(lab.work, { recursive: true, force: true });
}
