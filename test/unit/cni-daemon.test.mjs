// cni-daemon's input limits: a request past 1 MiB is one CNI error and the daemon goes on; only
// CNI_* and CTNET_* variables are taken from a request, and a delegated IPAM plugin gets only CNI_*.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MAX_REQUEST, startCniDaemon } from '../../dist/cni/daemon.js';
import { pluginEnv } from '../../dist/cni/delegate.js';

function ask(socket, payload) {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let reply = '';
    c.on('data', (d) => (reply += d));
    c.on('end', () => resolve(reply));
    c.on('error', reject);
    c.end(payload);
  });
}

test('an oversized request gets one CNI error (decoding) and the daemon still answers the next', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-cnid-'));
  const socket = join(dir, 'cni.sock');
  const server = await startCniDaemon(socket);
  try {
    const big = await ask(socket, Buffer.concat([Buffer.from('CNI_COMMAND=VERSION\0\0'), Buffer.alloc(MAX_REQUEST + 10, 0x20)]));
    const [code, body] = big.split('\n');
    assert.equal(code, '1');
    assert.equal(JSON.parse(body).code, 6);
    assert.match(JSON.parse(body).msg, /over 1048576 bytes/);
    const version = await ask(socket, 'LD_PRELOAD=/tmp/evil.so\0CNI_COMMAND=VERSION\0\0{"cniVersion":"1.0.0"}');
    assert.match(version, /^0\n.*supportedVersions/s);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a delegated plugin's environment: this process's, plus the invocation's CNI_* only", () => {
  const env = pluginEnv({ CNI_CONTAINERID: 'abc', CNI_PATH: '/opt/cni/bin', LD_PRELOAD: '/tmp/evil.so', CTNET_ROOT: '/srv' }, 'ADD');
  assert.equal(env.CNI_CONTAINERID, 'abc');
  assert.equal(env.CNI_COMMAND, 'ADD');
  assert.equal(env.LD_PRELOAD, process.env.LD_PRELOAD);
  assert.equal(env.CTNET_ROOT, process.env.CTNET_ROOT);
});
