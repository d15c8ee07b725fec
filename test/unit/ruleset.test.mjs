import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderTable, renderSetElements, mappingSetElements, guardSetElements, renderReplaceTable, renderDeleteTable } from '../../dist/firewall/ruleset.js';

const renderMappingElements = (verb, mappings, family) => renderSetElements(verb, mappingSetElements(mappings, family));
const renderGuardElements = (verb, guard) => renderSetElements(verb, guardSetElements(guard));

const golden = (name) => fileURLToPath(new URL(`../golden/${name}`, import.meta.url));

/** Compares with a stored file; UPDATE_GOLDEN=1 rewrites it (review the diff before committing). */
function assertGolden(name, actual) {
  if (process.env.UPDATE_GOLDEN) writeFileSync(golden(name), actual);
  assert.equal(actual, readFileSync(golden(name), 'utf8'));
}

const seed = { bridge: 'br0', subnet: '172.17.0.0/24', gateway: '172.17.0.1', internal: false };

test('the seed network: one bridge, masquerade of its subnet, no ports', () => {
  assertGolden('seed-empty.nft', renderTable([seed], []));
});

test('published ports are map elements: any-address and host-address, TCP and UDP', () => {
  const mappings = [
    { protocol: 'tcp', hostIp: null, hostPort: 8000, containerIp: '172.17.0.101', containerPort: 8080 },
    { protocol: 'udp', hostIp: null, hostPort: 5353, containerIp: '172.17.0.102', containerPort: 53 },
    { protocol: 'tcp', hostIp: '10.0.12.15', hostPort: 9000, containerIp: '172.17.0.103', containerPort: 80 },
  ];
  const internal = { bridge: 'br-internal', subnet: '10.99.0.0/24', gateway: '10.99.0.1', internal: true };
  assertGolden('two-networks-ports.nft', renderTable([seed, internal], mappings));
});

test('the rule count does not grow with containers or ports', () => {
  const rules = (text) => text.split('\n').filter((l) => /^\t\t(dnat|ip |oifname|iifname|fib)/.test(l)).length;
  assert.ok(rules(renderTable([seed], [])) >= 9);
  const many = Array.from({ length: 500 }, (_, i) => ({ protocol: 'tcp', hostIp: null, hostPort: 10000 + i, containerIp: '172.17.0.2', containerPort: 80 }));
  assert.equal(rules(renderTable([seed], many)), rules(renderTable([seed], [])));
});

/** A chain's rules as rendered, or undefined when the table has no such chain. */
const chainOf = (text, name) => text.split(`chain ${name} {`)[1]?.split('\tchain ')[0].split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('type') && l !== '}');

test('forwarding: same network first, internal closed, replies and published ports, then isolation', () => {
  const internal = { bridge: 'br-internal', subnet: '10.99.0.0/24', gateway: '10.99.0.1', internal: true };
  const chain = (name) => chainOf(renderTable([seed, internal], []), name);
  assert.deepEqual(chain('forward'), [
    'iifname . oifname @same_bridge accept',
    'iifname @internal_bridges drop',
    'oifname @internal_bridges drop',
    'ct state established,related accept',
    'ct status dnat accept',
    'iifname @overlay_devices drop',
    'oifname @overlay_devices drop',
    'iifname @bridges oifname @bridges drop',
    'oifname @isolated_bridges drop',
  ]);
  // enable_icc=false: the network is not its own way back through the gateway; a connection DNATed to
  // one of its containers (a published port) passes further down, anything else is dropped there.
  const isolated = { bridge: 'br-iso', subnet: '172.18.0.0/24', gateway: '172.18.0.1', internal: false, icc: false };
  assert.match(renderTable([seed, isolated], []), /set same_bridge \{\n\t\ttype ifname \. ifname\n\t\telements = \{ "br0" \. "br0" \}\n\t\}/);
  // Internal networks and the host: DNS to their own gateway in, replies out, nothing else either way.
  assert.deepEqual(chain('input'), [
    'iifname @internal_bridges meta l4proto { tcp, udp } th dport 53 iifname . ip daddr @internal_dns accept',
    'iifname @internal_bridges ct state established,related accept',
    'iifname @internal_bridges drop',
  ]);
  assert.deepEqual(chain('output_filter'), ['oifname @internal_bridges ct state new drop']);
  // Without an internal network neither hook has a chain: each would cost every packet to or from the host.
  assert.equal(chainOf(renderTable([seed], []), 'input'), undefined);
  assert.equal(chainOf(renderTable([seed], []), 'output_filter'), undefined);
});

