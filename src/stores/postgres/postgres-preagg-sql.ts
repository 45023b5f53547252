/**
 * Rollups answered from the pre-aggregated cells (preagg.sql,
 * preagg-stats.sql), exactly: each range is split by {@link planRange} into
 * whole cells, raw records at the edges, and the feed rows not yet folded
 * inside the cells' span; all read by ONE statement, so one snapshot. A
 * tenant still waiting for its backfill is answered from raw records by the
 * same statement (a one-time filter).
 *
 * Latency percentiles: a bucket made of one whole all-employee cell and
 * nothing else takes the cell's own p95 statistics; any other bucket locates
 * its two order statistics through the 128 ms bin counts of its pieces
 * (every cell's lat_bk / lat_bn; hour cells' since migration 12), then
 * reads only those bins' millisecond counts (one row per day, week or month
 * cell, looked up by key). Team-scoped
 * percentiles read the team's records (per-employee cells hold too few
 * records for counts to compress).
 *
 * Rows come out shaped like the raw statements' in postgres-rollups.ts, whose
 * row mappers finish them with the same exact arithmetic.
 */
import type { CostPerSkillQuery, SkillsQuery } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import { type Grain, TEAM_CHAIN, chainFor, planRange, wholeBuckets } from './postgres-preagg-plan';
import {
  BIN,
  PENDING,
  Params,
  type Who,
  IS_PENDING,
  bucketOf,
  cellSource,
  planParams,
  recordSources,
  union,
  who,
  within,
} from './postgres-preagg-sources';
import { arrayLiteral } from './postgres-columns';
import type { Statement } from './queryable';

/**
 * Sums per (skill, bucket) from records `r` and cells `cl`, each piece times
 * its sign, with what the percentile needs to know: `single` when the bucket
 * is one whole cell with its own statistics and no record with a latency
 * besides. A bucket whose pieces cancel out (a day cell minus all the hours
 * that had records) has no records: left out, as the raw computation has no
 * row for it.
 */
function totals(b: (col: string) => string): string {
  return `tot AS (
  SELECT skill_id, b, sum(inv) AS inv, sum(failed) AS failed, sum(cost) AS cost, sum(itok) AS itok, sum(otok) AS otok,
    count(*) FILTER (WHERE cell) = 1 AND sum(nr) = 0 AND min(lat_n) IS NOT NULL AS single,
    min(lat_n) AS lat_n, min(lat_a) AS lat_a, min(lat_b) AS lat_b
  FROM (
    SELECT skill_id, ${b('created_at')} AS b, sum(sign)::numeric AS inv,
      coalesce(sum(sign) FILTER (WHERE tag <> 'SUCCEEDED'), 0)::numeric AS failed, sum(sign * cost_usd) AS cost,
      sum(sign * input_tokens)::numeric AS itok, sum(sign * output_tokens)::numeric AS otok,
      false AS cell, count(latency_ms) AS nr, NULL::int8 AS lat_n, NULL::int8 AS lat_a, NULL::int8 AS lat_b
    FROM r GROUP BY 1, 2
    UNION ALL
    SELECT skill_id, b, sign * invocations, sign * failed, sign * cost_usd, sign * input_tokens, sign * output_tokens,
      true, 0, lat_n, lat_a, lat_b FROM cl
  ) s GROUP BY 1, 2 HAVING sum(inv) > 0
)`;
}

/**
 * Bins per coarse bin of the search's first pass: the pieces' 128 ms bins
 * summed per 1024 ms locate the coarse bin(s) holding the two ranks, and only
 * those bins' 128 ms counts are then ordered and summed. On ten million
 * outputs a cell has ~71 bins (an hour cell ~42), so a month's partial bucket
 * of 11 pieces ordered ~650 bins per skill; this way ~80 and ~70.
 */
const COARSE = 8;

/** A cell's key, for lookups one cell at a time (LATERAL: index probes, never a scan of the tenant's cells). */
const key = (x: string): string =>
  `${x}.tenant_id = $1 AND ${x}.grain = c.grain AND ${x}.employee_id = '' AND ${x}.start = c.start AND ${x}.skill_id = c.skill_id`;

