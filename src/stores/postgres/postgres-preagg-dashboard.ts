/**
 * The manager dashboard from pre-aggregated cells, edges and the feed, in
 * one statement (one snapshot): members with top skills, decisions and
 * governance, each a CTE below. Results as managerDashboardResult
 * (postgres-rollups.ts) reads them, once split by managerDashboardParts.
 *
 * The team as of `to` comes from the profiles directly (a person's latest
 * version before `to`, kept when it names the manager): profiles are few.
 * Outputs are read from per-employee week and day cells (the partial days
 * at the edges raw, from the members' index ranges, added or subtracted);
 * decisions and governance events from per-employee hour and day cells.
 */
import type { ManagerDashboardQuery } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { EVENT_CHAIN, type RangePlan, TEAM_CHAIN, planRange } from './postgres-preagg-plan';
import {
  IS_PENDING,
  PENDING,
  Params,
  type PlanRefs,
  cellSource,
  feedRowsWithin,
  planParams,
  recordSources,
  within,
} from './postgres-preagg-sources';
import type { Row, Statement } from './queryable';

/** What every step shares: the query, its plans and each statement's parameters. */
interface Dashboard {
  readonly tenant: TenantId;
  readonly q: ManagerDashboardQuery;
  /** Over output cells (per-employee: days and weeks). */
  readonly outputs: RangePlan;
  /** Over decision and governance cells (per-employee: hours and days). */
  readonly events: RangePlan;
}

/** The team as of `to`, and the tenant's backfill state. */
const HEAD = `WITH ${PENDING}, team AS MATERIALIZED (
  SELECT employee_id, display_name, archetype, level FROM (
    SELECT DISTINCT ON (employee_id) employee_id, display_name, archetype, level, manager_id
    FROM hub.employee_profiles
    WHERE tenant_id = $1 AND effective_at < $3::timestamptz
    ORDER BY employee_id, effective_at DESC, created_at DESC, record_id DESC
  ) cur WHERE manager_id = $2::text
)`;

const inTeam = (col: string): string => `${col} = ANY(ARRAY(SELECT employee_id FROM team))`;

/** The team's outputs summed per employee and skill: cells, edges, feed (each times its sign). */
function outputSums(refs: PlanRefs): string {
  const rows = recordSources(
    refs,
    (sign) => `SELECT ${sign} AS sign, employee_id, skill_id, status AS tag, cost_usd FROM hub.outputs`,
    (sign) =>
      `SELECT ${sign} AS sign, employee_id, skill_id, tag, cost_usd FROM hub.rollup_feed WHERE kind = 'o'`,
    ` AND ${inTeam('employee_id')}`,
  );
  const cells = cellSource(
    refs,
    'rollup_cells',
    'employee_id, skill_id, invocations, failed, cost_usd',
    inTeam('employee_id'),
  );
  return [
    ...rows.map(
      (s) =>
        `SELECT employee_id, skill_id, sum(sign)::numeric AS inv, coalesce(sum(sign) FILTER (WHERE tag <> 'SUCCEEDED'), 0)::numeric AS failed, sum(sign * cost_usd) AS cost FROM (${s}) r GROUP BY 1, 2`,
    ),
    `SELECT employee_id, skill_id, sum(sign * invocations), sum(sign * failed), sum(sign * cost_usd) FROM (${cells}) c GROUP BY 1, 2`,
  ].join('\n  UNION ALL ');
}

/** The team's outputs per member (`e`) and its five most invoked skills (`s`), over the `x` sums. */
const MEMBERS_AND_SKILLS = `e AS (SELECT employee_id, sum(inv) AS inv, sum(failed) AS failed, sum(cost) AS cost FROM x GROUP BY 1),
s AS (
  SELECT skill_id, sum(inv) AS inv, sum(cost) AS cost FROM x
  GROUP BY skill_id HAVING sum(inv) > 0 ORDER BY sum(inv) DESC, skill_id LIMIT 5
)`;

/** Decisions on the team's outputs (a decision counts by its output's employee), as one row of sums. */
function decisionSums(refs: PlanRefs): string {
  // The output's employee as a subquery per decision (index probes by
  // primary key): planned as a join without the range's bounds (the text is
  // the same for every range), a raw edge of a few dozen decisions hashed
  // all the team's outputs (40 k index entries on 1 M outputs).
  const raw = (span: readonly [string, string], pendingOnly: boolean, sign = '1'): string =>
    `SELECT ${sign} * count(*)::numeric AS total, ${sign} * count(*) FILTER (WHERE d.outcome = 'ACCEPTED')::numeric AS accepted,
    ${sign} * count(*) FILTER (WHERE d.outcome = 'ESCALATED')::numeric AS escalated
  FROM hub.decisions d
  WHERE ${pendingOnly ? `${IS_PENDING} AND ` : ''}d.tenant_id = $1${within('d.created_at', span)}
    AND ${inTeam('(SELECT o.employee_id FROM hub.outputs o WHERE o.tenant_id = $1 AND o.record_id = d.output_id)')}`;
  const parts = refs.raw.map((r) => raw(r.span, false, r.sign));
  parts.push(raw(refs.covered, true));
  // Feed rows carry the employee when the output was stored first; else look it up now.
  parts.push(`SELECT count(*), count(*) FILTER (WHERE f.tag = 'ACCEPTED'), count(*) FILTER (WHERE f.tag = 'ESCALATED')
  FROM hub.rollup_feed f
  WHERE NOT ${IS_PENDING} AND f.kind = 'd' AND f.tenant_id = $1${within('f.created_at', refs.covered)}${feedRowsWithin(refs.covered, 'f.')}
    AND ${inTeam(`coalesce(f.employee_id, (SELECT o.employee_id FROM hub.outputs o WHERE o.tenant_id = $1 AND o.record_id = f.output_id))`)}`);
  parts.push(`SELECT count(*), count(*) FILTER (WHERE od.outcome = 'ACCEPTED'), count(*) FILTER (WHERE od.outcome = 'ESCALATED')
  FROM hub.rollup_orphan_decisions od JOIN hub.outputs o ON o.tenant_id = $1 AND o.record_id = od.output_id
  WHERE NOT ${IS_PENDING} AND od.tenant_id = $1${within('od.created_at', refs.covered)} AND ${inTeam('o.employee_id')}`);
  const cells = cellSource(
    refs,
    'rollup_decision_cells',
    'total, accepted, escalated',
    inTeam('employee_id'),
  );
  parts.push(`SELECT sum(sign * total), sum(sign * accepted), sum(sign * escalated) FROM (${cells}) c`);
  return `SELECT coalesce(sum(total), 0) AS total, coalesce(sum(accepted), 0) AS accepted, coalesce(sum(escalated), 0) AS escalations
FROM (
  ${parts.join('\n  UNION ALL ')}
) x`;
}

