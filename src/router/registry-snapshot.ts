/**
 * A snapshot of the tenant registry (tenant-registry.ts): the routes of one
 * configuration, the stores it holds, and the calls running on it. A reload
 * builds a new one and retires the old one once its calls have finished.
 */
import type { TenantId } from '../hub/tenant';
import type {
  DeploymentMode,
  RegistryConfig,
  TopologyOptions,
  TopologySpec,
  WriteState,
} from './registry-config';
import type { PooledStore, StorePool } from './store-pool';

/** Where calls of one tenant go. Shared by every tenant of the Mode A catch-all. */
export interface Route {
  readonly mode: DeploymentMode;
  readonly primary: PooledStore;
  readonly analytics?: PooledStore;
  /** A move's target receiving the tenant's acknowledged writes (see TopologySpec.replica). */
  readonly replica?: PooledStore;
  /** Whether writes are taken (default open). */
  readonly writes: WriteState;
  /** The tenant is being moved: writes need a confirmed control plane lease (see `TenantRegistry.leaseHeld`). */
  readonly moving: boolean;
  readonly options: TopologyOptions;
  /** True for the Mode A catch-all route. */
  readonly shared: boolean;
}

/**
 * One configuration in service: its routes, the stores they hold, and the calls
 * in flight on them, so a reload can retire it once its last call finishes.
 */
export class Snapshot {
  inFlight = 0;
  private retired = false;
  private released: Promise<void> | null = null;
  private idle: Promise<void> | null = null;
  private onIdle: (() => void) | null = null;

  constructor(
    readonly config: RegistryConfig,
    readonly tenants: ReadonlyMap<TenantId, Route>,
    readonly shared: Route | undefined,
    /** Every store acquired for this snapshot (routes' and warm ones), released when it retires. */
    readonly entries: readonly PooledStore[],
  ) {}

  /** The tenant's own route, else the Mode A catch-all's; undefined when this snapshot serves neither. */
  route(tenant: TenantId): Route | undefined {
    return this.tenants.get(tenant) ?? this.shared;
  }

  /** Writes among the calls in flight (a fence waits for these only). */
  writes = 0;
  private writesIdle: Promise<void> | null = null;
  private onWritesIdle: (() => void) | null = null;

  /** Counts a call (a write when `write`) as running on this snapshot; pair with {@link leave}. */
  enter(write = false): void {
    this.inFlight++;
    if (write) this.writes++;
  }

  /** Ends a call counted by {@link enter}; the last one out of a retired snapshot wakes its waiters. */
  leave(write = false): void {
    if (write && --this.writes === 0 && this.retired) this.onWritesIdle?.();
    if (--this.inFlight === 0 && this.retired) this.onIdle?.();
  }

  /** After {@link retire}: resolves once no write started on this snapshot is running. */
  writesDone(): Promise<void> {
    this.writesIdle ??=
      this.writes === 0 ? Promise.resolve() : new Promise<void>((r) => (this.onWritesIdle = r));
    return this.writesIdle;
  }

  /**
   * Runs `release` once no call uses this snapshot anymore. Returns when the
   * calls have finished (`idle`) and when the release is done (`released`).
   */
  retire(release: () => Promise<void>): { idle: Promise<void>; released: Promise<void> } {
    if (!this.idle || !this.released) {
      this.retired = true;
      this.idle = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => (this.onIdle = r));
      this.released = this.idle.then(release);
    }
    return { idle: this.idle, released: this.released };
  }
}

/**
 * Opens (through `pool`) every store `config` names and returns the snapshot of
 * its routes. A primary gets an outbox only when some tenant on it feeds an
 * analytics store or a move replica. `startRelays` starts the outbox relays of
 * the stores the routes use. On failure every store acquired is released and
 * the error rethrown.
 */
export async function buildSnapshot(
  config: RegistryConfig,
  pool: StorePool,
  startRelays: boolean,
): Promise<Snapshot> {
  const specs: TopologySpec[] = [...config.tenants.values(), ...(config.shared ? [config.shared] : [])];
  // A primary keeps an outbox only when some tenant on it has an analytics store or a move replica to feed.
  const feeding = new Set(specs.filter((s) => s.analytics || s.replica).map((s) => s.primary.uri));
  const acquired = new Map<string, Promise<PooledStore>>();
  const acquire = (uri: string, label: string, outbox: boolean): Promise<PooledStore> => {
    const key = `${outbox} ${uri}`;
    let p = acquired.get(key);
    if (!p) acquired.set(key, (p = pool.acquire(uri, label, { outbox })));
    return p;
  };
  // A tenant being moved gets its two stores opened now the way the switch
  // will need them (the replica with an outbox, the primary without), so the
  // reload that flips the primary opens nothing while its writes are held.
  const warm = specs.filter((s) => s.replica);
  const route = async (spec: TopologySpec, shared: boolean): Promise<Route> => {
    const primary = await acquire(spec.primary.uri, spec.primary.label, feeding.has(spec.primary.uri));
    const analytics = spec.analytics
      ? await acquire(spec.analytics.uri, spec.analytics.label, false)
      : undefined;
    const replica = spec.replica ? await acquire(spec.replica.uri, spec.replica.label, false) : undefined;
    return {
      mode: spec.mode,
      primary,
      ...(analytics ? { analytics } : {}),
      ...(replica ? { replica } : {}),
      writes: spec.writes ?? 'open',
      moving: spec.moving === true,
      options: spec.options,
      shared,
    };
  };
  try {
    const tenants = new Map<TenantId, Route>();
    for (const [id, spec] of config.tenants) tenants.set(id, await route(spec, false));
    const shared = config.shared ? await route(config.shared, true) : undefined;
    const running = await Promise.all(acquired.values());
    for (const spec of warm) {
      const replica = spec.replica as NonNullable<TopologySpec['replica']>;
      await acquire(replica.uri, replica.label, true);
      await acquire(spec.primary.uri, spec.primary.label, false);
    }
    const entries = await Promise.all(acquired.values());
    const snapshot = new Snapshot(config, tenants, shared, entries);
    // Warm stores' relays start once a route uses them (the flip's reload).
    if (startRelays) for (const e of running) e.feed?.relay.start();
    return snapshot;
  } catch (err) {
    // Give back whatever was opened; the previous snapshot (if any) stays in service.
    const opened = await Promise.allSettled(acquired.values());
    for (const r of opened) if (r.status === 'fulfilled') await pool.release(r.value);
    throw err;
  }
}
