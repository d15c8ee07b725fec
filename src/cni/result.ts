import type { CniAttachment } from '../engine/cni.js';
import { parseSubnet } from '../addr/ipv4.js';
import { atLeast, type CniVersion } from './spec.js';
import { isIPv6 } from '../addr/family.js';

/**
 * The ADD result in the format of the requested version: interfaces (bridge, host veth, the
 * container's interface with its sandbox), the address with its gateway and interface index, the
 * default route. 0.3.x and 0.4.0 carry "version" on each IP; 1.x does not.
 */
export function addResult(version: CniVersion, a: CniAttachment, prevResult?: Record<string, unknown>): Record<string, unknown> {
  const prev = prevResult as { interfaces?: unknown[]; ips?: unknown[]; routes?: unknown[]; dns?: unknown } | undefined;
  const base = prev?.interfaces?.length ?? 0;
  const interfaces = [
    { name: a.network.bridge, mac: a.bridgeMac },
    { name: a.container.hostVeth, mac: a.hostVethMac ?? '' },
    { name: a.container.ifname, mac: a.containerMac ?? '', sandbox: a.container.netns },
  ];
  const prefix = parseSubnet(a.network.subnet).prefix;
  const ip: Record<string, unknown> = { address: `${a.container.ip}/${prefix}`, gateway: a.network.gateway, interface: base + 2 };
  if (!atLeast(version, '1.0.0')) ip.version = '4';
  const ips = [ip];
  const routed = !a.network.internal && a.network.defaultRoute;
  const routes: { dst: string; gw?: string }[] = routed ? [{ dst: '0.0.0.0/0', gw: a.network.gateway }] : [];
  if (a.container.ip6 && a.network.subnet6 && a.network.gateway6) {
    const ip6: Record<string, unknown> = { address: `${a.container.ip6}/${a.network.subnet6.split('/')[1]}`, gateway: a.network.gateway6, interface: base + 2 };
    if (!atLeast(version, '1.0.0')) ip6.version = '6';
    ips.push(ip6);
    if (routed) routes.push({ dst: '::/0', gw: a.network.gateway6 });
  }
  for (const r of a.routes ?? []) routes.push({ dst: r.dst, gw: r.gw ?? (isIPv6(r.dst) ? a.network.gateway6 ?? undefined : a.network.gateway) });
  return {
    cniVersion: version,
    interfaces: [...(prev?.interfaces ?? []), ...interfaces],
    ips: [...(prev?.ips ?? []), ...ips],
    routes: [...(prev?.routes ?? []), ...routes],
    dns: prev?.dns ?? {},
  };
}
