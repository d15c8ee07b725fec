import { openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
let loaded: Crypto | undefined;

/**
 * node:crypto, loaded at first use: loading it (fifteen of Node's internal modules and the stream
 * modules) costs ~12 ms, and most commands need no more than random bytes (below).
 */
export const nodeCrypto = (): Crypto => (loaded ??= createRequire(import.meta.url)('node:crypto') as Crypto);

let urandom: number | undefined;

/**
 * `n` bytes from the kernel's random source, as node:crypto's randomBytes gets them; the device
 * stays open for the process's next draw (every attach draws an ID: one read, not open, read, close).
 */
function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  urandom ??= openSync('/dev/urandom', 'r');
  for (let at = 0; at < n;) at += readSync(urandom, buf, at, n - at, null);
  return buf;
}

/** `bytes` random bytes as lowercase hex (IDs, tokens, MACs). */
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A uniformly random integer in [0, max) (max below 2^48): 48 random bits, redrawn above the last whole multiple of max. */
export function randomBelow(max: number): number {
  const limit = Math.floor(2 ** 48 / max) * max;
  for (;;) {
    const v = randomBytes(6).readUIntBE(0, 6);
    if (v < limit) return v % max;
  }
}

/** The SHA-256 of `text`, as lowercase hex. */
export const sha256Hex = (text: string): string => nodeCrypto().createHash('sha256').update(text).digest('hex');
