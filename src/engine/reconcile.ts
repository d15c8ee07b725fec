import { isAlive } from '../kernel/proc.js';
import { agentRunning, clusterConfig, ensureAgent } from './cluster-membership.js';
import { requireLibnftables } from '../kernel/nft.js';
import type { EngineContext } from './context.js';
import type { AliveCheck } from './lookup.js';
import { tearDownNetwork } from './network-teardown.js';
import { detachContainer, markExited, removeContainerFiles, removeContainerNow } from './teardown.js';

/**
 * What read commands (ps, inspect, port, network ls) run before they answer: when a listed
 * container's process has gone or a killed command left something, the reconcile runs, if the host
 * lock is free at once (a read never waits behind a changing command, which reconciles anyway).
 * Returns how the read tells live processes: when nothing needed reconciling, those just found
 * alive are not read again (a listing would otherwise read every running container's twice).
 */
export function reconcileForRead(ctx: EngineContext): AliveCheck {
  if (ctx.dryRun) return isAlive;
  const seen = new Map<number, string | null>();
  if (!needsReconcile(ctx, seen)) return (pid, start) => (seen.has(pid) && seen.get(pid) === start) || isAlive(pid, start);
  try {
    requireLibnftables();
  } catch {
    return isAlive; // cannot change anything here; the read still answers
  }
  ctx.lock.tryWith(() => void reconcile(ctx));
  return isAlive;
}

/** `seen`: the processes found alive on the way, by PID, with their start times. */
function needsReconcile(ctx: EngineContext, seen: Map<number, string | null>): boolean {
  const work = ctx.store.reconcileWork();
  if (work.networks || work.removing) return true;
  return work.processes && ctx.store.processesToCheck().some((c) => {
    if (!isAlive(c.pid, c.pidStart)) return true;
    if (c.pid !== null) seen.set(c.pid, c.pidStart);
    return false;
  });
}

/**
 * The cheap reconcile every changing command runs first, under the host lock (indexed queries: only
 * records in a transitional state or with a process are read). It finishes what killed commands
 * left: containers whose process has gone are taken down, setups whose ctnet process died half-way
 * are undone, networks left `creating` are undone and those left `removing` are removed.
 */
export function reconcile(ctx: EngineContext): string[] {
  const done: string[] = [];
  const work = ctx.store.reconcileWork();
  for (const c of work.removing ? ctx.store.containersBeingRemoved() : []) {
    removeContainerNow(ctx, c);
    done.push(`${c.name}: interrupted removal finished`);
  }
  const processes = work.processes ? ctx.store.processesToCheck() : [];
  for (const [i, p] of processes.entries()) {
    ctx.options.progress?.(i + 1, processes.length, 'checking containers');
    if (isAlive(p.pid, p.pidStart)) continue;
    const c = ctx.store.getContainer(p.id);
    if (!c) continue;
    if (c.state === 'running' && c.pid !== null) {
      ctx.warnAll(markExited(ctx, c.id, null));
      done.push(`${c.name}: process ended, network removed`);
    } else if (c.state === 'created') {
      ctx.warnAll(detachContainer(ctx, c));
      ctx.store.transaction(() => ctx.store.deleteContainer(c.id));
      removeContainerFiles(ctx.root, c);
      done.push(`${c.name}: interrupted setup undone`);
    }
  }
  // Under the host lock no other command is half-way, so every unfinished network is a killed one's.
  for (const net of work.networks ? ctx.store.unfinishedNetworks() : []) {
    if (net.state === 'creating') ctx.store.transaction(() => ctx.store.setNetworkState(net.id, 'removing'));
    ctx.warnAll(tearDownNetwork(ctx, net));
    done.push(`network ${net.name}: interrupted ${net.state === 'creating' ? 'creation undone' : 'removal finished'}`);
  }
  // A host in a cluster has its agent running (after a reboot, or five crashes at start).
  if (!ctx.dryRun && clusterConfig(ctx) && !agentRunning(ctx)) {
    ensureAgent(ctx);
    done.push('cluster agent was not running, started');
  }
  return done;
}
