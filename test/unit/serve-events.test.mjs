import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSnapshots } from '../../dist/serve/events.js';

const snap = (containers, networks = {}) => ({ containers: new Map(Object.entries(containers)), networks: new Map(Object.entries(networks)) });

test('events: containers created, started, exited and removed; networks created and removed', () => {
  const before = snap({ a: { name: 'web', status: 'running' }, b: { name: 'db', status: 'running' }, c: { name: 'old', status: 'exited' } }, { n1: 'bridge' });
  const now = snap({ a: { name: 'web', status: 'running' }, b: { name: 'db', status: 'exited' }, d: { name: 'new', status: 'running' } }, { n2: 'front' });
  const events = diffSnapshots(before, now, 'T').map((e) => `${e.kind} ${e.name} ${e.action}`);
  assert.deepEqual(events, ['network front created', 'container db exited', 'container new started', 'container old removed', 'network bridge removed']);
  assert.deepEqual(diffSnapshots(now, now), []);
});

test('events: a known container connected to and disconnected from networks; a new one only started', () => {
  const before = snap({ a: { name: 'web', status: 'running', networks: ['front', 'back'] }, b: { name: 'db', status: 'running', networks: ['back'] } });
  const now = snap({ a: { name: 'web', status: 'running', networks: ['front', 'admin'] }, b: { name: 'db', status: 'exited', networks: [] }, c: { name: 'new', status: 'running', networks: ['front'] } });
  const events = diffSnapshots(before, now, 'T').map((e) => [e.kind, e.name, e.action, e.network].filter(Boolean).join(' '));
  assert.deepEqual(events, ['container web connected admin', 'container web disconnected back', 'container db exited', 'container db disconnected back', 'container new started']);
});
