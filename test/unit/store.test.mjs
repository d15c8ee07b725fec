// The state store on a real SQLite file in a temporary directory: migrations, the address book over
// first networks and connected ones, the crash protocol's transitional states, look-ups.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CONTAINER_BY_ID_PREFIX, CONTAINER_BY_NAME_OR_ID, CONTAINER_SUMMARIES_ON_NETWORK, CONTAINERS_BEING_REMOVED, CONTAINERS_ON_NETWORK, PORTS_AT, PORTS_OF, Store } from '../../dist/store/store.js';
import { MIGRATIONS } from '../../dist/store/schema.js';
import { toInt } from '../../dist/addr/ipv4.js';

const require = createRequire(import.meta.url);

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
  rangeStart: null, rangeEnd: null, ipMasq: true, defaultRoute: true, dns: true, subnet6: null, gateway6: null, state: 'ready', labels: {}, ipRange: null, auxAddresses: {}, icc: true, hostBindingIpv4: null, driver: 'bridge', parent: null, ...extra,
});
const container = (id, networkId, ip, extra = {}) => ({
  id, name: `c-${id}`, networkId, ip, hostVeth: `veth${id.slice(0, 8)}`, netns: `ctnet-${id.slice(0, 12)}`, hostname: 'h', command: ['sleep', '1'], env: [],
  portSpecs: [], detached: true, autoRemove: false, state: 'running', pid: 1, pidStart: null, exitCode: null, logPath: null, createdAt: new Date().toISOString(),
  startedAt: null, finishedAt: null, ifname: 'eth0', ownsNetns: true, cniContainerId: null, restartMax: 0, sandbox: {}, oomKilled: false, aliases: [], labels: {},
  ip6: null, ip6Offset: null, mac: null, networkMode: 'bridge', netnsOf: null, netOptions: {}, ...extra,
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
  const oldDir = mkdtempSync(join(tmpdir(), 'ctnet-store-old-'));
  try {
    const db = new Database(join(oldDir, 'ctnet.db'));
    // The database as it was before the crash protocol's container mark and the one attachment model.
    const old = MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('is_primary')) - 2;
    for (const m of MIGRATIONS.slice(0, old)) typeof m === 'string' ? db.exec(m) : m(db);
    db.pragma(`user_version = ${old}`);
    db.prepare("INSERT INTO networks (id, name, subnet, gateway, bridge, mtu, created_at) VALUES ('n1', 'old', '10.9.0.0/24', '10.9.0.1', 'brold', 1500, 'then')").run();
    // A running container whose first network lived in containers columns, and an exited one.
    const insert = db.prepare(`INSERT INTO containers (id, name, network_id, ip, ip_num, host_veth, netns, hostname, command, env, port_specs, detached, auto_remove, state, created_at, aliases, mac)
      VALUES (?, ?, 'n1', ?, ?, ?, ?, 'h', '[]', '[]', '[]', 1, 0, ?, 'then', '["db"]', ?)`);
    insert.run(id('7'), 'web', '10.9.0.7', toInt('10.9.0.7'), 'veth77777777', 'ctnet-777777777777', 'running', '02:42:0a:09:00:07');
    insert.run(id('8'), 'gone', null, null, null, null, 'exited', null);
    db.prepare("INSERT INTO ports (container_id, protocol, host_ip, host_port, container_port) VALUES (?, 'tcp', '', 8080, 80)").run(id('7'));
    db.close();
    const migrated = new Store(oldDir);
    try {
      assert.equal(migrated.findNetwork('old').state, 'ready');
      assert.deepEqual(migrated.unfinishedNetworks(), []);
      // The first network is an attachment row now; the container reads it back the same.
      const web = migrated.findContainer('web');
      assert.deepEqual([web.ip, web.hostVeth, web.mac, web.aliases], ['10.9.0.7', 'veth77777777', '02:42:0a:09:00:07', ['db']]);
      assert.deepEqual(migrated.endpointsOn('n1').map((e) => [e.containerName, e.ip, e.primary, e.ifname]), [['web', '10.9.0.7', true, 'eth0']]);
      assert.equal(migrated.findContainer('gone').ip, null);
      assert.equal(migrated.addressBook('n1').inUse(toInt('10.9.0.7')), true);
      // The containers table was rebuilt (network modes): the rows that reference it stayed.
      assert.deepEqual(migrated.portsOf(id('7')).map((p) => p.hostPort), [8080]);
      assert.deepEqual([web.networkMode, web.netnsOf, web.netOptions], ['bridge', null, {}]);
    } finally {
      migrated.close();
    }
  } finally {
    rmSync(oldDir, { recursive: true, force: true });
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

test('address book: the lowest free address, found through the index, is the one a plain walk finds, for random holes, gateways and ranges', async () => {
  const { setAddressBook } = await import('../../dist/ipam/allocator.js');
  store.insertNetwork(network('p', { subnet: '10.5.0.0/27', gateway: '10.5.0.1' }));
  const at = (n) => `10.5.0.${n}`;
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let trial = 0; trial < 300; trial++) {
    // Filled from the bottom up to a point (how networks fill), then holes punched at random.
    const fill = Math.floor(random() * 31);
    const used = Array.from({ length: fill }, (_, i) => i + 1).filter(() => random() > (trial % 3 === 0 ? 0 : 0.2));
    const gateway = [1, 2, 17, 30][trial % 4];
    const taken = used.filter((n) => n !== gateway);
    for (const [i, n] of taken.entries()) store.insertContainer(container(`${trial}`.padStart(4, '0') + `${i}`.padStart(60, '0'), 'p', at(n)));
    const [first, last] = trial % 5 === 0 ? [toInt(at(3)), toInt(at(20))] : [toInt(at(1)), toInt(at(30))];
    const expected = setAddressBook(new Set(taken.map(at))).lowestFree(first, last, toInt(at(gateway)));
    assert.equal(store.addressBook('p').lowestFree(first, last, toInt(at(gateway))), expected, `used ${taken.join(',')}, gateway .${gateway}, range ${first & 255}-${last & 255}`);
    for (const c of store.listContainers()) store.deleteContainer(c.id);
  }
});

test('the lowest free IPv6 offset, found through the index, is the one a plain walk from 2 finds, for random holes', () => {
  store.insertNetwork(network('q', { subnet: '10.6.0.0/24', gateway: '10.6.0.1', subnet6: 'fd00:6::/64', gateway6: 'fd00:6::1' }));
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let trial = 0; trial < 200; trial++) {
    const fill = Math.floor(random() * 40);
    const offsets = Array.from({ length: fill }, (_, i) => i + 2).filter(() => random() > (trial % 3 === 0 ? 0 : 0.2));
    for (const [i, o] of offsets.entries()) {
      store.insertContainer(container(`${trial}`.padStart(4, '0') + `${i}`.padStart(60, '0'), 'q', `10.6.0.${i + 2}`, { ip6: `fd00:6::${o.toString(16)}`, ip6Offset: o }));
    }
    let expected = 2;
    while (offsets.includes(expected)) expected++;
    assert.equal(store.lowestFreeIp6Offset('q'), expected, `offsets ${offsets.join(',')}`);
    for (const c of store.listContainers()) store.deleteContainer(c.id);
  }
});

