import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import { DnsServer, parseResolvConf } from './server.js';
import { ReaderThread, serveAsReader } from './reader.js';
import { StateFollower } from './state.js';

/**
 * ctnet-dns: the host's one embedded DNS process, started by ctnet inside the host namespace.
 * argv: STATE_ROOT RESOLV_CONF. It follows the state (5 times a second) and exits once no
 * user-defined network is left. On a host with more than one CPU a second thread reads the same
 * UDP sockets (reader.ts); it runs this file too.
 */
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);

if (!isMainThread && (workerData as { ctnetDnsReader?: string } | null)?.ctnetDnsReader) serveAsReader((workerData as { ctnetDnsReader: string }).ctnetDnsReader, log);
else serve(process.argv[2], process.argv[3]);

function serve(root: string, resolvConf: string): void {
  const upstreams = (): string[] => {
    try {
      return parseResolvConf(readFileSync(resolvConf, 'utf8'));
    } catch {
      return [];
    }
  };
  const state = new StateFollower(root);
  /** The networks were read again since the listeners were last set (a change of containers alone leaves them). */
  let dirty = false;
  /** Brings the name table up to date if someone committed since. */
  const reload = (): void => {
    const networks = state.networks;
    state.reload(server);
    if (state.networks !== networks) dirty = true;
  };
  const server: DnsServer = new DnsServer(upstreams, log, () => {
    try {
      reload();
    } catch (err) {
      log(`reading the state: ${(err as Error).message}`);
    }
  });
  const reader = availableParallelism() > 1 ? new ReaderThread(new URL(import.meta.url), root, server, log) : undefined;
  let busy = false;

  const follow = async (): Promise<void> => {
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
      if (!state.networks.length) {
        log('no user-defined network left; exiting');
        server.close();
        state.close();
        process.exit(0);
      }
      await server.setNetworks(state.networks);
      reader?.sync();
    } catch (err) {
      log(`reading the state: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };

  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { server.close(); process.exit(0); });
  log(`ctnet-dns started for ${root}; upstream resolvers from ${resolvConf}`);
  reader?.start();
  void follow();
  setInterval(() => void follow(), 200);
}
