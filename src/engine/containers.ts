import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, KernelError, NotFoundError } from '../errors.js';
import { allocateAddress, reserveAddress } from '../ipam/allocator.js';
import { parseSubnet } from '../ipam/ipv4.js';
import { EPHEMERAL_PORTS, parsePublish, portsCollide, type PortRequest } from '../ipam/ports.js';
import { openNetns, closeNetns, netnsPath } from '../kernel/netns.js';
import { isAlive, processStartTime } from '../kernel/proc.js';
import { DEFAULT_PATH, resolveCommand, spawnInNamespaces } from '../kernel/spawn.js';
import { CONTAINER_IFNAME, DEFAULT_NETWORK, containerNetnsName, hostVethName } from '../names.js';
import { planAttach } from '../plan/container-plan.js';
import type { Step } from '../plan/ops.js';
import type { ContainerRecord, NetworkRecord, PortRecord, Store } from '../store/store.js';
import type { EngineContext } from './context.js';
import { generateName } from './container-names.js';
import { toMappings } from './firewall-state.js';
import { ctnetTableExists, networkForRun, restoreFirewall } from './networks.js';
import { reconcileContainers } from './reconcile.js';
import { detachContainer, markExited, removeLogs } from './teardown.js';
import { parseEnv, validateHostname, validateName } from './validate.js';

/** Set when a runtime attaches its own namespace through CNI. */
export interface CniTarget {
  containerId: string;
  netnsPath: string;
  ifname: string;
  mac?: string;
}

export interface RunRequest {
  command: string[];
  cni?: CniTarget;
  name?: string;
  network?: string;
  ip?: string;
  publish?: string[];
  hostname?: string;
  env?: string[];
  detach?: boolean;
  autoRemove?: boolean;
}

export interface Started {
  container: ContainerRecord;
  /** undefined after --dry-run. */
  child?: ChildProcess;
}

let ownStart: string | null | undefined;
/** This process's start time, read once: it marks records whose setup this process is doing. */
const ownStartTime = (): string | null => (ownStart === undefined ? (ownStart = processStartTime(process.pid) ?? null) : ownStart);

function containerEnv(c: Pick<ContainerRecord, 'hostname' | 'env'>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH || DEFAULT_PATH, HOSTNAME: c.hostname, HOME: '/root' };
  if (process.env.TERM) env.TERM = process.env.TERM;
  return { ...env, ...parseEnv(c.env) };
}

/**
 * Host ports for each request: given ones checked against the publications on the same protocol and
 * port (an indexed look-up, whatever the number of published ports), missing ones picked from the
 * ephemeral range.
 */
function allocatePorts(store: Store, requests: readonly PortRequest[], containerId: string): PortRecord[] {
  const out: PortRecord[] = [];
  const mine = new Map<string, PortRecord[]>();
  const key = (protocol: string, port: number): string => `${protocol}/${port}`;
  const clashWith = (wanted: Omit<PortRecord, 'containerId' | 'containerPort'>): PortRecord | undefined =>
    [...store.portsAt(wanted.protocol, wanted.hostPort), ...(mine.get(key(wanted.protocol, wanted.hostPort)) ?? [])].find((t) => portsCollide(t, wanted));
  for (const r of requests) {
    let hostPort = r.hostPort;
    if (hostPort === null) {
      const range = r.hostRange ?? EPHEMERAL_PORTS;
      const used = store.hostPortsIn(r.protocol, range.first, range.last);
      for (const o of out) if (o.protocol === r.protocol) used.add(o.hostPort);
      for (let p = range.first; hostPort === null && p <= range.last; p++) if (!used.has(p)) hostPort = p;
      if (hostPort === null) {
        throw new ConflictError(`no free host port is left in ${r.hostRange ? `${range.first}-${range.last}` : 'the ephemeral range'}/${r.protocol}; give other host ports`);
      }
    }
    const clash = clashWith({ ...r, hostPort });
    if (clash) {
      const owner = clash.containerId === containerId ? 'this container' : store.getContainer(clash.containerId)?.name ?? 'another container';
      throw new ConflictError(`host port ${clash.hostIp ?? '0.0.0.0'}:${hostPort}/${r.protocol} is already published by ${owner}; pick another host port`);
    }
    const rec: PortRecord = { containerId, protocol: r.protocol, hostIp: r.hostIp, hostPort, containerPort: r.containerPort };
    out.push(rec);
    mine.set(key(rec.protocol, hostPort), [...(mine.get(key(rec.protocol, hostPort)) ?? []), rec]);
  }
  return out;
}

