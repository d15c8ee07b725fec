import type { ChildProcess } from 'node:child_process';
import { EngineContext, type EngineOptions } from './context.js';
import { attachContainer, runContainer, type AttachRequest, type RunRequest, type Started } from './containers.js';
import type { ContainerProcess } from './container-process.js';
import { containerExited, containerLogs, followLogs, detachNetworkOnly, execInContainer, killContainer, removeContainers, stopContainer, waitContainer } from './lifecycle.js';
import { signalContainer } from './signals.js';
import { findContainer, liveState, type AliveCheck } from './lookup.js';
import { statsSamples, type StatsSample } from './stats.js';
import { portCounters, type PortCounterView } from './port-counters.js';
import { connectNetwork, disconnectNetwork, type ConnectRequest } from './connect.js';
import { createNetwork, findNetwork, pruneNetworks, reloadFirewall, removeNetwork, type CreateNetworkRequest } from './networks.js';
import { garbageCollect, type GcReport } from './gc.js';
import { reconcileForRead } from './reconcile.js';
import { containerListing, containerView, justMadeSources, listingSources, networkListing, networkView, type ContainerListing, type ContainerView, type NetworkListing, type NetworkView, type Overview } from './views.js';
import { readTopology, type Topology } from '../topology/model.js';
import { diagnose, type Diagnosis } from '../doctor/doctor.js';
import { clusterStatus, createOverlayNetwork, ensureOverlayHere, joinCluster, leaveCluster, removeOverlayNetwork, type JoinRequest } from './overlay.js';
import type { ClusterConfig } from '../store/cluster.js';
import type { NetworkRecord } from '../store/store.js';
import { RESERVED_NETWORK_NAMES } from './network-mode.js';

/** ctnet's library API: one object per host namespace and state directory. */
export class Engine {
  private readonly ctx: EngineContext;

  constructor(options: EngineOptions = {}) {
    this.ctx = new EngineContext(options);
  }

  createNetwork(req: CreateNetworkRequest): NetworkView {
    return networkView(this.ctx.store, createNetwork(this.ctx, req));
  }

  /** `-d overlay`: a network across the cluster's hosts (recorded in etcd), and this host's part of it. */
  async createOverlayNetwork(req: CreateNetworkRequest): Promise<NetworkView> {
    return networkView(this.ctx.store, await createOverlayNetwork(this.ctx, req));
  }

  /**
   * Before a container joins `network`: an overlay network made on another host gets its part here
   * (a block of its subnet leased, bridge and VXLAN device). Names of local networks cost nothing.
   */
  async prepareNetwork(network: string | undefined): Promise<void> {
    if (network && !RESERVED_NETWORK_NAMES.includes(network) && !network.startsWith('container:')) await ensureOverlayHere(this.ctx, network);
  }

  /** `network rm` of either kind (an overlay's block goes back to the cluster). Returns warnings. */
  async removeAnyNetwork(name: string): Promise<Error[]> {
    const net = this.ctx.store.findNetwork(name);
    return net?.overlay ? removeOverlayNetwork(this.ctx, name) : removeNetwork(this.ctx, name);
  }

  joinCluster(req: JoinRequest): Promise<ClusterConfig> {
    return joinCluster(this.ctx, req);
  }

  leaveCluster(): void {
    leaveCluster(this.ctx);
  }

  clusterStatus(): ReturnType<typeof clusterStatus> {
    return clusterStatus(this.ctx);
  }

  listNetworks(): NetworkView[] {
    reconcileForRead(this.ctx);
    return this.networkViews();
  }

  /** What `network ls` shows of each network: its containers counted, not read. */
  listNetworkListings(): NetworkListing[] {
    reconcileForRead(this.ctx);
    const counts = this.ctx.store.containerCounts();
    return this.ctx.store.listNetworks().map((n) => networkListing(this.ctx.store, n, counts.get(n.id) ?? 0));
  }

  /**
   * Every container's name, state (running or not) and networks, and every network's name, after one
   * read-time reconcile: what the web view's event stream compares, four times a second while a page is open.
   * Whole views took 13-16 ms a read at 1,000 containers, this 2.8-2.9.
   */
  overview(): Overview {
    const alive = reconcileForRead(this.ctx);
    const networks = this.ctx.store.listNetworks().map((n) => ({ Id: n.id, Name: n.name }));
    const names = new Map(networks.map((n) => [n.Id, n.Name]));
    const memberships = this.ctx.store.memberships();
    return {
      containers: this.ctx.store.containerStates().map((c) => ({
        Id: c.id, Name: c.name, State: { Status: liveState(c, alive) }, Networks: (memberships.get(c.id) ?? []).map((m) => names.get(m.networkId) ?? m.networkId),
      })),
      networks,
    };
  }

  private networkViews(): NetworkView[] {
    return this.ctx.store.listNetworks().map((n) => networkView(this.ctx.store, n));
  }

  private containerViews(all: boolean, alive: AliveCheck): ContainerView[] {
    const sources = listingSources(this.ctx.store, alive);
    return this.ctx.store
      .listContainers()
      .map((c) => containerView(this.ctx.store, c, sources))
      .filter((v) => all || v.State.Running);
  }

  inspectNetwork(name: string): NetworkView {
    reconcileForRead(this.ctx);
    return networkView(this.ctx.store, findNetwork(this.ctx, name));
  }

