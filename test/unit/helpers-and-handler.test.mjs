// The CNI entry point's answers that need no kernel (VERSION, and every refusal made before the
// engine opens), the DNS's read-only view of the state, and ctnet's supervisor script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleCni } from '../../dist/cni/handler.js';
import { Store } from '../../dist/store/store.js';
import { DnsView } from '../../dist/store/dns-view.js';
import { SUPERVISOR } from '../../dist/kernel/supervise.js';

const conf = (extra = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', type: 'ctnet', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.88.0.0/16' }, ...extra });
// Every case is refused before the engine opens; should one reach it, it meets a throwaway state
// directory and a host namespace that does not exist, never the machine's own.
const SAFE = { CTNET_ROOT: join(tmpdir(), 'ctnet-handler-never-used'), CTNET_HOST_NETNS: 'ctnet-test-no-such-netns' };
const env = (extra = {}) => ({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: '/nowhere', ...SAFE, ...extra });
/** The plugin's answer as a runtime reads it: the exit code and the JSON on stdout. */
const answer = async (vars, stdin) => {
  const { stdout, exitCode } = await handleCni(vars, stdin);
  return { exitCode, out: JSON.parse(stdout) };
};

test('VERSION: the supported versions, in the version the runtime asked in', async () => {
  const { exitCode, out } = await answer({ CNI_COMMAND: 'VERSION', ...SAFE }, JSON.stringify({ cniVersion: '0.4.0' }));
  assert.equal(exitCode, 0);
  assert.deepEqual(out, { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  assert.equal((await answer({ CNI_COMMAND: 'VERSION', ...SAFE }, 'garbage')).out.cniVersion, '1.1.0', 'unreadable stdin: the latest');
});

test('refusals before any change: each a spec error (code, one-line msg) in the configuration\'s version', async () => {
  const cases = [
    [{}, conf(), 4, /CNI_COMMAND is not set/, { CNI_COMMAND: '' }],
    [{ CNI_COMMAND: 'FROB' }, conf(), 4, /CNI_COMMAND=FROB is not one of/],
    [{}, '{"cniVersion":"1.0.0",', 6, /not JSON/],
    [{}, conf({ cniVersion: '0.1.0' }), 1, /cniVersion 0\.1\.0 is not supported/],
    [{ CNI_CONTAINERID: '' }, conf(), 4, /CNI_CONTAINERID is not set/],
    [{ CNI_NETNS: '' }, conf(), 4, /CNI_NETNS is not set/],
    [{}, conf({ isGateway: false }), 2, /isGateway: false/],
    [{}, conf({ ipam: { type: 'host-local', subnet: '10.88.0.0/16', dataDir: 'relative' } }), 7, /ipam\.dataDir relative is not an absolute path/],
    [{ CNI_COMMAND: 'CHECK' }, conf({ cniVersion: '0.3.1' }), 1, /CHECK needs cniVersion 0\.4\.0/],
    [{ CNI_COMMAND: 'CHECK' }, conf(), 7, /CHECK needs prevResult/],
  ];
  for (const [extra, stdin, code, msg, override] of cases) {
    const vars = { ...env(extra), ...(override ?? {}) };
    const { exitCode, out } = await answer(vars, stdin);
    assert.equal(exitCode, 1, JSON.stringify(out));
    assert.equal(out.code, code, JSON.stringify(out));
    assert.match(out.msg, msg);
    assert.doesNotMatch(out.msg, /\n/);
  }
});

test('the DNS view: networks with DNS (not those being removed), every attachment of running and starting containers, first networks first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-dnsview-'));
  const store = new Store(dir);
  const view = new DnsView(dir);
  try {
    assert.equal(view.changed(), true, 'the first call reads');
    assert.equal(view.changed(), false, 'nothing committed since');
    const net = (id, extra = {}) => ({ id, name: id, subnet: '10.1.0.0/24', gateway: '10.1.0.1', bridge: `br-${id}`, internal: false, mtu: 1500, createdAt: 't', rangeStart: null, rangeEnd: null, ipMasq: true, defaultRoute: true, dns: true, subnet6: null, gateway6: null, state: 'ready', labels: {}, ipRange: null, auxAddresses: {}, icc: true, hostBindingIpv4: null, driver: 'bridge', parent: null, ...extra });
    store.insertNetwork(net('app'));
    store.insertNetwork(net('side', { subnet: '10.2.0.0/24', gateway: '10.2.0.1' }));
    store.insertNetwork(net('cni', { subnet: '10.3.0.0/24', gateway: '10.3.0.1', dns: false }));
    store.insertNetwork(net('going', { subnet: '10.4.0.0/24', gateway: '10.4.0.1', state: 'removing' }));
    const c = (id, name, ip, state) => ({
      id, name, networkId: 'app', ip, hostVeth: `veth${id.slice(0, 8)}`, netns: 'x', hostname: name, command: ['sleep'], env: [], portSpecs: [], detached: true, autoRemove: false,
      state, pid: 1, pidStart: null, exitCode: null, logPath: null, createdAt: 't', startedAt: null, finishedAt: null, ifname: 'eth0', ownsNetns: true, cniContainerId: null,
      restartMax: 0, sandbox: {}, oomKilled: false, aliases: ['a1'], labels: {}, ip6: null, ip6Offset: null, mac: null, networkMode: 'bridge', netnsOf: null, netOptions: {},
    });
    store.insertContainer(c('1'.repeat(64), 'web', '10.1.0.2', 'running'));
    store.insertContainer(c('2'.repeat(64), 'new', '10.1.0.3', 'created'));
    store.insertContainer(c('3'.repeat(64), 'old', '10.1.0.4', 'running'));
    store.insertAttachment({ containerId: '1'.repeat(64), networkId: 'side', ifname: 'eth1', ip: '10.2.0.2', hostVeth: 'vethx', aliases: ['s1'], ip6: null, ip6Offset: null, mac: null });
    store.deleteAttachmentsOf('3'.repeat(64));
    store.updateContainer('3'.repeat(64), { state: 'exited' });
    assert.equal(view.changed(), true);
    const { networks, containers } = view.read();
    assert.deepEqual(networks.map((n) => n.name).sort(), ['app', 'side']);
    const rows = containers.map((x) => [x.name, x.networkId, x.ip, x.aliases, x.running]);
    assert.deepEqual(rows.slice(0, 2).sort(), [['new', 'app', '10.1.0.3', ['a1'], false], ['web', 'app', '10.1.0.2', ['a1'], true]]);
    assert.deepEqual(rows[2], ['web', 'side', '10.2.0.2', ['s1'], true], 'connected networks after first ones');
  } finally {
    view.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the supervisor over a helper script; resolves with its exit code and how often the helper ran. */
function supervise(helper, untilMs = 5000) {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-sup-'));
  const script = join(dir, 'helper.sh');
  const count = join(dir, 'runs');
  writeFileSync(count, '');
  writeFileSync(script, `echo run >> ${count}\n${helper}\n`);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'test-helper', '/bin/sh', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d) => (log += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), untilMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const runs = readFileSync(count, 'utf8').split('\n').filter(Boolean).length;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, runs, log });
    });
  });
}

test('the supervisor: a clean exit (0) ends it; deaths restart the helper; five deaths at start in a row are given up', async () => {
  const clean = await supervise('exit 0');
  assert.deepEqual([clean.code, clean.runs], [0, 1]);
  const failing = await supervise('exit 3');
  assert.equal(failing.code, 1);
  assert.equal(failing.runs, 5);
  assert.match(failing.log, /test-helper ended with status 3; starting it again/);
  assert.match(failing.log, /test-helper ended with status 3 five times at start; giving up/);
  // Told to stop (TERM to the supervisor): the helper goes too, and the supervisor exits 0.
  const stopped = await supervise('sleep 30', 600);
  assert.deepEqual([stopped.code, stopped.runs], [0, 1]);
});
