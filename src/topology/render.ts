import type { Topology } from './model.js';

/** A tree: the host and its interfaces, each bridge with its gateway, each veth pair and container, ports, rules. */
export function topologyText(t: Topology): string {
  const out: string[] = [];
  const hostIfs = t.host.interfaces.filter((i) => i.name !== 'lo').map((i) => `${i.name} ${i.addresses.join(' ') || '(no address)'}${i.up ? '' : ' DOWN'}`);
  out.push(`host${t.host.netns ? ` (namespace ${t.host.netns})` : ''}  ${hostIfs.join(', ') || 'no interfaces'}  ip_forward=${t.host.ipForward ?? '?'}`);
  t.networks.forEach((n, ni) => {
    const last = ni === t.networks.length - 1;
    const pipe = last ? '   ' : '│  ';
    const kind = n.internal ? 'internal' : n.ipMasq ? 'masquerade' : 'routed';
    out.push(`${last ? '└──' : '├──'} bridge ${n.bridge}  ${n.gateway}/${n.subnet.split('/')[1]}  network "${n.name}" (${kind})${n.bridgePresent ? '' : '  MISSING in the kernel (ctnet gc rebuilds it)'}`);
    const shown = n.containers.filter((c) => c.state === 'running' || c.state === 'created');
    shown.forEach((c, ci) => {
      const lastC = ci === shown.length - 1;
      const veth = c.hostVeth ? `${c.hostVeth}${c.vethPresent ? '' : ' (missing)'}` : '-';
      out.push(`${pipe} ${lastC ? '└──' : '├──'} ${veth} ══ ${c.ifname} ${c.ip ?? '-'}/${c.prefix}${c.ip6 ? ` ${c.ip6}` : ''}  container ${c.name} (hostname ${c.hostname})`);
      for (const p of c.ports) out.push(`${pipe} ${lastC ? '   ' : '│  '}     ↖ ${p.hostIp}:${p.hostPort}/${p.protocol} → ${c.ip}:${p.containerPort}  (DNAT)`);
    });
    const o = n.overlay;
    if (o) {
      out.push(`${pipe} ⇅ ${o.device} VXLAN ${o.vni} from ${o.underlay}, this host "${o.host}"'s block of ${o.clusterSubnet}${o.devicePresent ? '' : '  MISSING in the kernel'}`);
      for (const p of o.peers) {
        const names = o.remote.filter((r) => r.host === p.host).map((r) => `${r.name} ${r.ip}`);
        out.push(`${pipe}    → host "${p.host}" ${p.underlay}: block ${p.block}${names.length ? `  (${names.join(', ')})` : ''}`);
      }
    }
  });
  if (t.rules.length) out.push('', 'rules:', ...t.rules.map((r) => `  ${r}`));
  return out.join('\n') + '\n';
}

const q = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;

/** Graphviz: the host, bridges and containers as nodes, veth pairs and published ports as edges. */
export function topologyDot(t: Topology): string {
  const lines = ['digraph ctnet {', '  rankdir=LR;', '  node [shape=box, fontname="sans-serif"];'];
  const hostLabel = ['host', ...t.host.interfaces.filter((i) => i.name !== 'lo').map((i) => `${i.name} ${i.addresses.join(' ')}`)].join('\\n');
  lines.push(`  host [label=${q(hostLabel)}, shape=box3d];`);
  const interfaces = new Map<string, string[]>();
  for (const c of t.networks.flatMap((n) => n.containers)) interfaces.set(c.id, [...(interfaces.get(c.id) ?? []), `${c.ifname} ${c.ip}${c.ip6 ? ` ${c.ip6}` : ''}`]);
  for (const n of t.networks) {
    const b = `bridge_${n.bridge}`;
    lines.push(`  ${q(b)} [label=${q(`${n.bridge}\\n${n.gateway}/${n.subnet.split('/')[1]}\\n${n.name}`)}, shape=ellipse];`);
    lines.push(`  host -> ${q(b)} [arrowhead=none];`);
    for (const c of n.containers.filter((x) => x.state === 'running')) {
      const node = `ct_${c.id.slice(0, 12)}`;
      // A container on several networks: one node naming every interface, linked to each bridge.
      lines.push(`  ${q(node)} [label=${q([c.name, ...(interfaces.get(c.id) ?? [])].join('\\n'))}];`);
      lines.push(`  ${q(b)} -> ${q(node)} [label=${q(c.hostVeth ?? '')}, arrowhead=none];`);
      for (const p of c.ports) lines.push(`  host -> ${q(node)} [label=${q(`${p.hostIp}:${p.hostPort}/${p.protocol} → ${p.containerPort}`)}, style=dashed, color=blue];`);
    }
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
