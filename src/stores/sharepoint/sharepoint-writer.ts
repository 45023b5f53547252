/**
 * Writes one putBatch to a tenant's site: item adds sent as `$batch` requests,
 * an outcome per record.
 *
 * - Idempotency is SharePoint's: `HubRecordId` has EnforceUniqueValues, so an
 *   add of an existing record_id is refused (SPDuplicateValuesFoundException)
 *   and never written twice. For refused adds the store reads the stored item:
 *   same hash -> `duplicate`, other hash -> `conflict`; unless the stored item
 *   carries this call's write id, which means our own earlier attempt landed
 *   (a `$batch` retried after its answer was lost) -> `created`.
 * - Throttled parts (per-part 429/503 inside a successful `$batch`, which pnp
 *   does not retry) are re-queued, waiting per Retry-After (capped, jittered),
 *   up to `retries` rounds; then the call fails with THROTTLED and reports
 *   nothing as created (what did land reads back, and a retry of the call
 *   reports it `duplicate`).
 * - Any other failed part fails the call (mapped error, nothing acknowledged).
 * - A failed call may still have landed some items. Their write ids are kept
 *   in {@link UnackedWrites}; when a later call of this process meets such an
 *   item, it reports it `created` (once): it was never acknowledged before, as
 *   a transactional store would have rolled it back. This keeps the router's
 *   in-process outbox (which ships only `created` records) from missing it.
 */
import { randomUUID } from 'node:crypto';
import { HubError } from '../../hub/errors';
import type { HubRecord, RecordType } from '../../hub/model';
import type { PutOutcome } from '../../hub/store';
import { isDuplicateValue, isThrottle, retryAfterOf, toSharePointHubError } from './sharepoint-errors';
import type { WritePacer } from './sharepoint-pacer';
import { type RetryPolicy, retryDelayMs, sleep } from './sharepoint-retry';
import { odataString } from './sharepoint-schema';
import { type ItemRow, type TenantSite, listPath } from './sharepoint-site';

/** Ids per `HubRecordId eq ... or ...` lookup (keeps URLs short). */
const LOOKUP_CHUNK = 40;

type Key = string;
const keyOf = (r: HubRecord): Key => `${r.record_type}\u0000${r.record_id}`;

/**
 * Items that a failed putBatch may have written without acknowledging them:
 * (tenant, type, record_id) -> that call's write id. Process-local and
 * bounded (the oldest entries are forgotten first).
 */
export class UnackedWrites {
  private readonly entries = new Map<string, string>();

  constructor(private readonly max = 100_000) {}

