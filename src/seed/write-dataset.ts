/**
 * Writing a generated dataset through the Hub: shared by `hub seed` and the
 * demo seed of `hub serve --dev`.
 */
import type { Hub } from '../hub/hub';
import type { RecordType } from '../hub/model';
import { MS_PER_DAY } from '../hub/time';
import type { TenantId } from '../hub/tenant';
import type { Dataset } from './generator';

/** UTC midnight `days` days before `now`, as a timestamp: the start of a window ending today. */
export function windowStart(days: number, now: number = Date.now()): string {
  const d = new Date(now);
  return new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - days * MS_PER_DAY,
  ).toISOString();
}

/**
 * Writes every record of `data` for `tenant` in chunks, type by type in the
 * dataset's order (profiles before outputs before the records pointing at them).
 * @returns how many records were created and how many were already there.
 * @throws the first per-record error (e.g. CONFLICT): a dataset that does not
 *   fit what the tenant holds is reported, never half-counted.
 */
export async function writeDataset(
  hub: Hub,
  tenant: TenantId,
  data: Dataset,
  options: { chunkSize?: number; onType?: (type: RecordType, count: number) => void } = {},
): Promise<{ created: number; duplicates: number }> {
  const chunk = options.chunkSize ?? 1000;
  let created = 0;
  let duplicates = 0;
  for (const type of Object.keys(data) as RecordType[]) {
    const inputs = data[type];
    for (let i = 0; i < inputs.length; i += chunk) {
      for (const r of await hub.record(tenant, type, inputs.slice(i, i + chunk))) {
        if (r.status === 'error') throw r.error;
        if (r.status === 'created') created++;
        else duplicates++;
      }
    }
    options.onType?.(type, inputs.length);
  }
  return { created, duplicates };
}
