import { readTextOr } from '../kernel/files.js';
import { totalmem } from 'node:os';
import { cgroupLayout, cgroupUsage } from '../kernel/cgroups.js';
import { type ContainerRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { findContainer, liveState } from './lookup.js';
import { pid1Of } from './sandbox.js';

/** One reading of a container's counters; CPU % needs two of them (`cpuPercent`). */
export interface StatsSample {
  Id: string;
  Name: string;
  /** Milliseconds since the epoch. */
  Time: number;
  CpuNs: number | null;
  MemUsage: number | null;
  /** The limit, or the host's memory when there is none (as Docker shows it). */
  MemLimit: number;
  Pids: number | null;
  /** Bytes the container received and sent on its interface (its side of the veth). */
  NetRx: number | null;
  NetTx: number | null;
}

/** The container's interface counters, read through its PID 1's view of /proc/net/dev. */
function netCounters(pid: number | undefined, ifname: string): { rx: number; tx: number } | null {
  if (!pid) return null;
  try {
    const line = readTextOr(`/proc/${pid}/net/dev`).split('\n').find((l) => l.trim().startsWith(`${ifname}:`));
    if (!line) return null;
    const f = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number);
    return { rx: f[0], tx: f[8] };
  } catch {
    return null;
  }
}

function sample(ctx: EngineContext, c: ContainerRecord): StatsSample {
  const layout = cgroupLayout();
  const usage = layout ? cgroupUsage(layout, c.id) : null;
  // With --network host its interfaces are the host's: their counters are not the container's.
  const net = c.networkMode === 'host' ? null : netCounters(pid1Of(ctx.root, c), c.ifname);
  return {
    Id: c.id, Name: c.name, Time: Date.now(),
    CpuNs: usage?.cpuNs ?? null, MemUsage: usage?.memoryBytes ?? null, MemLimit: usage?.memoryLimit ?? totalmem(), Pids: usage?.pids ?? null,
    NetRx: net?.rx ?? null, NetTx: net?.tx ?? null,
  };
}

/** Samples the named running containers, or all running containers ctnet started (not CNI attachments). */
export function statsSamples(ctx: EngineContext, names: readonly string[]): StatsSample[] {
  const targets = names.length
    ? names.map((n) => findContainer(ctx, n))
    : ctx.store.listContainers().filter((c) => c.kind === 'process' && liveState(c) === 'running');
  return targets.map((c) => sample(ctx, c));
}

/** CPU use between two samples of one container, in % of one CPU (200% is two CPUs busy). */
export function cpuPercent(before: StatsSample | undefined, now: StatsSample): number | null {
  if (!before || before.CpuNs === null || now.CpuNs === null || now.Time <= before.Time) return null;
  return ((now.CpuNs - before.CpuNs) / ((now.Time - before.Time) * 1e6)) * 100;
}
