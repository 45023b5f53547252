/**
 * The PostgreSQL store's rollup data version (preagg-versions.sql) and the
 * result cache over it (src/hub/rollup-cache.ts), on the server and on
 * PGlite: every change to what cost per skill and the skills picker read (a
 * write, including a record with an old created_at inside a cached range; a
 * fold; a purge) changes the version, so the next read recomputes; reads and
 * duplicate writes do not; another tenant's writes do not; and every cached
 * answer equals the uncached one.
 */
import { randomUUID } from 'node:crypto';
import { Hub } from '../../src/hub/hub';
import { RollupCache, withRollupCache } from '../../src/hub/rollup-cache';
import { type RollupVersionSource, hasRollupVersions } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { DEFAULT_APP_ROLE } from '../../src/stores/postgres/migrations';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { sqlAt } from '../support/pg-harness';
import { type Store, load, usePreaggServer } from './postgres-preagg-support';

const A = parseTenantId('versions-a');
const B = parseTenantId('versions-b');
const WHOLE = { from: '2026-01-05T00:00:00Z', to: '2026-01-19T00:00:00Z', bucket: 'DAY' } as const;
const CUT = { from: '2026-01-06T05:30:00+02:00', to: '2026-01-17T00:00:00-03:45', bucket: 'WEEK' } as const;
const SKILLS = { from: '2026-01-05T00:00:00Z', to: '2026-01-19T00:00:00Z' };

function version(store: Store): (t: typeof A) => Promise<string | null> {
  if (!hasRollupVersions(store)) throw new Error('the PostgreSQL store has rollup versions');
  const s: RollupVersionSource = store;
  return (t) => s.rollupVersion(t);
}

/** The scenario, on a store that folds only when asked. */
async function scenario(store: Store): Promise<void> {
  const raw = new Hub(store);
  const cache = new RollupCache({ maxBytes: 16 * 1024 * 1024, maxTenantBytes: 4 * 1024 * 1024 });
  const cached = new Hub(withRollupCache(store, cache));
  const versionOf = version(store);
  const data = generateDataset({ seed: 11, days: 20, outputsPerDay: 12, managers: 1, teamSize: 3 });
  await load(raw, A, data);
  await load(raw, B, data);

  /** Reads through the cache twice (a miss then a hit, or two hits) and expects the raw answers. */
  const expectEqual = async (label: string): Promise<void> => {
    for (let i = 0; i < 2; i++) {
      for (const q of [WHOLE, CUT]) {
        expect({ label, rows: await cached.costPerSkill(A, q) }).toEqual({
          label,
          rows: await raw.costPerSkill(A, q),
        });
      }
      expect({ label, s: await cached.skills(A, SKILLS) }).toEqual({ label, s: await raw.skills(A, SKILLS) });
    }
  };
  /** Expects the next reads to recompute once each, then to be served from the cache. */
  const expectRecomputed = async (label: string): Promise<void> => {
    const { misses, hits } = cache.stats;
    await expectEqual(label);
    expect({ label, misses: cache.stats.misses - misses, hits: cache.stats.hits - hits }).toEqual({
      label,
      misses: 3,
      hits: 3,
    });
  };

  const v0 = await versionOf(A);
  expect(v0).not.toBeNull();
  await expectRecomputed('loaded, nothing folded');
  expect(await versionOf(A)).toBe(v0);

  // A duplicate write creates nothing: same version, answers still served.
  await raw.record(A, 'outputs', [data.outputs[0]]);
  expect(await versionOf(A)).toBe(v0);

  // A fold moves feed rows into cells (same answers, another version).
  while ((await store.maintain(500)) > 0) {
    /* drain */
  }
  const v1 = await versionOf(A);
  expect(v1).not.toBe(v0);
  await expectRecomputed('folded');

  // A record with an old created_at, inside both cached ranges and in an already folded day.
  const before = await raw.costPerSkill(A, WHOLE);
  const old = { ...(data.outputs[3] as object), record_id: randomUUID(), created_at: '2026-01-08T10:00:00Z' };
  await raw.record(A, 'outputs', [old]);
  expect(await versionOf(A)).not.toBe(v1);
  await expectRecomputed('an old record written');
  expect(await cached.costPerSkill(A, WHOLE)).not.toEqual(before);

  // No ABA: a write, then a fold of exactly its feed row, leave the count of unfolded rows
  // where it was; the fold's epoch still moves the version.
  while ((await store.maintain(500)) > 0) {
    /* drain */
  }
  const settled = await versionOf(A);
  await raw.record(A, 'outputs', [{ ...old, record_id: randomUUID(), created_at: '2026-01-09T10:00:00Z' }]);
  expect(await store.maintain(1)).toBe(1);
  expect(await versionOf(A)).not.toBe(settled);
  await expectRecomputed('a write folded at once');
  const v2 = await versionOf(A);

  // Another tenant's write and fold leave A's version as it is.
  await raw.record(B, 'outputs', [{ ...old, record_id: randomUUID() }]);
  expect(await versionOf(A)).toBe(v2);

  while ((await store.maintain(500)) > 0) {
    /* drain */
  }
  expect(await versionOf(A)).toBe(v2);
  const { misses } = cache.stats;
  await expectEqual('another tenant written and folded');
  expect(cache.stats.misses).toBe(misses);

  // A purge empties the tenant: another version, empty answers.
  await store.purgeTenant(A);
  expect(await versionOf(A)).not.toBe(v2);
  await expectRecomputed('purged');
  expect(await cached.costPerSkill(A, WHOLE)).toEqual([]);
  // B's answers were never A's.
  expect(await cached.costPerSkill(B, WHOLE)).toEqual(await raw.costPerSkill(B, WHOLE));
  expect((await cached.costPerSkill(B, WHOLE)).length).toBeGreaterThan(0);
}

