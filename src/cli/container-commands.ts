import { Command, InvalidArgumentError as CommanderArgError, Option } from 'commander';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { ago, json, table } from './output.js';
import { warn, withEngine } from './engine-scope.js';
import type { ContainerListing } from '../engine/views.js';
import type { RunRequest } from '../engine/containers.js';
import type { Diagnosis } from '../doctor/doctor.js';
import { terminalProgress } from './progress.js';
import { eachName } from './each-name.js';
import { applyFilters, labelMatches, type Matchers } from './filters.js';
import { inspectOutput, renderFormat, type Columns } from './format.js';
import { foregroundStreams } from './terminal.js';
import { keyValues, type ChangeFlags, type JsonFlag } from './flags.js';
import { ConflictError, InvalidArgumentError as UsageError, NotFoundError } from '../errors.js';
import { parseEnvFile } from '../engine/validate.js';
import { parseNetworkFlag } from '../engine/network-mode.js';
import { parseSignal } from '../sandbox/options.js';
import { writeOut } from './stdio.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new CommanderArgError('expected a whole number of seconds.');
  return Number(value);
}

/** Waits for a child and returns its exit code the way a shell reports it (128 + signal number). */
function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] ?? 0 : 0)));
  });
}

/**
 * While a foreground container runs, signals sent to ctnet go to its PID 1 (Ctrl-C stops the
 * container, not ctnet). PID 1 ignores signals it has no handler for, as in Docker, so a second
 * Ctrl-C kills it.
 */
async function waitForeground(child: ChildProcess, send: (sig: NodeJS.Signals) => void): Promise<number> {
  let interrupts = 0;
  const forward = (sig: NodeJS.Signals) => () => send(sig === 'SIGINT' && ++interrupts > 1 ? 'SIGKILL' : sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    return await exitCodeOf(child);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

function doctorText(d: Diagnosis): string {
  const lines = [`doctor: ${d.container} -> ${d.target}`];
  for (const c of d.checks) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.layer.padEnd(16)} ${c.detail}`);
    if (c.fix) lines.push(`        fix: ${c.fix}`);
  }
  if (!d.failed) lines.push('  every layer works');
  return lines.join('\n') + '\n';
}

function portsText(c: ContainerListing): string {
  return c.NetworkSettings.Ports.map((p) => `${p.HostIp}:${p.HostPort}->${p.ContainerPort}/${p.Protocol}`).join(', ');
}

function statusText(c: ContainerListing): string {
  if (c.State.Running) return `Up ${ago(c.State.StartedAt)}`;
  if (c.State.Status === 'created') return 'Created';
  const code = c.State.ExitCode === null ? '' : ` (${c.State.ExitCode}${c.State.OOMKilled ? ', OOM killed' : ''})`;
  return `Exited${code}${c.State.FinishedAt ? ` ${ago(c.State.FinishedAt)} ago` : ''}`;
}

/** `run`'s flags as commander gives them (repeatable ones default to []). */
interface RunFlags extends ChangeFlags {
  detach?: boolean; tty?: boolean; interactive?: boolean; rm?: boolean; name?: string; network: string[]; ip?: string;
  publish: string[]; expose: string[]; publishAll?: boolean; net: string[]; netAlias: string[]; hostname?: string; env: string[]; envFile: string[]; workdir?: string; readOnly?: boolean; ulimit: string[]; shmSize?: string; label: string[]; cidfile?: string; stopSignal?: string; stopTimeout?: string; device: string[]; groupAdd: string[]; restart?: string; networkAlias: string[]; pid?: string; ipc?: string; uts?: string; domainname?: string;
  rootfs?: string; volume: string[]; mount: string[]; tmpfs: string[]; user?: string; memory?: string; cpus?: string; pidsLimit?: string; init?: boolean; cpuShares?: string; cpusetCpus?: string; cpusetMems?: string; cpuPeriod?: string; cpuQuota?: string; oomKillDisable?: boolean; dnsOpt: string[]; memoryReservation?: string; memorySwap?: string;
  capAdd: string[]; capDrop: string[]; privileged?: boolean; securityOpt: string[];
  addHost: string[]; dns: string[]; dnsSearch: string[]; dnsOption: string[]; sysctl: string[]; macAddress?: string; ip6?: string;
  ingressRate?: string; ingressBurst?: string; egressRate?: string; egressBurst?: string;
}

/**
 * --cidfile, checked before anything starts as Docker checks it: a file there may be a running
 * container's, and the directory must take the file.
 */
function checkCidFile(path: string): void {
  if (existsSync(path)) throw new ConflictError(`--cidfile ${path} exists: the container written there may still run; remove the file first`);
  if (!statSync(dirname(path), { throwIfNoEntry: false })?.isDirectory()) throw new NotFoundError(`--cidfile ${path}: ${dirname(path)} is not a directory; create it first`);
}

/** An --env-file's variables, as -e entries. */
function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NotFoundError(`--env-file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err}); give an existing file`);
  }
  return parseEnvFile(text, path);
}

/**
 * --network, as often as given (Docker 25): the first network with --ip, --ip6, --mac-address and
 * --network-alias or its own fields (name=NET,ip=...), then the others, each with its fields.
 */
function networksOf(o: RunFlags): Pick<RunRequest, 'network' | 'ip' | 'ip6' | 'mac' | 'aliases' | 'moreNetworks'> {
  const [first, ...more] = [...o.network, ...o.net].map(parseNetworkFlag);
  const both = (flag: string, key: string, a: string | undefined, b: string | undefined): string | undefined => {
    if (a !== undefined && b !== undefined) throw new UsageError(`${flag} and --network ${key}= both give the first network's; give one`);
    return a ?? b;
  };
  for (const m of more) if (m.mac !== undefined) throw new UsageError(`--network ${m.network}: mac-address= is the first network's only (a further network's interface takes its MAC from its address); leave it out`);
  return {
    network: first?.network, ip: both('--ip', 'ip', o.ip, first?.ip), ip6: both('--ip6', 'ip6', o.ip6, first?.ip6), mac: both('--mac-address', 'mac-address', o.macAddress, first?.mac),
    aliases: [...(first?.aliases ?? []), ...o.networkAlias, ...o.netAlias],
    moreNetworks: more.map((m) => ({ network: m.network, ip: m.ip, ip6: m.ip6, aliases: m.aliases })),
  };
}

