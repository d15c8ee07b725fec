import { randomHex } from '../crypto.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { defaultGateway } from '../ipam/allocator.js';
import { broadcast, checkNetworkSubnet, contains, overlaps, parseIPv4, parseSubnet, subnetOf, toInt, type Subnet } from '../addr/ipv4.js';
import { pickFreeSubnet } from '../ipam/subnet-pool.js';
import { readSysctl } from '../kernel/sysctl.js';
import { hasTable } from '../kernel/nft.js';
import { DEFAULT_MTU, DEFAULT_NETWORK, NFT_FAMILY, NFT_TABLE, linkAlias, isOwnLinkAlias } from '../names.js';
import { ensureDns, hasEmbeddedDns } from './dns.js';
import { IP_FORWARD, IPV6_FORWARD, planCreateNetwork, planOverlayDevice } from '../plan/network-plan.js';
import type { Step } from '../plan/ops.js';
import { FORWARD6_BEFORE, FORWARD_BEFORE, tearDownNetwork } from './network-teardown.js';
import { checkNetworkSubnet6, gateway6Of, overlaps6, parseSubnet6 } from '../addr/ipv6.js';
import type { IPv4 } from '../addr/family.js';
import { RESERVED_NETWORK_NAMES } from './network-mode.js';
import { BRIDGE_OPTIONS, auxAddressesOf, ipRangeOf, parseDriver, parseDriverOptions, type DriverOptions } from './network-options.js';
import { isBridgeNetwork, type BridgeNetwork, type NetworkRecord, type OverlaySpec } from '../store/store.js';
import type { EngineContext } from './context.js';
import { repairSegments } from './segments.js';
import { bridgeTableShape, firewallScript, firewallScriptFrom } from './firewall-state.js';
import { reconcile } from './reconcile.js';
import { validateIfname, validateMtu, validateName } from './validate.js';

export interface CreateNetworkRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  /** Hand out addresses only from this range of the subnet (CNI host-local rangeStart/rangeEnd). */
  rangeStart?: string;
  rangeEnd?: string;
  /** false: routed mode, no masquerade for the subnet (default true). */
  ipMasq?: boolean;
  /** false: containers get no default route (default true). */
  defaultRoute?: boolean;
  bridge?: string;
  internal?: boolean;
  mtu?: number;
  /** false: no embedded DNS on this network (CNI networks; default true, except Docker's default bridge). */
  dns?: boolean;
  /** Dual stack: an IPv6 subnet beside the IPv4 one (its gateway is its first address). */
  subnet6?: string;
  /** --ip-range: containers get addresses of this CIDR inside the subnet only. */
  ipRange?: string;
  /** --aux-address NAME=IP: addresses never handed out. */
  auxAddresses?: Record<string, string>;
  labels?: Record<string, string>;
  /** -o KEY=VALUE: Docker's driver options (see network-options.ts). */
  options?: Record<string, string>;
  /** -d: bridge (the default). */
  driver?: string;
  /** false: other hosts may route to the containers of a masquerading network directly (CNI's default, as `bridge`); default true (Docker 28). */
  blockDirect?: boolean;
  /** This host's part of an overlay network (engine/overlay.ts makes it: `subnet` is then the host's block). */
  overlay?: OverlaySpec;
}


interface HostRoute {
  subnet: Subnet;
  dev: string;
}

/** The host's IPv4 routes (main table) that a new network must not overlap; default routes overlap nothing. */
function hostRoutes(ctx: EngineContext, ownBridges: ReadonlySet<string>): HostRoute[] {
  const rtnl = ctx.kernel().rtnl();
  // Each route's link by its index: listing every link fills every container's veth (see Rtnl.listLinks).
  const names = new Map<number, string>();
  const dev = (oif: number | undefined): string => {
    if (oif === undefined) return '?';
    if (!names.has(oif)) names.set(oif, rtnl.findLinkByIndex(oif)?.name ?? '?');
    return names.get(oif) as string;
  };
  return rtnl
    .listRoutes()
    .filter((r) => r.table === 254 && r.dstLen > 0)
    .map((r) => ({ subnet: subnetOf(toInt(r.dst), r.dstLen), dev: dev(r.oif) }))
    .filter((r) => !ownBridges.has(r.dev));
}

