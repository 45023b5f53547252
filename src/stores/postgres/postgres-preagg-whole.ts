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
 * unfolded, and every cell has its p95 statistics. Otherwise (or when there
 * is no cell at all) the statement returns one row whose `skill_id` is NULL and the store runs the general
 * statement instead (its own snapshot, so still exact); {@link wholeCellRows}
 * gives its rows the general statement's shape, read by costPerSkillRows.
 */
import type { CostPerSkillQuery } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import { type Grain, chainFor, planRange, wholeBuckets } from './postgres-preagg-plan';
import { Params } from './postgres-preagg-sources';
import { arrayLiteral } from './postgres-columns';
import { type Row, type Statement, parseTimestamptz } from './queryable';

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
SELECT c.skill_id, concat(c.start, ',', c.invocations, ',', c.failed, ',', c.cost_usd * 1000000, ',', c.input_tokens, ',',
  c.output_tokens, ',', c.lat_n, ',', c.lat_a, ',', c.lat_b) AS v
FROM g LEFT JOIN LATERAL (
  SELECT skill_id, start, invocations, failed, cost_usd, input_tokens, output_tokens, lat_n, lat_a, lat_b
  FROM hub.rollup_cells
  WHERE NOT g.other AND tenant_id = $1 AND grain = '${grain}' AND employee_id = ''
    AND start >= ${lo} AND start < ${hi}${skills}
) c ON true
ORDER BY c.start, c.skill_id`;
  return { sql, params: p.values, prepare: true, generic: true };
}

/**
 * The rows of {@link costPerSkillWholeStatement} in the shape costPerSkillRows
 * reads (the general statement's), or null when they are not the answer: it
 * found something else counting in the span or no cell (its NULL row), or a
 * cell without p95 statistics; the general statement answers then.
 *
 * Each row comes as its skill and ONE text of the nine other values, each in
 * its type's own text form (timestamptz in the session's UTC, numerics as
 * printed; an empty field is NULL), split here: the driver's cost of a
 * result is per field (a string decoded and a property set each), and for
 * 360 rows of ten fields that was the gateway's largest item of CPU (about a
 * quarter of its busy time); two fields cost about a third of the client's
 * CPU less, the backend the same.
 */
export function wholeCellRows(rows: readonly Row[]): Row[] | null {
  const out: Row[] = [];
  for (const r of rows) {
    if (r.skill_id === null || r.skill_id === undefined) return null;
    const [start = '', invocations, failed, micros, inputTokens, outputTokens, n = '', a = '', b = ''] =
      String(r.v).split(',');
    if (n === '') return null;
    out.push({
      skill_id: r.skill_id,
      bucket_start: parseTimestamptz(start),
      invocations,
      failed,
      micros,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      lat_n: n,
      lat_a: a === '' ? null : a,
      lat_b: b === '' ? null : b,
    });
  }
  return out;
}
