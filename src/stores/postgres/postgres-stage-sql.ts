/**
 * The staged bulk write: a chunk's rows sent with `COPY ... FROM STDIN` (text
 * format) into a temporary staging table of the connection, then inserted
 * from it by one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, in the same
 * transaction. The insert is the one the array path runs (postgres-insert-sql.ts),
 * under the same row-level security and ticket, firing the same statement
 * triggers and writing the same outbox rows; only the rows' way in differs:
 * the server parses one COPY stream instead of one text array per column
 * and unnests them (about 15% of the target's CPU on a copy), and this
 * process builds one string per chunk instead of an array literal per column.
 *
 * The staging table is `pg_temp.hub_stage_<type>`: created once per
 * connection (`IF NOT EXISTS`, typed from the table by `CREATE TABLE AS ...
 * WITH NO DATA`, so the insert casts nothing), emptied at every commit
 * (`ON COMMIT DELETE ROWS`), and seen by no other session. Artifacts (their
 * bodies go as one binary `bytea[]`, never as text) are never staged.
 */
import type { HubRecord, RecordType } from '../../hub/model';
import type { TenantId } from '../../hub/tenant';
import { type Column, columnsOf } from './postgres-columns';
import { cachedSql, freshInsertFrom, insertCtes } from './postgres-insert-sql';
import type { Statement } from './queryable';

/** The staging table of a type (one per connection, in its temporary schema). */
function stageTable(type: RecordType): string {
  return `pg_temp.hub_stage_${type}`;
}

/** True when records of `type` may be staged (artifacts never: their bodies stay binary). */
export function canStage(type: RecordType): boolean {
  return type !== 'artifacts';
}

/**
 * Creates the staging table when this connection has none yet: `ord` (the
 * row's 1-based position in the chunk) and the type's columns, with the
 * table's own types and collations.
 */
function createStageStatement(type: RecordType): Statement {
  const sql = cachedSql(`stage-create:${type}`, () => {
    const names = columnsOf(type).map((c) => c.name);
    return `CREATE TEMPORARY TABLE IF NOT EXISTS hub_stage_${type} ON COMMIT DELETE ROWS AS
SELECT 0::int8 AS ord, ${names.join(', ')} FROM hub.${type} WITH NO DATA`;
  });
  return { sql, params: [] };
}

/** Characters COPY's text format escapes; JSON texts hold backslashes of their own escapes. */
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES = /[\\\n\r\t]/g;
const escapeOne = (c: string): string =>
  c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t';

/** One field in COPY's text format: `\N` when absent, else the text with `\`, newline, CR and tab escaped. */
export function copyText(text: string | null): string {
  if (text === null) return '\\N';
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, escapeOne) : text;
}

/** One column value as one COPY text field (`\N` when absent). */
type FieldEncoder = (value: unknown) => string;

/**
 * The COPY text field of a column of `kind`: {@link copyText} of the
 * column's text (postgres-insert-sql.ts's toText), chosen once per column
 * instead of per value.
 */
export function copyFieldOf(kind: Column['kind']): FieldEncoder {
  switch (kind) {
    case 'json':
    case 'json_object':
      return (v) => (v === undefined || v === null ? '\\N' : copyText(JSON.stringify(v)));
    case 'int':
      return (v) => (v === undefined || v === null ? '\\N' : String(v));
    default:
      return (v) => (v === undefined || v === null ? '\\N' : copyText(v as string));
  }
}

/** Per type: its columns' names and field encoders, in {@link columnsOf} order. */
const ENCODERS = new Map<RecordType, { readonly names: string[]; readonly encoders: FieldEncoder[] }>();

/**
 * The rows of a chunk in COPY's text format: per record one line, `ord`
 * (`offset` + its 1-based position) then each column of {@link columnsOf} separated by tabs.
 * Each line is one join of its fields, and the chunk one join of its lines:
 * flat strings that die young. (Appending every field to one string made a
 * tree of a chunk's pieces that outlived young-generation collections until
 * it was encoded for the socket, costing more than it saved; a field
 * function picking the kind per value cost 1.6x the CPU per record.)
 */
