// Pure pieces of Docker's dialect: /etc files per network mode, run's network options, --format and --filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcFiles } from '../../dist/engine/etc-files.js';
import { networkChoiceOf, parseNetworkFlag } from '../../dist/engine/network-mode.js';
import { renderFormat } from '../../dist/cli/format.js';
import { applyFilters, untilTime } from '../../dist/cli/filters.js';

const HOST = { resolv: 'nameserver 127.0.0.53\nnameserver 10.0.12.2\nsearch lan.example\noptions edns0\n', hosts: '127.0.0.1 localhost\n10.0.12.15 myhost\n' };
const NET = { kind: 'network', ip: '172.20.0.5', ip6: 'fd00::5', gateway: '172.20.0.1', gateway6: 'fd00::1', embeddedDns: true };

test('etc files: embedded DNS on a network, the host\'s resolvers elsewhere, the host\'s files with --network host', () => {
  const onNet = etcFiles(NET, 'web', {}, HOST);
  assert.equal(onNet.hosts, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.20.0.5\tweb\nfd00::5\tweb\n');
  assert.equal(onNet['resolv.conf'], 'nameserver 172.20.0.1\nsearch lan.example\noptions ndots:0\n');
  assert.equal(onNet.hostname, 'web\n');
  assert.equal(etcFiles({ ...NET, embeddedDns: false }, 'web', {}, HOST)['resolv.conf'], 'nameserver 10.0.12.2\nsearch lan.example\noptions edns0\n');
  const none = etcFiles({ kind: 'none' }, 'x', {}, HOST);
  assert.equal(none.hosts, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  assert.equal(none['resolv.conf'], 'nameserver 10.0.12.2\nsearch lan.example\noptions edns0\n');
  const host = etcFiles({ kind: 'host' }, 'myhost', {}, HOST);
  assert.equal(host.hosts, HOST.hosts);
  assert.equal(host['resolv.conf'], HOST.resolv, 'the host\'s loopback resolver is reachable on its own network');
});

test('etc files: --add-host (host-gateway per mode), --dns, --dns-search (. clears), --dns-option', () => {
  const extraHosts = [{ name: 'db', ip: '10.1.1.1' }, { name: 'gw', ip: 'host-gateway' }];
  assert.match(etcFiles(NET, 'web', { extraHosts }, HOST).hosts, /\n10\.1\.1\.1\tdb\n172\.20\.0\.1\tgw\nfd00::1\tgw\n172\.20\.0\.5\tweb\n/);
  assert.match(etcFiles({ kind: 'host' }, 'h', { extraHosts }, HOST).hosts, /\n127\.0\.0\.1\tgw\n$/);
  const options = { dns: ['9.9.9.9'], dnsSearch: ['.'], dnsOptions: ['ndots:3'] };
  assert.equal(etcFiles({ ...NET, embeddedDns: false }, 'w', options, HOST)['resolv.conf'], 'nameserver 9.9.9.9\noptions ndots:3\n');
  // With embedded DNS the gateway stays the name server: --dns servers are its upstreams for this container.
  assert.equal(etcFiles(NET, 'w', options, HOST)['resolv.conf'], 'nameserver 172.20.0.1\noptions ndots:3\n');
});

test('--network: a network name, none, host, container:NAME', () => {
  assert.deepEqual(networkChoiceOf(undefined), { mode: 'bridge', network: 'bridge' });
  assert.deepEqual(networkChoiceOf('front'), { mode: 'bridge', network: 'front' });
  assert.deepEqual(networkChoiceOf('none'), { mode: 'none' });
  assert.deepEqual(networkChoiceOf('host'), { mode: 'host' });
  assert.deepEqual(networkChoiceOf('container:web'), { mode: 'container', container: 'web' });
  assert.throws(() => networkChoiceOf('container:'), /needs a container name/);
});

const ITEMS = [{ n: 'web', id: 'abc' }, { n: 'db', id: 'def' }];
const COLUMNS = { Names: { header: 'NAMES', text: (x) => x.n }, ID: { header: 'CONTAINER ID', text: (x) => x.id } };

test("--network's extended syntax (Docker 25): name= with ip=, ip6=, mac-address= and alias= (repeatable); a plain name as it is; what is wrong named in one line", () => {
  assert.deepEqual(parseNetworkFlag('app'), { network: 'app', aliases: [] });
  assert.deepEqual(parseNetworkFlag('name=app,ip=172.20.0.5,ip6=fd00::5,mac-address=02:42:ac:14:00:05,alias=db,alias=store'),
    { network: 'app', ip: '172.20.0.5', ip6: 'fd00::5', mac: '02:42:ac:14:00:05', aliases: ['db', 'store'] });
  for (const [text, message] of [
    ['ip=172.20.0.5', /--network ip=172\.20\.0\.5: name= is missing/],
    ['name=app,name=web', /name is given twice; give it once/],
    ['name=app,alias=', /alias has no value/],
    ['name=app,driver-opt=x=1', /driver-opt is not supported/],
    ['name=app,colour=blue', /colour is not a key of --network; use name, alias, ip, ip6, mac-address/],
  ]) assert.throws(() => parseNetworkFlag(text), message, text);
});

test("prune's until=: a Go duration before now, a date, a Unix timestamp; anything else refused", () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.equal(untilTime('24h', now), now - 86_400_000);
  assert.equal(untilTime('1h30m', now), now - 5_400_000);
  assert.equal(untilTime('1.5s', now), now - 1500);
  assert.equal(untilTime('1700000000', now), 1_700_000_000_000);
  assert.equal(untilTime('2026-12-01T10:00:00Z', now), Date.parse('2026-12-01T10:00:00Z'));
  for (const bad of ['yesterday', '10x', '']) assert.throws(() => untilTime(bad, now), /--filter until=.* is not a time: give a duration before now/, bad);
});

test('logs --tail: the last lines, the last one counted with or without its newline', async () => {
  const { lastLines } = await import('../../dist/cli/container-commands.js');
  const tail = (text, n) => lastLines(Buffer.from(text), n).toString();
  assert.equal(tail('a\nb\nc\n', 2), 'b\nc\n');
  assert.equal(tail('a\nb\nc', 2), 'b\nc');
  assert.equal(tail('a\nb\n', 5), 'a\nb\n');
  assert.equal(tail('\nx\n', 2), '\nx\n');
  assert.equal(tail('\nx\n', 1), 'x\n');
  assert.equal(tail('a\n', 0), '');
  assert.equal(tail('', 3), '');
});

test('--format: templates, table with headers, json lines, functions; unknown fields and actions refused', () => {
  assert.equal(renderFormat('{{.Names}}:{{.ID}}', ITEMS, COLUMNS, 'containers'), 'web:abc\ndb:def\n');
  assert.equal(renderFormat('table {{.ID}}\\t{{.Names}}', ITEMS, COLUMNS, 'containers'), 'CONTAINER ID\tNAMES\nabc\tweb\ndef\tdb\n');
  assert.equal(renderFormat('{{ upper .Names }} {{json .ID}}', ITEMS.slice(0, 1), COLUMNS, 'containers'), 'WEB "abc"\n');
  assert.deepEqual(renderFormat('json', ITEMS, COLUMNS, 'containers').trim().split('\n').map((l) => JSON.parse(l)), [{ Names: 'web', ID: 'abc' }, { Names: 'db', ID: 'def' }]);
  assert.throws(() => renderFormat('{{.Image}}', ITEMS, COLUMNS, 'containers'), /have no field \.Image; use one of \.Names, \.ID/);
  assert.throws(() => renderFormat('{{range .Names}}{{end}}', ITEMS, COLUMNS, 'containers'), /only \{\{\.Field\}\}/);
});

test('--filter: alternatives of one key, all keys together; unknown keys refused with the known ones', () => {
  const matchers = { name: (x, v) => x.n.includes(v), id: (x, v) => x.id.startsWith(v) };
  assert.deepEqual(applyFilters(ITEMS, ['name=we', 'name=d'], matchers, 'ps can').map((x) => x.n), ['web', 'db']);
  assert.deepEqual(applyFilters(ITEMS, ['name=e', 'id=d'], matchers, 'ps can').map((x) => x.n), []);
  assert.deepEqual(applyFilters(ITEMS, ['name=e', 'id=a'], matchers, 'ps can').map((x) => x.n), ['web']);
  assert.throws(() => applyFilters(ITEMS, ['label=x'], matchers, 'ps can'), /ps can filter on name=VALUE, id=VALUE/);
  assert.throws(() => applyFilters(ITEMS, ['name'], matchers, 'ps can'), /ps can filter on/);
});

test('bandwidth: rates in bits (k, M, mbit, gbit), bursts in bytes (k, m), CNI\'s in bits; the bucket of a limit', async () => {
  const { parseRate, parseBurst, parseBandwidth, cniBandwidth, bucketOf } = await import('../../dist/engine/bandwidth.js');
  assert.equal(parseRate('50mbit', '--r'), 50e6);
  assert.equal(parseRate('50M', '--r'), 50e6);
  assert.equal(parseRate('1.5gbit', '--r'), 1.5e9);
  assert.equal(parseRate('500k', '--r'), 500e3);
  assert.equal(parseRate('64000', '--r'), 64000);
  assert.throws(() => parseRate('50mbps', '--r'), /bytes per second in tc/);
  assert.throws(() => parseRate('1k', '--r'), /below 8kbit/);
  assert.equal(parseBurst('64k', '--b'), 65536);
  assert.equal(parseBurst('1mb', '--b'), 1048576);
  assert.throws(() => parseBurst('100', '--b'), /at least one frame/);
  assert.deepEqual(parseBandwidth({ egressRate: '10M' }), { egress: { rate: 10e6, burst: 32768 } });
  assert.deepEqual(parseBandwidth({ ingressRate: '100M' }), { ingress: { rate: 100e6, burst: 250000 } });
  assert.equal(parseBandwidth({}), undefined);
  assert.deepEqual(cniBandwidth({ ingressRate: 8e6, ingressBurst: 80000 }), { ingress: { rate: 8e6, burst: 10000 } });
  assert.deepEqual(bucketOf({ rate: 50e6, burst: 125000 }), { rate: 6_250_000, burst: 125000, limit: 281250 });
});

test('inspect --format: paths, json, range over a list and a map (nested), missing fields and unbalanced ranges refused', async () => {
  const { renderTemplate } = await import('../../dist/cli/format.js');
  const c = { Name: 'web', State: { Running: true, Pid: null }, Nets: [{ N: 'a', Ips: ['1', '2'] }, { N: 'b', Ips: [] }], Labels: { x: '1', y: '2' } };
  assert.equal(renderTemplate('{{.Name}} {{.State.Running}} [{{.State.Pid}}]', c), 'web true []\n');
  assert.equal(renderTemplate('{{json .State}}', c), '{"Running":true,"Pid":null}\n');
  assert.equal(renderTemplate('{{range .Nets}}{{.N}}:{{range .Ips}}{{.}},{{end}};{{end}}', c), 'a:1,2,;b:;\n');
  assert.equal(renderTemplate('{{range .Labels}}{{.}}{{end}}\\t{{upper .Name}}', c), '12\tWEB\n');
  assert.throws(() => renderTemplate('{{.State.Nope}}', c), /no field \.State\.Nope/);
  assert.throws(() => renderTemplate('{{range .Nets}}x', c), /without \{\{end\}\}/);
  assert.throws(() => renderTemplate('{{end}}', c), /without \{\{range\}\}, \{\{if\}\} or \{\{with\}\}/);
  assert.throws(() => renderTemplate('{{printf "%s" .Name}}', c), /\{\{printf "%s" .Name\}\} is not understood; only/);
});

test("inspect --format, Docker scripts' idioms: index of a map (labels with dots in their keys) and of a list, if/else, with, len", async () => {
  const { renderTemplate } = await import('../../dist/cli/format.js');
  const c = { Name: 'web', State: { Running: false, ExitCode: 0 }, Nets: [{ N: 'a' }, { N: 'b' }], Config: { Labels: { 'com.example.app': 'shop' } }, Empty: [] };
  assert.equal(renderTemplate('{{index .Config.Labels "com.example.app"}}|{{index .Config.Labels "missing"}}|{{index .Nets 1}}', c), 'shop||{"N":"b"}\n');
  assert.equal(renderTemplate('{{if .State.Running}}up{{else}}down {{.State.ExitCode}}{{end}}', c), 'down 0\n');
  assert.equal(renderTemplate('{{if .Nets}}{{range .Nets}}{{if .N}}{{.N}}{{end}}{{end}}{{end}}', c), 'ab\n', 'nested blocks');
  assert.equal(renderTemplate('{{with .Config.Labels}}{{len .}} label{{end}}{{with .Empty}}never{{else}}, none{{end}}', c), '1 label, none\n');
  assert.equal(renderTemplate('{{len .Nets}} {{len .Name}}', c), '2 3\n');
  assert.throws(() => renderTemplate('{{index .Nets 5}}', c), /index 5 is out of a list of 2/);
  assert.throws(() => renderTemplate('{{if .Name}}x', c), /\{\{if\}\} without \{\{end\}\}/);
  assert.throws(() => renderTemplate('{{range .Nets}}x{{else}}y{{end}}', c), /\{\{else\}\} is not understood there/);
});
