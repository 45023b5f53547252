/**
 * Cost per skill over a range that is whole buckets only (a 30-day range by
 * day from UTC midnight, whole weeks by week, whole months by month: what a
 * dashboard asks for most), read from the all-employee cells of the bucket's
 * grain as they are: one index range, one row per cell, each cell's sums and
 * p95 statistics as stored. No raw edge, no partial bucket, so none of the
 * general statement's pieces (postgres-preagg-sql.ts): on the peer benchmark
 * that statement spent about as much backend CPU setting up and running its
 * empty edge, feed and percentile-search parts as reading the 360 cells.
 *
 * The cells answer alone only when nothing else counts in their span: the
 * tenant is not waiting for its backfill, no feed row of the span is still
 * unfolded, and every cell has its p95 statistics. Otherwise the statement
 * returns one row whose `skill_id` is NULL and the store runs the general
 * statement instead (its own snapshot, so still exact); the two statements'
 * rows have the same shape, read by costPerSkillRows.
 */
import type { CostPerSkillQuery } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import { type Grain, chainFor, planRange, wholeBuckets } from './postgres-preagg-plan';
import { Params } from './postgres-preagg-sources';
import { arrayLiteral } from './postgres-columns';
import type { Row, Statement } from './queryable';

/** The grain of cells that are one bucket each. */
const TOP_GRAIN: Readonly<Record<Bucket, Grain>> = { DAY: 'd', WEEK: 'w', MONTH: 'm' };

/**
 * The statement reading `q` from whole cells alone, or null when `q` is not
 * whole buckets only (edges inside a bucket, a team's rollup). Its text
 * depends only on the bucket and on whether skills are filtered (prepared,
 * generic plan).
 */
export function costPerSkillWholeStatement(tenant: TenantId, q: CostPerSkillQuery): Statement | null {
  if (q.team) return null;
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const grain = TOP_GRAIN[q.bucket];
  const { plan, whole } = wholeBuckets(planRange(from, to, chainFor(q.bucket, false)), grain);
  // Every piece of the range is a whole bucket's cell: nothing left in the
  // plan, and the whole span is the range itself.
  if (!whole || plan.raw.length > 0 || plan.cells.length > 0 || whole[0] !== from || whole[1] !== to)
    return null;
  const p = new Params(tenant);
  const lo = p.ts(from);
  const hi = p.ts(to);
  const skills = q.skillIds ? ` AND skill_id = ANY(${p.add(arrayLiteral(q.skillIds), 'text[]')})` : '';
  // Feed rows are in the span by created_at (whole buckets: the cells' span is the range).
  const sql = `WITH g AS MATERIALIZED (
  SELECT EXISTS (SELECT 1 FROM hub.rollup_pending WHERE tenant_id = $1)
    OR EXISTS (SELECT 1 FROM hub.rollup_feed WHERE tenant_id = $1 AND kind = 'o' AND created_at >= ${lo} AND created_at < ${hi}${skills})
    AS other
)
SELECT skill_id, start AS bucket_start, invocations, failed, (cost_usd * 1000000)::text AS micros,
  input_tokens::text AS input_tokens, output_tokens::text AS output_tokens, lat_n, lat_a::text AS lat_a, lat_b::text AS lat_b
FROM hub.rollup_cells
WHERE NOT (SELECT other FROM g) AND tenant_id = $1 AND grain = '${grain}' AND employee_id = ''
  AND start >= ${lo} AND start < ${hi}${skills}
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE (SELECT other FROM g)
ORDER BY bucket_start, skill_id`;
  return { sql, params: p.values, prepare: true, generic: true };
}

/**
 * Whether the rows of {@link costPerSkillWholeStatement} are the answer:
 * false when it found something else counting in the span (its NULL row) or
 * a cell without p95 statistics; the general statement answers then.
 */
export function wholeCellsAnswer(rows: readonly Row[]): boolean {
  return rows.every((r) => r.skill_id !== null && r.lat_n !== null);
}
