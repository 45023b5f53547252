/**
 * Limits shared by replicas through the real Redis on 127.0.0.1:6379 (issue 11
 * item 2): two gateways in one process, each with its own Redis connection,
 * spend one tenant's single budget and share its persisted queries; when Redis
 * is unreachable or goes away mid-test (a TCP relay the test controls), both
 * keep serving with per-process limits. Each test uses its own key prefix.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RedisPersistedQueries } from '../../src/http/apq-redis';
import { parseTenantId } from '../../src/hub/tenant';
import { type SharedRedis, connectSharedRedis } from '../../src/platform/redis';
import { RedisBudget } from '../../src/platform/redis-budget';
import { uniformPolicy } from '../../src/platform/tenant-limits';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, startGateway } from '../graphql/harness';

const REDIS = 'redis://127.0.0.1:6379';
const QUERY = '{ outputs(first: 1) { nodes { id } } }';
/** Burst 1: whatever a request costs (at least 1), one is admitted, the next refused until refilled. */
const LIMITS = { costPerSecond: 1, burst: 1, persistedQueryChars: 2000 };

function ready(redis: SharedRedis): Promise<void> {
  return redis.ready ? Promise.resolve() : new Promise((r) => redis.client.once('ready', () => r()));
}

async function dropPrefix(prefix: string): Promise<void> {
  const r = connectSharedRedis(REDIS, { prefix });
  await ready(r);
  const keys = await r.client.keys(`${prefix}*`);
  if (keys.length > 0) await r.client.del(...keys);
  await r.close();
}

/** A gateway replica with its own Redis connection (through `url`) and the test's clock. */
async function replica(url: string, prefix: string, clock: () => number) {
  const redis = connectSharedRedis(url, { prefix });
  const policy = uniformPolicy(LIMITS);
  const gw = await startGateway({
    store: createMemoryStore(),
    tenantPolicy: policy,
    budget: new RedisBudget(redis, clock),
    persistedQueries: new RedisPersistedQueries(redis, (t) => policy.limits(t).persistedQueryChars),
  });
  return { gw, redis };
}

describe('two replicas, one Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let now = 1_000_000;
  let one: { gw: TestGateway; redis: SharedRedis };
  let two: { gw: TestGateway; redis: SharedRedis };
  beforeAll(async () => {
    one = await replica(REDIS, prefix, () => now);
    two = await replica(REDIS, prefix, () => now);
    await Promise.all([ready(one.redis), ready(two.redis)]);
  });
  afterAll(async () => {
    for (const r of [one, two]) {
      await r.gw.close();
      await r.redis.close();
    }
    await dropPrefix(prefix);
  });

  test("a tenant's budget is one across replicas; another tenant's is its own", async () => {
    const acme = await one.gw.token('acme');
    expect((await one.gw.gql(acme, QUERY)).status).toBe(200);
    // Per-process buckets would admit this one: the shared bucket is empty.
    const refused = await two.gw.gql(acme, QUERY);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('THROTTLED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await one.gw.gql(acme, QUERY)).status).toBe(429);
    expect((await two.gw.gql(await two.gw.token('beta'), QUERY)).status).toBe(200);
    now += 1_000_000; // refilled (to the burst, no more)
    expect((await two.gw.gql(acme, QUERY)).status).toBe(200);
    expect((await one.gw.gql(acme, QUERY)).status).toBe(429);
  });

  test('persisted queries registered on one replica serve on the other, for that tenant only', async () => {
    now += 10_000_000;
    const post = async (gw: TestGateway, token: string, query: string | undefined, hash: string) => {
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
    const q = '{ outputs(first: 2) { nodes { id } } }';
    const hash = createHash('sha256').update(q).digest('hex');
    const gamma = await one.gw.token('gamma');
    expect((await post(one.gw, gamma, q, hash)).data).toEqual({ outputs: { nodes: [] } });
    now += 10_000_000;
    expect((await post(two.gw, await two.gw.token('gamma'), undefined, hash)).data).toEqual({
      outputs: { nodes: [] },
    });
    expect((await post(two.gw, await two.gw.token('delta'), undefined, hash)).errors?.[0]?.message).toBe(
      'PersistedQueryNotFound',
    );
  });
});

test("Redis quotas: a tenant's registrations evict only its own queries", async () => {
  const prefix = `test:${randomUUID()}:`;
  const redis = connectSharedRedis(REDIS, { prefix });
  await ready(redis);
  try {
    const a = new RedisPersistedQueries(redis, () => 1000);
    const b = new RedisPersistedQueries(redis, () => 1000); // another replica: its own local front
    const acme = parseTenantId('acme');
    const beta = parseTenantId('beta');
    await a.set(beta, 'b1', 'x'.repeat(400));
    for (let i = 0; i < 50; i++) await a.set(acme, `a${i}`, 'y'.repeat(300));
    expect(await b.get(beta, 'b1')).toHaveLength(400);
    expect(await b.get(acme, 'a49')).toHaveLength(300);
    expect(await b.get(acme, 'a0')).toBeUndefined();
    expect(Number(await redis.client.get(`${prefix}apq:{acme}:size`))).toBeLessThanOrEqual(1000);
  } finally {
    await redis.close();
    await dropPrefix(prefix);
  }
});

test('Redis unreachable (a closed port): the gateway serves with per-process limits', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  let now = 1_000_000;
  const r = await replica(`redis://127.0.0.1:${port}`, `test:${randomUUID()}:`, () => now);
  try {
    const acme = await r.gw.token('acme');
    expect((await r.gw.gql(acme, QUERY)).status).toBe(200);
    expect((await r.gw.gql(acme, QUERY)).status).toBe(429);
    expect((await r.gw.gql(await r.gw.token('beta'), QUERY)).status).toBe(200);
    now += 1_000_000;
    expect((await r.gw.gql(acme, QUERY)).status).toBe(200);
  } finally {
    await r.gw.close();
    await r.redis.close();
  }
});

test('Redis going away mid-test: limits fall back to the process, requests keep being served', async () => {
  // A TCP relay to Redis that the test can cut.
  const sockets = new Set<Socket>();
  const relay: Server = createServer((inbound) => {
    const outbound = connect(6379, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const prefix = `test:${randomUUID()}:`;
  const now = 1_000_000;
  const r = await replica(`redis://127.0.0.1:${(relay.address() as AddressInfo).port}`, prefix, () => now);
  try {
    await ready(r.redis);
    const acme = await r.gw.token('acme');
    expect((await r.gw.gql(acme, QUERY)).status).toBe(200);
    expect((await r.gw.gql(acme, QUERY)).status).toBe(429);
    expect(await r.redis.client.exists(`${prefix}bucket:acme`)).toBe(1);
    // Cut Redis off: the relay stops accepting and drops every connection.
    const gone = new Promise<void>((res) => r.redis.client.once('close', () => res()));
    relay.close();
    for (const s of sockets) s.destroy();
    await gone;
    expect(r.redis.ready).toBe(false);
    // Per-process bucket (full): served once, then this process's own limit.
    expect((await r.gw.gql(acme, QUERY)).status).toBe(200);
    expect((await r.gw.gql(acme, QUERY)).status).toBe(429);
    expect((await r.gw.gql(await r.gw.token('beta'), QUERY)).status).toBe(200);
  } finally {
    relay.close();
    for (const s of sockets) s.destroy();
    await r.gw.close();
    await r.redis.close();
    await dropPrefix(prefix);
  }
});