test('container ID prefixes: taken only by an ID that starts with them', () => {
  store.insertNetwork(network('a'));
  store.insertContainer(container('0123abcd' + 'f'.repeat(56), 'a', '10.1.0.2'));
  assert.equal(store.containerIdPrefixTaken('0123abcd'), true);
  assert.equal(store.containerIdPrefixTaken('0123abce'), false);
  assert.equal(store.containerIdPrefixTaken('0123abcc'), false);
  assert.equal(store.containerIdPrefixTaken('f'.repeat(8)), false);
});

test('crash protocol: networks being created are listed, those being removed are not; unfinished ones and marked containers are found', () => {
  store.insertNetwork(network('a'));
  store.insertNetwork(network('c', { state: 'creating', subnet: '10.3.0.0/24', gateway: '10.3.0.1' }));
  store.insertNetwork(network('r', { state: 'removing', subnet: '10.4.0.0/24', gateway: '10.4.0.1' }));
  assert.deepEqual(store.reconcileWork(), { removing: false, processes: false, networks: true });
  assert.deepEqual(store.listNetworks().map((n) => n.id).sort(), ['a', 'c']);
  assert.equal(store.findNetwork('n-r'), undefined, 'a network being removed cannot be used');
  assert.deepEqual(store.unfinishedNetworks().map((n) => `${n.id}:${n.state}`).sort(), ['c:creating', 'r:removing']);
  store.setNetworkState('c', 'ready');
  assert.deepEqual(store.unfinishedNetworks().map((n) => n.id), ['r']);
  store.deleteNetwork('r');
  store.insertContainer(container(id('4'), 'a', '10.1.0.4', { pid: null }));
  assert.deepEqual(store.reconcileWork(), { removing: false, processes: false, networks: false }, 'a running container without a process is nothing to check');
  store.insertContainer(container(id('5'), 'a', '10.1.0.5'));
  assert.deepEqual(store.containersBeingRemoved(), []);
  assert.deepEqual(store.reconcileWork(), { removing: false, processes: true, networks: false });
  assert.deepEqual(store.processesToCheck(), [{ id: id('5'), state: 'running', pid: 1, pidStart: null }]);
  store.markRemoving(id('5'));
  assert.deepEqual(store.containersBeingRemoved().map((c) => c.id), [id('5')]);
  assert.deepEqual(store.reconcileWork(), { removing: true, processes: true, networks: false });
  store.updateContainer(id('4'), { state: 'created' });
  store.deleteContainer(id('5'));
  assert.deepEqual(store.reconcileWork(), { removing: false, processes: true, networks: false }, 'a setup under way is checked');
  assert.deepEqual(store.processesToCheck().map((c) => [c.id, c.state]), [[id('4'), 'created']]);
});

