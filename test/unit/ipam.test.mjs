import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNetworkSubnet, parseSubnet, contains, overlaps, parseIPv4, quadToInt } from '../../dist/addr/ipv4.js';
import ipaddr from 'ipaddr.js';
import { allocateAddress as allocate, reserveAddress as reserve, defaultGateway, setAddressBook } from '../../dist/ipam/allocator.js';

const allocateAddress = (s, gw, used) => allocate(s, gw, setAddressBook(used));
const reserveAddress = (s, gw, used, ip, n) => reserve(s, gw, setAddressBook(used), ip, n);
import { pickFreeSubnet } from '../../dist/ipam/subnet-pool.js';
import { CtnetError } from '../../dist/errors.js';

const code = (fn) => {
  try { fn(); } catch (e) { assert.ok(e instanceof CtnetError, e); assert.ok(!e.message.includes('\n')); return e.code; }
  assert.fail('expected an error');
};

test('the dotted-quad parser takes exactly what ipaddr.js calls a four-part decimal address, with the same value', () => {
  const edges = ['0.0.0.0', '255.255.255.255', '256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.0', '1..3.4', '.1.2.3', '1.2.3.',
    '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '0x1.2.3.4', '1.2.3.1000', '1.2.3.4/24', '', '....', '10.0.0.255', '172.17.0.2', '1.2.3.4a', '1e2.0.0.1', '٣.1.1.1'];
  const pieces = ['0', '00', '1', '9', '10', '99', '100', '199', '255', '256', '999', '1000', '', 'a', '-1', ' 1'];
  let x = 2463534242; // xorshift32: the same strings every run
  const pick = (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const random = Array.from({ length: 4000 }, () => Array.from({ length: 3 + pick(3) }, () => pieces[pick(pieces.length)]).join('.'));
  for (const text of [...edges, ...random]) {
    const expected = ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text).toByteArray().reduce((a, b) => a * 256 + b, 0) : undefined;
    assert.equal(quadToInt(text), expected, JSON.stringify(text));
  }
});

test('a network subnet may not be loopback or multicast; the ranges around them are allowed', () => {
  for (const bad of ['127.0.0.0/8', '127.5.0.0/24', '127.255.255.252/30', '224.0.0.0/8', '224.5.0.0/24', '239.255.255.0/24']) {
    assert.equal(code(() => checkNetworkSubnet(parseSubnet(bad))), 'CTNET_INVALID_ARGUMENT', bad);
  }
  assert.throws(() => checkNetworkSubnet(parseSubnet('127.5.0.0/24')), /^InvalidArgumentError: subnet 127\.5\.0\.0\/24 is loopback \(127\.0\.0\.0\/8\).*172\.20\.0\.0\/16$/);
  assert.throws(() => checkNetworkSubnet(parseSubnet('230.0.0.0/16')), /is multicast \(224\.0\.0\.0\/4\)/);
  for (const good of ['126.255.255.0/24', '128.0.0.0/8', '0.5.0.0/24', '223.255.255.0/24', '240.0.0.0/24', '10.0.0.0/8', '172.20.0.0/16']) {
    assert.equal(checkNetworkSubnet(parseSubnet(good)).cidr, good);
  }
});

test('subnets parse canonically and reject what cannot hold a network', () => {
  assert.equal(parseSubnet('172.17.0.0/16').cidr, '172.17.0.0/16');
  assert.equal(code(() => parseSubnet('172.17.0.1/16')), 'CTNET_INVALID_ARGUMENT');
  assert.match((() => { try { parseSubnet('172.17.0.1/16'); } catch (e) { return e.message; } })(), /use 172\.17\.0\.0\/16/);
  assert.equal(code(() => parseSubnet('10.0.0.0/31')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => parseSubnet('nonsense')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => parseSubnet('300.1.1.0/24')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => parseSubnet('10.0.0.0/33')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => parseSubnet('fd00::/64')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => parseIPv4('1.2.3', 'address')), 'CTNET_INVALID_ARGUMENT');
});

test('containment and overlap', () => {
  const a = parseSubnet('10.0.12.0/22');
  assert.ok(contains(a, '10.0.15.255'));
  assert.ok(!contains(a, '10.0.16.0'));
  assert.ok(overlaps(a, parseSubnet('10.0.13.0/24')));
  assert.ok(overlaps(parseSubnet('10.0.0.0/8'), a));
  assert.ok(!overlaps(a, parseSubnet('10.0.16.0/24')));
});

test('allocation takes the lowest free host address and skips the gateway', () => {
  const s = parseSubnet('172.17.0.0/24');
  const gw = defaultGateway(s);
  assert.equal(gw, '172.17.0.1');
  assert.equal(allocateAddress(s, gw, new Set()), '172.17.0.2');
  assert.equal(allocateAddress(s, gw, new Set(['172.17.0.2', '172.17.0.3'])), '172.17.0.4');
  assert.equal(allocateAddress(s, '172.17.0.2', new Set()), '172.17.0.1');
});

test('a full subnet is a conflict, not a crash', () => {
  const s = parseSubnet('192.168.5.0/30'); // hosts .1 and .2; .1 is the gateway
  assert.equal(allocateAddress(s, '192.168.5.1', new Set()), '192.168.5.2');
  assert.equal(code(() => allocateAddress(s, '192.168.5.1', new Set(['192.168.5.2']))), 'CTNET_CONFLICT');
});

test('requested addresses are checked against subnet, gateway, broadcast and use', () => {
  const s = parseSubnet('172.17.0.0/24');
  assert.equal(reserveAddress(s, '172.17.0.1', new Set(), '172.17.0.101', 'n'), '172.17.0.101');
  assert.equal(code(() => reserveAddress(s, '172.17.0.1', new Set(), '172.18.0.5', 'n')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => reserveAddress(s, '172.17.0.1', new Set(), '172.17.0.1', 'n')), 'CTNET_CONFLICT');
  assert.equal(code(() => reserveAddress(s, '172.17.0.1', new Set(), '172.17.0.255', 'n')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => reserveAddress(s, '172.17.0.1', new Set(), '172.17.0.0', 'n')), 'CTNET_INVALID_ARGUMENT');
  assert.equal(code(() => reserveAddress(s, '172.17.0.1', new Set(['172.17.0.9']), '172.17.0.9', 'n')), 'CTNET_CONFLICT');
  assert.equal(code(() => reserveAddress(s, '172.17.0.1', new Set(), 'abc', 'n')), 'CTNET_INVALID_ARGUMENT');
});

test('free subnets follow Docker\'s pool order and avoid what is taken', () => {
  assert.equal(pickFreeSubnet([]).cidr, '172.17.0.0/16');
  assert.equal(pickFreeSubnet([parseSubnet('172.17.0.0/16')]).cidr, '172.18.0.0/16');
  assert.equal(pickFreeSubnet([parseSubnet('172.16.0.0/12')]).cidr, '192.168.0.0/24');
  assert.equal(pickFreeSubnet([parseSubnet('172.16.0.0/12'), parseSubnet('192.168.0.0/23')]).cidr, '192.168.2.0/24');
  assert.equal(code(() => pickFreeSubnet([parseSubnet('172.16.0.0/12'), parseSubnet('192.168.0.0/16')])), 'CTNET_CONFLICT');
});
