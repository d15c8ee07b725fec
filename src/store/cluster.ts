import { readFileSync } from 'node:fs';
import type { Etcd3, IOptions, Lease, Watcher } from 'etcd3';
import { ClusterUnreachableError, ConflictError, CtnetError, InvalidArgumentError } from '../errors.js';

/**
 * The cluster store: what the hosts of a cluster share, in etcd (never a consensus of ctnet's own).
 * Keys under /ctnet/v1/: overlay networks (cluster-wide, no lease), their VNIs, hosts, the blocks
 * each host leases and the containers each host runs on them, the last three under the host's lease
 * so they vanish when a host stops keeping it alive.
 */
const PREFIX = '/ctnet/v1/';
const key = {
  network: (name: string) => `${PREFIX}networks/${name}`,
  vni: (vni: number) => `${PREFIX}vnis/${vni}`,
  host: (name: string) => `${PREFIX}hosts/${name}`,
  blocks: (network: string) => `${PREFIX}blocks/${network}/`,
  block: (network: string, block: string) => `${PREFIX}blocks/${network}/${block.replace('/', '_')}`,
  endpoints: (network: string, host: string) => `${PREFIX}endpoints/${network}/${host}/`,
  endpoint: (network: string, host: string, name: string) => `${PREFIX}endpoints/${network}/${host}/${name}`,
};
/** VNIs ctnet hands out (below are those people number by hand). */
const FIRST_VNI = 4096;

/** How this host reaches the cluster (`ctnet cluster join`). */
export interface ClusterConfig {
  endpoints: string[];
  /** This host's name in the cluster. */
  host: string;
  /** This host's underlay address: other hosts send VXLAN traffic for its blocks there. */
  advertise: string;
  /** Seconds a host's entries outlive its last keep-alive. */
  ttl: number;
  /** TLS files (PEM paths): the CA that signed etcd's certificate, and a client certificate and key if etcd asks for one. */
  tls?: { ca: string; cert?: string; key?: string };
}

export interface OverlayDefinition {
  name: string;
  subnet: string;
  blockPrefix: number;
  vni: number;
  createdAt: string;
}

export interface BlockLease {
  network: string;
  block: string;
  host: string;
  underlay: string;
  vtepMac: string;
}

export interface ClusterEndpoint {
  network: string;
  host: string;
  name: string;
  aliases: string[];
  ip: string;
}

export interface HostEntry {
  name: string;
  underlay: string;
}

/** What commands ask of the cluster store (served in-process, or by a helper inside the host namespace). */
export interface ClusterApi {
  readonly config: ClusterConfig;
  close(): void;
  getNetwork(name: string): Promise<OverlayDefinition | undefined>;
  listNetworks(): Promise<OverlayDefinition[]>;
  createNetwork(def: Omit<OverlayDefinition, 'vni'>): Promise<OverlayDefinition>;
  deleteNetwork(def: OverlayDefinition): Promise<boolean>;
  blocks(network: string): Promise<BlockLease[]>;
  allBlocks(): Promise<BlockLease[]>;
  claimBlock(lease: BlockLease, leaseId: string): Promise<boolean>;
  releaseBlock(network: string, block: string): Promise<void>;
  hosts(): Promise<HostEntry[]>;
}

/** The methods a helper serves (`ClusterApi` without config and close). */
export const CLUSTER_API_METHODS = ['getNetwork', 'listNetworks', 'createNetwork', 'deleteNetwork', 'blocks', 'allBlocks', 'claimBlock', 'releaseBlock', 'hosts'] as const;

export class ClusterStore implements ClusterApi {
  private constructor(readonly config: ClusterConfig, private readonly client: Etcd3, private readonly timeoutMs: number) {}

  /**
   * A client for the cluster's etcd (the client library, ~0.2 s to load, is loaded only by commands
   * that use the cluster). Each exchange has etcdctl's --command-timeout, 5 s: a write waits for a
   * majority's disk, and on a loaded host one fsync alone can take a second or more.
   */
  static async connect(config: ClusterConfig, timeoutMs = 5000): Promise<ClusterStore> {
    const { Etcd3 } = await import('etcd3');
    const options: IOptions = {
      hosts: config.endpoints,
      dialTimeout: timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    };
    if (config.tls) {
      options.credentials = {
        rootCertificate: readFileSync(config.tls.ca),
        ...(config.tls.cert ? { certChain: readFileSync(config.tls.cert) } : {}),
        ...(config.tls.key ? { privateKey: readFileSync(config.tls.key) } : {}),
      };
    }
    return new ClusterStore(config, new Etcd3(options), timeoutMs);
  }

  close(): void {
    this.client.close();
  }

