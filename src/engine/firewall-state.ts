import { BRIDGE_TABLE, renderBridgeHookChains, renderDeleteTable, renderReplaceBridgeTable, renderReplaceTable, type Family, type FirewallNetwork, type PortGuard, type PortMapping, type Trunk } from '../firewall/ruleset.js';
import { bridgeMac, containerMac } from '../plan/network-plan.js';
import { segmentLinks } from '../names.js';
import { isBridgeNetwork, type AttachmentRecord, type ContainerRecord, type Endpoint, type NetworkRecord, type PortRecord, type StateStore } from '../store/store.js';
import { isIPv6, type IPAddress } from '../addr/family.js';

/** Builds the firewall's inputs from state, so the whole table can always be rendered anew. */

/** The networks as one family's table sees them: for IPv6 only dual-stack ones, with their IPv6 subnet and gateway. */
function firewallNetworks(store: StateStore, family: Family, segments: Map<string, number[]>): FirewallNetwork[] {
  return store.listNetworks().filter(isBridgeNetwork).flatMap((n): FirewallNetwork[] => {
    const policy = {
      bridge: n.bridge, internal: n.internal, ipMasq: n.ipMasq, blockDirect: n.blockDirect, icc: n.icc,
      ...(n.overlay ? { overlayDevice: n.overlay.device, overlaySubnet: n.overlay.clusterSubnet } : {}),
      ...(segments.has(n.id) ? { segments: (segments.get(n.id) as number[]).map((k) => segmentLinks(n.id, k).bridge) } : {}),
    };
    if (family === 'ip') return [{ ...policy, subnet: n.subnet, gateway: n.gateway }];
    return n.subnet6 && n.gateway6 ? [{ ...policy, subnet: n.subnet6, gateway: n.gateway6 }] : [];
  });
}

/** A published port of either family's host addresses (or of all, hostIp null) maps to the container's address of that family. */
const ofFamily = (hostIp: string | null, family: Family): boolean => hostIp === null || isIPv6(hostIp) === (family === 'ip6');

export function toMappings(ports: readonly PortRecord[], ip: string, family: Family = 'ip'): PortMapping[] {
  return ports.filter((p) => ofFamily(p.hostIp, family)).map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: ip, containerPort: p.containerPort }));
}

const addressOf = (c: Pick<ContainerRecord, 'ip' | 'ip6'>, family: Family): IPAddress | null => (family === 'ip' ? c.ip : c.ip6);

/** Port mappings of every container that holds an address of the family. */
export function activeMappings(store: StateStore, family: Family = 'ip'): PortMapping[] {
  const addresses = store.publisherAddresses();
  return store.listPorts().flatMap((p) => {
    const a = addresses.get(p.containerId);
    const ip = a && addressOf(a, family);
    return ip ? toMappings([p], ip, family) : [];
  });
}

export function mappingsOf(store: StateStore, c: ContainerRecord, family: Family = 'ip'): PortMapping[] {
  const ip = addressOf(c, family);
  return ip ? toMappings(store.portsOf(c.id), ip, family) : [];
}

/**
 * What a container's bridge port may send from (its MAC and addresses); none before it has a port.
 * A runtime's attachment recorded before MACs were (it may have chosen its own) is not guessed.
 */
export function guardOf(e: Pick<ContainerRecord, 'hostVeth' | 'ip' | 'ip6' | 'mac' | 'ownsNetns' | 'segment'>, net: Pick<NetworkRecord, 'id' | 'icc'>): PortGuard | undefined {
  if (!e.hostVeth || !e.ip) return undefined;
  if (!e.mac && !e.ownsNetns) return undefined;
  return {
    port: e.hostVeth, mac: e.mac ?? containerMac(e.ip), ip: e.ip, ip6: e.ip6, isolated: !net.icc,
    ...(e.segment > 0 ? { trunk: segmentLinks(net.id, e.segment).trunk } : {}),
  };
}

