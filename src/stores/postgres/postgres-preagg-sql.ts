/**
 * Rollups answered from the pre-aggregated cells (preagg.sql), exactly: each
 * range is split by {@link planRange} into whole cells, raw records at the
 * edges, and the feed rows not yet folded inside the cells' span; all read
 * by ONE statement, so one snapshot (the dashboard's four statements share a
 * REPEATABLE READ transaction). A tenant still waiting for its backfill is
 * answered from raw records by the same statement (a one-time filter).
 *
 * Rows come out shaped like the raw statements' in postgres-rollups.ts, whose
 * row mappers finish them with the same exact arithmetic.
 */
import type { CostPerSkillQuery, ManagerDashboardQuery, SkillsQuery, TeamScope } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import { type CellSpan, type RangePlan, type Span, chainFor, planRange } from './postgres-preagg-plan';
import { inTeamSql } from './postgres-team';
import { arrayLiteral } from './postgres-sql';
import type { Statement } from './queryable';

/** Width of a latency bin in milliseconds (`latency_ms / 128` in preagg.sql). */
const BIN = 128;

/** Bucket start of a timestamptz column (UTC buckets; weeks from Monday). */
function bucketOf(bucket: Bucket, col: string): string {
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

/** The end of the bucket starting at `col` (zone-independent). */
function bucketEnd(bucket: Bucket, col: string): string {
  switch (bucket) {
    case 'DAY':
      return `(${col} + interval '24 hours')`;
    case 'WEEK':
      return `(${col} + interval '168 hours')`;
    case 'MONTH':
      return `((${col} AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC')`;
    default:
      return unreachable(bucket);
  }
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}

/** Collects parameters; `$1` is always the tenant. */
class Params {
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
interface Who {
  /** ` AND <col> = ANY(team)` or ''. */
  readonly raw: (col: string) => string;
  /** The employee condition on cells: the team's ids, or '' (all employees). */
  readonly cells: (col: string) => string;
  readonly perEmployee: boolean;
}

function who(p: Params, team: TeamScope | undefined): Who {
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

const PENDING = `p AS (SELECT EXISTS (SELECT 1 FROM hub.rollup_pending WHERE tenant_id = $1) AS pending)`;
const IS_PENDING = '(SELECT pending FROM p)';

/** ` AND col >= a AND col < b` */
function within(p: Params, col: string, span: Span): string {
  return ` AND ${col} >= ${p.ts(span[0])} AND ${col} < ${p.ts(span[1])}`;
}

/**
 * SELECTs (joined by UNION ALL) of per-record rows: raw records over the raw
 * spans always, and over the cells' span raw records while the tenant is
 * pending, else the feed rows not yet folded (`feed` selects from
 * hub.rollup_feed and ends in a WHERE clause of its own kind).
 */
function recordSources(p: Params, plan: RangePlan, raw: string, feed: string, where: string): string[] {
  const out: string[] = [];
  for (const span of plan.raw)
    out.push(`${raw} WHERE tenant_id = $1${within(p, 'created_at', span)}${where}`);
  if (plan.covered) {
    const span = within(p, 'created_at', plan.covered);
    out.push(`${raw} WHERE ${IS_PENDING} AND tenant_id = $1${span}${where}`);
    out.push(`${feed} AND NOT ${IS_PENDING} AND tenant_id = $1${span}${where}`);
  }
  return out;
}

/** SELECTs of cells of `table` over each cell span (none while pending). */
function cellSources(p: Params, plan: RangePlan, table: string, columns: string, where: string): string[] {
  return plan.cells.map(
    (c: CellSpan) =>
      `SELECT ${columns} FROM hub.${table} WHERE NOT ${IS_PENDING} AND tenant_id = $1 AND grain = '${c.grain}' AND ${where}${within(p, 'start', c.span)}`,
  );
}

const union = (parts: readonly string[], empty: string): string =>
  parts.length === 0 ? empty : parts.join('\n  UNION ALL ');

/** Cost per skill from cells, edges and the feed; rows as costPerSkillRows reads them. */
export function costPerSkillPreaggStatement(tenant: TenantId, q: CostPerSkillQuery): Statement {
  const p = new Params(tenant);
  const w = who(p, q.team);
  const plan = planRange(Date.parse(q.from), Date.parse(q.to), chainFor(q.bucket, w.perEmployee));
  const skills = q.skillIds ? ` AND skill_id = ANY(${p.add(arrayLiteral(q.skillIds), 'text[]')})` : '';
  const B = (col: string): string => bucketOf(q.bucket, col);
  const rows = recordSources(
    p,
    plan,
    'SELECT skill_id, created_at, status AS tag, cost_usd, input_tokens, output_tokens, latency_ms FROM hub.outputs',
    "SELECT skill_id, created_at, tag, cost_usd, input_tokens, output_tokens, latency_ms FROM hub.rollup_feed WHERE kind = 'o'",
    `${skills}${w.raw('employee_id')}`,
  );
  const cellWhere = `${w.cells('employee_id')}${skills}`;
  const sums = cellSources(
    p,
    plan,
    'rollup_cells',
    `skill_id, ${B('start')} AS b, invocations, failed, cost_usd, input_tokens, output_tokens`,
    cellWhere,
  );
  const bins = cellSources(p, plan, 'rollup_latency_bins', `skill_id, ${B('start')} AS b, bin, n`, cellWhere);
  // Millisecond counts of the target bins only, cell span by cell span.
  const fine = plan.cells.map(
    (c) => `SELECT l.skill_id, t.b, l.latency_ms, l.n FROM tg t JOIN hub.rollup_latencies l
    ON l.tenant_id = $1 AND l.grain = '${c.grain}' AND ${w.cells('l.employee_id')} AND l.skill_id = t.skill_id
    AND l.start >= greatest(t.b, ${p.ts(c.span[0])}) AND l.start < least(${bucketEnd(q.bucket, 't.b')}, ${p.ts(c.span[1])})
    AND l.latency_ms >= t.bin * ${BIN} AND l.latency_ms < (t.bin + 1) * ${BIN}
    WHERE NOT ${IS_PENDING}`,
  );
  const sql = `WITH ${PENDING},
r AS MATERIALIZED (
  ${union(rows, 'SELECT NULL::text AS skill_id, NULL::timestamptz AS created_at, NULL::text AS tag, NULL::numeric AS cost_usd, NULL::int8 AS input_tokens, NULL::int8 AS output_tokens, NULL::int8 AS latency_ms WHERE false')}
),
s AS (
  SELECT skill_id, ${B('created_at')} AS b, count(*)::numeric AS inv,
    count(*) FILTER (WHERE tag <> 'SUCCEEDED')::numeric AS failed, sum(cost_usd) AS cost,
    sum(input_tokens)::numeric AS itok, sum(output_tokens)::numeric AS otok
  FROM r GROUP BY 1, 2
  ${sums.length > 0 ? `UNION ALL SELECT skill_id, b, sum(invocations), sum(failed), sum(cost_usd), sum(input_tokens), sum(output_tokens) FROM (\n  ${union(sums, '')}\n) c GROUP BY 1, 2` : ''}
),
tot AS (
  SELECT skill_id, b, sum(inv) AS inv, sum(failed) AS failed, sum(cost) AS cost, sum(itok) AS itok, sum(otok) AS otok
  FROM s GROUP BY 1, 2
),
lb AS (
  SELECT skill_id, ${B('created_at')} AS b, latency_ms / ${BIN} AS bin, count(*) AS n
  FROM r WHERE latency_ms IS NOT NULL GROUP BY 1, 2, 3
  ${bins.length > 0 ? `UNION ALL SELECT skill_id, b, bin, n FROM (\n  ${union(bins, '')}\n) c` : ''}
),
cum AS (
  SELECT skill_id, b, bin, n, sum(n) OVER (PARTITION BY skill_id, b ORDER BY bin) AS upto,
    sum(n) OVER (PARTITION BY skill_id, b) AS total
  FROM (SELECT skill_id, b, bin, sum(n) AS n FROM lb GROUP BY 1, 2, 3) x
),
tg AS (
  SELECT skill_id, b, bin, (upto - n)::int8 AS before, total::int8 AS total, (95 * (total::int8 - 1)) / 100 AS lo
  FROM cum WHERE upto > (95 * (total::int8 - 1)) / 100 AND upto - n <= (95 * (total::int8 - 1)) / 100 + 1
),
fine AS (
  SELECT r.skill_id, t.b, r.latency_ms, 1::int8 AS n FROM r JOIN tg t
    ON t.skill_id = r.skill_id AND t.b = ${B('r.created_at')} AND t.bin = r.latency_ms / ${BIN}
  ${fine.length > 0 ? `UNION ALL ${fine.join('\n  UNION ALL ')}` : ''}
),
fc AS (
  SELECT f.skill_id, f.b, f.latency_ms, m.lo,
    m.before + sum(f.n) OVER (PARTITION BY f.skill_id, f.b ORDER BY f.latency_ms) AS upto
  FROM (SELECT skill_id, b, latency_ms, sum(n) AS n FROM fine GROUP BY 1, 2, 3) f
  JOIN (SELECT skill_id, b, min(before) AS before, min(lo) AS lo FROM tg GROUP BY 1, 2) m USING (skill_id, b)
),
pk AS (
  SELECT skill_id, b, min(latency_ms) FILTER (WHERE upto > lo) AS a, min(latency_ms) FILTER (WHERE upto > lo + 1) AS bv
  FROM fc GROUP BY 1, 2
),
lt AS (SELECT skill_id, b, min(total) AS total FROM cum GROUP BY 1, 2)
SELECT t.skill_id, t.b AS bucket_start, t.inv AS invocations, t.failed, (t.cost * 1000000)::text AS micros,
  t.itok::text AS input_tokens, t.otok::text AS output_tokens,
  coalesce(lt.total, 0) AS lat_n, pk.a::text AS lat_a, pk.bv::text AS lat_b
FROM tot t LEFT JOIN lt USING (skill_id, b) LEFT JOIN pk USING (skill_id, b)
ORDER BY t.b, t.skill_id`;
  return { sql, params: p.values };
}

/** Skills of outputs in range from cells, edges and the feed; rows as skillsRows reads them. */
export function skillsPreaggStatement(tenant: TenantId, q: SkillsQuery): Statement {
  const p = new Params(tenant);
  const limit = p.add(q.limit, 'int');
  const w = who(p, q.team);
  const plan = planRange(Date.parse(q.from), Date.parse(q.to), chainFor(undefined, w.perEmployee));
  const after = q.after !== undefined ? ` AND skill_id > ${p.add(q.after, 'text')}` : '';
  const rows = recordSources(
    p,
    plan,
    'SELECT skill_id, cost_usd FROM hub.outputs',
    "SELECT skill_id, cost_usd FROM hub.rollup_feed WHERE kind = 'o'",
    `${after}${w.raw('employee_id')}`,
  );
  const cells = cellSources(
    p,
    plan,
    'rollup_cells',
    'skill_id, invocations, cost_usd',
    `${w.cells('employee_id')}${after}`,
  );
  const parts = [
    ...rows.map(
      (s) => `SELECT skill_id, count(*)::numeric AS inv, sum(cost_usd) AS cost FROM (${s}) r GROUP BY 1`,
    ),
    ...cells.map((s) => `SELECT skill_id, sum(invocations), sum(cost_usd) FROM (${s}) c GROUP BY 1`),
  ];
  const sql = `WITH ${PENDING}
SELECT skill_id, sum(inv) AS invocations, (sum(cost) * 1000000)::text AS micros
FROM (
  ${union(parts, 'SELECT NULL::text AS skill_id, 0::numeric AS inv, 0::numeric AS cost WHERE false')}
) x GROUP BY skill_id HAVING sum(inv) > 0 ORDER BY skill_id LIMIT ${limit}`;
  return { sql, params: p.values };
}

/**
 * The manager dashboard's four statements (members, top skills, decisions,
 * governance) from per-employee cells, edges and the feed; run them in one
 * REPEATABLE READ transaction. Results as managerDashboardResult reads them.
 */
export function managerDashboardPreaggStatements(tenant: TenantId, q: ManagerDashboardQuery): Statement[] {
  const fromMs = Date.parse(q.from);
  const toMs = Date.parse(q.to);
  // Each statement has its own parameters ($2 manager, $3 from, $4 to: the
  // team CTE below refers to them by number), as a statement must use all
  // the parameters it is given.
  const params = (): Params => {
    const p = new Params(tenant);
    p.add(q.managerId, 'text');
    p.ts(fromMs);
    p.ts(toMs);
    return p;
  };
  const team = `team AS MATERIALIZED (
  SELECT employee_id, display_name, archetype, level FROM (
    SELECT DISTINCT ON (employee_id) employee_id, display_name, archetype, level, manager_id
    FROM hub.employee_profiles
    WHERE tenant_id = $1 AND effective_at < $4::timestamptz
    ORDER BY employee_id, effective_at DESC, created_at DESC, record_id DESC
  ) cur WHERE manager_id = $2::text
)`;
  const inTeam = (col: string): string => `${col} = ANY(ARRAY(SELECT employee_id FROM team))`;
  const plan = planRange(fromMs, toMs, chainFor(undefined, true));
  const head = `WITH ${PENDING}, ${team}`;

  const sums = (key: string, p: Params): string => {
    const outputRows = recordSources(
      p,
      plan,
      'SELECT employee_id, skill_id, status AS tag, cost_usd FROM hub.outputs',
      "SELECT employee_id, skill_id, tag, cost_usd FROM hub.rollup_feed WHERE kind = 'o'",
      ` AND ${inTeam('employee_id')}`,
    );
    const outputCells = cellSources(
      p,
      plan,
      'rollup_cells',
      'employee_id, skill_id, invocations, failed, cost_usd',
      inTeam('employee_id'),
    );
    return union(
      [
        ...outputRows.map(
          (s) =>
            `SELECT ${key}, count(*)::numeric AS inv, count(*) FILTER (WHERE tag <> 'SUCCEEDED')::numeric AS failed, sum(cost_usd) AS cost FROM (${s}) r GROUP BY 1`,
        ),
        ...outputCells.map(
          (s) => `SELECT ${key}, sum(invocations), sum(failed), sum(cost_usd) FROM (${s}) c GROUP BY 1`,
        ),
      ],
      `SELECT NULL::text AS ${key}, 0::numeric AS inv, 0::numeric AS failed, 0::numeric AS cost WHERE false`,
    );
  };
  const pm = params();
  const members: Statement = {
    sql: `${head}, x AS (
  ${sums('employee_id', pm)}
)
SELECT t.employee_id, t.display_name, t.archetype, t.level,
  coalesce(sum(x.inv), 0) AS invocations, coalesce(sum(x.failed), 0) AS failed,
  (coalesce(sum(x.cost), 0) * 1000000)::text AS micros
FROM team t LEFT JOIN x ON x.employee_id = t.employee_id
GROUP BY t.employee_id, t.display_name, t.archetype, t.level
ORDER BY t.employee_id`,
    params: pm.values,
  };
  const ps = params();
  const skills: Statement = {
    sql: `${head}, x AS (
  ${sums('skill_id', ps)}
)
SELECT skill_id, sum(inv) AS invocations, (sum(cost) * 1000000)::text AS micros
FROM x GROUP BY skill_id HAVING sum(inv) > 0 ORDER BY sum(inv) DESC, skill_id LIMIT 5`,
    params: ps.values,
  };
  let p = params();

  // Decisions count by the employee of the output decided on.
  const decisionParts: string[] = [];
  const rawDecisions = (span: string, pendingOnly: boolean): string =>
    `SELECT count(*)::numeric AS total, count(*) FILTER (WHERE d.outcome = 'ACCEPTED')::numeric AS accepted,
    count(*) FILTER (WHERE d.outcome = 'ESCALATED')::numeric AS escalated
  FROM hub.decisions d JOIN hub.outputs o ON o.tenant_id = $1 AND o.record_id = d.output_id
  WHERE ${pendingOnly ? `${IS_PENDING} AND ` : ''}d.tenant_id = $1${span} AND ${inTeam('o.employee_id')}`;
  for (const span of plan.raw) decisionParts.push(rawDecisions(within(p, 'd.created_at', span), false));
  if (plan.covered) {
    decisionParts.push(rawDecisions(within(p, 'd.created_at', plan.covered), true));
    // Feed rows carry the employee when the output was stored first; else look it up now.
    decisionParts.push(`SELECT count(*), count(*) FILTER (WHERE f.tag = 'ACCEPTED'), count(*) FILTER (WHERE f.tag = 'ESCALATED')
  FROM hub.rollup_feed f
  WHERE NOT ${IS_PENDING} AND f.kind = 'd' AND f.tenant_id = $1${within(p, 'f.created_at', plan.covered)}
    AND ${inTeam(`coalesce(f.employee_id, (SELECT o.employee_id FROM hub.outputs o WHERE o.tenant_id = $1 AND o.record_id = f.output_id))`)}`);
    decisionParts.push(`SELECT count(*), count(*) FILTER (WHERE od.outcome = 'ACCEPTED'), count(*) FILTER (WHERE od.outcome = 'ESCALATED')
  FROM hub.rollup_orphan_decisions od JOIN hub.outputs o ON o.tenant_id = $1 AND o.record_id = od.output_id
  WHERE NOT ${IS_PENDING} AND od.tenant_id = $1${within(p, 'od.created_at', plan.covered)} AND ${inTeam('o.employee_id')}`);
  }
  for (const s of cellSources(
    p,
    plan,
    'rollup_decision_cells',
    'total, accepted, escalated',
    inTeam('employee_id'),
  )) {
    decisionParts.push(`SELECT sum(total), sum(accepted), sum(escalated) FROM (${s}) c`);
  }
  const decisions: Statement = {
    sql: `${head}
SELECT coalesce(sum(total), 0) AS total, coalesce(sum(accepted), 0) AS accepted, coalesce(sum(escalated), 0) AS escalations
FROM (
  ${decisionParts.join('\n  UNION ALL ')}
) x`,
    params: p.values,
  };

  p = params();
  const eventRows = recordSources(
    p,
    plan,
    'SELECT severity FROM hub.governance_events',
    "SELECT tag AS severity FROM hub.rollup_feed WHERE kind = 'g'",
    ` AND ${inTeam('employee_id')}`,
  );
  const eventCells = cellSources(p, plan, 'rollup_governance_cells', 'severity, n', inTeam('employee_id'));
  const governance: Statement = {
    sql: `${head}
SELECT severity, sum(n) AS n FROM (
  ${union(
    [
      ...eventRows.map((s) => `SELECT severity, count(*)::numeric AS n FROM (${s}) r GROUP BY 1`),
      ...eventCells.map((s) => `SELECT severity, sum(n) FROM (${s}) c GROUP BY 1`),
    ],
    'SELECT NULL::text AS severity, 0::numeric AS n WHERE false',
  )}
) x GROUP BY severity`,
    params: p.values,
  };
  return [members, skills, decisions, governance];
}
