import { InvalidArgumentError } from '../errors.js';

/** Flags several commands share, as commander gives them to an action. */
export type ChangeFlags = { explain?: boolean; dryRun?: boolean };
export type JsonFlag = { json?: boolean };

/** KEY=VALUE flags as a record (a --label may be a bare KEY, as Docker's). */
export function keyValues(given: readonly string[], flag: string, valueNeeded: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of given) {
    const at = kv.indexOf('=');
    if (at === 0 || (at < 0 && valueNeeded)) throw new InvalidArgumentError(`invalid ${flag} "${kv}": expected KEY=VALUE`);
    out[at < 0 ? kv : kv.slice(0, at)] = at < 0 ? '' : kv.slice(at + 1);
  }
  return out;
}
