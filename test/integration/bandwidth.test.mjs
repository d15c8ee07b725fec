// Per-container bandwidth: iperf3 through a container limited to 50 Mbit/s measures within 10% of it
// in both directions, an unlimited container beside it does not (the control), the shaping lives in
// the host namespace (a container with NET_ADMIN cannot lift it), and the CNI bandwidth capability
// (runtimeConfig.bandwidth) does the same with no bandwidth plugin in the chain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createLab, ROOT_DIR, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

const IPERF = spawnSync('iperf3', ['--version']).status === 0;
const skip = !IPERF && !process.env.CTNET_REQUIRE_IPERF3 ? 'iperf3 is not installed (apt-get install iperf3)' : false;
const LIMIT = 50e6;
let lab;
let server;

before(async () => {
  if (skip) return;
  lab = createLab();
  lab.ok(['network', 'create', 'bw', '--subnet', '172.37.0.0/24']);
  server = spawn('ip', ['netns', 'exec', lab.host2, 'iperf3', '-s', '-B', A.host2, '-p', '5201'], { stdio: 'ignore', detached: true });
  for (let i = 0; i < 50 && spawnSync('ip', ['netns', 'exec', lab.host2, 'sh', '-c', 'ss -ltn | grep -q :5201']).status !== 0; i++) execFileSync('sleep', ['0.1']);
});
after(() => {
  if (server) try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ }
  lab?.close();
});

/** iperf3 from a namespace to host2 for 3 s: bits/s the receiver counted (reverse: host2 sends to the namespace). */
function measure(netnsArgv, reverse) {
  const r = spawnSync(netnsArgv[0], [...netnsArgv.slice(1), 'iperf3', '-c', A.host2, '-p', '5201', '-t', '3', '-O', '1', '-J', ...(reverse ? ['-R'] : [])], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr || r.stdout);
  return JSON.parse(r.stdout).end.sum_received.bits_per_second;
}
const inContainer = (name) => [process.execPath, join(ROOT_DIR, 'bin', 'ctnet'), 'exec', name, '--'];
const mbit = (bps) => `${(bps / 1e6).toFixed(1)} Mbit/s`;
function near(t, bps, what) {
  t.diagnostic(`${what}: ${mbit(bps)}`);
  assert.ok(Math.abs(bps - LIMIT) <= LIMIT * 0.1, `${what}: ${mbit(bps)}, not within 10% of 50`);
}

test('run --ingress-rate/--egress-rate 50mbit: iperf3 measures 50 Mbit/s ±10% both ways; an unlimited container is faster', { skip }, (t) => {
  lab.ok(['run', '-d', '--name', 'limited', '--network', 'bw', '--tmpfs', '/tmp', '--ingress-rate', '50mbit', '--egress-rate', '50M', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'free', '--network', 'bw', '--tmpfs', '/tmp', '--', 'sleep', '600']);
  Object.assign(process.env, { CTNET_ROOT: lab.root, CTNET_HOST_NETNS: lab.host });
  try {
    near(t, measure(inContainer('limited'), false), 'egress (container sends)');
    near(t, measure(inContainer('limited'), true), 'ingress (container receives)');
    const free = measure(inContainer('free'), false);
    t.diagnostic(`control (unlimited): ${mbit(free)}`);
    assert.ok(free > LIMIT * 2, `control: the unlimited container sent only ${(free / 1e6).toFixed(1)} Mbit/s`);
  } finally {
    delete process.env.CTNET_ROOT;
    delete process.env.CTNET_HOST_NETNS;
  }
  const c = lab.json(['inspect', 'limited']);
  assert.deepEqual(c.HostConfig.Bandwidth, { IngressRate: 50e6, IngressBurst: 125000, EgressRate: 50e6, EgressBurst: 125000 });
  // In the host namespace: a token bucket on the host veth, an ifb of its own behind a redirect.
  const qdiscs = execFileSync('ip', ['netns', 'exec', lab.host, 'tc', 'qdisc', 'show'], { encoding: 'utf8' });
  assert.match(qdiscs, new RegExp(`qdisc tbf 1: dev ${c.NetworkSettings.HostVeth} root .*rate 50Mbit`));
  assert.match(qdiscs, new RegExp(`qdisc tbf 1: dev ctb${c.Id.slice(0, 12)} root .*rate 50Mbit`));
  lab.ok(['rm', '-f', 'limited', 'free']);
  assert.doesNotMatch(execFileSync('ip', ['-n', lab.host, '-o', 'link'], { encoding: 'utf8' }), /ctb[0-9a-f]{12}/, 'its ifb went with it');
});

