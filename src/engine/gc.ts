import { exists } from '../kernel/files.js';
import { getXattr } from '../kernel/libc.js';
import { CGROUP_OWNER_XATTR } from '../plan/ops.js';
import { cgroupDirs, cgroupIds, cgroupLayout, holdsNoProcess, removeContainerCgroup } from '../kernel/cgroups.js';
import { containerNetnsName, hostVethName, ifbName, isCtnetVeth, isIfbName, isOwnLinkAlias, parseSegmentLink, segmentLinks } from '../names.js';
import type { Link } from '../kernel/netlink/rtnl.js';
import type { EngineContext } from './context.js';
import { isBridgeNetwork, type ContainerRecord, type Endpoint } from '../store/store.js';
import { contains, parseSubnet } from '../addr/ipv4.js';
import { overlaps6, parseSubnet6 } from '../addr/ipv6.js';
import { isIPv6 } from '../addr/family.js';
import { firewallScript } from './firewall-state.js';
import { ctnetTableExists, ensureNetworkPresent } from './networks.js';
import { detachContainer } from './teardown.js';
import { reconcile } from './reconcile.js';
import { repairSegments, segmentBridgesInUse } from './segments.js';
import { dnsRunning, ensureDns, hasEmbeddedDns } from './dns.js';

export interface GcReport {
  actions: string[];
  errors: Error[];
}

/**
 * Full repair: the cheap reconcile, then the kernel against the state. Bridges a reboot removed are
 * rebuilt, veths on ctnet's bridges that belong to no container are deleted, and the nftables table
 * is rendered anew from state (restoring it after a flush and dropping stale elements).
 */
export function garbageCollect(ctx: EngineContext): GcReport {
  ctx.requireChangeRights();
  return ctx.locked(() => {
    const before = ctx.store.listContainers();
    const report: GcReport = { actions: reconcile(ctx), errors: [] };
    if (!ctx.dryRun && !dnsRunning(ctx) && ctx.store.listNetworks().some(hasEmbeddedDns)) {
      ensureDns(ctx);
      report.actions.push('embedded DNS was not running, started');
    }
    rebuildMissingBridges(ctx, report);
    for (const net of ctx.store.listNetworks().filter(isBridgeNetwork)) {
      try {
        report.actions.push(...repairSegments(ctx, net));
      } catch (err) {
        report.errors.push(err as Error);
      }
    }
    // What reconcile left; nothing below changes a container's record or address (each read once:
    // ~65 and ~45 ms at 10,000).
    const containers = ctx.store.listContainers();
    const endpoints = ctx.store.listEndpoints();
    removeOwnBridges(ctx, report);
    removeStrayVeths(ctx, report, before, containers, endpoints);
    removeStrayIfbs(ctx, report, containers);
    removeStrayNeighbours(ctx, report, endpoints);
    cleanUpExited(ctx, report, containers);
    for (const id of strayCgroups(ctx, new Set(containers.map((c) => c.id)))) {
      try {
        removeContainerCgroup(id);
        report.actions.push(`removed leftover cgroup ctnet/${id.slice(0, 12)}`);
      } catch (err) {
        report.errors.push(err as Error);
      }
    }
    // Render the table anew from state; with no network, only remove a table that is there.
    if (ctx.store.listNetworks().length || ctnetTableExists(ctx)) {
      report.errors.push(...ctx.applyBestEffort([{ op: 'nft', script: firewallScript(ctx.store, { endpoints }) }]));
    }
    return report;
  });
}

/** Bridges a reboot (or someone) removed come back, with ctnet's tables. */
function rebuildMissingBridges(ctx: EngineContext, report: GcReport): void {
  for (const net of ctx.store.listNetworks().filter(isBridgeNetwork)) {
    const missing = [net.bridge, ...(net.overlay ? [net.overlay.device] : [])].filter((l) => !ctx.kernel().rtnl().findLink(l));
    if (!missing.length) continue;
    try {
      ensureNetworkPresent(ctx, net);
      const what = missing.map((l) => (l === net.bridge ? `bridge ${l}` : `VXLAN device ${l}`));
      report.actions.push(`network ${net.name}: ${what.join(' and ')} ${missing.length > 1 ? 'were' : 'was'} missing, rebuilt`);
    } catch (err) {
      report.errors.push(err as Error);
    }
  }
}

/**
 * Bridges this state directory made that no network names (a removal whose delete failed), and
 * segments no container is on (a segment with its trunk).
 */
function removeOwnBridges(ctx: EngineContext, report: GcReport): void {
  const instance = ctx.store.instanceId();
  const named = new Set([...ctx.store.listNetworks().map((n) => n.bridge), ...segmentBridgesInUse(ctx.store)]);
  for (const link of ctx.kernel().rtnl().listLinks({ kind: 'bridge' })) {
    if (named.has(link.name) || !isOwnLinkAlias(link.alias, instance)) continue;
    const s = parseSegmentLink(link.name);
    const segment = s?.end === 'b' ? segmentLinks(s.network, s.k) : undefined;
    const errs = ctx.applyBestEffort([segment ? { op: 'segment.del', bridge: segment.bridge, trunk: segment.trunk } : { op: 'link.del', name: link.name }]);
    report.errors.push(...errs);
    if (!errs.length) report.actions.push(segment ? `removed unused segment ${link.name}` : `removed leftover bridge ${link.name}`);
  }
}

