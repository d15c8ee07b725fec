// How a network spreads its containers over its bridge and segments (src/engine/bridge-limits.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeLayout } from '../../dist/engine/bridge-limits.js';

test('bridge layout: 900 on the network\'s bridge and segments of 128 up to 1,796 on a default host; a bridge never past its 1,023 ports; a tiny backlog', () => {
  assert.deepEqual(bridgeLayout(1000, {}), { direct: 900, segment: 128, capacity: 900 + 7 * 128 });
  // A raised backlog: each bridge still under the kernel's 1,023 ports, a tenth kept for trunks.
  assert.deepEqual(bridgeLayout(100000, {}), { direct: 923, segment: 128, capacity: 923 + 7 * 128 });
  assert.deepEqual(bridgeLayout(50, {}), { direct: 45, segment: 128, capacity: 45 });
});

test('bridge layout: CTNET_SEGMENT_PORTS puts that many on each bridge; anything but a count that fits is refused, naming the variable', () => {
  assert.deepEqual(bridgeLayout(1000, { CTNET_SEGMENT_PORTS: '2' }), { direct: 2, segment: 2, capacity: 2 + 450 * 2 });
  assert.deepEqual(bridgeLayout(1000, { CTNET_SEGMENT_PORTS: '' }), bridgeLayout(1000, {}));
  for (const bad of ['0', '-1', '2.5', 'abc', '901', ' 2']) {
    assert.throws(() => bridgeLayout(1000, { CTNET_SEGMENT_PORTS: bad }), (err) => err.code === 'CTNET_INVALID_ARGUMENT' && err.message.includes(`CTNET_SEGMENT_PORTS=${bad}: expected`), bad);
  }
});
