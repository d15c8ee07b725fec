import { parseMapElements, type MapElement } from '../firewall/ruleset.js';
import type { Protocol } from '../ipam/ports.js';
import { NFT_FAMILY, NFT_TABLE, PORT_MAP } from '../names.js';
import { hasTable } from '../kernel/nft.js';
import type { EngineContext } from './context.js';

/** A published port with what its nftables map element has counted. */
export interface PortCounterView {
  ContainerId: string;
  ContainerName: string;
  Protocol: Protocol;
  HostIp: string;
  HostPort: number;
  ContainerPort: number;
  /** NAT sees the first packet of a connection: this counts connections (TCP) or flows (UDP) translated. */
  Packets: number;
  Bytes: number;
}

/**
 * Every published port with what its map elements counted: the port maps of each table (`ip ctnet`,
 * and `ip6 ctnet` for dual-stack networks) listed, not the tables, which hold every container's guard
 * elements too; an any-address mapping's IPv4 and IPv6 counts added up.
 */
export function portCounters(ctx: EngineContext): PortCounterView[] {
  const nft = ctx.kernel().nft();
  const counted: MapElement[] = [];
  for (const family of [NFT_FAMILY, 'ip6'] as const) {
    if (!hasTable(ctx.kernel().nfnl(), family, NFT_TABLE)) continue;
    for (const map of Object.values(PORT_MAP).flatMap((m) => [m.any, m.host])) counted.push(...parseMapElements(nft.list(`list map ${family} ${NFT_TABLE} ${map}`, true)));
  }
  const names = new Map(ctx.store.containerStates().map((c) => [c.id, c.name]));
  // An any-address port has an element in each family's table: their counts added up by key, not
  // searched for each port (10,000 ports).
  const key = (protocol: Protocol, hostIp: string | null, hostPort: number): string => `${protocol} ${hostIp ?? ''} ${hostPort}`;
  const totals = new Map<string, { packets: number; bytes: number }>();
  for (const k of counted) {
    const at = key(k.protocol, k.hostIp, k.hostPort);
    const total = totals.get(at) ?? { packets: 0, bytes: 0 };
    totals.set(at, { packets: total.packets + k.packets, bytes: total.bytes + k.bytes });
  }
  return ctx.store.listPorts().map((p) => {
    const counts = totals.get(key(p.protocol, p.hostIp, p.hostPort));
    return {
      ContainerId: p.containerId, ContainerName: names.get(p.containerId) ?? '', Protocol: p.protocol, HostIp: p.hostIp ?? '0.0.0.0',
      HostPort: p.hostPort, ContainerPort: p.containerPort, Packets: counts?.packets ?? 0, Bytes: counts?.bytes ?? 0,
    };
  });
}
