import { isIPv6 } from '../addr/family.js';
import { renderSetElements } from '../firewall/ruleset.js';
import type { SetElement } from '../set-element.js';

/** The extended attribute naming the state directory (its instance ID) that made a container's cgroup. */
export const CGROUP_OWNER_XATTR = 'trusted.ctnet.owner';

/**
 * Kernel operations as data. Planners return them; one executor applies them (undoing in reverse
 * on failure); the same list renders as the equivalent shell commands for --explain and --dry-run.
 * `netns` names a container's namespace; absent means the host namespace.
 */
export type Op =
  | { op: 'netns.add'; name: string }
  | { op: 'netns.del'; name: string }
  | { op: 'bridge.add'; name: string; mtu: number; mac: string; alias?: string }
  | { op: 'veth.add'; name: string; peer: string; peerNetns: string; mtu: number; master?: string; peerMac?: string }
  /** A macvlan (bridge mode) of the host's `parent`, born inside `netns` as `name`. */
  | { op: 'macvlan.add'; name: string; parent: string; netns: string; mtu: number; mac?: string }
  /**
   * A network's segment (engine/segments.ts): a bridge with ARP off, and a veth trunk from the
   * network's bridge (`master`, its end there in hairpin mode and up) to it.
   */
  | { op: 'segment.add'; bridge: string; trunk: string; peer: string; master: string; mtu: number; mac: string; alias: string }
  | { op: 'segment.del'; bridge: string; trunk: string }
  | { op: 'link.del'; name: string; netns?: string }
  | { op: 'link.up'; name: string; netns?: string }
  | { op: 'link.down'; name: string; netns?: string }
  | { op: 'link.master'; name: string; master: string }
  | { op: 'link.hairpin'; name: string }
  | { op: 'addr.add'; dev: string; ip: string; prefix: number; netns?: string }
  | { op: 'addr.del'; dev: string; ip: string; prefix: number; netns?: string }
  | { op: 'route.add'; dev: string; dst: string; prefix: number; via?: string; netns?: string }
  /** A permanent neighbour entry (IPv4 or IPv6): `ip` is at `mac` on `dev`, no ARP or neighbour solicitation needed. */
  | { op: 'neigh.set'; dev: string; ip: string; mac: string; netns?: string }
  | { op: 'neigh.del'; dev: string; ip: string; netns?: string }
  /** A VXLAN device in the host namespace (an overlay network's uplink to the other hosts). */
  | { op: 'vxlan.add'; name: string; vni: number; local: string; port: number; mtu: number; mac: string; alias?: string }
  /** A remote host's block of an overlay: route via its VTEP address (onlink), that address's MAC, that MAC's underlay address. */
  | { op: 'peer.set'; dev: string; block: string; prefix: number; vtep: string; mac: string; underlay: string }
  | { op: 'peer.del'; dev: string; block: string; prefix: number; vtep: string; mac: string; underlay: string }
  /** An ifb device in the host namespace (a container's egress is shaped on it); `alias` marks it as this state directory's. */
  | { op: 'ifb.add'; name: string; mtu: number; alias?: string }
  /** A token bucket as `dev`'s root qdisc: `rate` bytes/s, `burst` and `limit` (queue) in bytes. */
  | { op: 'qdisc.tbf'; dev: string; rate: number; burst: number; limit: number }
  /** Every frame `dev` receives leaves through `to` (ingress qdisc, u32 filter, mirred egress redirect). */
  | { op: 'tc.redirect'; dev: string; to: string }
  /**
   * A sysctl of the host's namespace, or of `netns`; `optional`: a key the kernel does not have (IPv6
   * compiled out or disabled at boot) is skipped; `ephemeral`: it belongs to an interface an earlier
   * step's undo removes, so the old value is neither read nor restored.
   */
  | { op: 'sysctl.set'; key: string; value: string; netns?: string; optional?: boolean; ephemeral?: boolean }
  | { op: 'nft'; script: string }
  /** Set and map elements (a container's) added or deleted in one transaction, without libnftables; `missingOk`: one already gone is skipped. */
  | { op: 'nft.elements'; verb: 'add' | 'delete'; elements: readonly SetElement[]; missingOk?: boolean }
  /**
   * A container's cgroup directories (one per v1 hierarchy, or one on v2), then [dir, file, value]
   * writes. `optional` (no limits asked for): a host that refuses them only costs the stats.
   */
  | { op: 'cgroup.create'; dirs: string[]; writes: [string, string, string][]; optional?: boolean; devices?: { dir: string; allow: string[] }; owner?: string }
  | { op: 'cgroup.remove'; id: string };

