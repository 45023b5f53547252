/**
 * The pre-aggregation consumer: folds the change feed into the cells
 * (hub.rollup_fold in preagg.sql: claim with FOR UPDATE SKIP LOCKED, fold,
 * delete, in one transaction), so any number of gateway replicas can run it
 * and each feed row is folded exactly once. Reads never wait for it: they add
 * the rows it has not folded yet.
 *
 * Since migration 18 the feed holds a row per statement (up to 5,000
 * records) and a claim takes whole rows until it holds the records asked for
 * (at least one row), so "rows" below count records, a fold may take up to a
 * statement's records more than asked, and a fold never shrinks below one
 * statement's records (preagg-feed-batches.sql).
 *
 * Each transaction is bounded (`batchSize` records); a tick keeps folding while
 * batches come back full (up to `batchesPerTick` when set), so under sustained
 * ingest the consumer folds continuously instead of a fixed amount per
 * second; scheduling is injected so tests decide when a tick runs.
 *
 * Batches are large (20,000 rows) because a fold's cost is per record and
 * per cell touched: the day, week and month cells and their latency bins are
 * shared by the records of a batch, so a larger batch writes them once for
 * more records (folding a 200,000-row backlog: 21 k records per CPU-second
 * in 20,000-row batches against 14 k in 5,000-row ones). A batch the
 * statement timeout cancels (a very loaded server) is folded again a quarter
 * the size; the size grows back, doubling after each tick that catches up.
 */
import type { TenantDatabase } from './queryable';

/** Schedules `run` after `delayMs`; the returned function cancels it. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

export interface ConsumerOptions {
  /** Feed rows folded per transaction, 1..100,000 (default {@link DEFAULT_FOLD_BATCH}). */
  readonly batchSize?: number;
  /**
   * Most transactions per tick while batches come back full (default: no
   * limit, the tick ends when a batch comes back short or the consumer stops).
   */
  readonly batchesPerTick?: number;
  /** Pause between ticks (default 1,000 ms). */
  readonly intervalMs?: number;
  /** Default: an unref'd setTimeout. */
  readonly schedule?: Schedule;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

const defaultSchedule: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

/** The largest batch hub.rollup_fold accepts. */
export const MAX_FOLD_BATCH = 100_000;

/** The background consumer's batch (feed rows per transaction) unless configured. */
export const DEFAULT_FOLD_BATCH = 20_000;

/** The smallest batch a timed-out fold shrinks to; below it the error is reported. */
const MIN_FOLD_BATCH = 100;

/**
 * Folds up to `limit` feed rows in one transaction.
 * @returns the rows folded (0 when the feed is empty).
 */
export async function foldFeed(db: TenantDatabase, limit: number): Promise<number> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FOLD_BATCH) {
    throw new RangeError(`fold batch must be an integer 1..${MAX_FOLD_BATCH}, got ${limit}`);
  }
  // The relay scope: no tenant in scope (the function serves every tenant).
  const [rows = []] = await db.run({ relay: true }, [
    { sql: 'SELECT hub.rollup_fold($1::int) AS n', params: [limit] },
  ]);
  return Number(rows[0]?.n ?? 0);
}

/** Progress of one backfill step (see hub.rollup_backfill in preagg-backfill-steps.sql). */
export interface BackfillStep {
  readonly tenant: string;
  /** Records created before this instant are folded. */
  readonly position: string;
  /** The end fixed when the tenant's backfill started. */
  readonly until: string;
  readonly done: boolean;
  /** Records (outputs, decisions, governance events) folded by this step. */
  readonly folded: number;
}

/** Runs one statement as the schema owner (autocommit: each call its own transaction). */
export type OwnerRun = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * One backfill step (one transaction): folds up to `days` days of a tenant
 * whose records predate the feed, ending earlier so that it reads at most
 * about `maxRecords` records of each type. @returns null when no tenant is pending.
 */
export async function backfillStep(
  run: OwnerRun,
  days = 7,
  maxRecords = 20_000,
): Promise<BackfillStep | null> {
  const [row] = await run(
    'SELECT tenant_name, reached_at, ends_at_out, finished, folded FROM hub.rollup_backfill($1::int, $2::int)',
    [days, maxRecords],
  );
  if (!row) return null;
  return {
    tenant: String(row.tenant_name),
    position: String(row.reached_at),
    until: String(row.ends_at_out),
    done: row.finished === true,
    folded: Number(row.folded),
  };
}

/** SQLSTATE of a statement cancelled by statement_timeout. */
const QUERY_CANCELED = '57014';

