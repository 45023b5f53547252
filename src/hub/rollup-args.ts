/**
 * The arguments of the Hub's rollups and pickers, validated into the store's
 * queries: timestamps canonical, ranges ordered, ids and page sizes in
 * bounds, team scopes normalised. Every problem is collected and reported
 * together as one VALIDATION error naming the call and each field.
 */
import { type FieldIssue, validationError } from './errors';
import { type TeamScopeInput, normalizeTeam } from './filters';
import type {
  ArchetypeProgressionQuery,
  CostPerSkillQuery,
  ManagerDashboardQuery,
  ManagersQuery,
  SkillsQuery,
} from './store';
import { type Bucket, formatTimestamp, parseTimestamp } from './time';

/** Arguments of `Hub.costPerSkill`. */
export interface CostPerSkillArgs {
  readonly from: unknown;
  readonly to: unknown;
  readonly bucket: Bucket;
  readonly skillIds?: readonly string[] | null;
  /** Only the team's outputs; `asOf` defaults to `to`. */
  readonly team?: TeamScopeInput | null;
}

/** Arguments of `Hub.archetypeProgression`. */
export interface ArchetypeProgressionArgs {
  readonly from: unknown;
  readonly to: unknown;
  readonly archetype?: string | null;
  readonly team?: TeamScopeInput | null;
}

/** Arguments of `Hub.managers`. */
export interface ManagersArgs {
  /** When the teams are taken (default: now). */
  readonly asOf?: unknown;
  /** 1..1000, default 100. */
  readonly first?: number | null;
  /** The last manager id of the previous page. */
  readonly after?: string | null;
}

/** Arguments of `Hub.skills`. */
export interface SkillsArgs {
  readonly from: unknown;
  readonly to: unknown;
  /** Only the team's outputs; `asOf` defaults to `to`. */
  readonly team?: TeamScopeInput | null;
  /** 1..1000, default 100. */
  readonly first?: number | null;
  /** The last skill id of the previous page. */
  readonly after?: string | null;
}

/** Arguments of `Hub.managerDashboard`. */
export interface ManagerDashboardArgs {
  readonly managerId: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** Largest page of the picker lists (`managers`, `skills`). */
export const MAX_PICKER_PAGE = 1000;

const ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * The store query of a cost-per-skill rollup (skills deduplicated and sorted).
 * @throws HubError VALIDATION naming each bad argument.
 */
export function costPerSkillQuery(args: CostPerSkillArgs): CostPerSkillQuery {
  const issues: FieldIssue[] = [];
  const { from, to } = range(args.from, args.to, issues);
  if (!['DAY', 'WEEK', 'MONTH'].includes(args.bucket))
    issues.push({ path: 'bucket', message: 'must be DAY, WEEK or MONTH' });
  const skillIds = args.skillIds ?? undefined;
  if (
    skillIds !== undefined &&
    (skillIds.length === 0 || skillIds.length > 100 || !skillIds.every((s) => ID_RE.test(s)))
  ) {
    issues.push({ path: 'skillIds', message: 'must be 1 to 100 skill ids' });
  }
  const team = args.team == null ? undefined : normalizeTeam(args.team, to || undefined, 'team', issues);
  if (issues.length > 0) throw validationError(issues, 'costPerSkill arguments');
  return {
    from,
    to,
    bucket: args.bucket,
    ...(skillIds ? { skillIds: [...new Set(skillIds)].sort() } : {}),
    ...(team ? { team } : {}),
  };
}

/**
 * The store query of an archetype progression rollup.
 * @throws HubError VALIDATION naming each bad argument.
 */
export function archetypeProgressionQuery(args: ArchetypeProgressionArgs): ArchetypeProgressionQuery {
  const issues: FieldIssue[] = [];
  const { from, to } = range(args.from, args.to, issues);
  if (args.archetype != null && !ID_RE.test(args.archetype))
    issues.push({ path: 'archetype', message: 'is not a valid id' });
  const team = args.team == null ? undefined : normalizeTeam(args.team, to || undefined, 'team', issues);
  if (issues.length > 0) throw validationError(issues, 'archetypeProgression arguments');
  return {
    from,
    to,
    ...(args.archetype != null ? { archetype: args.archetype } : {}),
    ...(team ? { team } : {}),
  };
}

/**
 * The store query of the managers picker; `asOf` defaults to `nowMs`.
 * @throws HubError VALIDATION naming each bad argument.
 */
export function managersQuery(args: ManagersArgs, nowMs: number): ManagersQuery {
  const issues: FieldIssue[] = [];
  let asOf = formatTimestamp(nowMs);
  if (args.asOf != null) {
    const t = parseTimestamp(args.asOf);
    if (t.ok) asOf = formatTimestamp(t.ms);
    else issues.push({ path: 'asOf', message: t.message });
  }
  const limit = pickerPage(args.first, issues);
  if (args.after != null && !ID_RE.test(args.after))
    issues.push({ path: 'after', message: 'must be an employee id (the last managerId of a page)' });
  if (issues.length > 0) throw validationError(issues, 'managers arguments');
  return { asOf, limit, ...(args.after != null ? { after: args.after } : {}) };
}

/**
 * The store query of the skills picker.
 * @throws HubError VALIDATION naming each bad argument.
 */
export function skillsQuery(args: SkillsArgs): SkillsQuery {
  const issues: FieldIssue[] = [];
  const { from, to } = range(args.from, args.to, issues);
  const team = args.team == null ? undefined : normalizeTeam(args.team, to || undefined, 'team', issues);
  const limit = pickerPage(args.first, issues);
  if (args.after != null && !ID_RE.test(args.after))
    issues.push({ path: 'after', message: 'must be a skill id (the last skillId of a page)' });
  if (issues.length > 0) throw validationError(issues, 'skills arguments');
  return {
    from,
    to,
    limit,
    ...(team ? { team } : {}),
    ...(args.after != null ? { after: args.after } : {}),
  };
}

/**
 * The store query of a manager's dashboard.
 * @throws HubError VALIDATION naming each bad argument.
 */
export function managerDashboardQuery(args: ManagerDashboardArgs): ManagerDashboardQuery {
  const issues: FieldIssue[] = [];
  const { from, to } = range(args.from, args.to, issues);
  if (typeof args.managerId !== 'string' || !ID_RE.test(args.managerId)) {
    issues.push({ path: 'managerId', message: 'must be an employee id (1-128 of A-Z a-z 0-9 . _ : @ -)' });
  }
  if (issues.length > 0) throw validationError(issues, 'managerDashboard arguments');
  return { managerId: args.managerId, from, to };
}

function range(fromIn: unknown, toIn: unknown, issues: FieldIssue[]): { from: string; to: string } {
  const f = parseTimestamp(fromIn);
  const t = parseTimestamp(toIn);
  if (!f.ok) issues.push({ path: 'from', message: f.message });
  if (!t.ok) issues.push({ path: 'to', message: t.message });
  const from = f.ok ? formatTimestamp(f.ms) : '';
  const to = t.ok ? formatTimestamp(t.ms) : '';
  if (f.ok && t.ok && from > to) issues.push({ path: 'from', message: 'must not be after to' });
  return { from, to };
}

/** A picker page size: default 100, else an integer 1..{@link MAX_PICKER_PAGE}. */
function pickerPage(value: number | null | undefined, issues: FieldIssue[]): number {
  const first = value ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PICKER_PAGE) {
    issues.push({ path: 'first', message: `must be an integer from 1 to ${MAX_PICKER_PAGE}` });
  }
  return first;
}