/** One step of a plan: the operation and the operation that reverses it (null when an earlier undo covers it). */
export interface Step {
  readonly do: Op;
  readonly undo: Op | null;
}

export const step = (op: Op, undo: Op | null): Step => ({ do: op, undo });

/** Where the host namespace is when rendering: null is "the namespace you are in". */
export interface RenderContext {
  hostNetns: string | null;
}

function ipCmd(ctx: RenderContext, netns: string | undefined, args: string): string {
  const ns = netns ?? ctx.hostNetns;
  if (ns?.startsWith('/')) return `nsenter --net=${ns} ip ${args}`;
  return ns ? `ip -n ${ns} ${args}` : `ip ${args}`;
}

function inHost(ctx: RenderContext, cmd: string): string {
  return ctx.hostNetns ? `ip netns exec ${ctx.hostNetns} ${cmd}` : cmd;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The shell command equivalent to one operation. */
export function renderOp(op: Op, ctx: RenderContext): string {
  switch (op.op) {
    case 'netns.add':
      return `ip netns add ${op.name}`;
    case 'netns.del':
      return `ip netns del ${op.name}`;
    case 'bridge.add':
      return ipCmd(ctx, undefined, `link add ${op.name} address ${op.mac} mtu ${op.mtu} type bridge`) + (op.alias ? ` && ${ipCmd(ctx, undefined, `link set ${op.name} alias ${op.alias}`)}` : '');
    case 'veth.add': {
      const master = op.master ? ` master ${op.master} up` : '';
      const mac = op.peerMac ? ` address ${op.peerMac}` : '';
      return ipCmd(ctx, undefined, `link add ${op.name} mtu ${op.mtu}${master} type veth peer name ${op.peer}${mac} netns ${op.peerNetns}`);
    }
    case 'macvlan.add':
      return `${ipCmd(ctx, undefined, `link add ${op.name}-tmp link ${op.parent} mtu ${op.mtu}${op.mac ? ` address ${op.mac}` : ''} type macvlan mode bridge`)} && ${ipCmd(ctx, undefined, `link set ${op.name}-tmp netns ${op.netns} name ${op.name}`)}`;
    case 'segment.add':
      return [
        `link add ${op.bridge} address ${op.mac} mtu ${op.mtu} type bridge`, `link set ${op.bridge} alias ${op.alias}`, `link set ${op.bridge} arp off`,
        `link add ${op.trunk} mtu ${op.mtu} master ${op.master} up type veth peer name ${op.peer} mtu ${op.mtu}`,
        `link set ${op.peer} master ${op.bridge}`, `link set ${op.trunk} type bridge_slave hairpin on`,
      ].map((args) => ipCmd(ctx, undefined, args)).join(' && ');
    case 'segment.del':
      return `${ipCmd(ctx, undefined, `link del ${op.trunk}`)}; ${ipCmd(ctx, undefined, `link del ${op.bridge}`)}`;
    case 'link.del':
      return ipCmd(ctx, op.netns, `link del ${op.name}`);
    case 'link.up':
      return ipCmd(ctx, op.netns, `link set ${op.name} up`);
    case 'link.down':
      return ipCmd(ctx, op.netns, `link set ${op.name} down`);
    case 'link.master':
      return ipCmd(ctx, undefined, `link set ${op.name} master ${op.master}`);
    case 'link.hairpin':
      return ipCmd(ctx, undefined, `link set ${op.name} type bridge_slave hairpin on`);
    case 'addr.add':
      return ipCmd(ctx, op.netns, `addr add ${op.ip}/${op.prefix} dev ${op.dev}${isIPv6(op.ip) ? ' nodad' : ''}`);
    case 'addr.del':
      return ipCmd(ctx, op.netns, `addr del ${op.ip}/${op.prefix} dev ${op.dev}`);
    case 'route.add': {
      const dst = op.prefix === 0 ? 'default' : `${op.dst}/${op.prefix}`;
      return ipCmd(ctx, op.netns, `${isIPv6(op.dst) ? '-6 ' : ''}route add ${dst}${op.via ? ` via ${op.via}` : ''} dev ${op.dev}`);
    }
    case 'neigh.set':
      return ipCmd(ctx, op.netns, `neigh replace ${op.ip} lladdr ${op.mac} dev ${op.dev} nud permanent`);
    case 'neigh.del':
      return ipCmd(ctx, op.netns, `neigh del ${op.ip} dev ${op.dev}`);
    case 'vxlan.add':
      return ipCmd(ctx, undefined, `link add ${op.name} address ${op.mac} mtu ${op.mtu} type vxlan id ${op.vni} local ${op.local} dstport ${op.port} nolearning`) + (op.alias ? ` && ${ipCmd(ctx, undefined, `link set ${op.name} alias ${op.alias}`)}` : '');
    case 'peer.set':
      return [
        ipCmd(ctx, undefined, `route replace ${op.block}/${op.prefix} via ${op.vtep} dev ${op.dev} onlink`),
        ipCmd(ctx, undefined, `neigh replace ${op.vtep} lladdr ${op.mac} dev ${op.dev} nud permanent`),
        inHost(ctx, `bridge fdb replace ${op.mac} dev ${op.dev} dst ${op.underlay} self permanent`),
      ].join(' && ');
    case 'peer.del':
      return [
        ipCmd(ctx, undefined, `route del ${op.block}/${op.prefix}`),
        ipCmd(ctx, undefined, `neigh del ${op.vtep} dev ${op.dev}`),
        inHost(ctx, `bridge fdb del ${op.mac} dev ${op.dev} dst ${op.underlay} self`),
      ].join('; ');
    case 'ifb.add':
      return ipCmd(ctx, undefined, `link add ${op.name} mtu ${op.mtu} type ifb`) + (op.alias ? ` && ${ipCmd(ctx, undefined, `link set ${op.name} alias ${op.alias}`)}` : '');
    case 'qdisc.tbf':
      return inHost(ctx, `tc qdisc add dev ${op.dev} root handle 1: tbf rate ${op.rate * 8}bit burst ${op.burst} limit ${op.limit}`);
    case 'tc.redirect':
      return `${inHost(ctx, `tc qdisc add dev ${op.dev} handle ffff: ingress`)} && ${inHost(ctx, `tc filter add dev ${op.dev} parent ffff: protocol all prio 1 u32 match u32 0 0 flowid 1:1 action mirred egress redirect dev ${op.to}`)}`;
    case 'sysctl.set':
      if (!op.netns) return inHost(ctx, `sysctl -w ${op.key}=${op.value}`);
      return `${op.netns.startsWith('/') ? `nsenter --net=${op.netns}` : `ip netns exec ${op.netns}`} sysctl -w ${op.key}=${op.value}`;
    case 'cgroup.create':
      return [
        `mkdir -p ${op.dirs.join(' ')}`, ...(op.owner ? op.dirs.map((d) => `setfattr -n ${CGROUP_OWNER_XATTR} -v ${op.owner} ${d}`) : []), ...op.writes.map(([d, f, v]) => `echo ${shellQuote(v)} > ${d}/${f}`),
        ...(op.devices ? [`: attach a cgroup device program to ${op.devices.dir} allowing ${shellQuote(op.devices.allow.join(', '))}`] : []),
      ].join(' && ');
    case 'cgroup.remove':
      return `rmdir /sys/fs/cgroup/*/ctnet/${op.id} /sys/fs/cgroup/ctnet/${op.id} 2>/dev/null`;
    case 'nft':
      return nftCommand(ctx, op.script);
    case 'nft.elements':
      return renderCommands(op, ctx).join('\n');
  }
}

function nftCommand(ctx: RenderContext, script: string): string {
  const lines = script.trimEnd().split('\n');
  if (lines.length === 1) return inHost(ctx, `nft ${shellQuote(lines[0])}`);
  return `${inHost(ctx, 'nft -f -')} <<'EOF'\n${lines.join('\n')}\nEOF`;
}

/**
 * The commands equivalent to one operation, as --explain prints them. A container's elements go to
 * the kernel in one nf_tables transaction, across tables; each table's are shown as a command of
 * their own, so a published port reads as the seed's `nft add element ip ctnet tcp_any { ... }`.
 */
export function renderCommands(op: Op, ctx: RenderContext): string[] {
  if (op.op !== 'nft.elements') return [renderOp(op, ctx)];
  const byTable = new Map<string, SetElement[]>();
  for (const e of op.elements) {
    const table = `${e.family} ${e.table}`;
    const same = byTable.get(table);
    if (same) same.push(e);
    else byTable.set(table, [e]);
  }
  return [...byTable.values()].map((elements) => nftCommand(ctx, renderSetElements(op.verb, elements)));
}

export function renderPlan(steps: readonly Step[], ctx: RenderContext): string[] {
  return steps.flatMap((s) => renderCommands(s.do, ctx));
}