test('a taken name fails the insert, and says so; other failures do not', () => {
  store.insertNetwork(network('a'));
  store.insertContainer(container(id('1'), 'a', '10.1.0.2'));
  const failure = (c) => {
    try {
      store.transaction(() => store.insertContainer(c));
    } catch (err) {
      return err;
    }
    assert.fail('the insert did not fail');
  };
  assert.equal(store.isNameTaken(failure(container(id('2'), 'a', '10.1.0.3', { name: `c-${id('1')}` }))), true);
  assert.equal(store.isNameTaken(failure(container(id('1'), 'a', '10.1.0.3', { name: 'other' }))), false, 'the same ID');
  assert.equal(store.isNameTaken(failure(container(id('3'), 'a', '10.1.0.2', { name: 'third' }))), false, 'the same address');
  assert.deepEqual(store.listContainers().map((c) => c.id), [id('1')]);
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
  // Through indexes, not a read of every container: a name that looks like hex (db1, cafe) is also
  // looked up as an ID prefix on every run. (With `c.id LIKE ?` SQLite scans the table.)
  const db = new Database(join(dir, 'ctnet.db'), { readonly: true });
  try {
    for (const [sql, args] of [[CONTAINER_BY_NAME_OR_ID, ['db1', 'db1']], [CONTAINER_BY_ID_PREFIX, ['db1', 'db1g']], [CONTAINER_BY_ID_PREFIX.replace('c.id >= ? AND c.id < ?', 'c.id LIKE ?'), ['db1%']]]) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args).map((r) => r.detail);
      const scans = plan.some((d) => /^SCAN c\b/.test(d));
      assert.equal(scans, sql.includes('LIKE'), `${sql}: ${plan.join('; ')}`);
    }
  } finally {
    db.close();
  }
});

test('what every run and rm reads goes through an index (a host port\'s publications, a container\'s and the delete that cascades to them, what a killed rm left, a network\'s containers); the control: without the indexes each reads every row', () => {
  store.insertNetwork(network('a'));
  const db = new Database(join(dir, 'ctnet.db'));
  const reads = [[PORTS_AT, ['tcp', 8080]], [PORTS_OF, ['x']], ['DELETE FROM containers WHERE id = ?', ['x']], [CONTAINERS_BEING_REMOVED, []], [CONTAINERS_ON_NETWORK, ['a']], [CONTAINER_SUMMARIES_ON_NETWORK, ['a']]];
  // A full read: a scan, or the primary key of ports by its first column alone (every row of a protocol).
  const scans = (sql, args) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args).map((r) => r.detail).filter((d) => /^SCAN (ports|c|containers)\b|INDEX sqlite_autoindex_ports_1 \(protocol=\?\)$/.test(d));
  try {
    for (const [sql, args] of reads) assert.deepEqual(scans(sql, args), [], sql);
    db.exec('BEGIN; DROP INDEX ports_host_port; DROP INDEX ports_container; DROP INDEX containers_removing; DROP INDEX containers_network;');
    for (const [sql, args] of reads) assert.notDeepEqual(scans(sql, args), [], `${sql} without the indexes`);
    db.exec('ROLLBACK');
  } finally {
    db.close();
  }
});

