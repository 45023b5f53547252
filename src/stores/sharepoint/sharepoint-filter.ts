/**
 * A list's filter on SharePoint: the `$filter` clauses sent (indexed columns,
 * keyset) and the exact check of what comes back, since SharePoint compares
 * text case-insensitively.
 */
import type { HubRecord, RecordType } from '../../hub/model';
import type { Keyset, ListFilter } from '../../hub/store';
import { FILTER_COLUMNS, filterKeysOf, odataString } from './sharepoint-schema';

/** `$filter` clauses (on indexed columns only) for a list filter. */
export function filterClauses(type: RecordType, filter: ListFilter): string[] {
  const clauses: string[] = [];
  if (filter.from !== undefined) clauses.push(`HubCreatedAt ge ${odataString(filter.from)}`);
  if (filter.to !== undefined) clauses.push(`HubCreatedAt lt ${odataString(filter.to)}`);
  for (const key of filterKeysOf(type)) {
    const { column } = FILTER_COLUMNS[key];
    const value = filter[key];
    if (value === undefined) continue;
    const values: readonly string[] = typeof value === 'string' ? [value] : value;
    clauses.push(`(${values.map((v) => `${column} eq ${odataString(v)}`).join(' or ')})`);
  }
  return clauses;
}

/** Strictly after `k` in (created_at, record_id) order, descending or ascending. */
export function keysetClause(k: Keyset, desc: boolean): string {
  const op = desc ? 'lt' : 'gt';
  const c = odataString(k.created_at);
  return `(HubCreatedAt ${op} ${c} or (HubCreatedAt eq ${c} and HubRecordId ${op} ${odataString(k.record_id)}))`;
}

/**
 * The exact (case-sensitive) check of the filters on the record's own fields
 * (the derived ones are checked by the list's DerivedCheck).
 */
export function matches(r: HubRecord, f: ListFilter): boolean {
  const x = r as unknown as Record<string, unknown>;
  if (f.from !== undefined && r.created_at < f.from) return false;
  if (f.to !== undefined && r.created_at >= f.to) return false;
  if (f.managerId !== undefined && x.manager_id !== f.managerId) return false;
  for (const key of filterKeysOf(r.record_type)) {
    const { field } = FILTER_COLUMNS[key];
    const want = f[key];
    if (want === undefined) continue;
    if (typeof want === 'string' ? x[field] !== want : !want.includes(x[field] as string)) return false;
  }
  return true;
}
