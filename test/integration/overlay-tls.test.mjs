// The cluster store over TLS: etcd (inside a lab namespace) with a certificate of a CA made for the
// test and client certificates required. ctnet joins with --cacert/--cert/--key; without them, or
// with a CA that did not sign etcd's certificate, it is refused with one line and exit 9.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildOverlayLab, destroyOverlayLab, overlayLabNames, startEtcdMember } from '../../dist/demo/overlay-lab.js';
import { CTNET, killProcessesMentioning } from '../helpers/lab.mjs';
import { etcdMissing, waitFor } from '../helpers/overlay.mjs';

const skip = !process.env.CTNET_REQUIRE_ETCD && (etcdMissing() || (!existsSync('/usr/bin/openssl') && 'openssl is not installed'));
let lab;
let etcd;
const pki = {};

/** A CA, and a certificate it signs for `cn` (with the lab address as its IP SAN for the server). */
function makePki(dir, ip) {
  const ssl = (...args) => execFileSync('openssl', args, { stdio: 'ignore' });
  const p = (n) => join(dir, n);
  for (const ca of ['ca', 'other-ca']) {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${ca}`, '-keyout', p(`${ca}.key`), '-out', p(`${ca}.pem`));
  }
  writeFileSync(p('server.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [['server', 'server.ext'], ['client', 'client.ext']]) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`));
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', p(ext), '-out', p(`${name}.pem`));
  }
  return { ca: p('ca.pem'), otherCa: p('other-ca.pem'), cert: p('client.pem'), key: p('client.key'), serverCert: p('server.pem'), serverKey: p('server.key') };
}

before(async () => {
  if (skip) return;
  lab = overlayLabNames(`t${randomBytes(2).toString('hex')}`, 1);
  buildOverlayLab(lab);
  Object.assign(pki, makePki(lab.work, lab.hosts[0].ip));
  etcd = startEtcdMember(lab, 0, 'new', { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
  const h = lab.hosts[0];
  await waitFor(() => spawnSync('ip', ['netns', 'exec', h.netns, 'etcdctl', '--endpoints', `https://${h.ip}:2379`, '--cacert', pki.ca, '--cert', pki.cert, '--key', pki.key, '--command-timeout=1s', 'endpoint', 'health'], { stdio: 'ignore' }).status === 0, 'etcd over TLS', 20000);
});

after(() => {
  if (skip) return;
  killProcessesMentioning(lab.work);
  destroyOverlayLab(lab, etcd ? [etcd] : []);
});

const ctnet = (args) => {
  const h = lab.hosts[0];
  const r = spawnSync(process.execPath, [CTNET, ...args], { env: { ...process.env, CTNET_ROOT: h.root, CTNET_HOST_NETNS: h.netns }, encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('cluster join over TLS with a client certificate works; without the right CA or certificate it is refused in one line and changes nothing', { skip }, () => {
  const store = `https://${lab.hosts[0].ip}:2379`;
  for (const [what, extra] of [['no CA', []], ['a CA that did not sign etcd\'s certificate', ['--cacert', pki.otherCa, '--cert', pki.cert, '--key', pki.key]], ['no client certificate', ['--cacert', pki.ca]]]) {
    const r = ctnet(['cluster', 'join', '--store', store, '--name', 'h1', '--ttl', '3', ...extra]);
    assert.equal(r.code, 9, `${what}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /cannot reach the cluster store \(https:\/\/.*\) to list hosts: .*; check that etcd runs and this host reaches it, then retry/);
    assert.equal(ctnet(['cluster', 'status']).code, 2, `${what}: nothing recorded`);
  }
  const ok = ctnet(['cluster', 'join', '--store', store, '--name', 'h1', '--ttl', '3', '--cacert', pki.ca, '--cert', pki.cert, '--key', pki.key]);
  assert.equal(ok.code, 0, ok.stderr);
  const status = JSON.parse(ctnet(['cluster', 'status', '--json']).stdout);
  assert.equal(status.agent, true);
  assert.deepEqual(status.hosts.map((h) => h.name), ['h1'], 'the agent registered the host over TLS');
  assert.equal(ctnet(['network', 'create', 'tlsov', '--driver', 'overlay', '--subnet', '10.70.0.0/16']).code, 0);
  assert.equal(ctnet(['network', 'rm', 'tlsov']).code, 0);
  assert.equal(ctnet(['cluster', 'leave']).code, 0);
});
