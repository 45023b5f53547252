/**
 * A cache partitioned by tenant, each partition a least-recently-used map
 * with its own quota (entries, and a total weight such as compiled fields),
 * so that what one tenant sends can only ever evict that tenant's entries.
 * The partitions themselves are bounded too (`maxTenants`, least recently
 * used tenant dropped whole): a caller needs a token of a tenant to add one,
 * so one caller cannot grow that number.
 */

/** Quotas of a {@link TenantCache}. */
export interface TenantCacheQuota {
  /** Entries per tenant. */
  readonly entries: number;
  /** Total weight per tenant (an entry heavier than this is not kept at all). */
  readonly weight: number;
  /** Tenants with entries at once. */
  readonly tenants: number;
}

interface Partition<V> {
  readonly entries: Map<string, { readonly value: V; readonly weight: number }>;
  weight: number;
}

/** Per-tenant LRU caches under one roof (see the module comment). */
export class TenantCache<V> {
  // Map order is recency order: the first key is the least recently used.
  private readonly partitions = new Map<string, Partition<V>>();

  constructor(readonly quota: TenantCacheQuota) {
    for (const [name, value] of Object.entries(quota)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`tenant cache quota ${name} must be a positive integer, got ${String(value)}`);
    }
  }

  /** The tenant's entry under `key`, marked most recently used; undefined when absent. */
  get(tenant: string, key: string): V | undefined {
    const partition = this.partitions.get(tenant);
    const hit = partition?.entries.get(key);
    if (!partition || !hit) return undefined;
    this.touch(tenant, partition);
    partition.entries.delete(key);
    partition.entries.set(key, hit);
    return hit.value;
  }

  /**
   * Keeps `value` for the tenant, evicting that tenant's least recently used
   * entries until its quota holds (never another tenant's, except a whole
   * least recently used tenant when there are more than `tenants`).
   */
  set(tenant: string, key: string, value: V, weight = 1): void {
    const w = Math.max(1, Math.ceil(weight));
    if (w > this.quota.weight) return;
    let partition = this.partitions.get(tenant);
    if (!partition) {
      partition = { entries: new Map(), weight: 0 };
      this.partitions.set(tenant, partition);
      while (this.partitions.size > this.quota.tenants) {
        const oldest = this.partitions.keys().next().value as string;
        this.partitions.delete(oldest);
      }
    } else this.touch(tenant, partition);
    const old = partition.entries.get(key);
    if (old) {
      partition.entries.delete(key);
      partition.weight -= old.weight;
    }
    partition.entries.set(key, { value, weight: w });
    partition.weight += w;
    for (const [k, e] of partition.entries) {
      if (partition.entries.size <= this.quota.entries && partition.weight <= this.quota.weight) break;
      partition.entries.delete(k);
      partition.weight -= e.weight;
    }
  }

  /** Entries and weight a tenant holds now. */
  usage(tenant: string): { readonly entries: number; readonly weight: number } {
    const p = this.partitions.get(tenant);
    return { entries: p?.entries.size ?? 0, weight: p?.weight ?? 0 };
  }

  /** Tenants holding entries now. */
  get tenants(): number {
    return this.partitions.size;
  }

  private touch(tenant: string, partition: Partition<V>): void {
    this.partitions.delete(tenant);
    this.partitions.set(tenant, partition);
  }
}
