/**
 * The per-tenant cache behind compiled operations: a tenant that fills its
 * quota evicts only its own least recently used entries, weights count, and
 * the number of tenants is bounded.
 */
import { TenantCache } from '../../src/graphql/tenant-cache';

test("one tenant's flood evicts only its own entries, oldest first", () => {
  const cache = new TenantCache<string>({ entries: 3, weight: 100, tenants: 10 });
  cache.set('b', 'dashboard', 'B1');
  for (let i = 0; i < 1000; i++) cache.set('a', `q${i}`, `A${i}`);
  expect(cache.get('b', 'dashboard')).toBe('B1');
  expect(cache.usage('a')).toEqual({ entries: 3, weight: 3 });
  expect(cache.get('a', 'q996')).toBeUndefined();
  expect(cache.get('a', 'q997')).toBe('A997');
  // Using an entry keeps it: q997 is now the most recent, so q998 goes next.
  cache.set('a', 'new', 'N');
  expect(cache.get('a', 'q997')).toBe('A997');
  expect(cache.get('a', 'q998')).toBeUndefined();
});

test('weights count against the quota; an entry heavier than the quota is not kept', () => {
  const cache = new TenantCache<string>({ entries: 100, weight: 10, tenants: 10 });
  cache.set('a', 'x', 'X', 6);
  cache.set('a', 'y', 'Y', 6);
  expect(cache.get('a', 'x')).toBeUndefined();
  expect(cache.usage('a')).toEqual({ entries: 1, weight: 6 });
  cache.set('a', 'huge', 'H', 11);
  expect(cache.get('a', 'huge')).toBeUndefined();
  expect(cache.get('a', 'y')).toBe('Y');
  // Replacing an entry replaces its weight.
  cache.set('a', 'y', 'Y2', 2);
  expect(cache.usage('a')).toEqual({ entries: 1, weight: 2 });
});

test('tenants are bounded: the least recently used tenant is dropped whole', () => {
  const cache = new TenantCache<number>({ entries: 5, weight: 5, tenants: 2 });
  cache.set('a', 'k', 1);
  cache.set('b', 'k', 2);
  cache.get('a', 'k');
  cache.set('c', 'k', 3);
  expect(cache.tenants).toBe(2);
  expect(cache.get('b', 'k')).toBeUndefined();
  expect(cache.get('a', 'k')).toBe(1);
  expect(cache.get('c', 'k')).toBe(3);
  expect(() => new TenantCache({ entries: 0, weight: 1, tenants: 1 })).toThrow(/entries/);
});
