import type Database from 'better-sqlite3';
import { openDatabase, useWal } from './sqlite.js';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { InvalidArgumentError, PermissionError } from '../errors.js';
import { join } from 'node:path';
import { toInt } from '../addr/ipv4.js';
import type { IPv4, IPv6 } from '../addr/family.js';
import type { AddressBook, NetOptions, PortRequest, Protocol } from './records.js';
import type { SandboxConfig } from '../sandbox/spec.js';
import { MIGRATIONS } from './schema.js';

interface NetworkBase {
  id: string;
  name: string;
  subnet: string;
  gateway: IPv4;
  internal: boolean;
  mtu: number;
  createdAt: string;
  /** Addresses handed out only within [rangeStart, rangeEnd] when set (CNI host-local ranges). */
  rangeStart: string | null;
  rangeEnd: string | null;
  /** Masquerade the subnet on its way out (false: routed mode, containers keep their addresses). */
  ipMasq: boolean;
  /** Containers get a default route via the gateway. */
  defaultRoute: boolean;
  /** The embedded DNS answers on the gateway (networks of ctnet's own containers; not CNI ones). */
  dns: boolean;
  /** Dual stack: the IPv6 subnet and its gateway (null for IPv4 only). */
  subnet6: string | null;
  gateway6: IPv6 | null;
  /** creating: recorded, kernel being set up; removing: kernel being torn down. Only a killed command leaves either. */
  state: NetworkState;
  /** --label KEY=VALUE. */
  labels: Record<string, string>;
  /** --ip-range as given (its addresses are rangeStart-rangeEnd). */
  ipRange: string | null;
  /** --aux-address NAME=IP: addresses IPAM never hands out (a router's, a printer's on the segment). */
  auxAddresses: Record<string, IPv4>;
  /** Containers of the network may talk to each other (Docker's enable_icc; false: only to the gateway and out). */
  icc: boolean;
  /** Docker's host_binding_ipv4: the host address a -p without one publishes on (null: every address). */
  hostBindingIpv4: string | null;
  /**
   * Docker 28's rule for a masquerading network: other hosts reach its containers only through
   * published ports, not by routing to their addresses (CNI's `blockDirectAccess`, off there as in `bridge`).
   */
  blockDirect: boolean;
  /** An overlay network: this host's part of a network that spans hosts (null for a local network). */
  overlay: OverlaySpec | null;
}

/**
 * On each host an overlay network is a bridge over that host's block of the cluster subnet (the
 * network's `subnet` here) and a VXLAN device to the other hosts' blocks.
 */
export interface OverlaySpec {
  /** The whole network's subnet, across hosts. */
  clusterSubnet: string;
  vni: number;
  /** The VXLAN device on this host and its MAC (the other hosts' neighbour and FDB entries name it). */
  device: string;
  vtepMac: string;
  /** This host's underlay address: the VXLAN's local end. */
  underlay: string;
  /** This host's name in the cluster. */
  host: string;
}

/** A remote host's block of an overlay network, as programmed into the kernel. */
export interface OverlayPeer {
  block: string;
  host: string;
  vtepMac: string;
  underlay: string;
}

/** A container of an overlay network on another host (its names answer in this host's DNS). */
export interface RemoteEndpoint {
  host: string;
  name: string;
  aliases: string[];
  ip: IPv4;
}

export type NetworkDriver = 'bridge' | 'macvlan';

/** A network of ctnet's bridge: NAT, published ports, embedded DNS, the firewall's sets. */
export interface BridgeNetwork extends NetworkBase {
  driver: 'bridge';
  bridge: string;
  parent: null;
}

/** Containers on the segment of the host's `parent` interface, with MACs and addresses of their own (macvlan, bridge mode). */
export interface MacvlanNetwork extends NetworkBase {
  driver: 'macvlan';
  bridge: null;
  parent: string;
}

export type NetworkRecord = BridgeNetwork | MacvlanNetwork;

/** How long a command waits for another's hold on the state (SQLite's busy timeout). */
const BUSY_TIMEOUT_MS = 10_000;

export const isBridgeNetwork = (n: NetworkRecord): n is BridgeNetwork => n.driver === 'bridge';


export type NetworkState = 'creating' | 'ready' | 'removing';

export type ContainerState = 'created' | 'running' | 'exited';

/**
 * Where a container's process finds its network (`run --network`): its own namespace on a ctnet
 * network (bridge, the default: `networkId` names it), its own namespace with loopback only (none),
 * the host's namespace (host), or another container's namespace (container: `netnsOf` names it).
 */
export type NetworkMode = 'bridge' | 'none' | 'host' | 'container';

/** What every kind of container has. */
interface ContainerBase {
  id: string;
  name: string;
  /** Its first network (null unless networkMode is bridge). */
  networkId: string | null;
  networkMode: NetworkMode;
  /** With networkMode container: the container whose namespace it joined (that one may be gone since). */
  netnsOf: string | null;
  /** --add-host, --dns, --dns-search, --dns-option, --sysctl ({} for CNI and network-only containers). */
  netOptions: NetOptions;
  ip: IPv4 | null;
  hostVeth: string | null;
  /** Which bridge of its first network its host end is a port of (see AttachmentRecord). */
  segment: number;
  netns: string | null;
  hostname: string;
  command: string[];
  env: string[];
  portSpecs: PortRequest[];
  detached: boolean;
  autoRemove: boolean;
  state: ContainerState;
  /** While 'created': the PID of the ctnet process setting it up; afterwards the container's process. */
  pid: number | null;
  pidStart: string | null;
  exitCode: number | null;
  logPath: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Interface name inside the namespace. */
  ifname: string;
  /** false for a runtime's namespace (CNI): ctnet neither creates nor removes it. */
  ownsNetns: boolean;
  /** The runtime's container ID (CNI_CONTAINERID) for CNI attachments. */
  cniContainerId: string | null;
  /** A detached container is restarted on failure up to this many times (0: never). */
  restartMax: number;
  /** Its filesystem view, user and cgroup limits ({} for CNI and network-only containers). */
  sandbox: SandboxConfig;
  /** The kernel's OOM killer ended it (its cgroup counted an oom_kill). */
  oomKilled: boolean;
  /** More names the embedded DNS answers with its address (--network-alias). */
  aliases: string[];
  /** Docker's labels (run --label): metadata to find it by. */
  labels: Record<string, string>;
  /** Its IPv6 address on a dual-stack network, and that address's offset in the subnet. */
  ip6: IPv6 | null;
  ip6Offset: number | null;
  /** The container interface's MAC (a runtime's choice through CNI, or derived from the address); null in records older than this column. */
  mac: string | null;
}