function chooseGateway(subnet: Subnet, requested: string | undefined): IPv4 {
  if (requested === undefined) return defaultGateway(subnet);
  const gw = parseIPv4(requested, '--gateway');
  if (!contains(subnet, gw)) throw new InvalidArgumentError(`--gateway ${gw} is outside subnet ${subnet.cidr}; pick an address inside it (e.g. ${defaultGateway(subnet)})`);
  const n = toInt(gw);
  if (n === subnet.base || n === broadcast(subnet)) throw new InvalidArgumentError(`--gateway ${gw} is the network or broadcast address of ${subnet.cidr}; pick a host address`);
  return gw;
}

/** The request with Docker's -o options folded in, checked before anything changes. */
function checkCreate(req: CreateNetworkRequest): CreateNetworkRequest & { driverOptions: DriverOptions } {
  validateName('network', req.name);
  if (RESERVED_NETWORK_NAMES.includes(req.name)) {
    throw new InvalidArgumentError(`network name ${req.name} is reserved: ctnet run --network ${req.name} means Docker's ${req.name} mode; pick another name`);
  }
  const driver = parseDriver(req.driver);
  const driverOptions = parseDriverOptions(driver, req.options ?? {});
  if (driverOptions.bridge !== undefined && req.bridge !== undefined && driverOptions.bridge !== req.bridge) {
    throw new InvalidArgumentError(`--bridge ${req.bridge} and -o ${BRIDGE_OPTIONS.name}=${driverOptions.bridge} disagree; give one`);
  }
  if (driverOptions.mtu !== undefined && req.mtu !== undefined && driverOptions.mtu !== req.mtu) {
    throw new InvalidArgumentError(`--mtu ${req.mtu} and -o ${BRIDGE_OPTIONS.mtu}=${driverOptions.mtu} disagree; give one`);
  }
  if (driverOptions.ipMasq !== undefined && req.ipMasq !== undefined && driverOptions.ipMasq !== req.ipMasq) {
    throw new InvalidArgumentError(`--ip-masq ${req.ipMasq} and -o ${BRIDGE_OPTIONS.masquerade}=${driverOptions.ipMasq} disagree; give one`);
  }
  for (const key of Object.keys(req.labels ?? {})) {
    if (!key || /[\s=]/.test(key)) throw new InvalidArgumentError(`invalid --label "${key}": expected KEY=VALUE with a KEY of no spaces`);
  }
  const merged = { ...req, bridge: req.bridge ?? driverOptions.bridge, mtu: req.mtu ?? driverOptions.mtu, ipMasq: req.ipMasq ?? driverOptions.ipMasq, driverOptions };
  if ((req.ipRange !== undefined || Object.keys(req.auxAddresses ?? {}).length) && req.subnet === undefined) {
    throw new InvalidArgumentError(`${req.ipRange !== undefined ? '--ip-range' : '--aux-address'} needs --subnet: both are addresses of the subnet you give`);
  }
  if (req.ipRange !== undefined && (req.rangeStart !== undefined || req.rangeEnd !== undefined)) throw new InvalidArgumentError('give --ip-range or rangeStart/rangeEnd, not both');
  return merged;
}

