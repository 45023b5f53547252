/**
 * The checkpointed copy engine: copies one tenant from a source store to a
 * target store per record type in scan order, re-verifying every record's
 * provenance (the target keeps the hash unchanged), and commits its position
 * after every written batch through `commit`, so a process killed at any point
 * resumes from the last committed position rather than from the start.
 *
 * It is a pipeline: the next page is read while the current one is verified,
 * and up to `concurrency` write batches are in flight at once (the target's
 * {@link CopyPlan}: its `bulkWrite` capability, else one batch of up to 5,000
 * records at a time). Positions are committed in scan order, only once every
 * batch up to them is written, so the records past the committed position
 * that may already be in the target after a stop are at most `concurrency`
 * batches; a resumed copy looks those up in one read per batch (`getByIds`)
 * instead of writing them again (on SharePoint, a refused duplicate write
 * costs several requests). Stores that hold writes for a micro-batch timer
 * are written through `putBatchNow`. Throttling (SharePoint's Retry-After) is
 * handled inside the store, which waits what the server asks.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HubError } from '../hub/errors';
import { type HubRecord, RECORD_TYPES, type RecordType } from '../hub/model';
import { verifyRecord } from '../hub/provenance';
import {
  type HubStore,
  type Keyset,
  type PutOutcome,
  hasImmediateWrites,
  hasRecordCounts,
} from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { Progress, type ProgressSink } from './progress';
import { keyOf, scanPages } from './scan-stream';

/** Where the copy of one record type stands. */
export interface TypeCheckpoint {
  /** Scan position of the last record written; absent before the first batch. */
  readonly after?: Keyset;
  readonly copied: number;
  readonly duplicates: number;
  /** Every record of the type up to the end of the scan was written. */
  readonly done: boolean;
}

/** Checkpoints of every type (absent: not started). */
export type CopyCheckpoints = Partial<Record<RecordType, TypeCheckpoint>>;

