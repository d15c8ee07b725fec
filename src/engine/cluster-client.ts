import { fileURLToPath } from 'node:url';
import { errorFromCode } from '../errors.js';
import { RpcChild } from '../kernel/rpc-child.js';
import { CLUSTER_API_METHODS, ClusterStore, type ClusterApi, type ClusterConfig } from '../store/cluster.js';
import type { EngineContext } from './context.js';

export const CLUSTER_BUNDLE = fileURLToPath(new URL('../cli/ctnet-cluster.mjs', import.meta.url));

/**
 * The cluster store as this command reaches it: directly when ctnet runs in the host namespace,
 * else through a helper started in it (CTNET_HOST_NETNS), so etcd is always reached from the host
 * namespace's routes and addresses, never from the namespace ctnet was started in.
 */
export async function openCluster(ctx: EngineContext, config: ClusterConfig): Promise<ClusterApi> {
  if (!ctx.options.hostNetns) return ClusterStore.connect(config);
  const child = new RpcChild(ctx.host, [process.execPath, CLUSTER_BUNDLE, '--rpc', JSON.stringify(config)]);
  const api: Record<string, unknown> = { config, close: () => child.close() };
  for (const method of CLUSTER_API_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const reply = await child.call(method, args);
      if (reply.error) throw errorFromCode(reply.error.code, reply.error.message);
      return reply.result;
    };
  }
  return api as unknown as ClusterApi;
}
