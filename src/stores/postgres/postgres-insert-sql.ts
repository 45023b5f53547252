/**
 * The bulk inserts of records: all rows of a batch as one array parameter per
 * column, unnested and inserted with ON CONFLICT DO NOTHING (with the outbox
 * rows in the same statement when the outbox is on), the all-new variant, and
 * the follow-up read of stored hashes. Shared by the `pg` and PGlite drivers.
 */
import type { HubRecord, RecordType } from '../../hub/model';
import type { TenantId } from '../../hub/tenant';
import { type Column, arrayLiteral, columnsOf } from './postgres-columns';
import type { Statement } from './queryable';

/**
 * SQL array type each kind is sent as. Bytes travel as one binary `bytea[]`
 * parameter (see {@link byteaArray}): never as text, so a 10 MiB body never
 * becomes a 20 MB hex string on the event loop.
 */
const ARRAY_TYPE: Record<Column['kind'], string> = {
  id: 'text[]',
  uuid: 'uuid[]',
  text: 'text[]',
  enum: 'text[]',
  int: 'int8[]',
  decimal: 'numeric[]',
  timestamp: 'timestamptz[]',
  json: 'jsonb[]',
  json_object: 'jsonb[]',
  sha256: 'text[]',
  bytes: 'bytea[]',
};

/** OID of `bytea`, the element type named in a binary `bytea[]`. */
const BYTEA_OID = 17;

/**
 * Encodes byte strings as a one-dimensional `bytea[]` in PostgreSQL's binary
 * array format (`array_recv`: dimensions, null flag, element type, then each
 * element as a 4-byte length, -1 for NULL, and its bytes). Both drivers send
 * a Buffer parameter in binary, so the bodies reach the server as they are:
 * one copy into this buffer (memcpy speed), no text encoding at all.
 */