export interface CopyOptions {
  /** Where a previous run stopped (from the control plane). */
  readonly checkpoints?: CopyCheckpoints;
  /**
   * Persists a type's checkpoint. Called in scan order, once every batch up
   * to the position is written; later batches may be in flight meanwhile.
   */
  readonly commit?: (type: RecordType, checkpoint: TypeCheckpoint) => Promise<void>;
  /**
   * Records per read and per write (default: the target's {@link copyPlanFor}),
   * never above the target's `maxBatchSize`.
   */
  readonly batchSize?: number;
  /** Write batches in flight at once (default: the target's {@link copyPlanFor}). */
  readonly concurrency?: number;
  readonly onProgress?: ProgressSink;
  /** Stops between batches when aborted (the committed position stays). */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export interface CopyReport {
  readonly checkpoints: Readonly<Record<RecordType, TypeCheckpoint>>;
  readonly copied: number;
  readonly duplicates: number;
}

/** How a copy writes to a target: records per `putBatch` and calls in flight. */
export interface CopyPlan {
  readonly batchSize: number;
  readonly concurrency: number;
}

/** Upper bound on write batches in flight, whatever a store declares. */
const MAX_CONCURRENCY = 16;
/** Times a batch refused as THROTTLED (after the store's own waits) is sent. */
const THROTTLED_ATTEMPTS = 4;
/** Smallest read page: a small write batch (SharePoint: 100) is not a reason for small reads. */
const MIN_READ_PAGE = 1000;
/**
 * Records re-verified between two turns of the event loop. A page of 10,000
 * outputs is 25-35 ms of hashing; checked in one piece, it held up every
 * other callback that long (replies of the target's statements already sent,
 * and, in a gateway running a move, every request). 1,000 is 2-4 ms.
 */
const CHECK_CHUNK = 1000;

/**
 * The write plan suited to a target: its `bulkWrite` capability (the store's
 * own bulk path: array binds, `$batch` requests sent side by side...), else
 * one batch of 5,000 records at a time; never above its `maxBatchSize`.
 */
export function copyPlanFor(target: HubStore): CopyPlan {
  const hint = target.capabilities.bulkWrite;
  const max = Math.max(1, target.capabilities.maxBatchSize);
  return {
    batchSize: Math.max(1, Math.min(hint?.batchSize ?? 5000, max)),
    concurrency: Math.max(1, Math.min(hint?.concurrency ?? 1, MAX_CONCURRENCY)),
  };
}

/** Records per write batch suited to a target (see {@link copyPlanFor}). */
export function batchSizeFor(target: HubStore): number {
  return copyPlanFor(target).batchSize;
}

/** Total source records (when the source can count), for the progress total. */
export async function countTenant(
  store: HubStore,
  tenant: TenantId,
  types: readonly RecordType[] = RECORD_TYPES,
): Promise<number | undefined> {
  const counts = await countByType(store, tenant, types);
  return counts && types.reduce((n, t) => n + (counts.get(t) ?? 0), 0);
}

/**
 * The tenant's records per type when the store can count them, else
 * undefined. Asked one after another: side by side, they opened a pooled
 * connection each (a new server process apiece) for a few milliseconds' work.
 */
export async function countByType(
  store: HubStore,
  tenant: TenantId,
  types: readonly RecordType[] = RECORD_TYPES,
): Promise<ReadonlyMap<RecordType, number> | undefined> {
  if (!hasRecordCounts(store)) return undefined;
  const counts = new Map<RecordType, number>();
  for (const t of types) counts.set(t, await store.countRecords(tenant, t));
  return counts;
}

/** Records per write batch, batches in flight and records per read page, for `target`. */
function sizesFor(
  target: HubStore,
  options: CopyOptions,
): { batch: number; concurrency: number; pageSize: number } {
  const plan = copyPlanFor(target);
  const max = Math.max(1, target.capabilities.maxBatchSize);
  const batch = Math.max(1, Math.min(options.batchSize ?? plan.batchSize, max));
  const concurrency = Math.max(1, Math.min(options.concurrency ?? plan.concurrency, MAX_CONCURRENCY));
  return { batch, concurrency, pageSize: options.batchSize ?? Math.max(batch, MIN_READ_PAGE) };
}

/** Progress of a copy, starting from what the checkpoints hold (the total is set once counted). */
function copyProgress(
  checkpoints: Readonly<Record<RecordType, TypeCheckpoint>>,
  options: CopyOptions,
): Progress {
  const already = RECORD_TYPES.reduce((s, t) => s + checkpoints[t].copied + checkpoints[t].duplicates, 0);
  return new Progress('copy', options.onProgress, {
    start: already,
    ...(options.now ? { now: options.now } : {}),
  });
}

/** Starts counting the source's records; the total goes to `progress` once known. */
function countForProgress(
  source: HubStore,
  tenant: TenantId,
  progress: Progress,
): Promise<ReadonlyMap<RecordType, number> | undefined> {
  const counting = countByType(source, tenant).then((counts) => {
    progress.setTotal(counts && RECORD_TYPES.reduce((n, t) => n + (counts.get(t) ?? 0), 0));
    return counts;
  });
  // Awaited by the copy later; observed now so that a failure meanwhile is not "unhandled".
  counting.catch(() => undefined);
  return counting;
}

/** Copies the tenant; see the module comment. */
export async function copyTenant(
  source: HubStore,
  target: HubStore,
  tenant: TenantId,
  options: CopyOptions = {},
): Promise<CopyReport> {
  const { batch, concurrency, pageSize } = sizesFor(target, options);
  const checkpoints = { ...options.checkpoints } as Record<RecordType, TypeCheckpoint>;
  for (const t of RECORD_TYPES) checkpoints[t] ??= { copied: 0, duplicates: 0, done: false };
  const progress = copyProgress(checkpoints, options);
  // Counted while the first type is copied: not a fixed cost in front of the copy.
  const counting = countForProgress(source, tenant, progress);
  let first = true;
  const writer = batchWriter(target, tenant);

  for (const type of RECORD_TYPES) {
    if (checkpoints[type].done) continue;
    const start = checkpoints[type];
    // A type the source held none of when counted is not scanned: what is written to it later
    // reaches the target as every write after the copy's start does (replication, final sync).
    const counts = first ? undefined : await counting;
    first = false;
    if (counts?.get(type) === 0 && start.copied + start.duplicates === 0) {
      checkpoints[type] = { ...start, done: true };
      await options.commit?.(type, checkpoints[type]);
      continue;
    }
    // Batches right after a resumed position may have been written before the stop.
    let recheck = start.after ? concurrency : 0;
    const window = new InOrderWindow(concurrency, async (b: WrittenBatch) => {
      const cp = checkpoints[type];
      checkpoints[type] = {
        after: b.after,
        copied: cp.copied + b.copied,
        duplicates: cp.duplicates + b.duplicates,
        done: false,
      };
      await options.commit?.(type, checkpoints[type]);
      progress.add(b.copied + b.duplicates, type);
    });
    await window.run(async (submit) => {
      for await (const page of scanPages(source, tenant, type, {
        pageSize,
        ...(start.after ? { after: start.after } : {}),
      })) {
        if (options.signal?.aborted) throw new HubError('UNAVAILABLE', 'copy stopped before it finished');
        await checkSealedInTurns(page, tenant, type);
        for (let at = 0; at < page.length; at += batch) {
          const slice = page.slice(at, at + batch);
          const check = recheck-- > 0;
          await submit(() => writer(type, slice, check));
        }
      }
    });
    checkpoints[type] = { ...checkpoints[type], done: true };
    await options.commit?.(type, checkpoints[type]);
  }
  await counting;
  progress.finish();
  return {
    checkpoints,
    copied: RECORD_TYPES.reduce((s, t) => s + checkpoints[t].copied, 0),
    duplicates: RECORD_TYPES.reduce((s, t) => s + checkpoints[t].duplicates, 0),
  };
}

/** One written batch: its last scan position and its outcomes counted. */
interface WrittenBatch {
  readonly after: Keyset;
  readonly copied: number;
  readonly duplicates: number;
}

/**
 * Writes one batch of one type and counts its outcomes. With `recheck`, the
 * records the target already holds are looked up first (one read) and only
 * the others are written: after a stop, the batches past the committed
 * position may have landed already.
 * @throws HubError CONFLICT naming a record the target holds with other content.
 */
function batchWriter(
  target: HubStore,
  tenant: TenantId,
): (type: RecordType, records: readonly HubRecord[], recheck: boolean) => Promise<WrittenBatch> {
  const putOnce = (records: readonly HubRecord[]): Promise<PutOutcome[]> =>
    hasImmediateWrites(target) ? target.putBatchNow(tenant, records) : target.putBatch(tenant, records);
  // A store gives up on a batch still throttled after its own rounds of Retry-After waits; with
  // several batches in flight that can happen to one of them while the rate is merely saturated.
  // Writes are idempotent, so the batch is sent again (records that landed report as created or
  // duplicate), a bounded number of times.
  const put = async (records: readonly HubRecord[]): Promise<PutOutcome[]> => {
    if (records.length === 0) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await putOnce(records);
      } catch (err) {
        if (!(err instanceof HubError && err.code === 'THROTTLED') || attempt >= THROTTLED_ATTEMPTS)
          throw err;
      }
    }
  };
  const conflict = (type: RecordType, r: HubRecord, stored: string): HubError =>
    new HubError(
      'CONFLICT',
      `target already holds ${type}/${r.record_id} with different content (hash ${stored}, source ${r.provenance_hash})`,
    );
  return async (type, records, recheck) => {
    let duplicates = 0;
    let fresh = records;
    if (recheck) {
      const ids = records.map((r) => r.record_id);
      const stored = await target.getByIds(tenant, type, ids, { body: false });
      fresh = records.filter((r, i) => {
        const s = stored[i];
        if (!s) return true;
        if (s.provenance_hash !== r.provenance_hash) throw conflict(type, r, s.provenance_hash);
        duplicates++;
        return false;
      });
    }
    const outcomes = await put(fresh);
    let copied = 0;
    outcomes.forEach((o, i) => {
      if (o.status === 'created') copied++;
      else if (o.status === 'duplicate') duplicates++;
      else throw conflict(type, fresh[i] as HubRecord, o.existingHash);
    });
    return { after: keyOf(records[records.length - 1] as HubRecord), copied, duplicates };
  };
}