function checkHostAddresses(ctx: EngineContext, requests: readonly PortRequest[]): void {
  const wanted = requests.filter((r) => r.hostIp !== null);
  if (!wanted.length) return;
  const local = new Set(ctx.kernel().rtnl().listAddresses().map((a) => a.address));
  for (const r of wanted) {
    if (!local.has(r.hostIp as string)) {
      throw new InvalidArgumentError(`host address ${r.hostIp} in -p is not an address of the host; use one of ${[...local].join(', ')} or leave it out`);
    }
  }
}

function validateRun(req: RunRequest): { ports: PortRequest[]; hostname: string | undefined } {
  if (!req.command.length) throw new InvalidArgumentError('ctnet run needs a command after --, e.g.: ctnet run -- sleep 60');
  if (req.name !== undefined) validateName('container', req.name);
  const hostname = req.hostname !== undefined ? validateHostname(req.hostname) : undefined;
  parseEnv(req.env ?? []);
  const ports = (req.publish ?? []).flatMap(parsePublish);
  resolveCommand(req.command[0], containerEnv({ hostname: 'x', env: req.env ?? [] }).PATH);
  return { ports, hostname };
}

function startProcess(ctx: EngineContext, c: ContainerRecord): ChildProcess {
  let logFd: number | undefined;
  if (c.logPath) {
    mkdirSync(join(ctx.root, 'containers', c.id), { recursive: true });
    logFd = openSync(c.logPath, 'a');
  }
  const netns = openNetns(netnsPath(c.netns as string));
  try {
    return spawnInNamespaces({
      netns,
      uts: { hostname: c.hostname },
      command: c.command,
      env: containerEnv(c),
      stdio: logFd === undefined ? 'inherit' : ['ignore', logFd, logFd],
      detached: c.detached,
    });
  } finally {
    closeNetns(netns);
    if (logFd !== undefined) closeSync(logFd);
  }
}

/** What `attach` needs: a network endpoint without a process (the engine API; CNI ADD). */
export type AttachRequest = Omit<RunRequest, 'command' | 'detach' | 'autoRemove' | 'env'>;

/**
 * `ctnet run`: validates everything first, then (under the host lock) records the container with
 * its address and host ports, builds its network, and starts its process inside it. Any failure
 * undoes what was done, kernel and state.
 */
export function runContainer(ctx: EngineContext, req: RunRequest): Started {
  const { ports, hostname } = validateRun(req);
  return setUp(ctx, req, ports, hostname, (record) => {
    const child = startProcess(ctx, record);
    if (req.detach) child.unref();
    return child;
  });
}

/** A network-only container: namespace, veth, address, routes and ports, no process (until removed). */
export function attachContainer(ctx: EngineContext, req: AttachRequest): ContainerRecord {
  if (req.name !== undefined) validateName('container', req.name);
  const hostname = req.hostname !== undefined ? validateHostname(req.hostname) : undefined;
  const ports = (req.publish ?? []).flatMap(parsePublish);
  return setUp(ctx, { ...req, command: [] }, ports, hostname, () => undefined).container;
}

/** A runtime's namespace attached through CNI: ports come as the runtime's portMappings. */
export function attachCni(ctx: EngineContext, req: AttachRequest & { cni: CniTarget }, ports: PortRequest[]): ContainerRecord {
  return setUp(ctx, { ...req, command: [] }, ports, req.hostname, () => undefined).container;
}