/** The engine's request for those flags: the one place CLI names meet the library's. */
function runRequest(command: string[], o: RunFlags): RunRequest {
  return {
    command, name: o.name, ...networksOf(o), publish: o.publish, expose: o.expose, publishAll: o.publishAll, hostname: o.hostname,
    env: [...o.envFile.flatMap(readEnvFile), ...o.env], detach: o.detach, autoRemove: o.rm, restart: o.restart, labels: keyValues(o.label, '--label', false),
    netOptions: {
      addHosts: o.addHost, dns: o.dns, dnsSearch: o.dnsSearch, dnsOptions: [...o.dnsOption, ...o.dnsOpt], sysctls: o.sysctl,
      bandwidth: { ingressRate: o.ingressRate, ingressBurst: o.ingressBurst, egressRate: o.egressRate, egressBurst: o.egressBurst },
    },
    sandbox: {
      rootfs: o.rootfs, volumes: o.volume, mounts: o.mount, tmpfs: o.tmpfs, workdir: o.workdir, readOnly: o.readOnly, ulimits: o.ulimit, shmSize: o.shmSize, stopSignal: o.stopSignal, stopTimeout: o.stopTimeout, devices: o.device, groupAdd: o.groupAdd, user: o.user, memory: o.memory, cpus: o.cpus, pidsLimit: o.pidsLimit, init: o.init,
      pid: o.pid, ipc: o.ipc, uts: o.uts, domainname: o.domainname,
      cpuShares: o.cpuShares, cpusetCpus: o.cpusetCpus, cpusetMems: o.cpusetMems, cpuPeriod: o.cpuPeriod, cpuQuota: o.cpuQuota, oomKillDisable: o.oomKillDisable, memoryReservation: o.memoryReservation, memorySwap: o.memorySwap,
      security: { privileged: o.privileged, capAdd: o.capAdd, capDrop: o.capDrop, securityOpt: o.securityOpt },
    },
  };
}

