import { InvalidArgumentError } from '../errors.js';
import type { EngineContext } from '../engine/context.js';
import { findContainer, liveState } from '../engine/lookup.js';
import { ctnetTableExists } from '../engine/networks.js';
import { BRIDGE_TABLE, guardSetElements, portMapKey } from '../firewall/ruleset.js';
import { guardOf } from '../engine/firewall-state.js';
import { parseSubnet, contains, quadToInt } from '../addr/ipv4.js';
import { isIPv6 } from '../addr/family.js';
import { hasSetElement } from '../kernel/nft.js';
import type { SetElement } from '../set-element.js';
import { netnsExists } from '../kernel/netns.js';
import { readSysctl } from '../kernel/sysctl.js';
import { NFT_FAMILY, NFT_TABLE, SET } from '../names.js';
import { IP_FORWARD } from '../plan/network-plan.js';
import { renderOp, type Op } from '../plan/ops.js';
import { isBridgeNetwork, type BridgeNetwork, type ContainerRecord, type MacvlanNetwork, type NetworkRecord } from '../store/store.js';
import { probeFrom } from '../kernel/probe.js';
import { portBridge, segmentFault } from '../engine/segments.js';

/** One layer of the path the seed builds, checked against the kernel. */
export interface Check {
  layer: string;
  ok: boolean;
  detail: string;
  /** The command that repairs this layer, when one does. */
  fix?: string;
}

export interface Diagnosis {
  container: string;
  target: string;
  checks: Check[];
  /** The first broken layer, if any (the walk stops there). */
  failed?: Check;
}

interface Target {
  host: string;
  port: number;
}

export function parseTarget(text: string | undefined, gateway: string): Target {
  if (!text) return { host: gateway, port: 9 };
  const [host, port] = text.split(':');
  const n = port === undefined ? 9 : Number(port);
  // An address as ctnet writes them (four parts of 0-255): 999.1.1.1 reached the probe before.
  if (quadToInt(host) === undefined || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InvalidArgumentError(`--to ${text} is not ADDRESS or ADDRESS:PORT (e.g. 10.0.12.11:80)`);
  }
  return { host, port: n };
}

/**
 * Walks the layers in the seed's order: namespace, loopback, the container's interface and address,
 * default route, bridge port, gateway address, forwarding, masquerade, DNAT, then a live probe.
 * Stops at the first broken layer and says how to repair it.
 */
export function diagnose(ctx: EngineContext, name: string, to?: string): Diagnosis {
  const c = findContainer(ctx, name);
  if (c.networkId === null) {
    // Docker's modes: loopback only, the host's own network, or another container's (doctor that one).
    const mode = c.networkMode === 'container' ? `container:${ctx.store.getContainer(c.netnsOf ?? '')?.name ?? c.netnsOf}` : c.networkMode;
    return { container: c.name, target: '-', checks: [{ layer: 'network', ok: true, detail: `runs with --network ${mode}: no network of ctnet's to check${c.networkMode === 'container' ? '; run doctor on that container' : ''}` }] };
  }
  const net = ctx.store.getNetworkById(c.networkId);
  const target = parseTarget(to, net.gateway);
  const checks: Check[] = [];
  const fix = (op: Op): string => renderOp(op, ctx.render);
  const steps = layers(ctx, c, net, target, fix);
  for (const step of steps) {
    const check = step();
    checks.push(check);
    if (!check.ok) return { container: c.name, target: `${target.host}:${target.port}`, checks, failed: check };
  }
  return { container: c.name, target: `${target.host}:${target.port}`, checks };
}

const ok = (layer: string, detail: string): Check => ({ layer, ok: true, detail });
const bad = (layer: string, detail: string, fixCmd?: string): Check => ({ layer, ok: false, detail, fix: fixCmd });

