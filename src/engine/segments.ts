import { ConflictError } from '../errors.js';
import { hasChain, hasSetElement } from '../kernel/nft.js';
import { CHAIN, linkAlias, NFT_TABLE, parseSegmentLink, segmentLinks } from '../names.js';
import { bridgeMac, ipv6Conf } from '../plan/network-plan.js';
import { renderBridgeHookChains, segmentSetElements, type Family } from '../firewall/ruleset.js';
import type { SetElement } from '../set-element.js';
import { step, type Step } from '../plan/ops.js';
import { isBridgeNetwork, type BridgeNetwork, type NetworkRecord, type StateStore } from '../store/store.js';
import { bridgeLayout, hostBacklog } from './bridge-limits.js';
import type { EngineContext } from './context.js';
import { bridgeTableShape } from './firewall-state.js';

/**
 * Segments: more containers on one network than one bridge serves. A Linux bridge numbers 1,023
 * ports and, on a host with the default receive backlog, answers a broadcast from ~1,000 (see
 * bridge-limits.ts). Beyond `direct` containers on the network's bridge, further ones go on
 * segments: bridges in the host namespace, each joined to the network's bridge by a veth trunk.
 * One broadcast domain still, one subnet, one gateway; all L3 work (DNAT, masquerade, the forward
 * policy) stays at the network's bridge. A segment bridge has ARP off (the host would answer for
 * its addresses there with the segment's MAC, and what a container sends the gateway would reach
 * the host untracked) and what it bridges goes untracked; the network bridge's end of each trunk is
 * in hairpin mode, guarded (firewall/ruleset.ts), so a container reaches a published port of a
 * container behind its own trunk. ARP requests and neighbour solicitations are steered: one leaves a
 * bridge only by the port its target is behind (a container's, the trunk of the target's segment,
 * or, from a segment, its trunk towards the network's bridge), so no request is flooded into every
 * segment at once. A segment stays while its network does (reused when it empties).
 */

/** Where a new container port of a network goes, and the steps that make its segment when it is new. */
export interface PortPlace {
  bridge: string;
  segment: number;
  steps: Step[];
}

/** A segment's bridge MAC: locally administered, from the network's ID and the segment's number. */
const segmentMac = (networkId: string, k: number): string =>
  ['06', ...(networkId.slice(0, 8).match(/../g) as string[]), (k & 0xff).toString(16).padStart(2, '0')].join(':');

/**
 * The bridge a new container port of `net` goes on: its own while it has room, then the first
 * segment in use with room, then a new one. Refuses a container beyond the network's capacity.
 */
export function placePort(ctx: EngineContext, net: BridgeNetwork): PortPlace {
  const layout = bridgeLayout(hostBacklog());
  // An overlay network's VXLAN device is a port of the bridge too.
  const overlay = net.overlay ? 1 : 0;
  const own = { bridge: net.bridge, segment: 0, steps: [] };
  // Room on the network's own bridge means room in the network; only a count of its own ports is read
  // (the network's whole count grows with it: ~1 ms an attach at 10,000).
  if (ctx.store.portsOnSegment(net.id, 0) + overlay < layout.direct) return own;
  const ports = ctx.store.segmentPorts(net.id);
  assertNetworkRoom(ctx, net, layout, [...ports.values()].reduce((a, b) => a + b, 0));
  const inUse = [...ports.keys()].filter((k) => k > 0).sort((a, b) => a - b);
  const roomy = inUse.find((k) => (ports.get(k) as number) < layout.segment);
  if (roomy !== undefined) return { bridge: segmentLinks(net.id, roomy).bridge, segment: roomy, steps: [] };
  let k = 1;
  while (ports.has(k)) k++;
  return { bridge: segmentLinks(net.id, k).bridge, segment: k, steps: segmentSteps(ctx, net, k) };
}

/** Refuses one more container on a bridge network that holds as many as it serves. */
export function assertNetworkRoom(ctx: EngineContext, net: NetworkRecord, layout = bridgeLayout(hostBacklog()), total = ctx.store.attachmentCount(net.id)): void {
  if (!isBridgeNetwork(net) || total < layout.capacity) return;
  throw new ConflictError(`network ${net.name} has ${total.toLocaleString('en-US')} containers, the most one network holds on this host: ${layout.direct} on its bridge and ${layout.segments} segments of ${layout.segment}, each bridge under net.core.netdev_max_backlog (${hostBacklog()}); put further containers on another network (or raise net.core.netdev_max_backlog)`);
}

/**
 * Segment k of a network, made unless it is there (an emptied one stays), and the firewall with it:
 * its bridge untracked, its trunk's hairpin guarded, `enable_icc=false` across it.
 */
function segmentSteps(ctx: EngineContext, net: BridgeNetwork, k: number): Step[] {
  const links = segmentLinks(net.id, k);
  const steps: Step[] = [];
  if (ctx.dryRun || !ctx.kernel().rtnl().findLink(links.bridge)) {
    steps.push(
      step({ op: 'segment.add', ...links, master: net.bridge, mtu: net.mtu, mac: segmentMac(net.id, k), alias: linkAlias(ctx.store.instanceId(), net.id) }, { op: 'segment.del', bridge: links.bridge, trunk: links.trunk }),
      // Nothing of IPv6 on a segment's links: no addresses, no solicitations flooded from them.
      ...[links.bridge, links.trunk, links.peer].map((dev) => step({ op: 'sysctl.set', key: ipv6Conf(dev, 'disable_ipv6'), value: '1', optional: true, ephemeral: true }, null)),
      step({ op: 'link.up', name: links.peer }, null),
      step({ op: 'link.up', name: links.bridge }, null),
    );
  }
  return [...steps, ...segmentFirewallSteps(ctx, net, k)];
}