/** `run` and its flags (long: it is the list of the flags, one line each, as Docker has them). */
function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a command as a container: its own network, PID, mount, IPC and UTS namespaces, an address on a bridge, NAT, published ports and cgroup limits')
    .argument('<command...>', 'command and arguments (put them after --)')
    .option('-d, --detach', 'run in the background and print the container ID')
    .option('-t, --tty', 'give the container a pseudo-terminal of its own (relayed to yours)')
    .option('-i, --interactive', 'pass your standard input to the container (without it, a terminal is not handed over)')
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'container name (default: a generated one)')
    .option('--network <name>', "network to attach to (default: bridge, created on first use), or none (loopback only), host (the host's network), container:NAME (another container's network); again for more networks, connected before the command runs; name=NET,ip=IP,ip6=IP,alias=NAME,mac-address=MAC gives one's settings (repeatable)", collect, [])
    .option('--ip <address>', 'IPv4 address on the network (default: the next free one)')
    .option('--ip6 <address>', 'IPv6 address on a dual-stack network (default: the next free one)')
    .option('--mac-address <mac>', "the container interface's MAC address (default: 02:42 and its IPv4 address)")
    .option('--add-host <NAME:IP>', 'add a line to /etc/hosts; IP may be host-gateway, the address the host answers on (repeatable)', collect, [])
    .option('--dns <ip>', 'name server for the container (with embedded DNS: where it forwards the container\'s other names) (repeatable)', collect, [])
    .option('--dns-search <domain>', 'search domain in /etc/resolv.conf (. for none) (repeatable)', collect, [])
    .option('--dns-option <option>', 'option line entry in /etc/resolv.conf, e.g. ndots:2 (repeatable)', collect, [])
    .option('--sysctl <KEY=VALUE>', "set a net.* sysctl in the container's network namespace (repeatable)", collect, [])
    .option('--ingress-rate <rate>', 'limit what the container receives, in bits per second: 50mbit, 50M, 500k (shaped on the host side)')
    .option('--ingress-burst <bytes>', 'how much may arrive at once above --ingress-rate, e.g. 64k (default: 20 ms worth, at least 32k)')
    .option('--egress-rate <rate>', 'limit what the container sends, in bits per second: 50mbit, 50M, 500k (shaped on the host side)')
    .option('--egress-burst <bytes>', 'how much may leave at once above --egress-rate, e.g. 64k (default: 20 ms worth, at least 32k)')
    .option('-p, --publish <spec>', 'publish ports: [HOSTIP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|/udp|/sctp] (repeatable)', collect, [])
    .option('--expose <port>', 'a container port (or range, /udp, /sctp) that -P publishes (repeatable)', collect, [])
    .option('-P, --publish-all', 'publish every --expose port on a free host port (see ctnet port NAME)')
    .option('--hostname <name>', 'hostname inside the container (default: the container name)')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file: KEY=VALUE lines, KEY alone for your value, # comments; -e wins (repeatable)', collect, [])
    .option('-w, --workdir <dir>', "where the command starts in the container, made when missing (default: your directory, / with --rootfs)")
    .option('--stop-signal <signal>', 'what stop sends first: TERM (default), INT, QUIT, HUP, USR1 or USR2')
    .option('--stop-timeout <seconds>', 'how long stop waits before SIGKILL when not given -t (default 10)')
    .option('--cidfile <file>', "write the container's ID to this file (refused when it exists)")
    .option('--restart <policy>', 'restart a -d container: on-failure[:N] when it exits non-zero, always or unless-stopped whatever its exit until stopped (not after a reboot: no daemon), waiting 0.1 s, doubled each time up to 1 min (default no)')
    .option('-l, --label <KEY=VALUE>', 'a label to find the container by (ps --filter label=KEY or KEY=VALUE) (repeatable)', collect, [])
    .option('--network-alias <name>', "another name for the container in the network's embedded DNS (repeatable)", collect, [])
    // Docker's older spellings, still in many scripts.
    .addOption(new Option('--net <name>', 'the same as --network').argParser(collect).default([]).hideHelp())
    .addOption(new Option('--net-alias <name>', 'the same as --network-alias').argParser(collect).default([]).hideHelp())
    .addOption(new Option('--dns-opt <option>', 'the same as --dns-option').argParser(collect).default([]).hideHelp())
    .option('--rootfs <dir>', "a directory to use as the container's root (default: the host's root, read-only)")
    .option('-v, --volume <HOSTPATH:PATH[:ro]>', "bind mount a host path into the container, read-only with :ro (repeatable; Docker's z, Z, rprivate, consistent, cached and delegated are accepted and change nothing here)", collect, [])
    .option('--mount <spec>', 'a mount as Docker spells it: type=bind,source=HOSTPATH,target=PATH[,readonly] or type=tmpfs,target=PATH[,tmpfs-size=64m][,tmpfs-mode=1770] (repeatable)', collect, [])
    .option('--read-only', "make the container's root read-only (the host's root always is); volumes and --tmpfs stay writable")
    .option('--tmpfs <path[:options]>', 'an empty tmpfs at this path, writable unless :ro, e.g. --tmpfs /tmp or --tmpfs /tmp:size=64m,noexec (repeatable)', collect, [])
    .option('-u, --user <UID[:GID]>', 'run the command as this user (a number or a name from the container\'s /etc/passwd)')
    .option('--ulimit <NAME=SOFT[:HARD]>', 'a resource limit of the container\'s processes, e.g. nofile=65536:65536 or memlock=-1 (-1: unlimited; repeatable)', collect, [])
    .option('--shm-size <size>', "the size of the container's /dev/shm, e.g. 1g (default: the tmpfs default, half of memory, counted against --memory)")
    .option('--group-add <group>', "a supplementary group of the command, a gid or a name in the container's /etc/group (repeatable)", collect, [])
    .option('-m, --memory <size>', 'memory limit, e.g. 64m or 1g; the OOM killer ends the container beyond it')
    .option('--memory-swap <size>', 'memory and swap together, at least --memory (-1: unlimited swap)')
    .option('--oom-kill-disable', 'at its --memory limit the container waits for memory instead of being killed (cgroup v1)')
    .option('--memory-reservation <size>', 'a soft memory limit: what the kernel reclaims from last when memory is short')
    .option('--cpu-shares <n>', 'a relative CPU weight against other containers, 2 to 262144 (default 1024)')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5 for half a CPU')
    .option('--cpu-period <us>', 'the CFS period in microseconds, 1000 to 1000000 (default 100000), for --cpu-quota')
    .option('--cpu-quota <us>', 'CPU microseconds the container may use in each period (-1: no limit); --cpus is this with the default period')
    .option('--cpuset-cpus <list>', 'the CPUs the container may run on, e.g. 0-1,3')
    .option('--cpuset-mems <list>', 'the memory nodes (NUMA) it may allocate from, e.g. 0')
    .option('--pids-limit <n>', 'most processes and threads the container may have')
    .option('--init', 'run a small init as PID 1 that reaps zombies and passes signals on (the command is its child)')
    .option('--pid <mode>', "host: the host's PID namespace, whose processes the container sees; container:NAME a running container's (default: its own)")
    .option('--ipc <mode>', "host: the host's IPC namespace and /dev/shm; container:NAME a shareable container's; shareable: its own, which others may join; none: its own without /dev/shm (default: private, its own)")
    .option('--domainname <name>', "the container's domain name (NIS); its addresses are called by hostname.domainname in /etc/hosts")
    .option('--uts <mode>', "host: the host's UTS namespace and hostname (default: its own)")
    .option('--device <HOST[:PATH][:PERMS]>', "a host device in the container's /dev, allowed in its device cgroup (PERMS: of rwm, default rwm), e.g. --device /dev/net/tun (repeatable)", collect, [])
    .option('--cap-add <cap>', 'give the container a capability beyond the default set, e.g. NET_ADMIN, or ALL (repeatable)', collect, [])
    .option('--cap-drop <cap>', 'take a capability of the default set away, e.g. NET_RAW, or ALL (repeatable)', collect, [])
    .option('--privileged', "every capability, no seccomp filter, no masked paths, the host's devices (as docker run --privileged)")
    .option('--security-opt <opt>', 'no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json (Docker\'s format) (repeatable)', collect, [])
    .option('--explain', 'print the equivalent ip/nft/sysctl commands as they run')
    .option('--dry-run', 'print the commands and change nothing')
    .passThroughOptions()
    .action(async (command: string[], o: RunFlags) => {
      await withEngine(o, async (e) => {
        if (o.tty && o.detach) throw new UsageError('-t with -d is not supported: a detached container has no terminal to relay to; drop -t or -d');
        if (o.cidfile !== undefined) checkCidFile(o.cidfile);
        for (const n of [...o.network, ...o.net]) await e.prepareNetwork(parseNetworkFlag(n).network);
        // Written once the container exists, as Docker writes it at create.
        const recordId = (id: string): void => {
          if (o.cidfile !== undefined) writeFileSync(o.cidfile, id, { flag: 'wx' });
        };
        if (o.detach) {
          const { container, child } = e.run(runRequest(command, o));
          if (!child) return;
          recordId(container.id);
          await e.started(child, { blocking: true });
          return void writeOut(`${container.id}\n`);
        }
        // Made only here: the caller's terminal (process.stdin) is not a detached container's.
        const streams = foregroundStreams(o.tty === true, o.interactive === true);
        const { container, child } = e.run({ ...runRequest(command, o), stdio: streams.stdio });
        if (!child) return;
        recordId(container.id);
        streams.attach();
        const code = await waitForeground(child.handle as ChildProcess, (sig) => e.signal(container.id, sig));
        await streams.detach();
        e.exited(container.id, code);
        process.exitCode = code;
      });
    });
}

