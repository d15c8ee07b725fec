import { z } from 'zod';
import type { CniNetworkSpec } from '../engine/cni.js';
import { PROTOCOLS, type PortRequest, type Protocol } from '../ipam/ports.js';
import { subnetOf, toInt } from '../addr/ipv4.js';
import { gateway6Of, parseSubnet6 } from '../addr/ipv6.js';
import ipaddr from 'ipaddr.js';
import type { DelegatedAddress } from './delegate.js';
import { CNI_ERROR, CniError, SUPPORTED_VERSIONS, type CniVersion } from './spec.js';
import { isIPv6 } from '../addr/family.js';

/** host-local is served by ctnet itself; any other IPAM type is delegated to that plugin. */
export const isDelegatedIpam = (conf: NetConf): boolean => conf.ipam !== undefined && conf.ipam.type !== 'host-local';

/**
 * The configuration's schema and the index of its keys, built at first use: the CLI carries this
 * module, and building them cost ~2 ms of every command's start.
 */
function buildSchema() {
  const port = z.number().int().min(1).max(65535);
  const range = z.object({ subnet: z.string(), rangeStart: z.string().optional(), rangeEnd: z.string().optional(), gateway: z.string().optional() }).passthrough();
  const attachment = z.object({ containerID: z.string(), ifname: z.string() }).passthrough();

  // The network configuration: the bridge plugin's keys plus host-local's IPAM keys, runtime capabilities.
  const NetConf = z
    .object({
      cniVersion: z.string(),
      name: z.string().min(1),
      type: z.string(),
      bridge: z.string().max(15).optional(),
      isGateway: z.boolean().optional(),
      isDefaultGateway: z.boolean().optional(),
      ipMasq: z.boolean().optional(),
      /** ctnet's own: Docker 28's block of routed access to a masquerading network's containers (default false, as the bridge plugin). */
      blockDirectAccess: z.boolean().optional(),
      mtu: z.number().int().min(68).max(65535).optional(),
      /**
       * ctnet's own: the network is an overlay across the hosts of the etcd cluster at `store` (this
       * node joins on its first ADD, as `host`, reached at `advertise`); ipam's subnet is the whole
       * network's, each node leasing a `/blockPrefix` of it.
       */
      overlay: z.object({
        store: z.string(), host: z.string().optional(), advertise: z.string().optional(), ttl: z.number().int().optional(), blockPrefix: z.number().int().optional(),
      }).passthrough().optional(),
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
          bandwidth: z.object({ ingressRate: z.number().int().nonnegative().optional(), ingressBurst: z.number().int().nonnegative().optional(), egressRate: z.number().int().nonnegative().optional(), egressBurst: z.number().int().nonnegative().optional() }).passthrough().optional(),
        })
        .passthrough()
        .optional(),
      prevResult: z.record(z.unknown()).optional(),
      'cni.dev/valid-attachments': z.array(attachment).optional(),
      'cni.dev/attachments': z.array(attachment).optional(),
    })
    .passthrough();
  return { NetConf, range, knownKeys: new Map([...schemaKeys(NetConf)].map((k) => [k.toLowerCase(), k])) };
}
let built: ReturnType<typeof buildSchema> | undefined;
const schema = (): ReturnType<typeof buildSchema> => (built ??= buildSchema());

export type NetConf = z.infer<ReturnType<typeof buildSchema>['NetConf']>;
type Range = z.infer<ReturnType<typeof buildSchema>['range']>;

/** Every key name the schema reads, at any depth. */
function schemaKeys(schema: z.ZodTypeAny, into = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(schema.shape as Record<string, z.ZodTypeAny>)) {
      into.add(key);
      schemaKeys(child, into);
    }
  } else if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schemaKeys(schema.unwrap(), into);
  else if (schema instanceof z.ZodArray) schemaKeys(schema.element, into);
  return into;
}

/**
 * Keys as Go's encoding/json matches them: a key that is not spelled as ctnet reads it but equals one
 * of its keys case-insensitively means that key (containerd sends runtimeConfig.portMappings as
 * {"HostPort": ..., "ContainerPort": ..., "Protocol": ..., "HostIP": ...}, and the reference plugins,
 * written in Go, take it); null is the zero value, as absent. prevResult is another plugin's output
 * and is passed on as it came.
 */
export function goKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, v] of entries) {
    // Go decodes null as the zero value: for ctnet's optional keys, as if absent.
    if (v === null) continue;
    const known = schema().knownKeys.get(key.toLowerCase());
    const name = known !== undefined && !(known in (value as object) && known !== key) ? known : key;
    out[name] = name === 'prevResult' ? v : goKeys(v);
  }
  return out;
}

/** What DEL and GC read of a configuration: they must not fail on what they do not need (runtimeConfig, ranges, ...). */
const DEL_KEYS = ['cniVersion', 'name', 'type', 'cni.dev/valid-attachments', 'cni.dev/attachments'];

