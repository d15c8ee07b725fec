// The state store on a real SQLite file in a temporary directory: migrations, the address book over
// first networks and connected ones, the crash protocol's transitional states, look-ups.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../dist/store/store.js';
import { MIGRATIONS } from '../../dist/store/schema.js';
import { toInt } from '../../dist/addr/ipv4.js';

let dir;
let store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctnet-store-'));
  store = new Store(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const network = (id, extra = {}) => ({
  id, name: `n-${id}`, subnet: '10.1.0.0/24', gateway: '10.1.0.1', bridge: `br-${id}`, internal: false, mtu: 1500, createdAt: new Date().toISOString(),
  rangeStart: null, rangeEnd: null, ipMasq: true, defaultRoute: true, dns: true, subnet6: null, gateway6: null, state: 'ready', ...extra,
});
const container = (id, networkId, ip, extra = {}) => ({
  id, name: `c-${id}`, networkId, ip, hostVeth: `veth${id.slice(0, 8)}`, netns: `ctnet-${id.slice(0, 12)}`, hostname: 'h', command: ['sleep', '1'], env: [],
  portSpecs: [], detached: true, autoRemove: false, state: 'running', pid: 1, pidStart: null, exitCode: null, logPath: null, createdAt: new Date().toISOString(),
  startedAt: null, finishedAt: null, ifname: 'eth0', ownsNetns: true, cniContainerId: null, restartMax: 0, sandbox: {}, oomKilled: false, aliases: [],
  ip6: null, ip6Offset: null, mac: null, ...extra,
});
const id = (c) => c.repeat(64);

test('a new state directory gets every migration; the state directory and the database are root\'s alone', () => {
  const db = new Database(join(dir, 'ctnet.db'), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  db.close();
  assert.equal(statSync(dir).mode & 0o077, 0);
  assert.equal(statSync(join(dir, 'ctnet.db')).mode & 0o777, 0o600);
});

test('an older database is migrated in place and keeps its rows (networks become ready)', () => {
  store.close();
  const old = mkdtempSync(join(tmpdir(), 'ctnet-store-old-'));
  try {
    const db = new Database(join(old, 'ctnet.db'));
    for (const m of MIGRATIONS.slice(0, MIGRATIONS.length - 3)) typeof m === 'string' ? db.exec(m) : m(db);
    db.pragma(`user_version = ${MIGRATIONS.length - 3}`);
    db.prepare("INSERT INTO networks (id, name, subnet, gateway, bridge, mtu, created_at) VALUES ('n1', 'old', '10.9.0.0/24', '10.9.0.1', 'brold', 1500, 'then')").run();
    db.close();
    const migrated = new Store(old);
    try {
      assert.equal(migrated.findNetwork('old').state, 'ready');
      assert.deepEqual(migrated.unfinishedNetworks(), []);
    } finally {
      migrated.close();
    }
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
  store = new Store(dir);
});

test('address book: the lowest free address counts first networks and connected ones; IPv6 offsets too', () => {
  store.insertNetwork(network('a'));
  store.insertNetwork(network('b', { subnet: '10.2.0.0/24', gateway: '10.2.0.1', subnet6: 'fd00::/64', gateway6: 'fd00::1' }));
  store.insertContainer(container(id('1'), 'a', '10.1.0.2'));
  store.insertContainer(container(id('2'), 'b', '10.2.0.2', { ip6: 'fd00::2', ip6Offset: 2 }));
  store.insertAttachment({ containerId: id('1'), networkId: 'b', ifname: 'eth1', ip: '10.2.0.3', hostVeth: 'vethx', aliases: [], ip6: 'fd00::3', ip6Offset: 3 });
  const book = store.addressBook('b');
  assert.equal(book.inUse(toInt('10.2.0.3')), true, 'a connected container holds its address');
  assert.equal(book.inUse(toInt('10.2.0.4')), false);
  assert.equal(book.lowestFree(toInt('10.2.0.1'), toInt('10.2.0.254'), toInt('10.2.0.1')), toInt('10.2.0.4'));
  assert.equal(store.addressBook('a').lowestFree(toInt('10.1.0.1'), toInt('10.1.0.254'), toInt('10.1.0.1')), toInt('10.1.0.3'), 'networks do not share addresses');
  assert.equal(store.lowestFreeIp6Offset('b'), 4);
  store.deleteAttachment(id('1'), 'b');
  assert.equal(store.lowestFreeIp6Offset('b'), 3, 'a disconnect frees the IPv6 address');
});

test('crash protocol: networks being created are listed, those being removed are not; unfinished ones and marked containers are found', () => {
  store.insertNetwork(network('a'));
  store.insertNetwork(network('c', { state: 'creating', subnet: '10.3.0.0/24', gateway: '10.3.0.1' }));
  store.insertNetwork(network('r', { state: 'removing', subnet: '10.4.0.0/24', gateway: '10.4.0.1' }));
  assert.deepEqual(store.listNetworks().map((n) => n.id).sort(), ['a', 'c']);
  assert.equal(store.findNetwork('n-r'), undefined, 'a network being removed cannot be used');
  assert.deepEqual(store.unfinishedNetworks().map((n) => `${n.id}:${n.state}`).sort(), ['c:creating', 'r:removing']);
  store.setNetworkState('c', 'ready');
  assert.deepEqual(store.unfinishedNetworks().map((n) => n.id), ['r']);
  store.insertContainer(container(id('5'), 'a', '10.1.0.5'));
  assert.deepEqual(store.containersBeingRemoved(), []);
  store.markRemoving(id('5'));
  assert.deepEqual(store.containersBeingRemoved().map((c) => c.id), [id('5')]);
});

test('instance ID: made once, the same for every later open', () => {
  const first = store.instanceId();
  assert.match(first, /^[0-9a-f]{12}$/);
  assert.equal(store.instanceId(), first);
  const again = new Store(dir);
  try {
    assert.equal(again.instanceId(), first);
  } finally {
    again.close();
  }
});

test('containers by name, full ID, or a unique ID prefix of at least 3 characters', () => {
  store.insertNetwork(network('a'));
  store.insertContainer(container(`abc1${'0'.repeat(60)}`, 'a', '10.1.0.2'));
  store.insertContainer(container(`abc2${'0'.repeat(60)}`, 'a', '10.1.0.3'));
  assert.equal(store.findContainer(`c-abc1${'0'.repeat(60)}`)?.ip, '10.1.0.2');
  assert.equal(store.findContainer('abc1')?.ip, '10.1.0.2');
  assert.equal(store.findContainer('abc'), undefined, 'ambiguous');
  assert.equal(store.findContainer('ab'), undefined, 'too short');
  assert.equal(store.findContainer('nope'), undefined);
});
