import { InvalidArgumentError, NotFoundError, KernelError } from '../errors.js';
import { allocateAddress } from '../ipam/allocator.js';
import { parseSubnet } from '../addr/ipv4.js';
import { parseSubnet6 } from '../addr/ipv6.js';
import type { PortRequest } from '../ipam/ports.js';
import { requireLibnftables } from '../kernel/nft.js';
import { bridgeMac } from '../plan/network-plan.js';
import { isBridgeNetwork, type ContainerRecord, type NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { attachCni, type CniTarget } from './containers.js';
import { createNetwork, onNetworkMadeIfNeeded } from './networks.js';
import { lookAt } from '../kernel/files.js';
import { netnsPath } from '../kernel/netns.js';
import { detachContainer } from './teardown.js';
import { addressBookOf } from './address-book.js';
import { assertNetworkRoom, portBridge, segmentFault } from './segments.js';

/** The network a CNI configuration describes (bridge plugin and host-local IPAM keys, already validated). */
export interface CniNetworkSpec {
  name: string;
  bridge: string;
  subnet: string;
  gateway?: string;
  rangeStart?: string;
  rangeEnd?: string;
  mtu?: number;
  ipMasq: boolean;
  defaultRoute: boolean;
  /** ctnet's key `blockDirectAccess`: Docker 28's block of routed access to a masquerading network (off, as the bridge plugin). */
  blockDirect: boolean;
  /** Dual stack: an IPv6 range's subnet. */
  subnet6?: string;
  /** ipam.routes besides the default ones, put in every attachment's namespace. */
  routes?: { dst: string; gw?: string }[];
}

export interface CniAttachment {
  network: NetworkRecord;
  container: ContainerRecord;
  bridgeMac: string;
  hostVethMac?: string;
  containerMac?: string;
  /** ipam.routes besides the default ones, as the result lists them. */
  routes?: { dst: string; gw?: string }[];
}

/** The network for a CNI config: created on first ADD; a later config must describe the same network. */
function cniNetwork(ctx: EngineContext, spec: CniNetworkSpec): NetworkRecord {
  const existing = ctx.store.findNetwork(spec.name);
  if (existing && !isBridgeNetwork(existing)) {
    throw new InvalidArgumentError(`network ${spec.name} is a macvlan network of ctnet's; the CNI plugin attaches to bridge networks (give this configuration another name)`);
  }
  if (!existing) {
    createNetwork(ctx, {
      name: spec.name, bridge: spec.bridge, subnet: spec.subnet, gateway: spec.gateway, mtu: spec.mtu,
      rangeStart: spec.rangeStart, rangeEnd: spec.rangeEnd, ipMasq: spec.ipMasq, defaultRoute: spec.defaultRoute, dns: false, subnet6: spec.subnet6, blockDirect: spec.blockDirect,
    });
    return ctx.store.findNetwork(spec.name) as NetworkRecord;
  }
  const subnet = parseSubnet(spec.subnet).cidr;
  // An overlay's subnet is the whole network's; this node's part is a block of it on a bridge of its own.
  if (existing.overlay) {
    if (existing.overlay.clusterSubnet !== subnet) throw new InvalidArgumentError(`overlay network ${spec.name} spans ${existing.overlay.clusterSubnet}; this config says ${subnet} (give the network another name)`);
    return existing;
  }
  if (existing.subnet !== subnet || existing.bridge !== spec.bridge) {
    throw new InvalidArgumentError(
      `network ${spec.name} already exists with subnet ${existing.subnet} on bridge ${existing.bridge}; this config says ${subnet} on ${spec.bridge} (give the network another name)`,
    );
  }
  if ((existing.subnet6 ?? undefined) !== (spec.subnet6 ? parseSubnet6(spec.subnet6).cidr : undefined)) {
    throw new InvalidArgumentError(`network ${spec.name} already exists with IPv6 subnet ${existing.subnet6 ?? 'none'}; this config says ${spec.subnet6 ?? 'none'} (give the network another name)`);
  }
  if (existing.blockDirect !== spec.blockDirect) {
    throw new InvalidArgumentError(`network ${spec.name} already exists with blockDirectAccess ${existing.blockDirect}; this config says ${spec.blockDirect} (give the network another name)`);
  }
  if (existing.ipMasq !== spec.ipMasq || existing.defaultRoute !== spec.defaultRoute) {
    throw new InvalidArgumentError(`network ${spec.name} already exists with ipMasq ${existing.ipMasq} and a default route ${existing.defaultRoute ? 'on' : 'off'}; this config differs (give the network another name)`);
  }
  return existing;
}

function describe(ctx: EngineContext, network: NetworkRecord, container: ContainerRecord): CniAttachment {
  const host = ctx.kernel().rtnl();
  const inside = container.netns ? ctx.kernel().rtnl(container.netns) : undefined;
  return {
    network,
    container,
    bridgeMac: bridgeMac(network.id),
    hostVethMac: container.hostVeth ? host.findLink(container.hostVeth)?.mac : undefined,
    containerMac: inside?.findLink(container.ifname)?.mac,
  };
}

/** CNI ADD: the runtime's namespace gets an interface on the network's bridge, an address, routes and ports. */
export function cniAdd(ctx: EngineContext, spec: CniNetworkSpec, target: CniTarget, ports: PortRequest[], ip?: string): CniAttachment {
  // libnftables is loaded (and required) only when the network is made: an attachment's own
  // firewall elements go by netlink, as `run`'s do (its load was ~10 ms of an ADD without the daemon).
  checkTargetNetns(ctx, target.netnsPath);
  return ctx.locked(() => {
    // A refused ADD leaves nothing, the network it made included.
    return onNetworkMadeIfNeeded(ctx, spec.name, () => cniNetwork(ctx, spec), (network) => {
      const container = attachCni(ctx, { network: network.name, ip, cni: { ...target, routes: spec.routes ?? [] } }, ports);
      return { ...describe(ctx, network, container), routes: spec.routes ?? [] };
    });
  });
}

/**
 * CNI_NETNS must be a network namespace, and not the host's own: ADD would put the container's
 * interface and address into the host.
 */
function checkTargetNetns(ctx: EngineContext, path: string): void {
  const target = lookAt(path);
  if (!target) throw new NotFoundError(`CNI_NETNS ${path} does not exist; the runtime must create the container's network namespace first`);
  const host = lookAt(ctx.options.hostNetns ? netnsPath(ctx.options.hostNetns) : '/proc/thread-self/ns/net');
  if (!host || target.dev !== host.dev) throw new InvalidArgumentError(`CNI_NETNS ${path} is not a network namespace; give the container's (e.g. /var/run/netns/NAME)`);
  if (target.ino === host.ino) throw new InvalidArgumentError(`CNI_NETNS ${path} is the host's own network namespace; give the container's`);
}

/** CNI DEL: removes what ADD made; an attachment, namespace or network that is already gone counts as removed. */
export function cniDel(ctx: EngineContext, networkName: string, containerId: string, ifname: string): void {
  ctx.locked(() => {
    const network = ctx.store.findNetwork(networkName);
    const c = network && ctx.store.findCniAttachment(network.id, containerId, ifname);
    if (!c) return;
    ctx.warnAll(detachContainer(ctx, c));
    ctx.store.transaction(() => ctx.store.deleteContainer(c.id));
  });
}

/** CNI CHECK: the attachment exists and the kernel still has its interface, address, route and bridge port. */
export function cniCheck(ctx: EngineContext, networkName: string, containerId: string, ifname: string): void {
  const network = ctx.store.findNetwork(networkName);
  const c = network && ctx.store.findCniAttachment(network.id, containerId, ifname);
  if (!network || !c || !c.netns) throw new NotFoundError(`no attachment of container ${containerId} (${ifname}) on network ${networkName}`);
  const inside = ctx.kernel().rtnl(c.netns);
  const link = inside.findLink(ifname);
  if (!link) throw new KernelError(`interface ${ifname} is missing in ${c.netns}`);
  if (!link.up) throw new KernelError(`interface ${ifname} in ${c.netns} is down`);
  const prefix = parseSubnet(network.subnet).prefix;
  if (!inside.listAddresses().some((a) => a.index === link.index && a.address === c.ip && a.prefix === prefix)) {
    throw new KernelError(`address ${c.ip}/${prefix} is missing on ${ifname} in ${c.netns}`);
  }
  if (!network.internal && network.defaultRoute && !inside.listRoutes().some((r) => r.dstLen === 0 && r.gateway === network.gateway && r.table === 254)) {
    throw new KernelError(`default route via ${network.gateway} is missing in ${c.netns}`);
  }
  const host = ctx.kernel().rtnl();
  if (!isBridgeNetwork(network)) throw new NotFoundError(`network ${networkName} is not a bridge network of ctnet's`);
  const on = portBridge(network, c.segment);
  const bridge = host.findLink(on);
  const veth = c.hostVeth ? host.findLink(c.hostVeth) : undefined;
  if (!bridge || !veth || veth.master !== bridge.index) throw new KernelError(`${c.hostVeth} is not a port of bridge ${on}`);
  const fault = on === network.bridge ? undefined : segmentFault(ctx, network, c.segment);
  if (fault) throw new KernelError(fault);
}

/** CNI GC: every attachment of the network that the runtime does not list as valid is removed. Returns how many. */
export function cniGc(ctx: EngineContext, networkName: string, valid: readonly { containerID: string; ifname: string }[]): number {
  ctx.requireChangeRights();
  return ctx.locked(() => {
    const network = ctx.store.findNetwork(networkName);
    if (!network) return 0;
    const keep = new Set(valid.map((v) => `${v.containerID}/${v.ifname}`));
    let removed = 0;
    for (const c of ctx.store.containersOn(network.id)) {
      if (c.kind !== 'cni' || keep.has(`${c.cniContainerId}/${c.ifname}`)) continue;
      ctx.warnAll(detachContainer(ctx, c));
      ctx.store.transaction(() => ctx.store.deleteContainer(c.id));
      removed++;
    }
    return removed;
  });
}

/** CNI STATUS: why ADD would fail now, or undefined when it would not. */
export function cniStatus(ctx: EngineContext, spec: CniNetworkSpec): string | undefined {
  try {
    requireLibnftables();
  } catch (err) {
    return (err as Error).message;
  }
  const network = ctx.store.findNetwork(spec.name);
  if (network) {
    try {
      assertNetworkRoom(ctx, network);
    } catch (err) {
      return (err as Error).message;
    }
    const subnet = parseSubnet(network.subnet);
    const range = { start: network.rangeStart, end: network.rangeEnd };
    try {
      allocateAddress(subnet, network.gateway, addressBookOf(ctx, network), range);
    } catch {
      return `the address pool of network ${network.name} (${range.start && range.end ? `${range.start}-${range.end}` : network.subnet}) is exhausted`;
    }
  }
  return undefined;
}
