// Anti-spoofing on the bridge ports: a container given NET_ADMIN and NET_RAW claims a neighbour's
// and the gateway's IPv4 addresses with forged ARP replies and sends from a forged address. The
// host's and the neighbour's neighbour tables keep the right MACs and the victim's published port
// still answers from the victim. The control removes the bridge table in the lab host's own
// namespace and shows the same attack poisoning the neighbour's table. (The host's entry for a
// container and a container's for its gateway are permanent, which no ARP changes: see
// neighbours.test.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createLab, sendUdpCommand, startUdpWitness } from '../helpers/lab.mjs';
import { echoServerCommand } from '../../dist/demo/lab.js';
import { hostVethName } from '../../dist/names.js';

let lab;
let victim;
let attackerMac;
const GATEWAY = '172.31.5.1';

before(async () => {
  lab = createLab();
  lab.ok(['network', 'create', 'spoof', '--subnet', '172.31.5.0/24', '--bridge', 'br-spoof']);
  lab.ok(['run', '-d', '--name', 'victim', '--network', 'spoof', '-p', '8085:8080', '--', ...echoServerCommand('victim', 8080)]);
  lab.ok(['run', '-d', '--name', 'neighbour', '--network', 'spoof', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'attacker', '--network', 'spoof', '--cap-add', 'NET_ADMIN', '--', 'sleep', '600']);
  // A network made and removed after the containers: neither touches the bridge table (see
  // firewallScriptFrom), and the attacks below meet the ports' guards as attach made them.
  lab.ok(['network', 'create', 'passing', '--subnet', '172.31.6.0/24']);
  lab.ok(['network', 'rm', 'passing']);
  victim = lab.json(['inspect', 'victim']).NetworkSettings.IPAddress;
  attackerMac = sh(lab.nsOf('attacker'), 'cat /sys/class/net/eth0/address').trim();
  await lab.waitAnswer(lab.host2, '10.0.12.15', 8085);
});
after(() => lab?.close());

function sh(ns, cmd) {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', timeout: 20000 });
  return r.stdout + r.stderr;
}

/** Fills the host's and the neighbour's tables with the right entries (and waits out the kernel's 1 s lock on fresh ones). */
async function prime() {
  sh(lab.host, `curl -s -m 2 http://${victim}:8080/ >/dev/null`);
  sh(lab.nsOf('neighbour'), `curl -s -m 2 http://${victim}:8080/ >/dev/null; curl -s -m 2 http://10.0.12.15:8085/ >/dev/null`);
  await new Promise((r) => setTimeout(r, 1500));
}

const macIn = (ns, ip, dev) => /lladdr (\S+)/.exec(sh(ns, `ip neigh show ${ip} dev ${dev}`))?.[1];

/** Gratuitous ARP replies claiming `ip` for the attacker's MAC, sent raw (AF_PACKET) by a program inside the container. */
const claim = (ip) => `perl -MSocket -e '
  my $idx = 0 + \`cat /sys/class/net/eth0/ifindex\`;
  (my $hex = \`cat /sys/class/net/eth0/address\`) =~ s/[:\\n]//g;
  my $mac = pack("H12", $hex);
  my $ip = inet_aton("${ip}");
  socket(my $s, 17, SOCK_RAW, 0) or die "packet socket: $!";
  my $frame = ("\\xff" x 6) . $mac . pack("n", 0x0806) . pack("nnCCn", 1, 0x0800, 6, 4, 2) . $mac . $ip . ("\\xff" x 6) . $ip;
  my $to = pack("S n i S C C a8", 17, 0x0806, $idx, 1, 0, 6, "\\xff" x 6);
  for (1 .. 3) { send($s, $frame, 0, $to) or die "send: $!"; select(undef, undef, undef, 0.1); }
  print "claimed ${ip}\\n";'`;

function attack() {
  const r = lab.ctnet(['exec', 'attacker', '--', 'sh', '-c', `${claim(victim)}; ${claim(GATEWAY)}; ip addr add ${victim}/32 dev eth0 2>&1`]);
  assert.match(r.stdout, new RegExp(`claimed ${victim.replace(/\./g, '\\.')}\\nclaimed ${GATEWAY.replace(/\./g, '\\.')}`), r.stderr);
}

test("ARP claiming a neighbour's and the gateway's address poisons no table, and the victim's port still answers", async () => {
  await prime();
  const before = { host: macIn(lab.host, victim, 'br-spoof'), nVictim: macIn(lab.nsOf('neighbour'), victim, 'eth0'), nGateway: macIn(lab.nsOf('neighbour'), GATEWAY, 'eth0') };
  assert.ok(before.host && before.nVictim && before.nGateway, JSON.stringify(before));
  attack();
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual({ host: macIn(lab.host, victim, 'br-spoof'), nVictim: macIn(lab.nsOf('neighbour'), victim, 'eth0'), nGateway: macIn(lab.nsOf('neighbour'), GATEWAY, 'eth0') }, before);
  assert.notEqual(before.host, attackerMac);
  // From another host, the published port is still the victim's.
  assert.match(sh(lab.host2, 'curl -s -m 2 http://10.0.12.15:8085/'), /victim/);
  sh(lab.nsOf('attacker'), `ip addr del ${victim}/32 dev eth0`);
});

