/**
 * Mode A tenant isolation, proved with raw SQL as the application role (not
 * through the store), as SQL injection or a leaked credential would use it:
 * row-level security is on and forced on every table; choosing a tenant with
 * `app.tenant_id` needs a ticket the gateway signed for that tenant (forged,
 * tampered, expired, other-key and wrong-purpose tickets read nothing); the
 * role cannot UPDATE or DELETE records, read or forge outbox entries, purge
 * another tenant, read the ticket key or switch RLS off. The same checks run
 * on PGlite, whose session runs as the application role too.
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
import {
  DEV_TICKET_KEY,
  TICKET_TTL_SECONDS,
  configuredTicketKey,
  signTicket,
} from '../../src/stores/postgres/tenant-tickets';
import { fullRecords } from '../conformance/fixtures';
import { PREAGG_TABLES } from '../../src/stores/postgres/migrations';
import {
  type PgTestDatabase,
  createTestDatabase,
  sqlAt,
  withDatabase,
  testServerUrl,
} from '../support/pg-harness';

const A = parseTenantId('rls-a');
const B = parseTenantId('rls-b');
const TABLES = [
  ...RECORD_TYPES,
  'outbox',
  // Per-tenant usage minutes (src/stores/postgres/postgres-usage.ts).
  'usage_minutes',
  // Pre-aggregation (preagg.sql): readable per tenant, written only by definer functions.
  ...PREAGG_TABLES,
];

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

/** The key `hub db migrate` installed in the test database (HUB_PG_TICKET_KEY, else the development key). */
const KEY = configuredTicketKey();
const OTHER_KEY = Buffer.alloc(32, 7);
const inFuture = (): number => Math.floor(Date.now() / 1000) + TICKET_TTL_SECONDS;
const ticket = (tenant: string, purpose: 't' | 'p' | 'r' = 't', key = KEY, exp = inFuture()): string =>
  signTicket(key, purpose, tenant, exp);

/** Opens a transaction as `c` with app.tenant_id = `tenant` and app.tenant_ticket = `t` (if any). */
async function scoped(c: Client, tenant: string, t?: string): Promise<void> {
  await c.query('BEGIN');
  await c.query("SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ticket', $2, true)", [
    tenant,
    t ?? '',
  ]);
}

