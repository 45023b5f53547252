/**
 * Reference implementations of the rollups over plain arrays of records.
 * They define the exact semantics of docs/semantics.md that
 * every backend's native SQL must reproduce number for number. Stores without
 * native rollups (memory, SharePoint) call these directly.
 */
import { divRoundHalfAway, fromMicros, roundRatio, toMicros } from '../decimal';
import { HubError } from '../errors';
import type { DecisionRecord, EmployeeProfileRecord, GovernanceEventRecord, OutputRecord } from '../model';
import { SEVERITIES } from '../model';
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
} from '../store';
import { MS_PER_DAY, bucketStart, formatTimestamp } from '../time';
import { percentileCont } from './math';

const ms = (ts: string): number => Date.parse(ts);
const inRange = (ts: string, from: string, to: string): boolean => ts >= from && ts < to;
// Canonical timestamps sort lexically in time order (fixed-width, all UTC), so
// the range checks above compare strings safely.

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The employee ids of a team (see {@link TeamScope}): the first step of every
 * team-scoped query, which then keeps the records of these employees.
 */
export function teamMembers(profiles: Iterable<EmployeeProfileRecord>, scope: TeamScope): Set<string> {
  return new Set(currentTeam(profiles, scope.managerId, scope.asOf).map((p) => p.employee_id));
}

/** Checks a query with a team scope came with its resolved members. */
function membersFor(
  scope: TeamScope | undefined,
  members: ReadonlySet<string> | undefined,
): ReadonlySet<string> | undefined {
  if (scope && !members) throw new HubError('INTERNAL', 'team-scoped rollup called without the team');
  return scope ? members : undefined;
}

/**
 * Cost per skill; see {@link CostPerSkillRow}. With `q.team`, `members` must
 * be that team's employee ids ({@link teamMembers}).
 */
export function costPerSkill(
  outputs: Iterable<OutputRecord>,
  q: CostPerSkillQuery,
  members?: ReadonlySet<string>,
): CostPerSkillRow[] {
  const team = membersFor(q.team, members);
  const skills = q.skillIds ? new Set(q.skillIds) : undefined;
  const groups = new Map<
    string,
    {
      skill: string;
      bucket: number;
      n: number;
      failed: number;
      micros: bigint;
      inTok: number;
      outTok: number;
      lat: bigint[];
    }
  >();
  for (const o of outputs) {
    if (!inRange(o.created_at, q.from, q.to)) continue;
    if (skills && !skills.has(o.skill_id)) continue;
    if (team && !team.has(o.employee_id)) continue;
    const bucket = bucketStart(ms(o.created_at), q.bucket);
    const key = `${bucket}\u0000${o.skill_id}`;
    let g = groups.get(key);
    if (!g) {
      g = { skill: o.skill_id, bucket, n: 0, failed: 0, micros: 0n, inTok: 0, outTok: 0, lat: [] };
      groups.set(key, g);
    }
    g.n++;
    if (o.status !== 'SUCCEEDED') g.failed++;
    g.micros += toMicros(o.cost_usd);
    g.inTok += o.input_tokens;
    g.outTok += o.output_tokens;
    if (o.latency_ms !== undefined) g.lat.push(BigInt(o.latency_ms));
  }
  return [...groups.values()]
    .sort((a, b) => a.bucket - b.bucket || cmp(a.skill, b.skill))
    .map((g) => ({
      skill_id: g.skill,
      bucket_start: formatTimestamp(g.bucket),
      invocations: g.n,
      failed: g.failed,
      total_cost_usd: fromMicros(g.micros),
      avg_cost_usd: fromMicros(divRoundHalfAway(g.micros, BigInt(g.n))),
      input_tokens: g.inTok,
      output_tokens: g.outTok,
      p95_latency_ms: percentileCont(g.lat, 95, 1),
    }));
}

/**
 * Orders one employee's profile versions: `effective_at`, then `created_at`,
 * then `record_id` (ascending), so ties resolve the same way on every backend.
 */
export function compareVersions(a: EmployeeProfileRecord, b: EmployeeProfileRecord): number {
  return (
    cmp(a.effective_at, b.effective_at) || cmp(a.created_at, b.created_at) || cmp(a.record_id, b.record_id)
  );
}

function byEmployee(profiles: Iterable<EmployeeProfileRecord>): Map<string, EmployeeProfileRecord[]> {
  const map = new Map<string, EmployeeProfileRecord[]>();
  for (const p of profiles) {
    const list = map.get(p.employee_id);
    if (list) list.push(p);
    else map.set(p.employee_id, [p]);
  }
  for (const list of map.values()) list.sort(compareVersions);
  return map;
}

