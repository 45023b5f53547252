/**
 * Mode A tenant isolation, proved with raw SQL as the application role (not
 * through the store): row-level security is on and forced on every table,
 * nothing is visible without `app.tenant_id`, another tenant's rows are
 * invisible and cannot be written, and the role cannot switch RLS off. The
 * same checks run on PGlite, whose session runs as the application role too.
 */
import { Client } from 'pg';
import { isHubError } from '../../src/hub/errors';
import { RECORD_TYPES, type RecordType } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { fullRecords } from '../conformance/fixtures';
import {
  type PgTestDatabase,
  createTestDatabase,
  sqlAt,
  withDatabase,
  testServerUrl,
} from '../support/pg-harness';

const A = parseTenantId('rls-a');
const B = parseTenantId('rls-b');
const TABLES = [...RECORD_TYPES, 'outbox'];

/** Writes one record of every type for the tenant; returns the record ids by type. */
async function seed(store: HubStore, tenant: typeof A): Promise<Record<RecordType, string>> {
  const ids = {} as Record<RecordType, string>;
  const inputs = fullRecords();
  for (const type of RECORD_TYPES) {
    const records = sealBatch(tenant, type, [inputs[type]]);
    expect(await store.putBatch(tenant, records)).toEqual([{ status: 'created' }]);
    ids[type] = (records[0] as { record_id: string }).record_id;
  }
  return ids;
}

/** Runs `fn` on one raw connection as `uri`'s role. */
async function asRole<T>(uri: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: uri });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const sqlstate = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );

