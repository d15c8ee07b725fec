import { ConflictError, InvalidArgumentError } from '../errors.js';
import type { AddressBook } from '../store/records.js';
import type { IPv4 } from '../addr/family.js';
import { contains, firstHost, lastHost, parseIPv4, toInt, toIp, type Subnet } from '../addr/ipv4.js';

/** What IPAM needs to know about addresses in use (the store implements it with indexed queries). */
export type { AddressBook };

/** An address book over a set of addresses (tests, and callers that hold the addresses anyway). */
export function setAddressBook(used: ReadonlySet<string>): AddressBook {
  const taken = new Set([...used].map(toInt));
  return {
    inUse: (ip) => taken.has(ip),
    lowestFree(first, last, gateway) {
      for (let n = first; n <= last; n++) if (n !== gateway && !taken.has(n)) return n;
      return undefined;
    },
  };
}

/**
 * The same book with more addresses that are never handed out (a network's --aux-address ones, the
 * host's own on a macvlan parent's segment): a search that lands on one moves past it.
 */
export function excluding(book: AddressBook, excluded: ReadonlySet<number>): AddressBook {
  if (excluded.size === 0) return book;
  return {
    inUse: (ip) => excluded.has(ip) || book.inUse(ip),
    lowestFree(first, last, gateway) {
      let cand = book.lowestFree(first, last, gateway);
      while (cand !== undefined && excluded.has(cand)) cand = book.lowestFree(cand + 1, last, gateway);
      return cand;
    },
  };
}

/** Picks the lowest free host address of `subnet` (within `range` when given), skipping the gateway and addresses in use. */
export function allocateAddress(subnet: Subnet, gateway: string, book: AddressBook, range: { start?: string | null; end?: string | null } = {}): IPv4 {
  const first = range.start ? Math.max(toInt(range.start), firstHost(subnet)) : firstHost(subnet);
  const last = range.end ? Math.min(toInt(range.end), lastHost(subnet)) : lastHost(subnet);
  const n = book.lowestFree(first, last, toInt(gateway));
  if (n === undefined) throw new ConflictError(`network ${subnet.cidr} has no free address left; remove a container or create a larger network`);
  return toIp(n);
}

/** Validates a requested address (--ip) against the subnet, its gateway and addresses in use. */
export function reserveAddress(subnet: Subnet, gateway: string, book: AddressBook, requested: string, network: string): IPv4 {
  const ip = parseIPv4(requested, '--ip address');
  const n = toInt(ip);
  if (!contains(subnet, n)) {
    throw new InvalidArgumentError(`--ip ${ip} is outside network ${network} (${subnet.cidr}); pick an address inside it`);
  }
  if (n < firstHost(subnet) || n > lastHost(subnet)) {
    throw new InvalidArgumentError(`--ip ${ip} is the network or broadcast address of ${subnet.cidr}; pick a host address`);
  }
  if (ip === gateway) throw new ConflictError(`--ip ${ip} is the gateway of network ${network}; pick another address`);
  if (book.inUse(n)) throw new ConflictError(`--ip ${ip} is already in use on network ${network}; pick another address or omit --ip`);
  return ip;
}

/** Default gateway of a subnet: its first host address, as Docker does. */
export const defaultGateway = (subnet: Subnet): IPv4 => toIp(firstHost(subnet));
