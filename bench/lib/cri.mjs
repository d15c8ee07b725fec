/**
 * RunPodSandbox through containerd's CRI, as kubelet calls it: the CNI share is the time a pod with
 * one hostPort takes minus the time a hostNetwork pod takes (no CNI) on the same containerd. ctnet as
 * a node would run it (its conflist, no setup step: the plugin starts its daemon itself) against the
 * reference chain (bridge + host-local + portmap + firewall), each on a containerd of its own.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, criMissing, killProcessesMentioning, podConfig, removeCgroups, startContainerd } from '../../test/helpers/containerd.mjs';
import { cniAvailable } from './cni.mjs';
import { newNetns } from './netns.mjs';
import { summary, timeMsAsync } from './stats.mjs';

const SUBNET = '10.245.0.0/16';

function conflists(dataDir) {
  const ipam = { type: 'host-local', ranges: [[{ subnet: SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir };
  return {
    ctnet: { cniVersion: '1.0.0', name: 'podnet', plugins: [{ type: 'ctnet', bridge: 'cni0', isGateway: true, ipMasq: true, hairpinMode: true, ipam, capabilities: { portMappings: true } }] },
    reference: {
      cniVersion: '1.0.0', name: 'podnet',
      plugins: [
        { type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true, hairpinMode: true, ipam },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        { type: 'firewall' },
      ],
    },
  };
}

async function measureOne(impl, conflist, { iterations, warmup }, log) {
  const work = mkdtempSync(join(tmpdir(), `ctnet-bench-cri-${impl}-`));
  const hostNs = newNetns(`cri${impl.slice(0, 3)}`);
  const cgroupParent = `/ctnet-bench-cri-${process.pid}-${impl}`;
  let node;
  try {
    const archive = buildImage(work);
    node = await startContainerd({
      work: join(work, 'containerd'), hostNs, conflist,
      env: { CTNET_ROOT: join(work, 'ctnet'), CTNET_HOST_NETNS: hostNs, CTNET_CNI_SOCKET: join(work, 'cni.sock') },
    });
    node.ctr(['images', 'import', '--snapshotter', 'native', archive]);
    const times = { network: [], hostNetwork: [], stop: [] };
    let serial = 0;
    const pod = async (hostNetwork, record) => {
      const name = `p${serial++}`;
      const config = podConfig(name, { cgroupParent, hostNetwork, ports: hostNetwork ? [] : [[20000 + serial, 8080]] });
      const [ms, { pod_sandbox_id: id }] = await timeMsAsync(() => node.cri.call('RunPodSandbox', { config }));
      const [stopMs] = await timeMsAsync(async () => {
        await node.cri.call('StopPodSandbox', { pod_sandbox_id: id });
        await node.cri.call('RemovePodSandbox', { pod_sandbox_id: id });
      });
      if (record) {
        times[hostNetwork ? 'hostNetwork' : 'network'].push(ms);
        if (!hostNetwork) times.stop.push(stopMs);
      }
    };
    // Alternate the two kinds so drift affects both alike; the first pods warm containerd (and start ctnet's daemon).
    for (let i = 0; i < warmup; i++) { await pod(false, false); await pod(true, false); }
    for (let i = 0; i < iterations; i++) { await pod(false, true); await pod(true, true); }
    const r = { network: summary(times.network), hostNetwork: summary(times.hostNetwork), stopRemove: summary(times.stop) };
    r.cniShareP50 = r.network.p50 - r.hostNetwork.p50;
    log(`  ${impl.padEnd(9)} RunPodSandbox p50 ${r.network.p50.toFixed(0)} ms with a hostPort, ${r.hostNetwork.p50.toFixed(0)} ms hostNetwork: CNI share ${r.cniShareP50.toFixed(0)} ms`);
    return r;
  } finally {
    await node?.stop();
    killProcessesMentioning(work);
    removeCgroups(cgroupParent);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Resolves with { ctnet, reference, skipped } (reference or both null when something is missing). */
export async function benchCri(plan, log) {
  const missing = criMissing() ?? (cniAvailable() ? undefined : 'the reference CNI plugins are not installed (apt-get install -y containernetworking-plugins)');
  if (missing) return { ctnet: null, reference: null, skipped: [`CRI: ${missing}`] };
  log('containerd CRI (RunPodSandbox):');
  const lists = conflists('DATADIR');
  const withDir = (c, dir) => JSON.parse(JSON.stringify(c).replaceAll('DATADIR', dir));
  const dataDir = mkdtempSync(join(tmpdir(), 'ctnet-bench-cri-ipam-'));
  try {
    const reference = await measureOne('reference', withDir(lists.reference, join(dataDir, 'ref')), plan, log);
    const ctnet = await measureOne('ctnet', withDir(lists.ctnet, join(dataDir, 'ctnet')), plan, log);
    return { ctnet, reference, skipped: [] };
  } finally {
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
}
