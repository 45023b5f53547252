/**
 * The rollups in SQL, with exactly the semantics of
 * src/hub/rollups/reference.ts. The database does the grouping, filtering,
 * ordering, exact sums (numeric, returned in micro-units) and picks the two
 * order statistics a continuous percentile needs; the final exact rational
 * and its half-away-from-zero rounding are done in TypeScript with the same
 * bigint helpers the reference uses, so the numbers agree to the last digit.
 */
import { fromMicros, roundRatio } from '../../hub/decimal';
import type { Level, Severity } from '../../hub/model';
import { SEVERITIES } from '../../hub/model';
import type {
  ArchetypeProgressionQuery,
  ArchetypeProgressionRow,
  CostPerSkillQuery,
  CostPerSkillRow,
  ManagerDashboard,
  ManagerDashboardQuery,
  ManagerRow,
  ManagersQuery,
  SkillRow,
  SkillsQuery,
  TeamScope,
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { Bucket } from '../../hub/time';
import { MS_PER_DAY } from '../../hub/time';
import { arrayLiteral } from './postgres-columns';
import type { Row, Statement } from './queryable';
import { inTeamSql } from './postgres-team';
import { micros, percentileFromStats, totalAndAverage } from './rollup-finish';

/**
 * ` AND employee_id = ANY(<the team's ids>)` with the scope's parameters
 * appended to `params` (tenant is `$1`); empty without a scope.
 */
function teamClause(team: TeamScope | undefined, params: unknown[], column = 'employee_id'): string {
  if (!team) return '';
  params.push(team.managerId, team.asOf);
  const test = inTeamSql({
    tenant: '$1',
    managerId: `$${params.length - 1}::text`,
    asOf: `$${params.length}::timestamptz`,
  });
  return ` AND ${column} ${test}`;
}

/**
 * The SQL expression giving a record's bucket start. Days and weeks are fixed
 * widths in UTC, so `date_bin` (plain arithmetic from a Monday origin) gives
 * the bucket; it costs about a quarter less statement time than the
 * zone-aware `date_trunc(..., 'UTC')` on a 30-day rollup of 8k rows. Months
 * are not fixed widths: `date_trunc` with an explicit 'UTC' zone, so buckets
 * never depend on the session TimeZone.
 */
const BUCKET_START: Readonly<Record<Bucket, string>> = {
  DAY: `date_bin('1 day', created_at, timestamptz '2001-01-01 00:00:00+00')`,
  // 2001-01-01 is a Monday: weeks start on Monday (ISO), as the model requires.
  WEEK: `date_bin('7 days', created_at, timestamptz '2001-01-01 00:00:00+00')`,
  MONTH: `date_trunc('month', created_at, 'UTC')`,
};

/**
 * SQL picking, from a sorted array `arr`, what percentileCont needs: the count
 * `c`, the lower value `a` at position floor(p(c-1)/100) and the next one `b`.
 */
const orderStats = (arr: string, p: number, prefix: string): string => `
  cardinality(${arr}) AS ${prefix}_n,
  ${arr}[(${p} * (cardinality(${arr}) - 1)) / 100 + 1]::text AS ${prefix}_a,
  ${arr}[(${p} * (cardinality(${arr}) - 1)) / 100 + 2]::text AS ${prefix}_b`;

/**
 * Cost per skill over `q`'s range from the raw outputs (the reference the
 * pre-aggregated statement must equal; used while no cells serve and by the
 * benchmarks as the baseline): one row per (skill, bucket), ordered by bucket
 * then skill, with exact sums in micro-units and the p95's order statistics.
 * Rows are finished by {@link costPerSkillRows}.
 */
export function costPerSkillStatement(tenant: TenantId, q: CostPerSkillQuery): Statement {
  const params: unknown[] = [tenant, q.from, q.to];
  let skills = '';
  if (q.skillIds) {
    params.push(arrayLiteral(q.skillIds));
    skills = ' AND skill_id = ANY($4::text[])';
  }
  skills += teamClause(q.team, params);
  return {
    sql: `WITH g AS (
  SELECT skill_id, ${BUCKET_START[q.bucket]} AS bucket_start,
    count(*) AS invocations,
    count(*) FILTER (WHERE status <> 'SUCCEEDED') AS failed,
    sum(cost_usd) * 1000000 AS micros,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    array_agg(latency_ms ORDER BY latency_ms) FILTER (WHERE latency_ms IS NOT NULL) AS lat
  FROM hub.outputs
  WHERE tenant_id = $1 AND created_at >= $2::timestamptz AND created_at < $3::timestamptz${skills}
  GROUP BY 1, 2
)
SELECT skill_id, bucket_start, invocations, failed, micros::text AS micros,
  input_tokens::text AS input_tokens, output_tokens::text AS output_tokens, ${orderStats('lat', 95, 'lat')}
FROM g ORDER BY bucket_start, skill_id`,
    params,
  };
}

/**
 * Finishes cost-per-skill rows (from {@link costPerSkillStatement} or the
 * pre-aggregated statement, same shape): exact totals and averages (half away
 * from zero on micro-units) and the continuous p95 latency, exactly as the
 * reference computes them.
 */
export function costPerSkillRows(rows: readonly Row[]): CostPerSkillRow[] {
  return rows.map((r) => {
    const invocations = Number(r.invocations);
    const [total, avg] = totalAndAverage(r.micros, invocations);
    return {
      skill_id: String(r.skill_id),
      bucket_start: String(r.bucket_start),
      invocations,
      failed: Number(r.failed),
      total_cost_usd: total,
      avg_cost_usd: avg,
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
      p95_latency_ms: percentileFromStats(r.lat_n, r.lat_a, r.lat_b, 95, 1),
    };
  });
}

/**
 * Level transitions per archetype whose later version is effective in `q`'s
 * range (optionally one archetype, a team's people), with transitions,
 * distinct employees and the median gap's order statistics; read the rows
 * with {@link archetypeProgressionRows}.
 */
export function archetypeProgressionStatement(tenant: TenantId, q: ArchetypeProgressionQuery): Statement {
  const params: unknown[] = [tenant, q.from, q.to];
  let archetype = '';
  if (q.archetype !== undefined) {
    params.push(q.archetype);
    archetype = ' AND archetype = $4::text';
  }
  // The team is a set of people: their whole version history is read (a
  // transition's earlier version may predate the team).
  const team = teamClause(q.team, params);
  // Versions ordered per person by effective_at, then created_at, then
  // record_id (compareVersions); the gap is exact milliseconds (numeric epoch).
  return {
    sql: `WITH v AS (
  SELECT employee_id, archetype, level, effective_at,
    lag(level) OVER w AS prev_level, lag(effective_at) OVER w AS prev_effective_at
  FROM hub.employee_profiles WHERE tenant_id = $1${team}
  WINDOW w AS (PARTITION BY employee_id ORDER BY effective_at, created_at, record_id)
), t AS (
  SELECT archetype, prev_level AS from_level, level AS to_level, employee_id,
    ((extract(epoch FROM effective_at) - extract(epoch FROM prev_effective_at)) * 1000)::int8 AS gap_ms
  FROM v
  WHERE prev_level IS NOT NULL AND prev_level <> level
    AND effective_at >= $2::timestamptz AND effective_at < $3::timestamptz${archetype}
), g AS (
  SELECT archetype, from_level, to_level, count(*) AS transitions,
    count(DISTINCT employee_id) AS employees, array_agg(gap_ms ORDER BY gap_ms) AS gaps
  FROM t GROUP BY 1, 2, 3
)
SELECT archetype, from_level, to_level, transitions, employees, ${orderStats('gaps', 50, 'gap')}
FROM g ORDER BY archetype, from_level, to_level`,
    params,
  };
}

/** Finishes archetype-progression rows: the exact median gap in days (two places). */
export function archetypeProgressionRows(rows: readonly Row[]): ArchetypeProgressionRow[] {
  return rows.map((r) => ({
    archetype: String(r.archetype),
    from_level: r.from_level as Level,
    to_level: r.to_level as Level,
    transitions: Number(r.transitions),
    employees: Number(r.employees),
    median_days: percentileFromStats(r.gap_n, r.gap_a, r.gap_b, 50, 2, MS_PER_DAY) as number,
  }));
}

/**
 * The team as of `to`: each person's latest version with effective_at < to
 * (ties by created_at, then record_id), kept when it names the manager.
 * Parameters: $1 tenant, $2 manager, $3 from, $4 to.
 */
const TEAM = `team AS MATERIALIZED (
  SELECT employee_id, display_name, archetype, level FROM (
    SELECT DISTINCT ON (employee_id) employee_id, display_name, archetype, level, manager_id
    FROM hub.employee_profiles
    WHERE tenant_id = $1 AND effective_at < $4::timestamptz
    ORDER BY employee_id, effective_at DESC, created_at DESC, record_id DESC
  ) cur WHERE manager_id = $2
)`;

const IN_RANGE = (alias: string): string =>
  `${alias}.tenant_id = $1 AND ${alias}.created_at >= $3::timestamptz AND ${alias}.created_at < $4::timestamptz`;

/**
 * The manager dashboard from raw records: four statements (members, top
 * skills, decisions, governance) for one REPEATABLE READ transaction, the
 * team being the manager's reports as of `to`; read the results with
 * {@link managerDashboardResult}.
 */
export function managerDashboardStatements(tenant: TenantId, q: ManagerDashboardQuery): Statement[] {
  const params = [tenant, q.managerId, q.from, q.to];
  return [
    {
      sql: `WITH ${TEAM}
SELECT t.employee_id, t.display_name, t.archetype, t.level,
  count(o.record_id) AS invocations,
  count(o.record_id) FILTER (WHERE o.status <> 'SUCCEEDED') AS failed,
  (coalesce(sum(o.cost_usd), 0) * 1000000)::text AS micros
FROM team t LEFT JOIN hub.outputs o ON o.employee_id = t.employee_id AND ${IN_RANGE('o')}
GROUP BY t.employee_id, t.display_name, t.archetype, t.level
ORDER BY t.employee_id`,
      params,
    },
    {
      sql: `WITH ${TEAM}
SELECT o.skill_id, count(*) AS invocations, (sum(o.cost_usd) * 1000000)::text AS micros
FROM hub.outputs o JOIN team t ON t.employee_id = o.employee_id
WHERE ${IN_RANGE('o')}
GROUP BY o.skill_id ORDER BY count(*) DESC, o.skill_id LIMIT 5`,
      params,
    },
    {
      // A decision counts when its output (whatever the output's created_at)
      // belongs to a team member.
      sql: `WITH ${TEAM}
SELECT count(*) AS total,
  count(*) FILTER (WHERE d.outcome = 'ACCEPTED') AS accepted,
  count(*) FILTER (WHERE d.outcome = 'ESCALATED') AS escalations
FROM hub.decisions d
JOIN hub.outputs o ON o.tenant_id = $1 AND o.record_id = d.output_id
JOIN team t ON t.employee_id = o.employee_id
WHERE ${IN_RANGE('d')}`,
      params,
    },
    {
      sql: `WITH ${TEAM}
SELECT g.severity, count(*) AS n
FROM hub.governance_events g JOIN team t ON t.employee_id = g.employee_id
WHERE ${IN_RANGE('g')}
GROUP BY g.severity`,
      params,
    },
  ];
}

/**
 * The manager dashboard from the four result sets of
 * {@link managerDashboardStatements} (members, top skills, decisions,
 * governance; the pre-aggregated statements' results once split the same
 * way): totals summed exactly in micro-units, the acceptance rate rounded to
 * four places, every severity present (zero when none).
 */
export function managerDashboardResult(
  q: ManagerDashboardQuery,
  results: readonly Row[][],
): ManagerDashboard {
  const [memberRows = [], skillRows = [], decisionRows = [], governanceRows = []] = results;
  let invocations = 0;
  let failed = 0;
  let total = 0n;
  const members = memberRows.map((r) => {
    const m = micros(r.micros);
    invocations += Number(r.invocations);
    failed += Number(r.failed);
    total += m;
    return {
      employee_id: String(r.employee_id),
      display_name: String(r.display_name),
      archetype: String(r.archetype),
      level: r.level as Level,
      invocations: Number(r.invocations),
      total_cost_usd: fromMicros(m),
    };
  });
  const d = decisionRows[0] ?? {};
  const decided = Number(d.total ?? 0);
  const accepted = Number(d.accepted ?? 0);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const g of governanceRows) bySeverity[g.severity as Severity] = Number(g.n);
  return {
    manager_id: q.managerId,
    invocations,
    failed,
    total_cost_usd: fromMicros(total),
    decisions: {
      accepted,
      total: decided,
      acceptance_rate: decided === 0 ? null : roundRatio(BigInt(accepted), BigInt(decided), 4),
      escalations: Number(d.escalations ?? 0),
    },
    governance_by_severity: bySeverity,
    top_skills: skillRows.map((s) => ({
      skill_id: String(s.skill_id),
      invocations: Number(s.invocations),
      total_cost_usd: fromMicros(micros(s.micros)),
    })),
    members,
  };
}

