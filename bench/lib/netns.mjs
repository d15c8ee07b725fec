/** Throwaway namespaces for the bench, and running commands inside them (fork from the main thread while inside). */
import { spawnSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, netnsPath, openNetns, closeNetns, withNetns } from '../../dist/kernel/netns.js';
import { KernelSession } from '../../dist/kernel/session.js';
import { KernelApplier } from '../../dist/engine/applier.js';
import { throwIfInterrupted } from './interrupt.mjs';

const created = new Set();
const run = randomBytes(2).toString('hex');
let serial = 0;

/** A fresh namespace with loopback up (as a runtime prepares one before calling CNI). */
export function newNetns(label) {
  throwIfInterrupted();
  // Unique within the run (a counter) and across concurrent runs (a random run tag).
  const name = `cb-${label}-${run}-${(serial++).toString(36)}`;
  createNamedNetns(name);
  created.add(name);
  const k = kernelAt(name);
  try {
    k.apply({ op: 'link.up', name: 'lo' });
  } finally {
    k.close();
    closeNetns(k.kernel.host);
  }
  return name;
}

export function deleteNetns(name) {
  deleteNamedNetns(name);
  created.delete(name);
}

/** Removes every namespace the bench made (also on failure). */
export function deleteAllNetns() {
  for (const n of [...created]) deleteNetns(n);
}

export function inNetns(name, fn) {
  throwIfInterrupted();
  const h = openNetns(netnsPath(name));
  try {
    return withNetns(h, fn);
  } finally {
    closeNetns(h);
  }
}

export const runIn = (ns, cmd, args, opts = {}) => inNetns(ns, () => spawnSync(cmd, args, { encoding: 'utf8', ...opts }));
export const spawnIn = (ns, cmd, args, opts = {}) => inNetns(ns, () => spawn(cmd, args, opts));

/** A kernel session rooted at a namespace (for building the bench's own links with ctnet's netlink code). */
export function kernelAt(ns) {
  return new KernelApplier(new KernelSession(openNetns(netnsPath(ns))));
}

/** Two namespaces joined by a veth pair with addresses: a client and a host. */
export function linkPair(a, aIp, b, bIp, prefix, ifA = 'eth0', ifB = 'eth0') {
  const k = kernelAt(a);
  try {
    for (const ns of [a, b]) k.apply({ op: 'link.up', name: 'lo', netns: ns });
    k.apply({ op: 'veth.add', name: ifA, peer: ifB, peerNetns: b, mtu: 1500 });
    k.apply({ op: 'addr.add', dev: ifA, ip: aIp, prefix });
    k.apply({ op: 'link.up', name: ifA });
    k.apply({ op: 'addr.add', dev: ifB, ip: bIp, prefix, netns: b });
    k.apply({ op: 'link.up', name: ifB, netns: b });
  } finally {
    k.close();
    closeNetns(k.kernel.host);
  }
}

/** Two namespaces on a plain Linux bridge in `host` (no firewall, nothing else): the bridge's own floor. */
export function bridgePair(host, a, aIp, b, bIp, prefix) {
  const k = kernelAt(host);
  try {
    k.apply({ op: 'bridge.add', name: 'br0', mtu: 1500, mac: '02:00:00:00:00:01' });
    k.apply({ op: 'link.up', name: 'br0' });
    for (const [ns, ip, port] of [[a, aIp, 'veth-a'], [b, bIp, 'veth-b']]) {
      k.apply({ op: 'veth.add', name: port, peer: 'eth0', peerNetns: ns, mtu: 1500, master: 'br0' });
      k.apply({ op: 'link.up', name: port });
      k.apply({ op: 'link.up', name: 'lo', netns: ns });
      k.apply({ op: 'addr.add', dev: 'eth0', ip, prefix, netns: ns });
      k.apply({ op: 'link.up', name: 'eth0', netns: ns });
    }
  } finally {
    k.close();
    closeNetns(k.kernel.host);
  }
}