/** One closure per layer, in the order a packet crosses them (long: it is the list of the layers, each a few lines). */
function layers(ctx: EngineContext, c: ContainerRecord, net: NetworkRecord, target: Target, fix: (op: Op) => string): (() => Check)[] {
  const ns = c.netns ?? '';
  const prefix = parseSubnet(net.subnet).prefix;
  const leavesSubnet = !contains(parseSubnet(net.subnet), target.host);
  const inside = () => ctx.kernel().rtnl(ns);
  return [
    () =>
      liveState(c) === 'running' && c.netns && netnsExists(c.netns)
        ? ok('namespace', `${c.name} runs in ${c.netns}`)
        : bad('namespace', `${c.name} is ${liveState(c)} and has no network namespace`, `ctnet rm -f ${c.name}, then run it again`),
    () => {
      const lo = inside().findLink('lo');
      return lo?.up ? ok('loopback', 'lo is up') : bad('loopback', 'lo is down: connections to 127.0.0.1 fail with "Network is unreachable"', fix({ op: 'link.up', name: 'lo', netns: ns }));
    },
    () => {
      const dev = inside().findLink(c.ifname);
      if (!dev) return bad('interface', `${c.ifname} is missing in ${ns}`, `ctnet rm -f ${c.name}, then run it again`);
      if (!dev.up) {
        // Taking an interface down removes the routes through it: the fix puts the default route back too.
        const ops: Op[] = [{ op: 'link.up', name: c.ifname, netns: ns }];
        const hasDefault = inside().listRoutes().some((r) => r.table === 254 && r.dstLen === 0);
        if (!net.internal && net.defaultRoute && !hasDefault) ops.push({ op: 'route.add', dev: c.ifname, dst: '0.0.0.0', prefix: 0, via: net.gateway, netns: ns });
        return bad('interface', `${c.ifname} is down`, ops.map(fix).join(' && '));
      }
      const has = inside().listAddresses().some((a) => a.index === dev.index && a.address === c.ip && a.prefix === prefix);
      return has ? ok('interface', `${c.ifname} is up with ${c.ip}/${prefix}`) : bad('interface', `${c.ifname} lacks its address ${c.ip}/${prefix}`, fix({ op: 'addr.add', dev: c.ifname, ip: c.ip as string, prefix, netns: ns }));
    },
    () => {
      if (!leavesSubnet) return ok('default route', `${target.host} is on the container's own subnet`);
      if (net.internal) return bad('default route', `network ${net.name} is internal: nothing leaves it`, 'use a network that is not --internal');
      const route = inside().listRoutes().find((r) => r.table === 254 && r.dstLen === 0);
      return route?.gateway === net.gateway
        ? ok('default route', `default via ${net.gateway}`)
        : bad('default route', `no default route via ${net.gateway}: packets to ${target.host} have nowhere to go`, fix({ op: 'route.add', dev: c.ifname, dst: '0.0.0.0', prefix: 0, via: net.gateway, netns: ns }));
    },
    ...(isBridgeNetwork(net) ? bridgeLayers(ctx, c, net, target, fix) : [() => parentLayer(ctx, c, net)]),
    ...(isBridgeNetwork(net) && net.overlay && contains(parseSubnet(net.overlay.clusterSubnet), target.host) && leavesSubnet ? overlayLayers(ctx, net, target, fix) : []),
    () => {
      const r = probeFrom(ns, target.host, target.port);
      return r.reachable
        ? ok('probe', `TCP ${target.host}:${target.port} from inside ${c.name}: ${r.detail === 'connected' ? 'connected' : 'refused, so the path works (nothing listens there)'}`)
        : bad('probe', `TCP ${target.host}:${target.port} from inside ${c.name}: ${r.detail}; every layer above looks right, so look beyond this host (the target, its route back)`);
    },
  ];
}

function isHostAddress(ctx: EngineContext, ip: string): boolean {
  return ctx.kernel().rtnl().listAddresses().some((a) => a.address === ip);
}

type NftJson = { nftables: { set?: { elem?: unknown[] } }[] };

/** Whether one of the small sets of ctnet's table (an element a network) holds this subnet. */
function setHas(ctx: EngineContext, set: string, cidr: string): boolean {
  const [addr, len] = cidr.split('/');
  const out = JSON.parse(ctx.kernel().nft().list(`list set ${NFT_FAMILY} ${NFT_TABLE} ${set}`, true)) as NftJson;
  return (out.nftables.find((x) => x.set)?.set?.elem ?? []).some((e) => {
    const p = (e as { prefix?: { addr: string; len: number } }).prefix;
    return p ? p.addr === addr && p.len === Number(len) : e === addr;
  });
}

