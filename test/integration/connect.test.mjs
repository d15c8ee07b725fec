// network connect / disconnect: a second interface with its address and routes, names in the second
// network's DNS, removed cleanly on disconnect and on rm; bad requests change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLab, echoServerCommand, fullSnapshot, probe } from '../helpers/lab.mjs';

let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'front', '--subnet', '172.30.0.0/24']);
  lab.ok(['network', 'create', 'back', '--subnet', '172.31.0.0/24']);
  lab.ok(['run', '-d', '--name', 'api', '--network', 'front', '--', ...echoServerCommand('api', 8080)]);
  lab.ok(['run', '-d', '--name', 'db', '--network', 'back', '--', ...echoServerCommand('db', 8080)]);
});
after(() => lab?.close());

const ip = (ns, ...args) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
const resolve = (container, name) => lab.ctnet(['exec', container, '--', 'getent', 'hosts', name]).stdout.trim().split(/\s+/)[0] ?? '';
async function until(fn, ms = 1500) {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

test('connect: eth1 with an address of the network, the default route stays on the first; traffic and names flow', async () => {
  const apiNs = lab.nsOf('api');
  const dbIp = lab.json(['inspect', 'db']).NetworkSettings.IPAddress;
  assert.equal(probe(apiNs, dbIp, 8080, 'tcp', 700).ok, false, 'isolated before connect');

  const out = lab.ok(['network', 'connect', 'back', 'api', '--alias', 'store']);
  const [ifname, address] = out.trim().split(' ');
  assert.equal(ifname, 'eth1');
  assert.match(address, /^172\.31\.0\.\d+$/);
  assert.match(ip(apiNs, '-4', '-o', 'addr', 'show', 'eth1'), new RegExp(`inet ${address.replace(/\./g, '\\.')}/24`));
  assert.match(ip(apiNs, 'route', 'show', 'default'), /default via 172\.30\.0\.1 dev eth0/);
  const view = lab.json(['inspect', 'api']).NetworkSettings.Networks;
  assert.deepEqual(view.map((n) => [n.Network, n.Interface, n.IPAddress]), [['front', 'eth0', view[0].IPAddress], ['back', 'eth1', address]]);
  assert.deepEqual(lab.json(['network', 'inspect', 'back']).Containers.map((c) => c.Name).sort(), ['api', 'db']);

  assert.ok(probe(apiNs, dbIp, 8080).text.startsWith('db from'));
  assert.ok(probe(lab.nsOf('db'), address, 8080).text.startsWith('api from'));
  assert.ok(await until(() => resolve('db', 'api') === address), 'db resolves api on back');
  assert.equal(resolve('db', 'store'), address);
  assert.equal(resolve('api', 'db'), dbIp, 'api resolves names of both its networks');
});

test('disconnect: eth1, its address and its names go; the address is free again', async () => {
  const apiNs = lab.nsOf('api');
  const address = lab.json(['inspect', 'api']).NetworkSettings.Networks[1].IPAddress;
  lab.ok(['network', 'disconnect', 'back', 'api']);
  assert.doesNotMatch(ip(apiNs, '-o', 'link'), /eth1/);
  assert.equal(lab.json(['inspect', 'api']).NetworkSettings.Networks.length, 1);
  assert.ok(await until(() => resolve('db', 'api') === ''), 'the name is gone from back');
  lab.ok(['run', '-d', '--name', 'next', '--network', 'back', '--ip', address, '--', 'sleep', '600']);
  lab.ok(['rm', '-f', 'next']);
});

test('rm removes a connected container with all its networks; the network can then go', () => {
  lab.ok(['run', '-d', '--name', 'both', '--network', 'front', '--', 'sleep', '600']);
  lab.ok(['network', 'connect', 'back', 'both']);
  lab.ok(['network', 'create', 'spare', '--subnet', '172.29.0.0/24']);
  lab.ok(['network', 'connect', 'spare', 'both']);
  const r = lab.ctnet(['network', 'rm', 'spare']);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /network spare still has containers connected \(both\); disconnect them first/);
  lab.ok(['rm', '-f', 'both']);
  lab.ok(['network', 'rm', 'spare']);
  assert.deepEqual(lab.json(['network', 'inspect', 'back']).Containers.map((c) => c.Name), ['db']);
});

