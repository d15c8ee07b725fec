import { DEFAULT_PATH } from '../kernel/spawn.js';
import type { ContainerRecord } from '../store/store.js';
import { parseEnv } from './validate.js';

/** The environment a container's process (or an exec into it) gets: a minimal one, like Docker's, plus -e. */
export function containerEnv(c: Pick<ContainerRecord, 'hostname' | 'env'>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH || DEFAULT_PATH, HOSTNAME: c.hostname, HOME: '/root' };
  if (process.env.TERM) env.TERM = process.env.TERM;
  return { ...env, ...parseEnv(c.env) };
}
