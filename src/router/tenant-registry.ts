/**
 * The tenant registry: maps a verified tenant id to its route (primary store,
 * optional analytics store, options), opening each distinct store once.
 *
 * Unknown tenants: a tenant neither listed nor covered by the Mode A catch-all
 * (`shared`) is refused with FORBIDDEN ("this gateway does not serve tenant
 * x"): the caller is authenticated but has no data here. There is no default
 * tenant and no fallback to another tenant's route.
 *
 * Hot reload: {@link TenantRegistry.reload} (wired to SIGHUP by
 * {@link installSighupReload}) builds a complete new snapshot, opening any new
 * stores first, then swaps it in atomically. Calls already running keep the
 * snapshot they started with; stores only the old snapshot used are closed
 * once its last in-flight call finishes. A reload that fails (invalid file,
 * store that cannot open) changes nothing.
 */
import { HubError, isHubError } from '../hub/errors';
import type { HubRecord } from '../hub/model';
import type { TenantId } from '../hub/tenant';
import { openStore } from '../stores/index';
import { OutboxRelay, type RelayOptions } from './outbox-relay';
import type { RegistryConfig, TopologySpec } from './registry-config';
import { buildSnapshot, type Route, type Snapshot } from './registry-snapshot';
import { type PooledStore, type StoreOpener, StorePool } from './store-pool';
import { type Span, tracedStore } from '../hub/tracing-ports';

export type { Route } from './registry-snapshot';

export interface TenantRegistryOptions {
  /** Produces the configuration; called at open and on every reload (e.g. `() => loadRegistryConfig(config)`). */
  readonly load: () => Promise<RegistryConfig>;
  /** Opens stores (default: the driver registry's `openStore`). */
  readonly openStore?: StoreOpener;
  /** Relay tuning; `autoStart: false` leaves relays stopped (tests drive them by hand). */
  readonly relay?: Omit<RelayOptions, 'label' | 'log'> & { readonly autoStart?: boolean };
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
  /** Milliseconds since an epoch (default Date.now): the control plane lease is measured with it. */
  readonly clock?: () => number;
}

/** What a reload changed. */
export interface ReloadResult {
  readonly tenants: number;
  readonly shared: boolean;
  /** Store labels opened by this reload. */
  readonly opened: readonly string[];
}

/** Tenants and their routes; see the module comment. Create with {@link TenantRegistry.open}. */
export class TenantRegistry {
  private current!: Snapshot;
  private readonly pool: StorePool;
  private reloading: Promise<unknown> = Promise.resolve();
  /** Retired snapshots: when their writes have finished, and when their stores are released. */
  private readonly retiring = new Set<{ idle: Promise<void>; done: Promise<void> }>();
  /** Woken at the next swap of routes (held writes wait for it). */
  private swapWaiters: (() => void)[] = [];
  /** The control plane lease: when this replica's view was last confirmed, and for how long that holds. */
  private lease: { confirmedAt: number; ms: number } | undefined;
  private closed = false;
  private readonly closeHooks = new Set<() => void>();
  private readonly log: (event: string, fields?: Record<string, unknown>) => void;

  private constructor(private readonly options: TenantRegistryOptions) {
    this.log = options.log ?? (() => {});
    const { autoStart: _autoStart, ...relayOptions } = options.relay ?? {};
    this.pool = new StorePool(
      options.openStore ?? openStore,
      (label, source) =>
        new OutboxRelay(source, (t, r, span) => this.ship(t, r, span), {
          ...relayOptions,
          label,
          log: this.log,
        }),
      this.log,
    );
  }

  /** Loads the configuration and opens every store it names. */
  static async open(options: TenantRegistryOptions): Promise<TenantRegistry> {
    const registry = new TenantRegistry(options);
    registry.current = await registry.build(await options.load());
    return registry;
  }

  private build(config: RegistryConfig): Promise<Snapshot> {
    return buildSnapshot(config, this.pool, this.options.relay?.autoStart !== false);
  }