function setUp(ctx: EngineContext, req: RunRequest, portRequests: PortRequest[], hostname: string | undefined, start: (c: ContainerRecord) => ChildProcess | undefined): Started {
  ctx.requireChangeRights();
  return ctx.locked(() => {
    if (!ctx.dryRun) reconcileContainers(ctx);
    const net = networkForRun(ctx, req.network ?? DEFAULT_NETWORK.name);
    if (net.internal && portRequests.length) {
      throw new InvalidArgumentError(`network ${net.name} is internal and cannot be reached from outside; drop -p or use another network`);
    }
    checkHostAddresses(ctx, portRequests);
    const id = randomBytes(32).toString('hex');
    const build = (): { record: ContainerRecord; ports: PortRecord[] } => {
      const store = ctx.store;
      const cni = req.cni;
      if (cni && store.findCniAttachment(net.id, cni.containerId, cni.ifname)) {
        throw new ConflictError(`container ${cni.containerId.slice(0, 12)} already has ${cni.ifname} on network ${net.name}; DEL it first`);
      }
      const name = req.name ?? (cni ? `cni-${cni.containerId.slice(0, 12)}-${cni.ifname}` : generateName((n) => store.findContainer(n) !== undefined));
      const existing = store.findContainer(name);
      if (existing && existing.name === name) {
        throw new ConflictError(`container name ${name} is already in use by ${existing.id.slice(0, 12)}; pick another --name or remove it with: ctnet rm -f ${name}`);
      }
      const subnet = parseSubnet(net.subnet);
      const book = store.addressBook(net.id);
      const range = { start: net.rangeStart, end: net.rangeEnd };
      const ip = req.ip !== undefined ? reserveAddress(subnet, net.gateway, book, req.ip, net.name) : allocateAddress(subnet, net.gateway, book, range);
      const record: ContainerRecord = {
        id, name, networkId: net.id, ip, hostVeth: hostVethName(id), netns: cni ? cni.netnsPath : containerNetnsName(id),
        ifname: cni?.ifname ?? CONTAINER_IFNAME, ownsNetns: !cni, cniContainerId: cni?.containerId ?? null,
        hostname: hostname ?? name.replace(/_/g, '-').slice(0, 63), command: req.command, env: req.env ?? [],
        portSpecs: portRequests, detached: req.detach === true, autoRemove: req.autoRemove === true,
        state: 'created', pid: process.pid, pidStart: ownStartTime(), exitCode: null,
        logPath: req.detach ? join(ctx.root, 'containers', id, 'output.log') : null,
        createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
      };
      store.insertContainer(record);
      const ports = allocatePorts(store, portRequests, id);
      for (const p of ports) store.insertPort(p);
      return { record, ports };
    };
    const steps = (record: ContainerRecord, ports: PortRecord[]) => planAttach({ ...attachmentOf(net, record, ports), mac: req.cni?.mac });
    const explainStart = (c: ContainerRecord): void => {
      if (c.command.length) ctx.explain(`ip netns exec ${c.netns} unshare --uts sh -c 'hostname ${c.hostname}; exec ${c.command.join(' ')}'`);
    };

    if (ctx.dryRun) {
      const container = ctx.transact(() => {
        const { record, ports } = build();
        return { steps: steps(record, ports), result: record };
      });
      explainStart(container);
      return { container };
    }

    // Committed before the kernel changes, so a crash part-way leaves a 'created' record that reconcile undoes.
    const { record, ports } = ctx.store.transaction(build);
    try {
      const plan = steps(record, ports);
      applyRepairingFirewall(ctx, plan);
      ctx.faultAfter(plan, record.command.length ? `starting ${record.command[0]}` : 'finishing');
      const child = start(record);
      explainStart(record);
      // A network-only container has no process: pid stays null and reconcile leaves it alone.
      const pid = child?.pid ?? null;
      const started = { state: 'running' as const, pid, pidStart: pid ? processStartTime(pid) ?? null : null, startedAt: new Date().toISOString() };
      ctx.store.transaction(() => ctx.store.updateContainer(id, started));
      return { container: { ...record, ...started }, child };
    } catch (err) {
      detachContainer(ctx, record);
      ctx.store.transaction(() => ctx.store.deleteContainer(id));
      removeLogs(record);
      throw err;
    }
  });
}

/**
 * Applies an attach plan; when it failed (and was rolled back) because ctnet's table is gone, as after
 * `nft flush ruleset`, renders the table from state (this container's record included) and applies
 * the plan once more.
 */
function applyRepairingFirewall(ctx: EngineContext, plan: Step[]): void {
  try {
    ctx.apply(plan);
  } catch (err) {
    if (!(err instanceof KernelError) || !/nftables/.test(err.message) || ctnetTableExists(ctx)) throw err;
    restoreFirewall(ctx);
    ctx.apply(plan.filter((s) => s.do.op !== 'nft'));
  }
}

function attachmentOf(net: NetworkRecord, c: ContainerRecord, ports: PortRecord[]) {
  return {
    netns: c.netns as string, ownsNetns: c.ownsNetns, ifname: c.ifname, hostVeth: c.hostVeth as string, bridge: net.bridge, mtu: net.mtu,
    ip: c.ip as string, prefix: parseSubnet(net.subnet).prefix,
    gateway: net.internal || !net.defaultRoute ? undefined : net.gateway, ports: toMappings(ports, c.ip as string),
  };
}

/** Called when a foreground container's process ends. */
export function containerExited(ctx: EngineContext, id: string, exitCode: number): void {
  ctx.locked(() => markExited(ctx, id, exitCode));
}

export function findContainer(ctx: EngineContext, nameOrId: string): ContainerRecord {
  const c = ctx.store.findContainer(nameOrId);
  if (!c) throw new NotFoundError(`container ${nameOrId} does not exist; list containers with ctnet ps -a`);
  return c;
}

