import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
let loaded: Crypto | undefined;

/**
 * node:crypto, loaded at first use: loading it (fifteen of Node's internal modules) cost ~4 ms of
 * every command's start, and most commands (ps, rm, inspect, ls) never use it.
 */
export const nodeCrypto = (): Crypto => (loaded ??= createRequire(import.meta.url)('node:crypto') as Crypto);

/** `bytes` random bytes as lowercase hex (IDs, tokens, MACs). */
export const randomHex = (bytes: number): string => nodeCrypto().randomBytes(bytes).toString('hex');

/** A uniformly random integer in [0, max). */
export const randomBelow = (max: number): number => nodeCrypto().randomInt(max);

/** The SHA-256 of `text`, as lowercase hex. */
export const sha256Hex = (text: string): string => nodeCrypto().createHash('sha256').update(text).digest('hex');
