// The container IDs an in-process engine draws during one call. /run/netns is shared with the test
// files running beside this one, so "nothing of it was left" is checked by name, not by counting.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync } from 'node:fs';
import { containerNetnsName } from '../../dist/names.js';

const crypto = createRequire(import.meta.url)('node:crypto');

/** Runs fn with crypto.randomBytes watched; returns the 32-byte draws (container IDs) and what fn threw. */
export function idsDrawnDuring(fn) {
  const ids = [];
  const original = crypto.randomBytes;
  crypto.randomBytes = (size, ...rest) => {
    const bytes = original(size, ...rest);
    if (size === 32 && Buffer.isBuffer(bytes)) ids.push(bytes.toString('hex'));
    return bytes;
  };
  syncBuiltinESMExports();
  try {
    fn();
    return { ids, error: undefined };
  } catch (error) {
    return { ids, error };
  } finally {
    crypto.randomBytes = original;
    syncBuiltinESMExports();
  }
}

/** The container namespaces of these IDs that exist now. */
export const namespacesLeft = (ids) => ids.map(containerNetnsName).filter((ns) => existsSync(`/run/netns/${ns}`));
