import { childrenOf } from '../kernel/proc.js';
import type { ContainerRecord } from '../store/store.js';
import { pid1Of } from './sandbox.js';

/**
 * A detached container's supervisor leads its own process group, and the container's PID 1 leads
 * another (its own session, away from any terminal): both groups get the signal. A foreground
 * container's PID 1 gets it directly (ctnet-init's waiting parent above it ignores TERM and INT), and SIGKILL
 * also goes to that parent, whose death takes PID 1 with it (PR_SET_PDEATHSIG).
 */
export function signalContainer(root: string, c: ContainerRecord, signal: NodeJS.Signals): void {
  if (!c.pid) return;
  const pid1 = pid1Of(root, c);
  const targets: (number | undefined)[] = [-c.pid, pid1 && -pid1];
  if (!c.detached) {
    // With --init the command is PID 1's child, and the signal is meant for it.
    targets.splice(0, 2, pid1, ...(c.sandbox.init && pid1 ? childrenOf(pid1) : []), signal === 'SIGKILL' ? c.pid : undefined);
  }
  for (const pid of targets) {
    try {
      if (pid) process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
