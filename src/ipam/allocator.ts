import { ConflictError, InvalidArgumentError } from '../errors.js';
import { contains, firstHost, lastHost, parseIPv4, toInt, toIp, type Subnet } from './ipv4.js';

/** Picks the lowest free host address of `subnet`, skipping the gateway and addresses in use. */
export function allocateAddress(subnet: Subnet, gateway: string, used: ReadonlySet<string>): string {
  const gw = toInt(gateway);
  for (let n = firstHost(subnet); n <= lastHost(subnet); n++) {
    if (n === gw) continue;
    const ip = toIp(n);
    if (!used.has(ip)) return ip;
  }
  throw new ConflictError(`network ${subnet.cidr} has no free address left; remove a container or create a larger network`);
}

/** Validates a requested address (--ip) against the subnet, its gateway and addresses in use. */
export function reserveAddress(subnet: Subnet, gateway: string, used: ReadonlySet<string>, requested: string, network: string): string {
  const ip = parseIPv4(requested, '--ip address');
  const n = toInt(ip);
  if (!contains(subnet, n)) {
    throw new InvalidArgumentError(`--ip ${ip} is outside network ${network} (${subnet.cidr}); pick an address inside it`);
  }
  if (n < firstHost(subnet) || n > lastHost(subnet)) {
    throw new InvalidArgumentError(`--ip ${ip} is the network or broadcast address of ${subnet.cidr}; pick a host address`);
  }
  if (ip === gateway) throw new ConflictError(`--ip ${ip} is the gateway of network ${network}; pick another address`);
  if (used.has(ip)) throw new ConflictError(`--ip ${ip} is already in use on network ${network}; pick another address or omit --ip`);
  return ip;
}

/** Default gateway of a subnet: its first host address, as Docker does. */
export const defaultGateway = (subnet: Subnet): string => toIp(firstHost(subnet));
