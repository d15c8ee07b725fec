// IPv6 hygiene: no IPv6 where a network has none, and no router advertisements taken by the host.
// A container with NET_RAW on a dual-stack network sends a router advertisement with a prefix to
// every node of its bridge; the host takes neither a route nor an address from it. The control turns
// accept_ra on for that bridge (in the lab's own host namespace) and shows the same packet taken.
// A container's router solicitations and listener reports, which its kernel sends by itself as it
// comes and as it leaves a group, reach no other container (with the guard's rule taken out, they do).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { bridgeRules, createLab, removeRules, waitFor } from '../helpers/lab.mjs';

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

/** Sends three UDP datagrams to all nodes (ff02::1) port 9999 from eth0, then sleeps. */
const MULTICAST_THEN_SLEEP = `perl -MSocket=:DEFAULT,inet_pton,pack_sockaddr_in6 -e '
  socket(my $s, AF_INET6, SOCK_DGRAM, 0) or die "udp: $!";
  setsockopt($s, 41, 17, pack("i", (split " ", \`cat /sys/class/net/eth0/ifindex\`)[0])) or die "if: $!"; # IPV6_MULTICAST_IF
  send($s, "hello", 0, pack_sockaddr_in6(9999, inet_pton(AF_INET6, "ff02::1"))) or die "send: $!" for 1 .. 3;'; sleep 600`;

test('a container\'s router solicitations and multicast listener reports reach no other container, its other multicast does; the control: without the guard\'s rule, a neighbour gets them', async () => {
  lab.ok(['run', '-d', '--name', 'neighbour', '--network', 'dual', '--', 'sleep', '600']);
  const senders = { guarded: '02:aa:00:00:27:0a', unguarded: '02:aa:00:00:27:0b' };
  const counting = `table netdev mcprobe {
  chain ingress { type filter hook ingress device eth0 priority 0;
    ether saddr { ${Object.values(senders).join(', ')} } icmpv6 type nd-router-solicit counter
    ether saddr { ${Object.values(senders).join(', ')} } icmpv6 type mld2-listener-report counter
    ether saddr { ${Object.values(senders).join(', ')} } ip6 daddr ff02::1 udp dport 9999 counter
  }
}
`;
  const neighbourNs = lab.nsOf('neighbour');
  execFileSync('ip', ['netns', 'exec', neighbourNs, 'nft', '-f', '-'], { input: counting });
  /** What reached the neighbour from the senders (nft 1.0.6 cannot reset a rule's counter). */
  const seen = () => {
    const [rs, mld, udp] = [...execFileSync('ip', ['netns', 'exec', neighbourNs, 'nft', 'list', 'table', 'netdev', 'mcprobe'], { encoding: 'utf8' }).matchAll(/packets (\d+)/g)].map((m) => Number(m[1]));
    return { rs, mld, udp };
  };
  /** A counter of what a sender's kernel has sent (/proc/net/snmp6 in its namespace). */
  const sentBy = (ns, counter) => Number(new RegExp(`${counter}\\s+(\\d+)`).exec(execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp6'], { encoding: 'utf8' }))[1]);
  const reportsOf = (ns) => sentBy(ns, 'Icmp6OutMLDv2Reports');
  /** Starts a sender and waits until its kernel has sent a router solicitation and a listener report. */
  const send = async (name, mac) => {
    lab.ok(['run', '-d', '--name', name, '--network', 'dual', '--mac-address', mac, '--', 'sh', '-c', MULTICAST_THEN_SLEEP]);
    const ns = lab.nsOf(name);
    await waitFor(() => sentBy(ns, 'Icmp6OutRouterSolicits') > 0 && reportsOf(ns) > 0, `${name} sends a router solicitation and a listener report`, 15000);
    await new Promise((res) => setTimeout(res, 500));
  };
  /**
   * Makes a running sender leave a group: its address taken off eth0 from outside, its kernel reports
   * leaving that address's solicited-node group. (Its removal cannot be relied on for such a report:
   * its veth goes first, and whether the report of its namespace's going still gets out is a race.)
   */
  const leave = async (name) => {
    const ns = lab.nsOf(name);
    const before = reportsOf(ns);
    execFileSync('ip', ['-n', ns, 'addr', 'del', `${lab.json(['inspect', name]).NetworkSettings.GlobalIPv6Address}/64`, 'dev', 'eth0']);
    await waitFor(() => reportsOf(ns) > before, `${name} reports leaving a group`, 15000);
    await new Promise((res) => setTimeout(res, 500));
  };
  await send('guarded', senders.guarded);
  assert.deepEqual(seen(), { rs: 0, mld: 0, udp: 3 }, 'solicitations and reports kept out, the datagrams to all nodes in');
  await leave('guarded');
  assert.deepEqual(seen(), { rs: 0, mld: 0, udp: 3 }, 'nor its report of leaving a group');
  /** Removes a sender and waits until the kernel has destroyed its namespace (and with it its veth). */
  const remove = async (name) => {
    const veth = lab.json(['inspect', name]).NetworkSettings.HostVeth;
    lab.ok(['rm', '-f', name]);
    const gone = () => spawnSync('ip', ['-n', lab.host, 'link', 'show', veth]).status !== 0;
    await waitFor(gone, `${name}'s veth goes with its namespace`, 15000);
    await new Promise((res) => setTimeout(res, 300));
  };
  // Its namespace going away (its port's elements already gone) reports the groups it leaves.
  await remove('guarded');
  assert.deepEqual(seen(), { rs: 0, mld: 0, udp: 3 }, 'nor when it goes');
  // The control: the guard's rule out, a new sender's reach the neighbour.
  const guardRules = bridgeRules(lab.host, ['port_guard'], /nd-router-solicit/);
  assert.equal(guardRules.length, 1, 'one guard rule for solicitations and reports');
  removeRules(lab.host, guardRules);
  try {
    const before = seen();
    await send('unguarded', senders.unguarded);
    const after = seen();
    const got = { rs: after.rs - before.rs, mld: after.mld - before.mld, udp: after.udp - before.udp };
    assert.ok(got.rs > 0 && got.mld > 0 && got.udp === 3, `control: without the rule the neighbour gets them: ${JSON.stringify(got)}`);
    await leave('unguarded');
    assert.ok(seen().mld > after.mld, `control: and its report of leaving a group: ${JSON.stringify(seen())}`);
    await remove('unguarded');
  } finally {
    lab.ok(['firewall', 'reload']);
  }
  lab.ok(['rm', '-f', 'neighbour']);
});
