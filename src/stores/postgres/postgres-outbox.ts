/**
 * The PostgreSQL outbox's reads: the records behind claimed entries, and the
 * backlog's size and age as the relay and a move read them.
 */
import type { HubRecord, RecordType } from '../../hub/model';
import type { OutboxEntry } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { getByIdsStatement, recordFromRow } from './postgres-sql';
import type { Row, TenantDatabase } from './queryable';

/** Loads the records behind claimed outbox rows, each tenant under its own scope. */
export async function outboxRecords(db: TenantDatabase, rows: readonly Row[]): Promise<OutboxEntry[]> {
  const byTenant = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byTenant.get(String(r.tenant_id)) ?? [];
    list.push(r);
    byTenant.set(String(r.tenant_id), list);
  }
  const records = new Map<string, HubRecord>();
  for (const [t, list] of byTenant) {
    const tenant = t as TenantId;
    const types = [...new Set(list.map((r) => r.record_type as RecordType))];
    const results = await db.run(
      { tenant },
      types.map((type) =>
        getByIdsStatement(
          tenant,
          type,
          list.filter((r) => r.record_type === type).map((r) => String(r.record_id)),
        ),
      ),
    );
    types.forEach((type, k) => {
      for (const row of results[k] ?? []) {
        records.set(`${tenant}/${type}/${String(row.record_id)}`, recordFromRow(tenant, type, row));
      }
    });
  }
  // An entry whose record was purged since is dropped with the batch.
  return rows.flatMap((r) => {
    const record = records.get(`${String(r.tenant_id)}/${String(r.record_type)}/${String(r.record_id)}`);
    if (!record) return [];
    return [
      {
        id: String(r.id),
        tenant: record.tenant_id,
        record,
        enqueued_at: String(r.enqueued_at),
      },
    ];
  });
}

/** The outbox backlog of a `count(*) AS pending, min(enqueued_at) AS oldest` row (none: empty). */
export function backlogOf(row: Row | undefined): {
  readonly pending: number;
  readonly oldest: string | null;
} {
  const oldest = row?.oldest === null || row?.oldest === undefined ? null : String(row.oldest);
  return { pending: Number(row?.pending ?? 0), oldest };
}
