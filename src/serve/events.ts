import type { ServerResponse } from 'node:http';
import type { Overview } from '../engine/views.js';

/** A change `ctnet serve` tells its event stream about. */
export interface ChangeEvent {
  kind: 'container' | 'network';
  action: 'created' | 'started' | 'exited' | 'removed' | 'connected' | 'disconnected';
  id: string;
  name: string;
  /** The network a container was connected to or disconnected from. */
  network?: string;
  time: string;
}

export interface Snapshot {
  containers: Map<string, { name: string; status: string; networks?: readonly string[] }>;
  networks: Map<string, string>;
}

export function snapshotOf(containers: Overview['containers'], networks: Overview['networks']): Snapshot {
  return {
    containers: new Map(containers.map((c) => [c.Id, { name: c.Name, status: c.State.Status, networks: c.Networks }])),
    networks: new Map(networks.map((n) => [n.Id, n.Name])),
  };
}

/** What changed between two snapshots, as events (pure; unit-tested). */
export function diffSnapshots(before: Snapshot, now: Snapshot, time = new Date().toISOString()): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  for (const [id, name] of now.networks) if (!before.networks.has(id)) events.push({ kind: 'network', action: 'created', id, name, time });
  for (const [id, c] of now.containers) {
    const was = before.containers.get(id);
    if (was?.status !== c.status) {
      const action = c.status === 'running' ? 'started' : c.status === 'exited' ? 'exited' : 'created';
      events.push({ kind: 'container', action, id, name: c.name, time });
    }
    // A known container's networks (network connect and disconnect; a start and an exit too, as Docker's events say).
    if (!was) continue;
    const [old, cur] = [was.networks ?? [], c.networks ?? []];
    for (const network of cur) if (!old.includes(network)) events.push({ kind: 'container', action: 'connected', id, name: c.name, network, time });
    for (const network of old) if (!cur.includes(network)) events.push({ kind: 'container', action: 'disconnected', id, name: c.name, network, time });
  }
  for (const [id, c] of before.containers) if (!now.containers.has(id)) events.push({ kind: 'container', action: 'removed', id, name: c.name, time });
  for (const [id, name] of before.networks) if (!now.networks.has(id)) events.push({ kind: 'network', action: 'removed', id, name, time });
  return events;
}

/**
 * Server-sent events: while anyone listens, the state is read every `intervalMs` and each change is
 * sent to every listener (the page updates within a second of `run` or `rm`).
 */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last: Snapshot | undefined;
  private heartbeat = 0;

  /** `idle` runs when the last listener has gone (the reader can let go of what it holds). */
  constructor(private readonly read: () => Snapshot, private readonly intervalMs = 250, private readonly idle: () => void = () => {}) {}

  add(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (!this.clients.size) this.stop();
    });
    if (!this.timer) {
      this.last = this.read();
      this.timer = setInterval(() => this.poll(), this.intervalMs);
    }
  }

  private poll(): void {
    let now: Snapshot;
    try {
      now = this.read();
    } catch {
      return; // the state is being written; next time
    }
    const events = this.last ? diffSnapshots(this.last, now) : [];
    this.last = now;
    for (const e of events) this.send(`event: change\ndata: ${JSON.stringify(e)}\n\n`);
    // A comment now and then keeps proxies from closing an idle stream.
    if (++this.heartbeat % Math.ceil(15_000 / this.intervalMs) === 0) this.send(': keep-alive\n\n');
  }

  private send(text: string): void {
    for (const res of this.clients) res.write(text);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
    this.idle();
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }
}
