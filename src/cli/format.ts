import { InvalidArgumentError } from '../errors.js';

/**
 * Docker's `--format` for list commands: `json` (one JSON object per line), `table TEMPLATE` (with a
 * header line) or a Go-template subset: `{{.Field}}`, `{{json .Field}}`, `{{upper .Field}}`,
 * `{{lower .Field}}`, with `\t` and `\n` as escapes. What each line has is `fields`, named as Docker names them.
 */
export interface Columns<T> {
  /** Field name -> header in `table` output (Docker's) and its text for one item. */
  readonly [field: string]: { header: string; text: (item: T) => string };
}

const ACTION = /\{\{\s*(?:(json|upper|lower)\s+)?\.(\w+)\s*\}\}/g;

export function renderFormat<T>(format: string, items: readonly T[], columns: Columns<T>, what: string): string {
  if (format === 'json') {
    return items.map((item) => `${JSON.stringify(Object.fromEntries(Object.entries(columns).map(([f, c]) => [f, c.text(item)])))}\n`).join('');
  }
  const table = /^table(\s|$)/.test(format);
  const template = (table ? format.replace(/^table\s*/, '') : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const rest = template.replace(ACTION, '');
  if (/\{\{|\}\}/.test(rest)) {
    throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: only {{.Field}}, {{json .Field}}, {{upper .Field}} and {{lower .Field}} are understood; fields of ${what}: ${Object.keys(columns).join(', ')}`);
  }
  for (const m of template.matchAll(ACTION)) {
    if (!(m[2] in columns)) throw new InvalidArgumentError(`--format: ${what} have no field .${m[2]}; use one of ${Object.keys(columns).map((f) => `.${f}`).join(', ')}`);
  }
  const line = (value: (field: string, fn: string | undefined) => string): string =>
    template.replace(ACTION, (_all, fn: string | undefined, field: string) => value(field, fn));
  const apply = (text: string, fn: string | undefined): string => (fn === 'json' ? JSON.stringify(text) : fn === 'upper' ? text.toUpperCase() : fn === 'lower' ? text.toLowerCase() : text);
  const rows = items.map((item) => line((field, fn) => apply(columns[field].text(item), fn)));
  const lines = table && template ? [line((field) => columns[field].header), ...rows] : rows;
  return lines.map((l) => `${l}\n`).join('');
}
