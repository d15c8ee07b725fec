// CNI configuration parsing (the bridge plugin's and host-local's keys), and ADD results shaped for
// each spec version, without a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkVersion, networkSpec, parseCniArgs, parseNetConf, portRequests } from '../../dist/cni/config.js';
import { addResult } from '../../dist/cni/result.js';

const base = (extra = {}) => ({ cniVersion: '1.0.0', name: 'podnet', type: 'ctnet', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.88.0.0/16' }, ...extra });
const parse = (obj) => parseNetConf(JSON.stringify(obj));
/** The CNI error code a call throws. */
const codeOf = (fn) => {
  try {
    fn();
  } catch (err) {
    return err.code;
  }
  return 'no error';
};

test('parse: not JSON is a decoding error (6); a wrong shape names its path (7); unknown keys pass', () => {
  assert.equal(codeOf(() => parseNetConf('{nope')), 6);
  assert.equal(codeOf(() => parse({ cniVersion: '1.0.0', type: 'ctnet' })), 7);
  assert.throws(() => parse(base({ mtu: 'big' })), /invalid network configuration: mtu: /);
  assert.throws(() => parse(base({ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } })), /runtimeConfig\.portMappings\.0\.hostPort/);
  assert.equal(parse(base({ somethingElse: { a: 1 } })).somethingElse.a, 1);
});

test('version: supported ones pass, others are incompatible (1)', () => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) assert.equal(checkVersion(parse(base({ cniVersion: v }))), v);
  assert.equal(codeOf(() => checkVersion(parse(base({ cniVersion: '0.2.0' })))), 1);
});

test('network: legacy subnet or ranges; ipMasq and default route as the bridge plugin reads them', () => {
  const legacy = networkSpec(parse(base({ ipam: { type: 'host-local', subnet: '10.88.0.0/16', rangeStart: '10.88.1.10', rangeEnd: '10.88.1.20', gateway: '10.88.0.254' } })));
  assert.deepEqual([legacy.name, legacy.bridge, legacy.subnet, legacy.gateway, legacy.rangeStart, legacy.rangeEnd], ['podnet', 'cni0', '10.88.0.0/16', '10.88.0.254', '10.88.1.10', '10.88.1.20']);
  assert.equal(legacy.ipMasq, false, 'the bridge plugin masquerades only when ipMasq is true');
  assert.equal(legacy.blockDirect, false, 'routed access to the pods stays open, as with the bridge plugin');
  assert.equal(legacy.defaultRoute, false, 'no isDefaultGateway and no 0.0.0.0/0 route: no default route');
  assert.equal(networkSpec(parse(base({ ipMasq: true, blockDirectAccess: true }))).blockDirect, true);
  const ranged = networkSpec(parse(base({ ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.89.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } })));
  assert.deepEqual([ranged.subnet, ranged.ipMasq, ranged.defaultRoute], ['10.89.0.0/24', false, true]);
  assert.equal(networkSpec(parse(base({ isDefaultGateway: true }))).defaultRoute, true);
  assert.equal(networkSpec(parse(base({ bridge: undefined }))).bridge, 'cni0', "the bridge plugin's default name");
});

