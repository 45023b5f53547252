/**
 * The routing store: a {@link HubStore} that sends each call of a tenant to the
 * store its topology names. Writes, gets, lists, scans and purge go to the
 * primary; rollups go to the analytics store when the tenant has one and it is
 * fresh enough and up, else the tenant's fallback policy decides (answer from
 * the primary, or UNAVAILABLE; rollup-routing.ts). Every call is recorded in the active route
 * trace (see route-trace.ts), so callers can tell which store answered.
 *
 * Nothing here depends on which kind of store it talks to: it reads
 * capabilities and the topology only.
 */
import { HubError } from '../hub/errors';
import type { HubRecord, RecordType } from '../hub/model';
import { listWithChildren } from '../hub/nested-list';
import type {
  ChildListQuery,
  PageWithChildren,
  ArchetypeProgressionQuery,
  ArchetypeProgressionRow,
  CostPerSkillQuery,
  CostPerSkillRow,
  HubStore,
  ListQuery,
  ManagerDashboard,
  ManagerDashboardQuery,
  ManagerRow,
  ManagersQuery,
  PutOutcome,
  ScanQuery,
  ReadProjection,
  SkillRow,
  SkillsQuery,
  StoreCapabilities,
} from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { type RouteReason, expectRoutes, recordRoute } from '../platform/route-trace';
import { NOOP_SPAN, type Span, tracedStore, viewWith } from '../hub/tracing-ports';
import { ANALYTICS_RETRY_MS, RollupRouter, type RollupRouteCount, sleep } from './rollup-routing';
import type { PooledStore } from './store-pool';
import { type Route, TenantRegistry, type TenantRegistryOptions } from './tenant-registry';

/**
 * How long a write waits for a switch's fence to lift before it is refused
 * (default). A switch holds writes for well under a second when it goes well;
 * this bounds what a caller waits when it does not.
 */
export const DEFAULT_FENCE_HOLD_MS = 5000;

/** Marks a write that met a fence (held, then retried on the next routes). */
const FENCED = Symbol('fenced');

/** Routes each tenant's calls by the {@link TenantRegistry}; see the module comment. */
export class RoutingStore implements HubStore {
  /**
   * Derived from the stores of the registry at creation and constant afterwards
   * (a reload may add stores, so putBatch also splits batches by each primary's
   * own maxBatchSize).
   */
  readonly capabilities: StoreCapabilities;

  /** Rollups answered so far, by `store`, `role` and `reason` (for the router metrics). */
  readonly rollupRoutes: ReadonlyMap<string, RollupRouteCount>;

  /** Where each rollup and picker call runs (analytics, primary, or refused). */
  private readonly rollups: RollupRouter;

  /** Longest a write waits while its tenant is fenced before READ_ONLY (see putBatch). */
  private readonly fenceHoldMs: number;
  private held = 0;
  /** The span routed calls are children of: set only in a traced view ({@link traced}). */
  private readonly span: Span = NOOP_SPAN;

  constructor(
    readonly registry: TenantRegistry,
    options: { readonly fenceHoldMs?: number } = {},
  ) {
    this.capabilities = deriveCapabilities(registry.currentRoutes());
    this.fenceHoldMs = options.fenceHoldMs ?? DEFAULT_FENCE_HOLD_MS;
    this.rollups = new RollupRouter(registry);
    this.rollupRoutes = this.rollups.counts;
    expectRoutes();
  }

  /**
   * The view of a traced call: the routed stores' traced views under
   * `parent`, each route decision an event on it. Everything else is this
   * store's (registry, rollup router, counters).
   */
  traced(parent: Span): HubStore {
    return viewWith<RoutingStore>(this, { span: parent });
  }

  /** A pooled store as this view calls it (its traced view under {@link span} when sampled). */
  private storeOf(pooled: PooledStore): HubStore {
    return tracedStore(pooled.store, this.span);
  }

  /** Records that the call `op` went to the tenant's primary (an event on this view's span). */
  private trace(op: string, tenant: TenantId, route: Route, reason: RouteReason): void {
    recordRoute({ op, tenant, role: 'primary', store: route.primary.label, reason }, this.span);
  }

