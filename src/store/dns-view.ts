import type Database from 'better-sqlite3';
import { openDatabase } from './sqlite.js';
import { join } from 'node:path';
import type { IPv4, IPv6 } from '../addr/family.js';
import type { NetOptions } from './records.js';

/** A network with embedded DNS, as the DNS server needs it. */
export interface DnsViewNetwork {
  id: string;
  name: string;
  gateway: IPv4;
  internal: boolean;
}

/** A container's address on one network, with the names it answers to there. */
export interface DnsViewContainer {
  id: string;
  name: string;
  aliases: string[];
  networkId: string;
  ip: IPv4;
  ip6?: IPv6 | null;
  /** false while it is being set up: it may already ask, its names are not answered yet. */
  running?: boolean;
  /** Its own upstream name servers (run --dns), asked for names the network does not know. */
  dns?: string[];
}

type AttachmentRow = { id: string; name: string; aliases: string; network_id: string; ip: IPv4; ip6: IPv6 | null; state: string; net_options: string };

const rowsOf = (rows: unknown[]): DnsViewContainer[] => (rows as AttachmentRow[]).map((c) => ({
  id: c.id, name: c.name, aliases: JSON.parse(c.aliases) as string[], networkId: c.network_id, ip: c.ip, ip6: c.ip6, running: c.state === 'running',
  dns: (JSON.parse(c.net_options) as NetOptions).dns,
}));

/** What `DnsView.follow` found. */
export type DnsChange =
  | { seq: number; all: { networks: DnsViewNetwork[]; containers: DnsViewContainer[] }; containers?: undefined }
  | { seq: number; all?: undefined; containers: Map<string, DnsViewContainer[]> };

/**
 * The embedded DNS's view of ctnet's state (ctnet-dns runs apart from the engine): a read-only
 * connection that notices every commit of another process (PRAGMA data_version), so polling it costs
 * one tiny statement.
 */
export class DnsView {
  private readonly db: Database.Database;
  private version = -1;
  private readonly logSince: Database.Statement;
  private readonly logEnd: Database.Statement;
  private readonly allAttachments: Database.Statement;
  private readonly attachmentsOfIds: Database.Statement;

  constructor(root: string) {
    this.db = openDatabase(join(root, 'ctnet.db'), { readonly: true, timeout: 5000 });
    this.logSince = this.db.prepare('SELECT seq, container_id FROM dns_log WHERE seq > ? ORDER BY seq').raw();
    this.logEnd = this.db.prepare('SELECT COALESCE(MAX(seq), 0) FROM dns_log').pluck();
    // Every attachment (first networks first), with the aliases given there. 'created': being set up,
    // its process may already ask before it is recorded running.
    const attachments = (where: string): Database.Statement => this.db.prepare(`
      SELECT c.id, c.name, a.aliases, a.network_id, a.ip, a.ip6, c.state, c.net_options FROM attachments a JOIN containers c ON c.id = a.container_id
      WHERE ${where} ORDER BY a.is_primary DESC`);
    this.allAttachments = attachments("c.state IN ('running', 'created')");
    // By their IDs (the unary + keeps SQLite from reading every running container through the state's index).
    this.attachmentsOfIds = attachments("+c.state IN ('running', 'created') AND c.id IN (SELECT value FROM json_each(?))");
  }

  /** True once after each commit by someone else (and on the first call). */
  changed(): boolean {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    if (v === this.version) return false;
    this.version = v;
    return true;
  }

  /** Makes the next `changed()` true again: for a reader whose look after a change failed, so the change is not lost. */
  lookAgain(): void {
    this.version = -1;
  }

  /**
   * What changed since `seq` (the change log's position at the last look; -1 at first), read in one
   * snapshot. `all`: everything read anew, at first, after a change of networks or of other hosts'
   * names, or when the log no longer reaches back to `seq`. Otherwise `containers`: each changed
   * container's rows now (none when it is gone, exited or no longer has an address).
   */
  follow(seq: number): DnsChange {
    return this.db.transaction((): DnsChange => {
      const log = this.logSince.all(seq) as [number, string | null][];
      const last = log.length ? log[log.length - 1][0] : seq;
      if (seq < 0 || (log.length && log[0][0] !== seq + 1) || log.some(([, id]) => id === null)) {
        return { seq: seq < 0 ? (this.logEnd.get() as number) : last, all: this.read() };
      }
      const ids = [...new Set(log.map(([, id]) => id as string))];
      const containers = new Map<string, DnsViewContainer[]>(ids.map((id) => [id, []]));
      if (ids.length) for (const c of rowsOf(this.attachmentsOfIds.all(JSON.stringify(ids)))) containers.get(c.id)?.push(c);
      return { seq: last, containers };
    })();
  }

  /** The networks with embedded DNS (not Docker's default bridge, not CNI ones) and their running containers. */
  read(): { networks: DnsViewNetwork[]; containers: DnsViewContainer[] } {
    const networks = (this.db.prepare('SELECT id, name, gateway, internal FROM networks WHERE dns = 1 AND state != \'removing\'').all() as { id: string; name: string; gateway: IPv4; internal: number }[])
      .map((n) => ({ ...n, internal: n.internal === 1 }));
    const containers = rowsOf(this.allAttachments.all());
    // Containers of overlay networks on other hosts (the cluster agent keeps this table).
    const remote = (this.db.prepare('SELECT host, name, aliases, network_id, ip FROM remote_endpoints ORDER BY host, name').all() as { host: string; name: string; aliases: string; network_id: string; ip: IPv4 }[])
      .map((r) => ({ id: `${r.host}/${r.name}`, name: r.name, aliases: JSON.parse(r.aliases) as string[], networkId: r.network_id, ip: r.ip, running: true }));
    return { networks, containers: [...containers, ...remote] };
  }

  close(): void {
    this.db.close();
  }
}
