// How a network spreads its containers over its bridge and segments (src/engine/bridge-limits.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeLayout } from '../../dist/engine/bridge-limits.js';

test('bridge layout: 900 on the network\'s bridge, then up to 100 segments of 900 on a default host; a bridge never past its 1,023 ports; a tiny backlog', () => {
  assert.deepEqual(bridgeLayout(1000, {}), { direct: 900, segment: 900, segments: 100, capacity: 900 * 101 });
  // A raised backlog: each bridge still under the kernel's 1,023 ports, a tenth kept for trunks (at most 100).
  assert.deepEqual(bridgeLayout(100000, {}), { direct: 923, segment: 923, segments: 100, capacity: 923 * 101 });
  assert.deepEqual(bridgeLayout(50, {}), { direct: 45, segment: 45, segments: 5, capacity: 45 * 6 });
});

test('bridge layout: CTNET_SEGMENT_PORTS puts that many on each bridge; anything but a count that fits is refused, naming the variable', () => {
  assert.deepEqual(bridgeLayout(1000, { CTNET_SEGMENT_PORTS: '2' }), { direct: 2, segment: 2, segments: 100, capacity: 2 * 101 });
  assert.deepEqual(bridgeLayout(1000, { CTNET_SEGMENT_PORTS: '' }), bridgeLayout(1000, {}));
  for (const bad of ['0', '-1', '2.5', 'abc', '901', ' 2']) {
    assert.throws(() => bridgeLayout(1000, { CTNET_SEGMENT_PORTS: bad }), (err) => err.code === 'CTNET_INVALID_ARGUMENT' && err.message.includes(`CTNET_SEGMENT_PORTS=${bad}: expected`), bad);
  }
});
