// Kubernetes' path: containerd's CRI (driven over gRPC as kubelet drives it) with ctnet as the node's
// CNI plugin, no setup step (the plugin starts its daemon itself). Pods with and without a hostPort,
// pod to pod, a hostPort and a pod address from another host, and nothing left after Stop/Remove.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, LAB_ADDRESSES } from '../helpers/lab.mjs';
import { buildImage, criMissing, killProcessesMentioning, IMAGE, podConfig, removeCgroups, startContainerd } from '../helpers/containerd.mjs';

// CI sets CTNET_REQUIRE_CRI=1: there a missing containerd fails the test instead of skipping it.
const missing = process.env.CTNET_REQUIRE_CRI ? undefined : criMissing();
const SUBNET = '10.244.1.0/24';
let lab;
let work;
let node;
const cgroupParent = `/ctnet-cri-${process.pid}`;
const pods = new Map();

const conflist = (dataDir) => ({
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  plugins: [{
    type: 'ctnet', bridge: 'cni0', isGateway: true, isDefaultGateway: true, ipMasq: true, hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], dataDir },
    capabilities: { portMappings: true },
  }],
});

before(async () => {
  if (missing) return;
  lab = createLab();
  work = mkdtempSync(join(tmpdir(), 'ctnet-cri-'));
  const archive = buildImage(work);
  node = await startContainerd({
    work: join(work, 'containerd'), hostNs: lab.host, conflist: conflist(join(lab.root, 'cni')),
    env: { CTNET_ROOT: lab.root, CTNET_HOST_NETNS: lab.host, CTNET_CNI_SOCKET: join(work, 'cni.sock') },
  });
  node.ctr(['images', 'import', '--snapshotter', 'native', archive]);
});

after(async () => {
  if (missing) return;
  for (const id of pods.values()) {
    try { await node.cri.call('StopPodSandbox', { pod_sandbox_id: id }); await node.cri.call('RemovePodSandbox', { pod_sandbox_id: id }); } catch { /* already gone */ }
  }
  await node?.stop();
  killProcessesMentioning(work);
  removeCgroups(cgroupParent);
  lab?.close();
  rmSync(work, { recursive: true, force: true });
});

async function runPod(name, { ports = [], command }) {
  const config = podConfig(name, { cgroupParent, ports });
  const { pod_sandbox_id: id } = await node.cri.call('RunPodSandbox', { config });
  pods.set(name, id);
  const { container_id: cid } = await node.cri.call('CreateContainer', {
    pod_sandbox_id: id, sandbox_config: config,
    config: { metadata: { name: `${name}-main`, attempt: 0 }, image: { image: IMAGE }, command },
  });
  await node.cri.call('StartContainer', { container_id: cid });
  const status = (await node.cri.call('PodSandboxStatus', { pod_sandbox_id: id })).status;
  return { id, cid, ip: status.network?.ip };
}

const exec = async (cid, cmd) => {
  const r = await node.cri.call('ExecSync', { container_id: cid, cmd, timeout: 10 });
  return { code: r.exit_code, out: Buffer.from(r.stdout).toString().trim(), err: Buffer.from(r.stderr).toString().trim() };
};
const fromHost2 = (url) => spawnSync('ip', ['netns', 'exec', lab.host2, 'timeout', '5', 'busybox', 'wget', '-q', '-O', '-', url], { encoding: 'utf8' });
/** The pods ctnet's state holds (a CNI network's state lives under its ipam.dataDir). */
function podsInCtnet() {
  const r = lab.ctnet(['ps', '-a', '--json'], { CTNET_ROOT: join(lab.root, 'cni') });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).map((c) => ({ name: c.Name, ip: Object.values(c.NetworkSettings?.Networks ?? {})[0]?.IPAddress }));
}
const inSubnet = (ip) => ip?.startsWith('10.244.1.');

async function waitFor(fn, what) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = await fn();
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

