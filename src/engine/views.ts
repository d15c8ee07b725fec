import { parseSubnet } from '../addr/ipv4.js';
import type { Protocol } from '../ipam/ports.js';
import { isBridgeNetwork, type AttachmentRecord, type ContainerHead, type ContainerRecord, type NetworkDriver, type NetworkRecord, type PortRecord, type StateStore } from '../store/store.js';
import { BRIDGE_OPTIONS, MACVLAN_OPTIONS } from './network-options.js';
import { liveState, type AliveCheck } from './lookup.js';
import { isAlive } from '../kernel/proc.js';
import { readRestarts } from './shim.js';
import { restartPolicy } from './restart-policy.js';
import { pid1Of } from './sandbox.js';
import { securityOptions } from '../sandbox/security.js';
import { netnsPath } from '../kernel/netns.js';
import { DEFAULT_NETWORK, segmentLinks } from '../names.js';

/** What `network inspect` and `network ls --json` show. */
export interface NetworkView {
  Id: string;
  Name: string;
  Driver: NetworkDriver | 'overlay';
  Subnet: string;
  Gateway: string;
  /** null for a macvlan network (its containers are on Parent's segment). */
  Bridge: string | null;
  Parent: string | null;
  Internal: boolean;
  IPMasquerade: boolean;
  DefaultRoute: boolean;
  /** Dual stack: the IPv6 subnet and gateway (null for IPv4 only). */
  IPv6Subnet: string | null;
  IPv6Gateway: string | null;
  MTU: number;
  Created: string;
  /** --ip-range (null: the whole subnet), --aux-address, --label. */
  IPRange: string | null;
  AuxiliaryAddresses: Record<string, string>;
  Labels: Record<string, string>;
  /** Docker's driver options as in effect. */
  Options: Record<string, string>;
  Containers: { Id: string; Name: string; IPAddress: string | null; IPv6Address: string | null; State: string }[];
  /** Its further bridges beyond its own, each with its trunk and how many container ports it has (see docs/ARCHITECTURE.md, Segments). */
  Segments: { Segment: number; Bridge: string; Trunk: string; Containers: number }[];
  /** An overlay network: the whole subnet, this host's block of it (Subnet), its VXLAN device, and the other hosts' blocks and containers. */
  Overlay: {
    Subnet: string; VNI: number; Device: string; Host: string; Underlay: string;
    Peers: { Host: string; Block: string; Underlay: string }[];
    RemoteContainers: { Host: string; Name: string; IPAddress: string }[];
  } | null;
}

function optionsOf(n: NetworkRecord): Record<string, string> {
  if (!isBridgeNetwork(n)) return { [MACVLAN_OPTIONS.parent]: n.parent, [MACVLAN_OPTIONS.mode]: 'bridge' };
  return {
    [BRIDGE_OPTIONS.name]: n.bridge, [BRIDGE_OPTIONS.icc]: String(n.icc), [BRIDGE_OPTIONS.masquerade]: String(n.ipMasq && !n.internal),
    [BRIDGE_OPTIONS.hostBinding]: n.hostBindingIpv4 ?? '0.0.0.0', [BRIDGE_OPTIONS.mtu]: String(n.mtu),
  };
}

/** What `network ls` shows and filters on: a network's view with the number of its containers in place of their list. */
export interface NetworkListing extends Omit<NetworkView, 'Containers'> {
  ContainerCount: number;
}

export function networkView(store: StateStore, n: NetworkRecord): NetworkView {
  return {
    ...networkSettings(n),
    Containers: [
      ...store.containerSummariesOn(n.id).map((c) => ({ Id: c.id, Name: c.name, IPAddress: c.ip, IPv6Address: c.ip6, State: liveState(c) })),
      // Containers connected to it as a further network (network connect).
      ...store.connectionsOn(n.id).flatMap((a) => {
        const c = store.getContainer(a.containerId);
        return c ? [{ Id: c.id, Name: c.name, IPAddress: a.ip, IPv6Address: a.ip6, State: liveState(c) }] : [];
      }),
    ],
    ...networkParts(store, n),
  };
}