/** The managers of current profiles as of `asOf`, with team sizes and their own display name. */
export function managersStatement(tenant: TenantId, q: ManagersQuery): Statement {
  const params: unknown[] = [tenant, q.asOf, q.limit];
  let after = '';
  if (q.after !== undefined) {
    params.push(q.after);
    after = ' AND m.manager_id > $4::text';
  }
  return {
    sql: `WITH cur AS (
  SELECT DISTINCT ON (employee_id) employee_id, display_name, manager_id
  FROM hub.employee_profiles
  WHERE tenant_id = $1 AND effective_at < $2::timestamptz
  ORDER BY employee_id, effective_at DESC, created_at DESC, record_id DESC
)
SELECT m.manager_id, count(*) AS team_size,
  (SELECT c.display_name FROM cur c WHERE c.employee_id = m.manager_id) AS display_name
FROM cur m WHERE m.manager_id IS NOT NULL${after}
GROUP BY m.manager_id ORDER BY m.manager_id LIMIT $3::int`,
    params,
  };
}

/** Maps {@link managersStatement}'s rows: manager id, display name (null when they have no profile), team size. */
export function managersRows(rows: readonly Row[]): ManagerRow[] {
  return rows.map((r) => ({
    manager_id: String(r.manager_id),
    display_name: r.display_name === null || r.display_name === undefined ? null : String(r.display_name),
    team_size: Number(r.team_size),
  }));
}

/** Skills of outputs in range (optionally the team's), with invocations and exact cost. */
export function skillsStatement(tenant: TenantId, q: SkillsQuery): Statement {
  const params: unknown[] = [tenant, q.from, q.to, q.limit];
  let where = teamClause(q.team, params);
  if (q.after !== undefined) {
    params.push(q.after);
    where += ` AND skill_id > $${params.length}::text`;
  }
  return {
    sql: `SELECT skill_id, count(*) AS invocations, (sum(cost_usd) * 1000000)::text AS micros
FROM hub.outputs
WHERE tenant_id = $1 AND created_at >= $2::timestamptz AND created_at < $3::timestamptz${where}
GROUP BY skill_id ORDER BY skill_id LIMIT $4::int`,
    params,
  };
}

/** Maps skills rows (raw or pre-aggregated, same shape): invocations and exact total cost. */
export function skillsRows(rows: readonly Row[]): SkillRow[] {
  return rows.map((r) => ({
    skill_id: String(r.skill_id),
    invocations: Number(r.invocations),
    total_cost_usd: fromMicros(micros(r.micros)),
  }));
}
