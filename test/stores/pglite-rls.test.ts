/**
 * Tenant isolation on PGlite, whose session runs as the application role too:
 * the same checks as postgres-rls-*.test.ts (nothing visible without a
 * tenant, no tenant without a genuine ticket, no DELETE, no cross-tenant
 * write, RLS stays on), on the embedded database.
 */
import { RECORD_TYPES } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import type { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { DEV_TICKET_KEY, signTicket } from '../../src/stores/postgres/tenant-tickets';
import { A, B, OTHER_KEY, inFuture, openSeededPglite, sqlstate } from './postgres-rls-support';

describe('pglite row-level security', () => {
  let db: PgliteDatabase;
  let store: HubStore;

  beforeAll(async () => {
    ({ db, store } = await openSeededPglite());
  }, 60_000);

  afterAll(async () => {
    await store?.close();
  });

  test('the session runs as the application role and sees nothing without app.tenant_id', async () => {
    const [who] = await db.queryUnscoped(
      'SELECT current_user AS role, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su',
    );
    expect(who).toEqual({ role: 'hub_app', su: false });
    for (const t of RECORD_TYPES) {
      const [row] = await db.queryUnscoped(`SELECT count(*)::int AS n FROM hub.${t}`);
      expect({ t, n: row?.n }).toEqual({ t, n: 0 });
    }
    expect(await sqlstate(db.queryUnscoped('SELECT * FROM hub.outbox'))).toBe('42501');
  });

  test('app.tenant_id without a ticket reads nothing; a forged ticket neither; no DELETE', async () => {
    for (const t of [
      '',
      signTicket(DEV_TICKET_KEY, 't', B, inFuture()),
      signTicket(OTHER_KEY, 't', B, inFuture()),
    ]) {
      const [row] = await db.queryUnscoped(
        `SELECT set_config('app.tenant_id', '${B}', false), set_config('app.tenant_ticket', '${t}', false)`,
      );
      expect(row).toBeDefined();
      const [n] = await db.queryUnscoped('SELECT count(*)::int AS n FROM hub.outputs');
      expect({ t, n: n?.n }).toEqual({ t, n: 0 });
    }
    await db.queryUnscoped("SELECT set_config('app.tenant_id', '', false)");
    const del = db.run({ tenant: A }, [{ sql: 'DELETE FROM hub.outputs', params: [] }]);
    expect(await sqlstate(del)).toBe('42501');
    expect(await store.list(A, { type: 'outputs', filter: {}, limit: 10 })).toHaveLength(1);
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