test('a container with NET_ADMIN cannot lift its limit: the shaping is not in its namespace (control: shaping inside it is lifted)', { skip }, (t) => {
  lab.ok(['run', '-d', '--name', 'admin', '--network', 'bw', '--tmpfs', '/tmp', '--cap-add', 'NET_ADMIN', '--egress-rate', '50mbit', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'naive', '--network', 'bw', '--tmpfs', '/tmp', '--cap-add', 'NET_ADMIN', '--', 'sleep', '600']);
  // The control: the same limit as a qdisc in the container's own namespace, where a shaper without an ifb would put it.
  execFileSync('ip', ['netns', 'exec', lab.nsOf('naive'), 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '50mbit', 'burst', '125000', 'limit', '281250']);
  Object.assign(process.env, { CTNET_ROOT: lab.root, CTNET_HOST_NETNS: lab.host });
  try {
    near(t, measure(inContainer('naive'), false), 'control, shaped in its own namespace');
    // The attack, from inside each container: replace the root qdisc of its interface.
    for (const c of ['naive', 'admin']) {
      const r = lab.ctnet(['exec', c, '--', 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'pfifo_fast']);
      assert.equal(r.code, 0, r.stderr);
    }
    const lifted = measure(inContainer('naive'), false);
    t.diagnostic(`control after the attack: ${mbit(lifted)}`);
    assert.ok(lifted > LIMIT * 2, `control: the attack should lift an in-namespace limit, measured ${mbit(lifted)}`);
    near(t, measure(inContainer('admin'), false), 'ctnet-limited container after the attack');
  } finally {
    delete process.env.CTNET_ROOT;
    delete process.env.CTNET_HOST_NETNS;
  }
  lab.ok(['rm', '-f', 'admin', 'naive']);
});

test('CNI runtimeConfig.bandwidth is honoured natively: a pod limited to 50 Mbit/s both ways, DEL removes its ifb', { skip }, (t) => {
  const ns = `${lab.host.replace(/-host$/, '')}-bwpod`;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const id = 'b'.repeat(64);
  const conf = {
    cniVersion: '1.0.0', name: 'bwpods', type: 'ctnet', bridge: 'cnibw0', isGateway: true, ipMasq: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.89.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
    runtimeConfig: { bandwidth: { ingressRate: LIMIT, ingressBurst: 1_000_000, egressRate: LIMIT, egressBurst: 1_000_000 } },
  };
  const cni = (command) => spawnSync(join(ROOT_DIR, 'bin', 'cni', 'ctnet'), [], {
    input: JSON.stringify(conf), encoding: 'utf8',
    env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_PATH: join(ROOT_DIR, 'bin', 'cni'), CTNET_HOST_NETNS: lab.host, CTNET_ROOT: lab.root, CTNET_CNI_DAEMON: 'off', CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' },
  });
  try {
    const add = cni('ADD');
    assert.equal(add.status, 0, add.stdout + add.stderr);
    near(t, measure(['ip', 'netns', 'exec', ns], false), 'CNI egress');
    near(t, measure(['ip', 'netns', 'exec', ns], true), 'CNI ingress');
    assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link'], { encoding: 'utf8' }), /ctb/);
    const del = cni('DEL');
    assert.equal(del.status, 0, del.stdout + del.stderr);
    assert.doesNotMatch(execFileSync('ip', ['-n', lab.host, '-o', 'link'], { encoding: 'utf8' }), /ctb[0-9a-f]{12}/);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    lab.ctnet(['network', 'rm', 'bwpods']);
  }
});

test('bad rates and bursts are refused in one line; modes without an interface of their own refuse limits', { skip }, () => {
  for (const [args, pattern] of [
    [['--ingress-rate', '50mbps'], /bytes per second in tc/],
    [['--egress-rate', 'fast'], /invalid --egress-rate/],
    [['--egress-rate', '1k'], /below 8kbit/],
    [['--egress-burst', '64k'], /--egress-burst needs --egress-rate/],
    [['--ingress-rate', '10M', '--ingress-burst', '100'], /at least one frame/],
    [['--network', 'host', '--egress-rate', '10M'], /rate limits need a network of ctnet's/],
  ]) {
    const r = lab.ctnet(['run', ...(args.includes('--network') ? [] : ['--network', 'bw']), ...args, '--', 'true']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
