import { closeFd, lookAt, openAppend, readTextOr } from '../kernel/files.js';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NftError, NotFoundError } from '../errors.js';
import { allocateAddress, reserveAddress } from '../ipam/allocator.js';
import { parseSubnet } from '../addr/ipv4.js';
import { parseSubnet6 } from '../addr/ipv6.js';
import { parsePublish, type PortRequest } from '../ipam/ports.js';
import { openNetns, closeNetns, netnsPath } from '../kernel/netns.js';
import { processStartTime } from '../kernel/proc.js';
import { dismiss, resolveCommand, sendOrder, spawnInNamespaces, spawnWaiting, type DetachedStart } from '../kernel/spawn.js';
import { detachedProcess, foregroundProcess, type ContainerProcess } from './container-process.js';
import { CONTAINER_IFNAME, containerNetnsName, hostVethName, linkAlias, ifbName } from '../names.js';
import { planAttach, planLoopbackOnly, type Attachment } from '../plan/container-plan.js';
import { neighboursOf } from './neighbours.js';
import { bucketOf } from './bandwidth.js';
import { containerMac } from '../plan/network-plan.js';
import { step, type Step } from '../plan/ops.js';
import { isBridgeNetwork, type ContainerKind, type ContainerRecord, type NetworkMode, type NetworkRecord, type PortRecord, type ProcessContainer, type StateStore } from '../store/store.js';
import { containerEnv } from './container-env.js';
import { allocatePorts, checkHostAddresses } from './host-ports.js';
import { restartsFileOf, standbyCommand, statusFileOf, supervisorOrder, type RemoveOnExit } from './shim.js';
import type { EngineContext } from './context.js';
import { generateName, newContainerId } from './container-names.js';
import { guardOf, toMappings } from './firewall-state.js';
import { ctnetTableExists, ensureNetworkPresent, findNetwork, networkForRun, onNetworkMadeIfNeeded, restoreFirewall } from './networks.js';
import { reconcile } from './reconcile.js';
import { detachContainer, removeContainerFiles } from './teardown.js';
import { cgroupSteps, containerDir, initCommand, pidNamespaceArgs, pid1Of, pidFileOf, startCommandLine, validateSandbox, writeInitSpec, type SandboxRequest } from './sandbox.js';
import type { SandboxConfig } from '../sandbox/spec.js';
import type { NamespaceShare } from '../sandbox/options.js';
import { parseEnv, validateAlias, validateHostname, validateMac, validateName } from './validate.js';
import { ensureDns, hasEmbeddedDns, hostResolvConf, namesOn } from './dns.js';
import { isIPv6, type IPv4, type IPv6 } from '../addr/family.js';
import { checkModeRequest, networkChoiceOf, placementOf, type NetworkChoice, type Placement } from './network-mode.js';
import { checkConnection, planConnection, type ConnectRequest } from './connect.js';
import { findContainer } from './lookup.js';
import { HOST_GATEWAY, parseNetOptions, type NetOptionsRequest } from './net-options.js';
import { etcFiles, type EtcNetwork } from './etc-files.js';
import type { Bandwidth, NetOptions } from '../store/records.js';
import { hostname } from 'node:os';
import { address6On, addressBookOf } from './address-book.js';
import { placePort } from './segments.js';
import { RESTART_ALWAYS, RESTART_ON_FAILURE_UNBOUNDED, RESTART_UNLESS_STOPPED } from './restart-policy.js';
import { isIpcSysctl } from '../sandbox/options.js';

/** Set when a runtime attaches its own namespace through CNI. */
export interface CniTarget {
  containerId: string;
  netnsPath: string;
  ifname: string;
  mac?: string;
  /** ipam.routes besides the default ones (dst CIDR, optional gateway; the network's by default). */
  routes?: { dst: string; gw?: string }[];
  /** runtimeConfig.bandwidth, honoured natively (no bandwidth plugin in the chain). */
  bandwidth?: Bandwidth;
}

export interface RunRequest {
  command: string[];
  cni?: CniTarget;
  name?: string;
  network?: string;
  /** Further networks (run --network A --network B), connected before the command runs, as Docker does. */
  moreNetworks?: Omit<ConnectRequest, 'container'>[];
  ip?: string;
  publish?: string[];
  /** --expose: container ports -P publishes (on host ports the kernel's ephemeral range gives, as Docker). */
  expose?: string[];
  /** -P: publish every --expose port on a free host port. */
  publishAll?: boolean;
  hostname?: string;
  env?: string[];
  detach?: boolean;
  autoRemove?: boolean;
  /** "no" (default), "on-failure" or "on-failure:N" (restart a detached container that exits non-zero), "always" or "unless-stopped" (whatever its exit). */
  restart?: string;
  /** Root filesystem, mounts, user, cgroup limits, --init. */
  sandbox?: SandboxRequest;
  /** More names for the container in the network's embedded DNS (--network-alias). */
  aliases?: string[];
  /** Docker's labels: metadata to find the container by (ps --filter label=). */
  labels?: Record<string, string>;
  /** --add-host, --dns, --dns-search, --dns-option, --sysctl. */
  netOptions?: NetOptionsRequest;
  /** --mac-address: its interface's MAC on its first network (default: derived from its address). */
  mac?: string;
  /** --ip6: its IPv6 address on a dual-stack network (default: the next free one). */
  ip6?: string;
  /**
   * A foreground container's standard streams (default: the caller's); with `terminal` set, it
   * makes that terminal its controlling one (run -t).
   */
  stdio?: { streams: [number | 'ignore' | 'inherit', number | 'inherit', number | 'inherit']; terminal?: boolean };
}

