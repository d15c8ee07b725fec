// koffi's addon is loaded by path, without koffi's own loader (~7 ms of every command), and it is
// the addon koffi itself would load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

test("koffi comes from its addon by path, not through koffi's loader, and is koffi's version", async () => {
  const { koffi: load } = await import('../../dist/kernel/koffi.js');
  assert.ok(!Object.keys(require.cache).some((f) => f.endsWith('/koffi.node')), 'nothing loaded before the first use');
  const koffi = load();
  assert.equal(load(), koffi, 'loaded once');
  const loaded = Object.keys(require.cache);
  assert.ok(loaded.some((f) => f.endsWith(`/${process.platform}_${process.arch}/koffi.node`)), 'the glibc addon is loaded');
  assert.deepEqual(loaded.filter((f) => /\/koffi\/(index|src\/)|koffi-[a-z0-9-]+\/index\.js$/.test(f)), [], "koffi's loader modules were not loaded");
  const { version } = JSON.parse(readFileSync(join(dirname(require.resolve('koffi')), 'package.json'), 'utf8'));
  assert.equal(koffi.version, version);
  const libc = koffi.load('libc.so.6');
  assert.equal(libc.func('int getpid(void)')(), process.pid);
});