/** A process of ctnet's (`run`): its cgroup and sandbox, in a namespace of its network mode (its own, or the host's or another container's). */
export interface ProcessContainer extends ContainerBase {
  kind: 'process';
  command: [string, ...string[]];
  cniContainerId: null;
}

/** A network endpoint without a process (the engine's `attach`): its own namespace, nothing running in it. */
export interface NetworkOnlyContainer extends ContainerBase {
  kind: 'network-only';
  networkId: string;
  networkMode: 'bridge';
  command: [];
  cniContainerId: null;
  ownsNetns: true;
  logPath: null;
  restartMax: 0;
}

/** A runtime's namespace attached through CNI: ctnet owns the attachment, not the namespace or a process. */
export interface CniContainer extends ContainerBase {
  kind: 'cni';
  networkId: string;
  networkMode: 'bridge';
  command: [];
  cniContainerId: string;
  ownsNetns: false;
  logPath: null;
  restartMax: 0;
}

/** What a container is; `kind` tells them apart (it is derived from the row, not a column). */
export type ContainerRecord = ProcessContainer | NetworkOnlyContainer | CniContainer;

export type ContainerKind = ContainerRecord['kind'];

const kindOf = (c: Pick<ContainerBase, 'cniContainerId' | 'command'>): ContainerKind =>
  c.cniContainerId !== null ? 'cni' : c.command.length > 0 ? 'process' : 'network-only';

/** A further network of a running container (network connect): eth1, eth2, ... */
export interface AttachmentRecord {
  containerId: string;
  networkId: string;
  ifname: string;
  ip: IPv4;
  /** null for a macvlan: it has no host end. */
  hostVeth: string | null;
  /** Which bridge of its network the host end is a port of: 0 the network's own, k its segment k. */
  segment: number;
  aliases: string[];
  /** Dual stack: its IPv6 address there, and that address's offset in the subnet. */
  ip6: IPv6 | null;
  ip6Offset: number | null;
  /** The container interface's MAC when it was chosen (a runtime's, or a first network's); else derived from the address. */
  mac: string | null;
}

/** An attachment with what readers of every attachment need of its container. */
export interface Endpoint extends AttachmentRecord {
  primary: boolean;
  containerName: string;
  containerState: ContainerState;
  ownsNetns: boolean;
}

export interface PortRecord {
  containerId: string;
  protocol: Protocol;
  hostIp: string | null;
  hostPort: number;
  containerPort: number;
}

type Row = Record<string, unknown>;

/** A read whose rows come raw, and what makes each one an object (Store.many). */
interface ManyRead {
  statement: Database.Statement;
  row: (raw: unknown[]) => Row;
}

// One literal: one that began with the driver's fields spread and went on with twenty more took
// V8 ~30 us to build (property by property, ~10 us without the spread), and an attach reads its network several times.
const toNetwork = (r: Row): NetworkRecord => ({
  driver: r.driver === 'macvlan' ? 'macvlan' : 'bridge',
  bridge: r.driver === 'macvlan' ? null : r.bridge,
  parent: r.driver === 'macvlan' ? r.parent : null,
  id: r.id as string,
  name: r.name as string,
  subnet: r.subnet as string,
  gateway: r.gateway as IPv4,
  internal: r.internal === 1,
  mtu: r.mtu as number,
  createdAt: r.created_at as string,
  rangeStart: (r.range_start as string | null) ?? null,
  rangeEnd: (r.range_end as string | null) ?? null,
  ipMasq: r.ip_masq === 1,
  defaultRoute: r.default_route === 1,
  dns: r.dns === 1,
  subnet6: (r.subnet6 as string | null) ?? null,
  gateway6: (r.gateway6 as IPv6 | null) ?? null,
  state: r.state as NetworkState,
  labels: JSON.parse((r.labels as string | null) ?? '{}'),
  ipRange: (r.ip_range as string | null) ?? null,
  auxAddresses: JSON.parse((r.aux_addresses as string | null) ?? '{}'),
  icc: r.icc !== 0,
  hostBindingIpv4: (r.host_binding_ipv4 as string | null) ?? null,
  blockDirect: r.block_direct !== 0,
  overlay: r.overlay ? (JSON.parse(r.overlay as string) as OverlaySpec) : null,
}) as NetworkRecord;

/**
 * A container's row as a listing shows it (see ContainerHead). Not shared with toContainer by a
 * spread: a record built as `{ ...head, ... }` made reading 10,000 containers ~3x slower.
 */
const toHead = (r: Row): ContainerHead => ({
  id: r.id as string,
  name: r.name as string,
  state: r.state as ContainerState,
  pid: (r.pid as number | null) ?? null,
  pidStart: (r.pid_start as string | null) ?? null,
  exitCode: (r.exit_code as number | null) ?? null,
  oomKilled: r.oom_killed === 1,
  createdAt: r.created_at as string,
  startedAt: (r.started_at as string | null) ?? null,
  finishedAt: (r.finished_at as string | null) ?? null,
  command: JSON.parse(r.command as string) as ContainerHead['command'],
  labels: JSON.parse((r.labels as string | null) ?? '{}'),
  networkId: (r.network_id as string | null) ?? null,
  networkMode: r.network_mode as NetworkMode,
  netnsOf: (r.netns_of as string | null) ?? null,
  ifname: r.ifname as string,
  aliases: JSON.parse((r.aliases as string | null) ?? '[]'),
  ip: (r.ip as IPv4 | null) ?? null,
  ip6: (r.ip6 as IPv6 | null) ?? null,
  hostVeth: (r.host_veth as string | null) ?? null,
});

