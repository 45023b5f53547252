/**
 * The pre-aggregation consumer's claim (hub.rollup_claim, migrations 14 and
 * 18): it takes the oldest feed rows (one per statement since migration 18,
 * whole) in the order of the feed's index, skips rows another transaction holds (FOR UPDATE SKIP LOCKED: replicas never fold a row
 * twice nor wait for each other), and folds the skipped rows once they are
 * released. The background consumer's batches: a batch the statement
 * timeout cancels is folded again smaller, and the size grows back once the
 * consumer catches up. The rest of the consumer: postgres-preagg-fold.test.ts
 * (concurrent consumers) and postgres-preagg-schedule.test.ts (its schedule).
 */
import { Client } from 'pg';
import { Hub } from '../../src/hub/hub';
import type { HubStore, MaintenanceSource } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { DEFAULT_FOLD_BATCH, RollupConsumer } from '../../src/stores/postgres/postgres-preagg-consumer';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import type { TenantDatabase } from '../../src/stores/postgres/queryable';
import { type PgTestDatabase, createTestDatabase, sqlAt } from '../support/pg-harness';

type Store = HubStore & MaintenanceSource;

describe('postgres pre-aggregation consumer', () => {
  let pg: PgTestDatabase;
  let store: Store;
  let db: PgDatabase;

  beforeAll(async () => {
    pg = await createTestDatabase();
    db = new PgDatabase(parsePostgresUri(pg.appUri), undefined);
    store = createPostgresStore(db, { rollupConsumer: false });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  }, 120_000);

  /** The feed's rows (one per statement) as their earliest created_at and record ids, in the claim's order. */
  const feed = async (): Promise<{ key: string; ids: string[] }[]> =>
    (
      await sqlAt(
        pg.adminUri,
        `SELECT to_char(first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at, record_ids::text[] AS ids
         FROM hub.rollup_feed_batches ORDER BY tenant_id, kind, first_at`,
      )
    ).map((r) => ({ key: String(r.at), ids: r.ids as string[] }));

  test('a claim takes whole feed rows, skips rows another transaction holds, takes the oldest others first, and the held rows are folded once released', async () => {
    const t = parseTenantId('preagg-claim');
    const data = generateDataset({ seed: 5, days: 4, outputsPerDay: 25, managers: 1, teamSize: 3 });
    const hub = new Hub(store);
    await hub.record(t, 'employee_profiles', data.employee_profiles);
    // Statements of 5 outputs: 16 feed rows of 5 records each, in time order.
    const outputs = data.outputs.slice(0, 80);
    expect(outputs).toHaveLength(80);
    for (let i = 0; i < 80; i += 5) await hub.record(t, 'outputs', outputs.slice(i, i + 5));
    const all = await feed();
    expect(all.map((r) => r.ids.length)).toEqual(Array.from({ length: 16 }, () => 5));
    // The view reads a row per record.
    const [viewed] = await sqlAt(
      pg.adminUri,
      'SELECT count(DISTINCT record_id)::int AS n FROM hub.rollup_feed',
    );
    expect(Number(viewed?.n)).toBe(80);

    // Another consumer holds the two oldest feed rows (ten records).
    const other = new Client({ connectionString: pg.adminUri });
    await other.connect();
    try {
      await other.query('BEGIN');
      const held = await other.query<{ ids: string[] }>(
        'SELECT record_ids::text[] AS ids FROM hub.rollup_feed_batches ORDER BY tenant_id, kind, first_at LIMIT 2 FOR UPDATE',
      );
      const heldIds = new Set(held.rows.flatMap((r) => r.ids));
      expect(heldIds.size).toBe(10);

      // The claim does not wait for them: it takes the next oldest whole rows
      // until it holds the 23 asked for or more (five rows of five).
      expect(await store.maintain(23)).toBe(25);
      const left = await feed();
      const leftKeys = new Set(left.map((r) => r.key));
      const taken = all.filter((r) => !leftKeys.has(r.key));
      expect(taken.map((r) => r.key)).toEqual(all.slice(2, 7).map((r) => r.key));
      for (const id of heldIds) expect(left.some((r) => r.ids.includes(id))).toBe(true);
      // Asked for fewer than a row holds, a claim still takes one whole row.
      expect(await store.maintain(1)).toBe(5);
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
    expect(Number(cells?.n)).toBe(outputs.length);
  }, 300_000);

  test('a fold the statement timeout cancels is folded again a quarter the size, and the size grows back once caught up', async () => {
    const t = parseTenantId('preagg-smaller');
    while ((await store.maintain(100_000)) > 0) {
      /* only this test's rows in the feed */
    }
    const data = generateDataset({ seed: 6, days: 6, outputsPerDay: 40, managers: 1, teamSize: 3 });
    const hub = new Hub(store);
    for (const type of ['employee_profiles', 'decisions', 'governance_events', 'outputs'] as const) {
      await hub.record(t, type, data[type]);
    }
    const [before] = await sqlAt(pg.adminUri, 'SELECT count(*)::int AS n FROM hub.rollup_feed');
    const rows = Number(before?.n);
    expect(rows).toBeGreaterThan(250);

    // The server cancels every fold asked for more than 250 rows (as a
    // statement timeout on a very loaded server would).
    let failing = true;
    const asked: number[] = [];
    const timingOut: TenantDatabase = {
      run: async (scope, statements, options) => {
        const fold = statements.find((s) => s.sql.includes('hub.rollup_fold('));
        if (fold) {
          asked.push(Number(fold.params?.[0]));
          if (failing && Number(fold.params?.[0]) > 250) {
            throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
          }
        }
        return db.run(scope, statements, options);
      },
      ping: () => db.ping(),
      purgeTicket: (tenant) => db.purgeTicket(tenant),
      close: async () => undefined,
    };
    const events: [string, Record<string, unknown> | undefined][] = [];
    const consumer = new RollupConsumer(timingOut, {
      schedule: () => () => undefined,
      log: (event, fields) => events.push([event, fields]),
    });
    // 20,000 -> 5,000 -> 1,250 -> 312 time out; batches of 100 (the least) fold the feed.
    expect(await consumer.tick()).toBe(rows);
    expect(asked.slice(0, 5)).toEqual([DEFAULT_FOLD_BATCH, 5_000, 1_250, 312, 100]);
    expect(events.filter(([e]) => e === 'postgres.rollup_fold_smaller').map(([, f]) => f)).toEqual([
      { from: 20_000, to: 5_000 },
      { from: 5_000, to: 1_250 },
      { from: 1_250, to: 312 },
      { from: 312, to: 100 },
    ]);
    const [after] = await sqlAt(pg.adminUri, 'SELECT count(*)::int AS n FROM hub.rollup_feed');
    expect(Number(after?.n)).toBe(0);
    const [cells] = await sqlAt(
      pg.adminUri,
      `SELECT sum(invocations)::int AS n FROM hub.rollup_cells WHERE tenant_id = $1 AND grain = 'h' AND employee_id = ''`,
      [t],
    );
    expect(Number(cells?.n)).toBe(data.outputs.length);

    // Caught up, each tick doubles the batch again, up to the configured size.
    failing = false;
    asked.length = 0;
    for (let i = 0; i < 10; i++) await consumer.tick();
    expect(asked).toEqual([200, 400, 800, 1_600, 3_200, 6_400, 12_800, 20_000, 20_000, 20_000]);
    await consumer.stop();
  }, 300_000);
});
