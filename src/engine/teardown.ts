import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseSubnet } from '../ipam/ipv4.js';
import { netnsPath } from '../kernel/netns.js';
import { killProcessesIn } from '../kernel/proc.js';
import { planDetach } from '../plan/container-plan.js';
import type { ContainerRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { mappingsOf } from './firewall-state.js';
import { readExitStatus } from './shim.js';

/** Removes a container's network pieces (map elements, veth, namespace); repeatable. Returns failures. */
export function detachContainer(ctx: EngineContext, c: ContainerRecord): Error[] {
  // A container with a process may have left others in its namespace (children, exec): they go too.
  if (c.pid !== null && c.ownsNetns && c.netns && !ctx.dryRun) killProcessesIn(netnsPath(c.netns));
  const prefix = parseSubnet(ctx.store.getNetworkById(c.networkId).subnet).prefix;
  return ctx.applyBestEffort(planDetach({ netns: c.netns, ownsNetns: c.ownsNetns, ifname: c.ifname, hostVeth: c.hostVeth, ip: c.ip, prefix, ports: mappingsOf(ctx.store, c) }));
}

/**
 * Records that a container's process has ended: its network is taken down and its address and host
 * ports go back to the pools. With --rm the record goes too.
 */
export function markExited(ctx: EngineContext, id: string, exitCode: number | null): Error[] {
  const c = ctx.store.getContainer(id);
  if (!c) return [];
  const errors = detachContainer(ctx, c);
  ctx.store.transaction(() => {
    ctx.store.deletePortsOf(c.id);
    if (c.autoRemove) {
      ctx.store.deleteContainer(c.id);
    } else {
      ctx.store.updateContainer(c.id, {
        state: 'exited', ip: null, hostVeth: null, netns: null,
        exitCode: exitCode ?? readExitStatus(c.logPath) ?? c.exitCode, finishedAt: c.finishedAt ?? new Date().toISOString(),
      });
    }
  });
  if (c.autoRemove) removeLogs(c);
  return errors;
}

export function removeLogs(c: ContainerRecord): void {
  if (c.logPath) rmSync(dirname(c.logPath), { recursive: true, force: true });
}