export function copyRows(type: RecordType, records: readonly HubRecord[], offset = 0): string {
  let enc = ENCODERS.get(type);
  if (enc === undefined) {
    const cols = columnsOf(type);
    enc = { names: cols.map((c) => c.name), encoders: cols.map((c) => copyFieldOf(c.kind)) };
    ENCODERS.set(type, enc);
  }
  const { names, encoders } = enc;
  const lines = new Array<string>(records.length);
  const fields = new Array<string>(names.length + 1);
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as unknown as Record<string, unknown>;
    fields[0] = String(offset + i + 1);
    for (let k = 0; k < names.length; k++) {
      fields[k + 1] = (encoders[k] as FieldEncoder)(r[names[k] as string]);
    }
    lines[i] = fields.join('\t');
  }
  return `${lines.join('\n')}\n`;
}

/** The COPY of a chunk into its staging table. */
function copyStatement(type: RecordType, records: readonly HubRecord[], offset: number): Statement {
  const sql = cachedSql(`stage-copy:${type}`, () => {
    const names = columnsOf(type).map((c) => c.name);
    return `COPY ${stageTable(type)} (ord, ${names.join(', ')}) FROM STDIN`;
  });
  return { sql, params: [], copyIn: copyRows(type, records, offset) };
}

/** The staged all-new insert (see freshInsertFrom): every staged row inserted, or unique_violation. */
function freshStagedSql(type: RecordType, outbox: boolean): string {
  return cachedSql(`stage-fresh:${type}:${outbox}`, () => {
    const names = columnsOf(type).map((c) => c.name);
    const source = `(SELECT ${names.join(', ')} FROM ${stageTable(type)} WHERE ord > $2::int8 AND ord <= $3::int8) AS s`;
    return freshInsertFrom(type, outbox, source);
  });
}

/** The staged insert with per-position outcomes: the rows (`ord`, stored hash) it did not insert. */
function stagedSql(type: RecordType, outbox: boolean): string {
  return cachedSql(`stage-insert:${type}:${outbox}`, () => {
    return `WITH input AS (
  SELECT * FROM ${stageTable(type)} WHERE ord > $2::int8 AND ord <= $3::int8
), ${insertCtes(type, outbox, 'input')}
SELECT (i.ord - $2::int8)::int8 AS ord,
  (SELECT e.provenance_hash FROM hub.${type} e WHERE e.tenant_id = $1 AND e.record_id = i.record_id) AS existing
FROM input i
WHERE NOT EXISTS (SELECT 1 FROM ins n WHERE n.record_id = i.record_id)`;
  });
}

/**
 * The statements of a staged chunk: create the staging table (for the first
 * chunk of its type in the transaction), COPY the rows into it numbered
 * after `offset` (the rows staged by earlier chunks of the type in the same
 * transaction, which stay until the commit), insert those rows. `fresh`:
 * the all-new insert (answers no rows, or fails with 23505); else the
 * insert with per-position outcomes (answers the chunk's rows not inserted,
 * `ord` 1-based within the chunk, as insertStatement does). The insert is
 * the last statement.
 */
export function stagedStatements(
  tenant: TenantId,
  type: RecordType,
  records: readonly HubRecord[],
  options: { readonly outbox: boolean; readonly fresh: boolean; readonly offset: number },
): Statement[] {
  const { outbox, fresh, offset } = options;
  const range = [offset, offset + records.length];
  const insert: Statement = {
    sql: fresh ? freshStagedSql(type, outbox) : stagedSql(type, outbox),
    params: [tenant, ...range],
  };
  const copy = copyStatement(type, records, offset);
  return offset === 0 ? [createStageStatement(type), copy, insert] : [copy, insert];
}
