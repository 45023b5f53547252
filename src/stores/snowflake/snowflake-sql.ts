/**
 * The Snowflake SQL of the store: DDL of a tenant database and the statements
 * for writes, point reads, lists and scans. Everything is plain Snowflake SQL
 * kept deliberately simple (fully qualified quoted names, `?` binds, CAST,
 * PARSE_JSON/TO_JSON, TO_BINARY, DATE_PART(EPOCH_MILLISECOND, ...)) so the
 * wire emulator's translation to DuckDB stays a handful of rewrites.
 *
 * Identifiers come only from code (record types, field names) or from
 * {@link tenantDatabase} (validated); values are always bound, never spliced,
 * except integers this module has checked itself (LIMIT).
 */
import { HubError } from '../../hub/errors';
import { type FieldKind, RECORD_TYPES, type RecordType, fieldsOf } from '../../hub/model';
import { isFieldFilter } from '../../hub/filters';
import {
  type Keyset,
  type ListFilter,
  type ListQuery,
  type ReadProjection,
  type ScanQuery,
  type TeamScope,
  skipsBody,
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { type SnowflakeConfig, quoteIdent, tenantDatabase } from './snowflake-config';

/** One stored column: the record field it holds, its quoted identifier and how it is typed. */
export interface Column {
  readonly field: string;
  readonly ident: string;
  readonly kind: FieldKind | 'body';
  readonly required: boolean;
}

const SQL_TYPE: Record<FieldKind | 'body', string> = {
  id: 'VARCHAR',
  uuid: 'VARCHAR',
  text: 'VARCHAR',
  enum: 'VARCHAR',
  sha256: 'VARCHAR',
  int: 'NUMBER(19,0)',
  decimal: 'NUMBER(20,6)',
  timestamp: 'TIMESTAMP_NTZ(3)',
  json: 'VARIANT',
  json_object: 'VARIANT',
  body: 'BINARY',
};

const COLUMNS = new Map<RecordType, readonly Column[]>(
  RECORD_TYPES.map((type) => {
    const cols: Column[] = fieldsOf(type).map((f) => ({
      field: f.name,
      ident: quoteIdent(f.name.toUpperCase()),
      kind: f.kind,
      // Defaulted fields are always materialised by the Hub before storage.
      required: f.required || f.defaultValue !== undefined || f.defaultFrom !== undefined,
    }));
    if (type === 'artifacts') cols.push({ field: 'body', ident: '"BODY"', kind: 'body', required: true });
    return [type, cols];
  }),
);

/** The stored columns of a type, in storage order (artifacts end with BODY). */
export function columnsOf(type: RecordType): readonly Column[] {
  return COLUMNS.get(type) as readonly Column[];
}

/** Names of one tenant's objects, all quoted. */
export interface TenantNames {
  readonly database: string;
  readonly schema: string;
  table(type: RecordType): string;
  stage(type: RecordType): string;
}

/** Fully qualified, quoted names of a tenant's database, schema and tables. */
export function tenantNames(config: SnowflakeConfig, tenant: TenantId): TenantNames {
  const database = quoteIdent(tenantDatabase(config, tenant));
  const schema = `${database}.${quoteIdent(config.schema)}`;
  return {
    database,
    schema,
    table: (type) => `${schema}.${quoteIdent(type.toUpperCase())}`,
    stage: (type) => `${schema}.${quoteIdent(`${type.toUpperCase()}_STAGE`)}`,
  };
}

/**
 * DDL that provisions a tenant: database, schema, the six tables with Snowflake
 * types (NUMBER(20,6) money, TIMESTAMP_NTZ(3) holding UTC, VARIANT JSON,
 * BINARY artifact bodies) and a VARCHAR staging table per type used by the
 * micro-batch writer. Idempotent (IF NOT EXISTS). PRIMARY KEY is informational
 * on Snowflake (idempotency is the writer's NOT EXISTS), enforced on DuckDB.
 */
export function provisionStatements(names: TenantNames): string[] {
  const out = [
    `CREATE DATABASE IF NOT EXISTS ${names.database}`,
    `CREATE SCHEMA IF NOT EXISTS ${names.schema}`,
  ];
  for (const type of RECORD_TYPES) {
    const cols = columnsOf(type);
    const defs = cols.map((c) => `${c.ident} ${SQL_TYPE[c.kind]}${c.required ? ' NOT NULL' : ''}`);
    out.push(
      `CREATE TABLE IF NOT EXISTS ${names.table(type)} (${defs.join(', ')}, PRIMARY KEY ("RECORD_ID"))`,
    );
    const stageDefs = ['"BATCH_ID" VARCHAR NOT NULL', ...cols.map((c) => `${c.ident} VARCHAR`)];
    out.push(`CREATE TABLE IF NOT EXISTS ${names.stage(type)} (${stageDefs.join(', ')})`);
  }
  return out;
}

/** Succeeds (with no rows) only when every table and stage of the tenant exists. */
export function provisionedCheckStatement(names: TenantNames): string {
  const probes = RECORD_TYPES.flatMap((t) => [names.table(t), names.stage(t)]).map(
    (table) => `SELECT 1 AS X FROM ${table} WHERE 1 = 0`,
  );
  return probes.join(' UNION ALL ');
}

/** Statement that drops a tenant's database (offboarding). */
export function dropTenantStatement(names: TenantNames): string {
  return `DROP DATABASE IF EXISTS ${names.database}`;
}

/** Counts a tenant's records of every type in one statement (all tables of that one tenant). */
export function countAllStatement(names: TenantNames): string {
  return `SELECT ${RECORD_TYPES.map((t) => `(SELECT COUNT(*) FROM ${names.table(t)})`).join(' + ')} AS N`;
}

/** How a column is converted from its staged VARCHAR into its stored type. */
function fromStage(c: Column): string {
  const v = `s.${c.ident}`;
  switch (c.kind) {
    case 'int':
    case 'decimal':
    case 'timestamp':
      return `CAST(${v} AS ${SQL_TYPE[c.kind]})`;
    case 'json':
    case 'json_object':
      return `PARSE_JSON(${v})`;
    case 'body':
      return `TO_BINARY(${v}, 'BASE64')`;
    default:
      return v;
  }
}

/** The four statements of one micro-batch for one type (see snowflake-writer.ts). */
export interface WriteStatements {
  /** Array-bound: BATCH_ID then every column as text. */
  readonly stage: string;
  /** Bind: batch id. Rows: record_id, provenance_hash of staged ids already stored. */
  readonly existing: string;
  /** Bind: batch id. Moves staged rows not yet stored into the table, converting types. */
  readonly insert: string;
  /**
   * {@link insert} for rows staged by one file load: without the de-duplication of staged rows
   * (a window over the batch, about a third of the insert's time on DuckDB). A file's rows arrive
   * once: the flush writes one row per id, its name is the batch's own, and a load of a file
   * already loaded is skipped (Snowflake's load metadata, kept by the test emulator too) or fails
   * (purged: not found).
   */
  readonly insertLoaded: string;
  /** Bind: batch id. */
  readonly cleanup: string;
}

/** Builds the micro-batch statements for one tenant and type. */
export function writeStatements(names: TenantNames, type: RecordType): WriteStatements {
  const cols = columnsOf(type);
  const table = names.table(type);
  const stage = names.stage(type);
  const list = cols.map((c) => c.ident).join(', ');
  const insertLoaded =
    `INSERT INTO ${table} (${list}) SELECT ${cols.map(fromStage).join(', ')} FROM ${stage} s ` +
    `WHERE s."BATCH_ID" = ? AND NOT EXISTS (SELECT 1 FROM ${table} t WHERE t."RECORD_ID" = s."RECORD_ID")`;
  return {
    stage: `INSERT INTO ${stage} ("BATCH_ID", ${list}) VALUES (${['?', ...cols.map(() => '?')].join(', ')})`,
    existing:
      `SELECT s."RECORD_ID", t."PROVENANCE_HASH" FROM ${stage} s ` +
      `JOIN ${table} t ON t."RECORD_ID" = s."RECORD_ID" WHERE s."BATCH_ID" = ?`,
    insert:
      `${insertLoaded} ` +
      // One row per id even if a retried staging request landed twice.
      `QUALIFY ROW_NUMBER() OVER (PARTITION BY s."RECORD_ID" ORDER BY s."RECORD_ID") = 1`,
    insertLoaded,
    cleanup: `DELETE FROM ${stage} WHERE "BATCH_ID" = ?`,
  };
}

/** The table stage of a type's staging table (`@db.schema.%TABLE_STAGE`, every Snowflake table has one). */
export function tableStageOf(names: TenantNames, type: RecordType): string {
  return `@${names.schema}.%${quoteIdent(`${type.toUpperCase()}_STAGE`)}`;
}

/** Paths the store puts inside a `PUT 'file://...'` literal: absolute, no quote, backslash or space. */
const PLAIN_PATH = /^\/[A-Za-z0-9_./-]+$/;

/** True when `path` can go inside a `PUT 'file://...'` literal as it is (absolute, plain characters). */
export function isPlainStagePath(path: string): boolean {
  return PLAIN_PATH.test(path);
}

/**
 * `PUT` of a local CSV file into the type's table stage, uncompressed (the
 * file is small and local; compressing would cost the writer's CPU), replacing
 * a file of the same name (a retried batch). `path` must be a plain absolute
 * path (see snowflake-stage-file.ts), checked again here.
 */
export function putStatement(names: TenantNames, type: RecordType, path: string): string {
  if (!isPlainStagePath(path)) throw new HubError('INTERNAL', 'stage file path is not plain');
  return `PUT 'file://${path}' ${tableStageOf(names, type)} AUTO_COMPRESS = FALSE OVERWRITE = TRUE`;
}

/**
 * `COPY INTO` the type's staging table from its table stage, of one named
 * file: CSV as snowflake-stage-file.ts writes it, fields matched to the
 * staging table's columns by position (BATCH_ID first), all or nothing, the
 * file removed from the stage once loaded.
 */
export function copyStatement(names: TenantNames, type: RecordType, fileName: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(fileName)) throw new HubError('INTERNAL', 'stage file name is not plain');
  return (
    `COPY INTO ${names.stage(type)} FROM ${tableStageOf(names, type)} FILES = ('${fileName}') ` +
    `FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = ',' FIELD_OPTIONALLY_ENCLOSED_BY = '"' ` +
    `EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ESCAPE_UNENCLOSED_FIELD = NONE COMPRESSION = NONE) ` +
    `ON_ERROR = ABORT_STATEMENT PURGE = TRUE`
  );
}