/**
 * The firewall with segment k: its elements, and the bridge table's forward and output chains made
 * first unless another segment or an enable_icc=false network has them (rendering and replacing
 * the tables for them instead took ~100 ms at 1,000 containers, twice: to apply and to undo). An
 * emptied segment kept its elements, and the chains stay with it: only what the kernel lacks is
 * added, so that undoing a failed attach leaves what was there before.
 */
function segmentFirewallSteps(ctx: EngineContext, net: BridgeNetwork, k: number): Step[] {
  const store = ctx.store;
  const families: Family[] = store.listNetworks().some((n) => isBridgeNetwork(n) && n.subnet6) ? ['ip', 'ip6'] : ['ip'];
  const nfnl = ctx.dryRun ? undefined : ctx.kernel().nfnl();
  const elements = segmentElements(net, k, families).filter((e) => !nfnl || hasSetElement(nfnl, e) !== true);
  const chains = !bridgeTableShape(store).hooks && !(nfnl && hasChain(nfnl, 'bridge', NFT_TABLE, CHAIN.bridgeForward));
  return [
    ...(chains ? [step({ op: 'nft', script: renderBridgeHookChains(true) }, { op: 'nft', script: renderBridgeHookChains(false) })] : []),
    ...(elements.length ? [step({ op: 'nft.elements', verb: 'add', elements }, { op: 'nft.elements', verb: 'delete', elements, missingOk: true })] : []),
  ];
}

/** Segment k's elements in ctnet's tables: its bridge in the `families`' sets, its trunk in the bridge table's. */
export function segmentElements(net: Pick<BridgeNetwork, 'id' | 'icc'>, k: number, families: readonly Family[]): SetElement[] {
  const l = segmentLinks(net.id, k);
  return segmentSetElements(l.bridge, { trunk: l.trunk, peer: l.peer, gatewayMac: bridgeMac(net.id), isolated: !net.icc }, families);
}

/** The segment numbers of a network's segments in the kernel, whether or not a container uses them. */
export function segmentsPresent(ctx: EngineContext, networkId: string): number[] {
  return ctx.kernel().rtnl().listLinks({ kind: 'bridge' }).flatMap((l) => {
    const s = parseSegmentLink(l.name);
    return s?.end === 'b' && s.network === networkId.slice(0, 8) ? [s.k] : [];
  });
}

/** The bridges of the segments containers are on, per network ID. */
export function segmentBridgesInUse(store: StateStore): Set<string> {
  const out = new Set<string>();
  for (const [networkId, ks] of store.segmentsInUse()) for (const k of ks) out.add(segmentLinks(networkId, k).bridge);
  return out;
}

/** The bridge a container port of a network is on: the network's own (segment 0) or segment k's. */
export const portBridge = (net: Pick<BridgeNetwork, 'id' | 'bridge'>, segment: number): string => (segment === 0 ? net.bridge : segmentLinks(net.id, segment).bridge);

/**
 * What is wrong with segment k of a network in the kernel (its bridge, its trunk to the network's
 * bridge, both up), or undefined when nothing is.
 */
export function segmentFault(ctx: EngineContext, net: BridgeNetwork, k: number): string | undefined {
  const rtnl = ctx.kernel().rtnl();
  const l = segmentLinks(net.id, k);
  const bridge = rtnl.findLink(l.bridge);
  const trunk = rtnl.findLink(l.trunk);
  const peer = rtnl.findLink(l.peer);
  if (!bridge || !trunk || !peer) return `segment ${k} of network ${net.name} (${l.bridge}) is missing a link`;
  if (trunk.master !== rtnl.findLink(net.bridge)?.index || peer.master !== bridge.index) return `the trunk of segment ${k} (${l.trunk}) does not join ${l.bridge} to ${net.bridge}`;
  if (!bridge.up || !trunk.up || !peer.up) return `segment ${k} of network ${net.name} has a link down`;
  return undefined;
}

/**
 * Segments containers are on that are missing or broken (a reboot, someone's `ip link del`) are
 * made again, with their containers' ports on them. Returns what was done.
 */
export function repairSegments(ctx: EngineContext, net: BridgeNetwork): string[] {
  const done: string[] = [];
  for (const k of ctx.store.segmentsInUse().get(net.id) ?? []) {
    const fault = segmentFault(ctx, net, k);
    if (fault === undefined) continue;
    const l = segmentLinks(net.id, k);
    ctx.applyBestEffort([{ op: 'segment.del', bridge: l.bridge, trunk: l.trunk }]);
    ctx.apply(segmentSteps(ctx, net, k));
    const rtnl = ctx.kernel().rtnl();
    const ports = ctx.store.endpointsOn(net.id).filter((e) => e.segment === k && e.hostVeth !== null && rtnl.findLink(e.hostVeth)).map((e) => e.hostVeth as string);
    ctx.apply(ports.flatMap((name) => [step({ op: 'link.master', name, master: l.bridge }, null), step({ op: 'link.hairpin', name }, null)]));
    done.push(`network ${net.name}: ${fault}, made again with its ${ports.length} container port${ports.length === 1 ? '' : 's'}`);
  }
  return done;
}