describe('rollup data versions and the result cache (server)', () => {
  const server = usePreaggServer();

  test('a write, a fold and a purge each change the version; cached answers equal uncached ones', async () => {
    await scenario(await server.open());
  }, 300_000);

  test('each backfill step, and its end, change the version; cached answers equal uncached ones', async () => {
    const store = await server.open();
    const versionOf = version(store);
    const raw = new Hub(store);
    const cache = new RollupCache({ maxBytes: 16 * 1024 * 1024, maxTenantBytes: 4 * 1024 * 1024 });
    const cached = new Hub(withRollupCache(store, cache));
    const t = parseTenantId('versions-backfill');
    await load(raw, t, generateDataset({ seed: 12, days: 20, outputsPerDay: 10, managers: 1, teamSize: 3 }));
    // As migration 0003 leaves a tenant with older records: no feed rows, no cells, pending.
    await sqlAt(server.pg.adminUri, `DELETE FROM hub.rollup_feed_batches WHERE tenant_id = '${t}'`);
    await sqlAt(server.pg.adminUri, `INSERT INTO hub.rollup_pending (tenant_id) VALUES ('${t}')`);
    const seen = new Set<string | null>();
    for (let step = 0; step < 20; step++) {
      const v = await versionOf(t);
      expect({ step, fresh: !seen.has(v) }).toEqual({ step, fresh: true });
      seen.add(v);
      for (let i = 0; i < 2; i++)
        expect({ step, rows: await cached.costPerSkill(t, WHOLE) }).toEqual({
          step,
          rows: await raw.costPerSkill(t, WHOLE),
        });
      const [r] = await sqlAt<{ finished: boolean | null }>(
        server.pg.ownerUri.split('?')[0] as string,
        'SELECT * FROM hub.rollup_backfill(3, 20000)',
      );
      if (r === undefined) break;
    }
    expect(seen.size).toBeGreaterThan(3);
    expect(cache.stats.misses).toBe(seen.size);
  }, 120_000);

  test('a tenant without data has a version; reading it changes nothing', async () => {
    const store = await server.open();
    const versionOf = version(store);
    const t = parseTenantId('versions-empty');
    // A tenant without data has a version too; reading it changes nothing.
    const v = await versionOf(t);
    expect(v).toMatch(/^0:0:\d+$/);
    expect(await versionOf(t)).toBe(v);
  });
});

describe('rollup data versions and the result cache (PGlite)', () => {
  test('a write, a fold and a purge each change the version; cached answers equal uncached ones', async () => {
    const db = await PgliteDatabase.open(undefined, DEFAULT_APP_ROLE, {});
    const store = createPostgresStore(db, { rollupConsumer: false });
    try {
      await scenario(store);
    } finally {
      await store.close();
    }
  }, 300_000);
});