export interface Started {
  container: ContainerRecord;
  /** Its process while it starts; undefined for a network-only container and after --dry-run. */
  child?: ContainerProcess;
  /** Its first network and its host ports as the setup made them (not after --dry-run): its view needs no read. */
  made?: { network: NetworkRecord | undefined; ports: PortRecord[] };
}

let ownStart: string | null | undefined;
/** This process's start time, read once: it marks records whose setup this process is doing. */
const ownStartTime = (): string | null => (ownStart === undefined ? (ownStart = processStartTime(process.pid) ?? null) : ownStart);

/** --restart: no, on-failure (unbounded) or on-failure:N, always, unless-stopped; only for detached containers, which have a supervisor. */
function parseRestart(req: RunRequest): number {
  const text = req.restart ?? 'no';
  if (text === 'no') return 0;
  const m = /^on-failure(?::(\d+))?$/.exec(text);
  if (!m && text !== 'always' && text !== 'unless-stopped') throw new InvalidArgumentError(`--restart ${text} is not one of no, on-failure, on-failure:N, always, unless-stopped`);
  if (!req.detach) throw new InvalidArgumentError('--restart needs -d: a foreground container ends with its command');
  if (req.autoRemove) throw new InvalidArgumentError('--restart and --rm cannot be combined; pick one');
  if (!m) return text === 'always' ? RESTART_ALWAYS : RESTART_UNLESS_STOPPED;
  return m[1] === undefined ? RESTART_ON_FAILURE_UNBOUNDED : Number(m[1]);
}

/** A request checked before anything changes: what the setup records. */
interface Validated {
  ports: PortRequest[];
  hostname: string | undefined;
  sandbox: SandboxConfig;
  netOptions: NetOptions;
}

function validateRun(ctx: EngineContext, req: RunRequest): Validated {
  parseRestart(req);
  if (!req.command.length) throw new InvalidArgumentError('ctnet run needs a command after --, e.g.: ctnet run -- sleep 60');
  if (req.name !== undefined) validateName('container', req.name);
  const hostname = req.hostname !== undefined ? validateHostname(req.hostname) : undefined;
  parseEnv(req.env ?? []);
  for (const a of req.aliases ?? []) validateAlias(a);
  const exposed = (req.expose ?? []).flatMap((e) => {
    if (e.includes(':')) throw new InvalidArgumentError(`invalid --expose "${e}": give a container port or range, e.g. 80 or 8000-8010/udp (publish host ports with -p)`);
    return parsePublish(e);
  });
  const ports = [...(req.publish ?? []).flatMap(parsePublish), ...(req.publishAll ? exposed : [])];
  // One --sysctl list: the IPC namespace's keys are ctnet-init's to write, the rest the network's.
  const sysctls = req.netOptions?.sysctls ?? [];
  const sandbox = validateSandbox({ ...req.sandbox, sysctls: sysctls.filter(isIpcSysctl) });
  if (sandbox.pidMode) sandbox.pidMode = namespaceDonor(ctx, 'pid', sandbox.pidMode);
  if (sandbox.ipcMode && sandbox.ipcMode !== 'none' && sandbox.ipcMode !== 'shareable') sandbox.ipcMode = namespaceDonor(ctx, 'ipc', sandbox.ipcMode);
  if (sandbox.utsMode === 'host' && hostname !== undefined) throw new InvalidArgumentError(`conflicting options: --hostname and --uts host: the container has the host's hostname then; drop one`);
  const path = containerEnv({ hostname: 'x', env: req.env ?? [] }).PATH;
  resolveCommand(req.command[0], path, sandbox.rootfs);
  const choice = networkChoiceOf(req.network);
  checkMoreNetworks(ctx, choice, req.moreNetworks ?? []);
  if (req.mac !== undefined) validateMac(req.mac);
  const netOptions = parseNetOptions({ ...req.netOptions, sysctls: sysctls.filter((s) => !isIpcSysctl(s)) }, choice);
  return { ports: checkModeRequest(ctx, choice, req, ports), hostname, sandbox, netOptions };
}

