/**
 * An exact result cache for the versioned rollups (cost per skill and the
 * skills picker, without a team: `VERSIONED_ROLLUPS` in store-optional.ts).
 * Dashboards poll the same panels: the answer is computed once and served
 * again while the store's data version for the tenant is unchanged.
 *
 * Exactness: a cached answer is served only after the store has returned, in
 * a fresh snapshot of this very call, the version the answer was computed
 * under. The version is read BEFORE the answer is computed: if anything
 * changed between the two reads, the version has already moved past the one
 * stored with the answer, and by the port's contract never comes back, so that
 * entry can never be served. A write acknowledged before a request began is
 * seen by that request's version read (read-your-writes). A store without
 * versions (`capabilities.rollupVersions`), or one answering `null`, is called
 * as if there were no cache.
 *
 * Placement: {@link withRollupCache} wraps ONE store (below the router, which
 * routes each rollup to one store): the version and the answer then come from
 * the store that answers, and everything above (route traces, metrics, usage,
 * fair shares) sees the same calls as without a cache. Entries are keyed by
 * that store, the tenant, the rollup and its arguments; one {@link RollupCache}
 * may serve several stores under one memory budget.
 *
 * Memory: bounded in estimated bytes (not entries), per tenant and in total.
 * A tenant's own entries are evicted first (least recently used) when it
 * passes its share; when the total is full, entries are taken from whichever
 * tenant holds the most bytes, so one tenant's many variants can push another
 * tenant's entries out only while that tenant holds more than it does.
 */
import {
  type CostPerSkillQuery,
  type HubStore,
  type RollupVersionSource,
  type SkillsQuery,
  hasRollupVersions,
} from './store';
import type { TenantId } from './tenant';
import { forwardTraced } from './tracing-ports';

/** Sizes of a {@link RollupCache}. */
export interface RollupCacheOptions {
  /** Estimated bytes of all entries together; 0 turns the cache off. */
  readonly maxBytes: number;
  /** Estimated bytes of one tenant's entries (at most `maxBytes`). */
  readonly maxTenantBytes: number;
}

/** The defaults of `hub serve` (HUB_ROLLUP_CACHE_MB, HUB_ROLLUP_CACHE_TENANT_MB). */
export const DEFAULT_ROLLUP_CACHE: RollupCacheOptions = {
  maxBytes: 64 * 1024 * 1024,
  maxTenantBytes: 8 * 1024 * 1024,
};

/** Counters of a {@link RollupCache} (since it was made). */
export interface RollupCacheStats {
  hits: number;
  misses: number;
  /** Calls the cache did not apply to (a team's rollup, a store without a version). */
  bypassed: number;
  evictions: number;
  /** Estimated bytes held now, and entries. */
  bytes: number;
  entries: number;
}

interface Entry {
  readonly version: string;
  readonly value: unknown;
  readonly bytes: number;
}

/** One tenant's entries, least recently used first (a Map keeps insertion order). */
interface TenantEntries {
  readonly entries: Map<string, Entry>;
  bytes: number;
  /** The newest version seen for the tenant per store: entries of another are dead. */
  readonly versions: Map<number, string>;
}

/** The entries and their budget; see the module comment. */
export class RollupCache {
  readonly stats: RollupCacheStats = { hits: 0, misses: 0, bypassed: 0, evictions: 0, bytes: 0, entries: 0 };
  private readonly tenants = new Map<TenantId, TenantEntries>();
  private readonly maxTenantBytes: number;

  constructor(readonly options: RollupCacheOptions) {
    this.maxTenantBytes = Math.min(options.maxTenantBytes, options.maxBytes);
  }

  /** False when the budget is zero (nothing is ever kept). */
  get enabled(): boolean {
    return this.options.maxBytes > 0 && this.maxTenantBytes > 0;
  }

  /**
   * The value kept for `key` under exactly `version`, or undefined. Seeing a
   * version that is not the tenant's newest for `store` drops the tenant's
   * entries of that store: by the port's contract they can never be served again.
   */
  get(store: number, tenant: TenantId, key: string, version: string): unknown {
    const t = this.tenants.get(tenant);
    if (!t) return undefined;
    if (t.versions.get(store) !== version) {
      this.dropStore(tenant, t, store);
      t.versions.set(store, version);
      return undefined;
    }
    const full = `${store}\0${key}`;
    const e = t.entries.get(full);
    if (!e || e.version !== version) return undefined;
    // Most recently used last.
    t.entries.delete(full);
    t.entries.set(full, e);
    return e.value;
  }

