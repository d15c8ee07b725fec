import { parentPort, Worker } from 'node:worker_threads';
import type { Socket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { DnsServer, newUdpSocket } from './server.js';
import { StateFollower } from './state.js';
import { duplicateFd } from '../kernel/libc.js';

/**
 * A second thread reading the same UDP sockets as the main one (each through its own descriptor of
 * the socket). With one reader, every query waited whenever that one thread was off a CPU (a
 * collection, the scheduler on a busy host); with two, the other takes the datagrams meanwhile. Under
 * dnsperf (32 queries in flight), a bare Node responder's p99 went from 1.8-4.8 to 0.7-2.3 ms with a
 * second thread or process on the socket. The thread answers the networks' own names from its own
 * view of the state; a query that must go upstream is handed to the main thread, which alone keeps
 * the per-client rates and the bound on queries in flight.
 */

const RESTART_MS = 100;

/** What the main thread tells a reader. */
type ToReader = { open: { networkId: string; fd: number } } | { close: string };
/** What a reader hands back: a query to forward, answered through the main thread's socket, with the client's own upstreams as the reader knows them. */
interface Forward {
  networkId: string;
  msg: Uint8Array;
  port: number;
  address: string;
  own?: string[];
}

/** The main thread's side: starts the reader, keeps its sockets in step with the listeners, starts it again if it ends. */
export class ReaderThread {
  private worker: Worker | undefined;
  /** The listeners the reader has a copy of: network -> the main thread's descriptor it copied. */
  private readonly given = new Map<string, number>();
  /** Before the next start after an end: doubled while each run lasts under 10 s, as the supervisor's restarts. */
  private delayMs = RESTART_MS;

  constructor(private readonly entry: URL, private readonly root: string, private readonly server: DnsServer, private readonly log: (line: string) => void) {}

  start(): void {
    const worker = new Worker(this.entry, { workerData: { ctnetDnsReader: this.root } });
    const startedAt = Date.now();
    this.worker = worker;
    this.given.clear();
    worker.on('message', (m: Forward) => this.server.forwardFor(m.networkId, Buffer.from(m.msg.buffer, m.msg.byteOffset, m.msg.byteLength), m.port, m.address, m.own));
    worker.on('error', (err) => this.log(`reader thread: ${err.stack ?? err.message}`));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.delayMs = Date.now() - startedAt < 10_000 ? Math.min(this.delayMs * 2, 60_000) : RESTART_MS;
      this.log(`reader thread ended (${code}); starting another in ${this.delayMs} ms`);
      setTimeout(() => this.start(), this.delayMs);
    });
    this.sync();
  }

  /** Gives the reader a descriptor of each listening socket it lacks and takes back those closed since. */
  sync(): void {
    const worker = this.worker;
    if (!worker) return;
    const listening = this.server.udpDescriptors();
    for (const [id, fd] of this.given) {
      if (listening.get(id) === fd) continue;
      worker.postMessage({ close: id } satisfies ToReader);
      this.given.delete(id);
    }
    for (const [id, fd] of listening) {
      if (this.given.has(id)) continue;
      try {
        worker.postMessage({ open: { networkId: id, fd: duplicateFd(fd) } } satisfies ToReader);
        this.given.set(id, fd);
      } catch (err) {
        this.log(`reader thread: no copy of network ${id}'s socket: ${(err as Error).message}`);
      }
    }
  }
}

/** The reader's own side, run in the worker thread: answers what its sockets receive until the process ends. */
export function serveAsReader(root: string, log: (line: string) => void): void {
  const port = parentPort;
  if (!port) throw new Error('serveAsReader runs in a worker thread');
  const follower = new StateFollower(root);
  const refresh = (): void => {
    try {
      follower.reload(server);
    } catch (err) {
      log(`reader thread: reading the state: ${(err as Error).message}`);
    }
  };
  const server: DnsServer = new DnsServer(() => [], log, refresh);
  refresh();
  setInterval(refresh, 200);
  const sockets = new Map<string, Socket>();
  port.on('message', (m: ToReader) => {
    if ('close' in m) {
      sockets.get(m.close)?.close();
      sockets.delete(m.close);
      return;
    }
    const { networkId, fd } = m.open;
    const udp = newUdpSocket();
    server.serveUdp(networkId, udp, (msg, sourcePort, address) => port.postMessage({ networkId, msg, port: sourcePort, address, own: server.ownUpstreams(networkId, address) } satisfies Forward));
    udp.on('error', (err) => log(`reader thread: udp of network ${networkId}: ${err.message}`));
    try {
      udp.bind({ fd });
      sockets.set(networkId, udp);
    } catch (err) {
      closeSync(fd);
      log(`reader thread: cannot read network ${networkId}'s socket: ${(err as Error).message}`);
    }
  });
}
