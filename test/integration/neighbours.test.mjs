// A container and its gateway know each other's MAC from the start (permanent neighbour entries), so
// neither depends on ARP, whose entries share one table with every namespace of the host and are
// refused past its size ("neighbor table overflow" at ~1,000 talking containers). Shown here by
// dropping every ARP frame on the host's bridges: the container and the host still reach each other;
// with the entries deleted (the control) they do not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, probe, echoServerCommand } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'lab', '--subnet', '172.23.0.0/24', '--bridge', 'br0']);
  lab.ok(['network', 'create', 'lab2', '--subnet', '172.24.0.0/24', '--bridge', 'br1']);
});
after(() => lab?.close());

const sh = (...args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8' });
const entryRe = (ip, dev) => new RegExp(`^${ip.replace(/\./g, '\\.')} dev ${dev} .*PERMANENT`, 'm');
const neighbours = (netns) => sh('ip', '-n', netns, 'neigh', 'show', 'nud', 'permanent');
const ARP_BLOCK = `table bridge arpblock {
  chain arp_in { type filter hook input priority -300; ether type arp drop; }
  chain arp_out { type filter hook output priority -300; ether type arp drop; }
  chain arp_fwd { type filter hook forward priority -300; ether type arp drop; }
}`;

test('with every ARP frame dropped on the bridge, a new container and the host reach each other; without the permanent entries they do not', async () => {
  execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-f', '-'], { input: ARP_BLOCK });
  try {
    for (const name of ['web', 'bare']) lab.ok(['run', '-d', '--name', name, '--network', 'lab', '--', ...echoServerCommand(name, 8080)]);
    const web = lab.json(['inspect', 'web']).NetworkSettings.IPAddress;
    const bare = lab.json(['inspect', 'bare']).NetworkSettings.IPAddress;
    assert.match(neighbours(lab.nsOf('web')), /^172\.23\.0\.1 dev eth0 lladdr 02:[0-9a-f:]{14} PERMANENT/m, 'the container knows the gateway');
    assert.match(neighbours(lab.host), new RegExp(`^${web.replace(/\./g, '\\.')} dev br0 lladdr 02:42:ac:17:00:[0-9a-f]{2} PERMANENT`, 'm'), 'the host knows the container');
    // The host to the container (its answer goes back to the gateway address), and the container to the gateway.
    assert.equal((await lab.waitAnswer(lab.host, web, 8080)).text, 'web from 172.23.0.1');
    assert.equal(probe(lab.nsOf('web'), '172.23.0.1', 9, 'tcp', 1000).text, 'ECONNREFUSED', 'the gateway answers (with a reset)');
    // The control: the same container without the entries is cut off while ARP is.
    sh('ip', '-n', lab.nsOf('bare'), 'neigh', 'del', '172.23.0.1', 'dev', 'eth0');
    sh('ip', '-n', lab.host, 'neigh', 'del', bare, 'dev', 'br0');
    assert.equal(probe(lab.host, bare, 8080, 'tcp', 1500).ok, false, 'without the entries nothing gets through');
    assert.notEqual(probe(lab.nsOf('bare'), '172.23.0.1', 9, 'tcp', 1500).text, 'ECONNREFUSED');
  } finally {
    sh('ip', 'netns', 'exec', lab.host, 'nft', 'delete', 'table', 'bridge', 'arpblock');
    lab.ctnet(['rm', '-f', 'web', 'bare']);
  }
});

test("the host's entry goes with the container; gc removes one a removal left behind", () => {
  lab.ok(['run', '-d', '--name', 'c1', '--network', 'lab', '--', 'sleep', '600']);
  const ip = lab.json(['inspect', 'c1']).NetworkSettings.IPAddress;
  assert.match(neighbours(lab.host), entryRe(ip, 'br0'));
  lab.ok(['rm', '-f', 'c1']);
  assert.doesNotMatch(neighbours(lab.host), new RegExp(`^${ip.replace(/\./g, '\\.')} `, 'm'));
  // A leftover in the network's subnet goes; one outside it is not ctnet's to remove.
  sh('ip', '-n', lab.host, 'neigh', 'replace', '172.23.0.77', 'lladdr', '02:42:ac:17:00:4d', 'dev', 'br0', 'nud', 'permanent');
  sh('ip', '-n', lab.host, 'neigh', 'replace', '192.0.2.7', 'lladdr', '02:00:00:00:00:07', 'dev', 'br0', 'nud', 'permanent');
  try {
    assert.match(lab.ok(['gc']), /removed leftover neighbour entry 172\.23\.0\.77 on br0/);
    const left = neighbours(lab.host);
    assert.doesNotMatch(left, /172\.23\.0\.77/);
    assert.match(left, /192\.0\.2\.7/);
  } finally {
    sh('ip', '-n', lab.host, 'neigh', 'del', '192.0.2.7', 'dev', 'br0');
  }
});

test('a further network gets the same entries: with ARP dropped, its gateway and the container reach each other there; disconnect, rm and gc handle them', async () => {
  execFileSync('ip', ['netns', 'exec', lab.host, 'nft', '-f', '-'], { input: ARP_BLOCK });
  try {
    // One connected at run, one by network connect: both plan the further network the same way.
    lab.ok(['run', '-d', '--name', 'multi', '--network', 'lab', '--network', 'lab2', '--', ...echoServerCommand('multi', 8080)]);
    lab.ok(['run', '-d', '--name', 'late', '--network', 'lab', '--', ...echoServerCommand('late', 8080)]);
    lab.ok(['network', 'connect', 'lab2', 'late']);
    const on2 = (name) => lab.json(['inspect', name]).NetworkSettings.Networks.find((n) => n.Network === 'lab2').IPAddress;
    for (const name of ['multi', 'late']) {
      assert.match(neighbours(lab.nsOf(name)), /^172\.24\.0\.1 dev eth1 lladdr 02:[0-9a-f:]{14} PERMANENT/m, `${name} knows lab2's gateway`);
      assert.match(neighbours(lab.host), entryRe(on2(name), 'br1'), `the host knows ${name} on lab2`);
      assert.equal((await lab.waitAnswer(lab.host, on2(name), 8080)).text, `${name} from 172.24.0.1`);
      assert.equal(probe(lab.nsOf(name), '172.24.0.1', 9, 'tcp', 1000).text, 'ECONNREFUSED', `lab2's gateway answers ${name}`);
    }
    // gc keeps the entries of further networks (their addresses are held, not left over).
    lab.ok(['gc']);
    assert.match(neighbours(lab.host), entryRe(on2('late'), 'br1'));
    // The control: without its entries, late is cut off on lab2 while ARP is.
    const late2 = on2('late');
    sh('ip', '-n', lab.nsOf('late'), 'neigh', 'del', '172.24.0.1', 'dev', 'eth1');
    sh('ip', '-n', lab.host, 'neigh', 'del', late2, 'dev', 'br1');
    assert.equal(probe(lab.host, late2, 8080, 'tcp', 1500).ok, false, 'without the entries nothing gets through');
    // Disconnect removes the host's entry; so does rm of a container still connected.
    const multi2 = on2('multi');
    lab.ok(['network', 'disconnect', 'lab2', 'multi']);
    assert.doesNotMatch(neighbours(lab.host), entryRe(multi2, 'br1'));
    lab.ok(['network', 'connect', 'lab2', 'multi']);
    const again = on2('multi');
    assert.match(neighbours(lab.host), entryRe(again, 'br1'));
    lab.ok(['rm', '-f', 'multi']);
    assert.doesNotMatch(neighbours(lab.host), entryRe(again, 'br1'));
  } finally {
    sh('ip', 'netns', 'exec', lab.host, 'nft', 'delete', 'table', 'bridge', 'arpblock');
    lab.ctnet(['rm', '-f', 'multi', 'late']);
  }
});