/**
 * Whether ctnet's tables hold an element with this key (undefined: its set is missing), asked of the
 * kernel element by element: a container's few among 10,000 containers' (a listing: 60-80 ms a set).
 */
const kernelHas = (ctx: EngineContext, e: SetElement): boolean | undefined => hasSetElement(ctx.kernel().nfnl(), e);

/** Whether ARP requests for a container may reach it: its port and, on a segment, its trunk with its address in the steering set. */
function steeringCheck(ctx: EngineContext, c: ContainerRecord, net: BridgeNetwork): Check {
  const guard = guardOf(c, net);
  if (!guard) return ok('ARP steering', `${c.name} has no guarded port: requests for it are not steered`);
  const wanted = guardSetElements(guard).filter((e) => e.set === SET.arpTargets);
  const have = wanted.map((e) => kernelHas(ctx, e));
  if (have.includes(undefined)) return bad('ARP steering', `the set ${BRIDGE_TABLE} ${SET.arpTargets} is missing`, 'ctnet firewall reload');
  const missing = wanted.filter((_, i) => !have[i]).map((e) => e.key.map((f) => f.value).join(' . '));
  return missing.length
    ? bad('ARP steering', `${SET.arpTargets} lacks ${missing.join(', ')}: where requests are steered (a network with segments or enable_icc=false), none for ${c.ip} reaches ${c.name}`, 'ctnet firewall reload')
    : ok('ARP steering', `requests for ${c.ip} may leave by ${guard.port}${guard.trunk ? ` and ${guard.trunk}` : ''}`);
}

/** The layers of a bridge network between the container's interface and the probe: its port, the gateway, forwarding, NAT, published ports. */
function bridgeLayers(ctx: EngineContext, c: ContainerRecord, net: BridgeNetwork, target: Target, fix: (op: Op) => string): (() => Check)[] {
  const prefix = parseSubnet(net.subnet).prefix;
  const leavesSubnet = !contains(parseSubnet(net.subnet), target.host);
  const host = ctx.kernel().rtnl();
  return [
    () => {
      const bridge = host.findLink(net.bridge);
      const veth = c.hostVeth ? host.findLink(c.hostVeth) : undefined;
      if (!veth) return bad('bridge port', `the host end ${c.hostVeth} is missing`, `ctnet rm -f ${c.name}, then run it again`);
      const on = portBridge(net, c.segment);
      if (on !== net.bridge) {
        const fault = segmentFault(ctx, net, c.segment);
        if (fault) return bad('bridge port', fault, 'ctnet gc');
      }
      const master = on === net.bridge ? bridge : host.findLink(on);
      if (!master || veth.master !== master.index) return bad('bridge port', `${veth.name} is not a port of ${on}`, fix({ op: 'link.master', name: veth.name, master: on }));
      if (!veth.up) return bad('bridge port', `${veth.name} is down: the bridge forwards nothing to or from ${c.name}`, fix({ op: 'link.up', name: veth.name }));
      return ok('bridge port', on === net.bridge ? `${veth.name} is up on ${net.bridge}` : `${veth.name} is up on ${on}, segment ${c.segment} of ${net.bridge}`);
    },
    () => {
      const bridge = host.findLink(net.bridge);
      if (!bridge) return bad('gateway', `bridge ${net.bridge} is missing`, 'ctnet gc');
      if (!bridge.up) return bad('gateway', `bridge ${net.bridge} is down`, fix({ op: 'link.up', name: net.bridge }));
      const has = host.listAddresses().some((a) => a.index === bridge.index && a.address === net.gateway);
      return has ? ok('gateway', `${net.bridge} holds ${net.gateway}/${prefix}`) : bad('gateway', `${net.bridge} lacks the gateway ${net.gateway}/${prefix}`, fix({ op: 'addr.add', dev: net.bridge, ip: net.gateway, prefix }));
    },
    () => {
      if (!leavesSubnet || isHostAddress(ctx, target.host)) return ok('forwarding', 'not needed for this target');
      const v = ctx.kernel().inHost(() => readSysctl(IP_FORWARD));
      return v === '1' ? ok('forwarding', 'net.ipv4.ip_forward=1') : bad('forwarding', 'net.ipv4.ip_forward is 0: the host drops everything it should route (100% loss)', fix({ op: 'sysctl.set', key: IP_FORWARD, value: '1' }));
    },
    () => {
      if (!ctnetTableExists(ctx)) return bad('masquerade', `ctnet's nftables table is missing (flushed?): no masquerade, no published ports`, 'ctnet firewall reload');
      if (!net.ipMasq || net.internal) return ok('masquerade', `network ${net.name} is ${net.internal ? 'internal' : 'routed'}: no masquerade by design`);
      return setHas(ctx, SET.masqSubnets, net.subnet) ? ok('masquerade', `${net.subnet} is masqueraded on its way out`) : bad('masquerade', `${net.subnet} is not in ${SET.masqSubnets}: other hosts cannot answer`, 'ctnet firewall reload');
    },
    () => steeringCheck(ctx, c, net),
    () => {
      const ports = ctx.store.portsOf(c.id);
      const missing = ports.filter((p) => !kernelHas(ctx, portMapKey(p, p.hostIp !== null && isIPv6(p.hostIp) ? 'ip6' : 'ip')));
      if (!ports.length) return ok('published ports', 'none published');
      return missing.length
        ? bad('published ports', `no DNAT element for ${missing.map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}/${p.protocol}`).join(', ')}`, 'ctnet firewall reload')
        : ok('published ports', ports.map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}/${p.protocol} -> ${p.containerPort}`).join(', '));
    },
  ];
}

