/**
 * Lookups by id and list pages run with generic plans on the PostgreSQL
 * server: the prepared statement is planned once per connection instead of
 * on every call (RunOptions.genericPlans, URI option generic_lookups). The
 * setting is local to the transaction, a plan reused across tenants still
 * reads only the scoped tenant's rows, and a page written for a generic plan
 * holds the rows it held before.
 */
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import type { HubStore, ListQuery } from '../../src/hub/store';
import { NOOP_SPAN } from '../../src/platform/tracing';
import { getByIdsStatement, listStatement } from '../../src/stores/postgres/postgres-sql';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { statementName } from '../../src/stores/postgres/queryable';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

let pg: PgTestDatabase;
const [a, b] = [parseTenantId('lk-a'), parseTenantId('lk-b')];
const ids = new Map<string, string[]>();
const open: PgDatabase[] = [];

beforeAll(async () => {
  pg = await createTestDatabase();
  const store = await openStore(`${pg.appUri}?max=1`);
  try {
    for (const t of [a, b]) {
      const records = sealBatch(
        t,
        'outputs',
        Array.from({ length: 4 }, (_, k) => ({ skill_id: 's', employee_id: `e${k}`, status: 'SUCCEEDED' })),
      );
      await store.putBatch(t, records);
      ids.set(
        t,
        records.map((r) => r.record_id),
      );
    }
    // Pages: 70 outputs of skill p for a (several minutes apart, some sharing
    // a minute so record_id breaks ties), 10 for b.
    for (const [t, n] of [
      [a, 70],
      [b, 10],
    ] as const) {
      const at = (k: number) => new Date(Date.UTC(2026, 0, 1) + Math.floor(k / 2) * 60_000).toISOString();
      const inputs = Array.from({ length: n }, (_, k) => ({
        created_at: at(k),
        skill_id: 'p',
        employee_id: 'e',
        status: 'SUCCEEDED',
      }));
      await store.putBatch(t, sealBatch(t, 'outputs', inputs));
    }
  } finally {
    await store.close();
  }
}, 60_000);

afterAll(async () => {
  for (const db of open) await db.close();
  await pg?.drop();
});

/** A database on ONE connection, so that queryUnscoped sees the lookups' prepared statements. */
function oneConnection(options = ''): PgDatabase {
  const db = new PgDatabase(parsePostgresUri(`${pg.appUri}?max=1${options}`), undefined);
  open.push(db);
  return db;
}

const lookup = (db: PgDatabase, tenant: typeof a, id: string) =>
  db.run({ tenant }, [getByIdsStatement(tenant, 'outputs', [id])], { light: true, genericPlans: true });

/** Generic and custom plans made so far for the by-id statement on the database's connection. */
async function plans(db: PgDatabase): Promise<{ generic: number; custom: number }> {
  const name = statementName(getByIdsStatement(a, 'outputs', ['00000000-0000-0000-0000-000000000000']).sql);
  const rows = await db.queryUnscoped(
    `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = '${name}'`,
  );
  expect(rows).toHaveLength(1);
  return rows[0] as { generic: number; custom: number };
}

test('a lookup is planned once (generic) and the plan, shared by tenants, reads only the scoped one', async () => {
  const db = oneConnection();
  for (let round = 0; round < 4; round++) {
    for (const [own, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const mine = ids.get(own)?.[round] as string;
      const theirs = ids.get(other)?.[round] as string;
      const [found] = await lookup(db, own, mine);
      expect(found?.map((r) => r.record_id)).toEqual([mine]);
      // Another tenant's id, through the same cached plan: nothing.
      expect(await lookup(db, own, theirs)).toEqual([[]]);
    }
  }
  expect(await plans(db)).toEqual({ generic: 16, custom: 0 });
});

test('the generic setting stays in the lookup transaction', async () => {
  const db = oneConnection();
  const mode = { sql: "SELECT current_setting('plan_cache_mode') AS m", params: [] };
  const withLookup = await db.run({ tenant: a }, [mode], { light: true, genericPlans: true });
  expect(withLookup[0]?.[0]?.m).toBe('force_generic_plan');
  // The next transactions on the same (only) connection plan as the server decides.
  expect((await db.run({ tenant: a }, [mode], { light: true }))[0]?.[0]?.m).toBe('auto');
  expect((await db.queryUnscoped("SELECT current_setting('plan_cache_mode') AS m"))[0]?.m).toBe('auto');
});

test('generic_lookups=false leaves the plan choice to the server', async () => {
  const db = oneConnection('&generic_lookups=false');
  for (const id of ids.get(a) ?? []) expect((await lookup(db, a, id))[0]).toHaveLength(1);
  // PostgreSQL makes custom plans for the first five executions at least.
  expect((await plans(db)).custom).toBe(4);
});

const page = (limit: number, after?: ListQuery['after']): ListQuery => ({
  type: 'outputs',
  filter: { skillIds: ['p'] },
  limit,
  ...(after ? { after } : {}),
});

// A sampled request lists through the store's traced view, which has a list batcher of its own.
test.each([
  ['the store', (store: HubStore): HubStore => store],
  ['its traced view', (store: HubStore): HubStore => store.traced?.(NOOP_SPAN) ?? store],
])(
  'a list page is planned once (generic) through %s; the plan, shared by tenants, reads only the scoped one',
  async (_name, view) => {
    const db = oneConnection();
    const base = createPostgresStore(db, { genericPlans: true, rollupConsumer: false });
    expect(base.traced).toBeDefined();
    const store = view(base);
    for (let round = 0; round < 4; round++) {
      const mine = await store.list(a, page(51));
      expect(mine).toHaveLength(51);
      expect(mine.every((r) => r.tenant_id === a)).toBe(true);
      const theirs = await store.list(b, page(51));
      expect(theirs).toHaveLength(10);
      expect(theirs.every((r) => r.tenant_id === b)).toBe(true);
    }
    const name = statementName(listStatement(a, page(51), undefined, true).sql);
    const rows = await db.queryUnscoped(
      `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = '${name}'`,
    );
    expect(rows).toEqual([{ generic: 8, custom: 0 }]);
  },
);

test('a page written for a generic plan holds the rows of the page as written before', async () => {
  const db = oneConnection();
  const rows = async (q: ListQuery, generic: boolean) =>
    (
      await db.run({ tenant: a }, [listStatement(a, q, undefined, generic)], {
        light: true,
        genericPlans: generic,
      })
    )[0] ?? [];
  const all = await rows(page(500), false);
  expect(all).toHaveLength(70);
  // Around the bounds written in the text (powers of two) and past the rows there are.
  for (const limit of [1, 2, 3, 31, 32, 33, 63, 64, 65, 69, 70, 71, 500]) {
    expect(await rows(page(limit), true)).toEqual(all.slice(0, limit));
  }
  const last = all[32] as { created_at: string; record_id: string };
  const after = { created_at: last.created_at, record_id: last.record_id };
  expect(await rows(page(33, after), true)).toEqual(all.slice(33, 66));
});