/** `count`: its containers, first networks and connections alike (StateStore.containerCounts). */
export function networkListing(store: StateStore, n: NetworkRecord, count: number): NetworkListing {
  return { ...networkSettings(n), ...networkParts(store, n), ContainerCount: count };
}

function networkSettings(n: NetworkRecord): Omit<NetworkView, 'Containers' | 'Segments' | 'Overlay'> {
  return {
    Id: n.id, Name: n.name, Driver: n.overlay ? 'overlay' : n.driver, Subnet: n.subnet, Gateway: n.gateway, Bridge: n.bridge, Parent: n.parent, Internal: n.internal,
    IPMasquerade: n.ipMasq && !n.internal, DefaultRoute: n.defaultRoute && !n.internal, IPv6Subnet: n.subnet6, IPv6Gateway: n.gateway6,
    MTU: n.mtu, Created: n.createdAt, IPRange: n.ipRange, AuxiliaryAddresses: n.auxAddresses, Labels: n.labels, Options: optionsOf(n),
  };
}

function networkParts(store: StateStore, n: NetworkRecord): Pick<NetworkView, 'Segments' | 'Overlay'> {
  return {
    Segments: isBridgeNetwork(n)
      ? [...store.segmentPorts(n.id)].filter(([k]) => k > 0).sort(([a], [b]) => a - b).map(([k, count]) => {
        const l = segmentLinks(n.id, k);
        return { Segment: k, Bridge: l.bridge, Trunk: l.trunk, Containers: count };
      })
      : [],
    Overlay: n.overlay ? {
      Subnet: n.overlay.clusterSubnet, VNI: n.overlay.vni, Device: n.overlay.device, Host: n.overlay.host, Underlay: n.overlay.underlay,
      Peers: store.overlayPeers(n.id).map((p) => ({ Host: p.host, Block: p.block, Underlay: p.underlay })),
      RemoteContainers: store.remoteEndpoints(n.id).map((e) => ({ Host: e.host, Name: e.name, IPAddress: e.ip })),
    } : null,
  };
}

export interface PortView {
  Protocol: Protocol;
  HostIp: string;
  HostPort: number;
  ContainerPort: number;
}

/** What `inspect` and `ps --json` show, in Docker's vocabulary. */
export interface ContainerView {
  Id: string;
  Name: string;
  /** Pid: the container's PID 1 as the host sees it; SupervisorPid: the ctnet process above it. */
  State: { Status: string; Running: boolean; Pid: number | null; SupervisorPid: number | null; OOMKilled: boolean; ExitCode: number | null; StartedAt: string | null; FinishedAt: string | null };
  Created: string;
  Config: {
    Hostname: string; Domainname: string; Cmd: string[]; Env: string[]; User: string; WorkingDir: string; Rootfs: string | null; Detached: boolean; AutoRemove: boolean; RestartMax: number; MacAddress: string | null;
    Labels: Record<string, string>;
    /** Docker's: what stop sends first, and how long it waits (null: 10 s). */
    StopSignal: string; StopTimeout: number | null;
  };
  /** Limits as Docker names them: bytes, billionths of a CPU, processes (0: none). */
  HostConfig: {
    Memory: number; NanoCpus: number; PidsLimit: number; CpuShares: number; CpusetCpus: string; CpusetMems: string; CpuPeriod: number; CpuQuota: number; OomKillDisable: boolean; MemoryReservation: number; MemorySwap: number; Binds: string[]; Tmpfs: string[]; Init: boolean; ReadonlyRootfs: boolean;
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    /** Docker's: null when none was given. */
    Ulimits: { Name: string; Soft: number; Hard: number }[] | null;
    /** Bytes of /dev/shm; 0: not given (the tmpfs default, half of memory). */
    ShmSize: number;
    Devices: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
    /** Docker's: supplementary groups (its user's and --group-add's), as numbers. */
    GroupAdd: string[];
    /** Docker's: host, or the container's own (''; IpcMode private, or none: no /dev/shm). */
    PidMode: string;
    IpcMode: string;
    UTSMode: string;
    /** Docker's names and meaning: null when not given. */
    Privileged: boolean; CapAdd: string[] | null; CapDrop: string[] | null; SecurityOpt: string[] | null;
    /** Docker's: the network's name, none, host or container:ID. */
    NetworkMode: string;
    ExtraHosts: string[] | null; Dns: string[]; DnsSearch: string[]; DnsOptions: string[]; Sysctls: Record<string, string> | null;
    /** Rate limits in bits per second, bursts in bytes (0: none), as the CNI bandwidth plugin names them. */
    Bandwidth: { IngressRate: number; IngressBurst: number; EgressRate: number; EgressBurst: number };
  };
  RestartCount: number;
  NetworkSettings: {
    SandboxKey: string | null;
    Network: string;
    IPAddress: string | null;
    IPPrefixLen: number;
    Gateway: string | null;
    GlobalIPv6Address: string | null;
    IPv6Gateway: string | null;
    HostVeth: string | null;
    Ports: PortView[];
    /** Names the network's embedded DNS answers with this container's address (besides its name). */
    Aliases: string[];
    /** Every network of the container: the first one, then those `network connect` added. */
    Networks: { Network: string; Interface: string; IPAddress: string | null; IPPrefixLen: number; GlobalIPv6Address: string | null; HostVeth: string | null; Aliases: string[] }[];
  };
  LogPath: string | null;
}

