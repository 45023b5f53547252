/**
 * The pieces every pre-aggregated rollup statement is assembled from
 * (postgres-preagg-sql.ts, postgres-preagg-dashboard.ts): parameters, the
 * team condition, and the SELECTs of per-record rows (raw edges, unfolded
 * feed rows) and of whole cells over a {@link RangePlan}. While a tenant
 * waits for its backfill the same statement reads raw records instead of
 * cells (a one-time filter on `p`).
 *
 * A statement's text does not depend on the range: the plan's pieces are
 * parameters (two raw spans, empty when unused; the covered span, empty
 * when no cell is read; the cell spans as arrays, unnested), so a rollup has
 * one text per bucket and filter combination, kept prepared per connection
 * and planned once (a dozen CTEs took 1.5-3 ms to plan at every call when
 * the text followed the range).
 */
import { unreachable } from '../../hub/errors';
import type { TeamScope } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import { arrayLiteral } from './postgres-columns';
import type { RangePlan, RawSpan, Span } from './postgres-preagg-plan';
import { inTeamSql } from './postgres-team';

/** Width of a latency bin in milliseconds (`latency_ms / 128` in preagg.sql). */
export const BIN = 128;

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
      return unreachable(bucket, 'bucket');
  }
}

/**
 * Collects parameters; `$1` is always the tenant. Every value gets a
 * placeholder of its own (equal values are not merged): the text depends on
 * the order of the calls only, never on the values.
 */
export class Params {
  readonly values: unknown[];
  constructor(tenant: TenantId) {
    this.values = [tenant];
  }
  /** A placeholder for a timestamp in epoch ms. */
  ts(ms: number): string {
    return this.add(new Date(ms).toISOString(), 'timestamptz');
  }
  /** A placeholder `$n::type` for `value`. */
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
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

/** The condition selecting whose records and cells a rollup reads: everyone's, or `team`'s. */
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

/** ` AND col >= a AND col < b` over placeholders `[a, b]`. */
export function within(col: string, span: readonly [string, string]): string {
  return ` AND ${col} >= ${span[0]} AND ${col} < ${span[1]}`;
}

/**
 * The condition that a feed row (a statement's records, migration 19) may
 * hold records in `span`: the rows of hub.rollup_feed whose statement's
 * records all lie outside it are skipped before the view expands them.
 * Added beside {@link within} on `created_at`, which still decides per record.
 */
export function feedRowsWithin(span: readonly [string, string], alias = ''): string {
  return ` AND ${alias}first_at < ${span[1]} AND ${alias}last_at >= ${span[0]}`;
}

/** A raw span as placeholders: its bounds and its sign. */
export interface RawRef {
  readonly span: readonly [string, string];
  readonly sign: string;
}

/** The placeholders of a plan's pieces (see {@link planParams}). */
export interface PlanRefs {
  /** Always two (an edge each); an unused one is an empty span. */
  readonly raw: readonly [RawRef, RawRef];
  /** The cells' net span, where unfolded feed rows count (empty when no cell is read). */
  readonly covered: readonly [string, string];
  /** The cell spans: one array each of grains, starts, ends and signs. */
  readonly cells: { readonly g: string; readonly lo: string; readonly hi: string; readonly sign: string };
}

/**
 * Adds the parameters of `plan`'s pieces to `p`, always the same number in
 * the same order, so the statement built on them has one text whatever the
 * range (a plan has at most one raw span per edge).
 */
export function planParams(p: Params, plan: RangePlan): PlanRefs {
  const empty: RawSpan = { span: [0, 0], sign: 1 };
  const raw = (r: RawSpan): RawRef => ({
    span: [p.ts(r.span[0]), p.ts(r.span[1])],
    sign: p.add(r.sign, 'int'),
  });
  const [a = empty, b = empty, ...more] = plan.raw;
  if (more.length > 0) throw new Error('a range plan has at most two raw spans');
  const covered = plan.covered ?? ([0, 0] as Span);
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    raw: [raw(a), raw(b)],
    covered: [p.ts(covered[0]), p.ts(covered[1])],
    cells: {
      g: p.add(arrayLiteral(plan.cells.map((c) => c.grain)), '"char"[]'),
      lo: p.add(arrayLiteral(plan.cells.map((c) => iso(c.span[0]))), 'timestamptz[]'),
      hi: p.add(arrayLiteral(plan.cells.map((c) => iso(c.span[1]))), 'timestamptz[]'),
      sign: p.add(`{${plan.cells.map((c) => c.sign).join(',')}}`, 'int[]'),
    },
  };
}

/**
 * SELECTs (joined by UNION ALL) of per-record rows, each with its `sign` (1
 * or -1, first column): raw records over the two raw spans always, and over
 * the cells' span raw records while the tenant is pending, else the feed
 * rows not yet folded. `raw(sign)` and `feed(sign)` give the SELECT ... FROM
 * of either (`sign` an SQL expression), `feed`'s ending in a WHERE clause of
 * its own kind.
 */
export function recordSources(
  refs: PlanRefs,
  raw: (sign: string) => string,
  feed: (sign: string) => string,
  where: string,
): string[] {
  // One SELECT per raw span, bounds as parameters of their own: a range
  // clause the planner estimates as short (spans joined LATERAL from VALUES
  // were estimated at a tenth of the table, and with a skill filter a
  // 30-day rollup read the tenant's outputs by a sequential scan).
  const out: string[] = refs.raw.map(
    (r) => `${raw(r.sign)} WHERE tenant_id = $1${within('created_at', r.span)}${where}`,
  );
  const span = within('created_at', refs.covered);
  out.push(`${raw('1')} WHERE ${IS_PENDING} AND tenant_id = $1${span}${where}`);
  out.push(
    `${feed('1')} AND NOT ${IS_PENDING} AND tenant_id = $1${span}${feedRowsWithin(refs.covered)}${where}`,
  );
  return out;
}

/**
 * The SELECT of the cells of `table` over the plan's cell spans (none while
 * pending): one index range per span (LATERAL over the unnested spans),
 * planned once whatever their number. Its first column is the span's
 * `sign`, then `columns`.
 */
export function cellSource(refs: PlanRefs, table: string, columns: string, where: string): string {
  const c = refs.cells;
  // OFFSET 0 keeps the subquery from being pulled up into a join: planned
  // generic (no bounds known), a join was costed against a hash join over a
  // seq scan of the tenant's cells, and on a small table (200 k cells) took
  // it: 124 ms instead of 12. Kept per span, it is one index range each.
  return `SELECT s.sign, ${columns} FROM unnest(${c.g}, ${c.lo}, ${c.hi}, ${c.sign}) AS s(g, lo, hi, sign) CROSS JOIN LATERAL (SELECT * FROM hub.${table} WHERE NOT ${IS_PENDING} AND tenant_id = $1 AND grain = s.g AND ${where} AND start >= s.lo AND start < s.hi OFFSET 0) x`;
}

/** `parts` joined by UNION ALL, or `empty` (a SELECT of no rows with the right columns). */
export const union = (parts: readonly string[], empty: string): string =>
  parts.length === 0 ? empty : parts.join('\n  UNION ALL ');