export function byteaArray(values: readonly (Uint8Array | null)[]): Buffer {
  let size = 20 + 4 * values.length;
  for (const v of values) if (v) size += v.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(values.includes(null) ? 1 : 0, 4);
  out.writeInt32BE(BYTEA_OID, 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (const v of values) {
    if (v === null) {
      at = out.writeInt32BE(-1, at);
      continue;
    }
    at = out.writeInt32BE(v.byteLength, at);
    out.set(v, at);
    at += v.byteLength;
  }
  return out;
}

/** A column value as text (JSON serialised, integers printed), or null when absent. */
export function toText(kind: Column['kind'], value: unknown): string | null {
  if (value === undefined || value === null) return null;
  switch (kind) {
    case 'json':
    case 'json_object':
      return JSON.stringify(value);
    case 'int':
      return String(value);
    default:
      return value as string;
  }
}

const insertSqlCache = new Map<string, string>();

/**
 * The `ins` CTE of the per-record bulk inserts: rows from `source` (the
 * column arrays unnested, or a staging table) inserted with ON CONFLICT DO
 * NOTHING, returning the ids inserted, and (with the outbox on) an `ob` CTE
 * writing one outbox row per inserted record, in the same statement.
 */
export function insertCtes(type: RecordType, outbox: boolean, source: string): string {
  const ins = `ins AS (
  ${plainInsert(type, source)}
  ON CONFLICT (tenant_id, record_id) DO NOTHING
  RETURNING record_id
)`;
  return outbox
    ? `${ins}, ob AS (
  INSERT INTO hub.outbox (tenant_id, record_type, record_id) SELECT $1, '${type}', record_id FROM ins
)`
    : ins;
}

/** `INSERT INTO hub.<type> (tenant_id, columns) SELECT $1, columns FROM <source>`. */
function plainInsert(type: RecordType, source: string): string {
  const names = columnsOf(type)
    .map((c) => c.name)
    .join(', ');
  return `INSERT INTO hub.${type} (tenant_id, ${names})
  SELECT $1, ${names} FROM ${source}`;
}

/**
 * The all-new insert of rows from `source` (and, with the outbox on, an
 * outbox row per record in the same statement): a plain INSERT, without ON
 * CONFLICT, so that a record already stored (or inserted meanwhile by a
 * concurrent writer, once it commits) fails the statement with
 * unique_violation (see {@link isNotAllNew}) and the transaction writes
 * nothing. ON CONFLICT's speculative insertion (a probe of the primary key
 * before each row, then a second WAL record confirming it) was about a third
 * of the insert's backend CPU on 20,000 outputs (475 vs 329 ms, median of
 * five, interleaved).
 */
export function freshInsertFrom(type: RecordType, outbox: boolean, source: string): string {
  if (!outbox) return plainInsert(type, source);
  return `WITH ins AS (
  ${plainInsert(type, source)}
  RETURNING record_id
)
INSERT INTO hub.outbox (tenant_id, record_type, record_id) SELECT $1, '${type}', record_id FROM ins`;
}

/** `unnest($2::type[], ...)` over a type's column arrays (parameters 2..n+1). */
function unnestColumns(type: RecordType): string {
  return `unnest(${columnsOf(type)
    .map((c, i) => `$${i + 2}::${ARRAY_TYPE[c.kind]}`)
    .join(', ')})`;
}

/** Builds (once per key) the SQL text `build` returns. */
export function cachedSql(key: string, build: () => string): string {
  let sql = insertSqlCache.get(key);
  if (sql === undefined) insertSqlCache.set(key, (sql = build()));
  return sql;
}

/**
 * The bulk insert for one type: all rows as one array parameter per column,
 * unnested WITH ORDINALITY, inserted with ON CONFLICT DO NOTHING, and (with
 * the outbox on) an outbox row per inserted record, all in one statement.
 * Returns one row per input position (`ord`, 1-based) that was NOT inserted,
 * with the stored hash when this statement's snapshot sees it; every other
 * position was created. (A batch of new records returns no rows at all, and
 * the hash lookups are primary-key probes for the rest only, so a batch never
 * reads the rest of the table.)
 */
function insertSql(type: RecordType, outbox: boolean): string {
  return cachedSql(`${type}:${outbox}`, () => {
    const names = columnsOf(type).map((c) => c.name);
    return `WITH input AS (
  SELECT * FROM ${unnestColumns(type)} WITH ORDINALITY AS u(${names.join(', ')}, ord)
), ${insertCtes(type, outbox, 'input')}
SELECT i.ord::int8 AS ord,
  (SELECT e.provenance_hash FROM hub.${type} e WHERE e.tenant_id = $1 AND e.record_id = i.record_id) AS existing
FROM input i
WHERE NOT EXISTS (SELECT 1 FROM ins n WHERE n.record_id = i.record_id)`;
  });
}

/**
 * The bulk insert for records expected to be all new: the same rows (and
 * outbox rows) as {@link insertSql}, without the per-position outcome query
 * (about a tenth of a batch's database time: 20,000 outputs, 363 vs 402 ms)
 * and as a plain insert ({@link freshInsertFrom}). It succeeds only when
 * every row is new; otherwise it fails with unique_violation and, the
 * transaction aborting, writes nothing, so the caller runs
 * {@link insertStatement} for per-record outcomes.
 */
function freshInsertSql(type: RecordType, outbox: boolean): string {
  return cachedSql(`fresh:${type}:${outbox}`, () => {
    const cols = columnsOf(type);
    return freshInsertFrom(
      type,
      outbox,
      `${unnestColumns(type)} AS u(${cols.map((c) => c.name).join(', ')})`,
    );
  });
}

/**
 * True for the error by which an all-new insert ({@link freshInsertStatement},
 * the staged one) reports that some record already existed: unique_violation
 * (SQLSTATE 23505). The only unique keys such a transaction writes are the
 * record tables' primary keys (the outbox's is an identity, the change
 * feed's index is not unique); any other 23505 would come back from the
 * per-record insert run next, and be reported from there.
 */
export function isNotAllNew(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}

/** The column arrays of a batch: `[tenant, one array literal per column]`. */
function insertParams(tenant: TenantId, type: RecordType, records: readonly HubRecord[]): unknown[] {
  const params: unknown[] = [tenant];
  for (const col of columnsOf(type)) {
    const field = (i: number): unknown => (records[i] as unknown as Record<string, unknown>)[col.name];
    if (col.kind === 'bytes') {
      params.push(byteaArray(records.map((_, i) => (field(i) as Uint8Array | undefined) ?? null)));
      continue;
    }
    const values = new Array<string | null>(records.length);
    for (let i = 0; i < records.length; i++) values[i] = toText(col.kind, field(i));
    params.push(arrayLiteral(values));
  }
  return params;
}

/** The bulk insert statement for records of one type (see {@link insertSql}). */
export function insertStatement(
  tenant: TenantId,
  type: RecordType,
  records: readonly HubRecord[],
  outbox: boolean,
): Statement {
  // Not prepared: a generic plan cannot see the arrays' length and would join
  // the per-row outcomes with a nested loop (quadratic in the batch size).
  return { sql: insertSql(type, outbox), params: insertParams(tenant, type, records) };
}

/** The all-new bulk insert (see {@link freshInsertSql}); not prepared, like {@link insertStatement}. */
export function freshInsertStatement(
  tenant: TenantId,
  type: RecordType,
  records: readonly HubRecord[],
  outbox: boolean,
): Statement {
  return { sql: freshInsertSql(type, outbox), params: insertParams(tenant, type, records) };
}

/** Reads stored hashes by id (the follow-up for rows a concurrent writer inserted first). */
export function hashesStatement(tenant: TenantId, type: RecordType, ids: readonly string[]): Statement {
  return {
    sql: `SELECT record_id::text AS id, provenance_hash FROM hub.${type} WHERE tenant_id = $1 AND record_id = ANY($2::uuid[])`,
    params: [tenant, arrayLiteral(ids)],
    prepare: true,
  };
}