export function createNetwork(ctx: EngineContext, given: CreateNetworkRequest): NetworkRecord {
  const req = checkCreate(given);
  if (req.bridge !== undefined) validateIfname(req.bridge, '--bridge');
  const mtu = validateMtu(req.mtu) ?? DEFAULT_MTU;
  const requestedSubnet = req.subnet !== undefined ? checkNetworkSubnet(parseSubnet(req.subnet)) : undefined;
  if (requestedSubnet) {
    const gateway = chooseGateway(requestedSubnet, req.gateway);
    checkRange(requestedSubnet, req.rangeStart, req.rangeEnd);
    if (req.ipRange !== undefined) ipRangeOf(requestedSubnet, req.ipRange);
    auxAddressesOf(requestedSubnet, gateway, req.auxAddresses ?? {});
  }
  else if (req.gateway !== undefined) throw new InvalidArgumentError('--gateway needs --subnet; give both, or neither to let ctnet choose');
  const subnet6 = req.subnet6 !== undefined ? checkNetworkSubnet6(parseSubnet6(req.subnet6)) : undefined;
  if (req.driverOptions.parent !== null) checkMacvlan(req, requestedSubnet, subnet6);
  ctx.requireChangeRights();

  return ctx.locked(() => {
    if (!ctx.dryRun) reconcile(ctx);
    if (ctx.store.findNetwork(req.name)) throw new ConflictError(`network ${req.name} already exists; pick another name or remove it with: ctnet network rm ${req.name}`);
    const others = ctx.store.listNetworks();
    const id = randomHex(32);
    const parent = req.driverOptions.parent;
    const port = parent !== null ? checkParent(ctx, parent, others) : checkBridgeName(ctx, req.bridge ?? `br-${id.slice(0, 12)}`, others);
    // A macvlan subnet is the parent's segment, which the host routes already: only other networks may not overlap it.
    const subnet = parent !== null ? notOverlapping(requestedSubnet as Subnet, others) : freeSubnet(ctx, requestedSubnet, subnet6, others);
    const gateway = chooseGateway(subnet, req.gateway);
    const common = {
      id, name: req.name, subnet: subnet.cidr, gateway,
      internal: req.internal === true, mtu, createdAt: new Date().toISOString(), state: 'creating' as const,
      ...(req.ipRange !== undefined ? ipRangeOf(subnet, req.ipRange) : checkRange(subnet, req.rangeStart, req.rangeEnd)),
      ipMasq: req.ipMasq !== false, defaultRoute: req.defaultRoute !== false,
      subnet6: subnet6?.cidr ?? null, gateway6: subnet6 ? gateway6Of(subnet6) : null,
      labels: req.labels ?? {}, ipRange: req.ipRange ?? null, auxAddresses: auxAddressesOf(subnet, gateway, req.auxAddresses ?? {}),
      icc: req.driverOptions.icc, hostBindingIpv4: req.driverOptions.hostBindingIpv4, blockDirect: req.blockDirect !== false,
      overlay: req.overlay ?? null,
    };
    if (port.kind === 'macvlan') {
      // Nothing to make in the host namespace: the parent is there; containers get their macvlans when they start.
      const record: NetworkRecord = { ...common, driver: 'macvlan', bridge: null, parent: port.parent, dns: false, ipMasq: false, state: 'ready' };
      return ctx.transact(() => (ctx.store.insertNetwork(record), { steps: [], result: record }));
    }
    const record: BridgeNetwork = { ...common, driver: 'bridge', bridge: port.bridge, parent: null, dns: req.dns !== false && req.name !== DEFAULT_NETWORK.name };
    return makeBridgeNetwork(ctx, record, others.filter(isBridgeNetwork), port.leftover);
  });
}

/** macvlan networks sit on the parent's segment: its subnet and its router (the gateway) are given, and nothing of a bridge applies. */
function checkMacvlan(req: CreateNetworkRequest & { driverOptions: DriverOptions }, subnet: Subnet | undefined, subnet6: unknown): void {
  if (!subnet) throw new InvalidArgumentError("-d macvlan needs --subnet (and usually --gateway): the addresses of the parent's segment, e.g. --subnet 192.168.1.0/24 --gateway 192.168.1.1");
  if (subnet6) throw new InvalidArgumentError('-d macvlan networks are IPv4 for now; drop --ipv6');
  if (req.internal) throw new InvalidArgumentError('-d macvlan with --internal: a macvlan network is the parent\'s segment, it cannot be internal; use a bridge network');
  if (req.bridge !== undefined) throw new InvalidArgumentError('-d macvlan has no bridge; drop --bridge');
  if (req.ipMasq === false) throw new InvalidArgumentError('-d macvlan: containers are on the segment with their own addresses, there is no masquerade to turn off; drop --ip-masq');
}

