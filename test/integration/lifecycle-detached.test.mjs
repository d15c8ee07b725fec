// Detached containers under their supervisor: exit codes recorded, wait, restart on failure,
// stop by SIGTERM (143) or SIGKILL (137), a supervisor of a few MB, nothing left running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync, existsSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CTNET, createLab } from '../helpers/lab.mjs';

const childrenOf = (pid) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const waitFor = async (what, ok) => {
  for (let i = 0; i < 100; i++) {
    const v = what();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
};

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.21.0.0/24']);
});
after(() => lab?.close());

test('the exit code of a -d container is recorded; wait prints it', () => {
  lab.ok(['run', '-d', '--name', 'three', '--network', 'lab', '--', 'sh', '-c', 'sleep 0.3; exit 3']);
  assert.equal(lab.ok(['wait', 'three']), '3\n');
  const c = lab.json(['inspect', 'three']);
  assert.deepEqual([c.State.Status, c.State.ExitCode], ['exited', 3]);
  assert.match(lab.ok(['ps', '-a']), /three .* Exited \(3\)/);
  lab.ok(['rm', 'three']);
});

test('stop: SIGTERM gives 143; a process that ignores it is killed after --time, 137', () => {
  // --init: PID 1 is an init that passes TERM on to sleep (sleep as PID 1 would ignore it).
  lab.ok(['run', '-d', '--init', '--name', 'polite', '--network', 'lab', '--', 'sleep', '600']);
  lab.ok(['stop', 'polite']);
  assert.equal(lab.json(['inspect', 'polite']).State.ExitCode, 143);
  lab.ok(['run', '-d', '--name', 'stubborn', '--network', 'lab', '--', 'sh', '-c', "trap '' TERM; sleep 600 & wait"]);
  lab.ok(['stop', '-t', '1', 'stubborn']);
  assert.equal(lab.json(['inspect', 'stubborn']).State.ExitCode, 137);
  lab.ok(['rm', 'polite', 'stubborn']);
});

test('--restart on-failure:2 runs a failing command three times in the same network and UTS namespace of its own, then records its code', () => {
  const runs = join(lab.root, 'runs');
  const record = `echo "$(ip -4 -o addr show eth0 | awk '{print $4}') $(hostname) $(readlink /proc/self/ns/uts)" >> ${runs}; exit 1`;
  lab.ok(['run', '-d', '--name', 'flaky', '--network', 'lab', '--restart', 'on-failure:2', '-v', `${lab.root}:${lab.root}`, '--', 'sh', '-c', record]);
  assert.equal(lab.ok(['wait', 'flaky']), '1\n');
  const lines = readFileSync(runs, 'utf8').trim().split('\n').map((l) => l.split(' '));
  assert.equal(lines.length, 3);
  assert.equal(new Set(lines.map(([address]) => address)).size, 1, 'the same address every time');
  // A restart used to run in the supervisor's UTS namespace, the host's, with the host's hostname.
  for (const [, name, uts] of lines) assert.deepEqual([name, uts === readlinkSync('/proc/self/ns/uts')], ['flaky', false], `a run: ${name} ${uts}`);
  const c = lab.json(['inspect', 'flaky']);
  assert.deepEqual([c.RestartCount, c.Config.RestartMax, c.State.ExitCode], [2, 2, 1]);
  lab.ok(['run', '-d', '--name', 'fine', '--network', 'lab', '--restart', 'on-failure', '--', 'true']);
  assert.equal(lab.ok(['wait', 'fine']), '0\n');
  assert.equal(lab.json(['inspect', 'fine']).RestartCount, 0);
  lab.ok(['rm', 'flaky', 'fine']);
});