  /**
   * Re-reads the configuration and swaps it in atomically (see the module
   * comment). Reloads are serialised. Rejects (changing nothing) when the new
   * configuration is invalid or one of its stores cannot be opened.
   */
  reload(): Promise<ReloadResult> {
    const run = this.reloading.then(async () => {
      if (this.closed) throw new HubError('UNAVAILABLE', 'tenant registry is closed');
      const before = new Set(this.pool.openKeys());
      const next = await this.build(await this.options.load());
      const old = this.current;
      this.current = next;
      this.retire(old);
      this.wakeHeld();
      const opened = next.entries.filter((e) => !before.has(e.key)).map((e) => e.label);
      this.log('router.reloaded', { tenants: next.tenants.size, shared: next.shared !== undefined, opened });
      return { tenants: next.tenants.size, shared: next.shared !== undefined, opened };
    });
    this.reloading = run.catch(() => {});
    return run;
  }

  private retire(snapshot: Snapshot): void {
    const { released } = snapshot.retire(async () => {
      for (const e of snapshot.entries) await this.pool.release(e);
    });
    const item = {
      idle: snapshot.writesDone(),
      done: released.catch((err: unknown) => this.log('router.release_failed', { error: String(err) })),
    };
    this.retiring.add(item);
    void item.done.finally(() => this.retiring.delete(item));
  }

  /**
   * Records that this replica's routes were confirmed current by the control
   * plane as of `checkedAt` (the time its check started), for `leaseMs`. A
   * move counts a replica silent for longer than its own liveness window as
   * gone and stops waiting for it; with a lease shorter than that window, such
   * a replica has already stopped taking writes of moving tenants (they are
   * held, then refused, until a check confirms its routes again).
   */
  confirm(checkedAt: number, leaseMs: number): void {
    const wasHeld = this.leaseHeld();
    this.lease = { confirmedAt: Math.max(checkedAt, this.lease?.confirmedAt ?? checkedAt), ms: leaseMs };
    if (!wasHeld) this.wakeHeld();
  }

  /** Whether writes of moving tenants may be taken now (always, without a control plane). */
  leaseHeld(): boolean {
    const lease = this.lease;
    return lease === undefined || (this.options.clock ?? Date.now)() - lease.confirmedAt <= lease.ms;
  }

  private wakeHeld(): void {
    const waiters = this.swapWaiters;
    this.swapWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves at the next swap of routes (a reload) or renewal of a lapsed
   * lease, or after `timeoutMs` (false), or when the registry closes (false).
   * Writes held by a fence wait here for the change that lifts it.
   */
  nextSwap(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(!this.closed);
      };
      const timer = setTimeout(() => {
        this.swapWaiters = this.swapWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.swapWaiters.push(wake);
    });
  }

  /**
   * The tenant's entry of the current configuration (its own, or the Mode A
   * catch-all's), for its limits and registered operations; undefined when
   * this gateway does not serve it. Follows reloads.
   */
  specOf(tenant: TenantId): TopologySpec | undefined {
    return this.current.config.tenants.get(tenant) ?? this.current.config.shared;
  }

  /**
   * The route of a tenant in the current snapshot.
   * @throws HubError FORBIDDEN when this gateway does not serve the tenant.
   */
  resolve(tenant: TenantId): Route {
    const route = this.current.route(tenant);
    if (!route) throw unknownTenant(tenant);
    return route;
  }

  /**
   * Runs `fn` with the tenant's route, keeping that route's stores open until
   * `fn` settles even if a reload retires them meanwhile. `write`: the call
   * writes to the tenant's primary ({@link settled} waits for it).
   * @throws HubError FORBIDDEN when this gateway does not serve the tenant.
   */
  async use<T>(
    tenant: TenantId,
    fn: (route: Route) => Promise<T>,
    options: { readonly write?: boolean } = {},
  ): Promise<T> {
    if (this.closed) throw new HubError('UNAVAILABLE', 'router is closed');
    const snapshot = this.current;
    const route = snapshot.route(tenant);
    if (!route) throw unknownTenant(tenant);
    const write = options.write === true;
    snapshot.enter(write);
    try {
      return await fn(route);
    } finally {
      snapshot.leave(write);
    }
  }

