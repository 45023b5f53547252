/**
 * A copy target that keeps nothing: every batch is answered `created` at
 * once, with no check, encoding or write. A copy into it costs what the
 * copier pays to read the source and re-verify every record, and nothing of
 * any store's write path; bench:move and bench/move-copier.ts time the
 * reading side with it. Only what `copyTenant` calls on a fresh target is
 * there (its capabilities and `putBatch`); a bench measure, never a store.
 */
import type { HubStore, PutOutcome } from '../src/hub/store';
import type { CopyPlan } from '../src/migrate/copy';

/** The sink, copied into in batches of `plan.batchSize`, `plan.concurrency` at a time. */
export function sinkTarget(plan: CopyPlan): HubStore {
  const created: PutOutcome = { status: 'created' };
  const sink = {
    capabilities: { maxBatchSize: plan.batchSize, bulkWrite: plan },
    putBatch: async (_tenant: unknown, records: readonly unknown[]): Promise<PutOutcome[]> =>
      records.map(() => created),
    close: async (): Promise<void> => undefined,
  };
  return sink as unknown as HubStore;
}
