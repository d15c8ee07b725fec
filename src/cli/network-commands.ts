import { keyValues, type ChangeFlags, type JsonFlag } from './flags.js';
import { InvalidArgumentError } from '../errors.js';
import { Command, InvalidArgumentError as CommanderArgError } from 'commander';
import { eachName } from './each-name.js';
import { applyFilters, filterPredicate, labelMatches, untilTime, type Matchers } from './filters.js';
import { inspectOutput, renderFormat, type Columns } from './format.js';
import type { NetworkListing } from '../engine/views.js';
import type { NetworkRecord } from '../store/store.js';
import { BRIDGE_OPTIONS } from '../engine/network-options.js';
import { json, table } from './output.js';
import { warn, withEngine } from './engine-scope.js';
import { isIPv6 } from '../addr/family.js';
import { stderrStream, writeOut } from './stdio.js';

function bool(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new CommanderArgError('expected true or false.');
  return value === 'true';
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new CommanderArgError('expected a whole number.');
  return Number(value);
}

/** --subnet given once per family: the IPv4 one, and with --ipv6 the IPv6 one (without an IPv4 one ctnet picks it). */
function subnetsOf(subnets: string[], ipv6: boolean): { subnet?: string; subnet6?: string } {
  const v6 = subnets.filter(isIPv6);
  const v4 = subnets.filter((s) => !isIPv6(s));
  if (v4.length > 1 || v6.length > 1) throw new InvalidArgumentError('give --subnet at most once per address family (one IPv4, one IPv6)');
  if (v6.length && !ipv6) throw new InvalidArgumentError(`--subnet ${v6[0]} is IPv6; add --ipv6 to make the network dual stack`);
  if (ipv6 && !v6.length) throw new InvalidArgumentError('--ipv6 needs an IPv6 --subnet, e.g. --subnet fd00:db8::/64');
  return { subnet: v4[0], subnet6: v6[0] };
}

function registerFirewall(program: Command): void {
  program
    .command('firewall')
    .description("Manage ctnet's nftables table")
    .command('reload')
    .description("Restore ctnet's nftables table from state (after nft flush ruleset or a firewalld reload); other tables are left alone")
    .option('--explain', 'print the nft script as it runs')
    .option('--dry-run', 'print the nft script and change nothing')
    .action(async (o: ChangeFlags) => {
      await withEngine(o, (e) => e.reloadFirewall());
    });
}

const collect = (v: string, p: string[]): string[] => [...p, v];

interface CreateFlags extends ChangeFlags {
  subnet: string[]; ipv6?: boolean; gateway?: string; bridge?: string; internal?: boolean; mtu?: number; ipMasq?: boolean;
  ipRange?: string; auxAddress: string[]; label: string[]; opt: string[]; driver?: string;
}

function registerNetworkCreate(network: Command): void {
  network
    .command('create')
    .description('Create a network: a bridge with the gateway address, forwarding and masquerade for its subnet')
    .argument('<name>', 'network name')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 172.20.0.0/16 (default: a free private /16 or /24); with --ipv6 also an IPv6 one, e.g. fd00:db8::/64', collect, [])
    .option('--ipv6', 'dual stack: containers also get an IPv6 address of the IPv6 --subnet, a default route, masquerade and published ports')
    .option('--gateway <ip>', 'gateway address on the bridge (default: first address of the subnet)')
    .option('--bridge <ifname>', 'bridge interface name, at most 15 characters (default: br-<id>)')
    .option('--internal', 'no way out: no masquerade, no forwarding to other interfaces, no published ports')
    .option('--mtu <n>', 'MTU of the bridge and the containers\' interfaces', integer)
    .option('--ip-masq <bool>', 'masquerade the subnet on its way out; false is routed mode: containers keep their addresses (default true)', bool)
    .option('--ip-range <cidr>', 'hand out addresses from this part of the subnet only, e.g. 172.20.5.0/24')
    .option('--aux-address <NAME=IP>', 'an address of the subnet never handed out, e.g. router=172.20.0.254 (repeatable)', collect, [])
    .option('--label <KEY=VALUE>', 'a label to find the network by (network ls --filter label=KEY) (repeatable)', collect, [])
    .option('-o, --opt <KEY=VALUE>', `Docker's bridge options: ${Object.values(BRIDGE_OPTIONS).join(', ')}; macvlan's: parent, macvlan_mode=bridge (repeatable)`, collect, [])
    .option('-d, --driver <driver>', "bridge (the default); macvlan: containers on a host interface's segment (-o parent=IF) with MACs and addresses of their own; overlay: one network across the hosts of a cluster (ctnet cluster join; -o block=PREFIX, default 24)")
    .option('--explain', 'print the equivalent ip/nft/sysctl commands as they run')
    .option('--dry-run', 'print the commands and change nothing')
    .action(async (name: string, o: CreateFlags) => {
      await withEngine(o, async (e) => {
        const req = {
          name, ...subnetsOf(o.subnet, o.ipv6 === true), gateway: o.gateway, bridge: o.bridge, internal: o.internal, mtu: o.mtu, ipMasq: o.ipMasq,
          ipRange: o.ipRange, auxAddresses: keyValues(o.auxAddress, '--aux-address', true), labels: keyValues(o.label, '--label', false), options: keyValues(o.opt, '-o', true),
          driver: o.driver,
        };
        if (o.driver === 'overlay' && o.dryRun) throw new InvalidArgumentError('--dry-run is not available for -d overlay: the network is recorded in the cluster store first');
        const n = o.driver === 'overlay' ? await e.createOverlayNetwork(req) : e.createNetwork(req);
        if (!o.dryRun) writeOut(`${n.Id}\n`);
      });
    });
}