/** Archetype progression; see {@link ArchetypeProgressionRow}. `q.team` keeps its members' transitions. */
export function archetypeProgression(
  profiles: Iterable<EmployeeProfileRecord>,
  q: ArchetypeProgressionQuery,
): ArchetypeProgressionRow[] {
  const all = [...profiles];
  const team = q.team ? teamMembers(all, q.team) : undefined;
  const groups = new Map<
    string,
    { archetype: string; from: string; to: string; gaps: bigint[]; people: Set<string> }
  >();
  for (const [employee, versions] of byEmployee(all)) {
    if (team && !team.has(employee)) continue;
    for (let i = 1; i < versions.length; i++) {
      const prev = versions[i - 1] as EmployeeProfileRecord;
      const cur = versions[i] as EmployeeProfileRecord;
      if (prev.level === cur.level) continue;
      if (!inRange(cur.effective_at, q.from, q.to)) continue;
      if (q.archetype !== undefined && cur.archetype !== q.archetype) continue;
      const key = `${cur.archetype}\u0000${prev.level}\u0000${cur.level}`;
      let g = groups.get(key);
      if (!g) {
        g = { archetype: cur.archetype, from: prev.level, to: cur.level, gaps: [], people: new Set() };
        groups.set(key, g);
      }
      g.gaps.push(BigInt(ms(cur.effective_at) - ms(prev.effective_at)));
      g.people.add(employee);
    }
  }
  return [...groups.values()]
    .sort((a, b) => cmp(a.archetype, b.archetype) || cmp(a.from, b.from) || cmp(a.to, b.to))
    .map((g) => ({
      archetype: g.archetype,
      from_level: g.from as ArchetypeProgressionRow['from_level'],
      to_level: g.to as ArchetypeProgressionRow['to_level'],
      transitions: g.gaps.length,
      employees: g.people.size,
      median_days: percentileCont(g.gaps, 50, 2, BigInt(MS_PER_DAY)) as number,
    }));
}

/** The data a manager dashboard reads; stores may pre-filter it (e.g. by time range). */
export interface DashboardInputs {
  readonly profiles: Iterable<EmployeeProfileRecord>;
  readonly outputs: Iterable<OutputRecord>;
  readonly decisions: Iterable<DecisionRecord>;
  readonly governanceEvents: Iterable<GovernanceEventRecord>;
  /** Looks up an output by id whatever its created_at (decisions may point at older outputs). */
  readonly outputById: (id: string) => OutputRecord | undefined;
}

/**
 * The team: employees whose current profile as of `to` (the latest version with
 * `effective_at < to`, ties as in {@link compareVersions}) names the manager.
 * Returns each member's current profile, ordered by employee_id.
 */
export function currentTeam(
  profiles: Iterable<EmployeeProfileRecord>,
  managerId: string,
  to: string,
): EmployeeProfileRecord[] {
  const team: EmployeeProfileRecord[] = [];
  for (const versions of byEmployee(profiles).values()) {
    let current: EmployeeProfileRecord | undefined;
    for (const v of versions) if (v.effective_at < to) current = v;
    if (current && current.manager_id === managerId) team.push(current);
  }
  return team.sort((a, b) => cmp(a.employee_id, b.employee_id));
}

/** A team member's figures, counted as the outputs are read. */
interface Member {
  readonly profile: EmployeeProfileRecord;
  n: number;
  micros: bigint;
}

/** Manager dashboard, in named steps (the team's outputs, decisions and governance); see {@link ManagerDashboard}. */
export function managerDashboard(input: DashboardInputs, q: ManagerDashboardQuery): ManagerDashboard {
  const team = currentTeam(input.profiles, q.managerId, q.to);
  const members = new Map<string, Member>(team.map((p) => [p.employee_id, { profile: p, n: 0, micros: 0n }]));
  const outputs = teamOutputs(input, q, members);
  const { accepted, total, escalations } = teamDecisions(input, q, members);
  return {
    manager_id: q.managerId,
    invocations: outputs.invocations,
    failed: outputs.failed,
    total_cost_usd: fromMicros(outputs.micros),
    decisions: {
      accepted,
      total,
      acceptance_rate: total === 0 ? null : roundRatio(BigInt(accepted), BigInt(total), 4),
      escalations,
    },
    governance_by_severity: teamSeverities(input, q, members),
    top_skills: [...outputs.skills.entries()]
      .sort(([a, x], [b, y]) => y.n - x.n || cmp(a, b))
      .slice(0, 5)
      .map(([skill_id, s]) => ({ skill_id, invocations: s.n, total_cost_usd: fromMicros(s.micros) })),
    members: team.map((p) => {
      const m = members.get(p.employee_id);
      return {
        employee_id: p.employee_id,
        display_name: p.display_name,
        archetype: p.archetype,
        level: p.level,
        invocations: m?.n ?? 0,
        total_cost_usd: fromMicros(m?.micros ?? 0n),
      };
    }),
  };
}

