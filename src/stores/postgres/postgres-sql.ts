/**
 * SQL that reads records: select lists, get-by-ids, keyset list and scan
 * statements, and the mapping of rows back to records that round-trip exactly
 * (so provenance verifies after a read). Shared by the `pg` and PGlite
 * drivers. Columns: postgres-columns.ts; bulk inserts: postgres-insert-sql.ts.
 */
import { parseDecimal } from '../../hub/decimal';
import { HubError } from '../../hub/errors';
import { isFieldFilter } from '../../hub/filters';
import { BODY_NOT_READ, type HubRecord, type RecordType } from '../../hub/model';
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
import { isUuid } from '../../hub/uuid';
import type { Row, Statement } from './queryable';
import { parseTimestamptz } from './queryable';
import { inTeamSql } from './postgres-team';
import { type Column, arrayLiteral, columnsOf } from './postgres-columns';

/**
 * The columns a read selects: every stored column, or all but `body` when
 * the projection leaves the body out (the column is then never read, so its
 * TOASTed bytes are neither fetched nor sent).
 */
export function readColumnsOf(type: RecordType, projection?: ReadProjection): readonly Column[] {
  const cols = columnsOf(type);
  return skipsBody(projection) ? cols.filter((c) => c.kind !== 'bytes') : cols;
}

/**
 * A select list of `columns` (uuids as text, bytes as base64 text), each
 * prefixed by `alias.` when given. Bytes are read as base64, not as bytea:
 * `pg` receives bytea as hex text (twice the body's size) and decodes it as the
 * row arrives, about 70 ms of the event loop in one step for a 10 MiB body
 * (its binary result format decodes the bytes as UTF-8, so cannot carry
 * them); base64 is a third smaller and decodes (in {@link recordFromRow})
 * about seven times faster.
 */
export function selectListOf(columns: readonly Column[], alias?: string): string {
  const at = alias ? `${alias}.` : '';
  return columns
    .map((c) =>
      c.kind === 'uuid'
        ? `${at}${c.name}::text AS ${c.name}`
        : c.kind === 'bytes'
          ? `encode(${at}${c.name}, 'base64') AS ${c.name}`
          : `${at}${c.name}`,
    )
    .join(', ');
}

const selectLists = new Map<string, string>();

/** The select list of a type's rows, built once per type and projection: lists ask for it per call. */
const selectList = (type: RecordType, projection?: ReadProjection): string => {
  const key = skipsBody(projection) ? `${type}-nobody` : type;
  let list = selectLists.get(key);
  if (list === undefined) {
    list = selectListOf(readColumnsOf(type, projection));
    selectLists.set(key, list);
  }
  return list;
};

/** Fetches records by id; the caller puts them in key order. Ids must be lowercase UUIDs. */
export function getByIdsStatement(
  tenant: TenantId,
  type: RecordType,
  ids: readonly string[],
  projection?: ReadProjection,
): Statement {
  return {
    sql: `SELECT ${selectList(type, projection)} FROM hub.${type} WHERE tenant_id = $1 AND record_id = ANY($2::uuid[])`,
    params: [tenant, arrayLiteral(ids)],
    prepare: true,
  };
}

/** Column and SQL cast each list filter compares. */
const FILTER_COLUMNS: Record<
  Exclude<keyof ListFilter, 'from' | 'to' | 'skillIds' | 'team'>,
  [string, string]
> = {
  employeeId: ['employee_id', 'text'],
  managerId: ['manager_id', 'text'],
  status: ['status', 'text'],
  outcome: ['outcome', 'text'],
  severity: ['severity', 'text'],
  action: ['action', 'text'],
  outputId: ['output_id', 'uuid'],
};

/**
 * A condition keeping records whose employee satisfies `test` (`= ANY(...)`,
 * `= $n`): the record's own employee_id, or, for decisions, that of the
 * output decided on (a semi-join on the outputs' primary key).
 */
function byEmployee(type: RecordType, test: string): string {
  return isFieldFilter(type, 'employeeId')
    ? `employee_id ${test}`
    : `output_id IN (SELECT o.record_id FROM hub.outputs o WHERE o.tenant_id = $1 AND o.employee_id ${test})`;
}

function checkKeyset(after: Keyset | undefined): void {
  if (after && !isUuid(after.record_id))
    throw new HubError('VALIDATION', 'cursor position has an invalid record_id');
}

