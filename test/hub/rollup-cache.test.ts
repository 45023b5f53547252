/**
 * The rollup result cache (src/hub/rollup-cache.ts) over a store whose
 * versions the test sets: an answer is served only under the version it was
 * computed under, never to another tenant (even with the same arguments and
 * the same version value), never for a team's rollup or without a version;
 * memory is bounded per tenant and in total, and one tenant's many variants
 * never push out another tenant holding less.
 */
import {
  RollupCache,
  type RollupCacheOptions,
  estimateBytes,
  withRollupCache,
} from '../../src/hub/rollup-cache';
import type { CostPerSkillQuery, CostPerSkillRow, HubStore } from '../../src/hub/store';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { createMemoryStore } from '../../src/stores/memory/memory-store';

const A = parseTenantId('cache-a');
const B = parseTenantId('cache-b');

/** A store answering one row naming the tenant, the range and the call, under versions the test sets. */
function fakeStore(versions: { value: string | null }, declares = true) {
  const calls: string[] = [];
  const row = (tenant: TenantId, q: CostPerSkillQuery): CostPerSkillRow => ({
    skill_id: `${tenant} ${q.from} call ${calls.length}`,
    bucket_start: q.from,
    invocations: 1,
    failed: 0,
    total_cost_usd: '1',
    avg_cost_usd: '1',
    input_tokens: 1,
    output_tokens: 1,
    p95_latency_ms: null,
  });
  const store = {
    capabilities: { maxBatchSize: 1, outbox: false, nestedLists: false, rollupVersions: declares },
    rollupVersion: async () => versions.value,
    costPerSkill: async (tenant: TenantId, q: CostPerSkillQuery) => {
      calls.push(tenant);
      return [row(tenant, q)];
    },
    skills: async () => [],
  } as unknown as HubStore;
  return { store, calls };
}

const query = (day: number, extra: Partial<CostPerSkillQuery> = {}): CostPerSkillQuery => ({
  from: `2026-01-${String(day).padStart(2, '0')}T00:00:00.000Z`,
  to: '2026-02-01T00:00:00.000Z',
  bucket: 'DAY',
  ...extra,
});

const big: RollupCacheOptions = { maxBytes: 1 << 20, maxTenantBytes: 1 << 20 };