test('bad requests are refused with one line and change nothing', () => {
  lab.ok(['network', 'connect', 'back', 'api']);
  for (const [args, code, re] of [
    [['network', 'connect', 'back', 'api'], 4, /container api is already connected to network back/],
    [['network', 'connect', 'front', 'api'], 4, /already connected to network front/],
    [['network', 'connect', 'nope', 'api'], 3, /network nope does not exist/],
    [['network', 'connect', 'back', 'nope'], 3, /container nope does not exist/],
    [['network', 'disconnect', 'front', 'api'], 2, /network front is the first network of container api/],
    [['network', 'disconnect', 'back', 'db'], 2, /network back is the first network of container db/],
    [['network', 'connect', 'front', 'db', '--alias', 'api'], 4, /--alias api is already a name of container api on network front/],
    [['network', 'connect', 'front', 'db', '--ip', '172.30.0.1'], 4, /gateway/],
    [['network', 'connect', 'front', 'db', '--alias', 'bad_alias'], 2, /invalid --network-alias/],
  ]) {
    const before = fullSnapshot(lab);
    const r = lab.ctnet(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^ctnet: error: .*${re.source}.*\\n$`));
    assert.deepEqual(fullSnapshot(lab), before, `${args.join(' ')} changed something`);
  }
  lab.ok(['network', 'disconnect', 'back', 'api']);
  const r = lab.ctnet(['network', 'disconnect', 'back', 'api']);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /container api is not connected to network back/);
});

test("run --network A --network B (Docker 25): both interfaces before the command runs, a further network's fields (name=,ip=,alias=), names on both; rm takes all", async () => {
  // The command's first look, before anything could be connected later: both interfaces are there.
  const r = lab.ctnet(['run', '--name', 'both', '--network', 'name=front,alias=web2', '--network', 'name=back,ip=172.31.0.77,alias=cache', '--',
    'sh', '-c', 'ip -4 -o addr show | grep -v " lo " | tr -s " " | cut -d" " -f2,4; ip route show default']);
  assert.equal(r.code, 0, r.stderr);
  const [eth0, eth1, route] = r.stdout.trim().split('\n');
  assert.match(eth0, /^eth0 172\.30\.0\.\d+\/24$/);
  assert.equal(eth1, 'eth1 172.31.0.77/24');
  assert.match(route, /default via 172\.30\.0\.1 dev eth0/);
  lab.ok(['rm', 'both']);
  const base = fullSnapshot(lab);
  lab.ok(['run', '-d', '--name', 'both', '--network', 'front', '--network-alias', 'web2', '--network', 'name=back,alias=cache', '--', 'sleep', '600']);
  try {
    const nets = lab.json(['inspect', 'both']).NetworkSettings.Networks;
    assert.deepEqual(nets.map((n) => [n.Network, n.Interface]), [['front', 'eth0'], ['back', 'eth1']]);
    // Its names (the embedded DNS learns them as it learns a connect's): on front api resolves
    // web2, on back db resolves cache.
    assert.ok(await until(() => resolve('api', 'web2') === nets[0].IPAddress, 5000), 'api resolves web2 on front');
    assert.ok(await until(() => resolve('db', 'cache') === nets[1].IPAddress, 5000), 'db resolves cache on back');
    assert.equal(resolve('api', 'cache'), '', 'a name on back only is not known on front');
  } finally {
    lab.ok(['rm', '-f', 'both']);
  }
  assert.deepEqual(fullSnapshot(lab), base, 'rm took both networks\' veths, addresses and names');
});

test('run with several networks refuses, in one line and before anything is made, what Docker refuses and an address taken on a further network', () => {
  const before = fullSnapshot(lab);
  for (const [args, code, message] of [
    [['--network', 'host', '--network', 'back'], 2, /conflicting options: --network host cannot be combined with other networks/],
    [['--network', 'front', '--network', 'none'], 2, /conflicting options: --network none cannot be combined with other networks/],
    [['--network', 'front', '--network', 'front'], 2, /--network front is given twice; give each network once/],
    [['--network', 'front', '--network', 'nosuch'], 3, /network nosuch does not exist/],
    [['--network', 'front', '--network', 'name=back,mac-address=02:42:ac:1f:00:09'], 2, /mac-address= is the first network's only/],
    [['--network', 'name=front,driver-opt=x=y'], 2, /driver-opt is not supported/],
    [['--network', 'ip=172.30.0.9'], 2, /name= is missing/],
    [['--ip', '172.30.0.9', '--network', 'name=front,ip=172.30.0.8'], 2, /--ip and --network ip= both give the first network's; give one/],
    // Found while the container is recorded, before its process or any interface is made.
    [['--network', 'front', '--network', `name=back,ip=${lab.json(['inspect', 'db']).NetworkSettings.IPAddress}`], 4, /--ip 172\.31\.0\.\d+ is already in use on network back; pick another address or omit --ip/],
  ]) {
    const r = lab.ctnet(['run', '--name', 'refused', ...args, '--', 'true']);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(fullSnapshot(lab), before, `${args.join(' ')} left something behind`);
  }
});

test('topology shows a connected container once, on both bridges', async () => {
  lab.ok(['network', 'connect', 'back', 'api']);
  const t = lab.json(['topology', '--format', 'json']);
  assert.deepEqual(t.networks.map((n) => [n.name, n.containers.map((c) => `${c.name} ${c.ifname}`).sort()]), [['front', ['api eth0']], ['back', ['api eth1', 'db eth0']]]);
  const svg = lab.ok(['topology', '--format', 'svg']);
  assert.equal(svg.match(/>api</g).length, 1, 'one box for api');
  assert.match(svg, /eth1 172\.31\.0\.\d+\/24/);
  lab.ok(['network', 'disconnect', 'back', 'api']);
});

test('gc keeps the veth of a connected network', () => {
  lab.ok(['network', 'connect', 'back', 'api']);
  const veth = lab.json(['inspect', 'api']).NetworkSettings.Networks[1].HostVeth;
  lab.ok(['gc']);
  assert.match(execFileSync('ip', ['-n', lab.host, '-o', 'link', 'show', veth], { encoding: 'utf8' }), new RegExp(veth));
  assert.ok(probe(lab.nsOf('db'), lab.json(['inspect', 'api']).NetworkSettings.Networks[1].IPAddress, 8080).ok);
  lab.ok(['network', 'disconnect', 'back', 'api']);
});
