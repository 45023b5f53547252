/**
 * Per-tenant usage, per minute: what an operator bills and watches. The
 * gateway counts into a {@link UsageMeter} in memory (a few additions per
 * request, no I/O) and the meter flushes the minutes to a {@link UsageSink}
 * (a PostgreSQL table, see the store driver's `openUsage`) every
 * `flushMs`, deleting minutes older than the retention on the way, so the
 * table's size stays bounded.
 *
 * Counters (all per tenant per UTC minute):
 * - `requests`: GraphQL requests and /ingest requests of the tenant;
 * - `errors`: those answered with an error (any GraphQL error, or a non-2xx status);
 * - `cost_units`: the query cost the gateway computed (extensions.cost), when it does;
 * - `rows_read`: records and rollup rows the store returned;
 * - `rollups`: rollup and picker calls (costPerSkill, archetypeProgression,
 *   managerDashboard, managers, skills);
 * - `bytes_ingested`: request body bytes of /ingest and of GraphQL mutations.
 */
import type { HubStore } from '../hub/store';
import { countRows } from './tracing-ports';
import { forwardTraced } from '../hub/tracing-ports';

/** The counters, in their column order. */
export const USAGE_COUNTERS = [
  'requests',
  'errors',
  'cost_units',
  'rows_read',
  'rollups',
  'bytes_ingested',
] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

/** One tenant's usage in one minute. */
export type UsageRow = { readonly tenant: string; readonly minute: string } & Readonly<
  Record<UsageCounter, number>
>;

/** Where minutes are kept (PostgreSQL through the store driver, or memory). */
export interface UsageSink {
  /** Adds the rows' counts to what is kept (rows of the same tenant and minute add up). */
  write(rows: readonly UsageRow[]): Promise<void>;
  /** The tenant's minutes in `[from, to)` (canonical timestamps), oldest first, summed per minute. */
  read(tenant: string, from: string, to: string): Promise<UsageRow[]>;
  /** Deletes the tenant's minutes before `before`. @returns rows deleted. */
  prune(tenant: string, before: string): Promise<number>;
  close(): Promise<void>;
}

/** Longest range one usage read may cover (31 days of minutes: at most 44,640 rows). */
export const MAX_USAGE_RANGE_MS = 31 * 24 * 3600 * 1000;

const MINUTE = 60_000;

/** Keeps minutes in memory only (no database configured, and tests). */
export class MemoryUsageSink implements UsageSink {
  private readonly rows = new Map<string, Record<UsageCounter, number>>();

  async write(rows: readonly UsageRow[]): Promise<void> {
    for (const r of rows) {
      const key = `${r.tenant}\u0000${r.minute}`;
      const have = this.rows.get(key) ?? emptyCounts();
      for (const c of USAGE_COUNTERS) have[c] += r[c];
      this.rows.set(key, have);
    }
  }

  async read(tenant: string, from: string, to: string): Promise<UsageRow[]> {
    const out: UsageRow[] = [];
    for (const [key, counts] of this.rows) {
      const [t, minute] = key.split('\u0000') as [string, string];
      if (t === tenant && minute >= from && minute < to) out.push({ tenant, minute, ...counts });
    }
    return out.sort((a, b) => (a.minute < b.minute ? -1 : 1));
  }

  async prune(tenant: string, before: string): Promise<number> {
    let n = 0;
    for (const key of [...this.rows.keys()]) {
      const [t, minute] = key.split('\u0000') as [string, string];
      if (t === tenant && minute < before && this.rows.delete(key)) n++;
    }
    return n;
  }

  async close(): Promise<void> {}
}

export interface UsageMeterOptions {
  readonly sink: UsageSink;
  /** How often minutes are written to the sink (default 60 s; 0: only on {@link UsageMeter.flush}). */
  readonly flushMs?: number;
  /** Minutes older than this many days are deleted when a tenant's minutes are flushed (default 30). */
  readonly retentionDays?: number;
  /** Tenant-minutes held in memory before a flush is started early (default 10,000). */
  readonly maxPending?: number;
  /** Clock (tests). */
  readonly now?: () => number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

/** Counts usage in memory and flushes it to a sink; see the module comment. */
export class UsageMeter {
  private pending = new Map<string, Record<UsageCounter, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly retentionMs: number;
  private readonly maxPending: number;

