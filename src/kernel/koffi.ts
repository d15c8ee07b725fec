import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Koffi = typeof import('koffi');

/**
 * koffi, with its prebuilt addon for this platform and glibc loaded by path, from where koffi's own
 * loader looks first (beside koffi in node_modules) and only if it is koffi's version. That loader
 * (two modules compiled at every start, node's ELF header read to tell glibc from musl) cost ~7 ms
 * of every command. Anything else (musl, a platform without that layout, a version apart) goes
 * through koffi's own loader.
 */
function loadKoffi(): Koffi {
  const require = createRequire(import.meta.url);
  try {
    const root = dirname(require.resolve('koffi'));
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const { platform, arch } = process;
    const native = require(join(root, '..', '@koromix', `koffi-${platform}-${arch}`, `${platform}_${arch}`, 'koffi.node')) as Koffi & { version?: string };
    if (native.version === version) return native;
  } catch {
    // not that layout, or not loadable here
  }
  return require('koffi') as Koffi;
}

export const koffi = loadKoffi();
