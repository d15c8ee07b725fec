import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { buildNameTable, lookupName } from '../../dist/dns/records.js';
import { DnsServer, parseResolvConf } from '../../dist/dns/server.js';

const networks = [{ id: 'n1', name: 'app', gateway: '172.25.0.1' }, { id: 'n2', name: 'other', gateway: '172.26.0.1' }];
const containers = [
  { id: 'a'.repeat(64), name: 'web', aliases: ['www', 'api'], networkId: 'n1', ip: '172.25.0.2' },
  { id: 'b'.repeat(64), name: 'web2', aliases: ['api'], networkId: 'n1', ip: '172.25.0.3' },
  { id: 'c'.repeat(64), name: 'db', aliases: [], networkId: 'n2', ip: '172.26.0.2' },
  { id: 'd'.repeat(64), name: 'gone', aliases: [], networkId: 'n1', ip: null },
];

test('names per network: name, short ID, aliases, NAME.NETWORK; case-insensitive; a shared alias answers with both', () => {
  const t = buildNameTable(networks, containers);
  assert.deepEqual(lookupName(t, 'n1', 'web'), ['172.25.0.2']);
  assert.deepEqual(lookupName(t, 'n1', 'WWW.'), ['172.25.0.2']);
  assert.deepEqual(lookupName(t, 'n1', 'web.app'), ['172.25.0.2']);
  assert.deepEqual(lookupName(t, 'n1', 'aaaaaaaaaaaa'), ['172.25.0.2']);
  assert.deepEqual(lookupName(t, 'n1', 'api'), ['172.25.0.2', '172.25.0.3']);
  assert.equal(lookupName(t, 'n1', 'db'), undefined, 'not across networks');
  assert.equal(lookupName(t, 'n1', 'gone'), undefined, 'no address, no name');
  assert.deepEqual(lookupName(t, 'n2', 'db.other'), ['172.26.0.2']);
});

/** A query from `source`: by default a container of the network asked (web on n1, db on n2). */
const CLIENT = { n1: '172.25.0.2', n2: '172.26.0.2' };
const ask = (server, network, name, type = 'A', source = CLIENT[network]) =>
  server.answer(network, dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), source).then((b) => dnsPacket.decode(b));

test('answers: A for known names, empty NOERROR for their other types, SERVFAIL when nothing can be forwarded', async () => {
  const server = new DnsServer(() => []);
  server.setTable(buildNameTable(networks, containers));
  const a = await ask(server, 'n1', 'web');
  assert.deepEqual([a.id, a.rcode, a.answers.map((x) => x.data)], [42, 'NOERROR', ['172.25.0.2']]);
  const aaaa = await ask(server, 'n1', 'web', 'AAAA');
  assert.deepEqual([aaaa.rcode, aaaa.answers.length], ['NOERROR', 0]);
  assert.equal((await ask(server, 'n1', 'example.org')).rcode, 'SERVFAIL');
  assert.equal(await server.answer('n1', Buffer.from('junk'), CLIENT.n1), undefined);
});

test("only the network's own containers are answered: another network's container, a stranger, no source get REFUSED", async () => {
  let refreshed = 0;
  const server = new DnsServer(() => ['192.0.2.53'], () => {}, () => refreshed++);
  server.setTable(buildNameTable(networks, [...containers, { id: 'e'.repeat(64), name: 'starting', aliases: [], networkId: 'n1', ip: '172.25.0.9', running: false }]));
  assert.equal((await ask(server, 'n1', 'web', 'A', '172.26.0.2')).rcode, 'REFUSED', 'db of n2 asks n1');
  assert.equal((await ask(server, 'n1', 'web', 'A', '10.0.12.11')).rcode, 'REFUSED', 'another host');
  assert.equal((await ask(server, 'n1', 'web', 'A', null)).rcode, 'REFUSED', 'no source address');
  assert.equal(refreshed, 2, 'an unknown client makes the server look at the state once more first');
  // A container being set up may ask already; its own name is not answered before it runs.
  const starting = await ask(server, 'n1', 'web', 'A', '172.25.0.9');
  assert.deepEqual([starting.rcode, starting.answers[0]?.data], ['NOERROR', '172.25.0.2']);
  assert.equal((await ask(server, 'n1', 'starting')).rcode, 'SERVFAIL', 'not a name yet: forwarded, and nobody answers in this test');
});