test('raw: what comes from a bridge goes to its own chain, where the gateway stays tracked and container subnets do not', () => {
  const text = renderTable([seed], []);
  assert.deepEqual(chainOf(text, 'raw_prerouting'), [
    'iifname != "lo" ip daddr 127.0.0.0/8 drop',
    'iifname @bridges goto raw_bridged',
    'iifname @segment_bridges notrack accept',
    'iifname @overlay_devices notrack accept',
  ]);
  assert.deepEqual(chainOf(text, 'raw_bridged'), ['ip daddr @gateways accept', 'ip daddr @subnets notrack accept', 'ip daddr @overlay_subnets notrack accept']);
});

test('an overlay network: its bridge and VXLAN device are one network both ways, nothing else passes the device, and what goes to other hosts keeps its source', () => {
  const overlay = { bridge: 'br-ov', subnet: '10.42.1.0/24', gateway: '10.42.1.1', internal: false, overlayDevice: 'ctvx4096', overlaySubnet: '10.42.0.0/16' };
  const text = renderTable([seed, overlay], []);
  assertGolden('overlay.nft', text);
  assert.match(text, /set same_bridge \{[^}]*elements = \{ "br-ov" \. "br-ov", "br-ov" \. "ctvx4096", "ctvx4096" \. "br-ov", "br0" \. "br0" \}/);
  assert.match(text, /set overlay_devices \{\n\t\ttype ifname\n\t\telements = \{ "ctvx4096" \}/);
  assert.match(text, /ip saddr @masq_subnets oifname != @bridges oifname != @overlay_devices masquerade/);
  assert.match(text, /set overlay_subnets \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = \{ 10\.42\.0\.0\/16 \}/);
  assert.match(text, /iifname @overlay_devices notrack accept\n/);
  assert.match(text, /chain raw_bridged \{\n\t\tip daddr @gateways accept\n\t\tip daddr @subnets notrack accept\n\t\tip daddr @overlay_subnets notrack accept\n/);
});

test('element updates name only the map and key (deletes) or key and target (adds)', () => {
  const m = [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8000, containerIp: '172.17.0.101', containerPort: 8080 }];
  assert.equal(renderMappingElements('add', m), 'add element ip ctnet tcp_host { 127.0.0.1 . 8000 : 172.17.0.101 . 8080 }\n');
  assert.equal(renderMappingElements('delete', m), 'delete element ip ctnet tcp_host { 127.0.0.1 . 8000 }\n');
});

test('replacing and deleting the table are idempotent scripts', () => {
  assert.ok(renderReplaceTable([seed], []).startsWith('add table ip ctnet\ndelete table ip ctnet\ntable ip ctnet {'));
  assert.equal(renderDeleteTable(), 'add table ip ctnet\ndelete table ip ctnet\n');
});

test('a routed network (ipMasq false) is not masqueraded but still counts as a subnet (notrack, hairpin)', () => {
  const routed = { bridge: 'br-r', subnet: '10.66.0.0/24', gateway: '10.66.0.1', internal: false, ipMasq: false };
  const text = renderTable([seed, routed], []);
  assert.match(text, /set masq_subnets \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = \{ 172\.17\.0\.0\/24 \}/);
  assert.match(text, /set subnets \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = \{ 10\.66\.0\.0\/24, 172\.17\.0\.0\/24 \}/);
  assert.match(text, /ct status dnat ip saddr @subnets masquerade/);
});

test('map elements are read back with and without counters, for both port maps', async () => {
  const { parseMapElements } = await import('../../dist/firewall/ruleset.js');
  const listing = (elem) => JSON.stringify({ nftables: [{ metainfo: {} }, { map: { name: 'm', elem } }] });
  const counted = listing([[{ elem: { val: 8000, counter: { packets: 3, bytes: 180 } } }, { concat: ['172.17.0.2', 80] }]]);
  assert.deepEqual(parseMapElements(counted, 'tcp'), [{ protocol: 'tcp', hostIp: null, hostPort: 8000, packets: 3, bytes: 180 }]);
  const hostScoped = listing([[{ elem: { val: { concat: ['10.0.0.1', 53] }, counter: { packets: 1, bytes: 60 } } }, { concat: ['172.17.0.2', 53] }]]);
  assert.deepEqual(parseMapElements(hostScoped, 'udp'), [{ protocol: 'udp', hostIp: '10.0.0.1', hostPort: 53, packets: 1, bytes: 60 }]);
  const plain = listing([[9000, { concat: ['172.17.0.3', 9000] }]]);
  assert.deepEqual(parseMapElements(plain, 'sctp'), [{ protocol: 'sctp', hostIp: null, hostPort: 9000, packets: 0, bytes: 0 }]);
  assert.deepEqual(parseMapElements(listing(undefined), 'tcp'), []);
});

test('dual stack: the ip6 table has the same layout with IPv6 subnets, gateways and maps, and no localhost masquerade', () => {
  const dual = { bridge: 'br0', subnet: 'fd00:db8:1::/64', gateway: 'fd00:db8:1::1', internal: false };
  const mappings = [
    { protocol: 'tcp', hostIp: null, hostPort: 8000, containerIp: 'fd00:db8:1::2', containerPort: 8080 },
    { protocol: 'udp', hostIp: 'fd00:12::15', hostPort: 8001, containerIp: 'fd00:db8:1::2', containerPort: 8080 },
  ];
  const table = renderTable([dual], mappings, 'ip6');
  assertGolden('dual-stack-ip6.nft', table);
  assert.doesNotMatch(table, /127\.0\.0\.0|ipv4_addr|\bip saddr|\bip daddr/);
  assert.equal(renderMappingElements('add', mappings.slice(0, 1), 'ip6'), 'add element ip6 ctnet tcp_any { 8000 : fd00:db8:1::2 . 8080 }\n');
  assert.equal(renderDeleteTable('ip6'), 'add table ip6 ctnet\ndelete table ip6 ctnet\n');
});

test('anti-spoofing: the bridge table golden, elements per container, the EUI-64 link-local address', async () => {
  const { renderBridgeTable, linkLocalOf } = await import('../../dist/firewall/ruleset.js');
  const guards = [
    { port: 'veth2', mac: '02:42:ac:11:00:03', ip: '172.17.0.3', ip6: 'fd00::3' },
    { port: 'veth1', mac: '02:42:ac:11:00:02', ip: '172.17.0.2', isolated: true },
  ];
  assertGolden('bridge-guard.nft', renderBridgeTable(guards, true));
  // No network isolates its containers: no forward chain for every bridged frame to pass through.
  const open = renderBridgeTable(guards.slice(0, 1), false);
  assert.doesNotMatch(open, /bridge_forward|hook forward/);
  assert.match(open, /chain port_guard/);
  assert.equal(linkLocalOf('02:42:ac:1e:00:03'), 'fe80::42:acff:fe1e:3');
  assert.equal(linkLocalOf('00:11:22:33:44:55'), 'fe80::211:22ff:fe33:4455');
  assert.deepEqual(renderGuardElements('delete', guards[1]).trim().split('\n'), [
    'delete element bridge ctnet container_ports { "veth1" }',
    'delete element bridge ctnet port_ip { "veth1" . 02:42:ac:11:00:02 . 172.17.0.2 }',
    'delete element bridge ctnet port_arp { "veth1" . 02:42:ac:11:00:02 . 02:42:ac:11:00:02 . 172.17.0.2 }',
    'delete element bridge ctnet port_arp_targets { "veth1" . 172.17.0.2 }',
    'delete element bridge ctnet no_icc_ports { "veth1" }',
  ]);
  // A container on a segment: its addresses are behind its port and its segment's trunk (ARP and ND steering).
  const onSegment = renderGuardElements('add', { ...guards[0], trunk: 'ctsaaaaaaaat1' }).trim().split('\n');
  assert.deepEqual(onSegment.filter((l) => /targets/.test(l)), [
    'add element bridge ctnet port_arp_targets { "veth2" . 172.17.0.3 }',
    'add element bridge ctnet port_nd_targets { "veth2" . 0xfd000000000000000000000000000003 }',
    'add element bridge ctnet port_nd_targets { "veth2" . 0xfe800000000000000042acfffe110003 }',
    'add element bridge ctnet port_arp_targets { "ctsaaaaaaaat1" . 172.17.0.3 }',
    'add element bridge ctnet port_nd_targets { "ctsaaaaaaaat1" . 0xfd000000000000000000000000000003 }',
    'add element bridge ctnet port_nd_targets { "ctsaaaaaaaat1" . 0xfe800000000000000042acfffe110003 }',
  ]);
});

test('steering: an ARP request or neighbour solicitation leaves by a container port or a trunk only towards its target, bridged or sent by the host, before any rule that accepts', async () => {
  const { renderBridgeTable } = await import('../../dist/firewall/ruleset.js');
  const table = renderBridgeTable([{ port: 'veth1', mac: '02:42:0a:02:00:02', ip: '10.2.0.2', isolated: true }], true, [{ trunk: 'ctsbbbbbbbbt1', peer: 'ctsbbbbbbbbp1', gatewayMac: '02:bb:bb:bb:bb:bb', isolated: true }]);
  const steering = [
    'ether type arp arp operation request oifname @container_ports oifname . arp daddr ip != @port_arp_targets drop',
    'icmpv6 type nd-neighbor-solicit oifname @container_ports oifname . @th,64,128 != @port_nd_targets drop',
    'ether type arp arp operation request oifname @trunks oifname . arp daddr ip != @port_arp_targets drop',
    'icmpv6 type nd-neighbor-solicit oifname @trunks oifname . @th,64,128 != @port_nd_targets drop',
  ];
  for (const chain of ['bridge_forward', 'bridge_output']) {
    const rules = new RegExp(`chain ${chain} \\{\\n[^\\n]*\\n([^}]*)\\}`).exec(table)[1].trim().split('\n').map((l) => l.trim());
    assert.deepEqual(rules.slice(0, 4), steering, chain);
    assert.ok(rules.slice(4).every((r) => !/@port_(arp|nd)_targets/.test(r)), chain);
  }
  assert.match(table, /set trunks \{\n\t\ttype ifname\n\t\telements = \{ "ctsbbbbbbbbt1" \}/);
  // No segment, no isolating network: no chain, nothing steered (nothing floods past the backlog).
  assert.doesNotMatch(renderBridgeTable([{ port: 'veth1', mac: '02:42:0a:02:00:02', ip: '10.2.0.2' }], false), /bridge_output|hook output/);
});

test('segments: their bridges untracked and their own way through, their trunks\' hairpin guarded, enable_icc=false across them', async () => {
  const { renderBridgeTable, renderTable } = await import('../../dist/firewall/ruleset.js');
  const net = (bridge, subnet, extra) => ({ bridge, subnet, gateway: subnet.replace('0/24', '1'), internal: false, ...extra });
  const table = renderTable([net('br-a', '10.1.0.0/24', { segments: ['ctsaaaaaaaab1', 'ctsaaaaaaaab2'] }), net('br-b', '10.2.0.0/24', { icc: false, segments: ['ctsbbbbbbbbb1'] })], []);
  assert.match(table, /set segment_bridges \{\n\t\ttype ifname\n\t\telements = \{ "ctsaaaaaaaab1", "ctsaaaaaaaab2", "ctsbbbbbbbbb1" \}/);
  assert.match(table, /iifname @segment_bridges notrack accept/);
  // A segment's bridge is its own way through even where its network's is not (enable_icc=false).
  assert.match(table, /elements = \{ "br-a" \. "br-a", "ctsaaaaaaaab1" \. "ctsaaaaaaaab1", "ctsaaaaaaaab2" \. "ctsaaaaaaaab2", "ctsbbbbbbbbb1" \. "ctsbbbbbbbbb1" \}/);
  const trunks = [
    { trunk: 'ctsaaaaaaaat1', peer: 'ctsaaaaaaaap1', gatewayMac: '02:aa:aa:aa:aa:aa', isolated: false },
    { trunk: 'ctsbbbbbbbbt1', peer: 'ctsbbbbbbbbp1', gatewayMac: '02:bb:bb:bb:bb:bb', isolated: true },
  ];
  assertGolden('bridge-segments.nft', renderBridgeTable([{ port: 'veth1', mac: '02:42:0a:02:00:02', ip: '10.2.0.2', isolated: true }], true, trunks));
  // Segments alone (no network isolates) still need the forward chain, for the hairpin guard; an
  // isolating network alone has the trunks' rules too: a segment made later only adds its elements.
  const open = renderBridgeTable([], false, trunks.slice(0, 1));
  assert.match(open, /iifname \. oifname @trunk_hairpins meta pkttype != host drop\n\t\tmeta pkttype host ether saddr set oifname map @trunk_macs\n/);
  assert.equal(renderBridgeTable([], true, []).split('\n').filter((l) => l.includes('trunk')).join('\n'), open.split('\n').filter((l) => l.includes('trunk') && !l.includes('elements')).join('\n'));
  // A segment added by elements gets what a table rendered with it holds, set by set.
  const { segmentSetElements, renderSetElements } = await import('../../dist/firewall/ruleset.js');
  const bridgeTable = renderBridgeTable([], true, trunks);
  for (const [bridge, trunk] of [['ctsaaaaaaaab1', trunks[0]], ['ctsbbbbbbbbb1', trunks[1]]]) {
    const elements = segmentSetElements(bridge, trunk, ['ip']);
    assert.equal(elements.length, trunk.isolated ? 9 : 5);
    for (const e of elements) {
      const body = /\{ (.*) \}/.exec(renderSetElements('add', [e]))[1];
      const rendered = e.family === 'bridge' ? bridgeTable : table;
      const set = new RegExp(`(set|map) ${e.set} \\{\\n[^}]*elements = \\{[^}]*${body.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
      assert.match(rendered, set, `${e.set}: ${body}`);
    }
  }
});
