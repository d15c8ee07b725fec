import ipaddr from 'ipaddr.js';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import type { IPv6 } from './family.js';

/**
 * IPv6 subnets of dual-stack networks (bigint math, ipaddr.js for text). The gateway is the
 * subnet's first address (::1); containers get ::2, ::3, ... in order, the lowest free first.
 */
export interface Subnet6 {
  readonly base: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. fd00:db8::/64 */
  readonly cidr: string;
}

const toBig = (ip: string): bigint => ipaddr.IPv6.parse(ip).toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);

function toIp6(n: bigint): IPv6 {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((n >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString() as IPv6;
}

const size = (s: Subnet6): bigint => 1n << BigInt(128 - s.prefix);

export function parseSubnet6(text: string): Subnet6 {
  let addr: ipaddr.IPv6;
  let prefix: number;
  try {
    [addr, prefix] = ipaddr.IPv6.parseCIDR(text);
  } catch {
    throw new InvalidArgumentError(`invalid IPv6 subnet "${text}": use CIDR notation, e.g. fd00:db8::/64`);
  }
  if (prefix < 48 || prefix > 124) throw new InvalidArgumentError(`IPv6 subnet ${text}: use a prefix from /48 to /124, e.g. /64`);
  const n = toBig(addr.toString());
  const base = (n >> BigInt(128 - prefix)) << BigInt(128 - prefix);
  if (base !== n) throw new InvalidArgumentError(`IPv6 subnet ${text} has host bits set; use ${toIp6(base)}/${prefix}`);
  return { base, prefix, cidr: `${toIp6(base)}/${prefix}` };
}

/** IPv6 addresses no network can use: the kernel refuses loopback and multicast on a bridge (EADDRNOTAVAIL). */
const NOT_FOR_NETWORKS6: readonly { range: Subnet6; what: string }[] = [
  { range: { base: 0n, prefix: 127, cidr: '::/127' }, what: 'the unspecified and loopback addresses' },
  { range: { base: 0xffn << 120n, prefix: 8, cidr: 'ff00::/8' }, what: 'multicast addresses' },
];

/** Refuses a network's IPv6 subnet in a range above. */
export function checkNetworkSubnet6(s: Subnet6): Subnet6 {
  const hit = NOT_FOR_NETWORKS6.find((r) => overlaps6(s, r.range));
  if (hit) throw new InvalidArgumentError(`IPv6 subnet ${s.cidr} holds ${hit.what} (${hit.range.cidr}), which a network cannot use; pick a unique local subnet such as fd00:db8::/64`);
  return s;
}

export const gateway6Of = (s: Subnet6): IPv6 => toIp6(s.base + 1n);

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/**
 * The store indexes a container's IPv6 address by its offset in the subnet (ctnet hands out small
 * offsets, and they fit a JavaScript number).
 */
export const offsetOf = (s: Subnet6, ip: string): number => Number(toBig(ip) - s.base);

/** The lowest free address from ::2 on, given the lowest free offset the store found. */
export function address6At(s: Subnet6, offset: number, network: string): IPv6 {
  if (BigInt(offset) >= size(s) - 1n) throw new ConflictError(`network ${network} has no free IPv6 address left in ${s.cidr}; remove containers or use a larger subnet`);
  return toIp6(s.base + BigInt(offset));
}

/** --ip6: a requested address of the subnet as its offset; not the subnet's own (::) or the gateway's (::1), not one in use. */
export function reserveOffset6(s: Subnet6, requested: string, network: string, taken: (offset: number) => boolean): number {
  if (!ipaddr.IPv6.isValid(requested) || requested.includes('/')) throw new InvalidArgumentError(`invalid --ip6 "${requested}": expected an IPv6 address such as fd00:db8::10`);
  const n = toBig(requested);
  if (n < s.base || n >= s.base + size(s)) throw new InvalidArgumentError(`--ip6 ${requested} is outside network ${network} (${s.cidr}); pick an address inside it`);
  const offset = n - s.base;
  if (offset < 2n) throw new InvalidArgumentError(`--ip6 ${requested} is ${offset === 0n ? 'the subnet\'s own address' : 'the gateway'} of ${network}; pick another address`);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError(`--ip6 ${requested}: ctnet hands out the first 2^53 addresses of a subnet; pick a lower one`);
  if (taken(Number(offset))) throw new ConflictError(`--ip6 ${requested} is already in use on network ${network}; pick another address or omit --ip6`);
  return Number(offset);
}
