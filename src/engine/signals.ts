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
  signalEach(c.detached ? [-(c.pid ?? 0), pid1Group(root, c)] : foregroundTargets(root, c, signal), signal);
}

/**
 * A signal for the container's command only (`kill` of one that is not its stop signal): PID 1's
 * process group, not a detached container's supervisor, which would take it as a stop.
 */
export function signalCommand(root: string, c: ContainerRecord, signal: NodeJS.Signals): void {
  signalEach(c.detached ? [pid1Group(root, c)] : foregroundTargets(root, c, signal), signal);
}

const pid1Group = (root: string, c: ContainerRecord): number | undefined => {
  const pid1 = pid1Of(root, c);
  return pid1 && -pid1;
};

/** With --init the command is PID 1's child, and the signal is meant for it; SIGKILL goes to the waiting parent too. */
const foregroundTargets = (root: string, c: ContainerRecord, signal: NodeJS.Signals): (number | undefined)[] => {
  const pid1 = pid1Of(root, c);
  return [pid1, ...(c.sandbox.init && pid1 ? childrenOf(pid1) : []), signal === 'SIGKILL' ? c.pid ?? undefined : undefined];
};

function signalEach(targets: readonly (number | undefined)[], signal: NodeJS.Signals): void {
  for (const pid of targets) {
    try {
      if (pid) process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