/** The team's governance events per severity. */
function governanceSums(refs: PlanRefs): string {
  const rows = recordSources(
    refs,
    (sign) => `SELECT ${sign} AS sign, severity FROM hub.governance_events`,
    (sign) => `SELECT ${sign} AS sign, tag AS severity FROM hub.rollup_feed WHERE kind = 'g'`,
    ` AND ${inTeam('employee_id')}`,
  );
  const cells = cellSource(refs, 'rollup_governance_cells', 'severity, n', inTeam('employee_id'));
  return `SELECT severity, sum(n) AS n FROM (
  ${[
    ...rows.map((s) => `SELECT severity, sum(sign)::numeric AS n FROM (${s}) r GROUP BY 1`),
    `SELECT severity, sum(sign * n) FROM (${cells}) c GROUP BY 1`,
  ].join('\n  UNION ALL ')}
) x GROUP BY severity`;
}

/**
 * The whole dashboard in ONE statement (one snapshot; the team is computed
 * once, where three statements computed it three times: a sort of the
 * tenant's profiles each, a fifth of the dashboard's CPU on 1 M outputs).
 * Rows by `part`: 'm' each member with their invocations, failures and cost;
 * 's' the team's five most invoked skills; 'd' one row of decision counts;
 * 'g' governance events per severity. `$2` is the manager and `$3` `to`
 * (the team CTE refers to them by number), then the pieces of both plans.
 */
function dashboardStatement(d: Dashboard): Statement {
  const p = new Params(d.tenant);
  p.add(d.q.managerId, 'text');
  p.ts(Date.parse(d.q.to));
  const outputs = planParams(p, d.outputs);
  const events = planParams(p, d.events);
  const none = 'NULL::numeric, NULL::numeric, NULL::numeric, NULL::text COLLATE "C", NULL::numeric';
  return {
    prepare: true,
    generic: true,
    sql: `${HEAD}, x AS MATERIALIZED (
  ${outputSums(outputs)}
),
${MEMBERS_AND_SKILLS},
dc AS (
  ${decisionSums(events)}
),
gv AS (
  ${governanceSums(events)}
)
SELECT 'm' AS part, t.employee_id, t.display_name, t.archetype, t.level, NULL::text COLLATE "C" AS skill_id,
  coalesce(e.inv, 0) AS invocations, coalesce(e.failed, 0) AS failed,
  (coalesce(e.cost, 0) * 1000000)::text AS micros,
  NULL::numeric AS total, NULL::numeric AS accepted, NULL::numeric AS escalations,
  NULL::text COLLATE "C" AS severity, NULL::numeric AS n
FROM team t LEFT JOIN e ON e.employee_id = t.employee_id
UNION ALL
SELECT 's', NULL, NULL, NULL, NULL, skill_id, inv, NULL, (cost * 1000000)::text, ${none} FROM s
UNION ALL
SELECT 'd', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, total, accepted, escalations, NULL, NULL FROM dc
UNION ALL
SELECT 'g', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, severity, n FROM gv
ORDER BY part, employee_id, invocations DESC, skill_id`,
    params: p.values,
  };
}

/**
 * The manager dashboard's statement (one; see {@link dashboardStatement});
 * read its result with {@link managerDashboardParts}.
 */
export function managerDashboardPreaggStatements(tenant: TenantId, q: ManagerDashboardQuery): Statement[] {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const d: Dashboard = {
    tenant,
    q,
    outputs: planRange(from, to, TEAM_CHAIN),
    events: planRange(from, to, EVENT_CHAIN),
  };
  return [dashboardStatement(d)];
}

/**
 * The result of {@link managerDashboardPreaggStatements} as
 * managerDashboardResult reads it: members, top skills, decisions,
 * governance.
 */
export function managerDashboardParts(results: readonly Row[][]): Row[][] {
  const rows = results[0] ?? [];
  return [
    rows.filter((r) => r.part === 'm'),
    rows.filter((r) => r.part === 's'),
    rows.filter((r) => r.part === 'd'),
    rows.filter((r) => r.part === 'g'),
  ];
}
