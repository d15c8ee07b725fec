import ipaddr from 'ipaddr.js';
import { InvalidArgumentError } from '../errors.js';
import { parseIPv4 } from '../addr/ipv4.js';

import type { PortRequest, Protocol } from '../store/records.js';

export type { PortRequest, Protocol };
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];


const FORMAT = '[HOSTIP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|/udp|/sctp], e.g. 8000:8080, 9000-9100:9000-9100, 127.0.0.1:53:53/udp or [fd00::1]:8000:80';

function parsePort(text: string, spec: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${what} "${text}" is not a number; use ${FORMAT}`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${what} ${n} is outside 1-65535`);
  return n;
}

/** "N" or "N-M" as an inclusive range. */
function parseRange(text: string, spec: string, what: string): { first: number; last: number } {
  const [a, b, ...more] = text.split('-');
  if (more.length) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${what} "${text}" is not a port or a range; use ${FORMAT}`);
  const first = parsePort(a, spec, what);
  const last = b === undefined ? first : parsePort(b, spec, what);
  if (last < first) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${what} range ${text} ends before it starts`);
  return { first, last };
}

/**
 * Parses one `-p` value the way `docker run -p` reads it, ranges included: `9000-9100:9000-9100`
 * maps port to port, `7000-7010:80` publishes 80 on the first free host port of the range, and
 * `8080-8090` gives each container port a free ephemeral host port.
 */
export function parsePublish(spec: string): PortRequest[] {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (!(PROTOCOLS as readonly string[]).includes(p)) throw new InvalidArgumentError(`invalid port mapping "${spec}": protocol "${p}" is not tcp, udp or sctp`);
    protocol = p as Protocol;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | null = null;
  // An IPv6 host address comes in brackets, as in Docker: [fd00::1]:8000:80 ([::] is every address).
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(rest);
  if (v6) {
    if (!ipaddr.IPv6.isValid(v6[1])) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${v6[1]} is not an IPv6 address`);
    const addr = ipaddr.IPv6.parse(v6[1]);
    hostIp = addr.range() === 'unspecified' ? null : addr.toString();
    rest = `:${v6[2]}`;
  }
  // An IPv4 host address has dots: take everything up to the last two colon-separated parts.
  const parts = rest.split(':');
  if (parts.length === 3) {
    if (!v6 && parts[0] !== '' && parts[0] !== '0.0.0.0') hostIp = parseIPv4(parts[0], `host address in "${spec}":`);
    parts.shift();
  } else if (parts.length > 3 || parts.length === 0 || rest === '') {
    throw new InvalidArgumentError(`invalid port mapping "${spec}": expected ${FORMAT}`);
  }
  const container = parseRange(parts[parts.length - 1], spec, 'container port');
  const host = parts.length === 2 && parts[0] !== '' ? parseRange(parts[0], spec, 'host port') : null;
  const count = container.last - container.first + 1;
  const each = (i: number, hostPort: number | null, hostRange?: { first: number; last: number }): PortRequest =>
    ({ protocol, hostIp, hostPort, containerPort: container.first + i, ...(hostRange ? { hostRange } : {}) });
  if (host === null) return Array.from({ length: count }, (_, i) => each(i, null));
  const hostCount = host.last - host.first + 1;
  if (count === 1 && hostCount > 1) return [each(0, null, host)];
  if (hostCount !== count) {
    throw new InvalidArgumentError(`invalid port mapping "${spec}": host range has ${hostCount} ports and container range ${count}; give ranges of the same length`);
  }
  return Array.from({ length: count }, (_, i) => each(i, host.first + i));
}

/** Ephemeral host ports, the kernel's default ip_local_port_range (as Docker uses it). */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 } as const;

/** Two publications collide when protocol and port match and either binds all addresses or both bind the same one. */
export function portsCollide(a: { protocol: Protocol; hostIp: string | null; hostPort: number }, b: { protocol: Protocol; hostIp: string | null; hostPort: number }): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === null || b.hostIp === null || a.hostIp === b.hostIp);
}