  /** Keeps `value` (of about `bytes`) for `key` under `version`, within the budgets. */
  put(store: number, tenant: TenantId, key: string, version: string, value: unknown, bytes: number): void {
    if (!this.enabled || bytes > this.maxTenantBytes) return;
    let t = this.tenants.get(tenant);
    if (!t) this.tenants.set(tenant, (t = { entries: new Map(), bytes: 0, versions: new Map() }));
    const newest = t.versions.get(store);
    // Computed under a version older than one already seen: it can never be served.
    if (newest !== undefined && newest !== version) return;
    t.versions.set(store, version);
    const full = `${store}\0${key}`;
    const old = t.entries.get(full);
    if (old) this.remove(t, full, old);
    t.entries.set(full, { version, value, bytes });
    t.bytes += bytes;
    this.stats.bytes += bytes;
    this.stats.entries++;
    while (t.bytes > this.maxTenantBytes) this.evictOldest(t);
    while (this.stats.bytes > this.options.maxBytes) this.evictOldest(this.largest(t));
  }

  /** Forgets every entry (tests, and a store closing). */
  clear(): void {
    this.tenants.clear();
    this.stats.bytes = 0;
    this.stats.entries = 0;
  }

  /** The tenant holding the most bytes; `prefer` on a tie. */
  private largest(prefer: TenantEntries): TenantEntries {
    let best = prefer;
    for (const t of this.tenants.values()) if (t.bytes > best.bytes) best = t;
    return best;
  }

  private evictOldest(t: TenantEntries): void {
    const first = t.entries.entries().next();
    if (first.done === true) return;
    this.remove(t, first.value[0], first.value[1]);
    this.stats.evictions++;
  }

  private dropStore(tenant: TenantId, t: TenantEntries, store: number): void {
    const prefix = `${store}\0`;
    for (const [key, e] of t.entries) if (key.startsWith(prefix)) this.remove(t, key, e);
    if (t.entries.size === 0 && t.versions.size === 0) this.tenants.delete(tenant);
  }

  private remove(t: TenantEntries, key: string, e: Entry): void {
    t.entries.delete(key);
    t.bytes -= e.bytes;
    this.stats.bytes -= e.bytes;
    this.stats.entries--;
  }
}

/** Ids of the stores wrapped so far: a store's entries are its own. */
let nextStoreId = 1;

/**
 * `store` with its versioned rollups answered through `cache` (see the module
 * comment); every other member is the store's own. `store` itself when it has
 * no versions or the cache is off.
 */
export function withRollupCache<S extends HubStore>(store: S, cache: RollupCache): S {
  if (!cache.enabled || !hasRollupVersions(store)) return store;
  return wrap(store, cache, nextStoreId++);
}

function wrap<S extends HubStore & RollupVersionSource>(store: S, cache: RollupCache, id: number): S {
  const costPerSkill = (tenant: TenantId, query: CostPerSkillQuery) =>
    cached(store, cache, id, tenant, 'costPerSkill', query, () => store.costPerSkill(tenant, query));
  const skills = (tenant: TenantId, query: SkillsQuery) =>
    cached(store, cache, id, tenant, 'skills', query, () => store.skills(tenant, query));
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'costPerSkill') return costPerSkill;
      if (prop === 'skills') return skills;
      // A traced view shares the cache and this store's entries.
      if (prop === 'traced') return forwardTraced(target, (view) => wrap(view, cache, id));
      return Reflect.get(target, prop, receiver);
    },
  });
}

/** One versioned rollup: served from the cache under the current version, else computed and kept. */
async function cached<T>(
  store: RollupVersionSource,
  cache: RollupCache,
  id: number,
  tenant: TenantId,
  rollup: string,
  query: CostPerSkillQuery | SkillsQuery,
  compute: () => Promise<T>,
): Promise<T> {
  // Only stores with versions are wrapped (withRollupCache), so a team is the one bypass here.
  if (query.team !== undefined) {
    cache.stats.bypassed++;
    return compute();
  }
  const version = await store.rollupVersion(tenant);
  if (version === null) {
    cache.stats.bypassed++;
    return compute();
  }
  const key = `${rollup}\0${JSON.stringify(query)}`;
  const hit = cache.get(id, tenant, key, version);
  if (hit !== undefined) {
    cache.stats.hits++;
    return hit as T;
  }
  cache.stats.misses++;
  const value = await compute();
  // Frozen: one answer is handed to every later caller, none may change it.
  if (Array.isArray(value)) for (const row of value) Object.freeze(row);
  cache.put(id, tenant, key, version, Object.freeze(value), estimateBytes(value));
  return value;
}

/**
 * Estimated heap bytes of a rollup's answer (arrays of flat rows): 16 per
 * object or array plus 8 per slot, 24 plus 2 per character per string, 8 per
 * number. An estimate for the budget, not an exact measure.
 */
export function estimateBytes(value: unknown): number {
  if (typeof value === 'string') return 24 + 2 * value.length;
  if (typeof value !== 'object' || value === null) return 8;
  let n = 16;
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) n += 8 + estimateBytes(v);
    return n;
  }
  for (const v of Object.values(value)) n += 16 + estimateBytes(v);
  return n;
}