test('network: dual stack takes an IPv6 range; extra routes are normalised; what ctnet does not honour is refused (2) or invalid (7)', () => {
  const dual = networkSpec(parse(base({ ipam: { type: 'host-local', ranges: [[{ subnet: '10.90.0.0/24' }], [{ subnet: 'fd00:90::/64' }]], routes: [{ dst: '192.0.2.7/24' }, { dst: '2001:db8::/32', gw: 'fd00:90::9' }] } })));
  assert.equal(dual.subnet6, 'fd00:90::/64');
  assert.deepEqual(dual.routes, [{ dst: '192.0.2.0/24' }, { dst: '2001:db8::/32', gw: 'fd00:90::9' }]);
  assert.equal(codeOf(() => networkSpec(parse(base({ isGateway: false })))), 2);
  assert.equal(codeOf(() => networkSpec(parse(base({ vlan: 5 })))), 2);
  assert.equal(codeOf(() => networkSpec(parse(base({ promiscMode: true })))), 2);
  assert.equal(codeOf(() => networkSpec(parse(base({ ipam: { type: 'host-local', ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24' }]] } })))), 2);
  assert.equal(codeOf(() => networkSpec(parse(base({ ipam: { type: 'host-local', subnet: '10.88.0.0/16', routes: [{ dst: 'fd00::/8' }] } })))), 7);
  assert.equal(codeOf(() => networkSpec(parse(base({ ipam: { type: 'host-local', subnet: '10.88.0.0/16', routes: [{ dst: 'nowhere' }] } })))), 7);
  assert.equal(codeOf(() => networkSpec(parse(base({ ipam: undefined })))), 7);
  assert.equal(codeOf(() => networkSpec(parse(base({ ipam: { type: 'host-local', ranges: [[{ subnet: 'fd00::/64', gateway: 'fd00::99' }]] } })))), 7, 'IPv6 only: no IPv4 subnet');
});

test('network: a delegated address makes the subnet around it', () => {
  const spec = networkSpec(parse(base({ ipam: { type: 'static' } })), { ip: '10.70.3.9', prefix: 22, gateway: '10.70.0.1' });
  assert.deepEqual([spec.subnet, spec.gateway], ['10.70.0.0/22', '10.70.0.1']);
});

test('port mappings: tcp by default, any case, 0.0.0.0 means every address; other protocols refused', () => {
  const conf = parse(base({ runtimeConfig: { portMappings: [{ hostPort: 8000, containerPort: 80 }, { hostPort: 53, containerPort: 53, protocol: 'UDP', hostIP: '0.0.0.0' }, { hostPort: 9000, containerPort: 90, protocol: 'sctp', hostIP: '10.0.12.15' }] } }));
  assert.deepEqual(portRequests(conf), [
    { protocol: 'tcp', hostIp: null, hostPort: 8000, containerPort: 80 },
    { protocol: 'udp', hostIp: null, hostPort: 53, containerPort: 53 },
    { protocol: 'sctp', hostIp: '10.0.12.15', hostPort: 9000, containerPort: 90 },
  ]);
  assert.equal(codeOf(() => portRequests(parse(base({ runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, protocol: 'icmp' }] } })))), 2);
});

test('CNI_ARGS: K=V pairs separated by ;, values may hold =', () => {
  assert.deepEqual(parseCniArgs('IgnoreUnknown=1;IP=10.88.0.5;K8S_POD_NAME=a=b;junk'), { IgnoreUnknown: '1', IP: '10.88.0.5', K8S_POD_NAME: 'a=b' });
  assert.deepEqual(parseCniArgs(undefined), {});
});

const attachment = (extra = {}) => ({
  network: { bridge: 'cni0', subnet: '10.88.0.0/16', gateway: '10.88.0.1', internal: false, defaultRoute: true, subnet6: null, gateway6: null, ...extra.network },
  container: { hostVeth: 'veth12345678', ifname: 'eth0', netns: '/run/netns/pod', ip: '10.88.0.2', ip6: null, ...extra.container },
  bridgeMac: '02:00:00:00:00:01', hostVethMac: '02:00:00:00:00:02', containerMac: '02:42:0a:58:00:02',
  routes: extra.routes,
});

test('result 1.0.0: interfaces with the sandbox, the address pointing at the container interface, no version field', () => {
  assert.deepEqual(addResult('1.0.0', attachment()), {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'cni0', mac: '02:00:00:00:00:01' }, { name: 'veth12345678', mac: '02:00:00:00:00:02' }, { name: 'eth0', mac: '02:42:0a:58:00:02', sandbox: '/run/netns/pod' }],
    ips: [{ address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 2 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }],
    dns: {},
  });
});

test('result 0.4.0 with dual stack and extra routes; chained after a prevResult, indexes shift past its interfaces', () => {
  const prev = { interfaces: [{ name: 'lo' }], ips: [{ address: '127.0.0.1/8', interface: 0 }], routes: [], dns: { nameservers: ['10.0.0.53'] } };
  const r = addResult('0.4.0', attachment({ network: { subnet6: 'fd00:88::/64', gateway6: 'fd00:88::1' }, container: { ip6: 'fd00:88::2' }, routes: [{ dst: '192.0.2.0/24' }, { dst: '2001:db8::/32' }] }), prev);
  assert.equal(r.interfaces.length, 4);
  assert.deepEqual(r.ips, [
    { address: '127.0.0.1/8', interface: 0 },
    { address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 3, version: '4' },
    { address: 'fd00:88::2/64', gateway: 'fd00:88::1', interface: 3, version: '6' },
  ]);
  assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }, { dst: '::/0', gw: 'fd00:88::1' }, { dst: '192.0.2.0/24', gw: '10.88.0.1' }, { dst: '2001:db8::/32', gw: 'fd00:88::1' }]);
  assert.deepEqual(r.dns, { nameservers: ['10.0.0.53'] });
});

