import { readSysctl } from '../kernel/sysctl.js';

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

/** The host's backlog: a global setting, readable only from the initial network namespace. */
export function hostBacklog(): number {
  const value = Number(readSysctl('net.core.netdev_max_backlog'));
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_BACKLOG;
}

