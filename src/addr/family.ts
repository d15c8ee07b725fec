/**
 * Address types per family. An `IPv4` or `IPv6` is text that was parsed (or computed) as an address
 * of that family and is in canonical form; only the parsers, the address math and the store (which
 * holds nothing else) make them, so a function that takes an `IPv6` cannot be handed an IPv4 address.
 */
declare const family: unique symbol;
export type IPv4 = string & { readonly [family]: 'ip' };
export type IPv6 = string & { readonly [family]: 'ip6' };
export type IPAddress = IPv4 | IPv6;

/** The two families, named as nftables names them. */
export type Family = 'ip' | 'ip6';

/** The family of validated address or CIDR text: IPv6 text holds a colon, IPv4 text never does. */
export const familyOf = (address: string): Family => (address.includes(':') ? 'ip6' : 'ip');
export const isIPv6 = (address: string): address is IPv6 => familyOf(address) === 'ip6';