/** What the web view's event stream compares between two reads (Engine.overview). */
export interface Overview {
  containers: (Pick<ContainerView, 'Id' | 'Name'> & { State: Pick<ContainerView['State'], 'Status'>; Networks: string[] })[];
  networks: Pick<NetworkView, 'Id' | 'Name'>[];
}

/**
 * What `ps` shows and filters on: a container's view without its configuration and without what
 * costs a file read per container (PID 1, restarts). `ps --json` shows whole views.
 */
export interface ContainerListing {
  Id: string;
  Name: string;
  State: Pick<ContainerView['State'], 'Status' | 'Running' | 'OOMKilled' | 'ExitCode' | 'StartedAt' | 'FinishedAt'>;
  Created: string;
  Config: Pick<ContainerView['Config'], 'Cmd' | 'Labels'>;
  NetworkSettings: Pick<ContainerView['NetworkSettings'], 'Network' | 'IPAddress' | 'Ports' | 'Networks'>;
}

/** The name a container's network goes by: its network's, or its mode's (container:NAME while that container exists). */
function networkName(store: StateStore, c: ContainerHead, net: NetworkRecord | undefined): string {
  if (net) return net.name;
  if (c.networkMode !== 'container' || c.netnsOf === null) return c.networkMode;
  return `container:${store.getContainer(c.netnsOf)?.name ?? c.netnsOf.slice(0, 12)}`;
}

/** What a container's view reads beside its record. */
export interface ViewSources {
  networkOf: (id: string) => { net: NetworkRecord; prefix: number };
  portsOf: (containerId: string) => PortRecord[];
  connectionsOf: (containerId: string) => AttachmentRecord[];
  alive: AliveCheck;
}

/** Networks by ID, each read and parsed once: a listing of thousands of containers shares a few networks. */
function networksOnce(store: StateStore): ViewSources['networkOf'] {
  const seen = new Map<string, ReturnType<ViewSources['networkOf']>>();
  return (id) => {
    let known = seen.get(id);
    if (!known) {
      const net = store.getNetworkById(id);
      known = { net, prefix: parseSubnet(net.subnet).prefix };
      seen.set(id, known);
    }
    return known;
  };
}

/** One container's sources: its own rows. */
const sourcesOf = (store: StateStore): ViewSources => ({ networkOf: networksOnce(store), portsOf: (id) => store.portsOf(id), connectionsOf: (id) => store.connectionsOf(id), alive: isAlive });

/**
 * A container its setup has just made: its network and host ports as the setup had them, and no
 * further networks yet. Read back from the state, right after the kernel work, they cost an attach ~0.1 ms.
 */