describe('postgres row-level security (Mode A)', () => {
  let pg: PgTestDatabase;
  let store: HubStore;
  let idsA: Record<RecordType, string>;

  beforeAll(async () => {
    pg = await createTestDatabase();
    store = await openStore(pg.appUri, { outbox: true });
    idsA = await seed(store, A);
    await seed(store, B);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  });

  test('RLS is enabled and forced on every table, with the tenant policy', async () => {
    const rows = await sqlAt<{ relname: string; on: boolean; forced: boolean; policies: string[] }>(
      pg.adminUri,
      `SELECT c.relname, c.relrowsecurity AS on, c.relforcerowsecurity AS forced,
              array(SELECT polname::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1) AS policies
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'hub' AND c.relkind = 'r' AND c.relname <> 'schema_migrations' ORDER BY 1`,
    );
    expect(rows.map((r) => r.relname).sort()).toEqual([...TABLES].sort());
    for (const r of rows) {
      expect({ table: r.relname, on: r.on, forced: r.forced }).toEqual({
        table: r.relname,
        on: true,
        forced: true,
      });
      expect(r.policies).toContain('tenant_isolation');
    }
  });

  test('the application role is neither superuser, BYPASSRLS nor owner', async () => {
    const [role] = await sqlAt<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean }>(
      pg.adminUri,
      `SELECT rolsuper, rolbypassrls,
         EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'hub' AND tableowner = $1) AS owns
       FROM pg_roles WHERE rolname = $1`,
      [pg.appRole],
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owns: false });
  });

  test('without app.tenant_id the application role sees no row of any table', async () => {
    await asRole(pg.appUri, async (c) => {
      for (const t of TABLES) {
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM hub.${t}`);
        expect({ t, n: rows[0].n }).toEqual({ t, n: 0 });
      }
    });
  });

  test("with app.tenant_id = A, only A's rows are visible; B's ids resolve to nothing", async () => {
    await asRole(pg.appUri, async (c) => {
      await c.query('BEGIN');
      await c.query("SELECT set_config('app.tenant_id', $1, true)", [A]);
      for (const t of RECORD_TYPES) {
        const { rows } = await c.query(`SELECT DISTINCT tenant_id FROM hub.${t}`);
        expect(rows).toEqual([{ tenant_id: A }]);
      }
      // Even naming tenant B explicitly finds nothing.
      const { rows } = await c.query("SELECT count(*)::int AS n FROM hub.outputs WHERE tenant_id = 'rls-b'");
      expect(rows[0].n).toBe(0);
      await c.query('COMMIT');
    });
  });

  test("tenant A cannot insert, update or delete B's rows", async () => {
    await asRole(pg.appUri, async (c) => {
      await c.query('BEGIN');
      await c.query("SELECT set_config('app.tenant_id', $1, true)", [A]);
      await c.query('SAVEPOINT s');
      // Inserting a row labelled B violates the policy's WITH CHECK.
      expect(
        await sqlstate(
          c.query(
            `INSERT INTO hub.telemetry_events (tenant_id, record_id, created_at, provenance_hash, name)
             VALUES ('rls-b', gen_random_uuid(), now(), 'x', 'n')`,
          ),
        ),
      ).toBe('42501');
      await c.query('ROLLBACK TO SAVEPOINT s');
      // Records are immutable: no UPDATE privilege at all.
      expect(await sqlstate(c.query("UPDATE hub.outputs SET model = 'x' WHERE tenant_id = 'rls-b'"))).toBe(
        '42501',
      );
      await c.query('ROLLBACK TO SAVEPOINT s');
      const del = await c.query("DELETE FROM hub.outputs WHERE tenant_id = 'rls-b'");
      expect(del.rowCount).toBe(0);
      await c.query('COMMIT');
    });
    // B's records are all still there.
    const bOutputs = await store.list(B, { type: 'outputs', filter: {}, limit: 10 });
    expect(bOutputs).toHaveLength(1);
  });

  test('the application role cannot turn RLS off', async () => {
    await asRole(pg.appUri, async (c) => {
      for (const stmt of [
        'ALTER TABLE hub.outputs DISABLE ROW LEVEL SECURITY',
        'ALTER TABLE hub.outputs NO FORCE ROW LEVEL SECURITY',
        'DROP POLICY tenant_isolation ON hub.outputs',
        `CREATE POLICY open_all ON hub.outputs USING (true)`,
      ]) {
        expect({ stmt, code: await sqlstate(c.query(stmt)) }).toEqual({ stmt, code: '42501' });
      }
      // row_security = off makes a policy-filtered query fail instead of bypassing it.
      await c.query('SET row_security = off');
      expect(await sqlstate(c.query('SELECT * FROM hub.outputs'))).toBe('42501');
      await c.query('RESET row_security');
      // Nor can it make itself a more powerful role.
      expect(await sqlstate(c.query(`SET ROLE ${pg.ownerRole}`))).toBe('42501');
    });
  });

  test('the owner is bound by RLS too (FORCE)', async () => {
    const rows = await sqlAt<{ n: number }>(
      withDatabase(testServerUrl(), pg.database, pg.ownerRole),
      'SELECT count(*)::int AS n FROM hub.outputs',
    );
    expect(rows[0]?.n).toBe(0);
  });

  test('the outbox relay setting opens the outbox across tenants but never records', async () => {
    await asRole(pg.appUri, async (c) => {
      await c.query('BEGIN');
      await c.query("SELECT set_config('app.outbox_relay', 'on', true)");
      const outbox = await c.query('SELECT DISTINCT tenant_id FROM hub.outbox ORDER BY 1');
      expect(outbox.rows).toEqual([{ tenant_id: A }, { tenant_id: B }]);
      const records = await c.query('SELECT count(*)::int AS n FROM hub.outputs');
      expect(records.rows[0].n).toBe(0);
      await c.query('COMMIT');
    });
  });

  test('a store refuses to run as a role RLS does not bind', async () => {
    const asOwner = `${withDatabase(testServerUrl(), pg.database, pg.ownerRole)}?app_role=${pg.ownerRole}`;
    const err = await openStore(asOwner).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(isHubError(err, 'FORBIDDEN')).toBe(true);
  });

  test('a superuser URI with app_role runs as that role, isolated', async () => {
    const s = await openStore(`${pg.adminUri}?app_role=${pg.appRole}`);
    try {
      expect(await s.list(A, { type: 'outputs', filter: {}, limit: 10 })).toHaveLength(1);
      expect(await s.getByIds(B, 'outputs', [idsA.outputs])).toEqual([null]);
    } finally {
      await s.close();
    }
  });
});

describe('pglite row-level security', () => {
  let db: PgliteDatabase;
  let store: HubStore;

  beforeAll(async () => {
    db = await PgliteDatabase.open(undefined, 'hub_app');
    store = createPostgresStore(db, {});
    await seed(store, A);
    await seed(store, B);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
  });

  test('the session runs as the application role and sees nothing without app.tenant_id', async () => {
    const [who] = await db.queryUnscoped(
      'SELECT current_user AS role, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su',
    );
    expect(who).toEqual({ role: 'hub_app', su: false });
    for (const t of TABLES) {
      const [row] = await db.queryUnscoped(`SELECT count(*)::int AS n FROM hub.${t}`);
      expect({ t, n: row?.n }).toEqual({ t, n: 0 });
    }
  });

  test("a tenant scope sees only its rows and cannot write another tenant's", async () => {
    const [rows] = await db.run({ tenant: A }, [
      { sql: 'SELECT DISTINCT tenant_id FROM hub.outputs', params: [] },
    ]);
    expect(rows).toEqual([{ tenant_id: A }]);
    const insert = db.run({ tenant: A }, [
      {
        sql: `INSERT INTO hub.telemetry_events (tenant_id, record_id, created_at, provenance_hash, name)
              VALUES ('rls-b', gen_random_uuid(), now(), 'x', 'n')`,
        params: [],
      },
    ]);
    expect(await sqlstate(insert)).toBe('42501');
  });

  test('the role cannot turn RLS off', async () => {
    expect(await sqlstate(db.queryUnscoped('ALTER TABLE hub.outputs DISABLE ROW LEVEL SECURITY'))).toBe(
      '42501',
    );
    // (PGlite's session user is its built-in superuser, so SET ROLE is a guard
    // against query mistakes there, not a boundary: see README.md "PGlite".)
  });
});
