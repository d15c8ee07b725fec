import { InvalidArgumentError } from '../errors.js';
import { parseIPv4 } from './ipv4.js';

export type Protocol = 'tcp' | 'udp';

/** A requested port publication, before host port allocation (hostPort null = pick one). */
export interface PortRequest {
  protocol: Protocol;
  /** null binds every host address. */
  hostIp: string | null;
  hostPort: number | null;
  containerPort: number;
}

const FORMAT = '[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], e.g. 8000:8080 or 127.0.0.1:8000:8080/udp';

function parsePort(text: string, spec: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${what} "${text}" is not a number; use ${FORMAT}`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new InvalidArgumentError(`invalid port mapping "${spec}": ${what} ${n} is outside 1-65535`);
  return n;
}

/** Parses one `-p` value the way `docker run -p` reads it. */
export function parsePortSpec(spec: string): PortRequest {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw new InvalidArgumentError(`invalid port mapping "${spec}": protocol "${p}" is not tcp or udp`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | null = null;
  // An IPv4 host address has dots: take everything up to the last two colon-separated parts.
  const parts = rest.split(':');
  if (parts.length === 3) {
    if (parts[0] !== '' && parts[0] !== '0.0.0.0') hostIp = parseIPv4(parts[0], `host address in "${spec}":`);
    parts.shift();
  } else if (parts.length > 3 || parts.length === 0 || rest === '') {
    throw new InvalidArgumentError(`invalid port mapping "${spec}": expected ${FORMAT}`);
  }
  if (parts.length === 1) return { protocol, hostIp, hostPort: null, containerPort: parsePort(parts[0], spec, 'container port') };
  const hostPort = parts[0] === '' ? null : parsePort(parts[0], spec, 'host port');
  return { protocol, hostIp, hostPort, containerPort: parsePort(parts[1], spec, 'container port') };
}

/** Ephemeral host ports, the kernel's default ip_local_port_range (as Docker uses it). */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 } as const;

/** Two publications collide when protocol and port match and either binds all addresses or both bind the same one. */
export function portsCollide(a: { protocol: Protocol; hostIp: string | null; hostPort: number }, b: { protocol: Protocol; hostIp: string | null; hostPort: number }): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === null || b.hostIp === null || a.hostIp === b.hostIp);
}

export function formatBinding(p: { protocol: Protocol; hostIp: string | null; hostPort: number; containerPort: number }): string {
  return `${p.containerPort}/${p.protocol} -> ${p.hostIp ?? '0.0.0.0'}:${p.hostPort}`;
}
