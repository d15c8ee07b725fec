/**
 * Attach/detach latency of one container with one published TCP port on a network of N containers
 * (N - 1 attached, then the measured one: a network holds at most 1,000 on a default host), for
 * ctnet's engine API and the references.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { netnsPath } from '../../dist/kernel/netns.js';
import { cniAvailable, cniChain } from './cni.mjs';
import { netavark, netavarkAvailable } from './netavark.mjs';
import { deleteNetns, newNetns } from './netns.mjs';
import { summary, timeMs } from './stats.mjs';
import { floorImpl } from './floor.mjs';

const id = () => randomBytes(32).toString('hex');
const BACKGROUND_PORT = 30000;
const MEASURED_PORT = 20000;
export const SETTLE_MS = 40;
/** Measurements thrown away before each implementation's samples at each size. */
const WARMUP = 3;

/**
 * ctnet through its engine API: the namespace is part of what attach creates. Measured at every
 * size, IPv4 only and (`ctnet-ipv6`) on a dual-stack network.
 */
function ctnetImpl(progress, { ipv6 = false, name = ipv6 ? 'ctnet-ipv6' : 'ctnet' } = {}) {
  const hostNs = newNetns(ipv6 ? 'ctnet6' : 'ctnet');
  const root = mkdtempSync(join(tmpdir(), 'ctnet-bench-'));
  const engine = new Engine({ root, hostNetns: hostNs });
  engine.createNetwork({ name: 'bench', subnet: '10.200.0.0/16', bridge: 'br0', ...(ipv6 ? { subnet6: 'fd00:200::/64' } : {}) });
  let count = 0;
  return {
    name,
    everySize: true,
    hostNs,
    engine,
    root,
    size: () => count,
    fill(n) {
      while (count < n) {
        engine.attach({ name: `bg${count}`, network: 'bench', publish: [`${BACKGROUND_PORT + count}:80`] });
        count++;
        progress?.();
      }
    },
    measure(i) {
      const name = `m${i}`;
      const [attach] = timeMs(() => engine.attach({ name, network: 'bench', publish: [`${MEASURED_PORT + (i % 5000)}:80`] }));
      const [detach] = timeMs(() => engine.detach(name));
      return { attach, detach };
    },
    async close() {
      for (const c of engine.listContainers(true)) engine.detach(c.Id);
      engine.removeNetwork('bench');
      engine.close();
      deleteNetns(hostNs);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * An implementation driven as a runtime drives it: the runtime creates the namespace, then calls
 * the plugin; on removal the plugin, then the namespace goes. Both are timed: ctnet's attach
 * creates its namespace too. The namespace is created in-process, the cheapest way.
 */
function runtimeStyle({ name, one, add, del, close }, progress) {
  const background = [];
  return {
    name,
    size: () => background.length,
    fill(n) {
      while (background.length < n) {
        const c = one(BACKGROUND_PORT + background.length);
        c.result = add(c);
        background.push(c);
        progress?.();
      }
    },
    measure(i) {
      let c;
      const [attach] = timeMs(() => {
        c = one(MEASURED_PORT + (i % 5000));
        c.result = add(c);
      });
      const [detach] = timeMs(() => {
        del(c);
        deleteNetns(c.ns);
      });
      return { attach, detach };
    },
    async close() {
      for (const c of background) {
        try { del(c); } catch { /* the namespace goes anyway */ }
        deleteNetns(c.ns);
      }
      await close();
    },
  };
}

const tcpPort = (hostPort) => [{ hostPort, containerPort: 80, protocol: 'tcp' }];

/** A host namespace and a scratch directory for one implementation; removing the namespace removes its bridge and rules. */
function workspace(label) {
  const hostNs = newNetns(label);
  const dir = mkdtempSync(join(tmpdir(), `ctnet-bench-${label}-`));
  return { hostNs, dir, remove: () => { deleteNetns(hostNs); rmSync(dir, { recursive: true, force: true }); } };
}

/** The reference CNI chain. */
function cniImpl(progress) {
  const ws = workspace('cni');
  const chain = cniChain({ hostNs: ws.hostNs, dataDir: ws.dir, subnet: '10.201.0.0/16' });
  return runtimeStyle({
    name: 'cni',
    one: (port) => ({ ns: newNetns('cc'), id: id(), ports: tcpPort(port) }),
    add: (c) => chain.add(c.id, netnsPath(c.ns), c.ports),
    del: (c) => chain.del(c.id, netnsPath(c.ns), c.ports, c.result),
    close: ws.remove,
  }, progress);
}

/** netavark with addresses supplied (as Podman supplies them). */
function netavarkImpl(progress) {
  const ws = workspace('nv');
  const nv = netavark({ hostNs: ws.hostNs, configDir: ws.dir, subnet: '10.202.0.0/16', gateway: '10.202.0.1' });
  let next = 2;
  return runtimeStyle({
    name: 'netavark',
    one: (port) => {
      const n = next++;
      return { ns: newNetns('nc'), id: id(), ip: `10.202.${n >> 8}.${n & 255}`, ports: [{ hostPort: port, containerPort: 80 }] };
    },
    add: (c) => nv.setup(c.id, netnsPath(c.ns), c.ip, c.ports),
    del: (c) => nv.teardown(c.id, netnsPath(c.ns), c.ip, c.ports),
    close: ws.remove,
  }, progress);
}

/**
 * ctnet's CNI executable, run per ADD/DEL as a runtime runs a plugin: alone (node start included),
 * or with `ctnet cni-daemon` serving it (the executable is then a Perl client).
 */
function ctnetCniImpl(progress, { daemon = false } = {}) {
  const ws = workspace(daemon ? 'ccnid' : 'ccni');
  const plugin = fileURLToPath(new URL('../../bin/cni/ctnet', import.meta.url));
  const socket = join(ws.dir, 'cni.sock');
  const server = daemon ? startDaemon(socket) : undefined;
  const exec = (command, c) => {
    const r = spawnSync(plugin, [], {
      input: JSON.stringify({
        cniVersion: '1.0.0', name: 'bench', type: 'ctnet', bridge: 'cni0',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.205.0.0/16' }]], dataDir: ws.dir },
        runtimeConfig: { portMappings: c.ports },
      }),
      env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: c.id, CNI_NETNS: netnsPath(c.ns), CNI_IFNAME: 'eth0', CNI_PATH: '', CTNET_HOST_NETNS: ws.hostNs, CTNET_CNI_SOCKET: socket, CTNET_CNI_DAEMON: daemon ? 'on' : 'off' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`ctnet CNI ${command} failed: ${r.stdout}${r.stderr}`);
  };
  return runtimeStyle({
    name: daemon ? 'ctnet-cni-daemon' : 'ctnet-cni',
    one: (port) => ({ ns: newNetns('cn'), id: id(), ports: tcpPort(port) }),
    add: (c) => exec('ADD', c),
    del: (c) => exec('DEL', c),
    close: () => {
      server?.kill('SIGTERM');
      ws.remove();
    },
  }, progress);
}

/** `ctnet cni-daemon` on a socket of the bench's own; returns once it listens. */
function startDaemon(socket) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../bin/ctnet', import.meta.url)), 'cni-daemon', '--socket', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  for (let i = 0; i < 200 && !existsSync(socket); i++) spawnSync('sleep', ['0.02']);
  if (!existsSync(socket)) throw new Error('ctnet cni-daemon did not start');
  return child;
}

/** WARMUP + n measurements of each implementation, in turn (ABBA when more than one), SETTLE_MS apart; the samples go to `into[name]`. */
async function measureInTurn(impls, n, into) {
  for (let i = 0; i < WARMUP + n; i++) {
    for (const y of i % 2 ? impls : [...impls].reverse()) {
      // Let the kernel finish the previous measurement's deferred work (namespace cleanup holds
      // the rtnl lock), so each one starts on a quiet kernel.
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      const m = y.measure(i);
      if (i < WARMUP) continue;
      into[y.name].attach.push(m.attach);
      into[y.name].detach.push(m.detach);
    }
  }
}

/** n measurements of x thrown away. */
const warmUp = (x, n) => measureInTurn([x], n, { [x.name]: { attach: [], detach: [] } });

/** n samples of two implementations in turn: each one's attach and detach summaries, by name. */
async function passInTurn(a, b, n) {
  const pass = { [a.name]: { attach: [], detach: [] }, [b.name]: { attach: [], detach: [] } };
  await measureInTurn([a, b], n, pass);
  const of = (k) => ({ attach: summary(pass[k].attach), detach: summary(pass[k].detach) });
  return { [a.name]: of(a.name), [b.name]: of(b.name) };
}

/**
 * Samples per size: ctnet's rows, measured at every size, carry the growth from 1 to N, whose ratio of
 * two p50s of 8 samples (the quick run's iterations) spread 0.7x-1.75x between quick runs.
 */
const samplesOf = (plan, x) => (x.everySize ? plan.ctnetIterations ?? plan.iterations : plan.iterations);

/**
 * plan: { sizes: [1, 100, 1000], iterations, ctnetIterations?, refSizes: [1, 100] } — references are measured only at
 * refSizes (their per-container cost makes 1000 background containers take minutes). The kernel
 * floor (floor.mjs) has a pass of its own at the first size, its samples in turn with ctnet's
 * engine's: the machine drifts by a fifth within minutes, and a floor measured at the end of the
 * run compared ctnet with another moment of it. Resolves with { results, skipped, floor, growth }, floor
 * holding that pass's ctnet samples too (floor.ctnet), growth ctnet's at the largest size in turn
 * with a network of 1 (growth.atSize, growth.atOne).
 */
export async function benchAttach(plan, log, progress) {
  // progress (a terminal line, or nothing) follows the filling: one tick per background container.
  const fill = { label: '', done: 0, target: 0 };
  const tick = () => progress?.report?.(++fill.done, fill.target, fill.label);
  const impls = [ctnetImpl(tick), ctnetImpl(tick, { ipv6: true })];
  const skipped = [];
  if (cniAvailable()) impls.push(cniImpl(tick)); else skipped.push('cni (apt-get install containernetworking-plugins)');
  impls.push(ctnetCniImpl(tick), ctnetCniImpl(tick, { daemon: true }));
  if (netavarkAvailable()) impls.push(netavarkImpl(tick)); else skipped.push('netavark (apt-get install netavark)');
  const results = Object.fromEntries(impls.map((x) => [x.name, []]));
  const floor = floorImpl();
  // A network that stays at 1 container, in a host namespace and state of its own: measured in turn
  // with ctnet's network at the largest size (see the growth pass below).
  const atOne = ctnetImpl(undefined, { name: 'ctnet-at-1' });
  let floorResult;
  let growthResult;
  try {
    for (const size of plan.sizes) {
      const active = impls.filter((x) => x.everySize || plan.refSizes.includes(size));

      // N - 1 containers stay attached while one more is attached and detached, again and again.
      for (const x of active) {
        log(`  filling ${x.name} to ${size - 1} attached containers`);
        Object.assign(fill, { label: `  filling ${x.name}`, done: x.size(), target: size - 1 });
        x.fill(size - 1);
        progress?.finish();
      }
      // Each implementation alone, warmed up, with the same number of samples at every size: the
      // growth from 1 to N attached containers is then the containers' doing, not a cold cache or
      // the previous implementation's leftovers (which the interleaved order of earlier runs let in).
      const samples = Object.fromEntries(active.map((x) => [x.name, { attach: [], detach: [] }]));
      for (const x of active) {
        // At the first size, a warm-up as long as the measurement: later sizes come after the filling
        // and every earlier size's attaches, and an engine still being optimised made the first size's row the slowest.
        const n = samplesOf(plan, x);
        if (size === plan.sizes[0]) await warmUp(x, n);
        await measureInTurn([x], n, samples);
      }
      if (size === plan.sizes[0]) await warmUp(atOne, samplesOf(plan, atOne));
      // The floor at the first size, in a pass of its own alternating with ctnet's, and compared with
      // ctnet's samples of that pass (the machine drifts by a fifth within minutes). ctnet's row above
      // stays measured alone, as at every size, so that its growth from 1 to N compares like with like.
      if (size === plan.sizes[0]) {
        const ctnet = active.find((x) => x.name === 'ctnet');
        const pass = await passInTurn(ctnet, floor, samplesOf(plan, ctnet));
        floorResult = { ...pass[floor.name], ctnet: pass.ctnet };
        log(`  kernel floor: attach p50 ${floorResult.attach.p50.toFixed(2)} ms, detach p50 ${floorResult.detach.p50.toFixed(2)} ms (the same objects, fewest calls), alternating with ctnet's: attach p50 ${floorResult.ctnet.attach.p50.toFixed(2)} ms, detach p50 ${floorResult.ctnet.detach.p50.toFixed(2)} ms`);
      }
      // The growth from 1 to the largest size, measured in turn: the sizes' own rows are minutes apart,
      // and in one full run ctnet's row at 1 took 2.82 ms alone and 4.18 ms in the floor's pass right
      // after it. Here each sample at the largest size has one at 1 beside it, as the floor has.
      if (size === plan.sizes.at(-1) && size > 1) {
        const ctnet = active.find((x) => x.name === 'ctnet');
        const pass = await passInTurn(ctnet, atOne, samplesOf(plan, ctnet));
        growthResult = { size, atSize: pass.ctnet, atOne: pass[atOne.name] };
        log(`  growth pass: attach p50 ${growthResult.atSize.attach.p50.toFixed(2)} ms at ${size} against ${growthResult.atOne.attach.p50.toFixed(2)} ms at 1, detach p50 ${growthResult.atSize.detach.p50.toFixed(2)} against ${growthResult.atOne.detach.p50.toFixed(2)} ms (in turn)`);
      }
      for (const x of active) {
        const s = samples[x.name];
        results[x.name].push({ size, attach: summary(s.attach), detach: summary(s.detach) });
        log(`  ${x.name.padEnd(10)} at ${String(size).padStart(4)}: attach p50 ${s.attach.length ? summary(s.attach).p50.toFixed(2) : '-'} ms, detach p50 ${summary(s.detach).p50.toFixed(2)} ms`);
      }
    }
  } finally {
    for (const x of impls) await x.close();
    await atOne.close();
    floor.close();
  }
  return { results, skipped, floor: floorResult, growth: growthResult };
}
