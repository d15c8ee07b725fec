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

/**
 * A container's network options beyond its network (run --add-host, --dns, --dns-search,
 * --dns-option, --sysctl), as given and validated; `ip: 'host-gateway'` is resolved when its files are written.
 */
export interface NetOptions {
  extraHosts?: { name: string; ip: string }[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** Namespaced net.* sysctls set in its namespace before its process starts. */
  sysctls?: Record<string, string>;
  /** Rate limits of what it receives (ingress) and sends (egress). */
  bandwidth?: Bandwidth;
}

/** A rate limit: bits per second, and the bucket in bytes (how much may pass at once above the rate). */
export interface RateLimit {
  rate: number;
  burst: number;
}

export interface Bandwidth {
  ingress?: RateLimit;
  egress?: RateLimit;
}
