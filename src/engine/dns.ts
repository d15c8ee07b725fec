import { exists } from '../kernel/files.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStartTime, isAlive } from '../kernel/proc.js';
import { startSupervised } from '../kernel/supervise.js';
import { withNetns } from '../kernel/netns.js';
import type { NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';

/**
 * The embedded DNS (src/dns): one ctnet-dns process per host and state root, under ctnet's supervisor,
 * started when a user-defined network exists and it is not running; it follows the state on its
 * own and exits when the last user-defined network goes.
 */
const DNS_BUNDLE = fileURLToPath(new URL('../cli/ctnet-dns.mjs', import.meta.url));

/** Docker's rule: the default bridge network has no embedded DNS; every other network of ctnet's has. */
export const hasEmbeddedDns = (net: Pick<NetworkRecord, 'dns'>): boolean => net.dns;

/** The host's resolvers as `ip netns exec` would give them to a process in the host namespace. */
export function hostResolvConf(ctx: EngineContext): string {
  const named = ctx.options.hostNetns && !ctx.options.hostNetns.startsWith('/') ? join('/etc/netns', ctx.options.hostNetns, 'resolv.conf') : null;
  return named && exists(named) ? named : '/etc/resolv.conf';
}

export function dnsRunning(ctx: EngineContext): boolean {
  const pid = Number(ctx.store.getMeta('dns_pid'));
  return pid > 0 && isAlive(pid, ctx.store.getMeta('dns_start') ?? null);
}

/** Starts ctnet-dns in the host namespace unless it runs or no network needs it. Call under the host lock. */
export function ensureDns(ctx: EngineContext): void {
  if (ctx.dryRun || !ctx.store.listNetworks().some(hasEmbeddedDns) || dnsRunning(ctx)) return;
  const pid = withNetns(ctx.host, () => startSupervised('ctnet-dns', [process.execPath, DNS_BUNDLE, ctx.root, hostResolvConf(ctx)], join(ctx.root, 'dns.log')));
  if (!pid) return;
  ctx.store.transaction(() => {
    ctx.store.setMeta('dns_pid', String(pid));
    ctx.store.setMeta('dns_start', processStartTime(pid));
  });
}

/** Every name a network's DNS already answers: its containers' names and aliases, first and connected. */
export function namesOn(ctx: EngineContext, networkId: string): Map<string, string> {
  const owners = new Map<string, string>();
  for (const e of ctx.store.endpointsOn(networkId)) for (const n of [e.containerName, ...e.aliases]) owners.set(n.toLowerCase(), e.containerName);
  return owners;
}