/** `run --network A --network B`: the further networks are ctnet's, each given once, after a first one of ctnet's. */
function checkMoreNetworks(ctx: EngineContext, choice: NetworkChoice, more: readonly Omit<ConnectRequest, 'container'>[]): void {
  if (!more.length) return;
  if (choice.mode !== 'bridge') {
    throw new InvalidArgumentError(`conflicting options: --network ${choice.mode === 'container' ? `container:${choice.container}` : choice.mode} cannot be combined with other networks (the container has no interface of its own on them); give networks of ctnet's only`);
  }
  const seen = new Set([choice.network]);
  for (const m of more) {
    const other = networkChoiceOf(m.network);
    if (other.mode !== 'bridge') throw new InvalidArgumentError(`conflicting options: --network ${m.network} cannot be combined with other networks; give networks of ctnet's only`);
    if (seen.has(m.network)) throw new InvalidArgumentError(`--network ${m.network} is given twice; give each network once`);
    seen.add(m.network);
    findNetwork(ctx, m.network);
    for (const a of m.aliases ?? []) validateAlias(a);
  }
}

/**
 * --pid or --ipc container:NAME: that container, by its ID. It must run a process, whose PID 1 holds
 * the namespace (ctnet-init finds it there when the new container starts), and to share its IPC
 * namespace be shareable, as Docker's must: its /dev/shm is then on the host, where another
 * container can bind it from.
 */
function namespaceDonor(ctx: EngineContext, flag: 'pid' | 'ipc', mode: NamespaceShare): NamespaceShare {
  if (mode === 'host') return mode;
  const donor = findContainer(ctx, mode.slice('container:'.length));
  const kind = flag.toUpperCase();
  if (donor.kind !== 'process' || pid1Of(ctx.root, donor) === undefined) {
    throw new ConflictError(`cannot join the ${kind} namespace of container ${donor.name}: ${donor.kind === 'process' ? 'it is not running; start it first' : 'it runs no process'}, or pick a running container`);
  }
  if (flag === 'ipc' && donor.sandbox.ipcMode !== 'shareable') {
    const way = donor.sandbox.ipcMode === 'host' ? `it uses the host's; use --ipc host` : `it is not shareable; run it with --ipc shareable`;
    throw new ConflictError(`cannot join the IPC namespace of container ${donor.name}: ${way}`);
  }
  return `container:${donor.id}`;
}

/**
 * How a -d --rm container's supervisor reaches the host to remove it: the host namespace by name, or,
 * when ctnet runs in init's namespace, by /proc/1/ns/net. Otherwise reconcile removes it later.
 */
function removeOnExit(ctx: EngineContext, c: ContainerRecord): RemoveOnExit | undefined {
  if (!c.autoRemove) return undefined;
  if (ctx.options.hostNetns) return { root: ctx.root, hostNetns: ctx.options.hostNetns, id: c.id };
  const same = (a: string, b: string): boolean => {
    const [x, y] = [lookAt(a), lookAt(b)];
    return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
  };
  return same('/proc/thread-self/ns/net', '/proc/1/ns/net') ? { root: ctx.root, hostNetns: '/proc/1/ns/net', id: c.id } : undefined;
}

/**
 * What a container's /etc files come from: its network, or with --network container: the network
 * and options of the container whose namespace it joined (Docker shares that one's files).
 */
function etcSourceOf(ctx: EngineContext, c: ProcessContainer): { net: EtcNetwork; options: NetOptions } {
  if (c.networkMode === 'host') return { net: { kind: 'host' }, options: c.netOptions };
  const owner = c.networkMode === 'container' && c.netnsOf !== null ? ctx.store.getContainer(c.netnsOf) ?? c : c;
  if (owner.networkId === null) return { net: { kind: 'none' }, options: owner.netOptions };
  const net = ctx.store.getNetworkById(owner.networkId);
  return {
    net: { kind: 'network', ip: owner.ip, ip6: owner.ip6, gateway: net.gateway, gateway6: owner.ip6 ? net.gateway6 : null, embeddedDns: hasEmbeddedDns(net) },
    options: owner.netOptions,
  };
}

/** The namespace a container's process starts in: its own or the one it joined, or the host's (by name, or the one ctnet runs in). */
const processNetnsPath = (c: ProcessContainer): string => (c.netns !== null ? netnsPath(c.netns) : '/proc/self/ns/net');

