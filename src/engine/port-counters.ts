import { parseMapElements, type MapElement } from '../firewall/ruleset.js';
import type { Protocol } from '../ipam/ports.js';
import { NFT_FAMILY, NFT_TABLE } from '../names.js';
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
 * Every published port with what its map elements counted: one listing per table (`ip ctnet`, and
 * `ip6 ctnet` for dual-stack networks), an any-address mapping's IPv4 and IPv6 counts added up.
 */
export function portCounters(ctx: EngineContext): PortCounterView[] {
  const nft = ctx.kernel().nft();
  const tables = nft.list(`list tables`);
  const counted: MapElement[] = [];
  for (const family of [NFT_FAMILY, 'ip6']) {
    if (tables.includes(`table ${family} ${NFT_TABLE}\n`)) counted.push(...parseMapElements(nft.list(`list table ${family} ${NFT_TABLE}`, true)));
  }
  const names = new Map(ctx.store.listContainers().map((c) => [c.id, c.name]));
  return ctx.store.listPorts().map((p) => {
    const mine = counted.filter((k) => k.protocol === p.protocol && k.hostIp === p.hostIp && k.hostPort === p.hostPort);
    return {
      ContainerId: p.containerId, ContainerName: names.get(p.containerId) ?? '', Protocol: p.protocol, HostIp: p.hostIp ?? '0.0.0.0',
      HostPort: p.hostPort, ContainerPort: p.containerPort,
      Packets: mine.reduce((n, k) => n + k.packets, 0), Bytes: mine.reduce((n, k) => n + k.bytes, 0),
    };
  });
}