test('containerd CRI with ctnet as the CNI plugin: pods, hostPort, pod to pod, routed access, and Stop/Remove leave nothing', { skip: missing }, async (t) => {
  const web = await runPod('web', { ports: [[8000, 8080]], command: ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'] });
  const client = await runPod('client', { command: ['/bin/sleep', '2147483647'] });

  await t.test('PodSandboxStatus reports the address ctnet gave, and the pod has it on eth0', async () => {
    assert.ok(inSubnet(web.ip) && inSubnet(client.ip) && web.ip !== client.ip, `pod IPs ${web.ip}, ${client.ip}`);
    const addr = await exec(client.cid, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr.out, new RegExp(` ${client.ip.replaceAll('.', '\\.')}/24 `));
    const route = await exec(client.cid, ['ip', 'route', 'show', 'default']);
    assert.match(route.out, /^default via 10\.244\.1\.1 dev eth0/);
    assert.ok(existsSync(join(work, 'cni.sock')), 'the plugin started its daemon itself (no setup step)');
    const listed = podsInCtnet();
    assert.deepEqual(listed.map((c) => c.ip).sort(), [web.ip, client.ip].sort(), `ctnet ps -a: ${JSON.stringify(listed)}`);
  });

  await t.test('pod to pod: the client reaches the web pod at its address, with its own address as source', async () => {
    const r = await waitFor(async () => {
      const x = await exec(client.cid, ['timeout', '5', 'wget', '-q', '-O', '-', `http://${web.ip}:8080/cgi-bin/who`]);
      return { ...x, ok: x.code === 0 };
    }, 'pod to pod');
    assert.equal(r.out, `web from ${client.ip}`);
  });

  await t.test('hostPort: another host reaches the web pod through the node address', async () => {
    const r = fromHost2(`http://${LAB_ADDRESSES.host}:8000/cgi-bin/who`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `web from ${LAB_ADDRESSES.host2}`);
  });

  await t.test('routed access: another host with a route to the pod CIDR reaches the pod address directly (no NAT)', async () => {
    execFileSync('ip', ['-n', lab.host2, 'route', 'add', SUBNET, 'via', LAB_ADDRESSES.host]);
    try {
      const r = fromHost2(`http://${web.ip}:8080/cgi-bin/who`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), `web from ${LAB_ADDRESSES.host2}`);
    } finally {
      execFileSync('ip', ['-n', lab.host2, 'route', 'del', SUBNET, 'via', LAB_ADDRESSES.host]);
    }
  });

  await t.test('StopPodSandbox and RemovePodSandbox (three DELs per pod) succeed and leave no veth, port map element or address', async () => {
    for (const [name, id] of pods) {
      await node.cri.call('StopPodSandbox', { pod_sandbox_id: id });
      await node.cri.call('StopPodSandbox', { pod_sandbox_id: id });
      await node.cri.call('RemovePodSandbox', { pod_sandbox_id: id });
      pods.delete(name);
      await assert.rejects(node.cri.call('PodSandboxStatus', { pod_sandbox_id: id }), /not found|does not exist/);
    }
    const ports = execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'master', 'cni0'], { encoding: 'utf8' });
    assert.equal(ports.trim(), '', 'no veth left on the bridge');
    const ruleset = JSON.parse(execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' })).nftables;
    const elements = ruleset.filter((x) => x.map || x.set).flatMap((x) => (x.map ?? x.set).elem ?? []);
    const podAddress = (e) => /10\.244\.1\.(\d+)/.exec(JSON.stringify(e))?.[1] > 1; // .1 is the gateway, the node's own
    assert.deepEqual(elements.filter(podAddress), [], 'no element names a pod address');
    assert.equal(JSON.stringify(elements).includes('8000'), false, 'the hostPort is gone');
    assert.deepEqual(podsInCtnet(), [], 'no attachment, so no address held');
  });
});
