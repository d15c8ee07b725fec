import { EngineContext } from '../engine/context.js';
import { ClusterAgent } from '../engine/cluster-agent.js';
import { createInterface } from 'node:readline';
import { CLUSTER_API_METHODS, ClusterStore, type ClusterConfig } from '../store/cluster.js';
import { CtnetError } from '../errors.js';

async function serveClusterCalls(config: ClusterConfig): Promise<void> {
  const store = await ClusterStore.connect(config);
  const methods: readonly string[] = CLUSTER_API_METHODS;
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const { id, method, args } = JSON.parse(line) as { id: number; method: string; args: unknown[] };
      const answer = (reply: object): void => void process.stdout.write(`${JSON.stringify({ id, ...reply })}\n`);
      if (!methods.includes(method)) return answer({ error: { message: `unknown cluster call ${method}` } });
      const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      fn.apply(store, args).then(
        (result) => answer({ result: result ?? null }),
        (err: Error) => answer({ error: { code: err instanceof CtnetError ? err.code : undefined, message: err.message } }),
      );
    })
    .on('close', () => { store.close(); process.exit(0); });
}

/**
 * ctnet-cluster: the host's cluster agent, started by ctnet inside the host namespace (under its
 * supervisor). argv: STATE_ROOT. Exits when the host leaves the cluster or its state is gone.
 */
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
// `--rpc CONFIG`: serve a command's calls to the cluster store from this namespace (see engine/cluster-client.ts).
if (process.argv[2] === '--rpc') {
  await serveClusterCalls(JSON.parse(process.argv[3]) as ClusterConfig);
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
