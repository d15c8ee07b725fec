// The container IDs an in-process engine draws during one call. /run/netns is shared with the test
// files running beside this one, so "nothing of it was left" is checked by name, not by counting.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync } from 'node:fs';
import { containerNetnsName } from '../../dist/names.js';

const fs = createRequire(import.meta.url)('node:fs');

/**
 * Runs fn with the reads of /dev/urandom watched (src/crypto.ts draws IDs there, through a
 * descriptor it keeps open); returns the 32-byte draws (container IDs) and what fn threw.
 */
export function idsDrawnDuring(fn) {
  const ids = [];
  const { readSync } = fs;
  const isRandom = (fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === '/dev/urandom';
    } catch {
      return false;
    }
  };
  fs.readSync = (fd, buffer, offset, length, ...rest) => {
    const n = readSync(fd, buffer, offset, length, ...rest);
    if (length === 32 && n === 32 && isRandom(fd)) ids.push(buffer.subarray(offset, offset + 32).toString('hex'));
    return n;
  };
  syncBuiltinESMExports();
  try {
    fn();
    return { ids, error: undefined };
  } catch (error) {
    return { ids, error };
  } finally {
    fs.readSync = readSync;
    syncBuiltinESMExports();
  }
}

/** The container namespaces of these IDs that exist now. */
export const namespacesLeft = (ids) => ids.map(containerNetnsName).filter((ns) => existsSync(`/run/netns/${ns}`));