function startProcess(ctx: EngineContext, c: ProcessContainer, stdio: RunRequest['stdio'], standby?: DetachedStart): ContainerProcess {
  const { net, options } = etcSourceOf(ctx, c);
  // The host's /etc/hosts is only a --network host container's.
  const files = etcFiles(net, c.hostname, options, { resolv: readTextOr(hostResolvConf(ctx)), hosts: net.kind === 'host' ? readTextOr('/etc/hosts') : '' }, c.sandbox.domainname);
  const specFile = writeInitSpec(ctx.root, c, files, stdio?.terminal === true);
  if (standby && c.logPath) {
    // A detached container runs under its supervisor, which records its exit status (and restarts it).
    const pidFile = pidFileOf(ctx.root, c.id);
    sendOrder(standby, supervisorOrder({
      netns: c.netns !== null ? netnsPath(c.netns) : null, log: c.logPath, env: containerEnv(c),
      spec: specFile, status: statusFileOf(c.logPath), restartMax: c.restartMax, pidFile, rm: removeOnExit(ctx, c),
    }));
    return detachedProcess(standby, pidFile, restartsFileOf(c.logPath));
  }
  const logFd = c.logPath ? openAppend(c.logPath) : undefined;
  const netns = openNetns(processNetnsPath(c));
  // fd 3: the readiness pipe, closed by ctnet-init when it becomes the command; fd 4: the gate it
  // waits at until the network is complete (see container-process.ts).
  try {
    return foregroundProcess(spawnInNamespaces({
      netns,
      command: initCommand(specFile),
      env: containerEnv(c),
      stdio: logFd === undefined ? [...(stdio?.streams ?? ['inherit', 'inherit', 'inherit']), 'pipe', 'pipe'] : ['ignore', logFd, logFd, 'pipe', 'pipe'],
      detached: c.detached,
    }));
  } finally {
    closeNetns(netns);
    if (logFd !== undefined) closeFd(logFd);
  }
}

/** What `attach` needs: a network endpoint without a process (the engine API; CNI ADD). */
export type AttachRequest = Omit<RunRequest, 'command' | 'detach' | 'autoRemove' | 'env' | 'restart'>;

/**
 * `ctnet run`: validates everything first, then (under the host lock) records the container with
 * its address and host ports, builds its network, and starts its process inside it. Any failure
 * undoes what was done, kernel and state.
 */
export function runContainer(ctx: EngineContext, req: RunRequest): Started {
  const v = validateRun(ctx, req);
  // A detached container's supervisor starts now and waits for its order (see shim.ts).
  const standby = req.detach && !ctx.dryRun ? spawnWaiting(standbyCommand(pidNamespaceArgs(ctx.root, v.sandbox.pidMode))) : undefined;
  try {
    return setUp(ctx, req, v, (record) => startProcess(ctx, record, req.detach ? undefined : req.stdio, standby));
  } finally {
    if (standby) dismiss(standby);
  }
}

/** A network-only container: namespace, veth, address, routes and ports, no process (until removed). */
export function attachContainer(ctx: EngineContext, req: AttachRequest): Started {
  if (req.name !== undefined) validateName('container', req.name);
  const hostname = req.hostname !== undefined ? validateHostname(req.hostname) : undefined;
  const ports = (req.publish ?? []).flatMap(parsePublish);
  if (req.mac !== undefined) validateMac(req.mac);
  return setUp(ctx, { ...req, command: [] }, { ports, hostname, sandbox: {}, netOptions: {} });
}

/** A runtime's namespace attached through CNI: ports come as the runtime's portMappings. */
export function attachCni(ctx: EngineContext, req: AttachRequest & { cni: CniTarget }, ports: PortRequest[]): ContainerRecord {
  const netOptions = req.cni.bandwidth ? { bandwidth: req.cni.bandwidth } : {};
  return setUp(ctx, { ...req, command: [] }, { ports, hostname: req.hostname, sandbox: {}, netOptions }).container;
}

function setUp(ctx: EngineContext, req: RunRequest, v: Validated, start?: (c: ProcessContainer) => ContainerProcess): Started {
  const choice = networkChoiceOf(req.network);
  return ctx.locked(() => {
    if (!ctx.dryRun) reconcile(ctx);
    if (choice.mode !== 'bridge') return setUpIn(ctx, placementOf(ctx, choice), req, v, start);
    // Before the default network is made on first use: a refused run changes nothing.
    checkHostAddresses(ctx, v.ports);
    // The default network made on first use goes again when the container is refused.
    return onNetworkMadeIfNeeded(ctx, choice.network, (existing) => networkForRun(ctx, choice.network, existing), (net) => {
      const ports = boundTo(net, v.ports);
      if (ports !== v.ports) checkHostAddresses(ctx, ports);
      return setUpIn(ctx, { mode: 'bridge', net }, req, { ...v, ports }, start);
    });
  });
}

/** Docker's host_binding_ipv4: a -p without a host address publishes on the network's binding address. */
function boundTo(net: NetworkRecord, ports: PortRequest[]): PortRequest[] {
  const binding = net.hostBindingIpv4;
  return binding === null || ports.every((p) => p.hostIp !== null) ? ports : ports.map((p) => (p.hostIp === null ? { ...p, hostIp: binding } : p));
}