test('a name the table lacks gets one fresh look at the state before it is forwarded: a container started since the last poll is answered', async () => {
  const started = { id: 'f'.repeat(64), name: 'fresh', aliases: [], networkId: 'n1', ip: '172.25.0.7' };
  let committed = false;
  let refreshed = 0;
  const server = new DnsServer(() => [], () => {}, () => {
    refreshed++;
    if (committed) server.setTable(buildNameTable(networks, [...containers, started]));
    committed = false;
  });
  server.setTable(buildNameTable(networks, containers));
  // The control: nothing committed since, so the name is not there and goes on to be forwarded.
  assert.equal((await ask(server, 'n1', 'fresh')).rcode, 'SERVFAIL');
  assert.equal(refreshed, 1);
  committed = true;
  const a = await ask(server, 'n1', 'fresh');
  assert.deepEqual([a.rcode, a.answers.map((x) => x.data)], ['NOERROR', ['172.25.0.7']]);
  assert.equal(refreshed, 2);
  await ask(server, 'n1', 'web');
  assert.equal(refreshed, 2, 'a name the table has is answered without a look at the state');
});

test('forwarding is rate-limited per client: a flood from one container is REFUSED beyond its burst, others still forward', async () => {
  const server = new DnsServer(() => []);
  server.setTable(buildNameTable(networks, containers));
  const codes = await Promise.all(Array.from({ length: 150 }, () => ask(server, 'n1', 'example.org').then((r) => r.rcode)));
  const refused = codes.filter((c) => c === 'REFUSED').length;
  assert.ok(refused >= 40 && refused <= 55, `${refused} of 150 refused (burst 100, 50/s)`);
  assert.equal((await ask(server, 'n1', 'example.org', 'A', '172.25.0.3')).rcode, 'SERVFAIL', 'web2 has its own bucket');
  assert.equal((await ask(server, 'n1', 'web')).rcode, 'NOERROR', 'local names are never limited');
});

test('an internal network forwards nothing', async () => {
  let asked = false;
  const server = new DnsServer(() => { asked = true; return ['192.0.2.53']; });
  server.setTable(buildNameTable(networks, containers), new Set(['n2']));
  assert.equal((await ask(server, 'n2', 'example.org')).rcode, 'SERVFAIL');
  assert.equal(asked, false);
});

test('resolv.conf nameservers', () => {
  assert.deepEqual(parseResolvConf('# x\nsearch lan\nnameserver 10.0.0.2\n  nameserver fd00::1\noptions ndots:1\n'), ['10.0.0.2', 'fd00::1']);
});

test('wire: a query with an EDNS record is answered without it; responses and garbage are not queries', async () => {
  const { parseQuery, buildReply, RCODE } = await import('../../dist/dns/wire.js');
  const withOpt = dnsPacket.encode({ type: 'query', id: 9, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'Web.App' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 }] });
  const q = parseQuery(withOpt);
  assert.deepEqual([q.id, q.name, q.type, q.recursionDesired], [9, 'web.app', 1, true]);
  const r = dnsPacket.decode(buildReply(withOpt, q, RCODE.NOERROR, ['10.1.2.3', '10.1.2.4']));
  assert.deepEqual([r.id, r.type, r.rcode, r.additionals.length, r.answers.map((a) => `${a.name} ${a.data}`)], [9, 'response', 'NOERROR', 0, ['Web.App 10.1.2.3', 'Web.App 10.1.2.4']]);
  assert.equal(parseQuery(dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'x' }] })), undefined);
  assert.equal(parseQuery(Buffer.from([1, 2, 3])), undefined);
});