/** Step 1: the pieces of partial buckets (`pa`) and the 128 ms bin(s) holding the two ranks (`tg`). */
function binSearch(b: (col: string) => string): string {
  return `pa AS MATERIALIZED (
  SELECT c.skill_id, c.b, c.sign, x.lat_bk, x.lat_bn
  FROM cl c JOIN tot t ON t.skill_id = c.skill_id AND t.b = c.b AND NOT t.single
  CROSS JOIN LATERAL (SELECT x.lat_bk, x.lat_bn FROM hub.rollup_cells x WHERE ${key('x')} OFFSET 0) x
),
lc AS (
  SELECT skill_id, ${b('created_at')} AS b, (latency_ms / ${BIN * COARSE})::int4 AS cb, sign::int4 AS n
  FROM r WHERE latency_ms IS NOT NULL
  UNION ALL
  SELECT pa.skill_id, pa.b, (e.k / ${COARSE})::int4, pa.sign * e.n::int4
  FROM pa CROSS JOIN LATERAL unnest(pa.lat_bk, pa.lat_bn) AS e(k, n)
),
ccum AS (
  SELECT skill_id, b, cb, n, sum(n) OVER (PARTITION BY skill_id, b ORDER BY cb) AS upto,
    sum(n) OVER (PARTITION BY skill_id, b) AS total
  FROM (SELECT skill_id, b, cb, sum(n)::int4 AS n FROM lc GROUP BY 1, 2, 3 HAVING sum(n) <> 0) x
),
ctg AS MATERIALIZED (
  SELECT skill_id, b, cb, upto - n AS before, total, (95 * (total - 1)) / 100 AS lo
  FROM ccum WHERE upto > (95 * (total - 1)) / 100 AND upto - n <= (95 * (total - 1)) / 100 + 1
),
lb AS (
  SELECT r.skill_id, t.b, t.cb, (r.latency_ms / ${BIN})::int4 AS bin, r.sign::int4 AS n
  FROM r JOIN ctg t ON t.skill_id = r.skill_id AND t.b = ${b('r.created_at')} AND t.cb = r.latency_ms / ${BIN * COARSE}
  UNION ALL
  SELECT pa.skill_id, pa.b, t.cb, e.k::int4, pa.sign * e.n::int4
  FROM pa JOIN ctg t ON t.skill_id = pa.skill_id AND t.b = pa.b
  CROSS JOIN LATERAL unnest(pa.lat_bk, pa.lat_bn) AS e(k, n)
  WHERE e.k / ${COARSE} = t.cb
),
cum AS (
  SELECT g.skill_id, g.b, g.bin, g.n, t.total, t.lo,
    t.before + sum(g.n) OVER (PARTITION BY g.skill_id, g.b, g.cb ORDER BY g.bin) AS upto
  FROM (SELECT skill_id, b, cb, bin, sum(n)::int4 AS n FROM lb GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0) g
  JOIN ctg t USING (skill_id, b, cb)
),
tg AS MATERIALIZED (
  SELECT skill_id, b, bin, upto - n AS before, total, lo FROM cum WHERE upto > lo AND upto - n <= lo + 1
)`;
}

/** Step 2: the milliseconds of the bins found (`tg`), their running counts, the order statistics (`pk`). */
function msSearch(b: (col: string) => string): string {
  return `fine AS (
  SELECT r.skill_id, t.b, r.latency_ms, r.sign::int4 AS n FROM r JOIN tg t
    ON t.skill_id = r.skill_id AND t.b = ${b('r.created_at')} AND t.bin = r.latency_ms / ${BIN}
  UNION ALL
  SELECT c.skill_id, c.b, e.m, c.sign * e.n::int4
  FROM tg t JOIN cl c ON c.skill_id = t.skill_id AND c.b = t.b AND c.grain = 'h'
  CROSS JOIN LATERAL (SELECT x.lat_ms, x.lat_ns FROM hub.rollup_cells x WHERE ${key('x')} OFFSET 0) x
  CROSS JOIN LATERAL unnest(x.lat_ms, x.lat_ns) AS e(m, n)
  WHERE e.m >= t.bin * ${BIN} AND e.m < (t.bin + 1) * ${BIN}
  UNION ALL
  SELECT c.skill_id, c.b, e.m, c.sign * e.n::int4
  FROM tg t JOIN cl c ON c.skill_id = t.skill_id AND c.b = t.b AND c.grain <> 'h'
  CROSS JOIN LATERAL (SELECT x.ms, x.ns FROM hub.rollup_bin_counts x WHERE ${key('x')} AND x.bin = t.bin OFFSET 0) x
  CROSS JOIN LATERAL unnest(x.ms, x.ns) AS e(m, n)
),
fc AS (
  SELECT f.skill_id, f.b, f.latency_ms, m.lo, m.total,
    m.before + sum(f.n) OVER (PARTITION BY f.skill_id, f.b ORDER BY f.latency_ms) AS upto
  FROM (SELECT skill_id, b, latency_ms, sum(n)::int4 AS n FROM fine GROUP BY 1, 2, 3 HAVING sum(n) <> 0) f
  JOIN (SELECT skill_id, b, min(before) AS before, min(lo) AS lo, min(total) AS total FROM tg GROUP BY 1, 2) m
    USING (skill_id, b)
),
pk AS (
  SELECT skill_id, b, min(total) AS total, min(latency_ms) FILTER (WHERE upto > lo) AS a,
    min(latency_ms) FILTER (WHERE upto > lo + 1) AS bv
  FROM fc GROUP BY 1, 2
)`;
}