/** `network ls --filter`: Docker's keys that mean something for ctnet's networks. */
const NETWORK_FILTERS: Matchers<NetworkListing> = {
  id: (n, v) => n.Id.startsWith(v),
  name: (n, v) => n.Name.includes(v),
  driver: (n, v) => n.Driver === v,
  label: (n, v) => labelMatches(n.Labels, v),
  dangling: (n, v) => {
    if (v !== 'true' && v !== 'false') throw new InvalidArgumentError(`--filter dangling=${v}: use dangling=true or dangling=false`);
    return (n.ContainerCount === 0) === (v === 'true');
  },
};

/** `network ls --format` fields, as Docker names them (and ctnet's Subnet, Gateway, Bridge). */
const NETWORK_COLUMNS: Columns<NetworkListing> = {
  ID: { header: 'NETWORK ID', text: (n) => n.Id.slice(0, 12) },
  Name: { header: 'NAME', text: (n) => n.Name },
  Driver: { header: 'DRIVER', text: (n) => n.Driver },
  Scope: { header: 'SCOPE', text: (n) => (n.Overlay ? 'global' : 'local') },
  IPv6: { header: 'IPV6', text: (n) => String(n.IPv6Subnet !== null) },
  Internal: { header: 'INTERNAL', text: (n) => String(n.Internal) },
  CreatedAt: { header: 'CREATED AT', text: (n) => n.Created },
  Subnet: { header: 'SUBNET', text: (n) => n.Subnet },
  Gateway: { header: 'GATEWAY', text: (n) => n.Gateway },
  Bridge: { header: 'BRIDGE', text: (n) => n.Bridge ?? '' },
  Parent: { header: 'PARENT', text: (n) => n.Parent ?? '' },
  Labels: { header: 'LABELS', text: (n) => Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(',') },
};

function registerNetworkLs(network: Command): void {
  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'print network IDs only')
    .option('--no-trunc', 'print whole IDs')
    .option('-f, --filter <KEY=VALUE>', 'only networks that match: id, name (a part of it), driver, label (KEY or KEY=VALUE), dangling (true: no containers) (repeatable)', collect, [])
    .option('--format <format>', "json (a JSON object per line), table TEMPLATE, or a template such as '{{.Name}} {{.Driver}}'")
    .option('--json', 'print JSON (one array of inspect objects)')
    .action(async (o: { quiet?: boolean; trunc: boolean; filter: string[]; format?: string } & JsonFlag) => {
      await withEngine({}, (e) => {
        if (o.json) {
          // Whole views, their containers listed: only here (10,000 containers took `network ls` ~50 ms to read).
          const views = e.listNetworks();
          const shown = new Set(applyFilters(views.map((v) => ({ ...v, ContainerCount: v.Containers.length })), o.filter, NETWORK_FILTERS, 'network ls can').map((n) => n.Id));
          return void writeOut(json(views.filter((v) => shown.has(v.Id))));
        }
        const nets = applyFilters(e.listNetworkListings(), o.filter, NETWORK_FILTERS, 'network ls can');
        const id = (n: NetworkListing): string => (o.trunc ? n.Id.slice(0, 12) : n.Id);
        if (o.quiet) return void writeOut(nets.map((n) => `${id(n)}\n`).join(''));
        if (o.format !== undefined) return void writeOut(renderFormat(o.format, nets, { ...NETWORK_COLUMNS, ID: { header: 'NETWORK ID', text: id } }, 'networks'));
        writeOut(
          table(
            ['NETWORK ID', 'NAME', 'SUBNET', 'GATEWAY', 'BRIDGE', 'CONTAINERS', 'INTERNAL'],
            nets.map((n) => [id(n), n.Name, n.Subnet, n.Gateway, n.Bridge ?? `macvlan@${n.Parent}`, String(n.ContainerCount), n.Internal ? 'yes' : 'no']),
          ),
        );
      });
    });
}

function registerNetworkInspect(network: Command): void {
  network
    .command('inspect')
    .description('Show networks and the containers on them (one object; an array for several names)')
    .argument('<names...>', 'network names or IDs')
    .option('--json', 'print JSON (the default output is JSON too)')
    .option('-f, --format <template>', "a Go template per network, e.g. '{{.Subnet}} {{.Gateway}}' or '{{range .Containers}}{{.Name}} {{end}}'")
    .action(async (names: string[], o: { format?: string }) => {
      await withEngine({}, async (e) => {
        const found = await eachName(names, (n) => e.inspectNetwork(n));
        writeOut(inspectOutput(found, names.length, o.format));
      });
    });
}