const STATES = ['created', 'running', 'exited'];

/** `ps --filter`: Docker's keys that mean something for ctnet's containers. */
const PS_FILTERS: Matchers<ContainerListing> = {
  id: (c, v) => c.Id.startsWith(v),
  name: (c, v) => c.Name.includes(v),
  network: (c, v) => c.NetworkSettings.Networks.some((n) => n.Network === v),
  label: (c, v) => labelMatches(c.Config.Labels, v),
  status: (c, v) => {
    if (!STATES.includes(v)) throw new UsageError(`--filter status=${v}: a status is one of ${STATES.join(', ')}`);
    return c.State.Status === v;
  },
};

/** `ps --format` fields, as Docker names them. */
const PS_COLUMNS: Columns<ContainerListing> = {
  ID: { header: 'CONTAINER ID', text: (c) => c.Id.slice(0, 12) },
  Names: { header: 'NAMES', text: (c) => c.Name },
  Command: { header: 'COMMAND', text: (c) => JSON.stringify(c.Config.Cmd.join(' ')) },
  CreatedAt: { header: 'CREATED AT', text: (c) => c.Created },
  RunningFor: { header: 'CREATED', text: (c) => `${ago(c.Created)} ago` },
  Ports: { header: 'PORTS', text: portsText },
  State: { header: 'STATE', text: (c) => c.State.Status },
  Status: { header: 'STATUS', text: statusText },
  Networks: { header: 'NETWORKS', text: (c) => c.NetworkSettings.Networks.map((n) => n.Network).join(',') },
  IPAddress: { header: 'IP', text: (c) => c.NetworkSettings.IPAddress ?? '' },
  // Docker's: KEY=VALUE, comma-separated.
  Labels: { header: 'LABELS', text: (c) => Object.entries(c.Config.Labels).map(([k, v]) => `${k}=${v}`).join(',') },
};