function setUpIn(ctx: EngineContext, placement: Placement, req: RunRequest, v: Validated, start?: (c: ProcessContainer) => ContainerProcess): Started {
  if (placement.mode === 'bridge') checkNetworkTakes(placement.net, req, v);
  const id = newContainerId((prefix) => ctx.store.containerIdPrefixTaken(prefix));
  const build = (): Recorded => recordContainer(ctx, placement, { ...req, hostname: v.hostname }, v, id);
  // A process container's plan comes in two parts: what its process needs to be started (its namespace
  // and cgroup), then the rest of its network, made while ctnet-init sets the container up. The
  // command runs once the network is complete: ctnet-init waits at the gate (see container-process.ts).
  // A new segment goes in the second part, before the veth into it: a failure there undoes it (the
  // first part is applied and kept before the process starts).
  const parts = ({ record, network, segment }: Recorded): { first: Step[]; rest: Step[] } => {
    if (record.kind !== 'process') return { first: [], rest: [...segment, ...network] };
    const made = network.findIndex((s) => s.do.op === 'netns.add') + 1;
    return { first: [...network.slice(0, made), ...cgroupSteps(record, ctx.store.instanceId())], rest: [...segment, ...network.slice(made)] };
  };
  const steps = (recorded: Recorded): Step[] => {
    const { first, rest } = parts(recorded);
    return [...first, ...rest];
  };
  const explainStart = (c: ContainerRecord): void => {
    if (c.kind === 'process') ctx.explain(startCommandLine(ctx.root, c));
  };

  // Further networks are recorded with the container (their addresses taken, their names checked)
  // before anything starts: a refusal there is one line and changes nothing. Their kernel side
  // follows the first network's.
  const moreNetworks = (req.moreNetworks ?? []).map((m) => ({ ...m, aliases: [...new Set(m.aliases ?? [])], net: findNetwork(ctx, m.network) }));
  const buildAll = (): Recorded & { more: Step[]; moreSegments: Step[] } => {
    const recorded = build();
    const planned = moreNetworks.map(({ net, ...m }) => {
      checkConnection(ctx, recorded.record, net, m.aliases);
      return planConnection(ctx, recorded.record, net, m);
    });
    return { ...recorded, more: planned.flatMap((p) => p.steps), moreSegments: planned.flatMap((p) => p.segment) };
  };
  if (ctx.dryRun) {
    const container = ctx.transact(() => {
      const recorded = buildAll();
      return { steps: [...steps(recorded), ...recorded.more], result: recorded.record };
    });
    explainStart(container);
    return { container };
  }

  // Committed before the kernel changes, so a crash part-way leaves a 'created' record that reconcile undoes.
  const recorded = ctx.store.transaction(buildAll);
  const { record } = recorded;
  // The DNS was started with the network; a run (not every attach) checks it is still there.
  if (record.kind === 'process' && placement.mode === 'bridge' && hasEmbeddedDns(placement.net)) ensureDns(ctx);
  let child: ContainerProcess | undefined;
  // The segments this setup made and applied, its first network's and its further networks': a later
  // failure takes them away again (an executor undoes only the plan that failed), where a removed
  // container's emptied segment stays for the next.
  let segmentMade: Step[] = [];
  try {
    const { first, rest } = parts(recorded);
    ctx.apply(first);
    if (record.kind === 'process') child = start?.(record);
    applyRepairing(ctx, placement.mode === 'bridge' ? placement.net : undefined, rest, first.length);
    segmentMade = recorded.segment;
    if (recorded.more.length) {
      ctx.apply(recorded.more, first.length + rest.length);
      segmentMade = [...segmentMade, ...recorded.moreSegments];
      if (moreNetworks.some(({ net }) => hasEmbeddedDns(net))) ensureDns(ctx);
    }
    ctx.faultAfter([...first, ...rest, ...recorded.more], record.kind === 'process' ? `starting ${record.command[0]}` : 'finishing');
    child?.openGate();
    ctx.crashPoint();
    explainStart(record);
    // A network-only container has no process: pid stays null and reconcile leaves it alone.
    const pid = child?.pid ?? null;
    const started = { state: 'running' as const, pid, pidStart: pid ? processStartTime(pid) ?? null : null, startedAt: new Date().toISOString() };
    ctx.store.transaction(() => ctx.store.updateContainer(id, started));
    return { container: { ...record, ...started }, child, made: { network: placement.mode === 'bridge' ? placement.net : undefined, ports: recorded.ports } };
  } catch (err) {
    child?.abandon();
    ctx.warnAll(detachContainer(ctx, record));
    ctx.warnAll(ctx.applyBestEffort(segmentMade.flatMap((s) => (s.undo ? [s.undo] : [])).reverse()));
    ctx.store.transaction(() => ctx.store.deleteContainer(id));
    removeContainerFiles(ctx.root, record);
    throw err;
  }
}

