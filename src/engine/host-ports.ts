import { ConflictError, InvalidArgumentError } from '../errors.js';
import { EPHEMERAL_PORTS, portsCollide, type PortRequest } from '../ipam/ports.js';
import type { PortRecord, StateStore } from '../store/store.js';
import type { EngineContext } from './context.js';
import { isIPv6 } from '../addr/family.js';

/**
 * Host ports for each request: given ones checked against the publications on the same protocol and
 * port (an indexed look-up, whatever the number of published ports), missing ones picked from the
 * ephemeral range.
 */
export function allocatePorts(store: StateStore, requests: readonly PortRequest[], containerId: string): PortRecord[] {
  const out: PortRecord[] = [];
  const mine = new Map<string, PortRecord[]>();
  const key = (protocol: string, port: number): string => `${protocol}/${port}`;
  const clashWith = (wanted: Omit<PortRecord, 'containerId' | 'containerPort'>): PortRecord | undefined =>
    [...store.portsAt(wanted.protocol, wanted.hostPort), ...(mine.get(key(wanted.protocol, wanted.hostPort)) ?? [])].find((t) => portsCollide(t, wanted));
  for (const r of requests) {
    let hostPort = r.hostPort;
    if (hostPort === null) {
      const range = r.hostRange ?? EPHEMERAL_PORTS;
      const used = store.hostPortsIn(r.protocol, range.first, range.last);
      for (const o of out) if (o.protocol === r.protocol) used.add(o.hostPort);
      for (let p = range.first; hostPort === null && p <= range.last; p++) if (!used.has(p)) hostPort = p;
      if (hostPort === null) {
        throw new ConflictError(`no free host port is left in ${r.hostRange ? `${range.first}-${range.last}` : 'the ephemeral range'}/${r.protocol}; give other host ports`);
      }
    }
    const clash = clashWith({ ...r, hostPort });
    if (clash) {
      const owner = clash.containerId === containerId ? 'this container' : store.getContainer(clash.containerId)?.name ?? 'another container';
      throw new ConflictError(`host port ${clash.hostIp ?? '0.0.0.0'}:${hostPort}/${r.protocol} is already published by ${owner}; pick another host port`);
    }
    const rec: PortRecord = { containerId, protocol: r.protocol, hostIp: r.hostIp, hostPort, containerPort: r.containerPort };
    out.push(rec);
    mine.set(key(rec.protocol, hostPort), [...(mine.get(key(rec.protocol, hostPort)) ?? []), rec]);
  }
  return out;
}

/** A publication bound to a host address needs that address on the host. */
export function checkHostAddresses(ctx: EngineContext, requests: readonly PortRequest[]): void {
  const wanted = requests.filter((r) => r.hostIp !== null);
  if (!wanted.length) return;
  const rtnl = ctx.kernel().rtnl();
  const local = new Set([...rtnl.listAddresses(), ...(wanted.some((r) => r.hostIp !== null && isIPv6(r.hostIp)) ? rtnl.listAddresses(true) : [])].map((a) => a.address));
  for (const r of wanted) {
    if (!local.has(r.hostIp as string)) {
      throw new InvalidArgumentError(`host address ${r.hostIp} in -p is not an address of the host; use one of ${[...local].join(', ')} or leave it out`);
    }
  }
}
