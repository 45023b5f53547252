/**
 * `Query.usage`: a tenant's usage per minute (src/platform/usage.ts). A
 * caller reads its own tenant's; naming another tenant needs the hub:admin
 * scope (an operator's token), else FORBIDDEN without saying whether that
 * tenant exists. The range is bounded (31 days), so one answer is at most
 * 44,640 minutes.
 */
import { type FieldIssue, HubError, validationError } from '../../hub/errors';
import { parseTenantId } from '../../hub/tenant';
import { formatTimestamp, parseTimestamp } from '../../hub/time';
import { MAX_USAGE_RANGE_MS, type UsageRow } from '../../platform/usage';
import type { QueryResolvers, UsageMinuteResolvers } from '../generated/resolvers';

/** The `usage` root field. */
export const usageQuery: QueryResolvers['usage'] = async (_p, a, ctx) => {
  const tenant = a.tenant == null ? ctx.tenant : parseTenantId(a.tenant);
  if (tenant !== ctx.tenant && !ctx.scopes.has('hub:admin'))
    throw new HubError('FORBIDDEN', "reading another tenant's usage needs the hub:admin scope");
  const from = parseTimestamp(a.from);
  const to = parseTimestamp(a.to);
  const issues: FieldIssue[] = [];
  if (!from.ok) issues.push({ path: 'from', message: from.message });
  if (!to.ok) issues.push({ path: 'to', message: to.message });
  if (from.ok && to.ok && from.ms > to.ms) issues.push({ path: 'from', message: 'must not be after to' });
  if (from.ok && to.ok && to.ms - from.ms > MAX_USAGE_RANGE_MS)
    issues.push({ path: 'to', message: 'must be at most 31 days after from' });
  if (issues.length > 0 || !from.ok || !to.ok) throw validationError(issues, 'usage arguments');
  if (!ctx.usage) return [];
  return ctx.usage.read(tenant, formatTimestamp(from.ms), formatTimestamp(to.ms));
};

/** Fields of `UsageMinute` from a stored row. */
export const usageMinuteResolvers: UsageMinuteResolvers = {
  minute: (r: UsageRow) => r.minute,
  requests: (r: UsageRow) => r.requests,
  errors: (r: UsageRow) => r.errors,
  costUnits: (r: UsageRow) => r.cost_units,
  rowsRead: (r: UsageRow) => r.rows_read,
  rollups: (r: UsageRow) => r.rollups,
  bytesIngested: (r: UsageRow) => r.bytes_ingested,
};