/** The team's outputs in the range: counts and cost in total, per skill, and per member (into `members`). */
function teamOutputs(input: DashboardInputs, q: ManagerDashboardQuery, members: Map<string, Member>) {
  let invocations = 0;
  let failed = 0;
  let micros = 0n;
  const skills = new Map<string, { n: number; micros: bigint }>();
  for (const o of input.outputs) {
    const m = members.get(o.employee_id);
    if (!m || !inRange(o.created_at, q.from, q.to)) continue;
    const cost = toMicros(o.cost_usd);
    invocations++;
    if (o.status !== 'SUCCEEDED') failed++;
    micros += cost;
    m.n++;
    m.micros += cost;
    const s = skills.get(o.skill_id) ?? { n: 0, micros: 0n };
    s.n++;
    s.micros += cost;
    skills.set(o.skill_id, s);
  }
  return { invocations, failed, micros, skills };
}

/** Decisions in the range on the team's outputs: accepted, total, escalated. */
function teamDecisions(input: DashboardInputs, q: ManagerDashboardQuery, members: Map<string, Member>) {
  let accepted = 0;
  let total = 0;
  let escalations = 0;
  for (const d of input.decisions) {
    if (!inRange(d.created_at, q.from, q.to)) continue;
    const output = input.outputById(d.output_id);
    if (!output || !members.has(output.employee_id)) continue;
    total++;
    if (d.outcome === 'ACCEPTED') accepted++;
    if (d.outcome === 'ESCALATED') escalations++;
  }
  return { accepted, total, escalations };
}

/** Governance events in the range of the team's members, by severity (every severity present). */
function teamSeverities(
  input: DashboardInputs,
  q: ManagerDashboardQuery,
  members: Map<string, Member>,
): Record<(typeof SEVERITIES)[number], number> {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<
    (typeof SEVERITIES)[number],
    number
  >;
  for (const g of input.governanceEvents) {
    if (g.employee_id === undefined || !members.has(g.employee_id) || !inRange(g.created_at, q.from, q.to))
      continue;
    bySeverity[g.severity]++;
  }
  return bySeverity;
}

/**
 * The managers named by current profiles as of `q.asOf`, with team sizes and
 * their own current display name, ordered by manager id, one page.
 */
export function managers(profiles: Iterable<EmployeeProfileRecord>, q: ManagersQuery): ManagerRow[] {
  const current = new Map<string, EmployeeProfileRecord>();
  for (const [employee, versions] of byEmployee(profiles)) {
    let cur: EmployeeProfileRecord | undefined;
    for (const v of versions) if (v.effective_at < q.asOf) cur = v;
    if (cur) current.set(employee, cur);
  }
  const sizes = new Map<string, number>();
  for (const p of current.values()) {
    if (p.manager_id !== undefined) sizes.set(p.manager_id, (sizes.get(p.manager_id) ?? 0) + 1);
  }
  return [...sizes.entries()]
    .filter(([id]) => q.after === undefined || id > q.after)
    .sort(([a], [b]) => cmp(a, b))
    .slice(0, q.limit)
    .map(([manager_id, team_size]) => ({
      manager_id,
      display_name: current.get(manager_id)?.display_name ?? null,
      team_size,
    }));
}

/**
 * Skills of the outputs in `[q.from, q.to)` with invocations and exact cost,
 * ordered by skill id, one page. With `q.team`, `members` must be that team's
 * employee ids ({@link teamMembers}).
 */
export function skills(
  outputs: Iterable<OutputRecord>,
  q: SkillsQuery,
  members?: ReadonlySet<string>,
): SkillRow[] {
  const team = membersFor(q.team, members);
  const bySkill = new Map<string, { n: number; micros: bigint }>();
  for (const o of outputs) {
    if (!inRange(o.created_at, q.from, q.to)) continue;
    if (team && !team.has(o.employee_id)) continue;
    if (q.after !== undefined && o.skill_id <= q.after) continue;
    const s = bySkill.get(o.skill_id) ?? { n: 0, micros: 0n };
    s.n++;
    s.micros += toMicros(o.cost_usd);
    bySkill.set(o.skill_id, s);
  }
  return [...bySkill.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .slice(0, q.limit)
    .map(([skill_id, s]) => ({ skill_id, invocations: s.n, total_cost_usd: fromMicros(s.micros) }));
}
