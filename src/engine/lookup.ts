import { NotFoundError } from '../errors.js';
import { isAlive } from '../kernel/proc.js';
import type { ContainerRecord } from '../store/store.js';
import type { EngineContext } from './context.js';

export function findContainer(ctx: EngineContext, nameOrId: string): ContainerRecord {
  const c = ctx.store.findContainer(nameOrId);
  if (!c) throw new NotFoundError(`container ${nameOrId} does not exist; list containers with ctnet ps -a`);
  return c;
}

/** Whether the process with this PID and start time (null: any) lives: the kernel's answer, or one a read has just had from it. */
export type AliveCheck = (pid: number, start: string | null) => boolean;

/** A container's state as the kernel sees it now (a process may have ended since the state was written). */
export function liveState(c: Pick<ContainerRecord, 'state' | 'pid' | 'pidStart'>, alive: AliveCheck = isAlive): ContainerRecord['state'] {
  return c.state === 'running' && c.pid !== null && !alive(c.pid, c.pidStart) ? 'exited' : c.state;
}