const toContainer = (r: Row): ContainerRecord => {
  // Built whole, kind included: a copy of the record to add it cost `ps` a second object per container.
  const command = JSON.parse(r.command as string) as string[];
  const cniContainerId = (r.cni_container_id as string | null) ?? null;
  const record: ContainerBase & { kind: ContainerKind } = {
    id: r.id as string,
    name: r.name as string,
    networkId: (r.network_id as string | null) ?? null,
    networkMode: r.network_mode as NetworkMode,
    netnsOf: (r.netns_of as string | null) ?? null,
    netOptions: JSON.parse((r.net_options as string | null) ?? '{}'),
    ip: (r.ip as IPv4 | null) ?? null,
    hostVeth: (r.host_veth as string | null) ?? null,
    segment: (r.segment as number | null) ?? 0,
    netns: (r.netns as string | null) ?? null,
    hostname: r.hostname as string,
    command,
    env: JSON.parse(r.env as string),
    portSpecs: JSON.parse(r.port_specs as string),
    detached: r.detached === 1,
    autoRemove: r.auto_remove === 1,
    state: r.state as ContainerState,
    pid: (r.pid as number | null) ?? null,
    pidStart: (r.pid_start as string | null) ?? null,
    exitCode: (r.exit_code as number | null) ?? null,
    logPath: (r.log_path as string | null) ?? null,
    createdAt: r.created_at as string,
    startedAt: (r.started_at as string | null) ?? null,
    finishedAt: (r.finished_at as string | null) ?? null,
    ifname: r.ifname as string,
    ownsNetns: r.owns_netns === 1,
    cniContainerId,
    restartMax: (r.restart_max as number | null) ?? 0,
    sandbox: JSON.parse((r.sandbox as string | null) ?? '{}'),
    oomKilled: r.oom_killed === 1,
    aliases: JSON.parse((r.aliases as string | null) ?? '[]'),
    labels: JSON.parse((r.labels as string | null) ?? '{}'),
    ip6: (r.ip6 as IPv6 | null) ?? null,
    ip6Offset: (r.ip6_offset as number | null) ?? null,
    mac: (r.mac as string | null) ?? null,
    kind: kindOf({ cniContainerId, command }),
  };
  return record as ContainerRecord;
};

const toAttachment = (r: Row): AttachmentRecord => ({
  containerId: r.container_id as string,
  networkId: r.network_id as string,
  ifname: r.ifname as string,
  ip: r.ip as IPv4,
  hostVeth: (r.host_veth as string | null) ?? null,
  segment: (r.segment as number | null) ?? 0,
  aliases: JSON.parse(r.aliases as string),
  ip6: (r.ip6 as IPv6 | null) ?? null,
  ip6Offset: (r.ip6_offset as number | null) ?? null,
  mac: (r.mac as string | null) ?? null,
});

const toEndpoint = (r: Row): Endpoint => ({
  ...toAttachment(r), primary: r.is_primary === 1, containerName: r.container_name as string, containerState: r.container_state as ContainerState, ownsNetns: r.owns_netns === 1,
});

const toPort = (r: Row): PortRecord => ({
  containerId: r.container_id as string,
  protocol: r.protocol as Protocol,
  hostIp: r.host_ip === '' ? null : (r.host_ip as string),
  hostPort: r.host_port as number,
  containerPort: r.container_port as number,
});

/** ContainerRecord fields that are its first network's attachment row, not columns of its own. */
type EndpointField = 'ip' | 'hostVeth' | 'segment' | 'ip6' | 'ip6Offset' | 'mac';

const CONTAINER_COLUMNS: Record<Exclude<keyof ContainerBase, EndpointField>, string> = {
  id: 'id', name: 'name', networkId: 'network_id', networkMode: 'network_mode', netnsOf: 'netns_of', netOptions: 'net_options', netns: 'netns', hostname: 'hostname',
  command: 'command', env: 'env', portSpecs: 'port_specs', detached: 'detached', autoRemove: 'auto_remove', state: 'state',
  pid: 'pid', pidStart: 'pid_start', exitCode: 'exit_code', logPath: 'log_path', createdAt: 'created_at',
  startedAt: 'started_at', finishedAt: 'finished_at', ifname: 'ifname', ownsNetns: 'owns_netns', cniContainerId: 'cni_container_id', restartMax: 'restart_max',
  sandbox: 'sandbox', oomKilled: 'oom_killed', aliases: 'aliases', labels: 'labels',
};

const CONTAINER_KEYS = Object.keys(CONTAINER_COLUMNS) as (keyof typeof CONTAINER_COLUMNS)[];
const INSERT_CONTAINER = `INSERT INTO containers (${CONTAINER_KEYS.map((k) => CONTAINER_COLUMNS[k]).join(', ')}) VALUES (${CONTAINER_KEYS.map(() => '?').join(', ')})`;

/** What may change in a recorded container: not its addresses (its attachments'), nor what makes its kind. */
export type ContainerChanges = Partial<Omit<ContainerBase, EndpointField | 'command' | 'cniContainerId' | 'ownsNetns' | 'networkMode'>>;

/** A container with its first network's attachment (absent once it has exited). */
const WITH_FIRST_ATTACHMENT = 'FROM containers c LEFT JOIN attachments a ON a.container_id = c.id AND a.is_primary = 1';
const CONTAINERS = `SELECT c.*, a.ip AS ip, a.host_veth AS host_veth, a.segment AS segment, a.ip6 AS ip6, a.ip6_offset AS ip6_offset, a.mac AS mac ${WITH_FIRST_ATTACHMENT}`;

const CONTAINER_HEADS = `SELECT c.id, c.name, c.state, c.pid, c.pid_start, c.exit_code, c.oom_killed, c.created_at, c.started_at, c.finished_at, c.command, c.labels,
  c.network_id, c.network_mode, c.netns_of, c.ifname, c.aliases, a.ip AS ip, a.ip6 AS ip6, a.host_veth AS host_veth ${WITH_FIRST_ATTACHMENT}`;

/** Both through an index: a new container's name is looked up on every run, among thousands of containers. */
export const CONTAINER_BY_NAME_OR_ID = `${CONTAINERS} WHERE c.name = ? OR c.id = ?`;
/** IDs with a prefix as a range of the primary key (IDs are lower-case hex and 'g' sorts after those), not a LIKE that reads every row. */
export const CONTAINER_BY_ID_PREFIX = `${CONTAINERS} WHERE c.id >= ? AND c.id < ? LIMIT 2`;
/** Read by every run and rm (and a network's by ls and rm): each through an index of its own (see the migrations). */
export const CONTAINERS_ON_NETWORK = `${CONTAINERS} WHERE c.network_id = ? ORDER BY c.created_at`;
export const CONTAINER_SUMMARIES_ON_NETWORK = `SELECT c.id, c.name, c.state, c.pid, c.pid_start, a.ip AS ip, a.ip6 AS ip6 ${WITH_FIRST_ATTACHMENT} WHERE c.network_id = ? ORDER BY c.created_at`;
export const CONTAINERS_BEING_REMOVED = `${CONTAINERS} WHERE c.removing = 1`;
const TO_RECONCILE = "(c.state = 'running' AND c.pid IS NOT NULL) OR c.state = 'created'";
const RECONCILE_WORK = `SELECT EXISTS (SELECT 1 FROM containers c WHERE c.removing = 1) AS removing,
  EXISTS (SELECT 1 FROM containers c WHERE ${TO_RECONCILE}) AS processes, EXISTS (SELECT 1 FROM networks WHERE state != 'ready') AS networks`;