/**
 * Keyset page in (created_at DESC, record_id DESC) order. Each filter becomes
 * an equality on a column that leads a tenant-scoped index together with
 * created_at, so the page is read from an index backwards, never sorted.
 * `columns` replaces the select list (it must include `created_at` and
 * `record_id`, which order the page).
 *
 * With `genericPlan`, a page of at most one skill is written for a generic
 * plan and marked {@link Statement.generic}: see {@link boundedPage}.
 */
export function listStatement(
  tenant: TenantId,
  query: ListQuery,
  columns: string = selectList(query.type, query.projection),
  genericPlan = false,
): Statement {
  const { type, filter } = query;
  checkKeyset(query.after);
  const params: unknown[] = [tenant];
  const where = ['tenant_id = $1'];
  const param = (value: unknown, cast: string): string => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  let skills: readonly string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (key === 'from') where.push(`created_at >= ${param(value, 'timestamptz')}`);
    else if (key === 'to') where.push(`created_at < ${param(value, 'timestamptz')}`);
    else if (key === 'skillIds') skills = value as readonly string[];
    else if (key === 'team') {
      const team = value as TeamScope;
      const test = inTeamSql({
        tenant: '$1',
        managerId: param(team.managerId, 'text'),
        asOf: param(team.asOf, 'timestamptz'),
      });
      where.push(byEmployee(type, test));
    } else if (!isFieldFilter(type, key)) {
      // A decision's employee: the employee of the output decided on.
      where.push(byEmployee(type, `= ${param(value, 'text')}`));
    } else {
      const [column, cast] = FILTER_COLUMNS[key as keyof typeof FILTER_COLUMNS];
      where.push(`${column} = ${param(value, cast)}`);
    }
  }
  if (query.after) {
    where.push(
      `(created_at, record_id) < (${param(query.after.created_at, 'timestamptz')}, ${param(query.after.record_id, 'uuid')})`,
    );
  }
  // Unqualified, `record_id` in ORDER BY is the select list's text alias: an
  // order the index does not deliver (an incremental sort on every page).
  // One page orders by the table's columns; the merged pages of several
  // skills keep the alias, as before, which their outer merge orders by.
  const order = 'ORDER BY created_at DESC, record_id DESC';
  const tableOrder = 'ORDER BY r.created_at DESC, r.record_id DESC';
  const limit = param(query.limit, 'int');
  const cols = columns;
  const page = (extra: string, by: string): string =>
    `SELECT ${cols} FROM hub.${type} r WHERE ${[...where, ...(extra ? [extra] : [])].join(' AND ')} ${by} LIMIT ${limit}`;
  if (skills.length <= 1) {
    const skill = skills.length === 1 ? `skill_id = ${param(skills[0], 'text')}` : '';
    // One of a few dozen texts per type (one per filter combination): prepared.
    if (!genericPlan) return { sql: page(skill, tableOrder), params, prepare: true };
    return {
      sql: boundedPage(page(skill, tableOrder), query.limit, limit),
      params,
      prepare: true,
      generic: true,
    };
  }
  // Several skills: one index range per skill, each already in page order,
  // merged (Merge Append) and cut to the page: never a sort of every match.
  const parts = skills.map((skill) => `(${page(`skill_id = ${param(skill, 'text')}`, order)})`);
  return { sql: `SELECT * FROM (${parts.join(' UNION ALL ')}) AS pages ${order} LIMIT ${limit}`, params };
}

/**
 * A page (`... LIMIT $n`) rewritten for a generic plan: the same page, its
 * inner LIMIT the smallest power of two >= `limit` written in the text, cut
 * to `$n` outside. A generic plan cannot see `$n`: PostgreSQL then plans for
 * a tenth of every row the filter matches, and the more rows that is (a
 * large tenant, rows out of time order, not cached), the cheaper a bitmap
 * scan and a sort of all of them look against the index read in page order.
 * With the bound in the text it plans for at most twice the page, as a
 * custom plan would (on 20,000 to 180,000 rows both chose the index; the
 * schema test checks the generic plans). The executor pulls only `$n` rows
 * through both limits, in the inner query's order (a subquery scan keeps
 * it). Pages up to 512 rows (the Hub asks for at most 501) have ten bounds:
 * at most ten texts per filter combination.
 */