test('a container on several networks resolves the names of each, whichever gateway it asks', () => {
  const nets = [...networks, { id: 'n3', name: 'third', gateway: '172.27.0.1' }];
  const t = buildNameTable(nets, [...containers, { id: 'a'.repeat(64), name: 'web', aliases: ['store'], networkId: 'n2', ip: '172.26.0.9' }]);
  assert.deepEqual(lookupName(t, 'n1', 'db', '172.25.0.2'), ['172.26.0.2'], 'web asks on app for db of other');
  assert.deepEqual(lookupName(t, 'n1', 'web', '172.25.0.2'), ['172.25.0.2'], 'its first network first');
  assert.equal(lookupName(t, 'n1', 'db', '172.25.0.3'), undefined, 'web2 is on app only');
  assert.deepEqual(lookupName(t, 'n2', 'store'), ['172.26.0.9']);
});

test('a repeated question is answered from a kept reply with the new ID; kept replies go when the names change', async () => {
  const server = new DnsServer(() => []);
  server.setTable(buildNameTable(networks, containers));
  const query = (id, name = 'web') => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  const first = await server.answer('n1', query(1), '172.25.0.3');
  const again = await server.answer('n1', query(2), '172.25.0.3');
  assert.deepEqual([dnsPacket.decode(again).id, dnsPacket.decode(again).answers.map((x) => x.data)], [2, ['172.25.0.2']]);
  assert.deepEqual(again.subarray(2), first.subarray(2), 'the same reply but for its ID');
  // Not kept across clients of another network (REFUSED there), nor across a change of the names.
  assert.equal(dnsPacket.decode(await server.answer('n1', query(3), CLIENT.n2)).rcode, 'REFUSED');
  server.setTable(buildNameTable(networks, containers.map((c) => (c.name === 'web' ? { ...c, ip: '172.25.0.9' } : c))));
  assert.deepEqual(dnsPacket.decode(await server.answer('n1', query(4), '172.25.0.3')).answers.map((x) => x.data), ['172.25.0.9']);
});

test('a socket read by serveUdp (as the reader thread reads its copy): names answered on it, what must go upstream handed to forward', async () => {
  const dgram = await import('node:dgram');
  const { boundUdp4Socket } = await import('../../dist/kernel/udp.js');
  const { newUdpSocket } = await import('../../dist/dns/server.js');
  const server = new DnsServer(() => []);
  // The client asks from loopback, so loopback is a container of n1 here.
  server.setTable(buildNameTable(networks, [...containers, { id: 'f'.repeat(64), name: 'here', aliases: [], networkId: 'n1', ip: '127.0.0.1' }]));
  const fd = boundUdp4Socket('127.0.0.1', 0);
  const udp = newUdpSocket();
  const client = dgram.createSocket('udp4');
  try {
    await new Promise((resolve) => udp.bind({ fd }, resolve));
    const forwarded = [];
    server.serveUdp('n1', udp, (msg, port, address) => forwarded.push({ id: msg.readUInt16BE(0), port, address }));
    await new Promise((resolve) => client.bind(0, '127.0.0.1', resolve));
    const replies = [];
    client.on('message', (m) => replies.push(dnsPacket.decode(m)));
    const send = (id, name) => client.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), udp.address().port, '127.0.0.1');
    send(5, 'web');
    send(6, 'example.org');
    for (let i = 0; i < 100 && (replies.length < 1 || forwarded.length < 1); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(replies.map((r) => [r.id, r.rcode, r.answers.map((a) => a.data)]), [[5, 'NOERROR', ['172.25.0.2']]]);
    assert.deepEqual(forwarded, [{ id: 6, port: client.address().port, address: '127.0.0.1' }]);
  } finally {
    client.close();
    udp.close();
  }
});
