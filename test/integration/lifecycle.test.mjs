// Container and network lifecycle through the CLI, reading the kernel state back after each step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createLab, fullSnapshot, hostSnapshot, linkGone, CTNET } from '../helpers/lab.mjs';

let lab;
before(() => { lab = createLab(); });
after(() => lab?.close());

const links = (ns) => execFileSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' });
const nftTable = (ns) => execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'ctnet'], { encoding: 'utf8' });

test('the default network "bridge" is created on first use, like docker0', () => {
  const id = lab.ok(['run', '-d', '--name', 'first', '--', 'sleep', '600']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const [net] = lab.json(['network', 'ls']);
  assert.deepEqual([net.Name, net.Subnet, net.Gateway, net.Bridge], ['bridge', '172.17.0.0/16', '172.17.0.1', 'ctnet0']);
  const c = lab.json(['inspect', 'first']);
  assert.equal(c.NetworkSettings.IPAddress, '172.17.0.2');
  assert.equal(c.State.Status, 'running');
  assert.ok(c.State.Pid > 0);
  assert.match(links(lab.host), /veth[0-9a-f]{8}@if\d+: .* master ctnet0/);
  const inside = execFileSync('ip', ['-n', c.NetworkSettings.SandboxKey.split('/').pop(), '-4', '-o', 'addr'], { encoding: 'utf8' });
  assert.match(inside, /eth0\s+inet 172\.17\.0\.2\/16/);
  assert.match(execFileSync('ip', ['-n', c.NetworkSettings.SandboxKey.split('/').pop(), 'route'], { encoding: 'utf8' }), /default via 172\.17\.0\.1 dev eth0/);
  assert.equal(execFileSync('ip', ['netns', 'exec', lab.host, 'sysctl', '-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).trim(), '1');
  lab.ok(['rm', '-f', 'first']);
});

test('network create without --subnet picks a free private subnet; ls, inspect and rm', () => {
  lab.ok(['network', 'create', 'auto']);
  const n = lab.json(['network', 'inspect', 'auto']);
  assert.equal(n.Subnet, '172.18.0.0/16');
  assert.match(n.Bridge, /^br-[0-9a-f]{12}$/);
  assert.match(lab.ok(['network', 'ls']), /auto\s+172\.18\.0\.0\/16\s+172\.18\.0\.1/);
  assert.match(links(lab.host), new RegExp(`${n.Bridge}: `));
  lab.ok(['network', 'rm', 'auto']);
  assert.doesNotMatch(links(lab.host), new RegExp(`${n.Bridge}: `));
  assert.doesNotMatch(nftTable(lab.host), /172\.18\.0\.0/);
});

test('foreground run passes output and exit code through and removes the network afterwards', () => {
  const r = lab.ctnet(['run', '--name', 'fg', '--', 'sh', '-c', 'hostname; ip -4 -o addr show eth0; exit 7']);
  assert.equal(r.code, 7);
  assert.match(r.stdout, /^fg\n.*eth0\s+inet 172\.17\.0\.\d+\/16/);
  const c = lab.json(['inspect', 'fg']);
  assert.equal(c.State.Status, 'exited');
  assert.equal(c.State.ExitCode, 7);
  assert.equal(c.NetworkSettings.IPAddress, null);
  assert.match(lab.ok(['ps', '-a']), /fg .* Exited \(7\)/);
  assert.doesNotMatch(lab.ok(['ps']), /\bfg\b/);
  lab.ok(['rm', 'fg']);
});

test('--rm removes a foreground container when it exits', () => {
  assert.equal(lab.ctnet(['run', '--rm', '--name', 'gone', '--', 'true']).code, 0);
  assert.equal(lab.ctnet(['inspect', 'gone']).code, 3);
});

/** Starts a foreground `ctnet run` and waits until its container runs. */
async function runForeground(name, command) {
  const child = spawn(process.execPath, [CTNET, 'run', '--name', name, '--', ...command], { env: lab.env, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = lab.ctnet(['inspect', name]);
    if (r.code === 0 && JSON.parse(r.stdout).State.Pid) return { child, c: JSON.parse(r.stdout) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not start`);
}

const exitOf = (child) => new Promise((res) => child.on('exit', (code) => res(code)));

/** Waits until the process catches SIGINT: a signal sent before its shell ran `trap` is ignored (PID 1). */
async function catchesSigint(pid) {
  for (let i = 0; i < 100; i++) {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (caught && (BigInt(`0x${caught}`) & 2n) !== 0n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} never set a SIGINT handler`);
}

test('Ctrl-C (SIGINT) stops a foreground container and ctnet takes its network down', async () => {
  const { child, c } = await runForeground('int', ['sh', '-c', 'trap "exit 130" INT; sleep 600 & wait']);
  await catchesSigint(c.State.Pid);
  child.kill('SIGINT');
  assert.equal(await exitOf(child), 130);
  const after = lab.json(['inspect', 'int']);
  assert.equal(after.State.Status, 'exited');
  assert.ok(!existsSync(c.NetworkSettings.SandboxKey));
  assert.ok(linkGone(lab.host, c.NetworkSettings.HostVeth));
  lab.ok(['rm', 'int']);
});

test('PID 1 ignores a SIGINT it has no handler for (as in Docker); a second Ctrl-C kills it', async () => {
  const { child } = await runForeground('deaf', ['sleep', '600']);
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(child.exitCode, null, 'still running after the first Ctrl-C');
  child.kill('SIGINT');
  assert.equal(await exitOf(child), 137);
  lab.ok(['rm', 'deaf']);
});

test('-d, logs, exec, ps --json, stop and rm', () => {
  lab.ok(['run', '-d', '--name', 'bg', '-e', 'GREETING=hello', '--', 'sh', '-c', 'echo "$GREETING from $(hostname)"; exec sleep 600']);
  for (let i = 0; i < 50 && !lab.ok(['logs', 'bg']); i++) execFileSync('sleep', ['0.05']);
  assert.equal(lab.ok(['logs', 'bg']), 'hello from bg\n');
  assert.match(lab.ok(['exec', 'bg', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /inet 172\.17\.0\.\d+\/16/);
  assert.equal(lab.ctnet(['exec', 'bg', '--', 'sh', '-c', 'exit 4']).code, 4);
  const ps = lab.json(['ps']);
  assert.deepEqual(ps.map((c) => c.Name), ['bg']);
  // Only stdin, stdout and stderr reach the container: no lock, database or netlink socket of ctnet's.
  assert.deepEqual(readdirSync(`/proc/${ps[0].State.Pid}/fd`).sort(), ['0', '1', '2']);
  const { NetworkSettings: net } = ps[0];
  assert.match(lab.ok(['stop', '-t', '2', 'bg']), /^bg\n$/);
  const stopped = lab.json(['inspect', 'bg']);
  assert.equal(stopped.State.Status, 'exited');
  assert.ok(!existsSync(net.SandboxKey), 'namespace removed on stop');
  assert.ok(linkGone(lab.host, net.HostVeth));
  assert.equal(lab.ctnet(['exec', 'bg', '--', 'true']).code, 4);
  lab.ok(['rm', 'bg']);
  assert.equal(lab.ctnet(['logs', 'bg']).code, 3);
});

test('stop escalates to SIGKILL after --time when SIGTERM is ignored', () => {
  lab.ok(['run', '-d', '--name', 'stubborn', '--', 'sh', '-c', "trap '' TERM; sleep 600 & wait"]);
  const t0 = Date.now();
  lab.ok(['stop', '-t', '1', 'stubborn']);
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 8000, `took ${took} ms`);
  assert.equal(lab.json(['inspect', 'stubborn']).State.Status, 'exited');
  lab.ok(['rm', 'stubborn']);
});

test('--explain prints the seed\'s commands as they run', (t) => {
  const out = lab.ok(['run', '-d', '--name', 'ex', '-p', '8100:80', '--explain', '--', 'sleep', '600']);
  const id = out.trim().split('\n').pop();
  const ns = `ctnet-${id.slice(0, 12)}`;
  t.after(() => lab.ctnet(['rm', '-f', 'ex']));
  assert.match(out, new RegExp(`^\\+ ip netns add ${ns}$`, 'm'));
  assert.match(out, new RegExp(`^\\+ ip -n ${lab.host} link add veth${id.slice(0, 8)} mtu 1500 master ctnet0 up type veth peer name eth0 address 02:42:ac:11:00:[0-9a-f]{2} netns ${ns}$`, 'm'));
  assert.match(out, new RegExp(`^\\+ ip -n ${ns} link set eth0 up$`, 'm'));
  assert.match(out, new RegExp(`^\\+ ip -n ${lab.host} link set veth${id.slice(0, 8)} type bridge_slave hairpin on$`, 'm'));
  assert.match(out, new RegExp(`^\\+ ip -n ${ns} route add default via 172\\.17\\.0\\.1 dev eth0$`, 'm'));
  assert.match(out, /^\+ ip netns exec \S+ nft 'add element ip ctnet tcp_any \{ 8100 : 172\.17\.0\.\d+ \. 80 \}'$/m);
  const rm = lab.ok(['rm', '-f', '--explain', 'ex']);
  assert.match(rm, /^\+ ip netns exec \S+ nft 'delete element ip ctnet tcp_any \{ 8100 \}'$/m);
  assert.match(rm, new RegExp(`^\\+ ip -n ${ns} addr del 172\\.17\\.0\\.\\d+/16 dev eth0$`, 'm'));
  assert.match(rm, new RegExp(`^\\+ ip netns del ${ns}$`, 'm'));
});

test('--dry-run prints the plan and changes nothing', () => {
  const before = fullSnapshot(lab);
  const out = lab.ok(['network', 'create', 'dry', '--subnet', '10.60.0.0/24', '--bridge', 'brdry', '--dry-run']);
  assert.match(out, /^ip -n \S+ link add brdry address 02:[0-9a-f:]+ mtu 1500 type bridge && ip -n \S+ link set brdry alias ctnet:[0-9a-f]{12}:[0-9a-f]{12}$/m);
  assert.match(out, /^ip -n \S+ addr add 10\.60\.0\.1\/24 dev brdry$/m);
  const run = lab.ok(['run', '--dry-run', '--name', 'dryc', '-p', '8200:80', '--', 'sleep', '1']);
  assert.match(run, /^ip netns add ctnet-[0-9a-f]{12}$/m);
  assert.match(run, /add element ip ctnet tcp_any \{ 8200 : 172\.17\.0\.\d+ \. 80 \}/);
  assert.deepEqual(fullSnapshot(lab), before);
});

test('the host namespace is as it was once everything is removed', () => {
  // Everything earlier in this file was removed; remove the default network too.
  for (const n of lab.json(['network', 'ls'])) lab.ok(['network', 'rm', n.Name]);
  assert.equal(hostSnapshot(lab.host), lab.pristine);
});