/**
 * Veths on ctnet's bridges that no container that is not exited owns go. Those of containers ctnet
 * knew (just reconciled, or exited) usually vanish with their namespace on their own; deleting them
 * here covers a namespace something keeps alive. Only veths nobody knew are reported.
 */
function removeStrayVeths(ctx: EngineContext, report: GcReport, before: readonly ContainerRecord[], containers: readonly ContainerRecord[], endpoints: readonly Endpoint[]): void {
  const rtnl = ctx.kernel().rtnl();
  const active = new Set(endpoints.filter((e) => e.containerState !== 'exited').map((e) => e.hostVeth));
  const ever = new Set([...before, ...containers].map((c) => hostVethName(c.id)));
  const bridges = [...ctx.store.listNetworks().filter(isBridgeNetwork).map((n) => n.bridge), ...segmentBridgesInUse(ctx.store)];
  const bridgeIndex = new Set(bridges.map((b) => rtnl.findLink(b)?.index).filter((i) => i !== undefined));
  for (const link of hostLinksNamed(ctx, (name) => isCtnetVeth(name) && !active.has(name))) {
    // Only veths ctnet made: a VM's tap or a link someone else put on a ctnet bridge stays.
    if (link.master === undefined || !bridgeIndex.has(link.master) || !isCtnetVeth(link.name, link.kind)) continue;
    report.errors.push(...ctx.applyBestEffort([{ op: 'link.del', name: link.name }]));
    if (!ever.has(link.name)) report.actions.push(`removed leftover veth ${link.name}`);
  }
}

/** Egress ifbs of this state directory whose container is gone or exited (a teardown that failed, a killed run). */
function removeStrayIfbs(ctx: EngineContext, report: GcReport, containers: readonly ContainerRecord[]): void {
  const instance = ctx.store.instanceId();
  const wanted = new Set(containers.filter((c) => c.state !== 'exited' && c.netOptions.bandwidth?.egress).map((c) => ifbName(c.id)));
  for (const link of hostLinksNamed(ctx, (name) => isIfbName(name) && !wanted.has(name))) {
    if (link.kind !== 'ifb' || !isOwnLinkAlias(link.alias, instance)) continue;
    report.errors.push(...ctx.applyBestEffort([{ op: 'link.del', name: link.name }]));
    report.actions.push(`removed leftover ifb ${link.name}`);
  }
}

/**
 * Permanent neighbour entries at a network's bridge for addresses of its subnets that no container
 * holds there, on its first network or a further one (a removal killed half-way): the next
 * container given the address may have another MAC.
 */
function removeStrayNeighbours(ctx: EngineContext, report: GcReport, endpoints: readonly Endpoint[]): void {
  const rtnl = ctx.kernel().rtnl();
  for (const net of ctx.store.listNetworks().filter(isBridgeNetwork)) {
    const held = new Set<string | null>(endpoints.filter((e) => e.networkId === net.id && e.containerState !== 'exited').flatMap((e) => [e.ip, e.ip6]));
    const subnet = parseSubnet(net.subnet);
    const subnet6 = net.subnet6 ? parseSubnet6(net.subnet6) : undefined;
    const ours = (ip: string): boolean => (isIPv6(ip) ? subnet6 !== undefined && overlaps6(subnet6, parseSubnet6(`${ip}/128`)) : contains(subnet, ip));
    for (const { ip } of rtnl.permanentNeighbours(net.bridge)) {
      if (held.has(ip) || !ours(ip)) continue;
      const errs = ctx.applyBestEffort([{ op: 'neigh.del', dev: net.bridge, ip }]);
      report.errors.push(...errs);
      if (!errs.length) report.actions.push(`removed leftover neighbour entry ${ip} on ${net.bridge}`);
    }
  }
}

/**
 * The host's links whose names pass `wanted`, each looked up alone: listing every link fills every
 * container's veth (~1 s at 10,000 containers, see Rtnl.listLinks), and a stray one is rare.
 */
function hostLinksNamed(ctx: EngineContext, wanted: (name: string) => boolean): Link[] {
  const rtnl = ctx.kernel().rtnl();
  return ctx.kernel().hostLinkNames().filter(wanted).flatMap((name) => rtnl.findLink(name) ?? []);
}

/** An exited container's namespace and veth should be gone; make sure (a failed teardown may have left them). */
function cleanUpExited(ctx: EngineContext, report: GcReport, containers: readonly ContainerRecord[]): void {
  const exited = containers.filter((c) => c.state === 'exited');
  for (const [i, c] of exited.entries()) {
    ctx.options.progress?.(i + 1, exited.length, 'cleaning up exited containers');
    report.errors.push(...detachContainer(ctx, { ...c, netns: containerNetnsName(c.id), hostVeth: hostVethName(c.id) }));
  }
}

/**
 * Container cgroups this state directory made (marked with its instance ID) that no container of it
 * has any more and that hold no process. Another state directory's cgroups are not touched.
 */
function strayCgroups(ctx: EngineContext, known: ReadonlySet<string>): string[] {
  const layout = cgroupLayout();
  if (!layout || ctx.dryRun) return [];
  const instance = ctx.store.instanceId();
  return cgroupIds(layout).filter((id) => {
    if (known.has(id)) return false;
    const dirs = cgroupDirs(layout, id).filter(exists);
    return dirs.some((d) => getXattr(d, CGROUP_OWNER_XATTR) === instance) && dirs.every(holdsNoProcess);
  });
}