/** How a column is read: timestamps as epoch milliseconds, VARIANT as JSON text (so JSON null != SQL NULL). */
function readExpr(c: Column): string {
  if (c.kind === 'timestamp') return `DATE_PART(EPOCH_MILLISECOND, ${c.ident})`;
  if (c.kind === 'json' || c.kind === 'json_object') return `TO_JSON(${c.ident})`;
  return c.ident;
}

/** The columns a read selects: all of them, or all but BODY when the projection leaves the body out. */
export function readColumnsOf(type: RecordType, projection?: ReadProjection): readonly Column[] {
  const cols = columnsOf(type);
  return skipsBody(projection) ? cols.filter((c) => c.kind !== 'body') : cols;
}

/** The select list of a read (decoded by snowflake-rows.ts in {@link readColumnsOf} order). */
export function selectList(type: RecordType, projection?: ReadProjection): string {
  return readColumnsOf(type, projection).map(readExpr).join(', ');
}

/**
 * One parameterised statement: the same name and shape as the PostgreSQL
 * store's (`sql` and positional `params`, bound as `?` or `:n` here).
 */
export interface Statement {
  readonly sql: string;
  readonly params: (string | number)[];
}

const TS = 'CAST(? AS TIMESTAMP_NTZ(3))';

/**
 * A canonical Hub timestamp (`...T...Z`, always UTC) as TIMESTAMP_NTZ text
 * (`YYYY-MM-DD HH:MI:SS.FFF`): unambiguous for Snowflake's AUTO format and for
 * DuckDB, with no zone for NTZ to ignore.
 */
