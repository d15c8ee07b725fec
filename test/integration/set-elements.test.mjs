// A container's firewall elements (its bridge port's guard, its published ports in the DNAT maps)
// change through nf_tables' netlink, without libnftables. What nft lists afterwards is what ctnet's
// libnftables path wrote before: the elements with their per-element counters, and after rm
// nothing of the container's while the network's own elements stay. An element someone deleted by
// hand does not stop rm; a table someone deleted is put back by the next run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createLab } from '../helpers/lab.mjs';
import { echoServerCommand } from '../../dist/demo/lab.js';

let lab;

before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'els', '--subnet', '172.31.9.0/24', '--ipv6', '--subnet', 'fd00:9::/64']);
});
after(() => lab?.close());

function nft(args) {
  const r = spawnSync('ip', ['netns', 'exec', lab.host, 'nft', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
/** The elements of ctnet's sets and maps in all three tables, one per line, counters' values dropped. */
function elements() {
  const out = [];
  for (const family of ['bridge', 'ip', 'ip6']) {
    for (const item of JSON.parse(nft(['-j', 'list', 'table', family, 'ctnet'])).nftables) {
      const set = item.set ?? item.map;
      for (const e of set?.elem ?? []) out.push(`${family} ${set.name} ${JSON.stringify(e).replace(/"packets":\d+,"bytes":\d+/g, '')}`);
    }
  }
  return out.sort();
}

test("run adds the container's guard and port elements (with counters), rm removes exactly those", async () => {
  const before = elements();
  lab.ok(['run', '-d', '--name', 'a', '--network', 'els', '-p', '8201:8080', '-p', '127.0.0.1:8202:81/udp', '--', ...echoServerCommand('a', 8080)]);
  const { IPAddress: ip, GlobalIPv6Address: ip6 } = lab.json(['inspect', 'a']).NetworkSettings;
  const mac = spawnSync('ip', ['netns', 'exec', lab.nsOf('a'), 'cat', '/sys/class/net/eth0/address'], { encoding: 'utf8' }).stdout.trim();
  const added = elements().filter((e) => !before.includes(e));
  const text = added.join('\n');
  assert.match(text, new RegExp(`^bridge port_ip .*"${mac}".*"${ip.replace(/\./g, '\\.')}"`, 'm'));
  assert.match(text, /^bridge port_arp /m);
  assert.match(text, /^bridge port_ip6 .*"::"/m);
  assert.match(text, /^bridge port_nd_targets /m);
  assert.match(text, new RegExp(`^ip tcp_any .*8201.*"counter".*"${ip.replace(/\./g, '\\.')}",8080`, 'm'));
  assert.match(text, /^ip udp_host .*"127\.0\.0\.1",8202.*"counter"/m);
  assert.match(text, new RegExp(`^ip6 tcp_any .*8201.*"counter".*"${ip6}",8080`, 'm'));
  // The published port answers from another host through the map element the netlink path wrote.
  assert.ok((await lab.waitAnswer(lab.host2, '10.0.12.15', 8201)).ok, 'the published port answers');
  lab.ok(['rm', '-f', 'a']);
  assert.deepEqual(elements(), before, 'after rm the sets hold what they held before the run');
});

test('rm goes on past an element deleted by hand; a run after the ip table was deleted puts it back', () => {
  lab.ok(['run', '-d', '--name', 'b', '--network', 'els', '-p', '8203:80', '-p', '8205:80', '--', 'sleep', '600']);
  // One transaction deletes both; the kernel refuses it whole for the missing one, so each goes alone.
  nft(['delete', 'element', 'ip', 'ctnet', 'tcp_any', '{ 8203 }']);
  lab.ok(['rm', '-f', 'b']);
  assert.deepEqual(elements().filter((e) => /port_|tcp_any|820[35]/.test(e)), []);

  nft(['delete', 'table', 'ip', 'ctnet']);
  lab.ok(['run', '-d', '--name', 'c', '--network', 'els', '-p', '8204:80', '--', 'sleep', '600']);
  assert.match(nft(['list', 'map', 'ip', 'ctnet', 'tcp_any']), /8204 counter packets 0 bytes 0 : 172\.31\.9\.\d+ \. 80/);
  lab.ok(['rm', '-f', 'c']);
});

test('5,000 published ports (IPv4 and IPv6): one transaction each way, every element there, then none', () => {
  const count = (family) => (nft(['list', 'map', family, 'ctnet', 'tcp_any']).match(/\b2\d{4} counter/g) ?? []).length;
  lab.ok(['run', '-d', '--name', 'many', '--network', 'els', '-p', '20000-24999:20000-24999', '--', 'sleep', '600']);
  assert.deepEqual([count('ip'), count('ip6')], [5000, 5000]);
  lab.ok(['rm', '-f', 'many']);
  assert.deepEqual([count('ip'), count('ip6')], [0, 0]);
});
