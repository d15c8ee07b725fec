// run's network options as Docker has them: --add-host (host-gateway too), --dns (with embedded DNS:
// that container's upstreams), --dns-search, --dns-option (or --dns-opt), --sysctl, --mac-address and --ip6, each
// read back from the kernel or used by real traffic, with a control container that lacks the option.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, startDnsUpstream, probe, echoServerCommand, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

let lab;
let upstream;
before(async () => {
  lab = createLab();
  lab.ok(['network', 'create', 'app', '--subnet', '172.28.0.0/24']);
  lab.ok(['network', 'create', 'dual', '--subnet', '172.28.1.0/24', '--ipv6', '--subnet', 'fd00:28::/64']);
  // A resolver of the container's own on host2: only it knows custom.test.
  upstream = await startDnsUpstream(lab.host2, A.host2, { 'custom.test': '198.51.100.8' });
});
after(() => {
  if (upstream) try { process.kill(-upstream.pid, 'SIGKILL'); } catch { /* gone */ }
  lab?.close();
});

const resolve = (container, name) => lab.ctnet(['exec', container, '--', 'sh', '-c', `getent hosts ${name} || echo "- ${name}"`]).stdout.trim();
const cat = (container, path) => lab.ok(['exec', container, '--', 'cat', path]);

test('--add-host writes /etc/hosts lines; host-gateway is the network\'s gateway', () => {
  lab.ok(['run', '-d', '--name', 'hosts', '--network', 'app', '--add-host', 'db.local:10.9.8.7', '--add-host', 'gw:host-gateway', '--add-host', 'v6:fd00::9', '--', 'sleep', '600']);
  const hosts = cat('hosts', '/etc/hosts');
  assert.match(hosts, /^10\.9\.8\.7\tdb\.local$/m);
  assert.match(hosts, /^172\.28\.0\.1\tgw$/m);
  assert.match(hosts, /^fd00::9\tv6$/m);
  assert.match(resolve('hosts', 'db.local'), /^10\.9\.8\.7\s+db\.local/);
  assert.equal(lab.json(['inspect', 'hosts']).HostConfig.ExtraHosts.join(' '), 'db.local:10.9.8.7 gw:host-gateway v6:fd00::9');
  for (const bad of ['nocolon', ':1.2.3.4', 'x:999.1.1.1', 'a b:1.2.3.4']) {
    const r = lab.ctnet(['run', '--network', 'app', '--add-host', bad, '--', 'true']);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /invalid --add-host/);
  }
  lab.ok(['rm', '-f', 'hosts']);
});

test('--dns with embedded DNS: the container\'s other names go to its own servers, its network\'s names still resolve; a control container without it does not reach them', () => {
  lab.ok(['run', '-d', '--name', 'peer', '--network', 'app', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'own-dns', '--network', 'app', '--dns', A.host2, '--dns-search', 'corp.example', '--dns-option', 'ndots:2', '--dns-opt', 'timeout:1', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'control', '--network', 'app', '--', 'sleep', '600']);
  assert.match(resolve('own-dns', 'custom.test'), /^198\.51\.100\.8\s+custom\.test/);
  assert.equal(resolve('control', 'custom.test'), '- custom.test');
  const peer = lab.json(['inspect', 'peer']).NetworkSettings.IPAddress;
  assert.match(resolve('own-dns', 'peer'), new RegExp(`^${peer.replace(/\./g, '\\.')}\\s+peer`));
  assert.deepEqual(cat('own-dns', '/etc/resolv.conf').trim().split('\n'), ['nameserver 172.28.0.1', 'search corp.example', 'options ndots:2 timeout:1']);
  lab.ok(['rm', '-f', 'peer', 'own-dns', 'control']);
});

test('--dns without embedded DNS (the default bridge): resolv.conf names the server, which answers', () => {
  lab.ok(['run', '-d', '--name', 'plain', '--dns', A.host2, '--dns-search', '.', '--', 'sleep', '600']);
  assert.deepEqual(cat('plain', '/etc/resolv.conf').split('\n').filter((l) => /^(nameserver|search)/.test(l)), [`nameserver ${A.host2}`]);
  assert.match(resolve('plain', 'custom.test'), /^198\.51\.100\.8\s+custom\.test/);
  lab.ok(['rm', '-f', 'plain']);
  for (const [flag, bad] of [['--dns', 'resolver.example'], ['--dns-search', 'bad domain'], ['--dns-option', 'ndots 2']]) {
    const r = lab.ctnet(['run', flag, bad, '--', 'true']);
    assert.equal(r.code, 2, `${flag} ${bad}`);
    assert.match(r.stderr, new RegExp(`invalid ${flag}`));
  }
});

