// kill -9 at every step: each changing command is killed (CTNET_CRASH_AT) at each of its kernel
// operations and state changes in turn. After each kill the same command succeeds at once (the next
// command repairs what stands in its way), and after undoing it and `gc` nothing is left: no link,
// address, route, sysctl, nftables element, namespace, cgroup, process or record of the killed one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLab, fullSnapshot as labSnapshot } from '../helpers/lab.mjs';

let lab;
/** The lab as fullSnapshot sees it, without the DNS helper's PID (a new one starts with each first network). */
const fullSnapshot = (l) => {
  const s = labSnapshot(l);
  return { ...s, state: s.state.replace(/\{"key":"dns_(pid|start)","value":"\d+"\},?/g, '') };
};
before(() => {
  lab = createLab();
});
after(() => lab?.close());

/** After a test, even a failed one: no container and no network left for the next. */
function cleanUp() {
  const names = lab.json(['ps', '-a']).map((c) => c.Name);
  if (names.length) lab.ctnet(['rm', '-f', ...names]);
  for (const n of lab.json(['network', 'ls'])) lab.ctnet(['network', 'rm', n.Name]);
}

/** What the state directory knows of containers right now: their IDs and namespaces' inodes. */
function recorded() {
  if (!existsSync(join(lab.root, 'ctnet.db'))) return [];
  const db = new Database(join(lab.root, 'ctnet.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, netns FROM containers').all().map((c) => {
      let ino;
      try { ino = c.netns && statSync(c.netns.startsWith('/') ? c.netns : `/run/netns/${c.netns}`).ino; } catch { /* gone */ }
      return { id: c.id, netns: c.netns, ino };
    });
  } finally {
    db.close();
  }
}

/** A process's identity that survives PID reuse: its PID and start time. */
const startOf = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];

/**
 * Processes whose network namespace is one of `inodes`, as PID and start time. Taken right after the
 * kill: a namespace's inode number is reused by a new namespace soon after it goes.
 */
function processesIn(inodes) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))[1]);
      if (inodes.has(ino)) found.push(`${pid}:${startOf(pid)}`);
    } catch { /* gone meanwhile */ }
  }
  return found;
}

/** Which of these processes (PID:start) still run (a zombie, dead and waiting to be reaped, does not). */
const stillRunning = (procs) => procs.filter((p) => {
  const [pid, start] = p.split(':');
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return stat[19] === start && stat[0] !== 'Z';
  } catch {
    return false;
  }
});

/** Asserts that no trace is left of containers that were recorded while the command was killed. */
function assertNoneLeft(killed, label, procs) {
  const cgroupRoots = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified'];
  for (const c of killed) {
    assert.ok(!existsSync(`/run/netns/ctnet-${c.id.slice(0, 12)}`), `${label}: namespace of ${c.id.slice(0, 12)} left`);
    for (const r of cgroupRoots) assert.ok(!existsSync(`${r}/ctnet/${c.id}`), `${label}: cgroup ${r}/ctnet/${c.id.slice(0, 12)} left`);
    assert.ok(!existsSync(join(lab.root, 'containers', c.id)), `${label}: files of ${c.id.slice(0, 12)} left`);
  }
  assert.deepEqual(stillRunning(procs), [], `${label}: processes left that ran in a killed container's namespace`);
}

/**
 * Kills `command` at step 1, 2, ... until it runs through. After each kill: the same command
 * succeeds, `undo` returns to the state before, `gc` runs, and the lab must equal the snapshot taken
 * before. Returns how many steps were killed.
 */
function killAtEveryStep(command, undo, { expectAfterKill } = {}) {
  const before = fullSnapshot(lab);
  const known = new Set(recorded().map((c) => c.id));
  for (let step = 1; ; step++) {
    const r = lab.ctnet(command, { CTNET_CRASH_AT: String(step) });
    if (r.signal !== 'SIGKILL') {
      assert.equal(r.code, 0, `step ${step}: ${r.stderr}`);
      undo();
      lab.ok(['gc']);
      assert.deepEqual(fullSnapshot(lab), before, 'the command without a kill, undone');
      process.stdout.write(`# kill -9: ${command.slice(0, 2).join(' ')}: killed at each of ${step - 1} steps, 0 left\n`);
      return step - 1;
    }
    const killed = recorded().filter((c) => !known.has(c.id));
    const procs = processesIn(new Set(killed.map((c) => c.ino).filter(Boolean)));
    expectAfterKill?.(step);
    const again = lab.ctnet(command);
    assert.equal(again.code, 0, `after a kill at step ${step}, ${command.join(' ')} failed: ${again.stderr}`);
    undo();
    const gc = lab.ctnet(['gc']);
    assert.equal(gc.code, 0, `gc after a kill at step ${step}: ${gc.stderr}`);
    assert.deepEqual(fullSnapshot(lab), before, `a kill at step ${step} of ${command.join(' ')} left something behind`);
    assertNoneLeft(killed, `step ${step}`, procs);
  }
}

test('network create killed at every step: the first network of the host (forwarding restored too)', () => {
  // The state directory as it is once it has been used (its database and instance ID exist).
  lab.ok(['network', 'create', 'warm']);
  lab.ok(['network', 'rm', 'warm']);
  const steps = killAtEveryStep(['network', 'create', 'first', '--subnet', '172.30.0.0/24'], () => lab.ok(['network', 'rm', 'first']));
  assert.ok(steps >= 8, `only ${steps} steps`);
});

