/**
 * The dual-write relay: ships a primary store's outbox entries to each tenant's
 * analytics store in micro-batches. A write was acknowledged once durable in the
 * primary together with its outbox entry; the relay makes it reach analytics.
 *
 * - Idempotent: analytics `putBatch` is idempotent per record_id, so an entry
 *   shipped twice (a relay dying after shipping, before deleting) is harmless.
 * - Several relays (one per gateway replica) may drain the same outbox: the
 *   source claims entries exclusively (`FOR UPDATE SKIP LOCKED`).
 * - A failed ship leaves the entries in the outbox; the relay retries with
 *   exponential backoff (with jitter) up to `maxBackoffMs`.
 */
import { HubError, toHubError } from '../hub/errors';
import type { HubRecord } from '../hub/model';
import type { OutboxEntry, OutboxSource } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { formatTimestamp } from '../hub/time';
import { type Span, runInSpan, tracer } from '../platform/tracing';

/**
 * Ships one tenant's records to its analytics store. Resolves `shipped`, or
 * `dropped` when the tenant has no analytics store (anymore): the entries are
 * then removed without shipping. Rejects to keep the entries for a retry.
 * The writes' spans are children of `span` (the batch's, when sampled).
 */
export type ShipTenant = (
  tenant: TenantId,
  records: readonly HubRecord[],
  span: Span,
) => Promise<'shipped' | 'dropped'>;

export interface RelayOptions {
  /** Label of the primary store (logs, metrics). */
  readonly label: string;
  /** Entries claimed per micro-batch (default 1000). */
  readonly batchSize?: number;
  /**
   * Micro-batches in flight at once (default 2): claiming and loading the next
   * batch overlaps with shipping the previous one.
   */
  readonly concurrency?: number;
  /** Pause between polls when the outbox is empty (default 100 ms; writes through this process wake it sooner). */
  readonly idleMs?: number;
  /** First retry delay after a failure (default 100 ms), doubled per consecutive failure. */
  readonly initialBackoffMs?: number;
  /** Longest retry delay (default 5000 ms). */
  readonly maxBackoffMs?: number;
  /** How long a backlog reading is reused (default 250 ms); writes through this process invalidate it. */
  readonly lagCacheMs?: number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
  /** The clock, epoch ms (default `Date.now`; tests inject one). */
  readonly now?: () => number;
  /** A number in [0, 1) for the retry jitter (default `Math.random`; tests inject one). */
  readonly random?: () => number;
}

/** A backlog reading of one outbox. */
export interface LagReading {
  readonly pending: number;
  /** Enqueue time of the oldest pending entry; null when none is pending. */
  readonly oldest: string | null;
  /** Age of the oldest pending entry in ms (0 when none is pending). */
  readonly lagMs: number;
  /** When the reading was taken (epoch ms). */
  readonly checkedAt: number;
}

/** Counters and state of one relay, for /metrics and /readyz. */
export interface RelayStatus {
  readonly label: string;
  readonly running: boolean;
  readonly shipped: number;
  readonly dropped: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly lastSuccessAt: string | null;
  readonly lag: LagReading | null;
}

/** Ships one outbox to analytics stores; see the module comment for the guarantees. */
export class OutboxRelay {
  readonly label: string;
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly lagCacheMs: number;
  private running = false;
  private readonly concurrency: number;
  private loopDone: Promise<void> = Promise.resolve();
  /** Idle workers waiting for a kick. */
  private readonly wakers = new Set<() => void>();
  /** Workers backing off after a failure: only stop() wakes them early. */
  private readonly stopWakers = new Set<() => void>();
  private readonly draining = new Set<Promise<void>>();
  private nextAttemptAt = 0;
  private counters = { shipped: 0, dropped: 0, failures: 0, consecutiveFailures: 0 };
  private lastError: string | null = null;
  private lastSuccessAt: string | null = null;
  private lagReading: LagReading | null = null;
  private lagFresh = false;
  private lagPending: Promise<LagReading> | null = null;

