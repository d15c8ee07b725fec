import { guardSetElements, mappingSetElements, type PortGuard, type PortMapping } from '../firewall/ruleset.js';
import type { SetElement } from '../set-element.js';
import { ipv6Conf } from './network-plan.js';
import { step, type Op, type Step } from './ops.js';
import type { IPv4, IPv6 } from '../addr/family.js';

export interface Attachment {
  /** A name in /run/netns (ctnet's own) or an absolute path (a runtime's, via CNI). */
  netns: string;
  /** false when the namespace belongs to a runtime: ctnet neither creates nor removes it. */
  ownsNetns: boolean;
  /** Interface name inside the namespace (eth0 unless a runtime asks otherwise). */
  ifname: string;
  /** MAC address of the container's interface (CNI mac capability); random when absent. */
  mac?: string;
  /** What the interface is: one end of a veth pair whose other end is a port of the bridge, or a macvlan of the host's parent. */
  port: { kind: 'bridge'; hostVeth: string; bridge: string } | { kind: 'macvlan'; parent: string };
  mtu: number;
  ip: IPv4;
  prefix: number;
  /** undefined on internal networks: no way out, so no default route. */
  gateway: IPv4 | undefined;
  ports: readonly PortMapping[];
  /** More routes inside the namespace (CNI ipam.routes), added after the addresses. */
  routes?: readonly { dst: string; prefix: number; via: string }[];
  /** Dual stack: the container's IPv6 address, its prefix, the gateway for the default route, its IPv6 mappings. */
  ip6?: { ip: IPv6; prefix: number; gateway: IPv6 | undefined; ports: readonly PortMapping[] };
  /** Anti-spoofing: what the container's bridge port may send from. */
  guard?: PortGuard;
  /** Rate limits: what it receives (a token bucket on its host veth), what it sends (shaped on an ifb of its own). */
  shaping?: { ingress?: Bucket; egress?: Bucket & { ifb: string; alias: string } };
  /** A bridge network's gateway (the network's bridge and its MAC): each end told the other's MAC (see neighbourSteps). */
  neighbours?: Neighbours;
}

export interface Neighbours {
  /** The network's own bridge (a segment's container is behind it too): the host's end of the subnet. */
  bridge: string;
  gatewayMac: string;
  gateway: IPv4;
  gateway6?: IPv6;
}

/** A token bucket: bytes per second, bucket and queue in bytes. */
export interface Bucket {
  rate: number;
  burst: number;
  limit: number;
}

/**
 * Shaping in the host namespace, where the container cannot touch it: its host veth's egress is
 * what it receives; what it sends arrives on the host veth's ingress and is redirected to the ifb,
 * whose egress is shaped.
 */
function planShaping(hostVeth: string, mtu: number, s: NonNullable<Attachment['shaping']>): Step[] {
  const steps: Step[] = [];
  if (s.ingress) steps.push(step({ op: 'qdisc.tbf', dev: hostVeth, ...s.ingress }, null));
  if (s.egress) {
    const { ifb, alias, ...bucket } = s.egress;
    steps.push(
      step({ op: 'ifb.add', name: ifb, mtu, alias }, { op: 'link.del', name: ifb }),
      step({ op: 'link.up', name: ifb }, null),
      step({ op: 'qdisc.tbf', dev: ifb, ...bucket }, null),
      step({ op: 'tc.redirect', dev: hostVeth, to: ifb }, null),
    );
  }
  return steps;
}

/**
 * Neither end needs ARP or neighbour discovery to reach the other: the container is told the
 * gateway's MAC and the host the container's, as permanent entries (both are fixed: the bridge's is
 * made from the network's ID, the container's is its port guard's). The kernel keeps one neighbour
 * table for every namespace of the host, and past net.ipv4.neigh.default.gc_thresh3 entries (1,024,
 * settable only host-wide) a new one is refused ("neighbor table overflow"): with ~1,000 containers
 * talking, a first packet waited a second for the next try or was lost. Permanent entries are not
 * counted there. The container's entries go with its interface, the host's at detach.
 */