  /** Remembers the records of a failed call. */
  remember(tenant: string, keys: Iterable<Key>, writeId: string): void {
    for (const key of keys) {
      const k = `${tenant}\u0000${key}`;
      this.entries.delete(k);
      this.entries.set(k, writeId);
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  /** True (once) when the stored item was written by a failed call for this record. */
  take(tenant: string, key: Key, storedWriteId: string | undefined): boolean {
    const k = `${tenant}\u0000${key}`;
    if (storedWriteId === undefined || this.entries.get(k) !== storedWriteId) return false;
    this.entries.delete(k);
    return true;
  }

  /** Forgets records whose outcome was reported. */
  forget(tenant: string, keys: Iterable<Key>): void {
    for (const key of keys) this.entries.delete(`${tenant}\u0000${key}`);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** See the file comment. */
export async function writeRecords(
  site: TenantSite,
  records: readonly HubRecord[],
  policy: RetryPolicy,
  unacked: UnackedWrites,
  log?: (event: string, fields?: Record<string, unknown>) => void,
  pacer?: WritePacer,
): Promise<PutOutcome[]> {
  const writeId = randomUUID();
  // First occurrence of each (type, id); later repeats are compared with it.
  const unique = new Map<Key, HubRecord>();
  for (const r of records) if (!unique.has(keyOf(r))) unique.set(keyOf(r), r);
  let outcomes: PutOutcome[];
  try {
    outcomes = await write(site, records, unique, writeId, { policy, unacked, log, pacer });
  } catch (err) {
    unacked.remember(site.tenant, unique.keys(), writeId);
    throw err;
  }
  unacked.forget(site.tenant, unique.keys());
  return outcomes;
}

/** What a call writes with besides its records: retry policy, unacknowledged writes, log, pacer. */
interface WriteContext {
  readonly policy: RetryPolicy;
  readonly unacked: UnackedWrites;
  readonly log?: ((event: string, fields?: Record<string, unknown>) => void) | undefined;
  readonly pacer?: WritePacer | undefined;
}

/** One call, in named steps: the items' payloads, the adds (re-sent while throttled), the refused ones resolved, the outcomes in order. */
async function write(
  site: TenantSite,
  records: readonly HubRecord[],
  unique: ReadonlyMap<Key, HubRecord>,
  writeId: string,
  how: WriteContext,
): Promise<PutOutcome[]> {
  const payloads = new Map<Key, string>();
  try {
    for (const r of unique.values()) payloads.set(keyOf(r), JSON.stringify(await site.itemFor(r, writeId)));
  } catch (err) {
    throw toSharePointHubError(err, 'write (file upload)');
  }
  const { result, refused } = await addItems(site, unique, payloads, how);
  if (refused.length > 0) await resolveRefused(site, refused, writeId, how.unacked, result);
  return outcomesInOrder(records, unique, result);
}

/**
 * Adds the items in $batch requests, the throttled ones re-sent after the
 * advised delay up to `policy.retries` times. @returns the created ones'
 * outcomes and the records refused as duplicates of a stored item.
 */
async function addItems(
  site: TenantSite,
  unique: ReadonlyMap<Key, HubRecord>,
  payloads: ReadonlyMap<Key, string>,
  { policy, log, pacer }: WriteContext,
): Promise<{ result: Map<Key, PutOutcome>; refused: HubRecord[] }> {
  const result = new Map<Key, PutOutcome>();
  const refused: HubRecord[] = [];
  let queue = [...unique.values()];
  for (let round = 0; queue.length > 0; round++) {
    let parts;
    await pacer?.admit(queue.length);
    try {
      parts = await site.client.batchPost(
        queue.map((r) => ({
          path: listPath(r.record_type, '/items'),
          body: payloads.get(keyOf(r)) as string,
        })),
      );
    } catch (err) {
      throw toSharePointHubError(err, 'write ($batch)');
    }
    const throttled: HubRecord[] = [];
    let retryAfter: string | null = null;
    let lastThrottle: unknown;
    queue.forEach((r, i) => {
      const part = parts[i];
      if (!part) throw new HubError('INTERNAL', 'sharepoint $batch answered fewer parts than sent');
      if (part.ok) result.set(keyOf(r), { status: 'created' });
      else if (isDuplicateValue(part.error)) refused.push(r);
      else if (isThrottle(part.error)) {
        throttled.push(r);
        lastThrottle = part.error;
        retryAfter ??= retryAfterOf(part.error);
      } else throw toSharePointHubError(part.error, 'write (item add)');
    });
    pacer?.answered(queue.length - throttled.length, throttled.length);
    if (throttled.length === 0) break;
    if (round >= policy.retries)
      throw new HubError(
        'THROTTLED',
        `sharepoint write throttled: ${throttled.length} of ${unique.size} records still refused after ${round + 1} attempts; nothing of this call is acknowledged: retry the call`,
        { cause: lastThrottle },
      );
    const delayMs = retryDelayMs(retryAfter, round, policy);
    log?.('sharepoint.batch_requeue', { throttled: throttled.length, retryAfter, round: round + 1, delayMs });
    await sleep(delayMs);
    queue = throttled;
  }
  return { result, refused };
}

/** The outcome of each refused record from the stored item: this call's (or an unacknowledged earlier one's), a duplicate, or a conflict. */
async function resolveRefused(
  site: TenantSite,
  refused: readonly HubRecord[],
  writeId: string,
  unacked: UnackedWrites,
  result: Map<Key, PutOutcome>,
): Promise<void> {
  const stored = await storedItems(site, refused);
  for (const r of refused) {
    const row = stored.get(keyOf(r));
    if (!row?.HubHash)
      throw new HubError('INTERNAL', `sharepoint refused ${r.record_id} as a duplicate but no item holds it`);
    if (row.HubWriteId === writeId || unacked.take(site.tenant, keyOf(r), row.HubWriteId))
      result.set(keyOf(r), { status: 'created' });
    else if (row.HubHash === r.provenance_hash) result.set(keyOf(r), { status: 'duplicate' });
    else result.set(keyOf(r), { status: 'conflict', existingHash: row.HubHash });
  }
}

/** Each record's outcome in the call's order; a repeat within the call is compared with the stored version. */
function outcomesInOrder(
  records: readonly HubRecord[],
  unique: ReadonlyMap<Key, HubRecord>,
  result: ReadonlyMap<Key, PutOutcome>,
): PutOutcome[] {
  const firstSeen = new Set<Key>();
  return records.map((r): PutOutcome => {
    const key = keyOf(r);
    const first = unique.get(key) as HubRecord;
    if (!firstSeen.has(key)) {
      firstSeen.add(key);
      return result.get(key) as PutOutcome;
    }
    // A repeat within the call: compare with the stored version (the first occurrence, or the older record).
    const outcome = result.get(key) as PutOutcome;
    const storedHash = outcome.status === 'conflict' ? outcome.existingHash : first.provenance_hash;
    return storedHash === r.provenance_hash
      ? { status: 'duplicate' }
      : { status: 'conflict', existingHash: storedHash };
  });
}

/** The stored items (hash and write id) of records whose add was refused. */
async function storedItems(site: TenantSite, records: readonly HubRecord[]): Promise<Map<Key, ItemRow>> {
  const out = new Map<Key, ItemRow>();
  const byType = new Map<RecordType, string[]>();
  for (const r of records) byType.set(r.record_type, [...(byType.get(r.record_type) ?? []), r.record_id]);
  for (const [type, ids] of byType) {
    for (let at = 0; at < ids.length; at += LOOKUP_CHUNK) {
      const chunk = ids.slice(at, at + LOOKUP_CHUNK);
      const rows = await site.items(
        type,
        {
          $filter: chunk.map((id) => `HubRecordId eq ${odataString(id)}`).join(' or '),
          $select: 'ID,HubRecordId,HubHash,HubWriteId',
          $top: String(chunk.length * 2),
        },
        Infinity,
        'write (duplicate check)',
      );
      for (const row of rows) out.set(`${type}\u0000${row.HubRecordId}`, row);
    }
  }
  return out;
}