/**
 * What a network refuses whatever the state: publishing on an internal one, IPv6 ports where it has
 * no IPv6; on a macvlan network whatever needs the host in the path (ports, limits, DNS names, host-gateway).
 */
function checkNetworkTakes(net: NetworkRecord, req: RunRequest, v: Validated): void {
  const portRequests = v.ports;
  if (!isBridgeNetwork(net)) {
    const refused = portRequests.length ? '-p' : v.netOptions.bandwidth ? 'rate limits' : req.aliases?.length ? '--network-alias' : v.netOptions.extraHosts?.some((h) => h.ip === HOST_GATEWAY) ? 'host-gateway' : undefined;
    if (refused) {
      throw new InvalidArgumentError(`${refused} on macvlan network ${net.name}: its containers are on ${net.parent}'s segment with addresses of their own, and the host is not in their path; drop ${refused}`);
    }
  }
  if (net.internal && portRequests.length) {
    throw new InvalidArgumentError(`network ${net.name} is internal and cannot be reached from outside; drop -p or use another network`);
  }
  const v6Only = portRequests.find((p) => p.hostIp !== null && isIPv6(p.hostIp));
  if (v6Only && (!net.subnet6 || req.cni)) {
    throw new InvalidArgumentError(`-p on IPv6 address ${v6Only.hostIp}: network ${net.name} has no IPv6; publish on an IPv4 address, or use a network made with --ipv6`);
  }
}

interface Recorded {
  record: ContainerRecord;
  /** Its host ports, allocated. */
  ports: PortRecord[];
  /** The kernel steps of its network: its attachment to a ctnet network, a namespace with loopback only, or none. */
  network: Step[];
  /** The steps that make the segment its port goes on, when it is new (before the port's own in `network`). */
  segment: Step[];
}

/** A container's addresses on its first network, as its setup allocates them. */
interface Endpoint {
  networkId: string;
  ip: IPv4;
  ip6: IPv6 | null;
  ip6Offset: number | null;
  /** Its interface: a veth into the bridge (its host end named here), or a macvlan of the parent. */
  port: Attachment['port'];
  /** Which bridge of the network (0 its own, k its segment k), and the steps that make a new segment. */
  segment: number;
  segmentSteps: Step[];
  mac: string;
}

/**
 * The intent of a setup, inside the caller's transaction: the name checked, on a ctnet network an
 * address (and an IPv6 one on a dual-stack network) and host ports allocated, the record inserted as
 * 'created' with this process as the one setting it up. Returns it with the kernel steps of its network.
 */
function recordContainer(ctx: EngineContext, placement: Placement, req: RunRequest, v: Validated, id: string): Recorded {
  const store = ctx.store;
  const cni = req.cni;
  const net = placement.mode === 'bridge' ? placement.net : undefined;
  if (cni && net && store.findCniAttachment(net.id, cni.containerId, cni.ifname)) {
    throw new ConflictError(`container ${cni.containerId.slice(0, 12)} already has ${cni.ifname} on network ${net.name}; DEL it first`);
  }
  const name = req.name ?? (cni ? `cni-${cni.containerId.slice(0, 12)}-${cni.ifname}` : generateName((n) => store.findContainer(n) !== undefined));
  const endpoint = net ? endpointOn(ctx, net, req, id) : undefined;
  // Every field, the kinds' own with a network-only container's values: each kind below only
  // overrides. A spread followed by fields it lacks costs V8 ~15 us per record (as one literal, ~0.1).
  const common = {
    networkMode: 'bridge' as NetworkMode, kind: 'network-only' as ContainerKind, command: [] as string[], netns: null as string | null, ownsNetns: true,
    cniContainerId: null as string | null, restartMax: 0, logPath: null as string | null,
    id, name, networkId: endpoint?.networkId ?? null, netnsOf: null as string | null, ip: endpoint?.ip ?? null, ip6: endpoint?.ip6 ?? null, ip6Offset: endpoint?.ip6Offset ?? null,
    hostVeth: endpoint?.port.kind === 'bridge' ? endpoint.port.hostVeth : null, segment: endpoint?.segment ?? 0, mac: endpoint?.mac ?? null, ifname: cni?.ifname ?? CONTAINER_IFNAME,
    hostname: req.hostname ?? name.replace(/_/g, '-').slice(0, 63), env: req.env ?? [],
    portSpecs: v.ports, detached: req.detach === true, autoRemove: req.autoRemove === true, sandbox: v.sandbox, netOptions: v.netOptions, oomKilled: false,
    aliases: [...new Set((req.aliases ?? []).map(validateAlias))], labels: req.labels ?? {},
    state: 'created' as const, pid: process.pid, pidStart: ownStartTime(), exitCode: null,
    createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
  };
  const [program, ...args] = req.command;
  const record: ContainerRecord = program !== undefined && !cni
    ? {
        // --uts host: the host's UTS namespace, so its hostname (--hostname is refused with it).
        ...common, ...namespaceOf(ctx, placement, req, id), ...(v.sandbox.utsMode === 'host' ? { hostname: hostname() } : {}), kind: 'process', command: [program, ...args], cniContainerId: null,
        restartMax: parseRestart(req), logPath: req.detach ? join(containerDir(ctx.root, id), 'output.log') : null,
      }
    : net === undefined
      ? refuseWithoutNetwork(req.network)
      : cni
        ? { ...common, networkId: net.id, networkMode: 'bridge', kind: 'cni', command: [], netns: cni.netnsPath, ownsNetns: false, cniContainerId: cni.containerId, restartMax: 0, logPath: null }
        : { ...common, networkId: net.id, networkMode: 'bridge', kind: 'network-only', command: [], netns: containerNetnsName(id), ownsNetns: true, cniContainerId: null, restartMax: 0, logPath: null };
  insertNamed(store, record);
  const ports = allocatePorts(store, v.ports, id);
  for (const p of ports) store.insertPort(p);
  const sysctls = record.netns === null ? [] : sysctlSteps(record.netns, v.netOptions);
  if (net && endpoint && record.netns !== null) {
    // The spread last: fields added after a spread cost V8 microseconds each.
    const attachment = {
      mac: endpoint.mac, guard: guardOf(record, net), routes: extraRoutesOf(net, cni?.routes ?? []), shaping: shapingOf(ctx, record), neighbours: neighboursOf(net),
      ...attachmentOf(net, record.netns, record.ownsNetns, record.ifname, endpoint, ports),
    };
    return { record, ports, network: [...planAttach(attachment), ...sysctls], segment: endpoint.segmentSteps };
  }
  return { record, ports, network: placement.mode === 'none' && record.netns !== null ? [...planLoopbackOnly(record.netns), ...sysctls] : [], segment: [] };
}

