import { parseSubnet } from '../addr/ipv4.js';
import { step, type Op, type Step } from './ops.js';
import type { IPv4 } from '../addr/family.js';
import type { SetElement } from '../set-element.js';

export interface NetworkShape {
  id: string;
  bridge: string;
  subnet: string;
  gateway: IPv4;
  mtu: number;
  internal: boolean;
  /** Dual stack: the IPv6 subnet and the gateway address the bridge gets in it. */
  subnet6?: string | null;
  gateway6?: string | null;
  /** The bridge's alias: whose it is (see linkAlias). */
  alias?: string;
  /** An overlay network's VXLAN device (see store OverlaySpec). */
  overlay?: { device: string; vni: number; vtepMac: string; underlay: string } | null;
}

export const VXLAN_PORT = 4789;

/**
 * A fixed, locally administered MAC for the bridge, derived from the network ID. Without one a
 * bridge takes the lowest MAC of its ports, so the gateway's MAC changes as containers come and go
 * and their ARP caches point at an address that no longer answers.
 */
export function bridgeMac(networkId: string): string {
  return ['02', ...(networkId.slice(0, 10).match(/../g) as string[])].join(':');
}

/**
 * A container interface's MAC, derived from its IPv4 address as Docker does (02:42 and the four
 * bytes). An address handed to a new container keeps its MAC, so neighbours' ARP caches stay right;
 * with a random MAC they point at the old one for seconds after an address is reused.
 */
export function containerMac(ip: IPv4): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

export const IP_FORWARD = 'net.ipv4.ip_forward';
export const IPV6_FORWARD = 'net.ipv6.conf.all.forwarding';
export const routeLocalnet = (bridge: string): string => `net.ipv4.conf.${bridge}.route_localnet`;
/** An interface's IPv6 setting, slashed: interface names may hold dots. */
export const ipv6Conf = (dev: string, key: 'disable_ipv6' | 'accept_ra'): string => `net/ipv6/conf/${dev}/${key}`;

/**
 * The seed's steps 5, 6 and 8 for one network: a bridge with the gateway address (the kernel adds
 * the connected route), route_localnet so published ports answer on 127.0.0.1, forwarding on.
 * `firewall` replaces ctnet's nftables table with one that includes this network (steps 9 and 10).
 */
export function planCreateNetwork(n: NetworkShape, firewall: { apply: string; undo: string }): Step[] {
  const prefix = parseSubnet(n.subnet).prefix;
  const steps: Step[] = [
    step({ op: 'bridge.add', name: n.bridge, mtu: n.mtu, mac: bridgeMac(n.id), ...(n.alias ? { alias: n.alias } : {}) }, { op: 'link.del', name: n.bridge }),
    step({ op: 'addr.add', dev: n.bridge, ip: n.gateway, prefix }, null),
    // IPv6 hygiene before the link comes up: an IPv4-only network's bridge has no IPv6 at all (no
    // link-local address, nothing routed from it); no bridge takes router advertisements.
    step({ op: 'sysctl.set', key: ipv6Conf(n.bridge, 'disable_ipv6'), value: n.subnet6 ? '0' : '1', optional: true, ephemeral: true }, null),
    step({ op: 'sysctl.set', key: ipv6Conf(n.bridge, 'accept_ra'), value: '0', optional: true, ephemeral: true }, null),
    step({ op: 'link.up', name: n.bridge }, null),
  ];
  // Published ports answer on 127.0.0.1 through route_localnet on the bridge (the raw-hook guard keeps
  // other interfaces' loopback packets out); an internal network publishes nothing, so it has none.
  if (!n.internal) steps.splice(2, 0, step({ op: 'sysctl.set', key: routeLocalnet(n.bridge), value: '1' }, null));
  if (n.subnet6 && n.gateway6) steps.push(step({ op: 'addr.add', dev: n.bridge, ip: n.gateway6, prefix: Number(n.subnet6.split('/')[1]) }, null));
  steps.push(...planOverlayDevice(n));
  // sysctl.set undoes itself with the value it found (the executor keeps it).
  if (!n.internal) steps.push(step({ op: 'sysctl.set', key: IP_FORWARD, value: '1' }, null));
  if (!n.internal && n.subnet6) steps.push(step({ op: 'sysctl.set', key: IPV6_FORWARD, value: '1' }, null));
  steps.push(step({ op: 'nft', script: firewall.apply }, { op: 'nft', script: firewall.undo }));
  return steps;
}

/**
 * An overlay's uplink: the VXLAN device with the block's network address as its own (flannel's
 * model: remote blocks are routed via their hosts' such addresses, resolved by static entries).
 */
export function planOverlayDevice(n: NetworkShape): Step[] {
  if (!n.overlay) return [];
  return [
    step({ op: 'vxlan.add', name: n.overlay.device, vni: n.overlay.vni, local: n.overlay.underlay, port: VXLAN_PORT, mtu: n.mtu, mac: n.overlay.vtepMac, ...(n.alias ? { alias: n.alias } : {}) }, { op: 'link.del', name: n.overlay.device }),
    step({ op: 'addr.add', dev: n.overlay.device, ip: n.subnet.split('/')[0], prefix: 32 }, null),
    step({ op: 'sysctl.set', key: ipv6Conf(n.overlay.device, 'disable_ipv6'), value: '1', optional: true, ephemeral: true }, null),
    step({ op: 'link.up', name: n.overlay.device }, null),
  ];
}

/**
 * Removing a network: firewall first (nothing points at the bridge any more; `trunkElements`, its
 * segments' in the bridge table, those already gone skipped), then its segments (their trunks are
 * ports of its bridge), the bridge (and an overlay's VXLAN device), then forwarding as it was.
 */
export function planRemoveNetwork(bridge: string, firewallScript: string, trunkElements: readonly SetElement[], restore: { key: string; value: string }[], vxlan?: string, segments: readonly { bridge: string; trunk: string }[] = []): Op[] {
  const ops: Op[] = [
    { op: 'nft', script: firewallScript },
    ...(trunkElements.length ? [{ op: 'nft.elements' as const, verb: 'delete' as const, elements: trunkElements, missingOk: true }] : []),
    ...segments.map((s): Op => ({ op: 'segment.del', bridge: s.bridge, trunk: s.trunk })),
    { op: 'link.del', name: bridge },
    ...(vxlan ? [{ op: 'link.del' as const, name: vxlan }] : []),
  ];
  for (const r of restore) ops.push({ op: 'sysctl.set', key: r.key, value: r.value });
  return ops;
}
