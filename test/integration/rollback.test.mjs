// A failure at any step of `run` or `network create` undoes everything done so far; a crash
// part-way is undone by the next command's reconcile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLab, fullSnapshot, hostSnapshot } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.30.0.0/24', '--bridge', 'br0']);
  lab.ok(['run', '-d', '--name', 'keep', '--network', 'lab', '-p', '8000:80', '--', 'sleep', '600']);
});
after(() => lab?.close());

/**
 * A dry run's kernel steps: one per command line (the cgroup's mkdir line too; an nft heredoc's body
 * lines are part of its step), but a container's published ports are one step with its port's
 * guard: their nft command follows the guard's heredoc. The process's start (its line ends with the
 * hostname and the command, as a comment) is not a plan step.
 */
const stepsOf = (plan) =>
  plan.filter((l, i) => /^(ip|nft|sysctl|mkdir) /.test(l) && !l.includes('# hostname ') && !(/ nft /.test(l) && plan[i - 1] === 'EOF')).length;

const runArgs = (name) => ['run', '-d', '--name', name, '--network', 'lab', '-p', '9000:80', '-p', '9001:81/udp', '--', 'sleep', '600'];

test('run: an injected fault at every step, including starting the process, leaves nothing', () => {
  const plan = lab.ok(['run', '--dry-run', ...runArgs('probe').slice(1)]).trim().split('\n');
  const kernelSteps = stepsOf(plan);
  assert.equal(kernelSteps, 13, plan.join("\n"));
  for (let step = 1; step <= kernelSteps + 1; step++) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(runArgs(`f${step}`), { CTNET_FAULT_AT: String(step) });
    assert.equal(r.code, 8, `step ${step}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^ctnet: error: injected fault at step ${step} ${step === kernelSteps + 1 ? '\\(starting sleep\\)' : ''}`));
    assert.deepEqual(fullSnapshot(lab), before, `step ${step} left something behind`);
  }
  // And without a fault the same command works.
  lab.ok(runArgs('works'));
  lab.ok(['rm', '-f', 'works']);
});

test('run onto a new segment (its bridge, trunk, firewall elements and the bridge table\'s chains): an injected fault at every step, including starting the process, leaves nothing', () => {
  // One container a bridge: keep is on the network's own, so the next one makes segment 1.
  const SMALL = { CTNET_SEGMENT_PORTS: '1' };
  let step = 1;
  for (;; step++) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(runArgs(`s${step}`), { ...SMALL, CTNET_FAULT_AT: String(step) });
    if (r.code === 0) break;
    assert.equal(r.code, 8, `step ${step}: ${r.stderr}`);
    assert.deepEqual(fullSnapshot(lab), before, `step ${step} (${r.stderr.trim()}) left something behind`);
  }
  // Past the last step (starting the process) the fault is not met: the container runs, on the segment.
  assert.ok(step > 14, `${step - 1} steps: a segment's own are among them`);
  assert.match(lab.json(['inspect', `s${step}`]).NetworkSettings.HostVeth, /^veth/);
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', lab.json(['inspect', `s${step}`]).NetworkSettings.HostVeth], { encoding: 'utf8' }), /master cts/);
  lab.ok(['rm', '-f', `s${step}`]);
  // Its emptied segment stays for the next container; gc takes it, as the tests after this one expect.
  lab.ok(['gc']);
});

/** Runs `args` with a fault at step 1, 2, ... until it succeeds; each fault must leave host and state as they were. Returns the step that succeeded. */
function faultEveryStep(args, env) {
  for (let step = 1; ; step++) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(args(step), { ...env, CTNET_FAULT_AT: String(step) });
    if (r.code === 0) return step;
    assert.equal(r.code, 8, `step ${step}: ${r.stderr}`);
    assert.deepEqual(fullSnapshot(lab), before, `step ${step} (${r.stderr.trim()}) left something behind`);
  }
}

