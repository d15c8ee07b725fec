import { toInt } from '../addr/ipv4.js';
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
