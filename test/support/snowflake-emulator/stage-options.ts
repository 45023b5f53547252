/**
 * Option parsing of the emulator's PUT and COPY INTO statements: `KEY = value`
 * lists, string literals, and the CSV file formats it implements (see
 * {@link parseFileFormat}); anything else is refused by name.
 */
import { SnowflakeEmulatorError, unsupported } from './translate';

/** Splits `text` on top-level whitespace, keeping '...' literals and (...) groups whole. */
export function tokens(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      cur += c;
      if (c === "'" && text[i + 1] === "'") cur += text[++i];
      else if (c === "'") quote = false;
    } else if (c === "'") {
      quote = true;
      cur += c;
    } else if (c === '(') {
      depth++;
      cur += c;
    } else if (c === ')') {
      depth--;
      cur += c;
    } else if (/\s/.test(c) && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quote || depth !== 0) throw syntax('unbalanced quotes or parentheses');
  if (cur) out.push(cur);
  return out;
}

/** `KEY = value` pairs (also `KEY=value`, `KEY =value`) from tokens, keys upper-cased. */
export function options(parts: readonly string[]): Map<string, string> {
  const joined = parts.join(' ').replace(/\s*=\s*/g, '=');
  const out = new Map<string, string>();
  for (const t of tokens(joined)) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw syntax(`expected KEY = value, got ${t}`);
    out.set(t.slice(0, eq).toUpperCase(), t.slice(eq + 1));
  }
  return out;
}

export function literal(v: string): string {
  if (!/^'(?:[^']|'')*'$/.test(v)) throw syntax(`expected a string literal, got ${v}`);
  return v.slice(1, -1).replace(/''/g, "'");
}

export function bool(key: string, v: string): boolean {
  if (/^TRUE$/i.test(v)) return true;
  if (/^FALSE$/i.test(v)) return false;
  throw syntax(`${key} must be TRUE or FALSE`);
}

export function syntax(message: string): SnowflakeEmulatorError {
  return new SnowflakeEmulatorError('001003', '42000', `SQL compilation error:\nsyntax error: ${message}`);
}

/** The CSV options the emulator implements; see {@link parseFileFormat}. */
export interface CsvFormat {
  readonly delimiter: string;
  readonly enclosedBy: string | undefined;
  readonly skipHeader: number;
  readonly compression: 'auto' | 'none' | 'gzip';
}

/**
 * `FILE_FORMAT = (TYPE = CSV ...)`. Implemented: FIELD_DELIMITER (one
 * character), FIELD_OPTIONALLY_ENCLOSED_BY ('"' or NONE; a quote inside is
 * doubled), SKIP_HEADER, COMPRESSION (AUTO, NONE, GZIP). Required as stated,
 * because their Snowflake defaults are not emulated: EMPTY_FIELD_AS_NULL =
 * TRUE (an unenclosed empty field is NULL, an enclosed one `""` the empty
 * string), NULL_IF = () and ESCAPE_UNENCLOSED_FIELD = NONE. Anything else
 * (named formats, other types, RECORD_DELIMITER, ESCAPE, TRIM_SPACE, ...) is
 * refused.
 */
export function parseFileFormat(group: string | undefined): CsvFormat {
  if (group === undefined || !/^\(.*\)$/s.test(group))
    throw unsupported('COPY INTO without FILE_FORMAT = (TYPE = CSV ...)');
  const o = options(tokens(group.slice(1, -1)));
  if (!/^'?CSV'?$/i.test(o.get('TYPE') ?? ''))
    throw unsupported('COPY INTO file formats other than TYPE = CSV');
  const fmt = {
    delimiter: ',',
    enclosedBy: undefined as string | undefined,
    skipHeader: 0,
    compression: 'auto' as CsvFormat['compression'],
  };
  const required = new Map([
    ['EMPTY_FIELD_AS_NULL', /^TRUE$/i],
    ['NULL_IF', /^\(\s*\)$/],
    ['ESCAPE_UNENCLOSED_FIELD', /^NONE$/i],
  ]);
  for (const [key, value] of o) {
    if (key === 'TYPE') continue;
    const rule = required.get(key);
    if (rule) {
      if (!rule.test(value)) throw unsupported(`CSV option ${key} = ${value}`);
      required.delete(key);
    } else if (key === 'FIELD_DELIMITER') {
      fmt.delimiter = literal(value);
      if (fmt.delimiter.length !== 1) throw unsupported('FIELD_DELIMITER of more than one character');
    } else if (key === 'FIELD_OPTIONALLY_ENCLOSED_BY') {
      fmt.enclosedBy = /^NONE$/i.test(value) ? undefined : literal(value);
      if (fmt.enclosedBy !== undefined && fmt.enclosedBy !== '"')
        throw unsupported(`FIELD_OPTIONALLY_ENCLOSED_BY = ${value}`);
    } else if (key === 'SKIP_HEADER') {
      if (!/^\d+$/.test(value)) throw syntax('SKIP_HEADER must be a whole number');
      fmt.skipHeader = Number(value);
    } else if (key === 'COMPRESSION') {
      const c = value.toLowerCase();
      if (c !== 'auto' && c !== 'none' && c !== 'gzip') throw unsupported(`COMPRESSION = ${value}`);
      fmt.compression = c;
    } else throw unsupported(`CSV option ${key}`);
  }
  if (required.size > 0)
    throw unsupported(
      `COPY INTO relying on Snowflake's CSV defaults; state ${[...required.keys()].map((k) => `${k} = ${k === 'NULL_IF' ? '()' : k === 'ESCAPE_UNENCLOSED_FIELD' ? 'NONE' : 'TRUE'}`).join(', ')}`,
    );
  return fmt;
}