test('result: an internal network or one without a default route lists no default route', () => {
  assert.deepEqual(addResult('1.1.0', attachment({ network: { internal: true } })).routes, []);
  assert.deepEqual(addResult('1.1.0', attachment({ network: { defaultRoute: false } })).routes, []);
});

test('keys as Go decodes them: containerd\'s capitalised portMappings, other spellings of known keys, null as absent; DEL and GC read only what they need', async () => {
  const { goKeys } = await import('../../dist/cni/config.js');
  // containerd 1.6's go-cni: PortMapping has no json tags, so its keys are Go's field names.
  const containerd = parse(base({ runtimeConfig: { portMappings: [{ HostPort: 8000, ContainerPort: 8080, Protocol: 'tcp', HostIP: '' }] } }));
  assert.deepEqual(portRequests(containerd), [{ protocol: 'tcp', hostIp: null, hostPort: 8000, containerPort: 8080 }]);
  const shouty = parse(base({ IPMASQ: true, IsDefaultGateway: true, IPAM: { Type: 'host-local', Subnet: '10.88.0.0/16' }, runtimeConfig: { ips: null, Bandwidth: { IngressRate: 8000000 } } }));
  assert.deepEqual([shouty.ipMasq, shouty.isDefaultGateway, shouty.ipam.subnet, shouty.runtimeConfig.bandwidth.ingressRate], [true, true, '10.88.0.0/16', 8000000]);
  assert.equal(shouty.runtimeConfig.ips, undefined);
  // An exact spelling wins over another one; unknown keys pass through untouched; prevResult is another plugin's.
  assert.deepEqual(goKeys({ mtu: 1400, MTU: 9000, Foo: 1, prevResult: { IPs: [] } }), { mtu: 1400, MTU: 9000, Foo: 1, prevResult: { IPs: [] } });
  // DEL: a runtimeConfig ADD would refuse does not stop it.
  const broken = JSON.stringify(base({ runtimeConfig: { portMappings: [{ hostPort: 'eighty' }] } }));
  assert.throws(() => parseNetConf(broken), /invalid network configuration/);
  assert.equal(parseNetConf(broken, true).name, 'podnet');
});

test('DEL keeps ipam.type and ipam.dataDir (where the state is): without it a DEL would look in the default state directory', () => {
  const conf = JSON.stringify(base({ ipam: { type: 'host-local', subnet: 'not-a-subnet', dataDir: '/var/lib/cni/networks' }, runtimeConfig: { portMappings: 'nonsense' } }));
  assert.deepEqual(parseNetConf(conf, true).ipam, { type: 'host-local', dataDir: '/var/lib/cni/networks' });
});