function registerPs(program: Command): void {
  program
    .command('ps')
    .description('List containers (running ones; -a for all)')
    .option('-a, --all', 'show exited containers too')
    .option('-q, --quiet', 'print container IDs only')
    .option('--no-trunc', 'print whole IDs')
    .option('-f, --filter <KEY=VALUE>', 'only containers that match: id, name (a part of it), network, label (KEY or KEY=VALUE), status (created, running, exited) (repeatable)', collect, [])
    .option('--format <format>', "json (a JSON object per line), table TEMPLATE, or a template such as '{{.Names}} {{.Networks}}'")
    .option('--json', 'print JSON (one array of inspect objects)')
    .action(async (o: { all?: boolean; quiet?: boolean; trunc: boolean; filter: string[]; format?: string } & JsonFlag) => {
      await withEngine({}, (e) => {
        // As Docker: a status filter looks at every container, running or not.
        const all = o.all === true || o.filter.some((f) => f.startsWith('status='));
        // Whole views for --json only: the other outputs need a narrower read (at 10,000 containers, ps ~350 -> ~250 ms).
        if (o.json) return void writeOut(json(applyFilters(e.listContainers(all), o.filter, PS_FILTERS, 'ps can')));
        const list = applyFilters(e.listContainerListings(all), o.filter, PS_FILTERS, 'ps can');
        const id = (c: ContainerListing): string => (o.trunc ? c.Id.slice(0, 12) : c.Id);
        if (o.quiet) return void writeOut(list.map((c) => `${id(c)}\n`).join(''));
        if (o.format !== undefined) return void writeOut(renderFormat(o.format, list, { ...PS_COLUMNS, ID: { header: 'CONTAINER ID', text: id } }, 'containers'));
        writeOut(
          table(
            ['CONTAINER ID', 'NAME', 'NETWORK', 'IP', 'PORTS', 'STATUS', 'COMMAND'],
            list.map((c) => [id(c), c.Name, c.NetworkSettings.Network, c.NetworkSettings.IPAddress ?? '', portsText(c), statusText(c), JSON.stringify(c.Config.Cmd.join(' '))]),
          ),
        );
      });
    });
}

