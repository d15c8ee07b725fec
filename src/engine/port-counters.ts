import { parseMapElements, type MapElement } from '../firewall/ruleset.js';
import { PROTOCOLS, type Protocol } from '../ipam/ports.js';
import { NFT_FAMILY, NFT_TABLE, PORT_MAP } from '../names.js';
import type { EngineContext } from './context.js';
import { ctnetTableExists } from './networks.js';

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

export function portCounters(ctx: EngineContext): PortCounterView[] {
  const counted: MapElement[] = [];
  if (ctnetTableExists(ctx)) {
    for (const proto of PROTOCOLS) {
      for (const map of Object.values(PORT_MAP[proto])) {
        counted.push(...parseMapElements(ctx.kernel().nft().list(`list map ${NFT_FAMILY} ${NFT_TABLE} ${map}`, true), proto));
      }
    }
  }
  const names = new Map(ctx.store.listContainers().map((c) => [c.id, c.name]));
  return ctx.store.listPorts().map((p) => {
    const c = counted.find((k) => k.protocol === p.protocol && k.hostIp === p.hostIp && k.hostPort === p.hostPort);
    return {
      ContainerId: p.containerId, ContainerName: names.get(p.containerId) ?? '', Protocol: p.protocol, HostIp: p.hostIp ?? '0.0.0.0',
      HostPort: p.hostPort, ContainerPort: p.containerPort, Packets: c?.packets ?? 0, Bytes: c?.bytes ?? 0,
    };
  });
}