test('--sysctl sets net.* keys in the container\'s namespace only; other keys and unknown ones are refused', () => {
  const key = '/proc/sys/net/ipv4/ip_unprivileged_port_start';
  const hostValue = execFileSync('ip', ['netns', 'exec', lab.host, 'cat', key], { encoding: 'utf8' });
  lab.ok(['run', '-d', '--name', 'tuned', '--network', 'app', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=0', '--sysctl', 'net.ipv4.conf.eth0.rp_filter=2', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'untuned', '--network', 'app', '--', 'sleep', '600']);
  assert.equal(cat('tuned', key).trim(), '0');
  assert.equal(cat('tuned', '/proc/sys/net/ipv4/conf/eth0/rp_filter').trim(), '2');
  assert.equal(cat('untuned', key).trim(), '1024');
  assert.equal(execFileSync('ip', ['netns', 'exec', lab.host, 'cat', key], { encoding: 'utf8' }), hostValue, 'the host keeps its value');
  assert.deepEqual(lab.json(['inspect', 'tuned']).HostConfig.Sysctls, { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.conf.eth0.rp_filter': '2' });
  for (const [bad, pattern] of [['kernel.hostname=x', /only namespaced keys can be set for a container \(net\.\*, and the IPC namespace's/], ['net.ipv4.no_such_key=1', /no such key/], ['net.ipv4.ip_forward', /only namespaced/], ['net.ipv4.../../x=1', /only namespaced/]]) {
    const r = lab.ctnet(['run', '--network', 'app', '--sysctl', bad, '--', 'true']);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  lab.ok(['rm', '-f', 'tuned', 'untuned']);
});

test('--mac-address: the interface has it, the host learns it from real traffic, the anti-spoofing guard lets it through', async () => {
  const mac = '02:aa:bb:cc:dd:01';
  lab.ok(['run', '-d', '--name', 'macd', '--network', 'app', '--mac-address', mac.toUpperCase(), '-p', '8130:8080', '--', ...echoServerCommand('macd', 8080)]);
  const c = lab.json(['inspect', 'macd']);
  assert.equal(c.Config.MacAddress, mac);
  assert.match(lab.ok(['exec', 'macd', '--', 'ip', '-o', 'link', 'show', 'eth0']), new RegExp(`link/ether ${mac}`));
  const answer = await lab.waitAnswer(lab.host2, A.host, 8130);
  assert.ok(answer.ok, answer.text);
  const neigh = execFileSync('ip', ['-n', lab.host, 'neigh', 'show', c.NetworkSettings.IPAddress], { encoding: 'utf8' });
  assert.match(neigh, new RegExp(`lladdr ${mac}`));
  for (const bad of ['01:00:5e:00:00:01', 'zz:00:00:00:00:01', '00:00:00:00:00:00']) {
    assert.equal(lab.ctnet(['run', '--network', 'app', '--mac-address', bad, '--', 'true']).code, 2, bad);
  }
  lab.ok(['rm', '-f', 'macd']);
});

test('--ip6 on a dual-stack network: the address asked for, reachable; taken, outside or the gateway are refused; an IPv4-only network says so', () => {
  lab.ok(['run', '-d', '--name', 'six', '--network', 'dual', '--ip6', 'fd00:28::99', '--', ...echoServerCommand('six', 8080)]);
  lab.ok(['run', '-d', '--name', 'six-client', '--network', 'dual', '--', 'sleep', '600']);
  assert.equal(lab.json(['inspect', 'six']).NetworkSettings.GlobalIPv6Address, 'fd00:28::99');
  assert.match(lab.ok(['exec', 'six', '--', 'ip', '-o', '-6', 'addr', 'show', 'eth0']), /inet6 fd00:28::99\/64/);
  const client = lab.nsOf('six-client');
  let answer;
  for (let i = 0; i < 40 && !(answer = probe(client, 'fd00:28::99', 8080, 'tcp', 500)).ok; i++) execFileSync('sleep', ['0.05']);
  assert.match(answer.text, /^six from fd00:28::/);
  for (const [ip6, code, pattern] of [['fd00:28::99', 4, /already in use/], ['fd00:29::5', 2, /outside network dual/], ['fd00:28::1', 2, /the gateway/], ['10.0.0.1', 2, /invalid --ip6/]]) {
    const r = lab.ctnet(['run', '--network', 'dual', '--ip6', ip6, '--', 'true']);
    assert.equal(r.code, code, `${ip6}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  const v4only = lab.ctnet(['run', '--network', 'app', '--ip6', 'fd00:28::5', '--', 'true']);
  assert.equal(v4only.code, 2);
  assert.match(v4only.stderr, /has no IPv6/);
  lab.ok(['rm', '-f', 'six']);
  assert.ok(!probe(client, 'fd00:28::99', 8080, 'tcp', 300).ok);
  lab.ok(['rm', '-f', 'six-client']);
});
