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
  ip: string | null;
}

export interface DnsNetwork {
  id: string;
  name: string;
  gateway: string;
}

/** networkId -> lower-case name -> addresses (an alias two containers share answers with both, as Docker does). */
export type NameTable = Map<string, Map<string, string[]>>;

export function buildNameTable(networks: readonly DnsNetwork[], containers: readonly DnsContainer[]): NameTable {
  const table: NameTable = new Map(networks.map((n) => [n.id, new Map<string, string[]>()]));
  const byId = new Map(networks.map((n) => [n.id, n]));
  for (const c of containers) {
    const names = table.get(c.networkId);
    const net = byId.get(c.networkId);
    if (!names || !net || !c.ip) continue;
    for (const n of [c.name, c.id.slice(0, 12), `${c.name}.${net.name}`, ...c.aliases, ...c.aliases.map((a) => `${a}.${net.name}`)]) {
      const key = n.toLowerCase();
      const list = names.get(key) ?? [];
      if (!list.includes(c.ip)) list.push(c.ip);
      names.set(key, list);
    }
  }
  return table;
}

/** The addresses of `qname` on a network, or undefined when the name is not one of its containers. */
export function lookupName(table: NameTable, networkId: string, qname: string): string[] | undefined {
  return table.get(networkId)?.get(qname.replace(/\.$/, '').toLowerCase());
}
