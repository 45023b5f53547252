/**
 * The pre-aggregation consumer's claim (hub.rollup_claim, migration 14): it
 * takes the oldest feed rows in the order of the feed's index, skips rows
 * another transaction holds (FOR UPDATE SKIP LOCKED: replicas never fold a row
 * twice nor wait for each other), and folds the skipped rows once they are
 * released. The rest of the consumer: postgres-preagg.test.ts.
 */
import { Client } from 'pg';
import { Hub } from '../../src/hub/hub';
import type { HubStore, MaintenanceSource } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { type PgTestDatabase, createTestDatabase, sqlAt } from '../support/pg-harness';

type Store = HubStore & MaintenanceSource;

describe('postgres pre-aggregation consumer: the claim', () => {
  let pg: PgTestDatabase;
  let store: Store;

  beforeAll(async () => {
    pg = await createTestDatabase();
    store = createPostgresStore(new PgDatabase(parsePostgresUri(pg.appUri), undefined), {
      rollupConsumer: false,
    });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  }, 120_000);

  /** The feed's rows as `kind|created_at|record_id`, in the claim's order (tenant, kind, created_at). */
  const feed = async (): Promise<{ key: string; id: string }[]> =>
    (
      await sqlAt(
        pg.adminUri,
        `SELECT kind, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at, record_id
         FROM hub.rollup_feed ORDER BY tenant_id, kind, created_at, record_id`,
      )
    ).map((r) => ({ key: `${String(r.kind)}|${String(r.at)}`, id: String(r.record_id) }));

  test('a claim skips rows another transaction holds, takes the oldest others first, and the held rows are folded once released', async () => {
    const t = parseTenantId('preagg-claim');
    const data = generateDataset({ seed: 5, days: 4, outputsPerDay: 25, managers: 1, teamSize: 3 });
    const hub = new Hub(store);
    for (const type of ['employee_profiles', 'decisions', 'governance_events', 'outputs'] as const) {
      await hub.record(t, type, data[type]);
    }
    const all = await feed();
    expect(all.length).toBeGreaterThan(data.outputs.length);

    // Another consumer holds the ten oldest rows.
    const other = new Client({ connectionString: pg.adminUri });
    await other.connect();
    try {
      await other.query('BEGIN');
      const held = await other.query<{ record_id: string }>(
        'SELECT record_id FROM hub.rollup_feed ORDER BY tenant_id, kind, created_at, record_id LIMIT 10 FOR UPDATE',
      );
      const heldIds = new Set(held.rows.map((r) => r.record_id));
      expect(heldIds.size).toBe(10);

      // The claim does not wait for them: it takes the next oldest.
      expect(await store.maintain(25)).toBe(25);
      const left = await feed();
      const leftIds = new Set(left.map((r) => r.id));
      const taken = all.filter((r) => !leftIds.has(r.id));
      expect(taken).toHaveLength(25);
      expect(taken.some((r) => heldIds.has(r.id))).toBe(false);
      for (const id of heldIds) expect(leftIds.has(id)).toBe(true);
      // Nothing left unheld sorts before a row taken.
      const lastTaken = taken
        .map((r) => r.key)
        .sort()
        .pop() as string;
      for (const r of left) if (!heldIds.has(r.id)) expect(r.key >= lastTaken).toBe(true);
    } finally {
      await other.query('COMMIT');
      await other.end();
    }

    // Released, they are folded with the rest: every record once.
    while ((await store.maintain(1_000)) > 0) {
      /* drain */
    }
    expect(await feed()).toEqual([]);
    const [cells] = await sqlAt(
      pg.adminUri,
      `SELECT sum(invocations)::int AS n FROM hub.rollup_cells WHERE tenant_id = $1 AND grain = 'd' AND employee_id = ''`,
      [t],
    );
    expect(Number(cells?.n)).toBe(data.outputs.length);
    const [decisions] = await sqlAt(
      pg.adminUri,
      `SELECT sum(total)::int AS n FROM hub.rollup_decision_cells WHERE tenant_id = $1 AND grain = 'd'`,
      [t],
    );
    expect(Number(decisions?.n)).toBe(data.decisions.length);
  }, 300_000);
});
