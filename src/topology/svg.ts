import { createRequire } from 'node:module';
import type { Topology, TopologyNetwork } from './model.js';

/** The topology as SVG, laid out by ELK's layered algorithm (host, bridges, containers left to right). */

interface ElkLabel { text: string; width: number; height: number; x?: number; y?: number }
interface ElkNode { id: string; width: number; height: number; x?: number; y?: number; labels?: ElkLabel[] }
interface ElkPoint { x: number; y: number }
interface ElkEdge { id: string; sources: string[]; targets: string[]; labels?: ElkLabel[]; sections?: { startPoint: ElkPoint; endPoint: ElkPoint; bendPoints?: ElkPoint[] }[] }
export interface ElkGraph { id: string; layoutOptions: Record<string, string>; children: ElkNode[]; edges: ElkEdge[]; width?: number; height?: number }
interface Elk { layout(g: ElkGraph): Promise<ElkGraph> }

/** ELK in the calling thread (the CLI's `topology --format svg`). */
const layoutHere = (g: ElkGraph): Promise<ElkGraph> => new (createRequire(import.meta.url)('elkjs/lib/elk.bundled.js') as new () => Elk)().layout(g);

const CHAR = 7;
const LINE = 15;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const box = (id: string, lines: string[]): ElkNode => ({
  id,
  width: Math.max(...lines.map((l) => l.length)) * CHAR + 20,
  height: lines.length * LINE + 12,
  labels: lines.map((text) => ({ text, width: text.length * CHAR, height: LINE })),
});
const label = (text: string): ElkLabel => ({ text, width: text.length * CHAR, height: LINE });
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * At most this many container boxes in a drawing. ELK's layered layout grows faster than the graph
 * (one network of 300 running containers took ~1.4 s, of 1,000 ~12 s, with `ctnet serve` answering
 * nothing meanwhile), and a column of a thousand boxes is no picture. What is left of a network is
 * one box that counts it.
 */
export const MAX_CONTAINER_BOXES = 100;

/**
 * The containers that get a box of their own: each network's in turn, one at a time, so every network
 * shows some; within a network those that publish ports first (their arrows are what the drawing is
 * for), then in the topology's order.
 */
export function drawnContainers(networks: readonly TopologyNetwork[], max = MAX_CONTAINER_BOXES): Set<string> {
  const queues = networks.map((n) => {
    const running = n.containers.filter((c) => c.state === 'running');
    return [...running.filter((c) => c.ports.length), ...running.filter((c) => !c.ports.length)];
  });
  const drawn = new Set<string>();
  for (let i = 0; drawn.size < max && queues.some((q) => i < q.length); i++) {
    for (const q of queues) if (i < q.length && drawn.size < max) drawn.add(q[i].id);
  }
  return drawn;
}

export interface SvgNodeBox { id: string; x: number; y: number; width: number; height: number }

/**
 * Lays the topology out (with `layout`: ELK here, or on another thread) and returns the SVG and the
 * node boxes (tests check nothing overlaps). Long: the graph, its layout and its drawing read best in one place.
 */
