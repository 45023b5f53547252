/**
 * The scan a move copies and compares with reads each page in index order:
 * the plan has no sort, so a page costs its own rows, not every row after
 * the position (which a sort must fetch first). A list page (GraphQL's
 * `outputs(first:)` and the like) likewise, unfiltered and by one skill.
 */
import { Client } from 'pg';
import { RECORD_TYPES } from '../../src/hub/model';
import { parseTenantId } from '../../src/hub/tenant';
import { listStatement, scanStatement } from '../../src/stores/postgres/postgres-sql';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const tenant = parseTenantId('plan');
/** A page's position: the plans are the same for any. */
const after = { created_at: '2026-01-01T00:00:00.000Z', record_id: '01900000-0000-7000-8000-000000000001' };

/** The plan of `statement`, as text. */
async function planOf(statement: { sql: string; params: readonly unknown[] }): Promise<string> {
  const { rows } = await admin.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement.sql}`, [
    ...statement.params,
  ]);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

let pg: PgTestDatabase;
let admin: Client;

beforeAll(async () => {
  pg = await createTestDatabase();
  admin = new Client({ connectionString: pg.adminUri });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await pg?.drop();
});

test.each(RECORD_TYPES.map((t) => [t]))(
  'a scan page of %s is read in index order, without a sort',
  async (type) => {
    // Sorting made as dear as it gets: a plan that still sorts has no index giving the order.
    await admin.query('SET enable_sort = off');
    for (const statement of [
      scanStatement(tenant, { type, limit: 1000 }),
      scanStatement(tenant, { type, limit: 1000, after }),
    ]) {
      const plan = await planOf(statement);
      expect(plan).toMatch(/Index Scan/);
      expect(plan).not.toMatch(/Sort/);
    }
  },
);

test.each(RECORD_TYPES.map((t) => [t]))(
  'a list page of %s is read in index order, without a sort (incremental or full)',
  async (type) => {
    await admin.query('SET enable_sort = off');
    await admin.query('SET enable_incremental_sort = off');
    const statements = [
      listStatement(tenant, { type, filter: {}, limit: 51 }),
      listStatement(tenant, { type, filter: {}, limit: 51, after }),
    ];
    if (type === 'outputs') {
      statements.push(listStatement(tenant, { type, filter: { skillIds: ['skill.01'] }, limit: 51, after }));
    }
    for (const statement of statements) {
      const plan = await planOf(statement);
      expect(plan).toMatch(/Index (Only )?Scan/);
      expect(plan).not.toMatch(/Sort/);
    }
  },
);