export function justMadeSources(store: StateStore, made: { network: NetworkRecord | undefined; ports: PortRecord[] }): ViewSources {
  const { network, ports } = made;
  const others = networksOnce(store);
  return {
    networkOf: (id) => (network && id === network.id ? { net: network, prefix: parseSubnet(network.subnet).prefix } : others(id)),
    portsOf: () => ports,
    connectionsOf: () => [],
    alive: isAlive,
  };
}

/**
 * A listing's sources: every container's ports and further networks in one read each, not two
 * queries per container; `alive` as reconcileForRead returned it.
 */
export function listingSources(store: StateStore, alive: AliveCheck): ViewSources {
  const ports = store.allPorts();
  const connections = store.allConnections();
  return { networkOf: networksOnce(store), portsOf: (id) => ports.get(id) ?? [], connectionsOf: (id) => connections.get(id) ?? [], alive };
}

export function containerView(store: StateStore, c: ContainerRecord, sources: ViewSources = sourcesOf(store)): ContainerView {
  const primary = c.networkId !== null ? sources.networkOf(c.networkId) : undefined;
  const net = primary?.net;
  const state = liveState(c, sources.alive);
  const sb = c.sandbox;
  const opts = c.netOptions;
  const prefix = primary?.prefix ?? 0;
  return {
    Id: c.id,
    Name: c.name,
    State: {
      Status: state, Running: state === 'running', Pid: state === 'running' ? pid1Of(store.root, c, sources.alive) ?? null : null, SupervisorPid: state === 'running' ? c.pid : null,
      OOMKilled: c.oomKilled, ExitCode: c.exitCode, StartedAt: c.startedAt, FinishedAt: c.finishedAt,
    },
    Created: c.createdAt,
    Config: {
      Hostname: c.hostname, Domainname: sb.domainname ?? '', Cmd: c.command, Env: c.env, User: sb.user ? `${sb.user.uid}:${sb.user.gid}` : '', WorkingDir: sb.workdir ?? '', Rootfs: sb.rootfs ?? null,
      Detached: c.detached, AutoRemove: c.autoRemove, RestartMax: Math.max(c.restartMax, 0), MacAddress: c.mac, Labels: c.labels,
      StopSignal: sb.stopSignal ?? 'SIGTERM', StopTimeout: sb.stopTimeout ?? null,
    },
    HostConfig: {
      Memory: sb.limits?.memory ?? 0, NanoCpus: Math.round((sb.limits?.cpus ?? 0) * 1e9), PidsLimit: sb.limits?.pidsLimit ?? 0,
      CpuShares: sb.limits?.cpuShares ?? 0, CpusetCpus: sb.limits?.cpusetCpus ?? '', CpusetMems: sb.limits?.cpusetMems ?? '',
      CpuPeriod: sb.limits?.cpuPeriod ?? 0, CpuQuota: sb.limits?.cpuQuota ?? 0, OomKillDisable: sb.limits?.oomKillDisable === true, MemoryReservation: sb.limits?.memoryReservation ?? 0, MemorySwap: sb.limits?.memorySwap ?? 0,
      Binds: (sb.volumes ?? []).map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`), Tmpfs: (sb.tmpfs ?? []).map((t) => (sb.tmpfsOptions?.[t] ? `${t}:${sb.tmpfsOptions[t]}` : t)), Init: sb.init === true,
      ReadonlyRootfs: sb.readOnly === true, RestartPolicy: restartPolicy(c.restartMax),
      Ulimits: sb.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })) ?? null, ShmSize: sb.shmSize ?? 0,
      GroupAdd: (sb.groups ?? []).map(String),
      PidMode: sb.pidMode ?? '', IpcMode: sb.ipcMode ?? 'private', UTSMode: sb.utsMode ?? '',
      Devices: (sb.devices ?? []).map((d) => ({ PathOnHost: d.path, PathInContainer: d.target, CgroupPermissions: d.perms })),
      Privileged: sb.security?.privileged === true, CapAdd: sb.security?.capAdd ?? null, CapDrop: sb.security?.capDrop ?? null,
      SecurityOpt: securityOptions(sb.security),
      NetworkMode: c.networkMode === 'container' && c.netnsOf !== null ? `container:${c.netnsOf}` : net && net.name !== DEFAULT_NETWORK.name ? net.name : c.networkMode,
      ExtraHosts: opts.extraHosts?.map((h) => `${h.name}:${h.ip}`) ?? null, Dns: opts.dns ?? [], DnsSearch: opts.dnsSearch ?? [], DnsOptions: opts.dnsOptions ?? [],
      Sysctls: opts.sysctls || sb.sysctls ? { ...opts.sysctls, ...sb.sysctls } : null,
      Bandwidth: {
        IngressRate: opts.bandwidth?.ingress?.rate ?? 0, IngressBurst: opts.bandwidth?.ingress?.burst ?? 0,
        EgressRate: opts.bandwidth?.egress?.rate ?? 0, EgressBurst: opts.bandwidth?.egress?.burst ?? 0,
      },
    },
    RestartCount: readRestarts(c.logPath),
    NetworkSettings: {
      SandboxKey: c.netns ? netnsPath(c.netns) : null,
      Network: networkName(store, c, net),
      IPAddress: c.ip,
      IPPrefixLen: prefix,
      Gateway: !net || net.internal ? null : net.gateway,
      GlobalIPv6Address: c.ip6,
      IPv6Gateway: !net || net.internal || !c.ip6 ? null : net.gateway6,
      HostVeth: c.hostVeth,
      Ports: portsView(c, sources),
      Aliases: c.aliases,
      Networks: networksView(c, primary, sources),
    },
    LogPath: c.logPath,
  };
}

function portsView(c: ContainerHead, sources: ViewSources): PortView[] {
  return sources.portsOf(c.id).map((p) => ({ Protocol: p.protocol, HostIp: p.hostIp ?? '0.0.0.0', HostPort: p.hostPort, ContainerPort: p.containerPort }));
}

/** Every network of a container: the first one, then those `network connect` added. */
function networksView(c: ContainerHead, primary: ReturnType<ViewSources['networkOf']> | undefined, sources: ViewSources): ContainerView['NetworkSettings']['Networks'] {
  const net = primary?.net;
  // Docker lists none and host as networks of their own; a container in another's namespace has none.
  const first = net
    ? [{ Network: net.name, Interface: c.ifname, IPAddress: c.ip, IPPrefixLen: primary?.prefix ?? 0, GlobalIPv6Address: c.ip6, HostVeth: c.hostVeth, Aliases: c.aliases }]
    : c.networkMode === 'container' ? [] : [{ Network: c.networkMode, Interface: c.networkMode === 'none' ? 'lo' : '', IPAddress: null, IPPrefixLen: 0, GlobalIPv6Address: null, HostVeth: null, Aliases: [] }];
  return [
    ...first,
    ...sources.connectionsOf(c.id).map((a) => {
      const { net: n, prefix: p } = sources.networkOf(a.networkId);
      return { Network: n.name, Interface: a.ifname, IPAddress: a.ip, IPPrefixLen: p, GlobalIPv6Address: a.ip6, HostVeth: a.hostVeth, Aliases: a.aliases };
    }),
  ];
}

/** A container as `ps` lists it: the same values as its view's (containerView) for the fields a listing has. */
export function containerListing(store: StateStore, c: ContainerHead, sources: ViewSources): ContainerListing {
  const primary = c.networkId !== null ? sources.networkOf(c.networkId) : undefined;
  const state = liveState(c, sources.alive);
  return {
    Id: c.id,
    Name: c.name,
    State: { Status: state, Running: state === 'running', OOMKilled: c.oomKilled, ExitCode: c.exitCode, StartedAt: c.startedAt, FinishedAt: c.finishedAt },
    Created: c.createdAt,
    Config: { Cmd: c.command, Labels: c.labels },
    NetworkSettings: { Network: networkName(store, c, primary?.net), IPAddress: c.ip, Ports: portsView(c, sources), Networks: networksView(c, primary, sources) },
  };
}
