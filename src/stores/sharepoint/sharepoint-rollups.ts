/**
 * The SharePoint store's rollups: the reference implementations
 * (src/hub/rollups/reference.ts) over a tenant's records read in full from its
 * site, in (created_at, record_id) order, limited to the query's range where
 * the rollup has one. SharePoint has no aggregation of its own to push down.
 */
import type {
  DecisionRecord,
  EmployeeProfileRecord,
  GovernanceEventRecord,
  HubRecord,
  OutputRecord,
  RecordType,
} from '../../hub/model';
import {
  archetypeProgression,
  costPerSkill,
  managerDashboard,
  managers,
  skills,
  teamMembers,
} from '../../hub/rollups/reference';
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
import { filterClauses } from './sharepoint-filter';
import { type TenantSite, MAX_PAGE, READ_SELECT } from './sharepoint-site';

/** Reads outputs by id, `null` where there is none (the store's `getByIds`). */
export type OutputsById = (ids: readonly string[]) => Promise<(HubRecord | null)[]>;

/** Every record of a type with `from <= created_at < to` (when given), following nextLink pages. */
export async function rangeRecords<T extends HubRecord>(
  site: TenantSite,
  type: RecordType,
  from?: string,
  to?: string,
): Promise<T[]> {
  const clauses = filterClauses(type, { from, to });
  const rows = await site.items(
    type,
    {
      ...(clauses.length ? { $filter: clauses.join(' and ') } : {}),
      $orderby: 'HubCreatedAt asc,HubRecordId asc',
      $select: READ_SELECT,
      $top: String(MAX_PAGE),
    },
    Infinity,
    'rollup scan',
  );
  return (await site.records(type, rows)) as T[];
}

/** The team's employee ids, from the tenant's profiles (the first step of every team-scoped read). */
export async function teamOf(site: TenantSite, scope: TeamScope): Promise<Set<string>> {
  return teamMembers(await rangeRecords<EmployeeProfileRecord>(site, 'employee_profiles'), scope);
}

/** Cost per skill and bucket over the site's outputs in range (of the team's members, when scoped). */
export async function costPerSkillOf(site: TenantSite, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
  const [outputs, team] = await outputsAndTeam(site, query);
  return costPerSkill(outputs, query, team);
}

/** The managers named by the site's current profiles (one page). */
export async function managersOf(site: TenantSite, query: ManagersQuery): Promise<ManagerRow[]> {
  return managers(await rangeRecords<EmployeeProfileRecord>(site, 'employee_profiles'), query);
}

/** The skills of the site's outputs in range (of the team's members, when scoped; one page). */
export async function skillsOf(site: TenantSite, query: SkillsQuery): Promise<SkillRow[]> {
  const [outputs, team] = await outputsAndTeam(site, query);
  return skills(outputs, query, team);
}

/** The site's outputs in `[from, to)` and, read side by side, the team's members when scoped. */
function outputsAndTeam(
  site: TenantSite,
  query: { readonly from: string; readonly to: string; readonly team?: TeamScope },
): Promise<[OutputRecord[], Set<string> | undefined]> {
  return Promise.all([
    rangeRecords<OutputRecord>(site, 'outputs', query.from, query.to),
    query.team ? teamOf(site, query.team) : undefined,
  ]);
}

/** Level transitions between the site's profile versions in range. */
export async function archetypeProgressionOf(
  site: TenantSite,
  query: ArchetypeProgressionQuery,
): Promise<ArchetypeProgressionRow[]> {
  return archetypeProgression(await rangeRecords<EmployeeProfileRecord>(site, 'employee_profiles'), query);
}

/**
 * A manager's dashboard over the site's records in range; the outputs that
 * decisions in range are about but that predate the range are read by id
 * through `outputsById`.
 */
export async function managerDashboardOf(
  site: TenantSite,
  query: ManagerDashboardQuery,
  outputsById: OutputsById,
): Promise<ManagerDashboard> {
  const [profiles, outputs, decisions, governanceEvents] = await Promise.all([
    rangeRecords<EmployeeProfileRecord>(site, 'employee_profiles'),
    rangeRecords<OutputRecord>(site, 'outputs', query.from, query.to),
    rangeRecords<DecisionRecord>(site, 'decisions', query.from, query.to),
    rangeRecords<GovernanceEventRecord>(site, 'governance_events', query.from, query.to),
  ]);
  // Decisions in range may be about outputs from before the range: read those by id.
  const byId = new Map(outputs.map((o) => [o.record_id, o]));
  const missing = [...new Set(decisions.map((d) => d.output_id))].filter((id) => !byId.has(id));
  for (const o of await outputsById(missing)) if (o) byId.set(o.record_id, o as OutputRecord);
  return managerDashboard(
    { profiles, outputs, decisions, governanceEvents, outputById: (id) => byId.get(id) },
    query,
  );
}