  constructor(
    private readonly source: OutboxSource,
    private readonly ship: ShipTenant,
    options: RelayOptions,
  ) {
    this.label = options.label;
    this.batchSize = options.batchSize ?? 1000;
    this.idleMs = options.idleMs ?? 100;
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.lagCacheMs = options.lagCacheMs ?? 250;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  private readonly log: (event: string, fields?: Record<string, unknown>) => void;
  private readonly now: () => number;
  private readonly random: () => number;

  /** Starts the background workers (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = Promise.all(Array.from({ length: this.concurrency }, () => this.loop())).then(() => {});
  }

  /** Stops the workers and waits for the micro-batches in progress. Entries not shipped stay in the outbox. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    for (const wake of [...this.stopWakers]) wake();
    await this.loopDone;
    await Promise.all([...this.draining]);
  }

  /** Wakes idle workers now (a write just enqueued entries). Also marks the cached backlog stale. */
  kick(): void {
    this.lagFresh = false;
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  /** One worker: drains full batches back to back, else sleeps until kicked, the idle poll or the backoff ends. */
  private async loop(): Promise<void> {
    while (this.running) {
      let shipped = 0;
      if (this.now() >= this.nextAttemptAt) {
        try {
          shipped = await this.drainOnce();
        } catch {
          // Already counted and logged by drain; the backoff delays the next attempt.
        }
      }
      if (!this.running) break;
      if (shipped < this.batchSize) {
        const delay = Math.max(this.idleMs, Math.min(this.nextAttemptAt - this.now(), this.maxBackoffMs));
        // A failing relay is not woken by writes: it waits out its backoff (stop() still ends the wait).
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            this.stopWakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, delay);
          if (this.counters.consecutiveFailures === 0 || !this.running) this.wakers.add(wake);
          else this.stopWakers.add(wake);
        });
      }
    }
  }

  /**
   * Claims and ships one micro-batch. Resolves the number of entries removed
   * from the outbox (shipped or dropped). Several may run at once (workers,
   * catch-ups): the source's claims keep them apart.
   * @throws HubError (UNAVAILABLE etc.) when shipping failed; the entries stay for a retry.
   */
  drainOnce(): Promise<number> {
    const run = this.drain();
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.draining.add(tracked);
    void tracked.finally(() => this.draining.delete(tracked));
    return run;
  }

  private async drain(): Promise<number> {
    let dropped = 0;
    try {
      const n = await this.source.drainOutbox(this.batchSize, (entries) =>
        // A batch is a trace of its own (the relay runs outside any request): the analytics writes are its children.
        runInSpan(tracer().startRoot('outbox.batch', 'internal'), async (span) => {
          dropped = 0;
          const byTenant = groupByTenant(entries);
          if (span.recording)
            span.setAttributes({
              'hub.relay': this.label,
              'hub.entries': entries.length,
              'hub.tenants': byTenant.size,
            });
          for (const [tenant, records] of byTenant) {
            if ((await this.ship(tenant, records, span)) === 'dropped') dropped += records.length;
          }
          if (dropped > 0) span.setAttribute('hub.dropped', dropped);
        }),
      );
      this.counters.shipped += n - dropped;
      this.counters.dropped += dropped;
      this.counters.consecutiveFailures = 0;
      this.nextAttemptAt = 0;
      this.lastSuccessAt = new Date(this.now()).toISOString();
      if (n > 0) this.lagFresh = false;
      return n;
    } catch (err) {
      const failure = toHubError(err, `relay ${this.label}: shipping to analytics failed`);
      this.counters.failures++;
      const k = ++this.counters.consecutiveFailures;
      const backoff = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(k - 1, 20));
      // Jitter spreads the retries of several replicas after a shared outage.
      const wait = backoff * (0.5 + this.random() / 2);
      this.nextAttemptAt = this.now() + wait;
      this.lastError = `${failure.code}: ${failure.message}`;
      this.log('relay.ship_failed', {
        relay: this.label,
        attempt: k,
        retryInMs: Math.round(wait),
        error: this.lastError,
      });
      throw failure;
    }
  }

  /**
   * Drains until the outbox looks empty to this relay (a short batch), unless
   * the relay is backing off after a failure. Resolves false when it could not
   * (backing off, or a ship failed), true otherwise. Used by rollups that need
   * fresher analytics than the background loop has delivered yet.
   */
  async catchUp(): Promise<boolean> {
    if (this.now() < this.nextAttemptAt) return false;
    try {
      while ((await this.drainOnce()) >= this.batchSize) {
        // keep draining full batches
      }
      return true;
    } catch {
      return false;
    }
  }

  /** The outbox backlog, read at most every `lagCacheMs` unless invalidated by {@link kick} or a drain. */
  async lag(): Promise<LagReading> {
    const cached = this.lagReading;
    if (cached && this.lagFresh && this.now() - cached.checkedAt < this.lagCacheMs) return cached;
    if (!this.lagPending) {
      this.lagFresh = true;
      this.lagPending = this.readLag().finally(() => (this.lagPending = null));
    }
    return this.lagPending;
  }

  private async readLag(): Promise<LagReading> {
    const checkedAt = this.now();
    try {
      const backlog = await this.source.outboxBacklog();
      const pending = backlog.pending;
      // Normalised so the watermark built from it is a canonical timestamp whatever the source returns.
      const oldestMs = backlog.oldest === null ? NaN : Date.parse(backlog.oldest);
      const oldest = Number.isNaN(oldestMs) ? null : formatTimestamp(oldestMs);
      const lagMs = pending > 0 && oldest !== null ? Math.max(0, checkedAt - oldestMs) : 0;
      return (this.lagReading = { pending, oldest, lagMs, checkedAt });
    } catch (err) {
      this.lagFresh = false;
      throw new HubError('UNAVAILABLE', `relay ${this.label}: cannot read the outbox backlog`, {
        cause: err,
      });
    }
  }

  /** Counters and the last backlog reading (no I/O). */
  status(): RelayStatus {
    return {
      label: this.label,
      running: this.running,
      ...this.counters,
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccessAt,
      lag: this.lagReading,
    };
  }
}

function groupByTenant(entries: readonly OutboxEntry[]): Map<TenantId, HubRecord[]> {
  const groups = new Map<TenantId, HubRecord[]>();
  for (const e of entries) {
    let list = groups.get(e.tenant);
    if (!list) groups.set(e.tenant, (list = []));
    list.push(e.record);
  }
  return groups;
}
