import { readFileSync, writeFileSync } from 'node:fs';
import { KernelError } from '../errors.js';

/** sysctls through /proc/sys; net.* keys belong to the network namespace of the calling thread. */
const pathOf = (key: string): string => '/proc/sys/' + key.replace(/\./g, '/');

export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(pathOf(key), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function writeSysctl(key: string, value: string): void {
  try {
    writeFileSync(pathOf(key), value);
  } catch (err) {
    throw new KernelError(`setting ${key}=${value}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}
