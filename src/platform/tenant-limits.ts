/**
 * Fair shares per tenant: how much of the gateway one tenant may hold at once
 * and per second. The defaults let a tenant at full speed use a bounded share
 * (requests and rollups in flight, store calls in flight, cost per second) so
 * that others keep theirs; a tenant's own values come from the tenants file
 * (`limits:` on a tenant, on `shared`, or under `defaults`), see
 * src/router/README.md and docs/operations.md.
 */
import type { FieldIssue } from '../hub/errors';
import type { TenantId } from '../hub/tenant';

/** One tenant's limits. */
export interface TenantLimits {
  /** Requests (`/graphql`, `/ingest`) of the tenant being served at once; more get 429. */
  readonly maxInFlight: number;
  /** Rollup store calls (dashboard, cost per skill, progression, pickers) at once; more wait (bounded), then THROTTLED. */
  readonly maxRollupsInFlight: number;
  /** Store calls of the tenant at once (the rest wait their turn): one tenant never holds every connection. */
  readonly maxStoreCalls: number;
  /** Cost units refilled per second into the tenant's bucket. */
  readonly costPerSecond: number;
  /** Bucket size: the most cost units a tenant can spend in a burst. */
  readonly burst: number;
  /** Characters of persisted-query text kept for the tenant; its oldest go first, never another tenant's. */
  readonly persistedQueryChars: number;
}

/**
 * Defaults. A request costs its `extensions.cost` (computed by the cost
 * analysis) when known, else {@link DEFAULT_REQUEST_COST}; the largest single
 * query allowed costs 25,000, so a tenant may run two at most per second on
 * average, and a dashboard load (four queries of a few hundred) is far from it.
 * `maxStoreCalls` stays below PostgreSQL's default pool of 10 connections.
 */
export const DEFAULT_TENANT_LIMITS: TenantLimits = {
  maxInFlight: 32,
  maxRollupsInFlight: 4,
  maxStoreCalls: 8,
  costPerSecond: 50_000,
  burst: 100_000,
  persistedQueryChars: 4 * 1024 * 1024,
};

/** Cost charged for a request whose cost is not known (ingest, or a request the cost analysis did not measure). */
export const DEFAULT_REQUEST_COST = 10;

/** Per-tenant limits and registered operation names, as the composition root knows them. */
export interface TenantPolicy {
  /** The tenant's limits (defaults filled in). */
  limits(tenant: TenantId): TenantLimits;
  /** Operation names the tenant registered (metrics labels), if any. */
  operations(tenant: TenantId): ReadonlySet<string> | undefined;
  /** True when the tenant's metrics carry a `tenant` label (the tenants file turned it on). */
  metricsLabel(tenant: TenantId): boolean;
}

/** The same limits for every tenant, no registered operations, no tenant label. */
export function uniformPolicy(limits: Partial<TenantLimits> = {}): TenantPolicy {
  const all = { ...DEFAULT_TENANT_LIMITS, ...limits };
  return { limits: () => all, operations: () => undefined, metricsLabel: () => false };
}

const KEYS = Object.keys(DEFAULT_TENANT_LIMITS) as (keyof TenantLimits)[];

/**
 * Validates a `limits:` mapping of the tenants file. Every key is optional; each
 * must be a positive integer. @returns the values given (problems are reported
 * through `problem`, naming `path.key`).
 */
export function readTenantLimits(
  raw: unknown,
  path: string,
  problem: (issue: FieldIssue) => void,
): Partial<TenantLimits> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem({ path, message: `must be a mapping of ${KEYS.join(', ')}` });
    return {};
  }
  const out: Partial<Record<keyof TenantLimits, number>> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(KEYS as string[]).includes(key)) {
      problem({ path: `${path}.${key}`, message: `unknown limit (expected ${KEYS.join(', ')})` });
    } else if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1e12) {
      problem({ path: `${path}.${key}`, message: 'must be a positive integer' });
    } else out[key as keyof TenantLimits] = value;
  }
  return out;
}