test('--restart always and unless-stopped start the command again whatever its exit, waiting twice as long each time, until stop; the control: no restarts it never', async () => {
  for (const policy of ['always', 'unless-stopped', 'no']) {
    const runs = join(lab.root, `runs-${policy}`);
    lab.ok(['run', '-d', '--name', `loop-${policy}`, '--network', 'lab', '--restart', policy, '-v', `${lab.root}:${lab.root}`, '--', 'sh', '-c', `date +%s.%N >> ${runs}; exit 0`]);
    const started = () => (existsSync(runs) ? readFileSync(runs, 'utf8').trim().split('\n').map(Number) : []);
    if (policy === 'no') {
      assert.equal(lab.ok(['wait', `loop-${policy}`]), '0\n');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(started().length, 1, 'no: ran once');
      assert.deepEqual(lab.json(['inspect', `loop-${policy}`]).HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
      continue;
    }
    const times = await waitFor(started, (t) => t.length >= 5);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 0.1, 0.2, 0.4 and 0.8 s of waiting (Docker's back-off), each plus a start, which a loaded
    // machine can stretch by a few tenths: the fourth wait is 0.7 s longer than the first.
    assert.ok(gaps[3] > gaps[0] + 0.4, `${policy}: the waits grow: ${gaps.map((g) => g.toFixed(2))}`);
    const c = lab.json(['inspect', `loop-${policy}`]);
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: policy, MaximumRetryCount: 0 });
    assert.ok(c.RestartCount >= 3, `${policy}: ${c.RestartCount} restarts`);
    // stop ends it at once, also while it waits before its next start, and nothing starts after.
    const t0 = Date.now();
    lab.ok(['stop', `loop-${policy}`]);
    assert.ok(Date.now() - t0 < 5000, 'stopped without waiting for its timeout');
    assert.equal(lab.json(['inspect', `loop-${policy}`]).State.Running, false);
    const after = started().length;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(started().length, after, `${policy}: not started again after stop`);
  }
  lab.ok(['rm', 'loop-always', 'loop-unless-stopped', 'loop-no']);
});

test('--stop-signal is what stop sends first (no restart after it), --stop-timeout how long it waits; the control: without them, TERM, which this PID 1 ignores, and SIGKILL after the timeout', () => {
  const script = 'trap "echo got-quit; exit 3" QUIT; while :; do sleep 0.05; done';
  lab.ok(['run', '-d', '--name', 'quits', '--network', 'lab', '--restart', 'always', '--stop-signal', 'SIGQUIT', '--', 'sh', '-c', script]);
  lab.ok(['run', '-d', '--name', 'ignores', '--network', 'lab', '--stop-timeout', '1', '--', 'sh', '-c', script]);
  const shown = lab.json(['inspect', 'quits']).Config;
  assert.deepEqual([shown.StopSignal, shown.StopTimeout], ['SIGQUIT', null]);
  let t0 = Date.now();
  lab.ok(['stop', 'quits']);
  assert.ok(Date.now() - t0 < 3000, 'QUIT ended it at once');
  const quit = lab.json(['inspect', 'quits']);
  assert.deepEqual([quit.State.ExitCode, quit.RestartCount, quit.State.Running], [3, 0, false], 'its own exit code, and not restarted');
  assert.match(lab.ok(['logs', 'quits']), /got-quit/);
  t0 = Date.now();
  lab.ok(['stop', 'ignores']);
  const waited = Date.now() - t0;
  assert.ok(waited >= 1000 && waited < 5000, `stop waited its --stop-timeout of 1 s, then killed: ${waited} ms`);
  assert.equal(lab.json(['inspect', 'ignores']).State.ExitCode, 137);
  lab.ok(['rm', 'quits', 'ignores']);
});

test('a restart keeps the supervisor (the PID ctnet recorded) and puts the new PID 1 under it', async () => {
  lab.ok(['run', '-d', '--name', 'again', '--network', 'lab', '--restart', 'on-failure:1', '-v', `${lab.root}:${lab.root}`, '--', 'sh', '-c', `[ -e ${lab.root}/again ] && exec sleep 600; touch ${lab.root}/again; sleep 1; exit 1`]);
  const first = lab.json(['inspect', 'again']);
  assert.equal(first.RestartCount, 0, 'looked at during its first start');
  const cmdline = (pid) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } };
  const c = await waitFor(() => lab.json(['inspect', 'again']), (v) => v.RestartCount === 1 && cmdline(v.State.Pid).startsWith('sleep'));
  assert.notEqual(c.State.Pid, first.State.Pid);
  assert.deepEqual([c.RestartCount, c.State.Status], [1, 'running']);
  assert.equal(c.State.SupervisorPid, first.State.SupervisorPid);
  assert.deepEqual(childrenOf(c.State.SupervisorPid), [c.State.Pid]);
  assert.equal(cmdline(c.State.Pid), 'sleep\x00600\x00');
  lab.ok(['rm', '-f', 'again']);
});

