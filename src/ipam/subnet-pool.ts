import { ConflictError } from '../errors.js';
import { overlaps, subnetOf, toInt, type Subnet } from '../addr/ipv4.js';

/** Candidate subnets for networks created without --subnet, in Docker's order: 172.17-31.0.0/16, then 192.168.N.0/24. */
function* candidates(): Generator<Subnet> {
  for (let second = 17; second <= 31; second++) yield subnetOf(toInt(`172.${second}.0.0`), 16);
  for (let third = 0; third <= 255; third++) yield subnetOf(toInt(`192.168.${third}.0`), 24);
}

/** The first candidate that overlaps none of `taken` (other networks and the host's routes). */
export function pickFreeSubnet(taken: readonly Subnet[]): Subnet {
  for (const c of candidates()) if (!taken.some((t) => overlaps(c, t))) return c;
  throw new ConflictError('no free private subnet is left for a new network; pass --subnet explicitly');
}
