import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildNameTable, lookupName, NameTable } from '../../dist/dns/records.js';
import { DnsServer } from '../../dist/dns/server.js';
import { StateFollower } from '../../dist/dns/state.js';
import { DnsView } from '../../dist/store/dns-view.js';
import { Store } from '../../dist/store/store.js';

const NETWORKS = [{ id: 'n1', name: 'app', gateway: '10.1.0.1' }, { id: 'n2', name: 'side', gateway: '10.2.0.1' }, { id: 'n3', name: 'v6', gateway: '10.3.0.1' }];

/** Everything a table answers, order aside: each name's addresses per network and family, clients, upstreams, networks per client. */
function answers(t) {
  const out = {};
  for (const [net, names] of t.names) {
    for (const name of names.keys()) {
      out[`${net} ${name}`] = [...lookupName(t, net, name)].sort().join(',');
      out[`${net} ${name} AAAA`] = [...lookupName(t, net, name, undefined, true)].sort().join(',');
    }
    out[`${net} clients`] = [...t.clients.get(net)].sort().join(',');
    out[`${net} upstreams`] = [...t.upstreams.get(net)].map(([ip, s]) => `${ip}=${s}`).sort().join(' ');
    out[`${net} networksOf`] = [...t.networksOf.get(net)].map(([ip, n]) => `${ip}=${n}`).sort().join(' ');
  }
  return out;
}