export const PORTS_AT = 'SELECT * FROM ports WHERE protocol = ? AND host_port = ?';
/** Only the containers with ports (a few of many, usually): reading every container's row cost ~65 ms at 10,000. */
const PUBLISHER_ADDRESSES = `SELECT c.id, a.ip, a.ip6 ${WITH_FIRST_ATTACHMENT} WHERE c.id IN (SELECT container_id FROM ports)`;
export const PORTS_OF = 'SELECT * FROM ports WHERE container_id = ? ORDER BY rowid';

const ENDPOINTS = `SELECT a.*, c.name AS container_name, c.state AS container_state, c.owns_netns AS owns_netns
  FROM attachments a JOIN containers c ON c.id = a.container_id`;

/** The attachment row of a container's first network. */
const primaryOf = (c: ContainerRecord & { ip: IPv4; networkId: string }): AttachmentRecord => ({
  containerId: c.id, networkId: c.networkId, ifname: c.ifname, ip: c.ip, hostVeth: c.hostVeth, segment: c.segment, aliases: c.aliases, ip6: c.ip6, ip6Offset: c.ip6Offset, mac: c.mac,
});

function columnValue(key: string, value: unknown): unknown {
  if (key === 'command' || key === 'env' || key === 'portSpecs' || key === 'sandbox' || key === 'aliases' || key === 'labels' || key === 'netOptions') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/**
 * The state directory is root's and no one else may write it: another user who could would plant
 * a database ctnet acts on as root. A directory of another owner is refused; one that is writable
 * by group or others is repaired, with a warning.
 */
function secureStateDir(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = statSync(root);
  if (!st.isDirectory()) throw new InvalidArgumentError(`the state directory ${root} is not a directory; set CTNET_ROOT to a directory`);
  const uid = process.getuid?.() ?? 0;
  if (st.uid !== uid) throw new PermissionError(`the state directory ${root} belongs to uid ${st.uid}, not to uid ${uid}; chown it to root or set CTNET_ROOT to a directory of root's`);
  if (st.mode & 0o022) {
    const mode = st.mode & 0o7755;
    chmodSync(root, mode);
    process.stderr.write(`ctnet: warning: the state directory ${root} was writable by group or others; it is now mode ${mode.toString(8)}\n`);
  }
}

/** Whether any container's removal is unfinished, any container has a process or a setup to check, any network is unfinished. */
export interface ReconcileWork {
  removing: boolean;
  processes: boolean;
  networks: boolean;
}

/**
 * What a listing (`ps`) shows of a container: its record without its configuration (environment,
 * sandbox, options), whose ~15 further columns, six of them JSON, more than doubled a listing's read.
 */
export type ContainerHead = Pick<ContainerRecord, 'id' | 'name' | 'state' | 'pid' | 'pidStart' | 'exitCode' | 'oomKilled' | 'createdAt' | 'startedAt' | 'finishedAt'
  | 'command' | 'labels' | 'networkId' | 'networkMode' | 'netnsOf' | 'ifname' | 'aliases' | 'ip' | 'ip6' | 'hostVeth'>;

/** A container's process as reconcile checks it (see processesToCheck). */
export type ProcessToCheck = Pick<ContainerRecord, 'id' | 'state' | 'pid' | 'pidStart'>;
/** A container's attachment to a network, no more (see memberships). */
export type Membership = Pick<AttachmentRecord, 'containerId' | 'networkId'>;
/** A publishing container's addresses (see publisherAddresses). */
export type PublisherAddresses = Pick<ContainerRecord, 'ip' | 'ip6'>;
/** A container's name and recorded state with its process (see containerStates). */
export type ContainerStateRow = Pick<ContainerRecord, 'id' | 'name' | 'state' | 'pid' | 'pidStart'>;

/** What a network's view lists of a container. */
export type ContainerSummary = Pick<ContainerRecord, 'id' | 'name' | 'ip' | 'ip6' | 'state' | 'pid' | 'pidStart'>;

/**
 * The state as the engine uses it. `Store` keeps it in SQLite under the state directory;
 * `Store.inMemory()` is the same over an in-memory database, for engine unit tests.
 */
export interface StateStore {
  readonly root: string;
  close(): void;
  transaction<T>(fn: () => T): T;
  deferForeignKeys(): void;
  instanceId(): string;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string | undefined): void;
  listNetworks(): NetworkRecord[];
  findNetwork(nameOrId: string): NetworkRecord | undefined;
  getNetworkById(id: string): NetworkRecord;
  insertNetwork(n: NetworkRecord): void;
  deleteNetwork(id: string): void;
  unfinishedNetworks(): NetworkRecord[];
  setNetworkState(id: string, state: NetworkState): void;
  overlayPeers(networkId: string): OverlayPeer[];
  setOverlayPeers(networkId: string, peers: readonly OverlayPeer[]): void;
  remoteEndpoints(networkId: string): RemoteEndpoint[];
  setRemoteEndpoints(networkId: string, endpoints: readonly RemoteEndpoint[]): void;
  listContainers(): ContainerRecord[];
  /** Every container as a listing shows it, in the order of listContainers. */
  listContainerHeads(): ContainerHead[];
  /**
   * The process of every container whose process or setup may have ended: a narrow read (reconcile
   * looks at each of them in every `run`; a whole record is ~35 columns).
   */
  processesToCheck(): ProcessToCheck[];
  /** Every container's name and recorded state with its process, in the order of listContainers: a narrow read for the web view's poll and the port counters' names. */
  containerStates(): ContainerStateRow[];
  /** The networks each container is attached to, by container id (its primary network first). */
  memberships(): Map<string, Membership[]>;
  /** What a reconcile has to look at, in one read (each read is ~10-40 us with the CPU cold, and there is usually nothing). */
  reconcileWork(): ReconcileWork;
  containersOn(networkId: string): ContainerRecord[];
  /** What a network's view lists of its containers: a narrow read (a whole record is ~35 columns, six of them JSON). */
  containerSummariesOn(networkId: string): ContainerSummary[];
  /** Containers started in this one's network namespace (--network container:NAME), still recorded. */
  joinersOf(containerId: string): ContainerRecord[];
  findContainer(nameOrId: string): ContainerRecord | undefined;
  findCniAttachment(networkId: string, containerId: string, ifname: string): ContainerRecord | undefined;
  getContainer(id: string): ContainerRecord | undefined;
  addressBook(networkId: string): AddressBook;
  /** How many containers a network holds (first networks and connections alike). */
  attachmentCount(networkId: string): number;
  /**
   * Per network ID, the containers a network's view lists: those it is the first network of (exited
   * ones too) and those connected to it. Networks without any are not in it.
   */
  containerCounts(): Map<string, number>;
  /** A network's container ports per bridge: segment number (0, the network's own bridge) to count. */
  segmentPorts(networkId: string): Map<number, number>;
  /** Whether some container's ID starts with these (lowercase hex) digits. */
  containerIdPrefixTaken(prefix: string): boolean;
  /** A network's container ports on one of its bridges (0, its own). */
  portsOnSegment(networkId: string, segment: number): number;
  /** The segments some container of a network is on, per network ID. */
  segmentsInUse(): Map<string, number[]>;
  lowestFreeIp6Offset(networkId: string): number;
  ip6OffsetTaken(networkId: string, offset: number): boolean;
  connectionsOf(containerId: string): AttachmentRecord[];
  /** Every container's further networks at once, by container ID (listings). */
  allConnections(): Map<string, AttachmentRecord[]>;
  connectionsOn(networkId: string): AttachmentRecord[];
  endpointsOn(networkId: string): Endpoint[];
  listEndpoints(): Endpoint[];
  insertAttachment(a: AttachmentRecord): void;
  deleteAttachment(containerId: string, networkId: string): void;
  deleteAttachmentsOf(containerId: string): void;
  insertContainer(c: ContainerRecord): void;
  /** Whether an insert failed because the container's name is taken. */
  isNameTaken(err: unknown): boolean;
  updateContainer(id: string, changes: ContainerChanges): void;
  markRemoving(id: string): void;
  containersBeingRemoved(): ContainerRecord[];
  deleteContainer(id: string): void;
  listPorts(): PortRecord[];
  portsAt(protocol: Protocol, hostPort: number): PortRecord[];
  hostPortsIn(protocol: Protocol, first: number, last: number): Set<number>;
  portsOf(containerId: string): PortRecord[];
  /** Every container's published ports at once, by container ID (listings). */
  allPorts(): Map<string, PortRecord[]>;
  /** The addresses of the containers that publish ports, by container ID (the firewall's port maps). */
  publisherAddresses(): Map<string, PublisherAddresses>;
  insertPort(p: PortRecord): void;
  deletePortsOf(containerId: string): void;
}

