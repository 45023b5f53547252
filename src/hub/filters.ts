/**
 * Which list filters apply to which record type, and their validation.
 */
import { type FieldIssue, validationError } from './errors';
import { DECISION_OUTCOMES, GOVERNANCE_ACTIONS, OUTPUT_STATUSES, type RecordType, SEVERITIES } from './model';
import type { ListFilter, TeamScope } from './store';
import { formatTimestamp, parseTimestamp } from './time';
import { isUuid } from './uuid';

type FilterKey = Exclude<keyof ListFilter, 'from' | 'to'>;

/** Filters (beyond the time range) that each type supports. */
export const TYPE_FILTERS: { readonly [T in RecordType]: readonly FilterKey[] } = {
  outputs: ['skillIds', 'employeeId', 'team', 'status'],
  decisions: ['skillIds', 'employeeId', 'team', 'outputId', 'outcome'],
  governance_events: ['skillIds', 'employeeId', 'team', 'severity', 'action'],
  artifacts: ['skillIds', 'employeeId', 'outputId'],
  employee_profiles: ['employeeId', 'managerId'],
  telemetry_events: ['skillIds', 'employeeId'],
};

/**
 * Filters that do not compare a field of the record itself: `team` (resolved
 * through employee profiles) and a decision's `employeeId` (the employee of
 * the output decided on). Stores resolve these through the other records;
 * every other filter is an equality on the record's own field.
 */
export const DERIVED_FILTERS: { readonly [T in RecordType]: readonly FilterKey[] } = {
  outputs: ['team'],
  decisions: ['employeeId', 'team'],
  governance_events: ['team'],
  artifacts: [],
  employee_profiles: [],
  telemetry_events: [],
};

/** True when `key` filters `type` by a field of the record itself (see {@link DERIVED_FILTERS}). */
export function isFieldFilter(type: RecordType, key: string): boolean {
  return (
    (TYPE_FILTERS[type] as readonly string[]).includes(key) &&
    !(DERIVED_FILTERS[type] as readonly string[]).includes(key)
  );
}

const ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Validates a team scope (`{ managerId, asOf }`); `asOf` defaults to
 * `defaultAsOf` (the range's end) when absent. Problems are pushed to `issues`
 * under `path`.
 * @returns the normalised scope, or undefined when it is invalid.
 */
export function normalizeTeam(
  input: unknown,
  defaultAsOf: string | undefined,
  path: string,
  issues: FieldIssue[],
): TeamScope | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    issues.push({ path, message: 'must be an object { managerId, asOf }' });
    return undefined;
  }
  const { managerId, asOf, ...rest } = input as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(rest)) {
    issues.push({ path: `${path}.${key}`, message: 'is not a team field (managerId, asOf)' });
    ok = false;
  }
  if (typeof managerId !== 'string' || !ID_RE.test(managerId)) {
    issues.push({
      path: `${path}.managerId`,
      message: 'must be an employee id (1-128 of A-Z a-z 0-9 . _ : @ -)',
    });
    ok = false;
  }
  let at: string | undefined = defaultAsOf;
  if (asOf !== undefined && asOf !== null) {
    const t = parseTimestamp(asOf);
    if (t.ok) at = formatTimestamp(t.ms);
    else {
      issues.push({ path: `${path}.asOf`, message: t.message });
      return undefined;
    }
  } else if (at === undefined) {
    issues.push({
      path: `${path}.asOf`,
      message: 'is required when there is no range end (to) to default to',
    });
    ok = false;
  }
  return ok && at !== undefined ? { managerId: managerId as string, asOf: at } : undefined;
}

const ENUMS: Partial<Record<FilterKey, readonly string[]>> = {
  status: OUTPUT_STATUSES,
  outcome: DECISION_OUTCOMES,
  severity: SEVERITIES,
  action: GOVERNANCE_ACTIONS,
};

/** Input shape of a filter before validation (timestamps in any RFC 3339 offset). */
export type ListFilterInput = {
  readonly [K in Exclude<keyof ListFilter, 'team'>]?: ListFilter[K] | null;
} & { readonly team?: TeamScopeInput | null };

/** A team scope as callers send it: `asOf` may be left to default. */
export interface TeamScopeInput {
  readonly managerId: string;
  readonly asOf?: unknown;
}

/**
 * Validates a filter for a type and returns it normalised (canonical
 * timestamps, lowercase UUIDs, absent keys dropped).
 * @throws HubError VALIDATION naming each bad filter.
 */
export function normalizeFilter(type: RecordType, input: ListFilterInput = {}): ListFilter {
  const issues: FieldIssue[] = [];
  const out: Record<string, unknown> = {};
  const allowed = new Set<string>(TYPE_FILTERS[type]);
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (key === 'team' && allowed.has(key)) continue; // after the range: its asOf defaults to `to`
    if (key === 'from' || key === 'to') {
      const t = parseTimestamp(value);
      if (t.ok) out[key] = formatTimestamp(t.ms);
      else issues.push({ path: `filter.${key}`, message: t.message });
      continue;
    }
    if (!allowed.has(key)) {
      issues.push({ path: `filter.${key}`, message: `does not apply to ${type}` });
      continue;
    }
    if (key === 'skillIds') {
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        value.length > 100 ||
        !value.every((v) => typeof v === 'string')
      ) {
        issues.push({ path: 'filter.skillIds', message: 'must be 1 to 100 skill ids' });
      } else out.skillIds = [...new Set(value as string[])].sort();
      continue;
    }
    if (key === 'outputId') {
      if (isUuid(value)) out.outputId = value.toLowerCase();
      else issues.push({ path: 'filter.outputId', message: 'must be a UUID' });
      continue;
    }
    const allowedValues = ENUMS[key as FilterKey];
    if (allowedValues && !allowedValues.includes(value as string)) {
      issues.push({ path: `filter.${key}`, message: `must be one of ${allowedValues.join(', ')}` });
      continue;
    }
    if (typeof value !== 'string') issues.push({ path: `filter.${key}`, message: 'must be a string' });
    else out[key] = value;
  }
  if (typeof out.from === 'string' && typeof out.to === 'string' && out.from > out.to) {
    issues.push({ path: 'filter.from', message: 'must not be after filter.to' });
  }
  if (input.team !== undefined && input.team !== null && allowed.has('team')) {
    const to = typeof out.to === 'string' ? out.to : undefined;
    const team = normalizeTeam(input.team, to, 'filter.team', issues);
    if (team) out.team = team;
  }
  if (issues.length > 0) throw validationError(issues, 'filter');
  return out as ListFilter;
}
