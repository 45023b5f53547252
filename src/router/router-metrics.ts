/**
 * What the router shows in `/metrics` and `/readyz`, as the
 * {@link HealthSource} the composition root (src/app/serve.ts) hands the HTTP
 * server with a routing store ({@link routerHealth}): the server calls
 * `registerMetrics` once with its prom-client registry and `readiness` from
 * its readiness handler, knowing nothing of the router.
 *
 * Metrics (label `primary` is the primary store's label, never its URI):
 * - `hub_router_outbox_lag_seconds{primary}`: age of the oldest entry waiting
 *   to reach analytics (0 when none; target under 2 s).
 * - `hub_router_outbox_pending{primary}`: entries waiting.
 * - `hub_router_relay_shipped_total{primary}`, `hub_router_relay_failures_total{primary}`.
 * - `hub_router_rollups_total{store,role,reason}`: which store answered rollups
 *   (reason `analytics`, `no-analytics`, `fallback-lag`, `fallback-unavailable`).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthSource } from '../platform/health';
import type { LagReading, OutboxRelay } from './outbox-relay';
import type { RoutingStore } from './routing-store';

/** Target end-to-end dual-write lag; readiness detail flags relays behind it. */
export const LAG_TARGET_MS = 2000;

async function readLags(store: RoutingStore): Promise<{ relay: OutboxRelay; lag: LagReading | null }[]> {
  return Promise.all(
    store.registry.relays().map(async (relay) => ({ relay, lag: await relay.lag().catch(() => null) })),
  );
}

/** The router's metrics and readiness, for the gateway's `/metrics` and `/readyz`. */
export function routerHealth(store: RoutingStore): HealthSource {
  return {
    registerMetrics: (registry) => registerRouterMetrics(store, registry),
    readiness: () => routerReadiness(store),
  };
}

/**
 * Registers the router's gauges and counters in `registry` (no-op when the
 * registry already has them: the first store wins).
 */
export function registerRouterMetrics(store: RoutingStore, registry: Registry): void {
  if (registry.getSingleMetric('hub_router_outbox_lag_seconds')) return;
  const registers = [registry];
  new Gauge({
    name: 'hub_router_outbox_lag_seconds',
    help: 'Age of the oldest outbox entry not yet in analytics, by primary store (0 when none)',
    labelNames: ['primary'] as const,
    registers,
    async collect() {
      this.reset();
      for (const { relay, lag } of await readLags(store)) {
        if (lag) this.set({ primary: relay.label }, lag.lagMs / 1000);
      }
    },
  });
  new Gauge({
    name: 'hub_router_outbox_pending',
    help: 'Outbox entries not yet shipped to analytics, by primary store',
    labelNames: ['primary'] as const,
    registers,
    async collect() {
      this.reset();
      for (const { relay, lag } of await readLags(store)) {
        if (lag) this.set({ primary: relay.label }, lag.pending);
      }
    },
  });
  new Counter({
    name: 'hub_router_relay_shipped_total',
    help: 'Outbox entries shipped to analytics by this process, by primary store',
    labelNames: ['primary'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of store.registry.relays()) this.inc({ primary: r.label }, r.status().shipped);
    },
  });
  new Counter({
    name: 'hub_router_relay_failures_total',
    help: 'Failed relay micro-batches (retried with backoff), by primary store',
    labelNames: ['primary'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of store.registry.relays()) this.inc({ primary: r.label }, r.status().failures);
    },
  });
  new Counter({
    name: 'hub_router_rollups_total',
    help: 'Rollups by the store that answered, its role, and why it was chosen',
    labelNames: ['store', 'role', 'reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of store.rollupRoutes.values())
        this.inc({ store: c.store, role: c.role, reason: c.reason }, c.count);
    },
  });
}

/** Readiness and its detail for `/readyz`. */
export interface RouterReadiness {
  /** False when a primary store does not answer (analytics trouble only degrades rollups). */
  readonly ready: boolean;
  readonly detail: {
    readonly stores: readonly { readonly store: string; readonly role: string; readonly up: boolean }[];
    readonly relays: readonly {
      readonly primary: string;
      readonly pending: number | null;
      readonly lagSeconds: number | null;
      readonly withinTarget: boolean;
      readonly consecutiveFailures: number;
      readonly lastError: string | null;
    }[];
  };
}

/** Pings every store of the current topology and reads each relay's lag. */
export async function routerReadiness(store: RoutingStore): Promise<RouterReadiness> {
  return store.registry.useAll(async (routes) => {
    const roles = new Map<string, { entry: (typeof routes)[number]['primary']; role: string }>();
    for (const r of routes) {
      roles.set(r.primary.key, { entry: r.primary, role: 'primary' });
      if (r.analytics && !roles.has(r.analytics.key))
        roles.set(r.analytics.key, { entry: r.analytics, role: 'analytics' });
    }
    const stores = await Promise.all(
      [...roles.values()].map(async ({ entry, role }) => ({
        store: entry.label,
        role,
        up: await entry.store.ping().then(
          () => true,
          () => false,
        ),
      })),
    );
    const relays = (await readLags(store)).map(({ relay, lag }) => {
      const s = relay.status();
      return {
        primary: relay.label,
        pending: lag ? lag.pending : null,
        lagSeconds: lag ? lag.lagMs / 1000 : null,
        withinTarget: lag !== null && lag.lagMs < LAG_TARGET_MS,
        consecutiveFailures: s.consecutiveFailures,
        lastError: s.lastError,
      };
    });
    return { ready: stores.every((s) => s.up || s.role !== 'primary'), detail: { stores, relays } };
  });
}
