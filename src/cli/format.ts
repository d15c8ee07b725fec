import { InvalidArgumentError } from '../errors.js';
import { json } from './output.js';

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

/**
 * `inspect --format`: a Go-template subset over the inspect object: `{{.Path.To.Field}}`, `{{json .Path}}`,
 * `{{upper .Path}}`, `{{lower .Path}}`, `{{.}}`, and `{{range .Path}}...{{end}}` over a list or a map
 * (Docker's `{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}` works). Missing fields are refused.
 */
export function renderTemplate(format: string, value: unknown): string {
  const template = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const whole = new RegExp(`^${TOKEN.source}$`);
  const unknown = (template.match(/\{\{.*?\}\}/g) ?? []).find((t) => !whole.test(t));
  if (unknown) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: ${unknown} is not understood; only {{.Field}}, {{json .Field}}, {{upper|lower .Field}} and {{range .Field}}...{{end}} are`);
  return `${expand(template, value, format)}\n`;
}

const TOKEN = /\{\{-?\s*(range\s+\.[\w.]*|end|(?:(?:json|upper|lower)\s+)?\.[\w.]*)\s*-?\}\}/;

function lookup(value: unknown, path: string, format: string): unknown {
  let v = value;
  for (const key of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object' || !(key in v)) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: no field .${path.replace(/^\./, '')} here; see the names in the JSON output`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function text(v: unknown, fn: string | undefined): string {
  if (fn === 'json') return JSON.stringify(v);
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return fn === 'upper' ? s.toUpperCase() : fn === 'lower' ? s.toLowerCase() : s;
}

function expand(template: string, value: unknown, format: string): string {
  let out = '';
  let rest = template;
  for (let m = TOKEN.exec(rest); m; m = TOKEN.exec(rest)) {
    out += rest.slice(0, m.index);
    rest = rest.slice(m.index + m[0].length);
    const action = m[1];
    if (action === 'end') throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: {{end}} without {{range}}`);
    if (action.startsWith('range')) {
      const { body, after } = rangeBody(rest, format);
      const items = lookup(value, action.slice(5).trim(), format);
      const list = Array.isArray(items) ? items : items && typeof items === 'object' ? Object.values(items) : [];
      out += list.map((item) => expand(body, item, format)).join('');
      rest = after;
      continue;
    }
    const [fn, path] = action.includes(' ') ? action.split(/\s+/) : [undefined, action];
    out += text(lookup(value, path, format), fn);
  }
  if (/\{\{|\}\}/.test(rest)) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: only {{.Field}}, {{json .Field}}, {{upper|lower .Field}} and {{range .Field}}...{{end}} are understood`);
  return out + rest;
}

/** The text up to the {{end}} that closes a {{range}} (nested ranges counted). */
function rangeBody(rest: string, format: string): { body: string; after: string } {
  let depth = 1;
  const tokens = new RegExp(TOKEN.source, 'g');
  for (let m = tokens.exec(rest); m; m = tokens.exec(rest)) {
    if (m[1].startsWith('range')) depth++;
    else if (m[1] === 'end' && --depth === 0) return { body: rest.slice(0, m.index), after: rest.slice(m.index + m[0].length) };
  }
  throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: {{range}} without {{end}}`);
}

/** What `inspect` prints: with --format one rendering per object, else JSON: one object for one name, an array for several. */
export function inspectOutput(found: readonly unknown[], names: number, format: string | undefined): string {
  if (format !== undefined) return found.map((item) => renderTemplate(format, item)).join('');
  return json(names === 1 ? found[0] : found);
}