function neighbourSteps(a: Attachment, n: Neighbours, mac: string): Step[] {
  const inside = (ip: string): Step => step({ op: 'neigh.set', dev: a.ifname, ip, mac: n.gatewayMac, netns: a.netns }, null);
  const atBridge = (ip: string): Step => step({ op: 'neigh.set', dev: n.bridge, ip, mac }, { op: 'neigh.del', dev: n.bridge, ip });
  return [inside(n.gateway), atBridge(a.ip), ...(a.ip6 && n.gateway6 ? [inside(n.gateway6), atBridge(a.ip6.ip)] : [])];
}

/** Adds elements; undone by deleting them (skipping any already gone). */
const elementsStep = (elements: SetElement[]): Step =>
  step({ op: 'nft.elements', verb: 'add', elements }, { op: 'nft.elements', verb: 'delete', elements, missingOk: true });

/**
 * The seed's steps 1-7 and 10 for one container: its namespace with loopback up, the DNAT map
 * elements of its published ports (with its port's guard, before the port exists), a veth pair born
 * with one end in the namespace (eth0) and the other on the bridge, its address, and the default
 * route through the gateway.
 */
export function planAttach(a: Attachment): Step[] {
  const ns = a.netns;
  const dev = a.ifname;
  const steps: Step[] = a.ownsNetns ? planLoopbackOnly(ns) : [];
  const port = a.port;
  // Before the port carries anything: from its first frame on, only its own MAC and addresses pass.
  // Its published ports go in the same nf_tables transaction (one commit, ~0.1 ms less than two):
  // until its address is up, what they forward to finds nobody, as it would find no rule.
  const elements = [
    ...(a.guard ? guardSetElements(a.guard) : []), ...mappingSetElements(a.ports), ...mappingSetElements(a.ip6?.ports ?? [], 'ip6'),
  ];
  if (elements.length) steps.push(elementsStep(elements));
  if (port.kind === 'bridge') {
    steps.push(
      // One message: the host end is born on the bridge and up (two round trips saved per attach).
      step({ op: 'veth.add', name: port.hostVeth, peer: dev, peerNetns: ns, mtu: a.mtu, master: port.bridge, peerMac: a.mac }, { op: 'link.del', name: port.hostVeth }),
      step({ op: 'link.hairpin', name: port.hostVeth }, null),
      step({ op: 'sysctl.set', key: ipv6Conf(port.hostVeth, 'disable_ipv6'), value: '1', optional: true, ephemeral: true }, null),
    );
  } else {
    // Born in the container's namespace on the parent's segment, with a MAC of its own.
    steps.push(step({ op: 'macvlan.add', name: dev, parent: port.parent, netns: ns, mtu: a.mtu, mac: a.mac }, { op: 'link.del', name: dev, netns: ns }));
  }
  steps.push(
    // IPv6 only where the network has it, set while the container's end is still down: no
    // link-local address, no router solicitations or MLD reports flooded to every port of the
    // bridge, no IPv6 path around the IPv4 rules. The bridge port needs no IPv6 of its own either.
    step({ op: 'sysctl.set', key: ipv6Conf(dev, 'disable_ipv6'), value: a.ip6 ? '0' : '1', netns: ns, optional: true, ephemeral: true }, null),
    step({ op: 'link.up', name: dev, netns: ns }, null),
    step({ op: 'addr.add', dev, ip: a.ip, prefix: a.prefix, netns: ns }, null),
  );
  if (a.shaping && port.kind === 'bridge') steps.push(...planShaping(port.hostVeth, a.mtu, a.shaping));
  if (a.neighbours && a.mac && port.kind === 'bridge') steps.push(...neighbourSteps(a, a.neighbours, a.mac));
  if (a.gateway) steps.push(step({ op: 'route.add', dev, dst: '0.0.0.0', prefix: 0, via: a.gateway, netns: ns }, null));
  if (a.ip6) {
    steps.push(step({ op: 'addr.add', dev, ip: a.ip6.ip, prefix: a.ip6.prefix, netns: ns }, null));
    if (a.ip6.gateway) steps.push(step({ op: 'route.add', dev, dst: '::', prefix: 0, via: a.ip6.gateway, netns: ns }, null));
  }
  for (const r of a.routes ?? []) steps.push(step({ op: 'route.add', dev, dst: r.dst, prefix: r.prefix, via: r.via, netns: ns }, null));
  return steps;
}