describe('rollup result cache', () => {
  test('served only under the version it was computed under', async () => {
    const v = { value: '1' as string | null };
    const { store, calls } = fakeStore(v);
    const cache = new RollupCache(big);
    const s = withRollupCache(store, cache);
    const first = await s.costPerSkill(A, query(1));
    expect(await s.costPerSkill(A, query(1))).toBe(first);
    expect(calls).toHaveLength(1);
    v.value = '2';
    const second = await s.costPerSkill(A, query(1));
    expect(second).not.toEqual(first);
    expect(calls).toHaveLength(2);
    // An older version is never served again, even if a store returned it.
    v.value = '1';
    await s.costPerSkill(A, query(1));
    expect(calls).toHaveLength(3);
    // Other arguments are other entries.
    await s.costPerSkill(A, query(2));
    expect(calls).toHaveLength(4);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 4 });
  });

  test("tenant B is never served tenant A's answer (same arguments, same version value)", async () => {
    const { store, calls } = fakeStore({ value: '7' });
    const s = withRollupCache(store, new RollupCache(big));
    const a = await s.costPerSkill(A, query(1));
    const b = await s.costPerSkill(B, query(1));
    expect(calls).toEqual([A, B]);
    expect(a[0]?.skill_id.startsWith(`${A} `)).toBe(true);
    expect(b[0]?.skill_id.startsWith(`${B} `)).toBe(true);
    expect(await s.costPerSkill(B, query(1))).toEqual(b);
    expect(await s.costPerSkill(A, query(1))).toEqual(a);
  });

  test('two stores sharing one cache keep their own entries', async () => {
    const cache = new RollupCache(big);
    const one = fakeStore({ value: '1' });
    const two = fakeStore({ value: '1' });
    await withRollupCache(one.store, cache).costPerSkill(A, query(1));
    await withRollupCache(two.store, cache).costPerSkill(A, query(1));
    expect([one.calls.length, two.calls.length]).toEqual([1, 1]);
  });

  test("a team's rollup, a null version and a store without versions are not cached", async () => {
    const cache = new RollupCache(big);
    const team = { managerId: 'm', asOf: '2026-02-01T00:00:00.000Z' };
    const f = fakeStore({ value: '1' });
    const s = withRollupCache(f.store, cache);
    await s.costPerSkill(A, query(1, { team }));
    await s.costPerSkill(A, query(1, { team }));
    expect(f.calls).toHaveLength(2);
    const n = fakeStore({ value: null });
    const sn = withRollupCache(n.store, cache);
    await sn.costPerSkill(A, query(1));
    await sn.costPerSkill(A, query(1));
    expect(n.calls).toHaveLength(2);
    const undeclared = fakeStore({ value: '1' }, false);
    expect(withRollupCache(undeclared.store, cache)).toBe(undeclared.store);
    expect(cache.stats.entries).toBe(0);
  });

  test('off (a zero budget): the store itself', () => {
    const { store } = fakeStore({ value: '1' });
    expect(withRollupCache(store, new RollupCache({ maxBytes: 0, maxTenantBytes: 1 }))).toBe(store);
  });

  test("memory is bounded per tenant and in all; A's variants never push out B's smaller share", async () => {
    const { store } = fakeStore({ value: '1' });
    const entry = estimateBytes(await store.costPerSkill(A, query(1)));
    // Room for 10 entries in all, 4 per tenant.
    const cache = new RollupCache({
      maxBytes: entry * 10 + entry / 2,
      maxTenantBytes: entry * 4 + entry / 2,
    });
    const s = withRollupCache(store, cache);
    const b = await s.costPerSkill(B, query(1));
    for (let day = 1; day <= 28; day++) await s.costPerSkill(A, query(day));
    expect(cache.stats.bytes).toBeLessThanOrEqual(entry * 4 + entry + entry / 2);
    expect(cache.stats.entries).toBe(5);
    // B's one entry is still served; A keeps only its 4 most recent.
    const hits = cache.stats.hits;
    expect(await s.costPerSkill(B, query(1))).toBe(b);
    await s.costPerSkill(A, query(28));
    expect(cache.stats.hits).toBe(hits + 2);

    // With many tenants filling the total, the largest holder gives way first.
    const tenants = Array.from({ length: 6 }, (_, i) => parseTenantId(`cache-many-${i}`));
    for (const t of tenants) for (let day = 1; day <= 2; day++) await s.costPerSkill(t, query(day));
    expect(cache.stats.bytes).toBeLessThanOrEqual(entry * 10 + entry / 2);
    const before = cache.stats.hits;
    expect(await s.costPerSkill(B, query(1))).toBe(b);
    expect(cache.stats.hits).toBe(before + 1);
  });

  test('the memory store: a write or a purge is seen by the next read', async () => {
    const memory = createMemoryStore();
    const cache = new RollupCache(big);
    const s = withRollupCache(memory, cache);
    const out = sealBatch(A, 'outputs', [
      {
        record_id: '00000000-0000-4000-8000-000000000001',
        created_at: '2026-01-02T10:00:00.000Z',
        skill_id: 's',
        employee_id: 'e',
        status: 'SUCCEEDED',
        input_tokens: 1,
        output_tokens: 1,
        cost_usd: '0.5',
      },
    ]);
    expect(await s.costPerSkill(A, query(1))).toEqual([]);
    await memory.putBatch(A, out);
    expect(await s.costPerSkill(A, query(1))).toEqual(await memory.costPerSkill(A, query(1)));
    expect((await s.costPerSkill(A, query(1))).length).toBe(1);
    await memory.purgeTenant(A);
    expect(await s.costPerSkill(A, query(1))).toEqual([]);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 3 });
  });
});
