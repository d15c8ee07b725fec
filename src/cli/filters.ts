import { InvalidArgumentError } from '../errors.js';

/**
 * Docker's `--filter KEY=VALUE` (repeatable): values of one key are alternatives (any may match),
 * different keys must all match.
 */
export type Matchers<T> = Readonly<Record<string, (item: T, value: string) => boolean>>;

export function parseFilters(given: readonly string[], known: Matchers<unknown>, what: string): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const f of given) {
    const at = f.indexOf('=');
    const key = at > 0 ? f.slice(0, at) : '';
    if (!(key in known)) {
      throw new InvalidArgumentError(`--filter ${JSON.stringify(f)}: ${what} filter on ${Object.keys(known).map((k) => `${k}=VALUE`).join(', ')}`);
    }
    filters.set(key, [...(filters.get(key) ?? []), f.slice(at + 1)]);
  }
  return filters;
}

/** Docker's label filter: `KEY` (the label is there) or `KEY=VALUE`. */
export function labelMatches(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const at = filter.indexOf('=');
  return at < 0 ? Object.hasOwn(labels, filter) : labels[filter.slice(0, at)] === filter.slice(at + 1);
}

/** The filters as one test of an item (each given key must match, by any of its values); checked as it is made. */
export function filterPredicate<T>(given: readonly string[], matchers: Matchers<T>, what: string): (item: T) => boolean {
  const filters = [...parseFilters(given, matchers as Matchers<unknown>, what)];
  return (item) => filters.every(([key, values]) => values.some((v) => matchers[key](item, v)));
}

export function applyFilters<T>(items: readonly T[], given: readonly string[], matchers: Matchers<T>, what: string): T[] {
  return items.filter(filterPredicate(given, matchers, what));
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Docker's `until=` of prune: a Unix timestamp (seconds), a date (2026-12-01, RFC 3339), or a Go
 * duration before now (24h, 1h30m, 90s); the time it names, in ms.
 */
export function untilTime(text: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * DURATION_UNITS[unit];
    return now - ms;
  }
  const date = Date.parse(text);
  if (Number.isNaN(date)) throw new InvalidArgumentError(`--filter until=${text} is not a time: give a duration before now (24h, 1h30m), a date (2026-12-01T10:00:00Z) or a Unix timestamp`);
  return date;
}
