import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterUnreachableError, errorFromCode, type CtnetError } from '../errors.js';
import { connectRpcSocket, RpcChild, type RpcCaller } from '../kernel/rpc.js';
import { CLUSTER_API_METHODS, ClusterStore, type ClusterApi, type ClusterConfig } from '../store/cluster.js';
import type { EngineContext } from './context.js';

export const CLUSTER_BUNDLE = fileURLToPath(new URL('../cli/ctnet-cluster.mjs', import.meta.url));

const AGENT_HELLO_MS = 1000;
const AGENT_CALL_MS = 10_000;

/** Where the host's cluster agent answers the cluster store's calls (root only, in the state directory). */
export const agentSocket = (root: string): string => join(root, 'cluster.sock');

/**
 * The cluster store as this command reaches it: through the host's cluster agent when it runs (it
 * is connected already: a command spares loading the etcd client, ~0.15 s, and connecting); else
 * directly when ctnet runs in the host namespace, or through a helper started in it
 * (CTNET_HOST_NETNS), so etcd is always reached from the host namespace's routes and addresses,
 * never from the namespace ctnet was started in.
 */
export async function openCluster(ctx: EngineContext, config: ClusterConfig): Promise<ClusterApi> {
  const agent = await viaAgent(ctx.root, config);
  if (agent) return agent;
  if (!ctx.options.hostNetns) return ClusterStore.connect(config);
  return callsTo(config, new RpcChild(ctx.host, [process.execPath, CLUSTER_BUNDLE, '--rpc', JSON.stringify(config)]));
}

/**
 * The agent's calls, if one listens, answers at once and is in the cluster this command's
 * configuration names. Its calls to etcd have etcd's deadline (5 s) each: one not answered within
 * twice that is an agent stopped or stuck.
 */
async function viaAgent(root: string, config: ClusterConfig): Promise<ClusterApi | undefined> {
  const agent = await connectRpcSocket(agentSocket(root), AGENT_CALL_MS);
  if (!agent) return undefined;
  const theirs = await agent.call('config', [], AGENT_HELLO_MS);
  if (theirs.error || JSON.stringify(theirs.result) !== JSON.stringify(config)) {
    agent.close();
    return undefined;
  }
  return callsTo(config, agent, (message) => new ClusterUnreachableError(`the host's cluster agent did not answer (${message}); see ${join(root, 'cluster.log')} and retry`));
}

/** The cluster store's calls through `rpc`; `unanswered` makes the error of a call that got no answer (one without a code). */
function callsTo(config: ClusterConfig, rpc: RpcCaller, unanswered = (message: string): CtnetError => errorFromCode(undefined, message)): ClusterApi {
  const api: Record<string, unknown> = { config, close: () => rpc.close() };
  for (const method of CLUSTER_API_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const reply = await rpc.call(method, args);
      if (reply.error) throw reply.error.code ? errorFromCode(reply.error.code, reply.error.message) : unanswered(reply.error.message);
      return reply.result;
    };
  }
  return api as unknown as ClusterApi;
}
