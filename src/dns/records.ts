import type { IPv4, IPv6 } from '../addr/family.js';

/**
 * The names the embedded DNS answers, per network: every container's name, its short ID, its
 * aliases, and NAME.NETWORK, each mapped to the container's address on that network. Pure: built
 * from rows of the state, so the resolver only looks names up.
 */
export interface DnsContainer {
  id: string;
  name: string;
  aliases: readonly string[];
  networkId: string;
  ip: IPv4 | null;
  /** Dual stack: its IPv6 address there (AAAA). */
  ip6?: IPv6 | null;
  /** false while it is being set up: it may already ask (a client), its names are not answered yet. */
  running?: boolean;
  /** Its own upstream name servers (run --dns): other names it asks for are forwarded there. */
  dns?: string[];
}

export interface DnsNetwork {
  id: string;
  name: string;
  gateway: IPv4;
}

/**
 * names: networkId -> lower-case name -> addresses (an alias two containers share answers with both,
 * as Docker does). networksOf: networkId -> a container's address there -> all networks of that
 * container, first network first: a container connected to several networks resolves the names of
 * each, whichever gateway it asks.
 */
export interface NameTable {
  names: Map<string, Map<string, string[]>>;
  /** The same names' IPv6 addresses (AAAA), for containers on dual-stack networks. */
  names6: Map<string, Map<string, string[]>>;
  networksOf: Map<string, Map<string, string[]>>;
  /** networkId -> the addresses of its containers: the only clients its gateway answers. */
  clients: Map<string, Set<string>>;
  /** networkId -> a client's address -> its own upstream servers (run --dns), instead of the host's. */
  upstreams: Map<string, Map<string, string[]>>;
}

export function buildNameTable(networks: readonly DnsNetwork[], containers: readonly DnsContainer[]): NameTable {
  const table = new Map(networks.map((n) => [n.id, new Map<string, string[]>()]));
  const table6 = new Map(networks.map((n) => [n.id, new Map<string, string[]>()]));
  const networksOf = new Map(networks.map((n) => [n.id, new Map<string, string[]>()]));
  const clients = new Map(networks.map((n) => [n.id, new Set<string>()]));
  const upstreams = new Map(networks.map((n) => [n.id, new Map<string, string[]>()]));
  for (const c of containers) {
    if (!c.ip) continue;
    clients.get(c.networkId)?.add(c.ip);
    if (c.dns?.length) upstreams.get(c.networkId)?.set(c.ip, c.dns);
  }
  containers = containers.filter((c) => c.running !== false);
  const byContainer = new Map<string, DnsContainer[]>();
  for (const c of containers) if (c.ip && table.has(c.networkId)) byContainer.set(c.id, [...(byContainer.get(c.id) ?? []), c]);
  for (const entries of byContainer.values()) {
    for (const e of entries) networksOf.get(e.networkId)?.set(e.ip as string, entries.map((x) => x.networkId));
  }
  const byId = new Map(networks.map((n) => [n.id, n]));
  for (const c of containers) {
    const names = table.get(c.networkId);
    const net = byId.get(c.networkId);
    if (!names || !net || !c.ip) continue;
    for (const n of [c.name, ...(/^[0-9a-f]{12}/.test(c.id) ? [c.id.slice(0, 12)] : []), `${c.name}.${net.name}`, ...c.aliases, ...c.aliases.map((a) => `${a}.${net.name}`)]) {
      const key = n.toLowerCase();
      const list = names.get(key) ?? [];
      if (!list.includes(c.ip)) list.push(c.ip);
      names.set(key, list);
      const names6 = table6.get(c.networkId) as Map<string, string[]>;
      const list6 = names6.get(key) ?? [];
      if (c.ip6 && !list6.includes(c.ip6)) list6.push(c.ip6);
      names6.set(key, list6);
    }
  }
  return { names: table, names6: table6, networksOf, clients, upstreams };
}

/**
 * The addresses of `qname` for a query that arrived on a network from `source`: looked up on every
 * network of the asking container (when it is one), else on that network alone; undefined when no
 * container has the name.
 */
export function lookupName(table: NameTable, networkId: string, qname: string, source?: string, v6 = false): string[] | undefined {
  const name = qname.replace(/\.$/, '').toLowerCase();
  const nets = (source && table.networksOf.get(networkId)?.get(source)) || [networkId];
  for (const n of nets) {
    const found = table.names.get(n)?.get(name);
    if (found) return v6 ? table.names6.get(n)?.get(name) ?? [] : found;
  }
  return undefined;
}
