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
 * `inspect --format`: a Go-template subset over the inspect object: `{{.Path.To.Field}}`, `{{.}}`,
 * `{{json|upper|lower|len .Path}}`, `{{index .Path "key"}}` (a map's key, as Docker's
 * `{{index .Config.Labels "com.example.app"}}`, or a list's number), `{{range .Path}}` over a list or
 * a map, `{{if .Path}}` (`{{else}}`; false, 0, empty and null are false) and `{{with .Path}}` (its
 * value becomes the dot), each closed by `{{end}}`. Docker's
 * `{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}` works. Missing fields are refused.
 */
export function renderTemplate(format: string, value: unknown): string {
  const template = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const whole = new RegExp(`^${TOKEN.source}$`);
  const unknown = (template.match(/\{\{.*?\}\}/g) ?? []).find((t) => !whole.test(t));
  if (unknown) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: ${unknown} is not understood; ${UNDERSTOOD}`);
  return `${expand(template, value, format)}\n`;
}

const UNDERSTOOD = 'only {{.Field}}, {{json|upper|lower|len .Field}}, {{index .Field "key"}}, and {{range|if|with .Field}}...{{else}}...{{end}} are understood';

const PATH = String.raw`\.[\w.]*`;
const TOKEN = new RegExp(String.raw`\{\{-?\s*((?:range|if|with)\s+${PATH}|end|else|index\s+${PATH}\s+(?:"[^"]*"|\d+)|(?:(?:json|upper|lower|len)\s+)?${PATH})\s*-?\}\}`);
const BLOCK = /^(range|if|with)\s+(\S+)$/;

function lookup(value: unknown, path: string, format: string): unknown {
  let v = value;
  for (const key of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object' || !(key in v)) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: no field .${path.replace(/^\./, '')} here; see the names in the JSON output`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Go's index: a map's value for a key (nothing when it has none), a list's item by number. */
function indexOf(v: unknown, key: string, format: string): unknown {
  if (Array.isArray(v)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= v.length) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: index ${key} is out of a list of ${v.length}`);
    return v[i];
  }
  if (v === null || typeof v !== 'object') throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: index of something that is neither a map nor a list`);
  return (v as Record<string, unknown>)[key.startsWith('"') ? key.slice(1, -1) : key];
}

/** Go templates' truth: false, 0, an empty string, list or map, and null are false. */
const truthy = (v: unknown): boolean =>
  !(v === null || v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && !Object.keys(v as object).length));

function text(v: unknown, fn: string | undefined): string {
  if (fn === 'json') return JSON.stringify(v);
  if (fn === 'len') return String(Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0);
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
    if (action === 'end' || action === 'else') throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: {{${action}}} without {{range}}, {{if}} or {{with}}`);
    const block = BLOCK.exec(action);
    if (block) {
      const [, kind, path] = block;
      const { body, otherwise, after } = blockBody(rest, kind, format);
      const v = lookup(value, path, format);
      if (kind === 'range') {
        const list = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
        out += list.map((item) => expand(body, item, format)).join('');
      } else {
        out += truthy(v) ? expand(body, kind === 'with' ? v : value, format) : expand(otherwise, value, format);
      }
      rest = after;
      continue;
    }
    const index = /^index\s+(\S+)\s+(.+)$/.exec(action);
    if (index) {
      out += text(indexOf(lookup(value, index[1], format), index[2], format), undefined);
      continue;
    }
    const [fn, path] = action.includes(' ') ? action.split(/\s+/) : [undefined, action];
    out += text(lookup(value, path, format), fn);
  }
  if (/\{\{|\}\}/.test(rest)) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: ${UNDERSTOOD}`);
  return out + rest;
}

/** The text of a block up to its {{end}} (nested blocks counted), split at its {{else}} (if and with only). */
function blockBody(rest: string, kind: string, format: string): { body: string; otherwise: string; after: string } {
  let depth = 1;
  let split: { at: number; end: number } | undefined;
  const tokens = new RegExp(TOKEN.source, 'g');
  for (let m = tokens.exec(rest); m; m = tokens.exec(rest)) {
    if (BLOCK.test(m[1])) depth++;
    else if (m[1] === 'else' && depth === 1) {
      if (kind === 'range' || split) throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: {{else}} is not understood there; ${UNDERSTOOD}`);
      split = { at: m.index, end: m.index + m[0].length };
    } else if (m[1] === 'end' && --depth === 0) {
      const close = m.index;
      return split
        ? { body: rest.slice(0, split.at), otherwise: rest.slice(split.end, close), after: rest.slice(close + m[0].length) }
        : { body: rest.slice(0, close), otherwise: '', after: rest.slice(close + m[0].length) };
    }
  }
  throw new InvalidArgumentError(`--format ${JSON.stringify(format)}: {{${kind}}} without {{end}}`);
}

/** What `inspect` prints: with --format one rendering per object, else JSON: one object for one name, an array for several. */
export function inspectOutput(found: readonly unknown[], names: number, format: string | undefined): string {
  if (format !== undefined) return found.map((item) => renderTemplate(format, item)).join('');
  return json(names === 1 ? found[0] : found);
}