function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('Show containers: ID, state, PID, network namespace, addresses and ports (one object; an array for several names)')
    .argument('<names...>', 'container names or IDs')
    .option('--json', 'print JSON (the default output is JSON too)')
    .option('-f, --format <template>', "a Go template per container, e.g. '{{.NetworkSettings.IPAddress}}', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' or '{{index .Config.Labels \"app\"}}' (also if, else, with, len)")
    .action(async (names: string[], o: { format?: string }) => {
      await withEngine({}, async (e) => {
        const found = await eachName(names, (n) => e.inspect(n));
        writeOut(inspectOutput(found, names.length, o.format));
      });
    });
}

function registerPort(program: Command): void {
  program
    .command('port')
    .description('List the published ports of a container')
    .argument('<name>', 'container name or ID')
    .option('--json', 'print JSON')
    .action(async (name: string, o: JsonFlag) => {
      await withEngine({}, (e) => {
        const ports = e.inspect(name).NetworkSettings.Ports;
        if (o.json) return void writeOut(json(ports));
        for (const p of ports) writeOut(`${p.ContainerPort}/${p.Protocol} -> ${p.HostIp}:${p.HostPort}\n`);
      });
    });
}

function registerExec(program: Command): void {
  program
    .command('exec')
    .description("Run a command inside a running container's namespaces")
    .argument('<name>', 'container name or ID')
    .argument('<command...>', 'command and arguments (put them after --)')
    .passThroughOptions()
    .action(async (name: string, command: string[]) => {
      // Options pass through after the name, so the `--` separator arrives as the first word.
      const argv = command[0] === '--' ? command.slice(1) : command;
      await withEngine({}, async (e) => {
        const child = e.exec(name, argv);
        process.exitCode = await waitForeground(child, (sig) => child.kill(sig));
      });
    });
}

function registerWait(program: Command): void {
  program
    .command('wait')
    .description('Wait until containers exit and print their exit codes')
    .argument('<names...>', 'container names or IDs')
    .action(async (names: string[]) => {
      await withEngine({}, async (e) => {
        for (const n of names) writeOut(`${(await e.wait(n)) ?? 'unknown'}\n`);
      });
    });
}

function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('Print the output of a detached (-d) container')
    .argument('<name>', 'container name or ID')
    .option('-f, --follow', 'go on printing what it writes until it ends (restarts included)')
    .option('-n, --tail <lines>', 'only its last lines: a number, or all', 'all')
    .action(async (name: string, o: { follow?: boolean; tail: string }) => {
      if (o.tail !== 'all' && !/^\d+$/.test(o.tail)) throw new UsageError(`--tail ${o.tail} is not a number of lines or all, e.g. --tail 20`);
      await withEngine({}, async (e) => {
        const log = e.logs(name);
        writeOut(o.tail === 'all' ? log : lastLines(log, Number(o.tail)));
        if (o.follow) await e.followLogs(name, log.length, writeOut);
      });
    });
}

/** The last `n` lines of a log (its last line counted whether or not a newline ends it). */
export function lastLines(log: Buffer, n: number): Buffer {
  if (n === 0) return log.subarray(0, 0);
  let start = log.length - (log.at(-1) === 0x0a ? 1 : 0);
  for (let i = 0; i < n; i++) {
    // A negative offset would search from the end again.
    const nl = start > 0 ? log.lastIndexOf(0x0a, start - 1) : -1;
    if (nl < 0) return log;
    start = nl;
  }
  return log.subarray(start + 1);
}

