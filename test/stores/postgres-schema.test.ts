/**
 * The PostgreSQL schema and query plans: columns typed from the model,
 * migrations idempotent and safe when run concurrently, get-by-id and every
 * list filter served by an index (EXPLAIN on a table large enough that the
 * planner would rather scan if no index fit), and Mode B (a database per
 * tenant, one store per URI).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RECORD_TYPES, type RecordType, TYPE_FIELDS } from '../../src/hub/model';
import type { HubStore, ListFilter } from '../../src/hub/store';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { MIGRATIONS } from '../../src/stores/postgres/migrations';
import { postgresDriver } from '../../src/stores/postgres/postgres-driver';
import { nestedListStatements } from '../../src/stores/postgres/postgres-nested';
import { getByIdsStatement, listStatement } from '../../src/stores/postgres/postgres-sql';
import { type PgTestDatabase, createTestDatabase, sqlAt, tenantScope } from '../support/pg-harness';

const SQL_TYPE: Record<string, string> = {
  id: 'text',
  text: 'text',
  enum: 'text',
  sha256: 'text',
  uuid: 'uuid',
  int: 'bigint',
  decimal: 'numeric',
  timestamp: 'timestamp with time zone',
  json: 'jsonb',
  json_object: 'jsonb',
};

describe('postgres schema', () => {
  let pg: PgTestDatabase;

  beforeAll(async () => {
    pg = await createTestDatabase({ migrate: false });
  }, 60_000);

  afterAll(async () => {
    await pg?.drop();
  });

  test('two concurrent migrations apply each step once; a third finds nothing to do', async () => {
    const [first, second] = await Promise.all([
      postgresDriver.migrate?.(pg.ownerUri),
      postgresDriver.migrate?.(pg.ownerUri),
    ]);
    expect([...(first ?? []), ...(second ?? [])]).toHaveLength(MIGRATIONS.length);
    expect(await postgresDriver.migrate?.(pg.ownerUri)).toEqual([]);
    const rows = await sqlAt<{ version: number }>(
      pg.adminUri,
      'SELECT version FROM hub.schema_migrations ORDER BY 1',
    );
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  test('every model field has a column of the matching type, nullable exactly when optional', async () => {
    const columns = await sqlAt<{
      table_name: string;
      column_name: string;
      data_type: string;
      is_nullable: string;
    }>(
      pg.adminUri,
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'hub' ORDER BY table_name, ordinal_position`,
    );
    for (const type of RECORD_TYPES) {
      const actual = columns
        .filter((c) => c.table_name === type)
        .map((c) => [c.column_name, c.data_type, c.is_nullable === 'YES']);
      const expected = [
        ['tenant_id', 'text', false],
        ['record_id', 'uuid', false],
        ['created_at', 'timestamp with time zone', false],
        ['attributes', 'jsonb', true],
        ['provenance_hash', 'text', false],
        ...TYPE_FIELDS[type].map((f) => [
          f.name,
          SQL_TYPE[f.kind],
          !f.required && f.defaultValue === undefined && f.defaultFrom === undefined,
        ]),
        ...(type === 'artifacts' ? [['body', 'bytea', false]] : []),
      ];
      expect({ type, columns: actual }).toEqual({ type, columns: expected });
    }
  });

  test("record tables' secondary indexes start with tenant_id, end with record_id, and do not deduplicate", async () => {
    // Keys ending in the primary key's record_id are never equal: deduplication
    // (migration 16 turns it off) would only scan pages to merge nothing.
    const rows = await sqlAt<{ table: string; index: string; first: string; last: string; options: string }>(
      pg.adminUri,
      `SELECT t.relname AS table, i.relname AS index,
         pg_get_indexdef(x.indexrelid, 1, true) AS first,
         pg_get_indexdef(x.indexrelid, x.indnkeyatts, true) AS last,
         coalesce(array_to_string(i.reloptions, ','), '') AS options
       FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'hub' AND NOT x.indisunique ORDER BY 1, 2`,
    );
    const secondary = rows.filter((r) => (RECORD_TYPES as readonly string[]).includes(r.table));
    expect(new Set(secondary.map((r) => r.table))).toEqual(new Set(RECORD_TYPES));
    for (const r of secondary) {
      expect(r).toEqual({ ...r, first: 'tenant_id', last: 'record_id', options: 'deduplicate_items=off' });
    }
  });
});

/** Walks an EXPLAIN (FORMAT JSON) plan and lists its node types and index names. */
function planNodes(plan: Record<string, unknown>): string[] {
  const here = `${String(plan['Node Type'])}${plan['Index Name'] ? ` ${String(plan['Index Name'])}` : ''}`;
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [here, ...children.flatMap(planNodes)];
}