/** A small deterministic random source (mulberry32: the test must fail the same way every time). */
function random(seed) {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

test('a table changed a container at a time answers as one built anew from the same rows', () => {
  const rnd = random(7);
  const hex = (i) => i.toString(16).padEnd(64, 'c');
  const current = new Map();
  const table = buildNameTable(NETWORKS, []);
  // Addresses are drawn from a few per network, so a change often hands one container's address to another.
  const rowsOf = (id) => {
    if (rnd(5) === 0) return [];
    const nets = rnd(3) === 0 ? ['n1', 'n2'] : [['n1', 'n2', 'n3'][rnd(3)]];
    const running = rnd(4) !== 0;
    return nets.map((n) => {
      const host = rnd(9) === 0 ? null : 2 + rnd(12);
      return {
        id, name: `c${rnd(6)}`, aliases: [['api'], ['api', 'db'], [], ['Web']][rnd(4)], networkId: n, ip: host === null ? null : `10.${n.slice(1)}.0.${host}`,
        ip6: n === 'n3' && host !== null ? `fd00::${host}` : null, running, dns: rnd(5) === 0 ? ['192.0.2.53'] : undefined,
      };
    });
  };
  for (let step = 0; step < 400; step++) {
    const changed = new Map();
    for (let k = 1 + rnd(3); k > 0; k--) {
      const id = hex(rnd(10));
      // No two containers hold one address at a time (the state's unique index): the others keep theirs.
      const taken = new Set([...current].filter(([other]) => other !== id && !changed.has(other)).flatMap(([, rows]) => rows.map((r) => `${r.networkId} ${r.ip}`)));
      for (const rows of changed.values()) for (const r of rows) taken.add(`${r.networkId} ${r.ip}`);
      const rows = rowsOf(id).filter((r) => r.ip === null || !taken.has(`${r.networkId} ${r.ip}`));
      changed.set(id, rows);
    }
    // Reversed: a container given another's old address comes before the one that gave it up.
    table.replace(new Map([...changed].reverse()));
    for (const [id, rows] of changed) current.set(id, rows);
    const fresh = buildNameTable(NETWORKS, [...current.values()].flat());
    assert.deepEqual(answers(table), answers(fresh), `after step ${step}`);
  }
  assert.ok(Object.keys(answers(table)).length > 40, `the comparison covered names: ${Object.keys(answers(table)).length}`);
});

test('an address that passes from one container to another in one change answers for the new one only', () => {
  const a = { id: 'a'.repeat(64), name: 'old', aliases: ['shared'], networkId: 'n1', ip: '10.1.0.5' };
  const b = { id: 'b'.repeat(64), name: 'new', aliases: ['shared'], networkId: 'n1', ip: '10.1.0.5' };
  const t = buildNameTable(NETWORKS, [a]);
  t.replace(new Map([[b.id, [b]], [a.id, []]]));
  assert.deepEqual([lookupName(t, 'n1', 'old'), lookupName(t, 'n1', 'new'), lookupName(t, 'n1', 'shared')], [undefined, ['10.1.0.5'], ['10.1.0.5']]);
  assert.deepEqual([...t.clients.get('n1')], ['10.1.0.5']);
  assert.ok(new NameTable().names.size === 0);
});

function withState(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-dnsfollow-'));
  const store = new Store(dir);
  try {
    return fn(dir, store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const network = (id, extra = {}) => ({ id, name: id, subnet: `10.${id.length}.0.0/24`, gateway: `10.${id.length}.0.1`, bridge: `br-${id}`, internal: false, mtu: 1500, createdAt: 't', rangeStart: null, rangeEnd: null, ipMasq: true, defaultRoute: true, dns: true, subnet6: null, gateway6: null, state: 'ready', labels: {}, ipRange: null, auxAddresses: {}, icc: true, hostBindingIpv4: null, driver: 'bridge', parent: null, ...extra });
const container = (n, state = 'running', aliases = []) => ({
  id: n.toString(16).padStart(64, 'a'), name: `c${n}`, networkId: 'app', ip: `10.3.0.${n + 2}`, hostVeth: `veth${n}`, netns: 'x', hostname: `c${n}`, command: ['sleep'], env: [], portSpecs: [], detached: true, autoRemove: false,
  state, pid: 1, pidStart: null, exitCode: null, logPath: null, createdAt: 't', startedAt: null, finishedAt: null, ifname: 'eth0', ownsNetns: true, cniContainerId: null,
  restartMax: 0, sandbox: {}, oomKilled: false, aliases, labels: {}, ip6: null, ip6Offset: null, mac: null, networkMode: 'bridge', netnsOf: null, netOptions: {},
});

test('the DNS view follows the change log: only the containers a commit changed are read again; networks, a gap or a first look read everything', () => {
  withState((dir, store) => {
    const view = new DnsView(dir);
    try {
      store.insertNetwork(network('app'));
      for (let n = 0; n < 50; n++) store.insertContainer(container(n));
      const first = view.follow(-1);
      assert.equal(first.all.containers.length, 50, 'a first look reads everything');
      store.transaction(() => {
        store.insertContainer(container(60, 'created'));
        store.updateContainer(container(3).id, { state: 'exited' });
      });
      store.transaction(() => store.updateContainer(container(60).id, { state: 'running' }));
      const next = view.follow(first.seq);
      assert.equal(next.all, undefined, 'containers alone changed');
      assert.deepEqual([...next.containers.keys()].sort(), [container(3).id, container(60).id].sort(), 'only the changed containers');
      assert.deepEqual(next.containers.get(container(3).id), [], 'an exited container has no rows');
      assert.deepEqual(next.containers.get(container(60).id).map((c) => [c.name, c.ip, c.running]), [['c60', '10.3.0.62', true]]);
      assert.equal(view.follow(next.seq).containers.size, 0, 'nothing since');
      // Neither the container's ports nor its pid are the DNS's business.
      store.transaction(() => store.updateContainer(container(60).id, { pid: 2 }));
      assert.equal(view.follow(next.seq).containers.size, 0, 'a change the DNS does not read logs nothing');

      store.insertNetwork(network('other'));
      assert.ok(view.follow(next.seq).all, 'a network changed: everything');

      const after = view.follow(-1).seq;
      store.transaction(() => store.deleteContainer(container(7).id));
      // The log pruned past this reader's position (it was away longer than the log reaches).
      const db = new Database(join(dir, 'ctnet.db'));
      db.prepare('DELETE FROM dns_log WHERE seq <= ?').run(after + 1);
      db.close();
      store.transaction(() => store.deleteContainer(container(8).id));
      const gap = view.follow(after);
      assert.ok(gap.all, 'a gap in the log: everything');
      assert.equal(gap.all.containers.length, 48);
    } finally {
      view.close();
    }
  });
});

test('the log keeps its newest entries only', () => {
  withState((dir, store) => {
    store.insertNetwork(network('app'));
    store.transaction(() => {
      for (let n = 0; n < 4000; n++) {
        store.insertContainer(container(n % 200 + 50));
        store.deleteContainer(container(n % 200 + 50).id);
      }
    });
    const db = new Database(join(dir, 'ctnet.db'), { readonly: true });
    const [count, max] = db.prepare('SELECT COUNT(*), MAX(seq) FROM dns_log').raw().get();
    db.close();
    // Four entries a container (its row and its attachment, in and out), and the network's.
    assert.equal(max, 16001);
    // Pruned at every thousandth entry to the newest 10,000.
    assert.ok(count >= 10000 && count < 11000, `${count} kept`);
  });
});

test('a DNS thread that follows the state answers as after a full read, through starts, stops, renames and a new network', () => {
  withState((dir, store) => {
    const follower = new StateFollower(dir);
    const server = new DnsServer(() => []);
    const freshServer = new DnsServer(() => []);
    const table = (s) => answers(s.table);
    try {
      store.insertNetwork(network('app'));
      for (let n = 0; n < 20; n++) store.insertContainer(container(n, 'running', n % 3 ? [] : ['api']));
      assert.equal(follower.reload(server), true);
      const steps = [
        () => store.insertContainer(container(30, 'created', ['api'])),
        () => store.updateContainer(container(30).id, { state: 'running' }),
        () => store.updateContainer(container(3).id, { state: 'exited' }),
        () => store.deleteContainer(container(6).id),
        () => store.updateContainer(container(9).id, { name: 'renamed' }),
        () => store.insertNetwork(network('side')),
        () => store.insertAttachment({ containerId: container(12).id, networkId: 'side', ifname: 'eth1', ip: '10.4.0.2', hostVeth: 'vx', aliases: ['s'], ip6: null, ip6Offset: null, mac: null }),
        () => store.deleteAttachment(container(12).id, 'side'),
      ];
      for (const [i, step] of steps.entries()) {
        store.transaction(step);
        assert.equal(follower.reload(server), true, `step ${i} changed the table`);
        assert.equal(follower.reload(server), false, `step ${i}: nothing since`);
        const full = new StateFollower(dir);
        full.reload(freshServer);
        assert.deepEqual(table(server), table(freshServer), `after step ${i}`);
        full.close();
      }
      assert.deepEqual(lookupName(server.table, 'app', 'renamed'), ['10.3.0.11']);
      assert.equal(lookupName(server.table, 'app', 'c6'), undefined);
    } finally {
      follower.close();
    }
  });
});

test('a look at the state that fails is tried again at the next look, not only after the next commit', () => {
  withState((dir, store) => {
    const follower = new StateFollower(dir);
    const server = new DnsServer(() => []);
    try {
      store.insertNetwork(network('app'));
      store.insertContainer(container(1, 'running'));
      assert.equal(follower.reload(server), true);
      store.transaction(() => store.updateContainer(container(1).id, { name: 'renamed' }));
      // The read after the commit fails once, as it does when a writer holds the database past the busy timeout.
      const view = follower.view;
      const follow = view.follow;
      view.follow = () => {
        view.follow = follow;
        throw new Error('database is locked');
      };
      assert.throws(() => follower.reload(server), /database is locked/);
      assert.equal(follower.reload(server), true, 'the next look reads the change');
      assert.deepEqual(lookupName(server.table, 'app', 'renamed'), ['10.3.0.3']);
      assert.equal(lookupName(server.table, 'app', 'c1'), undefined);
    } finally {
      follower.close();
    }
  });
});
