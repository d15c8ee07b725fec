// network create as Docker users write it: --ip-range, --aux-address, --label, and -o with Docker's
// bridge options (bridge.name, enable_icc, enable_ip_masquerade, host_binding_ipv4, driver.mtu),
// with real traffic for the ones that change what passes, and a control network beside them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { answersAtAll, createLab, probe, echoServerCommand, waitFor, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
});
after(() => lab?.close());

const O = (k, v) => ['-o', `com.docker.network.${k}=${v}`];
const UDP_RECEIVER = "const s = require('dgram').createSocket('udp6'); s.on('message', (m) => console.log(String(m))); s.bind(9999, () => console.log('listening'))";
/** Five datagrams over half a second (the first may wait for the neighbour's address). */
const udpSender = (to, text) => `const s = require('dgram').createSocket('${to.includes(':') ? 'udp6' : 'udp4'}'); let n = 0; const t = setInterval(() => { s.send('${text}', 9999, '${to}'); if (++n === 5) { clearInterval(t); setTimeout(() => s.close(), 100); } }, 100)`;

/**
 * Five UDP datagrams in frames of the container's own making (a packet socket: NET_RAW, in the
 * default set): its own MAC and address as the source (what its port's guard lets through), the
 * gateway's MAC as the destination, a neighbour's address inside.
 * Arguments: ifindex, own MAC, gateway MAC, own IPv4, neighbour IPv4, port, text.
 */
const RAW_SENDER = `use Socket;
my ($idx, $own, $gw, $src, $dst, $port, $text) = @ARGV;
my $mac = sub { pack 'H12', join '', split /:/, shift };
my $udp = pack('n n n n', 40000, $port, 8 + length $text, 0) . $text;
my $ip = pack('C C n n n C C n a4 a4', 0x45, 0, 20 + length $udp, 0, 0x4000, 64, 17, 0, inet_aton($src), inet_aton($dst));
my $sum = 0; $sum += $_ for unpack 'n10', $ip; $sum = ($sum & 0xffff) + ($sum >> 16) while $sum >> 16;
substr($ip, 10, 2) = pack 'n', ~$sum & 0xffff;
socket(my $s, 17, SOCK_RAW, 0) or die "socket: $!";
my $to = pack('S n i S C C a8', 17, 0x0800, $idx, 0, 0, 6, $mac->($gw));
for (1 .. 5) { send($s, $mac->($gw) . $mac->($own) . pack('n', 0x0800) . $ip . $udp, 0, $to) or die "send: $!"; select undef, undef, undef, 0.1 }`;

