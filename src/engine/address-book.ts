import { toInt } from '../addr/ipv4.js';
import { address6At, parseSubnet6, reserveOffset6 } from '../addr/ipv6.js';
import type { IPv6 } from '../addr/family.js';
import { InvalidArgumentError } from '../errors.js';
import { excluding, type AddressBook } from '../ipam/allocator.js';
import { isBridgeNetwork, type NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';

/**
 * The addresses a network may not hand out: those in use (the store's book), its --aux-address
 * ones, and on a macvlan network the host's own addresses on the parent (the segment is shared with it).
 */
export function addressBookOf(ctx: EngineContext, net: NetworkRecord): AddressBook {
  const excluded = new Set(Object.values(net.auxAddresses).map(toInt));
  if (!isBridgeNetwork(net)) {
    const host = ctx.kernel().rtnl();
    const parent = host.findLink(net.parent);
    for (const a of host.listAddresses()) if (a.index === parent?.index) excluded.add(toInt(a.address));
  }
  return excluding(ctx.store.addressBook(net.id), excluded);
}

/** A container's IPv6 address on a dual-stack network: the one asked for (--ip6), or the lowest free one; none on an IPv4-only network. */
export function address6On(ctx: EngineContext, net: NetworkRecord, requested: string | undefined): { ip6: IPv6 | null; ip6Offset: number | null } {
  if (!net.subnet6) {
    if (requested !== undefined) throw new InvalidArgumentError(`--ip6 ${requested}: network ${net.name} has no IPv6; use a network made with --ipv6, or drop --ip6`);
    return { ip6: null, ip6Offset: null };
  }
  const subnet6 = parseSubnet6(net.subnet6);
  const ip6Offset = requested !== undefined ? reserveOffset6(subnet6, requested, net.name, (o) => ctx.store.ip6OffsetTaken(net.id, o)) : ctx.store.lowestFreeIp6Offset(net.id);
  return { ip6: address6At(subnet6, ip6Offset, net.name), ip6Offset };
}