/** The same for a further network of a container (network connect, never a runtime's): its MAC is derived from that address; none on a macvlan. */
export const attachmentGuard = (a: AttachmentRecord, net: Pick<NetworkRecord, 'id' | 'icc'>): PortGuard | undefined => guardOf({ ...a, ownsNetns: true }, net);

/** Every container port on every network: every attachment, first networks and connected ones. */
export function activeGuards(store: StateStore, endpoints: readonly Endpoint[] = store.listEndpoints()): PortGuard[] {
  const networks = new Map(store.listNetworks().map((n) => [n.id, n]));
  return endpoints.flatMap((e) => {
    const net = networks.get(e.networkId);
    const g = net ? guardOf(e, net) : undefined;
    return g ? [g] : [];
  });
}

/** Every segment's trunk, with its network's bridge MAC and isolation. */
function activeTrunks(store: StateStore, segments: Map<string, number[]>): Trunk[] {
  const networks = new Map(store.listNetworks().map((n) => [n.id, n]));
  return [...segments].flatMap(([networkId, ks]) => {
    const net = networks.get(networkId);
    if (!net) return [];
    return ks.map((k) => segmentLinks(networkId, k)).map((l) => ({ trunk: l.trunk, peer: l.peer, gatewayMac: bridgeMac(networkId), isolated: !net.icc }));
  });
}

/**
 * The script that makes ctnet's tables match the state: `ip ctnet` replaced whole, or removed when
 * no network is left; `ip6 ctnet` likewise for dual-stack networks; the bridge table too unless
 * `bridgeTable` is false. `endpoints`: the store's, when the caller has read them already.
 */
export function firewallScript(store: StateStore, opts: { endpoints?: readonly Endpoint[]; bridgeTable?: boolean } = {}): string {
  const segments = store.segmentsInUse();
  const networks = firewallNetworks(store, 'ip', segments);
  const networks6 = firewallNetworks(store, 'ip6', segments);
  const bridge = opts.bridgeTable === false ? ''
    : networks.length
      ? renderReplaceBridgeTable(activeGuards(store, opts.endpoints), store.listNetworks().some((n) => isBridgeNetwork(n) && !n.icc), activeTrunks(store, segments))
      : `add table ${BRIDGE_TABLE}\ndelete table ${BRIDGE_TABLE}\n`;
  return (networks.length ? renderReplaceTable(networks, activeMappings(store)) : renderDeleteTable())
    + (networks6.length ? renderReplaceTable(networks6, activeMappings(store, 'ip6'), 'ip6') : renderDeleteTable('ip6'))
    + bridge;
}

/**
 * What the bridge table holds beside its elements: whether it exists (while some bridge network
 * does) and whether it has its forward and output chains (while some network isolates its
 * containers or some segment holds containers).
 */
export interface BridgeTableShape {
  table: boolean;
  hooks: boolean;
}

export function bridgeTableShape(store: StateStore): BridgeTableShape {
  const bridges = store.listNetworks().filter(isBridgeNetwork);
  return { table: bridges.length > 0, hooks: bridges.some((n) => !n.icc) || store.segmentsInUse().size > 0 };
}

/**
 * The firewall for the state (firewallScript), the bridge table changed from `from` only as far as
 * `to`, the state's shape, differs: made or removed whole with the host's first or last bridge
 * network (no container's elements are in it then), else its forward and output chains made or
 * removed and its elements left as they are. A network comes and goes without containers: at
 * 10,000 containers rendering and replacing the table was most of a `network create` (~0.5 s of ~0.8).
 */
export function firewallScriptFrom(store: StateStore, from: BridgeTableShape, to: BridgeTableShape = bridgeTableShape(store)): string {
  if (from.table !== to.table) return firewallScript(store);
  return firewallScript(store, { bridgeTable: false }) + (from.hooks !== to.hooks ? renderBridgeHookChains(to.hooks) : '');
}
