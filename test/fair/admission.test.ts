/**
 * Fair shares (issue 11 item 2): per-tenant requests in flight and a cost
 * budget (429 THROTTLED with Retry-After, decided before the body is read),
 * per-tenant store calls and rollups in flight, limits from the tenants file.
 * Clocks are set by hand and held requests are released by the test, so
 * nothing depends on timing; every case checks that the other tenant is served.
 */
import { connect } from 'node:net';
import { HubError } from '../../src/hub/errors';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { ACTIVE_WINDOW_MS, FairQueue } from '../../src/http/fair-queue';
import { fairStore, MAX_WAITING_PER_SLOT } from '../../src/platform/fair-store';
import { DEFAULT_TENANT_LIMITS, uniformPolicy } from '../../src/platform/tenant-limits';
import { LocalBudget } from '../../src/platform/token-bucket';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { registryPolicy } from '../../src/router/tenant-policy';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, startGateway } from '../graphql/harness';

const QUERY = '{ outputs(first: 1) { nodes { id } } }';
const acme = parseTenantId('acme');
const beta = parseTenantId('beta');

/**
 * A decorator of a real store whose `list` calls of one tenant wait until the
 * test opens the gate (it forwards every call unchanged: not a mock).
 */
function heldStore(inner: HubStore, held: string) {
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const entered: string[] = [];
  const waiters: (() => void)[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (args[0] === held && prop !== 'ping') {
          entered.push(String(prop));
          for (const w of waiters.splice(0)) w();
          await gate;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    entered,
    /** Resolves once `n` held calls have reached the store. */
    async reached(n: number): Promise<void> {
      while (entered.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

describe('cost budget (token bucket with an injected clock)', () => {
  test('refuses at zero with the seconds until refilled, refills with time, may go into debt', async () => {
    let now = 1_000_000;
    const budget = new LocalBudget(() => now);
    const limits = { ...DEFAULT_TENANT_LIMITS, costPerSecond: 10, burst: 20 };
    expect(await budget.admit(acme, limits, 1)).toEqual({ ok: true });
    budget.charge(acme, limits, 49); // 20 - 50 = -30
    expect(budget.tokens(acme, limits)).toBe(-30);
    expect(await budget.admit(acme, limits, 1)).toEqual({ ok: false, retryAfterSeconds: 4 });
    // Another tenant's bucket is its own.
    expect(await budget.admit(beta, limits, 1)).toEqual({ ok: true });
    now += 3000; // +30: exactly 0, still refused
    expect((await budget.admit(acme, limits, 1)).ok).toBe(false);
    now += 100; // +1
    expect(await budget.admit(acme, limits, 1)).toEqual({ ok: true });
    now += 3_600_000; // never above the burst
    expect(budget.tokens(acme, limits)).toBe(20);
  });
});

describe('over HTTP: cost budget', () => {
  let now = 5_000_000;
  let gw: TestGateway;
  beforeAll(async () => {
    // Burst 1: whatever a request costs (at least 1), one is admitted and the next refused until refilled.
    gw = await startGateway({
      budget: new LocalBudget(() => now),
      tenantLimits: { costPerSecond: 1, burst: 1 },
    });
  });
  afterAll(async () => gw.close());

  test('over its cost budget a tenant gets 429 THROTTLED with Retry-After; another tenant does not', async () => {
    const a = await gw.token('acme');
    expect((await gw.gql(a, QUERY)).status).toBe(200);
    const refused = await gw.gql(a, QUERY);
    expect(refused.status).toBe(429);
    const seconds = Number(refused.headers.get('retry-after'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(refused.body.errors?.[0]?.extensions).toEqual({ code: 'THROTTLED', retryAfterSeconds: seconds });
    expect(refused.body.errors?.[0]?.message).toMatch(
      /over its cost budget of 1 units per second \(burst 1\)/,
    );
    expect(refused.body.errors?.[0]?.message).not.toMatch(/beta/);
    expect((await gw.gql(await gw.token('beta'), QUERY)).status).toBe(200);
    now += seconds * 1000;
    expect((await gw.gql(a, QUERY)).status).toBe(200);
  });
});

describe('over HTTP: refusals are charged like the largest operation allowed', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Room for two of the largest operations (25,000 each), no refill while the test runs.
    gw = await startGateway({
      budget: new LocalBudget(() => 0),
      tenantLimits: { costPerSecond: 1, burst: 50_000 },
    });
  });
  afterAll(async () => gw.close());

  test('refused by the text (aliases), by the body (JSON values) or by the cost: 25,000 each', async () => {
    const aliases = `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    for (const tenant of ['acme', 'beta', 'gamma']) {
      const t = await gw.token(tenant);
      const first =
        tenant === 'acme'
          ? await gw.gql(t, aliases)
          : tenant === 'beta'
            ? await gw.gql(t, QUERY, { x: Array.from({ length: 100_001 }, () => 0) })
            : await gw.gql(
                t,
                'query($n: Int = 500) { outputs(first: $n) { nodes { decisions(first: $n) { nodes { id } } } } }',
              );
      expect(first.status).toBe(400);
      expect((await gw.gql(t, aliases)).status).toBe(400);
      // Two refusals took the whole burst: the third request is throttled.
      const third = await gw.gql(t, QUERY);
      expect(third.status).toBe(429);
      expect(third.body.errors?.[0]?.extensions?.code).toBe('THROTTLED');
    }
    // A tenant whose requests ran is charged their cost (1 + 1 here), not the largest.
    const ok = await gw.token('delta');
    for (let i = 0; i < 5; i++) expect((await gw.gql(ok, QUERY)).status).toBe(200);
  });
});

describe('over HTTP: /ingest is charged by the bytes it reads', () => {
  test('10 per request, 1 per line and 1 per KiB of body', async () => {
    const budget = new LocalBudget(() => 0);
    const limits = { ...DEFAULT_TENANT_LIMITS, costPerSecond: 1, burst: 1_000_000 };
    const gw = await startGateway({ budget, tenantLimits: limits });
    try {
      // 4 lines of about 50 KiB of text each (an output's content).
      const line = (i: number) =>
        JSON.stringify({
          record_id: `00000000-0000-4000-8000-00000000000${i}`,
          created_at: '2026-03-01T00:00:00.000Z',
          skill_id: 'bulk',
          employee_id: 'e1',
          status: 'SUCCEEDED',
          cost_usd: '0.01',
          content: { text: 'x'.repeat(50_000) },
        });
      const body = [1, 2, 3, 4].map(line).join('\n');
      const res = await fetch(`${gw.url}/ingest/outputs`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-ndjson',
          authorization: `Bearer ${await gw.token('acme')}`,
        },
        body,
      });
      expect(res.status).toBe(200);
      const kib = Math.ceil(Buffer.byteLength(body) / 1024);
      expect(budget.tokens(acme, limits)).toBe(1_000_000 - (10 + 4 + kib));
      // Another tenant's bucket is untouched.
      expect(budget.tokens(beta, limits)).toBe(1_000_000);
    } finally {
      await gw.close();
    }
  });
});

describe('over HTTP: requests in flight', () => {
  let gw: TestGateway;
  let held: ReturnType<typeof heldStore>;
  beforeAll(async () => {
    held = heldStore(createMemoryStore(), 'hold');
    gw = await startGateway({ store: held.store, tenantLimits: { maxInFlight: 2 } });
  });
  afterAll(async () => gw.close());

  test('past its requests in flight a tenant gets 429 before its body is read; others are served', async () => {
    const h = await gw.token('hold');
    const first = [gw.gql(h, QUERY), gw.gql(h, QUERY)];
    await held.reached(2);
    const third = await gw.gql(h, QUERY);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(third.body.errors?.[0]?.message).toMatch(/2 requests in flight \(limit 2\)/);
    // A body that never ends: the refusal comes anyway, and the connection closes.
    const { port } = new URL(gw.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write(
        `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${h}\r\n` +
          'content-length: 1000000\r\n\r\n{"query":',
      );
    });
    expect(raw).toMatch(/^HTTP\/1\.1 429/);
    expect(raw.toLowerCase()).toContain('retry-after: 1');
    expect((await gw.gql(await gw.token('beta'), QUERY)).status).toBe(200);
    held.release();
    for (const r of await Promise.all(first)) expect(r.status).toBe(200);
    expect((await gw.gql(h, QUERY)).status).toBe(200);
  });
});

describe('over HTTP: rollups past their queue', () => {
  let gw: TestGateway;
  let held: ReturnType<typeof heldStore>;
  beforeAll(async () => {
    held = heldStore(createMemoryStore(), 'hold');
    gw = await startGateway({ store: held.store, tenantLimits: { maxRollupsInFlight: 1 } });
  });
  afterAll(async () => gw.close());

  test('a request whose rollup finds the queue full answers 429 THROTTLED with Retry-After, not a 200', async () => {
    // 20 rollups per request; one runs (held), 64 may wait, the rest of the 80 find the queue full.
    const rollups = Array.from({ length: 20 }, (_, i) => `m${i}: managers(first: 10) { managerId }`);
    const query = `{ ${rollups.join(' ')} }`;
    const h = await gw.token('hold');
    const answers = Array.from({ length: 4 }, () => gw.gql(h, query));
    await held.reached(1);
    // Another tenant's rollups are not behind the full queue.
    expect((await gw.gql(await gw.token('beta'), query)).status).toBe(200);
    held.release();
    const statuses: number[] = [];
    for (const a of await Promise.all(answers)) {
      statuses.push(a.status);
      if (a.status === 200) {
        expect(a.body.errors).toBeUndefined();
        continue;
      }
      expect(a.status).toBe(429);
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(a.body.data).toBeUndefined();
      expect(a.body.errors).toEqual([
        {
          message: expect.stringMatching(
            /^too many rollups of this tenant waiting \(64, the limit is 64 per slot of maxRollupsInFlight 1\); retry after 1s$/,
          ) as unknown,
          extensions: { code: 'THROTTLED', retryAfterSeconds: Number(a.headers.get('retry-after')) },
        },
      ]);
    }
    // 80 rollups, 65 places: at least one request was refused.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
  });
});

describe('fair store calls', () => {
  test('a tenant runs at most maxStoreCalls at once; the rest wait their turn; another tenant passes', async () => {
    const held = heldStore(createMemoryStore(), 'acme');
    const { store, shares } = fairStore(held.store, uniformPolicy({ maxStoreCalls: 2 }));
    const calls = Array.from({ length: 5 }, () => store.list(acme, { type: 'outputs', limit: 1 } as never));
    await held.reached(2);
    expect(shares.state(acme)).toEqual({ running: 2, waiting: 3, rollups: 0 });
    expect(held.entered).toHaveLength(2);
    // The other tenant is not behind acme's queue.
    await expect(store.list(beta, { type: 'outputs', limit: 1 } as never)).resolves.toEqual([]);
    held.release();
    await Promise.all(calls);
    expect(held.entered).toHaveLength(5);
    expect(shares.state(acme)).toEqual({ running: 0, waiting: 0, rollups: 0 });
    await store.close();
  });

  test('rollups: at most maxRollupsInFlight, a bounded queue, then THROTTLED', async () => {
    const held = heldStore(createMemoryStore(), 'acme');
    const { store, shares } = fairStore(
      held.store,
      uniformPolicy({ maxRollupsInFlight: 1, maxStoreCalls: 4 }),
    );
    const q = { asOf: '2026-01-01T00:00:00Z', limit: 10 };
    const first = store.managers(acme, q);
    await held.reached(1);
    const queued = Array.from({ length: MAX_WAITING_PER_SLOT }, () => store.managers(acme, q));
    expect(shares.state(acme).rollups).toBe(1);
    const over = await store.managers(acme, q).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(HubError);
    expect((over as HubError).code).toBe('THROTTLED');
    expect((over as HubError).message).toMatch(/too many rollups of this tenant waiting/);
    // Plain calls of the same tenant still run beside the rollup.
    const plain = store.list(acme, { type: 'outputs', limit: 1 } as never);
    await held.reached(2);
    held.release();
    await Promise.all([first, plain, ...queued]);
    expect(held.entered).toHaveLength(2 + MAX_WAITING_PER_SLOT);
    await store.close();
  });
});

describe('limits from the tenants file', () => {
  test('per tenant, from defaults, validated with the path', () => {
    const config = parseRegistryConfig(
      {
        defaults: { limits: { maxInFlight: 8 } },
        shared: { primary: 'memory:shared' },
        tenants: [
          {
            id: 'acme',
            primary: 'memory:acme',
            limits: { costPerSecond: 500 },
            operations: ['AcmeQuarterly'],
          },
        ],
      },
      'test.yaml',
    );
    const policy = registryPolicy({
      specOf: (t) => config.tenants.get(t) ?? config.shared,
    });
    expect(policy.limits(acme)).toEqual({ ...DEFAULT_TENANT_LIMITS, maxInFlight: 8, costPerSecond: 500 });
    expect(policy.limits(beta)).toEqual({ ...DEFAULT_TENANT_LIMITS, maxInFlight: 8 });
    expect(policy.operations(acme)).toEqual(new Set(['AcmeQuarterly']));
    expect(policy.operations(beta)).toBeUndefined();
    let issues: string[] = [];
    try {
      parseRegistryConfig(
        {
          tenants: [
            { id: 'acme', primary: 'memory:acme', limits: { maxInFlight: 0, burst: 'lots', nope: 1 } },
            { id: 'beta', primary: 'memory:beta', operations: ['ok', 'not ok'] },
          ],
        },
        'test.yaml',
      );
    } catch (err) {
      issues = (err as HubError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    expect(issues).toEqual([
      'tenants[0].limits.maxInFlight: must be a positive integer',
      'tenants[0].limits.burst: must be a positive integer',
      expect.stringMatching(/^tenants\[0\]\.limits\.nope: unknown limit/) as unknown,
      expect.stringMatching(/^tenants\[1\]\.operations\[1\]: must be a GraphQL operation name/) as unknown,
    ]);
  });
});

describe('fair turns between active tenants', () => {
  test('alone a tenant is not held back; with another active, each runs its share and turns rotate', () => {
    let now = 0;
    const q = new FairQueue(4, () => now);
    const started: string[] = [];
    const enter = (t: typeof acme, label: string) => {
      const wait = q.enter(t);
      if (wait) void wait.then(() => started.push(label));
      else started.push(label);
    };
    for (let i = 0; i < 6; i++) enter(acme, `a${i}`);
    expect(q.state(acme)).toEqual({ running: 6, waiting: 0 });
    // Beta arrives: two tenants active, a share of 2 each; beta runs at once, acme's next waits.
    enter(beta, 'b0');
    enter(acme, 'a6');
    enter(beta, 'b1');
    enter(beta, 'b2');
    expect(q.state(beta)).toEqual({ running: 2, waiting: 1 });
    expect(q.state(acme)).toEqual({ running: 6, waiting: 1 });
    // Acme's requests end: it stays over its share until it is down to 1 running.
    for (let i = 0; i < 4; i++) q.leave(acme);
    expect(q.state(acme)).toEqual({ running: 2, waiting: 1 });
    q.leave(acme);
    return Promise.resolve().then(() => {
      expect(q.state(acme)).toEqual({ running: 2, waiting: 0 });
      expect(started.slice(-1)).toEqual(['a6']);
      // Beta's turn comes when one of its own ends.
      q.leave(beta);
      expect(q.state(beta)).toEqual({ running: 2, waiting: 0 });
      // Once beta has been idle for the window, acme is alone again: no cap.
      q.leave(beta);
      q.leave(beta);
      now += ACTIVE_WINDOW_MS;
      for (let i = 0; i < 5; i++) expect(q.enter(acme)).toBeUndefined();
    });
  });
});
