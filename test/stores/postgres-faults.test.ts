/**
 * Robustness of the PostgreSQL store: backends terminated mid-run
 * (pg_terminate_backend), statement timeouts, an unreachable server, a closed
 * store, and the mapping of driver errors to the Hub's codes without leaking
 * SQL.
 */
import { randomUUID } from 'node:crypto';
import { HubError, isHubError } from '../../src/hub/errors';
import type { HubRecord } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { hubCodeFor, toPostgresHubError } from '../../src/stores/postgres/postgres-errors';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { type PgTestDatabase, createTestDatabase, sqlAt } from '../support/pg-harness';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function outputs(tenant: ReturnType<typeof parseTenantId>, n: number): HubRecord[] {
  const base = Date.UTC(2026, 0, 1);
  return sealBatch(
    tenant,
    'outputs',
    Array.from({ length: n }, (_, i) => ({
      record_id: randomUUID(),
      created_at: new Date(base + i * 1000).toISOString(),
      skill_id: `skill-${i % 7}`,
      employee_id: `emp-${i % 13}`,
      status: 'SUCCEEDED',
      cost_usd: '0.001',
      latency_ms: i,
      content: { i },
    })),
  );
}

describe('postgres store under faults', () => {
  let pg: PgTestDatabase;

  beforeAll(async () => {
    pg = await createTestDatabase();
  }, 60_000);

  afterAll(async () => {
    await pg?.drop();
  });

  test('backends terminated mid-run: the store recovers and loses nothing acknowledged', async () => {
    const events: string[] = [];
    // (No rollup consumer: this test is about the writers and the killer.)
    const store = await openStore(`${pg.appUri}?max=3&rollup_consumer=false`, { log: (e) => events.push(e) });
    const tenant = parseTenantId('faults');
    const acknowledged: HubRecord[] = [];
    let failures = 0;
    let kills = 0;
    let stop = false;
    // Terminates the store's backends whenever one is running a statement, a
    // bounded number of times: unbounded, a slow (loaded) machine saw every
    // attempt of every batch killed and nothing acknowledged at all.
    const MAX_KILLS = 6;
    const killer = (async () => {
      while (!stop && kills < MAX_KILLS) {
        const [row] = await sqlAt<{ n: number }>(
          pg.adminUri,
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE usename = $1 AND datname = $2 AND state = 'active' AND pid <> pg_backend_pid()`,
          [pg.appRole, pg.database],
        );
        kills += row?.n ?? 0;
        await sleep(row?.n ? 120 : 3);
      }
    })();
    try {
      for (let batch = 0; batch < 15; batch++) {
        const records = outputs(tenant, 1500);
        try {
          const outcomes = await store.putBatch(tenant, records);
          outcomes.forEach((o, i) => {
            // A retry after a commit that was not acknowledged reports duplicates, never conflicts.
            expect(o.status === 'created' || o.status === 'duplicate').toBe(true);
            acknowledged.push(records[i] as HubRecord);
          });
        } catch (err) {
          // Both attempts lost their connection: reported, not acknowledged.
          expect(isHubError(err, 'UNAVAILABLE')).toBe(true);
          failures++;
        }
      }
    } finally {
      stop = true;
      await killer;
    }
    expect(kills).toBeGreaterThan(0);
    expect(events).toContain('postgres.retry');
    expect(acknowledged.length).toBeGreaterThan(0);
    // Every acknowledged record is there, exactly, and verifies.
    for (let i = 0; i < acknowledged.length; i += 2000) {
      const chunk = acknowledged.slice(i, i + 2000);
      const read = await store.getByIds(
        tenant,
        'outputs',
        chunk.map((r) => r.record_id),
      );
      read.forEach((r, k) => {
        expect(r).toEqual(chunk[k]);
        expect(r && verifyRecord(r).verified).toBe(true);
      });
    }
    await store.ping();
    expect(await store.putBatch(tenant, outputs(tenant, 10))).toHaveLength(10);
    await store.close();
    // Reported for the record: how hard the run was hit.
    expect({ kills: kills > 0, failuresAtMost: failures <= 15 }).toEqual({
      kills: true,
      failuresAtMost: true,
    });
  }, 90_000);

  test('a statement over statement_timeout is cancelled and reported as TIMEOUT without SQL', async () => {
    const db = new PgDatabase(parsePostgresUri(`${pg.appUri}?statement_timeout=50`), undefined);
    try {
      const err = await db
        .run({ tenant: 'x' }, [{ sql: 'SELECT pg_sleep(2), $1::text AS secret', params: ['s3cr3t'] }])
        .then(
          () => undefined,
          (e: unknown) => toPostgresHubError(e, 'list'),
        );
      expect(err).toBeInstanceOf(HubError);
      expect(err?.code).toBe('TIMEOUT');
      expect(err?.message).not.toMatch(/pg_sleep|secret|s3cr3t/);
      expect((err?.cause as { code?: string }).code).toBe('57014');
      // The pool is still usable afterwards.
      await db.ping();
    } finally {
      await db.close();
    }
  });

  test('a pool never opens more than max connections, and idle ones close', async () => {
    // (prepare=false: the unprepared path is exercised here too.)
    // (No rollup consumer: its ticks would keep a connection busy folding the
    // previous test's records.)
    const store = await openStore(`${pg.appUri}?max=2&idle_timeout=3000&prepare=false&rollup_consumer=false`);
    const count = async (): Promise<number> =>
      (
        await sqlAt<{ n: number }>(
          pg.adminUri,
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND datname = $2',
          [pg.appRole, pg.database],
        )
      )[0]?.n ?? -1;
    const tenant = parseTenantId('pool');
    let peak = 0;
    // getByIds, not list: concurrent lists of one tenant share a transaction
    // (list batching), which would not exercise the pool bound.
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        await store.getByIds(tenant, 'outputs', [randomUUID()]);
        peak = Math.max(peak, await count());
      }),
    );
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
    // Idle connections close after idle_timeout (3 s: long enough that the
    // count above, slow on a loaded machine, still sees them open); poll rather
    // than sleep a fixed time.
    let open = await count();
    for (let i = 0; i < 300 && open > 0; i++) {
      await sleep(100);
      open = await count();
    }
    expect(open).toBe(0);
    await store.close();
  });

  test('an unreachable server fails open with UNAVAILABLE; a closed store answers UNAVAILABLE', async () => {
    const err = await openStore('postgres://nobody@127.0.0.1:1/none?connect_timeout=2000').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHubError(err, 'UNAVAILABLE')).toBe(true);
    const store: HubStore = await openStore(pg.appUri);
    await store.close();
    await store.close(); // idempotent
    const t = parseTenantId('closed');
    await expect(store.list(t, { type: 'outputs', filter: {}, limit: 1 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    await expect(store.putBatch(t, outputs(t, 1))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  test('driver errors map to the closed set of codes, keeping the cause', () => {
    const cases: [unknown, string][] = [
      [{ code: '23505' }, 'CONFLICT'],
      [{ code: '08006' }, 'UNAVAILABLE'],
      [{ code: '57P01' }, 'UNAVAILABLE'],
      [{ code: 'ECONNRESET' }, 'UNAVAILABLE'],
      [{ code: 'ECONNREFUSED' }, 'UNAVAILABLE'],
      [new Error('Connection terminated unexpectedly'), 'UNAVAILABLE'],
      [{ code: '57014' }, 'TIMEOUT'],
      [{ code: '42501' }, 'FORBIDDEN'],
      [{ code: '53300' }, 'THROTTLED'],
      [{ code: '42P01' }, 'INTERNAL'],
      [new Error('syntax error at or near "SELECT secret"'), 'INTERNAL'],
    ];
    for (const [err, code] of cases) {
      expect({ err, code: hubCodeFor(err) }).toEqual({ err, code });
      const mapped = toPostgresHubError(err, 'getByIds');
      expect(mapped.code).toBe(code);
      expect(mapped.cause).toBe(err);
      expect(mapped.message).not.toMatch(/secret|SELECT/);
    }
  });
});
