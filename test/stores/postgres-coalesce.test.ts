/**
 * Coalesced transactions on the PostgreSQL server: short reads asked for in
 * the same event-loop turn share pooled connections, several per write. Each
 * must stay its own transaction: its own tenant (RLS keyed on its own
 * app.tenant_id), its own snapshot, and its own failure; and a transaction
 * that is not a short read is never queued behind others on one connection.
 */
import { Client } from 'pg';
import { parseTenantId } from '../../src/hub/tenant';
import { openStore } from '../../src/stores';
import type { HubStore } from '../../src/hub/store';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';
import { sealBatch } from '../../src/hub/validate';

let pg: PgTestDatabase;
let store: HubStore;
let db: PgDatabase;
const tenants = ['co-a', 'co-b', 'co-c'].map(parseTenantId);

beforeAll(async () => {
  pg = await createTestDatabase();
  // Two connections: 60 concurrent transactions must share them, many per write.
  store = await openStore(`${pg.appUri}?max=2`);
  for (const [i, t] of tenants.entries()) {
    const records = sealBatch(
      t,
      'outputs',
      Array.from({ length: 5 + i }, (_, k) => ({
        skill_id: 's',
        employee_id: `e${k}`,
        status: 'SUCCEEDED',
      })),
    );
    await store.putBatch(t, records);
  }
  db = new PgDatabase(parsePostgresUri(`${pg.appUri}?max=2`), undefined);
}, 60_000);

afterAll(async () => {
  await db?.close();
  await store?.close();
  await pg?.drop();
});

test('each of 60 concurrent transactions on 2 connections sees only its own tenant', async () => {
  const probe = {
    sql: "SELECT current_setting('app.tenant_id') AS tenant, count(*)::int AS n, count(*) FILTER (WHERE tenant_id <> current_setting('app.tenant_id'))::int AS foreign FROM hub.outputs",
    params: [],
  };
  const runs = Array.from({ length: 60 }, (_, i) => {
    const tenant = tenants[i % 3] as (typeof tenants)[number];
    return db.run({ tenant }, [probe], { light: true }).then((rows) => ({ tenant, row: rows[0]?.[0] }));
  });
  for (const { tenant, row } of await Promise.all(runs)) {
    expect(row).toEqual({ tenant, n: 5 + tenants.indexOf(tenant), foreign: 0 });
  }
  // Through the store as well (lists of one tenant in one tick share a transaction).
  const lists = await Promise.all(
    Array.from({ length: 30 }, (_, i) => {
      const tenant = tenants[i % 3] as (typeof tenants)[number];
      return store
        .list(tenant, { type: 'outputs', filter: {}, limit: 100 })
        .then((rows) => ({ tenant, rows }));
    }),
  );
  for (const { tenant, rows } of lists) {
    expect(rows).toHaveLength(5 + tenants.indexOf(tenant));
    expect(rows.every((r) => r.tenant_id === tenant)).toBe(true);
  }
});

test('a failing transaction among coalesced ones fails alone; the others commit and read', async () => {
  const count = { sql: 'SELECT count(*)::int AS n FROM hub.outputs', params: [] };
  const failing = { sql: 'SELECT 1 / (count(*) - count(*)) FROM hub.outputs', params: [] };
  const runs = Array.from({ length: 30 }, (_, i) => {
    const tenant = tenants[i % 3] as (typeof tenants)[number];
    const statements = i % 5 === 2 ? [count, failing, count] : [count];
    return db.run({ tenant }, statements, { light: true }).then(
      (rows) => ({ i, tenant, n: (rows[0]?.[0] as { n: number } | undefined)?.n, error: undefined }),
      (error: unknown) => ({ i, tenant, n: undefined, error }),
    );
  });
  for (const r of await Promise.all(runs)) {
    if (r.i % 5 === 2) {
      expect(String(r.error)).toMatch(/division by zero/);
    } else {
      expect(r.error).toBeUndefined();
      expect(r.n).toBe(5 + tenants.indexOf(r.tenant));
    }
  }
  // The connections are still usable afterwards (no transaction left open on them).
  const again = await Promise.all(tenants.map((tenant) => db.run({ tenant }, [count])));
  expect(again.map((rows) => (rows[0]?.[0] as { n: number }).n)).toEqual([5, 6, 7]);
});

