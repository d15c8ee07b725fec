import { test } from 'node:test';
import assert from 'node:assert/strict';
import { address6At, checkNetworkSubnet6, gateway6Of, offsetOf, overlaps6, parseSubnet6 } from '../../dist/addr/ipv6.js';
import { parsePublish } from '../../dist/ipam/ports.js';

test('IPv6 subnets: canonical text, gateway ::1, addresses by offset, overlap', () => {
  const s = parseSubnet6('FD00:DB8:0:0::/64');
  assert.equal(s.cidr, 'fd00:db8::/64');
  assert.equal(gateway6Of(s), 'fd00:db8::1');
  assert.equal(address6At(s, 2, 'n'), 'fd00:db8::2');
  assert.equal(address6At(s, 0x1234, 'n'), 'fd00:db8::1234');
  assert.equal(offsetOf(s, 'fd00:db8::1234'), 0x1234);
  assert.ok(overlaps6(s, parseSubnet6('fd00:db8::/112')));
  assert.ok(!overlaps6(s, parseSubnet6('fd00:db8:0:1::/64')));
  const tiny = parseSubnet6('fd00::/124');
  assert.throws(() => address6At(tiny, 15, 'tiny'), /no free IPv6 address left in fd00::\/124/);
  for (const bad of ['fd00::1/64', 'fd00::/40', 'fd00::/125', '10.0.0.0/8', 'x']) assert.throws(() => parseSubnet6(bad), /IPv6 subnet/);
});

test('a network IPv6 subnet may not hold the loopback, unspecified or multicast addresses', () => {
  for (const bad of ['::/120', '::/48', 'ff00::/64', 'ff02::/64', 'ffff:ffff:ffff::/48']) assert.throws(() => checkNetworkSubnet6(parseSubnet6(bad)), /which a network cannot use; pick a unique local subnet/, bad);
  assert.throws(() => checkNetworkSubnet6(parseSubnet6('::/120')), /holds the unspecified and loopback addresses \(::\/127\)/);
  for (const good of ['::100/120', '1::/64', 'fe80::/64', 'fd00:db8::/64', 'feff:ffff:ffff::/48']) assert.equal(checkNetworkSubnet6(parseSubnet6(good)).cidr, good);
});

test('-p with an IPv6 host address in brackets, as Docker writes it; [::] is every address', () => {
  assert.deepEqual(parsePublish('[fd00:12::15]:8000:80/udp'), [{ protocol: 'udp', hostIp: 'fd00:12::15', hostPort: 8000, containerPort: 80 }]);
  assert.deepEqual(parsePublish('[::]:8000:80'), [{ protocol: 'tcp', hostIp: null, hostPort: 8000, containerPort: 80 }]);
  assert.throws(() => parsePublish('[fd00::zz]:8000:80'), /not an IPv6 address/);
});