/**
 * Runs tasks with at most `limit` in flight and hands their results to
 * `settle` one at a time, in submission order (a later task that finishes
 * first waits for the earlier ones). On a failure, the tasks in flight are
 * waited for (never left running unobserved) and the first error is thrown.
 */
export class InOrderWindow<T> {
  private readonly inFlight: Promise<T>[] = [];

  constructor(
    private readonly limit: number,
    private readonly settle: (result: T) => Promise<void>,
  ) {}

  /** Calls `produce` with a `submit` that waits for room, then resolves once every task is settled. */
  async run(produce: (submit: (task: () => Promise<T>) => Promise<void>) => Promise<void>): Promise<void> {
    try {
      await produce(async (task) => {
        while (this.inFlight.length >= this.limit) await this.settleOldest();
        const p = task();
        // Observed now so that a failure while an earlier task settles is not "unhandled".
        void p.catch(() => undefined);
        this.inFlight.push(p);
      });
      while (this.inFlight.length > 0) await this.settleOldest();
    } catch (err) {
      await Promise.allSettled(this.inFlight.splice(0));
      throw err;
    }
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight[0] as Promise<T>;
    const result = await oldest;
    // Settled above (awaited): dropping it leaves nothing unobserved.
    void this.inFlight.shift();
    await this.settle(result);
  }
}

/**
 * {@link checkSealed} of a page, {@link CHECK_CHUNK} records at a time with a
 * turn of the event loop between chunks (see CHECK_CHUNK). Resolves once the
 * whole page is checked: a page is written only when all of it verifies.
 * @throws HubError as checkSealed, naming the first record refused.
 */
export async function checkSealedInTurns(
  page: readonly HubRecord[],
  tenant: TenantId,
  type: RecordType,
): Promise<void> {
  for (let at = 0; at < page.length; at += CHECK_CHUNK) {
    if (at > 0) await nextTurn();
    checkSealed(page.length <= CHECK_CHUNK ? page : page.slice(at, at + CHECK_CHUNK), tenant, type);
  }
}

/**
 * Refuses a page holding a record that does not verify or belongs to another
 * tenant, naming it; nothing of the page is written.
 */
function checkSealed(page: readonly HubRecord[], tenant: TenantId, type: RecordType): void {
  for (const r of page) {
    if (r.tenant_id !== tenant)
      throw new HubError('INTERNAL', `source returned ${type}/${r.record_id} of another tenant`);
    if (!verifyRecord(r).verified)
      throw new HubError(
        'VALIDATION',
        `source record ${type}/${r.record_id} does not verify (provenance_hash): not copied`,
        { issues: [{ path: 'provenance_hash', message: `${type}/${r.record_id} does not verify` }] },
      );
  }
}
