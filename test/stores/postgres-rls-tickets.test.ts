/**
 * Mode A tenant isolation on reads, proved with raw SQL as the application
 * role, as SQL injection or a leaked credential would use it: choosing a
 * tenant with `app.tenant_id` needs a ticket the gateway signed for that
 * tenant (forged, tampered, expired, other-key and wrong-purpose tickets read
 * nothing); the ticket key is out of the role's reach; the ticket is verified
 * once per statement; a store whose key the database does not accept fails to
 * open.
 */
import { isHubError } from '../../src/hub/errors';
import { RECORD_TYPES } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { fullRecords } from '../conformance/fixtures';
import { type PgTestDatabase, sqlAt } from '../support/pg-harness';
import {
  A,
  B,
  KEY,
  NONE,
  ONE_EACH,
  OTHER_KEY,
  asRole,
  openSeededDatabase,
  scoped,
  sqlstate,
  ticket,
  visible,
} from './postgres-rls-support';

describe('postgres row-level security (Mode A): tickets choose the tenant', () => {
  let pg: PgTestDatabase;
  let store: HubStore;

  beforeAll(async () => {
    ({ pg, store } = await openSeededDatabase());
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
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
});
