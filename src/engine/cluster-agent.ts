import type { Lease } from 'etcd3';
import { join } from 'node:path';
import { exists, watchDirectory } from '../kernel/files.js';
import { ClusterStore, type BlockLease, type ClusterEndpoint } from '../store/cluster.js';
import { DnsView } from '../store/dns-view.js';
import type { NetworkRecord, OverlayPeer, RemoteEndpoint } from '../store/store.js';
import type { IPv4 } from '../addr/family.js';
import type { Op } from '../plan/ops.js';
import type { Route } from '../kernel/netlink/rtnl.js';
import type { EngineContext } from './context.js';
import { clusterConfig, LEASE } from './cluster-membership.js';

const LOCAL_POLL_MS = 200;
const LOOK_AGAIN_MS = 20;

/**
 * The cluster agent (one per host and state directory, under ctnet's supervisor): keeps the host's
 * lease alive, and after every change in etcd or in the local state makes this host match the
 * cluster: per remote block of each overlay network here one route, neighbour and FDB entry; the
 * remote containers' names for the embedded DNS; this host's containers published for the others.
 * When etcd is away nothing is removed (running containers keep talking); it catches up when etcd
 * is back, re-granting the lease and re-claiming this host's blocks.
 */
export class ClusterAgent {
  private lease: Lease | null = null;
  private leaseId: string | null = null;
  private pending = false;
  private running = false;
  private lastError = '';
  /** Until then, blocks missing from etcd are not removed here: their hosts are re-claiming them after an etcd outage. */
  private graceUntil = 0;
  private readonly localChanges: DnsView;

  private constructor(private readonly ctx: EngineContext, readonly cluster: ClusterStore, private readonly log: (line: string) => void) {
    this.localChanges = new DnsView(ctx.root);
  }

  static async start(ctx: EngineContext, log: (line: string) => void): Promise<ClusterAgent | undefined> {
    const config = clusterConfig(ctx);
    if (!config) return undefined;
    const agent = new ClusterAgent(ctx, await ClusterStore.connect(config), log);
    log(`cluster agent for ${config.host} (${config.advertise}), etcd ${config.endpoints.join(',')}, lease TTL ${config.ttl} s`);
    await agent.sync();
    void agent.watch();
    agent.watchLocal();
    // Every 2 s a full pass: how an unreachable etcd is retried and what the kernel lost made again.
    setInterval(() => agent.schedule(), 2000);
    return agent;
  }

  /**
   * Local changes (a container started or gone) are seen as they are committed: every commit writes
   * the state's WAL, which inotify reports on the state directory; `changed()` then tells a commit by
   * someone else from the agent's own and from a checkpoint. Polling every 0.2 s made a container's
   * name wait ~0.1 s on average, up to 0.2, before the other hosts heard of it. Where the directory
   * cannot be watched (no inotify watches left, a file system without it), it is polled as before.
   */
  private watchLocal(): void {
    const look = (): void => {
      if (this.localChanges.changed()) this.schedule();
    };
    let polling = false;
    const poll = (err: Error): void => {
      if (polling) return;
      polling = true;
      this.log(`cannot watch ${this.ctx.root} (${err.message}); looking for local changes every ${LOCAL_POLL_MS} ms`);
      setInterval(look, LOCAL_POLL_MS);
    };
    // inotify reports the WAL's write before the writer has made its commit visible (a moment later,
    // in shared memory): a second look shortly after each burst of writes finds what the first missed.
    let again: NodeJS.Timeout | undefined;
    watchDirectory(this.ctx.root, (file) => {
      if (file !== null && !file.startsWith('ctnet.db')) return;
      look();
      again ??= setTimeout(() => {
        again = undefined;
        look();
      }, LOOK_AGAIN_MS);
    }, poll);
  }

