import { sha256Hex } from '../crypto.js';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { allocateAddress, reserveAddress } from '../ipam/allocator.js';
import { parseSubnet } from '../addr/ipv4.js';
import { parseSubnet6 } from '../addr/ipv6.js';
import { HOST_VETH_PREFIX } from '../names.js';
import { containerMac } from '../plan/network-plan.js';
import { hostNeighbourDeletions, planAttach } from '../plan/container-plan.js';
import type { Op, Step } from '../plan/ops.js';
import { isBridgeNetwork, type AttachmentRecord, type ContainerRecord, type NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { ensureDns, hasEmbeddedDns, namesOn } from './dns.js';
import { findContainer, liveState } from './lookup.js';
import { findNetwork } from './networks.js';
import { reconcile } from './reconcile.js';
import { validateAlias } from './validate.js';
import { attachmentGuard } from './firewall-state.js';
import { guardSetElements } from '../firewall/ruleset.js';
import { address6On, addressBookOf } from './address-book.js';
import { placePort } from './segments.js';
import { hostNeighboursOf, neighboursOf } from './neighbours.js';

/**
 * `network connect` and `network disconnect`: a running container's further networks. Each is one
 * more veth pair (ethN inside, on the network's bridge outside) with an address of that network;
 * the container's default route stays on its first network, as in Docker.
 */
export interface ConnectRequest {
  network: string;
  container: string;
  ip?: string;
  /** Its IPv6 address there (dual-stack networks; default: the next free one). */
  ip6?: string;
  aliases?: string[];
}

/** The host end's name: one per container and network, at most 15 characters. */
const attachmentVeth = (containerId: string, networkId: string): string =>
  HOST_VETH_PREFIX + sha256Hex(`${containerId}/${networkId}`).slice(0, 8);

/** eth1, eth2, ...: the first name no other interface of the container has. */
function nextIfname(c: ContainerRecord, taken: readonly AttachmentRecord[]): string {
  const used = new Set([c.ifname, ...taken.map((a) => a.ifname)]);
  for (let i = 1; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

/** One more interface is an attach into a namespace that exists already: no default route, no ports. */
function planConnect(net: NetworkRecord, c: ContainerRecord, a: AttachmentRecord, bridge: string | undefined): Step[] {
  return planAttach({
    netns: c.netns as string, ownsNetns: false, ifname: a.ifname, mac: containerMac(a.ip),
    port: isBridgeNetwork(net) ? { kind: 'bridge', hostVeth: attachmentVeth(c.id, net.id), bridge: bridge ?? net.bridge } : { kind: 'macvlan', parent: net.parent },
    mtu: net.mtu, ip: a.ip, prefix: parseSubnet(net.subnet).prefix, gateway: undefined, ports: [], guard: attachmentGuard(a, net), neighbours: neighboursOf(net),
    ip6: a.ip6 && net.subnet6 ? { ip: a.ip6, prefix: parseSubnet6(net.subnet6).prefix, gateway: undefined, ports: [] } : undefined,
  });
}

export function connectNetwork(ctx: EngineContext, req: ConnectRequest): AttachmentRecord {
  const aliases = [...new Set((req.aliases ?? []).map(validateAlias))];
  return ctx.locked(() => {
    if (!ctx.dryRun) reconcile(ctx);
    const net = findNetwork(ctx, req.network);
    const c = findContainer(ctx, req.container);
    if (liveState(c) !== 'running' || !c.netns) throw new ConflictError(`container ${c.name} is not running; only a running container can be connected`);
    if (c.networkMode !== 'bridge') {
      throw new ConflictError(`container ${c.name} runs with --network ${c.networkMode}; as in Docker, only a container on a network of ctnet's can be connected to more (run it with --network NAME)`);
    }
    if (!c.ownsNetns) throw new ConflictError(`container ${c.name} is a runtime's (CNI) attachment; connect it through the runtime`);
    return connectNow(ctx, c, net, { ...req, aliases });
  });
}

/**
 * A further network of a running container: its record and kernel state in one step, undone
 * together. Under the host lock. (`run --network A --network B` records its further networks with
 * the container instead, through checkConnection and planConnection.)
 */
function connectNow(ctx: EngineContext, c: ContainerRecord, net: NetworkRecord, req: Omit<ConnectRequest, 'container' | 'network'>): AttachmentRecord {
  checkConnection(ctx, c, net, req.aliases ?? []);
  // A connect killed before it committed left its veth pair (named after container and network): it goes first.
  const staleVeth = attachmentVeth(c.id, net.id);
  if (!ctx.dryRun && ctx.kernel().rtnl().findLink(staleVeth)) ctx.warnAll(ctx.applyBestEffort([{ op: 'link.del', name: staleVeth }]));
  const attachment = ctx.transact(() => planConnection(ctx, c, net, req));
  if (!ctx.dryRun && hasEmbeddedDns(net)) ensureDns(ctx);
  return attachment;
}

/** What a further network refuses: a network the container is on already, a name or alias another container has there. */
export function checkConnection(ctx: EngineContext, c: ContainerRecord, net: NetworkRecord, aliases: readonly string[]): void {
  if (c.networkId === net.id || ctx.store.connectionsOf(c.id).some((a) => a.networkId === net.id)) {
    throw new ConflictError(`container ${c.name} is already connected to network ${net.name}`);
  }
  const owners = namesOn(ctx, net.id);
  for (const n of [c.name, ...aliases]) {
    const owner = owners.get(n.toLowerCase());
    if (owner) throw new ConflictError(`${n === c.name ? 'the name' : '--alias'} ${n} is already a name of container ${owner} on network ${net.name}; ${n === c.name ? 'rename one of them' : 'pick another alias'}`);
  }
}

/**
 * Records a container's attachment to one more network (checked: checkConnection) and plans it, for a
 * transaction. `segment`: the steps among `steps` that make a new segment for its port.
 */
export function planConnection(ctx: EngineContext, c: ContainerRecord, net: NetworkRecord, req: Omit<ConnectRequest, 'container' | 'network'>): { steps: Step[]; result: AttachmentRecord; segment: Step[] } {
  const existing = ctx.store.connectionsOf(c.id);
  const place = isBridgeNetwork(net) ? placePort(ctx, net) : undefined;
  const subnet = parseSubnet(net.subnet);
  const book = addressBookOf(ctx, net);
  const ip = req.ip !== undefined ? reserveAddress(subnet, net.gateway, book, req.ip, net.name) : allocateAddress(subnet, net.gateway, book, { start: net.rangeStart, end: net.rangeEnd });
  // Dual stack: the lowest free IPv6 address too, as a first network gives.
  const { ip6, ip6Offset } = address6On(ctx, net, req.ip6);
  const a: AttachmentRecord = { containerId: c.id, networkId: net.id, ifname: nextIfname(c, existing), ip, hostVeth: isBridgeNetwork(net) ? attachmentVeth(c.id, net.id) : null, segment: place?.segment ?? 0, aliases: req.aliases ?? [], ip6, ip6Offset, mac: null };
  ctx.store.insertAttachment(a);
  const segment = place?.steps ?? [];
  return { steps: [...segment, ...planConnect(net, c, a, place?.bridge)], result: a, segment };
}

export function disconnectNetwork(ctx: EngineContext, network: string, container: string): void {
  ctx.locked(() => {
    const net = findNetwork(ctx, network);
    const c = findContainer(ctx, container);
    if (c.networkId === net.id) {
      throw new InvalidArgumentError(`network ${net.name} is the first network of container ${c.name} (its ${c.ifname}, with the default route); it goes with the container: ctnet rm -f ${c.name}`);
    }
    const a = ctx.store.connectionsOf(c.id).find((x) => x.networkId === net.id);
    if (!a) throw new ConflictError(`container ${c.name} is not connected to network ${net.name}`);
    // Deleting the host end deletes the pair, the container's ethN with it.
    // A macvlan has no host end: its interface in the container goes.
    const guard = attachmentGuard(a, net);
    const ops: Op[] = a.hostVeth !== null
      ? [
          { op: 'link.del', name: a.hostVeth },
          ...(guard ? [{ op: 'nft.elements' as const, verb: 'delete' as const, elements: guardSetElements(guard), missingOk: true }] : []),
          ...hostNeighbourDeletions(hostNeighboursOf(net, [a.ip, a.ip6])),
        ]
      : [{ op: 'link.del', name: a.ifname, netns: c.netns ?? undefined }];
    ctx.warnAll(ctx.applyBestEffort(ops));
    ctx.store.transaction(() => ctx.store.deleteAttachment(c.id, net.id));
  });
}
