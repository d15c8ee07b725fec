import { InvalidArgumentError } from '../errors.js';
import type { IPv4 } from '../addr/family.js';
import { broadcast, contains, firstHost, lastHost, parseIPv4, subnetOf, toInt, toIp, type Subnet } from '../addr/ipv4.js';
import type { NetworkDriver } from '../store/store.js';

/**
 * Docker's `network create -o` options, as ctnet carries them out. Unknown keys are refused with the
 * known ones listed (Docker's bridge driver ignores some silently; a typo should not pass).
 */
export const BRIDGE_OPTIONS = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBinding: 'com.docker.network.bridge.host_binding_ipv4',
  mtu: 'com.docker.network.driver.mtu',
} as const;

export const MACVLAN_OPTIONS = { parent: 'parent', mode: 'macvlan_mode' } as const;

/** What the options come to. */
export interface DriverOptions {
  bridge?: string;
  icc: boolean;
  ipMasq?: boolean;
  hostBindingIpv4: string | null;
  mtu?: number;
  parent: string | null;
}

function bool(key: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new InvalidArgumentError(`-o ${key}=${value}: use true or false`);
  return value === 'true';
}

export function parseDriver(driver: string | undefined): NetworkDriver {
  if (driver === undefined || driver === 'bridge') return 'bridge';
  if (driver === 'macvlan') return 'macvlan';
  if (driver === 'ipvlan') throw new InvalidArgumentError('-d ipvlan: this kernel has no ipvlan driver (CONFIG_IPVLAN is off); use -d macvlan or -d bridge');
  if (driver === 'overlay') throw new InvalidArgumentError('-d overlay networks are made by ctnet network create -d overlay (the library: Engine.createOverlayNetwork), once this host joined a cluster');
  throw new InvalidArgumentError(`-d ${driver}: ctnet's drivers are bridge, macvlan and overlay`);
}

export function parseDriverOptions(driver: NetworkDriver, options: Readonly<Record<string, string>>): DriverOptions {
  const known: readonly string[] = Object.values(driver === 'bridge' ? BRIDGE_OPTIONS : MACVLAN_OPTIONS);
  const out: DriverOptions = { icc: true, hostBindingIpv4: null, parent: null };
  for (const [key, value] of Object.entries(options)) {
    if (!known.includes(key)) throw new InvalidArgumentError(`-o ${key}: the ${driver} driver takes ${known.join(', ')}`);
    if (key === BRIDGE_OPTIONS.name) out.bridge = value;
    else if (key === BRIDGE_OPTIONS.icc) out.icc = bool(key, value);
    else if (key === BRIDGE_OPTIONS.masquerade) out.ipMasq = bool(key, value);
    else if (key === BRIDGE_OPTIONS.hostBinding) {
      const ip = parseIPv4(value, `-o ${key}`);
      out.hostBindingIpv4 = ip === '0.0.0.0' ? null : ip;
    } else if (key === BRIDGE_OPTIONS.mtu) {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`-o ${key}=${value}: expected a whole number such as 1450`);
      out.mtu = Number(value);
    } else if (key === MACVLAN_OPTIONS.parent) out.parent = value;
    else if (key === MACVLAN_OPTIONS.mode && value !== 'bridge') {
      throw new InvalidArgumentError(`-o macvlan_mode=${value}: ctnet's macvlan networks are in bridge mode (containers reach each other directly); drop the option`);
    }
  }
  if (driver === 'macvlan' && out.parent === null) throw new InvalidArgumentError('-d macvlan needs -o parent=IFNAME, the host interface whose segment the containers join');
  return out;
}

/** --ip-range CIDR inside the subnet: the addresses containers get (rangeStart-rangeEnd), as Docker. */
export function ipRangeOf(subnet: Subnet, text: string): { rangeStart: IPv4; rangeEnd: IPv4 } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m || Number(m[2]) > 32) throw new InvalidArgumentError(`invalid --ip-range "${text}": expected CIDR notation inside the subnet, e.g. 172.20.5.0/24`);
  const range = subnetOf(toInt(parseIPv4(m[1], '--ip-range')), Number(m[2]));
  if (range.base !== toInt(m[1])) throw new InvalidArgumentError(`invalid --ip-range ${text}: host bits are set; use ${range.cidr}`);
  if (!contains(subnet, range.base) || !contains(subnet, broadcast(range))) {
    throw new InvalidArgumentError(`--ip-range ${text} is not inside subnet ${subnet.cidr}; pick a range inside it`);
  }
  return { rangeStart: toIp(Math.max(range.base, firstHost(subnet))), rangeEnd: toIp(Math.min(broadcast(range), lastHost(subnet))) };
}

/** --aux-address NAME=IP: each inside the subnet and not its gateway. */
export function auxAddressesOf(subnet: Subnet, gateway: string, given: Readonly<Record<string, string>>): Record<string, IPv4> {
  const out: Record<string, IPv4> = {};
  for (const [name, text] of Object.entries(given)) {
    const ip = parseIPv4(text, `--aux-address ${name}`);
    if (!contains(subnet, ip)) throw new InvalidArgumentError(`--aux-address ${name}=${ip} is outside subnet ${subnet.cidr}; pick an address inside it`);
    if (ip === gateway) throw new InvalidArgumentError(`--aux-address ${name}=${ip} is the gateway; the gateway is reserved already`);
    out[name] = ip;
  }
  return out;
}