test('a datagram from a forged source address is dropped at the port; one from its own gets through', async () => {
  // The host listens on the gateway; the attacker sends from an address it added, then from its own.
  const witness = await startUdpWitness(lab.host, GATEWAY, 9999);
  try {
    const own = lab.json(['inspect', 'attacker']).NetworkSettings.IPAddress;
    sh(lab.nsOf('attacker'), `ip addr add 172.31.5.250/24 dev eth0; ${sendUdpCommand('172.31.5.250', GATEWAY, 9999, 'forged')}; ${sendUdpCommand(own, GATEWAY, 9999, 'mine')}; ip addr del 172.31.5.250/24 dev eth0`);
    assert.ok(await witness.arrived('mine'), 'the control: its own address gets through');
    assert.equal(witness.heard('forged'), false);
  } finally {
    witness.close();
  }
});

test('rm -f of a container that others joined, killed at any step, never leaves their interface up without its guard', async () => {
  const witness = await startUdpWitness(lab.host, GATEWAY, 9998);
  const start = () => {
    lab.ok(['run', '-d', '--name', 'owner', '--network', 'spoof', '--', 'sleep', '600']);
    lab.ok(['run', '-d', '--name', 'joiner', '--network', 'container:owner', '--cap-add', 'NET_ADMIN', '--', 'sleep', '600']);
    return { own: lab.json(['inspect', 'owner']).NetworkSettings.IPAddress, pid: lab.json(['inspect', 'joiner']).State.Pid };
  };
  /** From the joiner's namespace (no ctnet command: its reconcile would finish the killed rm), while eth0 is there. */
  const attack = async ({ own, pid }, tag) => {
    const r = spawnSync('nsenter', ['-t', String(pid), '-n', 'sh', '-c', `ip link show eth0 >/dev/null 2>&1 || { echo no interface; exit; }
      ip addr add 172.31.5.251/24 dev eth0; ${sendUdpCommand('172.31.5.251', GATEWAY, 9998, `forged ${tag}`)}; ${sendUdpCommand(own, GATEWAY, 9998, `own ${tag}`)}; ip addr del 172.31.5.251/24 dev eth0`], { encoding: 'utf8' });
    if (r.stdout.includes('no interface')) return 'no interface';
    const ownArrived = await witness.arrived(`own ${tag}`);
    if (witness.heard(`forged ${tag}`)) return 'forged arrived';
    return ownArrived ? 'guarded' : `eth0 there, its own datagram lost (${r.stderr.trim()})`;
  };
  const seen = [];
  try {
    let pair = start();
    assert.equal(await attack(pair, 'running'), 'guarded');
    for (let step = 1; ; step++) {
      const r = lab.ctnet(['rm', '-f', 'owner'], { CTNET_CRASH_AT: String(step) });
      if (r.signal !== 'SIGKILL') {
        assert.equal(r.code, 0, r.stderr);
        break;
      }
      seen.push(await attack(pair, `killed at step ${step}`));
      lab.ok(['rm', '-f', 'owner', 'joiner']);
      pair = start();
    }
    process.stdout.write(`# rm -f of a joined container killed at each of ${seen.length} steps: ${seen.join(', ')}\n`);
    assert.ok(seen.every((x) => x === 'guarded' || x === 'no interface'), seen.join(', '));
    assert.ok(seen.includes('guarded') && seen.includes('no interface'), `kills before and after the interface went: ${seen.join(', ')}`);
    // The control: the same attack once the owner's port is taken out of the guard by hand.
    lab.ok(['rm', '-f', 'joiner']);
    pair = start();
    sh(lab.host, `nft delete element bridge ctnet container_ports '{ ${hostVethName(lab.json(['inspect', 'owner']).Id)} }'`);
    assert.equal(await attack(pair, 'unguarded'), 'forged arrived');
  } finally {
    witness.close();
    lab.ctnet(['rm', '-f', 'owner', 'joiner']);
  }
});

test('the control: without the bridge table the same attack poisons the neighbour; firewall reload puts the guard back', async () => {
  await prime();
  sh(lab.host, 'nft delete table bridge ctnet');
  try {
    attack();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(macIn(lab.nsOf('neighbour'), victim, 'eth0'), attackerMac, 'without the guard the neighbour takes the forged ARP');
    assert.notEqual(macIn(lab.host, victim, 'br-spoof'), attackerMac, "the host's entry is permanent");
  } finally {
    sh(lab.nsOf('attacker'), `ip addr del ${victim}/32 dev eth0`);
    lab.ok(['firewall', 'reload']);
  }
  assert.match(sh(lab.host, 'nft list table bridge ctnet'), /port_guard/);
});