  /** Runs one exchange with etcd; anything but ctnet's own errors means etcd did not answer as it should. */
  private async call<T>(what: string, fn: () => PromiseLike<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    // One deadline per exchange: the client's own retries (three, each with its deadline) would make
    // a command wait ~10 s for an etcd that is down.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      if (err instanceof CtnetError) throw err;
      throw new ClusterUnreachableError(`cannot reach the cluster store (${this.config.endpoints.join(', ')}) to ${what}: ${(err as Error).message.split('\n')[0]}; check that etcd runs and this host reaches it, then retry`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async prefixJson<T>(prefix: string, what: string): Promise<T[]> {
    const all = await this.call(what, () => this.client.getAll().prefix(prefix).strings());
    return Object.values(all).map((v) => JSON.parse(v) as T);
  }

  getNetwork(name: string): Promise<OverlayDefinition | undefined> {
    return this.call(`read overlay network ${name}`, async () => {
      const v = await this.client.get(key.network(name)).string();
      return v ? (JSON.parse(v) as OverlayDefinition) : undefined;
    });
  }

  listNetworks(): Promise<OverlayDefinition[]> {
    return this.prefixJson(`${PREFIX}networks/`, 'list overlay networks');
  }

  /** Records a network cluster-wide with the lowest free VNI, in one transaction (two hosts racing for a name: one wins). */
  async createNetwork(def: Omit<OverlayDefinition, 'vni'>): Promise<OverlayDefinition> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const used = new Set((await this.listNetworks()).map((n) => n.vni));
      let vni = FIRST_VNI;
      while (used.has(vni)) vni++;
      const full = { ...def, vni };
      const r = await this.call(`create overlay network ${def.name}`, () => this.client
        .if(key.network(def.name), 'Create', '==', 0)
        .and(key.vni(vni), 'Create', '==', 0)
        .then(this.client.put(key.network(def.name)).value(JSON.stringify(full)), this.client.put(key.vni(vni)).value(def.name))
        .commit());
      if (r.succeeded) return full;
      if (await this.getNetwork(def.name)) throw new ConflictError(`overlay network ${def.name} already exists in the cluster; use it with --network ${def.name} or pick another name`);
    }
    throw new ConflictError(`could not pick a VNI for ${def.name}: other hosts kept taking them; retry`);
  }

  /** Removes a network cluster-wide, only while no host leases a block of it. */
  async deleteNetwork(def: OverlayDefinition): Promise<boolean> {
    const holders = await this.blocks(def.name);
    if (holders.length) return false;
    await this.call(`remove overlay network ${def.name}`, () => this.client.delete().key(key.network(def.name)).then(() => this.client.delete().key(key.vni(def.vni))));
    return true;
  }

  blocks(network: string): Promise<BlockLease[]> {
    return this.prefixJson(key.blocks(network), `list the blocks of ${network}`);
  }

  allBlocks(): Promise<BlockLease[]> {
    return this.prefixJson(`${PREFIX}blocks/`, 'list blocks');
  }

  /**
   * Leases `block` for this host under `leaseId` if no host holds it (one transaction: of two hosts
   * racing for a block, one wins). Returns whether it is now this host's.
   */
  async claimBlock(lease: BlockLease, leaseId: string): Promise<boolean> {
    const k = key.block(lease.network, lease.block);
    const r = await this.call(`lease block ${lease.block} of ${lease.network}`, () => this.client
      .if(k, 'Create', '==', 0)
      .then(this.client.put(k).value(JSON.stringify(lease)).lease(leaseId))
      .else(this.client.get(k))
      .commit());
    if (r.succeeded) return true;
    // Already there: ours (a host that comes back, under a new lease) is taken over, another host's is not.
    const current = r.responses[0]?.response_range?.kvs?.[0]?.value?.toString();
    if (current && (JSON.parse(current) as BlockLease).host === lease.host) {
      await this.call(`renew block ${lease.block}`, () => this.client.put(k).value(JSON.stringify(lease)).lease(leaseId));
      return true;
    }
    return false;
  }

  async releaseBlock(network: string, block: string): Promise<void> {
    await this.call(`release block ${block} of ${network}`, () => this.client.delete().key(key.block(network, block)));
  }

  putHost(leaseId: string): Promise<unknown> {
    const entry: HostEntry = { name: this.config.host, underlay: this.config.advertise };
    return this.call('register this host', () => this.client.put(key.host(this.config.host)).value(JSON.stringify(entry)).lease(leaseId));
  }

  hosts(): Promise<HostEntry[]> {
    return this.prefixJson(`${PREFIX}hosts/`, 'list hosts');
  }

  /** This host's containers on `network` become exactly `endpoints` (stale ones deleted). */
  async setEndpoints(network: string, endpoints: readonly ClusterEndpoint[], leaseId: string): Promise<void> {
    const prefix = key.endpoints(network, this.config.host);
    const current = await this.call('list this host\'s containers', () => this.client.getAll().prefix(prefix).strings());
    const want = new Map(endpoints.map((e) => [key.endpoint(network, e.host, e.name), JSON.stringify(e)]));
    for (const k of Object.keys(current)) if (!want.has(k)) await this.call('remove a container record', () => this.client.delete().key(k));
    for (const [k, v] of want) if (current[k] !== v) await this.call('publish a container record', () => this.client.put(k).value(v).lease(leaseId));
  }

  endpoints(): Promise<ClusterEndpoint[]> {
    return this.prefixJson(`${PREFIX}endpoints/`, 'list containers');
  }

  /** A lease that the client keeps alive until `revoke` or the process ends. */
  lease(ttl: number): Lease {
    return this.client.lease(ttl, { autoKeepAlive: true });
  }

  /** Calls `onChange` after every change under ctnet's keys (debounce it: a host's leaving deletes several). */
  watch(onChange: () => void): Promise<Watcher> {
    return this.call('watch the cluster', async () => {
      const w = await this.client.watch().prefix(PREFIX).create();
      w.on('put', onChange).on('delete', onChange).on('connected', onChange);
      return w;
    });
  }
}

/** `--store` as given: comma-separated http(s)://HOST:PORT endpoints. */
export function parseEndpoints(text: string): string[] {
  const endpoints = text.split(',').map((e) => e.trim()).filter(Boolean);
  if (!endpoints.length) throw new InvalidArgumentError('--store needs at least one etcd endpoint, e.g. --store http://10.0.0.1:2379');
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/\s]+:\d+$/.test(e)) throw new InvalidArgumentError(`--store endpoint ${e} is not http(s)://HOST:PORT; e.g. http://10.0.0.1:2379`);
  }
  return endpoints;
}
