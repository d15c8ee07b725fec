import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { buildReply, parseQuery, RCODE, TYPE_A, TYPE_AAAA, TYPE_ANY, type Query } from './wire.js';
import { lookupName, type DnsNetwork, type NameTable } from './records.js';

/**
 * The embedded DNS: one process, a UDP socket and a TCP listener on port 53 of every user-defined
 * network's gateway address. A query is answered from the network it arrived on (the socket says
 * which); other names go to the host's resolvers, and SERVFAIL comes back quickly when none answers.
 */
const TTL = 600;
const UPSTREAM_TIMEOUT_MS = 1500;

interface Listener {
  gateway: string;
  udp: Socket;
  tcp: Server;
}

export class DnsServer {
  private readonly listeners = new Map<string, Listener>();
  private table: NameTable = { names: new Map(), names6: new Map(), networksOf: new Map() };
  /** Internal networks have no way out: their other names are not forwarded. */
  private internal = new Set<string>();

  constructor(private readonly upstreams: () => string[], private readonly log: (line: string) => void = () => {}) {}

  setTable(table: NameTable, internal: Set<string> = new Set()): void {
    this.table = table;
    this.internal = internal;
  }

  /** Listens on exactly these networks' gateways: new ones are bound, gone ones closed. */
  async setNetworks(networks: readonly DnsNetwork[]): Promise<void> {
    const wanted = new Map(networks.map((n) => [n.id, n]));
    for (const [id, l] of this.listeners) {
      if (wanted.get(id)?.gateway === l.gateway) continue;
      this.closeListener(l);
      this.listeners.delete(id);
    }
    for (const n of networks) {
      if (this.listeners.has(n.id)) continue;
      try {
        this.listeners.set(n.id, await this.listen(n));
      } catch (err) {
        this.log(`cannot listen on ${n.gateway}:53 for network ${n.name}: ${(err as Error).message}`);
      }
    }
  }

  private async listen(n: DnsNetwork): Promise<Listener> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      // Names of the network are answered at once; only forwarded queries wait.
      const local = this.answerLocally(n.id, msg, rinfo.address);
      if (local) udp.send(local, rinfo.port, rinfo.address);
      else if (local === null) void this.answer(n.id, msg, rinfo.address).then((reply) => reply && udp.send(reply, rinfo.port, rinfo.address));
    });
    udp.on('error', (err) => this.log(`udp ${n.gateway}: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(53, n.gateway, () => resolve());
    });
    const tcp = createServer((conn) => {
      let buf = Buffer.alloc(0);
      conn.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          void this.answer(n.id, msg, conn.remoteAddress?.replace(/^::ffff:/, '')).then((reply) => {
            if (!reply || conn.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            conn.write(Buffer.concat([len, reply]));
          });
        }
      });
      conn.on('error', () => conn.destroy());
      conn.setTimeout(10_000, () => conn.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(53, n.gateway, () => resolve());
    });
    this.log(`listening on ${n.gateway}:53 for network ${n.name}`);
    return { gateway: n.gateway, udp, tcp };
  }

  private closeListener(l: Listener): void {
    l.udp.close();
    l.tcp.close();
  }

  /**
   * The reply when the network itself knows the answer (its names; SERVFAIL for other names on an
   * internal network); null when the query must be forwarded; undefined for what is not a query.
   */
  answerLocally(networkId: string, msg: Buffer, source?: string): Buffer | null | undefined {
    const q = parseQuery(msg);
    if (!q) return undefined;
    const addresses = lookupName(this.table, networkId, q.name, source);
    // A name of this network: A (or AAAA) records; other types get an empty answer (NOERROR), not a forward.
    if (addresses) {
      const answers = q.type === TYPE_A ? addresses : q.type === TYPE_AAAA ? lookupName(this.table, networkId, q.name, source, true) ?? []
        : q.type === TYPE_ANY ? [...addresses, ...(lookupName(this.table, networkId, q.name, source, true) ?? [])] : [];
      return buildReply(msg, q, RCODE.NOERROR, answers, TTL);
    }
    if (this.internal.has(networkId)) return buildReply(msg, q, RCODE.SERVFAIL);
    return null;
  }

  /** The reply to one query received on a network; undefined for what is not a query. */
  async answer(networkId: string, msg: Buffer, source?: string): Promise<Buffer | undefined> {
    const local = this.answerLocally(networkId, msg, source);
    if (local !== null) return local;
    const q = parseQuery(msg) as Query;
    return (await this.forward(msg)) ?? buildReply(msg, q, RCODE.SERVFAIL);
  }

  /**
   * Asks all of the host's resolvers at once and takes the first answer; undefined when none answers
   * within the timeout, or at once when each refuses (connected sockets report ICMP unreachable).
   */
  private forward(msg: Buffer): Promise<Buffer | undefined> {
    const servers = this.upstreams();
    if (!servers.length) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const sockets: Socket[] = [];
      let failed = 0;
      const finish = (value: Buffer | undefined): void => {
        clearTimeout(timer);
        for (const s of sockets) s.close();
        sockets.length = 0;
        resolve(value);
      };
      const timer = setTimeout(() => finish(undefined), UPSTREAM_TIMEOUT_MS);
      for (const server of servers) {
        const sock = createSocket(server.includes(':') ? 'udp6' : 'udp4');
        sockets.push(sock);
        sock.on('message', (m) => finish(m));
        sock.on('error', () => {
          if (++failed === servers.length) finish(undefined);
        });
        sock.connect(53, server, () => sock.send(msg));
      }
    });
  }

  close(): void {
    for (const l of this.listeners.values()) this.closeListener(l);
    this.listeners.clear();
  }
}

/** The nameservers of a resolv.conf text. */
export function parseResolvConf(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s);
}
