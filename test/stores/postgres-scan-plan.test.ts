/**
 * The scan a move copies and compares with reads each page in index order:
 * the plan has no sort, so a page costs its own rows, not every row after
 * the position (which a sort must fetch first). The scan's transaction turns
 * sorting off itself (postgres-scan.ts), so this holds on tables the planner
 * knows nothing about, like these. A list page (GraphQL's `outputs(first:)`
 * and the like) likewise, unfiltered and by one skill.
 */
import { Client } from 'pg';
import { RECORD_TYPES } from '../../src/hub/model';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { parseTenantId } from '../../src/hub/tenant';
import { scanStatements } from '../../src/stores/postgres/postgres-scan';
import { listStatement } from '../../src/stores/postgres/postgres-sql';
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
    for (const [settings, page] of [
      scanStatements(tenant, { type, limit: 1000 }),
      scanStatements(tenant, { type, limit: 1000, after }),
    ]) {
      // In the scan's own transaction, after its own settings.
      await admin.query('BEGIN');
      try {
        await admin.query(settings.sql, [...settings.params]);
        const plan = await planOf(page);
        expect(plan).toMatch(/Index Scan/);
        expect(plan).not.toMatch(/Sort/);
      } finally {
        await admin.query('ROLLBACK');
      }
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

test('on a tenant just written and not yet analysed, the scan still reads the index, where the planner alone would sort', async () => {
  const store = await openStore(`${pg.appUri}?rollup_consumer=false`);
  try {
    const written = parseTenantId('fresh');
    const outputs = sealBatch(
      written,
      'outputs',
      Array.from({ length: 3000 }, (_, i) => ({
        skill_id: `s${i % 7}`,
        employee_id: `e${i % 50}`,
        status: 'SUCCEEDED',
        created_at: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % 86_400_000)).toISOString(),
      })),
    );
    await store.putBatch(written, outputs);
  } finally {
    await store.close();
  }
  const [settings, page] = scanStatements(parseTenantId('fresh'), { type: 'outputs', limit: 1000 });
  // The premise: left to itself (the tests above turned sorting off for this session), the
  // planner fetches the tenant's rows and sorts them.
  await admin.query('RESET ALL');
  expect(await planOf(page)).toMatch(/Sort/);
  await admin.query('BEGIN');
  try {
    await admin.query(settings.sql, [...settings.params]);
    const plan = await planOf(page);
    expect(plan).toMatch(/Index Scan using outputs_time/);
    expect(plan).not.toMatch(/Sort/);
  } finally {
    await admin.query('ROLLBACK');
  }
}, 60_000);
