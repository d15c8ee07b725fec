import { readFileSync, writeFileSync } from 'node:fs';
import { KernelError } from '../errors.js';

/**
 * sysctls through /proc/sys; net.* keys belong to the network namespace of the calling thread. A key
 * is dotted (net.ipv4.ip_forward) or, where an interface name may hold a dot, slashed (net/ipv6/conf/eth0.5/accept_ra).
 */
const pathOf = (key: string): string => '/proc/sys/' + (key.includes('/') ? key : key.replace(/\./g, '/'));

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
