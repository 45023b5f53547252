/**
 * The final sync of a read-only switch (and of a reverse without replication):
 * with the tenant's writes refused, both stores are compared record by record
 * and every record the destination lacks is copied to it. Records are never
 * changed or deleted once written, so what is missing is all there is to do;
 * a record present on both sides with different content is refused (CONFLICT,
 * naming it), and records only in the destination are left alone (a re-run
 * after a crash finds them there).
 */
import { HubError } from '../hub/errors';
import type { HubRecord, RecordType } from '../hub/model';
import { verifyRecord } from '../hub/provenance';
import { type HubStore, hasImmediateWrites } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { compareTenant } from '../migrate/compare';
import { batchSizeFor } from '../migrate/copy';
import type { ProgressSink } from '../migrate/progress';

/** Copies to `to` every record of the tenant it lacks from `from`. @returns records copied. */
export async function syncMissing(
  from: HubStore,
  to: HubStore,
  tenant: TenantId,
  options: { onProgress?: ProgressSink; pageSize?: number } = {},
): Promise<number> {
  const batch = batchSizeFor(to);
  const pending = new Map<RecordType, string[]>();
  let copied = 0;
  const flush = async (type: RecordType): Promise<void> => {
    const ids = pending.get(type) ?? [];
    if (ids.length === 0) return;
    pending.set(type, []);
    const records = (await from.getByIds(tenant, type, ids)).filter((r): r is HubRecord => r !== null);
    for (const r of records)
      if (!verifyRecord(r).verified)
        throw new HubError('VALIDATION', `source record ${type}/${r.record_id} does not verify: not copied`);
    const outcomes = hasImmediateWrites(to)
      ? await to.putBatchNow(tenant, records)
      : await to.putBatch(tenant, records);
    outcomes.forEach((o, i) => {
      if (o.status === 'conflict')
        throw new HubError('CONFLICT', `${type}/${records[i]?.record_id} differs between the two stores`);
      if (o.status === 'created') copied++;
    });
  };
  let current: RecordType | undefined;
  await compareTenant(from, to, tenant, {
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.onProgress ? { onProgress: (e) => options.onProgress?.({ ...e, step: 'sync' }) } : {}),
    keep: 0,
    onDifference: async (d) => {
      if (current !== d.type && current) await flush(current);
      current = d.type;
      if (d.kind === 'differs')
        throw new HubError('CONFLICT', `${d.type}/${d.record_id} differs between the two stores`);
      if (d.kind === 'invalid')
        throw new HubError('VALIDATION', `${d.type}/${d.record_id} does not verify in the ${d.side} store`);
      if (d.kind !== 'missing') return;
      const list = pending.get(d.type) ?? [];
      list.push(d.record_id);
      pending.set(d.type, list);
      if (list.length >= Math.min(batch, 500)) await flush(d.type);
    },
  });
  for (const type of pending.keys()) await flush(type);
  return copied;
}