/**
 * The name is unique by the table's own index: a taken one fails the insert, and only then is its
 * holder looked up (a look-up before every insert cost an attach ~0.06 ms, the CPU cold after the kernel work).
 */
function insertNamed(store: StateStore, record: ContainerRecord): void {
  try {
    store.insertContainer(record);
  } catch (err) {
    const holder = store.isNameTaken(err) ? store.findContainer(record.name) : undefined;
    if (holder?.name !== record.name) throw err;
    throw new ConflictError(`container name ${record.name} is already in use by ${holder.id.slice(0, 12)}; pick another --name or remove it with: ctnet rm -f ${record.name}`);
  }
}

/** The token buckets of a container's rate limits, its egress ifb marked as this state directory's. */
function shapingOf(ctx: EngineContext, c: ContainerRecord): Attachment['shaping'] {
  const b = c.netOptions.bandwidth;
  if (!b) return undefined;
  return {
    ...(b.ingress ? { ingress: bucketOf(b.ingress) } : {}),
    ...(b.egress ? { egress: { ...bucketOf(b.egress), ifb: ifbName(c.id), alias: linkAlias(ctx.store.instanceId(), c.id) } } : {}),
  };
}

/** --sysctl: set in the container's own namespace once its interfaces exist (it goes with the namespace). */
const sysctlSteps = (netns: string, options: NetOptions): Step[] =>
  Object.entries(options.sysctls ?? {}).map(([key, value]) => step({ op: 'sysctl.set', key, value, netns, ephemeral: true }, null));

/** An endpoint without a process (attach, CNI ADD) is a network attachment: it needs a network of ctnet's. */
function refuseWithoutNetwork(network: string | undefined): never {
  throw new InvalidArgumentError(`a container without a command is an attachment to a network of ctnet's; --network ${network} is for ctnet run, name a network instead`);
}

/** The namespace a process container's mode gives it: its own (bridge, none), the host's, or the one it joins (with that container's hostname, as Docker). */
function namespaceOf(ctx: EngineContext, placement: Placement, req: RunRequest, id: string): Pick<ProcessContainer, 'networkMode' | 'netns' | 'ownsNetns' | 'netnsOf'> & { hostname?: string } {
  switch (placement.mode) {
    case 'bridge':
    case 'none':
      return { networkMode: placement.mode, netns: containerNetnsName(id), ownsNetns: true, netnsOf: null };
    case 'host':
      // Docker's: the host's hostname unless one is given (the container keeps a UTS namespace of its own).
      return { networkMode: 'host', netns: ctx.options.hostNetns ?? null, ownsNetns: false, netnsOf: null, ...(req.hostname === undefined ? { hostname: hostname() } : {}) };
    case 'container':
      return { networkMode: 'container', netns: placement.donor.netns, ownsNetns: false, netnsOf: placement.donor.id, hostname: placement.donor.hostname };
  }
}

