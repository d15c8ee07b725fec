// The localhost guard: packets to 127.0.0.0/8 that arrive on any interface but lo are dropped
// before DNAT. A neighbour host that routes 127.0.0.1 through this host, and a container with
// NET_ADMIN that routes it through its gateway, attack a port published only on 127.0.0.1; the
// control removes the guard's rule in the lab host's own table and shows the same attack arrive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createLab } from '../helpers/lab.mjs';
import { echoServerCommand } from '../../dist/demo/lab.js';

let lab;
before(async () => {
  lab = createLab();
  lab.ok(['network', 'create', 'lg', '--subnet', '172.26.0.0/24']);
  lab.ok(['run', '-d', '--name', 'web', '--network', 'lg', '-p', '127.0.0.1:8000:8080', '--', ...echoServerCommand('web', 8080)]);
  // host2 routes loopback through the host: its own local routes for 127/8 go.
  sh(lab.host2, 'ip route flush table local dev lo; sysctl -qw net.ipv4.conf.eth0.route_localnet=1; ip route add 127.0.0.1/32 via 10.0.12.15 dev eth0');
  await lab.waitAnswer(lab.host, '127.0.0.1', 8000);
});
after(() => lab?.close());

function sh(ns, cmd) {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', timeout: 20000 });
  return r.stdout + r.stderr;
}

/** Connections the 127.0.0.1:8000 mapping has translated so far (its element's counter). */
function translated() {
  const m = /127\.0\.0\.1 \. 8000 counter packets (\d+)/.exec(sh(lab.host, 'nft list map ip ctnet tcp_host'));
  assert.ok(m, 'the mapping is there');
  return Number(m[1]);
}

/** Runs `attack`; how many of its packets the mapping translated. */
function reached(attack) {
  const before = translated();
  attack();
  return translated() - before;
}

function withoutGuard(fn) {
  const line = sh(lab.host, 'nft -a list chain ip ctnet raw_prerouting').split('\n').find((l) => l.includes('daddr 127.0.0.0/8 drop'));
  const handle = /# handle (\d+)/.exec(line ?? '')?.[1];
  assert.ok(handle, 'the guard rule is in the table');
  sh(lab.host, `nft delete rule ip ctnet raw_prerouting handle ${handle}`);
  try {
    return fn();
  } finally {
    lab.ok(['firewall', 'reload']);
  }
}

const fromHost2 = () => sh(lab.host2, 'curl -s -m 1 http://127.0.0.1:8000/ >/dev/null');

test('a neighbour routing 127.0.0.1 through the host does not reach a port published on 127.0.0.1; without the guard it does', () => {
  assert.equal(reached(fromHost2), 0);
  assert.ok(withoutGuard(() => reached(fromHost2)) > 0, 'the control: without the rule the SYN is translated');
  assert.equal(reached(fromHost2), 0, 'firewall reload puts the guard back');
  // The host itself still reaches it over lo.
  assert.match(sh(lab.host, 'curl -s -m 2 http://127.0.0.1:8000/'), /web/);
});

test('a container with NET_ADMIN routing 127.0.0.1 through its gateway does not reach it either', () => {
  const attack = () => lab.ctnet(['run', '--rm', '--network', 'lg', '--cap-add', 'NET_ADMIN', '--', 'sh', '-c',
    'ip route flush table local dev lo; ip route add 127.0.0.1/32 via 172.26.0.1 dev eth0; curl -s -m 1 http://127.0.0.1:8000/ >/dev/null; true']);
  assert.equal(reached(attack), 0);
  assert.ok(withoutGuard(() => reached(attack)) > 0, 'the control: without the rule the SYN is translated');
});