test('run onto an emptied segment (kept, with its elements and the chains, after its last container went): an injected fault at every step leaves it as it was', () => {
  const SMALL = { CTNET_SEGMENT_PORTS: '1' };
  lab.ok(runArgs('e0'), SMALL);
  lab.ok(['rm', '-f', 'e0']);
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }), /cts/, 'the emptied segment stays');
  const step = faultEveryStep((n) => runArgs(`e${n}`), SMALL);
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', lab.json(['inspect', `e${step}`]).NetworkSettings.HostVeth], { encoding: 'utf8' }), /master cts/);
  lab.ok(['rm', '-f', `e${step}`]);
  lab.ok(['gc']);
});

test('run with a further network on a new segment: an injected fault at every step, including starting the process, leaves nothing', () => {
  // keep fills lab's own bridge: the container's second network, lab, needs segment 1; its first is empty.
  const SMALL = { CTNET_SEGMENT_PORTS: '1' };
  lab.ok(['network', 'create', 'first', '--subnet', '172.31.8.0/24']);
  const args = (n) => ['run', '-d', '--name', `m${n}`, '--network', 'first', '--network', 'lab', '--', 'sleep', '600'];
  const step = faultEveryStep(args, SMALL);
  const name = `m${step}`;
  assert.ok(step > 20, `${step - 1} steps: both networks' and the segment's are among them`);
  assert.equal(Object.keys(lab.json(['inspect', name]).NetworkSettings.Networks).length, 2);
  // keep's port is on lab's own bridge: a port on a segment's is the new container's.
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }), /master cts/);
  lab.ok(['rm', '-f', name]);
  lab.ok(['gc']);
  lab.ok(['network', 'rm', 'first']);
});

test('network connect onto a new segment: an injected fault at every step leaves nothing', () => {
  // keep fills lab's own bridge: the connected container's port on lab needs segment 1.
  const SMALL = { CTNET_SEGMENT_PORTS: '1' };
  lab.ok(['network', 'create', 'first', '--subnet', '172.31.8.0/24']);
  lab.ok(['run', '-d', '--name', 'c1', '--network', 'first', '--', 'sleep', '600']);
  const step = faultEveryStep(() => ['network', 'connect', 'lab', 'c1'], SMALL);
  assert.ok(step > 5, `${step - 1} steps: the segment's are among them`);
  assert.equal(Object.keys(lab.json(['inspect', 'c1']).NetworkSettings.Networks).length, 2);
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }), /master cts/);
  lab.ok(['rm', '-f', 'c1']);
  lab.ok(['gc']);
  lab.ok(['network', 'rm', 'first']);
});

test('network create: an injected fault at every step leaves nothing', () => {
  const plan = lab.ok(['network', 'create', 'n2', '--subnet', '172.31.0.0/24', '--dry-run']).trim();
  const steps = plan.split('\n').filter((l) => /^(ip|nft|sysctl) /.test(l)).length;
  assert.equal(steps, 8, plan);
  for (let step = 1; step <= steps; step++) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(['network', 'create', 'n2', '--subnet', '172.31.0.0/24'], { CTNET_FAULT_AT: String(step) });
    assert.equal(r.code, 8, `step ${step}: ${r.stderr}`);
    assert.deepEqual(fullSnapshot(lab), before, `step ${step} left something behind`);
  }
});

test('a crash part-way through run is undone by the next command (reconcile)', () => {
  const before = fullSnapshot(lab);
  const r = lab.ctnet(runArgs('crashed'), { CTNET_CRASH_AT: '7' });
  assert.equal(r.signal, 'SIGKILL');
  // Read from the database itself: ctnet's own reads would already undo it.
  const db = new Database(join(lab.root, 'ctnet.db'), { readonly: true });
  const c = db.prepare("SELECT state, netns FROM containers WHERE name = 'crashed'").get();
  db.close();
  assert.equal(c.state, 'created');
  assert.ok(existsSync(`/run/netns/${c.netns}`), 'the crash left the namespace behind');
  assert.notDeepEqual(hostSnapshot(lab.host), before.host);
  // Any changing command reconciles first: here a run that then succeeds.
  lab.ok(['run', '-d', '--name', 'after-crash', '--network', 'lab', '--', 'sleep', '600']);
  assert.equal(lab.ctnet(['inspect', 'crashed']).code, 3);
  assert.ok(!existsSync(`/run/netns/${c.netns}`));
  lab.ok(['rm', '-f', 'after-crash']);
  assert.deepEqual(fullSnapshot(lab), before);
});

