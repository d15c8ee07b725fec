import { EngineContext } from '../engine/context.js';
import { ClusterAgent } from '../engine/cluster-agent.js';
import { agentSocket } from '../engine/cluster-client.js';
import { chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { CLUSTER_API_METHODS, ClusterStore, type ClusterApi, type ClusterConfig } from '../store/cluster.js';
import { CtnetError } from '../errors.js';
import { peerIsRoot } from '../kernel/libc.js';

/**
 * Answers calls to the cluster store as JSON lines (engine/cluster-client.ts); `config` says which
 * cluster it is. A line that is no call ends the exchange (`bad`).
 */
function answerClusterCalls(store: ClusterApi, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, bad: () => void): ReturnType<typeof createInterface> {
  const methods: readonly string[] = CLUSTER_API_METHODS;
  return createInterface({ input }).on('line', (line) => {
    let call: { id: number; method: string; args: unknown[] };
    try {
      call = JSON.parse(line) as typeof call;
      if (typeof call.method !== 'string' || !Array.isArray(call.args)) throw new Error('not a call');
    } catch {
      return bad();
    }
    const { id, method, args } = call;
    const answer = (reply: object): void => void output.write(`${JSON.stringify({ id, ...reply })}\n`);
    if (method === 'config') return answer({ result: store.config });
    if (!methods.includes(method)) return answer({ error: { message: `unknown cluster call ${method}` } });
    const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    fn.apply(store, args).then(
      (result) => answer({ result: result ?? null }),
      (err: Error) => answer({ error: { code: err instanceof CtnetError ? err.code : undefined, message: err.message } }),
    );
  });
}

/**
 * The agent's etcd connection lent to the host's commands on a unix socket only root may use (the
 * state directory's own `cluster.sock`, 0600; one agent per directory, so a file left there is
 * stale). Whoever connects is checked too (SO_PEERCRED): a socket made reachable by hand does not
 * give a local user the host's place in the cluster.
 */
function lendConnection(root: string, store: ClusterApi): void {
  const path = agentSocket(root);
  rmSync(path, { force: true });
  const server = createServer((conn) => {
    conn.on('error', () => conn.destroy());
    if (!peerIsRoot(conn)) return void conn.destroy();
    answerClusterCalls(store, conn, conn, () => conn.destroy());
  });
  server.on('error', (err) => log(`not answering commands on ${path} (${err.message}); they reach etcd themselves`));
  server.listen(path, () => chmodSync(path, 0o600));
}

/**
 * ctnet-cluster: the host's cluster agent, started by ctnet inside the host namespace (under its
 * supervisor). argv: STATE_ROOT. Exits when the host leaves the cluster or its state is gone.
 */
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
// `--rpc CONFIG`: serve a command's calls to the cluster store from this namespace (see engine/cluster-client.ts).
if (process.argv[2] === '--rpc') {
  const store = await ClusterStore.connect(JSON.parse(process.argv[3]) as ClusterConfig);
  answerClusterCalls(store, process.stdin, process.stdout, () => process.exit(2)).on('close', () => { store.close(); process.exit(0); });
  await new Promise(() => undefined); // until the command closes stdin
}
const [root] = process.argv.slice(2);
// Started from inside the host namespace: that is where it acts (no CTNET_HOST_NETNS needed).
const ctx = new EngineContext({ root, warn: (err) => log(err.message) });
let agent: ClusterAgent | undefined;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => void (agent?.stop() ?? Promise.resolve()).then(() => { log(`${sig}: lease revoked, stopping`); process.exit(0); }));
}
agent = await ClusterAgent.start(ctx, log);
if (!agent) {
  log('this host is in no cluster; nothing to do');
  process.exit(0);
}
lendConnection(root, agent.cluster);