/** The parent: a host interface that is not one of ctnet's bridges, and not the parent of another macvlan network (as Docker). */
function checkParent(ctx: EngineContext, parent: string, others: readonly NetworkRecord[]): { kind: 'macvlan'; parent: string } {
  validateIfname(parent, '-o parent');
  const link = ctx.kernel().rtnl().findLink(parent);
  if (!link) throw new InvalidArgumentError(`-o parent=${parent}: the host has no interface ${parent}; name the interface of the segment, e.g. eth0`);
  const owner = others.find((n) => n.bridge === parent || n.parent === parent);
  if (owner) throw new ConflictError(`-o parent=${parent}: ${owner.bridge === parent ? 'it is the bridge of' : 'it is already the parent of'} network ${owner.name}; pick another interface (or a VLAN of it)`);
  return { kind: 'macvlan', parent };
}

/** A bridge name no other network has and no foreign link holds; a leftover bridge of this state directory is taken over. */
function checkBridgeName(ctx: EngineContext, bridge: string, others: readonly NetworkRecord[]): { kind: 'bridge'; bridge: string; leftover: boolean } {
  const owner = others.find((n) => n.bridge === bridge || n.parent === bridge);
  if (owner) throw new ConflictError(`bridge ${bridge} already belongs to network ${owner.name}; pick another --bridge`);
  const link = ctx.kernel().rtnl().findLink(bridge);
  // A bridge this state directory made and no network names (a removal whose delete failed) is ours to replace.
  const leftover = link?.kind === 'bridge' && isOwnLinkAlias(link.alias, ctx.store.instanceId());
  if (link && !leftover) throw new ConflictError(`a link named ${bridge} already exists on the host; pick another --bridge`);
  return { kind: 'bridge', bridge, leftover };
}

/**
 * The crash protocol for a bridge network: the record (creating) and forwarding as it was are
 * committed, then the kernel is changed, then the record is marked ready; a failure undoes both.
 */
function makeBridgeNetwork(ctx: EngineContext, record: BridgeNetwork, others: readonly BridgeNetwork[], leftover: boolean): NetworkRecord {
  const store = ctx.store;
  const forwardingBefore = ctx.kernel().inHost(() => readSysctl(IP_FORWARD));
  const forwarding6Before = record.subnet6 && !others.some((o) => o.subnet6) ? ctx.kernel().inHost(() => readSysctl(IPV6_FORWARD)) : undefined;
  const intent = (): { steps: Step[]; result: NetworkRecord } => {
    if (others.length === 0 && forwardingBefore !== undefined) store.setMeta(FORWARD_BEFORE, forwardingBefore);
    if (forwarding6Before !== undefined) store.setMeta(FORWARD6_BEFORE, forwarding6Before);
    const before = bridgeTableShape(store);
    const after = { table: true, hooks: before.hooks || !record.icc };
    const undo = firewallScriptFrom(store, after, before);
    store.insertNetwork(record);
    return { steps: planCreateNetwork({ ...record, alias: linkAlias(store.instanceId(), record.id) }, { apply: firewallScriptFrom(store, before), undo }), result: record };
  };
  if (ctx.dryRun) return ctx.transact(intent);
  // Every check passed: only now the leftover goes.
  if (leftover) ctx.apply([{ do: { op: 'link.del', name: record.bridge }, undo: null }]);
  const { steps } = store.transaction(intent);
  try {
    ctx.apply(steps);
  } catch (err) {
    // The executor undid the kernel steps; the intent goes too.
    store.transaction(() => {
      store.deleteNetwork(record.id);
      if (others.length === 0) store.setMeta(FORWARD_BEFORE, undefined);
      if (forwarding6Before !== undefined) store.setMeta(FORWARD6_BEFORE, undefined);
    });
    throw err;
  }
  ctx.crashPoint();
  const created = { ...record, state: 'ready' as const };
  store.transaction(() => store.setNetworkState(record.id, 'ready'));
  if (hasEmbeddedDns(created)) ensureDns(ctx);
  return created;
}

/**
 * Attaches on the network `make` returns (creating it on first use); when this call made it and the
 * attach is refused, the network goes again: a refused command changes nothing.
 */
export function onNetworkMadeIfNeeded<T>(ctx: EngineContext, name: string, make: (existing: NetworkRecord | undefined) => NetworkRecord, attach: (net: NetworkRecord) => T): T {
  const existing = ctx.store.findNetwork(name);
  const fresh = existing === undefined;
  const net = make(existing);
  try {
    return attach(net);
  } catch (err) {
    if (fresh) dropNetwork(ctx, net);
    throw err;
  }
}

