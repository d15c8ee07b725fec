import type { EngineContext } from '../engine/context.js';
import { liveState } from '../engine/lookup.js';
import { parseSubnet } from '../addr/ipv4.js';
import { readSysctl } from '../kernel/sysctl.js';
import { isBridgeNetwork, type ContainerRecord } from '../store/store.js';
import { parseSegmentLink } from '../names.js';

/** What exists now, read from the kernel (links, addresses) and the state (intent, names). */
export interface Topology {
  host: { netns: string | null; interfaces: { name: string; up: boolean; addresses: string[] }[]; ipForward: string | null };
  networks: TopologyNetwork[];
  /** ctnet's NAT and filtering, one line each. */
  rules: string[];
}

export interface TopologyNetwork {
  name: string;
  bridge: string;
  bridgePresent: boolean;
  gateway: string;
  subnet: string;
  internal: boolean;
  ipMasq: boolean;
  containers: TopologyContainer[];
  /** An overlay network: its VXLAN device here, and the other hosts' blocks and containers. */
  overlay?: {
    clusterSubnet: string; vni: number; device: string; devicePresent: boolean; host: string; underlay: string;
    peers: { host: string; block: string; underlay: string }[];
    remote: { host: string; name: string; ip: string }[];
  };
}

export interface TopologyContainer {
  name: string;
  id: string;
  hostname: string;
  state: string;
  ip: string | null;
  prefix: number;
  /** Dual stack: the IPv6 address with its prefix length (e.g. fd00:db8::2/64). */
  ip6?: string;
  ifname: string;
  hostVeth: string | null;
  vethPresent: boolean;
  netns: string | null;
  ports: { protocol: string; hostIp: string; hostPort: number; containerPort: number }[];
}

export function readTopology(ctx: EngineContext): Topology {
  const rtnl = ctx.kernel().rtnl();
  // Names, and the attributes of the host's own interfaces only: listing every link fills every
  // container's veth (~1 s at 10,000 containers, see Rtnl.listLinks).
  const present = new Set(ctx.kernel().hostLinkNames());
  const addresses = rtnl.listAddresses();
  // The picture is of bridges: a macvlan network's containers sit on its parent's segment, outside it.
  const networks = ctx.store.listNetworks().filter(isBridgeNetwork);
  const ours = new Set(networks.flatMap((n) => [n.bridge, ...(n.overlay ? [n.overlay.device] : [])]));
  // Every container and port read once (10,000 containers: a network's read again cost ~100 ms, a port look-up each 50).
  const containers = ctx.store.listContainers();
  const ports = ctx.store.allPorts();
  const onNetwork = new Map<string, ContainerRecord[]>();
  for (const c of containers) {
    if (c.networkId === null) continue;
    const list = onNetwork.get(c.networkId);
    if (list) list.push(c);
    else onNetwork.set(c.networkId, [c]);
  }
  const veths = new Set([
    ...containers.map((c) => c.hostVeth).filter(Boolean),
    ...networks.flatMap((n) => ctx.store.connectionsOn(n.id).map((a) => a.hostVeth)),
  ]);
  const ipForward = ctx.kernel().inHost(readForward);
  const topology: Topology = {
    host: {
      netns: ctx.render.hostNetns,
      interfaces: [...present]
        .filter((name) => !ours.has(name) && !veths.has(name) && !parseSegmentLink(name))
        .flatMap((name) => rtnl.findLink(name) ?? [])
        .map((l) => ({ name: l.name, up: l.up, addresses: addresses.filter((a) => a.index === l.index).map((a) => `${a.address}/${a.prefix}`) })),
      ipForward,
    },
    networks: networks.map((n) => ({
      name: n.name, bridge: n.bridge, bridgePresent: present.has(n.bridge), gateway: n.gateway, subnet: n.subnet, internal: n.internal, ipMasq: n.ipMasq,
      ...(n.overlay ? {
        overlay: {
          clusterSubnet: n.overlay.clusterSubnet, vni: n.overlay.vni, device: n.overlay.device, devicePresent: present.has(n.overlay.device), host: n.overlay.host, underlay: n.overlay.underlay,
          peers: ctx.store.overlayPeers(n.id).map((p) => ({ host: p.host, block: p.block, underlay: p.underlay })),
          remote: ctx.store.remoteEndpoints(n.id).map((e) => ({ host: e.host, name: e.name, ip: e.ip })),
        },
      } : {}),
      containers: (onNetwork.get(n.id) ?? []).map((c) => ({
        name: c.name, id: c.id, hostname: c.hostname, state: liveState(c), ip: c.ip, prefix: parseSubnet(n.subnet).prefix, ifname: c.ifname,
        ...(c.ip6 && n.subnet6 ? { ip6: `${c.ip6}/${n.subnet6.split('/')[1]}` } : {}),
        hostVeth: c.hostVeth, vethPresent: c.hostVeth !== null && present.has(c.hostVeth), netns: c.netns,
        ports: (ports.get(c.id) ?? []).map((p) => ({ protocol: p.protocol, hostIp: p.hostIp ?? '0.0.0.0', hostPort: p.hostPort, containerPort: p.containerPort })),
      })).concat(
        // Containers connected to this network as a further one (network connect): their ethN here.
        ctx.store.connectionsOn(n.id).flatMap((a) => {
          const c = ctx.store.getContainer(a.containerId);
          if (!c) return [];
          return [{
            name: c.name, id: c.id, hostname: c.hostname, state: liveState(c), ip: a.ip, prefix: parseSubnet(n.subnet).prefix, ifname: a.ifname,
            hostVeth: a.hostVeth, vethPresent: a.hostVeth !== null && present.has(a.hostVeth), netns: c.netns, ports: [],
          }];
        }),
      ),
    })),
    rules: [],
  };
  topology.rules = describeRules(topology);
  return topology;
}

const readForward = (): string | null => readSysctl('net.ipv4.ip_forward') ?? null;

/** The firewall in words, from the same state the ruleset is rendered from. */
function describeRules(t: Topology): string[] {
  const rules: string[] = [];
  for (const n of t.networks) {
    if (n.overlay) rules.push(`${n.name}: overlay, ${n.bridge} and ${n.overlay.device} are one network; other blocks of ${n.overlay.clusterSubnet} are reached with the source kept; nothing else passes ${n.overlay.device}`);
    if (n.internal) rules.push(`${n.name}: internal, nothing is forwarded in or out of ${n.bridge}`);
    else if (n.ipMasq) rules.push(`${n.name}: masquerade ${n.subnet} leaving through any interface but a ctnet bridge; new connections from other hosts only through published ports`);
    else rules.push(`${n.name}: routed, ${n.subnet} leaves with its own addresses and is reachable directly`);
  }
  for (const n of t.networks) {
    for (const c of n.containers) {
      for (const p of c.ports) if (c.ip) rules.push(`DNAT ${p.hostIp}:${p.hostPort}/${p.protocol} -> ${c.ip}:${p.containerPort} (${c.name})`);
    }
  }
  if (t.networks.length) {
    rules.push('masquerade 127.0.0.0/8 onto a bridge (published ports on localhost) and DNATed traffic from a subnet back onto a bridge (hairpin)');
    if (t.networks.length > 1) rules.push('networks are isolated from each other');
  }
  return rules;
}