export async function topologySvg(t: Topology, layout: (g: ElkGraph) => Promise<ElkGraph> = layoutHere): Promise<{ svg: string; boxes: SvgNodeBox[] }> {
  const children: ElkNode[] = [box('host', ['host' + (t.host.netns ? ` (${t.host.netns})` : ''), ...t.host.interfaces.filter((i) => i.name !== 'lo').map((i) => `${i.name} ${i.addresses.join(' ')}`)])];
  const edges: ElkEdge[] = [];
  const kinds = new Map<string, 'link' | 'port'>();
  // A container on several networks is one box with a line per interface, linked to each bridge.
  const containerBoxes = new Map<string, string[]>();
  const drawn = drawnContainers(t.networks);
  for (const n of t.networks) {
    const b = `bridge:${n.bridge}`;
    children.push(box(b, [`bridge ${n.bridge}`, `${n.gateway}/${n.subnet.split('/')[1]}`, `network ${n.name}${n.internal ? ' (internal)' : n.ipMasq ? '' : ' (routed)'}`]));
    edges.push({ id: `e:${b}`, sources: ['host'], targets: [b] });
    kinds.set(`e:${b}`, 'link');
    // An overlay: its VXLAN device beside the bridge, and a box per other host with its block and containers.
    if (n.overlay) {
      const vx = `vxlan:${n.overlay.device}`;
      children.push(box(vx, [`VXLAN ${n.overlay.device}`, `VNI ${n.overlay.vni} via ${n.overlay.underlay}`, `overlay ${n.overlay.clusterSubnet}`]));
      edges.push({ id: `e:${vx}`, sources: [b], targets: [vx] });
      kinds.set(`e:${vx}`, 'link');
      for (const peer of n.overlay.peers) {
        const id = `remote:${n.name}:${peer.host}`;
        children.push(box(id, [`host ${peer.host} ${peer.underlay}`, `block ${peer.block}`, ...n.overlay.remote.filter((r) => r.host === peer.host).map((r) => `${r.name} ${r.ip}`)]));
        edges.push({ id: `e:${id}`, sources: [vx], targets: [id], labels: [label('UDP 4789')] });
        kinds.set(`e:${id}`, 'link');
      }
    }
    const running = n.containers.filter((x) => x.state === 'running');
    for (const c of running.filter((x) => drawn.has(x.id))) {
      const id = `ct:${c.id}`;
      const lines = containerBoxes.get(id);
      const iface = [`${c.ifname} ${c.ip}/${c.prefix}`, ...(c.ip6 ? [`    ${c.ip6}`] : [])];
      if (lines) lines.push(...iface);
      else containerBoxes.set(id, [c.name, ...iface]);
      const edge = `e:${id}:${n.bridge}`;
      edges.push({ id: edge, sources: [b], targets: [id], labels: c.hostVeth ? [label(c.hostVeth)] : [] });
      kinds.set(edge, 'link');
      c.ports.forEach((p, i) => {
        const pid = `p:${c.id}:${i}`;
        edges.push({ id: pid, sources: ['host'], targets: [id], labels: [label(`${p.hostIp}:${p.hostPort}/${p.protocol} → ${c.ip}:${p.containerPort}`)] });
        kinds.set(pid, 'port');
      });
    }
    const rest = running.filter((x) => !drawn.has(x.id));
    if (rest.length) {
      const id = `more:${n.name}`;
      const ports = rest.reduce((sum, c) => sum + c.ports.length, 0);
      children.push(box(id, [plural(rest.length, 'more container'), ...(ports ? [`publishing ${plural(ports, 'port')} (rules below)`] : []), `ctnet ps --filter network=${n.name}`]));
      edges.push({ id: `e:${id}`, sources: [b], targets: [id] });
      kinds.set(`e:${id}`, 'link');
    }
  }
  for (const [id, lines] of containerBoxes) children.push(box(id, lines));
  const g = await layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '18',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
    },
    children,
    edges,
  });
  const rulesTop = (g.height ?? 0) + 20;
  const width = Math.max(g.width ?? 0, ...t.rules.map((r) => r.length * CHAR + 20)) + 20;
  const height = rulesTop + (t.rules.length ? (t.rules.length + 1) * LINE + 10 : 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="sans-serif" font-size="12">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#0969da"/></marker></defs>',
    '<rect width="100%" height="100%" fill="white"/>',
  ];
  for (const e of g.edges) {
    const port = kinds.get(e.id) === 'port';
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      out.push(`<polyline points="${pts}" fill="none" stroke="${port ? '#0969da' : '#57606a'}" stroke-width="${port ? 1 : 1.5}"${port ? ' stroke-dasharray="5,3" marker-end="url(#arrow)"' : ''}/>`);
    }
    for (const l of e.labels ?? []) out.push(`<text x="${(l.x ?? 0).toFixed(1)}" y="${((l.y ?? 0) + 11).toFixed(1)}" fill="${port ? '#0969da' : '#57606a'}" font-size="11">${esc(l.text)}</text>`);
  }
  const boxes: SvgNodeBox[] = [];
  for (const n of g.children) {
    const [x, y] = [n.x ?? 0, n.y ?? 0];
    boxes.push({ id: n.id, x, y, width: n.width, height: n.height });
    const fill = n.id === 'host' ? '#fff8c5' : n.id.startsWith('bridge:') || n.id.startsWith('vxlan:') ? '#ddf4ff' : n.id.startsWith('remote:') || n.id.startsWith('more:') ? '#f6f8fa' : '#dafbe1';
    out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.width}" height="${n.height}" rx="6" fill="${fill}" stroke="#57606a"/>`);
    (n.labels ?? []).forEach((l, i) => out.push(`<text x="${(x + 10).toFixed(1)}" y="${(y + 18 + i * LINE).toFixed(1)}"${i === 0 ? ' font-weight="bold"' : ''}>${esc(l.text)}</text>`));
  }
  if (t.rules.length) {
    out.push(`<text x="10" y="${rulesTop + LINE}" font-weight="bold">rules</text>`);
    t.rules.forEach((r, i) => out.push(`<text x="10" y="${rulesTop + LINE * (i + 2)}">${esc(r)}</text>`));
  }
  out.push('</svg>');
  return { svg: out.join('\n') + '\n', boxes };
}
