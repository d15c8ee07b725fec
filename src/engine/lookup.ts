import { NotFoundError } from '../errors.js';
import { isAlive } from '../kernel/proc.js';
import type { ContainerRecord } from '../store/store.js';
import type { EngineContext } from './context.js';

export function findContainer(ctx: EngineContext, nameOrId: string): ContainerRecord {
  const c = ctx.store.findContainer(nameOrId);
  if (!c) throw new NotFoundError(`container ${nameOrId} does not exist; list containers with ctnet ps -a`);
  return c;
}

/** A container's state as the kernel sees it now (a process may have ended since the state was written). */
export function liveState(c: Pick<ContainerRecord, 'state' | 'pid' | 'pidStart'>): ContainerRecord['state'] {
  return c.state === 'running' && c.pid !== null && !isAlive(c.pid, c.pidStart) ? 'exited' : c.state;
}
