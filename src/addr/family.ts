/**
 * The two address families, named as nftables names them. ctnet tells them apart in one place: text
 * it has already validated as an address or CIDR is IPv6 when it holds a colon (IPv4 text never does).
 */
export type Family = 'ip' | 'ip6';

export const familyOf = (address: string): Family => (address.includes(':') ? 'ip6' : 'ip');
export const isIPv6 = (address: string): boolean => familyOf(address) === 'ip6';