  /** Revokes the lease (this host's entries go from etcd at once rather than after the TTL); a second at most. */
  async stop(): Promise<void> {
    await Promise.race([this.lease?.revoke().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }

  /** True when this host left the cluster: the agent revokes its lease and its caller exits. */
  get left(): boolean {
    return clusterConfig(this.ctx) === undefined;
  }

  private async watch(): Promise<void> {
    for (;;) {
      try {
        await this.cluster.watch(() => this.schedule());
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  schedule(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    void this.sync();
  }

  /** One pass; passes never overlap (a change during one triggers another right after). */
  async sync(): Promise<void> {
    this.running = true;
    try {
      do {
        this.pending = false;
        await this.pass();
      } while (this.pending);
      if (this.lastError) this.log('the cluster store answers again; in step');
      this.lastError = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastError) this.log(`${message} (running containers are left as they are; retrying)`);
      this.lastError = message;
    } finally {
      this.running = false;
    }
  }

  private async pass(): Promise<void> {
    if (!exists(join(this.ctx.root, 'ctnet.db'))) {
      this.log('the state is gone; the agent stops');
      process.exit(0);
    }
    if (this.left) {
      await this.lease?.revoke().catch(() => undefined);
      this.log('this host left the cluster; the agent stops');
      process.exit(0);
    }
    const leaseId = await this.ensureLease();
    const overlays = this.ctx.store.listNetworks().filter((n) => n.overlay && n.state === 'ready');
    if (!overlays.length) return;
    const [blocks, endpoints] = await Promise.all([this.cluster.allBlocks(), this.cluster.endpoints()]);
    // Read once per pass, whatever the number of networks: which containers run, which routes the kernel has.
    const running = new Set(this.ctx.store.listContainers().filter((c) => c.state === 'running' || c.kind !== 'process').map((c) => c.id));
    const routes = this.ctx.kernel().rtnl().listRoutes();
    for (const net of overlays) {
      await this.publishLocal(net, running, leaseId);
      this.programPeers(net, blocks, routes);
      this.followNames(net, endpoints);
    }
  }

  /** A lease kept alive by the client; a lost one (etcd away longer than the TTL) is granted again and this host's entries re-made. */
  private async ensureLease(): Promise<string> {
    if (this.lease && this.leaseId && !this.lease.revoked()) return this.leaseId;
    const config = clusterConfig(this.ctx);
    if (!config) throw new Error('no cluster configuration');
    const lease = this.cluster.lease(config.ttl);
    const id = await lease.grant();
    lease.on('lost', (err) => {
      this.log(`lease ${id} lost (${err.message}); granting a new one`);
      if (this.lease === lease) this.lease = null;
      this.schedule();
    });
    await this.cluster.putHost(id);
    // This host's blocks again, under the new lease (a block another host took meanwhile is a conflict to report).
    for (const net of this.ctx.store.listNetworks().filter((n) => n.overlay)) {
      const o = net.overlay as NonNullable<NetworkRecord['overlay']>;
      const ok = await this.cluster.claimBlock({ network: net.name, block: net.subnet, host: o.host, underlay: o.underlay, vtepMac: o.vtepMac }, id);
      if (!ok) this.log(`block ${net.subnet} of ${net.name} was taken by another host while this one was away; remove and re-create the network's containers here`);
    }
    // A lease granted again means etcd was away longer than the TTL: every host's lease expired with
    // ours, and they put their blocks back within their next pass. Removing their routes meanwhile
    // would cut containers that were talking all along.
    if (this.leaseId) this.graceUntil = Date.now() + config.ttl * 1000 + 2000;
    this.lease = lease;
    this.leaseId = id;
    this.ctx.store.transaction(() => this.ctx.store.setMeta(LEASE, id));
    this.log(`holding lease ${id}`);
    return id;
  }

  /** This host's running containers on `net`, with their names, for the other hosts' DNS. */
  private async publishLocal(net: NetworkRecord, running: ReadonlySet<string>, leaseId: string): Promise<void> {
    const o = net.overlay as NonNullable<NetworkRecord['overlay']>;
    const mine: ClusterEndpoint[] = this.ctx.store.endpointsOn(net.id)
      .filter((e) => running.has(e.containerId))
      .map((e) => ({ network: net.name, host: o.host, name: e.containerName, aliases: e.aliases, ip: e.ip }));
    await this.cluster.setEndpoints(net.name, mine, leaseId);
  }

  /** One route, neighbour and FDB entry per remote block; those of blocks gone from etcd are removed. */
  private programPeers(net: NetworkRecord, blocks: readonly BlockLease[], routes: readonly Route[]): void {
    const o = net.overlay as NonNullable<NetworkRecord['overlay']>;
    const want: OverlayPeer[] = blocks
      .filter((b) => b.network === net.name && b.host !== o.host)
      .map((b) => ({ block: b.block, host: b.host, vtepMac: b.vtepMac, underlay: b.underlay }));
    // What the kernel lost (a reboot, a device made again) is programmed again: only peers whose route is there count as had.
    const dev = this.ctx.kernel().rtnl().findLink(o.device);
    const routed = new Set(routes.filter((r) => r.oif === dev?.index && r.dstLen > 0).map((r) => `${r.dst}/${r.dstLen}`));
    const have = this.ctx.store.overlayPeers(net.id).filter((p) => routed.has(p.block));
    const same = (a: OverlayPeer, b: OverlayPeer): boolean => a.block === b.block && a.vtepMac === b.vtepMac && a.underlay === b.underlay;
    const inGrace = Date.now() < this.graceUntil;
    if (inGrace) for (const h of have) if (!want.some((w) => w.block === h.block)) want.push(h);
    const ops: Op[] = [
      ...have.filter((h) => !want.some((w) => same(w, h))).map((p) => peerOp('peer.del', o.device, p)),
      ...want.filter((w) => !have.some((h) => same(w, h))).map((p) => peerOp('peer.set', o.device, p)),
    ];
    if (!ops.length) return;
    this.ctx.locked(() => {
      if (!this.ctx.store.findNetwork(net.id)) return; // removed meanwhile: its device took the entries with it
      const errors = this.ctx.applyBestEffort(ops);
      for (const e of errors) this.log(`programming ${net.name}: ${e.message}`);
      this.ctx.store.transaction(() => this.ctx.store.setOverlayPeers(net.id, want));
    });
    for (const op of ops) if (op.op === 'peer.set' || op.op === 'peer.del') this.log(`${net.name}: ${op.op === 'peer.set' ? 'peer' : 'gone'} ${op.block}/${op.prefix} at ${op.underlay}`);
  }

  /** The remote containers' names, for this host's embedded DNS (written only when they changed). */
  private followNames(net: NetworkRecord, endpoints: readonly ClusterEndpoint[]): void {
    const o = net.overlay as NonNullable<NetworkRecord['overlay']>;
    const want: RemoteEndpoint[] = endpoints
      .filter((e) => e.network === net.name && e.host !== o.host)
      .map((e) => ({ host: e.host, name: e.name, aliases: e.aliases, ip: e.ip as IPv4 }))
      .sort((a, b) => `${a.host}/${a.name}`.localeCompare(`${b.host}/${b.name}`));
    if (JSON.stringify(want) === JSON.stringify(this.ctx.store.remoteEndpoints(net.id))) return;
    this.ctx.store.transaction(() => this.ctx.store.setRemoteEndpoints(net.id, want));
  }
}

function peerOp(op: 'peer.set' | 'peer.del', dev: string, p: OverlayPeer): Op {
  const [block, prefix] = p.block.split('/');
  return { op, dev, block, prefix: Number(prefix), vtep: block, mac: p.vtepMac, underlay: p.underlay };
}
