// The cgroup v2 device program, instruction by instruction (golden bytes), and the rule syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceProgram, parseDeviceRule } from '../../dist/sandbox/device-program.js';
import { ALLOWED_DEVICES } from '../../dist/kernel/cgroups.js';

test('rules in the devices controller syntax', () => {
  assert.deepEqual(parseDeviceRule('c 1:3 rwm'), { type: 'c', major: 1, minor: 3, access: 'rwm' });
  assert.deepEqual(parseDeviceRule('b *:* m'), { type: 'b', major: null, minor: null, access: 'm' });
  assert.deepEqual(parseDeviceRule('c 136:* rwm'), { type: 'c', major: 136, minor: null, access: 'rwm' });
  assert.throws(() => parseDeviceRule('x 1:1 r'), /not a device rule/);
  assert.equal(ALLOWED_DEVICES.map(parseDeviceRule).length, 11);
});

test('golden bytes: context loads, one test per constraint jumping past its rule, allow, default refuse', () => {
  const program = deviceProgram([parseDeviceRule('c 1:3 rwm'), parseDeviceRule('b *:* m')]);
  const words = [];
  for (let i = 0; i < program.length; i += 8) words.push(program.subarray(i, i + 8).toString('hex'));
  assert.deepEqual(words, [
    '6112000000000000', // r2 = ctx->access_type
    'bf23000000000000', // r3 = r2
    '57030000ffff0000', // r3 &= 0xffff: type
    '7702000010000000', // r2 >>= 16: access
    '6114040000000000', // r4 = ctx->major
    '6115080000000000', // r5 = ctx->minor
    '5503040002000000', // c 1:3 rwm: type != char: skip 4
    '5504030001000000', //   major != 1: skip 3
    '5505020003000000', //   minor != 3: skip 2
    'b700000001000000', //   r0 = 1
    '9500000000000000', //   exit
    '5503050001000000', // b *:* m: type != block: skip 5
    'bf26000000000000', //   r6 = access
    '5706000006000000', //   r6 &= read|write (what m does not give)
    '5506020000000000', //   asked for any: skip 2
    'b700000001000000', //   r0 = 1
    '9500000000000000', //   exit
    'b700000000000000', // nothing matched: r0 = 0
    '9500000000000000',
  ]);
});
