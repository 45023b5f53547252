/**
 * The checkpointed copy engine: copies one tenant from a source store to a
 * target store per record type in scan order, re-verifying every record's
 * provenance (the target keeps the hash unchanged), and commits its position
 * after every written batch through `commit`, so a process killed at any point
 * resumes from the last committed position rather than from the start.
 *
 * Reads and writes overlap (the next page is read while the current one is
 * written). Batches are sized for the target: its bulk path when it has one,
 * and written at once on stores that would otherwise hold them for a
 * micro-batch timer (`putBatchNow`). Throttling (SharePoint's Retry-After) is
 * handled inside the store, which waits what the server asks.
 */
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
  /** Persists a type's checkpoint; awaited before the next batch is written. */
  readonly commit?: (type: RecordType, checkpoint: TypeCheckpoint) => Promise<void>;
  /** Records per read and per write (default: sized for the target, see {@link batchSizeFor}). */
  readonly batchSize?: number;
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

/**
 * Batch size suited to a target: large batches (each store turns them into
 * its bulk path: multi-row inserts, array binds, `$batch` requests of 100
 * parts sent concurrently), never above the store's own maximum.
 */
export function batchSizeFor(target: HubStore): number {
  const wanted = 5000;
  return Math.max(1, Math.min(wanted, target.capabilities.maxBatchSize));
}

/** Total source records still to copy (when the source can count), for the progress total. */
export async function countTenant(
  store: HubStore,
  tenant: TenantId,
  types: readonly RecordType[] = RECORD_TYPES,
): Promise<number | undefined> {
  if (!hasRecordCounts(store)) return undefined;
  let n = 0;
  for (const t of types) n += await store.countRecords(tenant, t);
  return n;
}

/** Copies the tenant; see the module comment. */
export async function copyTenant(
  source: HubStore,
  target: HubStore,
  tenant: TenantId,
  options: CopyOptions = {},
): Promise<CopyReport> {
  const batch = options.batchSize ?? batchSizeFor(target);
  const checkpoints = { ...options.checkpoints } as Record<RecordType, TypeCheckpoint>;
  for (const t of RECORD_TYPES) checkpoints[t] ??= { copied: 0, duplicates: 0, done: false };
  const already = RECORD_TYPES.reduce((s, t) => s + checkpoints[t].copied + checkpoints[t].duplicates, 0);
  const total = await countTenant(source, tenant);
  const progress = new Progress('copy', options.onProgress, {
    ...(total === undefined ? {} : { total }),
    start: already,
    ...(options.now ? { now: options.now } : {}),
  });
  const writeOne = (records: readonly HubRecord[]): Promise<PutOutcome[]> =>
    hasImmediateWrites(target) ? target.putBatchNow(tenant, records) : target.putBatch(tenant, records);
  // A page read with a caller's page size may exceed what the target takes in one call.
  const maxWrite = Math.max(1, target.capabilities.maxBatchSize);
  const write = async (records: readonly HubRecord[]): Promise<PutOutcome[]> => {
    if (records.length <= maxWrite) return writeOne(records);
    const outcomes: PutOutcome[] = [];
    for (let i = 0; i < records.length; i += maxWrite)
      outcomes.push(...(await writeOne(records.slice(i, i + maxWrite))));
    return outcomes;
  };

  for (const type of RECORD_TYPES) {
    let cp = checkpoints[type];
    if (cp.done) continue;
    // The write of page k overlaps the read of page k+1 (scanPages prefetches).
    for await (const page of scanPages(source, tenant, type, {
      pageSize: batch,
      ...(cp.after ? { after: cp.after } : {}),
    })) {
      if (options.signal?.aborted) throw new HubError('UNAVAILABLE', 'copy stopped before it finished');
      checkSealed(page, tenant, type);
      const outcomes = await write(page);
      let copied = 0;
      let duplicates = 0;
      outcomes.forEach((o, i) => {
        if (o.status === 'created') copied++;
        else if (o.status === 'duplicate') duplicates++;
        else {
          const r = page[i] as HubRecord;
          throw new HubError(
            'CONFLICT',
            `target already holds ${type}/${r.record_id} with different content (hash ${o.existingHash}, source ${r.provenance_hash})`,
          );
        }
      });
      cp = {
        after: keyOf(page[page.length - 1] as HubRecord),
        copied: cp.copied + copied,
        duplicates: cp.duplicates + duplicates,
        done: false,
      };
      checkpoints[type] = cp;
      await options.commit?.(type, cp);
      progress.add(page.length, type);
    }
    cp = { ...cp, done: true };
    checkpoints[type] = cp;
    await options.commit?.(type, cp);
  }
  progress.finish();
  return {
    checkpoints,
    copied: RECORD_TYPES.reduce((s, t) => s + checkpoints[t].copied, 0),
    duplicates: RECORD_TYPES.reduce((s, t) => s + checkpoints[t].duplicates, 0),
  };
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