function registerStop(program: Command): void {
  program
    .command('stop')
    .description("Stop containers: SIGTERM (or the container's --stop-signal), then SIGKILL after --time seconds; their network is removed")
    .argument('<names...>', 'container names or IDs')
    .option('-t, --time <seconds>', "seconds to wait before SIGKILL (default: the container's --stop-timeout, or 10)", seconds)
    .option('--explain', 'print the equivalent commands as they run')
    .action(async (names: string[], o: { time?: number } & ChangeFlags) => {
      await withEngine(o, async (e) => {
        await eachName(names, async (n) => {
          await e.stop(n, o.time);
          writeOut(`${n}\n`);
        });
      });
    });
}

function registerKill(program: Command): void {
  program
    .command('kill')
    .description("Send containers' commands a signal at once: SIGKILL, or --signal; KILL and the container's stop signal end it without a restart, others leave its restart policy")
    .argument('<names...>', 'container names or IDs')
    .option('-s, --signal <signal>', 'the signal, by name or number (default KILL)', 'KILL')
    .action(async (names: string[], o: { signal: string }) => {
      const signal = parseSignal(o.signal);
      await withEngine({}, async (e) => {
        await eachName(names, async (n) => {
          await e.kill(n, signal);
          writeOut(`${n}\n`);
        });
      });
    });
}

function registerRm(program: Command): void {
  program
    .command('rm')
    .description('Remove containers and everything ctnet made for them')
    .argument('<names...>', 'container names or IDs')
    .option('-f, --force', 'kill running containers first')
    .option('--explain', 'print the equivalent commands as they run')
    .action(async (names: string[], o: { force?: boolean } & ChangeFlags) => {
      await withEngine(o, async (e) => {
        await eachName(names, async (n) => {
          await e.remove([n], o.force === true);
          writeOut(`${n}\n`);
        });
      });
    });
}

function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Walk the layers of a container\'s network (namespace, loopback, interface, route, bridge, gateway, forwarding, NAT, a live probe) and name the first broken one with its fix')
    .argument('[name]', 'container name or ID (default: every running container)')
    .option('--to <address[:port]>', 'probe this target from inside the container (default: the gateway)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: { to?: string } & JsonFlag) => {
      await withEngine({}, (e) => {
        const names = name ? [name] : e.listContainerListings().map((c) => c.Name);
        // Text goes out container by container: every running container of a big host takes a while.
        const results = names.map((n) => {
          const d = e.doctor(n, o.to);
          if (!o.json) writeOut(doctorText(d));
          return d;
        });
        if (o.json) writeOut(json(name ? results[0] : results));
        if (results.some((d) => d.failed)) process.exitCode = 1;
      });
    });
}

function registerTopology(program: Command): void {
  program
    .command('topology')
    .description('Draw what exists now: the host, bridges with their gateways, veth pairs, containers, published ports and NAT rules (svg: laid out with ELK)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'dot', 'svg']).default('text'))
    .option('--json', 'the same as --format json')
    .action(async (o: { format: 'text' | 'json' | 'dot' | 'svg' } & JsonFlag) => {
      const { topologyText, topologyDot } = await import('../topology/render.js');
      await withEngine({}, async (e) => {
        const t = e.topology();
        const format = o.json ? 'json' : o.format;
        if (format === 'svg') return void writeOut((await (await import('../topology/svg.js')).topologySvg(t)).svg);
        writeOut(format === 'json' ? json(t) : format === 'dot' ? topologyDot(t) : topologyText(t));
      });
    });
}

function registerGc(program: Command): void {
  program
    .command('gc')
    .description('Remove what exited or vanished containers left behind and repair the firewall from state')
    .option('--explain', 'print the equivalent commands as they run')
    .option('--json', 'print what was done as JSON')
    .action(async (o: ChangeFlags & JsonFlag) => {
      const progress = terminalProgress();
      await withEngine({ ...o, progress: progress.report }, (e) => {
        const report = e.gc();
        progress.finish();
        if (o.json) return void writeOut(json({ actions: report.actions, errors: report.errors.map((x) => x.message) }));
        for (const a of report.actions) writeOut(`${a}\n`);
        warn(report.errors);
      });
    });
}

/** The container commands by name, as `ctnet --help` lists them. */
export const CONTAINER_COMMANDS: Record<string, (program: Command) => void> = {
  run: registerRun, ps: registerPs, inspect: registerInspect, port: registerPort, exec: registerExec, wait: registerWait,
  logs: registerLogs, stop: registerStop, kill: registerKill, rm: registerRm, doctor: registerDoctor, topology: registerTopology, gc: registerGc,
};
