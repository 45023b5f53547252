/**
 * Backend-to-backend migration of one tenant (`hub migrate`): the copy engine
 * (copy.ts: scan order, provenance re-verified, hashes kept, target-sized
 * batches) followed by a record-by-record comparison of both stores
 * (compare.ts, constant memory). Idempotent: re-running after a failure
 * reports the records already there as duplicates. Moves with checkpoints,
 * replication and a switch are `hub move` (src/move).
 */
import { HubError } from '../hub/errors';
import { RECORD_TYPES, type RecordType } from '../hub/model';
import type { HubStore } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { compareTenant, describeDifference, verifyStore } from './compare';
import { copyTenant } from './copy';
import type { ProgressSink } from './progress';

export interface MigrationProgress {
  readonly type: RecordType;
  readonly copied: number;
  readonly duplicates: number;
}

export interface MigrationReport {
  readonly tenant: TenantId;
  readonly perType: Readonly<Record<RecordType, { copied: number; duplicates: number }>>;
  readonly total: number;
  readonly verification: VerificationReport;
}

export interface VerificationReport {
  readonly checked: number;
  /** Records whose hash (or artifact body) did not verify, as `type/record_id`. */
  readonly invalid: readonly string[];
  /** When comparing with another store: records missing, extra or different there, as `type/record_id`. */
  readonly mismatched: readonly string[];
}

/**
 * Copies every record of `tenant` from `source` to `target`, then compares.
 * @throws HubError VALIDATION when a source record does not verify (nothing
 *   of its page is copied), CONFLICT when the target holds different content
 *   under the same id, INTERNAL naming the first differences when the final
 *   comparison is not clean, or whatever the stores throw.
 */
export async function migrateTenant(
  source: HubStore,
  target: HubStore,
  tenant: TenantId,
  options: {
    pageSize?: number;
    onProgress?: (p: MigrationProgress) => void;
    onEvent?: ProgressSink;
    /** Each difference the final comparison finds, as a line naming the record (`differs: outputs/<id>`). */
    onProblem?: (line: string) => void;
  } = {},
): Promise<MigrationReport> {
  const perType = Object.fromEntries(RECORD_TYPES.map((t) => [t, { copied: 0, duplicates: 0 }])) as Record<
    RecordType,
    { copied: number; duplicates: number }
  >;
  await copyTenant(source, target, tenant, {
    ...(options.pageSize === undefined ? {} : { batchSize: options.pageSize }),
    ...(options.onEvent ? { onProgress: options.onEvent } : {}),
    commit: async (type, cp) => {
      perType[type] = { copied: cp.copied, duplicates: cp.duplicates };
      if (!cp.done) options.onProgress?.({ type, ...perType[type] });
    },
  });
  const verification = await verifyTenant(target, tenant, {
    compareWith: source,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.onProblem ? { onProblem: options.onProblem } : {}),
  });
  if (verification.invalid.length > 0 || verification.mismatched.length > 0) {
    const named = [...verification.invalid, ...verification.mismatched].slice(0, 5).join(', ');
    throw new HubError(
      'INTERNAL',
      `migration verification failed: ${verification.invalid.length} invalid, ${verification.mismatched.length} mismatched (${named})`,
    );
  }
  const total = RECORD_TYPES.reduce((s, t) => s + perType[t].copied + perType[t].duplicates, 0);
  return { tenant, perType, total, verification };
}

/**
 * Re-verifies every record of a tenant in `store`; with `compareWith`, also
 * compares both stores record by record (missing, extra or different records
 * are `mismatched`). Streams both sides: memory does not grow with the tenant.
 * At most `keep` (default 1000) names are kept per list; counts are exact in
 * `checked`.
 */
export async function verifyTenant(
  store: HubStore,
  tenant: TenantId,
  options: {
    compareWith?: HubStore;
    pageSize?: number;
    onProgress?: (checked: number) => void;
    onEvent?: ProgressSink;
    onProblem?: (line: string) => void;
    keep?: number;
  } = {},
): Promise<VerificationReport> {
  const keep = options.keep ?? 1000;
  const invalid: string[] = [];
  const mismatched: string[] = [];
  const sink: ProgressSink = (e) => {
    options.onProgress?.(e.done);
    options.onEvent?.(e);
  };
  if (!options.compareWith) {
    const report = await verifyStore(store, tenant, {
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
      onProgress: sink,
      keep,
      onDifference: (d) => options.onProblem?.(describeDifference(d)),
    });
    return {
      checked: report.checked,
      invalid: report.first.map((d) => `${d.type}/${d.record_id}`),
      mismatched,
    };
  }
  // `store` is the side being checked; `compareWith` is the reference.
  const report = await compareTenant(store, options.compareWith, tenant, {
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    onProgress: sink,
    keep: 0,
    onDifference: (d) => {
      options.onProblem?.(describeDifference(d));
      const key = `${d.type}/${d.record_id}`;
      if (d.kind === 'invalid') {
        if (d.side === 'source' && invalid.length < keep) invalid.push(key);
      } else if (mismatched.length < keep) mismatched.push(key);
    },
  });
  return { checked: report.source, invalid, mismatched };
}
