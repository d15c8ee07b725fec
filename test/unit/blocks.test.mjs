import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBlockPrefix, isBlockOf, pickFreeBlock } from '../../dist/ipam/blocks.js';
import { parseSubnet } from '../../dist/addr/ipv4.js';
import { parseEndpoints } from '../../dist/store/cluster.js';

const cluster = parseSubnet('10.42.0.0/16');

test('blocks: the first free aligned block, a host\'s preferred (previous) block first when free', () => {
  assert.equal(pickFreeBlock(cluster, 24, new Set()), '10.42.0.0/24');
  assert.equal(pickFreeBlock(cluster, 24, new Set(['10.42.0.0/24', '10.42.1.0/24'])), '10.42.2.0/24');
  assert.equal(pickFreeBlock(cluster, 24, new Set(['10.42.0.0/24']), '10.42.7.0/24'), '10.42.7.0/24');
  assert.equal(pickFreeBlock(cluster, 24, new Set(['10.42.7.0/24']), '10.42.7.0/24'), '10.42.0.0/24', 'taken: not preferred any more');
  assert.equal(pickFreeBlock(cluster, 24, new Set(), '10.42.7.128/25'), '10.42.0.0/24', 'not a block of this size: ignored');
  assert.equal(pickFreeBlock(parseSubnet('10.9.0.0/30'), 31, new Set(['10.9.0.0/31'])), '10.9.0.2/31');
});

test('blocks: all taken is a conflict; block sizes must fit the cluster subnet', () => {
  const all = new Set(Array.from({ length: 4 }, (_, i) => `10.8.${i}.0/24`));
  assert.throws(() => pickFreeBlock(parseSubnet('10.8.0.0/22'), 24, all), /every \/24 block of 10\.8\.0\.0\/22 is leased/);
  assert.equal(checkBlockPrefix(cluster, 24), 24);
  assert.throws(() => checkBlockPrefix(cluster, 16), /block size \/16 does not fit 10\.42\.0\.0\/16/);
  assert.throws(() => checkBlockPrefix(cluster, 31), /between \/17 and \/30/);
  assert.ok(isBlockOf(cluster, 24, '10.42.5.0/24'));
  assert.ok(!isBlockOf(cluster, 24, '10.43.5.0/24'));
  assert.ok(!isBlockOf(cluster, 24, '10.42.5.1/24'));
});

test('--store endpoints: comma-separated http(s)://HOST:PORT, anything else refused with an example', () => {
  assert.deepEqual(parseEndpoints('http://10.0.0.1:2379, https://etcd.example:2379'), ['http://10.0.0.1:2379', 'https://etcd.example:2379']);
  assert.throws(() => parseEndpoints('10.0.0.1:2379'), /is not http\(s\):\/\/HOST:PORT/);
  assert.throws(() => parseEndpoints(' , '), /at least one etcd endpoint/);
});