function boundedPage(pageSql: string, limit: number, limitParam: string): string {
  const bound = 2 ** Math.ceil(Math.log2(Math.max(1, limit)));
  const inner = pageSql.slice(0, pageSql.lastIndexOf(` LIMIT ${limitParam}`));
  return `SELECT * FROM (${inner} LIMIT ${bound}) AS page LIMIT ${limitParam}`;
}

/**
 * Scan page in (created_at, record_id) ascending order. The order names the
 * table's columns (`r.`): unqualified, `record_id` would be the select list's
 * text alias, which the `(tenant_id, created_at, record_id)` index does not
 * deliver, so every page was sorted; on a table not yet analysed (a tenant
 * just loaded) the planner then fetched and sorted every row after the
 * position for each page of a copy.
 */
export function scanStatement(tenant: TenantId, query: ScanQuery): Statement {
  checkKeyset(query.after);
  const after = query.after ? ' AND (r.created_at, r.record_id) > ($3::timestamptz, $4::uuid)' : '';
  return {
    sql: `SELECT ${selectList(query.type)} FROM hub.${query.type} r WHERE r.tenant_id = $1${after} ORDER BY r.created_at, r.record_id LIMIT $2::int`,
    params: query.after
      ? [tenant, query.limit, query.after.created_at, query.after.record_id]
      : [tenant, query.limit],
    prepare: true,
  };
}

/** A numeric as printed by the database (`12.340000`) in canonical decimal form (`12.34`). */
export function canonicalNumeric(value: unknown): string {
  const parsed = parseDecimal(String(value));
  if (!parsed.ok) throw new HubError('INTERNAL', 'database returned a malformed decimal');
  return parsed.value;
}

const CANONICAL_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * {@link canonicalNumeric} for a numeric as PostgreSQL prints it (`-12.340000`,
 * `5.000000`, `0.000000`): trailing fractional zeros dropped without a regular
 * expression (a list page converts hundreds of these). Anything else takes
 * the general path.
 */
export function canonicalDbNumeric(text: string): string {
  const dot = text.indexOf('.');
  if (dot < 0) return canonicalNumeric(text);
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (end === dot + 1) end = dot;
  const out = end === text.length ? text : text.slice(0, end);
  // `-0.000000` is zero: canonical zero has no sign.
  return out === '-0' ? '0' : out;
}

function fromDb(kind: Column['kind'], value: unknown): unknown {
  switch (kind) {
    case 'int':
      return Number(value);
    case 'decimal':
      return typeof value === 'string' ? canonicalDbNumeric(value) : canonicalNumeric(value);
    case 'timestamp':
      // The drivers' type parser already gave the canonical text (see TYPE_PARSERS).
      if (typeof value === 'string' && CANONICAL_TIMESTAMP.test(value)) return value;
      return value instanceof Date ? value.toISOString() : parseTimestamptz(String(value));
    case 'bytes':
      // Base64 text as selected (selectListOf); a driver's bytes when read otherwise.
      if (typeof value === 'string') return Buffer.from(value, 'base64');
      return Buffer.isBuffer(value)
        ? value
        : Buffer.from(
            (value as Uint8Array).buffer,
            (value as Uint8Array).byteOffset,
            (value as Uint8Array).byteLength,
          );
    default:
      return value;
  }
}

/**
 * Rebuilds a record from a row: absent optional fields stay undefined (never
 * null), ints become numbers, decimals canonical strings, timestamps canonical
 * millisecond strings, JSON as parsed, the artifact body a Buffer (BODY_NOT_READ
 * when the row has no body column: a read that left it out).
 */
export function recordFromRow(tenant: TenantId, type: RecordType, row: Row): HubRecord {
  const rec: Record<string, unknown> = {
    record_id: row.record_id,
    tenant_id: tenant,
    record_type: type,
    created_at: fromDb('timestamp', row.created_at),
  };
  if (row.attributes !== null && row.attributes !== undefined) rec.attributes = row.attributes;
  for (const col of columnsOf(type)) {
    if (col.name === 'record_id' || col.name === 'created_at' || col.name === 'attributes') continue;
    if (col.name === 'provenance_hash') continue;
    const value = row[col.name];
    if (value === null || value === undefined) continue;
    rec[col.name] = fromDb(col.kind, value);
  }
  rec.provenance_hash = row.provenance_hash;
  // A row read without its body column (a projection): the record says so.
  if (type === 'artifacts' && rec.body === undefined) rec.body = BODY_NOT_READ;
  return rec as unknown as HubRecord;
}