/**
 * The p95 of buckets that are not a single cell: bins of the records and of
 * each cell (looked up by the cell's key), summed per coarse bin first, then
 * the 128 ms bins of the coarse bin(s) holding the two ranks, then those
 * bins' millisecond counts. Ends with `pk` per (skill, bucket): the count
 * (`total`) and the two order statistics.
 *
 * Counts are int4 per piece and bin (a cell's count in one 128 ms bin; a
 * larger one fails the cast, loudly), so sums and running sums are int8
 * arithmetic, not numeric (sum(int8) is numeric): half the statement's CPU
 * was this search.
 */
function assembledP95(b: (col: string) => string): string {
  return `${binSearch(b)},\n${msSearch(b)}`;
}

/** The p95 of a team's records per (skill, bucket), as the raw statement computes it. */
function teamP95(
  p: Params,
  q: CostPerSkillQuery,
  w: Who,
  skills: string,
  b: (col: string) => string,
): string {
  const range = `created_at >= ${p.ts(Date.parse(q.from))} AND created_at < ${p.ts(Date.parse(q.to))}`;
  return `tl AS (
  SELECT skill_id, ${b('created_at')} AS b, array_agg(latency_ms ORDER BY latency_ms) AS arr
  FROM hub.outputs WHERE tenant_id = $1 AND ${range} AND latency_ms IS NOT NULL${skills}${w.raw('employee_id')}
  GROUP BY 1, 2
)`;
}

/**
 * A team's cost per skill (every bucket a cell per member, and the p95 from
 * the team's records): the records `rows` and cells `cells` summed per
 * bucket, as one statement.
 */
function teamStatement(
  p: Params,
  q: CostPerSkillQuery,
  w: Who,
  rows: readonly string[],
  cells: string,
  skills: string,
): Statement {
  const b = (col: string): string => bucketOf(q.bucket, col);
  return {
    sql: `WITH ${PENDING},
r AS MATERIALIZED (
  ${rows.join('\n  UNION ALL ')}
),
cl AS MATERIALIZED (
  ${cells}
),
${totals(b)},
${teamP95(p, q, w, skills, b)}
SELECT ${SUMS}, coalesce(cardinality(tl.arr), 0) AS lat_n,
  tl.arr[(95 * (cardinality(tl.arr) - 1)) / 100 + 1]::text AS lat_a,
  tl.arr[(95 * (cardinality(tl.arr) - 1)) / 100 + 2]::text AS lat_b
FROM tot t LEFT JOIN tl USING (skill_id, b)
ORDER BY t.b, t.skill_id`,
    params: p.values,
    prepare: true,
    generic: true,
  };
}

/** A bucket's sums from `tot`, as the rows' mapper reads them. */
const SUMS = `t.skill_id, t.b AS bucket_start, t.inv AS invocations, t.failed, (t.cost * 1000000)::text AS micros,
  t.itok::text AS input_tokens, t.otok::text AS output_tokens`;

/**
 * Cost per skill over `q`'s range from cells, edges and the feed, as one
 * statement whose rows costPerSkillRows reads (the same shape as
 * costPerSkillStatement's over raw records). Its text depends only on the
 * bucket and on which filters are set (prepared; see postgres-preagg-sources.ts).
 */
