/**
 * The arguments and answers of the port's rollup reads (`costPerSkill`,
 * `archetypeProgression`, `managerDashboard`, `managers`, `skills`; semantics in
 * docs/semantics.md). store.ts re-exports everything here, so importers name
 * only the port.
 */
import type { Level, Severity } from './model';
import type { TeamScope } from './store';
import type { Bucket } from './time';

export interface CostPerSkillQuery {
  readonly from: string;
  readonly to: string;
  readonly bucket: Bucket;
  readonly skillIds?: readonly string[];
  /** Only outputs of the team's members. */
  readonly team?: TeamScope;
}

export interface CostPerSkillRow {
  readonly skill_id: string;
  /** Canonical timestamp of the bucket's start (UTC). */
  readonly bucket_start: string;
  readonly invocations: number;
  readonly failed: number;
  /** Exact decimal string. */
  readonly total_cost_usd: string;
  /** Decimal string rounded half away from zero to 6 places (then canonical). */
  readonly avg_cost_usd: string;
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Continuous 95th percentile of non-null latencies, rounded to 1 place; null when none. */
  readonly p95_latency_ms: number | null;
}

export interface ArchetypeProgressionQuery {
  readonly from: string;
  readonly to: string;
  readonly archetype?: string;
  /** Only transitions of the team's members. */
  readonly team?: TeamScope;
}

export interface ArchetypeProgressionRow {
  readonly archetype: string;
  readonly from_level: Level;
  readonly to_level: Level;
  readonly transitions: number;
  readonly employees: number;
  /** Continuous median of days between the two versions, rounded to 2 places. */
  readonly median_days: number;
}

export interface ManagerDashboardQuery {
  readonly managerId: string;
  readonly from: string;
  readonly to: string;
}

export interface ManagerDashboard {
  readonly manager_id: string;
  readonly invocations: number;
  readonly failed: number;
  readonly total_cost_usd: string;
  readonly decisions: {
    readonly accepted: number;
    readonly total: number;
    /** accepted / total rounded to 4 places; null when there are no decisions. */
    readonly acceptance_rate: number | null;
    readonly escalations: number;
  };
  /** Governance events of team members in range, by severity (every severity present, zero when none). */
  readonly governance_by_severity: Readonly<Record<Severity, number>>;
  readonly top_skills: readonly {
    readonly skill_id: string;
    readonly invocations: number;
    readonly total_cost_usd: string;
  }[];
  readonly members: readonly {
    readonly employee_id: string;
    readonly display_name: string;
    readonly archetype: string;
    readonly level: Level;
    readonly invocations: number;
    readonly total_cost_usd: string;
  }[];
}

/** The managers named by current profiles, for pickers: ordered by manager id, one page. */
export interface ManagersQuery {
  /** The instant the teams are taken at (see {@link TeamScope}). */
  readonly asOf: string;
  /** Managers to return, 1..1000. */
  readonly limit: number;
  /** Only managers whose id sorts after this one (byte order): the next page. */
  readonly after?: string;
}

export interface ManagerRow {
  readonly manager_id: string;
  /** The manager's own current profile's display name as of `asOf`; null when they have none. */
  readonly display_name: string | null;
  /** Employees whose current profile as of `asOf` names this manager (at least 1). */
  readonly team_size: number;
}

/** Skills used by outputs in `[from, to)`, for pickers: ordered by skill id, one page. */
export interface SkillsQuery {
  readonly from: string;
  readonly to: string;
  /** Only outputs of the team's members. */
  readonly team?: TeamScope;
  /** Skills to return, 1..1000. */
  readonly limit: number;
  /** Only skills whose id sorts after this one (byte order). */
  readonly after?: string;
}

export interface SkillRow {
  readonly skill_id: string;
  /** Outputs of the skill in range (at least 1). */
  readonly invocations: number;
  /** Exact sum of their cost. */
  readonly total_cost_usd: string;
}