/** A container's state as the kernel sees it now (a process may have ended since the state was written). */
export function liveState(c: ContainerRecord): ContainerRecord['state'] {
  return c.state === 'running' && c.pid !== null && !isAlive(c.pid, c.pidStart) ? 'exited' : c.state;
}

function signalContainer(c: ContainerRecord, signal: NodeJS.Signals): void {
  if (!c.pid) return;
  try {
    // A detached container leads its own process group: signal all of it.
    process.kill(c.detached ? -c.pid : c.pid, signal);
  } catch {
    // already gone
  }
}

async function waitGone(c: ContainerRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(c.pid, c.pidStart)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Ends a container's process: SIGTERM, then SIGKILL after `timeoutSeconds`. */
async function terminate(c: ContainerRecord, timeoutSeconds: number): Promise<void> {
  if (!isAlive(c.pid, c.pidStart)) return;
  signalContainer(c, timeoutSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
  if (await waitGone(c, timeoutSeconds * 1000)) return;
  signalContainer(c, 'SIGKILL');
  await waitGone(c, 5000);
}

export async function stopContainer(ctx: EngineContext, nameOrId: string, timeoutSeconds = 10): Promise<ContainerRecord> {
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw new InvalidArgumentError(`--time ${timeoutSeconds} is not a number of seconds >= 0`);
  ctx.requireChangeRights();
  const c = findContainer(ctx, nameOrId);
  if (c.state !== 'running') return c;
  if (c.pid === null) throw new ConflictError(noProcess(c));
  await terminate(c, timeoutSeconds);
  ctx.locked(() => markExited(ctx, c.id, null));
  return c;
}

/** Why a network-only container (CNI or the engine's attach) has nothing to stop or exec into. */
function noProcess(c: ContainerRecord): string {
  const owner = c.cniContainerId ? `a runtime's (CNI) attachment; DEL it through the runtime` : `a network-only container; remove it with ctnet rm ${c.name}`;
  return `container ${c.name} has no process of ctnet's: it is ${owner}, or enter it with nsenter --net=${netnsPath(c.netns ?? '')}`;
}

/** Removes containers; running ones only with `force`. All names are checked before anything is removed. */
export async function removeContainers(ctx: EngineContext, names: readonly string[], force: boolean): Promise<ContainerRecord[]> {
  ctx.requireChangeRights();
  const targets = names.map((n) => findContainer(ctx, n));
  for (const c of targets) {
    if (liveState(c) === 'running' && !force) {
      throw new ConflictError(`container ${c.name} is running; stop it first with ctnet stop ${c.name}, or use ctnet rm -f ${c.name}`);
    }
  }
  for (const c of targets) {
    await terminate(c, 0);
    ctx.locked(() => {
      const current = ctx.store.getContainer(c.id);
      if (!current) return;
      detachContainer(ctx, current);
      ctx.store.transaction(() => ctx.store.deleteContainer(c.id));
      removeLogs(current);
    });
  }
  return targets;
}

/** Removes a network-only container (made by attach): its network pieces and its record. Repeatable. */
export function detachNetworkOnly(ctx: EngineContext, nameOrId: string): void {
  ctx.requireChangeRights();
  ctx.locked(() => {
    const c = findContainer(ctx, nameOrId);
    if (c.pid !== null && liveState(c) === 'running') {
      throw new ConflictError(`container ${c.name} has a running process; remove it with ctnet rm -f ${c.name}`);
    }
    detachContainer(ctx, c);
    ctx.store.transaction(() => ctx.store.deleteContainer(c.id));
    removeLogs(c);
  });
}

/** Starts a command inside a running container's namespaces; returns its process. */
export function execInContainer(ctx: EngineContext, nameOrId: string, command: string[]): ChildProcess {
  if (!command.length) throw new InvalidArgumentError('ctnet exec needs a command after the container name, e.g.: ctnet exec web -- ip addr');
  ctx.requireChangeRights();
  const c = findContainer(ctx, nameOrId);
  if (liveState(c) !== 'running' || !c.netns) throw new ConflictError(`container ${c.name} is not running; start a new one with ctnet run`);
  if (c.pid === null) throw new ConflictError(noProcess(c));
  const env = containerEnv(c);
  resolveCommand(command[0], env.PATH);
  const netns = openNetns(netnsPath(c.netns));
  try {
    return spawnInNamespaces({ netns, uts: { path: `/proc/${c.pid}/ns/uts` }, command, env, stdio: 'inherit', detached: false });
  } finally {
    closeNetns(netns);
  }
}

export function containerLogs(ctx: EngineContext, nameOrId: string): string {
  const c = findContainer(ctx, nameOrId);
  if (!c.logPath) return '';
  try {
    return readFileSync(c.logPath, 'utf8');
  } catch {
    return '';
  }
}
