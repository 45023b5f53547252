/**
 * Record-by-record comparison of one tenant in two stores, in constant memory:
 * both sides are streamed per record type in scan order and merged like a
 * sorted merge join, so only the current page of each side is held. Every
 * record's provenance is recomputed on both sides (content altered behind an
 * unchanged stored hash counts as a difference). Each difference is named
 * (`missing`, `extra`, `differs`, `invalid`) with its type and record id.
 */
import { type HubRecord, RECORD_TYPES, type RecordType } from '../hub/model';
import { verifyRecord } from '../hub/provenance';
import type { HubStore } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { Progress, type ProgressSink } from './progress';
import { compareKeys, keyOf, scanRecords } from './scan-stream';

/** One difference between the two stores (or a record that does not verify). */
export interface Difference {
  /**
   * `missing`: in the source, not in the target; `extra`: in the target, not
   * in the source; `differs`: same id and position, different content;
   * `invalid`: the record's provenance does not verify (`side` says where).
   */
  readonly kind: 'missing' | 'extra' | 'differs' | 'invalid';
  readonly type: RecordType;
  readonly record_id: string;
  readonly side?: 'source' | 'target';
}

/** Counts of a comparison; the differences themselves go to `onDifference`. */
export interface CompareReport {
  readonly source: number;
  readonly target: number;
  readonly missing: number;
  readonly extra: number;
  readonly differs: number;
  readonly invalid: number;
  /** The first differences (at most `keep`, default 100) for messages. */
  readonly first: readonly Difference[];
}

/** True when a comparison found nothing wrong. */
export function isClean(r: CompareReport): boolean {
  return r.missing + r.extra + r.differs + r.invalid === 0;
}

export interface CompareOptions {
  readonly pageSize?: number;
  readonly types?: readonly RecordType[];
  /** Called for every difference, in scan order per type. */
  readonly onDifference?: (d: Difference) => void | Promise<void>;
  readonly onProgress?: ProgressSink;
  /** Expected number of source records, for the progress total. */
  readonly total?: number;
  /** Differences kept in the report (default 100). */
  readonly keep?: number;
  readonly now?: () => number;
}

/** Human form of a difference: `missing in target: outputs/<id>`. */
export function describeDifference(d: Difference): string {
  const what =
    d.kind === 'missing'
      ? 'missing in target'
      : d.kind === 'extra'
        ? 'extra in target'
        : d.kind === 'differs'
          ? 'differs'
          : `does not verify in ${d.side ?? 'source'}`;
  return `${what}: ${d.type}/${d.record_id}`;
}

/** Compares `tenant` in `source` and `target`; see the module comment. */
export async function compareTenant(
  source: HubStore,
  target: HubStore,
  tenant: TenantId,
  options: CompareOptions = {},
): Promise<CompareReport> {
  const pageSize = options.pageSize ?? 1000;
  const keep = options.keep ?? 100;
  const counts = { source: 0, target: 0, missing: 0, extra: 0, differs: 0, invalid: 0 };
  const first: Difference[] = [];
  const progress = new Progress('verify', options.onProgress, {
    ...(options.total === undefined ? {} : { total: options.total }),
    ...(options.now ? { now: options.now } : {}),
  });
  const found = async (d: Difference): Promise<void> => {
    counts[d.kind]++;
    if (first.length < keep) first.push(d);
    await options.onDifference?.(d);
  };
  const hashOf = async (r: HubRecord, side: 'source' | 'target'): Promise<string> => {
    const v = verifyRecord(r);
    if (!v.verified || r.tenant_id !== tenant)
      await found({ kind: 'invalid', type: r.record_type, record_id: r.record_id, side });
    return v.expectedHash;
  };
  for (const type of options.types ?? RECORD_TYPES) {
    const left = scanRecords(source, tenant, type, { pageSize });
    const right = scanRecords(target, tenant, type, { pageSize });
    let a = await left.next();
    let b = await right.next();
    while (!a.done || !b.done) {
      const order = a.done ? 1 : b.done ? -1 : compareKeys(keyOf(a.value), keyOf(b.value));
      if (order < 0 && !a.done) {
        counts.source++;
        await hashOf(a.value, 'source');
        await found({ kind: 'missing', type, record_id: a.value.record_id });
        progress.add(1, type);
        a = await left.next();
      } else if (order > 0 && !b.done) {
        counts.target++;
        await hashOf(b.value, 'target');
        await found({ kind: 'extra', type, record_id: b.value.record_id });
        b = await right.next();
      } else if (!a.done && !b.done) {
        counts.source++;
        counts.target++;
        const ha = await hashOf(a.value, 'source');
        const hb = await hashOf(b.value, 'target');
        if (ha !== hb) await found({ kind: 'differs', type, record_id: a.value.record_id });
        progress.add(1, type);
        a = await left.next();
        b = await right.next();
      }
    }
  }
  progress.finish();
  return { ...counts, first };
}

/** Re-verifies every record of one store (no second store), streaming, naming each that fails. */
export async function verifyStore(
  store: HubStore,
  tenant: TenantId,
  options: Pick<CompareOptions, 'pageSize' | 'onDifference' | 'onProgress' | 'total' | 'keep' | 'now'> = {},
): Promise<{ readonly checked: number; readonly invalid: number; readonly first: readonly Difference[] }> {
  const pageSize = options.pageSize ?? 1000;
  const keep = options.keep ?? 100;
  const first: Difference[] = [];
  let checked = 0;
  let invalid = 0;
  const progress = new Progress('verify', options.onProgress, {
    ...(options.total === undefined ? {} : { total: options.total }),
    ...(options.now ? { now: options.now } : {}),
  });
  for (const type of RECORD_TYPES) {
    for await (const r of scanRecords(store, tenant, type, { pageSize })) {
      checked++;
      if (!verifyRecord(r).verified || r.tenant_id !== tenant) {
        invalid++;
        const d: Difference = { kind: 'invalid', type, record_id: r.record_id, side: 'source' };
        if (first.length < keep) first.push(d);
        await options.onDifference?.(d);
      }
      progress.add(1, type);
    }
  }
  progress.finish();
  return { checked, invalid, first };
}
