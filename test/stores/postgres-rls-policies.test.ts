/**
 * Mode A tenant isolation, the setup the rest rests on, proved with raw SQL as
 * the application role (not through the store): row-level security is on and
 * forced on every table with the tenant policy; the application role is no
 * superuser, no BYPASSRLS, no owner and cannot switch RLS off or become a
 * stronger role; the owner is bound too; a store refuses a role RLS does not
 * bind, and a superuser URI with app_role runs isolated as that role.
 */
import { isHubError } from '../../src/hub/errors';
import type { RecordType } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { openStore } from '../../src/stores';
import { type PgTestDatabase, sqlAt, testServerUrl, withDatabase } from '../support/pg-harness';
import { A, B, TABLES, asRole, openSeededDatabase, sqlstate } from './postgres-rls-support';

describe('postgres row-level security (Mode A): policies and roles', () => {
  let pg: PgTestDatabase;
  let store: HubStore;
  let idsA: Record<RecordType, string>;

  beforeAll(async () => {
    ({ pg, store, idsA } = await openSeededDatabase());
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
