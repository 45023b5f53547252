/**
 * Which list filters apply to which record type, and their validation.
 */
import { type FieldIssue, validationError } from './errors';
import { DECISION_OUTCOMES, GOVERNANCE_ACTIONS, OUTPUT_STATUSES, type RecordType, SEVERITIES } from './model';
import type { ListFilter } from './store';
import { formatTimestamp, parseTimestamp } from './time';
import { isUuid } from './uuid';

type FilterKey = Exclude<keyof ListFilter, 'from' | 'to'>;

/** Filters (beyond the time range) that each type supports. */
export const TYPE_FILTERS: { readonly [T in RecordType]: readonly FilterKey[] } = {
  outputs: ['skillIds', 'employeeId', 'status'],
  decisions: ['skillIds', 'outputId', 'outcome'],
  governance_events: ['skillIds', 'employeeId', 'severity', 'action'],
  artifacts: ['skillIds', 'employeeId', 'outputId'],
  employee_profiles: ['employeeId'],
  telemetry_events: ['skillIds', 'employeeId'],
};

const ENUMS: Partial<Record<FilterKey, readonly string[]>> = {
  status: OUTPUT_STATUSES,
  outcome: DECISION_OUTCOMES,
  severity: SEVERITIES,
  action: GOVERNANCE_ACTIONS,
};

/** Input shape of a filter before validation (timestamps in any RFC 3339 offset). */
export type ListFilterInput = { readonly [K in keyof ListFilter]?: ListFilter[K] | null };

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
  if (issues.length > 0) throw validationError(issues, 'filter');
  return out as ListFilter;
}
