/**
 * The team of a manager as of an instant, in SQL: the first step of every
 * team-scoped list and rollup. It yields employee ids only, so the step after
 * it (a list, a rollup over raw rows, or later a pre-aggregate) just keeps
 * the rows of those employees.
 */

/** Parameter references (`$n::type` expressions) the team's SQL reads. */
export interface TeamParams {
  /** The tenant (text). */
  readonly tenant: string;
  /** The manager's employee id (text). */
  readonly managerId: string;
  /** The instant (timestamptz). */
  readonly asOf: string;
}

/**
 * `= ANY(ARRAY(<team>))`: the team's ids as a one-time InitPlan array. An
 * `IN (<team>)` may be planned as a join that re-runs the DISTINCT ON per
 * outer row (seen on PGlite without statistics: 10x slower on 90 days of
 * demo data); the array is computed once whatever the statistics say.
 */
export function inTeamSql(p: TeamParams): string {
  return `= ANY(ARRAY(${teamIdsSql(p)}))`;
}

/**
 * A `SELECT employee_id` of the employees whose current profile as of
 * `asOf` (latest version with effective_at < asOf; ties by created_at, then
 * record_id) names the manager. Reads employee_profiles_versions backwards
 * per person (DISTINCT ON).
 */
export function teamIdsSql(p: TeamParams): string {
  return `SELECT employee_id FROM (
    SELECT DISTINCT ON (employee_id) employee_id, manager_id
    FROM hub.employee_profiles
    WHERE tenant_id = ${p.tenant} AND effective_at < ${p.asOf}
    ORDER BY employee_id, effective_at DESC, created_at DESC, record_id DESC
  ) cur WHERE manager_id = ${p.managerId}`;
}
