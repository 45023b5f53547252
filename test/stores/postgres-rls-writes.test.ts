/**
 * Mode A tenant isolation on writes, proved with raw SQL as the application
 * role: no scope, a forged ticket or another tenant's scope cannot insert a
 * tenant's rows; records are immutable (no UPDATE or DELETE, even of its own
 * tenant); the role can neither read nor forge outbox entries of other
 * tenants; purging needs a purge ticket for the scope's own tenant.
 */
import { RECORD_TYPES } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import type { PgTestDatabase } from '../support/pg-harness';
import {
  A,
  B,
  KEY,
  OTHER_KEY,
  asRole,
  openSeededDatabase,
  scoped,
  seed,
  sqlstate,
  ticket,
} from './postgres-rls-support';

describe('postgres row-level security (Mode A): writes, outbox and purge', () => {
  let pg: PgTestDatabase;
  let store: HubStore;

  beforeAll(async () => {
    ({ pg, store } = await openSeededDatabase());
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  });

  test("a forged ticket cannot write B's rows, nor can A's scope", async () => {
    const insert = (tenant: string) =>
      `INSERT INTO hub.telemetry_events (tenant_id, record_id, created_at, provenance_hash, name)
       VALUES ('${tenant}', gen_random_uuid(), now(), 'x', 'n')`;
    await asRole(pg.appUri, async (c) => {
      for (const t of [undefined, ticket(B, 't', OTHER_KEY), ticket(A)]) {
        await scoped(c, B, t);
        expect(await sqlstate(c.query(insert(B)))).toBe('42501');
        await c.query('ROLLBACK');
      }
      await scoped(c, A, ticket(A));
      expect(await sqlstate(c.query(insert(B)))).toBe('42501');
      await c.query('ROLLBACK');
    });
  });

  test('records are immutable: no UPDATE or DELETE, even of its own tenant with a valid ticket', async () => {
    await asRole(pg.appUri, async (c) => {
      for (const t of RECORD_TYPES) {
        for (const stmt of [`DELETE FROM hub.${t}`, `UPDATE hub.${t} SET attributes = NULL`]) {
          await scoped(c, A, ticket(A));
          expect({ stmt, code: await sqlstate(c.query(stmt)) }).toEqual({ stmt, code: '42501' });
          await c.query('ROLLBACK');
        }
      }
      await scoped(c, B);
      expect(await sqlstate(c.query("DELETE FROM hub.outputs WHERE tenant_id = 'rls-b'"))).toBe('42501');
      await c.query('ROLLBACK');
    });
    expect(await store.list(B, { type: 'outputs', filter: {}, limit: 10 })).toHaveLength(1);
  });

  test('the outbox: the application role can neither read nor forge entries of other tenants', async () => {
    const insertOutbox = (tenant: string) =>
      `INSERT INTO hub.outbox (tenant_id, record_type, record_id) VALUES ('${tenant}', 'outputs', gen_random_uuid())`;
    await asRole(pg.appUri, async (c) => {
      // The old switch opens nothing any more; the role cannot read the outbox at all.
      for (const setup of [
        "SELECT set_config('app.outbox_relay', 'on', true)",
        "SELECT set_config('app.outbox_relay', 'on', true), set_config('app.tenant_ticket', $1, true)",
      ]) {
        for (const stmt of ['SELECT * FROM hub.outbox', 'DELETE FROM hub.outbox']) {
          await c.query('BEGIN');
          await c.query(setup, setup.includes('$1') ? [ticket('*', 'r', OTHER_KEY)] : []);
          expect({ stmt, code: await sqlstate(c.query(stmt)) }).toEqual({ stmt, code: '42501' });
          await c.query('ROLLBACK');
        }
      }
      // Its own tenant's entries go in; another tenant's are refused, with or without a scope.
      await scoped(c, A, ticket(A));
      await c.query(insertOutbox(A));
      expect(await sqlstate(c.query(insertOutbox(B)))).toBe('42501');
      await c.query('ROLLBACK');
      await scoped(c, B, ticket(A));
      expect(await sqlstate(c.query(insertOutbox(B)))).toBe('42501');
      await c.query('ROLLBACK');
      // Becoming the relay role (it may: the relay runs in the gateway) without a relay ticket
      // sees no entry, and the relay role cannot insert any, nor read records.
      for (const t of [undefined, ticket('*', 'r', OTHER_KEY), ticket('*', 't')]) {
        await c.query('BEGIN');
        await c.query(`SET LOCAL ROLE ${pg.relayRole}`);
        if (t) await c.query("SELECT set_config('app.tenant_ticket', $1, true)", [t]);
        expect((await c.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n).toBe(0);
        expect(await sqlstate(c.query(insertOutbox(B)))).toBe('42501');
        await c.query('ROLLBACK');
      }
      await c.query('BEGIN');
      await c.query(`SET LOCAL ROLE ${pg.relayRole}`);
      await c.query("SELECT set_config('app.tenant_ticket', $1, true)", [ticket('*', 'r')]);
      expect(await sqlstate(c.query('SELECT count(*) FROM hub.outputs'))).toBe('42501');
      await c.query('ROLLBACK');
    });
  });

  test("purge: only with a purge ticket for the scope's own tenant", async () => {
    await asRole(pg.appUri, async (c) => {
      const attempts: [string, string, string | undefined, string][] = [
        ['forged purge ticket', B, ticket(B, 't'), ticket(B, 'p', OTHER_KEY)],
        ["B's tenant ticket as purge ticket", B, ticket(B), ticket(B)],
        ['purge ticket for B from A scope', A, ticket(A), ticket(B, 'p')],
        ['purge ticket for B without a tenant ticket', B, undefined, ticket(B, 'p')],
        ['expired purge ticket', B, ticket(B), ticket(B, 'p', KEY, Math.floor(Date.now() / 1000) - 1)],
      ];
      for (const [name, tenant, scope, purge] of attempts) {
        await scoped(c, tenant, scope);
        const code = await sqlstate(c.query('SELECT hub.purge_tenant($1)', [purge]));
        expect({ name, code }).toEqual({ name, code: '42501' });
        await c.query('ROLLBACK');
      }
    });
    expect(await store.list(B, { type: 'outputs', filter: {}, limit: 10 })).toHaveLength(1);
    // The store purges through the same function (a third tenant, so the others keep their rows).
    const C = parseTenantId('rls-c');
    await seed(store, C);
    expect(await store.purgeTenant(C)).toBe(RECORD_TYPES.length);
    expect(await store.list(C, { type: 'outputs', filter: {}, limit: 10 })).toEqual([]);
    expect(await store.list(B, { type: 'outputs', filter: {}, limit: 10 })).toHaveLength(1);
  });
});