function registerNetworkRm(network: Command): void {
  network
    .command('rm')
    .alias('remove')
    .description('Remove networks: their nftables entries and their bridges (refused while containers are attached)')
    .argument('<names...>', 'network names or IDs')
    .option('-f, --force', 'a network that does not exist is not an error (as Docker)')
    .option('--explain', 'print the equivalent commands as they run')
    .option('--dry-run', 'print the commands and change nothing')
    .action(async (names: string[], o: { force?: boolean } & ChangeFlags) => {
      await withEngine(o, async (e) => {
        await eachName(names, async (name) => {
          if (o.force && !e.hasNetwork(name)) return;
          warn(o.dryRun ? e.removeNetwork(name) : await e.removeAnyNetwork(name));
          if (!o.dryRun) writeOut(`${name}\n`);
        });
      });
    });
}

/** `network prune --filter`: Docker's keys. */
const PRUNE_FILTERS: Matchers<Pick<NetworkRecord, 'createdAt' | 'labels'>> = {
  until: (n, v) => Date.parse(n.createdAt) < untilTime(v),
  label: (n, v) => labelMatches(n.labels, v),
  'label!': (n, v) => !labelMatches(n.labels, v),
};

function registerNetworkPrune(network: Command): void {
  network
    .command('prune')
    .description('Remove every network no container uses (the default network stays)')
    .option('-f, --force', 'do not ask for confirmation (needed when standard input is not a terminal)')
    .option('--filter <KEY=VALUE>', 'only networks that match: until (created before: 24h, a date or a Unix timestamp), label=KEY[=VALUE], label!=KEY[=VALUE] (repeatable)', collect, [])
    .option('--explain', 'print the equivalent commands as they run')
    .action(async (o: { force?: boolean; filter: string[] } & ChangeFlags) => {
      const only = filterPredicate(o.filter, PRUNE_FILTERS, 'network prune can');
      // A wrong time is refused before the question, also when no network would be looked at.
      for (const f of o.filter) if (f.startsWith('until=')) untilTime(f.slice('until='.length));
      if (!o.force && !(await confirmed('WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] '))) return;
      await withEngine(o, (e) => {
        const { removed, warnings } = e.pruneNetworks(only);
        warn(warnings);
        if (removed.length) writeOut(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`);
      });
    });
}

/** Docker's prune prompt; without a terminal to ask on, the command is refused (scripts pass -f). */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new InvalidArgumentError('network prune asks for confirmation and standard input is not a terminal; add -f to prune without asking');
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: stderrStream() });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function registerNetworkConnect(network: Command): void {
  network
    .command('connect')
    .description('Connect a running container to one more network: another interface (eth1, ...) with an address, and its names in that network\'s DNS')
    .argument('<network>', 'network name or ID')
    .argument('<container>', 'container name or ID')
    .option('--ip <address>', 'IPv4 address on the network (default: the next free one)')
    .option('--ip6 <address>', 'IPv6 address on a dual-stack network (default: the next free one)')
    .option('--alias <name>', "another name for the container in this network's DNS (repeatable)", collect, [])
    .option('--explain', 'print the equivalent commands as they run')
    .option('--dry-run', 'print the commands and change nothing')
    .action(async (network: string, container: string, o: { ip?: string; ip6?: string; alias: string[] } & ChangeFlags) => {
      await withEngine(o, async (e) => {
        await e.prepareNetwork(network);
        const a = e.connect({ network, container, ip: o.ip, ip6: o.ip6, aliases: o.alias });
        if (!o.dryRun) writeOut(`${a.Interface} ${a.IPAddress}\n`);
      });
    });
}

function registerNetworkDisconnect(network: Command): void {
  network
    .command('disconnect')
    .description('Disconnect a container from a network that network connect added; the interface and its address go')
    .argument('<network>', 'network name or ID')
    .argument('<container>', 'container name or ID')
    .option('-f, --force', "accepted for Docker's scripts: a disconnect never waits on the container")
    .option('--explain', 'print the equivalent commands as they run')
    .action(async (network: string, container: string, o: ChangeFlags) => {
      await withEngine(o, (e) => e.disconnect(network, container));
    });
}

function registerNetwork(program: Command): void {
  const network = program.command('network').description('Manage networks (a bridge, a subnet and its NAT)');
  for (const register of [registerNetworkCreate, registerNetworkLs, registerNetworkInspect, registerNetworkRm, registerNetworkPrune, registerNetworkConnect, registerNetworkDisconnect]) register(network);
}

/** The network commands by name, as `ctnet --help` lists them. */
export const NETWORK_COMMANDS: Record<string, (program: Command) => void> = { firewall: registerFirewall, network: registerNetwork };