function keepForDel(json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const o = json as Record<string, unknown>;
  // ipam.type says whom DEL is delegated to, ipam.dataDir where the state is: both are needed.
  const given = o.ipam && typeof o.ipam === 'object' ? (o.ipam as Record<string, unknown>) : {};
  const ipam = typeof given.type === 'string' ? { ipam: { type: given.type, ...(typeof given.dataDir === 'string' ? { dataDir: given.dataDir } : {}) } } : {};
  return { ...Object.fromEntries(DEL_KEYS.filter((k) => k in o).map((k) => [k, o[k]])), ...ipam };
}

/** The configuration on stdin; `forDel`: only what DEL and GC need is read (and can be refused). */
export function parseNetConf(text: string, forDel = false): NetConf {
  let json: unknown;
  try {
    json = goKeys(JSON.parse(text));
  } catch (err) {
    throw new CniError(CNI_ERROR.decoding, `the network configuration on stdin is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema().NetConf.safeParse(forDel ? keepForDel(json) : json);
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
    // The bridge plugin's defaults: no masquerade unless asked, routed access to the pods allowed.
    ipMasq: conf.ipMasq === true,
    blockDirect: conf.blockDirectAccess === true,
    defaultRoute: conf.isDefaultGateway === true || (conf.ipam?.routes ?? []).some((r) => r.dst === '0.0.0.0/0'),
  };
  const ipam = conf.ipam;
  if (!ipam) throw new CniError(CNI_ERROR.invalidConfig, 'the configuration has no ipam section; add "ipam": {"type": "host-local", "subnet": "10.88.0.0/16"}');
  if (delegated) {
    // Another IPAM plugin chose the address: the network is the subnet around it.
    const subnet = subnetOf(toInt(delegated.ip), delegated.prefix).cidr;
    return { name: conf.name, bridge: conf.bridge ?? 'cni0', subnet, gateway: delegated.gateway, mtu: conf.mtu, ...modes };
  }
  const ranges = (ipam.ranges ?? []).flat();
  const v4 = ranges.filter((r) => !isIPv6(r.subnet));
  const v6 = ranges.filter((r) => isIPv6(r.subnet));
  const first = v4[0] ?? (ipam.subnet ? { subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway } : undefined);
  if (!first) throw new CniError(CNI_ERROR.invalidConfig, 'ipam has no IPv4 subnet; set "subnet" or "ranges": [[{"subnet": "10.88.0.0/16"}]]');
  if (v4.length > 1) unsupported('more than one IPv4 range');
  if (v6.length > 1) unsupported('more than one IPv6 range');
  const six = v6[0] ? dualStack(v6[0]) : undefined;
  return {
    name: conf.name, bridge: conf.bridge ?? 'cni0', subnet: first.subnet, gateway: first.gateway, rangeStart: first.rangeStart, rangeEnd: first.rangeEnd, mtu: conf.mtu,
    ...modes, ...(six ? { subnet6: six } : {}), routes: extraRoutes(ipam.routes ?? [], six !== undefined),
  };
}

/** An IPv6 range: dual stack, with the gateway ctnet gives every IPv6 subnet (its first address). */
function dualStack(r: Range): string {
  let subnet;
  try {
    subnet = parseSubnet6(r.subnet);
  } catch (err) {
    throw new CniError(CNI_ERROR.invalidConfig, (err as Error).message);
  }
  if (r.gateway && r.gateway !== gateway6Of(subnet)) unsupported(`IPv6 gateway ${r.gateway} (ctnet's IPv6 gateway is the subnet's first address, ${gateway6Of(subnet)})`);
  if (r.rangeStart || r.rangeEnd) unsupported('rangeStart/rangeEnd in an IPv6 range');
  return subnet.cidr;
}

/** ipam.routes other than the default ones: routes inside the container, via the route's gw or the network's gateway. */
function extraRoutes(routes: readonly { dst: string; gw?: string }[], dual: boolean): { dst: string; gw?: string }[] {
  const out: { dst: string; gw?: string }[] = [];
  for (const r of routes) {
    if (r.dst === '0.0.0.0/0' || r.dst === '::/0') continue;
    if (!ipaddr.isValidCIDR(r.dst)) throw new CniError(CNI_ERROR.invalidConfig, `ipam route ${r.dst} is not CIDR notation, e.g. 192.0.2.0/24`);
    if (isIPv6(r.dst) && !dual) throw new CniError(CNI_ERROR.invalidConfig, `ipam route ${r.dst} is IPv6 but no range is; add an IPv6 range`);
    // The kernel wants the network address: 192.0.2.7/24 is 192.0.2.0/24.
    const [addr, len] = ipaddr.parseCIDR(r.dst);
    const network = addr.kind() === 'ipv6' ? ipaddr.IPv6.networkAddressFromCIDR(r.dst) : ipaddr.IPv4.networkAddressFromCIDR(r.dst);
    out.push({ dst: `${network.toString()}/${len}`, ...(r.gw ? { gw: r.gw } : {}) });
  }
  return out;
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
