/**
 * putBatch through COPY into a staging table (postgres-stage-sql.ts), on a
 * server and on PGlite, with every chunk staged (`stageRows: 1`) and the
 * outbox on: values COPY's text format must escape round-trip, a re-put is
 * all duplicates, a changed record is a conflict (and a copy names it), a
 * batch with a bad record or a COPY the server refuses writes nothing (and
 * the connection serves the next batch), and a batch for another tenant is
 * refused by the store and, sent as raw statements, by row-level security.
 */
import { randomUUID } from 'node:crypto';
import type { HubRecord } from '../../src/hub/model';
import type { HubStore, OutboxSource, RecordCounter } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch, sealRecord } from '../../src/hub/validate';
import { copyTenant } from '../../src/migrate/copy';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { stagedStatements } from '../../src/stores/postgres/postgres-stage-sql';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import type { TenantDatabase } from '../../src/stores/postgres/queryable';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const A = parseTenantId('staged-a');
const B = parseTenantId('staged-b');
let next = 0;
const tenant = (): ReturnType<typeof parseTenantId> => parseTenantId(`staged-${++next}`);

/** Outputs whose text and JSON hold every character COPY's text format escapes. */
const outputs = (t: ReturnType<typeof parseTenantId>, n: number): HubRecord[] =>
  sealBatch(
    t,
    'outputs',
    Array.from({ length: n }, (_, i) => ({
      record_id: randomUUID(),
      skill_id: `s${i % 3}`,
      employee_id: 'e',
      status: 'SUCCEEDED',
      model: `tab\there, newline\nthere, CR\r, backslash \\ and "quotes" \\N ${i}`,
      cost_usd: '1.25',
      attributes: { note: 'a\tb\nc\\d"e\r\\N', i, nested: { empty: '', list: ['\\', '\t'] } },
      content: 'x\\y',
    })),
  );

type Store = HubStore & OutboxSource & RecordCounter;

describe.each([
  [
    'server',
    async (): Promise<{ db: TenantDatabase; cleanup: () => Promise<void> }> => {
      const pg: PgTestDatabase = await createTestDatabase();
      // One connection: every transaction runs on the same session, whose staging tables persist.
      const db = new PgDatabase(parsePostgresUri(`${pg.appUri}?max=1`), undefined);
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
])('putBatch through COPY staging (%s)', (_name, open) => {
  let db: TenantDatabase;
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    store = createPostgresStore(db, { stageRows: 1, outbox: true, chunkSize: 4 }) as unknown as Store;
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  const stagingTable = async (t: string): Promise<unknown> => {
    const [rows = []] = await db.run({ tenant: t }, [
      { sql: "SELECT to_regclass('pg_temp.hub_stage_outputs')::text AS t", params: [] },
    ]);
    return rows[0]?.t;
  };
  const drainAll = async (): Promise<string[]> => {
    const ids: string[] = [];
    while (
      (await store.drainOutbox(100, async (e) => void ids.push(...e.map((x) => x.record.record_id)))) > 0
    );
    return ids;
  };

  test('created through the staging table, escaped values round-trip, outbox rows written; a re-put is all duplicates', async () => {
    const t = tenant();
    await drainAll();
    // 10 rows in chunks of 4: three COPYs into the same staging table in one transaction.
    const records = outputs(t, 10);
    expect((await store.putBatch(t, records)).map((o) => o.status)).toEqual(records.map(() => 'created'));
    expect(await stagingTable(t)).toEqual(expect.stringContaining('hub_stage_outputs'));
    const read = await store.getByIds(
      t,
      'outputs',
      records.map((r) => r.record_id),
    );
    expect(read).toEqual(records);
    expect((await drainAll()).sort()).toEqual(records.map((r) => r.record_id).sort());
    // Again: the all-new attempt fails, the per-record statement answers duplicates; nothing new in the outbox.
    expect((await store.putBatch(t, records)).map((o) => o.status)).toEqual(records.map(() => 'duplicate'));
    expect(await drainAll()).toEqual([]);
    expect(await store.countRecords(t, 'outputs')).toBe(10);
  });

  test('a changed record under a stored id is a conflict naming the stored hash; the others land', async () => {
    const t = tenant();
    const records = outputs(t, 6);
    await store.putBatch(t, records.slice(0, 3));
    const original = records[1] as HubRecord;
    const changed = sealRecord(t, 'outputs', {
      record_id: original.record_id,
      skill_id: 'other',
      employee_id: 'e',
      status: 'FAILED',
    });
    const batch = [records[0], changed, records[2], records[3], records[4], records[5]] as HubRecord[];
    expect(await store.putBatch(t, batch)).toEqual([
      { status: 'duplicate' },
      { status: 'conflict', existingHash: original.provenance_hash },
      { status: 'duplicate' },
      { status: 'created' },
      { status: 'created' },
      { status: 'created' },
    ]);
    expect(await store.getByIds(t, 'outputs', [original.record_id])).toEqual([original]);
  });

  test('a copy into a target holding a record with other content fails naming that record', async () => {
    const t = tenant();
    const source = createMemoryStore();
    const records = outputs(t, 5);
    await source.putBatch(t, records);
    const clash = records[3] as HubRecord;
    await store.putBatch(t, [
      sealRecord(t, 'outputs', {
        record_id: clash.record_id,
        skill_id: 'x',
        employee_id: 'e',
        status: 'FAILED',
      }),
    ]);
    await expect(copyTenant(source, store, t)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`outputs/${clash.record_id}`),
    });
    await source.close();
  });

  test('a batch with an invalid record is refused naming it and its field, and nothing is written', async () => {
    const t = tenant();
    const records = outputs(t, 8);
    const bad = { ...(records[5] as HubRecord), skill_id: 'not an id' } as HubRecord;
    const batch = records.map((r, i) => (i === 5 ? bad : r));
    await expect(store.putBatch(t, batch)).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/\[5\].*skill_id/),
    });
    expect(await store.countRecords(t, 'outputs')).toBe(0);
  });

  test('a COPY the database refuses rolls back the whole transaction, and the session serves the next batch', async () => {
    const t = tenant();
    const records = outputs(t, 6);
    const good = stagedStatements(t, 'outputs', records.slice(0, 3), {
      outbox: false,
      fresh: true,
      offset: 0,
    });
    const [copy, insert] = stagedStatements(t, 'outputs', records.slice(3), {
      outbox: false,
      fresh: true,
      offset: 3,
    });
    // The second chunk's COPY carries a row whose uuid is not one: the server refuses it mid-transaction.
    const broken = { ...copy!, copyIn: copy!.copyIn!.replace(records[4]!.record_id, 'not-a-uuid') };
    await expect(db.run({ tenant: t }, [...good, broken, insert!])).rejects.toMatchObject({ code: '22P02' });
    expect(await store.countRecords(t, 'outputs')).toBe(0);
    expect((await store.putBatch(t, records)).map((o) => o.status)).toEqual(records.map(() => 'created'));
  });

  test('cross-tenant: a batch sealed for B is refused for A, and staged rows for B under A are refused by RLS', async () => {
    const forB = outputs(B, 4);
    await expect(store.putBatch(A, forB)).rejects.toMatchObject({ code: 'VALIDATION' });
    // As SQL injection or a forged call would: A's scope and ticket, B's tenant id in the insert.
    await expect(
      db.run({ tenant: A }, stagedStatements(B, 'outputs', forB, { outbox: false, fresh: true, offset: 0 })),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await store.countRecords(A, 'outputs')).toBe(0);
    expect(await store.countRecords(B, 'outputs')).toBe(0);
  });
});
