import { buildNameTable, type NameTable } from './records.js';
import type { DnsServer } from './server.js';
import { DnsView, type DnsChange, type DnsViewNetwork } from '../store/dns-view.js';

/**
 * The state as one DNS thread follows it: a read-only view of its own, and the server's name table
 * brought up to date whenever someone committed since the last look (which costs one tiny
 * statement): through the change log, only the containers that changed are read again.
 */
export class StateFollower {
  private readonly view: DnsView;
  /** The networks with embedded DNS, as last read. */
  networks: DnsViewNetwork[] = [];
  private table: NameTable | undefined;
  /** The change log's position the table is at (-1: nothing read yet). */
  private seq = -1;

  constructor(root: string) {
    this.view = new DnsView(root);
  }

  /** Brings `server`'s table up to date if the state changed; true when the table changed. */
  reload(server: DnsServer): boolean {
    if (!this.view.changed()) return false;
    let change: DnsChange;
    try {
      change = this.view.follow(this.table ? this.seq : -1);
    } catch (err) {
      // A read that failed (the database busy past its timeout) is tried again at the next look,
      // not only after the next commit.
      this.view.lookAgain();
      throw err;
    }
    this.seq = change.seq;
    if (change.all) {
      this.networks = change.all.networks;
      this.table = buildNameTable(change.all.networks, change.all.containers);
      server.setTable(this.table, new Set(this.networks.filter((n) => n.internal).map((n) => n.id)));
      return true;
    }
    if (!change.containers.size) return false;
    (this.table as NameTable).replace(change.containers);
    server.tableChanged();
    return true;
  }

  close(): void {
    this.view.close();
  }
}