/** Removes a network this command created for a container that then could not be set up. */
function dropNetwork(ctx: EngineContext, net: NetworkRecord): void {
  if (ctx.dryRun) return;
  ctx.store.transaction(() => ctx.store.setNetworkState(net.id, 'removing'));
  ctx.warnAll(tearDownNetwork(ctx, { ...net, state: 'removing' }));
}

/** rangeStart and rangeEnd inside the subnet, in order: an inverted range would be stored and fail every later attach. */
function checkRange(subnet: Subnet, start: string | undefined, end: string | undefined): { rangeStart: string | null; rangeEnd: string | null } {
  const rangeStart = checkInRange(subnet, start, 'rangeStart');
  const rangeEnd = checkInRange(subnet, end, 'rangeEnd');
  if (rangeStart && rangeEnd && toInt(rangeStart) > toInt(rangeEnd)) {
    throw new InvalidArgumentError(`rangeStart ${rangeStart} is above rangeEnd ${rangeEnd}; swap them`);
  }
  return { rangeStart, rangeEnd };
}

function notOverlapping(subnet: Subnet, others: readonly NetworkRecord[]): Subnet {
  for (const n of others) {
    if (overlaps(subnet, parseSubnet(n.subnet))) throw new ConflictError(`subnet ${subnet.cidr} overlaps network ${n.name} (${n.subnet}); pick another --subnet`);
  }
  return subnet;
}

/** The requested subnet (or a free one picked), checked against every network's and the host's routes; the IPv6 one against networks'. */
function freeSubnet(ctx: EngineContext, requested: Subnet | undefined, subnet6: ReturnType<typeof parseSubnet6> | undefined, others: readonly NetworkRecord[]): Subnet {
  const routes = hostRoutes(ctx, new Set(others.filter(isBridgeNetwork).map((n) => n.bridge)));
  const subnet = notOverlapping(requested ?? pickFreeSubnet([...others.map((n) => parseSubnet(n.subnet)), ...routes.map((r) => r.subnet)]), others);
  for (const r of routes) {
    if (overlaps(subnet, r.subnet)) throw new ConflictError(`subnet ${subnet.cidr} overlaps the host's route to ${r.subnet.cidr} (dev ${r.dev}); pick another --subnet`);
  }
  for (const n of others.filter((o) => o.subnet6)) {
    if (subnet6 && overlaps6(subnet6, parseSubnet6(n.subnet6 as string))) throw new ConflictError(`subnet ${subnet6.cidr} overlaps network ${n.name} (${n.subnet6}); pick another IPv6 --subnet`);
  }
  return subnet;
}

function checkInRange(subnet: Subnet, ip: string | undefined, what: string): string | null {
  if (ip === undefined) return null;
  const parsed = parseIPv4(ip, what);
  if (!contains(subnet, parsed)) throw new InvalidArgumentError(`${what} ${parsed} is outside subnet ${subnet.cidr}; pick an address inside it`);
  return parsed;
}

export function findNetwork(ctx: EngineContext, name: string): NetworkRecord {
  const n = ctx.store.findNetwork(name);
  if (!n) throw new NotFoundError(`network ${name} does not exist; list networks with ctnet network ls or create it with ctnet network create ${name}`);
  return n;
}

/**
 * Puts back a network's bridge (and then ctnet's table) when something removed it, as a reboot
 * does: one look-up when all is well. An attach does not call it for a plain bridge: the bridge, like
 * a table flushed on its own, is noticed missing when the plan meets it (see `applyRepairing`).
 */
export function ensureNetworkPresent(ctx: EngineContext, net: NetworkRecord): void {
  if (ctx.dryRun) return;
  if (!isBridgeNetwork(net)) {
    if (!ctx.kernel().rtnl().findLink(net.parent)) throw new ConflictError(`network ${net.name}: its parent interface ${net.parent} is gone from the host; bring it back or remove the network`);
    return;
  }
  const shape = { ...net, alias: linkAlias(ctx.store.instanceId(), net.id) };
  if (ctx.kernel().rtnl().findLink(net.bridge)) {
    // An overlay whose VXLAN device went alone: the device again (the cluster agent programs its peers).
    if (net.overlay && !ctx.kernel().rtnl().findLink(net.overlay.device)) ctx.apply(planOverlayDevice(shape));
    return;
  }
  ctx.apply(planCreateNetwork(shape, { apply: '', undo: '' }).filter((s) => s.do.op !== 'nft'));
  restoreFirewall(ctx);
  // Its segments' trunks were ports of the bridge that went.
  repairSegments(ctx, net);
}

