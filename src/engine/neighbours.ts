import type { HostNeighbours, Neighbours } from '../plan/container-plan.js';
import { bridgeMac } from '../plan/network-plan.js';
import { isBridgeNetwork, type NetworkRecord } from '../store/store.js';

/**
 * A bridge network's gateway, for the permanent neighbour entries of every container attached to it,
 * on its first network or a further one (see neighbourSteps).
 */
export const neighboursOf = (net: NetworkRecord): Neighbours | undefined =>
  isBridgeNetwork(net) ? { bridge: net.bridge, gatewayMac: bridgeMac(net.id), gateway: net.gateway, ...(net.gateway6 ? { gateway6: net.gateway6 } : {}) } : undefined;

/** The host's entries for one attachment's addresses at its network's bridge, for planDetach (none off a bridge network). */
export const hostNeighboursOf = (net: NetworkRecord, ips: readonly (string | null)[]): HostNeighbours[] =>
  isBridgeNetwork(net) ? [{ bridge: net.bridge, ips: ips.filter((ip) => ip !== null) }] : [];
