/**
 * The pieces every pre-aggregated rollup statement is assembled from
 * (postgres-preagg-sql.ts, postgres-preagg-dashboard.ts): parameters, the
 * team condition, and the SELECTs of per-record rows (raw edges, unfolded
 * feed rows) and of whole cells over a {@link RangePlan}. While a tenant
 * waits for its backfill the same statement reads raw records instead of
 * cells (a one-time filter on `p`).
 */
import type { TeamScope } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import type { CellSpan, RangePlan, Sign, Span } from './postgres-preagg-plan';
import { inTeamSql } from './postgres-team';

/** Width of a latency bin in milliseconds (`latency_ms / 128` in preagg.sql). */
export const BIN = 128;

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}

/** Bucket start of a timestamptz column (UTC buckets; weeks from Monday). */
export function bucketOf(bucket: Bucket, col: string): string {
  switch (bucket) {
    case 'DAY':
      return `date_bin('1 day', ${col}, timestamptz '2001-01-01 00:00:00+00')`;
    case 'WEEK':
      return `date_bin('7 days', ${col}, timestamptz '2001-01-01 00:00:00+00')`;
    case 'MONTH':
      return `date_trunc('month', ${col}, 'UTC')`;
    default:
      return unreachable(bucket);
  }
}

/** Collects parameters; `$1` is always the tenant. */
export class Params {
  readonly values: unknown[];
  private readonly cache = new Map<string, string>();
  constructor(tenant: TenantId) {
    this.values = [tenant];
  }
  /** A placeholder for a timestamp in epoch ms. */
  ts(ms: number): string {
    return this.add(new Date(ms).toISOString(), 'timestamptz');
  }
  add(value: unknown, type: string): string {
    const key = `${type}:${JSON.stringify(value)}`;
    const known = this.cache.get(key);
    if (known) return known;
    this.values.push(value);
    const ref = `$${this.values.length}::${type}`;
    this.cache.set(key, ref);
    return ref;
  }
}

/** Whose records: all, or a team's (the team as an InitPlan array). */
export interface Who {
  /** ` AND <col> = ANY(team)` or ''. */
  readonly raw: (col: string) => string;
  /** The employee condition on cells: the team's ids, or '' (all employees). */
  readonly cells: (col: string) => string;
  readonly perEmployee: boolean;
}

export function who(p: Params, team: TeamScope | undefined): Who {
  if (!team) {
    return { raw: () => '', cells: (col) => `${col} = ''`, perEmployee: false };
  }
  const test = inTeamSql({
    tenant: '$1',
    managerId: p.add(team.managerId, 'text'),
    asOf: p.add(team.asOf, 'timestamptz'),
  });
  return { raw: (col) => ` AND ${col} ${test}`, cells: (col) => `${col} ${test}`, perEmployee: true };
}

/** The CTE telling whether the tenant still waits for its backfill. */
export const PENDING = `p AS (SELECT EXISTS (SELECT 1 FROM hub.rollup_pending WHERE tenant_id = $1) AS pending)`;
export const IS_PENDING = '(SELECT pending FROM p)';

/** ` AND col >= a AND col < b` */
export function within(p: Params, col: string, span: Span): string {
  return ` AND ${col} >= ${p.ts(span[0])} AND ${col} < ${p.ts(span[1])}`;
}

/** `(VALUES (...), ...) AS s(<names>)` of the given rows: one plan for all spans. */
function values(rows: readonly string[], names: string): string {
  return `(VALUES ${rows.map((r) => `(${r})`).join(', ')}) AS s(${names})`;
}

/**
 * SELECTs (joined by UNION ALL) of per-record rows, each with its `sign` (1
 * or -1, first column): raw records over the raw spans always, and over the
 * cells' span raw records while the tenant is pending, else the feed rows
 * not yet folded. `raw(sign)` and `feed(sign)` give the SELECT ... FROM of
 * either, `feed`'s ending in a WHERE clause of its own kind.
 */
export function recordSources(
  p: Params,
  plan: RangePlan,
  raw: (sign: string) => string,
  feed: (sign: string) => string,
  where: string,
): string[] {
  // One SELECT per raw span (at most two), bounds as parameters of their
  // own: the planner sees how short an edge is. Spans joined LATERAL from
  // VALUES were estimated at a tenth of the table, and with a skill filter
  // a 30-day rollup read the tenant's outputs by a sequential scan (240 ms
  // instead of 1 on 1 M outputs; 1 s and more on a busy machine).
  const out: string[] = plan.raw.map(
    (r) => `${raw(signOf(r.sign))} WHERE tenant_id = $1${within(p, 'created_at', r.span)}${where}`,
  );
  if (plan.covered) {
    const span = within(p, 'created_at', plan.covered);
    out.push(`${raw(signOf(1))} WHERE ${IS_PENDING} AND tenant_id = $1${span}${where}`);
    out.push(`${feed(signOf(1))} AND NOT ${IS_PENDING} AND tenant_id = $1${span}${where}`);
  }
  return out;
}

/** A sign as an SQL integer literal. */
export const signOf = (sign: Sign): string => (sign > 0 ? '1' : '-1');

/**
 * The SELECT of the cells of `table` over the plan's cell spans (none while
 * pending), or none without cells: one index range per span (LATERAL over
 * the spans), planned once whatever their number. Its first column is the
 * span's `sign`, then `columns`.
 */
export function cellSources(
  p: Params,
  plan: RangePlan,
  table: string,
  columns: string,
  where: string,
): string[] {
  if (plan.cells.length === 0) return [];
  const spans = values(
    plan.cells.map(
      (c: CellSpan) => `'${c.grain}'::"char", ${p.ts(c.span[0])}, ${p.ts(c.span[1])}, ${signOf(c.sign)}`,
    ),
    'g, lo, hi, sign',
  );
  return [
    `SELECT s.sign, ${columns} FROM ${spans} CROSS JOIN LATERAL (SELECT * FROM hub.${table} WHERE NOT ${IS_PENDING} AND tenant_id = $1 AND grain = s.g AND ${where} AND start >= s.lo AND start < s.hi) x`,
  ];
}

/** `parts` joined by UNION ALL, or `empty` (a SELECT of no rows with the right columns). */
export const union = (parts: readonly string[], empty: string): string =>
  parts.length === 0 ? empty : parts.join('\n  UNION ALL ');
