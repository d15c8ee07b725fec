import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

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
    // The node_modules koffi is in, found as require would find it, without resolving its package
    // exports (that loads Node's ES module resolver, ~3 ms).
    const modules = (require.resolve.paths('koffi') ?? []).find((dir) => existsSync(join(dir, 'koffi', 'package.json')));
    if (modules) {
      const { version } = JSON.parse(readFileSync(join(modules, 'koffi', 'package.json'), 'utf8')) as { version: string };
      const { platform, arch } = process;
      const native = require(join(modules, '@koromix', `koffi-${platform}-${arch}`, `${platform}_${arch}`, 'koffi.node')) as Koffi & { version?: string };
      if (native.version === version) return native;
    }
  } catch {
    // not that layout, or not loadable here
  }
  return require('koffi') as Koffi;
}

let loaded: Koffi | undefined;
/** koffi, loaded at first use: commands that never call into a library (ps, inspect, ls) skip its ~5 ms. */
export const koffi = (): Koffi => (loaded ??= loadKoffi());
