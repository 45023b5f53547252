/**
 * Migrations 18 and 19 (preagg-feed-batches.sql, preagg-feed-bounds.sql): the
 * change feed becomes one row per statement, with the span of its records'
 * created_at. A database at migration 17 with unfolded feed rows is migrated:
 * the rows move into hub.rollup_feed_batches (at most 5,000 records a row,
 * per tenant and kind), hub.rollup_feed (now a view) reads exactly the rows it
 * held before, the old table is left empty and closed to the application
 * role, and the moved rows fold into cells once. Claims of whole rows:
 * postgres-preagg-consumer.test.ts; isolation of the feed's rows between
 * tenants: postgres-preagg-tenancy.test.ts.
 */
import { Client } from 'pg';
import { parseTenantId } from '../../src/hub/tenant';
import { openStore } from '../../src/stores';
import type { HubStore, MaintenanceSource } from '../../src/hub/store';
import { MIGRATIONS } from '../../src/stores/postgres/migrations';
import { postgresDriver } from '../../src/stores/postgres/postgres-driver';
import { type PgTestDatabase, createTestDatabase, sqlAt } from '../support/pg-harness';

const BEFORE = 17;

describe('postgres pre-aggregation feed as one row per statement (migration 18)', () => {
  let pg: PgTestDatabase;
  let store: (HubStore & MaintenanceSource) | undefined;

  beforeAll(async () => {
    pg = await createTestDatabase({ migrate: false });
    // Migrations 1..17 as `hub db migrate` applies them (as the owner, in one transaction).
    const owner = new Client({ connectionString: pg.ownerUri.split('?')[0] as string });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query(
        'CREATE SCHEMA hub; CREATE TABLE hub.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      for (const m of MIGRATIONS.filter((x) => x.version <= BEFORE)) {
        await owner.query(m.sql());
        await owner.query('INSERT INTO hub.schema_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ]);
      }
      await owner.query('COMMIT');
    } finally {
      await owner.end();
    }
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  }, 120_000);

  /** The feed's rows, each as one line of text, sorted. */
  const feedRows = async (): Promise<string[]> =>
    (
      await sqlAt<{ r: string }>(
        pg.adminUri,
        `SELECT concat_ws('|', tenant_id, kind, record_id, created_at, skill_id, employee_id, tag, cost_usd,
           input_tokens, output_tokens, latency_ms, output_id) AS r FROM hub.rollup_feed`,
      )
    )
      .map((x) => x.r)
      .sort();

  test('unfolded rows move into rows of at most 5,000 records, read the same through the view, and fold once', async () => {
    const t = parseTenantId('feed-batches');
    // 12,000 unfolded output rows over 10 days and 7 decision rows, as the
    // triggers of migration 16 left them (one row per record).
    await sqlAt(
      pg.adminUri,
      `INSERT INTO hub.rollup_feed (tenant_id, kind, record_id, created_at, skill_id, employee_id, tag, cost_usd,
         input_tokens, output_tokens, latency_ms)
       SELECT $1, 'o', gen_random_uuid(), timestamptz '2026-01-05T00:00:00Z' + i * interval '72 seconds',
         'skill-' || (i % 5), 'emp-' || (i % 9), CASE WHEN i % 7 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END,
         (i % 1000) / 1000.0, i % 300, i % 200, i % 900
       FROM generate_series(1, 12000) i`,
      [t],
    );
    await sqlAt(
      pg.adminUri,
      `INSERT INTO hub.rollup_feed (tenant_id, kind, record_id, created_at, employee_id, tag, output_id)
       SELECT $1, 'd', gen_random_uuid(), timestamptz '2026-01-06T00:00:00Z' + i * interval '1 hour', 'emp-1',
         'ACCEPTED', gen_random_uuid()
       FROM generate_series(1, 7) i`,
      [t],
    );
    const before = await feedRows();
    expect(before).toHaveLength(12_007);

    await postgresDriver.migrate?.(pg.ownerUri);

    const batches = await sqlAt<{ kind: string; n: number; len: number }>(
      pg.adminUri,
      `SELECT kind, n, cardinality(record_ids) AS len FROM hub.rollup_feed_batches ORDER BY kind, first_at`,
    );
    expect(batches.map((b) => [b.kind, b.n])).toEqual([
      ['d', 7],
      ['o', 5000],
      ['o', 5000],
      ['o', 2000],
    ]);
    for (const b of batches) expect(b.len).toBe(b.n);
    // Each row's span of created_at (migration 19), which reads skip rows by.
    const [spans] = await sqlAt<{ ok: boolean }>(
      pg.adminUri,
      `SELECT bool_and(first_at = (SELECT min(x) FROM unnest(created_ats) AS u(x))
         AND last_at = (SELECT max(x) FROM unnest(created_ats) AS u(x))) AS ok FROM hub.rollup_feed_batches`,
    );
    expect(spans?.ok).toBe(true);
    expect(await feedRows()).toEqual(before);
    const [old] = await sqlAt<{ n: number; readable: boolean }>(
      pg.adminUri,
      `SELECT (SELECT count(*)::int FROM hub.rollup_feed_row) AS n,
         has_table_privilege($1, 'hub.rollup_feed_row', 'SELECT') AS readable`,
      [pg.appRole],
    );
    expect(old).toEqual({ n: 0, readable: false });

    store = (await openStore(pg.appUri)) as HubStore & MaintenanceSource;
    let folded = 0;
    for (let n = await store.maintain(20_000); n > 0; n = await store.maintain(20_000)) folded += n;
    expect(folded).toBe(12_007);
    expect(await feedRows()).toEqual([]);
    const [cells] = await sqlAt<{ n: number; failed: number }>(
      pg.adminUri,
      `SELECT sum(invocations)::int AS n, sum(failed)::int AS failed FROM hub.rollup_cells
       WHERE tenant_id = $1 AND grain = 'm' AND employee_id = ''`,
      [t],
    );
    expect(cells).toEqual({ n: 12_000, failed: Math.floor(12_000 / 7) });
  }, 300_000);
});
