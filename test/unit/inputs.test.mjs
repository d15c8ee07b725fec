// Small pure pieces: input validation, generated names, a container's environment, address
// families, ownership marks, one-line messages, and every operation rendered for --explain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnv, validateAlias, validateHostname, validateIfname, validateMtu, validateName } from '../../dist/engine/validate.js';
import { generateName, newContainerId } from '../../dist/engine/container-names.js';
import { containerEnv } from '../../dist/engine/container-env.js';
import { familyOf, isIPv6 } from '../../dist/addr/family.js';
import { linkAlias, containerNetnsName, hostVethName, isCtnetVeth, isOwnLinkAlias } from '../../dist/names.js';
import { oneLine, CtnetError } from '../../dist/errors.js';
import { renderOp } from '../../dist/plan/ops.js';

const refused = (fn) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CtnetError, `a ctnet error, not ${err}`);
    assert.doesNotMatch(err.message, /\n/);
    return err.code;
  }
  return 'accepted';
};

test('names: Docker\'s rule (a letter or digit, then letters, digits, _ . -; at most 63)', () => {
  for (const ok of ['web', 'Web_1', 'a.b-c', '0', 'x'.repeat(63)]) assert.equal(validateName('container', ok), ok);
  for (const bad of ['', '-x', '.x', '_x', 'a b', 'a/b', 'a:b', 'é', 'x'.repeat(64), 'a\nb']) assert.equal(refused(() => validateName('network', bad)), 'CTNET_INVALID_ARGUMENT', bad);
});

test('aliases and hostnames: DNS labels; aliases answer in lower case', () => {
  assert.equal(validateAlias('Store.Internal'), 'store.internal');
  for (const bad of ['-a', 'a-', 'a..b', 'a_b', '', `${'a'.repeat(64)}`]) assert.equal(refused(() => validateAlias(bad)), 'CTNET_INVALID_ARGUMENT', bad);
  assert.equal(validateHostname('db-1.local'), 'db-1.local');
  for (const bad of ['db_1', '-db', 'x'.repeat(65), 'a b']) assert.equal(refused(() => validateHostname(bad)), 'CTNET_INVALID_ARGUMENT', bad);
});

test('interface names and MTU: the kernel\'s limits, said in the message', () => {
  assert.equal(validateIfname('br-0.1', '--bridge'), 'br-0.1');
  assert.throws(() => validateIfname('x'.repeat(16), '--bridge'), /16 characters; Linux interface names have at most 15/);
  for (const bad of ['.', '..', 'a b', 'a/b', 'a:b', '']) assert.equal(refused(() => validateIfname(bad, '--bridge')), 'CTNET_INVALID_ARGUMENT', bad);
  assert.equal(validateMtu(undefined), undefined);
  assert.equal(validateMtu(68), 68);
  assert.equal(validateMtu(65535), 65535);
  for (const bad of [67, 65536, 1500.5, NaN]) assert.throws(() => validateMtu(bad), /outside 68-65535/);
});

test('-e: KEY=VALUE, KEY alone takes the caller\'s value (or nothing), bad keys refused', () => {
  process.env.CTNET_TEST_PASSED = 'from-caller';
  try {
    assert.deepEqual(parseEnv(['A=1', 'B=', 'C=x=y', 'CTNET_TEST_PASSED', 'CTNET_TEST_UNSET']), { A: '1', B: '', C: 'x=y', CTNET_TEST_PASSED: 'from-caller' });
  } finally {
    delete process.env.CTNET_TEST_PASSED;
  }
  for (const bad of ['=x', '1A=2', 'A-B=1', '']) assert.equal(refused(() => parseEnv([bad])), 'CTNET_INVALID_ARGUMENT', bad);
});

test('a container\'s environment: Docker\'s minimal one (PATH, HOSTNAME, HOME) with -e on top', () => {
  const env = containerEnv({ hostname: 'web', env: ['HOME=/srv', 'X=1'] });
  assert.equal(env.HOSTNAME, 'web');
  assert.equal(env.HOME, '/srv', '-e wins');
  assert.equal(env.X, '1');
  assert.ok(env.PATH.includes('/bin'));
  assert.equal(env.CTNET_ROOT, undefined, "ctnet's own environment does not leak in");
});

test('generated names: adjective_scientist, never one that is taken, a fallback when all are', () => {
  const taken = new Set();
  for (let i = 0; i < 50; i++) {
    const n = generateName((x) => taken.has(x));
    assert.match(n, /^[a-z]+_[a-z]+$/);
    assert.ok(!taken.has(n));
    taken.add(n);
  }
  assert.match(generateName(() => true), /^ctnet_\d+$/);
});

test('container IDs: drawn again while another container\'s ID starts with the same 8 digits (its host veth\'s name)', () => {
  const draws = ['aaaaaaaa' + '1'.repeat(56), 'aaaaaaaa' + '2'.repeat(56), 'bbbbbbbb' + '3'.repeat(56)];
  const asked = [];
  const id = newContainerId((prefix) => (asked.push(prefix), prefix === 'aaaaaaaa'), () => draws.shift());
  assert.equal(id, 'bbbbbbbb' + '3'.repeat(56));
  assert.deepEqual(asked, ['aaaaaaaa', 'aaaaaaaa', 'bbbbbbbb']);
  assert.match(newContainerId(() => false), /^[0-9a-f]{64}$/);
});