  /** Opens a registry (see {@link TenantRegistryOptions}) and a routing store over it. */
  static async open(
    options: TenantRegistryOptions & { readonly fenceHoldMs?: number },
  ): Promise<RoutingStore> {
    return new RoutingStore(await TenantRegistry.open(options), options);
  }

  /**
   * Writes to the tenant's primary. While a move's switch fences the tenant,
   * the write is held (outside any route, so the fence's acknowledgement does
   * not wait for it) until the routes change, then sent to the primary they
   * name; held longer than `fenceHoldMs` it is refused with READ_ONLY. A
   * tenant being moved is held the same way while this replica's control
   * plane lease has lapsed (see TenantRegistry.confirm).
   */
  async putBatch(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    const deadline = Date.now() + this.fenceHoldMs;
    for (;;) {
      const outcome = await this.registry.use(
        tenant,
        async (route) =>
          route.writes === 'fenced' || (route.moving && !this.registry.leaseHeld())
            ? FENCED
            : this.putOnRoute(tenant, route, records),
        { write: true },
      );
      if (outcome !== FENCED) return outcome;
      const left = deadline - Date.now();
      this.held++;
      try {
        if (left <= 0 || !(await this.registry.nextSwap(left))) {
          // A last look: the swap may have come as the wait ended.
          const route = this.registry.resolve(tenant);
          if (route.writes === 'fenced' || (route.moving && !this.registry.leaseHeld()))
            throw readOnly(tenant, 'fenced');
        }
      } finally {
        this.held--;
      }
    }
  }

  /** Writes held by a fence right now (metrics, tests). */
  get heldWrites(): number {
    return this.held;
  }

  private async putOnRoute(
    tenant: TenantId,
    route: Route,
    records: readonly HubRecord[],
  ): Promise<PutOutcome[]> {
    if (route.writes !== 'open') throw readOnly(tenant, route.writes);
    const { feed } = route.primary;
    const store = this.storeOf(route.primary);
    const outcomes: PutOutcome[] = [];
    const max = Math.max(1, store.capabilities.maxBatchSize);
    for (let i = 0; i < records.length; i += max) {
      const chunk = records.slice(i, i + max);
      const part = await store.putBatch(tenant, chunk);
      outcomes.push(...part);
      // A store-kept outbox has the entries already (same transaction); an in-process one gets them now.
      if (feed?.local && (route.analytics || route.replica))
        feed.local.enqueue(
          tenant,
          chunk.filter((_r, j) => part[j]?.status === 'created'),
        );
    }
    feed?.relay.kick();
    this.trace('putBatch', tenant, route, 'primary');
    return outcomes;
  }

  async getByIds(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]> {
    return this.onPrimary(tenant, 'getByIds', (s) =>
      projection ? s.getByIds(tenant, type, ids, projection) : s.getByIds(tenant, type, ids),
    );
  }

  async list(tenant: TenantId, query: ListQuery): Promise<HubRecord[]> {
    return this.onPrimary(tenant, 'list', (s) => s.list(tenant, query));
  }

  /** The page and its children from the tenant's primary, in one call when the primary can. */
  async listWithChildren(
    tenant: TenantId,
    query: ListQuery,
    children: ChildListQuery,
  ): Promise<PageWithChildren> {
    return this.onPrimary(tenant, 'list', (s) => listWithChildren(s, tenant, query, children));
  }

  async scan(tenant: TenantId, query: ScanQuery): Promise<HubRecord[]> {
    return this.onPrimary(tenant, 'scan', (s) => s.scan(tenant, query));
  }