test('one attachment model: a container\'s first network is an attachment row; exiting removes it; one address index for all', () => {
  store.insertNetwork(network('a'));
  store.insertContainer(container(id('1'), 'a', '10.1.0.2', { aliases: ['api'], mac: '02:42:0a:01:00:02' }));
  store.insertContainer(container(id('2'), 'a', '10.1.0.3'));
  store.insertNetwork(network('b', { subnet: '10.2.0.0/24', gateway: '10.2.0.1' }));
  store.insertAttachment({ containerId: id('1'), networkId: 'b', ifname: 'eth1', ip: '10.2.0.2', hostVeth: 'vethb', aliases: ['store'], ip6: null, ip6Offset: null, mac: null });
  assert.deepEqual(store.listEndpoints().map((e) => [e.containerName, e.networkId, e.ip, e.primary, e.aliases]).sort(), [
    ['c-1111111111111111111111111111111111111111111111111111111111111111', 'a', '10.1.0.2', true, ['api']],
    ['c-1111111111111111111111111111111111111111111111111111111111111111', 'b', '10.2.0.2', false, ['store']],
    ['c-2222222222222222222222222222222222222222222222222222222222222222', 'a', '10.1.0.3', true, []],
  ]);
  assert.deepEqual(store.connectionsOf(id('1')).map((a) => a.networkId), ['b'], 'further networks only');
  // The same address twice on a network is refused by the one index, first network or connected.
  assert.throws(() => store.insertAttachment({ containerId: id('2'), networkId: 'b', ifname: 'eth1', ip: '10.2.0.2', hostVeth: 'vethc', aliases: [], ip6: null, ip6Offset: null, mac: null }), /UNIQUE/);
  store.deleteAttachmentsOf(id('1'));
  store.updateContainer(id('1'), { state: 'exited', netns: null });
  const exited = store.getContainer(id('1'));
  assert.deepEqual([exited.state, exited.ip, exited.hostVeth, exited.networkId, exited.aliases], ['exited', null, null, 'a', ['api']]);
  assert.deepEqual(store.endpointsOn('a').map((e) => e.ip), ['10.1.0.3']);
});

test('container kind: read back from what a row holds (a process, a network-only endpoint, a runtime\'s CNI attachment)', () => {
  store.insertNetwork(network('a'));
  store.insertContainer(container(id('1'), 'a', '10.1.0.2', { kind: 'process' }));
  store.insertContainer(container(id('2'), 'a', '10.1.0.3', { kind: 'network-only', command: [] }));
  store.insertContainer(container(id('3'), 'a', '10.1.0.4', { kind: 'cni', command: [], cniContainerId: 'f'.repeat(64), ownsNetns: false, netns: '/proc/1/ns/net' }));
  assert.deepEqual([id('1'), id('2'), id('3')].map((c) => store.getContainer(c).kind), ['process', 'network-only', 'cni']);
  // The kind is what the row holds, not a column of its own: an update cannot change it.
  store.updateContainer(id('1'), { state: 'exited', kind: 'cni' });
  assert.equal(store.getContainer(id('1')).kind, 'process');
});

test('a new state opened while another process writes its first transaction waits for it (the switch to WAL races, and SQLite answers the loser at once)', async () => {
  const fresh = mkdtempSync(join(tmpdir(), 'ctnet-store-race-'));
  // Another process holds the new file's write lock (as a first opener switching it to WAL does) for 300 ms.
  const holder = spawn(process.execPath, ['-e', `
    const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE; CREATE TABLE held (x)');
    console.log('holding');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`, join(fresh, 'ctnet.db')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      holder.stdout.on('data', (d) => String(d).includes('holding') && resolve());
      holder.on('exit', () => reject(new Error('the holder ended before holding the lock')));
    });
    const s = new Store(fresh);
    assert.equal(s.getMeta('none'), undefined);
    s.close();
  } finally {
    holder.kill();
    rmSync(fresh, { recursive: true, force: true });
  }
});
