import { z } from 'zod';
import type { CniNetworkSpec } from '../engine/cni.js';
import { PROTOCOLS, type PortRequest, type Protocol } from '../ipam/ports.js';
import { subnetOf, toInt } from '../ipam/ipv4.js';
import type { DelegatedAddress } from './delegate.js';
import { CNI_ERROR, CniError, SUPPORTED_VERSIONS, type CniVersion } from './spec.js';

/** host-local is served by ctnet itself; any other IPAM type is delegated to that plugin. */
export const isDelegatedIpam = (conf: NetConf): boolean => conf.ipam !== undefined && conf.ipam.type !== 'host-local';

const port = z.number().int().min(1).max(65535);
const range = z.object({ subnet: z.string(), rangeStart: z.string().optional(), rangeEnd: z.string().optional(), gateway: z.string().optional() }).passthrough();
const attachment = z.object({ containerID: z.string(), ifname: z.string() }).passthrough();

/** The network configuration: the bridge plugin's keys plus host-local's IPAM keys, runtime capabilities. */
const NetConf = z
  .object({
    cniVersion: z.string(),
    name: z.string().min(1),
    type: z.string(),
    bridge: z.string().max(15).optional(),
    isGateway: z.boolean().optional(),
    isDefaultGateway: z.boolean().optional(),
    ipMasq: z.boolean().optional(),
    mtu: z.number().int().min(68).max(65535).optional(),
    hairpinMode: z.boolean().optional(),
    promiscMode: z.boolean().optional(),
    vlan: z.number().int().optional(),
    ipam: z
      .object({
        type: z.string(),
        subnet: z.string().optional(),
        rangeStart: z.string().optional(),
        rangeEnd: z.string().optional(),
        gateway: z.string().optional(),
        ranges: z.array(z.array(range).min(1)).optional(),
        routes: z.array(z.object({ dst: z.string(), gw: z.string().optional() }).passthrough()).optional(),
        dataDir: z.string().optional(),
      })
      .passthrough()
      .optional(),
    runtimeConfig: z
      .object({
        portMappings: z.array(z.object({ hostPort: port, containerPort: port, protocol: z.string().optional(), hostIP: z.string().optional() }).passthrough()).optional(),
        ips: z.array(z.string()).optional(),
        mac: z.string().optional(),
      })
      .passthrough()
      .optional(),
    prevResult: z.record(z.unknown()).optional(),
    'cni.dev/valid-attachments': z.array(attachment).optional(),
    'cni.dev/attachments': z.array(attachment).optional(),
  })
  .passthrough();

export type NetConf = z.infer<typeof NetConf>;

export function parseNetConf(text: string): NetConf {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CniError(CNI_ERROR.decoding, `the network configuration on stdin is not JSON: ${(err as Error).message}`);
  }
  const parsed = NetConf.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CniError(CNI_ERROR.invalidConfig, `invalid network configuration: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function checkVersion(conf: NetConf): CniVersion {
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(conf.cniVersion)) {
    throw new CniError(CNI_ERROR.incompatibleVersion, `cniVersion ${conf.cniVersion} is not supported; use one of ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return conf.cniVersion as CniVersion;
}

const unsupported = (what: string): never => {
  throw new CniError(CNI_ERROR.unsupportedField, `${what} is not supported by ctnet; remove it from the configuration`);
};

/** The ctnet network this configuration describes; refuses bridge-plugin options ctnet does not honour. */
export function networkSpec(conf: NetConf, delegated?: DelegatedAddress): CniNetworkSpec {
  if (conf.isGateway === false) unsupported('isGateway: false (ctnet\'s bridge always holds the gateway address)');
  if (conf.promiscMode === true) unsupported('promiscMode: true');
  if (conf.vlan !== undefined && conf.vlan !== 0) unsupported('vlan');
  // As the bridge plugin: a default route when isDefaultGateway says so or IPAM lists 0.0.0.0/0.
  const modes = {
    ipMasq: conf.ipMasq !== false,
    defaultRoute: conf.isDefaultGateway === true || (conf.ipam?.routes ?? []).some((r) => r.dst === '0.0.0.0/0'),
  };
  const ipam = conf.ipam;
  if (!ipam) throw new CniError(CNI_ERROR.invalidConfig, 'the configuration has no ipam section; add "ipam": {"type": "host-local", "subnet": "10.88.0.0/16"}');
  if (delegated) {
    // Another IPAM plugin chose the address: the network is the subnet around it.
    const subnet = subnetOf(toInt(delegated.ip), delegated.prefix).cidr;
    return { name: conf.name, bridge: conf.bridge ?? 'cni0', subnet, gateway: delegated.gateway, mtu: conf.mtu, ...modes };
  }
  const v4 = (ipam.ranges ?? []).flat().filter((r) => !r.subnet.includes(':'));
  const first = v4[0] ?? (ipam.subnet ? { subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway } : undefined);
  if (!first) throw new CniError(CNI_ERROR.invalidConfig, 'ipam has no IPv4 subnet; set "subnet" or "ranges": [[{"subnet": "10.88.0.0/16"}]]');
  if (v4.length > 1) unsupported('more than one IPv4 range');
  for (const r of ipam.routes ?? []) if (r.dst !== '0.0.0.0/0') unsupported(`ipam route to ${r.dst} (only the default route)`);
  return { name: conf.name, bridge: conf.bridge ?? 'cni0', subnet: first.subnet, gateway: first.gateway, rangeStart: first.rangeStart, rangeEnd: first.rangeEnd, mtu: conf.mtu, ...modes };
}

/** runtimeConfig.portMappings as ctnet port requests. */
export function portRequests(conf: NetConf): PortRequest[] {
  return (conf.runtimeConfig?.portMappings ?? []).map((m) => {
    const protocol = (m.protocol ?? 'tcp').toLowerCase();
    if (!(PROTOCOLS as readonly string[]).includes(protocol)) unsupported(`port mapping protocol ${protocol}`);
    const hostIp = !m.hostIP || m.hostIP === '0.0.0.0' ? null : m.hostIP;
    return { protocol: protocol as Protocol, hostIp, hostPort: m.hostPort, containerPort: m.containerPort };
  });
}

/** CNI_ARGS "K=V;K=V" (IP= and MAC= as Podman passes them for --ip and --mac-address). */
export function parseCniArgs(args: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (args ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