/** Allocates a container's addresses on its first network (aliases checked against the names there). */
function endpointOn(ctx: EngineContext, net: NetworkRecord, req: RunRequest, id: string): Endpoint {
  // Only with aliases: reading every name of the network costs O(containers) per run.
  if (req.aliases?.length) checkAliases(namesOn(ctx, net.id), net.name, req.aliases);
  const subnet = parseSubnet(net.subnet);
  const book = addressBookOf(ctx, net);
  const ip = req.ip !== undefined ? reserveAddress(subnet, net.gateway, book, req.ip, net.name) : allocateAddress(subnet, net.gateway, book, { start: net.rangeStart, end: net.rangeEnd });
  const { ip6, ip6Offset } = address6On(ctx, net, req.ip6);
  const { port, segment, steps } = portOn(ctx, net, id);
  return { networkId: net.id, ip, ip6, ip6Offset, port, segment, segmentSteps: steps, mac: req.cni?.mac ?? (req.mac !== undefined ? validateMac(req.mac) : containerMac(ip)) };
}

/** A first network's interface: a veth into the bridge its placement picks (making a segment when new), or a macvlan. */
function portOn(ctx: EngineContext, net: NetworkRecord, id: string): { port: Attachment['port']; segment: number; steps: Step[] } {
  if (!isBridgeNetwork(net)) return { port: { kind: 'macvlan', parent: net.parent }, segment: 0, steps: [] };
  const place = placePort(ctx, net);
  return { port: { kind: 'bridge', hostVeth: hostVethName(id), bridge: place.bridge }, segment: place.segment, steps: place.steps };
}

/**
 * Applies an attach plan. What a reboot or another tool removed is noticed when the plan meets it,
 * so the usual path looks nothing up first: when the plan failed (and was rolled back) because the
 * network's bridge is gone, the network is made again; because ctnet's table is gone (`nft flush
 * ruleset`), the table. Either renders the table from state (this container's record included), and
 * the plan is applied once more without its elements; each part is repaired at most once.
 */
function applyRepairing(ctx: EngineContext, net: NetworkRecord | undefined, plan: Step[], stepsBefore: number): void {
  const bridged = net && isBridgeNetwork(net) ? net : undefined;
  const repaired = new Set<'bridge' | 'table'>();
  let steps = plan;
  for (;;) {
    try {
      ctx.apply(steps, stepsBefore);
      return;
    } catch (err) {
      if (bridged && err instanceof NotFoundError && !repaired.has('bridge') && !ctx.kernel().rtnl().findLink(bridged.bridge)) {
        repaired.add('bridge');
        ensureNetworkPresent(ctx, bridged);
      } else if (err instanceof NftError && !repaired.has('table') && !ctnetTableExists(ctx)) {
        repaired.add('table');
        restoreFirewall(ctx);
      } else {
        throw err;
      }
      steps = plan.filter((s) => s.do.op !== 'nft' && s.do.op !== 'nft.elements');
    }
  }
}

/** An alias must not be another container's name or alias on the same network (the DNS would answer for both). */
function checkAliases(owners: Map<string, string>, network: string, aliases: readonly string[]): void {
  for (const alias of aliases.map((a) => a.toLowerCase())) {
    const owner = owners.get(alias);
    if (owner) throw new ConflictError(`--network-alias ${alias} is already a name of container ${owner} on network ${network}; pick another alias`);
  }
}

/** CNI ipam.routes as route steps' targets: each via its gw or the network's gateway of its family. */
function extraRoutesOf(net: NetworkRecord, routes: readonly { dst: string; gw?: string }[]): { dst: string; prefix: number; via: string }[] {
  return routes.map((r) => {
    const [dst, prefix] = r.dst.split('/');
    const via = r.gw ?? (isIPv6(dst) ? net.gateway6 : net.gateway);
    if (!via) throw new InvalidArgumentError(`route to ${r.dst}: network ${net.name} has no IPv6 gateway; give the route a gw`);
    return { dst, prefix: Number(prefix), via };
  });
}

function attachmentOf(net: NetworkRecord, netns: string, ownsNetns: boolean, ifname: string, e: Endpoint, ports: PortRecord[]) {
  const routed = !net.internal && net.defaultRoute;
  return {
    netns, ownsNetns, ifname, port: e.port, mtu: net.mtu,
    ip: e.ip, prefix: parseSubnet(net.subnet).prefix,
    gateway: routed ? net.gateway : undefined, ports: toMappings(ports, e.ip),
    ip6: e.ip6 && net.subnet6
      ? { ip: e.ip6, prefix: parseSubnet6(net.subnet6).prefix, gateway: routed ? net.gateway6 ?? undefined : undefined, ports: toMappings(ports, e.ip6, 'ip6') }
      : undefined,
  };
}