test('network create and rm killed at every step, beside another network; a fixed bridge name is free again', () => {
  lab.ok(['network', 'create', 'lab', '--subnet', '172.29.0.0/24', '--bridge', 'br0']);
  try {
    killAtEveryStep(['network', 'create', 'n2', '--subnet', '172.31.0.0/24', '--bridge', 'brn2', '--ipv6', '--subnet', 'fd00:31::/64'], () => lab.ok(['network', 'rm', 'n2']));
    // rm killed part-way is finished by the next command, never undone (gc does not rebuild the bridge).
    lab.ok(['network', 'create', 'n3', '--subnet', '172.28.0.0/24']);
    const before = fullSnapshot(lab);
    let step = 1;
    for (; ; step++) {
      const r = lab.ctnet(['network', 'rm', 'n3'], { CTNET_CRASH_AT: String(step) });
      if (r.signal !== 'SIGKILL') break;
      const gc = lab.ctnet(['gc']);
      assert.equal(gc.code, 0, gc.stderr);
      assert.match(gc.stdout, /network n3: interrupted removal finished/);
      assert.equal(lab.ctnet(['network', 'inspect', 'n3']).code, 3, `step ${step}: n3 is still there`);
      lab.ok(['network', 'create', 'n3', '--subnet', '172.28.0.0/24']);
      assert.deepEqual(fullSnapshot(lab).host.split('\n').filter((l) => !/br-/.test(l)), before.host.split('\n').filter((l) => !/br-/.test(l)));
    }
    assert.ok(step > 2, `network rm had ${step - 1} steps`);
    process.stdout.write(`# kill -9: network rm: killed at each of ${step - 1} steps, removal finished each time, 0 left\n`);
  } finally {
    cleanUp();
  }
});

test('run -d and rm -f killed at every step: the address, port and name are free again at once', () => {
  lab.ok(['network', 'create', 'lab', '--subnet', '172.29.0.0/24', '--bridge', 'br0']);
  try {
    lab.ok(['run', '-d', '--name', 'keep', '--network', 'lab', '-p', '8000:80', '--', 'sleep', '600']);
    const run = ['run', '-d', '--name', 'probe', '--network', 'lab', '--ip', '172.29.0.50', '-p', '9000:80', '-p', '9001:81/udp', '--memory', '64m', '--', 'sleep', '600'];
    const steps = killAtEveryStep(run, () => lab.ok(['rm', '-f', 'probe']));
    assert.ok(steps >= 12, `only ${steps} steps`);
    // rm -f: the kill leaves the container marked; the next command finishes its removal.
    const before = fullSnapshot(lab);
    let step = 1;
    for (; ; step++) {
      lab.ok(run);
      const killed = recorded().filter((c) => c.id.length && lab.json(['inspect', 'probe']).Id === c.id);
      const r = lab.ctnet(['rm', '-f', 'probe'], { CTNET_CRASH_AT: String(step) });
      const procs = processesIn(new Set(killed.map((c) => c.ino).filter(Boolean)));
      if (r.signal !== 'SIGKILL') {
        assert.equal(r.code, 0, r.stderr);
        break;
      }
      // Not Exited and holding its address: the next changing command finishes the removal.
      lab.ok(['run', '-d', '--name', 'other', '--network', 'lab', '--ip', '172.29.0.50', '-p', '9000:80', '--', 'true']);
      lab.ok(['rm', '-f', 'other']);
      assert.equal(lab.ctnet(['inspect', 'probe']).code, 3, `step ${step}: probe is still recorded`);
      lab.ok(['gc']);
      assert.deepEqual(fullSnapshot(lab), before, `rm -f killed at step ${step} left something behind`);
      assertNoneLeft(killed, `rm -f step ${step}`, procs);
    }
    assert.ok(step > 3, `rm -f had ${step - 1} steps`);
    process.stdout.write(`# kill -9: rm -f: killed at each of ${step - 1} steps, removal finished each time, 0 left\n`);
    lab.ok(['rm', '-f', 'keep']);
  } finally {
    cleanUp();
  }
});

test('network connect killed at every step: connecting again works, nothing is left', () => {
  lab.ok(['network', 'create', 'lab', '--subnet', '172.29.0.0/24', '--bridge', 'br0']);
  lab.ok(['network', 'create', 'side', '--subnet', '172.27.0.0/24']);
  try {
    lab.ok(['run', '-d', '--name', 'c1', '--network', 'lab', '--', 'sleep', '600']);
    const steps = killAtEveryStep(['network', 'connect', 'side', 'c1'], () => lab.ok(['network', 'disconnect', 'side', 'c1']));
    assert.ok(steps >= 5, `only ${steps} steps`);
    lab.ok(['rm', '-f', 'c1']);
  } finally {
    cleanUp();
  }
});

test('run -d of Docker\'s modes and options killed at every step: a rate-limited container (its ifb), --network none, a macvlan container', () => {
  lab.ok(['network', 'create', 'lab', '--subnet', '172.29.0.0/24', '--bridge', 'br0']);
  lab.ok(['network', 'create', 'lan', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '10.0.12.0/22', '--gateway', '10.0.12.11', '--ip-range', '10.0.13.0/24']);
  try {
    const limited = ['run', '-d', '--name', 'probe', '--network', 'lab', '--egress-rate', '10mbit', '--ingress-rate', '10mbit', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=0', '--', 'sleep', '600'];
    assert.ok(killAtEveryStep(limited, () => lab.ok(['rm', '-f', 'probe'])) >= 14);
    assert.ok(killAtEveryStep(['run', '-d', '--name', 'probe', '--network', 'none', '--', 'sleep', '600'], () => lab.ok(['rm', '-f', 'probe'])) >= 3);
    assert.ok(killAtEveryStep(['run', '-d', '--name', 'probe', '--network', 'lan', '--', 'sleep', '600'], () => lab.ok(['rm', '-f', 'probe'])) >= 5);
  } finally {
    cleanUp();
  }
});
