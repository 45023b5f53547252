/**
 * Snowflake SQL -> DuckDB SQL for the wire emulator: a small, documented set of
 * rewrites (see README.md), plus loud refusals of Snowflake features DuckDB
 * cannot run. Nothing here parses SQL fully: the text is split into code,
 * string literals, quoted identifiers and comments, and rewrites touch code only.
 */

/** A Snowflake-style failure the emulator answers with (HTTP 200, success:false). */
export class SnowflakeEmulatorError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** Refuses a feature the emulator does not implement, naming it. */
export function unsupported(feature: string): SnowflakeEmulatorError {
  return new SnowflakeEmulatorError(
    '000002',
    '0A000',
    `Unsupported feature '${feature}': the Snowflake wire emulator (DuckDB) does not implement it.`,
  );
}

type Segment = { kind: 'code' | 'string' | 'ident' | 'comment'; text: string };

/** Splits SQL into code / literal / identifier / comment segments (Snowflake lexical rules). */
export function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let code = '';
  let i = 0;
  const flush = (): void => {
    if (code) out.push({ kind: 'code', text: code });
    code = '';
  };
  while (i < sql.length) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (ch === "'") {
      flush();
      let j = i + 1;
      let value = '';
      for (; j < sql.length; j++) {
        const c = sql[j] as string;
        if (c === '\\' && j + 1 < sql.length) {
          // Snowflake string literals honour backslash escapes.
          const e = sql[++j] as string;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === '0' ? '\0' : e;
        } else if (c === "'" && sql[j + 1] === "'") {
          value += "'";
          j++;
        } else if (c === "'") break;
        else value += c;
      }
      if (j >= sql.length) throw syntax('unterminated string literal');
      out.push({ kind: 'string', text: value });
      i = j + 1;
    } else if (ch === '"') {
      flush();
      const end = sql.indexOf('"', i + 1);
      if (end < 0) throw syntax('unterminated quoted identifier');
      out.push({ kind: 'ident', text: sql.slice(i, end + 1) });
      i = end + 1;
    } else if (ch === '-' && next === '-') {
      flush();
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (ch === '/' && next === '*') {
      flush();
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw syntax('unterminated comment');
      i = end + 2;
    } else if (ch === '$' && next === '$') {
      throw unsupported('$$ dollar-quoted strings');
    } else {
      code += ch;
      i++;
    }
  }
  flush();
  return out;
}

function syntax(message: string): SnowflakeEmulatorError {
  return new SnowflakeEmulatorError('001003', '42000', `SQL compilation error:\nsyntax error: ${message}`);
}

