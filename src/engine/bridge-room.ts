import { ConflictError } from '../errors.js';
import { isBridgeNetwork, type NetworkRecord } from '../store/store.js';
import { BRIDGE_FULL, BRIDGE_MAX_PORTS, bridgePortsServed, hostBacklog } from './bridge-limits.js';
import type { EngineContext } from './context.js';

/** Refuses one more container on a bridge network that already holds as many ports as its bridge serves. */
export function assertBridgeRoom(ctx: EngineContext, net: NetworkRecord): void {
  if (!isBridgeNetwork(net)) return;
  // An overlay network's VXLAN device is a port of the bridge too.
  const ports = ctx.store.attachmentCount(net.id) + (net.overlay ? 1 : 0);
  const backlog = hostBacklog();
  const served = bridgePortsServed(backlog);
  if (ports < served) return;
  const limited = served < BRIDGE_MAX_PORTS;
  const why = limited
    ? `the most it serves on this host: a broadcast is queued to every port at once, and beyond net.core.netdev_max_backlog (${backlog}) the replies to it are dropped`
    : BRIDGE_FULL;
  throw new ConflictError(`bridge ${net.bridge} of network ${net.name} has ${ports.toLocaleString('en-US')} ports, ${why}; put further containers on another network${limited ? ' (or raise net.core.netdev_max_backlog)' : ''}`);
}