  hasNetwork(name: string): boolean {
    return this.ctx.store.findNetwork(name) !== undefined;
  }

  /** Returns warnings: pieces that could not be removed (ctnet gc retries them). */
  removeNetwork(name: string): Error[] {
    return removeNetwork(this.ctx, name);
  }

  /**
   * Removes every network no container uses (not the default one), or those of them `only` keeps
   * (network prune --filter); returns their names and warnings.
   */
  pruneNetworks(only?: (n: NetworkRecord) => boolean): { removed: string[]; warnings: Error[] } {
    return pruneNetworks(this.ctx, only);
  }

  run(req: RunRequest): Started {
    return runContainer(this.ctx, req);
  }

  /** A network-only container (namespace, veth, address, routes, ports) with no process; remove it with `remove`. */
  attach(req: AttachRequest): ContainerView | undefined {
    const { container, made } = attachContainer(this.ctx, req);
    return made ? containerView(this.ctx.store, container, justMadeSources(this.ctx.store, made)) : undefined;
  }

  /** Removes a container made by `attach` (synchronously; `remove` also stops processes). */
  detach(nameOrId: string): void {
    detachNetworkOnly(this.ctx, nameOrId);
  }

  /**
   * Resolves once a started container's command runs; rejects (exit 125) when it could not be set up.
   * `blocking`: a detached container is waited for on this thread (the CLI, which has nothing else
   * to do meanwhile): Node's asynchronous read started libuv's four threads, which cost `run -d`
   * ~2-8 ms on a 2-CPU machine, where they ran beside the container's setup.
   */
  async started(child: ContainerProcess, opts: { blocking?: boolean } = {}): Promise<void> {
    if (opts.blocking && child.startedNow) return child.startedNow();
    return child.started();
  }

  /** Passes a signal to a running container's PID 1 (SIGKILL ends it whatever it does). */
  signal(id: string, signal: NodeJS.Signals): void {
    signalContainer(this.ctx.root, findContainer(this.ctx, id), signal);
  }

  /** Records the exit of a foreground container started by `run`, and takes its network down. */
  exited(id: string, exitCode: number): void {
    containerExited(this.ctx, id, exitCode);
  }

  listContainers(all = false): ContainerView[] {
    return this.containerViews(all, reconcileForRead(this.ctx));
  }

  /** What `ps` shows of each container (running ones; `all`: every one): a narrower read than whole views. */
  listContainerListings(all = false): ContainerListing[] {
    const sources = listingSources(this.ctx.store, reconcileForRead(this.ctx));
    return this.ctx.store
      .listContainerHeads()
      .map((c) => containerListing(this.ctx.store, c, sources))
      .filter((l) => all || l.State.Running);
  }

  inspect(nameOrId: string): ContainerView {
    reconcileForRead(this.ctx);
    return containerView(this.ctx.store, findContainer(this.ctx, nameOrId));
  }

  async stop(nameOrId: string, timeoutSeconds?: number): Promise<void> {
    await stopContainer(this.ctx, nameOrId, timeoutSeconds);
  }

  /** `kill`: a signal to a running container's command (SIGKILL by default, as Docker's). */
  async kill(nameOrId: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await killContainer(this.ctx, nameOrId, signal);
  }

  async remove(names: readonly string[], force = false): Promise<void> {
    await removeContainers(this.ctx, names, force);
  }

  exec(nameOrId: string, command: string[]): ChildProcess {
    return execInContainer(this.ctx, nameOrId, command);
  }

  /** One reading of the counters of the named (or all running) containers. */
  stats(names: readonly string[] = []): StatsSample[] {
    return statsSamples(this.ctx, names);
  }

  /** Resolves with the exit code once the container has exited. */
  wait(nameOrId: string): Promise<number | null> {
    return waitContainer(this.ctx, nameOrId);
  }

  logs(nameOrId: string): Buffer {
    return containerLogs(this.ctx, nameOrId);
  }

  /** `logs -f`: what the log gets after `from` bytes, passed to `write` as it comes, until the container has ended. */
  followLogs(nameOrId: string, from: number, write: (chunk: Buffer) => void): Promise<void> {
    return followLogs(this.ctx, nameOrId, from, write);
  }

  /** Renders ctnet's nftables table anew from state (after `nft flush ruleset` or a firewalld reload). */
  reloadFirewall(): void {
    reloadFirewall(this.ctx);
  }

  /** What exists now: host interfaces, bridges, veth pairs, containers, ports and rules. */
  /** `network connect`: one more network for a running container (ethN); returns its interface and address. */
  connect(req: ConnectRequest): { Interface: string; IPAddress: string } {
    const a = connectNetwork(this.ctx, req);
    return { Interface: a.ifname, IPAddress: a.ip };
  }

  disconnect(network: string, container: string): void {
    disconnectNetwork(this.ctx, network, container);
  }

  /** Every published port with the connections its nftables element translated. */
  portCounters(): PortCounterView[] {
    reconcileForRead(this.ctx);
    return portCounters(this.ctx);
  }

  topology(): Topology {
    return readTopology(this.ctx);
  }

  /** Walks the layers of a container's network and stops at the first broken one, with its fix. */
  doctor(nameOrId: string, to?: string): Diagnosis {
    return diagnose(this.ctx, nameOrId, to);
  }

  gc(): GcReport {
    return garbageCollect(this.ctx);
  }

  close(): void {
    this.ctx.close();
  }
}