test('address families from validated text; kernel object names of a container', () => {
  assert.deepEqual(['10.0.0.1', '10.0.0.0/8', 'fd00::1', '::', 'fd00::/64'].map(familyOf), ['ip', 'ip', 'ip6', 'ip6', 'ip6']);
  assert.equal(isIPv6('::ffff:10.0.0.1'), true);
  const id = 'ab'.repeat(32);
  assert.equal(containerNetnsName(id), 'ctnet-abababababab');
  assert.equal(hostVethName(id), 'vethabababab');
  assert.equal(isCtnetVeth('vethabababab', 'veth'), true);
  assert.equal(isCtnetVeth('vethabababab', 'tun'), false, 'a tap named like a veth is not ours');
  assert.equal(isCtnetVeth('veth0'), false);
});

test('ownership marks: a bridge alias names the state directory and the network; only its own directory claims it', () => {
  const alias = linkAlias('0123456789ab', 'f'.repeat(64));
  assert.equal(alias, 'ctnet:0123456789ab:ffffffffffff');
  assert.equal(isOwnLinkAlias(alias, '0123456789ab'), true);
  assert.equal(isOwnLinkAlias(alias, '0123456789ac'), false);
  assert.equal(isOwnLinkAlias(undefined, '0123456789ab'), false);
  assert.equal(isOwnLinkAlias('docker0', '0123456789ab'), false);
});

test('one-line messages: control characters from names shown escaped', () => {
  assert.equal(oneLine('network a\nb does not exist'), 'network a\\nb does not exist');
  assert.equal(oneLine('tab\there, bell\u0007, del\u007f'), 'tab\\there, bell\\x07, del\\x7f');
  assert.equal(oneLine('plain é 中'), 'plain é 中');
});

test('--explain: every operation as the shell command that does the same, in the host namespace or a named one', () => {
  const host = { hostNetns: 'lab-host' };
  const cases = [
    [{ op: 'netns.add', name: 'ctnet-1' }, 'ip netns add ctnet-1'],
    [{ op: 'netns.del', name: 'ctnet-1' }, 'ip netns del ctnet-1'],
    [{ op: 'bridge.add', name: 'br0', mtu: 1500, mac: '02:00:00:00:00:01', alias: 'ctnet:a:b' }, 'ip -n lab-host link add br0 address 02:00:00:00:00:01 mtu 1500 type bridge && ip -n lab-host link set br0 alias ctnet:a:b'],
    [{ op: 'veth.add', name: 'veth1', peer: 'eth0', peerNetns: 'ctnet-1', mtu: 1500, master: 'br0', peerMac: '02:42:0a:00:00:02' }, 'ip -n lab-host link add veth1 mtu 1500 master br0 up type veth peer name eth0 address 02:42:0a:00:00:02 netns ctnet-1'],
    [{ op: 'link.del', name: 'eth1', netns: '/run/netns/pod' }, 'nsenter --net=/run/netns/pod ip link del eth1'],
    [{ op: 'link.up', name: 'lo', netns: 'ctnet-1' }, 'ip -n ctnet-1 link set lo up'],
    [{ op: 'link.hairpin', name: 'veth1' }, 'ip -n lab-host link set veth1 type bridge_slave hairpin on'],
    [{ op: 'addr.add', dev: 'eth0', ip: 'fd00::2', prefix: 64, netns: 'ctnet-1' }, 'ip -n ctnet-1 addr add fd00::2/64 dev eth0 nodad'],
    [{ op: 'route.add', dev: 'eth0', dst: '::', prefix: 0, via: 'fd00::1', netns: 'ctnet-1' }, 'ip -n ctnet-1 -6 route add default via fd00::1 dev eth0'],
    [{ op: 'route.add', dev: 'eth0', dst: '192.0.2.0', prefix: 24, via: '10.0.0.1', netns: 'ctnet-1' }, 'ip -n ctnet-1 route add 192.0.2.0/24 via 10.0.0.1 dev eth0'],
    [{ op: 'sysctl.set', key: 'net.ipv4.ip_forward', value: '1' }, 'ip netns exec lab-host sysctl -w net.ipv4.ip_forward=1'],
    [{ op: 'sysctl.set', key: 'net/ipv6/conf/eth0/disable_ipv6', value: '1', netns: 'ctnet-1' }, 'ip netns exec ctnet-1 sysctl -w net/ipv6/conf/eth0/disable_ipv6=1'],
    [{ op: 'nft', script: 'add element ip ctnet tcp_any { 8000 : 10.0.0.2 . 80 }\n' }, "ip netns exec lab-host nft 'add element ip ctnet tcp_any { 8000 : 10.0.0.2 . 80 }'"],
    [{ op: 'cgroup.remove', id: 'abc' }, 'rmdir /sys/fs/cgroup/*/ctnet/abc /sys/fs/cgroup/ctnet/abc 2>/dev/null'],
  ];
  for (const [op, line] of cases) assert.equal(renderOp(op, host), line);
  // In the namespace ctnet runs in (no CTNET_HOST_NETNS), commands carry no prefix.
  assert.equal(renderOp({ op: 'link.del', name: 'br0' }, { hostNetns: null }), 'ip link del br0');
  assert.equal(renderOp({ op: 'nft', script: 'a\nb\n' }, { hostNetns: null }), "nft -f - <<'EOF'\na\nb\nEOF");
  const cg = renderOp({ op: 'cgroup.create', dirs: ['/sys/fs/cgroup/memory/ctnet/abc'], writes: [['/sys/fs/cgroup/memory/ctnet/abc', 'memory.limit_in_bytes', '67108864']], owner: 'i1' }, host);
  assert.equal(cg, 'mkdir -p /sys/fs/cgroup/memory/ctnet/abc && setfattr -n trusted.ctnet.owner -v i1 /sys/fs/cgroup/memory/ctnet/abc && echo 67108864 > /sys/fs/cgroup/memory/ctnet/abc/memory.limit_in_bytes');
});