test('a transaction that is not a short read gets a connection of its own', async () => {
  // A transaction blocked on a lock this test holds stands in for a slow rollup.
  const holder = new Client({ connectionString: pg.appUri });
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock(4242)');
    let slowDone = false;
    const slow = db
      .run({ tenant: tenants[0] as string }, [{ sql: 'SELECT pg_advisory_xact_lock(4242)', params: [] }])
      .then(() => {
        slowDone = true;
      });
    const count = { sql: 'SELECT count(*)::int AS n FROM hub.outputs', params: [] };
    const reads = Promise.all(
      Array.from({ length: 10 }, () => db.run({ tenant: tenants[1] as string }, [count], { light: true })),
    );
    // Were the reads queued behind the blocked transaction, they could not finish while it waits.
    const outcome = await Promise.race([
      reads.then(() => 'reads finished'),
      new Promise<string>((r) => setTimeout(() => r('reads stuck'), 10_000).unref()),
    ]);
    expect(outcome).toBe('reads finished');
    expect(slowDone).toBe(false);
    await holder.query('SELECT pg_advisory_unlock(4242)');
    await slow;
    expect(slowDone).toBe(true);
  } finally {
    await holder.end();
  }
});

test('ticketed runs coalesced with scoped ones stay outside their transactions, each its own tenant', async () => {
  const probe = {
    sql: "SELECT current_setting('app.tenant_id', true) AS tenant, count(*)::int AS n FROM hub.outputs",
    params: [],
  };
  const version = { sql: 'SELECT hub.rollup_version($1, $2) AS v', params: [] as string[], prepare: true };
  const runs = Array.from({ length: 60 }, (_, i) => {
    const tenant = tenants[i % 3] as (typeof tenants)[number];
    return i % 2 === 0
      ? db.run({ tenant }, [probe], { light: true }).then((rows) => ({ i, tenant, row: rows[0]?.[0] }))
      : db
          .run({ tenant }, [{ ...version, params: [tenant] }], { light: true, ticketed: true })
          .then((rows) => ({ i, tenant, row: rows[0]?.[0] }));
  });
  for (const { i, tenant, row } of await Promise.all(runs)) {
    if (i % 2 === 0) expect(row).toEqual({ tenant, n: 5 + tenants.indexOf(tenant) });
    // The tenant's own version (its feed rows counted), not another's, and no scope around it.
    else expect(row?.v).toMatch(/^\d+:[1-9]\d*:\d+$/);
  }
  // The same three values the tenant's scoped transaction reads through its policies.
  const scopedRead = {
    sql: `SELECT concat_ws(':', coalesce((SELECT epoch FROM hub.rollup_versions), 0),
      (SELECT count(*) FROM hub.rollup_feed_batches), (SELECT max(version) FROM hub.schema_migrations)) AS v`,
    params: [],
  };
  for (const t of tenants) {
    const [[ticketed], [scoped]] = await Promise.all([
      db.run({ tenant: t }, [{ ...version, params: [t] }], { ticketed: true }).then((r) => r[0] ?? []),
      db.run({ tenant: t }, [scopedRead]).then((r) => r[0] ?? []),
    ]);
    expect({ t, v: ticketed?.v }).toEqual({ t, v: scoped?.v });
  }
  // A ticketed run is one statement of a tenant scope; anything else is refused before it is sent.
  await expect(db.run({ relay: true }, [{ ...version, params: ['x'] }], { ticketed: true })).rejects.toThrow(
    /one statement in a tenant scope/,
  );
  await expect(db.run({ tenant: tenants[0] as string }, [], { ticketed: true })).rejects.toThrow(
    /one statement in a tenant scope/,
  );
});