/** DuckDB literal for a string. DuckDB strings have no backslash escapes: only `'` is doubled. */
export function duckString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Splits a multi-statement text on top-level `;` (outside literals). Empty statements are dropped. */
export function splitStatements(sql: string): string[] {
  const parts: string[] = [''];
  for (const s of segments(sql)) {
    if (s.kind !== 'code') {
      parts[parts.length - 1] += s.kind === 'string' ? snowflakeString(s.text) : s.text;
      continue;
    }
    const pieces = s.text.split(';');
    parts[parts.length - 1] += pieces[0] as string;
    for (const p of pieces.slice(1)) parts.push(p);
  }
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function snowflakeString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Snowflake constructs the emulator refuses (checked on code segments only).
 * Each names the feature in the error so a test failure says what is missing.
 */
const REFUSED: readonly [RegExp, string][] = [
  [/\bCREATE\s+(?:OR\s+REPLACE\s+)?STREAM\b/i, 'CREATE STREAM'],
  [/\bCREATE\s+(?:OR\s+REPLACE\s+)?TASK\b/i, 'CREATE TASK'],
  [/\bCREATE\s+(?:OR\s+REPLACE\s+)?TABLE\b[^(]*\sLIKE\b/i, 'CREATE TABLE ... LIKE'],
  [/\bALTER\s+TASK\b/i, 'ALTER TASK'],
  [/\bEXECUTE\s+TASK\b/i, 'EXECUTE TASK'],
  [/\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?STAGE\b/i, 'CREATE STAGE'],
  [/\bCREATE\s+(?:OR\s+REPLACE\s+)?PIPE\b/i, 'CREATE PIPE'],
  [/\bCOPY\s+INTO\b/i, 'COPY INTO'],
  [/^\s*(?:PUT|GET)\s/i, 'PUT/GET file transfer'],
  [/\bALTER\s+SESSION\b/i, 'ALTER SESSION'],
  [/\bTRANSIENT\b/i, 'TRANSIENT tables'],
  [/\bCLUSTER\s+BY\b/i, 'CLUSTER BY'],
  [/\bAUTOINCREMENT\b|\bIDENTITY\s*\(/i, 'AUTOINCREMENT/IDENTITY'],
  [/\bFLATTEN\s*\(/i, 'FLATTEN'],
  [/\b(IFF|NVL2?|ZEROIFNULL|DIV0|DECODE|OBJECT_CONSTRUCT|ARRAY_CONSTRUCT|GET_PATH)\s*\(/i, 'function $1'],
  [
    /\b(CONVERT_TIMEZONE|TO_TIMESTAMP_TZ|TO_TIMESTAMP_LTZ|TO_TIMESTAMP_NTZ|DATEADD|DATEDIFF)\s*\(/i,
    'function $1',
  ],
  [/\bTIMESTAMP_(?:TZ|LTZ)\b/i, 'TIMESTAMP_TZ/TIMESTAMP_LTZ types (store UTC in TIMESTAMP_NTZ)'],
  [/[A-Za-z0-9_]:[A-Za-z_]/, 'semi-structured path access (col:field)'],
  [/\bRESULT_SCAN\s*\(/i, 'RESULT_SCAN'],
];

/**
 * Rewrites applied to code segments, in order. Keep this list short and in
 * sync with README.md: the store's SQL is written to need only these.
 */
const REWRITES: readonly [RegExp, string][] = [
  // Casts to a whole number wider than 18 digits go through text and HUGEINT: DuckDB converts
  // text into a 128-bit DECIMAL(p,0) 20-50 times slower (about 40 us a value) than into HUGEINT,
  // with the same rounding (half away from zero) and the same conversion error past p digits.
  [/\bAS\s+NUMBER\s*\(\s*(19|2\d|3[0-8])\s*,\s*0\s*\)\s*\)/gi, 'AS VARCHAR)::HUGEINT::DECIMAL($1,0)'],
  // Types.
  [/\bNUMBER\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)/gi, 'DECIMAL($1,$2)'],
  [/\bNUMBER\s*\(\s*(\d+)\s*\)/gi, 'DECIMAL($1,0)'],
  [/\bNUMBER\b/gi, 'DECIMAL(38,0)'],
  [/\bTIMESTAMP_NTZ(?:\s*\(\s*\d\s*\))?/gi, 'TIMESTAMP'],
  [/\bVARIANT\b/gi, 'JSON'],
  [/\bBINARY\b/gi, 'BLOB'],
  // Functions (renamed to emulator macros, see MACROS).
  [/\bPARSE_JSON\s*\(/gi, 'sf_parse_json('],
  [/\bTO_JSON\s*\(/gi, 'sf_to_json('],
  [/\bTO_BINARY\s*\(/gi, 'sf_to_binary('],
  [/\bDATE_PART\s*\(\s*EPOCH_MILLISECONDS?\s*,/gi, 'epoch_ms('],
];

/** DuckDB macros created on every emulator connection; the rewrites above rename to them. */
export const MACROS: readonly string[] = [
  `CREATE OR REPLACE TEMP MACRO sf_parse_json(x) AS CAST(x AS JSON)`,
  `CREATE OR REPLACE TEMP MACRO sf_to_json(x) AS CAST(x AS VARCHAR)`,
  `CREATE OR REPLACE TEMP MACRO sf_to_binary(x, fmt) AS CASE upper(fmt) WHEN 'BASE64' THEN from_base64(x) WHEN 'HEX' THEN unhex(x) ELSE error('unsupported TO_BINARY format ' || fmt) END`,
];

/** One bound value as sent by the driver: its Snowflake type and its text (or null). */
export interface BindValue {
  readonly type: string;
  readonly value: string | null;
}

/** Renders a single bind value as a DuckDB literal (validated per type, so never injectable). */
export function bindLiteral(bind: BindValue): string {
  if (bind.value === null) return 'NULL';
  const v = bind.value;
  switch (bind.type.toUpperCase()) {
    case 'TEXT':
    case 'VARIANT':
    case 'TIMESTAMP_NTZ':
    case 'DATE':
      return duckString(v);
    case 'FIXED':
      if (!/^-?\d+(?:\.\d+)?$/.test(v)) throw conversion(v);
      return v;
    case 'REAL':
      if (!/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i.test(v)) throw conversion(v);
      return `CAST(${duckString(v)} AS DOUBLE)`;
    case 'BOOLEAN':
      return /^(?:true|1)$/i.test(v) ? 'TRUE' : 'FALSE';
    default:
      throw unsupported(`bind type ${bind.type}`);
  }
}

function conversion(v: string): SnowflakeEmulatorError {
  return new SnowflakeEmulatorError('100038', '22018', `Numeric value '${v.slice(0, 40)}' is not recognized`);
}

/** The statement kinds the emulator distinguishes (they decide statementTypeId and the DML row). */
export type StatementKind = 'select' | 'insert' | 'update' | 'delete' | 'merge' | 'ddl' | 'noop';

/** Result of translating one statement. */
export interface Translated {
  readonly kind: StatementKind;
  /** DuckDB SQL; empty for `noop`. */
  readonly sql: string;
  /** For array binds: the INSERT target and value placeholders count (rows are appended, not inlined). */
  readonly arrayInsert?: { readonly target: string; readonly columns: number };
}

/**
 * Translates one Snowflake statement. `bind(n)` returns the n-th (1-based)
 * bind rendered as a DuckDB literal; with array binds pass `arrayBinds` and the
 * statement must be `INSERT INTO t [(cols)] VALUES (?, ...)`.
 * @throws SnowflakeEmulatorError for refused features and malformed SQL.
 */
export function translate(sql: string, bind: (n: number) => string, arrayBinds = false): Translated {
  const segs = segments(sql);
  const code = segs
    .filter((s) => s.kind !== 'comment')
    .map((s) => (s.kind === 'code' ? s.text : ' x '))
    .join('');
  for (const [re, feature] of REFUSED) {
    const m = re.exec(code);
    if (m) throw unsupported(feature.replace('$1', (m[1] ?? '').toUpperCase()));
  }
  const kind = kindOf(code);
  if (/^\s*USE\s+(?:WAREHOUSE|ROLE|SECONDARY\s+ROLES)\b/i.test(code)) return { kind: 'noop', sql: '' };
  if (kind === 'noop') throw unsupported('USE DATABASE/SCHEMA (qualify names fully)');
  if (/^\s*(?:BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK)\b/i.test(code)) {
    // Each statement commits on its own in the emulator; explicit transactions are not modelled.
    throw unsupported('explicit transactions (BEGIN/COMMIT)');
  }
  let position = 0;
  let out = '';
  for (const s of segs) {
    if (s.kind === 'comment') continue;
    if (s.kind === 'string') {
      out += duckString(s.text);
      continue;
    }
    if (s.kind === 'ident') {
      out += s.text;
      continue;
    }
    let text = s.text;
    for (const [re, to] of REWRITES) text = text.replace(re, to);
    text = text.replace(/\?|:(\d+)\b/g, (_m, n?: string) => {
      const index = n === undefined ? ++position : Number(n);
      return arrayBinds ? '?' : bind(index);
    });
    out += text;
  }
  out = databaseDdl(rewriteCountIf(out));
  if (!arrayBinds) return { kind, sql: out };
  const m = /^\s*INSERT\s+INTO\s+([\s\S]+?)\s+VALUES\s*\(\s*(\?(?:\s*,\s*\?)*)\s*\)\s*;?\s*$/i.exec(out);
  if (!m) throw unsupported('array binds outside INSERT INTO ... VALUES (?, ...)');
  return {
    kind: 'insert',
    sql: out,
    arrayInsert: { target: m[1] as string, columns: (m[2] as string).split(',').length },
  };
}

/**
 * COUNT_IF(c) -> COUNT(CASE WHEN c THEN 1 END): DuckDB's COUNT_IF answers NULL
 * on an empty input where Snowflake answers 0. Works on DuckDB text (strings
 * already rendered with '' escapes), matching parentheses outside literals.
 */
function rewriteCountIf(sql: string): string {
  const re = /\bCOUNT_IF\s*\(/gi;
  let out = '';
  let from = 0;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    if (insideQuotes(sql, m.index)) continue;
    const open = m.index + m[0].length;
    let depth = 1;
    let i = open;
    let quote: string | undefined;
    for (; i < sql.length && depth > 0; i++) {
      const c = sql[i];
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    }
    if (depth !== 0) throw syntax('unbalanced parentheses in COUNT_IF');
    out += `${sql.slice(from, m.index)}COUNT(CASE WHEN ${sql.slice(open, i - 1)} THEN 1 END)`;
    from = i;
    re.lastIndex = i;
  }
  return out + sql.slice(from);
}

function insideQuotes(sql: string, index: number): boolean {
  let quote: string | undefined;
  for (let i = 0; i < index; i++) {
    const c = sql[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
  }
  return quote !== undefined;
}

/** Snowflake databases become attached in-memory DuckDB catalogs. */
function databaseDdl(sql: string): string {
  return sql
    .replace(
      /^\s*CREATE\s+DATABASE\s+IF\s+NOT\s+EXISTS\s+("[^"]+"|\w+)\s*;?\s*$/i,
      "ATTACH IF NOT EXISTS ':memory:' AS $1",
    )
    .replace(/^\s*CREATE\s+DATABASE\s+("[^"]+"|\w+)\s*;?\s*$/i, "ATTACH ':memory:' AS $1")
    .replace(/^\s*DROP\s+DATABASE\s+IF\s+EXISTS\s+("[^"]+"|\w+)\s*;?\s*$/i, 'DETACH DATABASE IF EXISTS $1')
    .replace(/^\s*DROP\s+DATABASE\s+("[^"]+"|\w+)\s*;?\s*$/i, 'DETACH DATABASE $1');
}

function kindOf(code: string): StatementKind {
  const word = (/^\s*\(?\s*([A-Za-z]+)/.exec(code)?.[1] ?? '').toUpperCase();
  switch (word) {
    case 'SELECT':
    case 'WITH':
    case 'SHOW':
    case 'DESCRIBE':
    case 'VALUES':
      return 'select';
    case 'INSERT':
      return 'insert';
    case 'UPDATE':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'MERGE':
      return 'merge';
    case 'USE':
      return 'noop';
    default:
      return 'ddl';
  }
}
