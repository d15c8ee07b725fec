/** Every kernel object name, table, chain, set and prefix ctnet uses, in one place. */

export const NFT_FAMILY = 'ip';
export const NFT_TABLE = 'ctnet';

export const CHAIN = {
  raw: 'raw_prerouting',
  /** What arrives from a network's bridge: the raw chain's rules for it, one look-up of the bridge away. */
  rawBridged: 'raw_bridged',
  prerouting: 'prerouting',
  output: 'output',
  published: 'published',
  postrouting: 'postrouting',
  forward: 'forward',
  /** bridge ctnet: the anti-spoofing checks of container ports. */
  guard: 'port_guard',
  /** bridge ctnet: frames bridged from one port to another (enable_icc=false drops them). */
  bridgeForward: 'bridge_forward',
  /** bridge ctnet: frames the host sends through a bridge to its ports (its ARP requests, steered as bridged ones). */
  bridgeOutput: 'bridge_output',
  /** What internal networks' containers may send to the host (DNS to their gateway), and what the host may start towards them (nothing). */
  input: 'input',
  outputFilter: 'output_filter',
} as const;

export const SET = {
  bridges: 'bridges',
  internalBridges: 'internal_bridges',
  masqSubnets: 'masq_subnets',
  subnets: 'subnets',
  gateways: 'gateways',
  sameBridge: 'same_bridge',
  isolatedBridges: 'isolated_bridges',
  /** bridge . gateway of internal networks: where their containers' DNS queries may go. */
  internalDns: 'internal_dns',
  /** The VXLAN devices of overlay networks: their traffic goes only to and from their own network's bridge. */
  overlayDevices: 'overlay_devices',
  /** The whole subnets of overlay networks (other hosts' blocks included): traffic within them goes untracked. */
  overlaySubnets: 'overlay_subnets',
  /** Networks' segment bridges (engine/segments.ts): what they bridge goes untracked. */
  segmentBridges: 'segment_bridges',
  /** bridge ctnet: each trunk's end on its network's bridge, twice (hairpin), and with that bridge's MAC. */
  trunkHairpins: 'trunk_hairpins',
  trunkMacs: 'trunk_macs',
  /** bridge ctnet: each trunk's end on its network's bridge, where ARP requests and neighbour solicitations are steered as at container ports. */
  trunks: 'trunks',
  /** bridge ctnet: both ends of the trunks of enable_icc=false networks, alone and with their gateway's MAC. */
  isolatedTrunks: 'isolated_trunks',
  trunkGateways: 'trunk_gateways',
  /** bridge ctnet: container ports, and what each may send from. */
  guardedPorts: 'container_ports',
  source4: 'port_ip',
  arpSource: 'port_arp',
  source6: 'port_ip6',
  ndTargets: 'port_nd_targets',
  /** bridge ctnet: port . IPv4 address, the ports each container's address is behind (its own, its segment's trunk): where an ARP request for it may leave a bridge. */
  arpTargets: 'port_arp_targets',
  /** bridge ctnet: container ports of networks whose containers may not talk to each other (enable_icc=false). */
  noIcc: 'no_icc_ports',
} as const;

/** Port maps: `*_any` keyed by port for every local address, `*_host` keyed by host address . port. */
export const PORT_MAP = {
  tcp: { any: 'tcp_any', host: 'tcp_host' },
  udp: { any: 'udp_any', host: 'udp_host' },
  sctp: { any: 'sctp_any', host: 'sctp_host' },
} as const;

export const DEFAULT_NETWORK = { name: 'bridge', subnet: '172.17.0.0/16', bridge: 'ctnet0' } as const;

/** Named network namespaces live where `ip netns` looks for them, so `ip netns exec` works on them. */
export const NETNS_DIR = '/run/netns';
export const CONTAINER_NETNS_PREFIX = 'ctnet-';
export const HOST_VETH_PREFIX = 'veth';
export const CONTAINER_IFNAME = 'eth0';

/** The ifb device a container's egress is shaped on (host namespace; 15 characters). */
export const IFB_PREFIX = 'ctb';
export const ifbName = (id: string): string => IFB_PREFIX + id.slice(0, 12);
const IFB_NAME = new RegExp(`^${IFB_PREFIX}[0-9a-f]{12}$`);
export const isIfbName = (name: string): boolean => IFB_NAME.test(name);

export const DEFAULT_MTU = 1500;
export const IFNAME_MAX = 15;

export const DEFAULT_ROOT = '/var/lib/ctnet';

/** Where `ctnet cni-daemon` listens unless told otherwise (bin/cni/ctnet reads CTNET_CNI_SOCKET). */
export const DEFAULT_CNI_SOCKET = '/run/ctnet/cni.sock';

export function containerNetnsName(id: string): string {
  return CONTAINER_NETNS_PREFIX + id.slice(0, 12);
}

/** How many of a container's ID digits name its host veth (the 15 characters an interface name has, less the prefix and room). */
export const HOST_VETH_ID_DIGITS = 8;

export function hostVethName(id: string): string {
  return HOST_VETH_PREFIX + id.slice(0, HOST_VETH_ID_DIGITS);
}

/**
 * A network's further bridges beyond its own (segments, see engine/segments.ts): segment k's bridge
 * and the two ends of its trunk to the network's bridge (on it, and on the segment), named after
 * the network's ID so they fit 15 characters whatever the network's bridge is called.
 */
export const SEGMENT_PREFIX = 'cts';
export function segmentLinks(networkId: string, k: number): { bridge: string; trunk: string; peer: string } {
  const base = networkId.slice(0, 8);
  return { bridge: `${SEGMENT_PREFIX}${base}b${k}`, trunk: `${SEGMENT_PREFIX}${base}t${k}`, peer: `${SEGMENT_PREFIX}${base}p${k}` };
}
/** Which of segmentLinks' names a link has (its network ID's first 8 characters, b/t/p, k), or undefined. */
export function parseSegmentLink(name: string): { network: string; end: 'b' | 't' | 'p'; k: number } | undefined {
  const m = new RegExp(`^${SEGMENT_PREFIX}([0-9a-f]{8})([btp])(\\d+)$`).exec(name);
  return m ? { network: m[1], end: m[2] as 'b' | 't' | 'p', k: Number(m[3]) } : undefined;
}

/** A host-side veth of ctnet's naming (a container's, or a connected network's): what gc may remove from a bridge. */
export const isCtnetVeth = (name: string, kind?: string): boolean => new RegExp(`^${HOST_VETH_PREFIX}[0-9a-f]{8}$`).test(name) && (kind === undefined || kind === 'veth');

/**
 * The alias (ifalias) of a link ctnet made in the host namespace (a network's bridge, a container's
 * ifb): by which state directory, for which network or container. `gc` removes such a link of its
 * own state directory that no record names, and leaves another state directory's alone.
 */
export const linkAlias = (instance: string, ownerId: string): string => `ctnet:${instance}:${ownerId.slice(0, 12)}`;
export const isOwnLinkAlias = (alias: string | undefined, instance: string): boolean => alias?.startsWith(`ctnet:${instance}:`) === true;