describe('postgres query plans', () => {
  let pg: PgTestDatabase;
  let store: HubStore;
  const big = parseTenantId('plans-big');
  const ids: string[] = [];

  beforeAll(async () => {
    pg = await createTestDatabase();
    store = await openStore(pg.appUri);
    // 40,000 outputs in one tenant among 5: enough that a sequential scan
    // would be the planner's choice for any query no index serves.
    const base = Date.UTC(2026, 0, 1);
    const loads: [TenantId, number][] = [
      [big, 40_000],
      ...['a', 'b', 'c', 'd'].map((x): [TenantId, number] => [parseTenantId(`plans-${x}`), 2_000]),
    ];
    for (const [t, n] of loads) {
      for (let i = 0; i < n; i += 5_000) {
        const records = sealBatch(
          t,
          'outputs',
          Array.from({ length: Math.min(5_000, n - i) }, (_, k) => ({
            record_id: randomUUID(),
            created_at: new Date(base + (i + k) * 60_000).toISOString(),
            skill_id: `skill-${(i + k) % 50}`,
            employee_id: `emp-${(i + k) % 400}`,
            status: (i + k) % 10 === 0 ? 'FAILED' : 'SUCCEEDED',
            cost_usd: '0.01',
          })),
        );
        await store.putBatch(t, records);
        if (t === big && ids.length < 20) ids.push(...records.slice(0, 20).map((r) => r.record_id));
        if (t === big) {
          // A decision for every other output: the nested list's child index must be used.
          const decisions = records
            .filter((_, k) => k % 2 === 0)
            .map((o) => ({
              created_at: o.created_at,
              output_id: o.record_id,
              skill_id: 'skill',
              decided_by: 'reviewer',
              outcome: 'ACCEPTED',
            }));
          await store.putBatch(t, sealBatch(t, 'decisions', decisions));
        }
      }
    }
    await sqlAt(pg.adminUri, 'ANALYZE hub.outputs; ANALYZE hub.decisions');
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  });

  /** The plan's nodes; with `generic`, the generic plan of the statement prepared (as the store runs those marked generic). */
  async function explain(
    type: RecordType,
    statement: { sql: string; params: readonly unknown[] },
    generic = false,
  ): Promise<string[]> {
    const c = new Client({ connectionString: pg.appUri });
    await c.connect();
    try {
      await c.query('BEGIN');
      const scope = tenantScope(big);
      await c.query(scope.sql, scope.params);
      let explained = c.query(`EXPLAIN (FORMAT JSON) ${statement.sql}`, [...statement.params]);
      if (generic) {
        await c.query(`PREPARE page AS ${statement.sql}`);
        await c.query('SET LOCAL plan_cache_mode = force_generic_plan');
        // EXECUTE takes no bind parameters: the values as literals (which the generic plan never sees).
        const literals = statement.params.map((p) => `'${String(p).replace(/'/g, "''")}'`);
        explained = c.query(`EXPLAIN (FORMAT JSON) EXECUTE page(${literals.join(', ')})`);
      }
      const { rows } = await explained;
      await c.query('COMMIT');
      const plan = (rows[0] as { 'QUERY PLAN': { Plan: Record<string, unknown> }[] })['QUERY PLAN'][0]?.Plan;
      if (!plan) throw new Error(`no plan for ${type}`);
      return planNodes(plan);
    } finally {
      await c.end();
    }
  }

  test('get by ids uses the primary key index', async () => {
    const nodes = await explain('outputs', getByIdsStatement(big, 'outputs', ids));
    expect(nodes.join(' | ')).not.toMatch(/Seq Scan/);
    expect(nodes.join(' | ')).toMatch(/Index.* outputs_pkey/);
  });

  const filters: [string, ListFilter, RegExp][] = [
    ['no filter', {}, /outputs_time/],
    ['skill', { skillIds: ['skill-7'] }, /outputs_skill/],
    ['several skills', { skillIds: ['skill-7', 'skill-9'] }, /outputs_skill/],
    ['employee', { employeeId: 'emp-12' }, /outputs_employee/],
    ['status', { status: 'FAILED' }, /outputs_(status|time)/],
    ['time range', { from: '2026-01-10T00:00:00.000Z', to: '2026-01-11T00:00:00.000Z' }, /outputs_time/],
  ];
  test.each(filters)(
    'a list page (%s) is read from an index, not a sequential scan',
    async (_name, filter, index) => {
      const page = listStatement(big, { type: 'outputs', filter, limit: 51 });
      const nodes = (await explain('outputs', page)).join(' | ');
      expect(nodes).not.toMatch(/Seq Scan/);
      expect(nodes).toMatch(index);
      // Read in page order, never all matches sorted (an Incremental Sort
      // within equal created_at is fine): the tenant policy must not make the
      // planner believe a tenant's rows are few (migration 9).
      expect(nodes).not.toMatch(/(^|\| )Sort\b/);
    },
  );

  // Single pages written for a generic plan: planned once per connection,
  // for whatever tenant, filter value and page size come later, so the plan
  // must be the index range in page order for all of them.
  test.each(filters.filter(([name]) => name !== 'several skills'))(
    'the generic plan of a list page (%s) reads it from an index, in page order',
    async (_name, filter, index) => {
      for (const limit of [2, 51, 501]) {
        const page = listStatement(big, { type: 'outputs', filter, limit }, undefined, true);
        expect(page.generic).toBe(true);
        const nodes = (await explain('outputs', page, true)).join(' | ');
        expect(nodes).not.toMatch(/Seq Scan/);
        expect(nodes).toMatch(index);
        expect(nodes).not.toMatch(/(^|\| )Sort\b/);
      }
    },
  );

  test('pages of several skills are not marked for a generic plan (a merge of ranges, planned per call)', () => {
    const page = listStatement(
      big,
      { type: 'outputs', filter: { skillIds: ['skill-7', 'skill-9'] }, limit: 51 },
      undefined,
      true,
    );
    expect(page.generic).toBeUndefined();
  });

  test('a page with its children reads both from indexes (the children by output, per parent)', async () => {
    const [page, children] = nestedListStatements(
      big,
      { type: 'outputs', filter: { skillIds: ['skill-7'] }, limit: 51 },
      { type: 'decisions', key: 'outputId', limit: 51 },
    );
    expect((await explain('outputs', page)).join(' | ')).toMatch(/outputs_skill/);
    const nodes = (await explain('decisions', children)).join(' | ');
    expect(nodes).not.toMatch(/Seq Scan/);
    expect(nodes).toMatch(/outputs_skill/);
    expect(nodes).toMatch(/decisions_output/);
  });

  test('a later page (after a cursor) still uses the index, custom or generic plan', async () => {
    const query = {
      type: 'outputs',
      filter: { skillIds: ['skill-3'] },
      limit: 51,
      after: { created_at: '2026-01-20T00:00:00.000Z', record_id: '01900000-0000-7000-8000-000000000000' },
    } as const;
    for (const generic of [false, true]) {
      const page = listStatement(big, query, undefined, generic);
      const nodes = (await explain('outputs', page, generic)).join(' | ');
      expect(nodes).not.toMatch(/Seq Scan/);
      expect(nodes).toMatch(/outputs_skill/);
    }
  });
});

describe('Mode B: a database per tenant, one store per URI', () => {
  test('each tenant store reads and writes only its own database', async () => {
    const [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const s1 = await openStore(`${one.appUri}?max=2`);
    const s2 = await openStore(`${two.appUri}?max=2`);
    try {
      const t = parseTenantId('mode-b');
      const [rec] = sealBatch(t, 'outputs', [{ skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' }]);
      if (!rec) throw new Error('no record');
      await s1.putBatch(t, [rec]);
      expect(await s1.getByIds(t, 'outputs', [rec.record_id])).toEqual([rec]);
      expect(await s2.getByIds(t, 'outputs', [rec.record_id])).toEqual([null]);
    } finally {
      await s1.close();
      await s2.close();
      await one.drop();
      await two.drop();
    }
  }, 60_000);
});
