import { CHAIN, NFT_FAMILY, NFT_TABLE, PORT_MAP, SET } from '../names.js';
import { PROTOCOLS, type Protocol } from '../ipam/ports.js';
import type { Family } from '../addr/family.js';
import type { ElementField, SetElement } from '../set-element.js';

/**
 * ctnet's nftables table, rendered from state. The rules are fixed; networks and published ports
 * are only set and map elements, so the rule count never grows with containers and a container's
 * ports are added and removed as O(1) element updates.
 */

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  /** false: routed mode, the subnet leaves unmasqueraded (absent means true). */
  ipMasq?: boolean;
  /** false: a masquerading network other hosts may still route to directly, as CNI's bridge plugin allows (absent means true). */
  blockDirect?: boolean;
  /** An overlay network's VXLAN device on this host: the network's way to its containers on other hosts. */
  overlayDevice?: string;
  /** The overlay's whole subnet (`subnet` is this host's block of it). */
  overlaySubnet?: string;
  /** false: enable_icc=false, its containers reach each other only through published ports (absent means true). */
  icc?: boolean;
  /** Its segments' bridges (engine/segments.ts): what they bridge goes untracked and passes the forward policy. */
  segments?: readonly string[];
}

export interface PortMapping {
  protocol: Protocol;
  /** null = every local address of the host. */
  hostIp: string | null;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

const fieldText = (f: ElementField): string => (f.type === 'ifname' ? `"${f.value}"` : f.type === 'bits128' ? hex128(f.value) : String(f.value));
const fieldsText = (fields: readonly ElementField[]): string => fields.map(fieldText).join(' . ');
/** An element as nft writes it: the key, and for a map with `withData`, ` : ` and its value. */
const elementText = (e: SetElement, withData = true): string => (withData && e.data ? `${fieldsText(e.key)} : ${fieldsText(e.data)}` : fieldsText(e.key));

/** Elements added or deleted as the nft commands `--explain` prints, one per line; a delete names keys only. */
export function renderSetElements(verb: 'add' | 'delete', elements: readonly SetElement[]): string {
  return elements.map((e) => `${verb} element ${e.family} ${e.table} ${e.set} { ${elementText(e, verb === 'add')} }\n`).join('');
}

/**
 * IPv4 lives in `ip ctnet`; dual-stack networks also get `ip6 ctnet`, the same table for IPv6
 * (same sets of bridges, the networks' IPv6 subnets, maps to containers' IPv6 addresses).
 */
export type { Family };
const FAMILY = {
  ip: { table: `${NFT_FAMILY} ${NFT_TABLE}`, addr: 'ipv4_addr', match: 'ip' },
  ip6: { table: `ip6 ${NFT_TABLE}`, addr: 'ipv6_addr', match: 'ip6' },
} as const;

function elements(items: readonly string[]): string {
  return items.length ? `\t\telements = { ${items.join(', ')} }\n` : '';
}

const addrField = (ip: string, family: Family): ElementField => ({ type: FAMILY[family].addr, value: ip });
const port = (value: number): ElementField => ({ type: 'inet_service', value });

/** A published port's key in its protocol's map: the host address (if any) and port. */
export function portMapKey(m: Pick<PortMapping, 'protocol' | 'hostIp' | 'hostPort'>, family: Family): SetElement {
  return {
    family, table: NFT_TABLE, set: PORT_MAP[m.protocol][m.hostIp ? 'host' : 'any'],
    key: m.hostIp ? [addrField(m.hostIp, family), port(m.hostPort)] : [port(m.hostPort)],
  };
}

/** A published port's element in its protocol's map: its key, to the container's address and port. */
function mappingElement(m: PortMapping, family: Family): SetElement {
  // One literal, not a spread of the key: V8 builds a spread literal property by property (see docs/PERFORMANCE.md).
  const k = portMapKey(m, family);
  return { family, table: k.table, set: k.set, key: k.key, data: [addrField(m.containerIp, family), port(m.containerPort)] };
}
const mapKey = (m: PortMapping): string => (m.hostIp ? `${m.hostIp} . ${m.hostPort}` : `${m.hostPort}`);
const sorted = <X>(xs: readonly X[], key: (x: X) => string): X[] => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/** The whole table, elements included. For `ip6`, `subnet` and `gateway` are the networks' IPv6 ones. Long: it is the ruleset as text, chain by chain. */
export function renderTable(networks: readonly FirewallNetwork[], mappings: readonly PortMapping[], family: Family = 'ip'): string {
  const F = FAMILY[family];
  const nets = sorted(networks, (n) => n.bridge);
  const quoted = (ns: FirewallNetwork[]): string[] => ns.map((n) => `"${n.bridge}"`);
  let out = `table ${F.table} {\n`;
  out += `\tset ${SET.bridges} {\n\t\ttype ifname\n${elements(quoted(nets))}\t}\n`;
  out += `\tset ${SET.internalBridges} {\n\t\ttype ifname\n${elements(quoted(nets.filter((n) => n.internal)))}\t}\n`;
  out += `\tset ${SET.masqSubnets} {\n\t\ttype ${F.addr}\n\t\tflags interval\n${elements(nets.filter((n) => !n.internal && n.ipMasq !== false).map((n) => n.subnet))}\t}\n`;
  out += `\tset ${SET.subnets} {\n\t\ttype ${F.addr}\n\t\tflags interval\n${elements(nets.map((n) => n.subnet))}\t}\n`;
  // An overlay's bridge and its VXLAN device are one network: traffic between them is its own, both
  // ways. A network without icc is not its own way back: what its containers send through the
  // gateway to each other (a route or a frame of their own making) meets the rules below, where
  // only a published port's connection passes.
  // A segment's bridge forwards only between its containers and its trunk: what it bridges passes
  // here, and the bridge table (enable_icc=false) and the network's bridge (the trunk's far end) judge it.
  const segmentBridges = nets.flatMap((n) => n.segments ?? []).sort();
  const pairs = nets.flatMap((n) => [
    ...(n.icc === false ? [] : [`"${n.bridge}" . "${n.bridge}"`]),
    ...(n.overlayDevice ? [`"${n.bridge}" . "${n.overlayDevice}"`, `"${n.overlayDevice}" . "${n.bridge}"`] : []),
    ...(n.segments ?? []).map((b) => `"${b}" . "${b}"`),
  ]);
  out += `\tset ${SET.sameBridge} {\n\t\ttype ifname . ifname\n${elements(pairs)}\t}\n`;
  out += `\tset ${SET.overlayDevices} {\n\t\ttype ifname\n${elements(nets.flatMap((n) => (n.overlayDevice ? [`"${n.overlayDevice}"`] : [])))}\t}\n`;
  out += `\tset ${SET.segmentBridges} {\n\t\ttype ifname\n${elements(segmentBridges.map((b) => `"${b}"`))}\t}\n`;
  out += `\tset ${SET.overlaySubnets} {\n\t\ttype ${F.addr}\n\t\tflags interval\n${elements(nets.flatMap((n) => (n.overlaySubnet ? [n.overlaySubnet] : [])))}\t}\n`;
  out += `\tset ${SET.isolatedBridges} {\n\t\ttype ifname\n${elements(quoted(nets.filter((n) => !n.internal && n.ipMasq !== false && n.blockDirect !== false)))}\t}\n`;
  out += `\tset ${SET.gateways} {\n\t\ttype ${F.addr}\n${elements(sorted(nets, (n) => n.gateway).map((n) => n.gateway))}\t}\n`;
  out += `\tset ${SET.internalDns} {\n\t\ttype ifname . ${F.addr}\n${elements(nets.filter((n) => n.internal).map((n) => `"${n.bridge}" . ${n.gateway}`))}\t}\n`;
  for (const proto of PROTOCOLS) {
    for (const scope of ['any', 'host'] as const) {
      const key = scope === 'any' ? 'inet_service' : `${F.addr} . inet_service`;
      const items = sorted(mappings.filter((m) => m.protocol === proto && (scope === 'host') === (m.hostIp !== null)), mapKey).map((m) => elementText(mappingElement(m, family)));
      // `counter`: every element counts the connections it translated (`ctnet serve` shows them per mapping).
      out += `\tmap ${PORT_MAP[proto][scope]} {\n\t\ttype ${key} : ${F.addr} . inet_service\n\t\tcounter\n${elements(items)}\t}\n`;
    }
  }
  // Container to container on a bridge needs no connection tracking, yet with br_netfilter loaded
  // (Docker and Kubernetes hosts) every bridged packet would be tracked. Replies to the gateway
  // address (masqueraded or DNATed flows) and everything else stay tracked.
  // `accept` ends the hook's rules (the packet goes on to the next hook): the gateway's traffic stays
  // tracked, and the rules after a notrack are only more reasons not to track.
  out += `\tchain ${CHAIN.rawBridged} {\n`;
  out += `\t\t${F.match} daddr @${SET.gateways} accept\n`;
  out += `\t\t${F.match} daddr @${SET.subnets} notrack accept\n`;
  out += `\t\t${F.match} daddr @${SET.overlaySubnets} notrack accept\n\t}\n`;
  out += `\tchain ${CHAIN.raw} {\n\t\ttype filter hook prerouting priority raw; policy accept;\n`;
  // Loopback addresses arrive only on lo (Docker 28, moby#49325): dropped before DNAT could turn a
  // neighbour's or a container's packet to 127.0.0.1:PORT into one for a container published there,
  // or before route_localnet on a bridge lets a container reach what the host binds to localhost.
  out += `\t\tiifname != "lo" ${F.match} daddr ${family === 'ip' ? '127.0.0.0/8' : '::1'} drop\n`;
  // What comes from a network's bridge meets only the rules for it (two look-ups for a packet to the
  // gateway, the embedded DNS's queries, where the flat list took seven); the rest meets only its own.
  out += `\t\tiifname @${SET.bridges} goto ${CHAIN.rawBridged}\n`;
  // What a segment bridges is tracked at the network's bridge, the trunk's far end: tracked here
  // too, a published port's replies (bridged here after DNAT there) would meet their own entry in
  // the same namespace and NAT would remap the clashing port.
  out += `\t\tiifname @${SET.segmentBridges} notrack accept\n`;
  // Inside an overlay, across hosts, nothing is translated either: both directions go untracked.
  out += `\t\tiifname @${SET.overlayDevices} notrack accept\n\t}\n`;
  out += `\tchain ${CHAIN.published} {\n`;
  for (const proto of PROTOCOLS) {
    out += `\t\tdnat ${F.match} to ${F.match} daddr . ${proto} dport map @${PORT_MAP[proto].host}\n`;
    out += `\t\tdnat ${F.match} to ${proto} dport map @${PORT_MAP[proto].any}\n`;
  }
  out += `\t}\n`;
  // Published ports answer on every local address: from other hosts (prerouting) and from the host itself (output).
  out += `\tchain ${CHAIN.prerouting} {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tfib daddr type local jump ${CHAIN.published}\n\t}\n`;
  out += `\tchain ${CHAIN.output} {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tfib daddr type local jump ${CHAIN.published}\n\t}\n`;
  out += `\tchain ${CHAIN.postrouting} {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n`;
  // The seed's step 9; what goes to another host's block of an overlay keeps its source.
  out += `\t\t${F.match} saddr @${SET.masqSubnets} oifname != @${SET.bridges} oifname != @${SET.overlayDevices} masquerade\n`;
  // localhost:port -> container (IPv6 has no route_localnet: ::1 is not published)
  if (family === 'ip') out += `\t\toifname @${SET.bridges} ip saddr 127.0.0.0/8 masquerade\n`;
  out += `\t\toifname @${SET.bridges} ct status dnat ${F.match} saddr @${SET.subnets} masquerade\n`; // hairpin, whatever the network's masquerade
  out += `\t}\n`;
  // Forwarding policy: inside one network anything goes (bridged traffic shows here with
  // br_netfilter, as does hairpin traffic); internal networks have no way in or out; replies and
  // published ports pass; networks are isolated from each other; and other hosts cannot reach a
  // masquerading network's containers directly, only through published ports (routed networks opt out).
  out += `\tchain ${CHAIN.forward} {\n\t\ttype filter hook forward priority filter; policy accept;\n`;
  out += `\t\tiifname . oifname @${SET.sameBridge} accept\n`;
  out += `\t\tiifname @${SET.internalBridges} drop\n\t\toifname @${SET.internalBridges} drop\n`;
  out += `\t\tct state established,related accept\n`;
  out += `\t\tct status dnat accept\n`;
  // An overlay's VXLAN device leads only to its own bridge (same_bridge above): nothing from other
  // networks, the host's uplinks or other hosts' routing goes into the overlay, or out of it elsewhere.
  out += `\t\tiifname @${SET.overlayDevices} drop\n\t\toifname @${SET.overlayDevices} drop\n`;
  out += `\t\tiifname @${SET.bridges} oifname @${SET.bridges} drop\n`;
  out += `\t\toifname @${SET.isolatedBridges} drop\n\t}\n`;
  // Internal networks have no way to the host either: their containers reach only the embedded DNS
  // on their own gateway, and the host starts nothing towards them (replies, the DNS's included, pass).
  // Only while there is one: a hook with a chain costs every packet to or from the host, even when
  // nothing in it matches (with both chains, the embedded DNS answered about a tenth fewer queries a second).
  if (nets.some((n) => n.internal)) {
    out += `\tchain ${CHAIN.input} {\n\t\ttype filter hook input priority filter; policy accept;\n`;
    out += `\t\tiifname @${SET.internalBridges} meta l4proto { tcp, udp } th dport 53 iifname . ${F.match} daddr @${SET.internalDns} accept\n`;
    out += `\t\tiifname @${SET.internalBridges} ct state established,related accept\n`;
    out += `\t\tiifname @${SET.internalBridges} drop\n\t}\n`;
    out += `\tchain ${CHAIN.outputFilter} {\n\t\ttype filter hook output priority filter; policy accept;\n`;
    out += `\t\toifname @${SET.internalBridges} ct state new drop\n\t}\n`;
  }
  out += `}\n`;
  return out;
}

/** Replaces ctnet's table atomically (create-if-missing, delete, re-create in one transaction). */
export function renderReplaceTable(networks: readonly FirewallNetwork[], mappings: readonly PortMapping[], family: Family = 'ip'): string {
  const t = FAMILY[family].table;
  return `add table ${t}\ndelete table ${t}\n${renderTable(networks, mappings, family)}`;
}

/** Removes ctnet's table (when the last network goes). */
export function renderDeleteTable(family: Family = 'ip'): string {
  const t = FAMILY[family].table;
  return `add table ${t}\ndelete table ${t}\n`;
}

/** The map elements of some port mappings. */
export const mappingSetElements = (mappings: readonly PortMapping[], family: Family = 'ip'): SetElement[] => mappings.map((m) => mappingElement(m, family));


/** One element of a port map as `nft -j` lists it, with what it has counted (the first packet of each connection it translated). */
export interface MapElement {
  protocol: Protocol;
  hostIp: string | null;
  hostPort: number;
  packets: number;
  bytes: number;
}

/**
 * Reads the elements of ctnet's port maps out of `nft -j list map` or `list table` output (with or
 * without counters). Each map's protocol is its name's (tcp_any: tcp) unless `protocol` is given.
 */
export function parseMapElements(json: string, protocol?: Protocol): MapElement[] {
  const out: MapElement[] = [];
  for (const item of (JSON.parse(json) as { nftables?: { map?: { name?: string; elem?: unknown[] } }[] }).nftables ?? []) {
    const proto = protocol ?? (PROTOCOLS.find((p) => item.map?.name?.startsWith(`${p}_`)) as Protocol | undefined);
    if (!proto) continue;
    for (const pair of item.map?.elem ?? []) {
      let key = (pair as unknown[])[0];
      let counter = { packets: 0, bytes: 0 };
      // A map with `counter` wraps each key: { elem: { val, counter } }.
      const wrapped = (key as { elem?: { val: unknown; counter?: typeof counter } }).elem;
      if (wrapped) {
        key = wrapped.val;
        counter = wrapped.counter ?? counter;
      }
      const [hostIp, hostPort] = typeof key === 'number' ? [null, key] : ((key as { concat?: [string, number] }).concat ?? []);
      if (typeof hostPort === 'number') out.push({ protocol: proto, hostIp: hostIp ?? null, hostPort, packets: counter.packets, bytes: counter.bytes });
    }
  }
  return out;
}

/**
 * Anti-spoofing on the bridges (`table bridge ctnet`): what enters a bridge through a container's
 * port must come from that container's MAC and addresses. ARP must announce its own MAC and IPv4
 * address; IPv6 neighbour advertisements only its own addresses (the target read at its offset in
 * the ICMPv6 header: nft 1.0.6 has no name for it). Everything else from a container port (other
 * ethertypes, VLAN tags, forged sources) is dropped. Ports that are not containers' (a VM's tap
 * someone put on a ctnet bridge) pass, but for router solicitations and multicast listener reports,
 * dropped whatever port they enter by: they are for routers, and a network's only router is its
 * gateway, which advertises nothing and routes no multicast (an address a router advertised would
 * not pass this guard anyway). Flooded, every dual-stack container's (solicitations repeat for its
 * whole life; reports also come as its namespace goes, after its elements) reached every other
 * container's IPv6 input: with 2,500 on a network, a third to half of the CPU went to softirq while
 * containers came and went. Fixed rules; containers are set elements.
 */
export interface PortGuard {
  /** The container's host-side veth: the bridge port its frames enter by. */
  port: string;
  mac: string;
  ip: string;
  /** Dual stack: its IPv6 address (its link-local one is derived from the MAC). */
  ip6?: string | null;
  /** Its network was made with enable_icc=false: no frame is bridged between it and another such port. */
  isolated?: boolean;
  /** On a segment: that segment's trunk end on the network's bridge, the port the container is behind there. */
  trunk?: string;
}

export const BRIDGE_TABLE = `bridge ${NFT_TABLE}`;

/**
 * The tables' layout: raised with every set a container's or segment's elements go to that an older
 * ctnet's tables lack (2: port_arp_targets and trunks, for steering), with every rule an older
 * ctnet's tables should not go on without (3: the guard's drop of router solicitations and listener
 * reports), and with chains that cost every packet less (4: raw_bridged, input hooks only with an
 * internal network). Tables of an older layout are rendered anew before the next change (engine/context.ts).
 */
export const FIREWALL_LAYOUT = 4;

/** The EUI-64 link-local address the kernel gives an interface with this MAC. */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const words = [b[0] ^ 2, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  const groups = [0, 2, 4, 6].map((i) => ((words[i] << 8) | words[i + 1]).toString(16));
  return `fe80::${groups.join(':')}`;
}

/** An IPv6 address as the 128-bit integer a raw-payload set holds. */
function hex128(ip: string): string {
  const [head, tail = ''] = ip.split('::');
  const part = (s: string): string[] => (s ? s.split(':') : []);
  const h = part(head);
  const t = part(tail);
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `0x${groups.map((g) => g.padStart(4, '0')).join('')}`;
}

/**
 * A container's elements in the bridge table: its port, what may enter the bridge through it, and
 * the ports its addresses are behind (its own; on a segment, also the trunk on the network's bridge).
 */
export function guardSetElements(g: PortGuard): SetElement[] {
  const p: ElementField = { type: 'ifname', value: g.port };
  const mac: ElementField = { type: 'ether_addr', value: g.mac };
  const ip: ElementField = { type: 'ipv4_addr', value: g.ip };
  const el = (set: string, ...key: ElementField[]): SetElement => ({ family: 'bridge', table: NFT_TABLE, set, key });
  const own6 = g.ip6 ? [g.ip6, linkLocalOf(g.mac)] : [];
  const behind = [p, ...(g.trunk ? [{ type: 'ifname', value: g.trunk } as const] : [])];
  return [
    el(SET.guardedPorts, p),
    el(SET.source4, p, mac, ip),
    el(SET.arpSource, p, mac, mac, ip),
    // :: is the source of duplicate address detection.
    ...(g.ip6 ? [...own6, '::'].map((a) => el(SET.source6, p, mac, { type: 'ipv6_addr', value: a })) : []),
    ...behind.flatMap((port) => [el(SET.arpTargets, port, ip), ...own6.map((a) => el(SET.ndTargets, port, { type: 'bits128', value: a }))]),
    ...(g.isolated ? [el(SET.noIcc, p)] : []),
  ];
}

/** A segment's trunk (engine/segments.ts): its end on the network's bridge and on the segment, that bridge's MAC, whether the network isolates its containers. */
export interface Trunk {
  trunk: string;
  peer: string;
  gatewayMac: string;
  isolated: boolean;
}

/**
 * One segment's elements, the same the tables rendered from state hold for it: its bridge in each
 * family's `segment_bridges` and `same_bridge`, its trunk in the bridge table's hairpin guard and,
 * for an enable_icc=false network, both trunk ends in its isolation sets. Adding them is a segment's
 * whole firewall change once the bridge table's forward chain exists.
 */
export function segmentSetElements(bridge: string, t: Trunk, families: readonly Family[]): SetElement[] {
  const name = (value: string): ElementField => ({ type: 'ifname', value });
  const mac = (value: string): ElementField => ({ type: 'ether_addr', value });
  const el = (family: SetElement['family'], set: string, key: ElementField[], data?: ElementField[]): SetElement => ({ family, table: NFT_TABLE, set, key, ...(data ? { data } : {}) });
  return [
    ...families.flatMap((f) => [el(f, SET.segmentBridges, [name(bridge)]), el(f, SET.sameBridge, [name(bridge), name(bridge)])]),
    el('bridge', SET.trunkHairpins, [name(t.trunk), name(t.trunk)]),
    el('bridge', SET.trunkMacs, [name(t.trunk)], [mac(t.gatewayMac)]),
    el('bridge', SET.trunks, [name(t.trunk)]),
    ...(t.isolated ? [t.trunk, t.peer].flatMap((end) => [el('bridge', SET.isolatedTrunks, [name(end)]), el('bridge', SET.trunkGateways, [name(end), mac(t.gatewayMac)])]) : []),
  ];
}

/**
 * The bridge table: anti-spoofing (above), and Docker's enable_icc=false: a frame bridged from one
 * isolated container port to another is dropped (a bridge forwards only between its own ports, so
 * both are of the same network; what goes to the gateway, out, or comes in through a published port
 * is routed by the host, not bridged, and passes). One bridged frame passes: a connection to a
 * published port of a container of the same network, which br_netfilter DNATs in the frame sent to
 * the bridge's own address (pkttype host) and bridges on to that container; br_netfilter bridges a
 * frame for the bridge's address on only when DNAT changed its destination, and the routed rules of
 * `ip ctnet` see it too. This kernel has no `meta ibrname` (NFT_BRIDGE_META).
 * Segments' trunks: the network bridge's end is in hairpin mode so that such a DNATed frame can go
 * back to a container behind the trunk it came by; nothing else goes back (a flood would teach the
 * segment that its own containers are behind its trunk), and the DNATed frame leaves with the
 * bridge's MAC as its source (with the client's own, the segment would learn the client behind the
 * trunk and drop the reply). With enable_icc=false, across a trunk a container's frame passes only
 * to the gateway's MAC, as a broadcast (ARP) or after DNAT; towards a container only ARP, the
 * gateway's frames or after DNAT.
 * The forward chain exists only while some network isolates its containers or has segments: a hook
 * with a chain costs every bridged frame, even when its set is empty.
 */
export function renderBridgeTable(guards: readonly PortGuard[], isolation: boolean, trunks: readonly Trunk[] = []): string {
  const bySet = new Map<string, string[]>();
  for (const e of sorted(guards, (x) => x.port).flatMap(guardSetElements)) {
    const items = bySet.get(e.set);
    if (items) items.push(elementText(e));
    else bySet.set(e.set, [elementText(e)]);
  }
  const of = (set: string): string[] => bySet.get(set) ?? [];
  const all = { ports: of(SET.guardedPorts), src4: of(SET.source4), arp4: of(SET.arpSource), src6: of(SET.source6), nd6: of(SET.ndTargets), arpTo: of(SET.arpTargets), noIcc: of(SET.noIcc) };
  const ts = sorted(trunks, (t) => t.trunk);
  const isolatedEnds = ts.filter((t) => t.isolated).flatMap((t) => [t.trunk, t.peer].map((end) => ({ end, mac: t.gatewayMac })));
  let out = `table ${BRIDGE_TABLE} {\n`;
  out += `\tset ${SET.guardedPorts} {\n\t\ttype ifname\n${elements(all.ports)}\t}\n`;
  out += `\tset ${SET.source4} {\n\t\ttype ifname . ether_addr . ipv4_addr\n${elements(all.src4)}\t}\n`;
  out += `\tset ${SET.arpSource} {\n\t\ttype ifname . ether_addr . ether_addr . ipv4_addr\n${elements(all.arp4)}\t}\n`;
  out += `\tset ${SET.source6} {\n\t\ttype ifname . ether_addr . ipv6_addr\n${elements(all.src6)}\t}\n`;
  out += `\tset ${SET.ndTargets} {\n\t\ttypeof iifname . @th,64,128\n${elements(all.nd6)}\t}\n`;
  out += `\tset ${SET.arpTargets} {\n\t\ttype ifname . ipv4_addr\n${elements(all.arpTo)}\t}\n`;
  out += `\tset ${SET.noIcc} {\n\t\ttype ifname\n${elements(all.noIcc)}\t}\n`;
  out += `\tset ${SET.trunkHairpins} {\n\t\ttype ifname . ifname\n${elements(ts.map((t) => `"${t.trunk}" . "${t.trunk}"`))}\t}\n`;
  out += `\tmap ${SET.trunkMacs} {\n\t\ttype ifname : ether_addr\n${elements(ts.map((t) => `"${t.trunk}" : ${t.gatewayMac}`))}\t}\n`;
  out += `\tset ${SET.trunks} {\n\t\ttype ifname\n${elements(ts.map((t) => `"${t.trunk}"`))}\t}\n`;
  out += `\tset ${SET.isolatedTrunks} {\n\t\ttype ifname\n${elements(isolatedEnds.map((e) => `"${e.end}"`))}\t}\n`;
  out += `\tset ${SET.trunkGateways} {\n\t\ttype ifname . ether_addr\n${elements(isolatedEnds.map((e) => `"${e.end}" . ${e.mac}`))}\t}\n`;
  out += `\tchain ${CHAIN.guard} {\n\t\ttype filter hook prerouting priority -300; policy accept;\n`;
  // The most frequent frame first: a container's own IPv4 (one look-up, where the port's own check would be a second).
  out += `\t\tether type ip iifname . ether saddr . ip saddr @${SET.source4} accept\n`;
  out += `\t\ticmpv6 type { mld-listener-report, mld-listener-done, nd-router-solicit, mld2-listener-report } drop\n`;
  out += `\t\tiifname != @${SET.guardedPorts} accept\n`;
  out += `\t\tether type arp iifname . ether saddr . arp saddr ether . arp saddr ip @${SET.arpSource} accept\n`;
  out += `\t\ticmpv6 type nd-neighbor-advert iifname . @th,64,128 != @${SET.ndTargets} drop\n`;
  out += `\t\tether type ip6 iifname . ether saddr . ip6 saddr @${SET.source6} accept\n`;
  out += `\t\tdrop\n\t}\n`;
  if (isolation || ts.length) out += bridgeHookChains();
  return `${out}}\n`;
}

const FORWARD_HOOK = 'type filter hook forward priority filter; policy accept;';
const OUTPUT_HOOK = 'type filter hook output priority filter; policy accept;';

/**
 * The bridge table's forward and output chains with their rules. Every rule is there whenever the
 * chains exist, their sets perhaps empty: a segment made later only adds its elements.
 */
function bridgeHookChains(): string {
  // Steering: a flooded ARP request or neighbour solicitation leaves by a container port or a
  // trunk only when its target is behind it (first: the isolation rules below accept some ARP).
  const steering = [SET.guardedPorts, SET.trunks].flatMap((ports) => [
    `\t\tether type arp arp operation request oifname @${ports} oifname . arp daddr ip != @${SET.arpTargets} drop\n`,
    `\t\ticmpv6 type nd-neighbor-solicit oifname @${ports} oifname . @th,64,128 != @${SET.ndTargets} drop\n`,
  ]).join('');
  let out = `\tchain ${CHAIN.bridgeForward} {\n\t\t${FORWARD_HOOK}\n`;
  out += steering;
  out += `\t\tiifname . oifname @${SET.trunkHairpins} meta pkttype != host drop\n`;
  // A miss in the map ends the rule: only what leaves by a trunk is changed.
  out += `\t\tmeta pkttype host ether saddr set oifname map @${SET.trunkMacs}\n`;
  out += `\t\tiifname @${SET.noIcc} oifname @${SET.noIcc} meta pkttype != host drop\n`;
  // One condition a rule: nft 1.0.6 joins `ether saddr != X ether type != arp` into one
  // comparison of the eight bytes, true when either differs.
  out += `\t\tiifname @${SET.noIcc} oifname @${SET.isolatedTrunks} meta pkttype host accept\n`;
  out += `\t\tiifname @${SET.noIcc} oifname . ether daddr @${SET.trunkGateways} accept\n`;
  out += `\t\tiifname @${SET.noIcc} oifname @${SET.isolatedTrunks} ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 drop\n`;
  out += `\t\tiifname @${SET.isolatedTrunks} oifname @${SET.noIcc} meta pkttype host accept\n`;
  out += `\t\tiifname @${SET.isolatedTrunks} oifname @${SET.noIcc} ether type arp accept\n`;
  out += `\t\tiifname . ether saddr @${SET.trunkGateways} oifname @${SET.noIcc} accept\n`;
  out += `\t\tiifname @${SET.isolatedTrunks} oifname @${SET.noIcc} drop\n`;
  out += `\t}\n`;
  return `${out}\tchain ${CHAIN.bridgeOutput} {\n\t\t${OUTPUT_HOOK}\n${steering}\t}\n`;
}

/**
 * The bridge table's forward and output chains made (`present`) or removed, its sets and guard left
 * as they are; the table must exist. Either way whether or not they exist now: a chain is made
 * unless it is there and emptied before its rules go in, or made and then deleted. At 10,000
 * containers replacing the whole table for them took 0.5-1 s.
 */
export function renderBridgeHookChains(present: boolean): string {
  const chains = [[CHAIN.bridgeForward, FORWARD_HOOK], [CHAIN.bridgeOutput, OUTPUT_HOOK]] as const;
  const made = chains.map(([name, hook]) => `add chain ${BRIDGE_TABLE} ${name} { ${hook} }\n`).join('');
  if (!present) return made + chains.map(([name]) => `delete chain ${BRIDGE_TABLE} ${name}\n`).join('');
  return made + chains.map(([name]) => `flush chain ${BRIDGE_TABLE} ${name}\n`).join('') + `table ${BRIDGE_TABLE} {\n${bridgeHookChains()}}\n`;
}

export function renderReplaceBridgeTable(guards: readonly PortGuard[], isolation: boolean, trunks: readonly Trunk[] = []): string {
  return `add table ${BRIDGE_TABLE}\ndelete table ${BRIDGE_TABLE}\n${renderBridgeTable(guards, isolation, trunks)}`;
}