  constructor(private readonly options: UsageMeterOptions) {
    this.now = options.now ?? Date.now;
    this.retentionMs = (options.retentionDays ?? 30) * 24 * 3600 * 1000;
    this.maxPending = options.maxPending ?? 10_000;
    const every = options.flushMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.flush(), every);
      this.timer.unref();
    }
  }

  /** Adds `n` to the tenant's counter for the current minute. */
  add(tenant: string, counter: UsageCounter, n = 1): void {
    if (n === 0) return;
    const minute = Math.floor(this.now() / MINUTE) * MINUTE;
    const key = `${tenant}\u0000${minute}`;
    let counts = this.pending.get(key);
    if (!counts) {
      counts = emptyCounts();
      this.pending.set(key, counts);
      if (this.pending.size >= this.maxPending) void this.flush();
    }
    counts[counter] += n;
  }

  /**
   * Writes every pending minute to the sink and prunes the flushed tenants'
   * minutes past the retention. A failed write keeps the minutes for the next
   * flush (merged with what was counted meanwhile). Concurrent calls share one flush.
   */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows = toRows(batch);
    try {
      await this.options.sink.write(rows);
    } catch (err) {
      // Kept for the next flush, within the bound: past it the oldest counts are dropped (and logged).
      for (const [key, counts] of batch) {
        const have = this.pending.get(key);
        if (have) for (const c of USAGE_COUNTERS) have[c] += counts[c];
        else if (this.pending.size < this.maxPending * 2) this.pending.set(key, counts);
      }
      this.options.log?.('usage.flush_failed', {
        rows: rows.length,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    const before = new Date(this.now() - this.retentionMs).toISOString();
    for (const tenant of new Set(rows.map((r) => r.tenant))) {
      await this.options.sink.prune(tenant, before).catch(() => 0);
    }
  }

  /** The tenant's minutes in `[from, to)`: what the sink holds plus what is not flushed yet. */
  async read(tenant: string, from: string, to: string): Promise<UsageRow[]> {
    const stored = await this.options.sink.read(tenant, from, to);
    const byMinute = new Map<string, Record<UsageCounter, number>>();
    for (const r of stored) byMinute.set(r.minute, pick(r));
    for (const r of toRows(this.pending)) {
      if (r.tenant !== tenant || r.minute < from || r.minute >= to) continue;
      const have = byMinute.get(r.minute) ?? emptyCounts();
      for (const c of USAGE_COUNTERS) have[c] += r[c];
      byMinute.set(r.minute, have);
    }
    return [...byMinute]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([minute, counts]) => ({ tenant, minute, ...counts }));
  }

  /** Stops the timer, flushes what is pending and closes the sink. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.options.sink.close();
  }
}

function emptyCounts(): Record<UsageCounter, number> {
  return { requests: 0, errors: 0, cost_units: 0, rows_read: 0, rollups: 0, bytes_ingested: 0 };
}

function pick(r: UsageRow): Record<UsageCounter, number> {
  const out = emptyCounts();
  for (const c of USAGE_COUNTERS) out[c] = r[c];
  return out;
}

function toRows(map: ReadonlyMap<string, Record<UsageCounter, number>>): UsageRow[] {
  const rows: UsageRow[] = [];
  for (const [key, counts] of map) {
    const [tenant, minute] = key.split('\u0000') as [string, string];
    rows.push({ tenant, minute: new Date(Number(minute)).toISOString(), ...counts });
  }
  return rows;
}

/** Port methods counted as `rollups`. */
const ROLLUP_METHODS = new Set([
  'costPerSkill',
  'archetypeProgression',
  'managerDashboard',
  'managers',
  'skills',
]);
/** Port methods whose returned rows count as `rows_read`. */
const READ_METHODS = new Set([
  'getByIds',
  'list',
  'listWithChildren',
  'scan',
  'costPerSkill',
  'archetypeProgression',
  'managers',
  'skills',
]);

/**
 * Wraps a store so that the tenant's `rows_read` and `rollups` are counted
 * from each port call (rows returned: found records, list records with their
 * children, rollup rows; a manager dashboard counts as one row). Returns
 * `store` itself without a meter.
 */
export function meterStore<S extends HubStore>(store: S, meter: UsageMeter | undefined): S {
  if (!meter) return store;
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      // A traced view is metered into the same meter.
      if (prop === 'traced') return forwardTraced(target, (view) => meterStore(view, meter));
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const isRead = READ_METHODS.has(prop);
      const isRollup = ROLLUP_METHODS.has(prop);
      if (!isRead && !isRollup && prop !== 'managerDashboard') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = value as (...a: unknown[]) => Promise<unknown>;
        fn = async function (...args: unknown[]): Promise<unknown> {
          const result = await method.apply(target, args);
          const tenant = args[0];
          if (typeof tenant === 'string') {
            if (isRollup) meter.add(tenant, 'rollups');
            const rows =
              prop === 'managerDashboard'
                ? 1
                : prop === 'getByIds' && Array.isArray(result)
                  ? result.filter((r) => r !== null).length
                  : countRows(result);
            if (rows) meter.add(tenant, 'rows_read', rows);
          }
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
