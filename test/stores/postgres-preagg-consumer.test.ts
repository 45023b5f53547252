/**
 * The pre-aggregation consumer's claim (hub.rollup_claim, migration 14): it
 * takes the oldest feed rows in the order of the feed's index, skips rows
 * another transaction holds (FOR UPDATE SKIP LOCKED: replicas never fold a row
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
