import type { IPv4, IPv6 } from '../addr/family.js';
import type { NetOptions } from '../store/records.js';
import { HOST_GATEWAY } from './net-options.js';

/** What a container's /etc files depend on of its network mode. */
export type EtcNetwork =
  /** A ctnet network (its own, or the one of the container whose namespace it joined). */
  | { kind: 'network'; ip: IPv4 | null; ip6: IPv6 | null; gateway: IPv4; gateway6: IPv6 | null; embeddedDns: boolean }
  /** --network none: loopback only. */
  | { kind: 'none' }
  /** --network host: the host's network, and so its resolvers and hosts. */
  | { kind: 'host' };

export interface EtcFiles {
  hosts: string;
  hostname: string;
  'resolv.conf': string;
}

const LOCALHOST = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');
const text = (ls: readonly string[]): string => ls.map((l) => `${l}\n`).join('');

/** host-gateway, as Docker resolves it: the address the container reaches the host at (both families where the network has both). */
function hostGateway(net: EtcNetwork): string[] {
  if (net.kind === 'host') return ['127.0.0.1'];
  if (net.kind === 'none') return [];
  return [net.gateway, ...(net.gateway6 ? [net.gateway6] : [])];
}

/** `names`: what the container's own addresses are called, its hostname (after its full name with --domainname). */
function hostsFile(net: EtcNetwork, names: string, options: NetOptions, hostHosts: string): string {
  const base = net.kind === 'host' ? text(lines(hostHosts)) : LOCALHOST;
  const extra = (options.extraHosts ?? []).flatMap((h) => (h.ip === HOST_GATEWAY ? hostGateway(net) : [h.ip]).map((ip) => `${ip}\t${h.name}`));
  const own = net.kind === 'network' ? [net.ip, net.ip6].filter((ip) => ip !== null).map((ip) => `${ip}\t${names}`) : [];
  return base + text([...extra, ...own]);
}

/**
 * Docker's resolv.conf: on a network with embedded DNS the gateway answers (the host's search
 * domains kept, ndots:0); on the host's network the host's file; elsewhere the host's resolvers
 * without the loopback ones the container cannot reach. --dns replaces the name servers (with
 * embedded DNS they become its upstreams for this container instead), --dns-search the search
 * domains, --dns-option the options.
 */
function resolvFile(net: EtcNetwork, options: NetOptions, hostResolv: string): string {
  const host = lines(hostResolv);
  const isNameserver = (l: string): boolean => /^\s*nameserver\s/.test(l);
  const isSearch = (l: string): boolean => /^\s*(search|domain)\s/.test(l);
  const isOptions = (l: string): boolean => /^\s*options\s/.test(l);
  let ls: string[];
  if (net.kind === 'network' && net.embeddedDns) ls = [`nameserver ${net.gateway}`, ...host.filter(isSearch), 'options ndots:0'];
  else if (net.kind === 'host') ls = host;
  else ls = host.filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (options.dns && !(net.kind === 'network' && net.embeddedDns)) ls = [...ls.filter((l) => !isNameserver(l)), ...options.dns.map((ip) => `nameserver ${ip}`)];
  if (options.dnsSearch) {
    const domains = options.dnsSearch.filter((d) => d !== '.');
    ls = [...ls.filter((l) => !isSearch(l)), ...(domains.length ? [`search ${domains.join(' ')}`] : [])];
  }
  if (options.dnsOptions) ls = [...ls.filter((l) => !isOptions(l)), `options ${options.dnsOptions.join(' ')}`];
  return text(ls);
}

/**
 * A container's /etc/hosts, /etc/hostname and /etc/resolv.conf (the host's files given as text).
 * With a domain name (--domainname) its addresses are first called by its full name, so that
 * `hostname -f` finds it.
 */
export function etcFiles(net: EtcNetwork, hostname: string, options: NetOptions, host: { resolv: string; hosts: string }, domainname?: string): EtcFiles {
  const names = domainname ? `${hostname}.${domainname} ${hostname}` : hostname;
  return { hosts: hostsFile(net, names, options, host.hosts), hostname: `${hostname}\n`, 'resolv.conf': resolvFile(net, options, host.resolv) };
}