test('TERM to the supervisor goes to PID 1 and ends the container without a restart; the control: the same TERM to PID 1 alone is a failure that is restarted', async () => {
  const script = 'trap "exit 9" TERM; while :; do sleep 0.05; done';
  for (const [name, target] of [['termed', 'supervisor'], ['crashed', 'pid1']]) {
    lab.ok(['run', '-d', '--name', name, '--network', 'lab', '--restart', 'on-failure:3', '--', 'sh', '-c', script]);
    const c = lab.json(['inspect', name]);
    process.kill(target === 'supervisor' ? c.State.SupervisorPid : c.State.Pid, 'SIGTERM');
    if (target === 'supervisor') {
      assert.equal(lab.ok(['wait', name]), '9\n');
      assert.deepEqual([lab.json(['inspect', name]).RestartCount, lab.json(['inspect', name]).State.ExitCode], [0, 9]);
    } else {
      const after = await waitFor(() => lab.json(['inspect', name]), (v) => v.RestartCount === 1 && v.State.Status === 'running');
      assert.deepEqual([after.RestartCount, after.State.Status], [1, 'running'], 'restarted after its TERM from elsewhere');
    }
  }
  lab.ok(['rm', '-f', 'termed', 'crashed']);
});

test('a -d container gets what its supervisor waited for: its hostname, its environment and not ctnet\'s, its log, and no descriptor of theirs', async () => {
  lab.ok(['run', '-d', '--name', 'told', '--network', 'lab', '--hostname', 'told-host', '-e', 'GREETING=hi', '--', 'sh', '-c', 'hostname; echo "greeting=$GREETING root=${CTNET_ROOT:-unset}"; ls /proc/self/fd | tr "\\n" " "; echo; sleep 600']);
  const logs = await waitFor(() => lab.ok(['logs', 'told']), (text) => text.split('\n').length > 3);
  const [hostname, env, fds] = logs.split('\n');
  assert.equal(hostname, 'told-host');
  // CTNET_ROOT is in the environment ctnet ran with (the lab's), never in a container's.
  assert.equal(env, 'greeting=hi root=unset');
  // 0-2, and 3: ls's own listing of the directory.
  assert.equal(fds.trim(), '0 1 2 3');
  const { State } = lab.json(['inspect', 'told']);
  const environ = readFileSync(`/proc/${State.SupervisorPid}/environ`, 'utf8').split('\0');
  assert.ok(environ.includes('GREETING=hi') && !environ.some((e) => e.startsWith('CTNET_ROOT=')), 'the supervisor has the container\'s environment only');
  assert.equal(readlinkSync(`/proc/${State.SupervisorPid}/ns/net`), readlinkSync(`/proc/${State.Pid}/ns/net`), 'the supervisor is in the container\'s network namespace');
  lab.ok(['rm', '-f', 'told']);
});