  async costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
    return this.rollups.route(tenant, 'costPerSkill', (s) => s.costPerSkill(tenant, query), this.span);
  }

  async archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]> {
    return this.rollups.route(
      tenant,
      'archetypeProgression',
      (s) => s.archetypeProgression(tenant, query),
      this.span,
    );
  }

  async managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard> {
    return this.rollups.route(
      tenant,
      'managerDashboard',
      (s) => s.managerDashboard(tenant, query),
      this.span,
    );
  }

  /** Routed like the rollups: a picker shows what the dashboard's rollups will count. */
  async managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]> {
    return this.rollups.route(tenant, 'managers', (s) => s.managers(tenant, query), this.span);
  }

  /** Routed like the rollups (see {@link managers}). */
  async skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]> {
    return this.rollups.route(tenant, 'skills', (s) => s.skills(tenant, query), this.span);
  }

  /**
   * Purges the tenant from its primary, then from its analytics store. Outbox
   * entries of the tenant still pending are shipped (or dropped) first so they
   * cannot re-create data in analytics after its purge. Returns the primary's
   * count. Idempotent: when the analytics purge fails (UNAVAILABLE), calling
   * again finishes it.
   */
  async purgeTenant(tenant: TenantId): Promise<number> {
    return this.registry.use(
      tenant,
      async (route) => {
        if (route.writes !== 'open') throw readOnly(tenant, route.writes);
        const n = await this.storeOf(route.primary).purgeTenant(tenant);
        this.trace('purgeTenant', tenant, route, 'primary');
        const analytics = route.analytics;
        if (!analytics) return n;
        const feed = route.primary.feed;
        feed?.local?.dropTenant(tenant);
        try {
          if (feed && !(await feed.relay.catchUp()))
            throw new HubError('UNAVAILABLE', 'the outbox could not be drained');
          await this.storeOf(analytics).purgeTenant(tenant);
        } catch (err) {
          throw new HubError(
            'UNAVAILABLE',
            `tenant purged from its primary store but not yet from analytics store ${analytics.label}; retry the purge`,
            { cause: err },
          );
        }
        recordRoute(
          { op: 'purgeTenant', tenant, role: 'analytics', store: analytics.label, reason: 'analytics' },
          this.span,
        );
        return n;
      },
      { write: true },
    );
  }

  /**
   * Resolves when every primary answers. Analytics stores are pinged too but
   * their failure only marks them down for rollups (which then follow each
   * tenant's fallback policy); see `routerReadiness` for the detail.
   */
  async ping(): Promise<void> {
    await this.registry.useAll(async (routes) => {
      const primaries = new Set(routes.map((r) => r.primary));
      const analytics = new Set(routes.flatMap((r) => (r.analytics ? [r.analytics] : [])));
      await Promise.all([...primaries].map((p) => p.store.ping()));
      await Promise.all(
        [...analytics].map((a) =>
          a.store.ping().then(
            () => void (a.downUntil = 0),
            () => void (a.downUntil = Date.now() + ANALYTICS_RETRY_MS),
          ),
        ),
      );
    });
  }

  /** Stops the relays and closes every store of the registry once in-flight calls finish. */
  async close(): Promise<void> {
    await this.registry.close();
  }

  private onPrimary<T>(tenant: TenantId, op: string, call: (store: HubStore) => Promise<T>): Promise<T> {
    return this.registry.use(tenant, async (route) => {
      const result = await call(this.storeOf(route.primary));
      this.trace(op, tenant, route, 'primary');
      return result;
    });
  }
}

/** The refusal of a write to a tenant that does not take writes now. */
function readOnly(tenant: TenantId, state: 'read-only' | 'fenced'): HubError {
  return state === 'fenced'
    ? new HubError('READ_ONLY', `tenant ${tenant} is switching stores; retry in a moment`, {
        retryAfterSeconds: 1,
      })
    : new HubError('READ_ONLY', `tenant ${tenant} is read-only; reads are served, writes are refused`, {
        retryAfterSeconds: 30,
      });
}

/** Capabilities every tenant can count on: the weakest over the routes' primaries (and rollup stores). */
export function deriveCapabilities(routes: readonly Route[]): StoreCapabilities {
  const primaries = routes.map((r) => r.primary.store.capabilities);
  return {
    maxBatchSize: Math.min(...primaries.map((c) => c.maxBatchSize)),
    // The router keeps outboxes internally; it offers none to whoever wraps it.
    outbox: false,
    // It forwards nested lists to each tenant's primary (or emulates them there).
    nestedLists: true,
  };
}

/**
 * Waits until every relay of the router has shipped everything pending (for
 * tests' `settle` hooks and orderly shutdown).
 * @throws HubError TIMEOUT when the outboxes do not empty within `timeoutMs`.
 */
export async function settleRouter(store: RoutingStore, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const relay of store.registry.relays()) {
    for (;;) {
      await relay.catchUp();
      relay.kick();
      if ((await relay.lag()).pending === 0) break;
      if (Date.now() > deadline)
        throw new HubError('TIMEOUT', `relay ${relay.label} did not drain within ${timeoutMs} ms`);
      await sleep(20);
    }
  }
}
