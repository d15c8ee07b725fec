// Docker's network modes: --network none (loopback only), host (the host's namespace), and
// container:NAME (another container's namespace: the pod model), with real traffic and the kernel read back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { createLab, hostSnapshot, containerNamespaces, probe, echoServerCommand, ROOT_DIR, LAB_ADDRESSES as A } from '../helpers/lab.mjs';

const PROBE = `${ROOT_DIR}/dist/demo/probe.js`;
let lab;
before(() => {
  lab = createLab();
  lab.ok(['network', 'create', 'front', '--subnet', '172.31.0.0/24']);
});
after(() => lab?.close());

const links = (out) => out.trim().split('\n').map((l) => l.split(': ')[1].split('@')[0]).sort();

test('--network none: loopback only, no address, ports dropped with a warning; its namespace goes with it', () => {
  const r = lab.ctnet(['run', '--rm', '--network', 'none', '-p', '8080:80', '--', 'ip', '-o', 'link']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(links(r.stdout), ['lo']);
  assert.match(r.stderr, /^ctnet: warning: published ports are discarded with --network none\n$/);
  lab.ok(['run', '-d', '--name', 'alone', '--network', 'none', '--', 'sleep', '600']);
  const c = lab.json(['inspect', 'alone']);
  assert.equal(c.NetworkSettings.Network, 'none');
  assert.equal(c.HostConfig.NetworkMode, 'none');
  assert.equal(c.NetworkSettings.IPAddress, null);
  assert.deepEqual(c.NetworkSettings.Ports, []);
  assert.match(lab.ok(['exec', 'alone', '--', 'ip', '-o', 'addr']), /^1: lo\s+inet 127\.0\.0\.1\/8/);
  // Reaches nothing: no route anywhere.
  assert.notEqual(lab.ctnet(['exec', 'alone', '--', process.execPath, PROBE, 'tcp', A.host, '22', '300']).code, 0);
  assert.deepEqual(lab.json(['ps']).map((x) => x.Name), ['alone']);
  const netns = lab.nsOf('alone');
  assert.ok(containerNamespaces().includes(netns));
  lab.ok(['rm', '-f', 'alone']);
  assert.ok(!containerNamespaces().includes(netns), 'its namespace went with it');
});

test('--network none refuses what needs a network: --ip, --network-alias, --mac-address, host-gateway', () => {
  for (const [args, pattern] of [
    [['--ip', '172.31.0.9'], /--ip needs a network of ctnet's/],
    [['--network-alias', 'x'], /--network-alias needs a network with embedded DNS/],
    [['--mac-address', '02:42:00:00:00:09'], /--mac-address needs a network/],
    [['--add-host', 'gw:host-gateway'], /no way to the host/],
  ]) {
    const r = lab.ctnet(['run', '--network', 'none', ...args, '--', 'true']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

test('--network host: the host\'s interfaces and hostname, a server on the host\'s address; the host is left as it was', async () => {
  const pristine = hostSnapshot(lab.host);
  const r = lab.ctnet(['run', '--rm', '--network', 'host', '-p', '9999:80', '--', 'sh', '-c', 'ip -o -4 addr show eth0; hostname']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`inet ${A.host.replace(/\./g, '\\.')}/22`));
  assert.equal(r.stdout.trim().split('\n').pop(), hostname());
  assert.match(r.stderr, /published ports are discarded with --network host/);
  lab.ok(['run', '-d', '--name', 'on-host', '--network', 'host', '--', ...echoServerCommand('on-host', 8123)]);
  const answer = await lab.waitAnswer(lab.host2, A.host, 8123);
  assert.ok(answer.ok, answer.text);
  assert.match(answer.text, /on-host/);
  assert.equal(lab.json(['inspect', 'on-host']).HostConfig.NetworkMode, 'host');
  lab.ok(['rm', '-f', 'on-host']);
  assert.equal(hostSnapshot(lab.host), pristine, 'the host namespace changed');
  assert.ok(!probe(lab.host2, A.host, 8123, 'tcp', 300).ok, 'the server went with the container');
});

test('--network container:NAME: one namespace, one address, talk over localhost; Docker\'s conflicts refused', async () => {
  lab.ok(['run', '-d', '--name', 'pod', '--network', 'front', '--hostname', 'podhost', '-p', '8124:9000', '--', 'sleep', '600']);
  lab.ok(['run', '-d', '--name', 'side', '--network', 'container:pod', '--', ...echoServerCommand('side', 9000)]);
  const pod = lab.json(['inspect', 'pod']);
  const side = lab.json(['inspect', 'side']);
  assert.equal(side.HostConfig.NetworkMode, `container:${pod.Id}`);
  assert.equal(side.NetworkSettings.Network, 'container:pod');
  assert.equal(side.NetworkSettings.IPAddress, null);
  assert.equal(side.Config.Hostname, 'podhost');
  // One namespace: the same interfaces and address seen from both.
  const addrOf = (name) => lab.ok(['exec', name, '--', 'ip', '-o', '-4', 'addr', 'show', 'eth0']).split(/\s+/)[3];
  assert.equal(addrOf('side'), `${pod.NetworkSettings.IPAddress}/24`);
  assert.equal(addrOf('pod'), addrOf('side'));
  // pod reaches side's server on localhost; the port published on pod reaches side's server from the LAN.
  const local = lab.ctnet(['exec', 'pod', '--', process.execPath, PROBE, 'tcp', '127.0.0.1', '9000', '2000']);
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stdout, /side from 127\.0\.0\.1/);
  const published = await lab.waitAnswer(lab.host2, A.host, 8124);
  assert.ok(published.ok, published.text);
  assert.equal(lab.ok(['exec', 'side', '--', 'cat', '/etc/hosts']), lab.ok(['exec', 'pod', '--', 'cat', '/etc/hosts']));
  for (const [args, code, pattern] of [
    [['-p', '8125:9000'], 2, /conflicting options: -p and --network container:pod/],
    [['--hostname', 'x'], 2, /conflicting options: --hostname/],
    [['--dns', '10.0.12.11'], 2, /conflicting options: --dns/],
    [['--sysctl', 'net.ipv4.ip_unprivileged_port_start=0'], 2, /does not have a network namespace of its own/],
  ]) {
    const r = lab.ctnet(['run', '--network', 'container:pod', ...args, '--', 'true']);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

test('--network container: a stopped or missing container cannot be joined; when the owner goes, the joiner keeps running without its network (as Docker)', async () => {
  lab.ok(['run', '--name', 'stopped', '--network', 'front', '--', 'true']);
  const stopped = lab.ctnet(['run', '--network', 'container:stopped', '--', 'true']);
  assert.equal(stopped.code, 4, stopped.stderr);
  assert.match(stopped.stderr, /container stopped: it is not running/);
  assert.equal(lab.ctnet(['run', '--network', 'container:ghost', '--', 'true']).code, 3);
  lab.ok(['rm', 'stopped']);
  const connect = lab.ctnet(['network', 'connect', 'front', 'side']);
  assert.equal(connect.code, 4);
  assert.match(connect.stderr, /runs with --network container/);

  const podIp = lab.json(['inspect', 'pod']).NetworkSettings.IPAddress;
  lab.ok(['rm', '-f', 'pod']);
  assert.equal(lab.json(['inspect', 'side']).State.Running, true, 'the joiner keeps running');
  assert.deepEqual(links(lab.ok(['exec', 'side', '--', 'ip', '-o', 'link'])), ['lo'], 'the owner\'s interface went with it');
  // Its address is free again: a new container gets it.
  lab.ok(['run', '-d', '--name', 'next', '--network', 'front', '--ip', podIp, '--', 'sleep', '600']);
  assert.equal(lab.json(['inspect', 'side']).NetworkSettings.Network, `container:${lab.json(['inspect', 'side']).HostConfig.NetworkMode.slice(10, 22)}`);
  lab.ok(['rm', '-f', 'side', 'next']);
  assert.deepEqual(lab.json(['ps', '-a']), []);
});

test('network names none and host are reserved', () => {
  for (const name of ['none', 'host']) {
    const r = lab.ctnet(['network', 'create', name]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is reserved/);
  }
});
