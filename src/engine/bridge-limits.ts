import { InvalidArgumentError } from '../errors.js';
import { HeldSysctl } from '../kernel/sysctl.js';

/** The kernel's bound: a bridge numbers its ports in 10 bits and keeps one number for itself. */
export const BRIDGE_MAX_PORTS = 1023;
/** Why a bridge at the kernel's bound takes no more ports. */
export const BRIDGE_FULL = 'the most a Linux bridge holds (Docker\'s limit too)';
/** net.core.netdev_max_backlog's default, used where the host's value cannot be read. */
const DEFAULT_BACKLOG = 1000;

/**
 * How many ports a bridge can serve on a host with this receive backlog. A broadcast from one
 * port (a container's ARP request for the gateway) is queued to every port's veth at once (its own
 * too: ctnet's ports are in hairpin mode) on the sending CPU's backlog (net.core.netdev_max_backlog,
 * host-wide); what comes next in the same pass, the gateway's reply, is dropped when that queue is
 * full, at every retry. Measured with the default 1,000: the gateway answers on a network of 1,000
 * containers and on none of 1,001.
 */
export const bridgePortsServed = (backlog: number): number => Math.min(BRIDGE_MAX_PORTS, backlog);

const backlog = new HeldSysctl('net.core.netdev_max_backlog');

/** The host's backlog: a global setting, readable only from the initial network namespace. */
export function hostBacklog(): number {
  const value = Number(backlog.read());
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_BACKLOG;
}


/** Ports of the network's bridge kept for its segments' trunks (and an overlay's VXLAN device): a tenth, at most 100. */
const trunkReserve = (served: number): number => Math.min(100, Math.floor(served / 10));

/**
 * How a bridge network spreads its containers (engine/segments.ts): `direct` on the network's own
 * bridge, then up to `segments` segments of `segment` each, at most `capacity` in all. Every bridge
 * stays under the backlog, so a broadcast from one of its ports fits one pass of the queue. Across
 * bridges nothing bounds it any more: an ARP request or neighbour solicitation leaves a bridge only
 * by the port its target is behind (firewall/ruleset.ts), so no reply queues behind the copies of a
 * request flooded into every segment (that flood held a network to 1,796 containers before, see
 * docs/PERFORMANCE.md). The number of segments is bounded by the trunks the network's bridge keeps.
 * CTNET_SEGMENT_PORTS=N puts N on each bridge (to see and test segments with a few containers).
 */
export interface BridgeLayout {
  direct: number;
  segment: number;
  segments: number;
  capacity: number;
}

export function bridgeLayout(backlog: number, env: NodeJS.ProcessEnv = process.env): BridgeLayout {
  const served = bridgePortsServed(backlog);
  const segments = trunkReserve(served);
  const room = served - segments;
  const chosen = env.CTNET_SEGMENT_PORTS;
  if (chosen !== undefined && chosen !== '' && !(/^\d+$/.test(chosen) && Number(chosen) >= 1 && Number(chosen) <= room)) {
    throw new InvalidArgumentError(`CTNET_SEGMENT_PORTS=${chosen}: expected how many containers each bridge of a network takes, 1 to ${room}; or unset it`);
  }
  const each = chosen ? Number(chosen) : room;
  return { direct: each, segment: each, segments, capacity: each * (1 + segments) };
}