/** `ctnet firewall reload`: ctnet's table from state, other tables untouched; nothing when ctnet has no network and no table. */
export function reloadFirewall(ctx: EngineContext): void {
  ctx.requireChangeRights();
  ctx.locked(() => {
    if (ctx.store.listNetworks().length || ctnetTableExists(ctx)) restoreFirewall(ctx);
  });
}

/** Renders ctnet's table anew from state (after a flush, or when a bridge had to be rebuilt). */
export function restoreFirewall(ctx: EngineContext): void {
  ctx.apply([{ do: { op: 'nft', script: firewallScript(ctx.store) }, undo: null }]);
}

export function ctnetTableExists(ctx: EngineContext): boolean {
  return hasTable(ctx.kernel().nfnl(), NFT_FAMILY, NFT_TABLE);
}

/** The network a container asks for (`n`: its record, if there is one); the default `bridge` network is created on first use, like docker0. */
export function networkForRun(ctx: EngineContext, name: string, n: NetworkRecord | undefined): NetworkRecord {
  if (n) {
    // A plain bridge that is gone is noticed when the container's veth cannot join it (see applyRepairing).
    if (!isBridgeNetwork(n) || n.overlay) ensureNetworkPresent(ctx, n);
    return n;
  }
  if (name === DEFAULT_NETWORK.name) return createNetwork(ctx, { name, subnet: DEFAULT_NETWORK.subnet, bridge: DEFAULT_NETWORK.bridge });
  return findNetwork(ctx, name);
}

/**
 * `network prune`: every network no container uses (none on it, none connected), but the default
 * one, which ctnet makes on first use as Docker predefines its own. Returns what went, with warnings.
 */
export function pruneNetworks(ctx: EngineContext, only: (n: NetworkRecord) => boolean = () => true): { removed: string[]; warnings: Error[] } {
  ctx.requireChangeRights();
  return ctx.locked(() => {
    if (!ctx.dryRun) reconcile(ctx);
    const unused = ctx.store.listNetworks().filter((n) => n.name !== DEFAULT_NETWORK.name && only(n) && ctx.store.containersOn(n.id).length === 0 && ctx.store.connectionsOn(n.id).length === 0);
    const warnings = unused.flatMap((n) => removeNetwork(ctx, n.id));
    return { removed: unused.map((n) => n.name), warnings };
  });
}

/** Removes a network's firewall entries and bridge; refuses while containers are attached. Returns warnings. */
export function removeNetwork(ctx: EngineContext, name: string): Error[] {
  ctx.requireChangeRights();
  return ctx.locked(() => {
    if (!ctx.dryRun) reconcile(ctx);
    const net = findNetwork(ctx, name);
    const attached = ctx.store.containersOn(net.id);
    if (attached.length) {
      const names = attached.map((c) => c.name).join(' ');
      throw new ConflictError(`network ${net.name} still has containers attached (${names}); remove them first with: ctnet rm -f ${names}`);
    }
    const connected = ctx.store.connectionsOn(net.id).map((a) => ctx.store.getContainer(a.containerId)?.name ?? a.containerId);
    if (connected.length) {
      throw new ConflictError(`network ${net.name} still has containers connected (${connected.join(' ')}); disconnect them first with: ctnet network disconnect ${net.name} NAME`);
    }
    // Marked first, so a removal killed part-way is finished by the next command, never undone.
    const removing = { ...net, state: 'removing' as const };
    if (ctx.dryRun) return ctx.transact(() => (ctx.store.setNetworkState(net.id, 'removing'), { steps: [], result: tearDownNetwork(ctx, removing) }));
    ctx.store.transaction(() => ctx.store.setNetworkState(net.id, 'removing'));
    return tearDownNetwork(ctx, removing);
  });
}
