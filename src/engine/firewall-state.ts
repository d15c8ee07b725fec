import { renderDeleteTable, renderReplaceTable, type FirewallNetwork, type PortMapping } from '../firewall/ruleset.js';
import type { ContainerRecord, PortRecord, Store } from '../store/store.js';

/** Builds the firewall's inputs from state, so the whole table can always be rendered anew. */

export function firewallNetworks(store: Store): FirewallNetwork[] {
  return store.listNetworks().map((n) => ({ bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, internal: n.internal, ipMasq: n.ipMasq }));
}

export function toMappings(ports: readonly PortRecord[], ip: string): PortMapping[] {
  return ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: ip, containerPort: p.containerPort }));
}

/** Port mappings of every container that holds an address. */
export function activeMappings(store: Store): PortMapping[] {
  const ipOf = new Map(store.listContainers().filter((c) => c.ip).map((c) => [c.id, c.ip as string]));
  return store.listPorts().flatMap((p) => (ipOf.has(p.containerId) ? toMappings([p], ipOf.get(p.containerId) as string) : []));
}

export function mappingsOf(store: Store, c: ContainerRecord): PortMapping[] {
  return c.ip ? toMappings(store.portsOf(c.id), c.ip) : [];
}

/** The script that makes ctnet's table match the state: replaced whole, or removed when no network is left. */
export function firewallScript(store: Store): string {
  const networks = firewallNetworks(store);
  return networks.length ? renderReplaceTable(networks, activeMappings(store)) : renderDeleteTable();
}
