import { join } from 'node:path';
import { isAlive, processStartTime } from '../kernel/proc.js';
import { startSupervised } from '../kernel/supervise.js';
import { withNetns } from '../kernel/netns.js';
import type { ClusterConfig } from '../store/cluster.js';
import { CLUSTER_BUNDLE } from './cluster-client.js';
import type { EngineContext } from './context.js';

/** This host's cluster membership as recorded (meta keys), and the cluster agent's process. */
export const CONFIG = 'cluster.config';
export const LEASE = 'cluster.lease';
const AGENT_PID = 'cluster.agent_pid';
const AGENT_START = 'cluster.agent_start';

export function clusterConfig(ctx: EngineContext): ClusterConfig | undefined {
  const text = ctx.store.getMeta(CONFIG);
  return text ? (JSON.parse(text) as ClusterConfig) : undefined;
}

export function agentRunning(ctx: EngineContext): boolean {
  const pid = Number(ctx.store.getMeta(AGENT_PID));
  return pid > 0 && isAlive(pid, ctx.store.getMeta(AGENT_START) ?? null);
}

/** Starts the cluster agent in the host namespace (supervised) unless it runs or this host is in no cluster. */
export function ensureAgent(ctx: EngineContext): void {
  if (ctx.dryRun || !clusterConfig(ctx) || agentRunning(ctx)) return;
  const pid = withNetns(ctx.host, () => startSupervised('ctnet-cluster', [process.execPath, CLUSTER_BUNDLE, ctx.root], join(ctx.root, 'cluster.log')));
  if (!pid) return;
  ctx.store.transaction(() => {
    ctx.store.setMeta(AGENT_PID, String(pid));
    ctx.store.setMeta(AGENT_START, processStartTime(pid));
  });
}


/** Stops the agent (its supervisor passes TERM on; the agent revokes its lease, so this host's entries go at once). */
export function stopAgent(ctx: EngineContext): void {
  const pid = Number(ctx.store.getMeta(AGENT_PID));
  if (pid > 0 && isAlive(pid, ctx.store.getMeta(AGENT_START) ?? null)) process.kill(pid, 'SIGTERM');
  ctx.store.transaction(() => {
    ctx.store.setMeta(AGENT_PID, undefined);
    ctx.store.setMeta(AGENT_START, undefined);
  });
}
