import { IP_FORWARD, IPV6_FORWARD, planRemoveNetwork } from '../plan/network-plan.js';
import { isBridgeNetwork, type NetworkRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { bridgeTableShape, firewallScriptFrom } from './firewall-state.js';
import { segmentElements, segmentsPresent } from './segments.js';
import { segmentLinks } from '../names.js';

/** Meta keys holding forwarding as it was before ctnet's first network (of each family), restored after its last. */
export const FORWARD_BEFORE = 'host.ip_forward.before';
export const FORWARD6_BEFORE = 'host.ipv6_forwarding.before';

/**
 * Takes a network that is marked `removing` out of the kernel (firewall without it, its bridge,
 * forwarding as it was when it was the last of its family), then out of the state. Repeatable: a
 * removal killed part-way is finished by running it again. Returns what failed (best effort).
 */
export function tearDownNetwork(ctx: EngineContext, net: NetworkRecord): Error[] {
  // A macvlan network made nothing in the host namespace: its containers' interfaces went with them.
  if (!isBridgeNetwork(net)) {
    ctx.store.transaction(() => ctx.store.deleteNetwork(net.id));
    return [];
  }
  const left = ctx.store.listNetworks().filter(isBridgeNetwork); // without this one: it is marked removing
  const lastOfFamily = [
    [FORWARD_BEFORE, IP_FORWARD, left.length === 0],
    [FORWARD6_BEFORE, IPV6_FORWARD, net.subnet6 !== null && !left.some((n) => n.subnet6)],
  ] as const;
  const restore: { key: string; value: string }[] = [];
  for (const [meta, key, last] of lastOfFamily) {
    const value = last ? ctx.store.getMeta(meta) : undefined;
    if (value !== undefined) restore.push({ key, value });
  }
  const present = segmentsPresent(ctx, net.id);
  const segments = present.map((k) => segmentLinks(net.id, k));
  // Segments, emptied ones included, made the bridge table's chains and have their trunks'
  // elements there (unless a later render, gc's, left out an emptied one's: missing is fine).
  const now = bridgeTableShape(ctx.store);
  const before = { table: true, hooks: now.hooks || !net.icc || segments.length > 0 };
  const trunks = now.table ? present.flatMap((k) => segmentElements(net, k, [])) : [];
  const errors = ctx.applyBestEffort(planRemoveNetwork(net.bridge, firewallScriptFrom(ctx.store, before, now), trunks, restore, net.overlay?.device, segments));
  ctx.store.transaction(() => {
    for (const [meta, , last] of lastOfFamily) if (last) ctx.store.setMeta(meta, undefined);
    ctx.store.deleteNetwork(net.id);
  });
  return errors;
}