export function costPerSkillPreaggStatement(tenant: TenantId, q: CostPerSkillQuery): Statement {
  const p = new Params(tenant);
  const w = who(p, q.team);
  const planned = planRange(Date.parse(q.from), Date.parse(q.to), chainFor(q.bucket, w.perEmployee));
  // Everyone's buckets that are one whole cell each are read apart (a team's
  // bucket is a cell per member).
  const { plan, whole } = w.perEmployee
    ? { plan: planned, whole: null }
    : wholeBuckets(planned, TOP_GRAIN[q.bucket]);
  const refs = planParams(p, plan);
  const skills = q.skillIds ? ` AND skill_id = ANY(${p.add(arrayLiteral(q.skillIds), 'text[]')})` : '';
  const b = (col: string): string => bucketOf(q.bucket, col);
  const rows = recordSources(
    refs,
    (sign) =>
      `SELECT ${sign} AS sign, skill_id, created_at, status AS tag, cost_usd, input_tokens, output_tokens, latency_ms FROM hub.outputs`,
    (sign) =>
      `SELECT ${sign} AS sign, skill_id, created_at, tag, cost_usd, input_tokens, output_tokens, latency_ms FROM hub.rollup_feed WHERE kind = 'o'`,
    `${skills}${w.raw('employee_id')}`,
  );
  const columns = `grain, start, skill_id, ${b('start')} AS b, invocations, failed, cost_usd, input_tokens, output_tokens, lat_n, lat_a, lat_b`;
  const cells = cellSource(refs, 'rollup_cells', columns, `${w.cells('employee_id')}${skills}`);
  if (w.perEmployee) return teamStatement(p, q, w, rows, cells, skills);
  // The whole buckets' cells (wc): each is its bucket's row, sums and p95
  // statistics as stored, unless an unfolded feed row shares its bucket and
  // skill (fb) or it has no statistics; those join the other pieces (cl).
  const span = [p.ts(whole?.[0] ?? 0), p.ts(whole?.[1] ?? 0)] as const;
  return {
    sql: `WITH ${PENDING},
r AS MATERIALIZED (
  ${rows.join('\n  UNION ALL ')}
),
fb AS MATERIALIZED (SELECT DISTINCT skill_id, ${b('created_at')} AS b FROM r),
wc AS MATERIALIZED (
  SELECT x.*, x.lat_n IS NOT NULL AND fb.b IS NULL AS alone FROM (
    SELECT ${columns} FROM hub.rollup_cells
    WHERE NOT ${IS_PENDING} AND tenant_id = $1 AND grain = '${TOP_GRAIN[q.bucket]}' AND employee_id = ''${within('start', span)}${skills}
  ) x LEFT JOIN fb ON fb.skill_id = x.skill_id AND fb.b = x.b
),
cl AS MATERIALIZED (
  ${cells}
  UNION ALL SELECT 1, ${columns.replace(` ${b('start')} AS b,`, ' b,')} FROM wc WHERE NOT alone
),
${totals(b)},
${assembledP95(b)}
SELECT ${SUMS},
  CASE WHEN t.single THEN t.lat_n ELSE coalesce(pk.total, 0) END AS lat_n,
  (CASE WHEN t.single THEN t.lat_a ELSE pk.a END)::text AS lat_a,
  (CASE WHEN t.single THEN t.lat_b ELSE pk.bv END)::text AS lat_b
FROM tot t LEFT JOIN pk USING (skill_id, b)
UNION ALL
SELECT skill_id, b, invocations::numeric, failed::numeric, (cost_usd * 1000000)::text, input_tokens::text,
  output_tokens::text, lat_n, lat_a::text, lat_b::text
FROM wc WHERE alone
ORDER BY bucket_start, skill_id`,
    params: p.values,
    prepare: true,
    generic: true,
  };
}

/** The grain of cells that are one bucket each. */
const TOP_GRAIN: Readonly<Record<Bucket, Grain>> = { DAY: 'd', WEEK: 'w', MONTH: 'm' };

/**
 * The skills of outputs in `q`'s range (optionally a team's) from cells,
 * edges and the feed, as one statement whose rows skillsRows reads; its text
 * depends only on which filters are set (prepared).
 */
export function skillsPreaggStatement(tenant: TenantId, q: SkillsQuery): Statement {
  const p = new Params(tenant);
  const limit = p.add(q.limit, 'int');
  const w = who(p, q.team);
  const refs = planParams(
    p,
    planRange(Date.parse(q.from), Date.parse(q.to), w.perEmployee ? TEAM_CHAIN : chainFor(undefined, false)),
  );
  const after = q.after !== undefined ? ` AND skill_id > ${p.add(q.after, 'text')}` : '';
  const rows = recordSources(
    refs,
    (sign) => `SELECT ${sign} AS sign, skill_id, cost_usd FROM hub.outputs`,
    (sign) => `SELECT ${sign} AS sign, skill_id, cost_usd FROM hub.rollup_feed WHERE kind = 'o'`,
    `${after}${w.raw('employee_id')}`,
  );
  const cells = [
    cellSource(refs, 'rollup_cells', 'skill_id, invocations, cost_usd', `${w.cells('employee_id')}${after}`),
  ];
  const parts = [
    ...rows.map(
      (s) =>
        `SELECT skill_id, sum(sign)::numeric AS inv, sum(sign * cost_usd) AS cost FROM (${s}) r GROUP BY 1`,
    ),
    ...cells.map(
      (s) => `SELECT skill_id, sum(sign * invocations), sum(sign * cost_usd) FROM (${s}) c GROUP BY 1`,
    ),
  ];
  const sql = `WITH ${PENDING}
SELECT skill_id, sum(inv) AS invocations, (sum(cost) * 1000000)::text AS micros
FROM (
  ${union(parts, 'SELECT NULL::text AS skill_id, 0::numeric AS inv, 0::numeric AS cost WHERE false')}
) x GROUP BY skill_id HAVING sum(inv) > 0 ORDER BY skill_id LIMIT ${limit}`;
  return { sql, params: p.values, prepare: true, generic: true };
}