test('a -d refused once its supervisor was started (its name is taken) leaves no process: the supervisor and the PID 1 it forked end with the command', () => {
  lab.ok(['run', '-d', '--name', 'taken', '--network', 'lab', '--', 'sleep', '600']);
  // Orphans are reparented to the nearest subreaper: this Perl, which lists what is left of its descendants.
  const PR_SET_CHILD_SUBREAPER = 36;
  const prctl = { x64: 157, arm64: 167 }[process.arch];
  const watcher = String.raw`
    syscall(${prctl}, ${PR_SET_CHILD_SUBREAPER}, 1, 0, 0, 0) == 0 or die "subreaper: $!";
    my $code = system(@ARGV) >> 8;
    my @left;
    for (1 .. 40) {
      1 while waitpid(-1, 1) > 0;
      @left = grep { my $mine = 0; if (open(my $f, '<', "/proc/$_/stat")) { my $stat = <$f>; $mine = (split(/ /, (split(/\) /, $stat))[1]))[1] == $$; } $mine } map { m{/proc/(\d+)} ? $1 : () } glob('/proc/[0-9]*');
      last unless @left;
      select(undef, undef, undef, 0.05);
    }
    print "$code @left";`;
  const r = execFileSync('perl', ['-e', watcher, process.execPath, CTNET, 'run', '-d', '--name', 'taken', '--network', 'lab', '--', 'sleep', '600'], { env: lab.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.equal(r, '4 ', 'refused as a conflict (4), nothing left');
  lab.ok(['rm', '-f', 'taken']);
});

test('kill: SIGKILL (its default) and the stop signal end a --restart always container for good; another signal goes to the command alone and the policy restarts it (the control); a stopped container and an unknown signal are refused', async () => {
  const ready = (name) => waitFor(() => lab.ok(['logs', name]), (text) => text.includes('ready'));
  const trapping = (signal, code) => ['sh', '-c', `trap "echo got-${signal}; exit ${code}" ${signal}; echo ready; while :; do sleep 0.1; done`];
  lab.ok(['run', '-d', '--name', 'k-kill', '--network', 'lab', '--restart', 'always', '--', ...trapping('USR1', 3)]);
  await ready('k-kill');
  assert.equal(lab.ok(['kill', 'k-kill']), 'k-kill\n');
  let c = lab.json(['inspect', 'k-kill']);
  assert.deepEqual([c.State.Status, c.State.ExitCode], ['exited', 137]);
  await new Promise((r) => setTimeout(r, 500));
  c = lab.json(['inspect', 'k-kill']);
  assert.deepEqual([c.State.Status, c.RestartCount], ['exited', 0], 'not restarted');
  lab.ok(['run', '-d', '--name', 'k-term', '--network', 'lab', '--restart', 'always', '--', ...trapping('TERM', 0)]);
  await ready('k-term');
  lab.ok(['kill', '--signal', 'TERM', 'k-term']);
  assert.equal(lab.ok(['wait', 'k-term']), '0\n');
  assert.equal(lab.json(['inspect', 'k-term']).RestartCount, 0, 'the stop signal is a stop');
  lab.ok(['run', '-d', '--name', 'k-usr1', '--network', 'lab', '--restart', 'always', '--', ...trapping('USR1', 3)]);
  await ready('k-usr1');
  lab.ok(['kill', '-s', 'SIGUSR1', 'k-usr1']);
  const restarted = await waitFor(() => lab.json(['inspect', 'k-usr1']), (x) => x.RestartCount >= 1);
  assert.ok(restarted.RestartCount >= 1, 'USR1 ended the command, and the policy started it again');
  assert.match(lab.ok(['logs', 'k-usr1']), /got-USR1/);
  for (const [args, code, message] of [
    [['kill', 'k-kill'], 4, /container k-kill is not running; kill signals a running container's command/],
    [['kill', '-s', 'BOGUS', 'k-usr1'], 2, /--signal BOGUS is not a signal; give a name or number/],
  ]) {
    const r = lab.ctnet(args);
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, message);
  }
  lab.ok(['rm', '-f', 'k-kill', 'k-term', 'k-usr1']);
});

test('logs -f prints what the container writes as it writes it, and ends when it ends; --tail takes its last lines; the control: logs without -f prints what is there now', async () => {
  lab.ok(['run', '-d', '--name', 'talker', '--network', 'lab', '--', 'sh', '-c', 'echo one; sleep 0.6; echo two; sleep 0.6; printf three']);
  await waitFor(() => lab.ok(['logs', 'talker']), (text) => text.startsWith('one'));
  assert.equal(lab.ok(['logs', 'talker']), 'one\n', 'without -f: what is there now');
  const t0 = Date.now();
  const followed = await new Promise((resolve) => {
    const child = spawn(process.execPath, [CTNET, 'logs', '-f', 'talker'], { env: lab.env });
    let out = '';
    const seen = [];
    child.stdout.on('data', (d) => { out += d; seen.push([Date.now() - t0, String(d)]); });
    child.on('close', (code) => resolve({ code, out, seen }));
  });
  assert.deepEqual([followed.code, followed.out], [0, 'one\ntwo\nthree']);
  assert.ok(followed.seen.length >= 2 && followed.seen[0][1] === 'one\n', `printed as it came: ${JSON.stringify(followed.seen)}`);
  assert.equal(lab.ok(['logs', '--tail', '2', 'talker']), 'two\nthree');
  assert.equal(lab.ok(['logs', '-n', '0', 'talker']), '');
  const r = lab.ctnet(['logs', '--tail', 'some', 'talker']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--tail some is not a number of lines or all/);
  lab.ok(['rm', 'talker']);
});

test('--restart is refused without -d or with --rm, and for an unknown policy', () => {
  for (const [args, re] of [
    [['--restart', 'on-failure'], /--restart needs -d/],
    [['-d', '--rm', '--restart', 'on-failure'], /cannot be combined/],
    [['-d', '--restart', 'sometimes'], /^ctnet: error: --restart sometimes is not one of no, on-failure, on-failure:N, always, unless-stopped\n$/],
    [['--restart', 'always'], /--restart needs -d/],
  ]) {
    const r = lab.ctnet(['run', ...args, '--network', 'lab', '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, re);
  }
});

test('the supervisor costs a few MB and is the one process above the container\'s PID 1; killing it leaves no process behind in the container', () => {
  lab.ok(['run', '-d', '--name', 'watched', '--network', 'lab', '--', 'sleep', '600']);
  const c = lab.json(['inspect', 'watched']);
  const supervisor = c.State.SupervisorPid;
  assert.deepEqual(childrenOf(supervisor), [c.State.Pid], 'PID 1 is the supervisor\'s child');
  const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  const rssKiB = rss(supervisor);
  assert.ok(rssKiB < 8 * 1024, `supervisor RSS ${rssKiB} KiB`);
  const ns = c.NetworkSettings.SandboxKey;
  const child = c.State.Pid;
  process.kill(supervisor, 'SIGKILL');
  lab.ok(['gc']);
  assert.ok(!existsSync(`/proc/${child}`) || readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1].startsWith('Z'), 'the orphaned command was ended');
  assert.ok(!existsSync(ns));
  const left = readFileSync('/proc/self/mounts', 'utf8').includes(ns);
  assert.equal(left, false);
  lab.ok(['rm', 'watched']);
});

test('rm -f ends every process of the container (one in a session of its own, one exec started) and no other: a host process put in its namespace stays, as with Docker', async () => {
  lab.ok(['run', '-d', '--name', 'crowded', '--network', 'lab', '--', 'sh', '-c', 'setsid sleep 601 & exec sleep 600']);
  const c = lab.json(['inspect', 'crowded']);
  const netns = readlinkSync(`/proc/${c.State.Pid}/ns/net`);
  const exec = spawn(process.execPath, [CTNET, 'exec', 'crowded', '--', 'sleep', '602'], { env: lab.env, stdio: 'ignore' });
  const guest = spawn('nsenter', [`--net=${c.NetworkSettings.SandboxKey}`, 'sleep', '603'], { stdio: 'ignore' });
  const inNamespace = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readlinkSync(`/proc/${p}/ns/net`) === netns;
    } catch {
      return false;
    }
  }).map((p) => [Number(p), readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim()]);
  const alive = (pid) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  try {
    const before = await waitFor(inNamespace, (ps) => ['sleep 601', 'sleep 602', 'sleep 603'].every((cmd) => ps.some(([, c]) => c === cmd)));
    const sleeps = Object.fromEntries(before.filter(([, cmd]) => cmd.startsWith('sleep 60')).map(([pid, cmd]) => [cmd, pid]));
    assert.deepEqual(Object.keys(sleeps).sort(), ['sleep 600', 'sleep 601', 'sleep 602', 'sleep 603'], JSON.stringify(before));
    lab.ok(['rm', '-f', 'crowded']);
    const left = ['sleep 600', 'sleep 601', 'sleep 602'].filter((cmd) => alive(sleeps[cmd]));
    assert.deepEqual(left, [], 'the container\'s processes ended with rm');
    assert.ok(alive(guest.pid) && alive(sleeps['sleep 603']), 'the host\'s process in the namespace is not the container\'s');
  } finally {
    for (const p of [exec, guest]) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all([exec, guest].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  }
});

test('-d --rm: the container and its network go when its command exits, without another ctnet command', async () => {
  lab.ok(['run', '-d', '--rm', '--name', 'brief', '--network', 'lab', '--', 'sh', '-c', 'sleep 1']);
  const ns = lab.json(['inspect', 'brief']).NetworkSettings.SandboxKey;
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    // Read the state directly: every ctnet command that changes something would reconcile first.
    gone = !existsSync(ns) && !JSON.stringify(lab.json(['ps', '-a'])).includes('"brief"');
  }
  assert.ok(gone, 'removed by its supervisor');
});
