/**
 * An element of one of ctnet's nftables sets or maps, by field: planners make them (a container's
 * guard, its published ports), the kernel layer encodes them for nf_tables (kernel/netlink/nft-elements.ts).
 */

/** One field of an element's key or data, as nft's types name them. */
export type ElementField =
  | { type: 'ifname'; value: string }
  | { type: 'ether_addr'; value: string }
  | { type: 'ipv4_addr' | 'ipv6_addr'; value: string }
  | { type: 'inet_service'; value: number }
  /** 128 bits of a packet (`@th,64,128`, an ND target): an IPv6 address's bytes. */
  | { type: 'bits128'; value: string };

export interface SetElement {
  family: 'bridge' | 'ip' | 'ip6';
  table: string;
  set: string;
  key: readonly ElementField[];
  /** A map's value for the key (sent only when adding). */
  data?: readonly ElementField[];
}