/** A container of the same overlay on another host: this host's VXLAN device, the remote block's lease, its route. */
function overlayLayers(ctx: EngineContext, net: BridgeNetwork, target: Target, fix: (op: Op) => string): (() => Check)[] {
  const o = net.overlay as NonNullable<BridgeNetwork['overlay']>;
  const host = ctx.kernel().rtnl();
  const peer = ctx.store.overlayPeers(net.id).find((p) => contains(parseSubnet(p.block), target.host));
  return [
    () => {
      const dev = host.findLink(o.device);
      if (!dev) return bad('overlay device', `the VXLAN device ${o.device} of ${net.name} is missing`, `ctnet network rm ${net.name} (after removing its containers here), then run them again`);
      return dev.up ? ok('overlay device', `${o.device} VNI ${o.vni} from ${o.underlay} is up`) : bad('overlay device', `${o.device} is down`, fix({ op: 'link.up', name: o.device }));
    },
    () => peer
      ? ok('remote block', `${target.host} is in block ${peer.block} of host "${peer.host}" (${peer.underlay})`)
      : bad('remote block', `no host of the cluster holds the block of ${target.host}: that host is down or its lease expired (or this host's cluster agent is not running)`, 'ctnet cluster status (and ctnet gc on each host, which starts its agent)'),
    () => {
      const [dst, len] = (peer as NonNullable<typeof peer>).block.split('/');
      const index = host.findLink(o.device)?.index;
      const route = host.listRoutes().find((r) => r.table === 254 && r.dst === dst && r.dstLen === Number(len) && r.oif === index);
      return route
        ? ok('overlay route', `${peer?.block} via ${route.gateway} dev ${o.device} (neighbour and forwarding entry to ${peer?.underlay} set by the cluster agent)`)
        : bad('overlay route', `no route to ${peer?.block} through ${o.device}: the cluster agent has not programmed host "${peer?.host}"`, 'ctnet gc (starts the cluster agent, which programs it)');
    },
  ];
}

/** macvlan: the container's interface hangs off the parent, which must be there and up (the host itself cannot reach it: by design). */
function parentLayer(ctx: EngineContext, c: ContainerRecord, net: MacvlanNetwork): Check {
  const parent = ctx.kernel().rtnl().findLink(net.parent);
  if (!parent) return bad('parent', `the parent interface ${net.parent} is gone: ${c.name} has no segment`, `bring ${net.parent} back, then ctnet rm -f ${c.name} and run it again`);
  if (!parent.up) return bad('parent', `the parent interface ${net.parent} is down`, renderOp({ op: 'link.up', name: net.parent }, ctx.render));
  return ok('parent', `${c.ifname} is a macvlan of ${net.parent} (up), on its segment with MAC ${c.mac ?? '?'}`);
}
