// IPv6 hygiene: no IPv6 where a network has none, and no router advertisements taken by the host.
// A container with NET_RAW on a dual-stack network sends a router advertisement with a prefix to
// every node of its bridge; the host takes neither a route nor an address from it. The control turns
// accept_ra on for that bridge (in the lab's own host namespace) and shows the same packet taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createLab } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'v4', '--subnet', '172.27.0.0/24', '--bridge', 'br-v4']);
  lab.ok(['network', 'create', 'dual', '--ipv6', '--subnet', 'fd00:27::/64', '--subnet', '172.28.0.0/24', '--bridge', 'br-dual']);
});
after(() => lab?.close());

function host(cmd) {
  const r = spawnSync('ip', ['netns', 'exec', lab.host, 'sh', '-c', cmd], { encoding: 'utf8', timeout: 20000 });
  return r.stdout + r.stderr;
}
const run = (net, args, script) => lab.ctnet(['run', '--rm', '--network', net, ...args, '--', 'sh', '-c', script]);

test('a container on an IPv4-only network has no IPv6 on eth0; on a dual-stack one it has', () => {
  const v4 = run('v4', [], 'cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -6 -o addr show dev eth0 | wc -l');
  assert.equal(v4.stdout, '1\n0\n', v4.stderr);
  const dual = run('dual', [], 'cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -6 -o addr show dev eth0 scope global');
  assert.match(dual.stdout, /^0\n.*fd00:27::/s, 'the control: a dual-stack container has its address');
  assert.equal(host('cat /proc/sys/net/ipv6/conf/br-v4/disable_ipv6').trim(), '1', 'an IPv4-only bridge has no IPv6');
  assert.equal(host('cat /proc/sys/net/ipv6/conf/br-dual/accept_ra').trim(), '0');
});

/** A router advertisement for fd99::/64 (SLAAC) with a default route, sent to all nodes from eth0 once its link-local address is usable. */
const ADVERTISE = `sleep 2; perl -MSocket=:DEFAULT,inet_pton,pack_sockaddr_in6 -e '
  socket(my $s, AF_INET6, SOCK_RAW, 58) or die "raw: $!";
  setsockopt($s, 41, 18, pack("i", 255)) or die "hops: $!";            # IPV6_MULTICAST_HOPS
  setsockopt($s, 41, 17, pack("i", (split " ", \`cat /sys/class/net/eth0/ifindex\`)[0])) or die "if: $!"; # IPV6_MULTICAST_IF
  my $prefix = pack("CCCC N N N", 3, 4, 64, 0xc0, 86400, 14400, 0) . inet_pton(AF_INET6, "fd99::");
  my $ra = pack("CCn CC n N N", 134, 0, 0, 64, 0, 1800, 0, 0) . $prefix;
  for (1 .. 3) { send($s, $ra, 0, pack_sockaddr_in6(0, inet_pton(AF_INET6, "ff02::1"))) or die "send: $!"; select(undef, undef, undef, 0.2); }
  print "advertised\\n";'`;

function takenByHost() {
  return /fd99::/.test(host('ip -6 addr show dev br-dual')) || /default/.test(host('ip -6 route show dev br-dual'));
}

test('a router advertisement from a container (NET_RAW) changes nothing on the host; with accept_ra on it would', async () => {
  const r = run('dual', [], ADVERTISE);
  assert.match(r.stdout, /advertised/, r.stderr);
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(takenByHost(), false);
  // The control: the same advertisement with the bridge accepting them (2: even while forwarding).
  host('sysctl -qw net.ipv6.conf.br-dual.accept_ra=2');
  try {
    run('dual', [], ADVERTISE);
    let taken = false;
    for (let i = 0; i < 20 && !taken; i++) {
      await new Promise((res) => setTimeout(res, 200));
      taken = takenByHost();
    }
    assert.ok(taken, 'the control: the host takes the advertisement when it accepts them');
  } finally {
    host('sysctl -qw net.ipv6.conf.br-dual.accept_ra=0; ip -6 route flush dev br-dual proto ra; ip -6 addr flush dev br-dual scope global dynamic');
  }
});
