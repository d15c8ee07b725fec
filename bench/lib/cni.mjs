/**
 * The reference CNI chain (Debian's containernetworking-plugins): bridge + host-local, portmap,
 * firewall, executed as a runtime executes it: one process per plugin, env vars, JSON on stdin,
 * prevResult passed along on ADD, and DEL in reverse order with the cached result.
 */
import { existsSync } from 'node:fs';
import { runIn } from './netns.mjs';

export const CNI_PATH = '/usr/lib/cni';
export const cniAvailable = () => ['bridge', 'host-local', 'portmap', 'firewall'].every((p) => existsSync(`${CNI_PATH}/${p}`));

export function cniChain({ hostNs, dataDir, subnet, bridge = 'cni0' }) {
  const conflist = {
    cniVersion: '1.0.0',
    name: 'benchnet',
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall' },
    ],
  };

  function invoke(plugin, command, containerId, netnsPath, prevResult, portMappings) {
    const { capabilities, ...conf } = plugin;
    const stdin = { cniVersion: conflist.cniVersion, name: conflist.name, ...conf };
    if (capabilities?.portMappings) stdin.runtimeConfig = { portMappings };
    if (prevResult) stdin.prevResult = prevResult;
    const r = runIn(hostNs, `${CNI_PATH}/${plugin.type}`, [], {
      input: JSON.stringify(stdin),
      env: { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netnsPath, CNI_IFNAME: 'eth0', CNI_PATH, PATH: process.env.PATH },
      maxBuffer: 16 << 20,
    });
    if (r.status !== 0) throw new Error(`CNI ${plugin.type} ${command} failed (${r.status}): ${r.stdout}${r.stderr}`);
    return r.stdout ? JSON.parse(r.stdout) : undefined;
  }

  return {
    /** Returns the chain's final result (what libcni caches for DEL). */
    add(containerId, netnsPath, portMappings) {
      let prev;
      for (const p of conflist.plugins) prev = invoke(p, 'ADD', containerId, netnsPath, prev, portMappings);
      return prev;
    },
    del(containerId, netnsPath, portMappings, prevResult) {
      for (const p of [...conflist.plugins].reverse()) invoke(p, 'DEL', containerId, netnsPath, prevResult, portMappings);
    },
  };
}