/** Rows grouped by their container, in the order read. */
function byContainer<T extends { containerId: string }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.containerId);
    if (list) list.push(r);
    else out.set(r.containerId, [r]);
  }
  return out;
}

/** ctnet's state: what the user asked for. The kernel is the truth for what exists. */
export class Store implements StateStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly manyReads = new Map<string, ManyRead>();
  private immediateTransaction?: Database.Transaction<(body: () => unknown) => unknown>;

  constructor(readonly root: string, inMemory = false) {
    if (inMemory) {
      this.db = openDatabase(':memory:');
    } else {
      secureStateDir(root);
      this.db = openDatabase(join(root, 'ctnet.db'), { timeout: BUSY_TIMEOUT_MS });
      // Containers' environments are in it: root's alone (the journal files follow its mode).
      chmodSync(join(root, 'ctnet.db'), 0o600);
      useWal(this.db, BUSY_TIMEOUT_MS);
      this.db.pragma('synchronous = NORMAL');
    }
    this.migrate();
    this.db.pragma('foreign_keys = ON');
  }

  /** The same store over an in-memory database (engine unit tests); `root` is where container files would go. */
  static inMemory(root: string): Store {
    return new Store(root, true);
  }

  /**
   * Foreign keys are off while migrations run (outside the transaction, where SQLite honours it): a
   * migration that rebuilds a table drops the old one, which would otherwise cascade to the rows
   * that reference it. The references are checked before the migration commits.
   */
  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= MIGRATIONS.length) return;
    this.db.pragma('foreign_keys = OFF');
    try {
      this.transaction(() => {
        const current = this.db.pragma('user_version', { simple: true }) as number;
        for (let v = current; v < MIGRATIONS.length; v++) {
          const m = MIGRATIONS[v];
          if (typeof m === 'string') this.db.exec(m);
          else m(this.db);
        }
        const broken = this.db.pragma('foreign_key_check') as unknown[];
        if (broken.length) throw new Error(`migrating the state database left ${broken.length} broken references; the database was not changed`);
        this.db.pragma(`user_version = ${MIGRATIONS.length}`);
      });
    } finally {
      this.db.pragma('foreign_keys = ON');
    }
  }

  close(): void {
    this.db.close();
  }

  /** Prepared once per store: preparing costs more than running these small statements. */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /**
   * Every row of a listing (all containers, a network's), as objects keyed by column like `all()`
   * returns. better-sqlite3 sets a row object's properties one call at a time; here each raw row
   * becomes an object literal of the statement's columns, made once: for the ~35 columns of a
   * container that was 84 -> 57 ms of `ps -a` with 2,000 containers (a new process). Making the
   * literal costs ~0.5 ms in a new process, more than the few rows of reconcile's reads save.
   */
  private many(text: string, ...params: unknown[]): Row[] {
    let read = this.manyReads.get(text);
    if (!read) {
      const statement = this.db.prepare(text).raw(true);
      const fields = statement.columns().map((c, i) => `${JSON.stringify(c.name)}: r[${i}]`);
      read = { statement, row: new Function('r', `return { ${fields.join(', ')} };`) as ManyRead['row'] };
      this.manyReads.set(text, read);
    }
    return (read.statement.all(...params) as unknown[][]).map(read.row);
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (writers queue on the busy timeout, never interleave). */
  transaction<T>(fn: () => T): T {
    // One wrapper for every transaction: better-sqlite3 builds each new one's four variants (~9 us).
    this.immediateTransaction ??= this.db.transaction((body: () => unknown) => body());
    return this.immediateTransaction.immediate(fn) as T;
  }

  /** Inside a transaction that will be rolled back (dry runs): check foreign keys only at commit. */
  deferForeignKeys(): void {
    this.db.pragma('defer_foreign_keys = ON');
  }

  /**
   * This state directory's own ID, made on first use: it marks the kernel objects ctnet makes (bridge
   * aliases), so `gc` removes its own leftovers and never another state directory's.
   */
  instanceId(): string {
    this.sql("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance.id', lower(hex(randomblob(6))))").run();
    return this.getMeta('instance.id') as string;
  }

  getMeta(key: string): string | undefined {
    return (this.sql('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined)?.value as string | undefined;
  }

  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.sql('DELETE FROM meta WHERE key = ?').run(key);
    else this.sql('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // networks

  /** Networks that exist or are being created (not those being removed). */
  listNetworks(): NetworkRecord[] {
    return (this.sql("SELECT * FROM networks WHERE state != 'removing' ORDER BY created_at, name").all() as Row[]).map(toNetwork);
  }

  findNetwork(nameOrId: string): NetworkRecord | undefined {
    const exact = this.sql("SELECT * FROM networks WHERE (name = ? OR id = ?) AND state != 'removing'").get(nameOrId, nameOrId) as Row | undefined;
    if (exact) return toNetwork(exact);
    const prefixed = this.sql("SELECT * FROM networks WHERE id LIKE ? AND state != 'removing' LIMIT 2").all(`${nameOrId}%`) as Row[];
    return prefixed.length === 1 && nameOrId.length >= 3 ? toNetwork(prefixed[0]) : undefined;
  }

  getNetworkById(id: string): NetworkRecord {
    return toNetwork(this.sql('SELECT * FROM networks WHERE id = ?').get(id) as Row);
  }

  insertNetwork(n: NetworkRecord): void {
    this.db
      .prepare(`INSERT INTO networks (id, name, subnet, gateway, bridge, internal, mtu, created_at, range_start, range_end, ip_masq, default_route, dns, subnet6, gateway6, state,
        labels, ip_range, aux_addresses, icc, host_binding_ipv4, driver, parent, block_direct, overlay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(n.id, n.name, n.subnet, n.gateway, n.bridge, n.internal ? 1 : 0, n.mtu, n.createdAt, n.rangeStart, n.rangeEnd, n.ipMasq ? 1 : 0, n.defaultRoute ? 1 : 0, n.dns ? 1 : 0, n.subnet6, n.gateway6, n.state,
        JSON.stringify(n.labels), n.ipRange, JSON.stringify(n.auxAddresses), n.icc ? 1 : 0, n.hostBindingIpv4, n.driver, n.parent, n.blockDirect ? 1 : 0,
        n.overlay ? JSON.stringify(n.overlay) : null);
  }

  overlayPeers(networkId: string): OverlayPeer[] {
    return (this.sql('SELECT block, host, vtep_mac, underlay FROM overlay_peers WHERE network_id = ? ORDER BY block').all(networkId) as Row[])
      .map((r) => ({ block: r.block as string, host: r.host as string, vtepMac: r.vtep_mac as string, underlay: r.underlay as string }));
  }

  setOverlayPeers(networkId: string, peers: readonly OverlayPeer[]): void {
    this.sql('DELETE FROM overlay_peers WHERE network_id = ?').run(networkId);
    const insert = this.sql('INSERT INTO overlay_peers (network_id, block, host, vtep_mac, underlay) VALUES (?, ?, ?, ?, ?)');
    for (const p of peers) insert.run(networkId, p.block, p.host, p.vtepMac, p.underlay);
  }

  remoteEndpoints(networkId: string): RemoteEndpoint[] {
    return (this.sql('SELECT host, name, aliases, ip FROM remote_endpoints WHERE network_id = ? ORDER BY host, name').all(networkId) as Row[])
      .map((r) => ({ host: r.host as string, name: r.name as string, aliases: JSON.parse(r.aliases as string) as string[], ip: r.ip as IPv4 }));
  }

  setRemoteEndpoints(networkId: string, endpoints: readonly RemoteEndpoint[]): void {
    this.sql('DELETE FROM remote_endpoints WHERE network_id = ?').run(networkId);
    const insert = this.sql('INSERT OR IGNORE INTO remote_endpoints (network_id, host, name, aliases, ip) VALUES (?, ?, ?, ?, ?)');
    for (const e of endpoints) insert.run(networkId, e.host, e.name, JSON.stringify(e.aliases), e.ip);
  }

  deleteNetwork(id: string): void {
    this.sql('DELETE FROM networks WHERE id = ?').run(id);
  }

  /** Networks a killed command left half made or half removed. */
  unfinishedNetworks(): NetworkRecord[] {
    return (this.sql("SELECT * FROM networks WHERE state != 'ready'").all() as Row[]).map(toNetwork);
  }

  setNetworkState(id: string, state: NetworkState): void {
    this.sql('UPDATE networks SET state = ? WHERE id = ?').run(state, id);
  }

  // containers

  listContainers(): ContainerRecord[] {
    return this.many(`${CONTAINERS} ORDER BY c.created_at, c.name`).map(toContainer);
  }

  listContainerHeads(): ContainerHead[] {
    return this.many(`${CONTAINER_HEADS} ORDER BY c.created_at, c.name`).map(toHead);
  }

  /** Containers whose process or setup may have ended: network-only containers are not even loaded. */
  processesToCheck(): ProcessToCheck[] {
    return (this.sql(`SELECT c.id, c.state, c.pid, c.pid_start FROM containers c WHERE ${TO_RECONCILE}`).raw(true).all() as [string, ContainerState, number | null, string | null][])
      .map(([id, state, pid, pidStart]) => ({ id, state, pid, pidStart }));
  }

  memberships(): Map<string, Membership[]> {
    return byContainer((this.sql('SELECT container_id, network_id FROM attachments ORDER BY is_primary DESC, network_id').raw(true).all() as [string, string][])
      .map(([containerId, networkId]) => ({ containerId, networkId })));
  }

  containerStates(): ContainerStateRow[] {
    return (this.sql('SELECT c.id, c.name, c.state, c.pid, c.pid_start FROM containers c ORDER BY c.created_at, c.name').raw(true).all() as [string, string, ContainerState, number | null, string | null][])
      .map(([id, name, state, pid, pidStart]) => ({ id, name, state, pid, pidStart }));
  }

  reconcileWork(): ReconcileWork {
    const r = this.sql(RECONCILE_WORK).get() as Row;
    return { removing: r.removing === 1, processes: r.processes === 1, networks: r.networks === 1 };
  }

  joinersOf(containerId: string): ContainerRecord[] {
    return (this.sql(`${CONTAINERS} WHERE c.netns_of = ? ORDER BY c.created_at`).all(containerId) as Row[]).map(toContainer);
  }

  containersOn(networkId: string): ContainerRecord[] {
    return this.many(CONTAINERS_ON_NETWORK, networkId).map(toContainer);
  }

  containerSummariesOn(networkId: string): ContainerSummary[] {
    return (this.sql(CONTAINER_SUMMARIES_ON_NETWORK).all(networkId) as Row[]).map((r) => ({
      id: r.id as string, name: r.name as string, state: r.state as ContainerState, pid: (r.pid as number | null) ?? null,
      pidStart: (r.pid_start as string | null) ?? null, ip: (r.ip as IPv4 | null) ?? null, ip6: (r.ip6 as IPv6 | null) ?? null,
    }));
  }

  /** By exact name, exact ID, or a unique ID prefix (as Docker resolves them). */
  findContainer(nameOrId: string): ContainerRecord | undefined {
    const exact = this.sql(CONTAINER_BY_NAME_OR_ID).get(nameOrId, nameOrId) as Row | undefined;
    if (exact) return toContainer(exact);
    if (!/^[0-9a-f]{3,}$/.test(nameOrId)) return undefined;
    const prefixed = this.sql(CONTAINER_BY_ID_PREFIX).all(nameOrId, `${nameOrId}g`) as Row[];
    return prefixed.length === 1 ? toContainer(prefixed[0]) : undefined;
  }

  /** A CNI attachment by network, runtime container ID and interface name. */
  findCniAttachment(networkId: string, containerId: string, ifname: string): ContainerRecord | undefined {
    const r = this.sql(`${CONTAINERS} WHERE c.network_id = ? AND c.cni_container_id = ? AND c.ifname = ?`).get(networkId, containerId, ifname) as Row | undefined;
    return r ? toContainer(r) : undefined;
  }

  getContainer(id: string): ContainerRecord | undefined {
    const r = this.sql(`${CONTAINERS} WHERE c.id = ?`).get(id) as Row | undefined;
    return r ? toContainer(r) : undefined;
  }

  /** Addresses in use on a network (every attachment, first networks included; indexed by network and address). */
  addressBook(networkId: string): AddressBook {
    return {
      inUse: (ip) => this.taken('ip_num', networkId, ip),
      lowestFree: (first, last, gateway) => this.lowestFreeIn('ip_num', networkId, first, last, gateway),
    };
  }

  ip6OffsetTaken(networkId: string, offset: number): boolean {
    return this.sql('SELECT 1 FROM attachments WHERE network_id = ? AND ip6_offset = ?').get(networkId, offset) !== undefined;
  }

  /** The lowest IPv6 offset from 2 (after the gateway, ::1) that no container of the network has, first network or connected. */
  lowestFreeIp6Offset(networkId: string): number {
    return this.lowestFreeIn('ip6_offset', networkId, 2, Number.MAX_SAFE_INTEGER, 1) as number;
  }

  /** Whether an attachment of the network has `n` in `column`. */
  private taken(column: 'ip_num' | 'ip6_offset', networkId: string, n: number): boolean {
    return this.sql(`SELECT 1 FROM attachments WHERE network_id = ? AND ${column} = ?`).get(networkId, n) !== undefined;
  }

  /**
   * The lowest number in [first, last], other than `skip` (the gateway's), that no attachment of the
   * network has in `column` (an IPv4 address as a number, an IPv6 offset). A network fills from the
   * bottom, so the index's count and maximum usually show it is the one after the highest; else it
   * is the one after `skip` or after the lowest taken number whose successor is free, the index read
   * in order up to the first gap. (One query that looked at every taken number took 6 ms at 10,000.)
   */
  private lowestFreeIn(column: 'ip_num' | 'ip6_offset', networkId: string, first: number, last: number, skip: number): number | undefined {
    const free = (n: number): boolean => n >= first && n <= last && n !== skip && !this.taken(column, networkId, n);
    if (free(first)) return first;
    const span = this.sql(`SELECT count(*) AS n, max(${column}) AS hi FROM attachments WHERE network_id = ? AND ${column} BETWEEN ? AND ?`).get(networkId, first, last) as { n: number; hi: number | null };
    if (span.hi !== null && span.n === span.hi - first + 1 - (skip >= first && skip <= span.hi ? 1 : 0)) {
      const next = span.hi + 1 === skip ? span.hi + 2 : span.hi + 1;
      return free(next) ? next : undefined;
    }
    const afterTaken = (this.sql(`
      SELECT a.${column} + 1 AS cand FROM attachments a
      WHERE a.network_id = @net AND a.${column} >= @first AND a.${column} < @last AND a.${column} + 1 != @skip
        AND NOT EXISTS (SELECT 1 FROM attachments b WHERE b.network_id = @net AND b.${column} = a.${column} + 1)
      ORDER BY a.${column} LIMIT 1`).get({ net: networkId, first, last, skip }) as Row | undefined)?.cand as number | undefined;
    const found = [afterTaken, free(skip + 1) ? skip + 1 : undefined].filter((n): n is number => n !== undefined);
    return found.length ? Math.min(...found) : undefined;
  }

  // attachments: one row per container and network, its first network's (is_primary) included

  /** A container's further networks (network connect), not its first. */
  connectionsOf(containerId: string): AttachmentRecord[] {
    return (this.sql('SELECT * FROM attachments WHERE container_id = ? AND is_primary = 0 ORDER BY ifname').all(containerId) as Row[]).map(toAttachment);
  }

  allConnections(): Map<string, AttachmentRecord[]> {
    return byContainer((this.sql('SELECT * FROM attachments WHERE is_primary = 0 ORDER BY ifname').all() as Row[]).map(toAttachment));
  }

  attachmentCount(networkId: string): number {
    return (this.sql('SELECT count(*) AS n FROM attachments WHERE network_id = ?').get(networkId) as { n: number }).n;
  }

  containerCounts(): Map<string, number> {
    const rows = this.sql(`SELECT network_id, count(*) FROM (SELECT network_id FROM containers WHERE network_id IS NOT NULL
      UNION ALL SELECT network_id FROM attachments WHERE is_primary = 0) GROUP BY network_id`).raw(true).all() as [string, number][];
    return new Map(rows);
  }

  containerIdPrefixTaken(prefix: string): boolean {
    // A range over the primary key: every ID with the prefix sorts between it and the prefix followed by 'g'.
    return this.sql('SELECT 1 FROM containers WHERE id >= ? AND id < ? LIMIT 1').get(prefix, `${prefix}g`) !== undefined;
  }

  portsOnSegment(networkId: string, segment: number): number {
    return (this.sql('SELECT count(*) AS n FROM attachments WHERE network_id = ? AND segment = ?').get(networkId, segment) as { n: number }).n;
  }

  segmentPorts(networkId: string): Map<number, number> {
    const rows = this.sql('SELECT segment, count(*) AS n FROM attachments WHERE network_id = ? GROUP BY segment').all(networkId) as { segment: number; n: number }[];
    return new Map(rows.map((r) => [r.segment, r.n]));
  }

  segmentsInUse(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const r of this.sql('SELECT DISTINCT network_id, segment FROM attachments WHERE segment > 0 ORDER BY network_id, segment').all() as { network_id: string; segment: number }[]) {
      out.set(r.network_id, [...(out.get(r.network_id) ?? []), r.segment]);
    }
    return out;
  }

  /** Containers connected to a network as a further one (not those whose first network it is). */
  connectionsOn(networkId: string): AttachmentRecord[] {
    return (this.sql('SELECT * FROM attachments WHERE network_id = ? AND is_primary = 0').all(networkId) as Row[]).map(toAttachment);
  }

  /**
   * Every attachment on a network, first networks and connected ones, with its container's name and
   * state: what the DNS names, the firewall's guards and gc read.
   */
  endpointsOn(networkId: string): Endpoint[] {
    return (this.sql(`${ENDPOINTS} WHERE a.network_id = ?`).all(networkId) as Row[]).map(toEndpoint);
  }

  /** Every attachment of every container. */
  listEndpoints(): Endpoint[] {
    return (this.sql(ENDPOINTS).all() as Row[]).map(toEndpoint);
  }

  insertAttachment(a: AttachmentRecord): void {
    this.insertAttachmentRow(a, false);
  }

  private insertAttachmentRow(a: AttachmentRecord, primary: boolean): void {
    this.sql('INSERT INTO attachments (container_id, network_id, ifname, ip, ip_num, host_veth, segment, aliases, ip6, ip6_offset, mac, is_primary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.containerId, a.networkId, a.ifname, a.ip, toInt(a.ip), a.hostVeth, a.segment ?? 0, JSON.stringify(a.aliases), a.ip6 ?? null, a.ip6Offset ?? null, a.mac ?? null, primary ? 1 : 0);
  }

  deleteAttachment(containerId: string, networkId: string): void {
    this.sql('DELETE FROM attachments WHERE container_id = ? AND network_id = ?').run(containerId, networkId);
  }

  deleteAttachmentsOf(containerId: string): void {
    this.sql('DELETE FROM attachments WHERE container_id = ?').run(containerId);
  }

  insertContainer(c: ContainerRecord): void {
    this.sql(INSERT_CONTAINER).run(...CONTAINER_KEYS.map((k) => columnValue(k, c[k])));
    if (c.ip !== null && c.networkId !== null) this.insertAttachmentRow(primaryOf({ ...c, ip: c.ip, networkId: c.networkId }), true);
  }

  isNameTaken(err: unknown): boolean {
    return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && (err as Error).message.endsWith('containers.name');
  }

  /** Changes a container's own columns (its addresses are its attachments': deleteAttachmentsOf frees them). */
  updateContainer(id: string, changes: ContainerChanges): void {
    const keys = (Object.keys(changes) as (keyof ContainerChanges)[]).filter((k) => k in CONTAINER_COLUMNS);
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${CONTAINER_COLUMNS[k]} = ?`);
    this.sql(`UPDATE containers SET ${sets.join(', ')} WHERE id = ?`).run(...keys.map((k) => columnValue(k, changes[k])), id);
  }

  /** The intent of `rm`: a killed removal is finished by the next reconcile. */
  markRemoving(id: string): void {
    this.sql('UPDATE containers SET removing = 1 WHERE id = ?').run(id);
  }

  /** Containers whose removal a killed command left unfinished. */
  containersBeingRemoved(): ContainerRecord[] {
    return (this.sql(CONTAINERS_BEING_REMOVED).all() as Row[]).map(toContainer);
  }

  deleteContainer(id: string): void {
    this.sql('DELETE FROM containers WHERE id = ?').run(id);
  }

  // ports

  listPorts(): PortRecord[] {
    return (this.sql('SELECT * FROM ports ORDER BY host_port, protocol').all() as Row[]).map(toPort);
  }

  /** Publications on one protocol and host port (any host address). */
  portsAt(protocol: Protocol, hostPort: number): PortRecord[] {
    return (this.sql(PORTS_AT).all(protocol, hostPort) as Row[]).map(toPort);
  }

  /** Host ports in use for a protocol within a range (for picking an ephemeral port). */
  hostPortsIn(protocol: Protocol, first: number, last: number): Set<number> {
    const rows = this.sql('SELECT DISTINCT host_port FROM ports WHERE protocol = ? AND host_port BETWEEN ? AND ?').all(protocol, first, last) as Row[];
    return new Set(rows.map((r) => r.host_port as number));
  }

  portsOf(containerId: string): PortRecord[] {
    return (this.sql(PORTS_OF).all(containerId) as Row[]).map(toPort);
  }

  allPorts(): Map<string, PortRecord[]> {
    return byContainer((this.sql('SELECT * FROM ports ORDER BY rowid').all() as Row[]).map(toPort));
  }

  publisherAddresses(): Map<string, PublisherAddresses> {
    const rows = this.sql(PUBLISHER_ADDRESSES).raw(true).all() as [string, IPv4 | null, IPv6 | null][];
    return new Map(rows.map(([id, ip, ip6]) => [id, { ip, ip6 }]));
  }

  insertPort(p: PortRecord): void {
    this.sql('INSERT INTO ports (container_id, protocol, host_ip, host_port, container_port) VALUES (?, ?, ?, ?, ?)')
      .run(p.containerId, p.protocol, p.hostIp ?? '', p.hostPort, p.containerPort);
  }

  deletePortsOf(containerId: string): void {
    this.sql('DELETE FROM ports WHERE container_id = ?').run(containerId);
  }
}
