import ipaddr from 'ipaddr.js';
import { InvalidArgumentError } from '../errors.js';
import type { IPv4 } from './family.js';

/** IPv4 address math on unsigned 32-bit integers; parsing and formatting through ipaddr.js. */

export interface Subnet {
  /** Network address as an unsigned integer. */
  readonly base: number;
  readonly prefix: number;
  /** Canonical text, e.g. 172.17.0.0/16 */
  readonly cidr: string;
}

/**
 * Four decimal parts without leading zeros (what ctnet stores and prints, e.g. 172.17.0.2) as an
 * unsigned integer; undefined for anything else. ipaddr.js's parser takes more forms, and compiling
 * its regular expressions at their first use cost ~1 ms of every command that reads a network.
 */
export function quadToInt(text: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && !(digits === 1 && part === 0) && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + part : undefined;
}

export const toInt = (ip: string): number => quadToInt(ip) ?? ipaddr.IPv4.parse(ip).toByteArray().reduce((acc, b) => acc * 256 + b, 0);

export function toIp(n: number): IPv4 {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.') as IPv4;
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export function subnetOf(base: number, prefix: number): Subnet {
  const b = (base & maskOf(prefix)) >>> 0;
  return { base: b, prefix, cidr: `${toIp(b)}/${prefix}` };
}

export const size = (s: Subnet): number => 2 ** (32 - s.prefix);
export const broadcast = (s: Subnet): number => s.base + size(s) - 1;

export function contains(s: Subnet, ip: string | number): boolean {
  const n = typeof ip === 'number' ? ip : toInt(ip);
  return n >= s.base && n <= broadcast(s);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base <= broadcast(b) && b.base <= broadcast(a);
}

export function parseIPv4(text: string, what: string): IPv4 {
  if (quadToInt(text) === undefined) {
    if (ipaddr.IPv6.isValid(text)) throw new InvalidArgumentError(`${what} ${text} is IPv6; ctnet networks are IPv4 for now, use an address like 172.20.0.5`);
    throw new InvalidArgumentError(`invalid ${what} "${text}": expected an IPv4 address like 172.20.0.5`);
  }
  return text as IPv4;
}

/** Parses a subnet for a network: canonical, at most /30 so it holds a gateway and containers. */
export function parseSubnet(text: string): Subnet {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const addr = m ? quadToInt(m[1]) : undefined;
  if (!m || addr === undefined || Number(m[2]) > 32) {
    if (ipaddr.isValidCIDR?.(text) && text.includes(':')) {
      throw new InvalidArgumentError(`subnet ${text} is IPv6; ctnet networks are IPv4 for now, use a subnet like 172.20.0.0/16`);
    }
    throw new InvalidArgumentError(`invalid subnet "${text}": expected CIDR notation like 172.20.0.0/16`);
  }
  const prefix = Number(m[2]);
  const s = subnetOf(addr, prefix);
  if (s.base !== addr) throw new InvalidArgumentError(`invalid subnet ${text}: host bits are set; use ${s.cidr}`);
  if (prefix > 30) throw new InvalidArgumentError(`subnet ${text} is too small for a gateway and containers; use /30 or larger (e.g. /24)`);
  if (prefix < 8) throw new InvalidArgumentError(`subnet ${text} is too large; use /8 or smaller (e.g. /16)`);
  return s;
}

/**
 * Addresses no network can use, found by trying them: loopback (the kernel drops it off `lo` as
 * martian, so a container never reaches its gateway) and multicast (no route via such a gateway).
 * 0.0.0.0/8 and 240.0.0.0/4 work as unicast on Linux and stay allowed.
 */
const NOT_FOR_NETWORKS: readonly { range: Subnet; what: string }[] = [
  { range: subnetOf(0x7f000000, 8), what: 'loopback' },
  { range: subnetOf(0xe0000000, 4), what: 'multicast' },
];

/** Refuses a network subnet in a range above. */
export function checkNetworkSubnet(s: Subnet): Subnet {
  const hit = NOT_FOR_NETWORKS.find((r) => overlaps(s, r.range));
  if (hit) throw new InvalidArgumentError(`subnet ${s.cidr} is ${hit.what} (${hit.range.cidr}), which a network cannot use; pick a private subnet such as 172.20.0.0/16`);
  return s;
}

/** The usable host addresses: everything but the network and broadcast addresses. */
export const firstHost = (s: Subnet): number => s.base + 1;
export const lastHost = (s: Subnet): number => broadcast(s) - 1;
