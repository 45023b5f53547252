/**
 * A list of records kept sorted by (created_at, record_id) ascending, with
 * binary search for range starts. Appends in time order (the common case for
 * an append-only Hub) cost O(log n); out-of-order inserts shift the tail.
 */
import type { HubRecord } from '../../hub/model';
import type { Keyset } from '../../hub/store';

function compareKey(r: HubRecord, createdAt: string, recordId: string): number {
  if (r.created_at !== createdAt) return r.created_at < createdAt ? -1 : 1;
  if (r.record_id !== recordId) return r.record_id < recordId ? -1 : 1;
  return 0;
}

/** See the file comment. */
export class SortedIndex {
  private readonly items: HubRecord[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Adds a record at its place in (created_at, record_id) order. */
  insert(record: HubRecord): void {
    const at = this.firstNotBefore(record.created_at, record.record_id);
    if (at === this.items.length) this.items.push(record);
    else this.items.splice(at, 0, record);
  }

  /** Index of the first item whose key is >= (createdAt, recordId). */
  private firstNotBefore(createdAt: string, recordId: string): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKey(this.items[mid] as HubRecord, createdAt, recordId) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Yields records in descending order, strictly before `after` (if given),
   * with `from <= created_at < to`.
   */
  *descending(opts: { after?: Keyset; from?: string; to?: string }): Generator<HubRecord> {
    let end = this.items.length; // exclusive
    if (opts.after) end = Math.min(end, this.firstNotBefore(opts.after.created_at, opts.after.record_id));
    // '' sorts before every record_id, so this finds the first record at or after `to`.
    if (opts.to !== undefined) end = Math.min(end, this.firstNotBefore(opts.to, ''));
    for (let i = end - 1; i >= 0; i--) {
      const r = this.items[i] as HubRecord;
      if (opts.from !== undefined && r.created_at < opts.from) return;
      yield r;
    }
  }

  /** Yields records in ascending order strictly after `after`, with `from <= created_at < to`. */
  *ascending(opts: { after?: Keyset; from?: string; to?: string }): Generator<HubRecord> {
    let start = 0;
    if (opts.after) {
      start = this.firstNotBefore(opts.after.created_at, opts.after.record_id);
      const at = this.items[start];
      if (at && at.created_at === opts.after.created_at && at.record_id === opts.after.record_id) start++;
    }
    if (opts.from !== undefined) start = Math.max(start, this.firstNotBefore(opts.from, ''));
    for (let i = start; i < this.items.length; i++) {
      const r = this.items[i] as HubRecord;
      if (opts.to !== undefined && r.created_at >= opts.to) return;
      yield r;
    }
  }
}
