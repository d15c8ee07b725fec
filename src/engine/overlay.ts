import { randomHex } from '../crypto.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { checkNetworkSubnet, parseIPv4, parseSubnet } from '../addr/ipv4.js';
import { checkBlockPrefix, DEFAULT_BLOCK_PREFIX, pickFreeBlock } from '../ipam/blocks.js';
import { parseEndpoints, type ClusterApi, type ClusterConfig, type OverlayDefinition } from '../store/cluster.js';
import { openCluster } from './cluster-client.js';
import { agentRunning, clusterConfig, CONFIG, ensureAgent, LEASE, stopAgent } from './cluster-membership.js';
import type { NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { createNetwork, findNetwork, removeNetwork, type CreateNetworkRequest } from './networks.js';
import { validateName } from './validate.js';
import { DEFAULT_NETWORK } from '../names.js';
import { RESERVED_NETWORK_NAMES } from './network-mode.js';

/**
 * Overlay networks: one network across the hosts of a cluster (flannel's model). The network and
 * its VNI are recorded in etcd once; each host that uses it leases a block of its subnet (one
 * transaction, under the host's lease) and makes a local bridge network over that block with a
 * VXLAN device; the cluster agent (cluster-agent.ts) keeps the lease alive and programs one route,
 * neighbour and FDB entry per remote host.
 */

/** The block a network had here last (a host that comes back asks for it again). */
const lastBlockKey = (network: string): string => `cluster.block.${network}`;
/** VXLAN over IPv4: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 bytes. */
export const VXLAN_OVERHEAD = 50;
export const DEFAULT_TTL = 15;

function requireCluster(ctx: EngineContext): ClusterConfig {
  const config = clusterConfig(ctx);
  if (!config) throw new InvalidArgumentError('this host is in no cluster: overlay networks need one; run ctnet cluster join --store http://ETCD:2379 first');
  return config;
}

export interface JoinRequest {
  store: string;
  name?: string;
  advertise?: string;
  ttl?: number;
  tls?: ClusterConfig['tls'];
}

/** `cluster join`: checks etcd answers and the name is free, records how to reach it, starts the agent. */
export async function joinCluster(ctx: EngineContext, req: JoinRequest): Promise<ClusterConfig> {
  ctx.requireChangeRights();
  const endpoints = parseEndpoints(req.store);
  const name = req.name ?? hostname();
  validateName('host', name);
  const ttl = req.ttl ?? DEFAULT_TTL;
  if (!Number.isInteger(ttl) || ttl < 2 || ttl > 3600) throw new InvalidArgumentError(`--ttl ${req.ttl} is not a whole number of seconds from 2 to 3600`);
  const config: ClusterConfig = { endpoints, host: name, advertise: advertiseAddress(ctx, req.advertise), ttl, ...(req.tls ? { tls: req.tls } : {}) };
  const current = clusterConfig(ctx);
  if (current && JSON.stringify(current) !== JSON.stringify(config)) {
    throw new ConflictError(`this host is already in a cluster (${current.endpoints.join(',')} as ${current.host}); leave it first with ctnet cluster leave`);
  }
  const cluster = await openCluster(ctx, config);
  try {
    const other = (await cluster.hosts()).find((h) => h.name === name && h.underlay !== config.advertise);
    if (other) throw new ConflictError(`a host named ${name} (${other.underlay}) is in the cluster; give this one another --name`);
  } finally {
    cluster.close();
  }
  ctx.locked(() => ctx.store.transaction(() => ctx.store.setMeta(CONFIG, JSON.stringify(config))));
  try {
    await hostLease(ctx);
  } catch (err) {
    // Nothing half-done: a host whose agent gets no lease is not recorded as joined.
    if (!current) ctx.locked(() => (ctx.store.transaction(() => ctx.store.setMeta(CONFIG, undefined)), stopAgent(ctx)));
    throw err;
  }
  return config;
}

/** `cluster leave`: refused while overlay networks are here; stops the agent (its lease goes with it). */
export function leaveCluster(ctx: EngineContext): void {
  ctx.requireChangeRights();
  ctx.locked(() => {
    const overlays = ctx.store.listNetworks().filter((n) => n.overlay);
    if (overlays.length) throw new ConflictError(`overlay networks are still here (${overlays.map((n) => n.name).join(' ')}); remove them first with ctnet network rm`);
    ctx.store.transaction(() => {
      for (const k of [CONFIG, LEASE]) ctx.store.setMeta(k, undefined);
    });
    stopAgent(ctx);
  });
}

/** The host's address on the underlay: given (one of the host's), or the host's only global IPv4 address. */
function advertiseAddress(ctx: EngineContext, given: string | undefined): string {
  const rtnl = ctx.kernel().rtnl();
  const lo = rtnl.findLink('lo')?.index;
  const own = rtnl.listAddresses().filter((a) => a.index !== lo && !a.address.startsWith('169.254.')).map((a) => a.address);
  if (given !== undefined) {
    const ip = parseIPv4(given, '--advertise');
    if (!own.includes(ip)) throw new InvalidArgumentError(`--advertise ${ip} is not an address of this host (it has ${own.join(', ') || 'none'}); give one of them`);
    return ip;
  }
  if (own.length !== 1) throw new InvalidArgumentError(`this host has ${own.length} IPv4 addresses (${own.join(', ')}); say which one other hosts reach it at with --advertise IP`);
  return own[0];
}

/** The lease this host's entries live under (the agent grants it and keeps it alive); starts the agent if needed. */
export async function hostLease(ctx: EngineContext): Promise<string> {
  ctx.locked(() => ensureAgent(ctx));
  for (let i = 0; i < 100; i++) {
    const lease = ctx.store.getMeta(LEASE);
    if (lease) return lease;
    await new Promise((r) => setTimeout(r, 50));
  }
  const config = requireCluster(ctx);
  throw new ConflictError(`the cluster agent has no lease from etcd (${config.endpoints.join(', ')}) after 5 s; see ${join(ctx.root, 'cluster.log')} and check that etcd answers`);
}

/** `network create NAME --driver overlay --subnet CIDR [-o block=PREFIX]`: cluster-wide, then this host's part. */
export async function createOverlayNetwork(ctx: EngineContext, req: CreateNetworkRequest): Promise<NetworkRecord> {
  validateName('network', req.name);
  if ([DEFAULT_NETWORK.name, ...RESERVED_NETWORK_NAMES].includes(req.name)) {
    throw new InvalidArgumentError(`network name ${req.name} is reserved (Docker's ${req.name} network or mode); pick another name for the overlay`);
  }
  const config = requireCluster(ctx);
  if (req.subnet === undefined) throw new InvalidArgumentError('--driver overlay needs --subnet: the whole network\'s addresses across hosts, e.g. --subnet 10.42.0.0/16');
  const subnet = checkNetworkSubnet(parseSubnet(req.subnet));
  const { block, ...rest } = req.options ?? {};
  const unsupported = [...Object.keys(rest), ...(['gateway', 'bridge', 'subnet6', 'ipRange', 'internal'] as const).filter((k) => req[k] !== undefined && req[k] !== false)];
  if (unsupported.length) throw new InvalidArgumentError(`--driver overlay does not take ${unsupported.join(', ')} (each host's block has its own gateway and bridge); drop it`);
  const blockPrefix = checkBlockPrefix(subnet, block !== undefined ? Number(block) : Math.max(DEFAULT_BLOCK_PREFIX, subnet.prefix + 1));
  if (ctx.store.findNetwork(req.name)) throw new ConflictError(`network ${req.name} already exists; pick another name or remove it with: ctnet network rm ${req.name}`);
  const cluster = await openCluster(ctx, config);
  try {
    const def = await cluster.createNetwork({ name: req.name, subnet: subnet.cidr, blockPrefix, createdAt: new Date().toISOString() });
    try {
      return await instantiate(ctx, cluster, def, { labels: req.labels ?? {}, ...(req.dns !== undefined ? { dns: req.dns } : {}), ...(req.ipMasq !== undefined ? { ipMasq: req.ipMasq } : {}), ...(req.blockDirect !== undefined ? { blockDirect: req.blockDirect } : {}) });
    } catch (err) {
      // Nothing half-done: the network goes from the cluster again when this host could not make its part.
      await cluster.deleteNetwork(def).catch(() => undefined);
      throw err;
    }
  } finally {
    cluster.close();
  }
}

/**
 * The network a container asks for, when it is not here but in the cluster: this host's part of it
 * is made (a block leased, bridge and VXLAN device). Returns false when the name is no overlay network
 * (or this host is in no cluster): the caller reports it as any unknown network.
 */
export async function ensureOverlayHere(ctx: EngineContext, name: string, local: LocalChoices = {}): Promise<boolean> {
  if (ctx.store.findNetwork(name)) return true;
  const config = clusterConfig(ctx);
  // The default network is this host's own (made on first use): never a question for etcd.
  if (!config || name === DEFAULT_NETWORK.name) return false;
  const cluster = await openCluster(ctx, config);
  try {
    const def = await cluster.getNetwork(name);
    if (!def) return false;
    await instantiate(ctx, cluster, def, local);
    return true;
  } finally {
    cluster.close();
  }
}

/**
 * A CNI configuration with an `overlay` key, on its first ADD on this node: the node joins the
 * cluster (unless it has), the network is created cluster-wide (unless another node did) and this
 * node's part of it made. Later ADDs find it here and cost nothing more.
 */
export async function ensureCniOverlay(ctx: EngineContext, name: string, subnet: string, o: { store: string; host?: string; advertise?: string; ttl?: number; blockPrefix?: number }, local: LocalChoices): Promise<void> {
  const here = ctx.store.findNetwork(name);
  if (here?.overlay) return;
  if (here) throw new ConflictError(`network ${name} exists on this node as a local network; give the overlay configuration another name`);
  if (!clusterConfig(ctx)) await joinCluster(ctx, { store: o.store, name: o.host, advertise: o.advertise, ttl: o.ttl });
  if (await ensureOverlayHere(ctx, name, local)) return;
  try {
    await createOverlayNetwork(ctx, { name, subnet, ...local, ...(o.blockPrefix ? { options: { block: String(o.blockPrefix) } } : {}) });
  } catch (err) {
    // Another node created it meanwhile: take this node's part of theirs.
    if (!(err instanceof ConflictError) || !(await ensureOverlayHere(ctx, name, local))) throw err;
  }
}

/** This host's part of an overlay: a block leased in one transaction (its last one first), then the local network. */
/** How this host's part of a network behaves: a CLI network's defaults, or a CNI configuration's (no DNS, the bridge plugin's masquerade and routed access). */
type LocalChoices = Pick<CreateNetworkRequest, 'labels' | 'dns' | 'ipMasq' | 'blockDirect'>;

async function instantiate(ctx: EngineContext, cluster: ClusterApi, def: OverlayDefinition, local: LocalChoices): Promise<NetworkRecord> {
  const config = cluster.config;
  const lease = await hostLease(ctx);
  const subnet = parseSubnet(def.subnet);
  const vtepMac = ['02', ...(randomHex(5).match(/../g) as string[])].join(':');
  const holders = await cluster.blocks(def.name);
  const own = holders.find((b) => b.host === config.host)?.block;
  const taken = new Set(holders.filter((b) => b.host !== config.host).map((b) => b.block));
  let block: string | undefined;
  for (let attempt = 0; attempt < 32 && !block; attempt++) {
    const candidate = pickFreeBlock(subnet, def.blockPrefix, taken, own ?? ctx.store.getMeta(lastBlockKey(def.name)));
    if (await cluster.claimBlock({ network: def.name, block: candidate, host: config.host, underlay: config.advertise, vtepMac }, lease)) block = candidate;
    else taken.add(candidate);
  }
  if (!block) throw new ConflictError(`could not lease a block of ${def.subnet}: other hosts kept taking them; retry`);
  try {
    const net = createNetwork(ctx, {
      ...local, name: def.name, subnet: block, mtu: underlayMtu(ctx, config.advertise) - VXLAN_OVERHEAD,
      overlay: { clusterSubnet: def.subnet, vni: def.vni, device: `ctvx${def.vni}`, vtepMac, underlay: config.advertise, host: config.host },
    });
    ctx.store.transaction(() => ctx.store.setMeta(lastBlockKey(def.name), block));
    return net;
  } catch (err) {
    await cluster.releaseBlock(def.name, block).catch(() => undefined);
    throw err;
  }
}

/** The MTU of the host's link that holds the underlay address (VXLAN takes 50 bytes of it). */
function underlayMtu(ctx: EngineContext, advertise: string): number {
  const rtnl = ctx.kernel().rtnl();
  const index = rtnl.listAddresses().find((a) => a.address === advertise)?.index;
  const link = index === undefined ? undefined : rtnl.findLinkByIndex(index);
  if (!link) throw new ConflictError(`the underlay address ${advertise} is no longer on this host; join again with --advertise set to one it has`);
  return link.mtu;
}

/** `network rm` of an overlay: the block goes back first (refused while etcd is away: nothing changes), then this host's part. */
export async function removeOverlayNetwork(ctx: EngineContext, name: string): Promise<Error[]> {
  const net = findNetwork(ctx, name);
  if (!net.overlay) throw new NotFoundError(`network ${name} is not an overlay network`);
  const attached = ctx.store.containersOn(net.id).length + ctx.store.connectionsOn(net.id).length;
  if (attached) return removeNetwork(ctx, name); // refused there, with the names
  const cluster = await openCluster(ctx, requireCluster(ctx));
  try {
    await cluster.releaseBlock(net.name, net.subnet);
    const warnings = removeNetwork(ctx, name);
    const def = await cluster.getNetwork(net.name);
    if (def) await cluster.deleteNetwork(def);
    return warnings;
  } finally {
    cluster.close();
  }
}

/** `cluster status`: this host's view of the cluster. */
export async function clusterStatus(ctx: EngineContext): Promise<{ config: ClusterConfig; agent: boolean; hosts: { name: string; underlay: string }[]; networks: (OverlayDefinition & { blocks: { block: string; host: string }[] })[] }> {
  const config = requireCluster(ctx);
  const cluster = await openCluster(ctx, config);
  try {
    const [hosts, networks, blocks] = await Promise.all([cluster.hosts(), cluster.listNetworks(), cluster.allBlocks()]);
    return {
      config, agent: agentRunning(ctx), hosts,
      networks: networks.map((n) => ({ ...n, blocks: blocks.filter((b) => b.network === n.name).map((b) => ({ block: b.block, host: b.host })) })),
    };
  } finally {
    cluster.close();
  }
}