/**
 * Backfills every pending tenant (`hub db migrate`), one step per
 * transaction, resumable (each step commits its position), one progress line
 * per step. A step cancelled by the statement timeout lost nothing but its
 * own work: the step size is divided by four and the step run again (down to
 * 100 records; then the error is thrown).
 * @returns the records folded.
 */
export async function backfillAll(
  run: OwnerRun,
  log?: (line: string) => void,
  firstMaxRecords = 20_000,
): Promise<number> {
  const started = new Map<string, number>();
  let maxRecords = firstMaxRecords;
  let total = 0;
  for (;;) {
    let step: BackfillStep | null;
    try {
      step = await backfillStep(run, 7, maxRecords);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== QUERY_CANCELED || maxRecords <= 100) throw err;
      maxRecords = Math.max(100, Math.floor(maxRecords / 4));
      log?.(
        `backfill: a step outlasted the statement timeout; again with at most ${maxRecords} records per type`,
      );
      continue;
    }
    if (!step) return total;
    total += step.folded;
    const position = Date.parse(step.position);
    const until = Date.parse(step.until);
    const first = started.get(step.tenant) ?? position;
    started.set(step.tenant, first);
    const pct = until > first ? Math.min(100, Math.floor((100 * (position - first)) / (until - first))) : 100;
    log?.(
      step.done
        ? `backfill ${step.tenant}: done (rollup cells up to ${step.until}; ${total} records folded by this run)`
        : `backfill ${step.tenant}: ${step.position} of ${step.until} (${pct}%, ${step.folded} records in this step)`,
    );
  }
}

/** Runs {@link foldFeed} (and backfill steps while tenants are pending) in the background until stopped. */
export class RollupConsumer {
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly batchSize: number;
  /** The batch folded now: `batchSize`, or less after a statement timeout. */
  private foldBatch: number;
  private readonly batchesPerTick: number;
  private readonly intervalMs: number;
  private readonly schedule: Schedule;

  constructor(
    private readonly db: TenantDatabase,
    private readonly options: ConsumerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_FOLD_BATCH;
    this.foldBatch = this.batchSize;
    this.batchesPerTick = options.batchesPerTick ?? Number.POSITIVE_INFINITY;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.schedule = options.schedule ?? defaultSchedule;
  }

  /** Schedules the first tick. Idempotent. */
  start(): void {
    if (this.stopped || this.cancel || this.running) return;
    this.cancel = this.schedule(() => this.fire(), this.intervalMs);
  }

  /**
   * One tick: folds batches until one comes back short, the consumer stops or
   * `batchesPerTick` ran, each batch after one backfill step if a tenant is
   * pending (so a busy feed does not hold a backfill back). A batch cancelled
   * by the statement timeout lost only its own work (its rows stay in the
   * feed): the next is a quarter the size (down to 100 rows; then the error
   * is thrown); a tick that catches up doubles it again, up to `batchSize`.
   * @returns the feed rows folded.
   */
  async tick(): Promise<number> {
    let total = 0;
    const run: OwnerRun = async (sql, params) => {
      const [rows = []] = await this.db.run({ relay: true }, [{ sql, params }]);
      return rows;
    };
    for (let i = 0; i < this.batchesPerTick && !this.stopped; i++) {
      const batch = this.foldBatch;
      let n: number;
      try {
        // A tenant whose records predate the feed: one bounded step per batch.
        const step = await backfillStep(run, 1, batch);
        if (step) this.options.log?.('postgres.rollup_backfill', { ...step });
        n = await foldFeed(this.db, batch);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== QUERY_CANCELED || batch <= MIN_FOLD_BATCH) throw err;
        this.foldBatch = Math.max(MIN_FOLD_BATCH, Math.floor(batch / 4));
        this.options.log?.('postgres.rollup_fold_smaller', { from: batch, to: this.foldBatch });
        continue;
      }
      total += n;
      if (n < batch) {
        // Caught up: the next tick may take larger batches again.
        this.foldBatch = Math.min(this.batchSize, batch * 2);
        break;
      }
    }
    return total;
  }

  private fire(): void {
    this.cancel = undefined;
    this.running = this.tick()
      .then(
        (n) => {
          if (n > 0) this.options.log?.('postgres.rollup_fold', { rows: n });
        },
        (err: unknown) => {
          // A deadlock with another replica, a lost connection: the rows
          // stay in the feed (reads still count them) for the next tick.
          this.options.log?.('postgres.rollup_fold_failed', {
            error: err instanceof Error ? err.message : String(err),
          });
        },
      )
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.cancel = this.schedule(() => this.fire(), this.intervalMs);
      });
  }

  /** Stops scheduling and waits for a tick in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }
}