/** Rows of every record table visible in the current transaction. */
async function visible(c: Client): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of RECORD_TYPES) {
    out[t] = (await c.query(`SELECT count(*)::int AS n FROM hub.${t}`)).rows[0].n as number;
  }
  return out;
}
const NONE = Object.fromEntries(RECORD_TYPES.map((t) => [t, 0]));
const ONE_EACH = Object.fromEntries(RECORD_TYPES.map((t) => [t, 1]));

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
      expect(await visible(c)).toEqual(NONE);
    });
  });

  test("with a ticket for A, only A's rows are visible; B's ids resolve to nothing", async () => {
    await asRole(pg.appUri, async (c) => {
      await scoped(c, A, ticket(A));
      for (const t of RECORD_TYPES) {
        const { rows } = await c.query(`SELECT DISTINCT tenant_id FROM hub.${t}`);
        expect(rows).toEqual([{ tenant_id: A }]);
      }
      const { rows } = await c.query("SELECT count(*)::int AS n FROM hub.outputs WHERE tenant_id = 'rls-b'");
      expect(rows[0].n).toBe(0);
      await c.query('COMMIT');
    });
  });

  test("set_config('app.tenant_id', B) without B's ticket reads nothing (the old attack: 414 rows)", async () => {
    await asRole(pg.appUri, async (c) => {
      // No ticket at all.
      await scoped(c, B);
      expect(await visible(c)).toEqual(NONE);
      await c.query('COMMIT');
      // A's valid ticket, but app.tenant_id switched to B: neither A nor B.
      await scoped(c, B, ticket(A));
      expect(await visible(c)).toEqual(NONE);
      await c.query('COMMIT');
      // Switching app.tenant_id mid-transaction after a valid scope: the same.
      await scoped(c, A, ticket(A));
      expect(await visible(c)).toEqual(ONE_EACH);
      await c.query("SELECT set_config('app.tenant_id', $1, true)", [B]);
      expect(await visible(c)).toEqual(NONE);
      await c.query('COMMIT');
    });
  });

  test('forged, tampered, expired, other-key and wrong-purpose tickets read nothing', async () => {
    const good = ticket(B);
    const parts = good.split('.');
    const forged: Record<string, string> = {
      'signed with another key': ticket(B, 't', OTHER_KEY),
      'signed with another key under the real key id': [
        ...ticket(B, 't', OTHER_KEY).split('.').slice(0, 1),
        parts[1],
        ...ticket(B, 't', OTHER_KEY).split('.').slice(2),
      ].join('.'),
      'tenant swapped in A ticket': ticket(A).replace(`.t.${A}.`, `.t.${B}.`),
      'expiry extended': good.replace(`.${parts[2]}.`, `.${Number(parts[2]) + 3600}.`),
      expired: ticket(B, 't', KEY, Math.floor(Date.now() / 1000) - 1),
      'purge ticket used as tenant ticket': ticket(B, 'p'),
      'relay ticket for B': ticket(B, 'r'),
      'no mac': parts.slice(0, 5).join('.'),
      garbage: 'v1.x.y.z',
      empty: '',
      'seven fields': `${good}.x`,
      // Refused, not an error: the expiry is cast to a number only once it is 1-12 digits.
      'expiry not a number': good.replace(`.${parts[2]}.`, '.1e12.'),
      'expiry of 13 digits': good.replace(`.${parts[2]}.`, `.000${parts[2]}.`),
      'very long': `${good}${'0'.repeat(10_000)}`,
    };
    await asRole(pg.appUri, async (c) => {
      for (const [name, t] of Object.entries(forged)) {
        await scoped(c, B, t);
        expect({ name, rows: await visible(c) }).toEqual({ name, rows: NONE });
        await c.query('COMMIT');
      }
      // The genuine ticket does open B (so the cases above failed for their flaw alone).
      await scoped(c, B, good);
      expect(await visible(c)).toEqual(ONE_EACH);
      await c.query('COMMIT');
    });
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

  test('the ticket key is out of reach of the application role', async () => {
    await asRole(pg.appUri, async (c) => {
      for (const stmt of [
        'SELECT * FROM hub_private.ticket_keys',
        "SELECT hub_private.install_ticket_key('\\x00'::bytea, false, true)",
        "SELECT hub_private.verify_ticket('x', 't')",
        'SELECT hub_private.retire_previous_ticket_key()',
      ]) {
        expect({ stmt, code: await sqlstate(c.query(stmt)) }).toEqual({ stmt, code: '42501' });
      }
      const { rows } = await c.query(
        `SELECT p.proname, p.prosecdef AS definer, p.provolatile AS volatility
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'hub' AND p.proname IN ('scoped_tenant', 'verified_tenant', 'relay_verified')
         ORDER BY 1`,
      );
      // SECURITY DEFINER (reads the key as the owner) and STABLE (once per statement, below).
      expect(rows).toEqual([
        { proname: 'relay_verified', definer: true, volatility: 's' },
        { proname: 'scoped_tenant', definer: true, volatility: 's' },
        { proname: 'verified_tenant', definer: true, volatility: 's' },
      ]);
    });
  });

  test('the ticket is verified once per statement, not per row', async () => {
    await sqlAt(pg.adminUri, `ALTER DATABASE ${pg.database} SET track_functions = 'all'`);
    const C = parseTenantId('rls-many');
    const many = sealBatch(
      C,
      'outputs',
      Array.from({ length: 200 }, (_, i) => ({
        ...fullRecords().outputs,
        record_id: undefined,
        created_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      })),
    );
    await store.putBatch(C, many);
    await asRole(pg.appUri, async (c) => {
      await scoped(c, C, ticket(C));
      const { rows } = await c.query('SELECT count(*)::int AS n FROM hub.outputs');
      expect(rows[0].n).toBe(200);
      const [calls] = (
        await c.query("SELECT pg_stat_get_xact_function_calls('hub.scoped_tenant()'::regprocedure)::int AS n")
      ).rows;
      expect(calls.n).toBe(1);
      // And it is the only function call: no nested verifier (each call of a
      // SECURITY DEFINER function with SET clauses costs a search_path switch,
      // and a SQL-language one is planned again on every statement).
      const { rows: fns } = await c.query(
        "SELECT schemaname || '.' || funcname AS f, calls::int FROM pg_stat_xact_user_functions ORDER BY 1",
      );
      expect(fns).toEqual([{ f: 'hub.scoped_tenant', calls: 1 }]);
      const plan = (await c.query('EXPLAIN SELECT * FROM hub.outputs WHERE tenant_id = $1', [C])).rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toMatch(/InitPlan/);
      expect(plan).not.toMatch(/Seq Scan/);
      await c.query('COMMIT');
    });
  });

  test('a store whose ticket key the database does not accept fails to open, saying so', async () => {
    const err = await openStore(pg.appUri, { ticketKey: OTHER_KEY.toString('hex') }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(isHubError(err, 'UNAVAILABLE')).toBe(true);
    expect(String((err as Error).message)).toMatch(
      /does not accept this gateway's ticket key.*hub db ticket-key/,
    );
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
