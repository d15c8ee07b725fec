import type { Command } from 'commander';
import { InvalidArgumentError as CommanderArgError } from 'commander';
import { withEngine } from './engine-scope.js';
import { json, table } from './output.js';
import type { JsonFlag } from './flags.js';
import { writeOut } from './stdio.js';

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new CommanderArgError('expected a whole number.');
  return Number(value);
}

interface JoinFlags {
  store?: string; name?: string; advertise?: string; ttl?: number; cacert?: string; cert?: string; key?: string;
}

/** `ctnet cluster join|leave|status`: this host in a cluster of hosts sharing an etcd, for overlay networks. */
export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('Hosts that share overlay networks through an etcd cluster');
  cluster
    .command('join')
    .description('Join this host to a cluster: record the etcd endpoints and start the cluster agent (keeps the host\'s lease, programs routes to the other hosts)')
    .option('--store <endpoints>', 'etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379,http://10.0.0.2:2379 (default: CTNET_STORE)')
    .option('--name <name>', "this host's name in the cluster (default: its hostname)")
    .option('--advertise <ip>', 'the address other hosts reach this one at, for VXLAN (default: the host\'s only IPv4 address)')
    .option('--ttl <seconds>', 'how long this host\'s entries outlive it when it stops (default 15)', integer)
    .option('--cacert <file>', 'TLS: the CA certificate etcd\'s certificate is signed by (with https:// endpoints)')
    .option('--cert <file>', 'TLS: a client certificate, when etcd asks for one')
    .option('--key <file>', 'TLS: the client certificate\'s key')
    .action(async (o: JoinFlags) => {
      await withEngine({}, async (e) => {
        const store = o.store ?? process.env.CTNET_STORE;
        if (!store) throw new CommanderArgError('give --store http://ETCD:2379 (or set CTNET_STORE)');
        const c = await e.joinCluster({
          store, name: o.name, advertise: o.advertise, ttl: o.ttl,
          ...(o.cacert ? { tls: { ca: o.cacert, ...(o.cert ? { cert: o.cert } : {}), ...(o.key ? { key: o.key } : {}) } } : {}),
        });
        writeOut(`joined as ${c.host} (${c.advertise}) through ${c.endpoints.join(',')}\n`);
      });
    });
  cluster
    .command('leave')
    .description('Leave the cluster (refused while overlay networks are here): the agent stops and the host\'s entries go from etcd')
    .action(async () => {
      await withEngine({}, (e) => e.leaveCluster());
    });
  cluster
    .command('status')
    .description('The cluster as this host sees it: hosts, overlay networks and the block each host leases')
    .option('--json', 'print JSON')
    .action(async (o: JsonFlag) => {
      await withEngine({}, async (e) => {
        const s = await e.clusterStatus();
        if (o.json) return void writeOut(json(s));
        writeOut(`this host: ${s.config.host} (${s.config.advertise}), agent ${s.agent ? 'running' : 'NOT running'}, etcd ${s.config.endpoints.join(',')}\n\n`);
        writeOut(table(['HOST', 'UNDERLAY'], s.hosts.map((h) => [h.name, h.underlay])));
        writeOut('\n');
        const rows = s.networks.flatMap((n) => (n.blocks.length ? n.blocks : [{ block: '-', host: '-' }]).map((b) => [n.name, n.subnet, String(n.vni), b.block, b.host]));
        writeOut(table(['NETWORK', 'SUBNET', 'VNI', 'BLOCK', 'HOST'], rows));
      });
    });
}