  /** Runs `fn` with every distinct route and store of the current snapshot, kept open meanwhile. */
  async useAll<T>(fn: (routes: readonly Route[], stores: readonly PooledStore[]) => Promise<T>): Promise<T> {
    if (this.closed) throw new HubError('UNAVAILABLE', 'router is closed');
    const snapshot = this.current;
    snapshot.enter();
    try {
      return await fn(this.currentRoutes(), snapshot.entries);
    } finally {
      snapshot.leave();
    }
  }

  /** Every distinct route of the current snapshot (no in-flight tracking: for capabilities and diagnostics). */
  currentRoutes(): Route[] {
    const s = this.current;
    return [...s.tenants.values(), ...(s.shared ? [s.shared] : [])];
  }

  /** The relays of the current snapshot's primaries (metrics, readiness, tests). */
  relays(): OutboxRelay[] {
    return this.current.entries.flatMap((e) => (e.feed ? [e.feed.relay] : []));
  }

  /** Runs `hook` when the registry closes (e.g. to remove a signal handler); returns a function that cancels it. */
  onClose(hook: () => void): () => void {
    this.closeHooks.add(hook);
    return () => void this.closeHooks.delete(hook);
  }

  /** The configuration in service. */
  config(): RegistryConfig {
    return this.current.config;
  }

  /**
   * Ships one tenant's outbox records to its current analytics store and to
   * its move replica, if any (the relays' ship function). Entries stay in the
   * outbox until both have them.
   */
  private async ship(
    tenant: TenantId,
    records: readonly HubRecord[],
    span: Span,
  ): Promise<'shipped' | 'dropped'> {
    try {
      return await this.use(tenant, async (route) => {
        const targets = [route.analytics, route.replica].filter((t): t is PooledStore => t !== undefined);
        if (targets.length === 0) return 'dropped';
        for (const target of targets) {
          const max = Math.max(1, target.store.capabilities.maxBatchSize);
          for (let i = 0; i < records.length; i += max) {
            const outcomes = await tracedStore(target.store, span).putBatch(
              tenant,
              records.slice(i, i + max),
            );
            // A conflict means the target holds different content under the id: retrying cannot fix it.
            const conflicts = outcomes.filter((o) => o.status === 'conflict').length;
            if (conflicts > 0) this.log('relay.conflict', { tenant, store: target.label, conflicts });
          }
        }
        return 'shipped';
      });
    } catch (err) {
      if (isHubError(err, 'FORBIDDEN')) {
        this.log('relay.dropped_unknown_tenant', { tenant, records: records.length });
        return 'dropped';
      }
      throw err;
    }
  }

  /**
   * Resolves once every write that started on a snapshot older than the
   * current one has finished (a replica acknowledges a write fence only then).
   * Reads and relay shipments still running on an old snapshot are not
   * waited for (they cannot write to the old primary), nor are the stores
   * only an old snapshot used, which close after their last call.
   */
  async settled(): Promise<void> {
    await this.reloading;
    await Promise.all([...this.retiring].map((r) => r.idle));
  }

  /** Stops relays and closes every store once in-flight calls finish. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const hook of this.closeHooks) hook();
    this.closeHooks.clear();
    await this.reloading;
    this.retire(this.current);
    this.wakeHeld();
    await Promise.all([...this.retiring].map((r) => r.done));
  }
}

function unknownTenant(tenant: TenantId): HubError {
  return new HubError('FORBIDDEN', `this gateway does not serve tenant ${JSON.stringify(tenant)}`);
}

/**
 * Reloads the registry on SIGHUP until the registry closes. Returns the
 * function that removes the handler sooner. Failures are logged; the previous
 * configuration stays in service.
 */
export function installSighupReload(
  registry: TenantRegistry,
  log: (event: string, fields?: Record<string, unknown>) => void = () => {},
): () => void {
  const handler = (): void => {
    registry.reload().then(
      (r) => log('router.sighup_reloaded', { ...r }),
      (err: unknown) =>
        log('router.sighup_reload_failed', { error: err instanceof Error ? err.message : String(err) }),
    );
  };
  process.on('SIGHUP', handler);
  const cancel = registry.onClose(() => void process.off('SIGHUP', handler));
  return () => {
    cancel();
    process.off('SIGHUP', handler);
  };
}
