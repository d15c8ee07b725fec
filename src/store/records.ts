/** Value types the state records and the planners above it share (defined here: the store is below them). */

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** A requested port publication, before host port allocation (hostPort null = pick one). */
export interface PortRequest {
  protocol: Protocol;
  /** null binds every host address. */
  hostIp: string | null;
  hostPort: number | null;
  containerPort: number;
  /** With hostPort null: pick the first free host port of this range (as `-p 7000-7010:80`). */
  hostRange?: { first: number; last: number };
}

/** The addresses in use on one network, as IPAM asks about them (the store answers by indexed queries). */
export interface AddressBook {
  inUse(ip: number): boolean;
  /** The lowest address in [first, last] that is neither in use nor the gateway. */
  lowestFree(first: number, last: number, gateway: number): number | undefined;
}
