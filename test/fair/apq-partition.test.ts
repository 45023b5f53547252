/**
 * Persisted queries are partitioned per tenant with a quota (issue 11 items 2
 * and 3): one tenant registering queries at full speed evicts only its own,
 * never another tenant's, in this process (the Redis cache: redis.test.ts).
 */
import { createHash } from 'node:crypto';
import { parseTenantId } from '../../src/hub/tenant';
import { PersistedQueries } from '../../src/http/apq';
import { startGateway } from '../graphql/harness';

const acme = parseTenantId('acme');
const beta = parseTenantId('beta');

test("a tenant over its quota evicts its own oldest entries, never another tenant's", () => {
  const cache = new PersistedQueries(() => 1000, 10_000);
  cache.setNow(beta, 'b1', 'x'.repeat(400));
  for (let i = 0; i < 1000; i++) cache.setNow(acme, `a${i}`, 'y'.repeat(300));
  expect(cache.getNow(beta, 'b1')).toHaveLength(400);
  expect(cache.charsOf(acme)).toBe(900);
  expect(cache.getNow(acme, 'a999')).toBeDefined();
  expect(cache.getNow(acme, 'a0')).toBeUndefined();
  // A query larger than the quota is not kept at all.
  cache.setNow(acme, 'huge', 'z'.repeat(1001));
  expect(cache.getNow(acme, 'huge')).toBeUndefined();
});

test('at the process-wide bound the largest partition gives way, not a tenant within its share', () => {
  const cache = new PersistedQueries(() => 800, 1000);
  cache.setNow(beta, 'b1', 'x'.repeat(300));
  for (let i = 0; i < 50; i++) cache.setNow(acme, `a${i}`, 'y'.repeat(100));
  expect(cache.getNow(beta, 'b1')).toBeDefined();
  expect(cache.charsOf(acme) + cache.charsOf(beta)).toBeLessThanOrEqual(1000);
});

test('over HTTP: a flood of registrations by one tenant leaves the other tenant its persisted query', async () => {
  const gw = await startGateway({
    tenantLimits: { persistedQueryChars: 2000, costPerSecond: 1e9, burst: 1e9 },
  });
  try {
    const post = async (token: string, query: string | undefined, hash: string) => {
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          ...(query === undefined ? {} : { query }),
          extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
        }),
      });
      return (await res.json()) as { data?: unknown; errors?: { message: string }[] };
    };
    const sha = (q: string) => createHash('sha256').update(q).digest('hex');
    const b = await gw.token('beta');
    const a = await gw.token('acme');
    const bq = '{ outputs(first: 1) { nodes { id } } }';
    expect((await post(b, bq, sha(bq))).data).toBeDefined();
    for (let i = 0; i < 100; i++) {
      const q = `{ outputs(first: 1) { nodes { id } } } # ${i} ${'p'.repeat(200)}`;
      await post(a, q, sha(q));
    }
    expect((await post(b, undefined, sha(bq))).data).toEqual({ outputs: { nodes: [] } });
    // acme's first registrations went (its own quota), and beta's hash is unknown to acme.
    const first = `{ outputs(first: 1) { nodes { id } } } # 0 ${'p'.repeat(200)}`;
    expect((await post(a, undefined, sha(first))).errors?.[0]?.message).toBe('PersistedQueryNotFound');
    expect((await post(a, undefined, sha(bq))).errors?.[0]?.message).toBe('PersistedQueryNotFound');
  } finally {
    await gw.close();
  }
});
