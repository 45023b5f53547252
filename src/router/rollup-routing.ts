/**
 * Where a tenant's rollup runs: on its analytics store when it has one that is
 * up and fresh enough, else on its primary or refused (UNAVAILABLE), as the
 * tenant's fallback policy says. Each answered rollup is counted by store,
 * role and reason (for the router metrics) and recorded in the active route
 * trace. Used by {@link RoutingStore} (routing-store.ts) for every rollup and
 * picker call.
 */
import { HubError, isHubError } from '../hub/errors';
import type { HubStore } from '../hub/store';
import { NOOP_SPAN, type Span, tracedStore } from '../hub/tracing-ports';
import type { TenantId } from '../hub/tenant';
import { formatTimestamp } from '../hub/time';
import { type RouteReason, recordRoute } from '../platform/route-trace';
import type { LagReading } from './outbox-relay';
import type { PooledStore } from './store-pool';
import type { Route, TenantRegistry } from './tenant-registry';

/** How long an analytics store that failed a rollup is skipped before being tried again. */
export const ANALYTICS_RETRY_MS = 2000;

/** Codes meaning "the store cannot answer right now" (the fallback policy applies), as opposed to a bad query. */
const TRANSIENT = new Set(['UNAVAILABLE', 'TIMEOUT', 'THROTTLED']);

/** One count of the router metrics: rollups answered by `store` in `role` for `reason`. */
export interface RollupRouteCount {
  store: string;
  role: string;
  reason: RouteReason;
  count: number;
}

/** A rollup being routed: whose, which, the call to run, and the tenant's route. */
interface RollupAt<T> {
  readonly tenant: TenantId;
  readonly op: string;
  readonly call: (store: HubStore) => Promise<T>;
  readonly route: Route;
  /** The routed call's span: the stores' traced views are its children, the decision its event. */
  readonly span: Span;
}

/** Routes rollups by the registry's routes; see the module comment. */
export class RollupRouter {
  /** Rollups answered so far, keyed by store, role and reason. */
  readonly counts = new Map<string, RollupRouteCount>();

  constructor(private readonly registry: TenantRegistry) {}

  /**
   * Runs `call` on the store the tenant's route picks for a rollup (its
   * traced view under `span` when that one records) and records the route taken.
   * @throws HubError UNAVAILABLE when the analytics store is behind or down and
   * the tenant's fallback policy is 'fail'; otherwise whatever `call` throws.
   */
  route<T>(
    tenant: TenantId,
    op: string,
    call: (store: HubStore) => Promise<T>,
    span: Span = NOOP_SPAN,
  ): Promise<T> {
    return this.registry.use(tenant, async (route) => {
      const at: RollupAt<T> = { tenant, op, call, route, span };
      const analytics = route.analytics;
      if (!analytics) return this.onPrimary(at, 'no-analytics');
      if (analytics.downUntil > Date.now()) return this.fallback(at, analytics, 'fallback-unavailable');
      const lag = await freshLag(route);
      if (lag && isStale(lag, route)) return this.fallback(at, analytics, 'fallback-lag', lag.lagMs);
      const watermark = lag
        ? lag.pending > 0 && lag.oldest !== null
          ? lag.oldest
          : formatTimestamp(lag.checkedAt)
        : undefined;
      let result: T;
      try {
        result = await call(tracedStore(analytics.store, span));
      } catch (err) {
        if (!isHubError(err) || !TRANSIENT.has(err.code)) throw err;
        analytics.downUntil = Date.now() + ANALYTICS_RETRY_MS;
        return this.fallback(at, analytics, 'fallback-unavailable', lag?.lagMs, err);
      }
      analytics.downUntil = 0;
      this.count(analytics.label, 'analytics', 'analytics');
      recordRoute(
        {
          op,
          tenant,
          role: 'analytics',
          store: analytics.label,
          reason: 'analytics',
          ...(watermark === undefined ? {} : { watermark }),
          ...(lag ? { lagMs: lag.lagMs } : {}),
        },
        span,
      );
      return result;
    });
  }

  /** The rollup on the primary, counted and recorded with why. */
  private async onPrimary<T>(at: RollupAt<T>, reason: RouteReason, lagMs?: number): Promise<T> {
    const { route } = at;
    const watermark = formatTimestamp(Date.now());
    const result = await at.call(tracedStore(route.primary.store, at.span));
    this.count(route.primary.label, 'primary', reason);
    recordRoute(
      {
        op: at.op,
        tenant: at.tenant,
        role: 'primary',
        store: route.primary.label,
        reason,
        watermark,
        ...(lagMs === undefined ? {} : { lagMs }),
      },
      at.span,
    );
    return result;
  }

  /** The analytics store is behind or down: the primary, or UNAVAILABLE when the tenant's policy is 'fail'. */
  private fallback<T>(
    at: RollupAt<T>,
    analytics: PooledStore,
    reason: 'fallback-lag' | 'fallback-unavailable',
    lagMs?: number,
    cause?: unknown,
  ): Promise<T> {
    const { route } = at;
    if (route.options.fallback === 'primary') return this.onPrimary(at, reason, lagMs);
    const why =
      reason === 'fallback-lag'
        ? `is ${Math.round((lagMs ?? 0) / 100) / 10} s behind (bound ${route.options.freshnessSeconds} s)`
        : 'is unavailable';
    throw new HubError(
      'UNAVAILABLE',
      `analytics store ${analytics.label} ${why} and the tenant's fallback policy is 'fail'`,
      {
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }

  private count(store: string, role: 'primary' | 'analytics', reason: RouteReason): void {
    const key = `${store}\0${role}\0${reason}`;
    const c = this.counts.get(key);
    if (c) c.count++;
    else this.counts.set(key, { store, role, reason, count: 1 });
  }
}

/**
 * The analytics lag of the route's primary outbox; when staler than the bound,
 * lets the relay catch up for up to `waitForFreshnessMs` first.
 */
async function freshLag(route: Route): Promise<LagReading | null> {
  const relay = route.primary.feed?.relay;
  if (!relay) return null;
  let lag = await relay.lag();
  const deadline = Date.now() + route.options.waitForFreshnessMs;
  while (isStale(lag, route) && Date.now() < deadline) {
    if (!(await relay.catchUp())) await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    relay.kick();
    lag = await relay.lag();
  }
  return lag;
}

/**
 * Stale when something waits in the outbox for at least the bound. A bound of
 * 0 therefore means "nothing may be pending" (an entry enqueued this very
 * millisecond has lag 0 but is still missing from analytics).
 */
function isStale(lag: LagReading, route: Route): boolean {
  return lag.pending > 0 && lag.lagMs >= route.options.freshnessSeconds * 1000;
}

/** Resolves after `ms` milliseconds (a relay given time to catch up, a drain polled). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
