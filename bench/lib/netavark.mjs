/** Podman's network backend (Debian's netavark 1.4): setup/teardown of one container, addresses supplied as Podman does. */
import { existsSync, mkdirSync } from 'node:fs';
import { runIn } from './netns.mjs';

export const NETAVARK = '/usr/lib/podman/netavark';
export const netavarkAvailable = () => existsSync(NETAVARK);

export function netavark({ hostNs, configDir, subnet, gateway, bridge = 'podman0' }) {
  mkdirSync(configDir, { recursive: true });
  const options = (containerId, ip, ports) => ({
    container_id: containerId,
    container_name: `c${containerId.slice(0, 8)}`,
    port_mappings: ports.map((p) => ({ host_ip: '', container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: 'tcp' })),
    networks: { bench: { static_ips: [ip], interface_name: 'eth0' } },
    network_info: {
      bench: {
        name: 'bench', id: 'b'.repeat(64), driver: 'bridge', network_interface: bridge,
        subnets: [{ subnet, gateway }], ipv6_enabled: false, internal: false, dns_enabled: false,
        ipam_options: { driver: 'host-local' },
      },
    },
  });
  function run(verb, containerId, netnsPath, ip, ports) {
    const r = runIn(hostNs, NETAVARK, ['--config', configDir, verb, netnsPath], { input: JSON.stringify(options(containerId, ip, ports)), env: { PATH: process.env.PATH } });
    if (r.status !== 0) throw new Error(`netavark ${verb} failed (${r.status}): ${r.stdout}${r.stderr}`);
  }
  return {
    setup: (id, netnsPath, ip, ports) => run('setup', id, netnsPath, ip, ports),
    teardown: (id, netnsPath, ip, ports) => run('teardown', id, netnsPath, ip, ports),
  };
}
