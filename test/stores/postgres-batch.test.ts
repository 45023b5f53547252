/**
 * List micro-batching in the PostgreSQL store (postgres-batch.ts), on a real
 * server through the application role: lists started together return exactly
 * what each returns alone, share one transaction, never mix tenants, and a bad
 * list fails alone.
 */
import { HubError } from '../../src/hub/errors';
import type { HubRecord } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { generateDataset } from '../../src/seed/generator';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import type { Row, Scope, Statement } from '../../src/stores/postgres/queryable';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const a = parseTenantId('batch-a');
const b = parseTenantId('batch-b');
let pg: PgTestDatabase;
let store: HubStore;
/** Transactions the store ran, with their statement counts (the real database underneath). */
const runs: number[] = [];
const outputs = new Map<string, HubRecord[]>();

beforeAll(async () => {
  pg = await createTestDatabase();
  const uri = parsePostgresUri(pg.appUri);
  const db = new PgDatabase(uri, undefined);
  const counted = {
    run: (scope: Scope, statements: readonly Statement[]): Promise<Row[][]> => {
      runs.push(statements.length);
      return db.run(scope, statements);
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
  store = createPostgresStore(counted as never, {});
  for (const [tenant, seed] of [
    [a, 1],
    [b, 2],
  ] as const) {
    const data = generateDataset({ seed, days: 10, outputsPerDay: 12, artifacts: false });
    const outs = sealBatch(tenant, 'outputs', data.outputs);
    await store.putBatch(tenant, outs);
    await store.putBatch(tenant, sealBatch(tenant, 'decisions', data.decisions));
    await store.putBatch(tenant, sealBatch(tenant, 'employee_profiles', data.employee_profiles));
    outputs.set(tenant, outs);
  }
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pg?.drop();
});

const decisionsOf = (tenant: typeof a, outputId: string, limit = 3) =>
  store.list(tenant, { type: 'decisions', filter: { outputId }, limit });

test('nested lists started together equal the same lists run one by one, in one transaction', async () => {
  const ids = (outputs.get(a) ?? []).slice(0, 40).map((o) => o.record_id);
  const alone: HubRecord[][] = [];
  for (const id of ids) alone.push(await decisionsOf(a, id));
  expect(alone.some((r) => r.length > 0)).toBe(true);
  runs.length = 0;
  const together = await Promise.all(ids.map((id) => decisionsOf(a, id)));
  expect(together).toEqual(alone);
  // One transaction holding one lateral statement for all 40 pages.
  expect(runs).toEqual([1]);
});

test('a repeated value and different kinds of list in the same tick each get their own rows', async () => {
  const [o1, o2] = outputs.get(a) ?? [];
  const expected = [
    await decisionsOf(a, o1!.record_id),
    await decisionsOf(a, o2!.record_id),
    await decisionsOf(a, o1!.record_id),
    await store.list(a, { type: 'outputs', filter: { skillIds: ['skill.00'] }, limit: 5 }),
    await store.list(a, { type: 'employee_profiles', filter: { employeeId: 'emp-000-001' }, limit: 50 }),
    await decisionsOf(a, o1!.record_id, 1),
  ];
  runs.length = 0;
  const got = await Promise.all([
    decisionsOf(a, o1!.record_id),
    decisionsOf(a, o2!.record_id),
    decisionsOf(a, o1!.record_id),
    store.list(a, { type: 'outputs', filter: { skillIds: ['skill.00'] }, limit: 5 }),
    store.list(a, { type: 'employee_profiles', filter: { employeeId: 'emp-000-001' }, limit: 50 }),
    decisionsOf(a, o1!.record_id, 1),
  ]);
  expect(got).toEqual(expected);
  expect(got[5]).toHaveLength(Math.min(1, expected[0]!.length));
  // Lateral for the three limit-3 decision pages, plus three plain statements, in one transaction.
  expect(runs).toEqual([4]);
});

test('lists of two tenants in the same tick never see each other', async () => {
  const idsA = (outputs.get(a) ?? []).slice(0, 10).map((o) => o.record_id);
  const idsB = (outputs.get(b) ?? []).slice(0, 10).map((o) => o.record_id);
  const [ownA, ownB, crossA, crossB] = await Promise.all([
    Promise.all(idsA.map((id) => decisionsOf(a, id))),
    Promise.all(idsB.map((id) => decisionsOf(b, id))),
    // Tenant A asking for B's outputs' decisions (and the reverse) gets nothing.
    Promise.all(idsB.map((id) => decisionsOf(a, id))),
    Promise.all(idsA.map((id) => decisionsOf(b, id))),
  ]);
  expect(ownA.flat().every((r) => r.tenant_id === a)).toBe(true);
  expect(ownB.flat().every((r) => r.tenant_id === b)).toBe(true);
  expect(ownA.flat().length + ownB.flat().length).toBeGreaterThan(0);
  expect(crossA.flat()).toEqual([]);
  expect(crossB.flat()).toEqual([]);
});

// Filters are validated by the Hub; an id the database cannot cast reaches the store only from a
// caller that skipped it, and still fails alone.
test('a list the database refuses (an id that is not a UUID) fails alone; the others in its tick succeed', async () => {
  const [o1] = outputs.get(a) ?? [];
  const results = await Promise.allSettled([
    decisionsOf(a, o1!.record_id),
    store.list(a, { type: 'decisions', filter: { outputId: 'not-a-uuid' }, limit: 3 }),
    decisionsOf(a, o1!.record_id),
  ]);
  expect(results[0]?.status).toBe('fulfilled');
  expect(results[2]?.status).toBe('fulfilled');
  expect(results[1]?.status).toBe('rejected');
  expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(HubError);
});

test('a list the database fails rejects only its own caller, in a lateral group or alone', async () => {
  const [o1, o2] = outputs.get(a) ?? [];
  const profile = (employeeId: string) =>
    store.list(a, { type: 'employee_profiles', filter: { employeeId }, limit: 50 });
  const expected = [
    await decisionsOf(a, o1!.record_id),
    await profile('emp-000-001'),
    await decisionsOf(a, o2!.record_id),
    await profile('emp-000-002'),
  ];
  expect(expected[1]!.length).toBeGreaterThan(0);
  // A NUL byte passes the store's own checks but PostgreSQL refuses it in text (22021):
  // a failure only the database finds, batched with lists that are fine.
  const results = await Promise.allSettled([
    decisionsOf(a, o1!.record_id),
    profile('emp-000-001'),
    profile('emp\u0000bad'),
    decisionsOf(a, o2!.record_id),
    profile('emp-000-002'),
    store.list(a, { type: 'outputs', filter: { employeeId: 'emp\u0000bad', status: 'SUCCEEDED' }, limit: 5 }),
  ]);
  expect(results.map((r) => r.status)).toEqual([
    'fulfilled',
    'fulfilled',
    'rejected',
    'fulfilled',
    'fulfilled',
    'rejected',
  ]);
  const values = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  expect(values).toEqual(expected);
  for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(HubError);
});

test('a lost connection fails every list of the batch at once (nobody is re-run alone)', async () => {
  // Not a list's own fault: splitting would only repeat it per caller.
  let attempts = 0;
  const dead = createPostgresStore(
    {
      run: () => {
        attempts += 1;
        return Promise.reject(new Error('Connection terminated unexpectedly'));
      },
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    } as never,
    {},
  );
  const [o1, o2] = outputs.get(a) ?? [];
  const results = await Promise.allSettled([
    dead.list(a, { type: 'decisions', filter: { outputId: o1!.record_id }, limit: 3 }),
    dead.list(a, { type: 'decisions', filter: { outputId: o2!.record_id }, limit: 3 }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(results.map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([
    'UNAVAILABLE',
    'UNAVAILABLE',
  ]);
  // The batch, then the store's one retry after a lost connection (batched again): no split.
  expect(attempts).toBe(2);
});
