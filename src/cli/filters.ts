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

export function applyFilters<T>(items: readonly T[], given: readonly string[], matchers: Matchers<T>, what: string): T[] {
  const filters = parseFilters(given, matchers as Matchers<unknown>, what);
  return items.filter((item) => [...filters].every(([key, values]) => values.some((v) => matchers[key](item, v))));
}