export function ntzText(canonical: string): string {
  return canonical.replace('T', ' ').replace(/Z$/, '');
}

function checkedLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 50_000)
    throw new HubError('VALIDATION', `limit must be 1..50000, got ${limit}`);
  return limit;
}

/** Point read of up to 1,000 ids. */
export function getByIdsStatement(
  names: TenantNames,
  type: RecordType,
  ids: readonly string[],
  projection?: ReadProjection,
): Statement {
  return {
    sql: `SELECT ${selectList(type, projection)} FROM ${names.table(type)} WHERE "RECORD_ID" IN (${ids.map(() => '?').join(', ')})`,
    params: [...ids],
  };
}

function keysetClause(after: Keyset, op: '<' | '>', binds: (string | number)[]): string {
  binds.push(ntzText(after.created_at), ntzText(after.created_at), after.record_id);
  return `("CREATED_AT" ${op} ${TS} OR ("CREATED_AT" = ${TS} AND "RECORD_ID" ${op} ?))`;
}

/**
 * The team's employee ids as a subquery (the first step of every team-scoped
 * read): employees whose current profile as of `asOf` (latest version with
 * EFFECTIVE_AT < asOf; ties by CREATED_AT, then RECORD_ID) names the manager.
 * Appends its binds (asOf, manager) to `binds`.
 */
