/**
 * hub.rollup_version(tenant, ticket) (preagg-version-read.sql), the one
 * statement the PostgreSQL store reads a tenant's rollup data version with,
 * outside any scoped transaction: it answers the store's version for the
 * tenant its ticket was signed for, and NULL to the application role holding
 * anything else (no ticket, tenant B's ticket asking for A, forged, tampered,
 * expired, other-key and wrong-purpose tickets), on a PostgreSQL server (as a
 * stolen application-role credential would use it) and on PGlite. The
 * owner's maintenance policies it opens stay closed to its caller.
 */
import type { Client } from 'pg';
import type { HubStore, RollupVersionSource } from '../../src/hub/store';
import { hasRollupVersions } from '../../src/hub/store';
import type { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { generateTicketKey, signTicket } from '../../src/stores/postgres/tenant-tickets';
import type { PgTestDatabase } from '../support/pg-harness';
import {
  A,
  B,
  KEY,
  OTHER_KEY,
  asRole,
  inFuture,
  openSeededDatabase,
  openSeededPglite,
} from './postgres-rls-support';

const VERSION_SQL = 'SELECT hub.rollup_version($1, $2) AS v';

function versions(store: HubStore): RollupVersionSource {
  if (!hasRollupVersions(store)) throw new Error('the PostgreSQL store has rollup versions');
  return store;
}

/** Tickets that must open nothing for `tenant` (signed with `key` unless forged), by name. */
function refused(tenant: string, other: string, key: Buffer): Record<string, string | null> {
  const good = signTicket(key, 't', tenant, inFuture());
  const parts = good.split('.');
  return {
    'no ticket (NULL)': null,
    'empty ticket': '',
    "the other tenant's genuine ticket": signTicket(key, 't', other, inFuture()),
    'signed with another key': signTicket(OTHER_KEY, 't', tenant, inFuture()),
    'tenant swapped in the other ticket': signTicket(key, 't', other, inFuture()).replace(
      `.t.${other}.`,
      `.t.${tenant}.`,
    ),
    'expiry extended': good.replace(`.${parts[2]}.`, `.${Number(parts[2]) + 3600}.`),
    expired: signTicket(key, 't', tenant, Math.floor(Date.now() / 1000) - 1),
    'purge ticket': signTicket(key, 'p', tenant, inFuture()),
    'relay ticket': signTicket(key, 'r', tenant, inFuture()),
    'no mac': parts.slice(0, 5).join('.'),
    'seven fields': `${good}.x`,
    'expiry not a number': good.replace(`.${parts[2]}.`, '.1e12.'),
    garbage: 'v1.x.y.z',
  };
}

describe('hub.rollup_version on a PostgreSQL server (the application role, raw SQL)', () => {
  let pg: PgTestDatabase;
  let store: HubStore;

  beforeAll(async () => {
    ({ pg, store } = await openSeededDatabase());
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  });

  test("with the tenant's own ticket it answers the store's version, per tenant", async () => {
    const a = await versions(store).rollupVersion(A);
    const b = await versions(store).rollupVersion(B);
    expect(a).toMatch(/^\d+:\d+:20$/);
    // The seeded writes' feed rows are counted: the function reads past the tenant policy.
    expect(Number(a?.split(':')[1])).toBeGreaterThan(0);
    await asRole(pg.appUri, async (c) => {
      const read = async (t: string): Promise<unknown> =>
        (await c.query(VERSION_SQL, [t, signTicket(KEY, 't', t, inFuture())])).rows[0].v;
      expect(await read(A)).toBe(a);
      expect(await read(B)).toBe(b);
    });
  });

  test('a stolen application role without the tenant ticket gets NULL, never a version', async () => {
    await asRole(pg.appUri, async (c) => {
      for (const [name, t] of Object.entries(refused(A, B, KEY))) {
        const { rows } = await c.query(VERSION_SQL, [A, t]);
        expect({ name, v: rows[0].v }).toEqual({ name, v: null });
      }
      // An empty tenant with its own genuine ticket shape is refused too.
      const { rows } = await c.query(VERSION_SQL, ['', signTicket(KEY, 't', '', inFuture())]);
      expect(rows[0].v).toBeNull();
    });
  });

  test("the owner's maintenance policies it opens stay closed to the caller", async () => {
    await asRole(pg.appUri, async (c: Client) => {
      await c.query('BEGIN');
      await c.query(VERSION_SQL, [A, signTicket(KEY, 't', A, inFuture())]);
      const { rows } = await c.query(
        `SELECT current_setting('app.rollup_maintenance', true) AS m,
           (SELECT count(*)::int FROM hub.rollup_versions) AS versions,
           (SELECT count(*)::int FROM hub.rollup_feed_batches) AS feed`,
      );
      expect(rows[0]).toEqual({ m: expect.not.stringMatching(/^on$/) as unknown, versions: 0, feed: 0 });
      await c.query('COMMIT');
      const { rows: fn } = await c.query(
        `SELECT p.prosecdef AS definer, p.provolatile AS volatility FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'hub' AND p.proname = 'rollup_version'`,
      );
      // SECURITY DEFINER (reads the key and the version as the owner), STABLE (one snapshot).
      expect(fn).toEqual([{ definer: true, volatility: 's' }]);
    });
  });
});

describe('hub.rollup_version on PGlite', () => {
  const key = generateTicketKey();
  let db: PgliteDatabase;
  let store: HubStore;

  beforeAll(async () => {
    ({ db, store } = await openSeededPglite({ ticketKey: key.toString('hex') }));
  }, 60_000);

  afterAll(async () => {
    await store?.close();
  });

  const read = async (tenant: string, t: string | null): Promise<unknown> => {
    const lit = (x: string | null): string => (x === null ? 'NULL' : `'${x.replace(/'/g, "''")}'`);
    const [row] = await db.queryUnscoped(`SELECT hub.rollup_version(${lit(tenant)}, ${lit(t)}) AS v`);
    return row?.v;
  };

  test("with the tenant's own ticket it answers the store's version; anything else gets NULL", async () => {
    const a = await versions(store).rollupVersion(A);
    expect(a).toMatch(/^\d+:\d+:20$/);
    expect(await read(A, signTicket(key, 't', A, inFuture()))).toBe(a);
    expect(await read(B, signTicket(key, 't', B, inFuture()))).toBe(await versions(store).rollupVersion(B));
    for (const [name, t] of Object.entries(refused(A, B, key))) {
      expect({ name, v: await read(A, t) }).toEqual({ name, v: null });
    }
    const [after] = await db.queryUnscoped(
      `SELECT current_setting('app.rollup_maintenance', true) AS m,
         (SELECT count(*)::int FROM hub.rollup_versions) AS versions,
         (SELECT count(*)::int FROM hub.rollup_feed_batches) AS feed`,
    );
    expect(after?.m).not.toBe('on');
    expect({ versions: after?.versions, feed: after?.feed }).toEqual({ versions: 0, feed: 0 });
  });
});
