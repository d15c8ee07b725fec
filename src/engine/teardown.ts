import { detachMount, removeTree } from '../kernel/files.js';
import { parseSubnet } from '../addr/ipv4.js';
import { parseSubnet6 } from '../addr/ipv6.js';
import { netnsPath } from '../kernel/netns.js';
import { isAlive, killProcessesIn } from '../kernel/proc.js';
import { signalContainer } from './signals.js';
import { planDetach } from '../plan/container-plan.js';
import { ifbName } from '../names.js';
import { isBridgeNetwork, type ContainerRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { attachmentGuard, guardOf, mappingsOf } from './firewall-state.js';
import { hostNeighboursOf } from './neighbours.js';
import { readExitStatus } from './shim.js';
import { containerDir, killCgroupMembers, oomKillsOf, shareableShmOf } from './sandbox.js';
import type { Op } from '../plan/ops.js';

/** Removes a container's network pieces (map elements, veth, namespace) and its cgroup; repeatable. Returns failures. */
export function detachContainer(ctx: EngineContext, c: ContainerRecord): Error[] {
  const joined = hasLiveJoiners(ctx, c);
  // A container with a process may have left others (children, exec): they go too, unless containers
  // joined its namespace (--network container:): those keep running, as in Docker.
  if (c.pid !== null && c.ownsNetns && c.netns && !joined && !ctx.dryRun) endProcessesOf(c, c.netns);
  const ops = networkTeardown(ctx, c, joined);
  if (c.kind === 'process') ops.push({ op: 'cgroup.remove', id: c.id });
  return ctx.applyBestEffort(ops);
}

/**
 * What a started container's command left is in its cgroup (PID 1 joins it before the command runs,
 * exec before it enters), whose removal then waits until it is gone; its supervisor and PID 1 are the
 * caller's to end and wait for (see terminate in lifecycle.ts). A setup that did not finish recorded
 * neither its supervisor nor its PID 1 (which may not have joined the cgroup yet), and a container
 * with no cgroup on this host has none to look in: their processes are found by network namespace,
 * through every process of the host (~25 ms with 3,000).
 */
function endProcessesOf(c: ContainerRecord, netns: string): void {
  if (c.state === 'created' || !killCgroupMembers(c.id)) killProcessesIn(netnsPath(netns));
}

const hasLiveJoiners = (ctx: EngineContext, c: ContainerRecord): boolean =>
  c.ownsNetns && ctx.store.joinersOf(c.id).some((j) => j.state !== 'exited' && isAlive(j.pid, j.pidStart));

/**
 * What goes of a container's network: on a ctnet network its attachments (see planDetach); with
 * --network none its namespace; with host or container: nothing, the namespace is not its own.
 * Containers that joined its namespace keep it alive: its veth is deleted now, so they lose the
 * network with it, as in Docker.
 */
function networkTeardown(ctx: EngineContext, c: ContainerRecord, joined: boolean): Op[] {
  if (c.networkMode === 'host' || c.networkMode === 'container') return [];
  if (c.networkMode === 'none' || c.networkId === null) return c.netns && c.ownsNetns ? [{ op: 'netns.del', name: c.netns }] : [];
  const net = ctx.store.getNetworkById(c.networkId);
  const prefix = parseSubnet(net.subnet).prefix;
  const ip6 = c.ip6 && net.subnet6 ? { ip: c.ip6, prefix: parseSubnet6(net.subnet6).prefix, ports: mappingsOf(ctx.store, c, 'ip6') } : undefined;
  const connections = ctx.store.connectionsOf(c.id).map((a) => ({ a, net: ctx.store.getNetworkById(a.networkId) }));
  const guards = [guardOf(c, net), ...connections.map((x) => attachmentGuard(x.a, x.net))].filter((g) => g !== undefined);
  const ifb = c.netOptions.bandwidth?.egress ? ifbName(c.id) : undefined;
  const macvlans = [
    ...(isBridgeNetwork(net) ? [] : [c.ifname]),
    ...connections.filter((x) => !isBridgeNetwork(x.net)).map((x) => x.a.ifname),
  ];
  const joinedVeths = joined ? [c.hostVeth, ...connections.map((x) => x.a.hostVeth)].filter((v) => v !== null) : [];
  const neighbours = [...hostNeighboursOf(net, [c.ip, c.ip6]), ...connections.flatMap((x) => hostNeighboursOf(x.net, [x.a.ip, x.a.ip6]))];
  return planDetach({ netns: c.netns, ownsNetns: c.ownsNetns, ifname: c.ifname, hostVeth: c.hostVeth, ip: c.ip, prefix, ports: mappingsOf(ctx.store, c), ip6, guards, ifb, links: macvlans, joinedVeths, neighbours });
}

/**
 * Records that a container's process has ended: its network is taken down and its address and host
 * ports go back to the pools. With --rm the record goes too.
 */
export function markExited(ctx: EngineContext, id: string, exitCode: number | null): Error[] {
  const c = ctx.store.getContainer(id);
  if (!c) return [];
  // Read before the cgroup goes with the rest.
  const oomKilled = c.kind === 'process' && oomKillsOf(c.id) > 0;
  const errors = detachContainer(ctx, c);
  ctx.store.transaction(() => {
    ctx.store.deletePortsOf(c.id);
    // Its veths went with the namespace; its addresses on every network are free again.
    ctx.store.deleteAttachmentsOf(c.id);
    if (c.autoRemove) {
      ctx.store.deleteContainer(c.id);
    } else {
      ctx.store.updateContainer(c.id, {
        state: 'exited', netns: null, oomKilled,
        exitCode: exitCode ?? readExitStatus(c.logPath) ?? c.exitCode, finishedAt: c.finishedAt ?? new Date().toISOString(),
      });
    }
  });
  if (c.autoRemove) removeContainerFiles(ctx.root, c);
  return errors;
}

/**
 * Takes a container apart and forgets it: every process of it ends (its supervisor included), its
 * network goes, then its record and files. Repeatable. A process the host's user put in its network
 * namespace (nsenter) is not the container's: it keeps that namespace, and the veth in it, until it ends.
 */
export function removeContainerNow(ctx: EngineContext, c: ContainerRecord): void {
  if (c.pid !== null && isAlive(c.pid, c.pidStart)) signalContainer(ctx.root, c, 'SIGKILL');
  ctx.warnAll(detachContainer(ctx, c));
  ctx.store.transaction(() => ctx.store.deleteContainer(c.id));
  removeContainerFiles(ctx.root, c);
}

/** The container's directory: logs, exit status, its /etc files, its PID file, a shareable /dev/shm (a mount, detached first). */
export function removeContainerFiles(root: string, c: ContainerRecord): void {
  if (c.kind === 'process' && c.sandbox.ipcMode === 'shareable') detachMount(shareableShmOf(root, c.id));
  removeTree(containerDir(root, c.id));
}
