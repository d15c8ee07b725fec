import { InvalidArgumentError, ConflictError } from '../errors.js';
import { size, subnetOf, toInt, toIp, type Subnet } from '../addr/ipv4.js';

/** Default size of the block each host leases of an overlay network (flannel's /24). */
export const DEFAULT_BLOCK_PREFIX = 24;

/** The block size checked against the cluster subnet: at least 4 addresses per block and 2 blocks. */
export function checkBlockPrefix(cluster: Subnet, prefix: number): number {
  if (!Number.isInteger(prefix) || prefix > 30 || prefix <= cluster.prefix) {
    throw new InvalidArgumentError(`block size /${prefix} does not fit ${cluster.cidr}: give a prefix between /${cluster.prefix + 1} and /30, e.g. -o block=${Math.min(30, Math.max(cluster.prefix + 1, DEFAULT_BLOCK_PREFIX))}`);
  }
  return prefix;
}

/**
 * The first block of `cluster` (blocks of `/prefix`, aligned) that is not `taken`, `preferred`
 * first when it is free (a host that comes back takes its old block, so its containers keep their
 * addresses). Blocks are aligned and of one size, so two distinct blocks never overlap.
 */
export function pickFreeBlock(cluster: Subnet, prefix: number, taken: ReadonlySet<string>, preferred?: string): string {
  if (preferred && !taken.has(preferred) && isBlockOf(cluster, prefix, preferred)) return preferred;
  const step = 2 ** (32 - prefix);
  for (let base = cluster.base; base < cluster.base + size(cluster); base += step) {
    const cidr = `${toIp(base)}/${prefix}`;
    if (!taken.has(cidr)) return cidr;
  }
  throw new ConflictError(`every /${prefix} block of ${cluster.cidr} is leased by a host; remove hosts or create the network with a larger subnet`);
}

/** Whether `cidr` is one of the aligned `/prefix` blocks of `cluster`. */
export function isBlockOf(cluster: Subnet, prefix: number, cidr: string): boolean {
  const [ip, len] = cidr.split('/');
  if (Number(len) !== prefix) return false;
  const base = toInt(ip);
  return base >= cluster.base && base < cluster.base + size(cluster) && subnetOf(base, prefix).base === base;
}