// A container's process is started while its network is still being made (ctnet-init sets the
// container up meanwhile) and waits at a gate: its command runs only once the network is complete.
// The command below leaves a mark on a volume the moment it runs.
const marked = (dir) => existsSync(join(dir, 'ran'));
const markingRun = (name, dir) => ['run', '-d', '--name', name, '--network', 'lab', '--restart', 'on-failure:3', '-v', `${dir}:/mnt`, '-p', '9002:80', '--', 'sh', '-c', 'touch /mnt/ran; exec sleep 600'];

/** Processes of this lab's containers still alive (their supervisor and ctnet-init name files under its state directory). */
function containerProcesses() {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(lab.root, 'containers'));
    } catch {
      return false;
    }
  });
}

async function until(what, check, ms = 5000) {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) assert.fail(what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a fault after the process started, at the network's last step: the command never runs, nothing is restarted", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-gate-'));
  try {
    const keep = new Set(containerProcesses());
    const before = fullSnapshot(lab);
    const plan = lab.ok(['run', '--dry-run', ...markingRun('probe', dir).slice(1)]).trim().split('\n');
    // The last network step: the default route (the plan's last line before the start).
    const last = stepsOf(plan);
    const r = lab.ctnet(markingRun('g1', dir), { CTNET_FAULT_AT: String(last) });
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /injected fault at step \d+ \(ip -n \S+ route add default via /);
    await until('the container\'s processes are gone', () => containerProcesses().every((p) => keep.has(p)));
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!marked(dir), 'the command ran although its network was not complete');
    assert.deepEqual(fullSnapshot(lab), before);
    // Without the fault the same command runs its command (run -d returns once it execs sh, which
    // then starts touch: under load that comes a few ms later).
    lab.ok(markingRun('g2', dir));
    await until('the command ran', () => marked(dir));
    lab.ok(['rm', '-f', 'g2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ctnet killed while it makes a started container's network: the command never runs, nothing is restarted", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-gate-'));
  try {
    const keep = new Set(containerProcesses());
    const before = fullSnapshot(lab);
    let killedBetween = 0;
    for (let step = 1; step < 40; step++) {
      const [run, ...rest] = markingRun(`k${step}`, dir);
      const r = lab.ctnet([run, '--explain', ...rest], { CTNET_CRASH_AT: String(step) });
      if (r.signal !== 'SIGKILL') {
        assert.equal(r.code, 0, r.stderr);
        lab.ok(['rm', '-f', `k${step}`]);
        break;
      }
      // The process starts right after the cgroup is made; the gate opens after the network's last step, its default route.
      const explained = r.stdout + r.stderr;
      const started = explained.includes('mkdir -p /sys/fs/cgroup');
      const networkDone = /route add default via /.test(explained);
      if (started && !networkDone) {
        killedBetween++;
        await until(`step ${step}: the container's processes end by themselves`, () => containerProcesses().every((p) => keep.has(p)));
        await new Promise((r) => setTimeout(r, 300));
        assert.ok(!marked(dir), `killed at step ${step}, before the network was complete, and the command ran`);
      }
      lab.ok(['gc']);
      rmSync(join(dir, 'ran'), { force: true });
    }
    assert.ok(killedBetween >= 8, `killed between the start and the gate ${killedBetween} times`);
    process.stdout.write(`# killed between the start and the gate at ${killedBetween} steps: the command never ran\n`);
    assert.deepEqual(fullSnapshot(lab), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
