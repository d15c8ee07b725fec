import { buildNameTable } from './records.js';
import type { DnsServer } from './server.js';
import { DnsView, type DnsViewNetwork } from '../store/dns-view.js';

/**
 * The state as one DNS thread follows it: a read-only view of its own, and the server's name table
 * replaced whenever someone committed since the last look (which costs one tiny statement).
 */
export class StateFollower {
  private readonly view: DnsView;
  /** The networks with embedded DNS, as last read. */
  networks: DnsViewNetwork[] = [];

  constructor(root: string) {
    this.view = new DnsView(root);
  }

  /** Reads the state again if it changed and gives `server` the new table; true when it did. */
  reload(server: DnsServer): boolean {
    if (!this.view.changed()) return false;
    const read = this.view.read();
    this.networks = read.networks;
    server.setTable(buildNameTable(read.networks, read.containers), new Set(read.networks.filter((n) => n.internal).map((n) => n.id)));
    return true;
  }

  close(): void {
    this.view.close();
  }
}
