/**
 * Cost budgets: one token bucket of cost units per tenant, refilled at the
 * tenant's `costPerSecond` up to its `burst`. A request is admitted while the
 * bucket holds more than nothing, then charged what it really cost (known
 * only after it ran), so the bucket may go below zero: the tenant then waits
 * until the refill covers the debt. The clock is injected (tests move it by
 * hand); {@link LocalBudget} keeps buckets in this process, the Redis budget
 * (redis-budget.ts) shares them between replicas.
 */
import type { TenantId } from '../hub/tenant';
import type { TenantLimits } from './tenant-limits';

/** Milliseconds since some fixed point (default `Date.now`). */
export type Clock = () => number;

/** What {@link CostBudget.admit} decided. */
export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** A place where tenants' buckets live. */
export interface CostBudget {
  /**
   * Admits a request when the tenant's bucket is above zero, taking `upfront`
   * units; otherwise refuses with the seconds until it is above zero again.
   */
  admit(tenant: TenantId, limits: TenantLimits, upfront: number): Promise<Admission>;
  /** Takes `amount` more units after the fact (the bucket may go below zero). Never throws. */
  charge(tenant: TenantId, limits: TenantLimits, amount: number): void;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Most buckets kept; buckets that refilled completely are dropped first (they hold no information). */
const MAX_BUCKETS = 100_000;

/** Buckets in this process's memory. */
export class LocalBudget implements CostBudget {
  private readonly buckets = new Map<TenantId, Bucket>();

  constructor(private readonly clock: Clock = Date.now) {}

  /** The tenant's bucket after refilling it to now. */
  private refill(tenant: TenantId, limits: TenantLimits): Bucket {
    const now = this.clock();
    let b = this.buckets.get(tenant);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.dropFull(now);
      b = { tokens: limits.burst, at: now };
      this.buckets.set(tenant, b);
    }
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(limits.burst, b.tokens + (elapsed * limits.costPerSecond) / 1000);
    b.at = now;
    return b;
  }

  /** Synchronous {@link admit} (the Redis budget's fallback uses it directly). */
  admitNow(tenant: TenantId, limits: TenantLimits, upfront: number): Admission {
    const b = this.refill(tenant, limits);
    if (b.tokens <= 0) return { ok: false, retryAfterSeconds: retryAfter(b.tokens, limits) };
    b.tokens -= upfront;
    return { ok: true };
  }

  admit(tenant: TenantId, limits: TenantLimits, upfront: number): Promise<Admission> {
    return Promise.resolve(this.admitNow(tenant, limits, upfront));
  }

  charge(tenant: TenantId, limits: TenantLimits, amount: number): void {
    if (amount <= 0) return;
    this.refill(tenant, limits).tokens -= amount;
  }

  /** Units left in the tenant's bucket now (tests, diagnostics). */
  tokens(tenant: TenantId, limits: TenantLimits): number {
    return this.refill(tenant, limits).tokens;
  }

  private dropFull(now: number): void {
    for (const [tenant, b] of this.buckets) {
      // A bucket untouched for over a minute is full for any sane rate; dropping it loses nothing.
      if (now - b.at > 60_000) this.buckets.delete(tenant);
    }
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Whole seconds until a bucket at `tokens` (at most zero) is above zero again: at least 1. */
export function retryAfter(tokens: number, limits: Pick<TenantLimits, 'costPerSecond'>): number {
  return Math.max(1, Math.ceil((-tokens + 1) / limits.costPerSecond));
}
