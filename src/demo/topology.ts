import type { ContainerView, NetworkView } from '../engine/views.js';

/** A text drawing of the host, its bridges, veth pairs, containers and published ports. */
export function drawTopology(hostLabel: string, networks: readonly NetworkView[], containers: readonly ContainerView[]): string {
  const lines: string[] = [hostLabel];
  networks.forEach((n, ni) => {
    const lastNet = ni === networks.length - 1;
    const branch = lastNet ? '└──' : '├──';
    const pipe = lastNet ? '   ' : '│  ';
    lines.push(`${branch} bridge ${n.Bridge}  ${n.Gateway}/${n.Subnet.split('/')[1]}  network "${n.Name}"${n.Internal ? ' (internal)' : `  masquerade ${n.Subnet} when leaving through another interface`}`);
    const members = containers.filter((c) => c.NetworkSettings.Network === n.Name && c.State.Running);
    members.forEach((c, ci) => {
      const last = ci === members.length - 1;
      lines.push(`${pipe} ${last ? '└──' : '├──'} ${c.NetworkSettings.HostVeth} ══ eth0 ${c.NetworkSettings.IPAddress}  container ${c.Name} (hostname ${c.Config.Hostname})`);
      for (const p of c.NetworkSettings.Ports) {
        lines.push(`${pipe} ${last ? '   ' : '│  '}     ↖ ${p.HostIp}:${p.HostPort}/${p.Protocol} → ${c.NetworkSettings.IPAddress}:${p.ContainerPort}  (DNAT)`);
      }
    });
  });
  return lines.join('\n') + '\n';
}
