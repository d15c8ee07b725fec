// IDs, names and tokens come from /dev/urandom (src/crypto.ts), not node:crypto (~12 ms to load).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBelow, randomHex } from '../../dist/crypto.js';

test('randomHex gives the asked number of bytes as hex, different each time', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => randomHex(32)));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
});

test('randomBelow covers [0, max) evenly and nothing outside it', () => {
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 7000; i++) counts[randomBelow(7)]++;
  assert.equal(counts.reduce((a, b) => a + b), 7000, 'a value outside [0, 7)');
  // 1,000 expected each; a fair die stays within 15% with overwhelming probability.
  for (const c of counts) assert.ok(c > 850 && c < 1150, counts.join(' '));
  assert.equal(randomBelow(1), 0);
  const big = randomBelow(1e9);
  assert.ok(Number.isInteger(big) && big >= 0 && big < 1e9);
});