test('--ip-range and --aux-address: addresses come from the range, reserved ones are skipped and cannot be asked for', () => {
  lab.ok(['network', 'create', 'ranged', '--subnet', '172.32.0.0/16', '--ip-range', '172.32.5.0/24', '--aux-address', 'router=172.32.5.1', '--aux-address', 'printer=172.32.5.2']);
  const n = lab.json(['network', 'inspect', 'ranged']);
  assert.equal(n.IPRange, '172.32.5.0/24');
  assert.deepEqual(n.AuxiliaryAddresses, { router: '172.32.5.1', printer: '172.32.5.2' });
  lab.ok(['run', '-d', '--name', 'r1', '--network', 'ranged', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'r2', '--network', 'ranged', '--', 'sleep', '600']);
  const ips = ['r1', 'r2'].map((c) => lab.json(['inspect', c]).NetworkSettings.IPAddress);
  assert.deepEqual(ips, ['172.32.5.0', '172.32.5.3'], 'the range, minus the reserved addresses');
  const taken = lab.ctnet(['run', '--network', 'ranged', '--ip', '172.32.5.1', '--', 'true']);
  assert.equal(taken.code, 4);
  assert.match(taken.stderr, /already in use/);
  for (const [args, pattern] of [
    [['--subnet', '172.33.0.0/24', '--ip-range', '172.34.0.0/24'], /not inside subnet/],
    [['--ip-range', '172.33.0.0/24'], /--ip-range needs --subnet/],
    [['--subnet', '172.33.0.0/24', '--aux-address', 'gw=172.33.0.1'], /is the gateway/],
    [['--subnet', '172.33.0.0/24', '--aux-address', 'x=10.1.1.1'], /outside subnet/],
    [['--subnet', '172.33.0.0/24', '--aux-address', 'noequals'], /expected KEY=VALUE/],
  ]) {
    const r = lab.ctnet(['network', 'create', 'bad', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  lab.ok(['rm', '-f', 'r1', 'r2']);
  lab.ok(['network', 'rm', 'ranged']);
});

test('--label: shown by inspect, found by network ls --filter label=KEY and label=KEY=VALUE', () => {
  lab.ok(['network', 'create', 'prod-net', '--label', 'env=prod', '--label', 'team']);
  lab.ok(['network', 'create', 'dev-net', '--label', 'env=dev']);
  assert.deepEqual(lab.json(['network', 'inspect', 'prod-net']).Labels, { env: 'prod', team: '' });
  assert.equal(lab.ok(['network', 'ls', '--filter', 'label=env=prod', '--format', '{{.Name}}']), 'prod-net\n');
  assert.deepEqual(lab.ok(['network', 'ls', '--filter', 'label=env', '--format', '{{.Name}} {{.Labels}}']).trim().split('\n').sort(), ['dev-net env=dev', 'prod-net env=prod,team=']);
  lab.ok(['network', 'rm', 'prod-net', 'dev-net']);
});

test('-o enable_icc=false: containers of the network cannot reach each other, but reach the host and the outside, and their published ports answer; a network with icc can', async () => {
  lab.ok(['network', 'create', 'isolated', '--subnet', '172.35.0.0/24', '--ipv6', '--subnet', 'fd00:35::/64', ...O('bridge.enable_icc', 'false')]);
  lab.ok(['network', 'create', 'open', '--subnet', '172.35.1.0/24', '--ipv6', '--subnet', 'fd00:35:1::/64']);
  for (const net of ['isolated', 'open']) {
    lab.ok(['run', '-d', '--name', `${net}-srv`, '--network', net, '-p', `${net === 'open' ? 8151 : 8150}:8080`, '--', ...echoServerCommand(`${net}-srv`, 8080)]);
    lab.ok(['run', '-d', '--name', `${net}-cli`, '--network', net, '--', 'sleep', '600']);
  }
  const ipOf = (c) => lab.json(['inspect', c]).NetworkSettings.IPAddress;
  const from = (c, ip, port) => probe(lab.nsOf(c), ip, port, 'tcp', 800);
  assert.ok((await lab.waitAnswer(lab.nsOf('open-cli'), ipOf('open-srv'), 8080)).ok, 'control: containers of an icc network talk');
  assert.equal(from('isolated-cli', ipOf('isolated-srv'), 8080).ok, false, 'icc=false: container to container is dropped');
  // Nothing at all crosses (ARP included): a closed port of the other is not even refused. The control: on the icc network it is.
  assert.ok(answersAtAll(lab.nsOf('open-cli'), ipOf('open-srv')), 'control: a closed port of an icc neighbour is refused');
  assert.equal(answersAtAll(lab.nsOf('isolated-cli'), ipOf('isolated-srv'), 2000), false, 'icc=false: not even ARP and a refusal');
  lab.serve(lab.internet, 'internet', 8088);
  assert.ok((await lab.waitAnswer(lab.nsOf('isolated-cli'), A.internet, 8088)).ok, 'egress passes');
  const published = await lab.waitAnswer(lab.host2, A.host, 8150);
  assert.ok(published.ok, `published port: ${published.text}`);
  // As with Docker, the network's containers reach a published port through the host's address:
  // a neighbour's, and the server its own (br_netfilter bridges the DNATed frame on to the server).
  for (const c of ['isolated-cli', 'isolated-srv']) {
    for (const gateway of ['172.35.0.1', 'fd00:35::1']) {
      const answer = await lab.waitAnswer(lab.nsOf(c), gateway, 8150);
      assert.ok(answer.ok, `${c} to isolated-srv's published port through the gateway's address ${gateway}: ${answer.text}`);
    }
  }
  // The attack: a container routes its neighbour's address through the gateway (NET_ADMIN; below, a
  // frame of its own making to the gateway's MAC with NET_RAW), so that the host, not the bridge,
  // forwards what it sends. The neighbour prints the datagrams it gets. The control: on the icc
  // network the same datagrams arrive, so the receiver and the route work.
  for (const net of ['isolated', 'open']) {
    lab.ok(['run', '-d', '--name', `${net}-rx`, '--network', net, '--', process.execPath, '-e', UDP_RECEIVER]);
    lab.ok(['run', '-d', '--name', `${net}-adm`, '--cap-add', 'NET_ADMIN', '--network', net, '--', 'sleep', '600']);
    await waitFor(() => lab.ok(['logs', `${net}-rx`]).includes('listening'), `${net}-rx listening`, 5000);
    const rx6 = lab.json(['inspect', `${net}-rx`]).NetworkSettings.GlobalIPv6Address;
    lab.ok(['exec', `${net}-adm`, '--', 'ip', 'route', 'add', `${ipOf(`${net}-rx`)}/32`, 'via', net === 'open' ? '172.35.1.1' : '172.35.0.1']);
    lab.ok(['exec', `${net}-adm`, '--', 'ip', '-6', 'route', 'add', `${rx6}/128`, 'via', net === 'open' ? 'fd00:35:1::1' : 'fd00:35::1']);
    lab.ok(['exec', `${net}-adm`, '--', process.execPath, '-e', udpSender(ipOf(`${net}-rx`), 'IPv4 via the gateway')]);
    lab.ok(['exec', `${net}-adm`, '--', process.execPath, '-e', udpSender(rx6, 'IPv6 via the gateway')]);
  }
  // The same without NET_ADMIN: a container with the default capabilities writes the frames itself.
  for (const net of ['isolated', 'open']) {
    const link = lab.ok(['exec', `${net}-cli`, '--', 'ip', '-o', 'link', 'show', 'eth0']);
    const [, index, own] = /^(\d+):.*link\/ether ([0-9a-f:]+)/.exec(link);
    const bridge = lab.json(['network', 'inspect', net]).Bridge;
    const gatewayMac = /link\/ether ([0-9a-f:]+)/.exec(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', bridge], { encoding: 'utf8' }))[1];
    lab.ok(['exec', `${net}-cli`, '--', 'perl', '-e', RAW_SENDER, index, own, gatewayMac, ipOf(`${net}-cli`), ipOf(`${net}-rx`), '9999', 'a frame to the gateway']);
  }
  const delivered = () => {
    const log = lab.ok(['logs', 'open-rx']);
    return ['IPv4 via the gateway', 'IPv6 via the gateway', 'a frame to the gateway'].every((text) => log.includes(text));
  };
  await waitFor(delivered, 'control: the icc network delivers the routed datagrams of both families and the hand-made frames', 5000);
  assert.doesNotMatch(lab.ok(['logs', 'isolated-rx']), /via the gateway|a frame to the gateway/, 'icc=false: nothing routed around the bridge reaches the neighbour, in either family');
  assert.equal(lab.json(['network', 'inspect', 'isolated']).Options['com.docker.network.bridge.enable_icc'], 'false');
  // The bridge's forward hook holds a chain only while a network isolates: it costs every bridged frame.
  const forwardChain = () => /chain bridge_forward/.test(execFileSync('ip', ['netns', 'exec', lab.host, 'nft', 'list', 'table', 'bridge', 'ctnet'], { encoding: 'utf8' }));
  assert.ok(forwardChain(), 'isolated network: the bridge forward chain');
  lab.ok(['rm', '-f', 'isolated-srv', 'isolated-cli', 'open-srv', 'open-cli', 'isolated-rx', 'isolated-adm', 'open-rx', 'open-adm']);
  lab.ok(['network', 'rm', 'isolated']);
  assert.equal(forwardChain(), false, 'no isolated network left: no bridge forward chain');
  lab.ok(['network', 'rm', 'open']);
});

test('-o bridge.name, driver.mtu, enable_ip_masquerade, host_binding_ipv4 take effect; unknown options and disagreeing flags are refused', async () => {
  lab.ok(['network', 'create', 'opts', '--subnet', '172.36.0.0/24', ...O('bridge.name', 'br-opts'), ...O('driver.mtu', '1400'),
    ...O('bridge.enable_ip_masquerade', 'false'), ...O('bridge.host_binding_ipv4', A.host)]);
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', 'br-opts'], { encoding: 'utf8' }), /mtu 1400/);
  const n = lab.json(['network', 'inspect', 'opts']);
  assert.equal(n.IPMasquerade, false);
  lab.ok(['run', '-d', '--name', 'bound', '--network', 'opts', '-p', '8160:8080', '--', ...echoServerCommand('bound', 8080)]);
  assert.match(lab.ok(['exec', 'bound', '--', 'ip', '-o', 'link', 'show', 'eth0']), /mtu 1400/);
  assert.deepEqual(lab.json(['inspect', 'bound']).NetworkSettings.Ports.map((p) => `${p.HostIp}:${p.HostPort}`), [`${A.host}:8160`]);
  const answer = await lab.waitAnswer(lab.host2, A.host, 8160);
  assert.ok(answer.ok, answer.text);
  lab.ok(['rm', '-f', 'bound']);
  lab.ok(['network', 'rm', 'opts']);
  for (const [args, pattern] of [
    [O('bridge.enable_icc', 'maybe'), /use true or false/],
    [['-o', 'com.docker.network.bridge.nosuch=1'], /the bridge driver takes com\.docker\.network\.bridge\.name/],
    [[...O('bridge.name', 'br-a'), '--bridge', 'br-b'], /disagree/],
    [O('bridge.host_binding_ipv4', 'localhost'), /invalid -o/],
    [['-d', 'ipvlan'], /no ipvlan driver/],
    [['-d', 'overlay2'], /drivers are bridge, macvlan and overlay/],
  ]) {
    const r = lab.ctnet(['network', 'create', 'bad', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
