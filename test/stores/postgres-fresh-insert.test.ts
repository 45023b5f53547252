/**
 * putBatch's all-new insert is a plain INSERT (no ON CONFLICT): a record
 * already stored, or stored meanwhile by a concurrent writer, fails it with
 * unique_violation, and the per-record insert writes the batch instead. On a
 * server and on PGlite, staged (COPY) and as array parameters, with the
 * outbox on: every record lands once, with exactly one change-feed row and
 * one outbox row, whichever statement of the transaction met the stored one.
 */
import { randomUUID } from 'node:crypto';
import type { HubRecord } from '../../src/hub/model';
import type { HubStore, OutboxSource, RecordCounter } from '../../src/hub/store';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import type { TenantDatabase } from '../../src/stores/postgres/queryable';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

type Store = HubStore & OutboxSource & RecordCounter;

let next = 0;
const tenant = (): TenantId => parseTenantId(`fresh-${++next}`);

const outputs = (t: TenantId, n: number): HubRecord[] =>
  sealBatch(
    t,
    'outputs',
    Array.from({ length: n }, (_, i) => ({
      record_id: randomUUID(),
      skill_id: `s${i % 3}`,
      employee_id: `e${i % 2}`,
      status: 'SUCCEEDED',
      cost_usd: '0.5',
      latency_ms: 10 + i,
    })),
  );

describe.each([
  [
    'server',
    async (): Promise<{ db: TenantDatabase; cleanup: () => Promise<void> }> => {
      const pg: PgTestDatabase = await createTestDatabase();
      const db = new PgDatabase(parsePostgresUri(`${pg.appUri}?max=2`), undefined);
      return { db, cleanup: () => pg.drop() };
    },
  ],
  [
    'PGlite',
    async (): Promise<{ db: TenantDatabase; cleanup: () => Promise<void> }> => ({
      db: await PgliteDatabase.open(undefined, 'hub_app'),
      cleanup: async () => undefined,
    }),
  ],
])('putBatch all-new insert (%s)', (_name, open) => {
  let db: TenantDatabase;
  let cleanup: () => Promise<void>;
  const stores: Record<'staged' | 'arrays', Store> = {} as Record<'staged' | 'arrays', Store>;

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    // Chunks of 4 rows: a batch of 10 is three statements in one transaction.
    stores.staged = createPostgresStore(db, { stageRows: 1, outbox: true, chunkSize: 4 }) as unknown as Store;
    stores.arrays = createPostgresStore(db, { stageRows: 0, outbox: true, chunkSize: 4 }) as unknown as Store;
  }, 120_000);

  afterAll(async () => {
    // Both stores share the one database: closing one closes it.
    await stores.staged?.close();
    await cleanup?.();
  });

  const feedRows = async (t: TenantId): Promise<number> => {
    const [rows = []] = await db.run({ tenant: t }, [
      { sql: 'SELECT count(*)::int AS n FROM hub.rollup_feed', params: [] },
    ]);
    return Number(rows[0]?.n);
  };
  const drained = async (store: Store): Promise<string[]> => {
    const ids: string[] = [];
    while (
      (await store.drainOutbox(100, async (e) => void ids.push(...e.map((x) => x.record.record_id)))) > 0
    );
    return ids;
  };

  describe.each(['staged', 'arrays'] as const)('%s', (path) => {
    test('a stored record in the last chunk: earlier chunks are undone, each record lands once, one feed and outbox row each', async () => {
      const store = stores[path];
      const t = tenant();
      await drained(store);
      const records = outputs(t, 10);
      expect(await store.putBatch(t, [records[8] as HubRecord])).toEqual([{ status: 'created' }]);
      expect(await store.putBatch(t, records)).toEqual(
        records.map((_, i) => ({ status: i === 8 ? 'duplicate' : 'created' })),
      );
      expect(await store.countRecords(t, 'outputs')).toBe(10);
      expect(await feedRows(t)).toBe(10);
      expect((await drained(store)).sort()).toEqual(records.map((r) => r.record_id).sort());
      expect(await store.getByIds(t, 'outputs', [records[0]?.record_id as string])).toEqual([records[0]]);
    });

    test('overlapping batches written at once: the shared records are created by one and duplicates for the other', async () => {
      const store = stores[path];
      const t = tenant();
      await drained(store);
      const records = outputs(t, 9);
      const [a, b] = await Promise.all([
        store.putBatch(t, records.slice(0, 6)),
        store.putBatch(t, records.slice(3)),
      ]);
      // r0-r2 only in a, r6-r8 only in b; r3-r5 created by exactly one of them.
      expect(a.slice(0, 3).map((o) => o.status)).toEqual(['created', 'created', 'created']);
      expect(b.slice(3).map((o) => o.status)).toEqual(['created', 'created', 'created']);
      for (let i = 0; i < 3; i++) {
        expect([a[3 + i]?.status, b[i]?.status].sort()).toEqual(['created', 'duplicate']);
      }
      expect(await store.countRecords(t, 'outputs')).toBe(9);
      expect(await feedRows(t)).toBe(9);
      expect((await drained(store)).sort()).toEqual(records.map((r) => r.record_id).sort());
    });
  });
});
