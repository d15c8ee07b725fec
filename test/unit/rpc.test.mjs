import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRpcSocket } from '../../dist/kernel/rpc.js';

/** A unix socket server in a temporary directory that answers each line with `reply(line)`. */
async function withServer(reply, fn) {
  const dir = mkdtempSync(join(tmpdir(), 'ctnet-rpc-'));
  const path = join(dir, 'rpc.sock');
  const server = createServer((c) => c.on('data', (d) => { for (const line of String(d).split('\n').filter(Boolean)) c.write(`${reply(JSON.parse(line))}\n`); }));
  await new Promise((r) => server.listen(path, r));
  try {
    return await fn(path);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('rpc over a unix socket: an answer goes to its call; a line that is no answer fails every call with one message instead of throwing', async () => {
  await withServer((call) => JSON.stringify({ id: call.id, result: call.args[0] * 2 }), async (path) => {
    const rpc = await connectRpcSocket(path, 1000);
    try {
      assert.deepEqual(await rpc.call('double', [21]), { id: 1, result: 42 });
    } finally {
      rpc.close();
    }
  });
  await withServer(() => 'not json {', async (path) => {
    const rpc = await connectRpcSocket(path, 1000);
    try {
      const reply = await rpc.call('config', []);
      assert.match(reply.error?.message ?? '', /^the other end sent a line that is no answer: not json \{$/);
      assert.match((await rpc.call('later', [])).error?.message ?? '', /no answer/, 'a later call is answered the same');
    } finally {
      rpc.close();
    }
  });
  assert.equal(await connectRpcSocket('/nonexistent/rpc.sock', 1000), undefined, 'nobody listening: undefined, for the caller to fall back');
});