export function teamIdsSql(names: TenantNames, team: TeamScope, binds: (string | number)[]): string {
  binds.push(ntzText(team.asOf), team.managerId);
  return (
    `SELECT TEAM_CUR.E FROM (SELECT "EMPLOYEE_ID" AS E, "MANAGER_ID" AS M FROM ${names.table('employee_profiles')} ` +
    `WHERE "EFFECTIVE_AT" < ${TS} ` +
    `QUALIFY ROW_NUMBER() OVER (PARTITION BY "EMPLOYEE_ID" ORDER BY "EFFECTIVE_AT" DESC, "CREATED_AT" DESC, "RECORD_ID" DESC) = 1) TEAM_CUR ` +
    `WHERE TEAM_CUR.M = ?`
  );
}

/**
 * A condition keeping records whose employee passes `test` (`IN (...)`,
 * `= ?`): the record's own EMPLOYEE_ID, or for decisions that of the output
 * decided on.
 */
function byEmployee(names: TenantNames, type: ListQuery['type'], test: string): string {
  return isFieldFilter(type, 'employeeId')
    ? `"EMPLOYEE_ID" ${test}`
    : `"OUTPUT_ID" IN (SELECT TEAM_O."RECORD_ID" FROM ${names.table('outputs')} TEAM_O WHERE TEAM_O."EMPLOYEE_ID" ${test})`;
}

/** Filter columns by ListFilter key (the Hub has checked each applies to the type). */
const FILTER_COLUMNS: Record<string, string> = {
  employeeId: '"EMPLOYEE_ID"',
  managerId: '"MANAGER_ID"',
  status: '"STATUS"',
  outcome: '"OUTCOME"',
  severity: '"SEVERITY"',
  action: '"ACTION"',
  outputId: '"OUTPUT_ID"',
};

/** List statement: created_at descending, then record_id descending. */
export function listStatement(names: TenantNames, query: ListQuery): Statement {
  const binds: (string | number)[] = [];
  const where: string[] = [];
  const f: ListFilter = query.filter;
  if (f.from !== undefined) {
    where.push(`"CREATED_AT" >= ${TS}`);
    binds.push(ntzText(f.from));
  }
  if (f.to !== undefined) {
    where.push(`"CREATED_AT" < ${TS}`);
    binds.push(ntzText(f.to));
  }
  if (f.skillIds !== undefined) {
    if (f.skillIds.length === 0) where.push('1 = 0');
    else {
      where.push(`"SKILL_ID" IN (${f.skillIds.map(() => '?').join(', ')})`);
      binds.push(...f.skillIds);
    }
  }
  for (const [key, ident] of Object.entries(FILTER_COLUMNS)) {
    const value = (f as Record<string, unknown>)[key];
    if (typeof value !== 'string') continue;
    if (isFieldFilter(query.type, key)) {
      where.push(`${ident} = ?`);
      binds.push(value);
    } else {
      // A decision's employee: the employee of the output decided on.
      const test = byEmployee(names, query.type, '= ?');
      binds.push(value);
      where.push(test);
    }
  }
  if (f.team !== undefined) {
    const ids = teamIdsSql(names, f.team, binds);
    where.push(byEmployee(names, query.type, `IN (${ids})`));
  }
  if (query.after) where.push(keysetClause(query.after, '<', binds));
  return {
    sql:
      `SELECT ${selectList(query.type, query.projection)} FROM ${names.table(query.type)}` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY "CREATED_AT" DESC, "RECORD_ID" DESC LIMIT ${checkedLimit(query.limit)}`,
    params: binds,
  };
}

/** Scan statement: created_at ascending, then record_id ascending. */
export function scanStatement(names: TenantNames, query: ScanQuery): Statement {
  const binds: (string | number)[] = [];
  const where = query.after ? ` WHERE ${keysetClause(query.after, '>', binds)}` : '';
  return {
    sql:
      `SELECT ${selectList(query.type)} FROM ${names.table(query.type)}${where}` +
      ` ORDER BY "CREATED_AT" ASC, "RECORD_ID" ASC LIMIT ${checkedLimit(query.limit)}`,
    params: binds,
  };
}
