import { createSocket, type Socket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { createServer, isIP, type Server, type Socket as TcpSocket } from 'node:net';
import { buildReply, parseQuery, questionEnd, RCODE, TYPE_A, TYPE_AAAA, TYPE_ANY, type Query } from './wire.js';
import { lookupName, NameTable, type DnsNetwork } from './records.js';
import { boundUdp4Socket } from '../kernel/udp.js';

/**
 * The embedded DNS: one process, a UDP socket and a TCP listener on port 53 of every user-defined
 * network's gateway address. A query is answered from the network it arrived on (the socket says
 * which), and only for that network's containers: anyone else gets REFUSED. Other names go to the
 * host's resolvers (each client within a rate, all of them within a bound of queries in flight),
 * and SERVFAIL comes back quickly when none answers. Nothing a peer sends can throw out of a handler.
 */
const TTL = 600;
const UPSTREAM_TIMEOUT_MS = 1500;
/** Forwarded queries per client: a bucket of BURST refilled at RATE per second. */
const FORWARD_RATE = 50;
const FORWARD_BURST = 100;
/** Forwarded queries waiting for an upstream at once, from all clients together. */
const MAX_IN_FLIGHT = 256;
const MAX_TCP_CONNECTIONS = 256;
const TCP_IDLE_MS = 10_000;
/** A TCP message is at most 65,535 bytes after its two-byte length. */
const MAX_TCP_BUFFER = 2 + 0xffff;
/** Replies kept for the network's own names (per network, client, flags and question); all go when the names change. */
const MAX_CACHED_REPLIES = 20_000;

interface Listener {
  gateway: string;
  udp: Socket;
  /** The UDP socket's descriptor (dgram adopted it), which a reader thread may read through a copy. */
  fd: number;
  tcp: Server;
}

export class DnsServer {
  private readonly listeners = new Map<string, Listener>();
  private table = new NameTable();
  /** Counts the table's changes (a fresh look at the state may change it in place). */
  private tableVersion = 0;
  /** Internal networks have no way out: their other names are not forwarded. */
  private internal = new Set<string>();
  private inFlight = 0;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly replies = new Map<string, Buffer>();

  /** `refresh` re-reads the state when it changed (a client or a name not in the table may have just started). */
  constructor(private readonly upstreams: () => string[], private readonly log: (line: string) => void = () => {}, private readonly refresh: () => void = () => {}) {}

  setTable(table: NameTable, internal: Set<string> = new Set()): void {
    this.table = table;
    this.internal = internal;
    this.tableChanged();
  }

  /** The table was changed in place: the replies built from it go. */
  tableChanged(): void {
    this.tableVersion++;
    this.replies.clear();
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
    const fd = boundUdp4Socket(n.gateway, 53);
    const udp = newUdpSocket();
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ fd }, () => resolve());
      });
    } catch (err) {
      closeSync(fd); // not adopted
      throw err;
    }
    this.serveUdp(n.id, udp, (msg, port, address) => this.forwardFor(n.id, msg, port, address));
    udp.on('error', (err) => this.log(`udp ${n.gateway}: ${err.message}`));
    const tcp = createServer((conn) => this.serveTcp(n, conn));
    tcp.maxConnections = MAX_TCP_CONNECTIONS;
    tcp.on('error', (err) => this.log(`tcp ${n.gateway}: ${err.message}`));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(53, n.gateway, () => resolve());
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    this.log(`listening on ${n.gateway}:53 for network ${n.name}`);
    return { gateway: n.gateway, udp, fd, tcp };
  }

  /** Each network's UDP socket as a descriptor (valid while it listens), for a reader thread to share. */
  udpDescriptors(): Map<string, number> {
    return new Map([...this.listeners].map(([id, l]) => [id, l.fd]));
  }

  /**
   * Answers the queries `udp` receives for a network: its names at once; one that must go upstream
   * goes to `forward`, which ends with `forwardFor` in the thread that holds the network's listener.
   */
  serveUdp(networkId: string, udp: Socket, forward: (msg: Buffer, port: number, address: string) => void): void {
    udp.on('message', (msg, rinfo) => {
      const local = this.guarded(() => this.answerLocally(networkId, msg, rinfo.address));
      if (local) sendTo(udp, local, rinfo.port, rinfo.address);
      else if (local === null) forward(msg, rinfo.port, rinfo.address);
    });
  }

  /**
   * A UDP query that must go upstream (within its client's rate), answered through the network's
   * listener; `own`: the client's upstreams as the reader thread that received it knows them.
   */
  forwardFor(networkId: string, msg: Buffer, port: number, address: string, own?: string[]): void {
    const l = this.listeners.get(networkId);
    if (!l) return;
    void this.forwardUpstream(networkId, msg, address, own).then((out) => sendTo(l.udp, out, port, address), (err) => this.log(`udp ${l.gateway}: ${err.message}`));
  }

  /** DNS over TCP: length-prefixed messages, answered in order; a connection idle or overlong is closed. */
  private serveTcp(n: DnsNetwork, conn: TcpSocket): void {
    let buf = Buffer.alloc(0);
    const source = conn.remoteAddress?.replace(/^::ffff:/, '');
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > MAX_TCP_BUFFER * 2) return void conn.destroy();
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(n.id, msg, source).then((reply) => {
          if (!reply || conn.destroyed || reply.length > 0xffff) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([len, reply]));
        }, (err) => this.log(`tcp ${n.gateway}: ${err.message}`));
      }
    });
    conn.on('error', () => conn.destroy());
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
  }

  /** A handler's work: a throw (a bug meeting a packet nobody foresaw) costs that packet, never the server. */
  private guarded<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.log(`dropped a query: ${(err as Error).stack ?? err}`);
      return undefined;
    }
  }

  private closeListener(l: Listener): void {
    l.udp.close();
    l.tcp.close();
  }

  /**
   * The reply when the network itself knows the answer (its names; SERVFAIL for other names on an
   * internal network; REFUSED for a client that is not one of its containers); null when the query
   * must be forwarded; undefined for what is not a query.
   */
  answerLocally(networkId: string, msg: Buffer, source?: string): Buffer | null | undefined {
    const end = questionEnd(msg);
    if (end === undefined) return undefined;
    if (!this.isClient(networkId, source)) return buildReply(msg, parseQuery(msg) as Query, RCODE.REFUSED);
    // The same question from the same client on the same network gets the same reply but for its ID:
    // a copy of the one built before (names are answered from the table, which clears these).
    const key = `${networkId}|${source}|${msg.toString('latin1', 2, 6)}${msg.toString('latin1', 12, end)}`;
    const cached = this.replies.get(key);
    if (cached) {
      const out = Buffer.from(cached);
      msg.copy(out, 0, 0, 2);
      return out;
    }
    const q = parseQuery(msg) as Query;
    const addresses = this.lookUp(networkId, q.name, source);
    // A name of this network: A (or AAAA) records; other types get an empty answer (NOERROR), not a forward.
    if (addresses) {
      const answers = q.type === TYPE_A ? addresses : q.type === TYPE_AAAA ? lookupName(this.table, networkId, q.name, source, true) ?? []
        : q.type === TYPE_ANY ? [...addresses, ...(lookupName(this.table, networkId, q.name, source, true) ?? [])] : [];
      const reply = buildReply(msg, q, RCODE.NOERROR, answers, TTL);
      if (this.replies.size >= MAX_CACHED_REPLIES) this.replies.clear();
      this.replies.set(key, reply);
      return reply;
    }
    if (this.internal.has(networkId)) return buildReply(msg, q, RCODE.SERVFAIL);
    return null;
  }

  /**
   * A name the table lacks may be a container's that started since the last poll (`run -d` returns
   * before it): one fresh look at the state first, which reads it again only if someone committed.
   */
  private lookUp(networkId: string, name: string, source: string | undefined): string[] | undefined {
    return this.afterRefreshIfMissing(() => lookupName(this.table, networkId, name, source));
  }

  /** What `look` finds in the table; if nothing, what it finds after a fresh look at the state (when that changed the table). */
  private afterRefreshIfMissing<T>(look: () => T | undefined): T | undefined {
    const found = look();
    if (found !== undefined) return found;
    const before = this.tableVersion;
    this.refresh();
    return this.tableVersion === before ? undefined : look();
  }

  /**
   * Only the network's own containers may ask its gateway (aardvark-dns's rule): a container of
   * another network, or another host, would otherwise resolve its names and use it as an open
   * resolver. A client the table does not know yet (a container that just started) gets one
   * fresh look at the state first.
   */
  private isClient(networkId: string, source: string | undefined): boolean {
    return !!source && this.afterRefreshIfMissing(() => (this.table.clients.get(networkId)?.has(source) ? true : undefined)) === true;
  }

  /** The reply to one query received on a network; undefined for what is not a query. */
  async answer(networkId: string, msg: Buffer, source?: string): Promise<Buffer | undefined> {
    const local = this.guarded(() => this.answerLocally(networkId, msg, source));
    return local !== null ? local : this.forwardUpstream(networkId, msg, source);
  }

  /**
   * The upstreams' reply to a query the network cannot answer itself (answerLocally said so): the
   * client's own (run --dns; `own` when another thread's table named them) or the host's.
   */
  private async forwardUpstream(networkId: string, msg: Buffer, source?: string, own?: string[]): Promise<Buffer> {
    const q = parseQuery(msg) as Query;
    if (!this.mayForward(source as string)) return buildReply(msg, q, RCODE.REFUSED);
    this.inFlight++;
    try {
      return (await this.forward(msg, own ?? this.ownUpstreams(networkId, source) ?? this.upstreams())) ?? buildReply(msg, q, RCODE.SERVFAIL);
    } finally {
      this.inFlight--;
    }
  }

  /** The upstreams a container gave itself (run --dns), as this thread's table has them. */
  ownUpstreams(networkId: string, source: string | undefined): string[] | undefined {
    return source === undefined ? undefined : this.table.upstreams.get(networkId)?.get(source);
  }

  /** A client's bucket and the bound on queries in flight. */
  private mayForward(source: string): boolean {
    if (this.inFlight >= MAX_IN_FLIGHT) return false;
    const now = Date.now();
    const b = this.buckets.get(source) ?? { tokens: FORWARD_BURST, at: now };
    b.tokens = Math.min(FORWARD_BURST, b.tokens + ((now - b.at) / 1000) * FORWARD_RATE);
    b.at = now;
    this.buckets.set(source, b);
    if (this.buckets.size > 4096) this.buckets.clear(); // addresses come and go; a full bucket is the default anyway
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Asks all the servers (the host's resolvers, or the client's own) at once and takes the first answer;
   * undefined when none answers within the timeout, or at once when each refuses (connected sockets report ICMP unreachable).
   */
  private forward(msg: Buffer, servers: readonly string[]): Promise<Buffer | undefined> {
    if (!servers.length) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const sockets: Socket[] = [];
      let failed = 0;
      let done = false;
      const finish = (value: Buffer | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const s of sockets) try { s.close(); } catch { /* closed */ }
        resolve(value);
      };
      const fail = (): void => {
        if (++failed === servers.length) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), UPSTREAM_TIMEOUT_MS);
      for (const server of servers) {
        // An unroutable or malformed upstream (an offline host) is a failure of that upstream, not of the server.
        try {
          const sock = createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
          sockets.push(sock);
          sock.on('message', (m) => finish(m));
          sock.on('error', fail);
          sock.connect(53, server, () => {
            try {
              sock.send(msg, (err) => err && fail());
            } catch {
              fail();
            }
          });
        } catch {
          fail();
        }
      }
    });
  }

  close(): void {
    for (const l of this.listeners.values()) this.closeListener(l);
    this.listeners.clear();
  }
}

/**
 * Sends a datagram unless the peer cannot be answered (port 0 throws in Node); a failed send is the
 * peer's loss, so no callback is asked for (Node then drops the error instead of scheduling one).
 */
function sendTo(sock: Socket, msg: Buffer | undefined, port: number, address: string): void {
  if (!msg || !Number.isInteger(port) || port < 1 || port > 0xffff) return;
  try {
    sock.send(msg, port, address);
  } catch {
    // closed meanwhile
  }
}

/** A UDP socket that replies to the IP literal a query came from; bind it to a descriptor. */
export function newUdpSocket(): Socket {
  return createSocket({ type: 'udp4', lookup: literalAddress });
}

/**
 * dgram's lookup for the address a reply goes to: always the IP literal a query came from, so it is
 * handed back at once instead of through dns.lookup's extra tick. (A bare Node UDP responder under
 * dnsperf here: 27-30k replies/s with the tick and a send callback, 31k without the callback, 34-36k
 * without both.)
 */
function literalAddress(address: string, _options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(address);
  if (family) callback(null, address, family);
  else callback(Object.assign(new Error(`not an IP address: ${address}`), { code: 'EINVAL' }), address, 4);
}

/** The nameservers of a resolv.conf text. */
export function parseResolvConf(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s);
}
