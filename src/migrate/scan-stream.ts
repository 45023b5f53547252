/**
 * Scan streams: one record type of one tenant read in scan order
 * (`created_at`, then `record_id`, ascending) page by page, with the next page
 * already requested while the caller works on the current one (reads and
 * writes overlap). At most two pages are held at a time, whatever the size of
 * the tenant.
 */
import type { HubRecord, RecordType } from '../hub/model';
import type { HubStore, Keyset } from '../hub/store';
import type { TenantId } from '../hub/tenant';

/** Scan position of a record. */
export function keyOf(record: HubRecord): Keyset {
  return { created_at: record.created_at, record_id: record.record_id };
}

/**
 * Orders two records by scan position. Canonical timestamps have a fixed
 * width, so string order is time order; record ids are lowercase UUIDs, whose
 * string order is the byte order the stores sort by.
 */
export function compareKeys(a: Keyset, b: Keyset): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  if (a.record_id === b.record_id) return 0;
  return a.record_id < b.record_id ? -1 : 1;
}

/**
 * Yields pages of `type` strictly after `after`, each of at most `pageSize`
 * records, prefetching the next page while the current one is consumed.
 */
export async function* scanPages(
  store: HubStore,
  tenant: TenantId,
  type: RecordType,
  options: { pageSize: number; after?: Keyset },
): AsyncGenerator<HubRecord[]> {
  const read = (after: Keyset | undefined): Promise<HubRecord[]> =>
    store.scan(tenant, { type, limit: options.pageSize, ...(after ? { after } : {}) });
  let next: Promise<HubRecord[]> | null = read(options.after);
  while (next) {
    const page: HubRecord[] = await next;
    const last = page[page.length - 1];
    // A short page is the end: no need to ask again.
    next = last && page.length >= options.pageSize ? read(keyOf(last)) : null;
    // Keep a rejected prefetch from being reported as unhandled if the consumer stops early.
    next?.catch(() => undefined);
    if (page.length > 0) yield page;
  }
}

/** Yields the records of `scanPages` one by one (same prefetching, same bound on memory). */
export async function* scanRecords(
  store: HubStore,
  tenant: TenantId,
  type: RecordType,
  options: { pageSize: number; after?: Keyset },
): AsyncGenerator<HubRecord> {
  for await (const page of scanPages(store, tenant, type, options)) yield* page;
}
