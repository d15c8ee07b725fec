// The container IDs an in-process engine draws during one call. /run/netns is shared with the test
// files running beside this one, so "nothing of it was left" is checked by name, not by counting.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync } from 'node:fs';
import { containerNetnsName } from '../../dist/names.js';

const fs = createRequire(import.meta.url)('node:fs');

/**
 * Runs fn with the reads of /dev/urandom watched (src/crypto.ts draws IDs there); returns the
 * 32-byte draws (container IDs) and what fn threw.
 */
export function idsDrawnDuring(fn) {
  const ids = [];
  const random = new Set();
  const { openSync, readSync, closeSync } = fs;
  fs.openSync = (path, ...rest) => {
    const fd = openSync(path, ...rest);
    if (path === '/dev/urandom') random.add(fd);
    return fd;
  };
  fs.readSync = (fd, buffer, offset, length, ...rest) => {
    const n = readSync(fd, buffer, offset, length, ...rest);
    if (random.has(fd) && length === 32 && n === 32) ids.push(buffer.subarray(offset, offset + 32).toString('hex'));
    return n;
  };
  fs.closeSync = (fd) => {
    random.delete(fd);
    return closeSync(fd);
  };
  syncBuiltinESMExports();
  try {
    fn();
    return { ids, error: undefined };
  } catch (error) {
    return { ids, error };
  } finally {
    Object.assign(fs, { openSync, readSync, closeSync });
    syncBuiltinESMExports();
  }
}

/** The container namespaces of these IDs that exist now. */
export const namespacesLeft = (ids) => ids.map(containerNetnsName).filter((ns) => existsSync(`/run/netns/${ns}`));
