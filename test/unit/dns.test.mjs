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

const ask = (server, network, name, type = 'A') =>
  server.answer(network, dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] })).then((b) => dnsPacket.decode(b));

test('answers: A for known names, empty NOERROR for their other types, SERVFAIL when nothing can be forwarded', async () => {
  const server = new DnsServer(() => []);
  server.setTable(buildNameTable(networks, containers));
  const a = await ask(server, 'n1', 'web');
  assert.deepEqual([a.id, a.rcode, a.answers.map((x) => x.data)], [42, 'NOERROR', ['172.25.0.2']]);
  const aaaa = await ask(server, 'n1', 'web', 'AAAA');
  assert.deepEqual([aaaa.rcode, aaaa.answers.length], ['NOERROR', 0]);
  assert.equal((await ask(server, 'n1', 'example.org')).rcode, 'SERVFAIL');
  assert.equal(await server.answer('n1', Buffer.from('junk')), undefined);
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
