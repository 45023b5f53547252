/**
 * Per-tenant usage minutes in PostgreSQL (`hub.usage_minutes`, created by the
 * migrations): the {@link UsageSink} the gateway flushes its usage meter to.
 * Like the records, a statement sees a tenant's minutes only under that
 * tenant's verified ticket. Rows are only ever inserted (one per tenant, minute and flush) and summed
 * when read; retention deletes whole minutes. Every statement runs in the
 * tenant's scope, so row-level security keeps each tenant's minutes apart
 * exactly as it does records.
 */
import { USAGE_COUNTERS, type UsageRow, type UsageSink } from '../../platform/usage';
import type { Row, TenantDatabase } from './queryable';

const COLUMNS = USAGE_COUNTERS.join(', ');

const INSERT = `INSERT INTO hub.usage_minutes (tenant_id, minute, ${COLUMNS})
SELECT $1, * FROM unnest($2::timestamptz[], ${USAGE_COUNTERS.map((_c, i) => `$${i + 3}::int8[]`).join(', ')})`;

const READ = `SELECT minute, ${USAGE_COUNTERS.map((c) => `sum(${c})::int8 AS ${c}`).join(', ')}
FROM hub.usage_minutes WHERE tenant_id = $1 AND minute >= $2::timestamptz AND minute < $3::timestamptz
GROUP BY minute ORDER BY minute`;

const PRUNE = 'DELETE FROM hub.usage_minutes WHERE tenant_id = $1 AND minute < $2::timestamptz';

/** The sink over an open database; `close()` closes the database. */
export function createPostgresUsageSink(db: TenantDatabase): UsageSink {
  return {
    async write(rows) {
      const byTenant = new Map<string, UsageRow[]>();
      for (const r of rows) byTenant.set(r.tenant, [...(byTenant.get(r.tenant) ?? []), r]);
      for (const [tenant, list] of byTenant) {
        const params: unknown[] = [tenant, list.map((r) => r.minute)];
        for (const c of USAGE_COUNTERS) params.push(list.map((r) => Math.round(r[c])));
        await db.run({ tenant }, [{ sql: INSERT, params }]);
      }
    },
    async read(tenant, from, to) {
      const [rows = []] = await db.run({ tenant }, [{ sql: READ, params: [tenant, from, to] }], {
        light: true,
      });
      return rows.map((r: Row) => {
        const out: Record<string, unknown> = { tenant, minute: String(r.minute) };
        for (const c of USAGE_COUNTERS) out[c] = Number(r[c]);
        return out as UsageRow;
      });
    },
    async prune(tenant, before) {
      const [rows = []] = await db.run({ tenant }, [
        { sql: `${PRUNE} RETURNING 1`, params: [tenant, before] },
      ]);
      return rows.length;
    },
    close: () => db.close(),
  };
}

/** The migration that creates the table (appended to the store's migrations). */
export const USAGE_MIGRATION_SQL = `
CREATE TABLE hub.usage_minutes (
  tenant_id      text        NOT NULL,
  minute         timestamptz NOT NULL,
  requests       int8        NOT NULL DEFAULT 0,
  errors         int8        NOT NULL DEFAULT 0,
  cost_units     int8        NOT NULL DEFAULT 0,
  rows_read      int8        NOT NULL DEFAULT 0,
  rollups        int8        NOT NULL DEFAULT 0,
  bytes_ingested int8        NOT NULL DEFAULT 0,
  flushed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_minutes_tenant_minute ON hub.usage_minutes (tenant_id, minute);
ALTER TABLE hub.usage_minutes ENABLE ROW LEVEL SECURITY;
ALTER TABLE hub.usage_minutes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON hub.usage_minutes
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true))
         AND (SELECT current_setting('app.tenant_id', true)) = (SELECT hub.verified_tenant()))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true))
              AND (SELECT current_setting('app.tenant_id', true)) = (SELECT hub.verified_tenant()));
`;
