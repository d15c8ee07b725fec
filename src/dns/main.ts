import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNameTable } from './records.js';
import { DnsServer, parseResolvConf } from './server.js';
import { DnsView } from '../store/dns-view.js';

/**
 * ctnet-dns: the host's one embedded DNS process, started by ctnet inside the host namespace.
 * argv: STATE_ROOT RESOLV_CONF. It follows the state (5 times a second) and exits once no
 * user-defined network is left.
 */
const [root, resolvConf] = process.argv.slice(2);
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
const upstreams = (): string[] => {
  try {
    return parseResolvConf(readFileSync(resolvConf, 'utf8'));
  } catch {
    return [];
  }
};

const state = new DnsView(root);
let networks: ReturnType<DnsView['read']>['networks'] = [];
/** The networks changed since the listeners were last set. */
let dirty = false;

/** Re-reads the state if someone committed since; the name table is replaced at once. */
function reload(): void {
  if (!state.changed()) return;
  const read = state.read();
  networks = read.networks;
  server.setTable(buildNameTable(read.networks, read.containers), new Set(read.networks.filter((n) => n.internal).map((n) => n.id)));
  dirty = true;
}

const server = new DnsServer(upstreams, log, () => {
  try {
    reload();
  } catch (err) {
    log(`reading the state: ${(err as Error).message}`);
  }
});
let busy = false;

async function follow(): Promise<void> {
  // The state root removed under it (a test's, or by hand): nothing to serve any more.
  if (!existsSync(join(root, 'ctnet.db'))) {
    log('the state is gone; exiting');
    process.exit(0);
  }
  if (busy) return;
  busy = true;
  try {
    reload();
    if (!dirty) return;
    dirty = false;
    if (!networks.length) {
      log('no user-defined network left; exiting');
      server.close();
      state.close();
      process.exit(0);
    }
    await server.setNetworks(networks);
  } catch (err) {
    log(`reading the state: ${(err as Error).message}`);
  } finally {
    busy = false;
  }
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { server.close(); process.exit(0); });
log(`ctnet-dns started for ${root}; upstream resolvers from ${resolvConf}`);
void follow();
setInterval(() => void follow(), 200);
