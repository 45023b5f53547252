/**
 * Nested lists for the PostgreSQL store: a page and its records' children in
 * one transaction and one round trip. The page runs as usual; the children
 * statement repeats the page's keyset query as a subquery (same parameters,
 * ids as uuid so the child index applies under RLS) and probes each parent's
 * children through a LATERAL subquery with its own LIMIT. Both statements run
 * in one REPEATABLE READ snapshot, so the children are those of exactly the
 * records the page returned, even while records arrive.
 */
import type { HubRecord } from '../../hub/model';
import type { ChildListQuery, ListQuery } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { listStatement, readColumnsOf, selectListOf } from './postgres-sql';
import type { Row, Statement } from './queryable';

/** Child filter keys and the column holding the parent's id. */
const CHILD_COLUMNS: Readonly<Record<ChildListQuery['key'], string>> = { outputId: 'output_id' };

/** The page statement and the statement of its records' children, to run in one snapshot. */
export function nestedListStatements(
  tenant: TenantId,
  query: ListQuery,
  children: ChildListQuery,
): [page: Statement, children: Statement] {
  const page = listStatement(tenant, query);
  const parentIds = listStatement(tenant, query, 'record_id, created_at');
  const column = CHILD_COLUMNS[children.key];
  const cols = selectListOf(readColumnsOf(children.type, children.projection), 't');
  const limit = `$${parentIds.params.length + 1}::int`;
  return [
    page,
    {
      sql: `SELECT x.* FROM (${parentIds.sql}) p CROSS JOIN LATERAL (
  SELECT ${cols} FROM hub.${children.type} t WHERE t.tenant_id = $1 AND t.${column} = p.record_id
  ORDER BY t.created_at DESC, t.record_id DESC LIMIT ${limit}
) x`,
      params: [...parentIds.params, children.limit],
      prepare: parentIds.prepare ?? false,
    },
  ];
}

/**
 * Splits the children rows by parent, in the parents' order. Each parent's
 * rows arrive in list order (its LATERAL probe reads its index range in
 * order); `toRecord` maps a row.
 */
export function childrenByParent(
  parents: readonly HubRecord[],
  rows: readonly Row[],
  children: ChildListQuery,
  toRecord: (row: Row) => HubRecord,
): HubRecord[][] {
  const column = CHILD_COLUMNS[children.key];
  const byParent = new Map<string, HubRecord[]>();
  for (const row of rows) {
    const parentId = String(row[column]);
    const list = byParent.get(parentId);
    if (list) list.push(toRecord(row));
    else byParent.set(parentId, [toRecord(row)]);
  }
  return parents.map((p) => byParent.get(p.record_id) ?? []);
}