/** `run --network none`: the container's own namespace with loopback up, and nothing else. */
export function planLoopbackOnly(netns: string): Step[] {
  return [step({ op: 'netns.add', name: netns }, { op: 'netns.del', name: netns }), step({ op: 'link.up', name: 'lo', netns }, null)];
}

/** A container's addresses whose permanent neighbour entries the host has at one of its networks' bridges. */
export interface HostNeighbours {
  bridge: string;
  ips: readonly string[];
}

/** Deleting those entries (at detach, or `network disconnect` for one network). */
export const hostNeighbourDeletions = (entries: readonly HostNeighbours[]): Op[] =>
  entries.flatMap(({ bridge, ips }) => ips.map((ip): Op => ({ op: 'neigh.del', dev: bridge, ip })));

/**
 * Detaching is best effort and repeatable: every piece that is already gone counts as removed.
 * The veth is not deleted here: deleting a device waits for an RCU grace period (15-40 ms), and a
 * bridge with many ports does work per port for every port that goes down or away. Unmounting the
 * namespace takes 0.1 ms and the kernel then destroys it, and with it the veth pair, on its own.
 * Removing the container's address first means nothing answers for it in the meantime, so the
 * address can be reused at once. (`gc` deletes a veth whose namespace something keeps alive.)
 * When something still runs in the namespace (a runtime's own, containers joined to this one's), its
 * ports go before their guards: a command killed between the two leaves no port open to a forged frame.
 */
export function planDetach(d: {
  netns: string | null; ownsNetns: boolean; ifname: string; hostVeth: string | null; ip: IPv4 | null; prefix: number; ports: readonly PortMapping[];
  ip6?: { ip: IPv6; prefix: number; ports: readonly PortMapping[] };
  /** The anti-spoofing elements of its ports (its first network's and connected ones'). */
  guards?: readonly PortGuard[];
  /** Its egress ifb (rate-limited containers): in the host namespace, it does not go with the container's. */
  ifb?: string;
  /**
   * Interfaces in its namespace to delete before the namespace goes: macvlans. The kernel destroys a
   * namespace a moment after its last user, and until then a macvlan keeps its MAC on the parent, so
   * a container started at once with the same address (and MAC) could not bring its own up.
   */
  links?: readonly string[];
  /** Host ends of its own namespace's veths, when containers joined to it keep it (and them) alive. */
  joinedVeths?: readonly string[];
  /** Its addresses' permanent neighbour entries at each of its networks' bridges (see neighbourSteps). */
  neighbours?: readonly HostNeighbours[];
}): Op[] {
  const ops: Op[] = [];
  const owned = d.netns !== null && d.ownsNetns;
  if (!owned) {
    // A runtime's namespace outlives the attachment: its interface must go now (the pair goes with it).
    if (d.netns) ops.push({ op: 'link.del', name: d.ifname, netns: d.netns });
    if (d.hostVeth) ops.push({ op: 'link.del', name: d.hostVeth });
  }
  for (const name of d.joinedVeths ?? []) ops.push({ op: 'link.del', name });
  // One nf_tables transaction for all of them.
  const elements = [...(d.guards ?? []).flatMap(guardSetElements), ...mappingSetElements(d.ports), ...mappingSetElements(d.ip6?.ports ?? [], 'ip6')];
  if (elements.length) ops.push({ op: 'nft.elements', verb: 'delete', elements, missingOk: true });
  ops.push(...hostNeighbourDeletions(d.neighbours ?? []));
  if (owned && d.netns) {
    const netns = d.netns;
    if (d.ip) ops.push({ op: 'addr.del', dev: d.ifname, ip: d.ip, prefix: d.prefix, netns });
    if (d.ip6) ops.push({ op: 'addr.del', dev: d.ifname, ip: d.ip6.ip, prefix: d.ip6.prefix, netns });
    for (const link of d.links ?? []) ops.push({ op: 'link.del', name: link, netns });
    ops.push({ op: 'netns.del', name: netns });
  }
  if (d.ifb) ops.push({ op: 'link.del', name: d.ifb });
  return ops;
}
