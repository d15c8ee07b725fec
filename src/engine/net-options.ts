import ipaddr from 'ipaddr.js';
import { InvalidArgumentError } from '../errors.js';
import { readSysctl } from '../kernel/sysctl.js';
import type { NetOptions } from '../store/records.js';
import type { NetworkChoice } from './network-mode.js';
import { parseBandwidth, type BandwidthRequest } from './bandwidth.js';

/** What `run` takes for a container's /etc/hosts, /etc/resolv.conf and namespace sysctls, as Docker spells it. */
export interface NetOptionsRequest {
  /** --add-host NAME:IP (IP may be host-gateway); Docker's NAME=IP is taken too. */
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --sysctl KEY=VALUE: net.* keys, and the IPC namespace's (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), which run hands to the sandbox. */
  sysctls?: string[];
  /** --ingress-rate, --ingress-burst, --egress-rate, --egress-burst. */
  bandwidth?: BandwidthRequest;
}

const HOST_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62}))*\.?$/;

export const HOST_GATEWAY = 'host-gateway';

function parseAddHost(text: string): { name: string; ip: string } {
  // NAME:IP, where an IPv6 address holds colons (Docker splits at the first one); NAME=IP as Docker 27 also reads.
  const at = text.includes('=') ? text.indexOf('=') : text.indexOf(':');
  const name = text.slice(0, at);
  const ip = text.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  if (at <= 0 || !HOST_NAME.test(name) || name.length > 253) {
    throw new InvalidArgumentError(`invalid --add-host "${text}": expected NAME:IP, e.g. db.local:10.0.0.5 or gw:host-gateway`);
  }
  if (ip !== HOST_GATEWAY && !ipaddr.isValid(ip)) throw new InvalidArgumentError(`invalid --add-host "${text}": ${ip} is not an IP address (or host-gateway)`);
  return { name, ip: ip === HOST_GATEWAY ? ip : ipaddr.parse(ip).toString() };
}

function parseSysctl(text: string, choice: NetworkChoice): [string, string] {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq) : '';
  const value = text.slice(eq + 1);
  if (!/^net\.[a-zA-Z0-9_.-]+$/.test(key) || key.includes('..')) {
    throw new InvalidArgumentError(`--sysctl "${text}": only namespaced keys can be set for a container (net.*, and the IPC namespace's kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), as KEY=VALUE, e.g. net.ipv4.ip_unprivileged_port_start=0`);
  }
  if (choice.mode === 'host' || choice.mode === 'container') {
    throw new InvalidArgumentError(`--sysctl ${key}: with --network ${choice.mode === 'host' ? 'host' : `container:${choice.container}`} the container does not have a network namespace of its own to set it in`);
  }
  if (/[\n\0]/.test(value) || value === '') throw new InvalidArgumentError(`--sysctl ${key}: give a value on one line, e.g. ${key}=1`);
  // Every network namespace has the same keys (interfaces aside): one ctnet's namespace lacks is unknown to the kernel.
  if (!/\.conf\.(?!all\.|default\.)/.test(key) && readSysctl(key) === undefined) {
    throw new InvalidArgumentError(`--sysctl ${key}: this kernel has no such key in a network namespace; check the name (sysctl -a | grep ^net.)`);
  }
  return [key, value];
}

function parseDnsServer(ip: string): string {
  if (!ipaddr.isValid(ip)) throw new InvalidArgumentError(`invalid --dns "${ip}": expected the IP address of a name server`);
  return ipaddr.parse(ip).toString();
}

function parseSearch(domain: string): string {
  if (domain !== '.' && (!HOST_NAME.test(domain) || domain.length > 253)) throw new InvalidArgumentError(`invalid --dns-search "${domain}": expected a domain such as example.com (or . for none)`);
  return domain;
}

function parseDnsOption(option: string): string {
  if (!/^[a-z][a-z0-9-]*(:\d+)?$/.test(option)) throw new InvalidArgumentError(`invalid --dns-option "${option}": expected a resolv.conf option such as ndots:2 or edns0`);
  return option;
}

/** Validates the options for a network mode (Docker refuses --add-host and --dns with --network container:, as they are the other container's files). */
export function parseNetOptions(req: NetOptionsRequest, choice: NetworkChoice): NetOptions {
  const given = (xs: string[] | undefined): xs is string[] => xs !== undefined && xs.length > 0;
  if (choice.mode === 'container') {
    const flag = given(req.addHosts) ? '--add-host' : given(req.dns) ? '--dns' : given(req.dnsSearch) ? '--dns-search' : given(req.dnsOptions) ? '--dns-option' : undefined;
    if (flag) throw new InvalidArgumentError(`conflicting options: ${flag} and --network container:${choice.container}: the container uses ${choice.container}'s /etc/hosts and /etc/resolv.conf; drop ${flag}`);
  }
  const options: NetOptions = {};
  if (given(req.addHosts)) options.extraHosts = req.addHosts.map(parseAddHost);
  if (given(req.dns)) options.dns = req.dns.map(parseDnsServer);
  if (given(req.dnsSearch)) options.dnsSearch = req.dnsSearch.map(parseSearch);
  if (given(req.dnsOptions)) options.dnsOptions = req.dnsOptions.map(parseDnsOption);
  if (given(req.sysctls)) options.sysctls = Object.fromEntries(req.sysctls.map((s) => parseSysctl(s, choice)));
  const bandwidth = parseBandwidth(req.bandwidth ?? {});
  if (bandwidth && choice.mode !== 'bridge') {
    throw new InvalidArgumentError(`rate limits need a network of ctnet's: with --network ${choice.mode === 'container' ? `container:${choice.container}` : choice.mode} the container has no interface of its own to shape; drop the --*-rate flags`);
  }
  if (bandwidth) options.bandwidth = bandwidth;
  if (choice.mode === 'none' && options.extraHosts?.some((h) => h.ip === HOST_GATEWAY)) {
    throw new InvalidArgumentError('--add-host NAME:host-gateway: with --network none the container has no way to the host; give an address or another network');
  }
  return options;
}
