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
 * The names a DNS thread answers, kept up to date a container at a time (`replace`): a commit that
 * starts or removes one container changes only its entries, whatever the number of containers.
 *
 * names: networkId -> lower-case name -> addresses (an alias two containers share answers with both,
 * as Docker does). networksOf: networkId -> a container's address there -> all networks of that
 * container, first network first: a container connected to several networks resolves the names of
 * each, whichever gateway it asks.
 */
export class NameTable {
  readonly names = new Map<string, Map<string, string[]>>();
  /** The same names' IPv6 addresses (AAAA), for containers on dual-stack networks. */
  readonly names6 = new Map<string, Map<string, string[]>>();
  readonly networksOf = new Map<string, Map<string, string[]>>();
  /** networkId -> the addresses of its containers: the only clients its gateway answers. */
  readonly clients = new Map<string, Set<string>>();
  /** networkId -> a client's address -> its own upstream servers (run --dns), instead of the host's. */
  readonly upstreams = new Map<string, Map<string, string[]>>();
  private readonly networks: Map<string, DnsNetwork>;
  /** Each container's rows as last put in, so that its entries can be taken out again. */
  private readonly rows = new Map<string, readonly DnsContainer[]>();

  constructor(networks: readonly DnsNetwork[] = []) {
    this.networks = new Map(networks.map((n) => [n.id, n]));
    for (const n of networks) {
      this.names.set(n.id, new Map());
      this.names6.set(n.id, new Map());
      this.networksOf.set(n.id, new Map());
      this.clients.set(n.id, new Set());
      this.upstreams.set(n.id, new Map());
    }
  }

  /**
   * Gives these containers their rows now (none: gone, or no longer running or starting). Every old
   * entry of theirs goes before any new one comes: an address may pass from one to another in one change.
   */
  replace(changed: ReadonlyMap<string, readonly DnsContainer[]>): void {
    for (const id of changed.keys()) this.remove(id);
    for (const [id, rows] of changed) if (rows.length) this.add(id, rows);
  }

  private add(id: string, rows: readonly DnsContainer[]): void {
    this.rows.set(id, rows);
    for (const c of rows) {
      if (!c.ip) continue;
      this.clients.get(c.networkId)?.add(c.ip);
      if (c.dns?.length) this.upstreams.get(c.networkId)?.set(c.ip, c.dns);
    }
    const named = this.namedRows(rows);
    for (const c of named) {
      const ip = c.ip as string;
      this.networksOf.get(c.networkId)?.set(ip, named.map((x) => x.networkId));
      const names = this.names.get(c.networkId) as Map<string, string[]>;
      const names6 = this.names6.get(c.networkId) as Map<string, string[]>;
      for (const key of this.keysOf(c)) {
        const list = names.get(key) ?? [];
        if (!list.includes(ip)) list.push(ip);
        names.set(key, list);
        const list6 = names6.get(key) ?? [];
        if (c.ip6 && !list6.includes(c.ip6)) list6.push(c.ip6);
        names6.set(key, list6);
      }
    }
  }

  private remove(id: string): void {
    const rows = this.rows.get(id);
    if (!rows) return;
    this.rows.delete(id);
    for (const c of rows) {
      if (!c.ip) continue;
      this.clients.get(c.networkId)?.delete(c.ip);
      this.upstreams.get(c.networkId)?.delete(c.ip);
    }
    for (const c of this.namedRows(rows)) {
      this.networksOf.get(c.networkId)?.delete(c.ip as string);
      const names = this.names.get(c.networkId) as Map<string, string[]>;
      const names6 = this.names6.get(c.networkId) as Map<string, string[]>;
      for (const key of this.keysOf(c)) {
        const left = (names.get(key) ?? []).filter((ip) => ip !== c.ip);
        if (!left.length) {
          names.delete(key);
          names6.delete(key);
          continue;
        }
        names.set(key, left);
        names6.set(key, (names6.get(key) ?? []).filter((ip) => ip !== c.ip6));
      }
    }
  }

  /** The rows whose names are answered: running, with an address, on a network with embedded DNS. */
  private namedRows(rows: readonly DnsContainer[]): DnsContainer[] {
    return rows.filter((c) => c.running !== false && c.ip && this.names.has(c.networkId));
  }

  /** A container's names on one network, lower case: its name, short ID, aliases, and each as NAME.NETWORK. */
  private keysOf(c: DnsContainer): string[] {
    const net = (this.networks.get(c.networkId) as DnsNetwork).name;
    const shortId = /^[0-9a-f]{12}/.test(c.id) ? [c.id.slice(0, 12)] : [];
    return [c.name, ...shortId, `${c.name}.${net}`, ...c.aliases, ...c.aliases.map((a) => `${a}.${net}`)].map((n) => n.toLowerCase());
  }
}

/** The table of these networks and containers (rows of one container may come apart, first network first). */
export function buildNameTable(networks: readonly DnsNetwork[], containers: readonly DnsContainer[]): NameTable {
  const byContainer = new Map<string, DnsContainer[]>();
  for (const c of containers) {
    const rows = byContainer.get(c.id);
    if (rows) rows.push(c);
    else byContainer.set(c.id, [c]);
  }
  const table = new NameTable(networks);
  table.replace(byContainer);
  return table;
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
